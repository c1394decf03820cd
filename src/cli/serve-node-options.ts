/**
 * The Node options `bubuh serve` is meant to run with. `npm start`, the service benchmark and the tests'
 * servers (`src/testing/serve-process.ts`) all start it with these, and a test checks that `npm start`
 * does. A node started without them still serves, and says at start which ones it is missing.
 *
 * `--v8-pool-size=0`: V8's helper threads (garbage collection, background compilation) sized from the
 * machine — one fewer than its cores, at least one — instead of Node's fixed four. On the 2-core machine
 * of docs/benchmarks.md the four helpers competed for two cores with the event loop and the two stamping
 * threads; with one, `npm run bench:service` spent about 20 % less CPU a stamp in its closed loops and
 * 14 % less in its open loop (runs in ABBA order, 2026-11-25).
 *
 * `--max-semi-space-size=64`: the main thread's young generation may grow to 64 MB a semi-space
 * (V8's own ceiling here is 16). A stamp leaves about 86 KB of short-lived objects on the event loop
 * (HTTP, multipart, ledger), and with 16 MB the main thread ran about 14 scavenges a second at 4.2 ms
 * each, 6 % of its time, each copying the objects of every request in flight. With 64 MB it ran a
 * quarter as many (6.5 ms each): in five ABBA pairs of `npm run bench:service` the capacity rose from
 * 1,805 to 1,985 stamps/s (means; higher in four pairs of five) and the machine's CPU a stamp fell by
 * 4–7 %. The price is up to 128 MB more memory on a node's main thread, only while it is that busy.
 * Stamping threads are workers with their own heap limits and are not affected.
 */
export const serveNodeOptions: readonly string[] = ['--v8-pool-size=0', '--max-semi-space-size=64'];

/**
 * The options of `serveNodeOptions` that a process started with `execArgv` and `nodeOptions`
 * (`NODE_OPTIONS`) was not given. Any value of an option counts as given: an operator who chose
 * another pool size chose it.
 */
export function missingServeNodeOptions(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/).filter((word) => word !== '')];
  return serveNodeOptions.filter((option) => {
    const name = option.split('=')[0]!;
    return !given.some((word) => word === name || word.startsWith(`${name}=`));
  });
}

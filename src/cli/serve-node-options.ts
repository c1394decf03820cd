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
 */
export const serveNodeOptions: readonly string[] = ['--v8-pool-size=0'];

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

/**
 * `npm run bench:paced` — what a stamp costs when the thread that makes it has been idle. A server
 * below its capacity stamps each request as it arrives, after a pause, not back to back as a closed
 * loop or `bench:engine` does; on some machines (virtual ones especially) the processor then runs the
 * engine's large code and data cold. This measures it on the median corpus letter (a fresh serial for
 * each stamp, as in the service), in one thread:
 *
 *   - back to back: stamps with no pause between them;
 *   - paced: one stamp after each sleep of 1, 5 and 20 ms (the gaps of 1,000, 200 and 50 stamps a
 *     second per thread);
 *   - spinning: one stamp after each 5 ms of spinning on the clock (the thread never idles);
 *   - bursts: after each 5 ms sleep, four stamps back to back, timed by their place in the burst;
 *   - the same paces for a control: a small fixed kernel (ten SHA-256 passes over the letter and a
 *     short integer loop), whose code and data fit in any cache; and for the floor's two pieces alone,
 *     a P-256 signature (OpenSSL's, which reads a precomputed table of about 150 KB) and one SHA-256
 *     pass over the letter.
 *
 * Each figure is the mean wall time of the work itself (the gaps are not counted) and the process's
 * CPU time per item. BENCH_ROUNDS (default 2) repeats the whole set; each figure is the mean over the
 * rounds. Prints a table and, as its LAST line, one JSON object with the wall times and, per contender,
 * the ratio of a stamp after a 5 ms sleep to one back to back.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import { createStampEnvironment } from '../src/services/node-stamper.js';
import { stampDocument } from '../src/stamping/stamp-document.js';
import { medianStampLetter } from '../src/testing/corpus.js';
import { benchStampRequests } from './stamp-request.js';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 2);

interface Pace {
  readonly name: string;
  /** Sleep before each group, ms (0: none). */
  readonly gapMs: number;
  /** Items back to back after each sleep. */
  readonly burst: number;
  /** Spin on the clock for the gap instead of sleeping (the thread never goes idle). */
  readonly spin?: boolean;
  readonly groups: number;
}

const paces: readonly Pace[] = [
  { name: 'back to back', gapMs: 0, burst: 1, groups: 3000 },
  { name: 'after 1 ms', gapMs: 1, burst: 1, groups: 1000 },
  { name: 'after 5 ms', gapMs: 5, burst: 1, groups: 500 },
  { name: 'after 20 ms', gapMs: 20, burst: 1, groups: 150 },
  { name: 'after 5 ms spinning', gapMs: 5, burst: 1, groups: 300, spin: true },
  { name: 'bursts of 4 after 5 ms', gapMs: 5, burst: 4, groups: 300 },
];

interface Measured {
  /** Mean wall µs per item, by place in the burst. */
  readonly byPlace: number[];
  /** Process CPU µs per item (all threads). */
  readonly cpuUs: number;
}

async function measure(work: () => Promise<unknown> | unknown, pace: Pace): Promise<Measured> {
  const sums = new Array<number>(pace.burst).fill(0);
  const cpuBefore = process.cpuUsage();
  let sleptCpu = 0;
  for (let group = 0; group < pace.groups; group += 1) {
    if (pace.gapMs > 0) {
      const before = process.cpuUsage();
      if (pace.spin) {
        const until = performance.now() + pace.gapMs;
        while (performance.now() < until);
      } else await sleep(pace.gapMs);
      const slept = process.cpuUsage(before);
      sleptCpu += slept.user + slept.system;
    }
    for (let place = 0; place < pace.burst; place += 1) {
      const started = performance.now();
      await work();
      sums[place] = sums[place]! + performance.now() - started;
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const items = pace.groups * pace.burst;
  return {
    byPlace: sums.map((sum) => (sum / pace.groups) * 1000),
    cpuUs: (cpu.user + cpu.system - sleptCpu) / items,
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

async function main(): Promise<void> {
  const letter = medianStampLetter();
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-bench-paced-'));
  const { environment, close } = await createStampEnvironment(loadConfig({}, { BUBUH_DATA_DIR: dataDir }));
  try {
    const requests = benchStampRequests(letter.bytes);
    let stamps = 0;
    const stamp = () => stampDocument(requests[stamps++ % requests.length]!, environment);
    let sink = 0;
    const control = () => {
      let digest: Buffer | undefined;
      for (let pass = 0; pass < 10; pass += 1) digest = createHash('sha256').update(letter.bytes).digest();
      let value = 0;
      for (let index = 0; index < 100_000; index += 1) value = (value * 31 + index) | 0;
      sink = (sink + value + digest![0]!) | 0;
    };
    // The floor's two pieces alone: a P-256 signature (OpenSSL's, as the engine's) and one SHA-256 pass.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const attributes = new Uint8Array(120).fill(7);
    const signature = () => {
      sink = (sink + sign('sha256', attributes, privateKey)[8]!) | 0;
    };
    const sha256 = () => {
      sink = (sink + createHash('sha256').update(letter.bytes).digest()[0]!) | 0;
    };
    const contenders = [
      ['engine', stamp],
      ['control', control],
      ['sign', signature],
      ['sha256', sha256],
    ] as const;
    // Warm-up: the JIT, the heap's young generation, the signer.
    for (const [, work] of contenders) for (let index = 0; index < 2000; index += 1) await work();

    const results = new Map<string, Measured[]>();
    for (let round = 0; round < rounds; round += 1) {
      for (const [label, work] of contenders) {
        for (const pace of paces) {
          const key = `${label}|${pace.name}`;
          const list = results.get(key) ?? [];
          list.push(await measure(work, pace));
          results.set(key, list);
        }
      }
    }

    const lines = [
      `file: ${letter.name} (${letter.bytes.length} bytes); ${rounds} rounds; µs per item (wall of the work | process CPU); checksum ${sink}`,
    ];
    const summary: Record<string, number> = {};
    for (const [label] of contenders) {
      for (const pace of paces) {
        const list = results.get(`${label}|${pace.name}`)!;
        const places = Array.from({ length: pace.burst }, (_, place) =>
          mean(list.map((measured) => measured.byPlace[place]!)),
        );
        const cpu = mean(list.map((measured) => measured.cpuUs));
        const wall = mean(places);
        lines.push(
          `${label.padEnd(8)} ${pace.name.padEnd(24)} ${wall.toFixed(0).padStart(6)} | ${cpu.toFixed(0).padStart(6)}` +
            (pace.burst > 1
              ? `   by place in the burst: ${places.map((value) => value.toFixed(0)).join(', ')}`
              : ''),
        );
        summary[`${label}_${pace.name.replace(/[^a-z0-9]+/g, '_')}_us`] = Math.round(wall);
      }
    }
    const ratio = (label: string, pace: string) =>
      Number((summary[`${label}_${pace}_us`]! / summary[`${label}_back_to_back_us`]!).toFixed(2));
    lines.push(
      JSON.stringify({
        bench: 'paced',
        ...summary,
        engine_after_5_ms_ratio: ratio('engine', 'after_5_ms'),
        control_after_5_ms_ratio: ratio('control', 'after_5_ms'),
        sign_after_5_ms_ratio: ratio('sign', 'after_5_ms'),
        sha256_after_5_ms_ratio: ratio('sha256', 'after_5_ms'),
      }),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

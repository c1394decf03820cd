/**
 * Timing helpers for the pades benchmark scripts (`*.bench.ts`). Uses only `performance`, which
 * browsers and Node both have, so the module stays pure; the scripts themselves are Node-only.
 */

export interface TimingResult {
  readonly medianMicroseconds: number;
  readonly runs: number;
}

/** Runs `work` `warmupRuns` times unmeasured, then `runs` times measured; returns the median. */
export async function medianMicroseconds(
  work: () => unknown | Promise<unknown>,
  runs: number,
  warmupRuns = Math.min(runs, 50),
): Promise<TimingResult> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 1_000_000)
    throw new Error(`bench invariant: runs ${runs}`);
  for (let index = 0; index < warmupRuns; index += 1) await work();
  const samples: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const start = performance.now();
    await work();
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((left, right) => left - right);
  return { medianMicroseconds: samples[Math.floor(samples.length / 2)]!, runs };
}

export function formatMicroseconds(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

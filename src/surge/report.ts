/**
 * The surge replay's per-second series and the figures of its last line. Definitions (also in
 * docs/benchmarks.md, "Surge replay"):
 * - offered: requests whose scheduled send time falls in that second;
 * - goodput: successful responses (2xx of the step asked for) completed in that second;
 * - refusals: 429 and 503 responses completed in that second;
 * - errors: every other outcome (other statuses, connection errors, time-outs, client back-log drops);
 * - p99 of admitted requests: over non-refused responses completed in that second, latency measured
 *   from the scheduled send time, not from when the socket was free;
 * - goodput_at_peak_ratio: mean goodput over the seconds of the hold / capacity;
 * - recovery_s: seconds from the first second after the hold in which the offered load is below
 *   capacity until the first second from which admitted p99 and the refusal rate stay at the
 *   pre-surge baseline (p99 ≤ max(2 × baseline p99, baseline p99 + 50 ms), refusal share ≤ baseline
 *   share + 1 %) for every remaining second; the whole after-phase when that never happens.
 */
import type { Curve } from './curve.js';
import { Histogram } from './histogram.js';

export type Outcome = 'ok' | 'refused' | 'error';

export class SecondBucket {
  offered = 0;
  goodput = 0;
  refused429 = 0;
  refused503 = 0;
  errors = 0;
  readonly admitted = new Histogram();
  readonly refusals = new Histogram();
  rssMb: number | null = null;
}

export class SurgeSeries {
  readonly seconds: SecondBucket[] = [];
  readonly admitted = new Histogram();
  readonly refusals = new Histogram();
  /** Refusal latency by `step:status:code`, to tell refusals made on arrival from those made late. */
  readonly refusalsByKind = new Map<string, Histogram>();
  readonly errorsByKind = new Map<string, number>();

  at(second: number): SecondBucket {
    const index = Math.max(0, Math.floor(second));
    while (this.seconds.length <= index) this.seconds.push(new SecondBucket());
    return this.seconds[index]!;
  }

  offer(scheduledS: number): void {
    this.at(scheduledS).offered += 1;
  }

  /** Records a finished request; `status` 0 for a connection error or time-out. */
  complete(doneS: number, latencyMs: number, status: number, succeeded: boolean, kind: string): Outcome {
    const bucket = this.at(doneS);
    if (status === 429 || status === 503) {
      if (status === 429) bucket.refused429 += 1;
      else bucket.refused503 += 1;
      bucket.refusals.recordMs(latencyMs);
      this.refusals.recordMs(latencyMs);
      let byKind = this.refusalsByKind.get(kind);
      if (byKind === undefined) this.refusalsByKind.set(kind, (byKind = new Histogram()));
      byKind.recordMs(latencyMs);
      return 'refused';
    }
    if (status !== 0) {
      bucket.admitted.recordMs(latencyMs);
      this.admitted.recordMs(latencyMs);
    }
    if (succeeded) {
      bucket.goodput += 1;
      return 'ok';
    }
    bucket.errors += 1;
    this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
    return 'error';
  }

  /** Count, p50 and p99 of refusal latency by kind, most frequent first. */
  refusalLatencyByKind(): Record<string, { count: number; p50_ms: number | null; p99_ms: number | null }> {
    return Object.fromEntries(
      [...this.refusalsByKind]
        .sort((left, right) => right[1].count - left[1].count)
        .map(([kind, histogram]) => [
          kind,
          { count: histogram.count, p50_ms: histogram.percentileMs(50), p99_ms: histogram.percentileMs(99) },
        ]),
    );
  }

  totalErrors(): number {
    return this.seconds.reduce((sum, bucket) => sum + bucket.errors, 0);
  }
}

export interface SeriesRow {
  readonly t: number;
  readonly offered: number;
  readonly goodput: number;
  readonly refused_429: number;
  readonly refused_503: number;
  readonly errors: number;
  readonly admitted_p99_ms: number | null;
  readonly refusal_p99_ms: number | null;
  readonly rss_mb: number | null;
}

export function seriesRows(series: SurgeSeries): SeriesRow[] {
  return series.seconds.map((bucket, t) => ({
    t,
    offered: bucket.offered,
    goodput: bucket.goodput,
    refused_429: bucket.refused429,
    refused_503: bucket.refused503,
    errors: bucket.errors,
    admitted_p99_ms: bucket.admitted.percentileMs(99),
    refusal_p99_ms: bucket.refusals.percentileMs(99),
    rss_mb: bucket.rssMb,
  }));
}

function refusalShare(row: SeriesRow): number {
  const answered = row.goodput + row.refused_429 + row.refused_503 + row.errors;
  return answered === 0 ? 0 : (row.refused_429 + row.refused_503) / answered;
}

export interface Recovery {
  readonly seconds: number;
  readonly recovered: boolean;
  readonly baselineP99Ms: number | null;
  readonly baselineRefusalShare: number;
}

/** recovery_s as defined above; `rows` indexed by curve second. */
export function recovery(rows: readonly SeriesRow[], curve: Curve, capacityRps: number): Recovery {
  const baseline = curve.phases.find((phase) => phase.name === 'baseline');
  const hold = curve.phases.find((phase) => phase.name === 'hold');
  const calm = baseline ? rows.slice(Math.ceil(baseline.startS), Math.floor(baseline.endS)) : [];
  const p99s = calm.map((row) => row.admitted_p99_ms).filter((value): value is number => value !== null);
  const baselineP99Ms = p99s.length
    ? p99s.sort((left, right) => left - right)[Math.floor(p99s.length / 2)]!
    : null;
  const shares = calm.map(refusalShare);
  const baselineRefusalShare = shares.length
    ? shares.reduce((sum, share) => sum + share, 0) / shares.length
    : 0;
  const holdEnd = hold ? Math.ceil(hold.endS) : 0;
  let dropped = holdEnd;
  while (dropped < rows.length && rows[dropped]!.offered >= capacityRps) dropped += 1;
  const end = Math.min(rows.length, Math.ceil(curve.durationS));
  const calmRow = (row: SeriesRow) =>
    (baselineP99Ms === null ||
      row.admitted_p99_ms === null ||
      row.admitted_p99_ms <= Math.max(2 * baselineP99Ms, baselineP99Ms + 50)) &&
    refusalShare(row) <= baselineRefusalShare + 0.01;
  let from = end;
  while (from > dropped && calmRow(rows[from - 1]!)) from -= 1;
  const recovered = from < end;
  return {
    seconds: recovered ? from - dropped : Math.max(0, end - dropped),
    recovered,
    baselineP99Ms,
    baselineRefusalShare,
  };
}

/** Mean goodput over the seconds of the hold, divided by capacity. */
export function goodputAtPeakRatio(rows: readonly SeriesRow[], curve: Curve, capacityRps: number): number {
  const hold = curve.phases.find((phase) => phase.name === 'hold');
  if (!hold || capacityRps <= 0) return 0;
  const held = rows.slice(Math.ceil(hold.startS), Math.floor(hold.endS));
  if (held.length === 0) return 0;
  return held.reduce((sum, row) => sum + row.goodput, 0) / held.length / capacityRps;
}

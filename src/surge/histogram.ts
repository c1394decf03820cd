/**
 * A latency histogram with bounded relative error (in the manner of HdrHistogram): values are whole
 * microseconds; below 128 µs every value has its own bucket, above it each power of two is split into
 * 64 buckets, so a percentile is at most 1/64 (1.6 %) above the true value and never below it.
 * Constant memory per histogram whatever the number of samples, and histograms merge by addition.
 */

const subBits = 6;
const subCount = 1 << subBits; // 64
const exactLimit = subCount * 2; // 128: below this, bucket = value

/** The bucket of a non-negative whole number. */
export function bucketOf(value: number): number {
  if (value < exactLimit) return value;
  const magnitude = Math.floor(Math.log2(value)); // ≥ 7
  const shift = magnitude - subBits;
  const sub = Math.floor(value / 2 ** shift) - subCount; // 0…63
  return exactLimit + (magnitude - subBits - 1) * subCount + sub;
}

/** The highest value that falls in `bucket` (what a percentile reports: never an underestimate). */
export function bucketHigh(bucket: number): number {
  if (bucket < exactLimit) return bucket;
  const offset = bucket - exactLimit;
  const shift = Math.floor(offset / subCount) + 1;
  const sub = offset % subCount;
  return (subCount + sub + 1) * 2 ** shift - 1;
}

export class Histogram {
  private counts = new Map<number, number>();
  private total = 0;
  private maxValue = 0;

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxValue;
  }

  /** Records a latency in milliseconds (kept to the microsecond). */
  recordMs(ms: number): void {
    this.record(Math.max(0, Math.round(ms * 1000)));
  }

  /** Records a whole number of microseconds. */
  record(micros: number): void {
    const bucket = bucketOf(micros);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total += 1;
    if (micros > this.maxValue) this.maxValue = micros;
  }

  add(other: Histogram): void {
    for (const [bucket, count] of other.counts)
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count);
    this.total += other.total;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
  }

  /**
   * The smallest recorded bucket's high value such that at least `percent` % of samples are at or
   * below it (nearest-rank), capped at the largest value seen; null when empty.
   */
  percentile(percent: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    const buckets = [...this.counts.keys()].sort((left, right) => left - right);
    let seen = 0;
    for (const bucket of buckets) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(bucketHigh(bucket), this.maxValue);
    }
    return this.maxValue;
  }

  /** The percentile in milliseconds (microsecond resolution); null when empty. */
  percentileMs(percent: number): number | null {
    const micros = this.percentile(percent);
    return micros === null ? null : micros / 1000;
  }
}

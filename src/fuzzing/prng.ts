/**
 * A small seeded pseudo-random generator (mulberry32), so every fuzz case is a pure function of its
 * 32-bit seed and can be replayed exactly. Not for anything secret.
 */

export class Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`invariant: a PRNG seed is a 32-bit unsigned integer, got ${String(seed)}`);
    }
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return (value ^ (value >>> 14)) >>> 0;
  }

  /** An integer in [0, bound); bound must be a positive safe integer. */
  below(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound <= 0) {
      throw new Error(`invariant: PRNG bound must be a positive integer, got ${String(bound)}`);
    }
    // Two draws give 53 bits, enough for any array index or file offset without visible bias.
    const high = this.nextUint32() >>> 11;
    const low = this.nextUint32();
    return Math.floor(((high * 2 ** 32 + low) / 2 ** 53) * bound);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error('invariant: pick from an empty list');
    return item;
  }

  chance(probability: number): boolean {
    return this.nextUint32() / 2 ** 32 < probability;
  }
}

/** The seed of case `index` of a run seeded with `runSeed`: mixed so neighbouring cases differ. */
export function caseSeed(runSeed: number, index: number): number {
  let value = (Math.imul(runSeed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x7feb352d) >>> 0;
  value = Math.imul(value ^ (value >>> 15), 0x846ca68b) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}

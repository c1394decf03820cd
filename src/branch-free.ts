/**
 * Integer helpers that do not branch on their arguments, for hot loops over data a processor cannot
 * predict (the modules of a seal's QR code follow a random serial): each is a few bit operations.
 * Pure, like the modules that use them (pdf, seal).
 */

/** 1 when `left === right`, else 0, for integers 0..2^31 − 1. */
export function same(left: number, right: number): number {
  return ((left ^ right) - 1) >>> 31;
}

/** `value` when it is positive, else 0, for int32 values. */
export function atLeastZero(value: number): number {
  return value & ~(value >> 31);
}

/** The smaller of two int32 values whose difference is an int32. */
export function atMost(value: number, limit: number): number {
  const difference = value - limit;
  return limit + (difference & (difference >> 31));
}

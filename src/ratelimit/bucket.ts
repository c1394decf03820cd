/**
 * Token buckets: the one contract every rate limiter keeps, and its arithmetic.
 *
 * A bucket holds up to `capacity` tokens and gains `refillPerHour` tokens an hour. A request takes
 * `cost` tokens or is refused, and a refusal takes nothing. The arithmetic is exact integers: a bucket
 * counts in units of 1/3 600 000 token, so one millisecond adds exactly `refillPerHour` units and no
 * rounding ever drifts between the memory and the Redis implementation (the Lua script repeats these
 * lines; every value stays below 2^53, exact in a double and in Lua). A full bucket is the same as no
 * bucket, which is why idle buckets may simply be forgotten.
 */

export interface Rule {
  /** Largest burst, in tokens. */
  readonly capacity: number;
  /** Tokens added per hour (a whole number, so the arithmetic stays exact; 60 is one a minute). */
  readonly refillPerHour: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Whole tokens left after this decision. */
  readonly remaining: number;
  /** When refused: milliseconds until `cost` tokens are there; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

export interface RateLimiter {
  /** Takes `cost` tokens (default 1) from the bucket named `key`, or refuses and takes none. */
  take(key: string, rule: Rule, cost?: number): Promise<Decision>;
}

/** Units per token: one hour in milliseconds, so a millisecond adds `refillPerHour` units. */
export const unitsPerToken = 3_600_000;

export interface BucketState {
  /** Units held at `atMs`. */
  readonly units: number;
  readonly atMs: number;
}

export function assertRule(rule: Rule): void {
  if (!Number.isSafeInteger(rule.capacity) || rule.capacity < 1 || rule.capacity > 1_000_000) {
    throw new Error(`rate limit: capacity must be a whole number from 1 to 1 000 000, not ${rule.capacity}`);
  }
  if (
    !Number.isSafeInteger(rule.refillPerHour) ||
    rule.refillPerHour < 1 ||
    rule.refillPerHour > 100_000_000
  ) {
    throw new Error(
      `rate limit: refillPerHour must be a whole number from 1 to 100 000 000, not ${rule.refillPerHour}`,
    );
  }
}

/**
 * A cost above the capacity could never be paid; it is charged as the whole capacity, so such a request
 * needs a full bucket rather than being refused forever.
 */
export function effectiveCost(rule: Rule, cost: number): number {
  if (!Number.isSafeInteger(cost) || cost < 1)
    throw new Error(`rate limit: cost must be a whole number from 1, not ${cost}`);
  return Math.min(cost, rule.capacity);
}

/** One decision on a bucket: the state to keep (null when refused: nothing changes) and the answer. */
export function decide(
  state: BucketState | undefined,
  rule: Rule,
  cost: number,
  nowMs: number,
): { next: BucketState | null; decision: Decision } {
  const capacityUnits = rule.capacity * unitsPerToken;
  const costUnits = effectiveCost(rule, cost) * unitsPerToken;
  // A clock that went backwards (another node's, or a corrected one) adds nothing rather than taking.
  const elapsedMs = state ? Math.max(0, nowMs - state.atMs) : 0;
  const units = state ? Math.min(capacityUnits, state.units + elapsedMs * rule.refillPerHour) : capacityUnits;
  if (units < costUnits) {
    return {
      next: null,
      decision: {
        allowed: false,
        remaining: Math.floor(units / unitsPerToken),
        retryAfterMs: Math.ceil((costUnits - units) / rule.refillPerHour),
        resetMs: Math.ceil((capacityUnits - units) / rule.refillPerHour),
      },
    };
  }
  const left = units - costUnits;
  return {
    next: { units: left, atMs: nowMs },
    decision: {
      allowed: true,
      remaining: Math.floor(left / unitsPerToken),
      retryAfterMs: 0,
      resetMs: Math.ceil((capacityUnits - left) / rule.refillPerHour),
    },
  };
}

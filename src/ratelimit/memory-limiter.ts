/**
 * Token buckets in this process's memory: the limiter of a single node, and every node's fallback while
 * Redis cannot answer. Bounded: at most `keysMax` buckets are kept; past that the least recently used
 * one is forgotten. A forgotten bucket comes back full, so the bound trades a little generosity towards
 * whoever was idle longest for a memory ceiling that no number of client addresses can push through.
 */
import {
  type BucketState,
  type Decision,
  type RateLimiter,
  type Rule,
  assertRule,
  decide,
} from './bucket.js';
import { OldestKeys } from '../oldest-keys.js';

export interface MemoryLimiterOptions {
  readonly clock: () => number;
  readonly keysMax: number;
  /** Called with how many buckets were forgotten to stay within `keysMax`. */
  readonly onEvict?: (count: number) => void;
}

export class MemoryLimiter implements RateLimiter {
  // A Map iterates in insertion order; re-inserting on every use makes its first key the least recent.
  private readonly buckets = new Map<string, BucketState>();
  /** The least recently used key first (`oldest-keys.ts`: each eviction in constant time). */
  private readonly oldest = new OldestKeys(this.buckets);

  constructor(private readonly options: MemoryLimiterOptions) {
    if (!Number.isSafeInteger(options.keysMax) || options.keysMax < 1) {
      throw new Error(`rate limit: keysMax must be a whole number from 1, not ${options.keysMax}`);
    }
  }

  /** Buckets held now (never more than keysMax). */
  get size(): number {
    return this.buckets.size;
  }

  take(key: string, rule: Rule, cost = 1): Promise<Decision> {
    try {
      return Promise.resolve(this.takeNow(key, rule, cost));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The synchronous core, for callers that must not wait (the fallback path). */
  takeNow(key: string, rule: Rule, cost = 1): Decision {
    assertRule(rule);
    const state = this.buckets.get(key);
    const { next, decision } = decide(state, rule, cost, this.options.clock());
    if (next) {
      this.buckets.delete(key);
      this.buckets.set(key, next);
      if (this.buckets.size > this.options.keysMax) this.evictOldest();
    } else if (state) {
      // A refused client is still active: keep its (empty) bucket from being the next one forgotten.
      this.buckets.delete(key);
      this.buckets.set(key, state);
    }
    return decision;
  }

  private evictOldest(): void {
    const oldest = this.oldest.next();
    if (oldest === undefined) return;
    this.buckets.delete(oldest);
    this.options.onEvict?.(1);
  }
}

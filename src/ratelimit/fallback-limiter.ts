/**
 * The limiter a node uses: Redis when the link is ready and answers in time, this node's memory
 * otherwise. Redis is a helper, never a dependency of correctness (DESIGN §9): each Redis decision is
 * bounded by `timeoutMs`; a failure or a late answer is decided from memory at once, and for
 * `retryAfterFailureMs` afterwards every decision goes straight to memory (so a dead Redis costs no
 * request a timeout), then Redis is tried again. The backend in use is reported once per change, in
 * the log and through `onBackend`, never per request.
 *
 * While memory decides, each node keeps its own buckets: a client spread across N nodes gets up to N
 * budgets until Redis is back. That is the price of staying up.
 */
import type { Logger } from '../logger.js';
import type { Decision, RateLimiter, Rule } from './bucket.js';
import { MemoryLimiter } from './memory-limiter.js';
import type { RedisLimiter } from './redis-limiter.js';

export type Backend = 'redis' | 'memory';

export interface FallbackLimiterOptions {
  readonly memory: MemoryLimiter;
  /** Null when REDIS_URL is not set: memory only, and nothing to report. */
  readonly redis: { readonly limiter: RedisLimiter; readonly ready: () => boolean } | null;
  readonly timeoutMs: number;
  /** How long decisions stay in memory after Redis failed before it is tried again. */
  readonly retryAfterFailureMs?: number;
  readonly logger: Logger;
  /** Monotonic milliseconds for the retry pause (not the buckets' clock, which tests stand still). */
  readonly monotonic?: () => number;
  readonly onBackend?: (backend: Backend) => void;
}

export class FallbackLimiter implements RateLimiter {
  private current: Backend;
  private memoryUntil = 0;

  constructor(private readonly options: FallbackLimiterOptions) {
    this.current = options.redis ? 'redis' : 'memory';
  }

  /** The backend that made the latest decision (`redis` until the first failure when Redis is set). */
  get backend(): Backend {
    return this.current;
  }

  async take(key: string, rule: Rule, cost = 1): Promise<Decision> {
    const { redis } = this.options;
    const now = (this.options.monotonic ?? performance.now.bind(performance))();
    if (!redis) return this.options.memory.takeNow(key, rule, cost);
    if (now < this.memoryUntil || !redis.ready()) {
      this.switchTo('memory', 'not connected');
      return this.options.memory.takeNow(key, rule, cost);
    }
    try {
      const decision = await withTimeout(redis.limiter.take(key, rule, cost), this.options.timeoutMs);
      this.switchTo('redis');
      return decision;
    } catch (error) {
      this.memoryUntil = now + (this.options.retryAfterFailureMs ?? 1000);
      this.switchTo('memory', error instanceof Error ? error.message : String(error));
      return this.options.memory.takeNow(key, rule, cost);
    }
  }

  private switchTo(backend: Backend, reason?: string): void {
    if (this.current === backend) return;
    this.current = backend;
    if (backend === 'redis') {
      this.options.logger.info('rate limits: Redis answers again; limits are shared across nodes');
    } else {
      this.options.logger.warn(
        { reason },
        'rate limits: Redis does not answer; each node limits from its own memory until it does',
      );
    }
    this.options.onBackend?.(backend);
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis: no answer within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

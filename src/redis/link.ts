/**
 * The node's one Redis connection (DESIGN §9: shared rate limits and the waiting room across nodes),
 * opened only when `REDIS_URL` is set. Redis is a helper, never a dependency of correctness: commands
 * fail at once while it is unreachable (no offline queue), and every user of the link falls back to
 * this node's memory and says so. The link reconnects on its own with a capped back-off, and logs each
 * change of state once.
 */
import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from '../logger.js';

export interface RedisLink {
  /** Every key this deployment writes starts with it (BUBUH_REDIS_PREFIX). */
  readonly prefix: string;
  /** Commands reject at once (ClientOfflineError) while `ready` is false. */
  readonly client: RedisClientType;
  /** Connected and answering; read it before each use. */
  readonly ready: boolean;
  /** Resolves when the link is ready or `timeoutMs` has passed; true when ready. */
  waitReady(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisLinkOptions {
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  readonly reconnectMaxMs?: number;
  readonly prefix?: string;
}

export function openRedisLink(url: string, logger: Logger, options: RedisLinkOptions = {}): RedisLink {
  const reconnectMaxMs = options.reconnectMaxMs ?? 2000;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 1000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), reconnectMaxMs),
    },
  }) as unknown as RedisClientType;
  let ready = false;
  let closed = false;
  let waiters: Array<(ready: boolean) => void> = [];
  const setReady = (value: boolean): void => {
    if (ready === value) return;
    ready = value;
    if (value) logger.info('redis: connected; rate limits and the waiting room are shared across nodes');
    else logger.warn('redis: unreachable; rate limits and the waiting room fall back to this node alone');
    if (value) {
      for (const waiter of waiters) waiter(true);
      waiters = [];
    }
  };
  client.on('ready', () => setReady(true));
  client.on('end', () => setReady(false));
  client.on('reconnecting', () => setReady(false));
  // Without a listener an error event would crash the process; the state change is the news.
  client.on('error', () => setReady(false));
  client.connect().catch(() => setReady(false));
  return {
    prefix: options.prefix ?? 'bubuh:',
    client,
    get ready() {
      return ready && !closed;
    },
    waitReady(timeoutMs: number) {
      if (ready) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== done);
          resolve(false);
        }, timeoutMs);
        const done = (value: boolean): void => {
          clearTimeout(timer);
          resolve(value);
        };
        waiters.push(done);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const waiter of waiters) waiter(false);
      waiters = [];
      try {
        client.destroy();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * Redis for tests: the server named by REDIS_URL (CI sets it to the local Redis). Without it the
 * Redis half of a test is skipped and says so. Each test gets its own key prefix under `bubuh-test:`
 * and removes its keys afterwards, so runs never see each other's state.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { createLogger } from '../logger.js';
import { openRedisLink, type RedisLink } from '../redis/link.js';

export const redisSkipReason =
  'redis: REDIS_URL is not set, so the Redis half of this test was skipped (CI sets it)';

export function redisTestUrl(): string | undefined {
  const url = process.env['REDIS_URL'];
  return url && /^rediss?:\/\//.test(url) ? url : undefined;
}

/** A fresh prefix such as `bubuh-test:3f9a…:`. */
export function freshRedisPrefix(): string {
  return `bubuh-test:${randomBytes(6).toString('hex')}:`;
}

/** Opens a ready link with a fresh prefix; null without REDIS_URL. Close it with `closeTestRedis`. */
export async function openTestRedis(): Promise<RedisLink | null> {
  const url = redisTestUrl();
  if (!url) return null;
  const link = openRedisLink(url, createLogger('silent'), { prefix: freshRedisPrefix() });
  if (!(await link.waitReady(5000))) {
    await link.close();
    throw new Error(`REDIS_URL is set to ${url} but Redis did not answer within 5 s`);
  }
  return link;
}

/** Deletes every key under a prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}

export async function closeTestRedis(link: RedisLink | null): Promise<void> {
  if (!link) return;
  const url = redisTestUrl();
  await link.close();
  if (url) await deleteRedisPrefix(url, link.prefix);
}

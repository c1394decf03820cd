/**
 * Redis is a helper, never a dependency: with Redis unreachable every decision still comes, from this
 * node's memory, and the change is said once in the log and in bubuh_ratelimit_backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { loadConfig } from '../config.js';
import { BubuhError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { openRedisLink } from '../redis/link.js';
import { closeTestRedis, openTestRedis, redisSkipReason } from '../testing/redis.js';
import { FallbackLimiter } from './fallback-limiter.js';
import { rateLimitsOf } from './hooks.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter } from './redis-limiter.js';

function capturedLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('info', stream);
  return {
    logger,
    messages: () =>
      lines
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { msg: string }).msg),
  };
}

const fallbackMessage =
  'rate limits: Redis does not answer; each node limits from its own memory until it does';
const backMessage = 'rate limits: Redis answers again; limits are shared across nodes';

test('a node whose Redis is a closed port still limits, from memory, and says so once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-ratelimit-'));
  const { logger, messages } = capturedLogger();
  const clock = Object.assign(() => clock.now, { now: Date.UTC(2024, 8, 6) });
  const config = loadConfig(
    {},
    {
      BUBUH_DATA_DIR: dataDir,
      REDIS_URL: 'redis://127.0.0.1:1',
      BUBUH_RATE_IP_BURST: 2,
      BUBUH_RATE_IP_PER_MINUTE: 2,
    },
  );
  const node = await createNode(config, logger, { clock });
  try {
    const limits = rateLimitsOf(node);
    assert.equal(limits.limiter.backend, 'redis'); // until the first decision finds it missing
    await limits.check('ip', '192.0.2.1');
    await limits.check('ip', '192.0.2.1');
    const refusal = await limits.check('ip', '192.0.2.1').catch((error: unknown) => error);
    assert.ok(refusal instanceof BubuhError);
    assert.equal(refusal.code, 'RATE_LIMITED');
    assert.equal(refusal.status, 429);
    assert.equal(refusal.retryAfterSeconds, 30);
    assert.deepEqual(refusal.details, {
      scope: 'ip',
      scopeName: 'IP address',
      scopeNameId: 'alamat IP',
      retryAfterSeconds: 30,
    });
    assert.equal(
      refusal.message,
      'Too many requests for this IP address (alamat IP). Try again in 30 seconds.',
    );
    assert.equal(
      refusal.messageId,
      'Terlalu banyak permintaan untuk alamat IP ini (IP address). Coba lagi dalam 30 detik.',
    );
    assert.equal(limits.limiter.backend, 'memory');
    assert.deepEqual(
      messages().filter((message) => message.startsWith('rate limits:')),
      [fallbackMessage],
    );
    const metrics = await node.metrics.registry.metrics();
    assert.match(metrics, /^bubuh_ratelimit_backend\{backend="memory"\} 1$/m);
    assert.match(metrics, /^bubuh_ratelimit_backend\{backend="redis"\} 0$/m);
    assert.match(metrics, /^bubuh_ratelimit_refused_total\{scope="ip"\} 1$/m);
    assert.match(metrics, /^bubuh_ratelimit_refused_total\{scope="phone"\} 0$/m);
  } finally {
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a failed Redis call is decided from memory, Redis is left alone for a pause, then used again', async (t) => {
  const { logger, messages } = capturedLogger();
  const clock = Object.assign(() => clock.now, { now: Date.UTC(2024, 8, 6) });
  let monotonic = 0;
  const closed = openRedisLink('redis://127.0.0.1:1', createLogger('silent'));
  const real = await openTestRedis();
  try {
    // A link that claims to be ready but cannot answer: the call fails, memory decides.
    let target: RedisLimiter = new RedisLimiter(closed, { clock });
    const limiter = new FallbackLimiter({
      memory: new MemoryLimiter({ clock, keysMax: 100 }),
      redis: { limiter: { take: (...args) => target.take(...args) } as RedisLimiter, ready: () => true },
      timeoutMs: 50,
      retryAfterFailureMs: 1000,
      logger,
      monotonic: () => monotonic,
    });
    const rule = { capacity: 1, refillPerHour: 60 };
    assert.equal((await limiter.take('k', rule)).allowed, true);
    assert.equal(limiter.backend, 'memory');
    assert.equal((await limiter.take('k', rule)).allowed, false); // the same memory bucket
    assert.deepEqual(messages(), [fallbackMessage]);
    if (!real) {
      t.diagnostic(redisSkipReason);
      return;
    }
    // Redis answers again, but the pause after the failure is not over: still memory.
    target = new RedisLimiter(real, { clock });
    monotonic = 999;
    assert.equal((await limiter.take('k', rule)).allowed, false);
    assert.equal(limiter.backend, 'memory');
    monotonic = 1000;
    assert.deepEqual(await limiter.take('k', rule), {
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetMs: 60_000,
    });
    assert.equal(limiter.backend, 'redis');
    assert.deepEqual(messages(), [fallbackMessage, backMessage]);
  } finally {
    await closed.close();
    await closeTestRedis(real);
  }
});

/**
 * One contract for every rate limiter: the same exact numbers from the memory buckets and from the
 * Redis script (with the caller's clock passed to the script). The Redis half is skipped, saying why,
 * when REDIS_URL is not set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { closeTestRedis, openTestRedis, redisSkipReason } from '../testing/redis.js';
import type { RateLimiter, Rule } from './bucket.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter } from './redis-limiter.js';

interface Clock {
  (): number;
  now: number;
}

function standingClock(start = Date.UTC(2024, 8, 6)): Clock {
  const clock = (() => clock.now) as Clock;
  clock.now = start;
  return clock;
}

async function eachLimiter(
  t: TestContext,
  body: (limiter: RateLimiter, clock: Clock, sub: TestContext) => Promise<void>,
): Promise<void> {
  await t.test('memory', async (sub) => {
    const clock = standingClock();
    await body(new MemoryLimiter({ clock, keysMax: 1000 }), clock, sub);
  });
  await t.test('redis', async (sub) => {
    const link = await openTestRedis();
    if (!link) {
      sub.skip(redisSkipReason);
      return;
    }
    try {
      const clock = standingClock();
      await body(new RedisLimiter(link, { clock }), clock, sub);
    } finally {
      await closeTestRedis(link);
    }
  });
}

const oneAMinute: Rule = { capacity: 3, refillPerHour: 60 };

test('limiter contract: a burst of capacity, then one token per refill interval, refusals take nothing', async (t) => {
  await eachLimiter(t, async (limiter, clock) => {
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
      resetMs: 60_000,
    });
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: true,
      remaining: 1,
      retryAfterMs: 0,
      resetMs: 120_000,
    });
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetMs: 180_000,
    });
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: false,
      remaining: 0,
      retryAfterMs: 60_000,
      resetMs: 180_000,
    });
    // Another bucket is untouched.
    assert.deepEqual(await limiter.take('b', oneAMinute), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
      resetMs: 60_000,
    });
    clock.now += 59_999;
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: false,
      remaining: 0,
      retryAfterMs: 1,
      resetMs: 120_001,
    });
    clock.now += 1;
    // The refusals took nothing: exactly one token has come back.
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetMs: 180_000,
    });
    // Idle long enough, the bucket is full again and no fuller.
    clock.now += 10 * 3_600_000;
    assert.deepEqual(await limiter.take('a', oneAMinute), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
      resetMs: 60_000,
    });
  });
});

test('limiter contract: costs, a cost above the capacity, slow refill and a clock that goes back', async (t) => {
  await eachLimiter(t, async (limiter, clock) => {
    const rule: Rule = { capacity: 5, refillPerHour: 20 }; // one token every 3 minutes
    assert.deepEqual(await limiter.take('c', rule, 4), {
      allowed: true,
      remaining: 1,
      retryAfterMs: 0,
      resetMs: 720_000,
    });
    assert.deepEqual(await limiter.take('c', rule, 2), {
      allowed: false,
      remaining: 1,
      retryAfterMs: 180_000,
      resetMs: 720_000,
    });
    clock.now += 90_000; // half a token
    assert.deepEqual(await limiter.take('c', rule, 2), {
      allowed: false,
      remaining: 1,
      retryAfterMs: 90_000,
      resetMs: 630_000,
    });
    // A clock behind the bucket's last change (another node's, say) adds nothing and takes nothing back.
    clock.now -= 120_000;
    assert.deepEqual(await limiter.take('c', rule, 1), {
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetMs: 900_000,
    });
    clock.now += 900_000;
    // More than the capacity is charged as the whole capacity: it needs a full bucket, not forever.
    assert.deepEqual(await limiter.take('c', rule, 50), {
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetMs: 900_000,
    });
    assert.deepEqual(await limiter.take('c', rule, 50), {
      allowed: false,
      remaining: 0,
      retryAfterMs: 900_000,
      resetMs: 900_000,
    });
  });
});

test('limiter contract: a bad rule or cost is a programming error, refused before any decision', async (t) => {
  await eachLimiter(t, async (limiter) => {
    await assert.rejects(limiter.take('d', { capacity: 0, refillPerHour: 60 }), /capacity must be/);
    await assert.rejects(limiter.take('d', { capacity: 2, refillPerHour: 1.5 }), /refillPerHour must be/);
    await assert.rejects(limiter.take('d', oneAMinute, 0), /cost must be/);
  });
});

test('memory limiter: at most keysMax buckets; the least recently used is forgotten and comes back full', async () => {
  const clock = standingClock();
  let evicted = 0;
  const limiter = new MemoryLimiter({ clock, keysMax: 2, onEvict: (count) => (evicted += count) });
  const rule: Rule = { capacity: 1, refillPerHour: 1 };
  assert.equal((await limiter.take('x', rule)).allowed, true);
  assert.equal((await limiter.take('y', rule)).allowed, true);
  assert.equal((await limiter.take('x', rule)).allowed, false); // x is now the most recent
  assert.equal((await limiter.take('z', rule)).allowed, true); // y is forgotten
  assert.equal(limiter.size, 2);
  assert.equal(evicted, 1);
  assert.equal((await limiter.take('x', rule)).allowed, false);
  assert.equal((await limiter.take('y', rule)).allowed, true);
});

test('memory limiter: forgets exactly the least recently used key through a long run of uses and evictions', async () => {
  const clock = standingClock();
  let evicted = 0;
  const keysMax = 8;
  const limiter = new MemoryLimiter({ clock, keysMax, onEvict: (count) => (evicted += count) });
  // With one token and no refill in a standing clock, a remembered key is refused and a forgotten one
  // comes back full: each answer says whether the limiter still held the key.
  const rule: Rule = { capacity: 1, refillPerHour: 1 };
  // The reference: keys in order of last use, oldest first.
  const model: string[] = [];
  let modelEvicted = 0;
  let seed = 12345;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % below;
  };
  for (let step = 0; step < 5000; step += 1) {
    const key = `k${random(20)}`;
    const held = model.indexOf(key);
    const decision = await limiter.take(key, rule);
    assert.equal(decision.allowed, held < 0, `step ${step}: ${key}`);
    if (held >= 0) model.splice(held, 1);
    model.push(key);
    if (model.length > keysMax) {
      model.shift();
      modelEvicted += 1;
    }
    assert.equal(limiter.size, model.length);
  }
  assert.equal(evicted, modelEvicted);
  assert.ok(evicted > 1000, `only ${evicted} evictions: the run must exercise them`);
});

test('redis limiter: keys under the link prefix with a TTL; EVAL when the server answers NOSCRIPT', async (t) => {
  const link = await openTestRedis();
  if (!link) {
    t.skip(redisSkipReason);
    return;
  }
  try {
    const clock = standingClock();
    // A script text this server has never seen: EVALSHA meets NOSCRIPT, EVAL answers and loads it.
    const limiter = new RedisLimiter(link, { clock, scriptTag: randomBytes(8).toString('hex') });
    assert.deepEqual(await link.client.scriptExists(limiter.scriptSha), [0]);
    assert.equal((await limiter.take('ip:192.0.2.1', oneAMinute)).allowed, true);
    assert.deepEqual(await link.client.scriptExists(limiter.scriptSha), [1]);
    assert.equal((await limiter.take('ip:192.0.2.1', oneAMinute)).remaining, 1);
    const key = `${link.prefix}ratelimit:ip:192.0.2.1`;
    assert.deepEqual(await link.client.hGetAll(key), { u: String(3_600_000), t: String(clock.now) });
    const ttl = await link.client.pTTL(key);
    // Expires once full again (120 s) plus a second of margin.
    assert.ok(ttl > 120_000 && ttl <= 121_000, `TTL ${ttl}`);
    // A refusal writes nothing.
    await limiter.take('ip:192.0.2.1', oneAMinute);
    assert.equal((await limiter.take('ip:192.0.2.1', oneAMinute)).allowed, false);
    assert.deepEqual(await link.client.hGetAll(key), { u: '0', t: String(clock.now) });
    // Without a clock the server's own TIME decides.
    const serverTime = new RedisLimiter(link);
    assert.deepEqual(await serverTime.take('ip:192.0.2.2', oneAMinute), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
      resetMs: 60_000,
    });
    const written = Number((await link.client.hGetAll(`${link.prefix}ratelimit:ip:192.0.2.2`))['t']);
    assert.ok(Math.abs(written - Date.now()) < 5000, `server time ${written}`);
  } finally {
    await closeTestRedis(link);
  }
});

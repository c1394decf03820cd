/**
 * Rate limits through the real app: the N+1-th request from one address is 429 RATE_LIMITED with
 * Retry-After; an IPv6 /64 is one client; a session token and an API key have budgets of their own; a
 * phone number has its own budget for sign-in codes; exempt routes are never limited. The address
 * test runs on the memory limiter and, when REDIS_URL is set, on Redis.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { apiKeyStoreOf, accountStoreOf } from '../accounts/authenticate.js';
import { openTestNode, type TestClock, testClock } from '../accounts/test-node.js';
import { buildApp } from '../http/app.js';
import type { BubuhNode } from '../node.js';
import { disposeBackend, openFreshBackend } from '../testing/backends.js';
import { rateLimitsOf } from './hooks.js';
import { deleteRedisPrefix, freshRedisPrefix, redisSkipReason, redisTestUrl } from '../testing/redis.js';

type Settings = Readonly<Record<string, string | number | undefined>>;

async function withApp(
  settings: Settings,
  body: (context: { app: FastifyInstance; node: BubuhNode; clock: TestClock }) => Promise<void>,
): Promise<void> {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  const clock = testClock();
  const node = await openTestNode(backend, { clock, settings });
  const app = await buildApp(node);
  try {
    await body({ app, node, clock });
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
  }
}

/** Runs `body` with memory limits, then with Redis limits (skipped, saying why, without REDIS_URL). */
async function eachLimitBackend(
  t: TestContext,
  settings: Settings,
  body: (context: { app: FastifyInstance; node: BubuhNode; clock: TestClock }) => Promise<void>,
): Promise<void> {
  await t.test('memory', async () => withApp(settings, body));
  await t.test('redis', async (sub) => {
    const url = redisTestUrl();
    if (!url) {
      sub.skip(redisSkipReason);
      return;
    }
    const prefix = freshRedisPrefix();
    try {
      // A generous timeout: on a busy test machine a late answer would be decided from memory, which
      // is right in production but not what this half of the test is about.
      const redisSettings = {
        ...settings,
        REDIS_URL: url,
        BUBUH_REDIS_PREFIX: prefix,
        BUBUH_RATE_REDIS_TIMEOUT_MS: 2000,
      };
      await withApp(redisSettings, async (context) => {
        assert.equal(await context.node.redis?.waitReady(5000), true);
        await body(context);
        assert.equal(rateLimitsOf(context.node).limiter.backend, 'redis');
        // The buckets live in Redis, under the deployment's prefix.
        const keys = (await context.node.redis?.client.keys(`${prefix}ratelimit:*`)) ?? [];
        assert.deepEqual(keys.map((key) => key.slice(prefix.length)).sort(), [
          'ratelimit:ip:192.0.2.1',
          'ratelimit:ip:192.0.2.2',
          'ratelimit:ip:2001:0db8:0000:0001::/64',
          'ratelimit:ip:2001:0db8:0000:0002::/64',
        ]);
      });
    } finally {
      await deleteRedisPrefix(url, prefix);
    }
  });
}

function me(app: FastifyInstance, remoteAddress: string, token?: string) {
  return app.inject({
    method: 'GET',
    url: '/v1/me',
    remoteAddress,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

test('the 4th request from one address within the burst of 3 is 429 RATE_LIMITED with Retry-After; a /64 is one client', async (t) => {
  await eachLimitBackend(
    t,
    { BUBUH_RATE_IP_BURST: 3, BUBUH_RATE_IP_PER_MINUTE: 6 },
    async ({ app, clock }) => {
      for (let index = 0; index < 3; index += 1) {
        assert.equal((await me(app, '192.0.2.1')).statusCode, 401);
      }
      const refused = await me(app, '192.0.2.1');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['retry-after'], '10');
      assert.deepEqual(refused.json(), {
        error: {
          code: 'RATE_LIMITED',
          message: 'Too many requests for this IP address (alamat IP). Try again in 10 seconds.',
          message_id: 'Terlalu banyak permintaan untuk alamat IP ini (IP address). Coba lagi dalam 10 detik.',
          details: { scope: 'ip', scopeName: 'IP address', scopeNameId: 'alamat IP', retryAfterSeconds: 10 },
        },
      });
      // Exempt routes are never limited, also for an address that has nothing left.
      for (let index = 0; index < 5; index += 1) {
        assert.equal(
          (await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.1' })).statusCode,
          200,
        );
      }
      // Another address has its own budget.
      assert.equal((await me(app, '192.0.2.2')).statusCode, 401);
      clock.advance(9_999);
      const still = await me(app, '192.0.2.1');
      assert.equal(still.statusCode, 429);
      assert.equal(still.headers['retry-after'], '1');
      clock.advance(1);
      assert.equal((await me(app, '192.0.2.1')).statusCode, 401);
      assert.equal((await me(app, '192.0.2.1')).statusCode, 429);

      // IPv6: every address in 2001:db8:0:1::/64 is one client; the next /64 is another.
      assert.equal((await me(app, '2001:db8:0:1::1')).statusCode, 401);
      assert.equal((await me(app, '2001:db8:0:1::2')).statusCode, 401);
      assert.equal((await me(app, '2001:db8:0:1:ffff:ffff:ffff:ffff')).statusCode, 401);
      const sameBlock = await me(app, '2001:db8:0:1:1234::9');
      assert.equal(sameBlock.statusCode, 429);
      assert.equal(sameBlock.json().error.details.scope, 'ip');
      assert.equal((await me(app, '2001:db8:0:2::1')).statusCode, 401);
    },
  );
});

test('X-Forwarded-For is ignored by default and followed as far as BUBUH_TRUST_PROXY_HOPS says', async () => {
  const settings = { BUBUH_RATE_IP_BURST: 1, BUBUH_RATE_IP_PER_MINUTE: 1 };
  const forwarded = (app: FastifyInstance, client: string) =>
    app.inject({
      method: 'GET',
      url: '/v1/me',
      remoteAddress: '10.0.0.2',
      headers: { 'x-forwarded-for': client },
    });
  await withApp(settings, async ({ app }) => {
    assert.equal((await forwarded(app, '203.0.113.1')).statusCode, 401);
    assert.equal((await forwarded(app, '203.0.113.2')).statusCode, 429); // the proxy's address is the client
  });
  await withApp({ ...settings, BUBUH_TRUST_PROXY_HOPS: 1 }, async ({ app }) => {
    assert.equal((await forwarded(app, '203.0.113.1')).statusCode, 401);
    assert.equal((await forwarded(app, '203.0.113.2')).statusCode, 401);
    assert.equal((await forwarded(app, '203.0.113.1')).statusCode, 429);
  });
});

test('a session token and an API key have budgets of their own; a verified key skips the address budget, a forged one does not', async () => {
  await withApp(
    {
      BUBUH_RATE_IP_BURST: 3,
      BUBUH_RATE_IP_PER_MINUTE: 1,
      BUBUH_RATE_ACCOUNT_BURST: 2,
      BUBUH_RATE_ACCOUNT_PER_MINUTE: 1,
      BUBUH_RATE_API_KEY_BURST: 5,
      BUBUH_RATE_API_KEY_PER_MINUTE: 1,
    },
    async ({ app, node }) => {
      const { account } = await accountStoreOf(node).findOrCreate('+6281234567890');
      const { token } = await accountStoreOf(node).createSession(account.id);
      // The session's budget follows it across addresses.
      assert.equal((await me(app, '192.0.2.1', token)).statusCode, 200);
      assert.equal((await me(app, '192.0.2.2', token)).statusCode, 200);
      const session = await me(app, '192.0.2.3', token);
      assert.equal(session.statusCode, 429);
      assert.equal(session.headers['retry-after'], '60');
      assert.equal(
        session.json().error.message,
        'Too many requests for this account (akun). Try again in 60 seconds.',
      );

      const { key, apiKey } = await apiKeyStoreOf(node).create(account.id, 'reseller');
      // First use from 192.0.2.10 counts against the address; once verified, only the key's budget.
      assert.equal((await me(app, '192.0.2.10', key)).statusCode, 200);
      for (let index = 0; index < 4; index += 1) {
        assert.equal((await me(app, '192.0.2.10', key)).statusCode, 200);
      }
      const keyRefused = await me(app, '192.0.2.10', key);
      assert.equal(keyRefused.statusCode, 429);
      assert.equal(keyRefused.json().error.details.scope, 'api_key');
      assert.equal(
        keyRefused.json().error.message_id,
        'Terlalu banyak permintaan untuk kunci API ini (API key). Coba lagi dalam 60 detik.',
      );
      // The address itself spent one token only.
      assert.equal((await me(app, '192.0.2.10')).statusCode, 401);
      assert.equal((await me(app, '192.0.2.10')).statusCode, 401);
      assert.equal((await me(app, '192.0.2.10')).statusCode, 429);

      // A forged key with the real id shares the key's (empty) budget and still pays the address's.
      const forged = `bbh_${apiKey.id}_${'A'.repeat(43)}`;
      for (let index = 0; index < 3; index += 1) {
        assert.equal((await me(app, '192.0.2.20', forged)).json().error.details.scope, 'api_key');
      }
      assert.equal((await me(app, '192.0.2.20', forged)).json().error.details.scope, 'ip');
    },
  );
});

test('sign-in codes: one phone number has its own budget whatever the address and however it is written', async () => {
  await withApp(
    { BUBUH_RATE_PHONE_BURST: 2, BUBUH_RATE_PHONE_PER_HOUR: 20, BUBUH_OTP_SENDS_PER_PHONE: 100 },
    async ({ app, clock, node }) => {
      const otp = (phone: string, remoteAddress: string) =>
        app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone }, remoteAddress });
      assert.equal((await otp('0812-3456-7890', '192.0.2.1')).statusCode, 202);
      assert.equal((await otp('+6281234567890', '192.0.2.2')).statusCode, 202);
      const refused = await otp('6281234567890', '192.0.2.3');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['retry-after'], '180');
      assert.deepEqual(refused.json().error, {
        code: 'RATE_LIMITED',
        message: 'Too many requests for this phone number (nomor telepon). Try again in 180 seconds.',
        message_id:
          'Terlalu banyak permintaan untuk nomor telepon ini (phone number). Coba lagi dalam 180 detik.',
        details: {
          scope: 'phone',
          scopeName: 'phone number',
          scopeNameId: 'nomor telepon',
          retryAfterSeconds: 180,
        },
      });
      // Another number is not affected; an invalid one is the route's own refusal.
      assert.equal((await otp('081200000001', '192.0.2.3')).statusCode, 202);
      assert.equal((await otp('12', '192.0.2.3')).json().error.code, 'PHONE_INVALID');
      clock.advance(180_000);
      assert.equal((await otp('081234567890', '192.0.2.3')).statusCode, 202);
      // Only the three codes the budget allowed were queued for that number.
      const queued = await node.storage.db
        .selectFrom('otp_sends')
        .select('phone')
        .where('phone', '=', '+6281234567890')
        .execute();
      assert.equal(queued.length, 3);
    },
  );
});

test('BUBUH_RATE_LIMITS=off turns every limit off', async () => {
  await withApp({ BUBUH_RATE_LIMITS: 'off', BUBUH_RATE_IP_BURST: 1 }, async ({ app }) => {
    for (let index = 0; index < 5; index += 1) {
      assert.equal((await me(app, '192.0.2.1')).statusCode, 401);
    }
  });
});

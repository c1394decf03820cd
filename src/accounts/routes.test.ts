import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../http/app.js';
import { accountCodes, accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { BubuhNode } from '../node.js';
import { type Backend, eachBackend } from '../testing/backends.js';
import { openTestNode, type TestClock, testClock } from './test-node.js';
import { outboxFilePath } from './whatsapp.js';

interface Harness {
  readonly app: FastifyInstance;
  readonly node: BubuhNode;
  readonly clock: TestClock;
  /** The newest code the development outbox file holds for `phone`. */
  codeFor(phone: string): string;
  requestCode(phone: string, remoteAddress?: string): Promise<LightMyRequestResponse>;
  verify(phone: string, code: string): Promise<LightMyRequestResponse>;
  signIn(phone: string): Promise<{ token: string; accountId: string }>;
}

async function withApp(
  backend: Backend,
  body: (harness: Harness) => Promise<void>,
  settings: Record<string, string | number> = {},
): Promise<void> {
  const clock = testClock();
  const node = await openTestNode(backend, { clock, settings });
  const app = await buildApp(node);
  const harness: Harness = {
    app,
    node,
    clock,
    codeFor(phone) {
      const lines = readFileSync(outboxFilePath(node.config.dataDir), 'utf8').trim().split('\n');
      const messages = lines.map((line) => JSON.parse(line) as { to: string; code: string });
      const mine = messages.filter((message) => message.to === phone);
      return mine[mine.length - 1]!.code;
    },
    requestCode: (phone, remoteAddress = '192.0.2.1') =>
      app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone }, remoteAddress }),
    verify: (phone, code) => app.inject({ method: 'POST', url: '/v1/auth/verify', payload: { phone, code } }),
    async signIn(phone) {
      const sent = await harness.requestCode(phone);
      assert.equal(sent.statusCode, 202);
      const verified = await harness.verify(phone, harness.codeFor(sent.json().phone));
      assert.equal(verified.statusCode, 200);
      return { token: verified.json().token, accountId: verified.json().account.id };
    },
  };
  try {
    await body(harness);
  } finally {
    await app.close();
    await node.close();
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('sign-in through the development outbox file: code, token, /v1/me with quota from the ledger', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(backend, async ({ app, node, clock, codeFor, verify }) => {
      const sent = await app.inject({
        method: 'POST',
        url: '/v1/auth/otp',
        payload: { phone: '0812-3456-7890' },
      });
      assert.equal(sent.statusCode, 202);
      assert.deepEqual(sent.json(), { phone: '+6281234567890', expires_at: '2024-09-06T00:05:00.000Z' });

      const lines = readFileSync(outboxFilePath(node.config.dataDir), 'utf8').split('\n');
      assert.equal(lines.length, 2);
      assert.equal(lines[1], '');
      const message = JSON.parse(lines[0]!) as Record<string, string>;
      assert.deepEqual(Object.keys(message), ['to', 'text', 'code', 'at']);
      assert.equal(message['to'], '+6281234567890');
      assert.match(message['code']!, /^\d{6}$/);
      assert.equal(
        message['text'],
        `${message['code']} adalah kode masuk bubuh Anda. Berlaku 5 menit. JANGAN berikan kode ini kepada siapa pun, termasuk yang mengaku petugas bubuh.`,
      );
      assert.equal(message['at'], '2024-09-06T00:00:00.000Z');
      // Sent, so the outbox row no longer holds the code; the code itself is stored only as a hash.
      const outbox = await node.storage.db.selectFrom('whatsapp_outbox').selectAll().execute();
      assert.deepEqual(
        outbox.map((row) => [row.status, row.attempts, row.text, row.code]),
        [['sent', 1, '', null]],
      );
      const codes = await node.storage.db.selectFrom('otp_codes').selectAll().execute();
      assert.equal(codes.length, 1);
      assert.notEqual(codes[0]!.code_hash, message['code']);
      assert.match(codes[0]!.code_hash, /^[0-9a-f]{64}$/);

      clock.advance(60_000);
      const verified = await verify('+6281234567890', codeFor('+6281234567890'));
      assert.equal(verified.statusCode, 200);
      const { token, expires_at, account } = verified.json();
      assert.match(token, /^bub_[A-Za-z0-9_-]{43}$/);
      assert.equal(expires_at, '2024-10-06T00:01:00.000Z');
      assert.match(account.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(account, { id: account.id, phone: '+6281234567890', roles: ['customer'] });

      const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
      assert.equal(me.statusCode, 200);
      assert.deepEqual(me.json(), {
        id: account.id,
        phone: '+6281234567890',
        roles: ['customer'],
        quota: { available: 0, pending: 0 },
      });

      // Quota comes from the customer's own ledger account.
      await node.ledger.createAccounts([
        { id: accountIds.issuer, ledger: quotaLedger, code: accountCodes.issuer },
      ]);
      const quotaAccountId = accountIds.customerQuota(account.id);
      const [minted] = await node.ledger.createTransfers([
        {
          id: '1'.repeat(32),
          debitAccountId: accountIds.issuer,
          creditAccountId: quotaAccountId,
          amount: 5,
          ledger: quotaLedger,
          code: transferCodes.mint,
        },
      ]);
      assert.equal(minted?.result, 'ok');
      await node.ledger.createTransfers([
        {
          id: '2'.repeat(32),
          debitAccountId: quotaAccountId,
          creditAccountId: accountIds.issuer,
          amount: 2,
          ledger: quotaLedger,
          code: transferCodes.stamp,
          kind: 'pending',
          timeoutSeconds: 60,
        },
      ]);
      const after = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
      assert.deepEqual(after.json().quota, { available: 3, pending: 2 });

      // The second sign-in of the same phone is the same account.
      const again = await app.inject({
        method: 'POST',
        url: '/v1/auth/otp',
        payload: { phone: '6281234567890' },
      });
      assert.equal(again.statusCode, 202);
      const second = await verify('081234567890', codeFor('+6281234567890'));
      assert.equal(second.json().account.id, account.id);
      assert.notEqual(second.json().token, token);
    });
  });
});

test('malformed input: PHONE_INVALID, missing fields, no token', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(backend, async ({ app, requestCode }) => {
      const invalid = await requestCode('0212345678');
      assert.equal(invalid.statusCode, 400);
      assert.deepEqual(invalid.json().error.code, 'PHONE_INVALID');
      assert.deepEqual(invalid.json().error.details, { phone: '0212345678' });
      const missing = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: {} });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.code, 'REQUEST_INVALID');
      for (const headers of [{}, { authorization: 'Bearer bub_nope' }]) {
        const me = await app.inject({ method: 'GET', url: '/v1/me', headers });
        assert.equal(me.statusCode, 401);
        assert.equal(me.json().error.code, 'AUTH_REQUIRED');
        assert.deepEqual(me.json().error.details, {});
      }
    });
  });
});

test('five wrong codes use the code up: even the right one is refused afterwards', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(backend, async ({ requestCode, verify, codeFor }) => {
      assert.equal((await requestCode('081200000001')).statusCode, 202);
      const right = codeFor('+6281200000001');
      const wrong = right === '000000' ? '000001' : '000000';
      const left: unknown[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const refused = await verify('+6281200000001', wrong);
        assert.equal(refused.statusCode, 401);
        assert.equal(refused.json().error.code, 'OTP_INVALID');
        left.push(refused.json().error.details.attemptsLeft);
      }
      assert.deepEqual(left, [4, 3, 2, 1, 0]);
      const exhausted = await verify('+6281200000001', right);
      assert.equal(exhausted.statusCode, 401);
      assert.equal(exhausted.json().error.code, 'OTP_ATTEMPTS_EXHAUSTED');
    });
  });
});

test('a code expires after five minutes, is used once, and only the newest code counts', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(backend, async ({ clock, requestCode, verify, codeFor }) => {
      const phone = '+6281200000002';
      await requestCode(phone);
      const first = codeFor(phone);
      clock.advance(5 * 60_000);
      const expired = await verify(phone, first);
      assert.equal(expired.statusCode, 401);
      assert.equal(expired.json().error.code, 'OTP_EXPIRED');

      await requestCode(phone);
      const second = codeFor(phone);
      clock.advance(5 * 60_000 - 1);
      assert.equal((await verify(phone, second)).statusCode, 200);
      const replay = await verify(phone, second);
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().error.code, 'OTP_USED');

      await requestCode(phone);
      const third = codeFor(phone);
      await requestCode('081200000003'); // another phone's code does not disturb this one
      clock.advance(16 * 60_000);
      await requestCode(phone);
      const fourth = codeFor(phone);
      if (third !== fourth) {
        const superseded = await verify(phone, third);
        assert.equal(superseded.json().error.code, 'OTP_INVALID');
      }
      assert.equal((await verify(phone, fourth)).statusCode, 200);
      const never = await verify('+6281200000009', '123456');
      assert.equal(never.json().error.code, 'OTP_EXPIRED');
    });
  });
});

test('sends are limited to 3 per phone per 15 minutes and per client address, with Retry-After', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(
      backend,
      async ({ clock, requestCode, node }) => {
        const phone = '081200000004';
        for (let send = 0; send < 3; send += 1) {
          assert.equal((await requestCode(phone, '192.0.2.10')).statusCode, 202);
          clock.advance(60_000);
        }
        // Now t0 + 3 min; the first send leaves the window at t0 + 15 min.
        const limited = await requestCode(phone, '192.0.2.11');
        assert.equal(limited.statusCode, 429);
        assert.equal(limited.headers['retry-after'], '720');
        assert.equal(limited.json().error.code, 'OTP_SEND_LIMITED');
        assert.deepEqual(limited.json().error.details, { retryAfterSeconds: 720 });
        clock.advance(720_000 - 1);
        const still = await requestCode(phone, '192.0.2.11');
        assert.equal(still.statusCode, 429);
        assert.equal(still.headers['retry-after'], '1');
        clock.advance(1);
        assert.equal((await requestCode(phone, '192.0.2.11')).statusCode, 202);
        const outbox = await node.storage.db.selectFrom('whatsapp_outbox').select('id').execute();
        assert.equal(outbox.length, 4);

        // Per address: 192.0.2.20 may request 4 codes per window, whatever the phones.
        for (let index = 0; index < 4; index += 1) {
          assert.equal((await requestCode(`08130000000${index}`, '192.0.2.20')).statusCode, 202);
        }
        clock.advance(30_000);
        const byAddress = await requestCode('081300000009', '192.0.2.20');
        assert.equal(byAddress.statusCode, 429);
        assert.equal(byAddress.headers['retry-after'], '870');
        assert.equal((await requestCode('081300000009', '192.0.2.21')).statusCode, 202);
      },
      { BUBUH_OTP_SENDS_PER_IP: 4 },
    );
  });
});

test('logout revokes the session; customer A can never read or revoke customer B’s session', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(backend, async ({ app, signIn }) => {
      const a = await signIn('081200000005');
      const a2 = await signIn('081200000005');
      const b = await signIn('081200000006');
      assert.notEqual(a.accountId, b.accountId);

      const listA = await app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: bearer(a.token) });
      assert.equal(listA.statusCode, 200);
      const sessionsA = listA.json().sessions as Array<{ id: string; current: boolean }>;
      assert.equal(sessionsA.length, 2);
      assert.deepEqual(sessionsA.map((session) => session.current).sort(), [false, true]);
      const listB = await app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: bearer(b.token) });
      const sessionB = (listB.json().sessions as Array<{ id: string }>)[0]!.id;
      assert.equal(listB.json().sessions.length, 1);
      assert.ok(!sessionsA.some((session) => session.id === sessionB));

      // A tries B's session id: answered as if it did not exist, and B keeps working.
      const idor = await app.inject({
        method: 'DELETE',
        url: `/v1/auth/sessions/${sessionB}`,
        headers: bearer(a.token),
      });
      assert.equal(idor.statusCode, 404);
      assert.equal(idor.json().error.code, 'SESSION_NOT_FOUND');
      const meB = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(b.token) });
      assert.equal(meB.statusCode, 200);
      assert.equal(meB.json().id, b.accountId);
      const meA = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a.token) });
      assert.equal(meA.json().id, a.accountId);

      // A revokes its other session by id, then logs out.
      const other = sessionsA.find((session) => !session.current)!.id;
      const revoked = await app.inject({
        method: 'DELETE',
        url: `/v1/auth/sessions/${other}`,
        headers: bearer(a.token),
      });
      assert.equal(revoked.statusCode, 204);
      assert.equal(
        (await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a2.token) })).statusCode,
        401,
      );
      const logout = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(a.token) });
      assert.equal(logout.statusCode, 204);
      assert.equal(logout.body, '');
      const afterLogout = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(a.token) });
      assert.equal(afterLogout.statusCode, 401);
      assert.equal(afterLogout.json().error.code, 'AUTH_REQUIRED');
      const twice = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(a.token) });
      assert.equal(twice.statusCode, 401);
      // B's session is untouched by all of A's actions.
      assert.equal(
        (await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(b.token) })).statusCode,
        200,
      );
    });
  });
});

test('a session expires after BUBUH_SESSION_LIFETIME_S', async (t) => {
  await eachBackend(t, async (backend) => {
    await withApp(
      backend,
      async ({ app, clock, signIn }) => {
        const { token } = await signIn('081200000007');
        clock.advance(3600_000 - 1);
        assert.equal(
          (await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode,
          200,
        );
        clock.advance(1);
        assert.equal(
          (await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode,
          401,
        );
      },
      { BUBUH_SESSION_LIFETIME_S: 3600 },
    );
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { accountIds } from '../ledger/chart.js';
import { accountFlags } from '../ledger/types.js';
import { eachBackend } from '../testing/backends.js';
import { accountStoreOf, authenticate } from './authenticate.js';
import { requireRole } from './roles.js';
import { openTestNode, testClock } from './test-node.js';

function refusedWith(code: string) {
  return (error: unknown) => error instanceof BubuhError && error.code === code;
}

test('authenticate: a session token becomes its Principal; missing, malformed, unknown, expired and revoked tokens are all AUTH_REQUIRED', async (t) => {
  await eachBackend(t, async (backend) => {
    const clock = testClock();
    const node = await openTestNode(backend, { clock, settings: { BUBUH_SESSION_LIFETIME_S: 3600 } });
    try {
      const store = accountStoreOf(node);
      const { account, created } = await store.findOrCreate('+6281234567890');
      assert.equal(created, true);
      assert.match(account.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(account.roles, ['customer']);
      const again = await store.findOrCreate('+6281234567890');
      assert.equal(again.created, false);
      assert.equal(again.account.id, account.id);
      const [quota] = await node.ledger.lookupAccounts([accountIds.customerQuota(account.id)]);
      assert.equal(quota?.flags, accountFlags.debitsMustNotExceedCredits);

      const { token, session } = await store.createSession(account.id);
      assert.match(token, /^bub_[A-Za-z0-9_-]{43}$/);
      assert.equal(session.expiresAt, clock.now + 3600_000);
      const principal = await authenticate({ headers: { authorization: `Bearer ${token}` } }, node);
      assert.deepEqual(principal, {
        accountId: account.id,
        phone: '+6281234567890',
        roles: ['customer'],
        sessionId: session.id,
        quotaAccountId: `customer:${account.id}:quota`,
      });
      // The token itself is not in the database, only its SHA-256.
      const rows = await node.storage.db.selectFrom('sessions').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0]?.token_hash, token);
      assert.match(rows[0]?.token_hash ?? '', /^[0-9a-f]{64}$/);

      for (const headers of [
        {},
        { authorization: token },
        { authorization: `Basic ${token}` },
        { authorization: 'Bearer bub_' + 'A'.repeat(43) },
        { authorization: 'Bearer nonsense' },
      ]) {
        await assert.rejects(authenticate({ headers }, node), refusedWith('AUTH_REQUIRED'));
      }
      const refusal = await authenticate({ headers: {} }, node).catch((error: BubuhError) => error);
      assert.equal((refusal as BubuhError).status, 401);

      clock.advance(3600_000 - 1);
      assert.equal(
        (await authenticate({ headers: { authorization: `Bearer ${token}` } }, node)).sessionId,
        session.id,
      );
      clock.advance(1);
      await assert.rejects(
        authenticate({ headers: { authorization: `Bearer ${token}` } }, node),
        refusedWith('AUTH_REQUIRED'),
      );

      const second = await store.createSession(account.id);
      await store.revokeSession(account.id, second.session.id);
      await assert.rejects(
        authenticate({ headers: { authorization: `bearer ${second.token}` } }, node),
        refusedWith('AUTH_REQUIRED'),
      );
    } finally {
      await node.close();
    }
  });
});

test('requireRole refuses with FORBIDDEN naming the role; roles change by compare-and-set', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend);
    try {
      const store = accountStoreOf(node);
      const { account } = await store.findOrCreate('+6281111111111');
      const { token } = await store.createSession(account.id);
      const header = { headers: { authorization: `Bearer ${token}` } };
      const customer = await authenticate(header, node);
      requireRole(customer, 'customer');
      assert.throws(
        () => requireRole(customer, 'platform_operator'),
        (error: unknown) =>
          error instanceof BubuhError &&
          error.code === 'FORBIDDEN' &&
          error.status === 403 &&
          error.message === 'Your account does not have the platform_operator role this action needs.',
      );
      const changed = await store.changeRoles('+6281111111111', ['platform_operator'], []);
      assert.deepEqual(changed.roles, ['customer', 'platform_operator']);
      requireRole(await authenticate(header, node), 'platform_operator');
      const removed = await store.changeRoles('+6281111111111', [], ['customer']);
      assert.deepEqual(removed.roles, ['platform_operator']);
      await assert.rejects(
        store.changeRoles('+6289999999999', ['issuer'], []),
        refusedWith('ACCOUNT_NOT_FOUND'),
      );
    } finally {
      await node.close();
    }
  });
});

test('a session can be revoked only by its own account (SESSION_NOT_FOUND otherwise)', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend);
    try {
      const store = accountStoreOf(node);
      const a = (await store.findOrCreate('+6281200000001')).account;
      const b = (await store.findOrCreate('+6281200000002')).account;
      const sessionB = await store.createSession(b.id);
      await assert.rejects(store.revokeSession(a.id, sessionB.session.id), refusedWith('SESSION_NOT_FOUND'));
      assert.equal(
        (await authenticate({ headers: { authorization: `Bearer ${sessionB.token}` } }, node)).accountId,
        b.id,
      );
      assert.deepEqual(await store.listSessions(a.id), []);
      assert.deepEqual(
        (await store.listSessions(b.id)).map((session) => session.id),
        [sessionB.session.id],
      );
    } finally {
      await node.close();
    }
  });
});

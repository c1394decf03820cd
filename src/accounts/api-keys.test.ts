import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { disposeBackend, eachBackend, openFreshBackend } from '../testing/backends.js';
import { apiKeyIdOf, isApiKeyRequest, parseApiKey } from './api-keys.js';
import { accountStoreOf, apiKeyStoreOf, authenticate } from './authenticate.js';
import { openTestNode, testClock } from './test-node.js';

function refusedWith(code: string) {
  return (error: unknown) => error instanceof BubuhError && error.code === code;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

test('API keys: a key authenticates as its account with apiKeyId set; only a hash is stored; a wrong secret or a revoked key is AUTH_REQUIRED', async (t) => {
  await eachBackend(t, async (backend) => {
    const clock = testClock();
    const node = await openTestNode(backend, { clock });
    try {
      const { account } = await accountStoreOf(node).findOrCreate('+6281234567890');
      const keys = apiKeyStoreOf(node);
      const { key, apiKey } = await keys.create(account.id, '  Koperasi Sejahtera  ');
      assert.match(key, /^bbh_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(apiKey, {
        id: parseApiKey(key)?.id,
        accountId: account.id,
        name: 'Koperasi Sejahtera',
        createdAt: clock.now,
        revokedAt: null,
        lastUsedAt: null,
      });
      assert.equal(keys.hasVerified(key), false);
      const principal = await authenticate(bearer(key), node);
      assert.deepEqual(principal, {
        accountId: account.id,
        phone: '+6281234567890',
        roles: ['customer'],
        sessionId: `api-key:${apiKey.id}`,
        quotaAccountId: `customer:${account.id}:quota`,
        apiKeyId: apiKey.id,
      });
      assert.equal(keys.hasVerified(key), true);
      // The key is not in the database: its secret only as a SHA-256.
      const rows = await node.storage.db.selectFrom('api_keys').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.id, apiKey.id);
      assert.match(rows[0]?.secret_hash ?? '', /^[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(rows).includes(key.slice(21)));
      assert.equal(Number(rows[0]?.last_used_at), clock.now);

      // The right id with another secret, an unknown id, a malformed key: all AUTH_REQUIRED.
      const forged = `bbh_${apiKey.id}_${'A'.repeat(43)}`;
      for (const token of [forged, `bbh_${'0'.repeat(16)}_${key.slice(21)}`, `${key}x`, key.slice(0, -1)]) {
        await assert.rejects(authenticate(bearer(token), node), refusedWith('AUTH_REQUIRED'));
      }
      assert.equal(keys.hasVerified(forged), false);

      clock.advance(5000);
      const revoked = await keys.revoke(apiKey.id);
      assert.equal(revoked.revokedAt, clock.now);
      assert.equal(keys.hasVerified(key), false);
      await assert.rejects(authenticate(bearer(key), node), refusedWith('AUTH_REQUIRED'));
      await assert.rejects(keys.revoke(apiKey.id), refusedWith('API_KEY_NOT_FOUND'));
      await assert.rejects(keys.revoke('0123456789abcdef'), refusedWith('API_KEY_NOT_FOUND'));
      const listed = await keys.list(account.id);
      assert.deepEqual(
        listed.map((listedKey) => [listedKey.id, listedKey.revokedAt]),
        [[apiKey.id, clock.now]],
      );
      await assert.rejects(keys.create(account.id, '   '), refusedWith('REQUEST_INVALID'));
    } finally {
      await node.close();
    }
  });
});

test('isApiKeyRequest / apiKeyIdOf: a syntactic check of the bearer token, no lookup', () => {
  const key = `bbh_0123456789abcdef_${'a'.repeat(43)}`;
  assert.equal(apiKeyIdOf({ headers: { authorization: `Bearer ${key}` } }), '0123456789abcdef');
  assert.equal(isApiKeyRequest({ headers: { authorization: `bearer  ${key} ` } }), true);
  assert.equal(isApiKeyRequest({ headers: { authorization: `Bearer bub_${'a'.repeat(43)}` } }), false);
  assert.equal(isApiKeyRequest({ headers: { authorization: key } }), false);
  assert.equal(isApiKeyRequest({ headers: {} }), false);
});

const cliMain = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function bubuh(
  dataDir: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `import(${JSON.stringify(cliMain)}).then((m) => m.runCli(process.argv.slice(1)))`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', script, '--', ...args],
      { env: { PATH: process.env['PATH'], BUBUH_DATA_DIR: dataDir, LOG_LEVEL: 'silent' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

// The CLI runs against the data directory's SQLite database; the store itself is covered on both
// backends above.
test('bubuh accounts api-key create --phone P --name N prints the key once; revoke ID ends it', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  try {
    const node = await openTestNode(backend);
    const { account } = await accountStoreOf(node).findOrCreate('+6281234567890');
    await node.close();
    const dir = backend.openOptions.dataDir;

    const created = await bubuh(dir, [
      'accounts',
      'api-key',
      'create',
      '--phone',
      '0812-3456-7890',
      '--name',
      'Koperasi',
    ]);
    assert.equal(created.stderr, '');
    assert.equal(created.code, 0);
    const match =
      /^API key ([0-9a-f]{16}) "Koperasi" for \+6281234567890 \(account ([0-9a-f]{32})\):\n {2}(bbh_\1_[A-Za-z0-9_-]{43})\nThis is the only time the key is shown; store it now\. Send it as "Authorization: Bearer <key>"\.\n$/.exec(
        created.stdout,
      );
    assert.ok(match, created.stdout);
    const [, id, accountId, key] = match;
    assert.equal(accountId, account.id);

    const json = await bubuh(dir, [
      'accounts',
      'api-key',
      'create',
      '--phone',
      '081234567890',
      '--name',
      'Second',
      '--json',
    ]);
    const second = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(second), ['id', 'account_id', 'phone', 'name', 'key']);
    assert.equal(second['name'], 'Second');
    assert.equal(second['key']?.startsWith(`bbh_${second['id']}_`), true);

    const check = await openTestNode(backend);
    try {
      assert.equal((await authenticate(bearer(key!), check)).apiKeyId, id);
      const revoked = await bubuh(dir, ['accounts', 'api-key', 'revoke', id!]);
      assert.equal(revoked.stderr, '');
      assert.equal(revoked.stdout, `API key ${id} "Koperasi" of account ${account.id} revoked\n`);
      assert.equal(revoked.code, 0);
      await assert.rejects(authenticate(bearer(key!), check), refusedWith('AUTH_REQUIRED'));
      // The other key still works.
      assert.equal((await authenticate(bearer(second['key']!), check)).apiKeyId, second['id']);
    } finally {
      await check.close();
    }

    const again = await bubuh(dir, ['accounts', 'api-key', 'revoke', id!]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`^API_KEY_NOT_FOUND: There is no active API key with id ${id}\\.`));
    const nobody = await bubuh(dir, [
      'accounts',
      'api-key',
      'create',
      '--phone',
      '081299999999',
      '--name',
      'X',
    ]);
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /^ACCOUNT_NOT_FOUND: There is no account with the number \+6281299999999\./);
    const noAction = await bubuh(dir, ['accounts', 'api-key']);
    assert.equal(noAction.code, 2);
    assert.match(noAction.stderr, /^REQUEST_INVALID: The request is not valid: say what to do/);
  } finally {
    await disposeBackend(backend);
  }
});

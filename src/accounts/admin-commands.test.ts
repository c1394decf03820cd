import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { disposeBackend, openFreshBackend } from '../testing/backends.js';
import { accountStoreOf } from './authenticate.js';
import { openTestNode } from './test-node.js';

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

// The command runs against the data directory's SQLite database (the CLI cannot be pointed at a
// test's private PostgreSQL schema); the role edit itself is covered on both in authenticate.test.
test('bubuh admin role --phone P --add/--remove ROLE', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  try {
    const node = await openTestNode(backend);
    const { account } = await accountStoreOf(node).findOrCreate('+6281234567890');
    await node.close();
    const dir = backend.openOptions.dataDir;

    const added = await bubuh(dir, [
      'admin',
      'role',
      '--phone',
      '0812-3456-7890',
      '--add',
      'platform_operator',
    ]);
    assert.equal(added.stderr, '');
    assert.equal(added.stdout, `+6281234567890 (account ${account.id}): roles customer, platform_operator\n`);
    assert.equal(added.code, 0);
    const removed = await bubuh(dir, [
      'admin',
      'role',
      '--phone',
      '+6281234567890',
      '--remove',
      'customer',
      '--json',
    ]);
    assert.deepEqual(JSON.parse(removed.stdout), {
      id: account.id,
      phone: '+6281234567890',
      roles: ['platform_operator'],
    });

    const unknownRole = await bubuh(dir, ['admin', 'role', '--phone', '081234567890', '--add', 'root']);
    assert.equal(unknownRole.code, 2);
    assert.equal(
      unknownRole.stderr,
      'ROLE_INVALID: Unknown role "root". Roles: customer, channel_operator, platform_operator, issuer.\n',
    );
    const nobody = await bubuh(dir, ['admin', 'role', '--phone', '081299999999', '--add', 'issuer']);
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, /^ACCOUNT_NOT_FOUND: There is no account with the number \+6281299999999\./);
    const both = await bubuh(dir, [
      'admin',
      'role',
      '--phone',
      '081234567890',
      '--add',
      'issuer',
      '--remove',
      'issuer',
    ]);
    assert.equal(both.code, 2);
    assert.equal(
      both.stderr,
      'REQUEST_INVALID: The request is not valid: give exactly one of --add ROLE or --remove ROLE.\n',
    );
  } finally {
    await disposeBackend(backend);
  }
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function bubuh(dataDir: string, ...args: string[]) {
  const script = `import(${JSON.stringify(main)}).then((m) => m.runCli(process.argv.slice(1)))`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['-e', script, '--', ...args, '--data', dataDir], {
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('bubuh admin mint and allocate move stock by ledger transfers; refusals exit 2', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-admin-'));
  try {
    const minted = await bubuh(dataDir, 'admin', 'mint', '--quantity', '100', '--json');
    assert.equal(minted.code, 0, minted.stderr);
    const mintedJson = JSON.parse(minted.stdout);
    assert.equal(mintedJson.minted, 100);
    assert.equal(mintedJson.operator_stock, 100);
    const allocated = await bubuh(
      dataDir,
      'admin',
      'allocate',
      '--channel',
      'pos-bandung',
      '--quantity',
      '40',
      '--fee',
      '2500',
      '--json',
    );
    assert.equal(allocated.code, 0, allocated.stderr);
    const allocatedJson = JSON.parse(allocated.stdout);
    assert.equal(allocatedJson.channel_stock, 40);
    assert.equal(allocatedJson.fee_rupiah, 2500);
    const tooMuch = await bubuh(dataDir, 'admin', 'allocate', '--channel', 'pos-bandung', '--quantity', '61');
    assert.equal(tooMuch.code, 2);
    assert.equal(
      tooMuch.stderr,
      'STOCK_INSUFFICIENT: operator:stock does not hold 61 units (60 available).\n',
    );
    const notNumber = await bubuh(dataDir, 'admin', 'mint', '--quantity', 'x');
    assert.equal(notNumber.code, 2);
    assert.match(notNumber.stderr, /^REQUEST_INVALID: /);
    const check = await bubuh(dataDir, 'ledger', 'check', '--json');
    assert.equal(check.code, 0, check.stdout);
    const report = JSON.parse(check.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.transfers, 2);
    assert.equal(report.totals.creditsPosted, 140);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

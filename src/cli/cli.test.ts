/** The `bubuh` command as a person runs it: real processes, real exit codes, real sockets. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../testing/corpus.js';

const bin = join(repositoryRoot(), 'bin', 'bubuh.js');

function bubuh(args: string[], environment: Record<string, string> = {}) {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...inherited, LOG_LEVEL: 'silent', ...environment },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

test('a wrong setting stops with exit 2 and a message naming it, never a stack trace', () => {
  const result = bubuh(['config'], { PORT: 'abc' });
  assert.equal(result.status, 2);
  assert.equal(
    result.stderr,
    'CONFIG_INVALID: Invalid configuration: PORT — "abc" is not a whole number (allowed: 0..65535). Fix the value and start again.\n',
  );
});

test('migrate and ledger check on a fresh data directory', () => {
  const data = mkdtempSync(join(tmpdir(), 'bubuh-cli-'));
  const migrated = bubuh(['migrate', '--data', data]);
  assert.equal(migrated.status, 0, migrated.stderr);
  assert.equal(
    migrated.stdout,
    `sqlite ${join(data, 'bubuh.sqlite')}: schema at 0010_partial_stamps_batch_index\n`,
  );
  const checked = bubuh(['ledger', 'check', '--data', data, '--json']);
  assert.equal(checked.status, 0, checked.stderr);
  assert.deepEqual(JSON.parse(checked.stdout), {
    ok: true,
    accounts: 0,
    transfers: 0,
    pendingOpen: 0,
    totals: { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 },
    problems: [],
  });
  const unknown = bubuh(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stdout, /^usage: bubuh <command>/);
});

test('bubuh serve answers /healthz and /readyz on a real socket and stops cleanly on SIGTERM', async () => {
  const data = mkdtempSync(join(tmpdir(), 'bubuh-serve-'));
  const port = await freePort();
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...inherited, BUBUH_DATA_DIR: data, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const output = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('bubuh is serving')) resolve(output);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    // Started as `node bin/bubuh.js serve`, without the options `npm start` gives it: it says so.
    const warning = output
      .split('\n')
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : {}))
      .find((entry) => 'missing' in entry);
    assert.deepEqual(
      { level: warning?.['level'], missing: warning?.['missing'], msg: warning?.['msg'] },
      {
        level: 40,
        missing: ['--v8-pool-size=0', '--max-semi-space-size=64'],
        msg: 'started without the Node options bubuh serve is meant to run with (npm start uses them): node --v8-pool-size=0 --max-semi-space-size=64 bin/bubuh.js serve',
      },
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready', storage: 'sqlite', ledger_queue_depth: 0 });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

test('bubuh stamp: stamps, registers the serial, spends one unit; a refusal exits 2 and spends none', async () => {
  const { minimalPdf } = await import('../pdf/fixture-builder.js');
  const { openStorage } = await import('../storage/database.js');
  const data = mkdtempSync(join(tmpdir(), 'bubuh-stamp-'));
  const input = join(data, 'letter.pdf');
  const output = join(data, 'letter-stamped.pdf');
  const original = minimalPdf('/MediaBox [0 0 595 842]');
  writeFileSync(input, original);
  const stamped = bubuh([
    'stamp',
    input,
    '-o',
    output,
    '--data',
    data,
    '--json',
    '--reason',
    'Surat Pernyataan',
  ]);
  assert.equal(stamped.status, 0, stamped.stderr);
  const report = JSON.parse(stamped.stdout) as Record<string, unknown>;
  assert.match(String(report['serial']), /^[0-9A-Z]{22}$/);
  assert.deepEqual(
    { ...report, serial: 'S', added_bytes: typeof report['added_bytes'] },
    { serial: 'S', page: 1, added_bytes: 'number', normalised: false, output, quota_left: 999 },
  );
  const bytes = new Uint8Array(readFileSync(output));
  assert.deepEqual(bytes.subarray(0, original.length), original);

  const refused = bubuh(['stamp', input, '-o', join(data, 'x.pdf'), '--data', data, '--at', '590,10']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^SEAL_OUT_OF_PAGE: The seal position is not fully on the visible page/);
  const badArgument = bubuh(['stamp', input, '-o', join(data, 'x.pdf'), '--data', data, '--at', 'left']);
  assert.equal(
    badArgument.stderr,
    'REQUEST_INVALID: The request is not valid: --at takes X,Y in points, not "left".\n',
  );
  const missing = bubuh(['stamp', join(data, 'nope.pdf'), '-o', join(data, 'x.pdf'), '--data', data]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^INPUT_FILE_UNREADABLE: /);

  const storage = await openStorage({ dataDir: data });
  const rows = await storage.db.selectFrom('stamp_registry').select(['serial', 'page', 'status']).execute();
  assert.deepEqual(rows, [{ serial: report['serial'], page: 1, status: 'valid' }]);
  await storage.close();
  const checked = bubuh(['ledger', 'check', '--data', data, '--json']);
  assert.equal(checked.status, 0);
  const ledger = JSON.parse(checked.stdout) as { totals: { debitsPosted: number }; pendingOpen: number };
  assert.deepEqual([ledger.totals.debitsPosted, ledger.pendingOpen], [1001, 0]);
});

test('bubuh verify: valid under the data directory root, untrusted elsewhere, invalid when altered', async () => {
  const { minimalPdf } = await import('../pdf/fixture-builder.js');
  const data = mkdtempSync(join(tmpdir(), 'bubuh-verify-'));
  const input = join(data, 'letter.pdf');
  const output = join(data, 'stamped.pdf');
  writeFileSync(input, minimalPdf('/MediaBox [0 0 595 842]'));
  assert.equal(bubuh(['stamp', input, '-o', output, '--data', data]).status, 0);

  const valid = bubuh(['verify', output, '--data', data, '--json']);
  assert.equal(valid.status, 0, valid.stderr);
  const report = JSON.parse(valid.stdout) as { verdict: string; signatures: { isEmeterai: boolean }[] };
  assert.equal(report.verdict, 'valid');
  assert.deepEqual(
    report.signatures.map((s) => s.isEmeterai),
    [true],
  );
  const elsewhere = bubuh([
    'verify',
    output,
    '--data',
    mkdtempSync(join(tmpdir(), 'bubuh-other-')),
    '--json',
  ]);
  assert.equal(elsewhere.status, 1);
  assert.equal((JSON.parse(elsewhere.stdout) as { verdict: string }).verdict, 'untrusted');
  const trusted = bubuh([
    'verify',
    output,
    '--data',
    mkdtempSync(join(tmpdir(), 'bubuh-other-')),
    '--trust',
    join(data, 'pki', 'root.pem'),
  ]);
  assert.equal(trusted.status, 0, trusted.stdout);

  const altered = new Uint8Array(readFileSync(output));
  altered[100] = altered[100]! ^ 1;
  writeFileSync(join(data, 'altered.pdf'), altered);
  const invalid = bubuh(['verify', join(data, 'altered.pdf'), '--data', data, '--json']);
  assert.equal(invalid.status, 1);
  assert.equal((JSON.parse(invalid.stdout) as { verdict: string }).verdict, 'invalid');
  writeFileSync(join(data, 'garbage.pdf'), 'hello');
  const unreadable = bubuh(['verify', join(data, 'garbage.pdf'), '--data', data]);
  assert.equal(unreadable.status, 2);
  assert.match(unreadable.stderr, /^PDF_NOT_PDF: /);
});

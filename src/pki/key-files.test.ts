import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBubuhError } from '../errors.js';
import { certificateSerialOf } from './crl.js';
import { loadOrCreateDevPki, pkiDirectory, readPrivateKeyFile } from './key-files.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const posixModes = process.platform !== 'win32';

function temporaryDataDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'bubuh-pki-'));
}

test('the hierarchy is generated once per data directory and then reused', async (t) => {
  const dataDirectory = temporaryDataDirectory();
  t.after(() => rmSync(dataDirectory, { recursive: true, force: true }));
  const first = await loadOrCreateDevPki(dataDirectory);
  assert.equal(first.created, true);
  assert.equal(first.pki.signerAlgorithm, 'ECDSA-P256-SHA256');
  const directory = pkiDirectory(dataDirectory);
  assert.deepEqual(readdirSync(directory).sort(), [
    'ca.key',
    'ca.pem',
    'issued',
    'root.key',
    'root.pem',
    'signer.key',
    'signer.pem',
    'tsa.key',
    'tsa.pem',
  ]);
  // Every certificate the issuing CA issued is kept by serial, so it can be revoked after rotation.
  assert.deepEqual(
    readdirSync(join(directory, 'issued')).sort(),
    [first.pki.signer.certificate, first.pki.tsa.certificate]
      .map((der) => `${certificateSerialOf(der)}.pem`)
      .sort(),
  );
  if (posixModes) {
    for (const key of ['root.key', 'ca.key', 'signer.key']) {
      assert.equal(statSync(join(directory, key)).mode & 0o777, 0o600, key);
    }
    assert.equal(statSync(directory).mode & 0o077, 0, 'the directory is private');
  }
  assert.match(readFileSync(join(directory, 'signer.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  const second = await loadOrCreateDevPki(dataDirectory);
  assert.equal(second.created, false);
  assert.equal(second.signerRenewed, false);
  assert.deepEqual(second.pki.root.certificate, first.pki.root.certificate);
  assert.deepEqual(second.pki.signer.certificate, first.pki.signer.certificate);
  assert.equal(second.pki.signer.privateKeyPem, first.pki.signer.privateKeyPem);
});

test('a signer certificate near its end, or of another key algorithm, is renewed from the same CA', async (t) => {
  const dataDirectory = temporaryDataDirectory();
  t.after(() => rmSync(dataDirectory, { recursive: true, force: true }));
  const first = await loadOrCreateDevPki(dataDirectory, { validityDays: 30 });
  const nearEnd = await loadOrCreateDevPki(dataDirectory, { now: new Date(Date.now() + 29.5 * DAY_MS) });
  assert.equal(nearEnd.signerRenewed, true);
  assert.deepEqual(nearEnd.pki.issuingCa.certificate, first.pki.issuingCa.certificate);
  assert.notDeepEqual(nearEnd.pki.signer.certificate, first.pki.signer.certificate);
  const rsa = await loadOrCreateDevPki(dataDirectory, { keyAlgorithm: 'RSA-2048' });
  assert.equal(rsa.signerRenewed, true);
  assert.equal(rsa.pki.signerAlgorithm, 'RSA-PKCS1-SHA256');
  const reloaded = await loadOrCreateDevPki(dataDirectory);
  assert.equal(reloaded.signerRenewed, false);
  assert.equal(reloaded.pki.signerAlgorithm, 'RSA-PKCS1-SHA256');
  assert.deepEqual(reloaded.pki.signer.certificate, rsa.pki.signer.certificate);
});

test('a key file that group or others can access is refused with KEY_FILE_PERMISSIONS', async (t) => {
  if (!posixModes) return t.skip('file mode bits do not exist on Windows');
  const dataDirectory = temporaryDataDirectory();
  t.after(() => rmSync(dataDirectory, { recursive: true, force: true }));
  await loadOrCreateDevPki(dataDirectory);
  const keyPath = join(pkiDirectory(dataDirectory), 'signer.key');
  for (const mode of [0o640, 0o604, 0o644, 0o620, 0o602]) {
    chmodSync(keyPath, mode);
    await assert.rejects(loadOrCreateDevPki(dataDirectory), (error) => {
      assert.ok(isBubuhError(error));
      assert.equal(error.code, 'KEY_FILE_PERMISSIONS');
      assert.deepEqual(error.details, { path: keyPath, mode: `0${mode.toString(8)}` });
      assert.equal(
        error.message,
        `The key file ${keyPath} can be accessed by group or others (mode 0${mode.toString(8)}). Run \`chmod 600 ${keyPath}\` and start again.`,
      );
      return true;
    });
  }
  chmodSync(keyPath, 0o400);
  assert.match(await readPrivateKeyFile(keyPath), /PRIVATE KEY/);
  chmodSync(keyPath, 0o600);
  assert.equal((await loadOrCreateDevPki(dataDirectory)).created, false);
});

test('a damaged certificate file is refused with KEY_FILE_INVALID', async (t) => {
  const dataDirectory = temporaryDataDirectory();
  t.after(() => rmSync(dataDirectory, { recursive: true, force: true }));
  await loadOrCreateDevPki(dataDirectory);
  const certificatePath = join(pkiDirectory(dataDirectory), 'ca.pem');
  writeFileSync(certificatePath, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  await assert.rejects(loadOrCreateDevPki(dataDirectory), (error) => {
    assert.ok(isBubuhError(error));
    assert.equal(error.code, 'KEY_FILE_INVALID');
    assert.equal(error.details['path'], certificatePath);
    return true;
  });
});

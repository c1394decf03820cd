/**
 * The node's signer through BUBUH_KEYSTORE: `files` signs with the development `signer.key` as before;
 * `pkcs11` generates the key in a throw-away SoftHSM2 token on first start, has the development
 * issuing CA certify it, reuses that certificate on the next start, renews it near its end, and never
 * writes the key to disk. A development node configured for the token issues a stamp the verifier
 * accepts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { verify, X509Certificate } from 'node:crypto';
import { describeConfig, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { createNodeStamper } from '../services/node-stamper.js';
import { provisionDevelopmentQuota } from '../services/provision-development.js';
import { verifyDocument } from '../verify/verify-document.js';
import { createConfiguredSigner, pkcs11CertificatePath } from './configured-signer.js';
import { certificateSerialOf } from './crl.js';
import { loadOrCreateDevPki, pkiDirectory } from './key-files.js';
import { createSoftHsmTokens, type SoftHsmTokens, softHsmSkipReason } from './testing/softhsm.js';

const skipReason = softHsmSkipReason();
const TOKEN = { label: 'bubuh-node', pin: '424242' };
const DAY_MS = 24 * 60 * 60 * 1000;
let tokens: SoftHsmTokens | null = null;
const directories: string[] = [];

before(() => {
  if (skipReason !== null) return;
  tokens = createSoftHsmTokens();
  tokens.initToken(TOKEN.label, TOKEN.pin);
});

after(() => {
  tokens?.remove();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function dataDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'bubuh-configured-signer-'));
  directories.push(directory);
  return directory;
}

function pkcs11Config(dataDir: string, keyLabel: string) {
  return loadConfig(
    {},
    {
      BUBUH_DATA_DIR: dataDir,
      BUBUH_MODE: 'development',
      BUBUH_KEYSTORE: 'pkcs11',
      BUBUH_PKCS11_MODULE: tokens!.modulePath,
      BUBUH_PKCS11_TOKEN_LABEL: TOKEN.label,
      BUBUH_PKCS11_PIN: TOKEN.pin,
      BUBUH_PKCS11_KEY_LABEL: keyLabel,
    },
  );
}

function signs(certificate: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  return verify(
    'sha256',
    data,
    { key: new X509Certificate(certificate).publicKey, dsaEncoding: 'der' },
    signature,
  );
}

test('key store settings: files by default, the PIN redacted whole by `bubuh config`', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.keyStore, 'files');
  assert.equal(defaults.pkcs11KeyLabel, 'bubuh-signer');
  assert.equal(defaults.pkcs11Pin, undefined);
  const config = loadConfig({ BUBUH_KEYSTORE: 'pkcs11', BUBUH_PKCS11_PIN: 'user:pin@1234' });
  assert.equal(config.pkcs11Pin, 'user:pin@1234');
  assert.equal(describeConfig(config)['BUBUH_PKCS11_PIN']?.value, 'REDACTED');
  assert.throws(() => loadConfig({ BUBUH_KEYSTORE: 'hsm' }), {
    code: 'CONFIG_INVALID',
    details: { variable: 'BUBUH_KEYSTORE', problem: '"hsm" is not one of files, pkcs11' },
  });
});

test('files (the default): the development signer.key signs, with its certificate', async () => {
  const dataDir = await dataDirectory();
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir });
  assert.equal(config.keyStore, 'files');
  const { pki } = await loadOrCreateDevPki(dataDir);
  const configured = await createConfiguredSigner(config, pki);
  try {
    assert.equal(configured.keyStore.kind, 'files');
    assert.deepEqual(configured.signer.certificate, pki.signer.certificate);
    assert.deepEqual(configured.signer.chain, [pki.issuingCa.certificate]);
    const data = Buffer.from('files store');
    assert.equal(signs(pki.signer.certificate, data, await configured.signer.sign(data)), true);
  } finally {
    await configured.keyStore.close();
  }
});

test('pkcs11 without its settings is CONFIG_INVALID naming the first one missing', async () => {
  const dataDir = await dataDirectory();
  const { pki } = await loadOrCreateDevPki(dataDir);
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_KEYSTORE: 'pkcs11' });
  await assert.rejects(createConfiguredSigner(config, pki), {
    code: 'CONFIG_INVALID',
    details: { variable: 'BUBUH_PKCS11_MODULE', problem: 'required with BUBUH_KEYSTORE=pkcs11' },
  });
});

test('pkcs11: key generated in the token on first start, certificate issued once and renewed near its end', async (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const dataDir = await dataDirectory();
  const { pki } = await loadOrCreateDevPki(dataDir);
  const keyFilesBefore = readdirSync(pkiDirectory(dataDir)).filter((name) => name.endsWith('.key'));
  const config = pkcs11Config(dataDir, 'node-signer-lifecycle');
  const now = new Date();

  const first = await createConfiguredSigner(config, pki, { now });
  const spki = await first.keyStore.publicKey('node-signer-lifecycle');
  await first.keyStore.close();
  assert.equal(first.keyStore.kind, 'pkcs11');
  assert.equal(first.keyGenerated, true);
  assert.equal(first.certificateIssued, true);
  const saved = new X509Certificate(readFileSync(pkcs11CertificatePath(dataDir, 'node-signer-lifecycle')));
  assert.deepEqual(new Uint8Array(saved.raw), first.signer.certificate);
  assert.deepEqual(new Uint8Array(saved.publicKey.export({ type: 'spki', format: 'der' })), spki);
  assert.equal(saved.checkIssued(new X509Certificate(pki.issuingCa.certificate)), true);
  assert.equal(saved.subject.includes('NOT FOR PRODUCTION'), true);
  const archived = readFileSync(
    join(pkiDirectory(dataDir), 'issued', `${certificateSerialOf(new Uint8Array(saved.raw))}.pem`),
  );
  assert.deepEqual(new X509Certificate(archived).raw, saved.raw);
  // The only new file is the certificate: no key file, and no file holds a private key it did not before.
  const keyFilesAfter = readdirSync(pkiDirectory(dataDir)).filter((name) => name.endsWith('.key'));
  assert.deepEqual(keyFilesAfter, keyFilesBefore);
  for (const name of readdirSync(pkiDirectory(dataDir)).filter((entry) => entry.startsWith('pkcs11-'))) {
    assert.doesNotMatch(readFileSync(join(pkiDirectory(dataDir), name), 'utf8'), /PRIVATE KEY/);
  }

  const second = await createConfiguredSigner(config, pki, { now: new Date(now.getTime() + DAY_MS) });
  try {
    assert.equal(second.keyGenerated, false);
    assert.equal(second.certificateIssued, false);
    assert.deepEqual(second.signer.certificate, first.signer.certificate);
    const data = Buffer.from('second start');
    assert.equal(signs(second.signer.certificate, data, await second.signer.sign(data)), true);
  } finally {
    await second.keyStore.close();
  }

  // Inside the last day of the certificate's life: a new certificate for the same token key.
  const late = new Date(new Date(saved.validTo).getTime() - DAY_MS / 2);
  const third = await createConfiguredSigner(config, pki, { now: late });
  try {
    assert.equal(third.keyGenerated, false);
    assert.equal(third.certificateIssued, true);
    assert.notDeepEqual(third.signer.certificate, first.signer.certificate);
    const renewed = new X509Certificate(third.signer.certificate);
    assert.deepEqual(new Uint8Array(renewed.publicKey.export({ type: 'spki', format: 'der' })), spki);
  } finally {
    await third.keyStore.close();
  }
});

test('pkcs11: a development node issues a stamp signed in the token, valid for the verifier', async (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const dataDir = await dataDirectory();
  const config = pkcs11Config(dataDir, 'node-signer-stamp');
  const node = await createNode(config, createLogger('silent'));
  try {
    const stamper = await createNodeStamper(config, node.ledger);
    try {
      const quota = await provisionDevelopmentQuota(node.ledger);
      const stamped = await stamper.issue({ pdf: minimalPdf(), quotaAccountId: quota.accountId });
      const { pki } = await loadOrCreateDevPki(dataDir);
      const certificate = readFileSync(pkcs11CertificatePath(dataDir, 'node-signer-stamp'));
      const report = await verifyDocument(stamped.pdf, { trustAnchors: [pki.root.certificate] });
      assert.equal(report.verdict, 'valid', JSON.stringify(report.reasons));
      assert.equal(
        report.signatures[0]!.signerSubject,
        new X509Certificate(certificate).subject.split('\n').join(', '),
      );
    } finally {
      await stamper.close();
    }
  } finally {
    await node.close();
  }
});

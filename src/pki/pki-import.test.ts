/**
 * `bubuh pki import`: a production hierarchy made elsewhere (here: in the test, with @peculiar/x509) is
 * checked and installed without its root key; a production node then issues its own signer from the
 * imported CA and stamps, and the stamp verifies against that root. Each refusal has its code and
 * leaves the directory exactly as it was. A running node renews its signer when it nears its end.
 */
import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../config.js';
import { isBubuhError } from '../errors.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { createStampEnvironment } from '../services/node-stamper.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { testSerial, testVerifyUrl } from '../stamping/testing/stamp-fixtures.js';
import { verifyDocument } from '../verify/verify-document.js';
import { generateDevPki } from './dev-pki.js';
import { pkiDirectory } from './key-files.js';
import { checkPkiImport, importPki, type PkiImportFiles } from './pki-import.js';
import { createSignerRenewal } from './signer-renewal.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const DAY_MS = 24 * 60 * 60 * 1000;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const ROOT_SUBJECT = 'CN=Test Production Root, O=Test, C=ID';
const CA_SUBJECT = 'CN=Test Production Issuing CA, O=Test, C=ID';
const directories: string[] = [];

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'bubuh-pki-import-'));
  directories.push(directory);
  return directory;
}

async function keys(algorithm: 'P-256' | 'RSA' = 'P-256'): Promise<CryptoKeyPair> {
  const parameters =
    algorithm === 'P-256'
      ? ECDSA
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: Uint8Array.of(1, 0, 1),
          hash: 'SHA-256',
        };
  return (await webcrypto.subtle.generateKey(parameters, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(pair: CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey), 'PRIVATE KEY');
}

function signingAlgorithmOf(pair: CryptoKeyPair) {
  return pair.privateKey.algorithm.name === 'ECDSA'
    ? { name: 'ECDSA', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5' };
}

async function makeRoot(pair: CryptoKeyPair, now: Date): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: ROOT_SUBJECT,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    keys: pair,
    signingAlgorithm: signingAlgorithmOf(pair),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
}

async function makeIssued(
  issuer: { certificate: x509.X509Certificate; keys: CryptoKeyPair },
  publicKey: webcrypto.CryptoKey,
  options: {
    subject?: string;
    ca?: boolean;
    notBefore?: Date;
    notAfter?: Date;
    extendedKeyUsage?: { usages: string[]; critical: boolean };
  },
): Promise<x509.X509Certificate> {
  const now = Date.now();
  const extensions: x509.Extension[] = [];
  if (options.ca !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(options.ca, options.ca ? 0 : undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(
        options.ca
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    );
  }
  if (options.extendedKeyUsage)
    extensions.push(
      new x509.ExtendedKeyUsageExtension(options.extendedKeyUsage.usages, options.extendedKeyUsage.critical),
    );
  return x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8)))
      .toString('hex')
      .replace(/^./, '1'),
    subject: options.subject ?? CA_SUBJECT,
    issuer: issuer.certificate.subject,
    notBefore: options.notBefore ?? new Date(now - DAY_MS),
    notAfter: options.notAfter ?? new Date(now + 1000 * DAY_MS),
    publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithmOf(issuer.keys),
    extensions,
  });
}

interface Hierarchy {
  readonly root: { certificate: x509.X509Certificate; keys: CryptoKeyPair };
  readonly ca: { certificate: x509.X509Certificate; keys: CryptoKeyPair };
}

async function hierarchy(): Promise<Hierarchy> {
  const rootKeys = await keys();
  const root = { certificate: await makeRoot(rootKeys, new Date()), keys: rootKeys };
  const caKeys = await keys();
  const ca = { certificate: await makeIssued(root, caKeys.publicKey, { ca: true }), keys: caKeys };
  return { root, ca };
}

/** Writes the given PEM texts to files and returns their paths as import input. */
async function inputFiles(texts: {
  root: string;
  ca: string;
  caKey: string;
  tsa?: string;
  tsaKey?: string;
}): Promise<PkiImportFiles> {
  const directory = await temporaryDirectory();
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(texts)) {
    const path = join(directory, `${name}.pem`);
    await writeFile(path, text, { mode: 0o600 });
    files[name] = path;
  }
  return files as unknown as PkiImportFiles;
}

async function filesOf(h: Hierarchy): Promise<PkiImportFiles> {
  return inputFiles({
    root: h.root.certificate.toString('pem'),
    ca: h.ca.certificate.toString('pem'),
    caKey: await keyPem(h.ca.keys),
  });
}

function productionConfig(dataDir: string, pkiDir: string, extra: Record<string, string> = {}) {
  return loadConfig(
    {},
    {
      BUBUH_DATA_DIR: dataDir,
      BUBUH_PKI_DIR: pkiDir,
      BUBUH_MODE: 'production',
      BUBUH_NODE_ID: 'node-a',
      BUBUH_WHATSAPP_CHANNEL: 'http',
      BUBUH_WHATSAPP_URL: 'https://wa.example',
      BUBUH_WHATSAPP_SECRET: 's'.repeat(32),
      ...extra,
    },
  );
}

/** Every file under a directory with its bytes (hex), sorted: "unchanged" means this is equal. */
function snapshot(directory: string): [string, string][] {
  const found: [string, string][] = [];
  const walk = (path: string, prefix: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
      else found.push([`${prefix}${name}`, readFileSync(full).toString('hex')]);
    }
  };
  walk(directory, '');
  return found;
}

async function refusalOf(work: () => Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    await work();
  } catch (error) {
    if (isBubuhError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  assert.fail('expected a refusal');
}

async function stampWith(environment: Awaited<ReturnType<typeof createStampEnvironment>>, at: Date) {
  return stampDocument(
    { pdf: minimalPdf(), serial: testSerial, verifyUrl: testVerifyUrl, signingTime: at },
    environment.environment,
  );
}

test('an imported hierarchy: no root key installed, the node issues its signer and its stamps chain to the root', async () => {
  const h = await hierarchy();
  const dataDir = await temporaryDirectory();
  const shared = join(await temporaryDirectory(), 'shared-pki');
  const config = productionConfig(dataDir, shared);

  // Before the import a production node has no PKI.
  assert.equal((await refusalOf(() => createStampEnvironment(config))).code, 'PKI_NOT_CONFIGURED');

  const imported = await importPki({ shared, node: pkiDirectory(dataDir) }, await filesOf(h));
  assert.equal(imported.tsaIssued, true);
  assert.deepEqual(readdirSync(shared).sort(), [
    'ca.key',
    'ca.pem',
    'issued',
    'root.pem',
    'tsa.key',
    'tsa.pem',
  ]);
  assert.equal(statSync(join(shared, 'ca.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(shared, 'tsa.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(shared, 'root.pem'), 'utf8'), h.root.certificate.toString('pem'));
  assert.equal(readFileSync(join(shared, 'ca.pem'), 'utf8'), h.ca.certificate.toString('pem'));
  const tsa = new x509.X509Certificate(readFileSync(join(shared, 'tsa.pem'), 'utf8'));
  assert.equal(tsa.subject, 'CN=bubuh Time-Stamping Authority, O=bubuh, C=ID');
  assert.equal(tsa.issuer, CA_SUBJECT);

  const built = await createStampEnvironment(config);
  try {
    const signer = new x509.X509Certificate(built.environment.signer.certificate);
    assert.equal(signer.subject, 'CN=bubuh Signer node-a, O=bubuh, C=ID');
    assert.equal(signer.issuer, CA_SUBJECT);
    assert.equal(
      new X509Certificate(built.environment.signer.certificate).verify(
        new X509Certificate(Buffer.from(h.ca.certificate.rawData)).publicKey,
      ),
      true,
    );
    // The node's signer lives in the node's own directory, the shared one got no signer files.
    assert.deepEqual(readdirSync(pkiDirectory(dataDir)).sort(), ['signer.key', 'signer.pem']);
    const stamped = await stampWith(built, new Date());
    const root = new Uint8Array(h.root.certificate.rawData);
    const report = await verifyDocument(stamped.pdf, { trustAnchors: [root] });
    assert.equal(report.verdict, 'valid', JSON.stringify(report.reasons));
    const otherRoot = (await generateDevPki()).root.certificate;
    assert.equal((await verifyDocument(stamped.pdf, { trustAnchors: [otherRoot] })).verdict, 'untrusted');
  } finally {
    await built.close();
  }

  // A second import over an installed hierarchy is refused and changes nothing.
  const before = snapshot(shared);
  const again = await refusalOf(async () =>
    importPki({ shared, node: pkiDirectory(dataDir) }, await filesOf(await hierarchy())),
  );
  assert.deepEqual(again, { code: 'PKI_IMPORT_EXISTS', details: { path: shared } });
  assert.deepEqual(snapshot(shared), before);
});

test('a TSA certificate and key given to the import are installed as they are', async () => {
  const h = await hierarchy();
  const tsaKeys = await keys('RSA');
  const tsa = await makeIssued(h.ca, tsaKeys.publicKey, {
    subject: 'CN=Test TSA, O=Test, C=ID',
    extendedKeyUsage: { usages: [x509.ExtendedKeyUsage.timeStamping], critical: true },
  });
  const shared = join(await temporaryDirectory(), 'pki');
  const files = await inputFiles({
    root: h.root.certificate.toString('pem'),
    ca: h.ca.certificate.toString('pem'),
    caKey: await keyPem(h.ca.keys),
    tsa: tsa.toString('pem'),
    tsaKey: await keyPem(tsaKeys),
  });
  const imported = await importPki(shared, files);
  assert.equal(imported.tsaIssued, false);
  assert.equal(readFileSync(join(shared, 'pki', 'tsa.pem'), 'utf8'), tsa.toString('pem'));
  assert.equal(readFileSync(join(shared, 'pki', 'tsa.key'), 'utf8'), `${await keyPem(tsaKeys)}\n`);
});

test('each refusal has its code and leaves the PKI directory exactly as it was', async () => {
  const h = await hierarchy();
  const other = await hierarchy();
  const caPem = h.ca.certificate.toString('pem');
  const rootPem = h.root.certificate.toString('pem');
  const caKey = await keyPem(h.ca.keys);
  const now = Date.now();
  const expiredCa = await makeIssued(h.root, h.ca.keys.publicKey, {
    ca: true,
    notBefore: new Date(now - 400 * DAY_MS),
    notAfter: new Date(now - DAY_MS),
  });
  const notCa = await makeIssued(h.root, h.ca.keys.publicKey, { ca: false });
  const rsaKeys = await keys('RSA');
  const rsaCa = await makeIssued(h.root, rsaKeys.publicKey, { ca: true });
  const badTsaKeys = await keys();
  const badTsa = await makeIssued(h.ca, badTsaKeys.publicKey, {
    subject: 'CN=Test TSA, O=Test, C=ID',
    extendedKeyUsage: { usages: [x509.ExtendedKeyUsage.timeStamping], critical: false },
  });

  const cases: [
    string,
    Parameters<typeof inputFiles>[0],
    { code: string; details: Record<string, string> },
  ][] = [
    [
      'CA not signed by the root',
      { root: rootPem, ca: other.ca.certificate.toString('pem'), caKey: await keyPem(other.ca.keys) },
      { code: 'PKI_IMPORT_CA_NOT_SIGNED_BY_ROOT', details: { subject: CA_SUBJECT, root: ROOT_SUBJECT } },
    ],
    [
      'key of another CA',
      { root: rootPem, ca: caPem, caKey: await keyPem(other.ca.keys) },
      { code: 'PKI_IMPORT_KEY_MISMATCH', details: { path: '', role: 'issuing CA', subject: CA_SUBJECT } },
    ],
    [
      'expired CA',
      { root: rootPem, ca: expiredCa.toString('pem'), caKey },
      {
        code: 'PKI_IMPORT_NOT_VALID_NOW',
        details: {
          role: 'issuing CA',
          subject: CA_SUBJECT,
          now: '',
          notBefore: expiredCa.notBefore.toISOString(),
          notAfter: expiredCa.notAfter.toISOString(),
        },
      },
    ],
    [
      'not a CA',
      { root: rootPem, ca: notCa.toString('pem'), caKey },
      {
        code: 'PKI_IMPORT_NOT_A_CA',
        details: { role: 'issuing CA', subject: CA_SUBJECT, problem: 'basicConstraints cA is false' },
      },
    ],
    [
      'root not self-signed',
      { root: caPem, ca: caPem, caKey },
      { code: 'PKI_IMPORT_ROOT_INVALID', details: { subject: CA_SUBJECT, problem: 'it is not self-signed' } },
    ],
    [
      'RSA issuing CA key',
      { root: rootPem, ca: rsaCa.toString('pem'), caKey: await keyPem(rsaKeys) },
      {
        code: 'PKI_IMPORT_KEY_UNSUPPORTED',
        details: { role: 'issuing CA', subject: CA_SUBJECT, problem: 'the key is RSA 2048 bits' },
      },
    ],
    [
      'TSA without a critical timeStamping usage',
      { root: rootPem, ca: caPem, caKey, tsa: badTsa.toString('pem'), tsaKey: await keyPem(badTsaKeys) },
      {
        code: 'PKI_IMPORT_TSA_INVALID',
        details: {
          subject: 'CN=Test TSA, O=Test, C=ID',
          problem:
            'its extended key usage must be exactly id-kp-timeStamping, marked critical (RFC 3161 §2.3)',
        },
      },
    ],
    [
      'a certificate file that is not one',
      { root: 'hello', ca: caPem, caKey },
      {
        code: 'PKI_IMPORT_FILE_INVALID',
        details: { path: '', role: 'root', problem: 'not an X.509 certificate (PEM or DER)' },
      },
    ],
  ];

  // A shared directory that already holds things (an archive, a CRL) but no hierarchy.
  const shared = join(await temporaryDirectory(), 'pki');
  await mkdir(join(shared, 'issued'), { recursive: true });
  await writeFile(join(shared, 'issued', '0abc.pem'), 'kept');
  await writeFile(join(shared, 'crl.der'), Uint8Array.of(1, 2, 3));
  const before = snapshot(shared);
  for (const [name, texts, expected] of cases) {
    const files = await inputFiles(texts);
    const refusal = await refusalOf(() => importPki(shared, files));
    const details = { ...(refusal.details as Record<string, string>) };
    // Paths and the current time vary per run: checked for what they are, then compared blank.
    if ('path' in expected.details) {
      assert.equal(details['path'], name === 'key of another CA' ? files.caKey : files.root, name);
      details['path'] = '';
    }
    if ('now' in expected.details) {
      assert.match(details['now'] ?? '', /^\d{4}-\d\d-\d\dT/, name);
      details['now'] = '';
    }
    assert.deepEqual({ code: refusal.code, details }, expected, name);
    assert.deepEqual(snapshot(shared), before, `${name}: directory unchanged`);
  }
  // The checks alone accept the good files and write nothing.
  const good = await checkPkiImport(await filesOf(h));
  assert.equal(good.tsaIssued, true);
  assert.deepEqual(snapshot(shared), before);
});

test('a running node renews its signer near expiry: new stamps use the new one, stamps in flight finish with the old', async () => {
  const h = await hierarchy();
  const dataDir = await temporaryDirectory();
  const shared = join(await temporaryDirectory(), 'pki');
  await importPki({ shared, node: pkiDirectory(dataDir) }, await filesOf(h));
  const config = productionConfig(dataDir, shared, { BUBUH_SIGNER_VALIDITY_DAYS: '3' });
  const t0 = Math.floor(Date.now() / 1000) * 1000; // certificates keep whole seconds
  let clock = t0;
  let builds = 0;
  const closed: string[] = [];
  const serialOf = (built: Awaited<ReturnType<typeof createStampEnvironment>>) =>
    new x509.X509Certificate(built.environment.signer.certificate).serialNumber;
  const renewal = createSignerRenewal({
    build: async (now) => {
      builds += 1;
      return createStampEnvironment(config, { now });
    },
    certificateOf: (built) => built.environment.signer.certificate,
    close: async (built) => {
      closed.push(serialOf(built));
      await built.close();
    },
    clock: () => clock,
  });

  const first = await renewal.use(async (built) => serialOf(built));
  assert.equal(builds, 1);
  // A stamp in flight holds the first signer while the clock passes into the renewal margin.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const inFlight = renewal.use(async (built) => {
    await gate;
    return { serial: serialOf(built), stamped: await stampWith(built, new Date(t0)) };
  });
  clock = t0 + 1.5 * DAY_MS; // still valid, but less than a day from the end of a 3-day certificate
  assert.equal(await renewal.use(async (built) => serialOf(built)), first);
  assert.equal(builds, 1);
  clock = t0 + 2.5 * DAY_MS;
  const [second, secondAgain] = await Promise.all([
    renewal.use(async (built) => ({ serial: serialOf(built), built })),
    renewal.use(async (built) => serialOf(built)),
  ]);
  assert.equal(builds, 2, 'two uses that found it due shared one build');
  assert.equal(renewal.renewals, 1);
  assert.notEqual(second.serial, first);
  assert.equal(secondAgain, second.serial);
  const renewed = new x509.X509Certificate(second.built.environment.signer.certificate);
  assert.equal(renewed.notBefore.getTime(), t0 + 2.5 * DAY_MS - 5 * 60 * 1000);
  assert.equal(renewed.notAfter.getTime(), t0 + 5.5 * DAY_MS);
  assert.equal(renewed.issuer, CA_SUBJECT);
  // Saved for the next start, and the old one archived so it can still be revoked.
  assert.equal(readFileSync(join(pkiDirectory(dataDir), 'signer.pem'), 'utf8'), renewed.toString('pem'));
  assert.deepEqual(closed, [], 'the old signer stays open while a stamp uses it');

  release();
  const old = await inFlight;
  assert.equal(old.serial, first);
  assert.deepEqual(closed, [first]);
  assert.equal(
    readdirSync(join(shared, 'issued')).filter((name) => name.endsWith('.pem')).length,
    3,
    'TSA, first and renewed signer',
  );
  const root = new Uint8Array(h.root.certificate.rawData);
  const oldReport = await verifyDocument(old.stamped.pdf, { trustAnchors: [root], now: new Date(t0) });
  assert.equal(oldReport.verdict, 'valid', JSON.stringify(oldReport.reasons));
  // The renewed certificate chains to the imported CA (its stamps are not verified here: the built-in
  // TSA stamps with the real clock, days before this certificate begins).
  assert.equal(
    new X509Certificate(second.built.environment.signer.certificate).verify(
      new X509Certificate(Buffer.from(h.ca.certificate.rawData)).publicKey,
    ),
    true,
  );
  await renewal.close();
  assert.deepEqual(closed, [first, second.serial]);
});

test('a failed renewal keeps the old signer while it is still valid, and fails once it has expired', async () => {
  const h = await hierarchy();
  const dataDir = await temporaryDirectory();
  const shared = join(await temporaryDirectory(), 'pki');
  await importPki({ shared, node: pkiDirectory(dataDir) }, await filesOf(h));
  const config = productionConfig(dataDir, shared, { BUBUH_SIGNER_VALIDITY_DAYS: '2' });
  const t0 = Date.now();
  let clock = t0;
  let failing = false;
  const renewal = createSignerRenewal({
    build: async (now) => {
      if (failing) throw new Error('the issuing CA is unreachable');
      return createStampEnvironment(config, { now });
    },
    certificateOf: (built) => built.environment.signer.certificate,
    close: (built) => built.close(),
    clock: () => clock,
  });
  const serialOf = (certificate: Uint8Array) => new x509.X509Certificate(certificate).serialNumber;
  const first = await renewal.use(async (built) => serialOf(built.environment.signer.certificate));
  failing = true;
  clock = t0 + 1.5 * DAY_MS;
  assert.equal(await renewal.use(async (built) => serialOf(built.environment.signer.certificate)), first);
  clock = t0 + 2.5 * DAY_MS;
  await assert.rejects(
    renewal.use(async () => 'unused'),
    (error: Error) => error.message === 'the issuing CA is unreachable',
  );
  failing = false;
  assert.notEqual(await renewal.use(async (built) => serialOf(built.environment.signer.certificate)), first);
  assert.equal(renewal.renewals, 1);
  await renewal.close();
});

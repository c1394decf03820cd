/**
 * A running node stops signing with a revoked signer: `createSignerRenewal` asks whether its signer was
 * revoked at most once per interval (injected clock), and once `bubuh pki revoke` has put the signer on
 * the CRL, the next use after the interval gets a fresh certificate, saved for the next start. A build
 * that cannot replace the revoked certificate refuses with PKI_SIGNER_REVOKED instead of signing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../config.js';
import { isBubuhError } from '../errors.js';
import { createStampEnvironment } from '../services/node-stamper.js';
import { type Backend, disposeBackend, openFreshBackend } from '../testing/backends.js';
import { certificateSerialOf } from './crl.js';
import { configuredPkiPaths, loadDevPki, pkiDirectory } from './key-files.js';
import { currentCrl, fingerprintOf, revokeCertificate } from './revocations.js';
import { createSignerRenewal } from './signer-renewal.js';
import { crlFileRevocationCheck, storageRevocationCheck } from './signer-revocation.js';

type Built = Awaited<ReturnType<typeof createStampEnvironment>>;

let backend: Backend;
const directories: string[] = [];

before(async () => {
  backend = (await openFreshBackend('sqlite'))!;
});

after(async () => {
  await disposeBackend(backend);
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function developmentConfig() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-signer-revocation-'));
  directories.push(dataDir);
  return loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_MODE: 'development', BUBUH_NODE_ID: 'node-r' });
}

const serialOf = (built: Built) => certificateSerialOf(built.environment.signer.certificate);

/** Revokes the node's current signer as `bubuh pki revoke` does: the row, then the CRL reissued. */
async function revokeSigner(config: ReturnType<typeof developmentConfig>, serial: string): Promise<void> {
  const pki = (await loadDevPki(configuredPkiPaths(config)))!;
  await revokeCertificate(backend.storage, {
    serial,
    reason: 'keyCompromise',
    issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
  });
  await currentCrl(configuredPkiPaths(config), backend.storage, pki, {
    validityDays: config.crlValidityDays,
  });
}

test('a revoked signer is replaced at the first revocation check after it, and never used again', async () => {
  const config = developmentConfig();
  const check = crlFileRevocationCheck(configuredPkiPaths(config));
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  let clock = t0;
  const checked: string[] = [];
  const closed: string[] = [];
  const replacing: (string | null)[] = [];
  const renewed: [string, string][] = [];
  const renewal = createSignerRenewal<Built>({
    build: async (now, revoked) => {
      replacing.push(revoked === undefined ? null : certificateSerialOf(revoked));
      return createStampEnvironment(config, {
        now,
        ...(revoked === undefined ? {} : { replacingSigner: revoked }),
      });
    },
    certificateOf: (built) => built.environment.signer.certificate,
    close: async (built) => {
      closed.push(serialOf(built));
      await built.close();
    },
    revoked: async (built) => {
      checked.push(serialOf(built));
      return check(built.environment.signer.certificate, built.issuingCaCertificate);
    },
    revocationCheckMs: 60_000,
    onRenewed: (previous, next) => renewed.push([certificateSerialOf(previous), certificateSerialOf(next)]),
    clock: () => clock,
  });

  const first = await renewal.use(async (built) => serialOf(built));
  assert.deepEqual(replacing, [null]);
  assert.deepEqual(checked, [], 'a certificate just built is not checked at once');
  await revokeSigner(config, first);

  // Within the interval the last answer stands: the revoked signer is still used (no check yet).
  clock = t0 + 59_999;
  assert.equal(await renewal.use(async (built) => serialOf(built)), first);
  assert.deepEqual(checked, []);

  // The interval has passed: one check for the uses that arrive together, one replacement.
  clock = t0 + 60_000;
  const [second, secondAgain] = await Promise.all([
    renewal.use(async (built) => serialOf(built)),
    renewal.use(async (built) => serialOf(built)),
  ]);
  assert.notEqual(second, first);
  assert.equal(secondAgain, second);
  assert.deepEqual(checked, [first]);
  assert.deepEqual(replacing, [null, first]);
  assert.deepEqual(renewed, [[first, second]]);
  assert.equal(renewal.renewals, 1);
  assert.deepEqual(closed, [first]);
  // The fresh certificate is this node's saved signer, issued by the same issuing CA.
  const saved = new x509.X509Certificate(
    readFileSync(join(pkiDirectory(config.dataDir), 'signer.pem'), 'utf8'),
  );
  assert.equal(certificateSerialOf(new Uint8Array(saved.rawData)), second);

  // The new signer is first checked one interval after it was built, and is not revoked.
  clock = t0 + 119_999;
  assert.equal(await renewal.use(async (built) => serialOf(built)), second);
  assert.deepEqual(checked, [first]);
  clock = t0 + 120_000;
  assert.equal(await renewal.use(async (built) => serialOf(built)), second);
  assert.deepEqual(checked, [first, second]);
  assert.equal(renewal.renewals, 1);

  // The database says the same as the CRL.
  const byRow = storageRevocationCheck(backend.storage);
  const pki = (await loadDevPki(configuredPkiPaths(config)))!;
  assert.equal(await byRow(pki.signer.certificate, pki.issuingCa.certificate), false);
  await renewal.close();
  assert.deepEqual(closed, [first, second]);
});

test('a revoked signer that cannot be replaced refuses with PKI_SIGNER_REVOKED instead of signing', async () => {
  const config = developmentConfig();
  const check = crlFileRevocationCheck(configuredPkiPaths(config));
  let clock = Date.now();
  let builds = 0;
  const renewal = createSignerRenewal<Built>({
    // Ignores which certificate it must replace: returns the revoked one again.
    build: async (now) => {
      builds += 1;
      return createStampEnvironment(config, { now });
    },
    certificateOf: (built) => built.environment.signer.certificate,
    close: (built) => built.close(),
    revoked: (built) => check(built.environment.signer.certificate, built.issuingCaCertificate),
    revocationCheckMs: 1000,
    clock: () => clock,
  });
  const first = await renewal.use(async (built) => serialOf(built));
  await revokeSigner(config, first);
  assert.equal(
    await storageRevocationCheck(backend.storage)(
      (await loadDevPki(configuredPkiPaths(config)))!.signer.certificate,
      (await loadDevPki(configuredPkiPaths(config)))!.issuingCa.certificate,
    ),
    true,
  );
  clock += 1000;
  let signed = 0;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const refusal = await renewal
      .use(async () => {
        signed += 1;
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.ok(isBubuhError(refusal), String(refusal));
    assert.equal(refusal.code, 'PKI_SIGNER_REVOKED');
    assert.deepEqual(refusal.details, { serial: first });
  }
  assert.equal(signed, 0);
  assert.equal(builds, 3);
  await renewal.close();
});

/**
 * The CRL follows the database on both backends: reused while it is current and complete, reissued
 * (with a larger CRL number) when a revocation is missing from it, when its nextUpdate is near, or when
 * the file is not the issuing CA's; reasons outside RFC 5280's list are refused by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachBackend } from '../testing/backends.js';
import { certificateSerialOf, issueCrl } from './crl.js';
import { generateDevPki } from './dev-pki.js';
import { loadOrCreateDevPki, writeCrlFile } from './key-files.js';
import { currentCrl, fingerprintOf, parseRevocationReason, revokeCertificate } from './revocations.js';

const DAY_MS = 86_400_000;

test('the CRL is reused while current and complete, and reissued otherwise', async (t) => {
  await eachBackend(t, async (backend) => {
    const dataDir = backend.openOptions.dataDir;
    const { pki } = await loadOrCreateDevPki(dataDir);
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    const options = { validityDays: 7 };
    const first = await currentCrl(dataDir, backend.storage, pki, { ...options, now: start });
    assert.equal(first.reissued, true);
    assert.equal(first.facts.number, BigInt(start.getTime() / 1000));
    const reused = await currentCrl(dataDir, backend.storage, pki, {
      ...options,
      now: new Date(start.getTime() + DAY_MS),
    });
    assert.equal(reused.reissued, false);
    assert.deepEqual(reused.der, first.der);

    // Within a day of nextUpdate: reissued, numbered one more even though the clock is what it is.
    const late = new Date(start.getTime() + 6.5 * DAY_MS);
    const renewed = await currentCrl(dataDir, backend.storage, pki, { ...options, now: late });
    assert.equal(renewed.reissued, true);
    assert.equal(renewed.facts.thisUpdate.getTime(), late.getTime());
    assert.ok(renewed.facts.number! > first.facts.number!);

    // A revocation recorded by any node is missing from the file: reissued with it.
    const serial = certificateSerialOf(pki.signer.certificate);
    await revokeCertificate(backend.storage, {
      serial,
      reason: 'cessationOfOperation',
      issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
      now: late,
    });
    const withEntry = await currentCrl(dataDir, backend.storage, pki, { ...options, now: late });
    assert.equal(withEntry.reissued, true);
    assert.deepEqual(
      withEntry.facts.entries.map((entry) => [entry.serial, entry.reason, entry.revokedAt.getTime()]),
      [[serial, 'cessationOfOperation', late.getTime()]],
    );
    assert.equal(withEntry.facts.number, renewed.facts.number! + 1n);

    // A file signed by another CA with the same name is replaced, never served.
    const other = await generateDevPki();
    await writeCrlFile(
      dataDir,
      await issueCrl(other.issuingCa, [], { thisUpdate: late, validityDays: 7, number: 1n }),
    );
    const replaced = await currentCrl(dataDir, backend.storage, pki, { ...options, now: late });
    assert.equal(replaced.reissued, true);
    assert.equal(replaced.facts.entries.length, 1);
  });
});

test('revocation reasons are the RFC 5280 names', () => {
  assert.equal(parseRevocationReason('keyCompromise'), 'keyCompromise');
  assert.throws(() => parseRevocationReason('certificateHold'), {
    code: 'REVOCATION_REASON_UNKNOWN',
    message:
      'Unknown revocation reason "certificateHold". Use one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise.',
  });
});

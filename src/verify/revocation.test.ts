/**
 * Revocation in the verifier, on documents stamped in the test: a CRL from the issuing CA that lists
 * the signer certificate makes the stamp invalid (revoked before signing) or untrusted (key compromise
 * reported after the claimed signing time), an administrative revocation after signing leaves it valid
 * with a note; CRLs that are foreign, forged or unreadable change nothing; a CRL in the document's own
 * /DSS counts like one the caller supplies.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { latin1Bytes, minimalPdf } from '../pdf/fixture-builder.js';
import { IncrementalUpdate } from '../pdf/incremental.js';
import { isRef, PdfDict, PdfName, PdfStream } from '../pdf/objects.js';
import { openPdf } from '../pdf/reader.js';
import { certificateSerialOf, issueCrl, type RevocationReason } from '../pki/crl.js';
import { type CertifiedKey, type DevPki, generateDevPki, issueSignerCertificate } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { generateSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { fixedBytes } from '../stamping/testing/stamp-fixtures.js';
import { parseCrl } from './revocation.js';
import { type VerificationReport, verifyDocument } from './verify-document.js';

let pki: DevPki;
let otherPki: DevPki;
const serial = generateSerial((count) => fixedBytes('revocation serial', count));
const DAY_MS = 86_400_000;
/** Whole seconds, because /M and the CRL's times keep no fractions. */
const wholeSecond = (time: number) => new Date(Math.floor(time / 1000) * 1000);
const signingTime = wholeSecond(Date.now() - DAY_MS);
const signerSubject = 'CN=bubuh Development Signer node-1 (NOT FOR PRODUCTION), O=bubuh, C=ID';

before(async () => {
  pki = await generateDevPki({ now: new Date(Date.now() - 3 * DAY_MS) });
  otherPki = await generateDevPki();
});

async function stamp(signer: CertifiedKey, time = signingTime): Promise<Uint8Array> {
  const result = await stampDocument(
    { pdf: minimalPdf(), serial, verifyUrl: `https://bubuh.example/s/${serial}`, signingTime: time },
    nodeStampEnvironment(
      createNodeSigner({
        privateKeyPem: signer.privateKeyPem,
        certificate: signer.certificate,
        chain: [pki.issuingCa.certificate],
      }),
    ),
  );
  return result.pdf;
}

function crlOf(
  ca: DevPki['issuingCa'],
  entries: { certificate: Uint8Array; revokedAt: Date; reason: RevocationReason }[],
  thisUpdate = wholeSecond(Date.now()),
): Promise<Uint8Array> {
  return issueCrl(
    ca,
    entries.map((entry) => ({
      serial: certificateSerialOf(entry.certificate),
      revokedAt: entry.revokedAt,
      reason: entry.reason,
    })),
    { thisUpdate, validityDays: 7, number: 1n },
  );
}

function verify(pdf: Uint8Array, crls: Uint8Array[], anchors = [pki.root.certificate]) {
  return verifyDocument(pdf, { trustAnchors: anchors, crls });
}

function summary(report: VerificationReport) {
  const [signature] = report.signatures;
  return {
    verdict: report.verdict,
    signatureVerdict: signature!.verdict,
    revocation: signature!.checks.revocation,
    codes: signature!.findings.map((item) => item.code),
    reasons: report.reasons.map((item) => item.code),
  };
}

test('a signer certificate revoked before the signing time makes the stamp invalid', async () => {
  const signer = await issueSignerCertificate(pki.issuingCa, { now: new Date(Date.now() - 2 * DAY_MS) });
  const revokedAt = wholeSecond(signingTime.getTime() - 3600_000);
  const crl = await crlOf(pki.issuingCa, [
    { certificate: signer.certificate, revokedAt, reason: 'superseded' },
  ]);
  const report = await verify(await stamp(signer), [crl]);
  assert.deepEqual(summary(report), {
    verdict: 'invalid',
    signatureVerdict: 'invalid',
    revocation: 'certificate_revoked',
    codes: ['certificate_revoked'],
    reasons: [],
  });
  const [item] = report.signatures[0]!.findings;
  assert.equal(
    item!.en,
    `The certificate "${signerSubject}" was revoked at ${revokedAt.toISOString()} (superseded), before the signing time ${signingTime.toISOString()}: the signature is not valid.`,
  );
  assert.equal(
    item!.id,
    `Sertifikat "${signerSubject}" dicabut pada ${revokedAt.toISOString()} (superseded), sebelum waktu penandatanganan ${signingTime.toISOString()}: tanda tangan ini tidak sah.`,
  );
  // Without the CRL the same document verifies offline: revocation is simply unknown.
  assert.deepEqual(summary(await verify(await stamp(signer), [])), {
    verdict: 'valid',
    signatureVerdict: 'valid',
    revocation: 'unknown',
    codes: [],
    reasons: [],
  });
});

test('a key compromise reported after the claimed signing time makes the stamp untrusted', async () => {
  const signer = await issueSignerCertificate(pki.issuingCa, { now: new Date(Date.now() - 2 * DAY_MS) });
  const revokedAt = wholeSecond(signingTime.getTime() + 3600_000);
  const crl = await crlOf(pki.issuingCa, [
    { certificate: signer.certificate, revokedAt, reason: 'keyCompromise' },
  ]);
  const report = await verify(await stamp(signer), [crl]);
  assert.deepEqual(summary(report), {
    verdict: 'untrusted',
    signatureVerdict: 'untrusted',
    revocation: 'certificate_revoked_after_signing',
    codes: ['certificate_revoked_after_signing'],
    reasons: [],
  });
});

test('a certificate superseded after the signing time leaves the stamp valid, with a note', async () => {
  const signer = await issueSignerCertificate(pki.issuingCa, { now: new Date(Date.now() - 2 * DAY_MS) });
  const revokedAt = wholeSecond(signingTime.getTime() + 3600_000);
  const crl = await crlOf(pki.issuingCa, [
    { certificate: signer.certificate, revokedAt, reason: 'superseded' },
  ]);
  const report = await verify(await stamp(signer), [crl]);
  assert.deepEqual(summary(report), {
    verdict: 'valid',
    signatureVerdict: 'valid',
    revocation: 'certificate_revoked_later',
    codes: ['certificate_revoked_later'],
    reasons: [],
  });
});

test('a current CRL that does not list the signer makes revocation ok; an older one says unknown', async () => {
  const current = await crlOf(pki.issuingCa, []);
  const stamped = await stamp(pki.signer);
  assert.equal(summary(await verify(stamped, [current])).revocation, 'ok');
  const older = await crlOf(pki.issuingCa, [], wholeSecond(signingTime.getTime() - 60_000));
  assert.equal(summary(await verify(stamped, [older])).revocation, 'unknown');
});

test('foreign, forged and unreadable CRLs are ignored', async () => {
  const stamped = await stamp(pki.signer);
  const revokedAt = wholeSecond(signingTime.getTime() - 3600_000);
  // The other hierarchy's issuing CA has the same name but another key: its CRL proves nothing here.
  const forged = await crlOf(otherPki.issuingCa, [
    { certificate: pki.signer.certificate, revokedAt, reason: 'keyCompromise' },
  ]);
  assert.ok(parseCrl(forged) !== null);
  const report = await verify(stamped, [forged, latin1Bytes('not a CRL')]);
  assert.deepEqual(summary(report), {
    verdict: 'valid',
    signatureVerdict: 'valid',
    revocation: 'unknown',
    codes: [],
    reasons: ['crl_invalid'],
  });
  assert.equal(
    report.reasons[0]!.en,
    'CRL 2 is not a certificate revocation list this verifier can read; it was ignored.',
  );
});

test('a stamp under an untrusted root is untrusted and its revocation is not checked', async () => {
  const revokedAt = wholeSecond(signingTime.getTime() - 3600_000);
  const crl = await crlOf(pki.issuingCa, [
    { certificate: pki.signer.certificate, revokedAt, reason: 'keyCompromise' },
  ]);
  const report = await verify(await stamp(pki.signer), [crl], [otherPki.root.certificate]);
  assert.deepEqual(summary(report), {
    verdict: 'untrusted',
    signatureVerdict: 'untrusted',
    revocation: 'not_checked',
    codes: ['untrusted'],
    reasons: [],
  });
});

test("a CRL in the document's own DSS revokes like a supplied one", async () => {
  const signer = await issueSignerCertificate(pki.issuingCa, { now: new Date(Date.now() - 2 * DAY_MS) });
  const revokedAt = wholeSecond(signingTime.getTime() - 3600_000);
  const crl = await crlOf(pki.issuingCa, [
    { certificate: signer.certificate, revokedAt, reason: 'keyCompromise' },
  ]);
  const stamped = await stamp(signer);
  const document = openPdf(stamped);
  const rootRef = document.trailer.get('Root');
  const catalog = document.resolve(rootRef);
  assert.ok(catalog instanceof PdfDict && isRef(rootRef));
  const update = new IncrementalUpdate(document, { fileIdentifier: fixedBytes('revocation dss', 16) });
  const crlRef = update.allocate();
  update.set(crlRef, new PdfStream(new PdfDict().set('Length', crl.length), crl));
  const dssRef = update.allocate();
  update.set(dssRef, new PdfDict().set('Type', PdfName.of('DSS')).set('CRLs', [crlRef]));
  update.set(rootRef, catalog.clone().set('DSS', dssRef));
  const report = await verify(update.build().bytes, []);
  assert.deepEqual(summary(report), {
    verdict: 'invalid',
    signatureVerdict: 'invalid',
    revocation: 'certificate_revoked',
    codes: ['certificate_revoked', 'later_revisions_harmless'],
    reasons: [],
  });
});

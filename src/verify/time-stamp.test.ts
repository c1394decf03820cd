/**
 * The verifier on PAdES B-T stamps: a valid token from a trusted TSA makes its genTime the time the
 * signer certificate is checked at; a token over another signature value is invalid; a token from a TSA
 * outside the trust anchors, or from a certificate not meant for time-stamping, is untrusted; an expired
 * signer certificate is untrusted without a time-stamp and valid with one made while it was valid.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, test } from 'node:test';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { type DevPki, generateDevPki, issueSignerCertificate } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { generateSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { type StampEnvironment, stampDocument, type TimeStamper } from '../stamping/stamp-document.js';
import { fixedBytes } from '../stamping/testing/stamp-fixtures.js';
import { TimeStampAuthority } from '../tsa/authority.js';
import { builtInTimeStamper, createBuiltInAuthority } from '../tsa/node-time-stamper.js';
import { type VerificationReport, verifyDocument } from './verify-document.js';

const DAY_MS = 86_400_000;
const now = Math.floor(Date.now() / 1000) * 1000;
const serial = generateSerial((count) => fixedBytes('time-stamp verify serial', count));
let pki: DevPki;
let otherPki: DevPki;
/** A hierarchy made four days ago, so a certificate from it can have expired by now. */
let pastPki: DevPki;
const tsaSubject = 'CN=bubuh Development Time-Stamping Authority (NOT FOR PRODUCTION), O=bubuh, C=ID';

before(async () => {
  pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  otherPki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  pastPki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256', now: new Date(now - 4 * DAY_MS) });
});

function environmentFor(
  signerKey: { certificate: Uint8Array; privateKeyPem: string },
  chain: Uint8Array,
  timeStamper?: TimeStamper,
): StampEnvironment {
  const signer = createNodeSigner({ ...signerKey, chain: [chain] });
  return { ...nodeStampEnvironment(signer), ...(timeStamper ? { timeStamper } : {}) };
}

async function stamp(environment: StampEnvironment, signingTime = new Date(now)): Promise<Uint8Array> {
  const result = await stampDocument(
    { pdf: minimalPdf(), serial, verifyUrl: `https://bubuh.example/s/${serial}`, signingTime },
    environment,
  );
  return result.pdf;
}

function verify(pdf: Uint8Array, anchors = [pki.root.certificate]): Promise<VerificationReport> {
  return verifyDocument(pdf, { trustAnchors: anchors });
}

function codes(report: VerificationReport): string[][] {
  return report.signatures.map((signature) => signature.findings.map((item) => item.code));
}

test('a B-T stamp from the trusted TSA is valid and checked at genTime', async () => {
  const genTime = now + 1234;
  const timeStamper = await builtInTimeStamper(createBuiltInAuthority(pki, { clock: () => genTime }));
  const report = await verify(
    await stamp(environmentFor(pki.signer, pki.issuingCa.certificate, timeStamper)),
  );
  assert.equal(report.verdict, 'valid');
  const [signature] = report.signatures;
  assert.equal(signature!.checks.timeStamp, 'ok');
  assert.equal(signature!.timeStampTime, new Date(genTime).toISOString());
  assert.deepEqual(codes(report), [['time_stamp_valid']]);
  assert.equal(
    signature!.findings[0]!.en,
    `The signature carries a valid time-stamp from "${tsaSubject}": it existed at ${new Date(genTime).toISOString()}, and certificates were checked at that time.`,
  );
  assert.equal(
    signature!.findings[0]!.id,
    `Tanda tangan memuat cap waktu yang sah dari "${tsaSubject}": tanda tangan sudah ada pada ${new Date(genTime).toISOString()}, dan sertifikat diperiksa pada waktu itu.`,
  );
});

test('a token over another signature value is invalid', async () => {
  const honest = await builtInTimeStamper(createBuiltInAuthority(pki));
  const swapped: TimeStamper = {
    attributeBytesMax: honest.attributeBytesMax!,
    timeStamp: (signatureValue) => honest.timeStamp(signatureValue.map((byte) => byte ^ 0xff)),
  };
  const report = await verify(await stamp(environmentFor(pki.signer, pki.issuingCa.certificate, swapped)));
  assert.equal(report.verdict, 'invalid');
  const [signature] = report.signatures;
  assert.equal(signature!.checks.signature, 'ok');
  assert.equal(signature!.checks.timeStamp, 'time_stamp_invalid');
  assert.equal(signature!.timeStampTime, null);
  assert.deepEqual(codes(report), [['time_stamp_invalid']]);
  assert.equal(
    signature!.findings[0]!.en,
    'The time-stamp on the signature is not valid (it time-stamps another signature value).',
  );
});

test('a token from a TSA outside the trust anchors is untrusted', async () => {
  const foreign = await builtInTimeStamper(createBuiltInAuthority(otherPki));
  const report = await verify(await stamp(environmentFor(pki.signer, pki.issuingCa.certificate, foreign)));
  assert.equal(report.verdict, 'untrusted');
  const [signature] = report.signatures;
  assert.equal(signature!.checks.chain, 'ok');
  assert.equal(signature!.checks.timeStamp, 'time_stamp_untrusted');
  assert.deepEqual(codes(report), [['time_stamp_untrusted']]);
  assert.equal(
    signature!.findings[0]!.en,
    'The time-stamp on the signature is not from a trusted time-stamping authority (the TSA certificate: untrusted); its time was not used.',
  );
});

test('a token signed by a certificate without id-kp-timeStamping is untrusted', async () => {
  const notTsa = new TimeStampAuthority({
    signer: createNodeSigner({ ...pki.signer, chain: [pki.issuingCa.certificate] }),
    randomBytes: (count) => fixedBytes('not a tsa', count),
  });
  const report = await verify(
    await stamp(environmentFor(pki.signer, pki.issuingCa.certificate, await builtInTimeStamper(notTsa))),
  );
  assert.equal(report.verdict, 'untrusted');
  assert.equal(report.signatures[0]!.checks.timeStamp, 'time_stamp_untrusted');
  assert.match(report.signatures[0]!.findings[0]!.en, /\(the TSA certificate is not for time-stamping\)/);
});

test('an expired signer certificate: untrusted without a time-stamp, valid with one made in time', async () => {
  const shortLived = await issueSignerCertificate(pastPki.issuingCa, {
    validityDays: 1,
    now: new Date(now - 3 * DAY_MS),
  });
  const anchors = [pastPki.root.certificate];
  // Without a time-stamp: exactly the existing rule for a certificate expired at /M.
  const plain = await verify(await stamp(environmentFor(shortLived, pastPki.issuingCa.certificate)), anchors);
  assert.equal(plain.verdict, 'untrusted');
  assert.equal(plain.signatures[0]!.checks.validityAtSigningTime, 'certificate_expired');
  assert.equal(plain.signatures[0]!.checks.timeStamp, 'absent');
  assert.deepEqual(codes(plain), [['certificate_expired']]);
  // With a time-stamp made while the certificate was valid, /M (now, after expiry) no longer decides.
  const genTime = now - 2.5 * DAY_MS;
  const inTime = await builtInTimeStamper(createBuiltInAuthority(pastPki, { clock: () => genTime }));
  const report = await verify(
    await stamp(environmentFor(shortLived, pastPki.issuingCa.certificate, inTime)),
    anchors,
  );
  assert.equal(report.verdict, 'valid');
  assert.equal(report.signatures[0]!.checks.validityAtSigningTime, 'ok');
  assert.equal(report.signatures[0]!.timeStampTime, new Date(genTime).toISOString());
  assert.deepEqual(codes(report), [['time_stamp_valid']]);
  // A time-stamp made after the expiry does not help: the certificate is checked at genTime.
  const late = await builtInTimeStamper(createBuiltInAuthority(pastPki, { clock: () => now }));
  const lateReport = await verify(
    await stamp(environmentFor(shortLived, pastPki.issuingCa.certificate, late)),
    anchors,
  );
  assert.equal(lateReport.verdict, 'untrusted');
  assert.deepEqual(codes(lateReport), [['time_stamp_valid', 'certificate_expired']]);
});

test('a B-LT stamp verifies valid with later changes: the DSS revision is harmless', async () => {
  const timeStamper = await builtInTimeStamper(createBuiltInAuthority(pki));
  const environment: StampEnvironment = {
    ...environmentFor(pki.signer, pki.issuingCa.certificate, timeStamper),
    validationData: {
      certificates: [
        pki.signer.certificate,
        pki.issuingCa.certificate,
        pki.root.certificate,
        pki.tsa.certificate,
      ],
      crls: [],
    },
  };
  const result = await stampDocument(
    {
      pdf: minimalPdf(),
      serial,
      verifyUrl: `https://bubuh.example/s/${serial}`,
      signingTime: new Date(now),
      longTerm: true,
    },
    environment,
  );
  const report = await verify(result.pdf);
  assert.equal(report.verdict, 'valid_with_later_changes');
  assert.equal(report.signatures[0]!.laterRevisions, 'harmless');
  assert.deepEqual(codes(report), [['time_stamp_valid', 'later_revisions_harmless']]);
  // The digest the registry binds is of the signed revision, unchanged by the DSS revision.
  const [a, b, c, d] = result.byteRange;
  const digest = createHash('sha256')
    .update(result.pdf.subarray(a, a + b))
    .update(result.pdf.subarray(c, c + d))
    .digest();
  assert.deepEqual(new Uint8Array(digest), result.contentDigest);
});

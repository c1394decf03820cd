/**
 * The verifier on documents stamped in the test: a fresh stamp is valid under its root and untrusted
 * under another; each way of breaking a stamp (a changed byte, a cut file, new page content, an
 * expired or swapped certificate) gives its exact verdict and reason code; a second stamp leaves the
 * first valid with later changes.
 */
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { before, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { latin1Bytes, minimalPdf } from '../pdf/fixture-builder.js';
import { IncrementalUpdate } from '../pdf/incremental.js';
import { PdfDict, PdfRef, PdfStream } from '../pdf/objects.js';
import { openPdf } from '../pdf/reader.js';
import { type DevPki, generateDevPki, importCaSigningKey, issueSignerCertificate } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { generateSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { fixedBytes } from '../stamping/testing/stamp-fixtures.js';
import { type VerificationReport, verifyDocument } from './verify-document.js';

let pki: DevPki;
let otherPki: DevPki;
/** Whole seconds, because /M keeps no fractions. */
const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);
const serialOne = generateSerial((count) => fixedBytes('verify serial one', count));
const serialTwo = generateSerial((count) => fixedBytes('verify serial two', count));

before(async () => {
  pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  otherPki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
});

function signerFrom(certificate: { certificate: Uint8Array; privateKeyPem: string }) {
  return createNodeSigner({
    privateKeyPem: certificate.privateKeyPem,
    certificate: certificate.certificate,
    chain: [pki.issuingCa.certificate],
  });
}

async function stamp(
  pdf: Uint8Array,
  serial = serialOne,
  options: { signer?: ReturnType<typeof signerFrom>; time?: Date } = {},
): Promise<Uint8Array> {
  const signer = options.signer ?? signerFrom(pki.signer);
  const result = await stampDocument(
    {
      pdf,
      serial,
      verifyUrl: `https://bubuh.example/s/${serial}`,
      reason: 'Surat Pernyataan',
      signingTime: options.time ?? signingTime,
    },
    nodeStampEnvironment(signer),
  );
  return result.pdf;
}

function verify(
  pdf: Uint8Array,
  anchors: Uint8Array[] = [pki.root.certificate],
): Promise<VerificationReport> {
  return verifyDocument(pdf, { trustAnchors: anchors });
}

/** SHA-256 of the bytes the last /ByteRange covers, computed here without the verifier. */
function signedDigestOf(pdf: Uint8Array): string {
  const text = new TextDecoder('latin1').decode(pdf);
  const ranges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)].at(-1)!;
  const [a, b, c, d] = ranges.slice(1).map(Number) as [number, number, number, number];
  return createHash('sha256')
    .update(pdf.subarray(a, a + b))
    .update(pdf.subarray(c, c + d))
    .digest('hex');
}

function codes(report: VerificationReport): string[][] {
  return report.signatures.map((signature) => signature.findings.map((item) => item.code));
}

test('a fresh stamp is valid under its root, with every check ok', async () => {
  const stamped = await stamp(minimalPdf());
  const report = await verify(stamped);
  assert.equal(report.verdict, 'valid');
  assert.deepEqual(report.reasons, []);
  assert.equal(report.signatures.length, 1);
  const [signature] = report.signatures;
  assert.deepEqual(signature, {
    fieldName: `e-meterai ${serialOne}`,
    subFilter: 'ETSI.CAdES.detached',
    isEmeterai: true,
    serial: serialOne,
    signedRevisionEnd: stamped.length,
    coversWholeFile: true,
    signerSubject: 'CN=bubuh Development Signer node-1 (NOT FOR PRODUCTION), O=bubuh, C=ID',
    signingTime: signingTime.toISOString(),
    timeStampTime: null,
    contentDigest: signedDigestOf(stamped),
    checks: {
      byteRange: 'ok',
      digest: 'ok',
      signature: 'ok',
      signingCertificateV2: 'ok',
      chain: 'ok',
      validityAtSigningTime: 'ok',
      seal: 'ok',
      revocation: 'unknown',
      registry: 'not_checked',
      timeStamp: 'absent',
    },
    laterRevisions: 'none',
    verdict: 'valid',
    findings: [],
  });
});

test('an unstamped document is no_stamp', async () => {
  const report = await verify(minimalPdf());
  assert.equal(report.verdict, 'no_stamp');
  assert.deepEqual(report.signatures, []);
  assert.deepEqual(
    report.reasons.map((reason) => reason.code),
    ['no_stamp'],
  );
  assert.equal(report.reasons[0]!.id, 'Dokumen ini tidak memuat e-meterai.');
});

test('a stamp under another root is untrusted', async () => {
  const report = await verify(await stamp(minimalPdf()), [otherPki.root.certificate]);
  assert.equal(report.verdict, 'untrusted');
  assert.equal(report.signatures[0]!.checks.chain, 'untrusted');
  assert.equal(report.signatures[0]!.checks.digest, 'ok');
  assert.deepEqual(codes(report), [['untrusted']]);
});

test('a byte changed inside the signed range is invalid: digest mismatch', async () => {
  const stamped = await stamp(minimalPdf());
  const text = new TextDecoder('latin1').decode(stamped);
  const position = text.indexOf('100 100 l');
  assert.ok(position > 0);
  const tampered = stamped.slice();
  tampered[position] = 0x32; // '1' → '2' inside the page's content stream
  const report = await verify(tampered);
  assert.equal(report.verdict, 'invalid');
  assert.equal(report.signatures[0]!.checks.digest, 'digest_mismatch');
  assert.equal(report.signatures[0]!.checks.signature, 'ok');
  assert.deepEqual(codes(report), [['digest_mismatch']]);
});

test('a truncated stamped file is invalid: document damaged', async () => {
  const stamped = await stamp(minimalPdf());
  const report = await verify(stamped.subarray(0, stamped.length - 200));
  assert.equal(report.verdict, 'invalid');
  assert.deepEqual(report.signatures, []);
  assert.deepEqual(
    report.reasons.map((reason) => reason.code),
    ['document_damaged'],
  );
});

test('a later revision that changes page content makes the stamp modified', async () => {
  const stamped = await stamp(minimalPdf());
  const document = openPdf(stamped);
  const page = document.getPage(1);
  const update = new IncrementalUpdate(document, { fileIdentifier: fixedBytes('verify update', 16) });
  const content = update.allocate();
  update.set(content, new PdfStream(new PdfDict().set('Length', 9), latin1Bytes('0 0 m S\n\n')));
  update.set(page.ref, page.dict.clone().set('Contents', content));
  const report = await verify(update.build().bytes);
  assert.equal(report.verdict, 'modified');
  const [signature] = report.signatures;
  assert.equal(signature!.laterRevisions, 'content_changes');
  assert.equal(signature!.coversWholeFile, false);
  assert.equal(signature!.signedRevisionEnd, stamped.length);
  assert.deepEqual(codes(report), [['modified_after_stamp']]);
  assert.equal(
    signature!.findings[0]!.en,
    'The document content was changed after this signature (objects changed: 3).',
  );
});

test('a second stamp leaves the first valid with later changes', async () => {
  const once = await stamp(minimalPdf());
  const twice = await stamp(once, serialTwo);
  const report = await verify(twice);
  assert.equal(report.verdict, 'valid_with_later_changes');
  assert.deepEqual(
    report.signatures.map((signature) => [signature.serial, signature.verdict, signature.laterRevisions]),
    [
      [serialOne, 'valid_with_later_changes', 'harmless'],
      [serialTwo, 'valid', 'none'],
    ],
  );
  assert.deepEqual(codes(report), [['later_revisions_harmless'], []]);
});

test('a signer certificate that had expired at the signing time is untrusted', async () => {
  const issuedAt = new Date();
  const shortLived = await issueSignerCertificate(pki.issuingCa, { validityDays: 1, now: issuedAt });
  const afterExpiry = new Date(Math.floor(issuedAt.getTime() / 1000) * 1000 + 2 * 86_400_000);
  const stamped = await stamp(minimalPdf(), serialOne, { signer: signerFrom(shortLived), time: afterExpiry });
  const report = await verify(stamped);
  assert.equal(report.verdict, 'untrusted');
  assert.equal(report.signatures[0]!.checks.chain, 'ok');
  assert.equal(report.signatures[0]!.checks.validityAtSigningTime, 'certificate_expired');
  assert.deepEqual(codes(report), [['certificate_expired']]);
});

/** A certificate with the signer's issuer, serial and subject but another key, of exactly the same size. */
async function lookalikeCertificate(original: Uint8Array): Promise<Uint8Array> {
  const parsed = new x509.X509Certificate(original);
  const signingKey = await importCaSigningKey(pki.issuingCa.privateKeyPem);
  for (let attempt = 0; attempt < 32; attempt += 1) {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const candidate = await x509.X509CertificateGenerator.create({
      serialNumber: parsed.serialNumber,
      subject: parsed.subject,
      issuer: parsed.issuer,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      publicKey: keys.publicKey,
      signingKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: parsed.extensions,
    });
    const der = new Uint8Array(candidate.rawData);
    if (der.length === original.length) return der;
  }
  throw new Error('no same-size certificate in 32 attempts');
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

test('a signer certificate swapped for a same-size one fails the signature', async () => {
  const stamped = await stamp(minimalPdf());
  const swapped = await lookalikeCertificate(pki.signer.certificate);
  const text = new TextDecoder('latin1').decode(stamped);
  const position = text.indexOf(hexOf(pki.signer.certificate));
  assert.ok(position > 0);
  const tampered = stamped.slice();
  tampered.set(latin1Bytes(hexOf(swapped)), position);
  const report = await verify(tampered);
  assert.equal(report.verdict, 'invalid');
  const checks = report.signatures[0]!.checks;
  assert.equal(checks.digest, 'ok');
  assert.equal(checks.signature, 'signature_invalid');
  assert.equal(checks.signingCertificateV2, 'signing_certificate_mismatch');
  assert.deepEqual(codes(report), [['signature_invalid', 'signing_certificate_mismatch']]);
});

test('a stamp whose seal was hidden by a later revision is modified', async () => {
  const stamped = await stamp(minimalPdf());
  const document = openPdf(stamped);
  const widgetNumber = document.size - 1;
  const widget = document.getObject(new PdfRef(widgetNumber, 0));
  assert.ok(widget instanceof PdfDict);
  const update = new IncrementalUpdate(document, { fileIdentifier: fixedBytes('verify seal', 16) });
  update.set(new PdfRef(widgetNumber, 0), widget.clone().set('F', 4 | 2));
  const report = await verify(update.build().bytes);
  assert.equal(report.verdict, 'modified');
  assert.equal(report.signatures[0]!.checks.seal, 'seal_changed_after_stamp');
  assert.equal(report.signatures[0]!.laterRevisions, 'harmless');
  assert.deepEqual(codes(report), [['seal_changed_after_stamp', 'later_revisions_harmless']]);
});

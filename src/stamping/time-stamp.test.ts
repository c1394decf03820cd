/**
 * PAdES B-T and B-LT stamps judged from outside: a stamp with a signature time-stamp from the built-in
 * TSA passes pdfsig, qpdf, `openssl cms -verify`, `mutool sign -v`, and its token passes
 * `openssl ts -verify` over the SHA-256 of the signature value; a B-LT stamp's DSS revision leaves all
 * of that intact, also in an encrypted file (whose DSS streams are encrypted with the document key).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SIGNATURE_TIME_STAMP_TOKEN_OID, type Signer } from '../pades/cms.js';
import { readChildren, readElement, type DerElement } from '../pades/der.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { isArray, isDict, isRef, PdfStream } from '../pdf/objects.js';
import type { DevPki } from '../pki/dev-pki.js';
import { builtInTimeStamper, createBuiltInAuthority } from '../tsa/node-time-stamper.js';
import { oidText } from '../tsa/protocol.js';
import { nodeStampEnvironment } from './node-environment.js';
import { type StampEnvironment, type StampRequest, stampDocument } from './stamp-document.js';
import { assertPdfsigAllValid, assertQpdfClean } from './testing/external-checks.js';
import { cmsFromGap } from './testing/signature-check.js';
import {
  openWithHandler,
  testPki,
  testReason,
  testSerial,
  testSigningTime,
  testVerifyUrl,
} from './testing/stamp-fixtures.js';
import { runTool, temporaryDirectory, toolSkipReason } from './testing/tools.js';

const directory = temporaryDirectory('bubuh-bt-');
let pki: DevPki;
let signer: Signer;
let environment: StampEnvironment;

before(async () => {
  ({ pki, signer } = await testPki());
  environment = {
    ...nodeStampEnvironment(signer),
    timeStamper: await builtInTimeStamper(createBuiltInAuthority(pki)),
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
  writeFileSync(path('root.pem'), pki.root.certificatePem);
  writeFileSync(
    path('chain.pem'),
    `${pki.root.certificatePem.trim()}\n${pki.issuingCa.certificatePem.trim()}\n`,
  );
});

after(() => directory.remove());

function path(name: string): string {
  return join(directory.path, name);
}

function request(pdf: Uint8Array, extra: Partial<StampRequest> = {}): StampRequest {
  return {
    pdf,
    serial: testSerial,
    verifyUrl: testVerifyUrl,
    reason: testReason,
    signingTime: testSigningTime,
    ...extra,
  };
}

const unchanged = 'The document is unchanged since signing\\.';
/** mutool's line for a signature followed by an allowed later revision (the DSS). */
const editedSince = 'The signature is valid but there have been edits since signing\\.';

function output(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}${result.stderr}`;
}

function child(bytes: Uint8Array, parent: DerElement, index: number): DerElement {
  const found = readChildren(bytes, parent, 16)?.[index];
  assert.ok(found !== undefined, `child ${index} of the element at ${parent.start}`);
  return found;
}

/** The SignerInfo's signature value and the tokens of its id-aa-signatureTimeStampToken attributes. */
function signatureAndTokens(cms: Uint8Array): { signature: Uint8Array; tokens: Uint8Array[] } {
  const contentInfo = readElement(cms, 0)!;
  const explicit = child(cms, contentInfo, 1);
  const signedData = readElement(cms, explicit.contentStart, explicit.end)!;
  const signerInfos = readChildren(cms, signedData, 8)!.at(-1)!;
  const signerInfo = child(cms, signerInfos, 0);
  const fields = readChildren(cms, signerInfo, 8)!;
  const signatureField = fields.find((field, index) => index > 3 && field.tag === 0x04)!;
  const tokens: Uint8Array[] = [];
  const unsigned = fields.find((field) => field.tag === 0xa1);
  for (const attribute of unsigned ? readChildren(cms, unsigned, 8)! : []) {
    const [type, values] = readChildren(cms, attribute, 2)!;
    if (oidText(cms.subarray(type!.contentStart, type!.end)) !== SIGNATURE_TIME_STAMP_TOKEN_OID) continue;
    for (const value of readChildren(cms, values!, 4)!) tokens.push(cms.slice(value.start, value.end));
  }
  return { signature: cms.slice(signatureField.contentStart, signatureField.end), tokens };
}

function signedContent(pdf: Uint8Array, byteRange: readonly [number, number, number, number]): Uint8Array {
  const [a, b, c, d] = byteRange;
  return Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
}

/** Every outside check of one B-T stamp; `name` prefixes its files. */
async function assertBtAccepted(
  t: { skip(message: string): void },
  name: string,
  pdf: Uint8Array,
  byteRange: readonly [number, number, number, number],
  signatures: number,
  mutoolDocumentLine: string,
  password?: string,
): Promise<void> {
  for (const tool of ['openssl', 'qpdf', 'pdfsig', 'mutool'] as const) {
    const skip = toolSkipReason(tool);
    if (skip !== null) {
      t.skip(skip);
      return;
    }
  }
  const file = path(`${name}.pdf`);
  writeFileSync(file, pdf);
  const { der } = cmsFromGap(pdf, byteRange);
  writeFileSync(path(`${name}.p7s`), der);
  writeFileSync(path(`${name}.content`), signedContent(pdf, byteRange));
  const cms = await runTool('openssl', [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    path(`${name}.p7s`),
    '-content',
    path(`${name}.content`),
    '-CAfile',
    path('root.pem'),
    '-purpose',
    'any',
    '-out',
    '/dev/null',
  ]);
  assert.equal(cms.status, 0, output(cms));
  assert.match(output(cms), /Verification successful/);
  const { signature, tokens } = signatureAndTokens(der);
  assert.equal(tokens.length, 1);
  writeFileSync(path(`${name}.tst`), tokens[0]!);
  const digest = createHash('sha256').update(signature).digest('hex');
  const ts = await runTool('openssl', [
    'ts',
    '-verify',
    '-digest',
    digest,
    '-in',
    path(`${name}.tst`),
    '-token_in',
    '-CAfile',
    path('chain.pem'),
  ]);
  assert.equal(ts.status, 0, output(ts));
  assert.match(output(ts), /Verification: OK/);
  await assertQpdfClean(file, password);
  await assertPdfsigAllValid(file, signatures);
  const mutool = await runTool('mutool', ['sign', '-v', ...(password ? ['-p', password] : []), file]);
  assert.equal(mutool.status, 0, output(mutool));
  // mutool cannot be told our root, so its certificate line is not asserted (see external-checks.ts).
  assert.match(mutool.stdout, new RegExp(`^\\t${mutoolDocumentLine}$`, 'm'), mutool.stdout);
}

test('a B-T stamp: pdfsig, qpdf, openssl cms, mutool accept it; openssl ts accepts its token', async (t) => {
  const result = await stampDocument(request(minimalPdf()), environment);
  await assertBtAccepted(t, 'bt', result.pdf, result.byteRange, 1, unchanged);
  // The reservation is measured from the TSA's own token: the gap holds little padding.
  const { paddingBytes } = cmsFromGap(result.pdf, result.byteRange);
  assert.ok(paddingBytes <= 32, `padding ${paddingBytes} bytes`);
});

test('without a time-stamper the stamp stays B-B: no unsigned attributes, same reservation', async () => {
  const plain = nodeStampEnvironment(signer);
  const result = await stampDocument(request(minimalPdf()), plain);
  const { der } = cmsFromGap(result.pdf, result.byteRange);
  assert.deepEqual(signatureAndTokens(der).tokens, []);
});

test('pdfsig reports the signature valid and says what it knows of the time-stamp', async (t) => {
  const skip = toolSkipReason('pdfsig');
  if (skip !== null) return t.skip(skip);
  const result = await stampDocument(request(minimalPdf()), environment);
  writeFileSync(path('bt-pdfsig.pdf'), result.pdf);
  const report = await runTool('pdfsig', [path('bt-pdfsig.pdf')]);
  assert.equal(report.status, 0, output(report));
  assert.match(report.stdout, /Signature Validation: Signature is Valid\./);
  // poppler 22.12 does not look at signature time-stamps: it prints the /M time only.
  assert.match(report.stdout, /Signing Time: Jan 02 2025 03:04:05/);
});

test('a B-LT stamp appends a DSS revision with the chain and the TSA certificate', async (t) => {
  const result = await stampDocument(request(minimalPdf(), { longTerm: true }), environment);
  const document = openWithHandler(result.pdf);
  const dss = document.resolve(document.catalog.get('DSS'));
  assert.ok(isDict(dss));
  const certs = dss.get('Certs');
  assert.ok(isArray(certs));
  const stored = certs.map((ref) => {
    assert.ok(isRef(ref));
    const stream = document.getObject(ref);
    assert.ok(stream instanceof PdfStream);
    return Buffer.from(document.decodeStream(stream)).toString('hex');
  });
  assert.deepEqual(
    stored,
    [pki.signer.certificate, pki.issuingCa.certificate, pki.root.certificate, pki.tsa.certificate].map(
      (der) => Buffer.from(der).toString('hex'),
    ),
  );
  assert.equal(dss.get('CRLs'), undefined);
  // The signed revision ends before the DSS revision.
  assert.ok(result.byteRange[2] + result.byteRange[3] < result.pdf.length);
  await assertBtAccepted(t, 'blt', result.pdf, result.byteRange, 1, editedSince);
});

test('a B-LT stamp on an encrypted file: the DSS streams are encrypted with the document key', async (t) => {
  const skip = toolSkipReason('qpdf');
  if (skip !== null) return t.skip(skip);
  writeFileSync(path('plain.pdf'), minimalPdf());
  const encrypted = await runTool('qpdf', [
    '--encrypt',
    '',
    'owner',
    '128',
    '--use-aes=y',
    '--modify=annotate',
    '--',
    path('plain.pdf'),
    path('encrypted.pdf'),
  ]);
  assert.equal(encrypted.status, 0, output(encrypted));
  const pdf = new Uint8Array(readFileSync(path('encrypted.pdf')));
  const crl = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x07]);
  const withCrl = { ...environment, validationData: { ...environment.validationData!, crls: [crl] } };
  const result = await stampDocument(request(pdf, { longTerm: true }), withCrl);
  const document = openWithHandler(result.pdf);
  assert.ok(document.security !== null);
  const dss = document.resolve(document.catalog.get('DSS'));
  assert.ok(isDict(dss));
  const crls = dss.get('CRLs');
  assert.ok(isArray(crls) && isRef(crls[0]));
  const crlStream = document.getObject(crls[0]);
  assert.ok(crlStream instanceof PdfStream);
  assert.deepEqual(document.decodeStream(crlStream), crl);
  // On disk the stream is AES-128-CBC ciphertext of the deflated CRL: a 16-byte IV, then whole blocks.
  const span = document.objectSpan(crls[0].objectNumber)!;
  const text = Buffer.from(result.pdf.subarray(span.start, span.end)).toString('latin1');
  const start = text.indexOf('stream\r\n') + 'stream\r\n'.length;
  const onDisk = Buffer.from(text.slice(start, text.lastIndexOf('\r\nendstream')), 'latin1');
  const deflated = environment.deflate(crl);
  assert.equal(onDisk.length, 16 + (Math.floor(deflated.length / 16) + 1) * 16);
  assert.equal(onDisk.indexOf(Buffer.from(deflated)), -1);
  await assertBtAccepted(t, 'blt-encrypted', result.pdf, result.byteRange, 1, editedSince);
});

/**
 * The verifier against poppler's pdfsig on the shared corpus: for every file the service must stamp,
 * and for that file once stamped here, each signature's cryptographic validity (digest and signature)
 * must be what `pdfsig -nocert` says. Also measures verifications per second on a stamped a01.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeInflateRaw } from '../pdf/inflate-node.js';
import { generateSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { fixedBytes, type TestPki, testPki } from '../stamping/testing/stamp-fixtures.js';
import { runTool, temporaryDirectory, toolSkipReason } from '../stamping/testing/tools.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../testing/corpus.js';
import { type VerificationReport, verifyDocument } from './verify-document.js';

let pki: TestPki;
let directory: { readonly path: string; remove(): void };

before(async () => {
  pki = await testPki();
  directory = temporaryDirectory('bubuh-verify-');
});

after(() => directory.remove());

/** Whole seconds, because /M keeps no fractions; a37 (owner password only) opens without a password. */
const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);

function verify(pdf: Uint8Array): Promise<VerificationReport> {
  return verifyDocument(pdf, { trustAnchors: [pki.pki.root.certificate], inflate: nodeInflateRaw });
}

/** Per signature, in pdfsig's order (file order of the fields), whether pdfsig calls it valid. */
async function pdfsigValidity(pdf: Uint8Array, name: string): Promise<boolean[]> {
  const path = join(directory.path, name);
  writeFileSync(path, pdf);
  const result = await runTool('pdfsig', ['-nocert', path]);
  const verdicts: boolean[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = /^\s*- Signature Validation: (.*)$/.exec(line);
    if (match !== null) verdicts.push(match[1] === 'Signature is Valid.');
  }
  return verdicts;
}

function ourValidity(report: VerificationReport): boolean[] {
  return report.signatures.map(
    (signature) =>
      signature.checks.byteRange === 'ok' &&
      signature.checks.digest === 'ok' &&
      signature.checks.signature === 'ok',
  );
}

test('cryptographic validity agrees with pdfsig on every corpus file and its stamped version', async (t) => {
  const corpus = corpusDirectory();
  if (corpus === null) return t.skip(corpusSkipReason);
  const missing = toolSkipReason('pdfsig');
  if (missing !== null) return t.skip(missing);
  const entries = loadCorpus(corpus).filter((entry) => entry.expect === 'stamp');
  let compared = 0;
  for (const entry of entries) {
    const original = readCorpusFile(corpus, entry.file);
    const before = await verify(original);
    assert.deepEqual(ourValidity(before), await pdfsigValidity(original, entry.file), entry.file);
    const serial = generateSerial((count) => fixedBytes(`verify corpus ${entry.file}`, count));
    const stamped = await stampDocument(
      { pdf: original, serial, verifyUrl: `https://bubuh.example/s/${serial}`, signingTime },
      nodeStampEnvironment(pki.signer),
    );
    const report = await verify(stamped.pdf);
    assert.deepEqual(
      ourValidity(report),
      await pdfsigValidity(stamped.pdf, `stamped-${entry.file}`),
      entry.file,
    );
    // Our own stamp on top is valid; a pre-signed file's earlier signature sees the stamp as harmless.
    assert.equal(report.verdict, 'valid', entry.file);
    assert.equal(report.signatures.at(-1)?.verdict, 'valid', entry.file);
    for (const earlier of report.signatures.slice(0, -1))
      assert.equal(earlier.laterRevisions, 'harmless', entry.file);
    compared += report.signatures.length + before.signatures.length;
  }
  t.diagnostic(`${entries.length} corpus files, ${compared} signatures compared with pdfsig`);
});

test('the pre-signed corpus file: the foreign signature verifies, is untrusted, and the document has no stamp', async (t) => {
  const corpus = corpusDirectory();
  if (corpus === null) return t.skip(corpusSkipReason);
  const report = await verify(readCorpusFile(corpus, 'a09_sewa_signed_pdfsig.pdf'));
  assert.equal(report.verdict, 'no_stamp');
  assert.equal(report.signatures.length, 1);
  const [signature] = report.signatures;
  assert.equal(signature!.fieldName, 'TTD_PihakKedua');
  assert.equal(signature!.subFilter, 'adbe.pkcs7.detached');
  assert.equal(signature!.isEmeterai, false);
  assert.equal(
    signature!.signerSubject,
    'C=ID, L=Yogyakarta, O=Kantor Notaris Yogyakarta (TEST), CN=Intan Nurhaliza',
  );
  assert.deepEqual(signature!.checks, {
    byteRange: 'ok',
    digest: 'ok',
    signature: 'ok',
    signingCertificateV2: 'ok',
    chain: 'untrusted',
    validityAtSigningTime: 'ok',
    // The chain reaches no trust anchor, so revocation is not looked at.
    revocation: 'not_checked',
    registry: 'not_checked',
    timeStamp: 'absent',
    seal: 'not_applicable',
  });
});

test('verifications per second on a stamped a01 (reported, not asserted)', async (t) => {
  const corpus = corpusDirectory();
  if (corpus === null) return t.skip(corpusSkipReason);
  const serial = generateSerial((count) => fixedBytes('verify timing', count));
  const stamped = await stampDocument(
    {
      pdf: readCorpusFile(corpus, 'a01_pernyataan_libreoffice.pdf'),
      serial,
      verifyUrl: `https://bubuh.example/s/${serial}`,
      signingTime,
    },
    nodeStampEnvironment(pki.signer),
  );
  const options = { trustAnchors: [pki.pki.root.certificate] };
  assert.equal((await verifyDocument(stamped.pdf, options)).verdict, 'valid');
  const iterations = 300;
  const start = performance.now();
  for (let index = 0; index < iterations; index += 1) await verifyDocument(stamped.pdf, options);
  const seconds = (performance.now() - start) / 1000;
  t.diagnostic(
    `sequential: ${Math.round(iterations / seconds)} verifications/s (${stamped.pdf.length} bytes)`,
  );
  const concurrentStart = performance.now();
  await Promise.all(Array.from({ length: iterations }, () => verifyDocument(stamped.pdf, options)));
  const concurrentSeconds = (performance.now() - concurrentStart) / 1000;
  t.diagnostic(`${iterations} overlapping: ${Math.round(iterations / concurrentSeconds)} verifications/s`);
});

/**
 * One test per fuzzing finding, each with the smallest input that showed it, built in code. Before
 * the engine fixes each of these ended in a plain Error, a hang, an out-of-memory worker or a stamped
 * file that did not re-open as stamped; now each ends in a stamped file or a typed refusal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPdf, latin1Bytes, minimalPdf } from '../pdf/fixture-builder.js';
import { generateDevPki } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import type { CaseResult } from './run-case.js';
import { defaultCaseOptions, fuzzStampEnvironment, runCase } from './run-case.js';

const pki = await generateDevPki();
const environment = fuzzStampEnvironment(
  createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  }),
);

const text = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);

/** `replacement` for the one occurrence of `search`; throws when it is not exactly one. */
function replaceOnce(bytes: Uint8Array, search: string, replacement: string): Uint8Array {
  const parts = text(bytes).split(search);
  assert.equal(parts.length, 2, `expected one '${search}'`);
  return latin1Bytes(parts.join(replacement));
}

/** Nine bytes after the header line: every offset in the file is wrong, so opening it needs the scan. */
function shiftAllOffsets(bytes: Uint8Array): Uint8Array {
  return replaceOnce(bytes, '%PDF-1.4\n', '%PDF-1.4\n%shifted\n');
}

async function outcome(bytes: Uint8Array): Promise<[string, string | null, boolean]> {
  const result: CaseResult = await runCase(bytes, environment, defaultCaseOptions);
  assert.ok(result.elapsedMs < defaultCaseOptions.wallMsMax, `${result.elapsedMs} ms`);
  return [result.outcome, result.code ?? result.problem, result.normalised];
}

test('fixture check: the shifted minimal file is stamped after normalising', async () => {
  assert.deepEqual(await outcome(minimalPdf()), ['stamped', null, false]);
  assert.deepEqual(await outcome(shiftAllOffsets(minimalPdf())), ['stamped', null, true]);
});

test('finding 1: a recovered file with an object lacking endobj is refused, not an Error from rewriteWithFreshXref', async () => {
  // Was: "Error: rewriteWithFreshXref: span 208..268 is not "4 0 obj … endobj"" (seed 295417397 and 27 more).
  const pdf = shiftAllOffsets(replaceOnce(minimalPdf(), 'l S\nendstream\nendobj', 'l S\nendstream\n'));
  assert.deepEqual(await outcome(pdf), ['refused', 'PDF_DAMAGED', false]);
});

test('finding 2: a recovered file with generation 2147483648 is refused, not an Error', async () => {
  // Was: "Error: rewriteWithFreshXref: generation 2147483648 is outside 0..65535" (seed 444364621).
  const pdf = shiftAllOffsets(replaceOnce(minimalPdf(), '4 0 obj', '4 2147483648 obj'));
  assert.deepEqual(await outcome(pdf), ['refused', 'PDF_DAMAGED', false]);
});

test('finding 3: a recovered file whose trailer claims a huge /Size normalises quickly or is refused', async () => {
  // Was: normalising looped over 0../Size calling objectSpan: a 5 s hang and a heap exhausted by the
  // object cache (seeds 419817717, 353624338, 2495172672).
  const large = shiftAllOffsets(replaceOnce(minimalPdf(), '/Size 5', '/Size 999999'));
  assert.deepEqual(await outcome(large), ['stamped', null, true]);
  const huge = shiftAllOffsets(replaceOnce(minimalPdf(), '/Size 5', '/Size 2147483648'));
  assert.deepEqual(await outcome(huge), ['refused', 'PDF_TOO_MANY_OBJECTS', false]);
});

test('finding 4: an intact file whose trailer claims /Size 2147483648 is refused, not stamped past the object limit', async () => {
  // Was: stamped with new objects numbered from 2147483648, a file no reader (ours included) re-opens (seed 53980120).
  const pdf = replaceOnce(minimalPdf(), '/Size 5', '/Size 2147483648');
  assert.deepEqual(await outcome(pdf), ['refused', 'PDF_TOO_MANY_OBJECTS', false]);
});

test('finding 5: when the catalog is also the page, the seal widget stays in its /Annots', async () => {
  // Was: attachToForm rewrote the catalog from the original and dropped the /Annots attachToPage had
  // just added, so the stamped file had no visible seal (seed 1827137040: /Pages 2 0 R -> /Pages 1 0 R).
  const selfPages = replaceOnce(minimalPdf(), '/Pages 2 0 R', '/Pages 1 0 R');
  assert.deepEqual(await outcome(selfPages), ['stamped', null, false]);
  // The same aliasing, with the page serving as the /AcroForm dictionary.
  const pageIsForm = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      { number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [] >>' },
    ],
    trailer: '/Root 1 0 R',
  });
  assert.deepEqual(await outcome(pageIsForm), ['stamped', null, false]);
});

test('finding 6: numbers and references past 2^53 or generation 65535 are refused, not an Error in the writer', async () => {
  // Was: "serialize: integer 100000000000000020000 is beyond 2^53" (seed 3570647260) and
  // "ByteWriter.writeInteger: 100000000000000020000 is not a safe integer" (seed 3288068642).
  const bigNumber = minimalPdf('/MediaBox [0 0 612 792] /UserUnit 99999999999999999999');
  assert.deepEqual(await outcome(bigNumber), ['refused', 'PDF_DAMAGED', false]);
  const bigReference = minimalPdf('/MediaBox [0 0 612 792] /Thumb 99999999999999999999 0 R');
  assert.deepEqual(await outcome(bigReference), ['refused', 'PDF_DAMAGED', false]);
  const bigGeneration = replaceOnce(minimalPdf(), '/Kids [3 0 R]', '/Kids [3 70000 R]');
  assert.deepEqual(await outcome(bigGeneration), ['refused', 'PDF_DAMAGED', false]);
});

test('finding 7: an xref broken only where the page lives is normalised, not stamped onto the broken table', async () => {
  // Was: the reader recovered lazily while finding the page, after stampDocument had decided not to
  // normalise; the update went onto the broken table and the stamped file lost its page tree (seed 3621130964).
  const pdf = minimalPdf();
  const body = text(pdf);
  const entries = body.indexOf('xref\n0 5\n') + 'xref\n0 5\n'.length;
  const pageEntry = entries + 3 * 20;
  const offset = Number(body.slice(pageEntry, pageEntry + 10));
  assert.equal(body.slice(offset, offset + 7), '3 0 obj');
  const broken = body.slice(0, pageEntry) + String(offset + 1).padStart(10, '0') + body.slice(pageEntry + 10);
  assert.deepEqual(await outcome(latin1Bytes(broken)), ['stamped', null, true]);
});

test('finding 8: a file at the object limit is refused, not stamped one object past it', async () => {
  // Was: /Size 1000000 passed the limit (equal is allowed), the stamp's three new objects took the
  // file to 1000003 and the stamped file could not be re-opened (seed 329084403, run seed 7).
  const atLimit = replaceOnce(minimalPdf(), '/Size 5', '/Size 1000000');
  assert.deepEqual(await outcome(atLimit), ['refused', 'PDF_TOO_MANY_OBJECTS', false]);
  const roomForThree = replaceOnce(minimalPdf(), '/Size 5', '/Size 999997');
  assert.deepEqual(await outcome(roomForThree), ['stamped', null, false]);
});

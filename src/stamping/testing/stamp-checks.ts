/**
 * Test-only: the checks every stamped file must pass, written once for the fixture tests and the corpus
 * test. `assertSignedBytes` judges the bytes (prefix, /ByteRange, digest, CMS); `assertStampObjects`
 * re-opens the output and judges the objects the stamp added (widget, field, signature dictionary).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  isArray,
  isDict,
  isName,
  isRef,
  PdfDict,
  PdfName,
  type PdfObject,
  PdfRef,
  PdfString,
} from '../../pdf/objects.js';
import type { Rectangle } from '../../pdf/page-tree.js';
import type { PdfDocument } from '../../pdf/reader.js';
import type { Signer } from '../../pades/cms.js';
import type { StampResult } from '../stamp-document.js';
import { type CmsFacts, cmsFromGap, inspectCms, oids } from './signature-check.js';

const latin1 = new TextDecoder('latin1');

function sha256(parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** The last `/ByteRange [...]` written in the appended bytes, as numbers. */
function writtenByteRange(output: Uint8Array, from: number): number[] {
  const text = latin1.decode(output.subarray(from));
  const matches = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const last = matches[matches.length - 1];
  assert.ok(last !== undefined, 'the update writes a /ByteRange');
  return last.slice(1, 5).map(Number);
}

/**
 * The original is an exact prefix (unless `prefix` is false: a normalised file); /ByteRange is
 * `[0 a b c]` covering the whole file except exactly the `<hex>` of /Contents; `contentDigest` is the
 * SHA-256 of the two ranges; the CMS verifies and its messageDigest is `contentDigest`.
 */
export function assertSignedBytes(
  input: Uint8Array,
  result: StampResult,
  signer: Signer,
  options: { readonly prefix: boolean },
): CmsFacts {
  const output = result.pdf;
  const base = options.prefix ? input.length : output.length - result.addedBytes;
  if (options.prefix) {
    assert.equal(Buffer.compare(output.subarray(0, input.length), input), 0, 'the original is a byte prefix');
  }
  assert.equal(result.addedBytes, output.length - base, 'addedBytes counts the appended bytes');
  const [zero, gapStart, gapEnd, tailLength] = result.byteRange;
  assert.equal(zero, 0);
  assert.ok(gapStart >= base && gapStart < gapEnd, 'the gap lies in the appended update');
  assert.equal(gapEnd + tailLength, output.length, 'the second range runs to the end of the file');
  assert.deepEqual(writtenByteRange(output, base), [...result.byteRange], 'the written /ByteRange');
  const before = latin1.decode(output.subarray(Math.max(0, gapStart - 12), gapStart));
  assert.match(before, /\/Contents\s*$/, 'the gap is the value of /Contents');
  assert.match(
    latin1.decode(output.subarray(gapStart, gapEnd)),
    /^<[0-9A-Fa-f]+>$/,
    'the gap is exactly <hex>',
  );

  const ranges = [output.subarray(0, gapStart), output.subarray(gapEnd, gapEnd + tailLength)];
  assert.deepEqual(result.contentDigest, sha256(ranges), 'contentDigest is SHA-256 of the two ranges');
  const cms = inspectCms(cmsFromGap(output, result.byteRange).der);
  assert.equal(cms.contentType, oids.signedData);
  assert.equal(cms.encapsulatedContentType, oids.data);
  assert.equal(cms.detached, true, 'the content is detached');
  assert.equal(cms.digestAlgorithm, oids.sha256);
  assert.equal(cms.signatureAlgorithm, oids.ecdsaWithSha256);
  assert.deepEqual(cms.signedAttributeTypes, [
    oids.contentType,
    oids.messageDigest,
    oids.signingCertificateV2,
  ]);
  assert.deepEqual(cms.messageDigest, result.contentDigest, 'messageDigest equals contentDigest');
  assert.deepEqual(cms.signerCertificate, signer.certificate, 'the SignerInfo names the signer certificate');
  assert.deepEqual(cms.certificates, [signer.certificate, ...signer.chain], 'signer and issuing CA, no root');
  assert.equal(cms.signatureValid, true, 'the signature over the signed attributes verifies');
  return cms;
}

export interface StampedObjects {
  readonly widgetRef: PdfRef;
  readonly widget: PdfDict;
  readonly signature: PdfDict;
  readonly form: PdfDict;
  readonly annots: readonly PdfObject[];
  readonly fields: readonly PdfObject[];
}

function dictOf(document: PdfDocument, value: PdfObject | undefined, what: string): PdfDict {
  const resolved = document.resolve(value);
  assert.ok(isDict(resolved), `${what} is a dictionary`);
  return resolved;
}

function arrayOf(document: PdfDocument, value: PdfObject | undefined, what: string): PdfObject[] {
  const resolved = document.resolve(value);
  assert.ok(isArray(resolved), `${what} is an array`);
  return resolved;
}

/** Finds the stamp in a re-opened output: the last entry of the page's /Annots. */
export function readStampedObjects(document: PdfDocument, pageNumber: number): StampedObjects {
  const page = document.getPage(pageNumber);
  const annots = arrayOf(document, page.dict.get('Annots'), 'the page /Annots');
  const widgetRef = annots[annots.length - 1];
  assert.ok(isRef(widgetRef), 'the widget is an indirect object');
  const widget = dictOf(document, widgetRef, 'the widget');
  const form = dictOf(document, document.catalog.get('AcroForm'), '/AcroForm');
  return {
    widgetRef,
    widget,
    signature: dictOf(document, widget.get('V'), 'the signature /V'),
    form,
    annots,
    fields: arrayOf(document, form.get('Fields'), '/AcroForm /Fields'),
  };
}

function text(value: PdfObject | undefined): string {
  assert.ok(value instanceof PdfString, 'a string');
  return latin1.decode(value.bytes);
}

export interface StampExpectation {
  readonly pageNumber: number;
  readonly rect: Rectangle;
  readonly serial: string;
  /** The expected /Reason, e.g. `[SERIAL] Surat Pernyataan`. */
  readonly reason: string;
  readonly signingTimePdf: string;
  readonly byteRange: readonly number[];
}

/** Reals are written with at most six decimals, so a written /Rect is placeSeal's rounded to 1e-6. */
function assertRectangle(actual: PdfObject | undefined, expected: Rectangle): void {
  assert.ok(isArray(actual) && actual.length === 4, '/Rect has four numbers');
  for (const [index, value] of actual.entries()) {
    assert.ok(typeof value === 'number', '/Rect holds numbers');
    const difference = Math.abs(value - expected[index]!);
    assert.ok(difference <= 1e-6, `/Rect [${actual.join(' ')}] is not [${expected.join(' ')}]`);
  }
}

/** The widget, its place in /Annots and /Fields, and the signature dictionary, entry by entry. */
export function assertStampObjects(document: PdfDocument, expected: StampExpectation): StampedObjects {
  const stamped = readStampedObjects(document, expected.pageNumber);
  const { widget, signature } = stamped;
  const pageRef = document.getPage(expected.pageNumber).ref;
  assert.deepEqual(
    [...widget.entries.keys()].sort(),
    ['AP', 'F', 'FT', 'P', 'Rect', 'Subtype', 'T', 'Type', 'V'],
    'the widget has exactly these entries',
  );
  assert.equal(widget.get('Type'), PdfName.of('Annot'));
  assert.equal(widget.get('Subtype'), PdfName.of('Widget'));
  assert.equal(widget.get('FT'), PdfName.of('Sig'));
  assert.equal(text(widget.get('T')), `e-meterai ${expected.serial}`);
  assert.equal(widget.get('F'), 132);
  const parent = widget.get('P');
  assert.ok(parent instanceof PdfRef && parent.key === pageRef.key, '/P is the stamped page');
  assertRectangle(widget.get('Rect'), expected.rect);
  const appearance = dictOf(document, widget.get('AP'), '/AP');
  assert.ok(isRef(appearance.get('N')), '/AP /N is a stream object');

  const last = stamped.fields[stamped.fields.length - 1];
  assert.ok(isRef(last) && last.key === stamped.widgetRef.key, 'the field is the last entry of /Fields');
  assert.ok(isName(signature.get('Type'), 'Sig'));
  assert.equal(signature.get('Filter'), PdfName.of('Adobe.PPKLite'));
  assert.equal(signature.get('SubFilter'), PdfName.of('ETSI.CAdES.detached'));
  assert.equal(text(signature.get('Reason')), expected.reason);
  assert.equal(text(signature.get('M')), expected.signingTimePdf);
  assert.deepEqual(signature.get('ByteRange'), [...expected.byteRange]);
  return stamped;
}

/** The kind of the newest cross-reference section, read from the bytes at the last `startxref`. */
export function newestXrefKind(bytes: Uint8Array, offsetBase = 0): 'table' | 'stream' {
  const tail = latin1.decode(bytes.subarray(Math.max(0, bytes.length - 64)));
  const match = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  assert.ok(match !== null, 'the file ends with startxref and %%EOF');
  const at = latin1.decode(bytes.subarray(Number(match[1]) + offsetBase, Number(match[1]) + offsetBase + 24));
  if (at.startsWith('xref')) return 'table';
  assert.match(at, /^\d+\s+\d+\s+obj/, 'startxref points at xref or at an object');
  return 'stream';
}

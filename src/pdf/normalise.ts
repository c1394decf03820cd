/**
 * Normalisation of a file whose cross-reference data was broken and recovered by scanning for
 * `N G obj` (corpus a29: every entry points 7 bytes past its object). Appending a signed update to
 * such a file is not acceptable: a validator re-reading the signed revision would follow the broken
 * chain. An unsigned file may instead be rewritten whole — each object's bytes copied verbatim, a
 * correct classic table, one trailer without /Prev — and then stamped with an incremental update.
 *
 * Limits: the spans must be whole uncompressed objects (`N G obj … endobj`). Objects that lived only
 * inside object streams cannot be listed by a classic table; this is meant for classic files.
 */
import { ByteWriter } from './byte-writer.js';
import { PdfDict } from './objects.js';
import { serializedSize, writeObject } from './serialize.js';

export interface ObjectSpan {
  readonly objectNumber: number;
  readonly generation: number;
  /** Offset of the first digit of `N G obj`. */
  readonly start: number;
  /** Offset just past `endobj`. */
  readonly end: number;
}

/** The largest object number PDF readers must support (ISO 32000-2 Annex C, 8,388,607). */
export const objectNumberMax = 8_388_607;

/** Trailer keys that describe the old cross-reference data and so are dropped or recomputed. */
const staleTrailerKeys = new Set([
  'Size',
  'Prev',
  'XRefStm',
  'Type',
  'W',
  'Index',
  'Length',
  'Filter',
  'DecodeParms',
]);
/** `%âãÏÓ` LF: the comment with bytes above 127 that tells transfer tools the file is binary. */
const binaryComment = new Uint8Array([0x25, 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]);

/**
 * A new file holding each object's original bytes, a correct classic cross-reference table covering
 * objects 0..max (numbers not given are free) and `trailer` (without /Prev, /Size recomputed).
 * When an object number occurs more than once, the later span wins, as in a file's later revision.
 */
export function rewriteWithFreshXref(
  bytes: Uint8Array,
  objects: Iterable<ObjectSpan>,
  trailer: PdfDict,
): Uint8Array {
  const spans = chosenSpans(bytes, objects);
  const numbers = [...spans.keys()].sort((left, right) => left - right);
  const size = (numbers[numbers.length - 1] ?? 0) + 1;
  const newTrailer = new PdfDict().set('Size', size);
  for (const [key, value] of trailer.entries) if (!staleTrailerKeys.has(key)) newTrailer.set(key, value);
  if (!newTrailer.has('Root')) throw new Error('rewriteWithFreshXref: the trailer has no /Root');

  const header = `%PDF-${headerVersion(bytes)}\n`;
  const offsets = new Map<number, number>();
  let position = header.length + binaryComment.length;
  for (const objectNumber of numbers) {
    const span = spans.get(objectNumber)!;
    offsets.set(objectNumber, position);
    position += span.end - span.start + 1;
  }
  const xrefOffset = position;
  const xrefHeader = `xref\n0 ${size}\n`;
  const tail = `\nstartxref\n${xrefOffset}\n%%EOF\n`;
  const total =
    xrefOffset +
    xrefHeader.length +
    20 * size +
    'trailer\n'.length +
    serializedSize(newTrailer) +
    tail.length;

  const writer = new ByteWriter(total, total);
  writer.writeAscii(header);
  writer.writeBytes(binaryComment);
  for (const objectNumber of numbers) {
    const span = spans.get(objectNumber)!;
    writer.writeBytes(bytes.subarray(span.start, span.end));
    writer.writeByte(0x0a);
  }
  writer.writeAscii(xrefHeader);
  writeTable(writer, size, spans, offsets);
  writer.writeAscii('trailer\n');
  writeObject(writer, newTrailer);
  writer.writeAscii(tail);
  if (writer.offset !== total)
    throw new Error('rewriteWithFreshXref: invariant broken: size differs from bytes written');
  return writer.toBytes();
}

function chosenSpans(bytes: Uint8Array, objects: Iterable<ObjectSpan>): Map<number, ObjectSpan> {
  const spans = new Map<number, ObjectSpan>();
  for (const span of objects) {
    checkSpan(bytes, span);
    spans.set(span.objectNumber, span);
  }
  if (spans.size === 0) throw new Error('rewriteWithFreshXref: no objects');
  return spans;
}

/** The spans come from the reader's scan; one that is not `N G obj … endobj` is a programmer error. */
function checkSpan(bytes: Uint8Array, span: ObjectSpan): void {
  const { objectNumber, generation, start, end } = span;
  if (!Number.isInteger(objectNumber) || objectNumber < 1 || objectNumber > objectNumberMax) {
    throw new Error(`rewriteWithFreshXref: object number ${objectNumber} is outside 1..${objectNumberMax}`);
  }
  if (!Number.isInteger(generation) || generation < 0 || generation > 65535) {
    throw new Error(`rewriteWithFreshXref: generation ${generation} is outside 0..65535`);
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > bytes.length || end <= start) {
    throw new Error(
      `rewriteWithFreshXref: span ${start}..${end} of object ${objectNumber} is outside the file`,
    );
  }
  const opening = `${objectNumber} ${generation} obj`;
  if (asciiAt(bytes, start, opening.length) !== opening || asciiAt(bytes, end - 6, 6) !== 'endobj') {
    throw new Error(`rewriteWithFreshXref: span ${start}..${end} is not "${opening} … endobj"`);
  }
}

function asciiAt(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  for (let index = start; index < start + length && index < bytes.length; index += 1) {
    text += String.fromCharCode(bytes[index]!);
  }
  return text;
}

/** `1.4` from a `%PDF-1.4` header; 1.7 when the header is missing or odd (the body decides anyway). */
function headerVersion(bytes: Uint8Array): string {
  const match = /^%PDF-([12]\.\d)/.exec(asciiAt(bytes, 0, 8));
  return match?.[1] ?? '1.7';
}

/**
 * Entries 0..size-1: in-use entries for the given objects; every other number (and 0) free, linked
 * in ascending order into the free list that entry 0 heads (ISO 32000-2 §7.5.4).
 */
function writeTable(
  writer: ByteWriter,
  size: number,
  spans: Map<number, ObjectSpan>,
  offsets: Map<number, number>,
): void {
  let nextFree = 0;
  const free = new Array<number>(size).fill(0);
  for (let objectNumber = size - 1; objectNumber >= 0; objectNumber -= 1) {
    free[objectNumber] = nextFree;
    if (objectNumber === 0 || !spans.has(objectNumber)) nextFree = objectNumber;
  }
  for (let objectNumber = 0; objectNumber < size; objectNumber += 1) {
    const span = spans.get(objectNumber);
    if (span) {
      writer.writePaddedInteger(offsets.get(objectNumber)!, 10);
      writer.writeByte(0x20);
      writer.writePaddedInteger(span.generation, 5);
      writer.writeAscii(' n \n');
    } else {
      writer.writePaddedInteger(free[objectNumber]!, 10);
      writer.writeAscii(objectNumber === 0 ? ' 65535 f \n' : ' 00000 f \n');
    }
  }
}

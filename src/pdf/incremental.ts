/**
 * The append-only writer (ISO 32000-2 §7.5.6): one incremental update appended to an existing PDF,
 * so the original bytes stay an exact prefix of the output and earlier signatures stay valid.
 *
 * The update is laid out before a single byte is written: every object's size is known, so every
 * offset (including the cross-reference section's and the signature's /ByteRange) is known, the
 * output is allocated once at its exact size, the original is copied once and each new object is
 * written once, straight into place. The /ByteRange is written with a fixed width (numbers padded
 * with spaces) so its value never changes the layout it describes.
 *
 * The new cross-reference section has the kind of the file's newest one: a classic table after a
 * table (listing only the objects written here: object 0 heads the free list, which an update
 * that frees nothing leaves alone, as §7.5.6 asks — "entries only for objects that have been
 * changed, replaced, or deleted"), a cross-reference stream after a stream (with its own entry).
 */
import { zlibSync } from 'fflate';
import { ByteWriter, decimalDigitCount } from './byte-writer.js';
import type { PdfObject } from './objects.js';
import { isArray, isName, PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';
import type { SecurityHandler } from './security.js';
import {
  dictEntriesSize,
  indirectObjectSize,
  objectHeaderSize,
  objectTrailer,
  serializedSize,
  writeDictEntries,
  writeIndirectObject,
  writeObject,
  writeObjectHeader,
} from './serialize.js';

/** What the writer needs from the reader's document (the reader's PdfDocument provides these). */
export interface AppendBase {
  readonly bytes: Uint8Array;
  /** Offset of the newest cross-reference section: the update's /Prev. */
  readonly startxref: number;
  readonly xrefKind: 'table' | 'stream';
  /** The newest trailer (or cross-reference stream dictionary). */
  readonly trailer: PdfDict;
  /** The newest /Size: one past the highest object number in use. */
  readonly size: number;
  readonly security: SecurityHandler | null;
  /**
   * What the file's offsets count from: 0 normally, the position of `%PDF-` when a file with leading
   * garbage counts from its header (the reader tells which). The update writes offsets the same way.
   */
  readonly offsetBase?: number;
}

export interface IncrementalUpdateOptions {
  /** The new second element of /ID, 16 bytes; random when absent (tests pass a fixed one). */
  readonly fileIdentifier?: Uint8Array;
  /** Flate-compress the cross-reference stream (only used after a cross-reference stream). */
  readonly compressXrefStream?: boolean;
}

export interface IncrementalUpdateBuildOptions {
  /**
   * Write only what the update appends (`bytesStart` is then the base's length), not a copy of the base
   * followed by it. Offsets (`byteRange`, `contentsOffset`, `startxref`) are the file's all the same.
   */
  readonly appendedOnly?: boolean;
}

export interface IncrementalUpdateResult {
  /** The whole file, or with `appendedOnly` the appended bytes alone (from `bytesStart` on). */
  readonly bytes: Uint8Array;
  /** The file offset of `bytes[0]`: 0, or the base's length with `appendedOnly`. */
  readonly bytesStart: number;
  /** `[0, a, b, c]`: everything except the `<hex>` of /Contents, delimiters included; null unsigned. */
  readonly byteRange: [number, number, number, number] | null;
  /** Offset of the `<` opening the /Contents placeholder; -1 without a signature. */
  readonly contentsOffset: number;
  /** Length of the placeholder including `<` and `>` (2 × contentsBytes + 2); 0 without a signature. */
  readonly contentsLength: number;
  /** Bytes appended after the original (the EOL added after an original without one included). */
  readonly addedBytes: number;
  /** The value written after `startxref` (relative to the base's offsetBase): a later update's /Prev. */
  readonly startxref: number;
  /** The new /Size. */
  readonly size: number;
}

/** More objects than this in one stamp update is a programmer error (a stamp writes about ten). */
export const updateObjectsMax = 100_000;
/** The largest signature placeholder, in bytes of CMS (the hex is twice as long). */
export const signatureContentsBytesMax = 1_048_576;
/** `[0 a b c]` with three 10-digit numbers (3 + 10 + 1 + 10 + 1 + 10 + 1 characters): files up to 9,999,999,999 bytes. */
const byteRangeWidth = 36;
const byteRangeDigitsMax = 10;
const fileIdentifierBytes = 16;

interface SignaturePlan {
  readonly dict: PdfDict;
  readonly contentsBytes: number;
}

interface PendingObject {
  readonly ref: PdfRef;
  readonly value: PdfObject;
  readonly signature: SignaturePlan | null;
}

interface PlannedObject {
  readonly ref: PdfRef;
  readonly value: PdfObject;
  readonly signature: SignaturePlan | null;
  readonly offset: number;
  readonly size: number;
}

export class IncrementalUpdate {
  private readonly base: AppendBase;
  private readonly fileIdentifier: Uint8Array;
  private readonly compressXrefStream: boolean;
  private readonly objects = new Map<number, PendingObject>();
  private nextObjectNumber: number;
  private signed = false;

  constructor(base: AppendBase, options: IncrementalUpdateOptions = {}) {
    checkBase(base);
    this.base = base;
    this.fileIdentifier = options.fileIdentifier ?? globalThis.crypto.getRandomValues(new Uint8Array(16));
    if (this.fileIdentifier.length !== fileIdentifierBytes) {
      throw new Error(`IncrementalUpdate: fileIdentifier must be ${fileIdentifierBytes} bytes`);
    }
    this.compressXrefStream = options.compressXrefStream ?? false;
    this.nextObjectNumber = base.size;
  }

  /** A fresh object number (generation 0), counting up from the base's /Size. */
  allocate(): PdfRef {
    if (this.nextObjectNumber - this.base.size >= updateObjectsMax) {
      throw new Error(`IncrementalUpdate: more than ${updateObjectsMax} new objects in one update`);
    }
    const ref = new PdfRef(this.nextObjectNumber, 0);
    this.nextObjectNumber += 1;
    return ref;
  }

  /** A new object (from `allocate`) or a replacement of an existing one (same number and generation). */
  set(ref: PdfRef, value: PdfObject): void {
    this.put(ref, value, null);
  }

  /** The value this update already holds for `ref` (created or replaced), or undefined. */
  pending(ref: PdfRef): PdfObject | undefined {
    return this.objects.get(ref.objectNumber)?.value;
  }

  /**
   * The signature dictionary (ISO 32000-2 §12.8.1). The writer adds /ByteRange and a /Contents
   * placeholder of `contentsBytes` zero bytes (written as 2 × contentsBytes hex digits), last.
   */
  addSignature(ref: PdfRef, dict: PdfDict, contentsBytes: number): void {
    if (this.signed) throw new Error('IncrementalUpdate: one signature per update');
    if (dict.has('ByteRange') || dict.has('Contents')) {
      throw new Error('IncrementalUpdate: the writer adds /ByteRange and /Contents itself');
    }
    if (!Number.isInteger(contentsBytes) || contentsBytes < 1 || contentsBytes > signatureContentsBytesMax) {
      throw new Error(
        `IncrementalUpdate: contentsBytes ${contentsBytes} is not within 1..${signatureContentsBytesMax}`,
      );
    }
    this.put(ref, dict, { dict, contentsBytes });
    this.signed = true;
  }

  build(options?: IncrementalUpdateBuildOptions): IncrementalUpdateResult {
    // An empty classic section is not valid syntax (qpdf calls it damaged), and a stamp always writes.
    if (this.objects.size === 0) throw new Error('IncrementalUpdate: an update with no objects');
    const base = this.base;
    const bytesStart = options?.appendedOnly === true ? base.bytes.length : 0;
    const needsEol = !endsWithEol(base.bytes);
    const prefixLength = base.bytes.length + (needsEol ? 1 : 0);
    const planned = this.plan(prefixLength);
    const last = planned[planned.length - 1];
    const xrefOffset = last ? last.offset + last.size : prefixLength;
    const offsetBase = base.offsetBase ?? 0;
    const section = this.crossReferenceSection(planned, xrefOffset, offsetBase);
    const total = xrefOffset + section.size;
    const signature = signatureLayout(planned, total);

    const writer = new ByteWriter(total - bytesStart, total - bytesStart);
    if (bytesStart === 0) writer.writeBytes(base.bytes);
    if (needsEol) writer.writeByte(0x0a);
    for (const object of planned) {
      assertOffset(writer, object.offset - bytesStart, 'object start');
      if (object.signature) writeSignatureObject(writer, object.ref, object.signature, signature.byteRange);
      else writeIndirectObject(writer, object.ref, object.value);
    }
    assertOffset(writer, xrefOffset - bytesStart, 'cross-reference section');
    section.write(writer);
    assertOffset(writer, total - bytesStart, 'end of file');
    const bytes = writer.toBytes();
    if (signature.byteRange) {
      assertPlaceholder(bytes, signature.contentsOffset - bytesStart, signature.contentsLength);
    }
    return {
      bytes,
      bytesStart,
      byteRange: signature.byteRange,
      contentsOffset: signature.contentsOffset,
      contentsLength: signature.contentsLength,
      addedBytes: total - base.bytes.length,
      startxref: xrefOffset - offsetBase,
      size: section.newSize,
    };
  }

  private put(ref: PdfRef, value: PdfObject, signature: SignaturePlan | null): void {
    if (
      !Number.isSafeInteger(ref.objectNumber) ||
      ref.objectNumber < 1 ||
      ref.objectNumber >= this.nextObjectNumber
    ) {
      throw new Error(`IncrementalUpdate: object ${ref.objectNumber} is neither in the base nor allocated`);
    }
    if (!Number.isInteger(ref.generation) || ref.generation < 0 || ref.generation > 65535) {
      throw new Error(`IncrementalUpdate: generation ${ref.generation} is outside 0..65535`);
    }
    const existing = this.objects.get(ref.objectNumber);
    if (existing?.signature) {
      throw new Error(`IncrementalUpdate: object ${ref.objectNumber} is the signature`);
    }
    if (existing && existing.ref.generation !== ref.generation) {
      throw new Error(`IncrementalUpdate: object ${ref.objectNumber} set with two generations`);
    }
    if (this.objects.size >= updateObjectsMax) throw new Error('IncrementalUpdate: too many objects');
    this.objects.set(ref.objectNumber, { ref, value, signature });
  }

  /** Objects in ascending object number, encrypted as needed, with their sizes and offsets. */
  private plan(prefixLength: number): PlannedObject[] {
    const security = this.base.security;
    const numbers = [...this.objects.keys()].sort((left, right) => left - right);
    const planned: PlannedObject[] = [];
    let offset = prefixLength;
    for (const objectNumber of numbers) {
      const entry = this.objects.get(objectNumber)!;
      const { ref } = entry;
      let signature = entry.signature;
      let value = entry.value;
      if (security) {
        value = encryptValue(value, security, ref, 0);
        // The signature's other strings (/M, /Reason…) are encrypted; /Contents never is (§7.6.2).
        if (signature) signature = { dict: value as PdfDict, contentsBytes: signature.contentsBytes };
      }
      const size = signature ? signatureObjectSize(ref, signature) : indirectObjectSize(ref, value);
      planned.push({ ref, value, signature, offset, size });
      offset += size;
    }
    return planned;
  }

  /** Offsets in the section are written relative to `offsetBase`; `xrefOffset` is absolute. */
  private crossReferenceSection(
    planned: PlannedObject[],
    xrefOffset: number,
    offsetBase: number,
  ): CrossReferenceSection {
    const trailer = this.trailerEntries();
    if (this.base.xrefKind === 'table') {
      const newSize = Math.max(this.base.size, this.nextObjectNumber);
      trailer.entries.set('Size', newSize);
      return classicSection(planned, trailer, { xrefOffset, offsetBase, newSize, prev: this.base.startxref });
    }
    const streamRef = new PdfRef(this.nextObjectNumber, 0);
    const newSize = Math.max(this.base.size, this.nextObjectNumber + 1);
    const place = { xrefOffset, offsetBase, newSize, prev: this.base.startxref };
    return streamSection(planned, trailer, { ...place, streamRef, compress: this.compressXrefStream });
  }

  /** /Root, /Info, /ID (first element kept, second new) and /Encrypt, in that order, after /Size. */
  private trailerEntries(): PdfDict {
    const old = this.base.trailer;
    const trailer = new PdfDict();
    trailer.set('Size', 0); // Placeholder so /Size comes first; the caller sets the real value.
    trailer.set('Root', old.get('Root')!);
    const info = old.get('Info');
    if (info !== undefined) trailer.set('Info', info);
    const id = this.identifier(old.get('ID'));
    if (id !== undefined) trailer.set('ID', id);
    const encrypt = old.get('Encrypt');
    if (encrypt !== undefined) trailer.set('Encrypt', encrypt);
    return trailer;
  }

  private identifier(old: PdfObject | undefined): PdfObject | undefined {
    const fresh = new PdfString(this.fileIdentifier, true);
    const first = isArray(old) ? old[0] : undefined;
    if (first instanceof PdfString) return [first, fresh];
    // An encrypted file's key was derived from its /ID (or from its absence): never invent one.
    if (this.base.security) return old;
    return [fresh, fresh];
  }
}

interface CrossReferenceSection {
  readonly size: number;
  readonly newSize: number;
  write(writer: ByteWriter): void;
}

function checkBase(base: AppendBase): void {
  if (base.startxref < 0 || base.startxref >= base.bytes.length || !Number.isInteger(base.startxref)) {
    throw new Error(`IncrementalUpdate: startxref ${base.startxref} is outside the file`);
  }
  if (!Number.isSafeInteger(base.size) || base.size < 1)
    throw new Error(`IncrementalUpdate: bad /Size ${base.size}`);
  if (!(base.trailer.get('Root') instanceof PdfRef))
    throw new Error('IncrementalUpdate: the trailer has no /Root');
}

function endsWithEol(bytes: Uint8Array): boolean {
  const last = bytes[bytes.length - 1];
  return last === 0x0a || last === 0x0d;
}

function assertOffset(writer: ByteWriter, expected: number, what: string): void {
  if (writer.offset !== expected) {
    throw new Error(`IncrementalUpdate: invariant broken: ${what} at ${writer.offset}, planned ${expected}`);
  }
}

/** Every string and stream in `value` encrypted for object `ref` (a new tree; the input is untouched). */
function encryptValue(value: PdfObject, security: SecurityHandler, ref: PdfRef, depth: number): PdfObject {
  if (depth > 256) throw new Error('IncrementalUpdate: values nest deeper than 256 (a cycle?)');
  if (value instanceof PdfString) {
    return new PdfString(security.encryptString(ref.objectNumber, ref.generation, value.bytes), value.hex);
  }
  if (Array.isArray(value)) return value.map((item) => encryptValue(item, security, ref, depth + 1));
  if (value instanceof PdfDict) return encryptDict(value, security, ref, depth);
  if (value instanceof PdfStream) {
    const dict = encryptDict(value.dict, security, ref, depth);
    // With /EncryptMetadata false the metadata stream stays in clear (§7.6.3.2, Table 20).
    const clear = !security.encryptMetadata && isName(value.dict.get('Type'), 'Metadata');
    const raw = clear ? value.raw : security.encryptStream(ref.objectNumber, ref.generation, value.raw);
    return new PdfStream(dict, raw);
  }
  return value;
}

function encryptDict(dict: PdfDict, security: SecurityHandler, ref: PdfRef, depth: number): PdfDict {
  const entries = new Map<string, PdfObject>();
  for (const [key, item] of dict.entries) entries.set(key, encryptValue(item, security, ref, depth + 1));
  return new PdfDict(entries);
}

const byteRangeKey = '/ByteRange ';
const contentsKey = ' /Contents ';

/** Bytes from the object's start to the `<` of /Contents. */
function signatureContentsStart(ref: PdfRef, signature: SignaturePlan): number {
  const entries = dictEntriesSize(signature.dict);
  const separator = signature.dict.entries.size > 0 ? 1 : 0;
  return (
    objectHeaderSize(ref) +
    2 +
    entries +
    separator +
    byteRangeKey.length +
    byteRangeWidth +
    contentsKey.length
  );
}

function signatureObjectSize(ref: PdfRef, signature: SignaturePlan): number {
  const contentsLength = 2 * signature.contentsBytes + 2;
  return signatureContentsStart(ref, signature) + contentsLength + 2 + objectTrailer.length;
}

/** `N G obj\n<<... /ByteRange [0 a b c   ] /Contents <00…>>>\nendobj\n`. */
function writeSignatureObject(
  writer: ByteWriter,
  ref: PdfRef,
  signature: SignaturePlan,
  byteRange: [number, number, number, number] | null,
): void {
  if (!byteRange) throw new Error('IncrementalUpdate: invariant broken: signature without a byte range');
  writeObjectHeader(writer, ref);
  writer.writeAscii('<<');
  if (writeDictEntries(writer, signature.dict) > 0) writer.writeByte(0x20);
  writer.writeAscii(byteRangeKey);
  const text = `[0 ${byteRange[1]} ${byteRange[2]} ${byteRange[3]}`;
  writer.writeAscii(text);
  writer.writeRepeated(0x20, byteRangeWidth - 1 - text.length);
  writer.writeByte(0x5d);
  writer.writeAscii(contentsKey);
  writer.writeByte(0x3c);
  writer.writeRepeated(0x30, 2 * signature.contentsBytes);
  writer.writeAscii('>>>');
  writer.writeAscii(objectTrailer);
}

interface SignatureLayout {
  readonly byteRange: [number, number, number, number] | null;
  readonly contentsOffset: number;
  readonly contentsLength: number;
}

function signatureLayout(planned: PlannedObject[], total: number): SignatureLayout {
  const object = planned.find((candidate) => candidate.signature !== null);
  if (!object?.signature) return { byteRange: null, contentsOffset: -1, contentsLength: 0 };
  const contentsOffset = object.offset + signatureContentsStart(object.ref, object.signature);
  const contentsLength = 2 * object.signature.contentsBytes + 2;
  const after = contentsOffset + contentsLength;
  if (decimalDigitCount(total) > byteRangeDigitsMax)
    throw new Error('IncrementalUpdate: file too large for /ByteRange');
  return { byteRange: [0, contentsOffset, after, total - after], contentsOffset, contentsLength };
}

function assertPlaceholder(bytes: Uint8Array, offset: number, length: number): void {
  if (bytes[offset] !== 0x3c || bytes[offset + length - 1] !== 0x3e) {
    throw new Error('IncrementalUpdate: invariant broken: /Contents placeholder not where planned');
  }
}

/** Runs of consecutive object numbers: `[first, count]` pairs. */
function subsections(numbers: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const objectNumber of numbers) {
    const run = runs[runs.length - 1];
    if (run && run[0] + run[1] === objectNumber) run[1] += 1;
    else runs.push([objectNumber, 1]);
  }
  return runs;
}

function tailSize(xrefOffset: number): number {
  return '\nstartxref\n'.length + decimalDigitCount(xrefOffset) + '\n%%EOF\n'.length;
}

function writeTail(writer: ByteWriter, xrefOffset: number): void {
  writer.writeAscii('\nstartxref\n');
  writer.writeInteger(xrefOffset);
  writer.writeAscii('\n%%EOF\n');
}

interface SectionPlace {
  /** Absolute offset of the section in the output. */
  readonly xrefOffset: number;
  /** Subtracted from every offset the section writes (see AppendBase.offsetBase). */
  readonly offsetBase: number;
  readonly newSize: number;
  readonly prev: number;
}

/** `xref` + subsections of 20-byte entries (`oooooooooo ggggg n` SP LF) + `trailer <<…>>` + tail. */
function classicSection(
  planned: PlannedObject[],
  trailer: PdfDict,
  place: SectionPlace,
): CrossReferenceSection {
  const { offsetBase, newSize } = place;
  const xrefOffset = place.xrefOffset - offsetBase;
  trailer.set('Prev', place.prev);
  const runs = subsections(planned.map((object) => object.ref.objectNumber));
  let size =
    'xref\n'.length +
    20 * planned.length +
    'trailer\n'.length +
    serializedSize(trailer) +
    tailSize(xrefOffset);
  for (const [first, count] of runs) size += decimalDigitCount(first) + 1 + decimalDigitCount(count) + 1;
  const write = (writer: ByteWriter): void => {
    writer.writeAscii('xref\n');
    let index = 0;
    for (const [first, count] of runs) {
      writer.writeInteger(first);
      writer.writeByte(0x20);
      writer.writeInteger(count);
      writer.writeByte(0x0a);
      for (let entry = 0; entry < count; entry += 1) {
        const object = planned[index]!;
        writer.writePaddedInteger(object.offset - offsetBase, 10);
        writer.writeByte(0x20);
        writer.writePaddedInteger(object.ref.generation, 5);
        writer.writeAscii(' n \n');
        index += 1;
      }
    }
    writer.writeAscii('trailer\n');
    writeObject(writer, trailer);
    writeTail(writer, xrefOffset);
  };
  return { size, newSize, write };
}

interface StreamSectionPlace extends SectionPlace {
  readonly streamRef: PdfRef;
  readonly compress: boolean;
}

interface StreamRow {
  readonly objectNumber: number;
  readonly offset: number;
  readonly generation: number;
}

/** A cross-reference stream object listing the written objects and itself (never encrypted, §7.6.2). */
function streamSection(
  planned: PlannedObject[],
  trailer: PdfDict,
  place: StreamSectionPlace,
): CrossReferenceSection {
  const { offsetBase } = place;
  const xrefOffset = place.xrefOffset - offsetBase;
  const rows: StreamRow[] = planned.map((object) => ({
    objectNumber: object.ref.objectNumber,
    offset: object.offset - offsetBase,
    generation: object.ref.generation,
  }));
  rows.push({ objectNumber: place.streamRef.objectNumber, offset: xrefOffset, generation: 0 });
  const stream = crossReferenceStream(rows, trailer, place, byteWidth(xrefOffset));
  // The object ends with LF and the tail starts with one, so the tail is written without its first LF.
  const size = indirectObjectSize(place.streamRef, stream) + tailSize(xrefOffset) - 1;
  const write = (writer: ByteWriter): void => {
    writeIndirectObject(writer, place.streamRef, stream);
    writer.writeAscii('startxref\n');
    writer.writeInteger(xrefOffset);
    writer.writeAscii('\n%%EOF\n');
  };
  return { size, newSize: place.newSize, write };
}

/** `/Type /XRef /Size /Root /Info /ID /Encrypt /Index /W /Prev [/Filter]` over type-1 rows. */
function crossReferenceStream(
  rows: StreamRow[],
  trailer: PdfDict,
  place: StreamSectionPlace,
  offsetWidth: number,
): PdfStream {
  let generationMax = 0;
  for (const row of rows) generationMax = Math.max(generationMax, row.generation);
  const generationWidth = byteWidth(generationMax);
  const rowWidth = 1 + offsetWidth + generationWidth;
  const data = new Uint8Array(rowWidth * rows.length);
  rows.forEach((row, index) => {
    const start = index * rowWidth;
    data[start] = 1;
    writeBigEndian(data, start + 1, offsetWidth, row.offset);
    writeBigEndian(data, start + 1 + offsetWidth, generationWidth, row.generation);
  });
  const dict = new PdfDict();
  dict.set('Type', PdfName.of('XRef'));
  dict.set('Size', place.newSize);
  for (const [key, value] of trailer.entries) if (key !== 'Size') dict.set(key, value);
  dict.set('Index', subsections(rows.map((row) => row.objectNumber)).flat());
  dict.set('W', [1, offsetWidth, generationWidth]);
  dict.set('Prev', place.prev);
  if (!place.compress) return new PdfStream(dict, data);
  dict.set('Filter', PdfName.of('FlateDecode'));
  return new PdfStream(dict, zlibSync(data, { level: 6 }));
}

function byteWidth(value: number): number {
  let width = 1;
  // Bounded: offsets are below 2^53, so at most 7 bytes.
  while (value >= 2 ** (8 * width) && width < 7) width += 1;
  return width;
}

function writeBigEndian(target: Uint8Array, start: number, width: number, value: number): void {
  let remaining = value;
  for (let index = width - 1; index >= 0; index -= 1) {
    target[start + index] = remaining % 256;
    remaining = Math.floor(remaining / 256);
  }
}

/**
 * Writes the DER of a CMS signature as hex into the /Contents placeholder of `result.bytes`, in
 * place, padding with `0` digits. Throws when the placeholder is too small.
 */
export function fillSignature(result: IncrementalUpdateResult, cmsDer: Uint8Array): void {
  if (!result.byteRange) throw new Error('fillSignature: the update has no signature placeholder');
  const { bytes, contentsLength } = result;
  const contentsOffset = result.contentsOffset - result.bytesStart;
  const digitsMax = contentsLength - 2;
  if (2 * cmsDer.length > digitsMax) {
    throw new Error(
      `fillSignature: ${cmsDer.length} bytes of CMS do not fit in ${digitsMax / 2} reserved bytes`,
    );
  }
  assertPlaceholder(bytes, contentsOffset, contentsLength);
  // Both hex digits of a byte in one 16-bit store, the first digit in the lower address.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = contentsOffset + 1;
  for (let index = 0; index < cmsDer.length; index += 1) {
    view.setUint16(position, hexPairs[cmsDer[index]!]!, true);
    position += 2;
  }
  bytes.fill(0x30, position, contentsOffset + contentsLength - 1);
}

/** For byte b, its two upper-case hex digits as a little-endian 16-bit value (first digit low). */
const hexPairs = new Uint16Array(256);
for (let byte = 0; byte < 256; byte += 1) {
  const digit = (nibble: number): number => (nibble < 10 ? 0x30 + nibble : 0x37 + nibble);
  hexPairs[byte] = digit(byte >> 4) | (digit(byte & 15) << 8);
}

/** A stream holding `data` compressed with zlib/deflate level 6 and `/Filter /FlateDecode` set. */
export function flateStream(dict: PdfDict, data: Uint8Array): PdfStream {
  if (dict.has('Filter') || dict.has('DecodeParms')) {
    throw new Error('flateStream: the dictionary already names a filter');
  }
  return new PdfStream(dict.clone().set('Filter', PdfName.of('FlateDecode')), zlibSync(data, { level: 6 }));
}

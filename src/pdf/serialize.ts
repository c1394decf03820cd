/**
 * Serialisation of the PDF object model (ISO 32000-2 §7.3) in the pdf-lib manner: every value can
 * report its exact size (`serializedSize`) and copy itself into a `ByteWriter` (`writeObject`), so
 * the incremental writer sizes the whole update once, allocates once and copies once.
 *
 * Layout, fixed because tests and signatures depend on exact bytes:
 * - integers in decimal; other numbers as the shortest decimal text that reads back as the same
 *   double (so rewritten objects keep their numbers exactly), never an exponent, `-0` written as `0`;
 * - `[a b c]` and `<</Key value /Key value>>`: one space between items, none inside the brackets;
 * - strings literal `(...)` escaping `\ ( )` and CR LF TAB BS FF, or hex `<...>` in upper case when
 *   `hex` is set; names escape every byte outside `!`..`~`, the delimiters and `#` as `#XX`;
 * - streams `<<... /Length n>>\nstream\r\n<data>\r\nendstream`: `/Length` is always the direct
 *   length of the data and comes last (any `/Length` in the dictionary is replaced). CRLF after
 *   `stream` is what Acrobat writes and what the specification allows besides a lone LF; the EOL
 *   before `endstream` is not counted in `/Length`. All other line ends the writer produces are LF.
 * - indirect objects `N G obj\n<value>\nendobj\n`.
 */
import { ByteWriter, decimalDigitCount } from './byte-writer.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';

/** Values nest deeper than this only by mistake (or through a cycle); the writer refuses them. */
export const serializeNestingDepthMax = 256;

const hexDigits = '0123456789ABCDEF';
const hexDigitCodes = Uint8Array.from(hexDigits, (digit) => digit.charCodeAt(0));

/** 1 for a byte that may stand in a name as itself: `!`..`~` except delimiters and `#`. */
const nameRegular = new Uint8Array(256);
for (let code = 0x21; code <= 0x7e; code += 1) nameRegular[code] = 1;
for (const delimiter of '()<>[]{}/%#') nameRegular[delimiter.charCodeAt(0)] = 0;

/** For a byte needing a backslash escape in a literal string, the letter after the backslash. */
const literalEscape = new Uint8Array(256);
literalEscape[0x5c] = 0x5c; // \\
literalEscape[0x28] = 0x28; // \(
literalEscape[0x29] = 0x29; // \)
literalEscape[0x0d] = 0x72; // \r: a raw CR would be read back as LF (EOL normalisation, §7.3.4.2)
literalEscape[0x0a] = 0x6e; // \n
literalEscape[0x09] = 0x74; // \t
literalEscape[0x08] = 0x62; // \b
literalEscape[0x0c] = 0x66; // \f

/** A number as PDF writes it (see the module comment); throws on NaN, infinities and unsafe integers. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) {
    if (!Number.isSafeInteger(value)) throw new Error(`serialize: integer ${value} is beyond 2^53`);
    return value === 0 ? '0' : String(value);
  }
  if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
    throw new Error(`serialize: number ${value} cannot be written in PDF`);
  }
  // The shortest text that reads back as the same double, so a rewritten object (a page whose
  // /Annots grew) keeps every other number exactly; JS switches to exponents only below 1e-6 here
  // (the magnitude is bounded above), and PDF has none, so those are written in fixed form.
  const shortest = String(value);
  if (!shortest.includes('e')) return shortest;
  let text = value.toFixed(20);
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end -= 1;
  if (text.charCodeAt(end - 1) === 0x2e) end -= 1;
  text = text.slice(0, end);
  return text === '-0' ? '0' : text;
}

function integerSize(value: number): number {
  return value < 0 ? 1 + decimalDigitCount(-value) : decimalDigitCount(value);
}

function numberSize(value: number): number {
  return Number.isSafeInteger(value) ? integerSize(value) : formatNumber(value).length;
}

function writeNumber(writer: ByteWriter, value: number): void {
  if (Number.isSafeInteger(value)) writer.writeInteger(value === 0 ? 0 : value);
  else writer.writeAscii(formatNumber(value));
}

/** The byte a name character stands for; names are byte strings held one byte per JS character. */
function nameByte(name: string, index: number): number {
  const code = name.charCodeAt(index);
  if (code === 0 || code > 0xff) {
    throw new Error(`serialize: name /${name} holds character ${code}, which a PDF name cannot carry`);
  }
  return code;
}

/** Size of `/name` with its `#XX` escapes; `name` is the decoded value without the slash. */
export function nameSize(name: string): number {
  let size = 1;
  for (let index = 0; index < name.length; index += 1) {
    size += nameRegular[nameByte(name, index)] === 1 ? 1 : 3;
  }
  return size;
}

export function writeName(writer: ByteWriter, name: string): void {
  writer.writeByte(0x2f);
  for (let index = 0; index < name.length; index += 1) {
    const byte = nameByte(name, index);
    if (nameRegular[byte] === 1) {
      writer.writeByte(byte);
    } else {
      writer.writeByte(0x23);
      writer.writeByte(hexDigitCodes[byte >> 4]!);
      writer.writeByte(hexDigitCodes[byte & 15]!);
    }
  }
}

function stringSize(value: PdfString): number {
  const bytes = value.bytes;
  if (value.hex) return 2 + 2 * bytes.length;
  let size = 2 + bytes.length;
  for (let index = 0; index < bytes.length; index += 1) {
    if (literalEscape[bytes[index]!] !== 0) size += 1;
  }
  return size;
}

function writeString(writer: ByteWriter, value: PdfString): void {
  const bytes = value.bytes;
  if (value.hex) {
    writer.writeByte(0x3c);
    for (let index = 0; index < bytes.length; index += 1) {
      const byte = bytes[index]!;
      writer.writeByte(hexDigitCodes[byte >> 4]!);
      writer.writeByte(hexDigitCodes[byte & 15]!);
    }
    writer.writeByte(0x3e);
    return;
  }
  writer.writeByte(0x28);
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index]!;
    const escapeLetter = literalEscape[byte]!;
    if (escapeLetter !== 0) {
      writer.writeByte(0x5c);
      writer.writeByte(escapeLetter);
    } else {
      writer.writeByte(byte);
    }
  }
  writer.writeByte(0x29);
}

function refSize(value: PdfRef): number {
  return integerSize(value.objectNumber) + 1 + integerSize(value.generation) + 2;
}

function writeRef(writer: ByteWriter, value: PdfRef): void {
  writer.writeInteger(value.objectNumber);
  writer.writeByte(0x20);
  writer.writeInteger(value.generation);
  writer.writeAscii(' R');
}

function checkDepth(depth: number): void {
  if (depth > serializeNestingDepthMax) {
    throw new Error(`serialize: values nest deeper than ${serializeNestingDepthMax} (a cycle?)`);
  }
}

function arraySize(value: PdfObject[], depth: number): number {
  let size = 2 + Math.max(0, value.length - 1);
  for (const item of value) size += objectSize(item, depth + 1);
  return size;
}

function writeArray(writer: ByteWriter, value: PdfObject[], depth: number): void {
  writer.writeByte(0x5b);
  for (let index = 0; index < value.length; index += 1) {
    if (index > 0) writer.writeByte(0x20);
    writeValue(writer, value[index]!, depth + 1);
  }
  writer.writeByte(0x5d);
}

/** Size of the entries of a dictionary, `/K v /K v`, without the `<<` `>>` around them. */
export function dictEntriesSize(dict: PdfDict, skipKey: string | null = null, depth = 0): number {
  checkDepth(depth);
  let size = 0;
  let count = 0;
  // Keys, then a lookup: iterating `[key, value]` pairs allocated an array per entry (measured with
  // V8's sampling heap profiler), and every stamp sizes and writes a dozen dictionaries.
  for (const key of dict.entries.keys()) {
    if (key === skipKey) continue;
    size += nameSize(key) + 1 + objectSize(dict.entries.get(key)!, depth + 1);
    count += 1;
  }
  return size + Math.max(0, count - 1);
}

/** Writes `/K v /K v` (no brackets), leaving out `skipKey`; returns how many entries were written. */
export function writeDictEntries(
  writer: ByteWriter,
  dict: PdfDict,
  skipKey: string | null = null,
  depth = 0,
): number {
  checkDepth(depth);
  let count = 0;
  for (const key of dict.entries.keys()) {
    if (key === skipKey) continue;
    if (count > 0) writer.writeByte(0x20);
    writeName(writer, key);
    writer.writeByte(0x20);
    writeValue(writer, dict.entries.get(key)!, depth + 1);
    count += 1;
  }
  return count;
}

const streamOpening = '\nstream\r\n';
const streamClosing = '\r\nendstream';

function streamSize(value: PdfStream, depth: number): number {
  const entries = dictEntriesSize(value.dict, 'Length', depth);
  const length = nameSize('Length') + 1 + integerSize(value.raw.length);
  const separator = entries > 0 ? 1 : 0;
  return (
    2 + entries + separator + length + 2 + streamOpening.length + value.raw.length + streamClosing.length
  );
}

function writeStream(writer: ByteWriter, value: PdfStream, depth: number): void {
  writer.writeAscii('<<');
  const count = writeDictEntries(writer, value.dict, 'Length', depth);
  writer.writeAscii(count > 0 ? ' /Length ' : '/Length ');
  writer.writeInteger(value.raw.length);
  writer.writeAscii('>>');
  writer.writeAscii(streamOpening);
  writer.writeBytes(value.raw);
  writer.writeAscii(streamClosing);
}

function objectSize(value: PdfObject, depth: number): number {
  checkDepth(depth);
  if (value === null) return 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  if (typeof value === 'number') return numberSize(value);
  if (value instanceof PdfName) return nameSize(value.value);
  if (value instanceof PdfRef) return refSize(value);
  if (value instanceof PdfString) return stringSize(value);
  if (Array.isArray(value)) return arraySize(value, depth);
  if (value instanceof PdfDict) return 4 + dictEntriesSize(value, null, depth);
  if (value instanceof PdfStream) return streamSize(value, depth);
  throw new Error('serialize: value is not a PdfObject');
}

function writeValue(writer: ByteWriter, value: PdfObject, depth: number): void {
  checkDepth(depth);
  if (value === null) writer.writeAscii('null');
  else if (typeof value === 'boolean') writer.writeAscii(value ? 'true' : 'false');
  else if (typeof value === 'number') writeNumber(writer, value);
  else if (value instanceof PdfName) writeName(writer, value.value);
  else if (value instanceof PdfRef) writeRef(writer, value);
  else if (value instanceof PdfString) writeString(writer, value);
  else if (Array.isArray(value)) writeArray(writer, value, depth);
  else if (value instanceof PdfDict) {
    writer.writeAscii('<<');
    writeDictEntries(writer, value, null, depth);
    writer.writeAscii('>>');
  } else if (value instanceof PdfStream) writeStream(writer, value, depth);
  else throw new Error('serialize: value is not a PdfObject');
}

/** The exact number of bytes `writeObject` will write for `value`. */
export function serializedSize(value: PdfObject): number {
  return objectSize(value, 0);
}

export function writeObject(writer: ByteWriter, value: PdfObject): void {
  writeValue(writer, value, 0);
}

/** `value` as bytes, in a buffer of exactly its size. */
export function serializeObject(value: PdfObject): Uint8Array {
  const size = serializedSize(value);
  const writer = new ByteWriter(size);
  writeObject(writer, value);
  if (writer.offset !== size) throw new Error('serialize: invariant broken: size differs from bytes written');
  return writer.toBytes();
}

/** Size of `N G obj\n` (also used for hand-written objects such as the signature dictionary). */
export function objectHeaderSize(ref: PdfRef): number {
  return refSize(ref) + 3; // "N G R" ends in 2 characters, "N G obj\n" in 5.
}

export function writeObjectHeader(writer: ByteWriter, ref: PdfRef): void {
  writer.writeInteger(ref.objectNumber);
  writer.writeByte(0x20);
  writer.writeInteger(ref.generation);
  writer.writeAscii(' obj\n');
}

export const objectTrailer = '\nendobj\n';

/** Size of `N G obj\n<value>\nendobj\n`. */
export function indirectObjectSize(ref: PdfRef, value: PdfObject): number {
  return objectHeaderSize(ref) + serializedSize(value) + objectTrailer.length;
}

export function writeIndirectObject(writer: ByteWriter, ref: PdfRef, value: PdfObject): void {
  writeObjectHeader(writer, ref);
  writeObject(writer, value);
  writer.writeAscii(objectTrailer);
}

/** Upper-case hex of `bytes`, the form the writer uses for hex strings and signature values. */
export function hexOf(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += hexDigits[byte >> 4]! + hexDigits[byte & 15]!;
  return text;
}

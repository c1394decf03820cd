/**
 * Cross-reference sections (ISO 32000-2 §7.5.4, §7.5.8): classic tables and xref streams. Entries are
 * read on demand: a classic table's fixed 20-byte entries are found by arithmetic and a stream's
 * decoded rows by index, so opening a file with thousands of objects reads only the entries it uses.
 */
import type { BubuhError } from '../errors.js';
import { isDigit, isWhiteSpace, pdfDamaged, Token } from './lexer.js';
import type { PdfLimits } from './limits.js';
import { checkLimit } from './limits.js';
import { PdfDict, type PdfStream } from './objects.js';
import type { Parser } from './parser.js';

export type XrefEntry =
  | { readonly type: 'free' }
  /** `offset` is a position in the uploaded bytes (the header shift already applied). */
  | { readonly type: 'offset'; readonly offset: number; readonly generation: number }
  | { readonly type: 'compressed'; readonly streamNumber: number; readonly index: number };

export const freeEntry: XrefEntry = Object.freeze({ type: 'free' });

export interface XrefSection {
  readonly kind: 'table' | 'stream';
  readonly trailer: PdfDict;
  /** One past the highest object number this section describes. */
  readonly objectNumberEnd: number;
  /** The entry for `objectNumber`, or undefined when this section does not mention it. */
  lookup(objectNumber: number): XrefEntry | undefined;
}

interface TableSubsection {
  readonly first: number;
  readonly count: number;
  /** Start of the fixed 20-byte entries, or -1 when the entries were parsed into `parsed`. */
  readonly entriesStart: number;
  readonly parsed: XrefEntry[] | null;
}

/** Where a classic table's entry bytes are: `nnnnnnnnnn ggggg n` plus a two-byte end-of-line. */
function isFixedEntry(bytes: Uint8Array, position: number): boolean {
  for (let index = 0; index < 10; index += 1) if (!isDigit(bytes[position + index])) return false;
  if (bytes[position + 10] !== 0x20 || bytes[position + 16] !== 0x20) return false;
  for (let index = 11; index < 16; index += 1) if (!isDigit(bytes[position + index])) return false;
  const type = bytes[position + 17];
  if (type !== 0x6e && type !== 0x66) return false;
  return isWhiteSpace(bytes[position + 18]) && isWhiteSpace(bytes[position + 19]);
}

function readDigits(bytes: Uint8Array, position: number, count: number): number {
  let value = 0;
  for (let index = 0; index < count; index += 1) value = value * 10 + bytes[position + index]! - 0x30;
  return value;
}

export class TableSection implements XrefSection {
  readonly kind = 'table' as const;
  readonly trailer: PdfDict;
  readonly objectNumberEnd: number;
  /** The xref stream named by a hybrid file's /XRefStm, consulted for objects the table leaves free. */
  hidden: StreamSection | null = null;
  private readonly bytes: Uint8Array;
  private readonly subsections: TableSubsection[];
  private readonly offsetBase: number;

  constructor(bytes: Uint8Array, subsections: TableSubsection[], trailer: PdfDict, offsetBase: number) {
    this.bytes = bytes;
    this.subsections = subsections;
    this.trailer = trailer;
    this.offsetBase = offsetBase;
    let end = 0;
    for (const subsection of subsections) end = Math.max(end, subsection.first + subsection.count);
    this.objectNumberEnd = end;
  }

  lookup(objectNumber: number): XrefEntry | undefined {
    const own = this.ownEntry(objectNumber);
    if (own?.type === 'offset' || this.hidden === null) return own;
    // A hybrid file marks objects in object streams free in its table; the /XRefStm stream has them.
    const hidden = this.hidden.lookup(objectNumber);
    if (hidden !== undefined && hidden.type !== 'free') return hidden;
    return own;
  }

  private ownEntry(objectNumber: number): XrefEntry | undefined {
    // Later subsections win when two describe the same object.
    for (let index = this.subsections.length - 1; index >= 0; index -= 1) {
      const subsection = this.subsections[index]!;
      const position = objectNumber - subsection.first;
      if (position < 0 || position >= subsection.count) continue;
      if (subsection.parsed !== null) return subsection.parsed[position];
      const entryStart = subsection.entriesStart + position * 20;
      if (!isFixedEntry(this.bytes, entryStart)) return undefined;
      if (this.bytes[entryStart + 17] === 0x66) return freeEntry;
      const offset = readDigits(this.bytes, entryStart, 10) + this.offsetBase;
      return { type: 'offset', offset, generation: readDigits(this.bytes, entryStart + 11, 5) };
    }
    return undefined;
  }
}

/** Parses the classic table at `offset` (the `xref` keyword); null when there is no `xref` keyword. */
export function parseTableSection(
  parser: Parser,
  offset: number,
  offsetBase: number,
  limits: PdfLimits,
): TableSection | null {
  const lexer = parser.lexer;
  const bytes = parser.bytes;
  lexer.position = offset;
  if (lexer.next() !== Token.keyword || lexer.text !== 'xref') return null;
  const subsections: TableSubsection[] = [];
  while (true) {
    if (subsections.length > limits.objectsMax) throw pdfDamaged('the xref table has too many subsections');
    const kind = lexer.next();
    if (kind === Token.keyword && (lexer.text as string) === 'trailer') break;
    const first = lexer.numberValue;
    if (kind !== Token.number || lexer.next() !== Token.number)
      throw pdfDamaged(`bad xref subsection at byte ${lexer.tokenStart}`);
    const count = lexer.numberValue;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0) {
      throw pdfDamaged(`bad xref subsection at byte ${lexer.tokenStart}`);
    }
    checkLimit(limits, 'objectsMax', first + count);
    lexer.skipWhiteSpace();
    const entriesStart = lexer.position;
    const fixedEnd = entriesStart + count * 20;
    if (count === 0) continue;
    if (fixedEnd <= bytes.length && isFixedEntry(bytes, entriesStart) && isFixedEntry(bytes, fixedEnd - 20)) {
      subsections.push({ first, count, entriesStart, parsed: null });
      lexer.position = fixedEnd;
    } else {
      subsections.push({
        first,
        count,
        entriesStart: -1,
        parsed: parseEntryLines(parser, count, offsetBase),
      });
    }
  }
  const trailer = parser.parseObject();
  if (!(trailer instanceof PdfDict))
    throw pdfDamaged(`the trailer at byte ${lexer.tokenStart} is not a dictionary`);
  return new TableSection(bytes, subsections, trailer, offsetBase);
}

/** Entries that are not exactly 20 bytes (19- or 21-byte variants) are read token by token. */
function parseEntryLines(parser: Parser, count: number, offsetBase: number): XrefEntry[] {
  const lexer = parser.lexer;
  // Each entry takes at least 6 bytes (`0 0 n `); a larger count is a lie that must not size an array.
  if (count * 6 > parser.bytes.length - lexer.position)
    throw pdfDamaged('an xref subsection is longer than the file');
  const entries: XrefEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const offsetKind = lexer.next();
    const offset = lexer.numberValue;
    const generationKind = lexer.next();
    const generation = lexer.numberValue;
    const typeKind = lexer.next();
    if (offsetKind !== Token.number || generationKind !== Token.number || typeKind !== Token.keyword) {
      throw pdfDamaged(`bad xref entry at byte ${lexer.tokenStart}`);
    }
    if (lexer.text === 'f') entries.push(freeEntry);
    else if (lexer.text === 'n') entries.push({ type: 'offset', offset: offset + offsetBase, generation });
    else throw pdfDamaged(`bad xref entry type at byte ${lexer.tokenStart}`);
  }
  return entries;
}

interface StreamSubsection {
  readonly first: number;
  readonly count: number;
  /** Index of the subsection's first row in the decoded data. */
  readonly firstRow: number;
}

export class StreamSection implements XrefSection {
  readonly kind = 'stream' as const;
  readonly trailer: PdfDict;
  readonly objectNumberEnd: number;
  private readonly data: Uint8Array;
  private readonly widths: readonly [number, number, number];
  private readonly rowBytes: number;
  private readonly subsections: StreamSubsection[];
  private readonly offsetBase: number;

  constructor(
    trailer: PdfDict,
    data: Uint8Array,
    widths: readonly [number, number, number],
    subsections: StreamSubsection[],
    offsetBase: number,
  ) {
    this.trailer = trailer;
    this.data = data;
    this.widths = widths;
    this.rowBytes = widths[0] + widths[1] + widths[2];
    this.subsections = subsections;
    this.offsetBase = offsetBase;
    let end = 0;
    for (const subsection of subsections) end = Math.max(end, subsection.first + subsection.count);
    this.objectNumberEnd = end;
  }

  lookup(objectNumber: number): XrefEntry | undefined {
    for (const subsection of this.subsections) {
      const position = objectNumber - subsection.first;
      if (position < 0 || position >= subsection.count) continue;
      const rowStart = (subsection.firstRow + position) * this.rowBytes;
      if (rowStart + this.rowBytes > this.data.length) return undefined;
      return this.readRow(rowStart);
    }
    return undefined;
  }

  private readRow(rowStart: number): XrefEntry | undefined {
    const [typeWidth, secondWidth, thirdWidth] = this.widths;
    // A missing type field means type 1 (§7.5.8.3, Table 17).
    const type = typeWidth === 0 ? 1 : this.field(rowStart, typeWidth);
    const second = this.field(rowStart + typeWidth, secondWidth);
    const third = this.field(rowStart + typeWidth + secondWidth, thirdWidth);
    if (type === 0) return freeEntry;
    if (type === 1) return { type: 'offset', offset: second + this.offsetBase, generation: third };
    if (type === 2) return { type: 'compressed', streamNumber: second, index: third };
    // Unknown types are to be treated as null objects (§7.5.8.3).
    return freeEntry;
  }

  private field(start: number, width: number): number {
    let value = 0;
    for (let index = 0; index < width; index += 1) value = value * 256 + this.data[start + index]!;
    return value;
  }
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Builds a stream section from a parsed `/Type /XRef` stream and its decoded data. */
export function streamSectionFrom(
  stream: PdfStream,
  data: Uint8Array,
  offsetBase: number,
  limits: PdfLimits,
): StreamSection {
  const dict = stream.dict;
  const widthsValue = dict.get('W');
  if (!Array.isArray(widthsValue) || widthsValue.length < 3)
    throw pdfDamaged('an xref stream has no valid /W');
  const widths = widthsValue.slice(0, 3).map(nonNegativeInteger);
  // Offsets wider than 6 bytes cannot address a file within any sane input limit.
  if (widths.some((width) => width === undefined || width > 8) || widths[1] === 0) {
    throw pdfDamaged('an xref stream has an invalid /W');
  }
  const size = nonNegativeInteger(dict.get('Size'));
  if (size === undefined) throw pdfDamaged('an xref stream has no valid /Size');
  checkLimit(limits, 'objectsMax', size);
  const indexValue = dict.get('Index') ?? [0, size];
  if (!Array.isArray(indexValue) || indexValue.length % 2 !== 0)
    throw pdfDamaged('an xref stream has an invalid /Index');
  const subsections: StreamSubsection[] = [];
  let rows = 0;
  for (let index = 0; index < indexValue.length; index += 2) {
    const first = nonNegativeInteger(indexValue[index]);
    const count = nonNegativeInteger(indexValue[index + 1]);
    if (first === undefined || count === undefined) throw pdfDamaged('an xref stream has an invalid /Index');
    checkLimit(limits, 'objectsMax', first + count);
    subsections.push({ first, count, firstRow: rows });
    rows += count;
    checkLimit(limits, 'objectsMax', rows);
  }
  const [typeWidth, secondWidth, thirdWidth] = widths as [number, number, number];
  return new StreamSection(dict, data, [typeWidth, secondWidth, thirdWidth], subsections, offsetBase);
}

/** Thrown by section parsing when an offset points at neither a table nor an xref stream. */
export function notAnXrefSection(offset: number): BubuhError {
  return pdfDamaged(`no cross-reference section at byte ${offset}`);
}

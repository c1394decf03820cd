/**
 * The lazy PDF reader: opening a document reads its header, the cross-reference sections and the
 * catalog, and nothing else. Objects are parsed when first asked for and cached, so stamping a
 * 300-page report reads little more than the page-tree path to the target page.
 */
import { BubuhError } from '../errors.js';
import { decryptLoadedObject } from './decrypt.js';
import type { DecodeContext, RawInflate } from './filters.js';
import { decodeFiltered } from './filters.js';
import { pdfDamaged, Token } from './lexer.js';
import type { PdfLimits } from './limits.js';
import { checkLimit, resolveLimits, TimeBudget } from './limits.js';
import type { PdfObject } from './objects.js';
import { isName, PdfDict, PdfRef, PdfStream, PdfString } from './objects.js';
import type { PageLeaf, PageTreeSource, PdfPage } from './page-tree.js';
import { buildPage, walkPageTree } from './page-tree.js';
import { indexOfSequence, Parser } from './parser.js';
import type { ScannedObject } from './recovery.js';
import { scanObjects, scanTrailers } from './recovery.js';
import type { SecurityHandler } from './security.js';
import type { StreamSection, XrefEntry, XrefSection } from './xref.js';
import { notAnXrefSection, parseTableSection, streamSectionFrom, TableSection } from './xref.js';

export type { PdfPage } from './page-tree.js';

export interface OpenPdfOptions {
  readonly limits?: Partial<PdfLimits>;
  readonly password?: string;
  /** A faster raw-deflate inflater from the host, e.g. `nodeInflateRaw` from `inflate-node.ts` on the server. */
  readonly inflate?: RawInflate;
  readonly openSecurityHandler?: (
    encrypt: PdfDict,
    firstId: Uint8Array,
    password: string | undefined,
  ) => SecurityHandler;
}

export interface PdfSpan {
  /** Position of the object number of `N G obj`. */
  readonly start: number;
  /** Position just past `endobj` (or past the object's last token when `endobj` is missing). */
  readonly end: number;
}

interface ObjectStreamIndex {
  readonly first: number;
  readonly numbers: number[];
  readonly offsets: number[];
  readonly parser: Parser;
}

/** How far back from the end of the file `%%EOF` and `startxref` are looked for. */
const tailBytes = 1024;
/** Bound on the /Prev chain: more revisions than any real document has. */
const sectionsMax = 10_000;
/** Bound on reference chains `1 0 R` → `2 0 R` → ... followed by `resolve`. */
const referenceHopsMax = 32;

const encoder = new TextEncoder();
const headerMarker = encoder.encode('%PDF-');
const eofMarker = encoder.encode('%%EOF');
const startxrefKeyword = encoder.encode('startxref');

export function openPdf(bytes: Uint8Array, options: OpenPdfOptions = {}): PdfDocument {
  const limits = resolveLimits(options.limits);
  const budget = new TimeBudget(limits.timeMsMax);
  return budget.run(() => new PdfDocument(bytes, limits, budget, options));
}

function nonNegativeInteger(value: PdfObject | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function lastIndexOfSequence(bytes: Uint8Array, pattern: Uint8Array, from: number, before: number): number {
  let found = -1;
  let position = indexOfSequence(bytes, pattern, from);
  while (position >= 0 && position + pattern.length <= before) {
    found = position;
    position = indexOfSequence(bytes, pattern, position + 1);
  }
  return found;
}

function findHeader(bytes: Uint8Array): { offset: number; version: string } {
  const window = bytes.subarray(0, tailBytes + headerMarker.length + 3);
  const offset = indexOfSequence(window, headerMarker, 0);
  if (offset < 0) throw new BubuhError('PDF_NOT_PDF', {});
  const major = bytes[offset + 5];
  const minor = bytes[offset + 7];
  const validMajor = major === 0x31 || major === 0x32;
  if (!validMajor || bytes[offset + 6] !== 0x2e || minor === undefined || minor < 0x30 || minor > 0x39) {
    throw new BubuhError('PDF_NOT_PDF', {});
  }
  return { offset, version: `${String.fromCharCode(major)}.${String.fromCharCode(minor)}` };
}

export class PdfDocument implements PageTreeSource {
  readonly bytes: Uint8Array;
  readonly limits: PdfLimits;
  /** Where `%PDF-` starts; bytes before it are leading garbage. */
  readonly headerOffset: number;
  /** The header version, raised by the catalog's /Version when that is newer. */
  readonly version: string;
  /** The value after the last `startxref`, as written (relative to `offsetBase`). */
  readonly startxref: number;
  /**
   * What the file's offsets are counted from: `headerOffset` normally, 0 when a file with leading
   * garbage counts from the first byte. An appended update must write offsets the same way.
   */
  readonly offsetBase: number;
  readonly xrefKind: 'table' | 'stream';
  readonly warnings: string[] = [];
  security: SecurityHandler | null = null;
  readonly catalog: PdfDict;

  private readonly budget: TimeBudget;
  private readonly parser: Parser;
  private readonly inflate: RawInflate | undefined;
  private sections: XrefSection[] = [];
  private indexReady = false;
  private scanned: Map<number, ScannedObject> | null = null;
  private readonly entryCache = new Map<number, XrefEntry | null>();
  private readonly objectCache = new Map<number, PdfObject>();
  private readonly spans = new Map<number, PdfSpan>();
  private readonly loading = new Set<number>();
  private readonly objectStreams = new Map<number, ObjectStreamIndex | null>();
  private encryptObjectNumber = -1;
  private totalDecodedBytes = 0;
  private cachedTrailer: PdfDict | null = null;
  private leaves: PageLeaf[] | null = null;

  constructor(bytes: Uint8Array, limits: PdfLimits, budget: TimeBudget, options: OpenPdfOptions) {
    this.bytes = bytes;
    this.limits = limits;
    this.budget = budget;
    this.inflate = options.inflate;
    checkLimit(limits, 'inputBytesMax', bytes.length);
    if (bytes.length === 0) throw new BubuhError('PDF_EMPTY', {});
    const header = findHeader(bytes);
    this.headerOffset = header.offset;
    this.parser = this.newParser(bytes);
    this.startxref = this.findStartxref();
    const chain = this.readXrefChain();
    if (chain === null) {
      this.offsetBase = this.headerOffset;
      this.xrefKind = 'table';
      this.recover('the cross-reference data at startxref cannot be read');
      this.sections = this.recoverSections();
    } else {
      this.offsetBase = chain.offsetBase;
      this.sections = chain.sections;
      this.xrefKind = chain.sections[0]!.kind;
    }
    this.indexReady = true;
    this.openSecurity(options);
    this.catalog = this.loadCatalog();
    this.version = this.effectiveVersion(header.version);
  }

  /** /Size: one past the highest object number (the largest of every trailer's /Size and every entry). */
  get size(): number {
    let size = 0;
    for (const section of this.sections) {
      size = Math.max(size, section.objectNumberEnd, nonNegativeInteger(section.trailer.get('Size')) ?? 0);
    }
    if (this.scanned !== null) for (const number of this.scanned.keys()) size = Math.max(size, number + 1);
    // A trailer's /Size (or a scanned object number) can claim billions; an update numbering its
    // objects from there would write a file no reader, this one included, accepts.
    checkLimit(this.limits, 'objectsMax', size);
    return size;
  }

  /** True when the object index was rebuilt by scanning because the xref offsets were wrong. */
  get recovered(): boolean {
    return this.scanned !== null;
  }

  /**
   * The object numbers the recovery scan found, ascending; empty when the xref data was used as is.
   * Unlike `0..size`, whose /Size a damaged trailer may set to billions, this is bounded by objectsMax.
   */
  recoveredObjectNumbers(): number[] {
    return [...(this.scanned?.keys() ?? [])].sort((left, right) => left - right);
  }

  /** The newest trailer, with /Root /Info /ID /Encrypt taken from older trailers when it lacks them. */
  get trailer(): PdfDict {
    if (this.cachedTrailer !== null) return this.cachedTrailer;
    const merged = this.sections[0]?.trailer.clone() ?? new PdfDict();
    for (const key of ['Root', 'Info', 'ID', 'Encrypt']) {
      for (const section of this.sections) {
        const value = section.trailer.get(key);
        if (!merged.has(key) && value !== undefined) merged.set(key, value);
      }
    }
    merged.set('Size', this.size);
    merged.entries.delete('Prev');
    merged.entries.delete('XRefStm');
    this.cachedTrailer = merged;
    return merged;
  }

  getObject(ref: PdfRef): PdfObject {
    return this.budget.run(() => this.load(ref.objectNumber));
  }

  /** Follows references (at most 32 hops) to a direct value; a missing object is null. */
  resolve(value: PdfObject | undefined): PdfObject {
    let current: PdfObject | undefined = value;
    for (let hop = 0; hop < referenceHopsMax; hop += 1) {
      if (!(current instanceof PdfRef)) return current ?? null;
      current = this.getObject(current);
    }
    throw pdfDamaged('a chain of references is too long or loops');
  }

  /** The stream's data decoded through its filters (the data is already decrypted when it was loaded). */
  decodeStream(stream: PdfStream, ref?: PdfRef): Uint8Array {
    return this.budget.run(() => {
      try {
        return this.decodeCounted(stream);
      } catch (error) {
        if (error instanceof BubuhError && ref !== undefined && error.code === 'PDF_DAMAGED') {
          throw pdfDamaged(`object ${ref.objectNumber}: ${String(error.details['problem'])}`);
        }
        throw error;
      }
    });
  }

  /** The byte span of `N G obj ... endobj` in `bytes`; null for missing objects and objects in object streams. */
  objectSpan(objectNumber: number): PdfSpan | null {
    return this.budget.run(() => {
      this.load(objectNumber);
      return this.spans.get(objectNumber) ?? null;
    });
  }

  getPage(pageNumber: number | 'last'): PdfPage {
    return this.budget.run(() => {
      if (pageNumber === 'last') {
        const leaves = this.allLeaves();
        const leaf = leaves[leaves.length - 1];
        if (leaf === undefined) throw new BubuhError('PDF_PAGE_NOT_FOUND', { page: 'last', pageCount: 0 });
        return buildPage(this, leaf, leaves.length);
      }
      // Only the leaves up to the wanted page are loaded, unless the whole tree was walked already.
      const valid = Number.isSafeInteger(pageNumber) && pageNumber >= 1;
      const leaves = valid ? (this.leaves ?? walkPageTree(this, pageNumber)) : [];
      const leaf = leaves[pageNumber - 1];
      if (leaf === undefined) {
        throw new BubuhError('PDF_PAGE_NOT_FOUND', { page: pageNumber, pageCount: this.allLeaves().length });
      }
      return buildPage(this, leaf, pageNumber);
    });
  }

  /** The number of leaves of the page tree, counted (never read from /Count). */
  pageCount(): number {
    return this.budget.run(() => this.allLeaves().length);
  }

  private allLeaves(): PageLeaf[] {
    this.leaves ??= walkPageTree(this, Number.POSITIVE_INFINITY);
    return this.leaves;
  }

  /** Lets a long walk (page tree) check the time budget. */
  tick(): void {
    this.budget.tick();
  }

  private newParser(bytes: Uint8Array): Parser {
    return new Parser(bytes, {
      nestingDepthMax: this.limits.nestingDepthMax,
      resolveLength: (ref) => nonNegativeInteger(this.load(ref.objectNumber)),
      tick: () => this.budget.tick(),
    });
  }

  private findStartxref(): number {
    const bytes = this.bytes;
    const tailStart = Math.max(0, bytes.length - tailBytes);
    const eof = lastIndexOfSequence(bytes, eofMarker, tailStart, bytes.length);
    const keyword =
      eof < 0 ? -1 : lastIndexOfSequence(bytes, startxrefKeyword, Math.max(0, eof - tailBytes), eof);
    if (keyword < 0) throw pdfDamaged('the file is truncated: there is no startxref and %%EOF at its end');
    const lexer = this.parser.lexer;
    lexer.position = keyword + startxrefKeyword.length;
    if (lexer.next() !== Token.number || !lexer.integer || lexer.numberValue < 0) {
      throw pdfDamaged('the startxref value is not an offset');
    }
    return lexer.numberValue;
  }

  private readXrefChain(): { sections: XrefSection[]; offsetBase: number } | null {
    // Offsets count from the header; some producers behind leading garbage count from byte 0 instead.
    const bases = this.headerOffset > 0 ? [this.headerOffset, 0] : [0];
    for (const base of bases) {
      let first: XrefSection;
      try {
        first = this.readSection(this.startxref + base, base);
      } catch (error) {
        if (error instanceof BubuhError && error.code === 'PDF_DAMAGED') continue;
        throw error;
      }
      return { sections: this.followPrevious(first, this.startxref + base, base), offsetBase: base };
    }
    return null;
  }

  private followPrevious(first: XrefSection, firstOffset: number, base: number): XrefSection[] {
    const sections = [first];
    const visited = new Set([firstOffset]);
    let trailer = first.trailer;
    while (sections.length < sectionsMax) {
      const previous = nonNegativeInteger(trailer.get('Prev'));
      if (previous === undefined) break;
      const offset = previous + base;
      if (visited.has(offset)) {
        this.warnings.push(
          `the /Prev chain of cross-reference sections loops back to byte ${offset}; stopped there`,
        );
        break;
      }
      visited.add(offset);
      try {
        const section = this.readSection(offset, base);
        sections.push(section);
        trailer = section.trailer;
      } catch (error) {
        if (!(error instanceof BubuhError && error.code === 'PDF_DAMAGED')) throw error;
        this.warnings.push(
          `an older cross-reference section at byte ${offset} is unreadable: ${error.message}`,
        );
        break;
      }
    }
    return sections;
  }

  private readSection(offset: number, base: number): XrefSection {
    const table = parseTableSection(this.parser, offset, base, this.limits);
    if (table === null) return this.readStreamSection(offset, base);
    const hiddenOffset = nonNegativeInteger(table.trailer.get('XRefStm'));
    if (hiddenOffset !== undefined) {
      try {
        table.hidden = this.readStreamSection(hiddenOffset + base, base);
      } catch (error) {
        if (!(error instanceof BubuhError && error.code === 'PDF_DAMAGED')) throw error;
        this.warnings.push(
          `the /XRefStm stream at byte ${hiddenOffset + base} is unreadable: ${error.message}`,
        );
      }
    }
    return table;
  }

  private readStreamSection(offset: number, base: number): StreamSection {
    if (offset >= this.bytes.length) throw notAnXrefSection(offset);
    const object = this.parser.parseIndirectObject(offset);
    const stream = object.value;
    if (!(stream instanceof PdfStream) || !isName(stream.dict.get('Type'), 'XRef'))
      throw notAnXrefSection(offset);
    return streamSectionFrom(stream, this.decodeCounted(stream), base, this.limits);
  }

  private decodeContext(): DecodeContext {
    // Plain properties only: an object literal that starts with a spread took ~2–6 µs to build on
    // Node 20, and every decoded stream of every open builds one (docs/benchmarks.md).
    return {
      inflate: this.inflate,
      streamBytesMax: this.limits.streamDecodedBytesMax,
      totalBytesRemaining: this.limits.totalDecodedBytesMax - this.totalDecodedBytes,
      totalBytesMax: this.limits.totalDecodedBytesMax,
      budget: this.budget,
      resolve: (value) => this.resolve(value),
      warn: (message) => this.warnings.push(message),
    };
  }

  private decodeCounted(stream: PdfStream): Uint8Array {
    const data = decodeFiltered(stream.dict, stream.raw, this.decodeContext());
    // Undecoded streams are views of the input and cost nothing; decoded ones count toward the total.
    if (data !== stream.raw) this.totalDecodedBytes += data.length;
    return data;
  }

  private entry(objectNumber: number): XrefEntry | null {
    const cached = this.entryCache.get(objectNumber);
    if (cached !== undefined) return cached;
    let entry: XrefEntry | undefined;
    for (const section of this.sections) {
      entry = section.lookup(objectNumber);
      if (entry !== undefined) break;
    }
    if (this.scanned !== null && (entry === undefined || entry.type === 'offset')) {
      const scanned = this.scanned.get(objectNumber);
      entry = scanned === undefined ? entry : { type: 'offset', ...scanned };
    }
    const result = entry === undefined || entry.type === 'free' ? null : entry;
    this.entryCache.set(objectNumber, result);
    return result;
  }

  /** Loads (and caches) object `objectNumber`; null when it is missing, free or being loaded (a cycle). */
  private load(objectNumber: number): PdfObject {
    const cached = this.objectCache.get(objectNumber);
    if (cached !== undefined) return cached;
    if (!this.indexReady || this.loading.has(objectNumber)) return null;
    const entry = this.entry(objectNumber);
    if (entry === null || entry.type === 'free') {
      this.objectCache.set(objectNumber, null);
      return null;
    }
    this.loading.add(objectNumber);
    let value: PdfObject;
    try {
      value =
        entry.type === 'offset' ? this.loadAt(objectNumber, entry) : this.loadCompressed(objectNumber, entry);
    } finally {
      this.loading.delete(objectNumber);
    }
    this.objectCache.set(objectNumber, value);
    return value;
  }

  private loadAt(objectNumber: number, entry: XrefEntry & { type: 'offset' }): PdfObject {
    // A nested load (an indirect /Length) must not move the outer parse's position.
    const parser = this.loading.size > 1 ? this.newParser(this.bytes) : this.parser;
    const header = parser.readObjectHeader(entry.offset);
    if (header === null || header.objectNumber !== objectNumber) {
      if (this.scanned !== null) return null;
      this.recover(`the xref entry of object ${objectNumber} does not point at '${objectNumber} G obj'`);
      this.loading.delete(objectNumber);
      return this.load(objectNumber);
    }
    const object = parser.parseIndirectObject(entry.offset);
    this.spans.set(objectNumber, { start: object.start, end: object.end });
    if (this.security === null || objectNumber === this.encryptObjectNumber) return object.value;
    return decryptLoadedObject(this.security, object.value, objectNumber, object.generation);
  }

  private loadCompressed(objectNumber: number, entry: XrefEntry & { type: 'compressed' }): PdfObject {
    const index = this.objectStream(entry.streamNumber);
    if (index === null) return null;
    let position = entry.index;
    if (index.numbers[position] !== objectNumber) position = index.numbers.indexOf(objectNumber);
    const offset = index.offsets[position];
    if (offset === undefined) return null;
    const parser = index.parser;
    parser.lexer.position = index.first + offset;
    return parser.parseObject();
  }

  private objectStream(streamNumber: number): ObjectStreamIndex | null {
    const cached = this.objectStreams.get(streamNumber);
    if (cached !== undefined) return cached;
    // An object stream must itself be a plain indirect object, never inside another object stream.
    const entry = this.entry(streamNumber);
    const stream = entry?.type === 'offset' ? this.load(streamNumber) : null;
    let index: ObjectStreamIndex | null = null;
    if (stream instanceof PdfStream) index = this.indexObjectStream(stream);
    else this.warnings.push(`object stream ${streamNumber} is missing`);
    this.objectStreams.set(streamNumber, index);
    return index;
  }

  private indexObjectStream(stream: PdfStream): ObjectStreamIndex {
    const count = nonNegativeInteger(stream.dict.get('N'));
    const first = nonNegativeInteger(stream.dict.get('First'));
    if (count === undefined || first === undefined)
      throw pdfDamaged('an object stream has no valid /N or /First');
    checkLimit(this.limits, 'objectsMax', count);
    const data = this.decodeCounted(stream);
    const parser = this.newParser(data);
    const lexer = parser.lexer;
    lexer.position = 0;
    const numbers: number[] = [];
    const offsets: number[] = [];
    for (let index = 0; index < count; index += 1) {
      if (lexer.next() !== Token.number) break;
      const number = lexer.numberValue;
      if (lexer.next() !== Token.number) break;
      numbers.push(number);
      offsets.push(lexer.numberValue);
    }
    return { first, numbers, offsets, parser };
  }

  private openSecurity(options: OpenPdfOptions): void {
    const trailer = this.trailer;
    const encrypt = trailer.get('Encrypt');
    if (encrypt === undefined || encrypt === null) return;
    if (options.openSecurityHandler === undefined) throw new BubuhError('PDF_ENCRYPTED_UNSUPPORTED', {});
    if (encrypt instanceof PdfRef) this.encryptObjectNumber = encrypt.objectNumber;
    const dict = this.resolve(encrypt);
    if (!(dict instanceof PdfDict)) throw pdfDamaged('the /Encrypt dictionary is missing');
    const ids = trailer.get('ID');
    const firstId = Array.isArray(ids) && ids[0] instanceof PdfString ? ids[0].bytes : new Uint8Array(0);
    this.security = options.openSecurityHandler(dict, firstId, options.password);
  }

  private loadCatalog(): PdfDict {
    const catalog = this.resolve(this.trailer.get('Root'));
    if (catalog instanceof PdfDict) return catalog;
    if (this.scanned === null) {
      this.recover('the trailer /Root does not lead to a catalog');
      const retried = this.resolve(this.trailer.get('Root'));
      if (retried instanceof PdfDict) return retried;
    }
    throw pdfDamaged('the document catalog (/Root) is missing');
  }

  private effectiveVersion(headerVersion: string): string {
    const catalogVersion = this.catalog.get('Version');
    if (
      isName(catalogVersion) &&
      /^[12]\.\d$/.test(catalogVersion.value) &&
      catalogVersion.value > headerVersion
    ) {
      return catalogVersion.value;
    }
    return headerVersion;
  }

  /** Rebuilds the object index from a scan of the whole file; objects loaded so far are forgotten. */
  private recover(reason: string): void {
    this.warnings.push(`rebuilt the object index by scanning the file: ${reason}`);
    this.scanned = scanObjects(this.bytes, this.limits, this.budget);
    this.entryCache.clear();
    this.objectCache.clear();
    this.spans.clear();
    this.objectStreams.clear();
    this.cachedTrailer = null;
    this.leaves = null;
  }

  /** Sections standing in for an unreadable xref: every `trailer` dictionary and `/Type /XRef` stream found. */
  private recoverSections(): XrefSection[] {
    const sections: XrefSection[] = [];
    for (const position of scanTrailers(this.bytes, this.budget).reverse()) {
      this.parser.lexer.position = position;
      const dict = this.tryParse(() => this.parser.parseObject());
      if (dict instanceof PdfDict) sections.push(new TableSection(this.bytes, [], dict, this.offsetBase));
    }
    if (sections.some((section) => section.trailer.has('Root'))) return sections;
    // No usable `trailer`: the file may use xref streams, whose dictionaries hold the trailer entries.
    const offsets = [...(this.scanned?.values() ?? [])].map((object) => object.offset).sort((a, b) => b - a);
    for (const offset of offsets) {
      this.budget.tick();
      const section = this.tryParse(() => this.readStreamSection(offset, this.offsetBase));
      if (section !== null) sections.push(section);
    }
    if (!sections.some((section) => section.trailer.has('Root')))
      throw pdfDamaged('no trailer or catalog was found');
    return sections;
  }

  private tryParse<T>(parse: () => T): T | null {
    try {
      return parse();
    } catch (error) {
      if (error instanceof BubuhError && error.code !== 'PDF_TIME_LIMIT') return null;
      throw error;
    }
  }
}

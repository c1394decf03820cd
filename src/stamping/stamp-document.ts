/**
 * Stamps one PDF: the visible e-meterai seal on the chosen page and a PAdES signature
 * (`/ETSI.CAdES.detached`), appended as ONE incremental update so the uploaded bytes stay a prefix of
 * the result and earlier signatures stay valid. Pure: bytes in, bytes out; hashing, compression,
 * randomness and the signing key come from the environment, so the server injects Node's fast
 * primitives and a test can inject fixed ones.
 *
 * The only exception to "the original is a prefix": a file whose cross-reference data is broken (its
 * offsets do not point at its objects) is first rewritten with a fresh cross-reference table — every
 * object copied verbatim — because a signature appended onto a broken /Prev chain would be validated
 * against a revision that validators themselves must repair. The result says so (`normalised`).
 */
import { concatBytes } from '../bytes.js';
import { BubuhError } from '../errors.js';
import {
  buildCmsSignature,
  estimateCmsSize,
  type Signer,
  TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT,
} from '../pades/cms.js';
import { canSign } from '../pdf/crypt/permissions.js';
import { openStandardSecurityHandler } from '../pdf/crypt/standard-handler.js';
import type { RawInflate } from '../pdf/filters.js';
import { placeSeal, visiblePageSize } from '../pdf/geometry.js';
import { fillSignature, IncrementalUpdate } from '../pdf/incremental.js';
import { checkLimit, type PdfLimits } from '../pdf/limits.js';
import { type ObjectSpan, objectNumberMax, rewriteWithFreshXref } from '../pdf/normalise.js';
import {
  isArray,
  isDict,
  isRef,
  type PdfArray,
  PdfDict,
  PdfName,
  type PdfObject,
  PdfRef,
  PdfStream,
  PdfString,
} from '../pdf/objects.js';
import { openPdf, type PdfDocument, type PdfPage, type PdfSpan } from '../pdf/reader.js';
import { checkSealInput, drawSealDeflated, type QrModules } from '../seal/seal.js';
import { appendValidationData, type ValidationData } from './long-term.js';

export interface StampRequest {
  readonly pdf: Uint8Array;
  /** 1-based page number, or 'last' (the default). */
  readonly page?: number | 'last';
  /**
   * Lower-left corner of the seal in points on the page as the person sees it. Omitted: the bottom
   * right corner, `sealMarginPt` in from the visible edges.
   */
  readonly x?: number;
  readonly y?: number;
  /** Seal size in points, 40–150 (default 70). */
  readonly sizePt?: number;
  /** The user (or owner) password of an encrypted document. */
  readonly password?: string;
  /** The e-meterai serial, already minted (22 characters). */
  readonly serial: string;
  /** The public page of this serial, encoded in the QR code (`<base-url>/s/<serial>`). */
  readonly verifyUrl: string;
  /** Shown after the serial in /Reason, e.g. the document kind. */
  readonly reason?: string;
  readonly location?: string;
  readonly signingTime: Date;
  readonly limits?: Partial<PdfLimits>;
  /**
   * PAdES B-LT: after the signed update, append a second one with a /DSS holding the environment's
   * `validationData` (certificates, CRLs). Needs `validationData`.
   */
  readonly longTerm?: boolean;
}

/** Obtains RFC 3161 signature time-stamp tokens (PAdES B-T). */
export interface TimeStamper {
  /** A token (DER ContentInfo) whose messageImprint is the SHA-256 of `signatureValue`. */
  timeStamp(signatureValue: Uint8Array): Promise<Uint8Array>;
  /**
   * The most bytes the unsigned attribute around a token can take (the room reserved in /Contents);
   * default `TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT`.
   */
  readonly attributeBytesMax?: number;
}

export interface StampEnvironment {
  readonly signer: Signer;
  /** SHA-256 over the concatenation of `parts`. */
  sha256(parts: readonly Uint8Array[]): Uint8Array | Promise<Uint8Array>;
  /**
   * zlib (RFC 1950) compression for streams the stamp adds besides the seal (the long-term /DSS data);
   * the seal's content stream is compressed by the seal module, faster than a general deflater can.
   */
  deflate(data: Uint8Array): Uint8Array;
  /** Faster raw inflate for reading object and xref streams; the reader's portable one otherwise. */
  readonly inflate?: RawInflate;
  /** The QR symbol of a URL at error-correction level M. */
  encodeQr(url: string): QrModules;
  randomBytes(count: number): Uint8Array;
  /**
   * Room reserved in /Contents for unsigned attributes, in bytes; default: the time-stamper's
   * `attributeBytesMax` when there is one, else 0.
   */
  readonly unsignedAttributeBytes?: number;
  /** With one, every stamp is PAdES B-T; without, B-B. */
  readonly timeStamper?: TimeStamper;
  /** What a B-LT stamp (`longTerm`) puts in the /DSS: the chain up to the root, the TSA's, CRLs. */
  readonly validationData?: ValidationData;
}

export interface StampResult {
  /**
   * The stamped file: `original` followed by `appended`, joined into one buffer on first use. A caller
   * that writes the file (to a segment, a socket) should write the two parts instead and skip the copy.
   */
  readonly pdf: Uint8Array;
  /** The document the stamp extends: the upload itself, or its rewrite when `normalised`. */
  readonly original: Uint8Array;
  /** The bytes the stamp appended to `original` (its incremental updates). */
  readonly appended: Uint8Array;
  /** SHA-256 of the bytes the signature covers (the registry binds the serial to it). */
  readonly contentDigest: Uint8Array;
  readonly byteRange: readonly [number, number, number, number];
  readonly pageNumber: number;
  /** Bytes the stamp added to the (possibly normalised) input. */
  readonly addedBytes: number;
  /** True when a broken cross-reference table was rebuilt before stamping. */
  readonly normalised: boolean;
  readonly warnings: readonly string[];
}

/** A result without its parts: what crosses to another thread or leaves the service. */
export type StampSummary = Omit<StampResult, 'original' | 'appended'>;

/**
 * `result`'s fields as a plain object, without its parts, and with `pdf` (which joins the parts when
 * read) in place of the result's own when given. Not a spread: a spread of a `StampOutput` would copy
 * its parts and leave out `pdf`, a getter of its class.
 */
export function stampSummary(result: StampSummary, pdf: Uint8Array = result.pdf): StampSummary {
  return {
    pdf,
    contentDigest: result.contentDigest,
    byteRange: result.byteRange,
    pageNumber: result.pageNumber,
    addedBytes: result.addedBytes,
    normalised: result.normalised,
    warnings: result.warnings,
  };
}

export const sealSizePtDefault = 70;
/** Distance of the default seal position from the visible page's right and bottom edges. */
export const sealMarginPt = 36;
/** Annotation flags: Print (bit 3) and Locked (bit 8), so the seal prints and cannot be moved. */
const widgetFlags = 4 | 128;
/** New objects a stamp adds: the seal appearance, the signature dictionary and the widget. */
const stampObjectCount = 3;
/** /SigFlags: SignaturesExist (1) | AppendOnly (2). */
const signatureFlags = 3;

function openForStamping(
  bytes: Uint8Array,
  request: StampRequest,
  environment: StampEnvironment,
): PdfDocument {
  // Plain properties (undefined when absent), not conditional spreads: see PdfDocument.decodeContext.
  return openPdf(bytes, {
    limits: request.limits,
    password: request.password,
    inflate: environment.inflate,
    // AES initialisation vectors from the environment's source (a pooled CSPRNG on Node: one call per
    // 4 KB rather than one per encrypted string or stream).
    openSecurityHandler: (encrypt, firstId, password) =>
      openStandardSecurityHandler(encrypt, firstId, password, {
        randomBytes: (count) => environment.randomBytes(count),
      }),
  });
}

/**
 * A damaged cross-reference table is rebuilt from the objects the reader found by scanning. Only
 * whole objects (`N G obj … endobj`) can be copied verbatim; a found object that is not whole (its
 * `endobj` is missing, its generation is out of range) is refused rather than silently dropped,
 * because the signed file would then lack part of what the person uploaded.
 */
function normalise(document: PdfDocument): Uint8Array {
  const spans: ObjectSpan[] = [];
  for (const objectNumber of document.recoveredObjectNumbers()) {
    const span = document.objectSpan(objectNumber);
    if (!span) continue;
    const generation = wholeObjectGeneration(document.bytes, objectNumber, span);
    if (generation === null) {
      throw new BubuhError('PDF_DAMAGED', {
        problem: `object ${objectNumber} is not a whole 'N G obj … endobj'`,
      });
    }
    spans.push({ objectNumber, generation, start: span.start, end: span.end });
  }
  if (spans.length === 0) throw new BubuhError('PDF_DAMAGED', { problem: 'no whole objects were found' });
  return rewriteWithFreshXref(document.bytes, spans, document.trailer);
}

/** The generation of the object at `span` when it is exactly what `rewriteWithFreshXref` copies; else null. */
function wholeObjectGeneration(bytes: Uint8Array, objectNumber: number, span: PdfSpan): number | null {
  const header = /^(\d+) (\d+) obj/.exec(latin1(bytes.subarray(span.start, span.start + 32)));
  const generation = Number(header?.[2]);
  const closed = latin1(bytes.subarray(span.end - 6, span.end)) === 'endobj';
  const numbered = header !== null && header[1] === String(objectNumber) && header[2] === String(generation);
  const inRange = objectNumber >= 1 && objectNumber <= objectNumberMax && generation <= 65535;
  return closed && numbered && inRange && span.end > span.start ? generation : null;
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** PDF date string (ISO 32000-2 §7.9.4) in UTC. */
export function pdfDate(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `D:${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`
  );
}

function sealAppearance(request: StampRequest, environment: StampEnvironment, matrix: readonly number[]) {
  const sizePt = request.sizePt ?? sealSizePtDefault;
  const modules = environment.encodeQr(request.verifyUrl);
  // Compressed by the seal itself: its fixed part once per size, only the serial and QR per stamp.
  const drawing = drawSealDeflated({ serial: request.serial, url: request.verifyUrl, sizePt }, modules);
  const font = (baseFont: string) =>
    new PdfDict()
      .set('Type', PdfName.of('Font'))
      .set('Subtype', PdfName.of('Type1'))
      .set('BaseFont', PdfName.of(baseFont))
      .set('Encoding', PdfName.of('WinAnsiEncoding'));
  const fonts = new PdfDict()
    .set(drawing.resourceFontNames.regular, font(drawing.fonts.regular))
    .set(drawing.resourceFontNames.bold, font(drawing.fonts.bold));
  const dict = new PdfDict()
    .set('Type', PdfName.of('XObject'))
    .set('Subtype', PdfName.of('Form'))
    .set('BBox', [0, 0, sizePt, sizePt])
    .set('Matrix', [...matrix])
    .set(
      'Resources',
      new PdfDict().set('Font', fonts).set('ProcSet', [PdfName.of('PDF'), PdfName.of('Text')]),
    )
    .set('Filter', PdfName.of('FlateDecode'));
  return new PdfStream(dict, drawing.deflated);
}

/** Adds the widget to the page's /Annots, replacing whichever object holds that array. */
function attachToPage(update: IncrementalUpdate, document: PdfDocument, page: PdfPage, widget: PdfRef): void {
  const annots = page.annots;
  if (isRef(annots)) {
    const array = document.resolve(annots);
    if (isArray(array)) {
      update.set(annots, [...array, widget]);
      return;
    }
  }
  const existing: PdfArray = isArray(annots) ? [...annots] : [];
  update.set(page.ref, page.dict.clone().set('Annots', [...existing, widget]));
}

/**
 * A value as this stamp leaves it: an object the update already replaced reads as replaced, so that
 * when a hostile file makes one object play two parts (the catalog is also the page, the page is
 * also the AcroForm), the second change builds on the first instead of discarding it.
 */
function latest(update: IncrementalUpdate, document: PdfDocument, value: PdfObject | undefined): PdfObject {
  const pending = isRef(value) ? update.pending(value) : undefined;
  return pending ?? document.resolve(value);
}

/** Adds the field to the AcroForm (creating it when absent) and sets SignaturesExist | AppendOnly. */
function attachToForm(update: IncrementalUpdate, document: PdfDocument, field: PdfRef): void {
  const rootRef = document.trailer.get('Root');
  if (!isRef(rootRef)) throw new BubuhError('PDF_DAMAGED', {});
  const catalogValue = latest(update, document, rootRef);
  const catalog = isDict(catalogValue) ? catalogValue : document.catalog;
  const current = catalog.get('AcroForm');
  const form = latest(update, document, current);
  const formDict = isDict(form) ? form.clone() : new PdfDict();
  const fieldsRef = formDict.get('Fields');
  const fields = latest(update, document, fieldsRef);
  // The /Fields array may be the page's /Annots array too, which already holds the widget.
  const fieldList: PdfObject[] = isArray(fields)
    ? [...fields.filter((item) => item !== field), field]
    : [field];
  if (isRef(fieldsRef) && isArray(fields)) update.set(fieldsRef, fieldList);
  else formDict.set('Fields', fieldList);
  const flags = formDict.get('SigFlags');
  formDict.set('SigFlags', (typeof flags === 'number' ? flags : 0) | signatureFlags);
  if (isRef(current) && isDict(form)) {
    update.set(current, formDict);
    return;
  }
  update.set(rootRef, catalog.clone().set('AcroForm', formDict));
}

function signatureDictionary(request: StampRequest): PdfDict {
  const reason = request.reason ? `[${request.serial}] ${request.reason}` : `[${request.serial}]`;
  const dict = new PdfDict()
    .set('Type', PdfName.of('Sig'))
    .set('Filter', PdfName.of('Adobe.PPKLite'))
    .set('SubFilter', PdfName.of('ETSI.CAdES.detached'))
    .set('M', PdfString.fromLatin1(pdfDate(request.signingTime)))
    .set('Reason', PdfString.fromLatin1(asciiOnly(reason)))
    .set('Name', PdfString.fromLatin1('bubuh e-meterai'));
  if (request.location) dict.set('Location', PdfString.fromLatin1(asciiOnly(request.location)));
  return dict;
}

/** Text fields are written as PDFDocEncoding; anything outside printable ASCII becomes '?'. */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** Everything the stamp reads from the document, ending in an update ready to build and sign. */
function planStamp(
  document: PdfDocument,
  request: StampRequest,
  environment: StampEnvironment,
): { update: IncrementalUpdate; page: PdfPage } {
  if (document.security && !canSign(document.security)) throw new BubuhError('PDF_SIGNING_NOT_PERMITTED', {});
  // The whole page tree is counted, whichever page is stamped, so a document with more pages than the
  // limit (PDF_TOO_MANY_PAGES) is refused the same way on every page; the page lookup then reuses the walk.
  document.pageCount();
  const page = document.getPage(request.page ?? 'last');
  const sizePt = request.sizePt ?? sealSizePtDefault;
  const visible = visiblePageSize(page);
  const x = request.x ?? visible.widthPt - sizePt - sealMarginPt;
  const y = request.y ?? sealMarginPt;
  const placement = placeSeal(page, { x, y, sizePt });

  // The update numbers its objects from /Size on; the stamped file must stay within the object
  // limit, or it could not be read again (not even by this reader).
  checkLimit(document.limits, 'objectsMax', document.size + stampObjectCount);
  const update = new IncrementalUpdate(document, { fileIdentifier: environment.randomBytes(16) });
  const appearance = update.allocate();
  const signature = update.allocate();
  const widget = update.allocate();
  update.set(appearance, sealAppearance(request, environment, placement.matrix));
  update.addSignature(signature, signatureDictionary(request), contentsBytesFor(environment));
  update.set(
    widget,
    new PdfDict()
      .set('Type', PdfName.of('Annot'))
      .set('Subtype', PdfName.of('Widget'))
      .set('FT', PdfName.of('Sig'))
      .set('T', PdfString.fromLatin1(`e-meterai ${request.serial}`))
      .set('V', signature)
      .set('F', widgetFlags)
      .set('P', page.ref)
      .set('Rect', [...placement.rect])
      .set('AP', new PdfDict().set('N', appearance)),
  );
  attachToPage(update, document, page, widget);
  attachToForm(update, document, widget);
  return { update, page };
}

/** The /Contents reservation: the CMS bound, with room for a time-stamp token when one is asked for. */
function contentsBytesFor(environment: StampEnvironment): number {
  const timeStamper = environment.timeStamper;
  const unsignedAttributeBytes =
    environment.unsignedAttributeBytes ??
    (timeStamper ? (timeStamper.attributeBytesMax ?? TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT) : 0);
  return estimateCmsSize(environment.signer, { unsignedAttributeBytes });
}

export async function stampDocument(
  request: StampRequest,
  environment: StampEnvironment,
): Promise<StampResult> {
  // What the seal itself cannot carry is refused before the document is read, with its own code.
  checkSealInput({
    serial: request.serial,
    url: request.verifyUrl,
    sizePt: request.sizePt ?? sealSizePtDefault,
  });
  let document = openForStamping(request.pdf, request, environment);
  let normalised = false;
  let planned = document.recovered ? null : planStamp(document, request, environment);
  // The lazy reader may find the cross-reference data broken only while planning reads the page or
  // the form; the stamp must then go onto the normalised file all the same.
  if (planned === null || document.recovered) {
    document = openForStamping(normalise(document), request, environment);
    normalised = true;
    planned = planStamp(document, request, environment);
    if (document.recovered) {
      throw new BubuhError('PDF_DAMAGED', { problem: 'the cross-reference data cannot be rebuilt' });
    }
  }
  const { update, page } = planned;
  // Only the appended bytes are written: the original is not copied (for a 17 MB scan, 17 MB a stamp).
  const result = update.build({ appendedOnly: true });
  const byteRange = result.byteRange!;
  const original = document.bytes;
  const appended = result.bytes;
  const start = result.bytesStart;
  // The signed ranges [0, a) and [b, b + c): the original and the update up to /Contents, then the rest.
  const contentDigest = await environment.sha256([
    original,
    appended.subarray(0, byteRange[1] - start),
    appended.subarray(byteRange[2] - start, byteRange[2] + byteRange[3] - start),
  ]);
  const timeStamper = environment.timeStamper;
  const cms = await buildCmsSignature({
    contentDigest,
    signer: environment.signer,
    timeStamp: timeStamper ? (value: Uint8Array) => timeStamper.timeStamp(value) : undefined,
  });
  if (timeStamper && 2 * cms.length > result.contentsLength - 2) {
    throw new BubuhError('TSA_TOKEN_TOO_LARGE', {
      bytes: cms.length,
      reserved: (result.contentsLength - 2) / 2,
    });
  }
  fillSignature(result, cms);
  const facts: StampFacts = {
    contentDigest,
    byteRange,
    pageNumber: page.pageNumber,
    normalised,
    warnings: [...document.warnings],
  };
  if (request.longTerm !== true) return new StampOutput(original, appended, facts);
  const validationData = environment.validationData;
  if (validationData === undefined) throw new Error('stamp invariant: longTerm needs validationData');
  const signed = openForStamping(concatBytes([original, appended]), request, environment);
  const output = appendValidationData(signed, validationData, {
    fileIdentifier: environment.randomBytes(16),
    deflate: environment.deflate,
  });
  return new StampOutput(output.subarray(0, original.length), output.subarray(original.length), facts);
}

type StampFacts = Pick<StampResult, 'contentDigest' | 'byteRange' | 'pageNumber' | 'normalised' | 'warnings'>;

/** A result whose `pdf` is joined from its two parts on first use (and then kept). */
class StampOutput implements StampResult {
  readonly contentDigest: Uint8Array;
  readonly byteRange: readonly [number, number, number, number];
  readonly pageNumber: number;
  readonly addedBytes: number;
  readonly normalised: boolean;
  readonly warnings: readonly string[];
  #whole: Uint8Array | null = null;

  constructor(
    readonly original: Uint8Array,
    readonly appended: Uint8Array,
    facts: StampFacts,
  ) {
    this.contentDigest = facts.contentDigest;
    this.byteRange = facts.byteRange;
    this.pageNumber = facts.pageNumber;
    this.addedBytes = appended.length;
    this.normalised = facts.normalised;
    this.warnings = facts.warnings;
  }

  get pdf(): Uint8Array {
    this.#whole ??= concatBytes([this.original, this.appended]);
    return this.#whole;
  }
}

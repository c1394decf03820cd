/**
 * A small DER encoder and element reader, just large enough for CMS SignedData.
 *
 * Building a SignedData through pkijs object graphs costs far more than the signature itself, so the
 * per-stamp path writes DER directly: every function returns the complete encoding of one element,
 * and constructed elements are made by concatenating already-encoded children — or, where nesting is
 * deep and the result large, described as a `DeferredElement` tree and written once. Pure: no `node:`
 * imports.
 */

/** Universal tags used here. */
export const Tag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** DER lengths above this are refused: nothing in a PDF signature comes near 16 MiB. */
export const DER_LENGTH_MAX = 0xffffff;

/** The length octets: short form below 128, otherwise long form with the fewest octets. */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > DER_LENGTH_MAX) {
    throw new Error(`DER invariant: length ${length} out of range`);
  }
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
}

/** The size of the length octets for a content length, without allocating them. */
export function lengthOfLength(length: number): number {
  if (length < 0x80) return 1;
  if (length <= 0xff) return 2;
  if (length <= 0xffff) return 3;
  return 4;
}

/** One tag-length-value element whose content is the concatenation of `parts`. */
export function element(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xfe || (tag & 0x1f) === 0x1f) {
    throw new Error(`DER invariant: tag ${tag} must be a single-octet low tag`);
  }
  let contentLength = 0;
  for (const part of parts) contentLength += part.length;
  const header = lengthOfLength(contentLength);
  const out = new Uint8Array(1 + header + contentLength);
  out[0] = tag;
  out.set(encodeLength(contentLength), 1);
  let offset = 1 + header;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function sequence(...children: readonly Uint8Array[]): Uint8Array {
  return element(Tag.sequence, ...children);
}

/**
 * A constructed or primitive element whose encoding is deferred: its parts are encoded bytes or other
 * deferred elements, and `encodeDeferred` writes the whole tree into ONE buffer. Building nested
 * elements with `element` copies every inner element once per level and allocates a buffer per level;
 * a typed array of more than 64 bytes is allocated outside V8's heap at about 1–3 µs each, which made
 * assembling a CMS (eight such buffers) cost most of a P-256 signature. The tree costs one.
 */
export class DeferredElement {
  readonly contentLength: number;
  /** Tag, length octets and content. */
  readonly encodedLength: number;

  constructor(
    readonly tag: number,
    readonly parts: readonly (Uint8Array | DeferredElement)[],
  ) {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xfe || (tag & 0x1f) === 0x1f) {
      throw new Error(`DER invariant: tag ${tag} must be a single-octet low tag`);
    }
    let contentLength = 0;
    for (const part of parts) {
      contentLength += part instanceof DeferredElement ? part.encodedLength : part.length;
    }
    if (contentLength > DER_LENGTH_MAX)
      throw new Error(`DER invariant: length ${contentLength} out of range`);
    this.contentLength = contentLength;
    this.encodedLength = 1 + lengthOfLength(contentLength) + contentLength;
  }
}

export function deferred(tag: number, ...parts: readonly (Uint8Array | DeferredElement)[]): DeferredElement {
  return new DeferredElement(tag, parts);
}

/** The DER of a deferred tree, in one buffer of exactly its length. */
export function encodeDeferred(root: DeferredElement): Uint8Array {
  const out = new Uint8Array(root.encodedLength);
  const end = writeDeferred(out, 0, root);
  if (end !== out.length) throw new Error('DER invariant: deferred element wrote a different length');
  return out;
}

function writeDeferred(out: Uint8Array, offset: number, node: DeferredElement): number {
  let at = offset;
  out[at++] = node.tag;
  const length = node.contentLength;
  if (length < 0x80) {
    out[at++] = length;
  } else {
    const octets = lengthOfLength(length) - 1;
    out[at++] = 0x80 | octets;
    for (let shift = 8 * (octets - 1); shift >= 0; shift -= 8) out[at++] = (length >> shift) & 0xff;
  }
  for (const part of node.parts) {
    if (part instanceof DeferredElement) {
      at = writeDeferred(out, at, part);
    } else if (part.length <= 16) {
      for (let index = 0; index < part.length; index += 1) out[at++] = part[index]!;
    } else {
      out.set(part, at);
      at += part.length;
    }
  }
  return at;
}

/**
 * X.690 §11.6 ordering for SET OF: encodings compared as octet strings, a shorter one padded with
 * trailing zero octets. Equal-after-padding cannot happen for distinct DER elements of one type.
 */
export function compareDer(left: Uint8Array, right: Uint8Array): number {
  const common = Math.min(left.length, right.length);
  for (let index = 0; index < common; index += 1) {
    const difference = left[index]! - right[index]!;
    if (difference !== 0) return difference;
  }
  const longer = left.length > right.length ? left : right;
  for (let index = common; index < longer.length; index += 1) {
    if (longer[index] !== 0) return left.length > right.length ? 1 : -1;
  }
  return 0;
}

/** The members of a SET OF in DER order (a sorted copy; the input is not changed). */
export function sortSetOf(children: readonly Uint8Array[]): Uint8Array[] {
  return [...children].sort(compareDer);
}

/** SET OF with members sorted as DER requires. */
export function setOf(children: readonly Uint8Array[]): Uint8Array {
  return element(Tag.set, ...sortSetOf(children));
}

/** A context-specific constructed element `[number]` (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export function contextConstructed(number: number, ...parts: readonly Uint8Array[]): Uint8Array {
  if (!Number.isInteger(number) || number < 0 || number > 30) {
    throw new Error(`DER invariant: context tag number ${number} out of range`);
  }
  return element(0xa0 | number, ...parts);
}

/** A context-specific primitive element `[number]` (IMPLICIT of a primitive type). */
export function contextPrimitive(number: number, content: Uint8Array): Uint8Array {
  if (!Number.isInteger(number) || number < 0 || number > 30) {
    throw new Error(`DER invariant: context tag number ${number} out of range`);
  }
  return element(0x80 | number, content);
}

/** INTEGER from a small non-negative JavaScript number. */
export function integer(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`DER invariant: integer ${value} must be a non-negative safe integer`);
  }
  const magnitude: number[] = [];
  let rest = value;
  for (let count = 0; count < 8 && (rest > 0 || count === 0); count += 1) {
    magnitude.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  }
  return unsignedInteger(Uint8Array.from(magnitude));
}

/**
 * INTEGER from an unsigned big-endian magnitude: leading zero octets dropped, one zero octet added
 * when the top bit is set so the value stays positive.
 */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(start);
  if ((trimmed[0]! & 0x80) !== 0) return element(Tag.integer, Uint8Array.of(0), trimmed);
  return element(Tag.integer, trimmed);
}

/**
 * Encoded identifiers by their dotted text. A time-stamp token names the same few (its content type,
 * policy and hash) every time, and encoding the policy's 128-bit arc cost about 1 % of a stamping thread.
 */
const objectIdentifierCache = new Map<string, Uint8Array>();
const objectIdentifierCacheEntriesMax = 64;

/**
 * OBJECT IDENTIFIER from dotted text ("1.2.840.113549.1.7.2"). The result may be shared between
 * calls: it is read (copied into a larger element), never written.
 */
export function objectIdentifier(dotted: string): Uint8Array {
  const cached = objectIdentifierCache.get(dotted);
  if (cached !== undefined) return cached;
  const encoded = encodeObjectIdentifier(dotted);
  if (objectIdentifierCache.size < objectIdentifierCacheEntriesMax)
    objectIdentifierCache.set(dotted, encoded);
  return encoded;
}

function encodeObjectIdentifier(dotted: string): Uint8Array {
  // Arcs of any size: a 2.25 arc (a UUID as a number, e.g. the TSA's policy) is 128 bits.
  if (!/^[0-2](\.\d+)+$/.test(dotted)) throw new Error(`DER invariant: bad object identifier ${dotted}`);
  const arcs = dotted.split('.').map(BigInt);
  const [first, second] = arcs as [bigint, bigint];
  if (first < 2n && second > 39n) throw new Error(`DER invariant: bad object identifier ${dotted}`);
  const content: number[] = [];
  for (const value of [first * 40n + second, ...arcs.slice(2)]) {
    const groups = [Number(value & 0x7fn)];
    for (let rest = value >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    content.push(...groups);
  }
  return element(Tag.objectIdentifier, Uint8Array.from(content));
}

export function octetString(content: Uint8Array): Uint8Array {
  return element(Tag.octetString, content);
}

export function nullValue(): Uint8Array {
  return Uint8Array.of(Tag.null, 0x00);
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

/** UTCTime "YYMMDDHHMMSSZ"; RFC 5280 allows it for years 1950–2049 only. */
export function utcTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new Error(`DER invariant: UTCTime year ${year} out of 1950–2049`);
  const text =
    twoDigits(year % 100) +
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds()) +
    'Z';
  return element(Tag.utcTime, new TextEncoder().encode(text));
}

/** GeneralizedTime "YYYYMMDDHHMMSSZ" (whole seconds; DER forbids trailing zero fractions). */
export function generalizedTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new Error(`DER invariant: GeneralizedTime year ${year} out of range`);
  const text =
    String(year).padStart(4, '0') +
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds()) +
    'Z';
  return element(Tag.generalizedTime, new TextEncoder().encode(text));
}

/** Where one element sits inside a buffer. */
export interface DerElement {
  readonly tag: number;
  /** Offset of the tag octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/**
 * Reads the element starting at `offset`, checking that it lies within `limit`. Returns null when the
 * bytes are not a definite-length, low-tag element that fits; the caller decides which error to raise.
 */
export function readElement(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement | null {
  if (offset < 0 || offset + 2 > limit || limit > bytes.length) return null;
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) return null;
  const first = bytes[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3 || offset + 2 + count > limit) return null;
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + bytes[offset + 2 + index]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) return null;
  return { tag, start: offset, contentStart, end };
}

/** The children of a constructed element, in order; null when they do not tile its content exactly. */
export function readChildren(bytes: Uint8Array, parent: DerElement, childrenMax = 64): DerElement[] | null {
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    if (children.length >= childrenMax) return null;
    const child = readElement(bytes, offset, parent.end);
    if (child === null) return null;
    children.push(child);
    offset = child.end;
  }
  return children;
}

export { concatBytes } from '../bytes.js';

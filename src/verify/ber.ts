/**
 * A small BER element reader for the CMS structures a verifier meets. Signers that stream their
 * output (NSS, used by poppler's pdfsig) write the outer SignedData with indefinite lengths, which the
 * DER reader of `src/pades` refuses by design, so the verifier reads BER: definite and indefinite
 * lengths, low tags only. Pure: bytes in, positions out; nothing is copied.
 */

export interface BerElement {
  readonly tag: number;
  /** Offset of the tag octet. */
  readonly start: number;
  readonly contentStart: number;
  /** Offset just past the last content octet (before the end-of-contents octets of an indefinite length). */
  readonly contentEnd: number;
  /** Offset just past the whole element, end-of-contents octets included. */
  readonly end: number;
}

/** Nesting deeper than this is not a CMS signature but an attack on the reader. */
const nestingDepthMax = 32;
/** Children of one element: a SignedData holds a handful, a certificate set a few dozen. */
export const berChildrenMax = 256;

/**
 * Reads the element at `offset` that must end by `limit`; null when the bytes are not a well-formed
 * low-tag BER element. An indefinite length is allowed only on constructed elements (X.690 §8.1.3.2).
 */
export function readBer(
  bytes: Uint8Array,
  offset: number,
  limit = bytes.length,
  depth = 0,
): BerElement | null {
  if (depth > nestingDepthMax || offset < 0 || offset + 2 > limit || limit > bytes.length) return null;
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) return null;
  const first = bytes[offset + 1]!;
  if (first === 0x80) return readIndefinite(bytes, offset, limit, depth);
  let length = first;
  let contentStart = offset + 2;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4 || offset + 2 + count > limit) return null;
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + bytes[offset + 2 + index]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) return null;
  return { tag, start: offset, contentStart, contentEnd: end, end };
}

function readIndefinite(bytes: Uint8Array, offset: number, limit: number, depth: number): BerElement | null {
  const tag = bytes[offset]!;
  if ((tag & 0x20) === 0) return null;
  const contentStart = offset + 2;
  let position = contentStart;
  // Every child takes at least two octets, so the walk ends within (limit - offset) / 2 steps.
  while (position + 2 <= limit) {
    if (bytes[position] === 0 && bytes[position + 1] === 0) {
      return { tag, start: offset, contentStart, contentEnd: position, end: position + 2 };
    }
    const child = readBer(bytes, position, limit, depth + 1);
    if (child === null) return null;
    position = child.end;
  }
  return null;
}

/** The children of a constructed element in order; null when they do not tile its content. */
export function berChildren(
  bytes: Uint8Array,
  parent: BerElement,
  childrenMax = berChildrenMax,
): BerElement[] | null {
  const children: BerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.contentEnd) {
    if (children.length >= childrenMax) return null;
    const child = readBer(bytes, offset, parent.contentEnd);
    if (child === null) return null;
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The content octets of a primitive element. */
export function berContent(bytes: Uint8Array, element: BerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.contentEnd);
}

/** The whole encoding of an element (tag, length, content). */
export function berEncoding(bytes: Uint8Array, element: BerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** Dotted text of an OBJECT IDENTIFIER's content octets; null when malformed. */
export function objectIdentifierText(content: Uint8Array): string | null {
  if (content.length === 0 || content.length > 64) return null;
  const arcs: number[] = [];
  let value = 0;
  for (let index = 0; index < content.length; index += 1) {
    const byte = content[index]!;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) return null;
    if ((byte & 0x80) !== 0) continue;
    if (arcs.length === 0) {
      const first = value < 80 ? Math.floor(value / 40) : 2;
      arcs.push(first, value - first * 40);
    } else {
      arcs.push(value);
    }
    value = 0;
  }
  if ((content[content.length - 1]! & 0x80) !== 0) return null;
  return arcs.join('.');
}

/** The dotted OID of an element, or null when it is not an OBJECT IDENTIFIER. */
export function readObjectIdentifier(bytes: Uint8Array, element: BerElement | undefined): string | null {
  if (element === undefined || element.tag !== 0x06) return null;
  return objectIdentifierText(berContent(bytes, element));
}

export function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

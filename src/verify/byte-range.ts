/**
 * The /ByteRange of a signature (ISO 32000-2 §12.8.1): two ranges `[0 b] [c c+d]` that cover a whole
 * revision except the /Contents hex string between them. Anything else lets unsigned bytes change
 * what a reader shows.
 */
import { type PdfObject, PdfString } from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';
import { equalBytes } from './ber.js';

export type ByteRangeOutcome =
  | {
      readonly outcome: 'ok';
      readonly ranges: readonly [Uint8Array, Uint8Array];
      readonly contents: Uint8Array;
      readonly revisionEnd: number;
    }
  | {
      readonly outcome: 'byte_range_invalid' | 'byte_range_not_revision_end' | 'byte_range_gap_not_contents';
      readonly problem: string;
      readonly revisionEnd: number;
    };

const eofMarker = [0x25, 0x25, 0x45, 0x4f, 0x46];

function isByteRange(value: PdfObject): value is [number, number, number, number] {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value.every((item) => typeof item === 'number' && Number.isSafeInteger(item) && item >= 0)
  );
}

/** True when the bytes before `position` are `%%EOF` and at most one end-of-line marker. */
export function endsRevision(bytes: Uint8Array, position: number): boolean {
  let end = position;
  if (bytes[end - 1] === 0x0a) end -= 1;
  if (bytes[end - 1] === 0x0d) end -= 1;
  if (end < eofMarker.length) return false;
  return eofMarker.every((byte, index) => bytes[end - eofMarker.length + index] === byte);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** The bytes of a hex string's digits between `start` and `end`; null when something else is there. */
function decodeHexDigits(bytes: Uint8Array, start: number, end: number): Uint8Array | null {
  const out = new Uint8Array(Math.ceil((end - start) / 2));
  let count = 0;
  for (let position = start; position < end; position += 1) {
    const value = hexValue(bytes[position]!);
    if (value < 0) return null;
    out[count >> 1] = out[count >> 1]! | (count % 2 === 0 ? value << 4 : value);
    count += 1;
  }
  return out;
}

export function checkByteRange(
  document: PdfDocument,
  byteRange: PdfObject,
  contentsValue: PdfObject,
  signatureObjectNumber: number | null,
): ByteRangeOutcome {
  const bytes = document.bytes;
  if (!isByteRange(byteRange)) {
    return { outcome: 'byte_range_invalid', problem: 'not four non-negative integers', revisionEnd: 0 };
  }
  const [first, firstLength, second, secondLength] = byteRange;
  const revisionEnd = second + secondLength;
  if (first !== 0 || firstLength === 0 || second < firstLength + 2) {
    return { outcome: 'byte_range_invalid', problem: 'the ranges do not start at 0 or overlap', revisionEnd };
  }
  if (revisionEnd > bytes.length) {
    return { outcome: 'byte_range_invalid', problem: 'the ranges run past the end of the file', revisionEnd };
  }
  if (!endsRevision(bytes, revisionEnd)) {
    return {
      outcome: 'byte_range_not_revision_end',
      problem: 'no %%EOF at the end of the ranges',
      revisionEnd,
    };
  }
  const span = signatureObjectNumber === null ? null : document.objectSpan(signatureObjectNumber);
  const insideDictionary = span !== null && span.start < firstLength && second <= span.end;
  const delimited = bytes[firstLength] === 0x3c && bytes[second - 1] === 0x3e;
  const contents = delimited ? decodeHexDigits(bytes, firstLength + 1, second - 1) : null;
  const sameAsContents =
    contents !== null && contentsValue instanceof PdfString && equalBytes(contentsValue.bytes, contents);
  if (!insideDictionary || !sameAsContents) {
    return {
      outcome: 'byte_range_gap_not_contents',
      problem: 'the gap is not the hex string of this signature dictionary',
      revisionEnd,
    };
  }
  return {
    outcome: 'ok',
    ranges: [bytes.subarray(0, firstLength), bytes.subarray(second, revisionEnd)],
    contents: contents!,
    revisionEnd,
  };
}

/**
 * Stream decoding under limits. Only FlateDecode (with PNG and TIFF predictors) is supported: it is
 * what cross-reference streams and object streams use, the only streams stamping must decode.
 * Inflation runs in small input chunks so a decompression bomb is stopped at the output limit
 * instead of after expanding gigabytes.
 */
import { Inflate, inflateSync } from 'fflate';
import { BubuhError } from '../errors.js';
import { pdfDamaged } from './lexer.js';
import type { TimeBudget } from './limits.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName } from './objects.js';

/**
 * Inflates raw deflate data, returning 'too-large' instead of more than `outputBytesMax` bytes; throws
 * on data it cannot decode (the portable path then keeps what it can).
 */
export type RawInflate = (deflated: Uint8Array, outputBytesMax: number) => Uint8Array | 'too-large';

export interface DecodeContext {
  /** A faster inflater injected by the host (Node's zlib on the server); fflate when absent. */
  readonly inflate?: RawInflate;
  /** Decoded bytes one stream may have. */
  readonly streamBytesMax: number;
  /** Decoded bytes this stream may add before the document's total limit is hit. */
  readonly totalBytesRemaining: number;
  readonly totalBytesMax: number;
  readonly budget: TimeBudget;
  readonly resolve: (value: PdfObject | undefined) => PdfObject;
  /** Called when data was salvaged from a damaged stream. */
  readonly warn: (message: string) => void;
}

/** Compressed bytes handed to the inflater at a time; at most ~1032x expansion keeps one step near 16 MB. */
const inflateChunkBytes = 16 * 1024;

/** The most a deflate stream can expand (its longest match costs about 2 bits for 258 bytes), rounded up. */
const deflateRatioMax = 1100;

/** Decodes `raw` through the stream's /Filter chain. */
export function decodeFiltered(dict: PdfDict, raw: Uint8Array, context: DecodeContext): Uint8Array {
  const filters = asList(context.resolve(dict.get('Filter')), context);
  const parameters = asList(context.resolve(dict.get('DecodeParms') ?? dict.get('DP')), context);
  let data = raw;
  for (let index = 0; index < filters.length; index += 1) {
    const filter = filters[index];
    if (!(filter instanceof PdfName)) throw pdfDamaged('a stream /Filter is not a name');
    if (filter.value !== 'FlateDecode' && filter.value !== 'Fl') {
      throw new BubuhError('PDF_FILTER_UNSUPPORTED', { filter: filter.value });
    }
    const parameter = parameters[index];
    data = inflateBounded(data, context);
    data = applyPredictor(data, parameter instanceof PdfDict ? parameter : undefined, context);
  }
  return data;
}

function asList(value: PdfObject, context: DecodeContext): PdfObject[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.slice(0, 16).map((item) => context.resolve(item));
  return [value];
}

function refuseSize(total: number, context: DecodeContext): never {
  if (total > context.streamBytesMax) {
    throw new BubuhError('PDF_STREAM_TOO_LARGE', { limit: context.streamBytesMax, value: total });
  }
  throw new BubuhError('PDF_DECODED_TOTAL_TOO_LARGE', { limit: context.totalBytesMax, value: total });
}

/** Inflates zlib (or, when the zlib header is missing, raw deflate) data, refusing output past the limits. */
export function inflateBounded(data: Uint8Array, context: DecodeContext): Uint8Array {
  const outputMax = Math.min(context.streamBytesMax, context.totalBytesRemaining);
  const start = zlibHeaderLength(data);
  if (context.inflate !== undefined) {
    const output = attempt(() => context.inflate!(data.subarray(start), outputMax));
    if (output === 'too-large' || (output !== null && output.length > outputMax))
      refuseSize(outputMax + 1, context);
    if (output !== null) return output;
  }
  // Small input cannot expand past the limit: inflate in one call, which is several times faster.
  if ((data.length - start) * deflateRatioMax <= outputMax) {
    const output = attempt(() => inflateSync(data.subarray(start)));
    if (output !== null) return output;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > outputMax) refuseSize(total, context);
    if (chunk.length > 0) chunks.push(chunk);
  });
  let position = start;
  try {
    for (; position < data.length; position += inflateChunkBytes) {
      inflater.push(data.subarray(position, Math.min(data.length, position + inflateChunkBytes)), false);
      context.budget.check();
    }
    inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    // Truncated or corrupt deflate data: keep what was decoded, as viewers do, when anything was.
    if (total === 0) throw pdfDamaged(`a FlateDecode stream cannot be decoded (${String(error)})`);
    context.warn(`a FlateDecode stream is damaged; kept the first ${total} decoded bytes`);
  }
  return concatenate(chunks, total);
}

/** The inflater's result, or null when it threw on damaged data (the chunked path then salvages). */
function attempt<T>(inflate: () => T): T | null {
  try {
    return inflate();
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    return null;
  }
}

function zlibHeaderLength(data: Uint8Array): number {
  const method = data[0];
  const flags = data[1];
  if (method === undefined || flags === undefined) return 0;
  const valid = (method & 0x0f) === 8 && method >> 4 <= 7 && ((method << 8) | flags) % 31 === 0;
  if (!valid) return 0;
  return (flags & 0x20) !== 0 ? 6 : 2;
}

function concatenate(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const output = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    output.set(chunk, offset);
    offset += chunk.length;
  }
  return output;
}

function integerParameter(dict: PdfDict, key: string, fallback: number, context: DecodeContext): number {
  const value = context.resolve(dict.get(key));
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : fallback;
}

/** Undoes a /Predictor (ISO 32000-2 §7.4.4.4): 1 none, 2 TIFF, 10–15 PNG (filter type per row). */
export function applyPredictor(
  data: Uint8Array,
  parameters: PdfDict | undefined,
  context: DecodeContext,
): Uint8Array {
  if (parameters === undefined) return data;
  const predictor = integerParameter(parameters, 'Predictor', 1, context);
  if (predictor === 1) return data;
  const colors = integerParameter(parameters, 'Colors', 1, context);
  const bits = integerParameter(parameters, 'BitsPerComponent', 8, context);
  const columns = integerParameter(parameters, 'Columns', 1, context);
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bits) || columns < 1 || columns > 1 << 24) {
    throw pdfDamaged('a stream has invalid predictor parameters');
  }
  const bytesPerPixel = Math.ceil((colors * bits) / 8);
  const rowBytes = Math.ceil((colors * bits * columns) / 8);
  if (predictor === 2) {
    if (bits !== 8)
      throw new BubuhError('PDF_FILTER_UNSUPPORTED', { filter: `TIFF predictor with ${bits} bits` });
    return undoTiffPredictor(data, rowBytes, bytesPerPixel);
  }
  if (predictor >= 10 && predictor <= 15) return undoPngPredictor(data, rowBytes, bytesPerPixel);
  throw new BubuhError('PDF_FILTER_UNSUPPORTED', { filter: `predictor ${predictor}` });
}

function undoTiffPredictor(data: Uint8Array, rowBytes: number, bytesPerPixel: number): Uint8Array {
  const output = data.slice();
  for (let rowStart = 0; rowStart < output.length; rowStart += rowBytes) {
    const rowEnd = Math.min(output.length, rowStart + rowBytes);
    for (let index = rowStart + bytesPerPixel; index < rowEnd; index += 1) {
      output[index] = (output[index]! + output[index - bytesPerPixel]!) & 0xff;
    }
  }
  return output;
}

function undoPngPredictor(data: Uint8Array, rowBytes: number, bytesPerPixel: number): Uint8Array {
  const rows = Math.floor(data.length / (rowBytes + 1));
  const output = new Uint8Array(rows * rowBytes);
  for (let row = 0; row < rows; row += 1) {
    const type = data[row * (rowBytes + 1)]!;
    const source = row * (rowBytes + 1) + 1;
    const target = row * rowBytes;
    for (let index = 0; index < rowBytes; index += 1) {
      const raw = data[source + index]!;
      const left = index >= bytesPerPixel ? output[target + index - bytesPerPixel]! : 0;
      const up = row > 0 ? output[target - rowBytes + index]! : 0;
      const upLeft =
        row > 0 && index >= bytesPerPixel ? output[target - rowBytes + index - bytesPerPixel]! : 0;
      output[target + index] = (raw + pngPrediction(type, left, up, upLeft)) & 0xff;
    }
  }
  return output;
}

function pngPrediction(type: number, left: number, up: number, upLeft: number): number {
  switch (type) {
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return (left + up) >> 1;
    case 4: {
      const estimate = left + up - upLeft;
      const toLeft = Math.abs(estimate - left);
      const toUp = Math.abs(estimate - up);
      const toUpLeft = Math.abs(estimate - upLeft);
      if (toLeft <= toUp && toLeft <= toUpLeft) return left;
      return toUp <= toUpLeft ? up : upLeft;
    }
    default:
      return 0;
  }
}

/**
 * zlib (RFC 1950) compression of small streams, made for the seal's content stream. Node's zlib sets
 * up a fresh stream per call (some 270 KB of state allocated and cleared), which cost more than
 * compressing the 4 KB seal; here the seal's fixed part is compressed once (`deflateHead`) and only
 * its per-stamp tail is coded per call (`SplitDeflater`), with no state allocated per call.
 *
 * `zlibDeflate` is the general path: greedy LZ77 with a short hash chain (like zlib's fastest levels)
 * whose tables live for the life of the module and are never cleared (positions are stored offset by
 * a base that grows with every call, so an entry left by an earlier call reads as out of range), then
 * ONE dynamic-Huffman block (RFC 1951 §3.2.7), or one fixed-Huffman block when that is smaller or a
 * code would need more bits than deflate allows. Any input gives valid zlib data; it is meant for
 * streams of up to a few hundred kilobytes (the token buffer grows with the input).
 *
 * Pure: no I/O, no `node:` imports, deterministic (the same input always gives the same bytes).
 */

import { atLeastZero, atMost, same } from '../branch-free.js';

const windowBytes = 32768;
const matchMin = 3;
const matchMax = 258;
/** Candidates tried per position: 4 gives most of the gain of zlib's level 6 on seal streams. */
const chainLength = 4;
/** A match this long is taken without looking further. */
const matchGood = 32;
const hashBits = 13;
const hashShift = 32 - hashBits;

/** Head of each hash chain and the link from every position to the previous one: `base + position`. */
const head = new Int32Array(1 << hashBits);
let previous = new Int32Array(0);
/** Positions stored before this base belong to earlier calls. */
let base = windowBytes + 1;
/** Rebase while every stored value is still a small integer for the engine (below 2^30). */
const baseMax = 2 ** 29;

/** Literal and match tokens: a literal is its byte; a match is `-(length << 16 | distance)`. */
let tokens = new Int32Array(0);

// RFC 1951 §3.2.5: length codes 257..285 and distance codes 0..29 with their extra bits.
const lengthBase = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const distanceBase = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const distanceExtra = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/** The order in which code-length code lengths are sent (§3.2.7). */
const codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Length code index (0..28) for each match length 3..258. */
const lengthCodeOf = new Uint8Array(matchMax + 1);
for (let code = 0; code < lengthBase.length; code += 1) {
  const end = code + 1 < lengthBase.length ? lengthBase[code + 1]! : matchMax + 1;
  for (let length = lengthBase[code]!; length < end; length += 1) lengthCodeOf[length] = code;
}
lengthCodeOf[matchMax] = 28;
/** Distance code for distances 1..256 at index d − 1, and for larger ones at 256 + ((d − 1) >> 7). */
const distanceCodeOf = new Uint8Array(512);
for (let code = 0; code < distanceBase.length; code += 1) {
  const end = code + 1 < distanceBase.length ? distanceBase[code + 1]! : windowBytes + 1;
  for (let distance = distanceBase[code]!; distance < end; distance += 1) {
    if (distance <= 256) distanceCodeOf[distance - 1] = code;
    else distanceCodeOf[256 + ((distance - 1) >> 7)] = code;
  }
}

function distanceCode(distance: number): number {
  return distance <= 256 ? distanceCodeOf[distance - 1]! : distanceCodeOf[256 + ((distance - 1) >> 7)]!;
}

/** The fixed Huffman code lengths of §3.2.6. */
const fixedLiteralLengths = new Uint8Array(288);
fixedLiteralLengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
const fixedDistanceLengths = new Uint8Array(30).fill(5);

/** The hash chain of three bytes `key` (multiplicative hashing). */
function hashOf(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> hashShift;
}

/** Greedy LZ77 over `data` into `tokens`, trying `chain` candidates a position; the token count. */
function findMatches(data: Uint8Array, chain: number): number {
  const length = data.length;
  if (tokens.length < length) tokens = new Int32Array(Math.max(length, 1024));
  if (previous.length < length) previous = new Int32Array(Math.max(length, 1024));
  if (base + length + windowBytes >= baseMax) {
    head.fill(0);
    base = windowBytes + 1;
  }
  const start = base;
  base += length + windowBytes + 1;
  const out = tokens;
  const links = previous;
  const heads = head;
  const last = length - matchMin;
  let count = 0;
  let position = 0;
  while (position <= last) {
    const hash = hashOf((data[position]! << 16) | (data[position + 1]! << 8) | data[position + 2]!);
    const stored = heads[hash]!;
    links[position] = stored;
    heads[hash] = start + position;
    let candidate = stored - start;
    let bestLength = matchMin - 1;
    let bestDistance = 0;
    const lengthMax = Math.min(matchMax, length - position);
    for (let tries = chain; tries > 0 && candidate >= 0; tries -= 1) {
      if (position - candidate > windowBytes) break;
      if (data[candidate + bestLength] === data[position + bestLength]) {
        let matched = 0;
        while (matched < lengthMax && data[candidate + matched] === data[position + matched]) matched += 1;
        if (matched > bestLength) {
          bestLength = matched;
          bestDistance = position - candidate;
          if (matched >= matchGood) break;
        }
      }
      candidate = links[candidate]! - start;
    }
    if (bestDistance === 0) {
      out[count++] = data[position]!;
      position += 1;
      continue;
    }
    out[count++] = -((bestLength << 16) | bestDistance);
    // Positions inside a match join their chains too, so later text can refer to them.
    const end = position + bestLength;
    {
      const insertEnd = Math.min(end, last + 1);
      for (let inside = position + 1; inside < insertEnd; inside += 1) {
        const insideHash = hashOf((data[inside]! << 16) | (data[inside + 1]! << 8) | data[inside + 2]!);
        links[inside] = heads[insideHash]!;
        heads[insideHash] = start + inside;
      }
    }
    position = end;
  }
  while (position < length) out[count++] = data[position++]!;
  return count;
}

/**
 * Scratch tables for building codes, allocated once: typed arrays above 64 bytes live outside the
 * engine's heap, and allocating a few dozen of them per call cost as much as compressing.
 */
const symbolsMax = 286;
const sortKeys = new Float64Array(symbolsMax);
const usedSymbols = new Int32Array(symbolsMax);
const nodeWeight = new Float64Array(2 * symbolsMax);
const nodeParent = new Int32Array(2 * symbolsMax);
const nodeDepth = new Uint8Array(2 * symbolsMax);
const lengthCount = new Uint16Array(16);
const nextCode = new Uint16Array(16);

/**
 * Huffman code lengths for `frequencies[0..count)` into `lengths`, at most `limit` bits; false when
 * the optimal code is deeper (the caller then uses the fixed code). At least two symbols get a
 * length, as inflaters require of a code.
 */
function codeLengths(frequencies: Uint32Array, count: number, limit: number, lengths: Uint8Array): boolean {
  lengths.fill(0);
  let used = 0;
  for (let symbol = 0; symbol < count; symbol += 1) {
    const frequency = frequencies[symbol]!;
    // Ascending frequency, then symbol: one numeric sort of `frequency · 512 + symbol`.
    if (frequency > 0) sortKeys[used++] = frequency * 512 + symbol;
  }
  if (used < 2) {
    // One code of one bit is incomplete; pair it with another symbol, as zlib does.
    const first = used === 0 ? 0 : sortKeys[0]! % 512;
    lengths[first] = 1;
    lengths[first === 0 ? 1 : 0] = 1;
    return true;
  }
  const keys = sortKeys.subarray(0, used).sort();
  for (let index = 0; index < used; index += 1) {
    usedSymbols[index] = keys[index]! % 512;
    nodeWeight[index] = Math.floor(keys[index]! / 512);
  }
  // Two-queue Huffman: leaves in ascending weight, then internal nodes in creation order.
  const nodeCount = 2 * used - 1;
  let leaf = 0;
  let internal = used;
  for (let next = used; next < nodeCount; next += 1) {
    let left: number;
    if (leaf < used && (internal >= next || nodeWeight[leaf]! <= nodeWeight[internal]!)) left = leaf++;
    else left = internal++;
    let right: number;
    if (leaf < used && (internal >= next || nodeWeight[leaf]! <= nodeWeight[internal]!)) right = leaf++;
    else right = internal++;
    nodeWeight[next] = nodeWeight[left]! + nodeWeight[right]!;
    nodeParent[left] = next;
    nodeParent[right] = next;
  }
  nodeDepth[nodeCount - 1] = 0;
  for (let node = nodeCount - 2; node >= 0; node -= 1) {
    const depth = nodeDepth[nodeParent[node]!]! + 1;
    if (depth > limit) return false;
    nodeDepth[node] = depth;
  }
  for (let index = 0; index < used; index += 1) lengths[usedSymbols[index]!] = nodeDepth[index]!;
  return true;
}

/** Canonical codes (§3.2.2) into `codes`, bit-reversed for the least-significant-bit-first writer. */
function canonicalCodes(lengths: Uint8Array, codes: Uint16Array): void {
  lengthCount.fill(0);
  for (let symbol = 0; symbol < lengths.length; symbol += 1) {
    const length = lengths[symbol]!;
    lengthCount[length] = lengthCount[length]! + 1;
  }
  lengthCount[0] = 0;
  let code = 0;
  for (let bits = 1; bits < 16; bits += 1) {
    code = (code + lengthCount[bits - 1]!) << 1;
    nextCode[bits] = code;
  }
  for (let symbol = 0; symbol < lengths.length; symbol += 1) {
    const length = lengths[symbol]!;
    if (length === 0) continue;
    let value = nextCode[length]!;
    nextCode[length] = value + 1;
    let reversed = 0;
    for (let bit = 0; bit < length; bit += 1) {
      reversed = (reversed << 1) | (value & 1);
      value >>= 1;
    }
    codes[symbol] = reversed;
  }
}

/** The run-length encoded code lengths of §3.2.7 into `encoded` (`symbol | extra << 8`); the count. */
function runLengthEncode(lengths: Uint8Array, encoded: Int32Array): number {
  let count = 0;
  let index = 0;
  while (index < lengths.length) {
    const length = lengths[index]!;
    let run = 1;
    while (index + run < lengths.length && lengths[index + run] === length) run += 1;
    index += run;
    if (length === 0) {
      while (run >= 11) {
        const take = Math.min(run, 138);
        encoded[count++] = 18 | ((take - 11) << 8);
        run -= take;
      }
      if (run >= 3) {
        encoded[count++] = 17 | ((run - 3) << 8);
        run = 0;
      }
      while (run-- > 0) encoded[count++] = 0;
      continue;
    }
    encoded[count++] = length;
    run -= 1;
    while (run >= 3) {
      const take = Math.min(run, 6);
      encoded[count++] = 16 | ((take - 3) << 8);
      run -= take;
    }
    while (run-- > 0) encoded[count++] = length;
  }
  return count;
}

const codeLengthExtraBits = [2, 3, 7];

/** The output, written least significant bit first; grown as needed and reused across calls. */
let output = new Uint8Array(8192);
let outputLength = 0;
let bitBuffer = 0;
let bitCount = 0;

function resetOutput(): void {
  outputLength = 0;
  bitBuffer = 0;
  bitCount = 0;
}

/** Room for `bytes` more bytes after what was written. */
function reserve(bytes: number): void {
  if (output.length >= outputLength + bytes) return;
  const grown = new Uint8Array(Math.max(2 * output.length, outputLength + bytes));
  grown.set(output.subarray(0, outputLength));
  output = grown;
}

function putByte(value: number): void {
  output[outputLength++] = value;
}

/** Up to 16 bits, least significant first. */
function putBits(value: number, count: number): void {
  bitBuffer |= value << bitCount;
  bitCount += count;
  while (bitCount >= 8) {
    output[outputLength++] = bitBuffer & 0xff;
    bitBuffer >>>= 8;
    bitCount -= 8;
  }
}

function flushBits(): void {
  if (bitCount > 0) output[outputLength++] = bitBuffer & 0xff;
  bitBuffer = 0;
  bitCount = 0;
}

/** Frequencies of the symbols in `tokens[0..count)`, end-of-block included. */
const literalFrequencies = new Uint32Array(symbolsMax);
const distanceFrequencies = new Uint32Array(30);
/** The block's codes: lengths and bit-reversed codes, literal/length then distance. */
const literalLengths = new Uint8Array(symbolsMax);
const distanceLengths = new Uint8Array(30);
const literalCodes = new Uint16Array(288);
const distanceCodes = new Uint16Array(30);
/** The dynamic header: all code lengths, their run-length encoding and the code-length code. */
const headerLengths = new Uint8Array(symbolsMax + 30);
const headerEncoded = new Int32Array(symbolsMax + 30);
const codeLengthFrequencies = new Uint32Array(19);
const codeLengthLengths = new Uint8Array(19);
const codeLengthCodes = new Uint16Array(19);

/** Bits the tokens take with these code lengths, extra bits and end-of-block included. */
function dataBits(literal: Uint8Array, distance: Uint8Array): number {
  let total = 0;
  for (let symbol = 0; symbol < symbolsMax; symbol += 1) {
    const frequency = literalFrequencies[symbol]!;
    if (frequency === 0) continue;
    total += frequency * (literal[symbol]! + (symbol > 256 ? lengthExtra[symbol - 257]! : 0));
  }
  for (let symbol = 0; symbol < 30; symbol += 1) {
    total += distanceFrequencies[symbol]! * (distance[symbol]! + distanceExtra[symbol]!);
  }
  return total;
}

interface DynamicHeader {
  readonly literalCount: number;
  readonly distanceCount: number;
  readonly codeLengthCount: number;
  readonly encodedCount: number;
  readonly bits: number;
}

/** Plans the header of a dynamic block for the codes in `literalLengths` and `distanceLengths`. */
function dynamicHeader(): DynamicHeader | null {
  let literalCount = symbolsMax;
  while (literalCount > 257 && literalLengths[literalCount - 1] === 0) literalCount -= 1;
  let distanceCount = 30;
  while (distanceCount > 1 && distanceLengths[distanceCount - 1] === 0) distanceCount -= 1;
  const all = headerLengths.subarray(0, literalCount + distanceCount);
  all.set(literalLengths.subarray(0, literalCount));
  all.set(distanceLengths.subarray(0, distanceCount), literalCount);
  const encodedCount = runLengthEncode(all, headerEncoded);
  codeLengthFrequencies.fill(0);
  for (let index = 0; index < encodedCount; index += 1) {
    const symbol = headerEncoded[index]! & 0xff;
    codeLengthFrequencies[symbol] = codeLengthFrequencies[symbol]! + 1;
  }
  if (!codeLengths(codeLengthFrequencies, 19, 7, codeLengthLengths)) return null;
  let codeLengthCount = 19;
  while (codeLengthCount > 4 && codeLengthLengths[codeLengthOrder[codeLengthCount - 1]!] === 0) {
    codeLengthCount -= 1;
  }
  let bits = 5 + 5 + 4 + 3 * codeLengthCount;
  for (let index = 0; index < encodedCount; index += 1) {
    const symbol = headerEncoded[index]! & 0xff;
    bits += codeLengthLengths[symbol]! + (symbol >= 16 ? codeLengthExtraBits[symbol - 16]! : 0);
  }
  return { literalCount, distanceCount, codeLengthCount, encodedCount, bits };
}

function writeDynamicHeader(header: DynamicHeader): void {
  putBits(header.literalCount - 257, 5);
  putBits(header.distanceCount - 1, 5);
  putBits(header.codeLengthCount - 4, 4);
  for (let index = 0; index < header.codeLengthCount; index += 1) {
    putBits(codeLengthLengths[codeLengthOrder[index]!]!, 3);
  }
  canonicalCodes(codeLengthLengths, codeLengthCodes);
  for (let index = 0; index < header.encodedCount; index += 1) {
    const entry = headerEncoded[index]!;
    const symbol = entry & 0xff;
    putBits(codeLengthCodes[symbol]!, codeLengthLengths[symbol]!);
    if (symbol >= 16) putBits(entry >> 8, codeLengthExtraBits[symbol - 16]!);
  }
}

/** The tokens `tokens[0..count)` and end-of-block with the given codes (see `canonicalCodes`). */
function writeTokens(count: number, codes: BlockCodes): void {
  writeTokenRange(0, count, codes);
  putBits(codes.literalCodes[256]!, codes.literal[256]!);
}

/** The tokens `tokens[from..to)` with the given codes, no end-of-block. */
function writeTokenRange(from: number, to: number, codes: BlockCodes): void {
  const { literal, literalCodes, distance, distanceCodes } = codes;
  const bytes = output;
  const input = tokens;
  let at = outputLength;
  let buffer = bitBuffer;
  let filled = bitCount;
  for (let index = from; index < to; index += 1) {
    const token = input[index]!;
    if (token >= 0) {
      buffer |= literalCodes[token]! << filled;
      filled += literal[token]!;
    } else {
      const length = -token >> 16;
      const matchDistance = -token & 0xffff;
      const lengthCode = lengthCodeOf[length]!;
      buffer |= literalCodes[257 + lengthCode]! << filled;
      filled += literal[257 + lengthCode]!;
      buffer |= (length - lengthBase[lengthCode]!) << filled;
      filled += lengthExtra[lengthCode]!;
      // At most 15 + 5 bits were added to fewer than 8: write whole bytes before the distance.
      while (filled >= 8) {
        bytes[at++] = buffer & 0xff;
        buffer >>>= 8;
        filled -= 8;
      }
      const code = distanceCode(matchDistance);
      buffer |= distanceCodes[code]! << filled;
      filled += distance[code]!;
      // Up to 15 more bits, and the distance's extra bits take up to 13: write whole bytes again.
      while (filled >= 8) {
        bytes[at++] = buffer & 0xff;
        buffer >>>= 8;
        filled -= 8;
      }
      buffer |= (matchDistance - distanceBase[code]!) << filled;
      filled += distanceExtra[code]!;
    }
    while (filled >= 8) {
      bytes[at++] = buffer & 0xff;
      buffer >>>= 8;
      filled -= 8;
    }
  }
  outputLength = at;
  bitBuffer = buffer;
  bitCount = filled;
}

/** Adler-32 (RFC 1950 §9) of `data`, or of what came before and `data` when given that checksum. */
export function adler32(data: Uint8Array, previous = 1): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  let index = 0;
  while (index < data.length) {
    // After 2048 bytes b is below 2^30, so both sums stay small integers for the engine.
    const end = Math.min(data.length, index + 2048);
    for (; index < end; index += 1) {
      a += data[index]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

interface BlockCodes {
  readonly literal: Uint8Array;
  readonly literalCodes: Uint16Array;
  readonly distance: Uint8Array;
  readonly distanceCodes: Uint16Array;
}

function blockCodes(literal: Uint8Array, distance: Uint8Array): BlockCodes {
  const codes = {
    literal,
    literalCodes: new Uint16Array(literal.length),
    distance,
    distanceCodes: new Uint16Array(distance.length),
  };
  canonicalCodes(literal, codes.literalCodes);
  canonicalCodes(distance, codes.distanceCodes);
  return codes;
}

const fixedCodes = blockCodes(fixedLiteralLengths, fixedDistanceLengths);
/** The block being written, when it has a dynamic code (its arrays are reused by the next block). */
const dynamicCodes: BlockCodes = {
  literal: literalLengths,
  literalCodes,
  distance: distanceLengths,
  distanceCodes,
};

function countFrequencies(count: number): void {
  literalFrequencies.fill(0);
  distanceFrequencies.fill(0);
  for (let index = 0; index < count; index += 1) {
    const token = tokens[index]!;
    if (token >= 0) {
      literalFrequencies[token] = literalFrequencies[token]! + 1;
      continue;
    }
    const lengthSymbol = 257 + lengthCodeOf[-token >> 16]!;
    literalFrequencies[lengthSymbol] = literalFrequencies[lengthSymbol]! + 1;
    const code = distanceCode(-token & 0xffff);
    distanceFrequencies[code] = distanceFrequencies[code]! + 1;
  }
  literalFrequencies[256] = 1;
}

/** One block holding `data`, with the cheaper of a dynamic code fitted to it and the fixed code. */
function writeBlock(data: Uint8Array, final: boolean, chain: number): void {
  const count = findMatches(data, chain);
  countFrequencies(count);
  const fixedBits = dataBits(fixedLiteralLengths, fixedDistanceLengths);
  let header: DynamicHeader | null = null;
  if (
    codeLengths(literalFrequencies, symbolsMax, 15, literalLengths) &&
    codeLengths(distanceFrequencies, 30, 15, distanceLengths)
  ) {
    header = dynamicHeader();
    if (header !== null && header.bits + dataBits(literalLengths, distanceLengths) >= fixedBits)
      header = null;
  }
  // A fixed-code literal costs at most 9 bits, a match less than the bytes it stands for.
  reserve(Math.ceil((fixedBits + 3) / 8) + 1);
  const finalBit = final ? 1 : 0;
  if (header === null) {
    putBits(finalBit | 0b010, 3); // BTYPE 01
    writeTokens(count, fixedCodes);
  } else {
    putBits(finalBit | 0b100, 3); // BTYPE 10
    writeDynamicHeader(header);
    canonicalCodes(literalLengths, literalCodes);
    canonicalCodes(distanceLengths, distanceCodes);
    writeTokens(count, dynamicCodes);
  }
}

function putAdler32(checksum: number): void {
  reserve(5);
  flushBits();
  putByte(checksum >>> 24);
  putByte((checksum >>> 16) & 0xff);
  putByte((checksum >>> 8) & 0xff);
  putByte(checksum & 0xff);
}

/** The zlib header: deflate with a 32 KB window, no preset dictionary, the "fastest" level hint. */
const zlibHeader = [0x78, 0x01];

/** `data` as a zlib stream (RFC 1950: header, one deflate block, Adler-32). */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  resetOutput();
  reserve(2);
  putByte(zlibHeader[0]!);
  putByte(zlibHeader[1]!);
  writeBlock(data, true, chainLength);
  putAdler32(adler32(data));
  return output.slice(0, outputLength);
}

/** The start of a zlib stream, compressed once and ended on a byte boundary (see `SplitDeflater`). */
export interface DeflatedHead {
  readonly data: Uint8Array;
  /** zlib header and non-final blocks, closed with an empty stored block (a sync flush). */
  readonly bytes: Uint8Array;
  /** Adler-32 of `data`, to be continued over the tail. */
  readonly adler: number;
}

/** Candidates tried per position when a head is compressed once for many streams. */
const headChainLength = 64;

export function deflateHead(data: Uint8Array): DeflatedHead {
  resetOutput();
  reserve(2);
  putByte(zlibHeader[0]!);
  putByte(zlibHeader[1]!);
  writeBlock(data, false, headChainLength);
  // An empty stored block brings the stream to a byte boundary: 3 header bits, padding, LEN 0, NLEN.
  reserve(6);
  putBits(0, 3);
  flushBits();
  putByte(0x00);
  putByte(0x00);
  putByte(0xff);
  putByte(0xff);
  return { data: data.slice(), bytes: output.slice(0, outputLength), adler: adler32(data) };
}

/**
 * Compresses streams that are a fixed head followed by a tail that changes every time but always looks
 * alike, such as the seal: the head is compressed once (`deflateHead`), the tail with a Huffman code
 * fitted once to a sample tail, so each call only looks codes up. Each line of the tail that ends like
 * the line before it (`… 1 1 re` after `… 1 1 re`) refers back to that ending, whose distance is the
 * line's own length; nothing else is searched. A tail byte the code cannot carry (nothing the seal
 * writes) makes the whole stream go through `zlibDeflate`.
 */
export class SplitDeflater {
  private readonly codes: BlockCodes;
  /** The block header (BFINAL, BTYPE, the code): whole bytes, then `headerBits` bits of `headerLast`. */
  private readonly headerBytes: Uint8Array;
  private readonly headerLast: number;
  private readonly headerBits: number;
  /**
   * Per number 0..255 and count 0..4 (at `number * 5 + count`): the code of the first `count`
   * characters of its digits and a space, and its length in bits; `unitFits` is 1 where the whole
   * (and so every prefix) fits `packedBitsMax`.
   */
  private readonly prefixCodes = new Uint32Array(256 * 5);
  private readonly prefixBits = new Uint8Array(256 * 5);
  private readonly unitFits = new Uint8Array(256);
  /** Per match (length × 32 + distance, both below 32): its codes and extra bits (0: too long). */
  private readonly matchCodes = new Uint32Array(32 * 32);
  private readonly matchBits = new Uint8Array(32 * 32);

  constructor(sampleTail: Uint8Array) {
    const count = tokenizeTail(sampleTail, null);
    countFrequencies(count);
    // Every printable byte, line feed, length and distance gets a code, however rare in the sample.
    for (let byte = 0x20; byte < 0x7f; byte += 1) literalFrequencies[byte] = literalFrequencies[byte]! + 1;
    literalFrequencies[0x0a] = literalFrequencies[0x0a]! + 1;
    for (let symbol = 257; symbol < symbolsMax; symbol += 1) {
      literalFrequencies[symbol] = literalFrequencies[symbol]! + 1;
    }
    for (let code = 0; code < 30; code += 1) distanceFrequencies[code] = distanceFrequencies[code]! + 1;
    const literal = new Uint8Array(symbolsMax);
    const distance = new Uint8Array(30);
    const fitted =
      codeLengths(literalFrequencies, symbolsMax, 15, literal) &&
      codeLengths(distanceFrequencies, 30, 15, distance);
    literalLengths.set(literal);
    distanceLengths.set(distance);
    const header = fitted ? dynamicHeader() : null;
    resetOutput();
    reserve(400);
    if (header === null) {
      this.codes = fixedCodes;
      putBits(0b011, 3);
    } else {
      this.codes = blockCodes(literal, distance);
      putBits(0b101, 3);
      writeDynamicHeader(header);
    }
    this.headerBytes = output.slice(0, outputLength);
    this.headerLast = bitBuffer;
    this.headerBits = bitCount;
    this.fitRectangleCodes();
  }

  /** The codes of `deflateRectangles`: a number and its space, and a short match, each as one value. */
  private fitRectangleCodes(): void {
    const { literal, literalCodes, distance, distanceCodes } = this.codes;
    for (let number = 0; number < 256; number += 1) {
      let code = 0;
      let bits = 0;
      for (let index = 0; index < unitLengths[number]!; index += 1) {
        const byte = unitCharacters[number * 4 + index]!;
        code |= literalCodes[byte]! << bits;
        bits += literal[byte]!;
        if (bits > packedBitsMax) break;
        this.prefixCodes[number * 5 + index + 1] = code >>> 0;
        this.prefixBits[number * 5 + index + 1] = bits;
      }
      this.unitFits[number] = bits > packedBitsMax ? 0 : 1;
    }
    for (let length = matchMin; length < 32; length += 1) {
      for (let matchDistance = 1; matchDistance < 32; matchDistance += 1) {
        const lengthCode = lengthCodeOf[length]!;
        const code = distanceCode(matchDistance);
        const parts = [
          [literalCodes[257 + lengthCode]!, literal[257 + lengthCode]!],
          [length - lengthBase[lengthCode]!, lengthExtra[lengthCode]!],
          [distanceCodes[code]!, distance[code]!],
          [matchDistance - distanceBase[code]!, distanceExtra[code]!],
        ] as const;
        let packed = 0;
        let bits = 0;
        for (const [value, count] of parts) {
          if (bits + count > packedBitsMax) {
            bits = packedBitsMax + 1;
            break;
          }
          packed |= value << bits;
          bits += count;
        }
        this.matchCodes[length * 32 + matchDistance] = packed >>> 0;
        this.matchBits[length * 32 + matchDistance] = bits > packedBitsMax ? 0 : bits;
      }
    }
  }

  /** The zlib stream of `head.data` followed by `tail`. */
  deflate(head: DeflatedHead, tail: Uint8Array): Uint8Array {
    const count = tokenizeTail(tail, this.codes.literal);
    if (count < 0) {
      const whole = new Uint8Array(head.data.length + tail.length);
      whole.set(head.data);
      whole.set(tail, head.data.length);
      return zlibDeflate(whole);
    }
    resetOutput();
    // At most 15 bits a byte (a match costs less than its bytes), the checksum and a spare byte.
    reserve(head.bytes.length + this.headerBytes.length + 2 * tail.length + 8);
    output.set(head.bytes, 0);
    output.set(this.headerBytes, head.bytes.length);
    outputLength = head.bytes.length + this.headerBytes.length;
    bitBuffer = this.headerLast;
    bitCount = this.headerBits;
    writeTokens(count, this.codes);
    putAdler32(adler32(tail, head.adler));
    return output.slice(0, outputLength);
  }

  /**
   * `deflate(head, tail)` for a tail that is `prefix`, then one line `c r l h re\n` per rectangle
   * (`rectangles[0..count)`, each packed `c | r << 8 | l << 16 | h << 24`), then `suffix` — the same
   * bytes, without the rectangles' text ever being written: a number and its space, and a line's match
   * against the line before, are each one precomputed code, and the checksum is summed per number.
   */
  deflateRectangles(
    head: DeflatedHead,
    prefix: Uint8Array,
    rectangles: Uint32Array,
    count: number,
    suffix: Uint8Array,
  ): Uint8Array {
    // The first rectangle is coded with the prefix and the last with the suffix, as text, so the lines
    // around each edge are tokenised exactly as in the whole tail.
    if (count < 2) return this.deflate(head, rectanglesText(prefix, rectangles, 0, count, suffix));
    const first = rectanglesText(prefix, rectangles, 0, 1, emptyBytes);
    const firstCount = tokenizeTail(first, this.codes.literal);
    if (firstCount < 0) return this.deflate(head, rectanglesText(prefix, rectangles, 0, count, suffix));
    resetOutput();
    // Twice the text's bytes bounds its code; 3 more for the bytes writeRectangles stores ahead.
    reserve(
      head.bytes.length + this.headerBytes.length + 2 * (first.length + 19 * count + suffix.length) + 11,
    );
    output.set(head.bytes, 0);
    output.set(this.headerBytes, head.bytes.length);
    outputLength = head.bytes.length + this.headerBytes.length;
    bitBuffer = this.headerLast;
    bitCount = this.headerBits;
    writeTokenRange(0, firstCount, this.codes);
    let checksum = adler32(first, head.adler);
    checksum = this.writeRectangles(rectangles, count, checksum);
    const last = rectanglesText(emptyBytes, rectangles, count - 1, count, suffix);
    const lastCount = tokenizeTail(last, this.codes.literal);
    if (lastCount < 0) return this.deflate(head, rectanglesText(prefix, rectangles, 0, count, suffix));
    // The last rectangle's line has no line before it here, so it is all literals: skip those.
    writeTokenRange(lineLength(rectangles[count - 1]!), lastCount, this.codes);
    putBits(this.codes.literalCodes[256]!, this.codes.literal[256]!);
    putAdler32(adler32(suffix, checksum));
    return output.slice(0, outputLength);
  }

  /**
   * Codes rectangles 1..count−1 (each matched against the one before) and returns the checksum.
   *
   * The rectangles of a seal's QR code follow a random serial, so how much of a line matches the line
   * before, and so how many of its numbers are literals, is a coin toss for every line. Nothing here
   * branches on it: the match's length is summed from per-number equalities, every one of the four
   * numbers contributes the code of its first 0–4 characters (`prefixCodes`), and every code is
   * followed by the same three-byte store (only the output position moves by the whole bytes).
   */
  private writeRectangles(rectangles: Uint32Array, count: number, checksum: number): number {
    const { prefixCodes, prefixBits, unitFits, matchCodes, matchBits } = this;
    const { literal, literalCodes } = this.codes;
    // The output and bit state in locals; written back around the rare paths that use `putBits`.
    const bytes = output;
    let at = outputLength;
    let buffer = bitBuffer;
    let filled = bitCount;
    let sum = checksum & 0xffff;
    let weighted = checksum >>> 16;
    let previous = rectangles[0]!;
    let previousLength = lineLength(previous);
    for (let index = 1; index < count; index += 1) {
      const current = rectangles[index]!;
      const n0 = current & 0xff;
      const n1 = (current >>> 8) & 0xff;
      const n2 = (current >>> 16) & 0xff;
      const n3 = current >>> 24;
      const l0 = unitLengths[n0]!;
      const l1 = unitLengths[n1]!;
      const l2 = unitLengths[n2]!;
      const l3 = unitLengths[n3]!;
      const currentLength = l0 + l1 + l2 + l3 + lineEndLength;
      // How many bytes the two lines have in common at their ends: " re\n", then each number from
      // the last, whole with the space before it, while it and all after it are equal, then the equal
      // last digits of the first that differs.
      const p0 = previous & 0xff;
      const p1 = (previous >>> 8) & 0xff;
      const p2 = (previous >>> 16) & 0xff;
      const p3 = previous >>> 24;
      const e3 = same(p3, n3);
      const e2 = e3 & same(p2, n2);
      const e1 = e2 & same(p1, n1);
      const e0 = e1 & same(p0, n0);
      const ending =
        lineEndLength +
        1 +
        e3 * l3 +
        e2 * l2 +
        e1 * l1 +
        e0 * (l0 - 1) +
        (1 - e3) * equalTrailingDigits[(p3 << 8) | n3]! +
        (e3 - e2) * equalTrailingDigits[(p2 << 8) | n2]! +
        (e2 - e1) * equalTrailingDigits[(p1 << 8) | n1]! +
        (e1 - e0) * equalTrailingDigits[(p0 << 8) | n0]!;
      const common = Math.min(ending, previousLength, currentLength);
      // The literals before the match: the line's first `literals` characters, which end within its
      // numbers (the match covers at least " re\n", and every line is at least 11 bytes).
      const literals = currentLength - common;
      if ((unitFits[n0]! & unitFits[n1]! & unitFits[n2]! & unitFits[n3]!) !== 0) {
        const k0 = atMost(literals, l0);
        const k1 = atMost(atLeastZero(literals - l0), l1);
        const k2 = atMost(atLeastZero(literals - l0 - l1), l2);
        const k3 = atMost(atLeastZero(literals - l0 - l1 - l2), l3);
        // Each prefix code is at most 24 bits beside at most 7 pending ones; after each, the whole
        // bytes (at most three) are stored and the output advances past them. What was stored past
        // them is overwritten by the next store (the reservation in deflateRectangles leaves room).
        // Written out four times: as a loop over the four numbers the seal took ~2 µs longer.
        buffer |= prefixCodes[n0 * 5 + k0]! << filled;
        filled += prefixBits[n0 * 5 + k0]!;
        bytes[at] = buffer;
        bytes[at + 1] = buffer >>> 8;
        bytes[at + 2] = buffer >>> 16;
        at += filled >>> 3;
        buffer = (buffer >>> (filled & 0x18)) | 0;
        filled &= 7;
        buffer |= prefixCodes[n1 * 5 + k1]! << filled;
        filled += prefixBits[n1 * 5 + k1]!;
        bytes[at] = buffer;
        bytes[at + 1] = buffer >>> 8;
        bytes[at + 2] = buffer >>> 16;
        at += filled >>> 3;
        buffer = (buffer >>> (filled & 0x18)) | 0;
        filled &= 7;
        buffer |= prefixCodes[n2 * 5 + k2]! << filled;
        filled += prefixBits[n2 * 5 + k2]!;
        bytes[at] = buffer;
        bytes[at + 1] = buffer >>> 8;
        bytes[at + 2] = buffer >>> 16;
        at += filled >>> 3;
        buffer = (buffer >>> (filled & 0x18)) | 0;
        filled &= 7;
        buffer |= prefixCodes[n3 * 5 + k3]! << filled;
        filled += prefixBits[n3 * 5 + k3]!;
        bytes[at] = buffer;
        bytes[at + 1] = buffer >>> 8;
        bytes[at + 2] = buffer >>> 16;
        at += filled >>> 3;
        buffer = (buffer >>> (filled & 0x18)) | 0;
        filled &= 7;
      } else {
        // A number whose code is too long to pack (a code fitted to an unusual sample): byte by byte.
        outputLength = at;
        bitBuffer = buffer;
        bitCount = filled;
        let remaining = literals;
        for (let field = 0; field < 4 && remaining > 0; field += 1) {
          const number = (current >>> (8 * field)) & 0xff;
          const characters = Math.min(remaining, unitLengths[number]!);
          for (let character = 0; character < characters; character += 1) {
            const byte = unitCharacters[number * 4 + character]!;
            putBits(literalCodes[byte]!, literal[byte]!);
          }
          remaining -= characters;
        }
        at = outputLength;
        buffer = bitBuffer;
        filled = bitCount;
      }
      const match = common * 32 + currentLength;
      const matchLength = matchBits[match]!;
      if (matchLength !== 0) {
        buffer |= matchCodes[match]! << filled;
        filled += matchLength;
        bytes[at] = buffer;
        bytes[at + 1] = buffer >>> 8;
        bytes[at + 2] = buffer >>> 16;
        at += filled >>> 3;
        buffer = (buffer >>> (filled & 0x18)) | 0;
        filled &= 7;
      } else {
        outputLength = at;
        bitBuffer = buffer;
        bitCount = filled;
        tokens[0] = -((common << 16) | currentLength);
        writeTokenRange(0, 1, this.codes);
        at = outputLength;
        buffer = bitBuffer;
        filled = bitCount;
      }
      // Adler-32 over the line, four numbers with their spaces and "re\n", as one group: its bytes'
      // sum, and their weights within the line (each part's own, plus its sum once for every byte
      // after it), which do not wait for the running sum.
      const s0 = unitSums[n0]!;
      const s01 = s0 + unitSums[n1]!;
      const s012 = s01 + unitSums[n2]!;
      const s0123 = s012 + unitSums[n3]!;
      const lineWeighted =
        unitWeighted[n0]! +
        unitWeighted[n1]! +
        unitWeighted[n2]! +
        unitWeighted[n3]! +
        l1 * s0 +
        l2 * s01 +
        l3 * s012 +
        lineEndLength * s0123 +
        lineEndWeighted;
      weighted += currentLength * sum + lineWeighted;
      sum += s0123 + lineEndSum;
      // Reduced every 64 lines, as zlib defers its reductions: a line is at most 19 bytes, so the sum
      // stays below 65,521 + 64 × 19 × 255 and the weighted sum below 65,521 + 64 × 19 × that — under
      // 2^30, a small integer for the engine.
      if ((index & 63) === 0) {
        sum %= 65521;
        weighted %= 65521;
      }
      previous = current;
      previousLength = currentLength;
    }
    outputLength = at;
    bitBuffer = buffer;
    bitCount = filled;
    return (((weighted % 65521) << 16) | (sum % 65521)) >>> 0;
  }
}

/** The most bits one packed code may hold, so that it fits the 32-bit bit buffer beside 7 pending bits. */
const packedBitsMax = 24;
const emptyBytes = new Uint8Array(0);
/** What ends every rectangle's line after its four numbers. */
const lineEnd = Uint8Array.of(0x72, 0x65, 0x0a); // "re\n"
const lineEndLength = 3;
const lineEndSum = 0x72 + 0x65 + 0x0a;
const lineEndWeighted = 3 * 0x72 + 2 * 0x65 + 0x0a;
/** Per number 0..255: its decimal digits and a space (`unitCharacters`, four a number), their count,
 * their sum and their Adler-32 weight (each byte times its distance from the end, counting from 1). */
const unitCharacters = new Uint8Array(256 * 4);
const unitLengths = new Uint8Array(256);
const unitSums = new Uint16Array(256);
const unitWeighted = new Uint16Array(256);
for (let number = 0; number < 256; number += 1) {
  const text = `${number} `;
  unitLengths[number] = text.length;
  for (let index = 0; index < text.length; index += 1) {
    const byte = text.charCodeAt(index);
    unitCharacters[number * 4 + index] = byte;
    unitSums[number] = unitSums[number]! + byte;
    unitWeighted[number] = unitWeighted[number]! + (text.length - index) * byte;
  }
}

/** Bytes of the line `c r l h re\n` of a packed rectangle. */
function lineLength(rectangle: number): number {
  return (
    unitLengths[rectangle & 0xff]! +
    unitLengths[(rectangle >>> 8) & 0xff]! +
    unitLengths[(rectangle >>> 16) & 0xff]! +
    unitLengths[rectangle >>> 24]! +
    lineEndLength
  );
}

/**
 * For two different numbers 0..255 (`left << 8 | right`), how many of their last digits are equal,
 * up to the shorter one's digit count: where two lines' common ending stops. A table, because the
 * rectangles of a seal's QR code are random and a loop of divisions per pair cost more than coding the
 * line.
 */
const equalTrailingDigits = new Uint8Array(256 * 256);
for (let left = 0; left < 256; left += 1) {
  for (let right = 0; right < 256; right += 1) {
    if (left === right) continue;
    const digits = Math.min(unitLengths[left]!, unitLengths[right]!) - 1;
    let equal = 0;
    let a = left;
    let b = right;
    while (equal < digits && a % 10 === b % 10) {
      equal += 1;
      a = Math.floor(a / 10);
      b = Math.floor(b / 10);
    }
    equalTrailingDigits[(left << 8) | right] = equal;
  }
}

/** `prefix`, the lines of `rectangles[from..to)`, then `suffix`, as bytes. */
export function rectanglesText(
  prefix: Uint8Array,
  rectangles: Uint32Array,
  from: number,
  to: number,
  suffix: Uint8Array,
): Uint8Array {
  let length = prefix.length + suffix.length;
  for (let index = from; index < to; index += 1) length += lineLength(rectangles[index]!);
  const text = new Uint8Array(length);
  text.set(prefix);
  let at = prefix.length;
  for (let index = from; index < to; index += 1) {
    const rectangle = rectangles[index]!;
    for (let field = 0; field < 4; field += 1) {
      const number = (rectangle >>> (8 * field)) & 0xff;
      for (let character = 0; character < unitLengths[number]!; character += 1) {
        text[at++] = unitCharacters[number * 4 + character]!;
      }
    }
    text.set(lineEnd, at);
    at += lineEnd.length;
  }
  text.set(suffix, at);
  return text;
}

/**
 * The tail's tokens: literals, and for each line whose last three or more bytes equal the previous
 * line's, one match for that common ending. −1 when `literal` is given and a byte has no code in it.
 */
function tokenizeTail(tail: Uint8Array, literal: Uint8Array | null): number {
  if (tokens.length < tail.length) tokens = new Int32Array(Math.max(tail.length, 1024));
  const out = tokens;
  let count = 0;
  let previousStart = -1;
  let lineStart = 0;
  const length = tail.length;
  while (lineStart < length) {
    let lineEnd = lineStart;
    while (lineEnd < length && tail[lineEnd] !== 0x0a) lineEnd += 1;
    if (lineEnd < length) lineEnd += 1; // the line feed belongs to the line
    const lineLength = lineEnd - lineStart;
    let common = 0;
    if (previousStart >= 0) {
      const limit = Math.min(lineLength, lineStart - previousStart, matchMax);
      while (common < limit && tail[lineEnd - 1 - common] === tail[lineStart - 1 - common]) common += 1;
    }
    if (common < matchMin) common = 0;
    for (let index = lineStart; index < lineEnd - common; index += 1) {
      const byte = tail[index]!;
      if (literal !== null && literal[byte] === 0) return -1;
      out[count++] = byte;
    }
    if (common > 0) out[count++] = -((common << 16) | lineLength);
    previousStart = lineStart;
    lineStart = lineEnd;
  }
  return count;
}

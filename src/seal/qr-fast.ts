/**
 * A fast path for the one QR shape a seal uses: error correction M, mask 4, a byte segment followed
 * by an alphanumeric segment, versions 1–9. The general encoder (the `qrcode` package) rebuilds the
 * function patterns, the Reed–Solomon generator and every table on each call, about 50 µs — a tenth
 * of a stamp. Here the function patterns of a version are taken ONCE from that encoder's own output
 * (its modules and its reserved-module map), so only the per-URL work remains: the bit stream, the
 * error-correction codewords and the zigzag placement with the mask. The tests compare the result with
 * the general encoder's, module for module, over many URLs and every supported version.
 */

/** Data codewords per block at level M, versions 1–9 (ISO/IEC 18004 table 9); index 0 unused. */
const blocksAtM: readonly (readonly number[])[] = [
  [],
  [16],
  [28],
  [44],
  [32, 32],
  [43, 43],
  [27, 27, 27, 27],
  [31, 31, 31, 31],
  [38, 38, 39, 39],
  [36, 36, 36, 37, 37],
];
/** Data codewords in all at level M, versions 1–9. */
const capacityAtM = blocksAtM.map((blocks) => blocks.reduce((sum, length) => sum + length, 0));
/** Error-correction codewords per block at level M, versions 1–9. */
const ecPerBlockAtM = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22] as const;
export const fastQrVersionMax = 9;

const alphanumericCharacters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1. */
const exponents = new Uint8Array(512);
const logarithms = new Uint8Array(256);
{
  let value = 1;
  for (let power = 0; power < 255; power += 1) {
    exponents[power] = value;
    logarithms[value] = power;
    value <<= 1;
    if (value & 0x100) value ^= 0x11d;
  }
  for (let power = 255; power < 512; power += 1) exponents[power] = exponents[power - 255]!;
}

function multiply(left: number, right: number): number {
  if (left === 0 || right === 0) return 0;
  return exponents[logarithms[left]! + logarithms[right]!]!;
}

/** Per degree, the logarithms of the generator polynomial's coefficients after the leading 1. */
const generatorLogarithms = new Map<number, Uint8Array>();

/** The generator polynomial (x - α^0)…(x - α^(degree-1)) as logarithms of its coefficients (all non-zero). */
function generatorLogs(degree: number): Uint8Array {
  const cached = generatorLogarithms.get(degree);
  if (cached) return cached;
  let polynomial = Uint8Array.of(1);
  for (let root = 0; root < degree; root += 1) {
    const next = new Uint8Array(polynomial.length + 1);
    for (let index = 0; index < polynomial.length; index += 1) {
      next[index]! ^= polynomial[index]!;
      next[index + 1]! ^= multiply(polynomial[index]!, exponents[root]!);
    }
    polynomial = next;
  }
  if (polynomial.includes(0))
    throw new Error(`QR invariant: generator of degree ${degree} has a zero coefficient`);
  const logs = new Uint8Array(degree);
  for (let index = 0; index < degree; index += 1) logs[index] = logarithms[polynomial[index + 1]!]!;
  generatorLogarithms.set(degree, logs);
  return logs;
}

/** Per degree, every byte times every generator coefficient: `products[factor * degree + term]`. */
const generatorProductTables = new Map<number, Uint8Array>();

function generatorProducts(degree: number): Uint8Array {
  const cached = generatorProductTables.get(degree);
  if (cached) return cached;
  const logs = generatorLogs(degree);
  const products = new Uint8Array(256 * degree);
  for (let factor = 1; factor < 256; factor += 1) {
    const factorLog = logarithms[factor]!;
    for (let term = 0; term < degree; term += 1) {
      products[factor * degree + term] = exponents[factorLog + logs[term]!]!;
    }
  }
  generatorProductTables.set(degree, products);
  return products;
}

/** Room for one block and its error correction: at most 39 data and 26 error-correction codewords. */
const divisionScratch = new Uint8Array(128);

/**
 * The remainder of data·x^degree divided by the generator: the block's error-correction codewords,
 * written to `into` at `at`.
 */
function errorCorrection(data: Uint8Array, degree: number, into: Uint8Array, at: number): void {
  const products = generatorProducts(degree);
  const work = divisionScratch;
  const length = data.length;
  work.set(data);
  work.fill(0, length, length + degree);
  for (let index = 0; index < length; index += 1) {
    const factor = work[index]!;
    if (factor === 0) continue;
    const base = factor * degree;
    for (let term = 0; term < degree; term += 1) work[index + 1 + term]! ^= products[base + term]!;
  }
  into.set(work.subarray(length, length + degree), at);
}

/** Bits written most significant first into `bytes`, which must start zeroed. */
class BitStream {
  lengthBits = 0;
  constructor(readonly bytes: Uint8Array) {}
  put(value: number, bitCount: number): void {
    let position = this.lengthBits;
    let left = bitCount;
    while (left > 0) {
      const free = 8 - (position & 7);
      const take = free < left ? free : left;
      const bits = (value >>> (left - take)) & ((1 << take) - 1);
      this.bytes[position >> 3]! |= bits << (free - take);
      position += take;
      left -= take;
    }
    this.lengthBits = position;
  }
}

/** Bits of the two segments with their headers, for versions 1–9 (8-bit byte count, 9-bit alphanumeric count). */
function segmentBits(headBytes: number, tailCharacters: number): number {
  return 12 + 8 * headBytes + 13 + 11 * Math.floor(tailCharacters / 2) + 6 * (tailCharacters % 2);
}

/** Data codewords of the symbol being encoded (version 9 has the most: 182). */
const dataScratch = new Uint8Array(182);

/** The head segment last encoded, its capacity, and its bits: a deployment's seals share one address. */
let headCache: { head: Uint8Array; capacityBytes: number; bytes: Uint8Array; lengthBits: number } | null =
  null;

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

/**
 * The data codewords: both segments, the terminator, zero bits to a byte boundary, then 0xEC 0x11
 * padding. A view of a shared buffer, valid until the next call.
 */
function dataCodewords(head: Uint8Array, tail: string, capacityBytes: number): Uint8Array {
  const bytes = dataScratch.subarray(0, capacityBytes);
  bytes.fill(0);
  const stream = new BitStream(bytes);
  const cached = headCache;
  if (cached !== null && cached.capacityBytes === capacityBytes && sameBytes(cached.head, head)) {
    bytes.set(cached.bytes);
    stream.lengthBits = cached.lengthBits;
  } else {
    stream.put(0b0100, 4);
    stream.put(head.length, 8);
    for (const byte of head) stream.put(byte, 8);
    // Whole bytes only: the next segment continues in the byte the head ends in.
    headCache = {
      head: head.slice(),
      capacityBytes,
      bytes: bytes.slice(0, Math.ceil(stream.lengthBits / 8)),
      lengthBits: stream.lengthBits,
    };
  }
  stream.put(0b0010, 4);
  stream.put(tail.length, 9);
  for (let index = 0; index + 1 < tail.length; index += 2) {
    const first = alphanumericValues[tail.charCodeAt(index)]!;
    const second = alphanumericValues[tail.charCodeAt(index + 1)]!;
    stream.put(first * 45 + second, 11);
  }
  if (tail.length % 2 === 1) stream.put(alphanumericValues[tail.charCodeAt(tail.length - 1)]!, 6);
  if (stream.lengthBits + 4 <= capacityBytes * 8) stream.lengthBits += 4;
  let position = Math.ceil(stream.lengthBits / 8);
  for (let pad = 0; position < capacityBytes; pad += 1, position += 1)
    bytes[position] = pad % 2 === 0 ? 0xec : 0x11;
  return bytes;
}

/** Each alphanumeric character's value by its character code (0 for others: callers pass valid text). */
const alphanumericValues = new Uint8Array(128);
for (let index = 0; index < alphanumericCharacters.length; index += 1) {
  alphanumericValues[alphanumericCharacters.charCodeAt(index)] = index;
}

/** Versions 1–9 at level M have at most 292 codewords (version 9: 182 data, 5 × 22 error correction). */
const codewordScratch = new Uint8Array(292);
/** Error-correction codewords of every block, block after block (version 9: 5 × 22). */
const ecScratch = new Uint8Array(5 * 26);

/**
 * All codewords in symbol order: data interleaved across blocks, then error correction interleaved.
 * The result is a view of a shared buffer, valid until the next call.
 */
function interleavedCodewords(data: Uint8Array, version: number): Uint8Array {
  const blocks = blocksAtM[version]!;
  const ecBytes = ecPerBlockAtM[version]!;
  const blockCount = blocks.length;
  let offset = 0;
  for (let block = 0; block < blockCount; block += 1) {
    const length = blocks[block]!;
    errorCorrection(data.subarray(offset, offset + length), ecBytes, ecScratch, block * ecBytes);
    offset += length;
  }
  // Read by the caller before it returns, so one buffer serves every symbol instead of an allocation
  // outside the heap per seal.
  const total = offset + ecBytes * blockCount;
  if (total > codewordScratch.length)
    throw new Error(`QR invariant: ${total} codewords at version ${version}`);
  const result = codewordScratch.subarray(0, total);
  let position = 0;
  const longest = blocks[blockCount - 1]!;
  for (let index = 0; index < longest; index += 1) {
    let start = 0;
    for (let block = 0; block < blockCount; block += 1) {
      const length = blocks[block]!;
      if (index < length) result[position++] = data[start + index]!;
      start += length;
    }
  }
  for (let index = 0; index < ecBytes; index += 1) {
    for (let block = 0; block < blockCount; block += 1)
      result[position++] = ecScratch[block * ecBytes + index]!;
  }
  return result;
}

/** A version's function patterns (from the general encoder) and its data module positions in placement order. */
export interface QrTemplate {
  readonly size: number;
  readonly functionModules: Uint8Array;
  /** Row-major indexes of the data modules, in the zigzag order codeword bits are placed. */
  readonly dataPositions: Uint32Array;
  /** 1 where mask 4 flips the data module at the same index of `dataPositions`. */
  readonly maskBits: Uint8Array;
}

/** Builds a template from a symbol of the version: `modules` and `reserved` as the general encoder gives them. */
export function templateFrom(size: number, modules: Uint8Array, reserved: Uint8Array): QrTemplate {
  const functionModules = new Uint8Array(size * size);
  const positions: number[] = [];
  for (let index = 0; index < size * size; index += 1)
    if (reserved[index]) functionModules[index] = modules[index]!;
  let upward = true;
  for (let column = size - 1; column > 0; column -= 2) {
    if (column === 6) column -= 1;
    for (let step = 0; step < size; step += 1) {
      const row = upward ? size - 1 - step : step;
      for (let offset = 0; offset < 2; offset += 1) {
        const index = row * size + column - offset;
        if (!reserved[index]) positions.push(index);
      }
    }
    upward = !upward;
  }
  const dataPositions = Uint32Array.from(positions);
  const maskBits = new Uint8Array(dataPositions.length);
  dataPositions.forEach((index, order) => {
    const row = Math.floor(index / size);
    const column = index % size;
    maskBits[order] = (Math.floor(row / 2) + Math.floor(column / 3)) % 2 === 0 ? 1 : 0;
  });
  return { size, functionModules, dataPositions, maskBits };
}

/** The smallest version 1–9 holding the two segments at level M, or null when none does. */
export function fastQrVersion(headBytes: number, tailCharacters: number): number | null {
  const bits = segmentBits(headBytes, tailCharacters);
  for (let version = 1; version <= fastQrVersionMax; version += 1) {
    if (bits <= capacityAtM[version]! * 8) return version;
  }
  return null;
}

/** The module matrix for a byte segment `head` and alphanumeric segment `tail` at `version`. */
export function encodeWithTemplate(
  template: QrTemplate,
  version: number,
  head: Uint8Array,
  tail: string,
): Uint8Array {
  const codewords = interleavedCodewords(dataCodewords(head, tail, capacityAtM[version]!), version);
  const modules = template.functionModules.slice();
  const { dataPositions, maskBits } = template;
  // A codeword's eight bits at a time, most significant first; the remainder bits are 0, mask only.
  let order = 0;
  for (let index = 0; index < codewords.length; index += 1) {
    const codeword = codewords[index]!;
    for (let shift = 7; shift >= 0; shift -= 1, order += 1) {
      modules[dataPositions[order]!] = ((codeword >> shift) & 1) ^ maskBits[order]!;
    }
  }
  for (; order < dataPositions.length; order += 1) modules[dataPositions[order]!] = maskBits[order]!;
  return modules;
}

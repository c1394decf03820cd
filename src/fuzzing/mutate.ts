/**
 * Structure-aware mutators for PDF fuzzing. Every mutation is reduced to one edit — replace the bytes
 * [start, end) with `insert` — chosen from a seeded PRNG, so a case is reproducible from its seed and
 * its edits print as a readable list. The mutators aim where PDF readers break: delimiters, numbers
 * that are offsets and lengths, the keywords that frame objects and cross-reference sections, and the
 * dictionary keys that steer the reader (/Length, /Size, /Prev, /Root, /Count, /Kids).
 */
import { Prng } from './prng.js';

export interface Edit {
  /** What was done, for the failure report: e.g. `number@812 '1024' -> '-1'`. */
  readonly label: string;
  readonly start: number;
  readonly end: number;
  readonly insert: Uint8Array;
}

export interface SeedInput {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface MutatedCase {
  readonly seed: number;
  readonly source: string;
  readonly edits: readonly string[];
  readonly bytes: Uint8Array;
}

const encoder = new TextEncoder();
const ascii = (text: string): Uint8Array => encoder.encode(text);

/** Bytes that change how a PDF lexer splits its input. */
export const interestingBytes: readonly number[] = [
  0x00, 0xff, 0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x2f, 0x25, 0x30, 0x31, 0x39, 0x20, 0x0a, 0x0d, 0x09, 0x0c,
];
export const truncationAnchors: readonly string[] = ['startxref', 'xref', 'trailer', '%%EOF'];
export const editedTokens: readonly string[] = ['obj', 'endobj', 'stream', 'endstream', 'R', '>>', '<<'];
export const swappedKeys: readonly string[] = ['/Length', '/Size', '/Prev', '/Root', '/Count', '/Kids'];
/** Longest range a splice copies, so a splice from a large scan stays cheap. */
export const spliceBytesMax = 4096;
/** How far a number mutation looks for digits from its random starting point. */
const numberSearchBytesMax = 64 * 1024;

export function applyEdit(bytes: Uint8Array, edit: Edit): Uint8Array {
  if (edit.start < 0 || edit.end < edit.start || edit.end > bytes.length) {
    throw new Error(`invariant: edit [${edit.start}, ${edit.end}) outside ${bytes.length} bytes`);
  }
  const output = new Uint8Array(bytes.length - (edit.end - edit.start) + edit.insert.length);
  output.set(bytes.subarray(0, edit.start), 0);
  output.set(edit.insert, edit.start);
  output.set(bytes.subarray(edit.end), edit.start + edit.insert.length);
  return output;
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0x00;
}

function isDelimiterOrEdge(byte: number | undefined): boolean {
  if (byte === undefined || isWhitespace(byte)) return true;
  return byte === 0x28 || byte === 0x29 || byte === 0x3c || byte === 0x3e || byte === 0x5b || byte === 0x5d;
}

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** Positions of `pattern` starting at or after `from`, then wrapping to the start; the first that `accept` takes. */
export function findWrapping(
  bytes: Uint8Array,
  pattern: Uint8Array,
  from: number,
  accept: (position: number) => boolean = () => true,
): number {
  for (const [low, high] of [
    [from, bytes.length],
    [0, from],
  ] as const) {
    let position = bytes.indexOf(pattern[0]!, low);
    while (position >= 0 && position < high) {
      if (matchesAt(bytes, pattern, position) && accept(position)) return position;
      position = bytes.indexOf(pattern[0]!, position + 1);
    }
  }
  return -1;
}

function matchesAt(bytes: Uint8Array, pattern: Uint8Array, position: number): boolean {
  if (position + pattern.length > bytes.length) return false;
  for (let index = 0; index < pattern.length; index += 1) {
    if (bytes[position + index] !== pattern[index]) return false;
  }
  return true;
}

/**
 * An occurrence of one of `candidates`, trying them in a rotation from a random one so a file that
 * lacks some (no /Prev, no `trailer`) still gets an edit: the candidate and where it starts.
 */
function findAny(
  random: Prng,
  bytes: Uint8Array,
  candidates: readonly string[],
  accept: (position: number, length: number) => boolean,
): { candidate: string; position: number } | null {
  const first = random.below(candidates.length);
  const from = random.below(bytes.length);
  for (let turn = 0; turn < candidates.length; turn += 1) {
    const candidate = candidates[(first + turn) % candidates.length]!;
    const pattern = ascii(candidate);
    const position = findWrapping(bytes, pattern, from, (at) => accept(at, pattern.length));
    if (position >= 0) return { candidate, position };
  }
  return null;
}

/** A keyword stands alone: `xref` inside `startxref`, or `obj` inside `endobj`, is not one. */
function standsAlone(bytes: Uint8Array, position: number, length: number): boolean {
  const first = bytes[position] ?? 0;
  const isWord = (first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a);
  return !isWord || (isDelimiterOrEdge(bytes[position - 1]) && isDelimiterOrEdge(bytes[position + length]));
}

export function bitFlip(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  const position = random.below(bytes.length);
  const bit = random.below(8);
  const value = bytes[position]! ^ (1 << bit);
  return {
    label: `flip@${position} bit ${bit}`,
    start: position,
    end: position + 1,
    insert: Uint8Array.of(value),
  };
}

export function interestingByte(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  const position = random.below(bytes.length);
  const value = random.pick(interestingBytes);
  return {
    label: `set@${position} 0x${value.toString(16)}`,
    start: position,
    end: position + 1,
    insert: Uint8Array.of(value),
  };
}

/** Cuts the file at a random length, or just before or after one of the keywords that end a file. */
export function truncation(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  if (random.chance(0.4)) {
    const length = random.below(bytes.length);
    return { label: `truncate to ${length}`, start: length, end: bytes.length, insert: new Uint8Array(0) };
  }
  // The last occurrence matters most for the tail keywords; a random one otherwise.
  const last = random.chance(0.5);
  const found = last
    ? lastAnchor(random, bytes)
    : findAny(random, bytes, truncationAnchors, (at, length) => standsAlone(bytes, at, length));
  if (found === null) return null;
  const { candidate: anchor, position } = found;
  const pattern = ascii(anchor);
  const after = random.chance(0.5);
  const jitter = random.between(-2, 2);
  const length = Math.min(bytes.length, Math.max(0, (after ? position + pattern.length : position) + jitter));
  const where = `${after ? 'after' : 'before'} ${anchor}@${position}${jitter === 0 ? '' : ` ${jitter > 0 ? '+' : ''}${jitter}`}`;
  return {
    label: `truncate to ${length} (${where})`,
    start: length,
    end: bytes.length,
    insert: new Uint8Array(0),
  };
}

/** The last standalone occurrence of a random anchor (the first anchor, in rotation, that occurs). */
function lastAnchor(random: Prng, bytes: Uint8Array): { candidate: string; position: number } | null {
  const first = random.below(truncationAnchors.length);
  for (let turn = 0; turn < truncationAnchors.length; turn += 1) {
    const candidate = truncationAnchors[(first + turn) % truncationAnchors.length]!;
    const position = lastOccurrence(bytes, ascii(candidate), (at, length) => standsAlone(bytes, at, length));
    if (position >= 0) return { candidate, position };
  }
  return null;
}

function lastOccurrence(
  bytes: Uint8Array,
  pattern: Uint8Array,
  accept: (position: number, length: number) => boolean,
): number {
  let position = bytes.lastIndexOf(pattern[0]!, bytes.length - pattern.length);
  while (position >= 0) {
    if (matchesAt(bytes, pattern, position) && accept(position, pattern.length)) return position;
    position = position === 0 ? -1 : bytes.lastIndexOf(pattern[0]!, position - 1);
  }
  return -1;
}

/** Inserts a range of a donor file (possibly the same file), sometimes replacing a range of equal size. */
export function splice(random: Prng, bytes: Uint8Array, donors: readonly SeedInput[]): Edit | null {
  const donor = random.pick(donors);
  if (donor.bytes.length === 0) return null;
  const donorStart = random.below(donor.bytes.length);
  const length = random.between(1, Math.min(spliceBytesMax, donor.bytes.length - donorStart));
  const position = random.below(bytes.length + 1);
  const replaced = random.chance(0.5) ? Math.min(length, bytes.length - position) : 0;
  return {
    label: `splice ${donor.name}[${donorStart}..${donorStart + length}) at ${position}${replaced > 0 ? ` over ${replaced}` : ''}`,
    start: position,
    end: position + replaced,
    insert: donor.bytes.slice(donorStart, donorStart + length),
  };
}

/** Replaces an ASCII integer (often an offset, a length, an object number or a count) by an edge value. */
export function numberEdit(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  const from = random.below(bytes.length);
  let start = -1;
  for (
    let position = from;
    position < bytes.length && position < from + numberSearchBytesMax;
    position += 1
  ) {
    if (isDigit(bytes[position]) && !isDigit(bytes[position - 1])) {
      start = position;
      break;
    }
  }
  if (start < 0) return null;
  let end = start;
  while (end < bytes.length && isDigit(bytes[end]) && end - start < 20) end += 1;
  const text = String.fromCharCode(...bytes.subarray(start, end));
  const value = BigInt(text);
  const replacement = random.pick([
    '0',
    '-1',
    '99999999999999999999',
    '2147483648',
    String(value + 1n),
    String(value - 1n),
  ]);
  return { label: `number@${start} '${text}' -> '${replacement}'`, start, end, insert: ascii(replacement) };
}

/** Deletes or duplicates one delimited token that frames objects: `obj`, `endstream`, `R`, `>>`... */
export function tokenEdit(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  const found = findAny(random, bytes, editedTokens, (at, length) => standsAlone(bytes, at, length));
  if (found === null) return null;
  const { candidate: token, position } = found;
  const pattern = ascii(token);
  if (random.chance(0.5)) {
    return {
      label: `delete '${token}'@${position}`,
      start: position,
      end: position + pattern.length,
      insert: new Uint8Array(0),
    };
  }
  const end = position + pattern.length;
  return { label: `duplicate '${token}'@${position}`, start: end, end, insert: ascii(` ${token}`) };
}

/** Renames one occurrence of a key that steers the reader into another such key. */
export function keySwap(random: Prng, bytes: Uint8Array): Edit | null {
  if (bytes.length === 0) return null;
  const found = findAny(
    random,
    bytes,
    swappedKeys,
    (at, length) => isDelimiterOrEdge(bytes[at + length]) || bytes[at + length] === 0x2f,
  );
  if (found === null) return null;
  const { candidate: from, position } = found;
  const pattern = ascii(from);
  const to = random.pick(swappedKeys.filter((key) => key !== from));
  return {
    label: `key@${position} ${from} -> ${to}`,
    start: position,
    end: position + pattern.length,
    insert: ascii(to),
  };
}

type Mutator = (random: Prng, bytes: Uint8Array, donors: readonly SeedInput[]) => Edit | null;

/** Weighted: the structure-aware mutators find more than plain bit flips on a PDF. */
const mutators: readonly (readonly [string, Mutator, number])[] = [
  ['flip', bitFlip, 2],
  ['set', interestingByte, 2],
  ['truncate', truncation, 2],
  ['splice', splice, 1],
  ['number', numberEdit, 4],
  ['token', tokenEdit, 3],
  ['key', keySwap, 2],
];
const weightTotal = mutators.reduce((sum, [, , weight]) => sum + weight, 0);

function chooseMutator(random: Prng): Mutator {
  let ticket = random.below(weightTotal);
  for (const [, mutator, weight] of mutators) {
    if (ticket < weight) return mutator;
    ticket -= weight;
  }
  throw new Error('invariant: mutator weights do not add up');
}

/** Attempts per mutation before giving up on a file where no mutator applies (e.g. an empty file). */
const attemptsPerEdit = 8;
export const editsPerCaseMax = 4;

/** The case of `seed`: a seed input and 1–4 edits, all chosen by the seed alone. */
export function mutateCase(seed: number, inputs: readonly SeedInput[]): MutatedCase {
  if (inputs.length === 0) throw new Error('invariant: fuzzing needs at least one seed input');
  const random = new Prng(seed);
  const source = random.pick(inputs);
  // Mostly one or two edits: a file with many edits is usually refused at the first one.
  const count = random.pick([1, 1, 1, 2, 2, 3, editsPerCaseMax]);
  let bytes = source.bytes;
  const edits: string[] = [];
  for (let attempt = 0; edits.length < count && attempt < count * attemptsPerEdit; attempt += 1) {
    const edit = chooseMutator(random)(random, bytes, inputs);
    if (edit === null) continue;
    bytes = applyEdit(bytes, edit);
    edits.push(edit.label);
  }
  return { seed, source: source.name, edits, bytes };
}

/**
 * The PDF tokenizer (ISO 32000-2 §7.2–7.3). It works on the uploaded bytes in place: a token's value
 * is left in the lexer's fields instead of a new token object, so that reading an object allocates
 * only the values it returns. No part of the file is converted to a JS string except names and keywords.
 */
import { BubuhError } from '../errors.js';

/** Token kinds returned by `Lexer.next()`. */
export const Token = Object.freeze({
  end: 0,
  number: 1,
  name: 2,
  string: 3,
  arrayOpen: 4,
  arrayClose: 5,
  dictOpen: 6,
  dictClose: 7,
  keyword: 8,
});
export type TokenKind = (typeof Token)[keyof typeof Token];

/** Character classes: 1 white-space, 2 delimiter, 0 regular (Table 1 and 2 of ISO 32000-2). */
const characterClass = new Uint8Array(256);
for (const code of [0, 9, 10, 12, 13, 32]) characterClass[code] = 1;
for (const character of '()<>[]{}/%') characterClass[character.charCodeAt(0)] = 2;

export function isWhiteSpace(byte: number | undefined): boolean {
  return byte !== undefined && characterClass[byte] === 1;
}

/** True at the end of the input or at a white-space or delimiter byte: where a token ends. */
export function isTokenEnd(byte: number | undefined): boolean {
  return byte === undefined || characterClass[byte] !== 0;
}

export function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/** The error for input that breaks the PDF syntax; `problem` says what and where, in English. */
export function pdfDamaged(problem: string): BubuhError {
  return new BubuhError('PDF_DAMAGED', { problem });
}

const powersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** What `\\x` stands for in a literal string: n r t b f are control characters, any other byte itself. */
const escapedByte = new Uint8Array(256);
for (let code = 0; code < 256; code += 1) escapedByte[code] = code;
escapedByte[0x6e] = 0x0a;
escapedByte[0x72] = 0x0d;
escapedByte[0x74] = 0x09;
escapedByte[0x62] = 0x08;
escapedByte[0x66] = 0x0c;

/**
 * Where literal strings are decoded before their bytes are copied out. One buffer for every lexer: a
 * string is read and copied in one synchronous call, so no two reads can interleave, and a lexer (two
 * or so per stamp) no longer allocates a buffer of its own outside the heap.
 */
let stringScratch = new Uint8Array(256);
/** A buffer grown past this for one huge string is dropped afterwards rather than kept for good. */
const stringScratchKeptMax = 64 * 1024;

function releaseLargeScratch(): void {
  if (stringScratch.length > stringScratchKeptMax) stringScratch = new Uint8Array(256);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

export class Lexer {
  readonly bytes: Uint8Array;
  position: number;
  /** Where the last token started. */
  tokenStart = 0;
  /** Value of the last number token, and whether it was written without a decimal point. */
  numberValue = 0;
  integer = false;
  /** Text of the last name (decoded, without the slash) or keyword token. */
  text = '';
  /** Bytes of the last string token, and whether it was written in hex. */
  stringBytes: Uint8Array = new Uint8Array(0);
  hex = false;

  constructor(bytes: Uint8Array, position = 0) {
    this.bytes = bytes;
    this.position = position;
  }

  /** Skips white-space and comments. */
  skipWhiteSpace(): void {
    const bytes = this.bytes;
    let position = this.position;
    const end = bytes.length;
    while (position < end) {
      const byte = bytes[position]!;
      if (characterClass[byte] === 1) {
        position += 1;
      } else if (byte === 0x25) {
        while (position < end && bytes[position] !== 0x0a && bytes[position] !== 0x0d) position += 1;
      } else {
        break;
      }
    }
    this.position = position;
  }

  next(): TokenKind {
    this.skipWhiteSpace();
    const bytes = this.bytes;
    const start = this.position;
    this.tokenStart = start;
    if (start >= bytes.length) return Token.end;
    const byte = bytes[start]!;
    if (isDigit(byte) || byte === 0x2d || byte === 0x2b || byte === 0x2e) return this.readNumber();
    switch (byte) {
      case 0x2f:
        return this.readName();
      case 0x28:
        return this.readLiteralString();
      case 0x5b:
        this.position = start + 1;
        return Token.arrayOpen;
      case 0x5d:
        this.position = start + 1;
        return Token.arrayClose;
      case 0x3c:
        if (bytes[start + 1] === 0x3c) {
          this.position = start + 2;
          return Token.dictOpen;
        }
        return this.readHexString();
      case 0x3e:
        if (bytes[start + 1] === 0x3e) {
          this.position = start + 2;
          return Token.dictClose;
        }
        break;
    }
    return this.readKeyword();
  }

  private readNumber(): TokenKind {
    const bytes = this.bytes;
    let position = this.position;
    let negative = false;
    // Producers sometimes write `--5` or `+-5`; like common viewers, any run of signs counts as one.
    while (bytes[position] === 0x2d || bytes[position] === 0x2b) {
      if (bytes[position] === 0x2d) negative = true;
      position += 1;
    }
    let mantissa = 0;
    while (isDigit(bytes[position])) {
      mantissa = mantissa * 10 + bytes[position]! - 0x30;
      position += 1;
    }
    let integer = true;
    let fractionDigits = 0;
    if (bytes[position] === 0x2e) {
      integer = false;
      position += 1;
      while (isDigit(bytes[position])) {
        // Digits past 15 cannot change a double meaningfully; they are skipped to keep the mantissa exact.
        if (fractionDigits < 15) {
          mantissa = mantissa * 10 + bytes[position]! - 0x30;
          fractionDigits += 1;
        }
        position += 1;
      }
    }
    // One division by an exact power of ten rounds correctly, unlike summing scaled digits.
    const value = fractionDigits === 0 ? mantissa : mantissa / powersOfTen[fractionDigits]!;
    // PDF numbers stay far below 2^53 (ISO 32000-2 Annex C); a larger one is damage, and refusing it
    // here keeps every value the reader gives one the writer can write back when it copies a dictionary.
    if (!(Math.abs(value) <= Number.MAX_SAFE_INTEGER)) {
      throw pdfDamaged(`a number too large to represent at byte ${this.tokenStart}`);
    }
    this.position = position;
    this.numberValue = negative ? -value : value;
    if (this.numberValue === 0) this.numberValue = 0;
    this.integer = integer;
    return Token.number;
  }

  private readName(): TokenKind {
    const bytes = this.bytes;
    const start = this.position + 1;
    let position = start;
    // The usual name has no `#xx` escape: its text is its bytes, and most likely a recent one.
    while (position < bytes.length && characterClass[bytes[position]!] === 0 && bytes[position] !== 0x23) {
      position += 1;
    }
    if (position >= bytes.length || characterClass[bytes[position]!] !== 0) {
      this.position = position;
      this.text = recentLatin1(bytes, start, position);
      return Token.name;
    }
    position = start;
    let text = '';
    while (position < bytes.length && characterClass[bytes[position]!] === 0) {
      let byte = bytes[position]!;
      if (byte === 0x23) {
        const high = hexValue(bytes[position + 1] ?? 0x7a);
        const low = hexValue(bytes[position + 2] ?? 0x7a);
        if (high >= 0 && low >= 0) {
          byte = high * 16 + low;
          position += 2;
        }
      }
      text += String.fromCharCode(byte);
      position += 1;
    }
    this.position = position;
    this.text = text;
    return Token.name;
  }

  /** The shared string buffer with room for `length` bytes, keeping what it holds when it grows. */
  private ensureScratch(length: number): Uint8Array {
    if (stringScratch.length < length) {
      const larger = new Uint8Array(Math.max(length, stringScratch.length * 2));
      larger.set(stringScratch);
      stringScratch = larger;
    }
    return stringScratch;
  }

  private readLiteralString(): TokenKind {
    const bytes = this.bytes;
    const end = bytes.length;
    let position = this.position + 1;
    let output = this.ensureScratch(256);
    let length = 0;
    let depth = 1;
    while (true) {
      if (position >= end) throw pdfDamaged(`unterminated string at byte ${this.tokenStart}`);
      if (length + 4 > output.length) output = this.ensureScratch(length * 2 + 4);
      const byte = bytes[position]!;
      position += 1;
      if (byte === 0x28) {
        depth += 1;
      } else if (byte === 0x29) {
        depth -= 1;
        if (depth === 0) break;
      } else if (byte === 0x5c) {
        position = this.readEscape(position, output, length);
        length = this.escapeLength;
        continue;
      } else if (byte === 0x0d) {
        // An end-of-line inside a string stands for a single line feed (§7.3.4.2).
        if (bytes[position] === 0x0a) position += 1;
        output[length++] = 0x0a;
        continue;
      }
      output[length++] = byte;
    }
    this.position = position;
    this.stringBytes = output.slice(0, length);
    releaseLargeScratch();
    this.hex = false;
    return Token.string;
  }

  private escapeLength = 0;

  /** Decodes the escape after a backslash at `position`; returns the new position, length in `escapeLength`. */
  private readEscape(position: number, output: Uint8Array, length: number): number {
    const bytes = this.bytes;
    const byte = bytes[position];
    this.escapeLength = length;
    if (byte === undefined) return position;
    if (byte >= 0x30 && byte <= 0x37) {
      let value = 0;
      let digits = 0;
      while (
        digits < 3 &&
        bytes[position] !== undefined &&
        bytes[position]! >= 0x30 &&
        bytes[position]! <= 0x37
      ) {
        value = value * 8 + bytes[position]! - 0x30;
        position += 1;
        digits += 1;
      }
      output[length] = value & 0xff;
      this.escapeLength = length + 1;
      return position;
    }
    if (byte === 0x0d || byte === 0x0a) {
      // A backslash before an end-of-line continues the string on the next line.
      if (byte === 0x0d && bytes[position + 1] === 0x0a) return position + 2;
      return position + 1;
    }
    output[length] = escapedByte[byte]!;
    this.escapeLength = length + 1;
    return position + 1;
  }

  private readHexString(): TokenKind {
    const bytes = this.bytes;
    const end = bytes.length;
    let position = this.position + 1;
    let output = this.ensureScratch(64);
    let length = 0;
    let high = -1;
    while (true) {
      if (position >= end) throw pdfDamaged(`unterminated hex string at byte ${this.tokenStart}`);
      const byte = bytes[position]!;
      position += 1;
      if (byte === 0x3e) break;
      if (characterClass[byte] === 1) continue;
      const value = hexValue(byte);
      if (value < 0) throw pdfDamaged(`invalid character in hex string at byte ${position - 1}`);
      if (high < 0) {
        high = value;
        continue;
      }
      if (length + 1 > output.length) output = this.ensureScratch(length * 2 + 2);
      output[length++] = high * 16 + value;
      high = -1;
    }
    // An odd final digit is followed by an implied 0 (§7.3.4.3).
    if (high >= 0) {
      if (length + 1 > output.length) output = this.ensureScratch(length + 1);
      output[length++] = high * 16;
    }
    this.position = position;
    this.stringBytes = output.slice(0, length);
    releaseLargeScratch();
    this.hex = true;
    return Token.string;
  }

  private readKeyword(): TokenKind {
    const bytes = this.bytes;
    const start = this.position;
    let position = start;
    while (position < bytes.length && characterClass[bytes[position]!] === 0) position += 1;
    // A stray delimiter (`)`, `>`, `{`, `}`) is returned as a one-character keyword for the parser to refuse.
    if (position === start) position += 1;
    this.text = recentLatin1(bytes, start, position);
    this.position = position;
    return Token.keyword;
  }

  /**
   * After an integer token, tries to read the rest of a reference `G R`. On success returns the
   * generation and moves past `R`; otherwise returns -1 and leaves the position unchanged.
   */
  tryReferenceTail(): number {
    const bytes = this.bytes;
    const saved = this.position;
    this.skipWhiteSpace();
    let position = this.position;
    if (!isDigit(bytes[position])) {
      this.position = saved;
      return -1;
    }
    let generation = 0;
    while (isDigit(bytes[position])) {
      generation = generation * 10 + bytes[position]! - 0x30;
      position += 1;
    }
    this.position = position;
    // A generation past 65535 (ISO 32000-2 §7.3.10) is not a reference, and could not be written back.
    if (!isTokenEnd(bytes[position]) || generation > generationMax) {
      this.position = saved;
      return -1;
    }
    this.skipWhiteSpace();
    position = this.position;
    if (bytes[position] === 0x52 && isTokenEnd(bytes[position + 1])) {
      this.position = position + 1;
      return generation;
    }
    this.position = saved;
    return -1;
  }
}

/** The largest generation number an indirect reference may have. */
const generationMax = 65535;

/**
 * Names and keywords seen lately, by a hash of their bytes. A PDF's vocabulary is small (`Type`, `Page`,
 * `Length`, `obj`, `R`…), so most tokens find their text here instead of building it a character at a
 * time: no allocation, and the string's own hash is already known to the maps it is looked up in next.
 */
const recentTexts: (string | undefined)[] = new Array<string | undefined>(1024);
const recentTextBytesMax = 32;

/** `latin1(bytes, start, end)`, the same string as last time when these bytes were seen lately. */
export function recentLatin1(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > recentTextBytesMax) return latin1(bytes, start, end);
  let hash = length;
  for (let index = start; index < end; index += 1) hash = (Math.imul(hash, 31) + bytes[index]!) | 0;
  const slot = (hash ^ (hash >>> 10)) & (recentTexts.length - 1);
  const recent = recentTexts[slot];
  if (recent !== undefined && recent.length === length) {
    let index = 0;
    while (index < length && recent.charCodeAt(index) === bytes[start + index]) index += 1;
    if (index === length) return recent;
  }
  const text = latin1(bytes, start, end);
  recentTexts[slot] = text;
  return text;
}

/** The bytes `start..end` as a Latin-1 JS string (for short texts such as keywords). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let index = start; index < end; index += 1) text += String.fromCharCode(bytes[index]!);
  return text;
}

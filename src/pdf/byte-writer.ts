/**
 * A growable byte buffer for the PDF writer. The writer sizes its output first and creates the
 * buffer with the exact capacity, so in the normal path the buffer never grows and `toBytes()`
 * hands back the very buffer that was written (size once, copy once). Growth exists for callers
 * that cannot size ahead; it doubles, up to `bytesMax`.
 */

/** Short ASCII strings are copied char by char; longer ones go through `TextEncoder.encodeInto`. */
const asciiLoopCharactersMax = 64;
const encoder = new TextEncoder();

/** 2 GiB − 1: the largest length a Uint8Array reliably supports across engines. */
export const byteWriterBytesMaxDefault = 2 ** 31 - 1;

export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;
  readonly bytesMax: number;

  constructor(capacityBytes = 1024, bytesMax = byteWriterBytesMaxDefault) {
    if (!Number.isInteger(capacityBytes) || capacityBytes < 0 || capacityBytes > bytesMax) {
      throw new Error(`ByteWriter: capacity ${capacityBytes} is not an integer within 0..${bytesMax}`);
    }
    this.buffer = new Uint8Array(capacityBytes);
    this.bytesMax = bytesMax;
  }

  /** The number of bytes written so far, which is also the offset of the next byte. */
  get offset(): number {
    return this.length;
  }

  get capacityBytes(): number {
    return this.buffer.length;
  }

  writeByte(byte: number): void {
    this.reserve(1);
    this.buffer[this.length] = byte;
    this.length += 1;
  }

  /** Bytes copied as they are (one `set`, no per-byte loop). */
  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** `count` copies of one byte, e.g. the `0` digits of a signature placeholder. */
  writeRepeated(byte: number, count: number): void {
    this.reserve(count);
    this.buffer.fill(byte, this.length, this.length + count);
    this.length += count;
  }

  /** ASCII text; a character above 0x7F is a programmer error, since PDF syntax is ASCII. */
  writeAscii(text: string): void {
    const count = text.length;
    this.reserve(count);
    if (count > asciiLoopCharactersMax) {
      const result = encoder.encodeInto(text, this.buffer.subarray(this.length, this.length + count));
      if (result.read !== count || result.written !== count) {
        throw new Error('ByteWriter.writeAscii: text is not ASCII');
      }
      this.length += count;
      return;
    }
    const buffer = this.buffer;
    let position = this.length;
    for (let index = 0; index < count; index += 1) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) throw new Error('ByteWriter.writeAscii: text is not ASCII');
      buffer[position] = code;
      position += 1;
    }
    this.length = position;
  }

  /** A safe integer in decimal, written digit by digit without building a string. */
  writeInteger(value: number): void {
    if (!Number.isSafeInteger(value))
      throw new Error(`ByteWriter.writeInteger: ${value} is not a safe integer`);
    if (value < 0) {
      this.writeByte(0x2d);
      this.writeDigits(-value, decimalDigitCount(-value));
      return;
    }
    this.writeDigits(value, decimalDigitCount(value));
  }

  /** A non-negative integer zero-padded to exactly `width` digits (cross-reference entries). */
  writePaddedInteger(value: number, width: number): void {
    if (!Number.isSafeInteger(value) || value < 0 || decimalDigitCount(value) > width) {
      throw new Error(`ByteWriter.writePaddedInteger: ${value} does not fit in ${width} digits`);
    }
    this.writeDigits(value, width);
  }

  /** Bytes `start..end` of what was written; the caller must not keep both views and write on. */
  view(start = 0, end = this.length): Uint8Array {
    return this.buffer.subarray(start, end);
  }

  /** The written bytes: the buffer itself when it is exactly full, otherwise a view of its start. */
  toBytes(): Uint8Array {
    return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
  }

  private writeDigits(value: number, width: number): void {
    this.reserve(width);
    const buffer = this.buffer;
    let remaining = value;
    for (let position = this.length + width - 1; position >= this.length; position -= 1) {
      buffer[position] = 0x30 + (remaining % 10);
      remaining = Math.floor(remaining / 10);
    }
    this.length += width;
  }

  private reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.buffer.length) return;
    if (needed > this.bytesMax) {
      throw new Error(`ByteWriter: ${needed} bytes would exceed the limit of ${this.bytesMax} bytes`);
    }
    const grown = new Uint8Array(Math.min(this.bytesMax, Math.max(needed, this.buffer.length * 2, 64)));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

/** How many decimal digits a non-negative safe integer has (at least 1). */
export function decimalDigitCount(value: number): number {
  let digits = 1;
  let limit = 10;
  // Bounded: safe integers have at most 16 digits.
  while (value >= limit && digits < 17) {
    digits += 1;
    limit *= 10;
  }
  return digits;
}

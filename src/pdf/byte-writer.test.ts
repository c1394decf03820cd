import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteWriter, decimalDigitCount } from './byte-writer.js';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

test('writes ASCII, bytes, integers and padded integers at the current offset', () => {
  const writer = new ByteWriter(4);
  writer.writeAscii('obj ');
  writer.writeInteger(-42);
  writer.writeByte(0x20);
  writer.writePaddedInteger(123, 10);
  writer.writeBytes(new Uint8Array([0x41, 0x42]));
  writer.writeRepeated(0x30, 3);
  assert.equal(latin1(writer.toBytes()), 'obj -42 0000000123AB000');
  assert.equal(writer.offset, 23);
});

test('long ASCII goes through encodeInto and still refuses non-ASCII', () => {
  const writer = new ByteWriter(0);
  const long = 'x'.repeat(100);
  writer.writeAscii(long);
  assert.equal(latin1(writer.toBytes()), long);
  assert.throws(() => writer.writeAscii(`${'y'.repeat(80)}é`), /not ASCII/);
  assert.throws(() => writer.writeAscii('é'), /not ASCII/);
});

test('an exactly sized writer hands back its own buffer; a grown one a view of the written part', () => {
  const exact = new ByteWriter(3);
  exact.writeAscii('abc');
  assert.equal(exact.toBytes().buffer.byteLength, 3);
  const grown = new ByteWriter(1);
  grown.writeAscii('abcdef');
  assert.equal(latin1(grown.toBytes()), 'abcdef');
});

test('refuses to grow past bytesMax and refuses unsafe or oversize integers', () => {
  const writer = new ByteWriter(2, 4);
  writer.writeAscii('abcd');
  assert.throws(() => writer.writeByte(0x65), /exceed the limit of 4 bytes/);
  assert.throws(() => new ByteWriter(0).writeInteger(2 ** 53), /not a safe integer/);
  assert.throws(() => new ByteWriter(0).writePaddedInteger(123456, 5), /does not fit in 5 digits/);
  assert.throws(() => new ByteWriter(5, 4), /capacity 5/);
});

test('decimalDigitCount', () => {
  assert.deepEqual(
    [0, 9, 10, 99, 100, 999_999_999, 1_000_000_000, Number.MAX_SAFE_INTEGER].map(decimalDigitCount),
    [1, 1, 2, 2, 3, 9, 10, 16],
  );
});

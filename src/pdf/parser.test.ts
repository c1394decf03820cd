import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { latin1Bytes } from './fixture-builder.js';
import { Lexer, Token } from './lexer.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';
import { Parser } from './parser.js';

function parse(text: string, nestingDepthMax = 100): PdfObject {
  const parser = new Parser(latin1Bytes(text), { nestingDepthMax });
  return parser.parseObject();
}

function stringBytes(value: PdfObject): number[] {
  assert.ok(value instanceof PdfString);
  return [...value.bytes];
}

test('numbers: integers, reals, leading dot, trailing dot, signs', () => {
  assert.equal(parse('42'), 42);
  assert.equal(parse('-17'), -17);
  assert.equal(parse('+5'), 5);
  assert.equal(parse('.5'), 0.5);
  assert.equal(parse('-3.'), -3);
  assert.equal(parse('-.002'), -0.002);
  assert.equal(parse('595.28'), 595.28);
  assert.equal(parse('0.1'), 0.1);
  assert.equal(parse('-0'), 0);
  assert.ok(Object.is(parse('-0'), 0));
});

test('lexer reports integers and reals apart', () => {
  const lexer = new Lexer(latin1Bytes('12 12.0'));
  assert.equal(lexer.next(), Token.number);
  assert.equal(lexer.integer, true);
  assert.equal(lexer.next(), Token.number);
  assert.equal(lexer.integer, false);
  assert.equal(lexer.numberValue, 12);
  assert.equal(lexer.next(), Token.end);
});

test('names with #xx escapes are decoded and interned', () => {
  assert.equal(parse('/Type'), PdfName.of('Type'));
  assert.equal((parse('/A#20B#2f') as PdfName).value, 'A B/');
  assert.equal((parse('/Lime#20Green') as PdfName).value, 'Lime Green');
  assert.equal((parse('/') as PdfName).value, '');
});

test('names and keywords read back exactly however many share a slot of the recent-text cache', () => {
  // 5,000 distinct names and keywords against a cache of 1,024 slots: every slot is shared by several,
  // and each read must still give its own text (the cache compares the bytes, not only the hash).
  const words = Array.from({ length: 5000 }, (_, index) => `N${index.toString(36)}x${(index * 7919) % 997}`);
  const long = `L${'q'.repeat(40)}`; // past the cache's 32 bytes: built each time
  for (let round = 0; round < 2; round += 1) {
    const lexer = new Lexer(
      latin1Bytes(`${words.map((word) => `/${word} ${word}`).join(' ')} /${long} ${long}`),
    );
    for (const word of words) {
      assert.equal(lexer.next(), Token.name);
      assert.equal(lexer.text, word);
      assert.equal(lexer.next(), Token.keyword);
      assert.equal(lexer.text, word);
    }
    assert.equal(lexer.next(), Token.name);
    assert.equal(lexer.text, long);
    assert.equal(lexer.next(), Token.keyword);
    assert.equal(lexer.text, long);
    assert.equal(lexer.next(), Token.end);
  }
  // Bytes above 0x7F keep their Latin-1 code points, escaped or not.
  assert.equal((parse('/Caf\xe9') as PdfName).value, 'Caf\xe9');
  assert.equal((parse('/Caf#e9') as PdfName).value, 'Caf\xe9');
});

test('literal strings: escapes, balanced parentheses, octal, line continuation, end-of-line', () => {
  assert.deepEqual(
    stringBytes(parse('(a\\nb\\rc\\td\\be\\ff\\(\\)\\\\)')),
    [0x61, 0x0a, 0x62, 0x0d, 0x63, 0x09, 0x64, 0x08, 0x65, 0x0c, 0x66, 0x28, 0x29, 0x5c],
  );
  assert.deepEqual(stringBytes(parse('(x(y)z)')), [...latin1Bytes('x(y)z')]);
  assert.deepEqual(stringBytes(parse('(\\101\\53\\0059)')), [0x41, 0x2b, 0x05, 0x39]);
  assert.deepEqual(stringBytes(parse('(ab\\\ncd)')), [...latin1Bytes('abcd')]);
  assert.deepEqual(stringBytes(parse('(a\r\nb\rc)')), [0x61, 0x0a, 0x62, 0x0a, 0x63]);
  assert.deepEqual(stringBytes(parse('(\\q)')), [0x71]);
  assert.equal((parse('()') as PdfString).hex, false);
});

test('hex strings: white-space ignored, odd digit padded with 0', () => {
  const value = parse('<48 65 6C6c 6F7>');
  assert.deepEqual(stringBytes(value), [0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x70]);
  assert.equal((value as PdfString).hex, true);
  assert.deepEqual(stringBytes(parse('<>')), []);
});

test('arrays, dictionaries, references, booleans, null and comments', () => {
  const value = parse(
    '<< /Kids [3 0 R 4 0 R] % a comment\n /Count 2 /Flag true /Off false /Nothing null /N 5 /R 7 >>',
  );
  assert.ok(value instanceof PdfDict);
  const kids = value.get('Kids') as PdfRef[];
  assert.deepEqual(
    kids.map((kid) => kid.key),
    ['3 0', '4 0'],
  );
  assert.equal(value.get('Count'), 2);
  assert.equal(value.get('Flag'), true);
  assert.equal(value.get('Off'), false);
  assert.equal(value.get('Nothing'), null);
  assert.equal(value.get('N'), 5);
  assert.equal(value.get('R'), 7);
  assert.deepEqual(parse('[1 2 3 R]'), [1, new PdfRef(2, 3)]);
  assert.deepEqual(parse('[1 2]'), [1, 2]);
});

test('a negative number before `0 R` is not a reference', () => {
  assert.throws(
    () => parse('[-1 0 R]'),
    (error: unknown) => error instanceof BubuhError && error.code === 'PDF_DAMAGED',
  );
});

test('nesting at the limit parses; one past the limit is refused with PDF_NESTING_TOO_DEEP', () => {
  const depth = 10;
  const atLimit = '['.repeat(depth) + ']'.repeat(depth);
  let value = parse(atLimit, depth);
  for (let level = 1; level < depth; level += 1) value = (value as PdfObject[])[0]!;
  assert.deepEqual(value, []);
  assert.throws(
    () => parse(`[${atLimit}]`, depth),
    (error: unknown) =>
      error instanceof BubuhError && error.code === 'PDF_NESTING_TOO_DEEP' && error.details['limit'] === 10,
  );
});

test('100000 nested arrays meet the nesting limit, not a stack overflow', () => {
  assert.throws(
    () => parse('['.repeat(100_000)),
    (error: unknown) => error instanceof BubuhError && error.code === 'PDF_NESTING_TOO_DEEP',
  );
});

test('syntax errors are PDF_DAMAGED', () => {
  for (const text of ['(unterminated', '<4G>', '<< /A 1', '[1 2', '<< 1 2 >>', ']', 'foo', '<abc']) {
    assert.throws(
      () => parse(text),
      (error: unknown) => error instanceof BubuhError && error.code === 'PDF_DAMAGED',
      text,
    );
  }
});

function indirect(text: string, resolveLength?: (ref: PdfRef) => number | undefined) {
  const parser = new Parser(latin1Bytes(text), {
    nestingDepthMax: 100,
    ...(resolveLength ? { resolveLength } : {}),
  });
  return parser.parseIndirectObject(0);
}

test('indirect objects record their span up to endobj', () => {
  const text = '12 0 obj\n<< /A (x) >>\nendobj\n13 0 obj';
  const object = indirect(text);
  assert.equal(object.objectNumber, 12);
  assert.equal(object.generation, 0);
  assert.equal(object.start, 0);
  assert.equal(object.end, text.indexOf('endobj') + 6);
});

test('streams use /Length, an indirect /Length, or search for endstream when /Length is wrong', () => {
  const good = indirect('5 0 obj << /Length 5 >> stream\r\nHELLO\r\nendstream endobj');
  assert.ok(good.value instanceof PdfStream);
  assert.deepEqual([...good.value.raw], [...latin1Bytes('HELLO')]);

  const viaRef = indirect('5 0 obj << /Length 9 0 R >> stream\nABC\nendstream endobj', (ref) =>
    ref.objectNumber === 9 ? 3 : undefined,
  );
  assert.deepEqual([...(viaRef.value as PdfStream).raw], [...latin1Bytes('ABC')]);

  const wrong = indirect('5 0 obj << /Length 99 >> stream\nABCD\nendstream\nendobj');
  assert.deepEqual([...(wrong.value as PdfStream).raw], [...latin1Bytes('ABCD')]);
  assert.equal(wrong.end, 'ABCD'.length + '5 0 obj << /Length 99 >> stream\n\nendstream\nendobj'.length);

  const missing = indirect('5 0 obj << >> stream\nXY\r\nendstream endobj');
  assert.deepEqual([...(missing.value as PdfStream).raw], [...latin1Bytes('XY')]);

  assert.throws(
    () => indirect('5 0 obj << /Length 2 >> stream\nXY and no end'),
    (error: unknown) => error instanceof BubuhError && error.code === 'PDF_DAMAGED',
  );
});

test('strings read by different lexers keep their own bytes, a huge string between them included', () => {
  const huge = 'A'.repeat(70_000);
  const first = new Lexer(latin1Bytes('(first\\051 string) <414243>'));
  const second = new Lexer(latin1Bytes(`(${huge}) (after)`));
  assert.equal(first.next(), Token.string);
  const firstBytes = first.stringBytes;
  assert.equal(second.next(), Token.string);
  assert.equal(second.stringBytes.length, 70_000);
  assert.equal(second.next(), Token.string);
  assert.equal(new TextDecoder().decode(second.stringBytes), 'after');
  assert.equal(first.next(), Token.string);
  assert.equal(new TextDecoder().decode(first.stringBytes), 'ABC');
  assert.equal(new TextDecoder().decode(firstBytes), 'first) string');
  assert.equal(first.stringBytes.buffer.byteLength, 3);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteWriter } from './byte-writer.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';
import {
  formatNumber,
  indirectObjectSize,
  serializedSize,
  serializeNestingDepthMax,
  serializeObject,
  writeIndirectObject,
} from './serialize.js';

const text = (value: PdfObject): string => Buffer.from(serializeObject(value)).toString('latin1');
const ascii = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'latin1'));
/** Name characters must be bytes 1..255; anything else becomes `fill`. */
const latin1Only = (value: string, fill: string): string =>
  [...value].map((char) => (char.charCodeAt(0) >= 1 && char.charCodeAt(0) <= 255 ? char : fill)).join('');
const dict = (entries: Record<string, PdfObject>): PdfDict => new PdfDict(new Map(Object.entries(entries)));

test('null, booleans and references', () => {
  assert.equal(text(null), 'null');
  assert.equal(text(true), 'true');
  assert.equal(text(false), 'false');
  assert.equal(text(new PdfRef(12, 0)), '12 0 R');
  assert.equal(text(new PdfRef(7, 65535)), '7 65535 R');
});

test('integers as integers, reals exactly (shortest round-trip text), no exponent, -0 as 0', () => {
  assert.equal(text(0), '0');
  assert.equal(text(-0), '0');
  assert.equal(text(-17), '-17');
  assert.equal(text(612), '612');
  assert.equal(text(9007199254740991), '9007199254740991');
  assert.equal(text(0.5), '0.5');
  assert.equal(text(-0.25), '-0.25');
  assert.equal(text(0.1 + 0.2), '0.30000000000000004');
  assert.equal(text(1 / 3), '0.3333333333333333');
  assert.equal(text(595.303937007874), '595.303937007874');
  assert.equal(text(841.8898), '841.8898');
  assert.equal(text(1e-7), '0.0000001');
  assert.equal(text(-1e-7), '-0.0000001');
  assert.equal(text(1.0000004), '1.0000004');
  assert.equal(text(123456789.5), '123456789.5');
  assert.equal(formatNumber(1e-20), '0.00000000000000000001');
  assert.equal(formatNumber(-1e-22), '0');
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, 1e300, 2 ** 60 + 0.5]) {
    assert.throws(() => serializeObject(bad), /cannot be written|beyond 2\^53/);
  }
});

test('formatNumber never writes an exponent and reads back as the same number', () => {
  fc.assert(
    fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (value) => {
      const written = formatNumber(value);
      assert.match(written, /^-?\d+(\.\d+)?$/);
      if (Math.abs(value) >= 1e-6) assert.equal(Number(written), value);
      else assert.ok(Math.abs(Number(written) - value) <= 1e-20);
      assert.notEqual(written, '-0');
    }),
  );
});

test('names escape delimiters, whitespace, # and bytes outside ! to ~ as #XX', () => {
  assert.equal(text(PdfName.of('Type')), '/Type');
  assert.equal(text(PdfName.of('')), '/');
  assert.equal(text(PdfName.of('A B')), '/A#20B');
  assert.equal(text(PdfName.of('a#b')), '/a#23b');
  assert.equal(text(PdfName.of('()<>[]{}/%')), '/#28#29#3C#3E#5B#5D#7B#7D#2F#25');
  assert.equal(text(PdfName.of('x\ty\nz\x7f')), '/x#09y#0Az#7F');
  assert.equal(text(PdfName.of('Caf\u00e9')), '/Caf#E9');
  assert.equal(text(PdfName.of('Adobe.PPKLite')), '/Adobe.PPKLite');
  assert.throws(() => serializeObject(PdfName.of('\u0100')), /cannot carry/);
  assert.throws(() => serializeObject(PdfName.of('a\u0000')), /cannot carry/);
});

test('literal strings escape backslash, parentheses, CR, LF, TAB, BS and FF; other bytes stay raw', () => {
  assert.equal(text(PdfString.fromLatin1('Hello')), '(Hello)');
  assert.equal(text(PdfString.fromLatin1('')), '()');
  assert.equal(text(PdfString.fromLatin1('a\\b(c)d')), '(a\\\\b\\(c\\)d)');
  assert.equal(text(PdfString.fromLatin1('\r\n\t\b\f')), '(\\r\\n\\t\\b\\f)');
  assert.equal(text(new PdfString(new Uint8Array([0, 0xff, 0x80, 0x25]))), '(\u0000\u00ff\u0080%)');
});

test('hex strings in upper case', () => {
  assert.equal(text(new PdfString(new Uint8Array([0x00, 0xab, 0x1f, 0xff]), true)), '<00AB1FFF>');
  assert.equal(text(new PdfString(new Uint8Array(0), true)), '<>');
});

test('arrays and dictionaries with single spaces, in insertion order', () => {
  assert.equal(text([]), '[]');
  assert.equal(text([0, 0, 595.28, 841.89]), '[0 0 595.28 841.89]');
  assert.equal(text([new PdfRef(3, 0), PdfName.of('XYZ'), null, [true]]), '[3 0 R /XYZ null [true]]');
  assert.equal(text(new PdfDict()), '<<>>');
  const page = dict({
    Type: PdfName.of('Page'),
    Parent: new PdfRef(2, 0),
    MediaBox: [0, 0, 612, 792],
    Annots: [new PdfRef(9, 0)],
    'Odd Key': PdfString.fromLatin1('x'),
  });
  assert.equal(
    text(page),
    '<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [9 0 R] /Odd#20Key (x)>>',
  );
});

test('streams: /Length last and direct, CRLF after stream and before endstream', () => {
  const stream = new PdfStream(
    dict({ Filter: PdfName.of('FlateDecode'), Length: new PdfRef(5, 0) }),
    ascii('AB'),
  );
  assert.equal(text(stream), '<</Filter /FlateDecode /Length 2>>\nstream\r\nAB\r\nendstream');
  assert.equal(
    text(new PdfStream(new PdfDict(), new Uint8Array(0))),
    '<</Length 0>>\nstream\r\n\r\nendstream',
  );
});

test('indirect objects: N G obj LF value LF endobj LF', () => {
  const writer = new ByteWriter(0);
  const ref = new PdfRef(10, 2);
  const value = dict({ Type: PdfName.of('Annot') });
  writeIndirectObject(writer, ref, value);
  assert.equal(Buffer.from(writer.toBytes()).toString('latin1'), '10 2 obj\n<</Type /Annot>>\nendobj\n');
  assert.equal(indirectObjectSize(ref, value), writer.offset);
});

test('serializedSize equals the bytes written for arbitrary values', () => {
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.string({ maxLength: 8 }).map((value) => PdfName.of(latin1Only(value, 'x'))),
    fc.uint8Array({ maxLength: 12 }).map((bytes) => new PdfString(bytes)),
    fc.uint8Array({ maxLength: 12 }).map((bytes) => new PdfString(bytes, true)),
    fc
      .tuple(fc.nat(1000), fc.nat(5))
      .map(([objectNumber, generation]) => new PdfRef(objectNumber, generation)),
  );
  const { value } = fc.letrec<{ value: PdfObject }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      fc
        .array(fc.tuple(fc.string({ maxLength: 6 }), tie('value')), { maxLength: 4 })
        .map((pairs) => new PdfDict(new Map(pairs.map(([key, item]) => [latin1Only(key, 'k'), item])))),
    ),
  }));
  fc.assert(
    fc.property(value, fc.uint8Array({ maxLength: 20 }), (item, raw) => {
      assert.equal(serializeObject(item).length, serializedSize(item));
      const stream = new PdfStream(new PdfDict(new Map([['X', item]])), raw);
      assert.equal(serializeObject(stream).length, serializedSize(stream));
    }),
  );
});

test('refuses cycles and over-deep nesting', () => {
  const cyclic: PdfObject[] = [];
  cyclic.push(cyclic);
  assert.throws(() => serializedSize(cyclic), /nest deeper/);
  let deep: PdfObject = 1;
  for (let depth = 0; depth <= serializeNestingDepthMax; depth += 1) deep = [deep];
  assert.throws(() => serializeObject(deep), /nest deeper/);
  let allowed: PdfObject = 1;
  for (let depth = 0; depth < serializeNestingDepthMax; depth += 1) allowed = [allowed];
  assert.equal(serializeObject(allowed).length, 2 * serializeNestingDepthMax + 1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import {
  compareDer,
  concatBytes,
  contextConstructed,
  contextPrimitive,
  deferred,
  DeferredElement,
  element,
  encodeDeferred,
  encodeLength,
  generalizedTime,
  integer,
  nullValue,
  objectIdentifier,
  octetString,
  readChildren,
  readElement,
  sequence,
  setOf,
  unsignedInteger,
  utcTime,
} from './der.js';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

test('lengths use the short form below 128 and the fewest long-form octets above', () => {
  assert.equal(hex(encodeLength(0)), '00');
  assert.equal(hex(encodeLength(127)), '7f');
  assert.equal(hex(encodeLength(128)), '8180');
  assert.equal(hex(encodeLength(255)), '81ff');
  assert.equal(hex(encodeLength(256)), '820100');
  assert.equal(hex(encodeLength(65535)), '82ffff');
  assert.equal(hex(encodeLength(65536)), '83010000');
  assert.throws(() => encodeLength(0x1000000), /invariant/);
  assert.throws(() => encodeLength(-1), /invariant/);
});

test('integers are minimal two’s complement and stay positive', () => {
  assert.equal(hex(integer(0)), '020100');
  assert.equal(hex(integer(1)), '020101');
  assert.equal(hex(integer(127)), '02017f');
  assert.equal(hex(integer(128)), '02020080');
  assert.equal(hex(integer(256)), '02020100');
  assert.equal(hex(integer(0x12345678)), '020412345678');
  assert.equal(hex(unsignedInteger(fromHex('000080'))), '02020080');
  assert.equal(hex(unsignedInteger(fromHex('000001'))), '020101');
  assert.equal(hex(unsignedInteger(fromHex('0000'))), '020100');
  assert.equal(hex(unsignedInteger(new Uint8Array(0))), '020100');
  assert.throws(() => integer(-1), /invariant/);
});

test('object identifiers encode the first two arcs together and the rest base 128', () => {
  assert.equal(hex(objectIdentifier('1.2.840.113549.1.7.2')), '06092a864886f70d010702');
  assert.equal(hex(objectIdentifier('2.16.840.1.101.3.4.2.1')), '0609608648016503040201');
  assert.equal(hex(objectIdentifier('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.equal(hex(objectIdentifier('1.3.6.1.5.5.7.3.36')), '06082b06010505070324');
  assert.equal(hex(objectIdentifier('1.2.840.113549.1.9.16.2.47')), '060b2a864886f70d010910022f');
  assert.equal(hex(objectIdentifier('2.999.3')), '0603883703');
  assert.throws(() => objectIdentifier('1'), /invariant/);
  assert.throws(() => objectIdentifier('1.40'), /invariant/);
  assert.throws(() => objectIdentifier('3.1'), /invariant/);
  assert.throws(() => objectIdentifier('1.2.x'), /invariant/);
  // Encodings are kept and handed out again: a second call gives the same bytes, a refused one is
  // refused again.
  assert.equal(hex(objectIdentifier('1.2.840.113549.1.7.2')), '06092a864886f70d010702');
  assert.equal(hex(objectIdentifier('2.999.3')), '0603883703');
  assert.throws(() => objectIdentifier('1.40'), /invariant/);
});

test('object identifiers and integers agree with asn1js for arbitrary values', () => {
  const arc = fc.integer({ min: 0, max: 2 ** 32 });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 39 }),
      fc.array(arc, { maxLength: 8 }),
      (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        const reference = new Uint8Array(new asn1js.ObjectIdentifier({ value: dotted }).toBER());
        assert.equal(hex(objectIdentifier(dotted)), hex(reference));
      },
    ),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (value) => {
      const reference = asn1js.Integer.fromBigInt(BigInt(value));
      assert.equal(hex(integer(value)), hex(new Uint8Array(reference.toBER())));
    }),
  );
});

test('primitive and constructed elements', () => {
  assert.equal(hex(octetString(fromHex('0102'))), '04020102');
  assert.equal(hex(nullValue()), '0500');
  assert.equal(hex(sequence(nullValue(), integer(5))), '30050500020105');
  assert.equal(hex(contextConstructed(0, nullValue())), 'a0020500');
  assert.equal(hex(contextConstructed(1)), 'a100');
  assert.equal(hex(contextPrimitive(2, fromHex('ff'))), '8201ff');
  const long = sequence(octetString(new Uint8Array(126)));
  assert.equal(hex(long.subarray(0, 5)), '308180047e');
  assert.equal(long.length, 3 + 2 + 126);
  assert.throws(() => element(0x1f), /invariant/);
  assert.throws(() => contextConstructed(31), /invariant/);
});

test('SET OF members are sorted as octet strings, shorter ones padded with zeros', () => {
  const members = [fromHex('040102'), fromHex('020105'), fromHex('040101')];
  assert.equal(hex(setOf(members)), '3109020105040101040102');
  assert.equal(hex(members[0]!), '040102', 'the input array is not reordered');
  assert.equal(compareDer(fromHex('01'), fromHex('0100')), 0);
  assert.ok(compareDer(fromHex('01'), fromHex('0105')) < 0);
  assert.ok(compareDer(fromHex('0105'), fromHex('01')) > 0);
  assert.ok(compareDer(fromHex('3018'), fromHex('302f')) < 0);
  assert.equal(hex(setOf([])), '3100');
});

test('times are UTC with whole seconds', () => {
  const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  assert.equal(hex(utcTime(date)), '170d' + hex(new TextEncoder().encode('260102030405Z')));
  assert.equal(hex(generalizedTime(date)), '180f' + hex(new TextEncoder().encode('20260102030405Z')));
  assert.throws(() => utcTime(new Date(Date.UTC(2050, 0, 1))), /invariant/);
});

test('the reader finds elements and children and refuses what does not fit', () => {
  const bytes = sequence(integer(7), octetString(new Uint8Array(200)));
  const outer = readElement(bytes, 0);
  assert.deepEqual(outer, { tag: 0x30, start: 0, contentStart: 3, end: bytes.length });
  const children = readChildren(bytes, outer!);
  assert.deepEqual(children, [
    { tag: 0x02, start: 3, contentStart: 5, end: 6 },
    { tag: 0x04, start: 6, contentStart: 9, end: 209 },
  ]);
  assert.equal(readElement(bytes.subarray(0, 100), 0), null, 'truncated');
  assert.equal(readElement(fromHex('3080'), 0), null, 'indefinite length');
  assert.equal(readElement(fromHex('1f0100'), 0), null, 'high tag number');
  assert.equal(readElement(fromHex('30'), 0), null, 'no length');
  assert.equal(readChildren(bytes, outer!, 1), null, 'more children than allowed');
  const ragged = fromHex('3003020101ff');
  assert.equal(readChildren(ragged, { tag: 0x30, start: 0, contentStart: 2, end: 6 }), null);
});

test('concatBytes joins in order', () => {
  assert.equal(hex(concatBytes([fromHex('01'), new Uint8Array(0), fromHex('0203')])), '010203');
});

test('a deferred tree encodes to exactly the bytes of the same nesting built with element()', () => {
  const small = Uint8Array.of(1, 2, 3);
  const medium = new Uint8Array(130).fill(7); // long form, one length octet (0x81)
  const large = new Uint8Array(300).fill(9); // long form, two length octets (0x82)
  const tree = deferred(
    0x30,
    small,
    deferred(0xa0, deferred(0x04, medium), large),
    deferred(0x31),
    deferred(0x04, new Uint8Array(70_000).fill(1)), // three length octets (0x83)
  );
  const nested = element(
    0x30,
    small,
    element(0xa0, element(0x04, medium), large),
    element(0x31),
    element(0x04, new Uint8Array(70_000).fill(1)),
  );
  const encoded = encodeDeferred(tree);
  assert.equal(tree.encodedLength, nested.length);
  assert.deepEqual(encoded, nested);
  // Content: 3 + (4 + 133 + 300) + 2 + (5 + 70,000) = 70,447 = 0x01132f octets.
  assert.deepEqual(Array.from(encoded.subarray(0, 5)), [0x30, 0x83, 0x01, 0x13, 0x2f]);
  assert.equal(encoded.length, 5 + 70_447);
});

test('a deferred element refuses the tags and lengths element() refuses', () => {
  assert.throws(() => deferred(0x1f), /single-octet low tag/);
  assert.throws(() => new DeferredElement(0xff, []), /single-octet low tag/);
  assert.throws(() => deferred(0x04, new Uint8Array(0x1000000)), /length 16777216 out of range/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Edit } from './mutate.js';
import {
  applyEdit,
  bitFlip,
  interestingByte,
  keySwap,
  mutateCase,
  numberEdit,
  splice,
  tokenEdit,
  truncation,
} from './mutate.js';
import { caseSeed, Prng } from './prng.js';

const encoder = new TextEncoder();
const sample = encoder.encode(
  '1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Length 1234 >>\nendobj\nxref\ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n42\n%%EOF\n',
);
const latin1 = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);

/** [label, start, end, inserted text] of the edits a mutator makes with seeds 1..4. */
function editsFor(mutator: (random: Prng, bytes: Uint8Array) => Edit | null): unknown[] {
  return [1, 2, 3, 4].map((seed) => {
    const edit = mutator(new Prng(seed), sample);
    return edit && [edit.label, edit.start, edit.end, latin1(edit.insert)];
  });
}

test('the PRNG and case seeds are fixed functions of their seed', () => {
  const random = new Prng(1);
  assert.deepEqual(
    [random.nextUint32(), random.nextUint32(), random.nextUint32()],
    [2693262067, 11749833, 2265367787],
  );
  assert.deepEqual([caseSeed(1, 0), caseSeed(1, 1), caseSeed(2, 0)], [3288117084, 2513301541, 3318288725]);
  const bounded = new Prng(9);
  for (let draw = 0; draw < 1000; draw += 1) {
    const value = bounded.below(7);
    assert.ok(Number.isInteger(value) && value >= 0 && value < 7);
  }
  assert.throws(() => new Prng(-1), /invariant/);
  assert.throws(() => bounded.below(0), /invariant/);
});

test('applyEdit replaces [start, end) with the inserted bytes', () => {
  const edited = applyEdit(encoder.encode('abcdef'), {
    label: 'x',
    start: 1,
    end: 3,
    insert: encoder.encode('XYZ'),
  });
  assert.equal(latin1(edited), 'aXYZdef');
  assert.equal(
    latin1(applyEdit(encoder.encode('abc'), { label: 't', start: 1, end: 3, insert: new Uint8Array(0) })),
    'a',
  );
  assert.throws(
    () => applyEdit(encoder.encode('abc'), { label: 'bad', start: 2, end: 4, insert: new Uint8Array(0) }),
    /invariant/,
  );
});

test('byte mutators: bit flips and interesting bytes', () => {
  assert.deepEqual(editsFor(bitFlip), [
    ['flip@75 bit 4', 75, 76, ','],
    ['flip@88 bit 2', 88, 89, 'k'],
    ['flip@86 bit 3', 86, 87, "'"],
    ['flip@110 bit 1', 110, 111, '\b'],
  ]);
  assert.deepEqual(editsFor(interestingByte), [
    ['set@75 0x25', 75, 76, '%'],
    ['set@88 0x3e', 88, 89, '>'],
    ['set@86 0x2f', 86, 87, '/'],
    ['set@110 0x29', 110, 111, ')'],
  ]);
  assert.equal(bitFlip(new Prng(1), new Uint8Array(0)), null);
});

test('truncations cut just before or after a standalone keyword (never `xref` inside `startxref`)', () => {
  assert.deepEqual(editsFor(truncation), [
    ['truncate to 66 (before trailer@67 -1)', 66, 120, ''],
    ['truncate to 63 (before xref@62 +1)', 63, 120, ''],
    ['truncate to 62 (before xref@62)', 62, 120, ''],
    ['truncate to 110 (after startxref@101)', 110, 120, ''],
  ]);
});

test('number edits replace a whole integer by an edge value', () => {
  assert.deepEqual(editsFor(numberEdit), [
    ["number@84 '3' -> '2147483648'", 84, 85, '2147483648'],
    ["number@92 '1' -> '-1'", 92, 93, '-1'],
    ["number@92 '1' -> '99999999999999999999'", 92, 93, '99999999999999999999'],
    ["number@111 '42' -> '-1'", 111, 113, '-1'],
  ]);
  assert.equal(numberEdit(new Prng(1), encoder.encode('no digits here')), null);
});

test('token edits delete or duplicate delimited tokens; key swaps rename a steering key', () => {
  assert.deepEqual(editsFor(tokenEdit), [
    ["duplicate 'R'@96", 97, 97, ' R'],
    ["duplicate '>>'@52", 54, 54, ' >>'],
    ["duplicate '>>'@98", 100, 100, ' >>'],
    ["delete '<<'@75", 75, 77, ''],
  ]);
  assert.deepEqual(editsFor(keySwap), [
    ['key@86 /Root -> /Kids', 86, 91, '/Kids'],
    ['key@39 /Length -> /Kids', 39, 46, '/Kids'],
    ['key@39 /Length -> /Count', 39, 46, '/Count'],
    ['key@39 /Length -> /Prev', 39, 46, '/Prev'],
  ]);
  // `obj` inside `xobj` and `R` inside `/Root` are not tokens of their own.
  assert.equal(tokenEdit(new Prng(3), encoder.encode('xobj /Root')), null);
});

test('splices insert a range of a donor file', () => {
  const edit = splice(new Prng(7), sample, [{ name: 'donor', bytes: encoder.encode('0123456789') }]);
  assert.deepEqual(edit && [edit.label, edit.start, edit.end, latin1(edit.insert)], [
    'splice donor[9..10) at 56',
    56,
    56,
    '9',
  ]);
});

test('mutateCase is reproducible from its seed alone', () => {
  const inputs = [
    { name: 'a', bytes: sample },
    { name: 'b', bytes: encoder.encode('%PDF-1.4\n') },
  ];
  const first = mutateCase(12345, inputs);
  assert.equal(first.source, 'b');
  assert.deepEqual(first.edits, ["number@5 '1' -> '0'", "number@5 '0' -> '1'"]);
  assert.equal(latin1(first.bytes), '%PDF-1.4\n');
  for (let seed = 0; seed < 200; seed += 1) {
    const again = [mutateCase(seed, inputs), mutateCase(seed, inputs)];
    assert.deepEqual(again[0], again[1]);
    assert.ok(again[0]!.edits.length >= 1 && again[0]!.edits.length <= 4);
  }
  assert.deepEqual(mutateCase(5, [{ name: 'empty', bytes: new Uint8Array(0) }]).edits, []);
});

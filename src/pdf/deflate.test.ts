import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { unzlibSync } from 'fflate';
import { adler32, deflateHead, rectanglesText, SplitDeflater, zlibDeflate } from './deflate.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A deterministic pseudo-random generator (xorshift32), so every run checks the same inputs. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function roundTrips(data: Uint8Array, deflated: Uint8Array): void {
  assert.deepEqual(new Uint8Array(inflateSync(deflated)), data);
  assert.deepEqual(unzlibSync(deflated), data);
}

test('adler32 matches RFC 1950 and continues from a previous checksum', () => {
  assert.equal(adler32(ascii('Wikipedia')), 0x11e60398);
  assert.equal(adler32(new Uint8Array(0)), 1);
  const whole = ascii('abc'.repeat(5000));
  assert.equal(adler32(whole.subarray(3000), adler32(whole.subarray(0, 3000))), adler32(whole));
});

test('zlibDeflate output inflates back with zlib and fflate, for text, runs, noise and edge sizes', () => {
  const random = generator(7);
  const inputs: Uint8Array[] = [
    new Uint8Array(0),
    ascii('a'),
    ascii('abc'),
    ascii('abcabcabcabc'),
    new Uint8Array(100_000),
    ascii('0 0 7 1 re\n8 0 1 1 re\n'.repeat(300)),
    Uint8Array.from({ length: 70_000 }, () => Math.floor(random() * 256)),
  ];
  for (let index = 0; index < 100; index += 1) {
    const alphabet = 1 + (index % 20);
    inputs.push(
      Uint8Array.from({ length: Math.floor(random() * 5000) }, () => 97 + Math.floor(random() * alphabet)),
    );
  }
  // Fibonacci frequencies: the optimal code is deeper than 15 bits, so the fixed code is used.
  const skewed: number[] = [];
  for (let symbol = 0, a = 1, b = 1; symbol < 25; symbol += 1, [a, b] = [b, a + b]) {
    for (let copy = 0; copy < a; copy += 1) skewed.push((symbol * 7) % 256);
  }
  inputs.push(Uint8Array.from(skewed));
  for (const input of inputs) roundTrips(input, zlibDeflate(input));
  assert.equal(zlibDeflate(new Uint8Array(100_000)).length < 200, true);
});

test('SplitDeflater: a head compressed once and tails coded per call inflate to head + tail', () => {
  const sample = ascii('0 g q 1 0 0 -1 9 77 cm\n0 0 7 1 re\n8 0 1 1 re\n14 0 2 1 re\n10 0 1 2 re\nf Q\nQ\n');
  const deflater = new SplitDeflater(sample);
  const head = deflateHead(ascii('q .7 0 0 .7 0 0 cm\n.05 .32 .42 rg\n7 0 m\n93 0 l\n'.repeat(5)));
  const random = generator(11);
  for (let round = 0; round < 50; round += 1) {
    let tail = '';
    for (let line = 0; line < 200; line += 1) {
      const numbers = Array.from({ length: 4 }, () => Math.floor(random() * (round % 2 ? 3 : 177)));
      tail += `${numbers.join(' ')} re\n`;
    }
    const bytes = ascii(`\nBT /SealRegular 5.5 Tf (0A1B ${round}) Tj ET\n${tail}f Q\nQ\n`);
    const whole = new Uint8Array(head.data.length + bytes.length);
    whole.set(head.data);
    whole.set(bytes, head.data.length);
    roundTrips(whole, deflater.deflate(head, bytes));
  }
  // A byte the fitted code has no room for sends the whole stream through zlibDeflate.
  const odd = Uint8Array.of(0x0a, 0xff, 0x00, 0x41);
  const whole = new Uint8Array(head.data.length + odd.length);
  whole.set(head.data);
  whole.set(odd, head.data.length);
  roundTrips(whole, deflater.deflate(head, odd));
});

test('SplitDeflater.deflateRectangles gives the very bytes of deflate over the rectangles written out', () => {
  const sample = ascii(
    '\nBT (X) Tj ET\n0 g q 1 0 0 -1 9 77 cm\n0 0 7 1 re\n8 0 1 1 re\n14 0 2 12 re\nf Q\nQ\n',
  );
  const deflater = new SplitDeflater(sample);
  const head = deflateHead(ascii('q .7 0 0 .7 0 0 cm\n.05 .32 .42 rg\n'.repeat(5)));
  const random = generator(23);
  const pack = (numbers: readonly number[]) =>
    (numbers[0]! | (numbers[1]! << 8) | (numbers[2]! << 16) | (numbers[3]! << 24)) >>> 0;
  // Numbers of one, two and three digits, equal neighbours (whole-line matches), numbers that end
  // alike (11 after 1), empty and one-rectangle lists, and prefixes that end like a rectangle's line.
  const prefixes = ['\nBT (0A1B) Tj ET\n0 g q 1 0 0 -1 9 77 cm\n', '', '\n5 5 5 5 re\n', 'x re\n'];
  const suffixes = ['f Q\nQ\n', '', ' re\nre\n'];
  for (let round = 0; round < 400; round += 1) {
    const limit = [3, 12, 120, 256][round % 4]!;
    // Some lists run past 64 rectangles, where the checksum's deferred reductions fall.
    const count = round % 7 === 0 ? round % 3 : 1 + Math.floor(random() * (round % 5 === 1 ? 400 : 60));
    const rectangles = new Uint32Array(count);
    for (let index = 0; index < count; index += 1) {
      rectangles[index] = pack(Array.from({ length: 4 }, () => Math.floor(random() * limit)));
      if (index > 0 && random() < 0.2) rectangles[index] = rectangles[index - 1]!;
    }
    const prefix = ascii(prefixes[round % prefixes.length]!);
    const suffix = ascii(suffixes[round % suffixes.length]!);
    const text = rectanglesText(prefix, rectangles, 0, count, suffix);
    const fused = deflater.deflateRectangles(head, prefix, rectangles, count, suffix);
    assert.deepEqual(fused, deflater.deflate(head, text), `round ${round}`);
    const whole = new Uint8Array(head.data.length + text.length);
    whole.set(head.data);
    whole.set(text, head.data.length);
    roundTrips(whole, fused);
  }
  assert.deepEqual(
    rectanglesText(ascii('>'), Uint32Array.of(pack([0, 10, 100, 255]), pack([1, 2, 3, 4])), 0, 2, ascii('<')),
    ascii('>0 10 100 255 re\n1 2 3 4 re\n<'),
  );
});

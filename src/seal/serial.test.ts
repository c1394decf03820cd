import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkCharacters,
  generateSerial,
  isValidSerial,
  mod1271Radix36CheckCharacters,
  normaliseSerial,
  serialAlphabet,
  serialCharacterForByte,
  serialLength,
  serialProblem,
} from './serial.js';

/** The validity rule written independently of the recursive method: Σ value·36^(position−1) ≡ 1 (mod 1271). */
function weightedSumIsOne(serial: string): boolean {
  let sum = 0n;
  let weight = 1n;
  for (let index = serial.length - 1; index >= 0; index -= 1) {
    sum += BigInt(serialAlphabet.indexOf(serial.charAt(index))) * weight;
    weight *= 36n;
  }
  return sum % 1271n === 1n;
}

/** A fake random source that hands out the given bytes in order and zeros after them. */
function scriptedBytes(script: readonly number[]): (count: number) => Uint8Array {
  let position = 0;
  return (count) => {
    const bytes = new Uint8Array(count);
    for (let index = 0; index < count; index += 1) bytes[index] = script[position + index] ?? 0;
    position += count;
    return bytes;
  };
}

test('the example of ISO/IEC 7064 §8.2: ISO79 protected by MOD 1271-36 is ISO793W', () => {
  // By hand, recursive method: I=18, S=28, O=24, 7, 9.
  // P = 18·36 = 648; (648+28)·36 = 24336 ≡ 187; (187+24)·36 = 7596 ≡ 1241; (1241+7)·36 = 44928 ≡ 443;
  // (443+9)·36 = 16272 ≡ 1020; second check position: 1020·36 = 36720 ≡ 1132 (mod 1271).
  // Check value (1272 − 1132) mod 1271 = 140 = 3·36 + 32 → "3" "W".
  assert.equal(mod1271Radix36CheckCharacters('ISO79'), '3W');
});

test('check characters of fixed bodies, computed by hand', () => {
  // All zeros: the sum of the body is 0, so the check value is 1 → "0" "1".
  assert.equal(checkCharacters('00000000000000000000'), '01');
  // A single 1 in the last body position has weight 36^2 = 1296 ≡ 25; check value (1 − 25) mod 1271 = 1247
  // = 34·36 + 23 → "Y" "N". Total: 25 + 34·36 + 23 = 1272 ≡ 1.
  assert.equal(checkCharacters('00000000000000000001'), 'YN');
  // A "Z" (35) in the last body position: 35·25 = 875; check value (1 − 875) mod 1271 = 397 = 11·36 + 1
  // → "B" "1". Total: 875 + 397 = 1272 ≡ 1.
  assert.equal(checkCharacters('0000000000000000000Z'), 'B1');
  // An "A" (10) in the second-to-last body position has weight 36^3 ≡ 36·25 = 900; 10·900 = 9000 ≡ 103;
  // check value (1 − 103) mod 1271 = 1169 = 32·36 + 17 → "W" "H".
  assert.equal(checkCharacters('000000000000000000A0'), 'WH');
  // The serial used as an example throughout the project; the independent weighted sum agrees.
  assert.equal(checkCharacters('ZJ3P4LC08I0GDRGE0000'), 'A0');
  assert.equal(weightedSumIsOne('ZJ3P4LC08I0GDRGE0000A0'), true);
});

test('checkCharacters refuses a body of the wrong length as a programmer error', () => {
  assert.throws(() => checkCharacters('ABC'), /serial invariant/);
  assert.throws(() => checkCharacters('0000000000000000000_'), /serial invariant/);
});

test('every byte below 252 maps to a character, each character exactly 7 times; 252–255 are rejected', () => {
  const counts = new Map<string, number>();
  for (let byte = 0; byte < 256; byte += 1) {
    const character = serialCharacterForByte(byte);
    if (byte >= 252) {
      assert.equal(character, null);
      continue;
    }
    assert.notEqual(character, null);
    counts.set(character!, (counts.get(character!) ?? 0) + 1);
  }
  assert.equal(counts.size, 36);
  for (const character of serialAlphabet) assert.equal(counts.get(character), 7, character);
});

test('generateSerial takes accepted bytes in order and skips rejected ones', () => {
  const script = [252, 253, 254, 255, 36, 71, 251, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const serial = generateSerial(scriptedBytes(script));
  // 36 → "0", 71 → "Z", 251 → "Z", then 0..16 → "0".."G".
  assert.equal(serial.slice(0, 20), '0ZZ0123456789ABCDEFG');
  assert.equal(serial, `0ZZ0123456789ABCDEFG${checkCharacters('0ZZ0123456789ABCDEFG')}`);
  assert.equal(isValidSerial(serial), true);
});

test('generateSerial asks again when a round has too few accepted bytes', () => {
  const script = [...new Array<number>(30).fill(255), 1, 2, ...new Array<number>(18).fill(35)];
  assert.equal(generateSerial(scriptedBytes(script)).slice(0, 20), `12${'Z'.repeat(18)}`);
});

test('generateSerial refuses a broken random source', () => {
  assert.throws(() => generateSerial(() => new Uint8Array(32).fill(255)), /rejected too often/);
  assert.throws(() => generateSerial(() => new Uint8Array(3)), /gave 3 bytes/);
});

test('generated serials have 22 characters of the alphabet and satisfy the weighted sum', () => {
  for (let round = 0; round < 500; round += 1) {
    const serial = generateSerial((count) => new Uint8Array(randomBytes(count)));
    assert.match(serial, /^[0-9A-Z]{22}$/);
    assert.equal(weightedSumIsOne(serial), true, serial);
    assert.equal(serialProblem(serial), null);
  }
});

test('normaliseSerial drops what people and scanners add', () => {
  assert.equal(normaliseSerial(' zj3p-4lc0 8i0g.drge-0000\ta0\n'), 'ZJ3P4LC08I0GDRGE0000A0');
  assert.equal(normaliseSerial('ZJ3P\u20134LC0'), 'ZJ3P4LC0');
  assert.equal(isValidSerial('zj3p 4lc0 8i0g drge 0000 a0'), true);
});

test('serialProblem names the first problem', () => {
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000A0'), null);
  assert.equal(serialProblem(''), 'length');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000A'), 'length');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000A09'), 'length');
  assert.equal(serialProblem(`${' '.repeat(60)}ZJ3P4LC08I0GDRGE0000A0`), 'length');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000_0'), 'charset');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000É0'), 'charset');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000A1'), 'check');
  assert.equal(serialProblem('ZJ3P4LC08I0GDRGE0000ZZ'), 'check');
  assert.equal(isValidSerial('ZJ3P4LC08I0GDRGE0000A1'), false);
});

test('every single substitution and every adjacent transposition is detected (2000 random serials)', () => {
  let substitutions = 0;
  let transpositions = 0;
  for (let round = 0; round < 2000; round += 1) {
    const serial = generateSerial((count) => new Uint8Array(randomBytes(count)));
    for (let position = 0; position < serialLength; position += 1) {
      for (const replacement of serialAlphabet) {
        if (replacement === serial.charAt(position)) continue;
        const changed = serial.slice(0, position) + replacement + serial.slice(position + 1);
        if (serialProblem(changed) !== 'check') assert.fail(`substitution not detected: ${changed}`);
        substitutions += 1;
      }
      const next = serial.charAt(position + 1);
      if (position + 1 === serialLength || next === serial.charAt(position)) continue;
      const swapped = serial.slice(0, position) + next + serial.charAt(position) + serial.slice(position + 2);
      if (serialProblem(swapped) !== 'check') assert.fail(`transposition not detected: ${swapped}`);
      transpositions += 1;
    }
  }
  assert.equal(substitutions, 2000 * 22 * 35);
  assert.ok(transpositions > 2000 * 20, `only ${transpositions} transpositions tried`);
});

test('property: any substitution or adjacent transposition of a valid serial is refused', () => {
  const body = fc
    .array(fc.constantFrom(...serialAlphabet), { minLength: 20, maxLength: 20 })
    .map((characters) => {
      const text = characters.join('');
      return text + checkCharacters(text);
    });
  fc.assert(
    fc.property(body, fc.nat(21), fc.integer({ min: 1, max: 35 }), (serial, position, shift) => {
      const value = serialAlphabet.indexOf(serial.charAt(position));
      const replacement = serialAlphabet.charAt((value + shift) % 36);
      const changed = serial.slice(0, position) + replacement + serial.slice(position + 1);
      assert.equal(serialProblem(serial), null);
      assert.equal(serialProblem(changed), 'check');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(body, fc.nat(20), (serial, position) => {
      fc.pre(serial.charAt(position) !== serial.charAt(position + 1));
      const swapped =
        serial.slice(0, position) +
        serial.charAt(position + 1) +
        serial.charAt(position) +
        serial.slice(position + 2);
      assert.equal(serialProblem(swapped), 'check');
    }),
    { numRuns: 2000 },
  );
});

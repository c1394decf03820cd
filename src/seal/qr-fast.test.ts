import assert from 'node:assert/strict';
import { test } from 'node:test';
import QRCode from 'qrcode';
import { fastQrVersion, fastQrVersionMax } from './qr-fast.js';
import { encodeSealQr, sealQrMaskPattern } from './seal.js';

const alphanumeric = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const addressCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789-./:?=&_~';

/** The general encoder's symbol for the same two segments: what the fast path must reproduce exactly. */
function reference(head: string, tail: string) {
  return QRCode.create(
    [
      { data: new TextEncoder().encode(head), mode: 'byte' },
      { data: tail, mode: 'alphanumeric' },
    ],
    { errorCorrectionLevel: 'M', maskPattern: sealQrMaskPattern },
  );
}

function randomText(next: () => number, characters: string, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) text += characters[next() % characters.length];
  return text;
}

test('the fast QR path gives the general encoder’s modules for every version 1–9 and beyond', () => {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed >> 8;
  };
  const versionsSeen = new Set<number>();
  for (let round = 0; round < 1500; round += 1) {
    // A head ending in '/' keeps the serial-like tail the whole uppercase run, as encodeSealQr splits it.
    // Every other round is short, so the small versions are exercised as often as the large ones.
    const short = round % 2 === 0;
    const head = `${randomText(next, addressCharacters, next() % (short ? 16 : 220))}/`;
    const tail = randomText(next, alphanumeric, 1 + (next() % (short ? 12 : 60)));
    const expected = reference(head, tail);
    versionsSeen.add(expected.version);
    const actual = encodeSealQr(head + tail);
    assert.equal(actual.size, expected.modules.size, `${head}${tail}`);
    assert.deepEqual(actual.data, expected.modules.data, `${head}${tail} (version ${expected.version})`);
  }
  for (let version = 1; version <= fastQrVersionMax + 1; version += 1) {
    assert.ok(versionsSeen.has(version), `version ${version} was exercised`);
  }
});

test('the fast path picks the smallest version holding the data at level M', () => {
  // 12 + 8·headBytes + 13 + alphanumeric bits against 16, 28, 44 … data codewords.
  assert.equal(fastQrVersion(0, 1), 1);
  assert.equal(fastQrVersion(11, 2), 1); // 12 + 88 + 13 + 11 = 124 bits ≤ 128
  assert.equal(fastQrVersion(12, 2), 2); // 132 bits > 128
  assert.equal(fastQrVersion(29, 22), 4); // 378 bits > 352 (version 3), ≤ 512
  assert.equal(fastQrVersion(200, 22), null);
});

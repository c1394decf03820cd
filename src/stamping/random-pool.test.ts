import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomPool, timeOrderedId } from './random-pool.js';

/** A source that fills with 1, 2, 3, … across calls, so every handed-out byte can be traced. */
function countingSource(): { fill: (target: Uint8Array) => void; calls: number[] } {
  let value = 0;
  const calls: number[] = [];
  return {
    calls,
    fill: (target) => {
      calls.push(target.length);
      for (let index = 0; index < target.length; index += 1) target[index] = ++value % 256;
    },
  };
}

test('the pool hands out each byte once, in order, and refills only when a request does not fit', () => {
  const source = countingSource();
  const pool = new RandomPool(64, source.fill);
  assert.deepEqual(
    Array.from(pool.take(16)),
    Array.from({ length: 16 }, (_, index) => index + 1),
  );
  assert.deepEqual(
    Array.from(pool.take(16)),
    Array.from({ length: 16 }, (_, index) => index + 17),
  );
  assert.deepEqual(
    Array.from(pool.take(16)),
    Array.from({ length: 16 }, (_, index) => index + 33),
  );
  assert.equal(pool.fillCount, 1);
  // 16 bytes are left, and 16 fit: no refill.
  assert.deepEqual(
    Array.from(pool.take(16)),
    Array.from({ length: 16 }, (_, index) => index + 49),
  );
  assert.equal(pool.fillCount, 1);
  // Empty now: the next request refills the whole pool, bytes 65…
  assert.deepEqual(Array.from(pool.take(3)), [65, 66, 67]);
  assert.equal(pool.fillCount, 2);
  assert.deepEqual(source.calls, [64, 64]);
});

test('a request larger than a quarter of the pool is filled directly and leaves the pool alone', () => {
  const source = countingSource();
  const pool = new RandomPool(64, source.fill);
  const large = pool.take(17);
  assert.equal(large.length, 17);
  assert.deepEqual(source.calls, [17]);
  assert.equal(pool.fillCount, 0);
  assert.deepEqual(Array.from(pool.take(2)), [18, 19]);
  assert.deepEqual(source.calls, [17, 64]);
});

test('slices are copies: changing one changes neither the pool nor the next slice', () => {
  const pool = new RandomPool(64, countingSource().fill);
  const first = pool.take(8);
  first.fill(0xff);
  assert.deepEqual(Array.from(pool.take(8)), [9, 10, 11, 12, 13, 14, 15, 16]);
  assert.equal(first.buffer.byteLength, 8);
  assert.equal(pool.take(0).length, 0);
});

test('the default source gives distinct 16-byte identifiers across many refills', () => {
  const pool = new RandomPool();
  const seen = new Set<string>();
  for (let index = 0; index < 2000; index += 1) seen.add(Buffer.from(pool.take(16)).toString('hex'));
  assert.equal(seen.size, 2000);
  assert.equal(pool.fillCount, Math.ceil((2000 * 16) / 4096));
});

test('nonsense sizes are programmer errors', () => {
  assert.throws(() => new RandomPool(63), /at least 64/);
  assert.throws(() => new RandomPool(64).take(-1), /not a byte count/);
  assert.throws(() => new RandomPool(64).take(1.5), /not a byte count/);
});

test('time-ordered ids: the time in the first 12 hex digits, 20 random ones after, sorted by time', () => {
  const id = timeOrderedId(0x0193_5a2b_c4d5);
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(id.slice(0, 12), '01935a2bc4d5');
  assert.equal(timeOrderedId(0).slice(0, 12), '000000000000');
  assert.equal(timeOrderedId(2 ** 48 - 1).slice(0, 12), 'ffffffffffff');
  // Later milliseconds sort after earlier ones whatever the random part.
  const ids = [5, 1, 4, 2, 3].map((ms) => timeOrderedId(1_700_000_000_000 + ms));
  assert.deepEqual(
    [...ids].sort().map((value) => parseInt(value.slice(0, 12), 16) - 1_700_000_000_000),
    [1, 2, 3, 4, 5],
  );
  // The random parts differ within one millisecond.
  const sameMs = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_700_000_000_000).slice(12)));
  assert.equal(sameMs.size, 1000);
  assert.throws(() => timeOrderedId(-1), /not a millisecond time/);
  assert.throws(() => timeOrderedId(2 ** 48), /not a millisecond time/);
  assert.equal(timeOrderedId(255.9).slice(0, 12), '0000000000ff');
  assert.throws(() => timeOrderedId(Number.NaN), /not a millisecond time/);
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { OldestKeys } from './oldest-keys.js';

test('oldest keys: the oldest live key each time, through re-insertions, deletions elsewhere and an emptied map', () => {
  const map = new Map<string, number>();
  const oldest = new OldestKeys(map);
  assert.equal(oldest.next(), undefined);
  for (const key of ['a', 'b', 'c', 'd']) map.set(key, 0);
  // Re-inserting makes a key the newest; deleting one in the middle leaves a hole.
  map.delete('a');
  map.set('a', 1);
  map.delete('c');
  assert.equal(oldest.next(), 'b');
  map.delete('b');
  map.set('e', 0);
  assert.equal(oldest.next(), 'd');
  map.delete('d');
  assert.equal(oldest.next(), 'a');
  map.delete('a');
  assert.equal(oldest.next(), 'e');
  map.delete('e');
  assert.equal(oldest.next(), undefined);
  // Keys added after the map was emptied are met too.
  map.set('f', 0);
  map.set('g', 0);
  assert.equal(oldest.next(), 'f');
  map.delete('f');
  assert.equal(oldest.next(), 'g');
});

test('oldest keys: agrees with a fresh keys() through a long run of evictions and re-insertions', () => {
  const map = new Map<number, number>();
  const oldest = new OldestKeys(map);
  let seed = 7;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % below;
  };
  let evictions = 0;
  for (let step = 0; step < 20_000; step += 1) {
    const key = random(3000);
    map.delete(key);
    map.set(key, step);
    if (map.size > 1000) {
      const expected = map.keys().next().value;
      const given = oldest.next();
      assert.equal(given, expected, `step ${step}`);
      map.delete(given!);
      evictions += 1;
    }
  }
  assert.ok(evictions > 5000, `only ${evictions} evictions`);
});

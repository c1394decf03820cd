import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryWaitingRoomStore, type WaitingRoomStore } from './store.js';
import { FallbackWaitingRoomStore, RedisWaitingRoomStore } from './redis-store.js';
import { storeContract } from './store.contract.js';
import { closeTestRedis, openTestRedis, redisSkipReason } from '../testing/redis.js';

storeContract(
  'memory',
  async (rules) => ({ store: new MemoryWaitingRoomStore(rules), close: async () => {} }),
  '',
);

storeContract(
  'redis',
  async (rules) => {
    const link = await openTestRedis();
    if (!link) return null;
    return { store: new RedisWaitingRoomStore(link, rules), close: () => closeTestRedis(link) };
  },
  redisSkipReason,
);

test('the fallback store answers from memory while Redis is not ready or fails, and says so once per change', async () => {
  const rules = {
    capacity: 1,
    admittedMs: 60_000,
    opensAt: null,
    windowMs: 60_000,
    abandonMs: 120_000,
    graceMs: 3_600_000,
  };
  const shared = new MemoryWaitingRoomStore(rules);
  let ready = true;
  let failing = false;
  const flaky: WaitingRoomStore = {
    join: (visitor, now, key) =>
      failing ? Promise.reject(new Error('down')) : shared.join(visitor, now, key),
    status: (visitor, now) => (failing ? Promise.reject(new Error('down')) : shared.status(visitor, now)),
    release: (visitor, now) => (failing ? Promise.reject(new Error('down')) : shared.release(visitor, now)),
  };
  const changes: string[] = [];
  const store = new FallbackWaitingRoomStore(
    new MemoryWaitingRoomStore(rules),
    { store: flaky, ready: () => ready },
    (backend) => changes.push(backend),
  );
  assert.equal((await store.join('a', 0, 0.5)).state, 'admitted');
  assert.equal(store.backend, 'redis');
  failing = true;
  // Memory knows nothing of a: it is admitted there too (each node runs its own room meanwhile).
  assert.equal((await store.join('b', 1, 0.5)).state, 'admitted');
  assert.equal((await store.join('c', 2, 0.5)).position, 1);
  assert.equal(store.backend, 'memory');
  ready = false;
  failing = false;
  assert.equal((await store.status('c', 3)).position, 1);
  ready = true;
  assert.equal((await store.join('b', 4, 0.5)).position, 1);
  assert.equal(store.backend, 'redis');
  assert.deepEqual(changes, ['memory', 'redis']);
  // A hung Redis is answered from memory after the timeout.
  const hung = new FallbackWaitingRoomStore(
    new MemoryWaitingRoomStore(rules),
    { store: { ...flaky, status: () => new Promise(() => {}) }, ready: () => true },
    () => {},
    20,
  );
  assert.equal((await hung.status('z', 0)).state, 'absent');
  assert.equal(hung.backend, 'memory');
});

/**
 * The one contract every waiting-room store meets (store.ts): FIFO order, capacity, expiry and release
 * freeing capacity, abandoned places, the measured admission count, and the opening: visitors who come
 * before it are admitted in the order of their random keys, every later one strictly after them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomRules, VisitorStatus, WaitingRoomStore } from './store.js';

export interface StoreFixture {
  readonly store: WaitingRoomStore;
  close(): Promise<void>;
}

/** Returns null when the store cannot run here (the Redis half without REDIS_URL). */
export type StoreFactory = (rules: RoomRules) => Promise<StoreFixture | null>;

const start = Date.UTC(2026, 11, 1, 1, 0, 0);
const minute = 60_000;

function rules(overrides: Partial<RoomRules> = {}): RoomRules {
  return {
    capacity: 2,
    admittedMs: 10 * minute,
    opensAt: null,
    windowMs: minute,
    abandonMs: 2 * minute,
    graceMs: 60 * minute,
    ...overrides,
  };
}

function brief(status: VisitorStatus): [string, number, number | null] {
  return [status.state, status.position, status.admittedUntil];
}

export function storeContract(name: string, factory: StoreFactory, skipReason: string): void {
  const withStore = (title: string, roomRules: RoomRules, body: (store: WaitingRoomStore) => Promise<void>) =>
    test(`${name}: ${title}`, async (t) => {
      const fixture = await factory(roomRules);
      if (!fixture) {
        t.skip(skipReason);
        return;
      }
      try {
        await body(fixture.store);
      } finally {
        await fixture.close();
      }
    });

  withStore('admits at once while there is room, then queues in arrival order', rules(), async (store) => {
    const until = start + 10 * minute;
    assert.deepEqual(await store.join('a', start, 0.5), {
      state: 'admitted',
      position: 0,
      admittedUntil: until,
      admissionsInWindow: 1,
      waiting: 0,
      admitted: 1,
      admittedNow: 1,
    });
    assert.deepEqual(brief(await store.join('b', start + 1, 0.5)), ['admitted', 0, until + 1]);
    assert.deepEqual(await store.join('c', start + 2, 0.5), {
      state: 'waiting',
      position: 1,
      admittedUntil: null,
      admissionsInWindow: 2,
      waiting: 1,
      admitted: 2,
      admittedNow: 0,
    });
    assert.deepEqual(brief(await store.join('d', start + 3, 0.1)), ['waiting', 2, null]);
    // Joining again (a reload) keeps the place; it does not move to the back or the front.
    assert.deepEqual(brief(await store.join('c', start + 4, 0.9)), ['waiting', 1, null]);
    assert.deepEqual(brief(await store.join('a', start + 4, 0.9)), ['admitted', 0, until]);
    assert.deepEqual(brief(await store.status('d', start + 5)), ['waiting', 2, null]);
    assert.deepEqual(brief(await store.status('nobody', start + 5)), ['absent', 0, null]);
  });

  withStore(
    'an admission that runs out frees its place for the head of the queue',
    rules(),
    async (store) => {
      await store.join('a', start, 0.5);
      await store.join('b', start + 1000, 0.5);
      await store.join('c', start + 2000, 0.5);
      await store.join('d', start + 3000, 0.5);
      // c and d keep polling while they wait.
      for (let at = start + minute; at < start + 10 * minute; at += minute) {
        assert.deepEqual(brief(await store.status('c', at)), ['waiting', 1, null]);
        assert.deepEqual(brief(await store.status('d', at)), ['waiting', 2, null]);
      }
      const end = start + 10 * minute;
      assert.deepEqual(brief(await store.status('c', end - 1)), ['waiting', 1, null]);
      const afterA = await store.status('c', end);
      assert.deepEqual(afterA, {
        state: 'admitted',
        position: 0,
        admittedUntil: end + 10 * minute,
        admissionsInWindow: 1,
        waiting: 1,
        admitted: 2,
        admittedNow: 1,
      });
      assert.deepEqual(brief(await store.status('a', end)), ['expired', 0, end]);
      assert.deepEqual(brief(await store.status('d', end)), ['waiting', 1, null]);
      assert.deepEqual(brief(await store.status('d', end + 1000)), ['admitted', 0, end + 1000 + 10 * minute]);
      // An expired visitor who joins again goes to the back of the queue.
      assert.deepEqual(brief(await store.join('a', end + 2000, 0.5)), ['waiting', 1, null]);
      // After the grace period the expired admission is forgotten.
      assert.deepEqual(brief(await store.status('b', end + 1000 + 60 * minute)), ['absent', 0, null]);
    },
  );

  withStore(
    'release frees capacity at once; a released waiter leaves the queue',
    rules({ capacity: 1 }),
    async (store) => {
      await store.join('a', start, 0.5);
      await store.join('b', start + 1, 0.5);
      await store.join('c', start + 2, 0.5);
      assert.deepEqual(brief(await store.release('b', start + 3)), ['absent', 0, null]);
      assert.deepEqual(brief(await store.status('c', start + 4)), ['waiting', 1, null]);
      const released = await store.release('a', start + 5);
      assert.deepEqual(brief(released), ['absent', 0, null]);
      assert.equal(released.admittedNow, 1);
      assert.deepEqual(brief(await store.status('c', start + 6)), ['admitted', 0, start + 5 + 10 * minute]);
    },
  );

  withStore('a waiter who stops polling loses the place', rules({ capacity: 1 }), async (store) => {
    await store.join('a', start, 0.5);
    await store.join('b', start + 1, 0.5);
    await store.join('c', start + 2, 0.5);
    const later = start + 2 * minute + 10;
    assert.deepEqual(brief(await store.status('c', later)), ['waiting', 2, null]);
    await store.release('a', later + 1);
    const status = await store.status('c', later + 2);
    assert.deepEqual(brief(status), ['admitted', 0, later + 1 + 10 * minute]);
    assert.equal(status.waiting, 0);
    assert.deepEqual(brief(await store.status('b', later + 3)), ['absent', 0, null]);
  });

  withStore('admissions are counted over the sliding window', rules({ capacity: 3 }), async (store) => {
    await store.join('a', start, 0.5);
    await store.join('b', start + 30_000, 0.5);
    assert.equal((await store.status('x', start + 59_999)).admissionsInWindow, 2);
    assert.equal((await store.status('x', start + minute)).admissionsInWindow, 1);
    assert.equal((await store.join('c', start + minute + 1, 0.5)).admissionsInWindow, 2);
    assert.equal((await store.status('x', start + 2 * minute)).admissionsInWindow, 1);
    assert.equal((await store.status('x', start + 2 * minute + 1)).admissionsInWindow, 0);
  });

  const opensAt = start + 5 * minute;
  withStore(
    'visitors before the opening are admitted in random order, later ones strictly after them',
    rules({ capacity: 1, admittedMs: minute, opensAt, abandonMs: 60 * minute }),
    async (store) => {
      const early = ['e0', 'e1', 'e2', 'e3', 'e4'];
      const keys = [0.7, 0.2, 0.9, 0.1, 0.5];
      for (const [index, visitor] of early.entries()) {
        const status = await store.join(visitor, start + index * 1000, keys[index]!);
        assert.equal(status.state, 'waiting');
        assert.equal(status.admittedNow, 0);
      }
      // Nobody goes in before the opening, however long they wait; positions follow the keys.
      const positions = [];
      for (const visitor of early) positions.push((await store.status(visitor, opensAt - 1)).position);
      assert.deepEqual(positions, [4, 2, 5, 1, 3]);
      assert.equal((await store.status('e3', opensAt - 1)).state, 'waiting');
      // At the opening the smallest key goes in first; a later arrival queues behind every early one.
      assert.deepEqual(brief(await store.join('late', opensAt, 0.0001)), ['waiting', 5, null]);
      const order: string[] = [];
      for (let round = 0; round < 6; round += 1) {
        const at = opensAt + round * minute;
        for (const visitor of [...early, 'late']) {
          const status = await store.status(visitor, at);
          if (status.state === 'admitted' && status.admittedUntil === at + minute) order.push(visitor);
        }
      }
      assert.deepEqual(order, ['e3', 'e1', 'e4', 'e0', 'e2', 'late']);
    },
  );
}

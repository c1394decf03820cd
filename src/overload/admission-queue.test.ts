import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdmissionQueue,
  type AdmissionQueueOptions,
  defaultShares,
  type RefusalReason,
  Ticket,
} from './admission-queue.js';

const FINISHING = 0;
const ORDER = 3;
const SIGNUP = 4;

function options(queueMax: number): AdmissionQueueOptions {
  return {
    queueMax,
    targetMs: 50,
    intervalMs: 100,
    deadlineMs: { finishing: 1000, stamp: 800, verify: 600, order: 400, signup: 200 },
    share: defaultShares,
    retryAfterSecondsMax: 60,
  };
}

/** Acquires and, when queued, records what becomes of the ticket in `log` under `name`. */
function acquire(queue: AdmissionQueue, log: string[], name: string, classIndex: number, nowMs: number) {
  const outcome = queue.acquire(classIndex, nowMs);
  if (outcome instanceof Ticket && outcome.state === 'queued') {
    outcome.onGrant = () => log.push(`${name} granted`);
    outcome.onRefuse = (reason: RefusalReason, retryAfterSeconds: number) =>
      log.push(`${name} ${reason} ${retryAfterSeconds}`);
  }
  return outcome;
}

function ticket(outcome: Ticket | RefusalReason): Ticket {
  assert.ok(outcome instanceof Ticket, `expected a ticket, got ${String(outcome)}`);
  return outcome;
}

test('up to the limit requests start at once; then they wait and start highest class first, FIFO within a class', () => {
  const queue = new AdmissionQueue(options(10), 2);
  const log: string[] = [];
  const a = ticket(acquire(queue, log, 'a', SIGNUP, 0));
  const b = ticket(acquire(queue, log, 'b', FINISHING, 0));
  assert.equal(a.state, 'admitted');
  assert.equal(b.state, 'admitted');
  ticket(acquire(queue, log, 'c', SIGNUP, 10));
  const d = ticket(acquire(queue, log, 'd', FINISHING, 20));
  ticket(acquire(queue, log, 'e', FINISHING, 30));
  assert.equal(queue.queued, 3);
  assert.equal(queue.release(a, 40), 40);
  assert.equal(queue.release(b, 60), 60);
  assert.equal(queue.release(d, 70), 30, 'd started at 40');
  assert.deepEqual(log, ['d granted', 'e granted', 'c granted']);
  assert.equal(queue.release(a, 80), -1, 'a second release gives back nothing');
  const snapshot = queue.snapshot();
  assert.equal(snapshot.inFlight, 2);
  assert.deepEqual(snapshot.queued, { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0 });
  assert.deepEqual(snapshot.admitted, { finishing: 3, stamp: 0, verify: 0, order: 0, signup: 2 });
  // Waits 0, 0, 20 (d), 30 (e), 60 (c).
  assert.deepEqual(snapshot.queueWaitMs, { p50: 20, p99: 60 });
});

test('a waiter whose client left leaves the queue and never takes a slot', () => {
  const queue = new AdmissionQueue(options(10), 1);
  const log: string[] = [];
  const a = ticket(acquire(queue, log, 'a', SIGNUP, 0));
  const b = ticket(acquire(queue, log, 'b', SIGNUP, 0));
  assert.equal(queue.release(b, 5), -1);
  assert.equal(queue.queued, 0);
  queue.release(a, 10);
  assert.deepEqual(log, []);
  assert.equal(queue.inFlight, 0);
});

test('lower classes may fill only their share; past it a class takes the place of the lowest waiter below it', () => {
  const queue = new AdmissionQueue(options(10), 1);
  const log: string[] = [];
  ticket(acquire(queue, log, 'held', FINISHING, 0));
  ticket(acquire(queue, log, 's1', SIGNUP, 0));
  ticket(acquire(queue, log, 's2', SIGNUP, 0));
  assert.equal(acquire(queue, log, 's3', SIGNUP, 0), 'queue_full', 'signup may fill 2 of 10');
  ticket(acquire(queue, log, 'o1', ORDER, 0));
  ticket(acquire(queue, log, 'o2', ORDER, 0));
  ticket(acquire(queue, log, 'o3', ORDER, 0));
  assert.deepEqual(log, ['s2 shed 1'], 'order at its share (4 of 10) takes the newest sign-up place');
  for (let index = 1; index <= 6; index += 1) ticket(acquire(queue, log, `f${index}`, FINISHING, 0));
  assert.equal(queue.queued, 10);
  ticket(acquire(queue, log, 'f7', FINISHING, 0));
  ticket(acquire(queue, log, 'f8', FINISHING, 0));
  assert.deepEqual(log, ['s2 shed 1', 's1 shed 1', 'o3 shed 1']);
  assert.equal(queue.queued, 10);
  const refused = queue.snapshot().refused;
  assert.deepEqual(refused.signup, { queue_full: 1, deadline: 0, shed: 2, busy: 0 });
  assert.deepEqual(refused.order, { queue_full: 0, deadline: 0, shed: 1, busy: 0 });
  assert.deepEqual(refused.finishing, { queue_full: 0, deadline: 0, shed: 0, busy: 0 });
  ticket(acquire(queue, log, 'f9', FINISHING, 0));
  ticket(acquire(queue, log, 'f10', FINISHING, 0));
  assert.deepEqual(log.slice(3), ['o2 shed 1', 'o1 shed 1']);
  assert.equal(acquire(queue, log, 'f11', FINISHING, 0), 'queue_full', 'a queue of finishing work only');
});

test('a request that could not start before its deadline is refused at once; one that waits past it is refused then', () => {
  const queue = new AdmissionQueue(options(100), 1);
  const log: string[] = [];
  const held = ticket(acquire(queue, log, 'held', FINISHING, 0));
  // One slot held 50 ms on average: 0.02 starts per ms; sign-ups may wait 200 ms, so 4 may queue.
  for (let index = 1; index <= 4; index += 1) ticket(acquire(queue, log, `s${index}`, SIGNUP, 0));
  assert.equal(acquire(queue, log, 's5', SIGNUP, 0), 'deadline');
  assert.equal(queue.retryAfterSeconds(), 1);
  assert.equal(queue.nextDeadlineMs(), 200);
  queue.expire(200);
  assert.deepEqual(log, []);
  queue.expire(201);
  assert.deepEqual(log, ['s1 deadline 1', 's2 deadline 1', 's3 deadline 1', 's4 deadline 1']);
  assert.equal(queue.nextDeadlineMs(), null);
  assert.deepEqual(queue.snapshot().refused.signup, { queue_full: 0, deadline: 5, shed: 0, busy: 0 });
  queue.release(held, 300);
  assert.equal(queue.inFlight, 0);
});

test('CoDel: a wait above target for a whole interval sheds, lowest class first, what would miss its deadline', () => {
  const queue = new AdmissionQueue(options(100), 1);
  const log: string[] = [];
  const held = ticket(acquire(queue, log, 'held', FINISHING, 0));
  const x1 = ticket(acquire(queue, log, 'x1', FINISHING, 0));
  const x2 = ticket(acquire(queue, log, 'x2', FINISHING, 0));
  ticket(acquire(queue, log, 's1', SIGNUP, 0));
  ticket(acquire(queue, log, 's2', SIGNUP, 0));
  const o1 = ticket(acquire(queue, log, 'o1', ORDER, 0));
  queue.release(held, 60);
  assert.deepEqual(log, ['x1 granted']);
  assert.equal(queue.snapshot().shedding, false, 'above target, but not yet for an interval');
  // At 170 the wait has been above 50 ms since 60: shed. A slot is now held ~56.9 ms on average, so
  // the sign-ups (behind x2 and o1) would start after 170 + 3 × 56.9 > 200; o1 (behind x2) by 400.
  queue.release(x1, 170);
  assert.deepEqual(log, ['x1 granted', 's1 shed 1', 's2 shed 1', 'x2 granted']);
  assert.equal(queue.snapshot().shedding, true);
  assert.equal(o1.state, 'queued');
  // While the queue stands, a new sign-up or order is refused on arrival; finishing work still waits.
  assert.equal(queue.acquire(SIGNUP, 171), 'shed');
  assert.equal(queue.acquire(ORDER, 171), 'shed');
  assert.equal(queue.precheck(SIGNUP), 'shed');
  assert.deepEqual(queue.snapshot().refused.signup, { queue_full: 0, deadline: 0, shed: 4, busy: 0 });
  // A waiter that leaves below the target ends the shedding, though o1 still waits.
  ticket(acquire(queue, log, 'f', FINISHING, 175));
  queue.release(x2, 180);
  assert.equal(log.at(-1), 'f granted');
  assert.equal(queue.snapshot().shedding, false);
  assert.equal(o1.state, 'queued');
});

test('raising the limit starts waiters at once', () => {
  const queue = new AdmissionQueue(options(10), 1);
  const log: string[] = [];
  ticket(acquire(queue, log, 'held', FINISHING, 0));
  ticket(acquire(queue, log, 'a', ORDER, 0));
  ticket(acquire(queue, log, 'b', ORDER, 0));
  queue.setLimit(3, 10);
  assert.deepEqual(log, ['a granted', 'b granted']);
  assert.equal(queue.inFlight, 3);
});

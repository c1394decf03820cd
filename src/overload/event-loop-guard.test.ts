/**
 * The event-loop guard: hot windows in a row (busy or late, with requests arriving) refuse more of the
 * lowest classes step by step, a single hot window (a burst) refuses nothing, cool windows give it back,
 * and no class is ever refused whole.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionQueue, defaultShares } from './admission-queue.js';
import { EVENT_LOOP_ARRIVALS_MIN, EVENT_LOOP_LEVEL_MAX, EventLoopGuard } from './event-loop-guard.js';
import { PRIORITY_CLASSES } from './priority.js';

const options = { busyHigh: 0.9, busyLow: 0.75, delayHighMs: 20, delayLowMs: 5 };
const hot = { arrivals: 50, utilization: 0.95, delayMs: 1 };
const late = { arrivals: 50, utilization: 0.5, delayMs: 25 };
const warm = { arrivals: 50, utilization: 0.8, delayMs: 1 };
const cool = { arrivals: 50, utilization: 0.3, delayMs: 1 };

/** A queue of 100 places with the default deadlines and shares, and `limit` slots. */
function queueWithLimit(limit: number): AdmissionQueue {
  return new AdmissionQueue(
    {
      queueMax: 100,
      targetMs: 50,
      intervalMs: 500,
      deadlineMs: { finishing: 3000, stamp: 1500, verify: 1000, order: 1000, signup: 500 },
      share: defaultShares,
      retryAfterSecondsMax: 60,
    },
    limit,
  );
}

/** The refused share of each class, by name. */
function shares(guard: EventLoopGuard): Record<string, number> {
  return Object.fromEntries(PRIORITY_CLASSES.map((name, index) => [name, guard.fractions[index]!]));
}

test('hot windows in a row raise the level one step each after the first, lowest class first, never past 90 % of a class', () => {
  const guard = new EventLoopGuard(options);
  assert.deepEqual(shares(guard), { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0 });
  const levels = Array.from({ length: 14 }, (_, index) => guard.observe(index % 2 === 0 ? hot : late));
  assert.deepEqual(levels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12]);
  assert.equal(EVENT_LOOP_LEVEL_MAX, 12);
  assert.deepEqual(shares(guard), { finishing: 0, stamp: 0, verify: 0.9, order: 0.9, signup: 0.9 });

  const guardAt = (level: number) => {
    const fresh = new EventLoopGuard(options);
    for (let step = 0; step <= level; step += 1) fresh.observe(hot);
    return shares(fresh);
  };
  assert.deepEqual(guardAt(1), { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0.25 });
  assert.deepEqual(guardAt(3), { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0.75 });
  assert.deepEqual(guardAt(6), { finishing: 0, stamp: 0, verify: 0, order: 0.5, signup: 0.9 });
});

test('a hot window between others that are not is a burst and refuses nothing', () => {
  const guard = new EventLoopGuard(options);
  const levels = [hot, warm, late, cool, hot, warm, { ...hot, utilization: 1 }, warm].map((window) =>
    guard.observe(window),
  );
  assert.deepEqual(levels, [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(shares(guard), { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0 });
  assert.equal(guard.observe(hot), 0);
  assert.equal(guard.observe(late), 1, 'the second hot window in a row');
});

test('a warm window holds the level, a cool one lowers it, and a busy loop with few arrivals is not hot', () => {
  const guard = new EventLoopGuard(options);
  guard.observe(hot);
  guard.observe(hot);
  guard.observe(hot);
  assert.equal(guard.observe(warm), 2, 'between the thresholds: unchanged');
  assert.equal(guard.observe({ ...cool, delayMs: 6 }), 2, 'a delay at or above delayLowMs is not cool');
  assert.equal(guard.observe(cool), 1);
  assert.equal(guard.observe(cool), 0);
  assert.equal(guard.observe(cool), 0);
  assert.deepEqual(shares(guard), { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0 });
  assert.equal(guard.observe({ ...hot, arrivals: EVENT_LOOP_ARRIVALS_MIN - 1 }), 0);
  assert.equal(guard.observe({ ...late, arrivals: EVENT_LOOP_ARRIVALS_MIN }), 0, 'the first hot window');
  assert.equal(guard.observe({ ...late, arrivals: EVENT_LOOP_ARRIVALS_MIN }), 1);
  assert.deepEqual(guard.last, { ...late, arrivals: EVENT_LOOP_ARRIVALS_MIN });
});

test('the queue refuses each class on arrival by its busy share, as "busy", and keeps finishing work', () => {
  const queue = queueWithLimit(1000);
  const draws = [0.1, 0.3, 0.6, 0.8];
  let next = 0;
  queue.random = () => draws[next++ % draws.length]!;
  // signup 50 %, order 25 %: draws below the share refuse.
  queue.setBusyFractions([0, 0, 0, 0.25, 0.5]);
  const signup = PRIORITY_CLASSES.indexOf('signup');
  const order = PRIORITY_CLASSES.indexOf('order');
  const outcomes = (classIndex: number) =>
    Array.from({ length: 4 }, () => {
      const outcome = queue.acquire(classIndex, 0);
      return typeof outcome === 'string' ? outcome : outcome.state;
    });
  assert.deepEqual(outcomes(signup), ['busy', 'busy', 'admitted', 'admitted']);
  assert.deepEqual(outcomes(order), ['busy', 'admitted', 'admitted', 'admitted']);
  assert.equal(queue.precheck(signup), 'busy');
  assert.equal(queue.precheck(signup), 'busy');
  assert.equal(queue.precheck(signup), null);
  assert.equal(queue.acquire(PRIORITY_CLASSES.indexOf('finishing'), 0) instanceof Object, true);
  const snapshot = queue.snapshot();
  assert.deepEqual(snapshot.refused.signup, { queue_full: 0, deadline: 0, shed: 0, busy: 4 });
  assert.deepEqual(snapshot.refused.order, { queue_full: 0, deadline: 0, shed: 0, busy: 1 });
  assert.deepEqual(snapshot.busyRefusal, { finishing: 0, stamp: 0, verify: 0, order: 0.25, signup: 0.5 });
  assert.equal(queue.arrivals, 12);
  // Shares back to zero: nothing is refused as busy, and no draw is taken.
  queue.setBusyFractions([0, 0, 0, 0, 0]);
  const drawn = next;
  assert.equal(typeof queue.acquire(signup, 0), 'object');
  assert.equal(next, drawn);
  assert.throws(() => queue.setBusyFractions([0, 0, 0, 0, 1.5]), /a share between 0 and 1/);
});

test('while the guard refuses part of a class, the rest of it is admitted to a free slot or refused, never queued', () => {
  const queue = queueWithLimit(1);
  queue.random = () => 0.99;
  const signup = PRIORITY_CLASSES.indexOf('signup');
  const order = PRIORITY_CLASSES.indexOf('order');
  queue.setBusyFractions([0, 0, 0, 0, 0.25]);
  const first = queue.acquire(signup, 0);
  assert.equal(typeof first === 'string' ? first : first.state, 'admitted', 'a free slot: admitted');
  assert.equal(queue.acquire(signup, 1), 'busy', 'no free slot: refused now, not queued');
  assert.equal(queue.precheck(signup), 'busy');
  const waiting = queue.acquire(order, 1);
  assert.equal(typeof waiting === 'string' ? waiting : waiting.state, 'queued', 'a class not refused waits');
  assert.equal(queue.queued, 1);
  assert.deepEqual(queue.snapshot().refused.signup, { queue_full: 0, deadline: 0, shed: 0, busy: 2 });
});

test('a saturated window (no idle moment, or twice the delay allowed) raises the level by a whole class', () => {
  const guard = new EventLoopGuard(options);
  assert.equal(guard.observe({ arrivals: 50, utilization: 0.98, delayMs: 1 }), 0, 'one window: a burst');
  assert.equal(guard.observe({ arrivals: 50, utilization: 0.98, delayMs: 1 }), 4);
  assert.equal(guard.observe({ arrivals: 50, utilization: 0.5, delayMs: 40 }), 8);
  assert.equal(guard.observe({ arrivals: 50, utilization: 0.5, delayMs: 39 }), 9);
  assert.equal(guard.observe({ arrivals: 50, utilization: 1, delayMs: 0 }), 12);
  assert.equal(guard.observe({ arrivals: 5, utilization: 1, delayMs: 100 }), 12, 'few arrivals: held');
  assert.equal(guard.observe(cool), 11);
});

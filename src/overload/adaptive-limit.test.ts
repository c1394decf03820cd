import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveLimit, type AdaptiveLimitOptions } from './adaptive-limit.js';

const options: AdaptiveLimitOptions = {
  initialLimit: 10,
  minLimit: 2,
  maxLimit: 20,
  windowMs: 100,
  windowSamplesMin: 2,
  windowSamplesMax: 4,
  tolerance: 2,
  smoothing: 0.2,
  longWindows: 10,
};

/** One window of `count` samples of `rttMs` at `inFlight`, closed by reaching windowSamplesMax. */
function window(limit: AdaptiveLimit, rttMs: number, inFlight: number, atMs: number): void {
  for (let index = 0; index < 4; index += 1) limit.sample(rttMs, inFlight, atMs);
}

test('a window closes after windowMs once it holds windowSamplesMin samples, or at windowSamplesMax', () => {
  const limit = new AdaptiveLimit(options);
  assert.equal(limit.sample(10, 10, 0), false);
  assert.equal(limit.sample(10, 10, 50), false, 'two samples, but only 50 ms');
  assert.equal(limit.sample(10, 10, 100), true);
  assert.equal(limit.state().windows, 1);
  assert.equal(limit.sample(10, 10, 100), false);
  assert.equal(limit.sample(10, 10, 100), false);
  assert.equal(limit.sample(10, 10, 100), false);
  assert.equal(limit.sample(10, 10, 100), true, 'four samples close the window at once');
  assert.equal(limit.state().windows, 2);
});

test('at baseline latency the limit grows by the queue allowance, smoothed', () => {
  const limit = new AdaptiveLimit(options);
  window(limit, 10, 10, 0);
  const expected = 10 * 0.8 + (10 * 1 + Math.sqrt(10)) * 0.2;
  assert.deepEqual(limit.state(), {
    limit: 10,
    estimate: expected,
    shortRttMs: 10,
    longRttMs: 10,
    windows: 1,
  });
  window(limit, 10, 10, 0);
  const second = expected * 0.8 + (expected + Math.sqrt(expected)) * 0.2;
  assert.equal(limit.state().estimate, second);
  assert.equal(limit.limit, 11);
});

test('latency past tolerance × baseline shrinks the limit by the gradient, at most halving', () => {
  const limit = new AdaptiveLimit(options);
  window(limit, 10, 10, 0);
  const first = limit.state().estimate;
  window(limit, 40, 10, 0);
  // The baseline moves a tenth of the way: 10 + (40 − 10) / 10 = 13; gradient 2 × 13 / 40 = 0.65.
  const second = first * 0.8 + (first * 0.65 + Math.sqrt(first)) * 0.2;
  assert.deepEqual(limit.state(), { limit: 10, estimate: second, shortRttMs: 40, longRttMs: 13, windows: 2 });
  window(limit, 1000, 10, 0);
  // 2 × 111.7 / 1000 is below the floor: the gradient is 0.5.
  assert.equal(limit.state().longRttMs, 13 + (1000 - 13) / 10);
  assert.equal(limit.state().estimate, second * 0.8 + (second * 0.5 + Math.sqrt(second)) * 0.2);
});

test('a window in which fewer than half the slots were used leaves the limit alone', () => {
  const limit = new AdaptiveLimit(options);
  window(limit, 10, 4, 0);
  assert.deepEqual(limit.state(), { limit: 10, estimate: 10, shortRttMs: 10, longRttMs: 10, windows: 1 });
  window(limit, 100, 4, 0);
  assert.equal(limit.state().estimate, 10);
});

test('the limit stays within [min, max] however long the signal lasts', () => {
  const growing = new AdaptiveLimit(options);
  for (let index = 0; index < 200; index += 1) window(growing, 10, 20, 0);
  assert.equal(growing.limit, 20);
  assert.equal(growing.state().estimate, 20);
  // A baseline that barely moves, so the latency keeps saying "too many".
  const shrinking = new AdaptiveLimit({ ...options, longWindows: 1e9 });
  window(shrinking, 1, 10, 0);
  for (let index = 0; index < 200; index += 1) window(shrinking, 10000, 10, 0);
  // The queue allowance keeps a floor where limit = limit / 2 + √limit, i.e. 4, above a minimum of 2.
  assert.equal(shrinking.limit, 4);
  const bounded = new AdaptiveLimit({ ...options, minLimit: 6, longWindows: 1e9 });
  window(bounded, 1, 10, 0);
  for (let index = 0; index < 200; index += 1) window(bounded, 10000, 10, 0);
  assert.equal(bounded.state().estimate, 6);
});

test('when latency falls below half the baseline, the baseline decays towards it', () => {
  const limit = new AdaptiveLimit(options);
  window(limit, 100, 10, 0);
  window(limit, 10, 10, 0);
  // 100 + (10 − 100) / 10 = 91, more than twice 10, so it also drops by 5 %.
  assert.equal(limit.state().longRttMs, 91 * 0.95);
});

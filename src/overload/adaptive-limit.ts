/**
 * The node's concurrency limit, found from measured latency rather than guessed (the gradient of
 * Netflix's concurrency-limits, "Gradient2"). A pure value over injected times: no clock, no timer.
 *
 * Why a gradient: on a CPU-bound node the time one request takes grows with the number running at
 * once, while throughput stops growing past the number of cores. Comparing the recent latency
 * (`shortRttMs`, the average of the last window) with the long-run baseline (`longRttMs`, a slow
 * average of windows) says whether more concurrency only adds waiting:
 *
 *   gradient = clamp(tolerance × longRtt / shortRtt, 0.5, 1)
 *   limit'   = limit × gradient + √limit            (the square root is the queue allowance)
 *   limit    = clamp(limit × (1 − smoothing) + limit' × smoothing, min, max)
 *
 * With gradient 1 (latency at baseline) the limit grows by about √limit × smoothing per window; once
 * latency climbs past `tolerance` times the baseline it shrinks, at most halving per window. A window
 * in which fewer than half the slots were used says nothing about the limit (the node was not the
 * bottleneck) and leaves it alone, so an idle night cannot inflate it. When the recent latency falls
 * below half the baseline (a burst has passed), the baseline decays towards it so it can recover.
 * Under the steepest gradient the allowance holds the limit at 4 (where limit = limit / 2 + √limit):
 * a node never stops probing; a minimum above 4 bounds it instead.
 */
import assert from 'node:assert/strict';

export interface AdaptiveLimitOptions {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** A window closes after this long once it holds `windowSamplesMin` samples. */
  readonly windowMs: number;
  readonly windowSamplesMin: number;
  /** A window closes at once when it holds this many samples. */
  readonly windowSamplesMax: number;
  /** Latency may reach this multiple of the baseline before the limit shrinks. */
  readonly tolerance: number;
  /** Weight of a new estimate in the limit. */
  readonly smoothing: number;
  /** The baseline is an average over about this many windows. */
  readonly longWindows: number;
}

export const adaptiveLimitDefaults = {
  windowMs: 100,
  windowSamplesMin: 10,
  windowSamplesMax: 200,
  tolerance: 2,
  smoothing: 0.2,
  longWindows: 100,
} as const;

export interface AdaptiveLimitState {
  /** The limit as a whole number of slots (what the admission queue obeys). */
  readonly limit: number;
  /** The exact estimate, for tests and the dashboard. */
  readonly estimate: number;
  readonly shortRttMs: number;
  readonly longRttMs: number;
  readonly windows: number;
}

export class AdaptiveLimit {
  readonly #options: AdaptiveLimitOptions;
  #estimate: number;
  #longRttMs = 0;
  #shortRttMs = 0;
  #windows = 0;
  #windowStartMs = Number.NaN;
  #windowSamples = 0;
  #windowSumMs = 0;
  #windowInFlightMax = 0;

  constructor(options: AdaptiveLimitOptions) {
    assert.ok(options.minLimit >= 1 && options.minLimit <= options.maxLimit, 'limit bounds');
    assert.ok(options.windowSamplesMin >= 1 && options.windowSamplesMin <= options.windowSamplesMax);
    assert.ok(options.tolerance >= 1 && options.smoothing > 0 && options.smoothing <= 1);
    this.#options = options;
    this.#estimate = clamp(options.initialLimit, options.minLimit, options.maxLimit);
  }

  get limit(): number {
    return Math.floor(this.#estimate);
  }

  /**
   * One finished request: `rttMs` is its own service time, `inFlight` how many were running when it
   * finished (itself included), `nowMs` a monotonic time. Returns true when the limit was recomputed.
   */
  sample(rttMs: number, inFlight: number, nowMs: number): boolean {
    assert.ok(rttMs >= 0 && inFlight >= 0, 'a sample is a non-negative time');
    if (Number.isNaN(this.#windowStartMs)) this.#windowStartMs = nowMs;
    this.#windowSamples += 1;
    this.#windowSumMs += rttMs;
    if (inFlight > this.#windowInFlightMax) this.#windowInFlightMax = inFlight;
    const options = this.#options;
    const full = this.#windowSamples >= options.windowSamplesMax;
    const due =
      this.#windowSamples >= options.windowSamplesMin && nowMs - this.#windowStartMs >= options.windowMs;
    if (!full && !due) return false;
    const shortRttMs = Math.max(this.#windowSumMs / this.#windowSamples, 0.001);
    const inFlightMax = this.#windowInFlightMax;
    this.#windowStartMs = nowMs;
    this.#windowSamples = 0;
    this.#windowSumMs = 0;
    this.#windowInFlightMax = 0;
    this.#closeWindow(shortRttMs, inFlightMax);
    return true;
  }

  #closeWindow(shortRttMs: number, inFlightMax: number): void {
    const options = this.#options;
    this.#windows += 1;
    this.#shortRttMs = shortRttMs;
    this.#longRttMs =
      this.#longRttMs === 0
        ? shortRttMs
        : this.#longRttMs + (shortRttMs - this.#longRttMs) / options.longWindows;
    if (this.#longRttMs / shortRttMs > 2) this.#longRttMs *= 0.95;
    // The node was not the bottleneck in this window: its latency says nothing about the limit.
    if (inFlightMax < this.#estimate / 2) return;
    const gradient = clamp((options.tolerance * this.#longRttMs) / shortRttMs, 0.5, 1);
    const proposed = this.#estimate * gradient + Math.sqrt(this.#estimate);
    const smoothed = this.#estimate * (1 - options.smoothing) + proposed * options.smoothing;
    this.#estimate = clamp(smoothed, options.minLimit, options.maxLimit);
  }

  state(): AdaptiveLimitState {
    return {
      limit: this.limit,
      estimate: this.#estimate,
      shortRttMs: this.#shortRttMs,
      longRttMs: this.#longRttMs,
      windows: this.#windows,
    };
  }
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

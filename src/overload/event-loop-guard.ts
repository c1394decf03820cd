/**
 * The main thread's own share of admission. A Node node has one thread that accepts, parses, admits
 * and refuses every request; when the admitted work keeps it busy, new requests wait in socket buffers
 * before admission ever sees them, and a refusal takes as long as an answer (the failure admission
 * exists to prevent, DESIGN §8). The concurrency limit cannot see this: it measures handler time, and
 * many short handlers can fill the event loop while few are in flight. So the loop itself is watched
 * too, by two measures: its utilisation (the share of the window it spent running rather than waiting
 * for I/O: near 1, new connections and requests queue in the kernel where admission cannot see them,
 * though each turn of the loop is short) and its delay (how late a timer runs: one long callback).
 *
 * A window that is hot by either measure (utilisation ≥ `busyHigh` or worst delay ≥ `delayHighMs`)
 * while requests keep arriving (`EVENT_LOOP_ARRIVALS_MIN`), after a window that was hot too, raises the
 * refusal level one step (four, a whole class, when the loop had no idle moment at all or was twice as
 * late as allowed); one that is cool by both (utilisation < `busyLow` and delay < `delayLowMs`) lowers
 * it one step. Each level refuses more of one class on arrival, lowest class
 * first: levels 1–4 refuse 25, 50, 75 and 90 % of sign-ups, 5–8 of new orders, 9–12 of
 * verifications. Finishing work and stamps are never refused here: their admission stays with the
 * limit and the queue. A class is never refused whole: a storm of arrivals that keeps the loop busy
 * with refusals alone (each a fraction of a millisecond) would otherwise hold the level up with
 * nothing admitted; a tenth of each class still reaches the queue, which admits it while it can.
 *
 * A pure value over injected samples; `hooks.ts` reads `performance.eventLoopUtilization` and
 * `monitorEventLoopDelay` every `EVENT_LOOP_WINDOW_MS`.
 */
import assert from 'node:assert/strict';
import { PRIORITY_CLASSES } from './priority.js';

/** How often the loop's delay is read and the level moved, ms. */
export const EVENT_LOOP_WINDOW_MS = 50;

/** The share of a class refused at each of its steps. */
const stepShares = [0.25, 0.5, 0.75, 0.9];
const stepsPerClass = stepShares.length;
/** Classes this guard may refuse, lowest first: sign-ups, new orders, verifications. */
const refusable = [
  PRIORITY_CLASSES.indexOf('signup'),
  PRIORITY_CLASSES.indexOf('order'),
  PRIORITY_CLASSES.indexOf('verify'),
];
export const EVENT_LOOP_LEVEL_MAX = refusable.length * stepsPerClass;

/** Utilisation at which a hot window is saturated: the level rises by a whole class. */
const saturatedBusy = 0.98;

export interface EventLoopGuardOptions {
  /** Utilisation (0–1) at which a window is hot. */
  readonly busyHigh: number;
  /** Utilisation (0–1) below which a window may be cool. */
  readonly busyLow: number;
  /** Worst loop delay, ms, at which a window is hot. */
  readonly delayHighMs: number;
  /** Worst loop delay, ms, below which a window may be cool. */
  readonly delayLowMs: number;
}

/**
 * A window is hot only when at least this many requests arrived in it (200 per second): a loop kept
 * busy by its own work (start-up, a batch, a test) with few requests arriving is not a surge, and
 * refusing those few would help nothing.
 */
export const EVENT_LOOP_ARRIVALS_MIN = 10;

export interface EventLoopWindow {
  /** Requests that asked for admission in the window. */
  readonly arrivals: number;
  /** Share of the window the loop spent running callbacks, 0–1. */
  readonly utilization: number;
  /** The window's worst timer delay, ms. */
  readonly delayMs: number;
}

export class EventLoopGuard {
  readonly #options: EventLoopGuardOptions;
  #level = 0;
  /** Whether the window before was hot: a level rises only on the second hot window in a row. */
  #previousHot = false;
  #last: EventLoopWindow = { arrivals: 0, utilization: 0, delayMs: 0 };
  /** The share of each class (by index) refused on arrival at the current level. */
  readonly fractions = new Float64Array(PRIORITY_CLASSES.length);

  constructor(options: EventLoopGuardOptions) {
    assert.ok(options.busyLow > 0 && options.busyLow <= options.busyHigh, 'utilisation bounds');
    assert.ok(options.delayLowMs > 0 && options.delayLowMs <= options.delayHighMs, 'delay bounds');
    this.#options = options;
  }

  /** One window's measures; returns the level (0 refuses nothing). */
  observe(window: EventLoopWindow): number {
    this.#last = window;
    const options = this.#options;
    const hotNow =
      window.arrivals >= EVENT_LOOP_ARRIVALS_MIN &&
      (window.utilization >= options.busyHigh || window.delayMs >= options.delayHighMs);
    // Only a second hot window in a row raises the level: one busy window is a burst (a collection, a
    // few uploads parsed at once) on a loop with room on average, and refusing there turned people away
    // at a quarter of the node's capacity (docs/benchmarks.md). A surge keeps the loop hot; it waits 50 ms.
    const hot = hotNow && this.#previousHot;
    this.#previousHot = hotNow;
    const cool = window.utilization < options.busyLow && window.delayMs < options.delayLowMs;
    // A loop with no idle moment at all, or twice as late as allowed, is already behind: a whole
    // class more at once, so the backlog a ramp builds in the kernel stays short.
    const saturated = window.utilization >= saturatedBusy || window.delayMs >= 2 * options.delayHighMs;
    if (hot) this.#level = Math.min(EVENT_LOOP_LEVEL_MAX, this.#level + (saturated ? stepsPerClass : 1));
    else if (cool) this.#level = Math.max(0, this.#level - 1);
    refusable.forEach((classIndex, rank) => {
      const steps = Math.min(stepsPerClass, Math.max(0, this.#level - rank * stepsPerClass));
      this.fractions[classIndex] = steps === 0 ? 0 : stepShares[steps - 1]!;
    });
    return this.#level;
  }

  get level(): number {
    return this.#level;
  }

  /** The last window's measures. */
  get last(): EventLoopWindow {
    return this.#last;
  }
}

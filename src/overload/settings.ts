/** Settings of overload/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

export interface OverloadConfig {
  readonly admissionLimitMin: number;
  readonly admissionLimitMax: number;
  readonly admissionLimitInitial: number;
  readonly admissionQueueMax: number;
  readonly admissionQueueTargetMs: number;
  readonly admissionQueueIntervalMs: number;
  readonly admissionDeadlineFinishingMs: number;
  readonly admissionDeadlineStampMs: number;
  readonly admissionDeadlineVerifyMs: number;
  readonly admissionDeadlineOrderMs: number;
  readonly admissionDeadlineSignupMs: number;
  readonly admissionLoopBusyHigh: number;
  readonly admissionLoopBusyLow: number;
  readonly admissionLoopDelayHighMs: number;
  readonly admissionLoopDelayLowMs: number;
}

const deadline = (key: Setting['key'], name: string, fallback: number, what: string): Setting => ({
  key,
  variable: `BUBUH_ADMISSION_DEADLINE_${name}_MS`,
  kind: { type: 'integer', min: 10, max: 600000 },
  fallback,
  help: `how long ${what} may wait for an admission slot before it is refused with 503 OVERLOADED`,
});

// Defaults for a 2-core machine: the adaptive limit starts at 8 requests running at once and finds
// its own level between 2 and 64; deadlines fall with the class so sign-ups give way first.
export const overloadSettings: readonly Setting[] = [
  {
    key: 'admissionLimitMin',
    variable: 'BUBUH_ADMISSION_LIMIT_MIN',
    kind: { type: 'integer', min: 1, max: 10000 },
    fallback: 2,
    help: 'fewest requests the adaptive concurrency limit lets run at once (at least the cores)',
  },
  {
    key: 'admissionLimitMax',
    variable: 'BUBUH_ADMISSION_LIMIT_MAX',
    kind: { type: 'integer', min: 1, max: 10000 },
    fallback: 64,
    help: 'most requests the adaptive concurrency limit lets run at once',
  },
  {
    key: 'admissionLimitInitial',
    variable: 'BUBUH_ADMISSION_LIMIT_INITIAL',
    kind: { type: 'integer', min: 1, max: 10000 },
    fallback: 8,
    help: 'the concurrency limit at start, before latency has been measured',
  },
  {
    key: 'admissionQueueMax',
    variable: 'BUBUH_ADMISSION_QUEUE_MAX',
    kind: { type: 'integer', min: 0, max: 100000 },
    fallback: 256,
    help: 'requests that may wait for a slot; lower classes may fill only a share of it',
  },
  {
    key: 'admissionQueueTargetMs',
    variable: 'BUBUH_ADMISSION_QUEUE_TARGET_MS',
    kind: { type: 'integer', min: 1, max: 60000 },
    fallback: 50,
    help: 'queue wait that, held for a whole interval, makes the queue shed what would miss its deadline',
  },
  {
    key: 'admissionQueueIntervalMs',
    variable: 'BUBUH_ADMISSION_QUEUE_INTERVAL_MS',
    kind: { type: 'integer', min: 1, max: 60000 },
    fallback: 500,
    help: 'how long queue wait must stay above the target before shedding starts',
  },
  deadline('admissionDeadlineFinishingMs', 'FINISHING', 3000, 'finishing work (payments, downloads)'),
  deadline('admissionDeadlineStampMs', 'STAMP', 1500, 'a stamp request'),
  deadline('admissionDeadlineVerifyMs', 'VERIFY', 1000, 'a verification'),
  deadline('admissionDeadlineOrderMs', 'ORDER', 1000, 'a new order or refund request'),
  deadline('admissionDeadlineSignupMs', 'SIGNUP', 500, 'a sign-in or sign-up request'),
  {
    key: 'admissionLoopBusyHigh',
    variable: 'BUBUH_ADMISSION_LOOP_BUSY_HIGH',
    kind: { type: 'integer', min: 1, max: 101 },
    fallback: 90,
    help: 'main-thread busy percentage (per 50 ms, two windows in a row) at which another quarter of the lowest classes (sign-ups, then orders, then verifications) is refused on arrival; 101 turns this measure off',
  },
  {
    key: 'admissionLoopBusyLow',
    variable: 'BUBUH_ADMISSION_LOOP_BUSY_LOW',
    kind: { type: 'integer', min: 1, max: 100 },
    fallback: 75,
    help: 'main-thread busy percentage (per 50 ms) below which (with the delay low too) a quarter fewer is refused on arrival',
  },
  {
    key: 'admissionLoopDelayHighMs',
    variable: 'BUBUH_ADMISSION_LOOP_DELAY_HIGH_MS',
    kind: { type: 'integer', min: 0, max: 10000 },
    fallback: 20,
    help: 'main-thread delay (worst in 50 ms, two windows in a row) at which another quarter of the lowest classes is refused on arrival; 0 turns the event-loop guard off (both measures)',
  },
  {
    key: 'admissionLoopDelayLowMs',
    variable: 'BUBUH_ADMISSION_LOOP_DELAY_LOW_MS',
    kind: { type: 'integer', min: 1, max: 10000 },
    fallback: 5,
    help: 'main-thread delay (worst in 50 ms) below which (with the busy percentage low too) a quarter fewer is refused on arrival',
  },
];

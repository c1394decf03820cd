/**
 * The node's admission: at most `limit` requests run at once; the rest wait in one bounded queue,
 * ordered by priority class, each with a deadline, or are refused at once. A pure value over injected
 * times (milliseconds from any monotonic origin): no clock, no timer, no I/O; `hooks.ts` is the shell.
 *
 * Why each rule:
 * - Classes, not one FIFO: under a surge, the work that finishes something already paid for must not
 *   wait behind sign-ups. Waiters leave the queue highest class first, FIFO within a class.
 * - Shares: class k (1 finishing … 5 signup) may join only while the queue holds fewer than
 *   `share[k] × queueMax` waiters, so as the queue fills the lower classes are refused first. Past its
 *   share a class can still take the place of the newest waiter of the lowest class below it, so
 *   finishing work is refused only when the whole queue is finishing work.
 * - Deadlines: a request that cannot start before its class's deadline is refused at once (503 with
 *   Retry-After) rather than timed out later; one that reaches its deadline while waiting is refused
 *   then. The expected start comes from the measured drain rate (Little: limit / service time).
 * - CoDel: a queue whose wait stays above `targetMs` for a whole `intervalMs` is a standing queue, not
 *   a burst. Then the waiters that would miss their deadline are shed, lowest class first, instead of
 *   being left to time out; the state ends as soon as one waiter leaves below the target.
 */
import assert from 'node:assert/strict';
import { PRIORITY_CLASSES, type PriorityClass } from './priority.js';

import { REFUSAL_REASONS, type RefusalReason } from './refusal-reasons.js';

export { REFUSAL_REASONS, type RefusalReason };

export interface AdmissionQueueOptions {
  readonly queueMax: number;
  readonly targetMs: number;
  readonly intervalMs: number;
  /** How long a request of each class may wait for a slot. */
  readonly deadlineMs: Readonly<Record<PriorityClass, number>>;
  /** Fraction of `queueMax` each class may fill (1 for finishing, falling with rank). */
  readonly share: Readonly<Record<PriorityClass, number>>;
  /** Largest Retry-After, seconds. */
  readonly retryAfterSecondsMax: number;
}

export const defaultShares: Readonly<Record<PriorityClass, number>> = {
  finishing: 1,
  stamp: 0.8,
  verify: 0.6,
  order: 0.4,
  signup: 0.2,
};

type TicketState = 'queued' | 'admitted' | 'released' | 'refused';

/** One request's place: waiting in the queue, then holding a slot, then done. */
export class Ticket {
  state: TicketState = 'queued';
  enqueuedAtMs: number;
  admittedAtMs = 0;
  /** When its handler started and its answer was ready (0 until then): the shell's latency sample. */
  handlerStartedAtMs = 0;
  answerReadyAtMs = 0;
  previous: Ticket | null = null;
  next: Ticket | null = null;
  /** Set by the caller right after `acquire` answered a queued ticket. */
  onGrant: ((ticket: Ticket) => void) | null = null;
  onRefuse: ((reason: RefusalReason, retryAfterSeconds: number) => void) | null = null;

  constructor(
    readonly classIndex: number,
    nowMs: number,
    readonly deadlineAtMs: number,
  ) {
    this.enqueuedAtMs = nowMs;
  }
}

/** A FIFO of tickets with O(1) removal anywhere (a waiter whose client left). */
class TicketList {
  head: Ticket | null = null;
  tail: Ticket | null = null;
  length = 0;

  push(ticket: Ticket): void {
    ticket.previous = this.tail;
    ticket.next = null;
    if (this.tail) this.tail.next = ticket;
    else this.head = ticket;
    this.tail = ticket;
    this.length += 1;
  }

  remove(ticket: Ticket): void {
    if (ticket.previous) ticket.previous.next = ticket.next;
    else this.head = ticket.next;
    if (ticket.next) ticket.next.previous = ticket.previous;
    else this.tail = ticket.previous;
    ticket.previous = null;
    ticket.next = null;
    this.length -= 1;
  }
}

const classCount = PRIORITY_CLASSES.length;
const waitSamplesMax = 1024;

export interface AdmissionSnapshot {
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: Readonly<Record<PriorityClass, number>>;
  readonly admitted: Readonly<Record<PriorityClass, number>>;
  readonly refused: Readonly<Record<PriorityClass, Readonly<Record<RefusalReason, number>>>>;
  readonly queueWaitMs: { readonly p50: number; readonly p99: number };
  readonly serviceMs: number;
  readonly drainPerSecond: number;
  readonly shedding: boolean;
  /** The share of each class refused on arrival because the main thread runs late (0–1). */
  readonly busyRefusal: Readonly<Record<PriorityClass, number>>;
}

/** While the queue is standing, classes from this index on (order, signup) are refused on arrival. */
const sheddingRefusesFromClass = PRIORITY_CLASSES.indexOf('order');

export class AdmissionQueue {
  readonly #options: AdmissionQueueOptions;
  readonly #lists: TicketList[] = [];
  readonly #shareMax: number[] = [];
  readonly #deadlineMs: number[] = [];
  readonly #admitted = new Float64Array(classCount);
  /** refused[class × reasons + reason]. */
  readonly #refused = new Float64Array(classCount * REFUSAL_REASONS.length);
  readonly #waits = new Float64Array(waitSamplesMax);
  #waitCount = 0;
  #limit: number;
  #inFlight = 0;
  #queued = 0;
  /** Smoothed time a slot is held, ms; until measured, a guess that errs towards waiting less. */
  #serviceMs = 50;
  #firstAboveAtMs = 0;
  #shedding = false;
  /** The share of each class refused on arrival (`setBusyFractions`), 0–1. */
  readonly #busy = new Float64Array(classCount);
  #anyBusy = false;
  /** Called with each admitted request's queue wait (0 when admitted at once). */
  onWait: ((waitMs: number) => void) | null = null;

  constructor(options: AdmissionQueueOptions, limit: number) {
    assert.ok(options.queueMax >= 0 && limit >= 1, 'queue bounds');
    this.#options = options;
    this.#limit = limit;
    for (const name of PRIORITY_CLASSES) {
      this.#lists.push(new TicketList());
      this.#shareMax.push(Math.floor(options.share[name] * options.queueMax));
      this.#deadlineMs.push(options.deadlineMs[name]);
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queued;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Requests that can start per millisecond when every slot is busy. */
  #drainPerMs(): number {
    return this.#limit / this.#serviceMs;
  }

  /** Seconds until a request arriving now could likely start: from the drain rate, at least 1. */
  retryAfterSeconds(): number {
    const seconds = Math.ceil((this.#queued + 1) / this.#drainPerMs() / 1000);
    return seconds < 1
      ? 1
      : seconds > this.#options.retryAfterSecondsMax
        ? this.#options.retryAfterSecondsMax
        : seconds;
  }

  /**
   * A slot now (an admitted ticket), a place in the queue (a queued ticket: set `onGrant` and
   * `onRefuse` at once), or a refusal reason. The refusal path allocates nothing. `drawn`: the
   * busy draw was already made for this request (by `refuseAsBusy` or `precheck`), and its arrival
   * counted.
   */
  acquire(classIndex: number, nowMs: number, drawn = false): Ticket | RefusalReason {
    if (!drawn) {
      this.arrivals += 1;
      if (this.#anyBusy && this.#refusedAsBusy(classIndex)) return this.#refuse(classIndex, 3);
    }
    if (this.#inFlight < this.#limit && this.#queued === 0) {
      const ticket = new Ticket(classIndex, nowMs, nowMs);
      this.#admit(ticket, nowMs);
      return ticket;
    }
    // A standing queue (CoDel shedding) takes no new orders or sign-ups: they are refused now, in
    // microseconds, rather than after waiting out a deadline they would miss anyway; the queue's places
    // are kept for work already paid for. Shedding ends when a waiter leaves below the target or the
    // queue empties.
    if (this.#shedding) {
      if (this.#queued === 0) {
        this.#shedding = false;
        this.#firstAboveAtMs = 0;
      } else if (classIndex >= sheddingRefusesFromClass) return this.#refuse(classIndex, 2);
    }
    // A class the event-loop guard is refusing in part does not wait either: while the loop runs hot
    // slots free more slowly than the drain rate says, and a waiter would only be refused at its
    // deadline, late. What the draw let through is admitted when a slot is free, else refused now.
    if (this.#anyBusy && this.#busy[classIndex]! > 0) return this.#refuse(classIndex, 3);
    const deadlineMs = this.#deadlineMs[classIndex]!;
    // Waiters of this class and above go first; if they alone outlast the deadline, say so now.
    let ahead = 0;
    for (let index = 0; index <= classIndex; index += 1) ahead += this.#lists[index]!.length;
    if ((ahead + 1) / this.#drainPerMs() > deadlineMs) return this.#refuse(classIndex, 1);
    if (this.#queued >= this.#shareMax[classIndex]! && !this.#makeRoom(classIndex)) {
      return this.#refuse(classIndex, 0);
    }
    const ticket = new Ticket(classIndex, nowMs, nowMs + deadlineMs);
    this.#lists[classIndex]!.push(ticket);
    this.#queued += 1;
    return ticket;
  }

  /**
   * What `acquire` would answer now, without taking a slot or a place: null when it would admit or
   * queue, else the refusal (counted, as `acquire` counts it). An upload asks this before its body
   * arrives, so a node that is full refuses it before the client spends its bandwidth, and takes its
   * slot only once the body is in (`admitAfterBody` in hooks.ts).
   */
  precheck(classIndex: number, drawn = false): RefusalReason | null {
    if (!drawn) {
      this.arrivals += 1;
      if (this.#anyBusy && this.#refusedAsBusy(classIndex)) return this.#refuse(classIndex, 3);
    }
    if (this.#inFlight < this.#limit && this.#queued === 0) return null;
    if (this.#shedding && this.#queued > 0 && classIndex >= sheddingRefusesFromClass)
      return this.#refuse(classIndex, 2);
    if (this.#anyBusy && this.#busy[classIndex]! > 0) return this.#refuse(classIndex, 3);
    let ahead = 0;
    for (let index = 0; index <= classIndex; index += 1) ahead += this.#lists[index]!.length;
    if ((ahead + 1) / this.#drainPerMs() > this.#deadlineMs[classIndex]!) return this.#refuse(classIndex, 1);
    if (this.#queued < this.#shareMax[classIndex]!) return null;
    for (let index = classCount - 1; index > classIndex; index -= 1)
      if (this.#lists[index]!.tail) return null;
    return this.#refuse(classIndex, 0);
  }

  /**
   * The ticket's request ended (answered, aborted or failed); a second call does nothing. A waiting
   * ticket just leaves the queue. Returns the time it held its slot, ms, or -1 if it held none.
   */
  release(ticket: Ticket, nowMs: number): number {
    if (ticket.state === 'queued') {
      this.#lists[ticket.classIndex]!.remove(ticket);
      this.#queued -= 1;
      ticket.state = 'released';
      return -1;
    }
    if (ticket.state !== 'admitted') return -1;
    ticket.state = 'released';
    this.#inFlight -= 1;
    const heldMs = Math.max(0, nowMs - ticket.admittedAtMs);
    this.#serviceMs = Math.max(0.01, this.#serviceMs * 0.9 + heldMs * 0.1);
    this.pump(nowMs);
    return heldMs;
  }

  /**
   * The share of each class (by index, 0–1) to refuse on arrival with `busy` (the event-loop guard).
   * Waiters already queued keep their places. `random` decides each arrival (injected by tests).
   */
  setBusyFractions(fractions: ArrayLike<number>): void {
    assert.equal(fractions.length, classCount, 'one share per class');
    this.#anyBusy = false;
    for (let index = 0; index < classCount; index += 1) {
      const fraction = fractions[index]!;
      assert.ok(fraction >= 0 && fraction <= 1, 'a share between 0 and 1');
      this.#busy[index] = fraction;
      if (fraction > 0) this.#anyBusy = true;
    }
  }

  /**
   * The busy draw on its own, for the refusal written before the router (fast-refusal.ts): null when
   * the class is not being refused at all (no draw made: admit the request as usual), else the arrival
   * is counted and the answer is whether it is refused (counted as `busy`). A request it let through
   * is then admitted with `drawn` set, so it is neither counted nor drawn twice.
   */
  drawBusy(classIndex: number): boolean | null {
    if (!this.#anyBusy || this.#busy[classIndex] === 0) return null;
    this.arrivals += 1;
    if (!this.#refusedAsBusy(classIndex)) return false;
    this.#refuse(classIndex, 3);
    return true;
  }

  /** Whether any class is being refused in part (the guard is active). */
  get refusingAsBusy(): boolean {
    return this.#anyBusy;
  }

  /** Draws for an arrival of `classIndex` whether the busy share refuses it. */
  #refusedAsBusy(classIndex: number): boolean {
    const fraction = this.#busy[classIndex]!;
    return fraction >= 1 || (fraction > 0 && this.random() < fraction);
  }

  /** Calls of `acquire` and `precheck` since the event-loop guard last read (and zeroed) it. */
  arrivals = 0;

  /** The source of the busy draws; Math.random unless a test sets its own. */
  random: () => number = Math.random;

  /** A new limit from the adaptive estimate; a larger one lets waiters start at once. */
  setLimit(limit: number, nowMs: number): void {
    assert.ok(limit >= 1, 'a limit of at least one slot');
    this.#limit = limit;
    this.pump(nowMs);
  }

  /** Starts waiters while slots are free, highest class first; refuses those past their deadline. */
  pump(nowMs: number): void {
    this.expire(nowMs);
    while (this.#inFlight < this.#limit && this.#queued > 0) {
      const ticket = this.#highestWaiter()!;
      this.#lists[ticket.classIndex]!.remove(ticket);
      this.#queued -= 1;
      this.#codel(nowMs - ticket.enqueuedAtMs, nowMs);
      this.#admit(ticket, nowMs);
      ticket.onGrant?.(ticket);
    }
    if (this.#queued === 0) {
      // An empty queue is the end of any standing queue.
      this.#firstAboveAtMs = 0;
      this.#shedding = false;
    }
    if (this.#shedding) this.#shed(nowMs);
  }

  /** Refuses every waiter whose deadline has passed (the shell calls this from a timer). */
  expire(nowMs: number): void {
    for (let index = 0; index < classCount; index += 1) {
      const list = this.#lists[index]!;
      // Deadlines within a class grow with arrival, so only the heads can have expired.
      while (list.head && list.head.deadlineAtMs < nowMs) this.#drop(list.head, 'deadline');
      if (list.head && nowMs - list.head.enqueuedAtMs > this.#options.targetMs)
        this.#codel(nowMs - list.head.enqueuedAtMs, nowMs);
    }
    if (this.#shedding) this.#shed(nowMs);
  }

  /** The earliest deadline of any waiter, or null when none waits. */
  nextDeadlineMs(): number | null {
    let earliest: number | null = null;
    for (const list of this.#lists) {
      const head = list.head;
      if (head && (earliest === null || head.deadlineAtMs < earliest)) earliest = head.deadlineAtMs;
    }
    return earliest;
  }

  #admit(ticket: Ticket, nowMs: number): void {
    ticket.state = 'admitted';
    ticket.admittedAtMs = nowMs;
    this.#inFlight += 1;
    this.#admitted[ticket.classIndex]! += 1;
    const waitMs = nowMs - ticket.enqueuedAtMs;
    this.#waits[this.#waitCount % waitSamplesMax] = waitMs;
    this.#waitCount += 1;
    this.onWait?.(waitMs);
  }

  #refuse(classIndex: number, reasonIndex: number): RefusalReason {
    this.#refused[classIndex * REFUSAL_REASONS.length + reasonIndex]! += 1;
    return REFUSAL_REASONS[reasonIndex]!;
  }

  /** Refuses a waiter: counts it, takes it out, tells its request. */
  #drop(ticket: Ticket, reason: RefusalReason): void {
    this.#lists[ticket.classIndex]!.remove(ticket);
    this.#queued -= 1;
    ticket.state = 'refused';
    this.#refuse(ticket.classIndex, REFUSAL_REASONS.indexOf(reason));
    ticket.onRefuse?.(reason, this.retryAfterSeconds());
  }

  /**
   * A class at its share (or a full queue) gets a place only by taking it from a lower class: the
   * newest waiter of the lowest class below it is refused. Returns false when there is none.
   */
  #makeRoom(classIndex: number): boolean {
    for (let index = classCount - 1; index > classIndex; index -= 1) {
      const tail = this.#lists[index]!.tail;
      if (tail) {
        this.#drop(tail, 'shed');
        return true;
      }
    }
    return false;
  }

  #highestWaiter(): Ticket | null {
    for (const list of this.#lists) if (list.head) return list.head;
    return null;
  }

  /** CoDel's state from one waiter's sojourn: above target for a whole interval means shedding. */
  #codel(sojournMs: number, nowMs: number): void {
    if (sojournMs < this.#options.targetMs) {
      this.#firstAboveAtMs = 0;
      this.#shedding = false;
    } else if (this.#firstAboveAtMs === 0) {
      this.#firstAboveAtMs = nowMs + this.#options.intervalMs;
    } else if (nowMs >= this.#firstAboveAtMs) {
      this.#shedding = true;
    }
  }

  /** Sheds, lowest class first, every waiter whose expected start is past its deadline. */
  #shed(nowMs: number): void {
    const drainPerMs = this.#drainPerMs();
    for (let index = classCount - 1; index >= 0; index -= 1) {
      let ahead = 0;
      for (let higher = 0; higher < index; higher += 1) ahead += this.#lists[higher]!.length;
      let ticket = this.#lists[index]!.head;
      while (ticket) {
        const next = ticket.next;
        ahead += 1;
        if (nowMs + ahead / drainPerMs > ticket.deadlineAtMs) {
          this.#drop(ticket, 'shed');
          ahead -= 1;
        }
        ticket = next;
      }
    }
  }

  snapshot(): AdmissionSnapshot {
    const queued = {} as Record<PriorityClass, number>;
    const admitted = {} as Record<PriorityClass, number>;
    const refused = {} as Record<PriorityClass, Record<RefusalReason, number>>;
    PRIORITY_CLASSES.forEach((name, index) => {
      queued[name] = this.#lists[index]!.length;
      admitted[name] = this.#admitted[index]!;
      const byReason = {} as Record<RefusalReason, number>;
      REFUSAL_REASONS.forEach((reason, reasonIndex) => {
        byReason[reason] = this.#refused[index * REFUSAL_REASONS.length + reasonIndex]!;
      });
      refused[name] = byReason;
    });
    const waits = Array.from(this.#waits.subarray(0, Math.min(this.#waitCount, waitSamplesMax))).sort(
      (left, right) => left - right,
    );
    return {
      limit: this.#limit,
      inFlight: this.#inFlight,
      queued,
      admitted,
      refused,
      queueWaitMs: { p50: quantile(waits, 0.5), p99: quantile(waits, 0.99) },
      serviceMs: this.#serviceMs,
      drainPerSecond: this.#drainPerMs() * 1000,
      shedding: this.#shedding,
      busyRefusal: Object.fromEntries(
        PRIORITY_CLASSES.map((name, index) => [name, this.#busy[index]!]),
      ) as Record<PriorityClass, number>,
    };
  }
}

/** The nearest-rank quantile of sorted values (0 when empty). */
function quantile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

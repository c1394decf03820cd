/**
 * The node's overload admission (DESIGN §8), the fourth door every request passes (after rate limits,
 * connections and the waiting room). One `onRequest` hook classifies the request by its route
 * (`priority.ts`); exempt routes pass untouched; every other request takes a slot under the adaptive
 * limit at once, waits for one in the class-ordered queue, or is refused with 503 `OVERLOADED` and
 * `Retry-After`. A slot is given back exactly once: when the answer is sent, when the client goes away,
 * or when the request fails. Each answered request's handler time (from `preHandler` to `onSend`)
 * feeds the adaptive limit; the slot time (from admission to the end) sets the queue's drain rate.
 *
 * The refusal path allocates next to nothing and never awaits: the hook is synchronous (callback
 * style), the queue answers a reason string, and the answer's JSON body is built once per Retry-After
 * value and reused.
 */
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram } from 'prom-client';
import { BubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { AdaptiveLimit, adaptiveLimitDefaults } from './adaptive-limit.js';
import {
  type AdmissionSnapshot,
  AdmissionQueue,
  defaultShares,
  REFUSAL_REASONS,
  type Ticket,
} from './admission-queue.js';
import { EVENT_LOOP_WINDOW_MS, EventLoopGuard } from './event-loop-guard.js';
import { busyDrawn } from './fast-refusal.js';
import { PRIORITY_CLASSES, priorityOf, type PriorityClass } from './priority.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's admission slot or place in the queue; null for exempt and refused requests. */
    admissionTicket: Ticket | null;
    /** An upload's class index while its slot waits for the body (see `admitAfterBody`); else -1. */
    admissionDeferredClass: number;
  }
}

/** Routes that take an upload (their schema consumes multipart): they take a slot after the body. */
function isUploadRoute(request: FastifyRequest): boolean {
  const consumes = (request.routeOptions.schema as { consumes?: readonly string[] } | undefined)?.consumes;
  return consumes !== undefined && consumes.includes('multipart/form-data');
}

const retryAfterSecondsMax = 60;
const classIndexOf: Readonly<Record<PriorityClass, number>> = Object.fromEntries(
  PRIORITY_CLASSES.map((name, index) => [name, index]),
) as Record<PriorityClass, number>;

/** The node's admission: the adaptive limit, the queue, and the timer that expires waiters. */
export class Admission {
  readonly limit: AdaptiveLimit;
  readonly queue: AdmissionQueue;
  /** Monotonic milliseconds (tests of the pure parts inject their own times instead). */
  readonly now: () => number = () => performance.now();
  readonly #bodies: (string | undefined)[] = [];
  /** Null when turned off (BUBUH_ADMISSION_LOOP_DELAY_HIGH_MS=0). */
  readonly eventLoop: EventLoopGuard | null;
  #eventLoopTimer: NodeJS.Timeout | null = null;
  #stopDelay: () => void = () => {};
  #timer: NodeJS.Timeout | null = null;
  #timerAtMs = 0;

  constructor(node: BubuhNode) {
    const config = node.config;
    const minLimit = config.admissionLimitMin;
    const maxLimit = Math.max(minLimit, config.admissionLimitMax);
    this.limit = new AdaptiveLimit({
      ...adaptiveLimitDefaults,
      minLimit,
      maxLimit,
      initialLimit: config.admissionLimitInitial,
    });
    this.queue = new AdmissionQueue(
      {
        queueMax: config.admissionQueueMax,
        targetMs: config.admissionQueueTargetMs,
        intervalMs: config.admissionQueueIntervalMs,
        deadlineMs: {
          finishing: config.admissionDeadlineFinishingMs,
          stamp: config.admissionDeadlineStampMs,
          verify: config.admissionDeadlineVerifyMs,
          order: config.admissionDeadlineOrderMs,
          signup: config.admissionDeadlineSignupMs,
        },
        share: defaultShares,
        retryAfterSecondsMax,
      },
      this.limit.limit,
    );
    const delayHighMs = config.admissionLoopDelayHighMs;
    this.eventLoop =
      delayHighMs === 0
        ? null
        : new EventLoopGuard({
            busyHigh: config.admissionLoopBusyHigh / 100,
            busyLow: Math.min(config.admissionLoopBusyHigh, config.admissionLoopBusyLow) / 100,
            delayHighMs,
            delayLowMs: Math.min(delayHighMs, config.admissionLoopDelayLowMs),
          });
    if (this.eventLoop) this.#watchEventLoop(this.eventLoop);
  }

  /** Reads the main thread's worst delay every window and tells the queue what to refuse. */
  #watchEventLoop(guard: EventLoopGuard): void {
    const resolutionMs = 5;
    const delay = monitorEventLoopDelay({ resolution: resolutionMs });
    delay.enable();
    let previousLevel = 0;
    let lastUse: EventLoopUtilization = performance.eventLoopUtilization();
    this.#eventLoopTimer = setInterval(() => {
      const use = performance.eventLoopUtilization();
      const utilization = performance.eventLoopUtilization(use, lastUse).utilization;
      lastUse = use;
      // The histogram holds whole intervals between its timer's runs (ns; 0 when none ran): the delay
      // is what exceeds the resolution.
      const delayMs = Math.max(0, delay.max / 1e6 - resolutionMs);
      delay.reset();
      const arrivals = this.queue.arrivals;
      this.queue.arrivals = 0;
      const level = guard.observe({ arrivals, utilization, delayMs });
      if (level !== previousLevel) this.queue.setBusyFractions(guard.fractions);
      previousLevel = level;
    }, EVENT_LOOP_WINDOW_MS);
    this.#eventLoopTimer.unref();
    this.#stopDelay = () => delay.disable();
  }

  snapshot(): AdmissionSnapshot {
    return this.queue.snapshot();
  }

  /** The request ended: give back its slot (once), and learn from its time when it was answered. */
  finish(ticket: Ticket, answered: boolean): void {
    if (ticket.state !== 'admitted' && ticket.state !== 'queued') return;
    const nowMs = this.now();
    const inFlight = this.queue.inFlight;
    const heldMs = this.queue.release(ticket, nowMs);
    if (!answered || heldMs < 0) return this.armTimer();
    // The limit learns from the handler's own time: neither a slow upload before it nor a slow
    // download after it says anything about how busy this node is.
    const startedAtMs = ticket.handlerStartedAtMs || ticket.admittedAtMs;
    const readyAtMs = ticket.answerReadyAtMs || nowMs;
    if (this.limit.sample(Math.max(0, readyAtMs - startedAtMs), inFlight, nowMs)) {
      this.queue.setLimit(this.limit.limit, nowMs);
    }
    this.armTimer();
  }

  /** The bilingual 503 body for a Retry-After value, built once per value. */
  refusalBody(retryAfterSeconds: number): string {
    let body = this.#bodies[retryAfterSeconds];
    if (body === undefined) {
      body = JSON.stringify(new BubuhError('OVERLOADED', { retryAfterSeconds }).toBody());
      this.#bodies[retryAfterSeconds] = body;
    }
    return body;
  }

  /** Keeps one timer set to the earliest deadline of any waiter, so none waits past it. */
  armTimer(): void {
    const deadlineMs = this.queue.nextDeadlineMs();
    if (deadlineMs === null) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      return;
    }
    if (this.#timer && this.#timerAtMs <= deadlineMs) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAtMs = deadlineMs;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.queue.expire(this.now());
        this.armTimer();
      },
      Math.max(0, Math.ceil(deadlineMs - this.now()) + 1),
    );
    this.#timer.unref();
  }

  close(): void {
    if (this.#eventLoopTimer) clearInterval(this.#eventLoopTimer);
    this.#eventLoopTimer = null;
    this.#stopDelay();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

const admissions = new WeakMap<BubuhNode, Admission>();

/** The node's admission (one per node, built on first use), for the hooks, surge bench and dashboard. */
export function admissionOf(node: BubuhNode): Admission {
  let admission = admissions.get(node);
  if (!admission) {
    admission = new Admission(node);
    admissions.set(node, admission);
    registerMetrics(node, admission);
  }
  return admission;
}

function refuse(admission: Admission, reply: FastifyReply, retryAfterSeconds: number): void {
  reply
    .code(503)
    .header('retry-after', retryAfterSeconds)
    .header('content-type', 'application/json; charset=utf-8')
    .send(admission.refusalBody(retryAfterSeconds));
}

export function admissionRoutes(app: FastifyInstance, node: BubuhNode): void {
  const admission = admissionOf(node);
  app.decorateRequest('admissionTicket', null);
  app.decorateRequest('admissionDeferredClass', -1);

  app.addHook('onRequest', (request, reply, done) => {
    const priority = priorityOf(request.method, request.routeOptions.url);
    if (priority === 'exempt') return done();
    if (isUploadRoute(request)) {
      // A slow phone's upload must not hold a slot (nor teach the limit that the node is slow): the
      // slot is taken once the body is in. A node already full refuses now, before the upload.
      if (admission.queue.precheck(classIndexOf[priority], busyDrawn(request.raw)) !== null)
        return refuse(admission, reply, admission.queue.retryAfterSeconds());
      request.admissionDeferredClass = classIndexOf[priority];
      return done();
    }
    const outcome = admission.queue.acquire(classIndexOf[priority], admission.now(), busyDrawn(request.raw));
    if (typeof outcome === 'string') return refuse(admission, reply, admission.queue.retryAfterSeconds());
    request.admissionTicket = outcome;
    // 'close' of the response comes after it is sent or when the socket goes first: it covers aborts.
    reply.raw.once('close', () => admission.finish(outcome, false));
    if (outcome.state === 'admitted') return done();
    // Granted from inside another request's release: continue this one on its own turn.
    outcome.onGrant = () => queueMicrotask(done);
    outcome.onRefuse = (_reason, retryAfterSeconds) => refuse(admission, reply, retryAfterSeconds);
    admission.armTimer();
  });

  app.addHook('preHandler', (request, _reply, done) => {
    const ticket = request.admissionTicket;
    if (ticket) ticket.handlerStartedAtMs = admission.now();
    done();
  });

  // The slot is given back when the answer is ready, not when its last byte has left: a phone on a
  // slow link downloading its stamped file must not hold a slot the CPU could use.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const ticket = request.admissionTicket;
    if (ticket) {
      if (ticket.answerReadyAtMs === 0) ticket.answerReadyAtMs = admission.now();
      admission.finish(ticket, true);
    }
    done(null, payload);
  });

  app.addHook('onClose', (_instance, done) => {
    admission.close();
    done();
  });
}

function registerMetrics(node: BubuhNode, admission: Admission): void {
  const registers = [node.metrics.registry];
  node.metrics.gauge(
    'bubuh_admission_limit',
    'Requests the adaptive limit lets run at once.',
    () => admission.queue.limit,
  );
  node.metrics.gauge(
    'bubuh_admission_in_flight',
    'Requests holding an admission slot.',
    () => admission.queue.inFlight,
  );
  new Gauge({
    name: 'bubuh_admission_queue_depth',
    help: 'Requests waiting for an admission slot, by priority class.',
    labelNames: ['class'] as const,
    registers,
    collect() {
      const queued = admission.snapshot().queued;
      for (const name of PRIORITY_CLASSES) this.set({ class: name }, queued[name]);
    },
  });
  new Counter({
    name: 'bubuh_admission_admitted_total',
    help: 'Requests given an admission slot, by priority class.',
    labelNames: ['class'] as const,
    registers,
    collect() {
      const admitted = admission.snapshot().admitted;
      this.reset();
      for (const name of PRIORITY_CLASSES) this.inc({ class: name }, admitted[name]);
    },
  });
  new Counter({
    name: 'bubuh_admission_refused_total',
    help: 'Requests refused with 503 OVERLOADED, by priority class and reason (queue_full, deadline, shed, busy).',
    labelNames: ['class', 'reason'] as const,
    registers,
    collect() {
      const refused = admission.snapshot().refused;
      this.reset();
      for (const name of PRIORITY_CLASSES) {
        for (const reason of REFUSAL_REASONS) this.inc({ class: name, reason }, refused[name][reason]);
      }
    },
  });
  const wait = new Histogram({
    name: 'bubuh_admission_queue_wait_seconds',
    help: 'Time an admitted request waited for its slot (0 when admitted at once).',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers,
  });
  admission.queue.onWait = (waitMs) => wait.observe(waitMs / 1000);
}

/**
 * For an upload route: takes the request's admission slot now that its body is in (the route calls
 * this right after reading the upload). Resolves when admitted — at once, or after waiting its turn —
 * or throws 503 `OVERLOADED`. Other routes were admitted before their handler; for them it does nothing.
 */
export function admitAfterBody(request: FastifyRequest, reply: FastifyReply, node: BubuhNode): Promise<void> {
  const classIndex = request.admissionDeferredClass;
  if (classIndex < 0) return Promise.resolve();
  request.admissionDeferredClass = -1;
  const admission = admissionOf(node);
  // `precheck` made this request's busy draw before its body was read.
  const outcome = admission.queue.acquire(classIndex, admission.now(), true);
  if (typeof outcome === 'string') {
    return Promise.reject(
      new BubuhError('OVERLOADED', { retryAfterSeconds: admission.queue.retryAfterSeconds() }),
    );
  }
  request.admissionTicket = outcome;
  reply.raw.once('close', () => admission.finish(outcome, false));
  if (outcome.state === 'admitted') {
    outcome.handlerStartedAtMs = admission.now();
    return Promise.resolve();
  }
  admission.armTimer();
  return new Promise<void>((resolve, reject) => {
    outcome.onGrant = () => {
      outcome.handlerStartedAtMs = admission.now();
      resolve();
    };
    outcome.onRefuse = (_reason, retryAfterSeconds) =>
      reject(new BubuhError('OVERLOADED', { retryAfterSeconds }));
  });
}

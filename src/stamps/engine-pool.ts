/**
 * The bounded worker-thread pool that stamps (DESIGN §4: CPU work never runs on the event loop).
 *
 * Admission happens BEFORE a unit is reserved: a stamp is refused at once with `STAMP_BUSY` and
 * Retry-After when the queue is full or when the measured service time says it could not start
 * before its deadline — never held until the client gives up. A task that nevertheless waits past its
 * deadline is refused by the worker without being started, and the caller voids its reservation.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Config } from '../config.js';
import { BubuhError, type ErrorCode, type ErrorDetails } from '../errors.js';
import type { StampRequest, StampSummary } from '../stamping/stamp-document.js';
import type { VerificationReport } from '../verify/verify-document.js';

export interface EngineTask {
  /** Crosses to the worker by structured clone, which keeps `signingTime` a Date. */
  readonly request: StampRequest;
  /** Epoch ms after which the task must not start. */
  readonly deadline: number;
  readonly queuedAt: number;
  /**
   * The hour's directory in which the worker appends (and fsyncs) the stamped file to its segment
   * itself, sparing the main thread (stamps/segment-writer.ts).
   */
  readonly outputDirectory?: string;
  /** Send the stamped bytes back (only when the client asked for the PDF in the answer). */
  readonly returnPdf: boolean;
}

/**
 * What the pool answers: the result, whose `pdf` is empty unless asked for, and the file's size. The
 * parts (`original`, `appended`) stay in the worker, which writes them.
 */
export type EngineStampResult = StampSummary & {
  readonly fileBytes: number;
  /** `<segment>@<offset>` in `outputDirectory`, when one was given. */
  readonly fileLocation?: string;
  /** SHA-256 (hex) of the signer certificate the worker signed with; changes when it is renewed. */
  readonly signerFingerprint?: string;
};

export interface EngineStampOptions {
  readonly outputDirectory?: string;
  readonly returnPdf?: boolean;
  /**
   * Move `request.pdf` to the thread instead of copying it (the caller's view is empty afterwards),
   * when it is a whole ArrayBuffer of its own; a view into a larger buffer is copied as usual.
   */
  readonly transferPdf?: boolean;
}

export interface VerifyTask {
  readonly pdf: Uint8Array;
  readonly trustAnchors: readonly Uint8Array[];
  readonly crls: readonly Uint8Array[];
  readonly password?: string;
  readonly deadline: number;
}

export type EngineOutcome =
  | {
      readonly ok: true;
      readonly result: EngineStampResult;
      readonly queuedMs: number;
      /** Stamping time in the thread, without the file's write and fsync (`syncMs`). */
      readonly runMs: number;
      readonly syncMs: number;
    }
  | { readonly ok: false; readonly code: string; readonly details: ErrorDetails; readonly queuedMs: number };

export interface EnginePoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly running: number;
  /** Smoothed run time of one stamp in a worker, ms. */
  readonly serviceMs: number;
  readonly completed: number;
  readonly refusedBusy: number;
}

export interface EnginePool {
  /** Throws STAMP_BUSY unless a task submitted now could start before its deadline. */
  admit(): void;
  stamp(request: StampRequest, options?: EngineStampOptions): Promise<EngineStampResult>;
  /** Verifies offline in a worker; same admission and deadline as stamps. */
  verify(input: Omit<VerifyTask, 'deadline'>): Promise<VerificationReport>;
  stats(): EnginePoolStats;
  /** Queue wait, stamping time and the file's write-and-fsync time of finished stamps, for metrics. */
  onTiming?: (queuedMs: number, runMs: number, syncMs: number) => void;
  /**
   * A fault of the pool itself that belongs to no task (piscina's 'error' event: a worker failing
   * while idle, a message for a task it no longer knows). Logged; unhandled it would end the process.
   */
  onError?: (error: unknown) => void;
  close(): Promise<void>;
}

/** The ArrayBuffer `bytes` spans exactly, or null when it is a view into a larger (or shared) one. */
function wholeArrayBuffer(bytes: Uint8Array): ArrayBuffer | null {
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? buffer
    : null;
}

export function enginePoolThreads(config: Config): number {
  return config.stampWorkers > 0 ? config.stampWorkers : Math.max(1, availableParallelism());
}

export function createEnginePool(config: Config): EnginePool {
  const threads = enginePoolThreads(config);
  const pool = new Piscina({
    filename: new URL('./engine-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // While one stamped file is written and fsync'd on the thread pool, its thread stamps the next:
    // a thread holds one task stamping and the others waiting for their file's fsync.
    concurrentTasksPerWorker: config.stampTasksPerThread,
    maxQueue: config.stampQueueMax,
    idleTimeout: 60_000,
    workerData: { config },
    recordTiming: false,
    // Tasks reach a thread as messages on its event loop, not through piscina's default Atomics.wait,
    // which blocks the thread's loop whenever it holds no task: a stamping thread keeps work of its own
    // between tasks (its open segment's idle close, `segment-writer.ts`), which that wait would freeze.
    // Measured in three ABBA rounds of `bench:service` (docs/benchmarks.md): capacity ~5 % higher,
    // the same CPU a stamp in the open loop.
    atomics: 'disabled',
  });
  /** Tasks submitted and not yet finished: running (up to `threads`) and queued. */
  let inFlight = 0;
  let completed = 0;
  let refusedBusy = 0;
  // Until measured, assume a slow stamp so a cold pool does not over-admit.
  let serviceMs = 5;

  const busy = (waitMs: number): BubuhError => {
    refusedBusy += 1;
    return new BubuhError('STAMP_BUSY', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
  };

  pool.on('error', (error: unknown) => result.onError?.(error));

  const result: EnginePool = {
    admit() {
      const queued = Math.max(0, inFlight - threads);
      // A new task starts once every queued task ahead of it has had its turn on some thread.
      const waitMs = ((queued + 1) / threads) * serviceMs;
      if (queued >= config.stampQueueMax || waitMs > config.stampDeadlineMs) throw busy(waitMs);
    },
    async stamp(request, options = {}) {
      const queuedAt = Date.now();
      inFlight += 1;
      let outcome: EngineOutcome;
      try {
        // Plain properties, no spreads: an object literal with a spread is slow to build on Node 20.
        const task: EngineTask = {
          request,
          deadline: queuedAt + config.stampDeadlineMs,
          queuedAt,
          outputDirectory: options.outputDirectory,
          returnPdf: options.returnPdf ?? options.outputDirectory === undefined,
        };
        const movable = options.transferPdf === true ? wholeArrayBuffer(request.pdf) : null;
        outcome = await (movable === null ? pool.run(task) : pool.run(task, { transferList: [movable] }));
      } catch (error) {
        if (error instanceof Error && /queue is full/i.test(error.message)) throw busy(serviceMs);
        throw error;
      } finally {
        inFlight -= 1;
      }
      if (!outcome.ok) {
        if (outcome.code === 'STAMP_BUSY') refusedBusy += 1;
        // A fault in the worker is not a refusal: it leaves as a plain error (logged, answered 500).
        if (outcome.code === 'INTERNAL')
          throw new Error(`stamping worker: ${String(outcome.details['problem'])}`);
        throw new BubuhError(outcome.code as ErrorCode, outcome.details);
      }
      completed += 1;
      serviceMs = serviceMs * 0.9 + outcome.runMs * 0.1;
      result.onTiming?.(outcome.queuedMs, outcome.runMs, outcome.syncMs);
      return outcome.result;
    },
    async verify(input) {
      inFlight += 1;
      let outcome:
        { ok: true; report: VerificationReport } | { ok: false; code: string; details: ErrorDetails };
      try {
        outcome = await pool.run(
          { ...input, deadline: Date.now() + config.stampDeadlineMs },
          { name: 'verify' },
        );
      } catch (error) {
        if (error instanceof Error && /queue is full/i.test(error.message)) throw busy(serviceMs);
        throw error;
      } finally {
        inFlight -= 1;
      }
      if (!outcome.ok) throw new BubuhError(outcome.code as ErrorCode, outcome.details);
      return outcome.report;
    },
    stats() {
      return {
        threads,
        queued: Math.max(0, inFlight - threads),
        running: Math.min(inFlight, threads),
        serviceMs,
        completed,
        refusedBusy,
      };
    },
    async close() {
      await pool.close();
    },
  };
  return result;
}

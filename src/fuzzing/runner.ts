/**
 * Runs fuzz cases in a worker thread that the harness can kill: a case that does not answer within
 * `hangMs` is a `hang` (the worker is terminated and a fresh one started), a worker that exceeds its
 * heap limit is `out-of-memory`, a worker that dies otherwise is a `crash`. `runInProcess` runs the
 * same cases without a worker, for the short round CI runs as a test.
 */
import { Worker } from 'node:worker_threads';
import type { SeedInput } from './mutate.js';
import { mutateCase } from './mutate.js';
import { caseSeed } from './prng.js';
import type { CaseOptions, CaseResult, OutcomeClass } from './run-case.js';
import { describeError, runCase } from './run-case.js';
import type { StampEnvironment } from '../stamping/stamp-document.js';
import type { Failure } from './tally.js';
import { Tally } from './tally.js';
import type { WorkerMessage, WorkerSetup } from './worker-protocol.js';

export interface WorkerLimits {
  /** A case still running after this long is a hang. */
  readonly hangMs: number;
  readonly heapMbMax: number;
}

export const defaultWorkerLimits: WorkerLimits = Object.freeze({ hangMs: 5000, heapMbMax: 512 });

interface Started {
  readonly source: string;
  readonly edits: readonly string[];
}

interface Finished {
  readonly started: Started;
  readonly result: CaseResult;
}

const unknownStart: Started = { source: '(not started)', edits: [] };

/** One worker thread and the case it is running. */
class CaseWorker {
  private readonly worker: Worker;
  private started: Started = unknownStart;
  private settle: ((finished: Finished) => void) | null = null;
  private caseStartedMs = 0;
  private rejectReady: ((error: unknown) => void) | null = null;
  inputNames: readonly string[] = [];
  dead = false;
  readonly ready: Promise<void>;

  constructor(setup: WorkerSetup, limits: WorkerLimits) {
    this.worker = new Worker(new URL('./case-worker.js', import.meta.url), {
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMbMax },
    });
    this.ready = new Promise((resolve, reject) => {
      this.rejectReady = reject;
      this.worker.on('error', (error) => this.die(error));
      this.worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          this.inputNames = message.inputNames;
          this.rejectReady = null;
          resolve();
        } else if (message.type === 'start') {
          this.started = { source: message.source, edits: message.edits };
        } else {
          this.finish(message.result);
        }
      });
    });
    this.worker.on('exit', (code) => this.die(new Error(`the worker exited with code ${code}`)));
  }

  run(seed: number, hangMs: number): Promise<Finished> {
    this.started = unknownStart;
    this.caseStartedMs = performance.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.finish(this.failure('hang', `no answer after ${hangMs} ms; the worker was terminated`));
        void this.terminate();
      }, hangMs);
      this.settle = (finished) => {
        clearTimeout(timer);
        resolve(finished);
      };
      this.worker.postMessage(seed);
    });
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.worker.terminate();
  }

  private failure(outcome: OutcomeClass, problem: string): CaseResult {
    const elapsedMs = performance.now() - this.caseStartedMs;
    return { outcome, code: null, problem, elapsedMs, normalised: false };
  }

  private die(error: unknown): void {
    const wasDead = this.dead;
    this.dead = true;
    // A worker that dies before it is ready (e.g. a corpus file it cannot read) stops the run.
    this.rejectReady?.(error);
    this.rejectReady = null;
    if (wasDead && this.settle === null) return;
    const outOfMemory = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.finish(this.failure(outOfMemory ? 'out-of-memory' : 'crash', describeError(error)));
  }

  private finish(result: CaseResult): void {
    const settle = this.settle;
    this.settle = null;
    settle?.({ started: this.started, result });
  }
}

export interface FuzzRun {
  readonly setup: WorkerSetup;
  readonly limits: WorkerLimits;
  readonly seeds: Iterable<number>;
  /** Stop starting cases after this time (the running case still finishes). */
  readonly deadlineMs?: number;
  readonly onReady?: (inputNames: readonly string[]) => void;
  /** Called before each case, e.g. to log seeds when a case takes the whole process down. */
  readonly onStart?: (seed: number) => void;
  readonly onCase?: (tally: Tally) => void;
  readonly onFailure?: (failure: Failure) => void;
}

export async function runInWorkers(run: FuzzRun): Promise<Tally> {
  const tally = new Tally();
  let worker: CaseWorker | null = null;
  for (const seed of run.seeds) {
    if (run.deadlineMs !== undefined && performance.now() > run.deadlineMs) break;
    if (worker === null || worker.dead) {
      worker = new CaseWorker(run.setup, run.limits);
      await worker.ready;
      if (tally.cases === 0) run.onReady?.(worker.inputNames);
    }
    run.onStart?.(seed);
    const finished = await worker.run(seed, run.limits.hangMs);
    const failure = tally.add(seed, finished.started.source, finished.started.edits, finished.result);
    if (failure !== null) run.onFailure?.(failure);
    run.onCase?.(tally);
  }
  if (worker !== null && !worker.dead) await worker.terminate();
  return tally;
}

/** The same cases in this thread: no protection from hangs, for a short deterministic round. */
export async function runInProcess(
  seeds: Iterable<number>,
  inputs: readonly SeedInput[],
  environment: StampEnvironment,
  options: CaseOptions,
): Promise<Tally> {
  const tally = new Tally();
  for (const seed of seeds) {
    const mutated = mutateCase(seed, inputs);
    const result = await runCase(mutated.bytes, environment, options);
    tally.add(seed, mutated.source, mutated.edits, result);
  }
  return tally;
}

/** Case seeds `caseSeed(runSeed, 0..count-1)`; `count` may be infinite for a timed run. */
export function* caseSeeds(runSeed: number, count: number): Generator<number> {
  for (let index = 0; index < count; index += 1) yield caseSeed(runSeed, index);
}

/**
 * Checkpoints of the embedded database off the event loop.
 *
 * In WAL mode SQLite copies the WAL back into the database file (a checkpoint) from inside the commit
 * that crosses `wal_autocheckpoint`, on the connection that committed — here the main thread, which
 * better-sqlite3 runs synchronously: copying tens of MB and syncing the file stopped every request for
 * 40–80 ms, about every two seconds at stamping capacity (docs/benchmarks.md). This thread holds a
 * second connection to the same file and runs a PASSIVE checkpoint every `intervalMs`. A PASSIVE
 * checkpoint takes no write lock, so commits go on while it copies; the main connection's own
 * automatic checkpoint stays as a backstop, and when it comes it finds almost every frame already
 * copied. Durability is unchanged: commits are durable in the WAL (`wal-sync.ts`) before anyone is
 * answered, and a checkpoint syncs the WAL before it copies and the database file after.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointFailure, CheckpointReport } from './checkpoint-worker.js';

export interface CheckpointerStats {
  /** Checkpoints run. */
  readonly checkpoints: number;
  /** WAL frames the last checkpoint left uncopied (committed while it ran). */
  readonly lastLeft: number;
  readonly failures: number;
}

export class Checkpointer {
  readonly #worker: Worker;
  #stats: CheckpointerStats = { checkpoints: 0, lastLeft: 0, failures: 0 };
  #closed: Promise<void> | null = null;
  #exited = false;

  /** `onFailure` hears of a failed checkpoint (the next one tries again), with the failures so far. */
  constructor(
    file: string,
    intervalMs: number,
    onFailure: (message: string, failures: number) => void = () => {},
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new Error(`Checkpointer: interval ${intervalMs} ms is not a positive integer`);
    }
    this.#worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { file, intervalMs },
    });
    const failed = (problem: string) => {
      this.#stats = { ...this.#stats, failures: this.#stats.failures + 1 };
      onFailure(problem, this.#stats.failures);
    };
    this.#worker.on('message', (message: CheckpointReport | CheckpointFailure) => {
      if (message.type === 'checkpoint') {
        this.#stats = { ...this.#stats, checkpoints: this.#stats.checkpoints + 1, lastLeft: message.left };
      } else {
        failed(message.message);
      }
    });
    this.#worker.on('error', (error) => failed(error.message));
    this.#worker.once('exit', () => {
      this.#exited = true;
    });
    // The thread never keeps a process alive that has nothing else to do.
    this.#worker.unref();
  }

  get stats(): CheckpointerStats {
    return this.#stats;
  }

  /** Stops the checkpoints and closes the thread's connection. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      if (this.#exited) return resolve();
      const timer = setTimeout(() => void this.#worker.terminate(), 5000);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#worker.postMessage('close');
    });
    return this.#closed;
  }
}

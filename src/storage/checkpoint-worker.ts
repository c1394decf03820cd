/**
 * The embedded database's checkpointer thread (`checkpointer.ts`): its own connection to the same
 * file, running a PASSIVE checkpoint every `intervalMs`. A PASSIVE checkpoint copies the WAL's frames
 * into the database file and syncs it without taking the write lock, so the main thread's commits go
 * on meanwhile; only frames committed before it started are copied, and the next one takes the rest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

interface CheckpointerData {
  readonly file: string;
  readonly intervalMs: number;
}

export interface CheckpointReport {
  readonly type: 'checkpoint';
  /** WAL frames not yet in the database file afterwards (committed while it ran, or in use). */
  readonly left: number;
}

export interface CheckpointFailure {
  readonly type: 'failure';
  readonly message: string;
}

const { file, intervalMs } = workerData as CheckpointerData;
const database = new SqliteDatabase(file, { fileMustExist: true, timeout: 0 });

const timer = setInterval(() => {
  try {
    const [result] = database.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    if (!result) return;
    const report: CheckpointReport = {
      type: 'checkpoint',
      left: Math.max(0, result.log - result.checkpointed),
    };
    parentPort?.postMessage(report);
  } catch (error) {
    const failure: CheckpointFailure = {
      type: 'failure',
      message: error instanceof Error ? error.message : String(error),
    };
    parentPort?.postMessage(failure);
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  clearInterval(timer);
  database.close();
  parentPort?.close();
});

/**
 * One ledger batch is one durable transaction on whichever database the node runs: prepared
 * statements on SQLite (`store-sqlite.ts`), array-parameter statements on PostgreSQL
 * (`store-postgres.ts`). Both load the rows the batch names, let the pure rules decide, and write the
 * difference; the rules and the batch steps they share live in `batch.ts` and `rules.ts`.
 */
import { type Storage, withSqliteConnection } from '../storage/database.js';
import type { BatchOutcome, LedgerOperation } from './batch.js';
import { commitPostgresBatch } from './store-postgres.js';
import { commitSqliteBatch, sqliteStatements } from './store-sqlite.js';

export interface CommitDurability {
  /**
   * SQLite: false resolves once the transaction has committed, before the WAL's fsync; the caller
   * then waits for `storage.settle()` before answering anyone who needs the batch durable.
   */
  readonly settle: boolean;
  /** PostgreSQL: false commits with `synchronous_commit = off` (only when nobody in it needs durability). */
  readonly synchronous: boolean;
}

export async function commitBatch(
  storage: Storage,
  operations: readonly LedgerOperation[],
  nowMs: number,
  timestampLast: number,
  durability: CommitDurability = { settle: true, synchronous: true },
): Promise<BatchOutcome> {
  if (storage.sqlite) {
    return withSqliteConnection(
      storage,
      (database) => commitSqliteBatch(sqliteStatements(database), operations, nowMs, timestampLast),
      { settle: durability.settle },
    );
  }
  return commitPostgresBatch(storage, operations, nowMs, timestampLast, durability.synchronous);
}

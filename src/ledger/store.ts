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

export async function commitBatch(
  storage: Storage,
  operations: readonly LedgerOperation[],
  nowMs: number,
  timestampLast: number,
): Promise<BatchOutcome> {
  if (storage.sqlite) {
    return withSqliteConnection(storage, (database) =>
      commitSqliteBatch(sqliteStatements(database), operations, nowMs, timestampLast),
    );
  }
  return commitPostgresBatch(storage, operations, nowMs, timestampLast);
}

/**
 * Reads and writes the rows one ledger batch touches. One call of `commitBatch` is one durable
 * transaction: load (and on PostgreSQL lock, in a fixed order) the accounts, transfers and pending
 * states the batch refers to; let the pure rules decide; write the difference with a handful of
 * set-based statements whatever the batch size.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type Storage, withSqliteConnection, withWriteTransaction } from '../storage/database.js';
import { type AttachmentTable, attachmentTables, type Database } from '../storage/schema.js';
import {
  accountFromRow,
  applyOperations,
  type BatchOutcome,
  collectIds,
  expiryLimitOf,
  followPending,
  type LedgerOperation,
  pendingFromRow,
  transferFromRow,
} from './batch.js';
import { BatchState } from './rules.js';
import { commitSqliteBatch, sqliteStatements } from './store-sqlite.js';

import { transferKinds } from './types.js';

type Executor = Kysely<Database>;

/** SQLite allows 32766 bound parameters per statement; stay well below it. */
const rowsPerStatementMax = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

async function loadTransfers(db: Executor, ids: readonly string[], state: BatchState): Promise<void> {
  for (const part of chunks(ids, rowsPerStatementMax)) {
    const rows = await db.selectFrom('ledger_transfers').selectAll().where('id', 'in', part).execute();
    for (const row of rows) state.transfers.set(row.id, transferFromRow(row));
  }
}

async function loadAccounts(db: Executor, ids: readonly string[], state: BatchState, lock: boolean) {
  for (const part of chunks(ids, rowsPerStatementMax)) {
    let query = db.selectFrom('ledger_accounts').selectAll().where('id', 'in', part).orderBy('id');
    if (lock) query = query.forUpdate();
    for (const row of await query.execute()) state.accounts.set(row.id, accountFromRow(row));
  }
}

async function loadPending(db: Executor, ids: readonly string[], state: BatchState, lock: boolean) {
  for (const part of chunks(ids, rowsPerStatementMax)) {
    let query = db.selectFrom('ledger_pending').selectAll().where('id', 'in', part).orderBy('id');
    if (lock) query = query.forUpdate();
    for (const row of await query.execute()) state.pending.set(row.id, pendingFromRow(row));
  }
}

async function findExpiryCandidates(db: Executor, nowMs: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('ledger_pending')
    .select('id')
    .where('status', '=', 'pending')
    .where('expires_at', '<=', nowMs)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Loads every row the operations can touch. Lock order is always accounts (sorted by id), then pending
 * states (sorted by id), on every node and every path, so concurrent batches cannot deadlock.
 */
async function loadBatch(
  db: Executor,
  storage: Storage,
  operations: readonly LedgerOperation[],
  state: BatchState,
  expiryCandidates: readonly string[],
): Promise<void> {
  const named = collectIds(operations, expiryCandidates);
  await loadTransfers(db, named.transferIds, state);
  const followed = followPending(state, named.accountIds);
  const lock = storage.capabilities.supportsRowLocks;
  await loadAccounts(db, followed.accountIds, state, lock);
  await loadPending(db, followed.pendingIds, state, lock);
  await loadAttachmentKeys(db, named.attachmentKeys, state);
}

async function loadAttachmentKeys(db: Executor, keys: Map<AttachmentTable, string[]>, state: BatchState) {
  for (const [table, values] of keys) {
    const column = attachmentTables[table].key;
    for (const part of chunks(values, rowsPerStatementMax)) {
      const rows = await sql<{ key: string }>`select ${sql.ref(column)} as key from ${sql.table(table)}
        where ${sql.ref(column)} in (${sql.join(part)})`.execute(db);
      for (const row of rows.rows) state.attachmentKeys.add(`${table}:${row.key}`);
    }
  }
}

async function writeAttachments(db: Executor, state: BatchState): Promise<void> {
  for (const attachment of state.createdAttachments) {
    const columns = attachmentTables[attachment.table].columns;
    const values = columns.map((column) => attachment.row[column] ?? null);
    await sql`insert into ${sql.table(attachment.table)} (${sql.join(columns.map((column) => sql.ref(column)))})
      values (${sql.join(values)})`.execute(db);
  }
}

function valuesList(rows: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return sql`(values ${sql.join(rows)})`;
}

async function writeAccounts(db: Executor, state: BatchState): Promise<void> {
  const created = [...state.createdAccounts].map((id) => state.accounts.get(id)!);
  for (const part of chunks(created, rowsPerStatementMax)) {
    await db
      .insertInto('ledger_accounts')
      .values(
        part.map((account) => ({
          id: account.id,
          ledger: account.ledger,
          code: account.code,
          flags: account.flags,
          debits_pending: account.debitsPending,
          debits_posted: account.debitsPosted,
          credits_pending: account.creditsPending,
          credits_posted: account.creditsPosted,
          timestamp: account.timestamp,
        })),
      )
      .execute();
  }
  const updated = [...state.touchedAccounts].filter((id) => !state.createdAccounts.has(id));
  for (const part of chunks(updated, rowsPerStatementMax)) {
    const rows = part.map((id) => {
      const account = state.accounts.get(id)!;
      return sql`(${id}, cast(${account.debitsPending} as bigint), cast(${account.debitsPosted} as bigint), cast(${account.creditsPending} as bigint), cast(${account.creditsPosted} as bigint))`;
    });
    await sql`update ledger_accounts set debits_pending = v.column2, debits_posted = v.column3,
      credits_pending = v.column4, credits_posted = v.column5
      from ${valuesList(rows)} as v where ledger_accounts.id = v.column1`.execute(db);
  }
}

async function writeTransfers(db: Executor, state: BatchState): Promise<void> {
  for (const part of chunks(state.createdTransfers, rowsPerStatementMax)) {
    await db
      .insertInto('ledger_transfers')
      .values(
        part.map((transfer) => ({
          id: transfer.id,
          debit_account_id: transfer.debitAccountId,
          credit_account_id: transfer.creditAccountId,
          amount: transfer.amount,
          pending_id: transfer.pendingId,
          ledger: transfer.ledger,
          code: transfer.code,
          kind: transferKinds[transfer.kind],
          timeout_s: transfer.timeoutSeconds,
          timestamp: transfer.timestamp,
        })),
      )
      .execute();
  }
}

async function writePending(db: Executor, state: BatchState): Promise<void> {
  const created = [...state.createdPending].map((id) => state.pending.get(id)!);
  for (const part of chunks(created, rowsPerStatementMax)) {
    await db
      .insertInto('ledger_pending')
      .values(
        part.map((pending) => ({
          id: pending.id,
          status: pending.status,
          expires_at: pending.expiresAt,
          resolved_by: pending.resolvedBy,
          resolved_at: pending.resolvedAt,
        })),
      )
      .execute();
  }
  const resolved = [...state.resolvedPending].map((id) => state.pending.get(id)!);
  for (const part of chunks(resolved, rowsPerStatementMax)) {
    const rows = part.map(
      (pending) =>
        sql`(${pending.id}, ${pending.status}, ${pending.resolvedBy}, cast(${pending.resolvedAt} as bigint))`,
    );
    await sql`update ledger_pending set status = v.column2, resolved_by = v.column3, resolved_at = v.column4
      from ${valuesList(rows)} as v where ledger_pending.id = v.column1 and ledger_pending.status = 'pending'`.execute(
      db,
    );
  }
}

/** Applies operations in order inside one durable transaction; returns each operation's own result. */
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
  return withWriteTransaction(storage, async (db) => {
    const expiryLimit = expiryLimitOf(operations);
    const candidates = expiryLimit > 0 ? await findExpiryCandidates(db, nowMs, expiryLimit) : [];
    const state = new BatchState(nowMs, timestampLast);
    await loadBatch(db, storage, operations, state, candidates);
    const results = applyOperations(state, operations, candidates);
    await writeAccounts(db, state);
    await writeTransfers(db, state);
    await writePending(db, state);
    await writeAttachments(db, state);
    return { results, lastTimestamp: state.lastTimestamp, transfersCreated: state.createdTransfers.length };
  });
}

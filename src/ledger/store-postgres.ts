/**
 * The PostgreSQL ledger store. Every statement has constant text and takes whole columns as array
 * parameters (`= any($1)`, `unnest(...)`), so a 64-transfer batch is the same six statements as a
 * one-transfer batch — no per-row placeholders for the server to parse and plan, and no parameter
 * limit. Lock order is always accounts (sorted by id), then pending states (sorted by id), on every
 * node and every path, so concurrent batches cannot deadlock.
 */
import { type Kysely, sql } from 'kysely';
import { type Storage, withWriteTransaction } from '../storage/database.js';
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
import { transferKinds } from './types.js';

type Executor = Kysely<Database>;

async function loadRows(
  db: Executor,
  operations: readonly LedgerOperation[],
  state: BatchState,
  candidates: readonly string[],
) {
  const named = collectIds(operations, candidates);
  if (named.transferIds.length > 0) {
    const transfers = await sql<Database['ledger_transfers']>`select * from ledger_transfers
      where id = any(${named.transferIds}::text[])`.execute(db);
    for (const row of transfers.rows) state.transfers.set(row.id, transferFromRow(row));
  }
  const followed = followPending(state, named.accountIds);
  if (followed.accountIds.length > 0) {
    const accounts = await sql<Database['ledger_accounts']>`select * from ledger_accounts
      where id = any(${followed.accountIds}::text[]) order by id for update`.execute(db);
    for (const row of accounts.rows) state.accounts.set(row.id, accountFromRow(row));
  }
  if (followed.pendingIds.length > 0) {
    const pending = await sql<Database['ledger_pending']>`select * from ledger_pending
      where id = any(${followed.pendingIds}::text[]) order by id for update`.execute(db);
    for (const row of pending.rows) state.pending.set(row.id, pendingFromRow(row));
  }
  for (const [table, keys] of named.attachmentKeys) {
    const column = sql.ref(attachmentTables[table].key);
    const rows = await sql<{ key: string }>`select ${column} as key from ${sql.table(table)}
      where ${column} = any(${keys}::text[])`.execute(db);
    for (const row of rows.rows) state.attachmentKeys.add(`${table}:${row.key}`);
  }
}

async function writeAccounts(db: Executor, state: BatchState): Promise<void> {
  const created = [...state.createdAccounts].map((id) => state.accounts.get(id)!);
  if (created.length > 0) {
    const column = <K extends keyof (typeof created)[number]>(key: K) =>
      created.map((account) => account[key]);
    await sql`insert into ledger_accounts
      (id, ledger, code, flags, debits_pending, debits_posted, credits_pending, credits_posted, last_transfer_id, timestamp)
      select * from unnest(${column('id')}::text[], ${column('ledger')}::integer[], ${column('code')}::integer[],
        ${column('flags')}::integer[], ${column('debitsPending')}::bigint[], ${column('debitsPosted')}::bigint[],
        ${column('creditsPending')}::bigint[], ${column('creditsPosted')}::bigint[], ${column('lastTransferId')}::text[], ${column('timestamp')}::bigint[])`.execute(
      db,
    );
  }
  const updated = [...state.touchedAccounts]
    .filter((id) => !state.createdAccounts.has(id))
    .map((id) => state.accounts.get(id)!);
  if (updated.length > 0) {
    const column = <K extends keyof (typeof updated)[number]>(key: K) =>
      updated.map((account) => account[key]);
    await sql`update ledger_accounts as a set debits_pending = v.debits_pending, debits_posted = v.debits_posted,
        credits_pending = v.credits_pending, credits_posted = v.credits_posted, last_transfer_id = v.last_transfer_id
      from unnest(${column('id')}::text[], ${column('debitsPending')}::bigint[], ${column('debitsPosted')}::bigint[],
        ${column('creditsPending')}::bigint[], ${column('creditsPosted')}::bigint[], ${column('lastTransferId')}::text[])
        as v(id, debits_pending, debits_posted, credits_pending, credits_posted, last_transfer_id)
      where a.id = v.id`.execute(db);
  }
}

async function writeTransfers(db: Executor, state: BatchState): Promise<void> {
  const transfers = state.createdTransfers;
  if (transfers.length === 0) return;
  const column = <K extends keyof (typeof transfers)[number]>(key: K) =>
    transfers.map((transfer) => transfer[key]);
  await sql`insert into ledger_transfers
    (id, debit_account_id, credit_account_id, amount, pending_id, ledger, code, kind, timeout_s, timestamp,
      debit_previous_id, credit_previous_id)
    select * from unnest(${column('id')}::text[], ${column('debitAccountId')}::text[],
      ${column('creditAccountId')}::text[], ${column('amount')}::bigint[], ${column('pendingId')}::text[],
      ${column('ledger')}::integer[], ${column('code')}::integer[],
      ${transfers.map((transfer) => transferKinds[transfer.kind])}::integer[], ${column('timeoutSeconds')}::integer[],
      ${column('timestamp')}::bigint[], ${column('debitPreviousId')}::text[],
      ${column('creditPreviousId')}::text[])`.execute(db);
}

async function writePending(db: Executor, state: BatchState): Promise<void> {
  const created = [...state.createdPending].map((id) => state.pending.get(id)!);
  if (created.length > 0) {
    const column = <K extends keyof (typeof created)[number]>(key: K) =>
      created.map((pending) => pending[key]);
    await sql`insert into ledger_pending (id, status, expires_at, resolved_by, resolved_at)
      select * from unnest(${column('id')}::text[], ${column('status')}::text[], ${column('expiresAt')}::bigint[],
        ${column('resolvedBy')}::text[], ${column('resolvedAt')}::bigint[])`.execute(db);
  }
  const resolved = [...state.resolvedPending].map((id) => state.pending.get(id)!);
  if (resolved.length > 0) {
    const column = <K extends keyof (typeof resolved)[number]>(key: K) =>
      resolved.map((pending) => pending[key]);
    const result = await sql`update ledger_pending as p set status = v.status, resolved_by = v.resolved_by,
        resolved_at = v.resolved_at
      from unnest(${column('id')}::text[], ${column('status')}::text[], ${column('resolvedBy')}::text[],
        ${column('resolvedAt')}::bigint[]) as v(id, status, resolved_by, resolved_at)
      where p.id = v.id and p.status = 'pending'`.execute(db);
    if (Number(result.numAffectedRows) !== resolved.length) {
      throw new Error('ledger invariant violated: a pending transfer was not pending when resolved');
    }
  }
}

async function writeAttachments(db: Executor, state: BatchState): Promise<void> {
  const byTable = new Map<AttachmentTable, (typeof state.createdAttachments)[number][]>();
  for (const attachment of state.createdAttachments) {
    byTable.set(attachment.table, [...(byTable.get(attachment.table) ?? []), attachment]);
  }
  for (const [table, rows] of byTable) {
    const { columns, types } = attachmentTables[table];
    const arrays = columns.map(
      (column, index) => sql`${rows.map((row) => row.row[column] ?? null)}::${sql.raw(types[index]!)}[]`,
    );
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))})
      select * from unnest(${sql.join(arrays)})`.execute(db);
  }
}

/**
 * One PostgreSQL transaction for the batch: durable when it returns, unless `synchronous` is false —
 * then its commit does not wait for the WAL flush, and the next synchronous commit (of any session)
 * makes it durable with everything before it.
 */
export async function commitPostgresBatch(
  storage: Storage,
  operations: readonly LedgerOperation[],
  nowMs: number,
  timestampLast: number,
  synchronous = true,
): Promise<BatchOutcome> {
  return withWriteTransaction(storage, async (db) => {
    if (!synchronous) await sql`set local synchronous_commit = off`.execute(db);
    const expiryLimit = expiryLimitOf(operations);
    const candidates =
      expiryLimit > 0
        ? (
            await sql<{ id: string }>`select id from ledger_pending where status = 'pending'
              and expires_at <= ${nowMs} order by expires_at limit ${expiryLimit}`.execute(db)
          ).rows.map((row) => row.id)
        : [];
    const state = new BatchState(nowMs, timestampLast);
    await loadRows(db, operations, state, candidates);
    const results = applyOperations(state, operations, candidates);
    await writeAccounts(db, state);
    await writeTransfers(db, state);
    await writePending(db, state);
    await writeAttachments(db, state);
    return { results, lastTimestamp: state.lastTimestamp, transfersCreated: state.createdTransfers.length };
  });
}

/**
 * The embedded database's ledger store: the same batch as the Kysely store, run synchronously with
 * prepared statements cached per database handle. Why not Kysely here: its SQLite driver prepares
 * every statement again on every call, and a 64-transfer batch spent more time preparing and
 * compiling its multi-row statements than SQLite spent executing them. The caller holds Kysely's
 * connection lock (`withSqliteConnection`), so no Kysely transaction is open meanwhile.
 */
import type SqliteDatabase from 'better-sqlite3';
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

export interface SqliteStatements {
  readonly database: SqliteDatabase.Database;
  readonly selectTransfer: SqliteDatabase.Statement<[string], Database['ledger_transfers']>;
  readonly selectAccount: SqliteDatabase.Statement<[string], Database['ledger_accounts']>;
  readonly selectPending: SqliteDatabase.Statement<[string], Database['ledger_pending']>;
  readonly selectExpiryCandidates: SqliteDatabase.Statement<[number, number], { id: string }>;
  readonly insertAccount: SqliteDatabase.Statement<unknown[]>;
  readonly updateAccount: SqliteDatabase.Statement<unknown[]>;
  readonly insertTransfer: SqliteDatabase.Statement<unknown[]>;
  readonly insertPending: SqliteDatabase.Statement<unknown[]>;
  readonly resolvePending: SqliteDatabase.Statement<unknown[]>;
}

const cache = new WeakMap<SqliteDatabase.Database, SqliteStatements>();
const attachmentStatements = new WeakMap<
  SqliteDatabase.Database,
  Map<string, { select: SqliteDatabase.Statement<[string]>; insert: SqliteDatabase.Statement<unknown[]> }>
>();

/** Prepared statements of one attachment table (names come from the fixed `attachmentTables`). */
function attachmentStatementsFor(database: SqliteDatabase.Database, table: AttachmentTable) {
  let byTable = attachmentStatements.get(database);
  if (!byTable) {
    byTable = new Map();
    attachmentStatements.set(database, byTable);
  }
  let statements = byTable.get(table);
  if (!statements) {
    const { key, columns } = attachmentTables[table];
    statements = {
      select: database.prepare(`select 1 from ${table} where ${key} = ?`),
      insert: database.prepare(
        `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
      ),
    };
    byTable.set(table, statements);
  }
  return statements;
}

export function sqliteStatements(database: SqliteDatabase.Database): SqliteStatements {
  const cached = cache.get(database);
  if (cached) return cached;
  const statements: SqliteStatements = {
    database,
    selectTransfer: database.prepare('select * from ledger_transfers where id = ?'),
    selectAccount: database.prepare('select * from ledger_accounts where id = ?'),
    selectPending: database.prepare('select * from ledger_pending where id = ?'),
    selectExpiryCandidates: database.prepare(
      "select id from ledger_pending where status = 'pending' and expires_at <= ? order by expires_at limit ?",
    ),
    insertAccount: database.prepare(
      'insert into ledger_accounts (id, ledger, code, flags, debits_pending, debits_posted, credits_pending, credits_posted, last_transfer_id, timestamp) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateAccount: database.prepare(
      'update ledger_accounts set debits_pending = ?, debits_posted = ?, credits_pending = ?, credits_posted = ?, last_transfer_id = ? where id = ?',
    ),
    insertTransfer: database.prepare(
      'insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, ledger, code, kind, timeout_s, timestamp, debit_previous_id, credit_previous_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertPending: database.prepare(
      'insert into ledger_pending (id, status, expires_at, resolved_by, resolved_at) values (?, ?, ?, ?, ?)',
    ),
    resolvePending: database.prepare(
      "update ledger_pending set status = ?, resolved_by = ?, resolved_at = ? where id = ? and status = 'pending'",
    ),
  };
  cache.set(database, statements);
  return statements;
}

function loadRows(
  statements: SqliteStatements,
  state: BatchState,
  operations: readonly LedgerOperation[],
  candidates: readonly string[],
) {
  const named = collectIds(operations, candidates);
  for (const id of named.transferIds) {
    const row = statements.selectTransfer.get(id);
    if (row) state.transfers.set(row.id, transferFromRow(row));
  }
  const followed = followPending(state, named.accountIds);
  for (const id of followed.accountIds) {
    const row = statements.selectAccount.get(id);
    if (row) state.accounts.set(row.id, accountFromRow(row));
  }
  for (const id of followed.pendingIds) {
    const row = statements.selectPending.get(id);
    if (row) state.pending.set(row.id, pendingFromRow(row));
  }
  for (const [table, keys] of named.attachmentKeys) {
    const select = attachmentStatementsFor(statements.database, table).select;
    for (const key of keys) if (select.get(key)) state.attachmentKeys.add(`${table}:${key}`);
  }
}

function writeRows(statements: SqliteStatements, state: BatchState): void {
  for (const id of state.createdAccounts) {
    const a = state.accounts.get(id)!;
    statements.insertAccount.run(
      a.id,
      a.ledger,
      a.code,
      a.flags,
      a.debitsPending,
      a.debitsPosted,
      a.creditsPending,
      a.creditsPosted,
      a.lastTransferId,
      a.timestamp,
    );
  }
  for (const id of state.touchedAccounts) {
    if (state.createdAccounts.has(id)) continue;
    const a = state.accounts.get(id)!;
    statements.updateAccount.run(
      a.debitsPending,
      a.debitsPosted,
      a.creditsPending,
      a.creditsPosted,
      a.lastTransferId,
      id,
    );
  }
  for (const t of state.createdTransfers) {
    statements.insertTransfer.run(
      t.id,
      t.debitAccountId,
      t.creditAccountId,
      t.amount,
      t.pendingId,
      t.ledger,
      t.code,
      transferKinds[t.kind],
      t.timeoutSeconds,
      t.timestamp,
      t.debitPreviousId,
      t.creditPreviousId,
    );
  }
  for (const id of state.createdPending) {
    const p = state.pending.get(id)!;
    statements.insertPending.run(p.id, p.status, p.expiresAt, p.resolvedBy, p.resolvedAt);
  }
  for (const id of state.resolvedPending) {
    const p = state.pending.get(id)!;
    const changed = statements.resolvePending.run(p.status, p.resolvedBy, p.resolvedAt, p.id).changes;
    if (changed !== 1)
      throw new Error(`ledger invariant violated: pending ${p.id} was not pending when resolved`);
  }
  for (const attachment of state.createdAttachments) {
    const insert = attachmentStatementsFor(statements.database, attachment.table).insert;
    insert.run(...attachmentTables[attachment.table].columns.map((column) => attachment.row[column] ?? null));
  }
}

/**
 * One SQLite transaction (BEGIN IMMEDIATE … COMMIT) for the batch; it is durable before the caller
 * hears of it (`storage/wal-sync.ts`, when the connection is given back).
 */
export function commitSqliteBatch(
  statements: SqliteStatements,
  operations: readonly LedgerOperation[],
  nowMs: number,
  timestampLast: number,
): BatchOutcome {
  const { database } = statements;
  database.exec('begin immediate');
  try {
    const expiryLimit = expiryLimitOf(operations);
    const candidates =
      expiryLimit > 0 ? statements.selectExpiryCandidates.all(nowMs, expiryLimit).map((row) => row.id) : [];
    const state = new BatchState(nowMs, timestampLast);
    loadRows(statements, state, operations, candidates);
    const results = applyOperations(state, operations, candidates);
    writeRows(statements, state);
    database.exec('commit');
    return { results, lastTimestamp: state.lastTimestamp, transfersCreated: state.createdTransfers.length };
  } catch (error) {
    if (database.inTransaction) database.exec('rollback');
    throw error;
  }
}

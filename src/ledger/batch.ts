/**
 * What every ledger batch shares whatever the database: the operations and their results, row
 * mapping, and the pure steps of a batch (which ids it names, which pending transfers it follows, the
 * rules applied in order). The two stores — Kysely for PostgreSQL, prepared statements for SQLite —
 * only load and write rows around these steps.
 */
import { type AttachmentTable, attachmentTables, type Database } from '../storage/schema.js';
import { applyCreateAccount, applyExpiry, applyTransfers, type BatchState } from './rules.js';
import {
  type Account,
  type AccountInput,
  type LedgerAttachment,
  type AccountResult,
  type PendingState,
  type PendingStatus,
  type Transfer,
  type TransferInput,
  type TransferResult,
  transferKindNames,
} from './types.js';

export type LedgerOperation =
  | { readonly type: 'accounts'; readonly accounts: readonly AccountInput[] }
  | {
      readonly type: 'transfers';
      readonly transfers: readonly TransferInput[];
      readonly attachments?: readonly LedgerAttachment[];
    }
  | { readonly type: 'expire'; readonly limit: number };

export type LedgerOperationResult =
  | { readonly type: 'accounts'; readonly results: AccountResult[] }
  | { readonly type: 'transfers'; readonly results: TransferResult[] }
  | { readonly type: 'expire'; readonly expired: string[] };

export function accountFromRow(row: Database['ledger_accounts']): Account {
  return {
    id: row.id,
    ledger: row.ledger,
    code: row.code,
    flags: row.flags,
    debitsPending: row.debits_pending,
    debitsPosted: row.debits_posted,
    creditsPending: row.credits_pending,
    creditsPosted: row.credits_posted,
    lastTransferId: row.last_transfer_id,
    timestamp: row.timestamp,
  };
}

export function transferFromRow(row: Database['ledger_transfers']): Transfer {
  const kind = transferKindNames[row.kind];
  if (kind === undefined) throw new Error(`transfer ${row.id} has unknown kind ${row.kind}`);
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amount: row.amount,
    pendingId: row.pending_id,
    ledger: row.ledger,
    code: row.code,
    kind,
    timeoutSeconds: row.timeout_s,
    timestamp: row.timestamp,
    debitPreviousId: row.debit_previous_id,
    creditPreviousId: row.credit_previous_id,
  };
}

export function pendingFromRow(row: Database['ledger_pending']): PendingState {
  return {
    id: row.id,
    status: row.status as PendingStatus,
    expiresAt: row.expires_at,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
  };
}

/** Transfer and account ids a batch names directly (before pending transfers are followed). */
export function collectIds(operations: readonly LedgerOperation[], expiryCandidates: readonly string[]) {
  const transferIds = new Set<string>(expiryCandidates);
  const accountIds = new Set<string>();
  for (const operation of operations) {
    if (operation.type === 'accounts') for (const account of operation.accounts) accountIds.add(account.id);
    if (operation.type !== 'transfers') continue;
    for (const transfer of operation.transfers) {
      if (typeof transfer.id === 'string') transferIds.add(transfer.id);
      if (typeof transfer.pendingId === 'string') transferIds.add(transfer.pendingId);
      if (typeof transfer.debitAccountId === 'string') accountIds.add(transfer.debitAccountId);
      if (typeof transfer.creditAccountId === 'string') accountIds.add(transfer.creditAccountId);
    }
  }
  return { transferIds: [...transferIds], accountIds, attachmentKeys: collectAttachmentKeys(operations) };
}

/** The key of an attachment row, as `table:key`. */
export function attachmentKey(attachment: LedgerAttachment): string {
  const key = attachment.row[attachmentTables[attachment.table].key];
  if (typeof key !== 'string' || key.length === 0) {
    throw new Error(
      `ledger attachment for ${attachment.table} has no ${attachmentTables[attachment.table].key}`,
    );
  }
  return `${attachment.table}:${key}`;
}

function collectAttachmentKeys(operations: readonly LedgerOperation[]): Map<AttachmentTable, string[]> {
  const keys = new Map<AttachmentTable, string[]>();
  for (const operation of operations) {
    if (operation.type !== 'transfers' || !operation.attachments) continue;
    for (const attachment of operation.attachments) {
      const list = keys.get(attachment.table) ?? [];
      list.push(attachmentKey(attachment).slice(attachment.table.length + 1));
      keys.set(attachment.table, list);
    }
  }
  return keys;
}

/**
 * One request's transfers with its attachments: refused whole (`attachment_exists`) when a key is
 * taken; the rows are written only when every transfer is newly committed.
 */
function applyTransfersWithAttachments(
  state: BatchState,
  transfers: readonly TransferInput[],
  attachments: readonly LedgerAttachment[],
): TransferResult[] {
  const keys = attachments.map(attachmentKey);
  if (keys.some((key) => state.attachmentKeys.has(key)) || new Set(keys).size !== keys.length) {
    return transfers.map((transfer) => ({ id: transfer.id, result: 'attachment_exists' }));
  }
  const results = applyTransfers(state, transfers);
  if (results.every((result) => result.result === 'ok')) {
    for (const key of keys) state.attachmentKeys.add(key);
    state.createdAttachments.push(...attachments);
  }
  return results;
}

/** After the named transfers are loaded: the pending ones, and the accounts they move. */
export function followPending(state: BatchState, accountIds: Set<string>) {
  const pendingIds: string[] = [];
  for (const transfer of state.transfers.values()) {
    if (transfer.kind !== 'pending') continue;
    pendingIds.push(transfer.id);
    accountIds.add(transfer.debitAccountId);
    accountIds.add(transfer.creditAccountId);
  }
  return { pendingIds: pendingIds.sort(), accountIds: [...accountIds].sort() };
}

/** The pure part of a batch: every operation's result, in order, against the loaded state. */
export function applyOperations(
  state: BatchState,
  operations: readonly LedgerOperation[],
  candidates: readonly string[],
): LedgerOperationResult[] {
  return operations.map((operation) => {
    if (operation.type === 'accounts') {
      return {
        type: 'accounts',
        results: operation.accounts.map((input) => ({
          id: input.id,
          result: applyCreateAccount(state, input),
        })),
      };
    }
    if (operation.type === 'transfers') {
      const results = operation.attachments?.length
        ? applyTransfersWithAttachments(state, operation.transfers, operation.attachments)
        : applyTransfers(state, operation.transfers);
      return { type: 'transfers', results };
    }
    return { type: 'expire', expired: applyExpiry(state, candidates.slice(0, operation.limit)) };
  });
}

export function expiryLimitOf(operations: readonly LedgerOperation[]): number {
  return operations.reduce((sum, op) => sum + (op.type === 'expire' ? op.limit : 0), 0);
}

export interface BatchOutcome {
  readonly results: LedgerOperationResult[];
  readonly lastTimestamp: number;
  readonly transfersCreated: number;
}

import type { AttachmentTable } from '../storage/schema.js';

/**
 * The ledger's values, after TigerBeetle's model: accounts keep four running sums; transfers are
 * immutable and carry client-supplied 128-bit ids; a pending transfer reserves an amount until it is
 * posted, voided, or expires.
 */

export const accountFlags = Object.freeze({
  debitsMustNotExceedCredits: 1,
  creditsMustNotExceedDebits: 2,
});

export const transferKinds = Object.freeze({
  posted: 0,
  pending: 1,
  post_pending: 2,
  void_pending: 3,
});

export type TransferKind = keyof typeof transferKinds;

export const transferKindNames: readonly TransferKind[] = [
  'posted',
  'pending',
  'post_pending',
  'void_pending',
];

export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export interface AccountInput {
  /** Lowercase name such as `channel:direct:stock`; `[a-z0-9][a-z0-9:._-]*`, at most 128 characters. */
  readonly id: string;
  /** The unit this account holds; transfers move units only within one ledger. */
  readonly ledger: number;
  /** What kind of account this is (the caller's own classification). */
  readonly code: number;
  readonly debitsMustNotExceedCredits?: boolean;
  readonly creditsMustNotExceedDebits?: boolean;
}

export interface Account {
  readonly id: string;
  readonly ledger: number;
  readonly code: number;
  readonly flags: number;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
  /** The newest transfer on this account: the head of its history chain (see `Transfer`). */
  lastTransferId: string | null;
  /** Microseconds since the epoch when the account was created. */
  readonly timestamp: number;
}

export interface TransferInput {
  /** 32 lowercase hex digits (128 bits), not all zero. */
  readonly id: string;
  /** Defaults to `posted`. */
  readonly kind?: TransferKind;
  /** Required for posted/pending; for post/void optional and, when given, must match the pending one. */
  readonly debitAccountId?: string;
  readonly creditAccountId?: string;
  /** posted/pending: > 0. post_pending: omitted posts the full pending amount. void_pending: omitted or equal. */
  readonly amount?: number;
  /** The pending transfer a post/void resolves. */
  readonly pendingId?: string;
  /** Required for posted/pending; for post/void optional and, when given, must match. */
  readonly ledger?: number;
  readonly code?: number;
  /** Pending only: seconds until the reservation expires by itself; 0 or omitted never expires. */
  readonly timeoutSeconds?: number;
  /** Links this transfer to the next in the same request: they succeed or fail together. */
  readonly linked?: boolean;
}

export interface Transfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: number;
  readonly pendingId: string | null;
  readonly ledger: number;
  readonly code: number;
  readonly kind: TransferKind;
  readonly timeoutSeconds: number;
  /** Microseconds since the epoch, strictly increasing on one node. */
  readonly timestamp: number;
  /**
   * The previous transfer of the debit (and of the credit) account. Each account's history is this
   * chain from its `lastTransferId`, so a transfer adds no entries to secondary indexes: a batch that
   * credits 64 customers writes appended rows, not one index leaf per customer.
   */
  readonly debitPreviousId: string | null;
  readonly creditPreviousId: string | null;
}

export interface PendingState {
  readonly id: string;
  readonly status: PendingStatus;
  /** Milliseconds since the epoch; null never expires. */
  readonly expiresAt: number | null;
  readonly resolvedBy: string | null;
  readonly resolvedAt: number | null;
}

export type AccountResultCode =
  | 'ok'
  | 'exists'
  | 'exists_with_different_fields'
  | 'id_invalid'
  | 'ledger_invalid'
  | 'code_invalid'
  | 'flags_are_mutually_exclusive';

export type TransferResultCode =
  | 'ok'
  | 'exists'
  | 'exists_with_different_fields'
  | 'linked_event_failed'
  | 'linked_event_chain_open'
  | 'id_invalid'
  | 'kind_invalid'
  | 'debit_account_id_required'
  | 'credit_account_id_required'
  | 'accounts_must_be_different'
  | 'amount_must_be_positive'
  | 'ledger_invalid'
  | 'code_invalid'
  | 'pending_id_must_be_absent'
  | 'pending_id_required'
  | 'pending_id_must_be_different'
  | 'timeout_reserved_for_pending_transfer'
  | 'timeout_invalid'
  | 'debit_account_not_found'
  | 'credit_account_not_found'
  | 'accounts_must_have_the_same_ledger'
  | 'transfer_must_have_the_same_ledger_as_accounts'
  | 'pending_transfer_not_found'
  | 'pending_transfer_not_pending'
  | 'pending_transfer_has_different_debit_account_id'
  | 'pending_transfer_has_different_credit_account_id'
  | 'pending_transfer_has_different_ledger'
  | 'pending_transfer_has_different_code'
  | 'pending_transfer_has_different_amount'
  | 'exceeds_pending_transfer_amount'
  | 'pending_transfer_already_posted'
  | 'pending_transfer_already_voided'
  | 'pending_transfer_expired'
  | 'exceeds_credits'
  | 'exceeds_debits'
  | 'overflows_debits'
  | 'overflows_credits'
  | 'attachment_exists';

/**
 * A row written in the same transaction as a request's transfers, only when every transfer of the
 * request is newly committed (`ok`): e.g. the registry row of a stamp together with the post of its
 * reservation. Its key must be new; if it exists, every transfer of the request is refused with
 * `attachment_exists` and nothing is written.
 */
export interface LedgerAttachment {
  readonly table: AttachmentTable;
  readonly row: Readonly<Record<string, string | number | null>>;
}

export interface AccountResult {
  readonly id: string;
  readonly result: AccountResultCode;
}

export interface TransferResult {
  readonly id: string;
  readonly result: TransferResultCode;
  /** The committed transfer's timestamp for `ok` and `exists`. */
  readonly timestamp?: number;
}

/** True when a transfer result means the transfer is (now or already) in the ledger. */
export function isTransferCommitted(result: TransferResult): boolean {
  return result.result === 'ok' || result.result === 'exists';
}

/** Largest timeout a pending transfer may carry: about 68 years, the signed 32-bit range. */
export const timeoutSecondsMax = 2_147_483_647;
export const accountIdPattern = /^[a-z0-9][a-z0-9:._-]{0,127}$/;
export const transferIdPattern = /^[0-9a-f]{32}$/;
export const zeroTransferId = '0'.repeat(32);

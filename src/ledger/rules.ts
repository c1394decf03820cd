/**
 * The ledger's rules as plain functions over an in-memory batch state (STYLE habit 7). The storage
 * engine loads the rows a batch touches, these functions decide every result and every new balance,
 * and the engine writes the difference back in the same transaction. No I/O here.
 */
import {
  type Account,
  type AccountInput,
  type LedgerAttachment,
  type AccountResultCode,
  accountFlags,
  accountIdPattern,
  type PendingState,
  type Transfer,
  type TransferInput,
  type TransferKind,
  type TransferResult,
  type TransferResultCode,
  timeoutSecondsMax,
  transferIdPattern,
  transferKinds,
  zeroTransferId,
} from './types.js';

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`ledger invariant violated: ${message}`);
}

/** Rows loaded for one batch, and everything the batch changes, with an undo journal for linked chains. */
export class BatchState {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, Transfer>();
  readonly pending = new Map<string, PendingState>();
  /** Accounts created by this batch (inserted, not updated). */
  readonly createdAccounts = new Set<string>();
  /** Transfers created by this batch, in order. */
  readonly createdTransfers: Transfer[] = [];
  /** Pending rows created by this batch. */
  readonly createdPending = new Set<string>();
  /** Pending rows resolved by this batch (updated). */
  readonly resolvedPending = new Set<string>();
  /** Accounts whose balances changed. */
  readonly touchedAccounts = new Set<string>();
  /** Attachment keys (`table:key`) that exist already or were added by this batch. */
  readonly attachmentKeys = new Set<string>();
  /** Attachment rows this batch writes. */
  readonly createdAttachments: LedgerAttachment[] = [];
  private readonly journal: Array<() => void> = [];
  private timestampLast: number;
  readonly nowMs: number;

  constructor(nowMs: number, timestampLast: number) {
    this.nowMs = nowMs;
    this.timestampLast = timestampLast;
  }

  /** Strictly increasing microsecond timestamps, never behind the wall clock. */
  nextTimestamp(): number {
    const next = Math.max(this.nowMs * 1000, this.timestampLast + 1);
    const previous = this.timestampLast;
    this.timestampLast = next;
    this.journal.push(() => {
      this.timestampLast = previous;
    });
    return next;
  }

  get lastTimestamp(): number {
    return this.timestampLast;
  }

  mark(): number {
    return this.journal.length;
  }

  rollback(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!();
  }

  /** Forget the journal once a request's chains are settled (its entries can no longer be undone). */
  settle(): void {
    this.journal.length = 0;
  }

  addAccount(account: Account): void {
    this.accounts.set(account.id, account);
    this.createdAccounts.add(account.id);
    this.journal.push(() => {
      this.accounts.delete(account.id);
      this.createdAccounts.delete(account.id);
    });
  }

  changeBalances(account: Account, change: Partial<Pick<Account, BalanceField>>): void {
    const before = {
      debitsPending: account.debitsPending,
      debitsPosted: account.debitsPosted,
      creditsPending: account.creditsPending,
      creditsPosted: account.creditsPosted,
    };
    const wasTouched = this.touchedAccounts.has(account.id);
    Object.assign(account, change);
    this.touchedAccounts.add(account.id);
    this.journal.push(() => {
      Object.assign(account, before);
      if (!wasTouched) this.touchedAccounts.delete(account.id);
    });
  }

  /** Adds a new transfer at the head of both its accounts' history chains. */
  addTransfer(unlinked: Omit<Transfer, 'debitPreviousId' | 'creditPreviousId'>): void {
    const debit = this.accounts.get(unlinked.debitAccountId);
    const credit = this.accounts.get(unlinked.creditAccountId);
    assert(debit !== undefined && credit !== undefined, `accounts of transfer ${unlinked.id} not loaded`);
    const transfer: Transfer = {
      ...unlinked,
      debitPreviousId: debit.lastTransferId,
      creditPreviousId: credit.lastTransferId,
    };
    const heads = [debit.lastTransferId, credit.lastTransferId] as const;
    const touched = [this.touchedAccounts.has(debit.id), this.touchedAccounts.has(credit.id)] as const;
    debit.lastTransferId = transfer.id;
    credit.lastTransferId = transfer.id;
    this.touchedAccounts.add(debit.id).add(credit.id);
    this.transfers.set(transfer.id, transfer);
    this.createdTransfers.push(transfer);
    this.journal.push(() => {
      debit.lastTransferId = heads[0];
      credit.lastTransferId = heads[1];
      if (!touched[0]) this.touchedAccounts.delete(debit.id);
      if (!touched[1]) this.touchedAccounts.delete(credit.id);
      this.transfers.delete(transfer.id);
      this.createdTransfers.pop();
    });
  }

  setPending(state: PendingState, created: boolean): void {
    const previous = this.pending.get(state.id);
    const wasCreated = this.createdPending.has(state.id);
    const wasResolved = this.resolvedPending.has(state.id);
    this.pending.set(state.id, state);
    if (created) this.createdPending.add(state.id);
    else if (!wasCreated) this.resolvedPending.add(state.id);
    this.journal.push(() => {
      if (previous === undefined) this.pending.delete(state.id);
      else this.pending.set(state.id, previous);
      if (!wasCreated) this.createdPending.delete(state.id);
      if (!wasResolved) this.resolvedPending.delete(state.id);
    });
  }
}

type BalanceField = 'debitsPending' | 'debitsPosted' | 'creditsPending' | 'creditsPosted';

function isPositiveInteger(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= max;
}

export function validateAccount(input: AccountInput): AccountResultCode | null {
  if (typeof input.id !== 'string' || !accountIdPattern.test(input.id)) return 'id_invalid';
  if (!isPositiveInteger(input.ledger, 0xffff_ffff)) return 'ledger_invalid';
  if (!isPositiveInteger(input.code, 0xffff)) return 'code_invalid';
  if (input.debitsMustNotExceedCredits && input.creditsMustNotExceedDebits)
    return 'flags_are_mutually_exclusive';
  return null;
}

export function accountFlagsOf(input: AccountInput): number {
  return (
    (input.debitsMustNotExceedCredits ? accountFlags.debitsMustNotExceedCredits : 0) |
    (input.creditsMustNotExceedDebits ? accountFlags.creditsMustNotExceedDebits : 0)
  );
}

export function applyCreateAccount(state: BatchState, input: AccountInput): AccountResultCode {
  const invalid = validateAccount(input);
  if (invalid) return invalid;
  const existing = state.accounts.get(input.id);
  if (existing) {
    const same =
      existing.ledger === input.ledger &&
      existing.code === input.code &&
      existing.flags === accountFlagsOf(input);
    return same ? 'exists' : 'exists_with_different_fields';
  }
  state.addAccount({
    id: input.id,
    ledger: input.ledger,
    code: input.code,
    flags: accountFlagsOf(input),
    debitsPending: 0,
    debitsPosted: 0,
    creditsPending: 0,
    creditsPosted: 0,
    lastTransferId: null,
    timestamp: state.nextTimestamp(),
  });
  return 'ok';
}

/** The fields of a stored transfer that an identical resubmission must repeat. */
function sameAsStored(stored: Transfer, input: TransferInput): boolean {
  const kind: TransferKind = input.kind ?? 'posted';
  if (stored.kind !== kind) return false;
  if ((input.pendingId ?? null) !== stored.pendingId) return false;
  if ((input.timeoutSeconds ?? 0) !== stored.timeoutSeconds) return false;
  const resolves = kind === 'post_pending' || kind === 'void_pending';
  const matches = (given: unknown, storedValue: unknown) =>
    resolves && given === undefined ? true : given === storedValue;
  return (
    matches(input.debitAccountId, stored.debitAccountId) &&
    matches(input.creditAccountId, stored.creditAccountId) &&
    matches(input.amount, stored.amount) &&
    matches(input.ledger, stored.ledger) &&
    matches(input.code, stored.code)
  );
}

function validateShape(input: TransferInput): TransferResultCode | null {
  if (typeof input.id !== 'string' || !transferIdPattern.test(input.id) || input.id === zeroTransferId) {
    return 'id_invalid';
  }
  const kind = input.kind ?? 'posted';
  if (!(kind in transferKinds)) return 'kind_invalid';
  if (input.timeoutSeconds !== undefined) {
    if (!Number.isSafeInteger(input.timeoutSeconds) || input.timeoutSeconds < 0) return 'timeout_invalid';
    if (input.timeoutSeconds > timeoutSecondsMax) return 'timeout_invalid';
    if (kind !== 'pending' && input.timeoutSeconds !== 0) return 'timeout_reserved_for_pending_transfer';
  }
  if (kind === 'posted' || kind === 'pending') {
    if (!input.debitAccountId) return 'debit_account_id_required';
    if (!input.creditAccountId) return 'credit_account_id_required';
    if (input.debitAccountId === input.creditAccountId) return 'accounts_must_be_different';
    if (!isPositiveInteger(input.amount, Number.MAX_SAFE_INTEGER)) return 'amount_must_be_positive';
    if (input.pendingId !== undefined) return 'pending_id_must_be_absent';
    if (!isPositiveInteger(input.ledger, 0xffff_ffff)) return 'ledger_invalid';
    if (!isPositiveInteger(input.code, 0xffff)) return 'code_invalid';
    return null;
  }
  if (input.pendingId === undefined) return 'pending_id_required';
  if (!transferIdPattern.test(input.pendingId) || input.pendingId === zeroTransferId)
    return 'pending_id_required';
  if (input.pendingId === input.id) return 'pending_id_must_be_different';
  if (input.amount !== undefined && !isPositiveInteger(input.amount, Number.MAX_SAFE_INTEGER)) {
    return 'amount_must_be_positive';
  }
  if (input.ledger !== undefined && !isPositiveInteger(input.ledger, 0xffff_ffff)) return 'ledger_invalid';
  if (input.code !== undefined && !isPositiveInteger(input.code, 0xffff)) return 'code_invalid';
  return null;
}

function applyNewBalanceTransfer(
  state: BatchState,
  input: TransferInput,
  kind: TransferKind,
): TransferResultCode {
  const debit = state.accounts.get(input.debitAccountId!);
  if (!debit) return 'debit_account_not_found';
  const credit = state.accounts.get(input.creditAccountId!);
  if (!credit) return 'credit_account_not_found';
  if (debit.ledger !== credit.ledger) return 'accounts_must_have_the_same_ledger';
  if (input.ledger !== debit.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
  const amount = input.amount!;
  const debitsAfter = debit.debitsPending + debit.debitsPosted + amount;
  const creditsAfter = credit.creditsPending + credit.creditsPosted + amount;
  if (!Number.isSafeInteger(debitsAfter)) return 'overflows_debits';
  if (!Number.isSafeInteger(creditsAfter)) return 'overflows_credits';
  if (debit.flags & accountFlags.debitsMustNotExceedCredits && debitsAfter > debit.creditsPosted) {
    return 'exceeds_credits';
  }
  if (credit.flags & accountFlags.creditsMustNotExceedDebits && creditsAfter > credit.debitsPosted) {
    return 'exceeds_debits';
  }
  const transfer = {
    id: input.id,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    amount,
    pendingId: null,
    ledger: debit.ledger,
    code: input.code!,
    kind,
    timeoutSeconds: input.timeoutSeconds ?? 0,
    timestamp: state.nextTimestamp(),
  };
  if (kind === 'pending') {
    state.changeBalances(debit, { debitsPending: debit.debitsPending + amount });
    state.changeBalances(credit, { creditsPending: credit.creditsPending + amount });
    const expiresAt = transfer.timeoutSeconds > 0 ? state.nowMs + transfer.timeoutSeconds * 1000 : null;
    state.setPending(
      { id: transfer.id, status: 'pending', expiresAt, resolvedBy: null, resolvedAt: null },
      true,
    );
  } else {
    state.changeBalances(debit, { debitsPosted: debit.debitsPosted + amount });
    state.changeBalances(credit, { creditsPosted: credit.creditsPosted + amount });
  }
  state.addTransfer(transfer);
  return 'ok';
}

function applyResolvePending(
  state: BatchState,
  input: TransferInput,
  kind: TransferKind,
): TransferResultCode {
  const pendingTransfer = state.transfers.get(input.pendingId!);
  if (!pendingTransfer) return 'pending_transfer_not_found';
  if (pendingTransfer.kind !== 'pending') return 'pending_transfer_not_pending';
  if (input.debitAccountId !== undefined && input.debitAccountId !== pendingTransfer.debitAccountId) {
    return 'pending_transfer_has_different_debit_account_id';
  }
  if (input.creditAccountId !== undefined && input.creditAccountId !== pendingTransfer.creditAccountId) {
    return 'pending_transfer_has_different_credit_account_id';
  }
  if (input.ledger !== undefined && input.ledger !== pendingTransfer.ledger) {
    return 'pending_transfer_has_different_ledger';
  }
  if (input.code !== undefined && input.code !== pendingTransfer.code)
    return 'pending_transfer_has_different_code';
  const pendingAmount = pendingTransfer.amount;
  if (kind === 'post_pending' && input.amount !== undefined && input.amount > pendingAmount) {
    return 'exceeds_pending_transfer_amount';
  }
  if (kind === 'void_pending' && input.amount !== undefined && input.amount !== pendingAmount) {
    return 'pending_transfer_has_different_amount';
  }
  const status = state.pending.get(pendingTransfer.id);
  assert(status !== undefined, `pending transfer ${pendingTransfer.id} has no pending state row`);
  if (status.status === 'posted') return 'pending_transfer_already_posted';
  if (status.status === 'voided') return 'pending_transfer_already_voided';
  if (status.status === 'expired') return 'pending_transfer_expired';
  // Past its timeout it is expired even if no sweep has run yet: expiry never races a late post.
  if (status.expiresAt !== null && status.expiresAt <= state.nowMs) return 'pending_transfer_expired';
  const debit = state.accounts.get(pendingTransfer.debitAccountId);
  const credit = state.accounts.get(pendingTransfer.creditAccountId);
  assert(debit !== undefined && credit !== undefined, `accounts of pending ${pendingTransfer.id} not loaded`);
  const amount = kind === 'post_pending' ? (input.amount ?? pendingAmount) : pendingAmount;
  const transfer = {
    id: input.id,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    amount,
    pendingId: pendingTransfer.id,
    ledger: pendingTransfer.ledger,
    code: pendingTransfer.code,
    kind,
    timeoutSeconds: 0,
    timestamp: state.nextTimestamp(),
  };
  const posted = kind === 'post_pending' ? amount : 0;
  state.changeBalances(debit, {
    debitsPending: debit.debitsPending - pendingAmount,
    debitsPosted: debit.debitsPosted + posted,
  });
  state.changeBalances(credit, {
    creditsPending: credit.creditsPending - pendingAmount,
    creditsPosted: credit.creditsPosted + posted,
  });
  state.setPending(
    {
      ...status,
      status: kind === 'post_pending' ? 'posted' : 'voided',
      resolvedBy: transfer.id,
      resolvedAt: state.nowMs,
    },
    false,
  );
  state.addTransfer(transfer);
  return 'ok';
}

function applyOneTransfer(state: BatchState, input: TransferInput): TransferResultCode {
  const shape = validateShape(input);
  if (shape === 'id_invalid') return shape;
  const existing = state.transfers.get(input.id);
  if (existing) return sameAsStored(existing, input) ? 'exists' : 'exists_with_different_fields';
  if (shape) return shape;
  const kind = input.kind ?? 'posted';
  if (kind === 'posted' || kind === 'pending') return applyNewBalanceTransfer(state, input, kind);
  return applyResolvePending(state, input, kind);
}

/**
 * Applies one request's transfers in order. Linked chains (each transfer with `linked` joins the next)
 * succeed or fail together: on a failure the chain's changes are undone, the failing transfer keeps
 * its own code and the others get `linked_event_failed`. `exists` counts as success inside a chain so
 * that resubmitting a whole committed chain is a harmless no-op.
 */
export function applyTransfers(state: BatchState, inputs: readonly TransferInput[]): TransferResult[] {
  const results: TransferResult[] = new Array(inputs.length);
  let index = 0;
  while (index < inputs.length) {
    let end = index;
    while (end < inputs.length && inputs[end]!.linked) end += 1;
    if (end === inputs.length) {
      for (let open = index; open < inputs.length; open += 1) {
        results[open] = { id: inputs[open]!.id, result: 'linked_event_chain_open' };
      }
      break;
    }
    applyChain(state, inputs, index, end, results);
    index = end + 1;
  }
  state.settle();
  return results;
}

function applyChain(
  state: BatchState,
  inputs: readonly TransferInput[],
  first: number,
  last: number,
  results: TransferResult[],
): void {
  const mark = state.mark();
  for (let position = first; position <= last; position += 1) {
    const input = inputs[position]!;
    const code = applyOneTransfer(state, input);
    if (code === 'ok' || code === 'exists') {
      results[position] = { id: input.id, result: code, timestamp: state.transfers.get(input.id)!.timestamp };
      continue;
    }
    state.rollback(mark);
    for (let other = first; other <= last; other += 1) {
      results[other] = { id: inputs[other]!.id, result: other === position ? code : 'linked_event_failed' };
    }
    return;
  }
}

/** Releases the reservation of every loaded pending transfer whose timeout has passed. */
export function applyExpiry(state: BatchState, candidates: readonly string[]): string[] {
  const expired: string[] = [];
  for (const id of candidates) {
    const status = state.pending.get(id);
    const transfer = state.transfers.get(id);
    if (!status || !transfer || status.status !== 'pending') continue;
    if (status.expiresAt === null || status.expiresAt > state.nowMs) continue;
    const debit = state.accounts.get(transfer.debitAccountId);
    const credit = state.accounts.get(transfer.creditAccountId);
    assert(debit !== undefined && credit !== undefined, `accounts of pending ${id} not loaded`);
    state.changeBalances(debit, { debitsPending: debit.debitsPending - transfer.amount });
    state.changeBalances(credit, { creditsPending: credit.creditsPending - transfer.amount });
    state.setPending({ ...status, status: 'expired', resolvedBy: null, resolvedAt: state.nowMs }, false);
    expired.push(id);
  }
  state.settle();
  return expired;
}

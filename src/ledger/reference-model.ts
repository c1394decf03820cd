/**
 * A deliberately simple in-memory ledger used only by the property tests as the reference: one
 * transfer at a time, whole-state copies for linked chains, no batching, no storage. The real ledger
 * must give exactly the same results and balances for any sequence of operations.
 */
import type { AccountInput, AccountResultCode, TransferInput, TransferResultCode } from './types.js';

interface ModelAccount {
  ledger: number;
  code: number;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
}

interface ModelTransfer {
  kind: string;
  debit: string;
  credit: string;
  amount: number;
  pendingId: string | null;
  ledger: number;
  code: number;
  timeout: number;
}

interface ModelPending {
  status: 'pending' | 'posted' | 'voided' | 'expired';
  expiresAt: number | null;
}

interface ModelState {
  accounts: Map<string, ModelAccount>;
  transfers: Map<string, ModelTransfer>;
  pending: Map<string, ModelPending>;
}

function copyState(state: ModelState): ModelState {
  return {
    accounts: new Map([...state.accounts].map(([id, account]) => [id, { ...account }])),
    transfers: new Map(state.transfers),
    pending: new Map([...state.pending].map(([id, pending]) => [id, { ...pending }])),
  };
}

const idOk = (id: unknown) => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id);
const positive = (value: unknown, max: number) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= max;

export class ReferenceLedger {
  private state: ModelState = { accounts: new Map(), transfers: new Map(), pending: new Map() };

  createAccount(input: AccountInput): AccountResultCode {
    if (!/^[a-z0-9][a-z0-9:._-]{0,127}$/.test(input.id)) return 'id_invalid';
    if (!positive(input.ledger, 0xffffffff)) return 'ledger_invalid';
    if (!positive(input.code, 0xffff)) return 'code_invalid';
    if (input.debitsMustNotExceedCredits && input.creditsMustNotExceedDebits)
      return 'flags_are_mutually_exclusive';
    const existing = this.state.accounts.get(input.id);
    const dmnec = Boolean(input.debitsMustNotExceedCredits);
    const cmned = Boolean(input.creditsMustNotExceedDebits);
    if (existing) {
      const same =
        existing.ledger === input.ledger &&
        existing.code === input.code &&
        existing.debitsMustNotExceedCredits === dmnec &&
        existing.creditsMustNotExceedDebits === cmned;
      return same ? 'exists' : 'exists_with_different_fields';
    }
    this.state.accounts.set(input.id, {
      ledger: input.ledger,
      code: input.code,
      debitsMustNotExceedCredits: dmnec,
      creditsMustNotExceedDebits: cmned,
      debitsPending: 0,
      debitsPosted: 0,
      creditsPending: 0,
      creditsPosted: 0,
    });
    return 'ok';
  }

  createTransfers(inputs: readonly TransferInput[], nowMs: number): TransferResultCode[] {
    const results: TransferResultCode[] = [];
    let chain: TransferInput[] = [];
    for (const input of inputs) {
      chain.push(input);
      if (input.linked) continue;
      results.push(...this.runChain(chain, nowMs));
      chain = [];
    }
    for (const _ of chain) results.push('linked_event_chain_open');
    return results;
  }

  private runChain(chain: readonly TransferInput[], nowMs: number): TransferResultCode[] {
    const trial = copyState(this.state);
    const codes: TransferResultCode[] = [];
    for (let index = 0; index < chain.length; index += 1) {
      const code = this.one(trial, chain[index]!, nowMs);
      if (code !== 'ok' && code !== 'exists') {
        return chain.map((_, other) => (other === index ? code : 'linked_event_failed'));
      }
      codes.push(code);
    }
    this.state = trial;
    return codes;
  }

  private one(state: ModelState, input: TransferInput, nowMs: number): TransferResultCode {
    if (!idOk(input.id)) return 'id_invalid';
    const kind = input.kind ?? 'posted';
    const stored = state.transfers.get(input.id);
    if (stored) return this.same(stored, input, kind) ? 'exists' : 'exists_with_different_fields';
    const timeout = input.timeoutSeconds;
    if (timeout !== undefined && (!Number.isSafeInteger(timeout) || timeout < 0 || timeout > 2147483647)) {
      return 'timeout_invalid';
    }
    if (timeout !== undefined && kind !== 'pending' && timeout !== 0)
      return 'timeout_reserved_for_pending_transfer';
    if (kind === 'posted' || kind === 'pending') return this.balanceTransfer(state, input, kind, nowMs);
    return this.resolve(state, input, kind, nowMs);
  }

  private same(stored: ModelTransfer, input: TransferInput, kind: string): boolean {
    if (stored.kind !== kind || stored.pendingId !== (input.pendingId ?? null)) return false;
    if (stored.timeout !== (input.timeoutSeconds ?? 0)) return false;
    const resolves = kind === 'post_pending' || kind === 'void_pending';
    const eq = (given: unknown, value: unknown) => (resolves && given === undefined ? true : given === value);
    return (
      eq(input.debitAccountId, stored.debit) &&
      eq(input.creditAccountId, stored.credit) &&
      eq(input.amount, stored.amount) &&
      eq(input.ledger, stored.ledger) &&
      eq(input.code, stored.code)
    );
  }

  private balanceTransfer(
    state: ModelState,
    input: TransferInput,
    kind: string,
    nowMs: number,
  ): TransferResultCode {
    if (!input.debitAccountId) return 'debit_account_id_required';
    if (!input.creditAccountId) return 'credit_account_id_required';
    if (input.debitAccountId === input.creditAccountId) return 'accounts_must_be_different';
    if (!positive(input.amount, Number.MAX_SAFE_INTEGER)) return 'amount_must_be_positive';
    if (input.pendingId !== undefined) return 'pending_id_must_be_absent';
    if (!positive(input.ledger, 0xffffffff)) return 'ledger_invalid';
    if (!positive(input.code, 0xffff)) return 'code_invalid';
    const debit = state.accounts.get(input.debitAccountId);
    if (!debit) return 'debit_account_not_found';
    const credit = state.accounts.get(input.creditAccountId);
    if (!credit) return 'credit_account_not_found';
    if (debit.ledger !== credit.ledger) return 'accounts_must_have_the_same_ledger';
    if (input.ledger !== debit.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
    const amount = input.amount!;
    const debitsAfter = debit.debitsPending + debit.debitsPosted + amount;
    const creditsAfter = credit.creditsPending + credit.creditsPosted + amount;
    if (!Number.isSafeInteger(debitsAfter)) return 'overflows_debits';
    if (!Number.isSafeInteger(creditsAfter)) return 'overflows_credits';
    if (debit.debitsMustNotExceedCredits && debitsAfter > debit.creditsPosted) return 'exceeds_credits';
    if (credit.creditsMustNotExceedDebits && creditsAfter > credit.debitsPosted) return 'exceeds_debits';
    const timeout = input.timeoutSeconds ?? 0;
    if (kind === 'pending') {
      debit.debitsPending += amount;
      credit.creditsPending += amount;
      state.pending.set(input.id, {
        status: 'pending',
        expiresAt: timeout > 0 ? nowMs + timeout * 1000 : null,
      });
    } else {
      debit.debitsPosted += amount;
      credit.creditsPosted += amount;
    }
    state.transfers.set(input.id, {
      kind,
      debit: input.debitAccountId,
      credit: input.creditAccountId,
      amount,
      pendingId: null,
      ledger: input.ledger!,
      code: input.code!,
      timeout,
    });
    return 'ok';
  }

  private resolve(state: ModelState, input: TransferInput, kind: string, nowMs: number): TransferResultCode {
    if (input.pendingId === undefined || !idOk(input.pendingId)) return 'pending_id_required';
    if (input.pendingId === input.id) return 'pending_id_must_be_different';
    if (input.amount !== undefined && !positive(input.amount, Number.MAX_SAFE_INTEGER)) {
      return 'amount_must_be_positive';
    }
    if (input.ledger !== undefined && !positive(input.ledger, 0xffffffff)) return 'ledger_invalid';
    if (input.code !== undefined && !positive(input.code, 0xffff)) return 'code_invalid';
    const original = state.transfers.get(input.pendingId);
    if (!original) return 'pending_transfer_not_found';
    if (original.kind !== 'pending') return 'pending_transfer_not_pending';
    if (input.debitAccountId !== undefined && input.debitAccountId !== original.debit) {
      return 'pending_transfer_has_different_debit_account_id';
    }
    if (input.creditAccountId !== undefined && input.creditAccountId !== original.credit) {
      return 'pending_transfer_has_different_credit_account_id';
    }
    if (input.ledger !== undefined && input.ledger !== original.ledger)
      return 'pending_transfer_has_different_ledger';
    if (input.code !== undefined && input.code !== original.code)
      return 'pending_transfer_has_different_code';
    if (kind === 'post_pending' && input.amount !== undefined && input.amount > original.amount) {
      return 'exceeds_pending_transfer_amount';
    }
    if (kind === 'void_pending' && input.amount !== undefined && input.amount !== original.amount) {
      return 'pending_transfer_has_different_amount';
    }
    const pending = state.pending.get(input.pendingId)!;
    if (pending.status === 'posted') return 'pending_transfer_already_posted';
    if (pending.status === 'voided') return 'pending_transfer_already_voided';
    if (pending.status === 'expired') return 'pending_transfer_expired';
    if (pending.expiresAt !== null && pending.expiresAt <= nowMs) return 'pending_transfer_expired';
    const debit = state.accounts.get(original.debit)!;
    const credit = state.accounts.get(original.credit)!;
    const posted = kind === 'post_pending' ? (input.amount ?? original.amount) : 0;
    debit.debitsPending -= original.amount;
    credit.creditsPending -= original.amount;
    debit.debitsPosted += posted;
    credit.creditsPosted += posted;
    pending.status = kind === 'post_pending' ? 'posted' : 'voided';
    state.transfers.set(input.id, {
      kind,
      debit: original.debit,
      credit: original.credit,
      amount: kind === 'post_pending' ? posted : original.amount,
      pendingId: input.pendingId,
      ledger: original.ledger,
      code: original.code,
      timeout: 0,
    });
    return 'ok';
  }

  expire(nowMs: number): string[] {
    const expired: string[] = [];
    for (const [id, pending] of this.state.pending) {
      if (pending.status !== 'pending' || pending.expiresAt === null || pending.expiresAt > nowMs) continue;
      const transfer = this.state.transfers.get(id)!;
      this.state.accounts.get(transfer.debit)!.debitsPending -= transfer.amount;
      this.state.accounts.get(transfer.credit)!.creditsPending -= transfer.amount;
      pending.status = 'expired';
      expired.push(id);
    }
    return expired.sort();
  }

  balances(): Record<string, [number, number, number, number]> {
    const out: Record<string, [number, number, number, number]> = {};
    for (const [id, account] of [...this.state.accounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[id] = [account.debitsPending, account.debitsPosted, account.creditsPending, account.creditsPosted];
    }
    return out;
  }
}

/**
 * The ledger's front door, with group commit. Requests that arrive while a commit is in flight wait
 * and are committed together in the next transaction, each keeping its own result; a request is
 * acknowledged only after its transaction is durable (unless it asked otherwise: `createTransfers`'
 * `durable: false`). With one commit in flight the batching window is exactly the length of the
 * previous commit, so an idle ledger adds no delay and a busy one pays one fsync for many transfers; on
 * SQLite the next batch commits while the last one's fsync runs. Batch size and queue length are bounded.
 */
import { sql } from 'kysely';
import { BubuhError } from '../errors.js';
import type { Database } from '../storage/schema.js';
import type { Storage } from '../storage/database.js';
import {
  accountFromRow,
  type BatchOutcome,
  type LedgerOperation,
  type LedgerOperationResult,
  pendingFromRow,
  transferFromRow,
} from './batch.js';
import { type CommitDurability, commitBatch } from './store.js';
import type {
  Account,
  AccountInput,
  LedgerAttachment,
  AccountResult,
  PendingState,
  Transfer,
  TransferInput,
  TransferResult,
} from './types.js';

export interface LedgerOptions {
  /** Most transfers (or accounts) committed in one transaction. */
  readonly batchTransfersMax: number;
  /** Most transfers waiting for a commit; past it new requests are refused with LEDGER_OVERLOADED. */
  readonly queueTransfersMax: number;
  /** Milliseconds since the epoch; injectable so tests control expiry. */
  readonly clock?: () => number;
  /** Called after every commit, for metrics. */
  readonly onBatch?: (info: { operations: number; transfers: number; durationMs: number }) => void;
}

interface Waiting {
  readonly operation: LedgerOperation;
  readonly size: number;
  /** Answered only once its transaction is durable (false: once it has committed; see createTransfers). */
  readonly durable: boolean;
  resolve(result: LedgerOperationResult): void;
  reject(error: unknown): void;
}

/** Errors a retry of the same batch can cure: a concurrent insert of the same id, a deadlock. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return (
    code === '23505' || // unique_violation: another node committed the same id first
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === 'SQLITE_BUSY' ||
    (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY'))
  );
}

const retriesMax = 3;

function operationSize(operation: LedgerOperation): number {
  if (operation.type === 'accounts') return Math.max(1, operation.accounts.length);
  if (operation.type === 'transfers') return Math.max(1, operation.transfers.length);
  return 1;
}

export class Ledger {
  readonly storage: Storage;
  private readonly options: LedgerOptions;
  private readonly clock: () => number;
  private readonly queue: Waiting[] = [];
  private queuedTransfers = 0;
  private committing = false;
  /** Batches committed whose durable requests still wait for the fsync. */
  private settling = 0;
  private scheduled = false;
  private closed = false;
  private timestampLast = 0;
  private drained: (() => void) | null = null;

  constructor(storage: Storage, options: LedgerOptions) {
    if (options.batchTransfersMax < 1 || options.queueTransfersMax < options.batchTransfersMax) {
      throw new Error('ledger options: need 1 <= batchTransfersMax <= queueTransfersMax');
    }
    this.storage = storage;
    this.options = options;
    this.clock = options.clock ?? Date.now;
  }

  /** Transfers waiting for a commit, for metrics and admission. */
  get queueDepth(): number {
    return this.queuedTransfers;
  }

  async createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]> {
    const result = await this.submit({ type: 'accounts', accounts }, true);
    if (result.type !== 'accounts') throw new Error('ledger: mismatched result');
    return result.results;
  }

  /**
   * Commits transfers in the next group commit. `attachments` are rows written in the same
   * transaction when every transfer is newly committed (see `LedgerAttachment`).
   *
   * `durable: false` answers as soon as the transaction has committed, before it is on disk: for a
   * step nobody is told about until a later durable commit of the same caller, which covers it (the
   * database's log is written in order, so a durable later commit makes every earlier one durable).
   * A crash before that loses the step, never only the later one. A stamp's reservation is such a step:
   * lost in a crash, the unit was never held; readers still see it only once it is durable.
   */
  async createTransfers(
    transfers: readonly TransferInput[],
    attachments?: readonly LedgerAttachment[],
    options: { readonly durable?: boolean } = {},
  ): Promise<TransferResult[]> {
    const result = await this.submit(
      {
        type: 'transfers',
        transfers,
        ...(attachments ? { attachments } : {}),
      },
      options.durable ?? true,
    );
    if (result.type !== 'transfers') throw new Error('ledger: mismatched result');
    return result.results;
  }

  /**
   * The naive path, kept for the benchmark's comparison: one transaction per request, concurrent
   * transactions fighting over the hot account's row lock. Same rules, same results, no batching.
   */
  async createTransfersUnbatched(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    const outcome = await this.commitWithRetry([{ type: 'transfers', transfers }]);
    const result = outcome.results[0];
    if (result?.type !== 'transfers') throw new Error('ledger: mismatched result');
    return result.results;
  }

  /** Voids (expires) up to `limit` pending transfers whose timeout has passed; returns their ids. */
  async expirePending(limit: number): Promise<string[]> {
    const result = await this.submit({ type: 'expire', limit }, true);
    if (result.type !== 'expire') throw new Error('ledger: mismatched result');
    return result.expired;
  }

  private submit(operation: LedgerOperation, durable: boolean): Promise<LedgerOperationResult> {
    if (this.closed) return Promise.reject(new BubuhError('LEDGER_CLOSED'));
    const size = operationSize(operation);
    if (size > this.options.batchTransfersMax) {
      return Promise.reject(
        new BubuhError('LEDGER_REQUEST_INVALID', {
          problem: `${size} items in one request; at most ${this.options.batchTransfersMax}`,
        }),
      );
    }
    if (this.queuedTransfers + size > this.options.queueTransfersMax) {
      return Promise.reject(new BubuhError('LEDGER_OVERLOADED', { retryAfterSeconds: 1 }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ operation, size, durable, resolve, reject });
      this.queuedTransfers += size;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.committing || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate lets every request already woken in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && size + next.size > this.options.batchTransfersMax) break;
      batch.push(this.queue.shift()!);
      size += next.size;
    }
    this.queuedTransfers -= size;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.committing || this.queue.length === 0) return;
    this.committing = true;
    const batch = this.takeBatch();
    const durable = batch.some((waiting) => waiting.durable);
    let outcome: BatchOutcome;
    try {
      // SQLite: the transaction commits without waiting for the WAL's fsync, so the next batch can
      // commit while this one's fsync runs; only the requests that must be durable wait for it below.
      // PostgreSQL: a batch with anyone who must be durable commits synchronously.
      outcome = await this.commitWithRetry(
        batch.map((waiting) => waiting.operation),
        { settle: false, synchronous: durable },
      );
    } catch (error) {
      const refusal = new BubuhError('STORAGE_UNAVAILABLE', {}, { cause: error });
      for (const waiting of batch) waiting.reject(refusal);
      this.committed();
      return;
    }
    for (const [index, waiting] of batch.entries()) {
      if (!waiting.durable) waiting.resolve(outcome.results[index]!);
    }
    if (!durable) {
      this.committed();
      return;
    }
    this.settling += 1;
    this.committed();
    try {
      await this.storage.settle();
      for (const [index, waiting] of batch.entries()) {
        if (waiting.durable) waiting.resolve(outcome.results[index]!);
      }
    } catch (error) {
      const refusal = new BubuhError('STORAGE_UNAVAILABLE', {}, { cause: error });
      for (const waiting of batch) if (waiting.durable) waiting.reject(refusal);
    } finally {
      this.settling -= 1;
      this.notifyDrained();
    }
  }

  /** The batch's transaction is over: the next batch may commit. */
  private committed(): void {
    this.committing = false;
    if (this.queue.length > 0) this.schedule();
    else this.notifyDrained();
  }

  private notifyDrained(): void {
    if (!this.committing && this.queue.length === 0 && this.settling === 0) this.drained?.();
  }

  private async commitWithRetry(
    operations: readonly LedgerOperation[],
    durability?: CommitDurability,
  ): Promise<BatchOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      try {
        const outcome = await commitBatch(
          this.storage,
          operations,
          this.clock(),
          this.timestampLast,
          durability,
        );
        this.timestampLast = Math.max(this.timestampLast, outcome.lastTimestamp);
        this.options.onBatch?.({
          operations: operations.length,
          transfers: outcome.transfersCreated,
          durationMs: performance.now() - started,
        });
        return outcome;
      } catch (error) {
        if (attempt >= retriesMax || !isTransient(error)) throw error;
      }
    }
  }

  /** Stops taking requests and waits until every admitted one has its answer. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.committing && this.queue.length === 0 && this.settling === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }

  async lookupAccounts(ids: readonly string[]): Promise<Account[]> {
    if (ids.length === 0) return [];
    const rows = await this.storage.db
      .selectFrom('ledger_accounts')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, accountFromRow(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async lookupTransfers(ids: readonly string[]): Promise<Transfer[]> {
    if (ids.length === 0) return [];
    const rows = await this.storage.db
      .selectFrom('ledger_transfers')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, transferFromRow(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async lookupPending(ids: readonly string[]): Promise<PendingState[]> {
    if (ids.length === 0) return [];
    const rows = await this.storage.db
      .selectFrom('ledger_pending')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    return rows.map(pendingFromRow);
  }

  /**
   * One account's transfers, newest first, by walking its history chain (each transfer names the
   * previous one of its debit and of its credit account). `after` is the id of the last transfer of
   * the previous page (a cursor); `limit` is at most 1000.
   */
  async getAccountTransfers(
    accountId: string,
    options: { limit?: number; after?: string } = {},
  ): Promise<Transfer[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    let start: string | null;
    if (options.after) {
      const [previous] = await this.lookupTransfers([options.after]);
      if (!previous) return [];
      if (previous.debitAccountId === accountId) start = previous.debitPreviousId;
      else if (previous.creditAccountId === accountId) start = previous.creditPreviousId;
      else return [];
    } else {
      const [account] = await this.lookupAccounts([accountId]);
      start = account?.lastTransferId ?? null;
    }
    if (!start) return [];
    const rows = await sql<Database['ledger_transfers']>`with recursive chain(id, depth) as (
        select cast(${start} as text), cast(0 as integer)
        union all
        select case when t.debit_account_id = ${accountId} then t.debit_previous_id else t.credit_previous_id end,
          c.depth + 1
        from chain c join ledger_transfers t on t.id = c.id
        where c.depth + 1 < ${limit}
      )
      select t.* from chain c join ledger_transfers t on t.id = c.id order by c.depth`.execute(
      this.storage.db,
    );
    return rows.rows.map(transferFromRow);
  }
}

/**
 * Bulk stamping for companies and institutions (`POST /v1/batches`): many files with one placement
 * rule for all or one per file. The request is answered 202 at once; the node then stamps the files
 * one after another through the same path as a single stamp, so each file reserves, succeeds or
 * refunds on its own, and the history shows every one.
 *
 * The uploaded originals are held in memory only while their batch runs (they are never stored). A
 * node that dies mid-batch loses the files it had not reached: no quota was reserved for them, and
 * the batch sweep marks them `failed` with BATCH_INTERRUPTED so the owner knows to send them again.
 */
import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';
import { BubuhError, isBubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import type { StampMetadata, StampPlacement, StampService } from './stamp-service.js';

export type BatchItemStatus = 'queued' | 'stamped' | 'refunded' | 'refused' | 'failed';

export interface BatchFile {
  readonly fileName: string;
  readonly pdf: Uint8Array;
  readonly placement: StampPlacement;
  readonly metadata: StampMetadata;
}

export interface BatchItemView {
  readonly index: number;
  readonly file_name: string;
  readonly status: BatchItemStatus;
  readonly stamp_id: string | null;
  readonly error_code: string | null;
}

export interface BatchView {
  readonly id: string;
  readonly total: number;
  readonly done: number;
  readonly counts: Readonly<Record<BatchItemStatus, number>>;
  readonly finished: boolean;
  readonly created_at: string;
  readonly finished_at: string | null;
  readonly items: readonly BatchItemView[];
  readonly results_url: string | null;
}

/** Files one batch may hold. */
export const batchFilesMax = 500;
/** A refused attempt waits this long before trying the same file again (the pool was busy). */
const busyRetryMs = 250;
/** Busy refusals tolerated per file before it is given up as failed. */
const busyRetriesMax = 240;
/** A queued item untouched this long on a node that is not running its batch was interrupted. */
export const batchInterruptedAfterMs = 10 * 60 * 1000;

export interface BatchService {
  create(accountId: string, quotaAccountId: string, files: readonly BatchFile[]): Promise<BatchView>;
  get(accountId: string, id: string): Promise<BatchView>;
  results(accountId: string, id: string): Promise<Uint8Array>;
  /** Marks queued items of batches no longer running anywhere as failed; returns how many. */
  sweepInterrupted(): Promise<number>;
  /** Resolves when every batch started on this node has finished (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export function createBatchService(node: BubuhNode, stamps: () => Promise<StampService>): BatchService {
  const db = node.storage.db;
  const clock = node.clock;
  const running = new Map<string, Promise<void>>();
  let stopped = false;

  const setItem = async (
    batchId: string,
    index: number,
    fields: { status: BatchItemStatus; stamp_id?: string | null; error_code?: string | null },
  ) => {
    await db
      .updateTable('stamp_batch_items')
      .set({ ...fields, updated_at: clock() })
      .where('batch_id', '=', batchId)
      .where('item_index', '=', index)
      .execute();
  };

  const runOne = async (
    batchId: string,
    accountId: string,
    quotaAccountId: string,
    index: number,
    file: BatchFile,
  ) => {
    for (let attempt = 0; ; attempt += 1) {
      if (stopped) return;
      // Set once the unit is reserved: a refusal after it was refunded, one before it never spent.
      let reservedStampId: string | null = null;
      try {
        const service = await stamps();
        const { view } = await service.stamp({
          accountId,
          quotaAccountId,
          fileName: file.fileName,
          pdf: file.pdf,
          placement: file.placement,
          metadata: file.metadata,
          batchId,
          onReserved: (stampId) => {
            reservedStampId = stampId;
          },
        });
        await setItem(batchId, index, { status: 'stamped', stamp_id: view.id, error_code: null });
        return;
      } catch (error) {
        const code = isBubuhError(error) ? error.code : 'INTERNAL';
        if (
          (code === 'STAMP_BUSY' || code === 'STAMP_UPLOADS_LIMITED' || code === 'LEDGER_OVERLOADED') &&
          attempt < busyRetriesMax
        ) {
          await sleep(busyRetryMs);
          continue;
        }
        const status: BatchItemStatus =
          code === 'INTERNAL' ? 'failed' : reservedStampId !== null ? 'refunded' : 'refused';
        if (code === 'INTERNAL') node.logger.error({ err: error, batchId, index }, 'batch: a file failed');
        await setItem(batchId, index, { status, stamp_id: reservedStampId, error_code: code });
        return;
      }
    }
  };

  const view = async (accountId: string, id: string): Promise<BatchView> => {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new BubuhError('BATCH_NOT_FOUND', { id });
    const batch = await db
      .selectFrom('stamp_batches')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!batch) throw new BubuhError('BATCH_NOT_FOUND', { id });
    const items = await db
      .selectFrom('stamp_batch_items')
      .select(['item_index', 'file_name', 'status', 'stamp_id', 'error_code'])
      .where('batch_id', '=', id)
      .orderBy('item_index')
      .execute();
    const counts: Record<BatchItemStatus, number> = {
      queued: 0,
      stamped: 0,
      refunded: 0,
      refused: 0,
      failed: 0,
    };
    for (const item of items) counts[item.status as BatchItemStatus] += 1;
    const finished = batch.finished_at !== null;
    return {
      id,
      total: Number(batch.total),
      done: Number(batch.total) - counts.queued,
      counts,
      finished,
      created_at: new Date(Number(batch.created_at)).toISOString(),
      finished_at: batch.finished_at === null ? null : new Date(Number(batch.finished_at)).toISOString(),
      items: items.map((item) => ({
        index: Number(item.item_index),
        file_name: item.file_name,
        status: item.status as BatchItemStatus,
        stamp_id: item.stamp_id,
        error_code: item.error_code,
      })),
      results_url: finished && counts.stamped > 0 ? `/v1/batches/${id}/results.zip` : null,
    };
  };

  return {
    async create(accountId, quotaAccountId, files) {
      if (files.length === 0) throw new BubuhError('STAMP_FILE_MISSING');
      if (files.length > batchFilesMax) {
        throw new BubuhError('BATCH_TOO_MANY_FILES', { count: files.length, limit: batchFilesMax });
      }
      const id = randomBytes(16).toString('hex');
      const now = clock();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('stamp_batches')
          .values({ id, account_id: accountId, total: files.length, created_at: now, finished_at: null })
          .execute();
        for (let start = 0; start < files.length; start += 100) {
          await trx
            .insertInto('stamp_batch_items')
            .values(
              files.slice(start, start + 100).map((file, offset) => ({
                batch_id: id,
                item_index: start + offset,
                file_name: file.fileName,
                status: 'queued',
                stamp_id: null,
                error_code: null,
                updated_at: now,
              })),
            )
            .execute();
        }
      });
      const work = (async () => {
        for (const [index, file] of files.entries()) {
          await runOne(id, accountId, quotaAccountId, index, file);
        }
        if (!stopped) {
          await db.updateTable('stamp_batches').set({ finished_at: clock() }).where('id', '=', id).execute();
        }
      })()
        .catch((error: unknown) =>
          node.logger.error({ err: error, batchId: id }, 'batch: stopped by an error'),
        )
        .finally(() => running.delete(id));
      running.set(id, work);
      return view(accountId, id);
    },
    get: view,
    async results(accountId, id) {
      const batch = await view(accountId, id);
      const service = await stamps();
      const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
      const used = new Set<string>();
      for (const item of batch.items) {
        if (item.status !== 'stamped' || item.stamp_id === null) continue;
        let file: { view: { serial: string }; pdf: Uint8Array };
        try {
          file = await service.file(accountId, item.stamp_id);
        } catch (error) {
          if (isBubuhError(error) && error.code === 'STAMP_FILE_GONE') continue;
          throw error;
        }
        const base = item.file_name.replace(/\.pdf$/i, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'document';
        let name = `${String(item.index + 1).padStart(3, '0')}-${base}-${file.view.serial}.pdf`;
        while (used.has(name)) name = `_${name}`;
        used.add(name);
        // Stamped PDFs are already compressed: store them (level 0) rather than deflate again.
        entries[name] = [file.pdf, { level: 0 }];
      }
      if (Object.keys(entries).length === 0) {
        throw new BubuhError('BATCH_RESULTS_EMPTY', { id });
      }
      return zipSync(entries);
    },
    async sweepInterrupted() {
      const before = clock() - batchInterruptedAfterMs;
      const stale = await db
        .selectFrom('stamp_batch_items')
        .select(['batch_id', 'item_index'])
        .where('status', '=', 'queued')
        .where('updated_at', '<', before)
        .limit(1000)
        .execute();
      let marked = 0;
      const batches = new Set<string>();
      for (const item of stale) {
        if (running.has(item.batch_id)) continue;
        await setItem(item.batch_id, Number(item.item_index), {
          status: 'failed',
          error_code: 'BATCH_INTERRUPTED',
        });
        batches.add(item.batch_id);
        marked += 1;
      }
      for (const batchId of batches) {
        const left = await db
          .selectFrom('stamp_batch_items')
          .select('item_index')
          .where('batch_id', '=', batchId)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        if (!left) {
          await db
            .updateTable('stamp_batches')
            .set({ finished_at: clock() })
            .where('id', '=', batchId)
            .where('finished_at', 'is', null)
            .execute();
        }
      }
      return marked;
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    stop() {
      stopped = true;
    },
  };
}

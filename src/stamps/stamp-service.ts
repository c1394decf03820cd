/**
 * The stamping service (DESIGN §5, Stamp): admit → reserve one unit (with the history row) → stamp in
 * the worker pool → store the file → commit (post + registry row + outcome row) → answer. Any failure
 * after the reserve voids it in the same request, with the refusal's code as the refund reason, so the
 * quota is visibly back before the caller hears of the failure. History is read, never kept twice:
 * a stamp's status comes from its outcome row, or — for a reservation the sweeper expired after a
 * crash — from the ledger's own record of the reservation.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { BubuhError, type ErrorCode, type ErrorDetails, errorRegistry } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { withSqliteConnection } from '../storage/database.js';
import { issueStamp, refundReasonOf, stampPdfLimits } from '../services/issue-stamp.js';
import { pooledRandomHex } from '../stamping/random-pool.js';
import { docTypeOf } from './doc-types.js';
import type { EnginePool } from './engine-pool.js';
import { createDiskFileStore, type StampFileRef, type StampFileStore } from './file-store.js';

export type StampStatus = 'pending' | 'stamped' | 'refunded';

/** What the owner sees of one stamp (history rows and the answer to a stamp request). */
export interface StampView {
  readonly id: string;
  readonly serial: string;
  readonly status: StampStatus;
  /** Why a refunded stamp was refunded: an error code (STAMP_RESERVATION_EXPIRED after a crash). */
  readonly reason_code: string | null;
  readonly file_name: string;
  readonly doc_type: string;
  readonly doc_number: string | null;
  readonly doc_date: string | null;
  readonly batch_id: string | null;
  readonly created_at: string;
  readonly stamped_at: string | null;
  readonly page: number | null;
  readonly added_bytes: number | null;
  readonly file_bytes: number | null;
  /** True while the stamped file can still be downloaded. */
  readonly downloadable: boolean;
  readonly download_url: string | null;
  readonly expires_at: string | null;
}

export interface StampPlacement {
  readonly page?: number | 'last';
  readonly x?: number;
  readonly y?: number;
  readonly sizePt?: number;
  readonly password?: string;
}

export interface StampMetadata {
  readonly docType: string;
  readonly docNumber?: string | null;
  readonly docDate?: string | null;
}

export interface StampCommand {
  readonly accountId: string;
  readonly quotaAccountId: string;
  readonly fileName: string;
  readonly pdf: Uint8Array;
  readonly placement: StampPlacement;
  readonly metadata: StampMetadata;
  readonly batchId?: string | null;
  /** The client's Idempotency-Key: the same key and upload answer with the same stamp. */
  readonly idempotencyKey?: string;
  /** The caller wants the stamped bytes in the answer (otherwise they stay in the file store). */
  readonly returnPdf?: boolean;
  /**
   * The caller will not read `pdf` again: its buffer moves to the stamping thread instead of being
   * copied there, and is empty here afterwards. Not for a caller that retries with the same bytes.
   */
  readonly transferPdf?: boolean;
  /** Called once a unit is reserved for this stamp (its history row now exists under `stampId`). */
  readonly onReserved?: (stampId: string) => void;
}

export interface StampOutcome {
  readonly view: StampView;
  /** The stamped file (also stored for download); null when a replay finds it deleted. */
  readonly pdf: Uint8Array | null;
  /** True when this is an earlier request's stamp, found by its Idempotency-Key. */
  readonly replayed: boolean;
}

export interface StampService {
  /** Throws STAMP_BUSY when the pool could not start another stamp in time (call before reading uploads). */
  admit(accountId: string): void;
  stamp(command: StampCommand): Promise<StampOutcome>;
  /** The owner's stamp, or STAMP_NOT_FOUND (also for another account's stamp). */
  get(accountId: string, id: string): Promise<StampView>;
  list(
    accountId: string,
    options: { cursor?: string | undefined; limit: number; batchId?: string },
  ): Promise<{ items: StampView[]; next_cursor: string | null }>;
  /** The stamped file, STAMP_FILE_GONE after retention, STAMP_FILE_UNAVAILABLE when it never existed. */
  file(accountId: string, id: string): Promise<{ view: StampView; pdf: Uint8Array }>;
  /** Digest binding an upload and its parameters (used for idempotency and the history row). */
  requestDigest(pdf: Uint8Array, placement: StampPlacement, metadata: StampMetadata): string;
  sweepFiles(): Promise<number>;
  readonly fileStore: StampFileStore;
  /** The worker pool the service stamps with (server-side verification runs there too). */
  readonly pool: EnginePool;
}

export interface StampServiceDependencies {
  readonly node: BubuhNode;
  readonly pool: EnginePool;
  readonly signerFingerprint: string;
  readonly fileStore?: StampFileStore;
  readonly clock?: () => number;
}

const HOUR_MS = 3600 * 1000;
/** Retries under one key after refusals that depend on the moment (busy, a crash) before it is spent. */
const transientRetriesMax = 16;

/**
 * The id of the stamp an Idempotency-Key stands for: derived, not stored, so two racing requests
 * under one key reserve under the same history key and the ledger lets exactly one of them in.
 * `generation` counts earlier attempts refunded for a passing reason (busy, a crash).
 */
export function stampIdForKey(accountId: string, key: string, generation: number): string {
  return createHash('sha256').update(`${accountId}\n${key}\n${generation}`).digest('hex').slice(0, 32);
}

/** A refusal that depends on the moment, not on the request: a retry under the same key may stamp. */
function transientReason(code: string | null): boolean {
  if (code === null || code === 'INTERNAL') return true;
  const status = (errorRegistry as Record<string, { status: number } | undefined>)[code]?.status ?? 500;
  return status >= 500 || status === 429 || status === 409;
}

interface HistoryRow {
  id: string;
  serial: string;
  file_name: string;
  doc_type: string;
  doc_number: string | null;
  doc_date: string | null;
  batch_id: string | null;
  created_at: number | string;
  outcome: string | null;
  reason_code: string | null;
  reason_details: string | null;
  request_digest: string;
  page: number | null;
  added_bytes: number | null;
  file_bytes: number | null;
  file_expires_at: number | string | null;
  file_location: string | null;
  at: number | string | null;
  pending_status: string | null;
}

function iso(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

function statusOf(row: HistoryRow): { status: StampStatus; reason: string | null } {
  if (row.outcome === 'stamped') return { status: 'stamped', reason: null };
  if (row.outcome === 'refunded') return { status: 'refunded', reason: row.reason_code };
  // No outcome row: the reservation is still held, or the sweeper expired it after a crash.
  if (row.pending_status === 'expired' || row.pending_status === 'voided') {
    return { status: 'refunded', reason: 'STAMP_RESERVATION_EXPIRED' };
  }
  return { status: 'pending', reason: null };
}

export function createStampService(dependencies: StampServiceDependencies): StampService {
  const { node, pool } = dependencies;
  const config = node.config;
  const clock = dependencies.clock ?? Date.now;
  const fileStore =
    dependencies.fileStore ?? createDiskFileStore(config.filesDir ?? join(config.dataDir, 'files'));
  const inProgressByAccount = new Map<string, number>();
  const pdfLimits = stampPdfLimits(config);
  const db = node.storage.db;

  const view = (row: HistoryRow): StampView => {
    const { status, reason } = statusOf(row);
    const expiresAt = row.file_expires_at === null ? null : Number(row.file_expires_at);
    const downloadable = status === 'stamped' && expiresAt !== null && expiresAt > clock();
    return {
      id: row.id,
      serial: row.serial,
      status,
      reason_code: reason,
      file_name: row.file_name,
      doc_type: row.doc_type,
      doc_number: row.doc_number,
      doc_date: row.doc_date,
      batch_id: row.batch_id,
      created_at: iso(row.created_at)!,
      stamped_at: status === 'stamped' ? iso(row.at) : null,
      page: row.page,
      added_bytes: row.added_bytes,
      file_bytes: row.file_bytes,
      downloadable,
      download_url: downloadable ? `/v1/stamps/${row.id}/file` : null,
      expires_at: iso(expiresAt),
    };
  };

  const history = () =>
    db
      .selectFrom('stamps as s')
      .leftJoin('stamp_outcomes as o', 'o.stamp_id', 's.id')
      .leftJoin('ledger_pending as p', 'p.id', 's.reservation_id')
      .select([
        's.id',
        's.serial',
        's.file_name',
        's.doc_type',
        's.doc_number',
        's.doc_date',
        's.batch_id',
        's.created_at',
        'o.outcome',
        'o.reason_code',
        'o.reason_details',
        's.request_digest',
        'o.page',
        'o.added_bytes',
        'o.file_bytes',
        'o.file_expires_at',
        'o.file_location',
        'o.at',
        'p.status as pending_status',
      ]);

  const storage = node.storage;
  let rowByIdStatement: SqliteDatabase.Statement<[string], HistoryRow> | null = null;
  /**
   * One stamp's history row, for the replay check. On SQLite it is read without waiting for the WAL's
   * fsync, so the common case — no row: a new key — costs no wait for other requests' commits; the
   * caller settles before acting on a row it found (nothing it says may depend on a commit a crash
   * could take back).
   */
  const rowUnsettled = async (id: string): Promise<HistoryRow | undefined> => {
    if (!storage.sqlite)
      return (await history().where('s.id', '=', id).executeTakeFirst()) as HistoryRow | undefined;
    return withSqliteConnection(
      storage,
      (database) => {
        rowByIdStatement ??= database.prepare(history().where('s.id', '=', id).compile().sql);
        return rowByIdStatement.get(id);
      },
      { settle: false },
    );
  };

  const getRow = async (accountId: string, id: string): Promise<HistoryRow> => {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new BubuhError('STAMP_NOT_FOUND', { id });
    const row = await history()
      .where('s.id', '=', id)
      .where('s.account_id', '=', accountId)
      .executeTakeFirst();
    if (!row) throw new BubuhError('STAMP_NOT_FOUND', { id });
    return row as HistoryRow;
  };
  const getView = async (accountId: string, id: string): Promise<StampView> =>
    view(await getRow(accountId, id));

  /** Where a stamped row's file is kept. */
  const fileOf = (row: HistoryRow, expiresAt: number): StampFileRef => ({
    id: row.id,
    expiresAt,
    location: row.file_location,
    bytes: row.file_bytes === null ? null : Number(row.file_bytes),
  });

  /** Refuses at once when this account has its limit of stamps in progress or the pool is full. */
  const admit = (accountId: string): void => {
    if ((inProgressByAccount.get(accountId) ?? 0) >= config.stampUploadsPerAccount) {
      throw new BubuhError('STAMP_UPLOADS_LIMITED', {
        limit: config.stampUploadsPerAccount,
        retryAfterSeconds: 1,
      });
    }
    pool.admit();
  };

  const requestDigest = (pdf: Uint8Array, placement: StampPlacement, metadata: StampMetadata): string => {
    const hash = createHash('sha256').update(pdf);
    const { password: _password, ...visible } = placement;
    hash.update(JSON.stringify([visible, metadata]));
    return hash.digest('hex');
  };

  return {
    fileStore,
    pool,
    requestDigest,
    admit,
    async stamp(command) {
      const docType = docTypeOf(command.metadata.docType);
      if (!docType) throw new BubuhError('STAMP_DOC_TYPE_UNKNOWN', { docType: command.metadata.docType });
      admit(command.accountId);
      const digest = requestDigest(command.pdf, command.placement, command.metadata);
      let stampId = pooledRandomHex(16);
      if (command.idempotencyKey !== undefined) {
        // Read-only replay check: the key's stamp, if any, answers for this request.
        for (let generation = 0; ; generation += 1) {
          stampId = stampIdForKey(command.accountId, command.idempotencyKey, generation);
          const row = await rowUnsettled(stampId);
          if (!row) break;
          await storage.settle();
          if (row.request_digest !== digest) throw new BubuhError('IDEMPOTENCY_KEY_REUSED');
          const earlier = view(row);
          if (earlier.status === 'pending')
            throw new BubuhError('IDEMPOTENCY_IN_PROGRESS', { retryAfterSeconds: 1 });
          if (earlier.status === 'stamped') {
            const expiresAt = earlier.expires_at === null ? 0 : Date.parse(earlier.expires_at);
            const pdf = expiresAt > clock() ? await fileStore.get(fileOf(row, expiresAt)) : null;
            return { view: earlier, pdf, replayed: true };
          }
          if (!transientReason(earlier.reason_code) || generation >= transientRetriesMax) {
            const details = row.reason_details ? (JSON.parse(row.reason_details) as ErrorDetails) : {};
            const code = (earlier.reason_code ?? 'INTERNAL') as ErrorCode;
            throw new BubuhError(code, details);
          }
        }
      }
      // Counted after the awaits above: another request of this account may have started meanwhile.
      inProgressByAccount.set(command.accountId, (inProgressByAccount.get(command.accountId) ?? 0) + 1);
      const fileExpiresAt = clock() + config.stampRetentionHours * HOUR_MS;
      let stored: StampFileRef | null = null;
      let reserved = false;
      const metrics = node.metrics;
      const started = performance.now();
      try {
        const issued = await issueStamp(
          {
            ledger: node.ledger,
            // The worker writes and fsyncs the file; only a caller who asked gets the bytes back.
            engine: async (request) => {
              const outputDirectory = await fileStore.directoryFor(fileExpiresAt);
              const result = await pool.stamp(request, {
                outputDirectory,
                returnPdf: command.returnPdf ?? false,
                transferPdf: command.transferPdf === true,
              });
              stored = {
                id: stampId,
                expiresAt: fileExpiresAt,
                location: result.fileLocation ?? null,
                bytes: result.fileBytes,
              };
              return result;
            },
            signerFingerprint: dependencies.signerFingerprint,
            publicBaseUrl: config.publicBaseUrl,
            reservationTimeoutSeconds: config.stampReservationTimeoutSeconds,
            pdfLimits,
            clock,
          },
          {
            pdf: command.pdf,
            quotaAccountId: command.quotaAccountId,
            ...command.placement,
            reason: docType.id,
            record: {
              stampId,
              accountId: command.accountId,
              batchId: command.batchId ?? null,
              fileName: command.fileName,
              docType: docType.code,
              docNumber: command.metadata.docNumber ?? null,
              docDate: command.metadata.docDate ?? null,
              requestDigest: digest,
              fileExpiresAt,
            },
            onStage: (stage, ms) => {
              if (stage === 'reserve') {
                reserved = true;
                command.onReserved?.(stampId);
              }
              metrics.stampStageSeconds.observe({ stage }, ms / 1000);
            },
          },
        );
        metrics.stamps.inc({ outcome: 'stamped' });
        metrics.stampStageSeconds.observe({ stage: 'total' }, (performance.now() - started) / 1000);
        // The row just committed, as `history()` would read it back (the tests compare the two).
        const committed: HistoryRow = {
          id: stampId,
          serial: issued.serial,
          file_name: command.fileName,
          doc_type: docType.code,
          doc_number: command.metadata.docNumber ?? null,
          doc_date: command.metadata.docDate ?? null,
          batch_id: command.batchId ?? null,
          created_at: issued.reservedAt,
          outcome: 'stamped',
          reason_code: null,
          reason_details: null,
          request_digest: digest,
          page: issued.pageNumber,
          added_bytes: issued.addedBytes,
          file_bytes: issued.fileBytes,
          file_expires_at: fileExpiresAt,
          file_location: issued.fileLocation ?? null,
          at: issued.stampedAt,
          pending_status: 'posted',
        };
        return { view: view(committed), pdf: command.returnPdf ? issued.pdf : null, replayed: false };
      } catch (error) {
        if (reserved) {
          metrics.stamps.inc({ outcome: 'refunded' });
          metrics.refunds.inc({ reason: refundReasonOf(error) });
        }
        // The file of a stamp that did not commit must not outlive it.
        if (stored) await fileStore.remove(stored).catch(() => {});
        throw error;
      } finally {
        const left = (inProgressByAccount.get(command.accountId) ?? 1) - 1;
        if (left === 0) inProgressByAccount.delete(command.accountId);
        else inProgressByAccount.set(command.accountId, left);
      }
    },
    get: getView,
    async list(accountId, options) {
      let query = history().where('s.account_id', '=', accountId);
      if (options.batchId) query = query.where('s.batch_id', '=', options.batchId);
      if (options.cursor) {
        const match = /^(\d{1,15})_([0-9a-f]{32})$/.exec(options.cursor);
        if (!match)
          throw new BubuhError('STAMP_FIELD_INVALID', {
            field: 'cursor',
            problem: 'not a cursor from this list',
          });
        const createdAt = Number(match[1]);
        const id = match[2]!;
        query = query.where((eb) =>
          eb.or([
            eb('s.created_at', '<', createdAt),
            eb.and([eb('s.created_at', '=', createdAt), eb('s.id', '<', id)]),
          ]),
        );
      }
      const rows = (await query
        .orderBy('s.created_at', 'desc')
        .orderBy('s.id', 'desc')
        .limit(options.limit + 1)
        .execute()) as HistoryRow[];
      const page = rows.slice(0, options.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(view),
        next_cursor: rows.length > options.limit && last ? `${Number(last.created_at)}_${last.id}` : null,
      };
    },
    async file(accountId, id) {
      const row = await getRow(accountId, id);
      const current = view(row);
      if (current.status !== 'stamped' || current.expires_at === null) {
        throw new BubuhError('STAMP_FILE_UNAVAILABLE', { id, status: current.status });
      }
      const expiresAt = Date.parse(current.expires_at);
      const gone = () => new BubuhError('STAMP_FILE_GONE', { retentionHours: config.stampRetentionHours });
      if (expiresAt <= clock()) throw gone();
      const pdf = await fileStore.get(fileOf(row, expiresAt));
      // Within retention the file must exist: missing here means another node wrote it into a files
      // directory this node does not share (docs/operations.md: one BUBUH_FILES_DIR for all nodes).
      if (!pdf) throw new BubuhError('CLUSTER_FILE_NOT_SHARED', { node: config.nodeId });
      return { view: current, pdf };
    },
    sweepFiles: () => fileStore.sweep(clock()),
  };
}

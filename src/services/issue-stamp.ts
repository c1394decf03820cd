/**
 * Issue one e-meterai on a document, paid from a quota account (DESIGN §5, Stamp):
 * reserve one unit (a pending transfer with a timeout) → stamp → in ONE transaction post the
 * reservation and insert the registry row binding the serial to the signed digest. Any failure after
 * the reserve voids it at once, so the unit is back before the caller hears of the failure; if the
 * process dies instead, the reservation expires and the sweeper returns the unit. A serial is never
 * registered without its unit spent, nor a unit spent without its serial registered.
 *
 * With a `record` (the stamping service), the history is written the same way: the `stamps` row in the
 * reservation's transaction, the `stamp_outcomes` row in the post's or the void's. A reservation that
 * expires instead (the process died) has no outcome row; its history reads the ledger's `expired`.
 */
import { BubuhError, isBubuhError } from '../errors.js';
import { accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LedgerAttachment } from '../ledger/types.js';
import { defaultPdfLimits, type PdfLimits } from '../pdf/limits.js';
import { generateSerial } from '../seal/serial.js';
import { pooledRandomBytes, timeOrderedId } from '../stamping/random-pool.js';
import {
  type StampEnvironment,
  type StampRequest,
  stampDocument,
  stampSummary,
  type StampSummary,
} from '../stamping/stamp-document.js';

export interface IssueStampDependencies {
  readonly ledger: Ledger;
  /** Stamps in this thread; used when no `engine` is given. */
  readonly environment?: StampEnvironment;
  /** Stamps elsewhere (a worker pool); replaces `environment`. */
  readonly engine?: (request: StampRequest) => Promise<EngineStamped>;
  /** Lowercase hex SHA-256 of the signer certificate, recorded in the registry. */
  readonly signerFingerprint: string;
  /** `https://host` without a trailing slash; the QR code links to `<publicBaseUrl>/s/<serial>`. */
  readonly publicBaseUrl: string;
  /** How long a reservation holds before it expires by itself (crash recovery), in seconds. */
  readonly reservationTimeoutSeconds: number;
  /** The reader's limits for the documents this node stamps, over the engine's defaults (pages, …). */
  readonly pdfLimits?: Partial<PdfLimits> | undefined;
  readonly clock?: () => number;
}

/** What an engine answers: besides the result, where it stored the file and how large it is. */
export type EngineStamped = StampSummary & {
  readonly fileBytes?: number;
  /** Where the engine stored the stamped file (stamps/file-store.ts), recorded in the outcome row. */
  readonly fileLocation?: string;
  readonly signerFingerprint?: string;
};

/** The stamping service's history of one attempt (see `stamps` in storage/schema.ts). */
export interface StampRecord {
  readonly stampId: string;
  readonly accountId: string;
  readonly batchId?: string | null;
  readonly fileName: string;
  readonly docType: string;
  readonly docNumber?: string | null;
  readonly docDate?: string | null;
  /** Hex SHA-256 binding the upload and its placement to the attempt. */
  readonly requestDigest: string;
  /** When the stamped file stops being downloadable (ms since the epoch). */
  readonly fileExpiresAt: number;
}

export interface IssueStampInput {
  readonly pdf: Uint8Array;
  readonly quotaAccountId: string;
  readonly page?: number | 'last';
  /** Lower-left corner on the visible page; default: bottom right (see `stampDocument`). */
  readonly x?: number;
  readonly y?: number;
  readonly sizePt?: number;
  readonly password?: string;
  readonly reason?: string;
  /** PAdES B-LT: append a /DSS with the environment's validation data after the signed update. */
  readonly longTerm?: boolean;
  readonly record?: StampRecord;
  /** Reports how long each stage took, in milliseconds (for metrics). */
  readonly onStage?: (stage: 'reserve' | 'engine' | 'commit', ms: number) => void;
}

export interface IssuedStamp extends StampSummary {
  readonly serial: string;
  /** The transfer that spent the unit. */
  readonly transferId: string;
  /** When the unit was reserved (the history row's `created_at`), ms since the epoch. */
  readonly reservedAt: number;
  /** When the stamp was committed (the registry's `stamped_at`), ms since the epoch. */
  readonly stampedAt: number;
  /** The stamped file's size (the engine's own figure when it wrote the file). */
  readonly fileBytes: number;
  /** Where the engine stored the file, when it did. */
  readonly fileLocation?: string;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function stampRow(record: StampRecord, serial: string, reservation: string, now: number): LedgerAttachment {
  return {
    table: 'stamps',
    row: {
      id: record.stampId,
      account_id: record.accountId,
      serial,
      reservation_id: reservation,
      batch_id: record.batchId ?? null,
      file_name: record.fileName,
      doc_type: record.docType,
      doc_number: record.docNumber ?? null,
      doc_date: record.docDate ?? null,
      request_digest: record.requestDigest,
      created_at: now,
    },
  };
}

async function reserve(
  ledger: Ledger,
  quotaAccountId: string,
  timeoutSeconds: number,
  attachments: (reservation: string) => LedgerAttachment[],
): Promise<string> {
  const id = timeOrderedId();
  const [result] = await ledger.createTransfers(
    [
      {
        id,
        kind: 'pending',
        debitAccountId: quotaAccountId,
        creditAccountId: accountIds.stamped,
        amount: 1,
        ledger: quotaLedger,
        code: transferCodes.stamp,
        timeoutSeconds,
      },
    ],
    attachments(id),
    // Nobody hears of the reservation before the stamp's post or void, which is durable and covers
    // it; a crash before that loses the reservation, and the unit with it was never held.
    { durable: false },
  );
  if (result?.result === 'ok') return id;
  if (result?.result === 'exceeds_credits' || result?.result === 'debit_account_not_found') {
    const [account] = await ledger.lookupAccounts([quotaAccountId]);
    const available = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0;
    throw new BubuhError('QUOTA_INSUFFICIENT', { available });
  }
  // The history row's key already exists: a concurrent request under the same Idempotency-Key won.
  if (result?.result === 'attachment_exists') {
    throw new BubuhError('IDEMPOTENCY_IN_PROGRESS', { retryAfterSeconds: 1 });
  }
  throw new Error(`stamp reservation refused by the ledger: ${result?.result}`);
}

/** The stable code a refund is recorded with: the refusal's own code, or INTERNAL for a fault. */
export function refundReasonOf(error: unknown): string {
  return isBubuhError(error) ? error.code : 'INTERNAL';
}

async function release(ledger: Ledger, reservation: string, outcome: LedgerAttachment[] = []): Promise<void> {
  const [result] = await ledger.createTransfers(
    [{ id: timeOrderedId(), kind: 'void_pending', pendingId: reservation }],
    outcome,
  );
  // Already expired is fine: the unit is back either way (the history then reads the expiry).
  if (result?.result !== 'ok' && result?.result !== 'pending_transfer_expired') {
    throw new Error(`voiding reservation ${reservation} failed: ${result?.result}`);
  }
}

function refundedRow(record: StampRecord | undefined, error: unknown, now: number): LedgerAttachment[] {
  if (!record) return [];
  return [
    {
      table: 'stamp_outcomes',
      row: {
        stamp_id: record.stampId,
        outcome: 'refunded',
        reason_code: refundReasonOf(error),
        reason_details: isBubuhError(error) ? JSON.stringify(error.details) : null,
        page: null,
        added_bytes: null,
        file_bytes: null,
        file_expires_at: null,
        file_location: null,
        at: now,
      },
    },
  ];
}

/**
 * The reader limits a node's configuration sets for stamping; undefined when they are the engine's
 * defaults, so the usual stamp opens its document without merging and checking limits again.
 */
export function stampPdfLimits(config: { readonly stampPagesMax: number }): Partial<PdfLimits> | undefined {
  return config.stampPagesMax === defaultPdfLimits.pagesMax ? undefined : { pagesMax: config.stampPagesMax };
}

export async function issueStamp(
  dependencies: IssueStampDependencies,
  input: IssueStampInput,
): Promise<IssuedStamp> {
  const { ledger } = dependencies;
  const clock = dependencies.clock ?? Date.now;
  const engine =
    dependencies.engine ??
    (dependencies.environment
      ? (request: StampRequest) => stampDocument(request, dependencies.environment!)
      : null);
  if (!engine) throw new Error('issueStamp invariant: give an engine or an environment');
  const serial = generateSerial(pooledRandomBytes);
  const record = input.record;
  const stage = input.onStage;
  let mark = performance.now();
  const lap = (name: 'reserve' | 'engine' | 'commit') => {
    const now = performance.now();
    stage?.(name, now - mark);
    mark = now;
  };
  const reservedAt = clock();
  const reservation = await reserve(
    ledger,
    input.quotaAccountId,
    dependencies.reservationTimeoutSeconds,
    (id) => (record ? [stampRow(record, serial, id, reservedAt)] : []),
  );
  lap('reserve');
  let stamped: EngineStamped;
  try {
    stamped = await engine({
      pdf: input.pdf,
      page: input.page ?? 'last',
      ...(input.x !== undefined ? { x: input.x } : {}),
      ...(input.y !== undefined ? { y: input.y } : {}),
      ...(input.sizePt !== undefined ? { sizePt: input.sizePt } : {}),
      ...(input.password !== undefined ? { password: input.password } : {}),
      serial,
      verifyUrl: `${dependencies.publicBaseUrl}/s/${serial}`,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.longTerm ? { longTerm: true } : {}),
      ...(dependencies.pdfLimits ? { limits: dependencies.pdfLimits } : {}),
      signingTime: new Date(clock()),
    });
    lap('engine');
  } catch (error) {
    await release(ledger, reservation, refundedRow(record, error, clock()));
    throw error;
  }
  const spent = timeOrderedId();
  const now = clock();
  const stampedFileBytes = stamped.fileBytes ?? stamped.pdf.length;
  const attachments: LedgerAttachment[] = [
    {
      table: 'stamp_registry',
      row: {
        serial,
        content_digest: hex(stamped.contentDigest),
        transfer_id: spent,
        // The engine's own when it says (its signer may have been renewed since start-up).
        signer_fingerprint: stamped.signerFingerprint ?? dependencies.signerFingerprint,
        page: stamped.pageNumber,
        stamped_at: now,
        status: 'valid',
      },
    },
  ];
  if (record) {
    attachments.push({
      table: 'stamp_outcomes',
      row: {
        stamp_id: record.stampId,
        outcome: 'stamped',
        reason_code: null,
        reason_details: null,
        page: stamped.pageNumber,
        added_bytes: stamped.addedBytes,
        file_bytes: stampedFileBytes,
        file_expires_at: record.fileExpiresAt,
        file_location: stamped.fileLocation ?? null,
        at: now,
      },
    });
  }
  const [committed] = await ledger.createTransfers(
    [{ id: spent, kind: 'post_pending', pendingId: reservation }],
    attachments,
  );
  lap('commit');
  if (committed?.result === 'ok') {
    return Object.assign(stampSummary(stamped), {
      serial,
      transferId: spent,
      reservedAt,
      stampedAt: now,
      fileBytes: stampedFileBytes,
      fileLocation: stamped.fileLocation,
    });
  }
  if (committed?.result === 'pending_transfer_expired') throw new BubuhError('STAMP_RESERVATION_EXPIRED');
  const failure = new Error(`committing stamp ${serial} failed: ${committed?.result}`);
  await release(ledger, reservation, refundedRow(record, failure, clock())).catch(() => {});
  throw failure;
}

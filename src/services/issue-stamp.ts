/**
 * Issue one e-meterai on a document, paid from a quota account (DESIGN §5, Stamp):
 * reserve one unit (a pending transfer with a timeout) → stamp → in ONE transaction post the
 * reservation and insert the registry row binding the serial to the signed digest. Any failure after
 * the reserve voids it at once, so the unit is back before the caller hears of the failure; if the
 * process dies instead, the reservation expires and the sweeper returns the unit. A serial is never
 * registered without its unit spent, nor a unit spent without its serial registered.
 */
import { randomBytes } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';
import { generateSerial } from '../seal/serial.js';
import { type StampEnvironment, type StampResult, stampDocument } from '../stamping/stamp-document.js';

export interface IssueStampDependencies {
  readonly ledger: Ledger;
  readonly environment: StampEnvironment;
  /** Lowercase hex SHA-256 of the signer certificate, recorded in the registry. */
  readonly signerFingerprint: string;
  /** `https://host` without a trailing slash; the QR code links to `<publicBaseUrl>/s/<serial>`. */
  readonly publicBaseUrl: string;
  /** How long a reservation holds before it expires by itself (crash recovery), in seconds. */
  readonly reservationTimeoutSeconds: number;
  readonly clock?: () => number;
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
}

export interface IssuedStamp extends StampResult {
  readonly serial: string;
  /** The transfer that spent the unit. */
  readonly transferId: string;
}

function transferId(): string {
  return randomBytes(16).toString('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

async function reserve(ledger: Ledger, quotaAccountId: string, timeoutSeconds: number): Promise<string> {
  const id = transferId();
  const [result] = await ledger.createTransfers([
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
  ]);
  if (result?.result === 'ok') return id;
  if (result?.result === 'exceeds_credits' || result?.result === 'debit_account_not_found') {
    const [account] = await ledger.lookupAccounts([quotaAccountId]);
    const available = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0;
    throw new BubuhError('QUOTA_INSUFFICIENT', { available });
  }
  throw new Error(`stamp reservation refused by the ledger: ${result?.result}`);
}

async function release(ledger: Ledger, reservation: string): Promise<void> {
  const [result] = await ledger.createTransfers([
    { id: transferId(), kind: 'void_pending', pendingId: reservation },
  ]);
  // Already expired is fine: the unit is back either way.
  if (result?.result !== 'ok' && result?.result !== 'pending_transfer_expired') {
    throw new Error(`voiding reservation ${reservation} failed: ${result?.result}`);
  }
}

export async function issueStamp(
  dependencies: IssueStampDependencies,
  input: IssueStampInput,
): Promise<IssuedStamp> {
  const { ledger } = dependencies;
  const clock = dependencies.clock ?? Date.now;
  const serial = generateSerial((count) => new Uint8Array(randomBytes(count)));
  const reservation = await reserve(ledger, input.quotaAccountId, dependencies.reservationTimeoutSeconds);
  let stamped: StampResult;
  try {
    stamped = await stampDocument(
      {
        pdf: input.pdf,
        page: input.page ?? 'last',
        ...(input.x !== undefined ? { x: input.x } : {}),
        ...(input.y !== undefined ? { y: input.y } : {}),
        ...(input.sizePt !== undefined ? { sizePt: input.sizePt } : {}),
        ...(input.password !== undefined ? { password: input.password } : {}),
        serial,
        verifyUrl: `${dependencies.publicBaseUrl}/s/${serial}`,
        ...(input.reason ? { reason: input.reason } : {}),
        signingTime: new Date(clock()),
      },
      dependencies.environment,
    );
  } catch (error) {
    await release(ledger, reservation);
    throw error;
  }
  const spent = transferId();
  const [committed] = await ledger.createTransfers(
    [{ id: spent, kind: 'post_pending', pendingId: reservation }],
    [
      {
        table: 'stamp_registry',
        row: {
          serial,
          content_digest: hex(stamped.contentDigest),
          transfer_id: spent,
          signer_fingerprint: dependencies.signerFingerprint,
          page: stamped.pageNumber,
          stamped_at: clock(),
          status: 'valid',
        },
      },
    ],
  );
  if (committed?.result === 'ok') return { ...stamped, serial, transferId: spent };
  if (committed?.result === 'pending_transfer_expired') throw new BubuhError('STAMP_RESERVATION_EXPIRED');
  await release(ledger, reservation).catch(() => {});
  throw new Error(`committing stamp ${serial} failed: ${committed?.result}`);
}

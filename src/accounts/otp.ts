/**
 * One-time sign-in codes over WhatsApp. A code is six CSPRNG digits, lives five minutes, allows five
 * verification attempts and is used once; only HMAC-SHA256(per-code salt, code) is stored and the
 * comparison is constant-time. Only the newest code of a phone counts (a new one supersedes the old).
 *
 * Sends are limited per phone (3 per 15 minutes) and per client address (configurable) over a sliding
 * window. The limit is insert-first: a send is recorded, then the window is counted, and a send over
 * the limit is deleted again and refused with OTP_SEND_LIMITED and the seconds until the window frees.
 * Two racing requests can therefore both be refused, never both sent past the limit.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { type Storage, withWriteTransaction } from '../storage/database.js';
import { normalisePhone } from './phone.js';
import type { WhatsappOutbox } from './whatsapp.js';
import { timeOrderedId } from '../stamping/random-pool.js';

export interface OtpOptions {
  readonly clock?: () => number;
  readonly codeLifetimeMs?: number;
  readonly attemptsMax?: number;
  readonly sendsPerPhone?: number;
  readonly sendsPerIp?: number;
  readonly sendWindowMs?: number;
}

export interface CodeRequested {
  readonly phone: string;
  readonly expiresAt: number;
  readonly outboxId: string;
  /** True when the first delivery attempt already succeeded. */
  readonly delivered: boolean;
}

function codeHash(salt: string, code: string): Buffer {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(code, 'utf8').digest();
}

/** The WhatsApp text: the code, its lifetime, and a warning never to share it. */
export function codeMessage(code: string, minutes: number): string {
  return (
    `${code} adalah kode masuk bubuh Anda. Berlaku ${minutes} menit. ` +
    'JANGAN berikan kode ini kepada siapa pun, termasuk yang mengaku petugas bubuh.'
  );
}

export class OtpService {
  private readonly clock: () => number;
  readonly codeLifetimeMs: number;
  readonly attemptsMax: number;
  readonly sendsPerPhone: number;
  readonly sendsPerIp: number;
  readonly sendWindowMs: number;

  constructor(
    readonly storage: Storage,
    readonly outbox: WhatsappOutbox,
    options: OtpOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.codeLifetimeMs = options.codeLifetimeMs ?? 5 * 60_000;
    this.attemptsMax = options.attemptsMax ?? 5;
    this.sendsPerPhone = options.sendsPerPhone ?? 3;
    this.sendsPerIp = options.sendsPerIp ?? 30;
    this.sendWindowMs = options.sendWindowMs ?? 15 * 60_000;
  }

  /** Sends a new code to `phoneInput` (normalised), within the send limits. */
  async requestCode(phoneInput: string, ip: string): Promise<CodeRequested> {
    const phone = normalisePhone(phoneInput);
    await this.admitSend(phone, ip.slice(0, 64));
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const salt = randomBytes(16).toString('hex');
    const now = this.clock();
    const expiresAt = now + this.codeLifetimeMs;
    const outboxId = await withWriteTransaction(this.storage, async (trx) => {
      await trx
        .updateTable('otp_codes')
        .set({ status: 'superseded' })
        .where('phone', '=', phone)
        .where('status', '=', 'active')
        .execute();
      await trx
        .insertInto('otp_codes')
        .values({
          id: timeOrderedId(),
          phone,
          code_hash: codeHash(salt, code).toString('hex'),
          salt,
          attempts: 0,
          status: 'active',
          created_at: now,
          expires_at: expiresAt,
          used_at: null,
        })
        .execute();
      return this.outbox.enqueue(
        { to: phone, text: codeMessage(code, Math.round(this.codeLifetimeMs / 60_000)), code, expiresAt },
        trx,
        { claimed: true },
      );
    });
    // One attempt now so the code arrives at once; a failure is left to the outbox worker's retries.
    const delivered = await this.outbox.sendClaimed(outboxId).catch(() => false);
    return { phone, expiresAt, outboxId, delivered };
  }

  private async admitSend(phone: string, ip: string): Promise<void> {
    const db = this.storage.db;
    const now = this.clock();
    const id = timeOrderedId();
    await db.insertInto('otp_sends').values({ id, phone, ip, sent_at: now }).execute();
    const since = now - this.sendWindowMs;
    // The `limit`-th most recent earlier send in the window, if there is one: sending is allowed again
    // once it leaves the window. One indexed row per check, however many sends an address made (a
    // post-office counter or a carrier's NAT may make thousands).
    const limitingSend = async (column: 'phone' | 'ip', value: string, limit: number) => {
      const row = await db
        .selectFrom('otp_sends')
        .select('sent_at')
        .where(column, '=', value)
        .where('sent_at', '>', since)
        .where('id', '!=', id)
        .orderBy('sent_at', 'desc')
        .limit(1)
        .offset(limit - 1)
        .executeTakeFirst();
      return row === undefined ? null : Number(row.sent_at);
    };
    const waits: number[] = [];
    for (const [column, value, limit] of [
      ['phone', phone, this.sendsPerPhone],
      ['ip', ip, this.sendsPerIp],
    ] as const) {
      const limiting = await limitingSend(column, value, limit);
      if (limiting !== null) waits.push(limiting + this.sendWindowMs - now);
    }
    if (waits.length === 0) return;
    await db.deleteFrom('otp_sends').where('id', '=', id).execute();
    throw new BubuhError('OTP_SEND_LIMITED', {
      retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...waits) / 1000)),
    });
  }

  /**
   * Checks `code` against the newest code of the phone and uses it up; returns the normalised phone.
   * Every verification consumes one attempt before the comparison, so parallel guesses cannot exceed
   * the attempt limit.
   */
  async verify(phoneInput: string, code: string): Promise<string> {
    const phone = normalisePhone(phoneInput);
    const db = this.storage.db;
    const now = this.clock();
    // The active code (at most one: a new code supersedes the old), else the newest, to say why not.
    const newest = (active: boolean) =>
      db
        .selectFrom('otp_codes')
        .selectAll()
        .where('phone', '=', phone)
        .$if(active, (query) => query.where('status', '=', 'active'))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    const row = (await newest(true)) ?? (await newest(false));
    // Why a code cannot be used: superseded or missing, used, exhausted — or else expired.
    const refuseFor = (state: { status: string; attempts: number } | undefined): never => {
      if (!state || state.status === 'superseded') throw new BubuhError('OTP_EXPIRED');
      if (state.status === 'used') throw new BubuhError('OTP_USED');
      if (Number(state.attempts) >= this.attemptsMax) throw new BubuhError('OTP_ATTEMPTS_EXHAUSTED');
      throw new BubuhError('OTP_EXPIRED');
    };
    if (
      !row ||
      row.status !== 'active' ||
      Number(row.expires_at) <= now ||
      row.attempts >= this.attemptsMax
    ) {
      return refuseFor(row);
    }
    const consumed = await db
      .updateTable('otp_codes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', row.id)
      .where('status', '=', 'active')
      .where('attempts', '<', this.attemptsMax)
      .where('expires_at', '>', now)
      .returning('attempts')
      .executeTakeFirst();
    if (!consumed) {
      const again = await db.selectFrom('otp_codes').selectAll().where('id', '=', row.id).executeTakeFirst();
      return refuseFor(again);
    }
    const attempts = Number(consumed.attempts);
    const expected = Buffer.from(row.code_hash, 'hex');
    const given = codeHash(row.salt, /^\d{6}$/.test(code) ? code : 'x');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new BubuhError('OTP_INVALID', { attemptsLeft: this.attemptsMax - attempts });
    }
    const used = await db
      .updateTable('otp_codes')
      .set({ status: 'used', used_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw new BubuhError('OTP_USED');
    return phone;
  }

  /** Deletes send records older than the window and codes dead for a day; returns rows deleted. */
  async sweep(): Promise<number> {
    const now = this.clock();
    const sends = await this.storage.db
      .deleteFrom('otp_sends')
      .where('sent_at', '<=', now - this.sendWindowMs)
      .executeTakeFirst();
    const codes = await this.storage.db
      .deleteFrom('otp_codes')
      .where('expires_at', '<', now - 24 * 3600_000)
      .executeTakeFirst();
    const outbox = await this.storage.db
      .deleteFrom('whatsapp_outbox')
      .where('status', '!=', 'due')
      .where('created_at', '<', now - 7 * 24 * 3600_000)
      .executeTakeFirst();
    return Number(sends.numDeletedRows) + Number(codes.numDeletedRows) + Number(outbox.numDeletedRows);
  }
}

/**
 * WhatsApp messages (sign-in codes) leave through an outbox table, so a send is never lost across
 * restarts: a message is a row first; an attempt claims the row (compare-and-set that moves its next
 * attempt past the attempt's deadline), and the row is marked sent only after the channel succeeded
 * (for http: a 2xx). A failed attempt is retried later with exponential backoff and jitter, by this
 * process or any other; a message whose code has expired is never sent. Delivery is at least once.
 *
 * Channels: `FileChannel` (development) appends one JSON object per line to
 * `<data>/outbox/whatsapp.jsonl`; `HttpChannel` (production) posts a WhatsApp Business API-style JSON
 * body signed with HMAC-SHA256 in `X-Bubuh-Signature`.
 */
import { createHmac } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/database.js';
import type { WhatsappOutboxTable } from '../storage/schema.js';
import { timeOrderedId } from '../stamping/random-pool.js';

export interface WhatsappMessage {
  /** The outbox row id; the http channel sends it as Idempotency-Key so a provider can drop repeats. */
  readonly id: string;
  /** E.164. */
  readonly to: string;
  readonly text: string;
  /** The code the text carries, for the development outbox file only. */
  readonly code: string | null;
}

export interface WhatsappChannel {
  readonly kind: 'file' | 'http';
  /** Resolves once the message was accepted; throws otherwise (the outbox retries later). */
  send(message: WhatsappMessage): Promise<void>;
  /** Lets go of what the channel holds open (the node is stopping). */
  close(): Promise<void>;
}

/**
 * Development: one JSON object per line with `to`, `text`, `code` and `at` (ISO time). The file is
 * opened once, for appending, and kept open: opening, creating the directory and closing for every
 * line cost about a quarter of a millisecond of the event loop per sign-in code in the surge replay.
 * Each line is one write to a file opened with O_APPEND, so lines written at once never interleave.
 */
export class FileChannel implements WhatsappChannel {
  readonly kind = 'file' as const;
  readonly path: string;
  private handle: Promise<FileHandle> | null = null;

  constructor(
    dataDir: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.path = outboxFilePath(dataDir);
  }

  async send(message: WhatsappMessage): Promise<void> {
    const line = JSON.stringify({
      to: message.to,
      text: message.text,
      code: message.code,
      at: new Date(this.clock()).toISOString(),
    });
    const opened = (this.handle ??= this.open());
    try {
      await (await opened).write(`${line}\n`, null, 'utf8');
    } catch (error) {
      // Open again next time (the outbox retries the message).
      if (this.handle === opened) this.handle = null;
      await opened.then((handle) => handle.close()).catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const opened = this.handle;
    this.handle = null;
    if (opened) await opened.then((handle) => handle.close()).catch(() => undefined);
  }

  private async open(): Promise<FileHandle> {
    await mkdir(dirname(this.path), { recursive: true });
    return open(this.path, 'a');
  }
}

export function outboxFilePath(dataDir: string): string {
  return join(dataDir, 'outbox', 'whatsapp.jsonl');
}

export const signatureHeader = 'x-bubuh-signature';

/** `sha256=<lowercase hex HMAC-SHA256 of the body>`, the value of X-Bubuh-Signature. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export interface HttpChannelOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

/** Production: POST a WhatsApp Business API-style text message, signed; success is any 2xx. */
export class HttpChannel implements WhatsappChannel {
  readonly kind = 'http' as const;

  constructor(private readonly options: HttpChannelOptions) {}

  async close(): Promise<void> {
    // Nothing held open: every send is its own request.
  }

  async send(message: WhatsappMessage): Promise<void> {
    const body = JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: message.to,
      type: 'text',
      text: { preview_url: false, body: message.text },
    });
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [signatureHeader]: signBody(this.options.secret, body),
        'idempotency-key': message.id,
      },
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    // Drain the body so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`the WhatsApp endpoint answered HTTP ${response.status}`);
    }
  }
}

export interface OutboxOptions {
  readonly clock?: () => number;
  /** First retry delay; each further retry doubles it (with jitter) up to `backoffMaxMs`. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Attempts before a message is given up as failed. */
  readonly attemptsMax?: number;
  /** How long one claimed attempt may take before another process may try the row again. */
  readonly claimMs?: number;
  /** Rows one drain round looks at. */
  readonly batchMax?: number;
  /** [0, 1) for jitter; injectable for tests. */
  readonly random?: () => number;
  readonly logger?: Logger;
}

export interface OutboxEntry {
  readonly to: string;
  readonly text: string;
  readonly code: string | null;
  /** Never send after this (the code inside expired). */
  readonly expiresAt: number | null;
}

/** Delay before retry number `attempts` (1 = after the first failure): equal jitter on 2^n backoff. */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class WhatsappOutbox {
  private readonly clock: () => number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly attemptsMax: number;
  private readonly claimMs: number;
  private readonly batchMax: number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<number> | null = null;

  constructor(
    readonly storage: Storage,
    readonly channel: WhatsappChannel,
    private readonly options: OutboxOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.backoffBaseMs = options.backoffBaseMs ?? 2000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.attemptsMax = options.attemptsMax ?? 10;
    this.claimMs = options.claimMs ?? 30_000;
    this.batchMax = options.batchMax ?? 50;
    this.random = options.random ?? Math.random;
  }

  /**
   * Writes a message to the outbox (inside the caller's transaction when `db` is one); returns its id.
   * With `claimed` the row is written already claimed by the caller for its first attempt, which it
   * makes with `sendClaimed(id)` (the worker leaves it alone until the claim runs out).
   */
  async enqueue(
    entry: OutboxEntry,
    db: Pick<Storage['db'], 'insertInto'> = this.storage.db,
    options: { claimed?: boolean } = {},
  ): Promise<string> {
    const id = timeOrderedId();
    const now = this.clock();
    const claimed = options.claimed ?? false;
    await db
      .insertInto('whatsapp_outbox')
      .values({
        id,
        recipient: entry.to,
        text: entry.text,
        code: entry.code,
        status: 'due',
        attempts: claimed ? 1 : 0,
        created_at: now,
        next_attempt_at: claimed ? now + this.claimMs : now,
        expires_at: entry.expiresAt,
        sent_at: null,
        last_error: null,
      })
      .execute();
    return id;
  }

  /** One attempt at the message `id` now, if it is due and nobody else holds it; true when sent. */
  async deliver(id: string): Promise<boolean> {
    const row = await this.storage.db
      .selectFrom('whatsapp_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.status !== 'due' || Number(row.next_attempt_at) > this.clock()) return false;
    return this.attempt(row);
  }

  /** The first attempt at a message enqueued with `claimed`; true when sent. */
  async sendClaimed(id: string): Promise<boolean> {
    const row = await this.storage.db
      .selectFrom('whatsapp_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.status !== 'due' || Number(row.attempts) !== 1) return false;
    return this.send(row, 1);
  }

  /** Attempts every due message (one round, at most `batchMax`); returns how many were sent. */
  async drain(): Promise<number> {
    if (this.draining) return this.draining;
    this.draining = this.drainOnce().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainOnce(): Promise<number> {
    const rows = await this.storage.db
      .selectFrom('whatsapp_outbox')
      .selectAll()
      .where('status', '=', 'due')
      .where('next_attempt_at', '<=', this.clock())
      .orderBy('next_attempt_at')
      .limit(this.batchMax)
      .execute();
    let sent = 0;
    for (const row of rows) if (await this.attempt(row)) sent += 1;
    return sent;
  }

  private async attempt(row: WhatsappOutboxTable): Promise<boolean> {
    const db = this.storage.db;
    const now = this.clock();
    if (row.expires_at !== null && Number(row.expires_at) <= now) {
      await db
        .updateTable('whatsapp_outbox')
        .set({ status: 'expired', text: '', code: null })
        .where('id', '=', row.id)
        .where('status', '=', 'due')
        .execute();
      return false;
    }
    const attempts = Number(row.attempts) + 1;
    const claimed = await db
      .updateTable('whatsapp_outbox')
      .set({ next_attempt_at: now + this.claimMs, attempts })
      .where('id', '=', row.id)
      .where('status', '=', 'due')
      .where('next_attempt_at', '=', Number(row.next_attempt_at))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    return this.send(row, attempts);
  }

  /** Sends a row this process has claimed as attempt number `attempts`; records the outcome. */
  private async send(row: WhatsappOutboxTable, attempts: number): Promise<boolean> {
    const db = this.storage.db;
    try {
      await this.channel.send({ id: row.id, to: row.recipient, text: row.text, code: row.code });
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      const failed = attempts >= this.attemptsMax;
      const retryAt =
        this.clock() + backoffDelay(attempts, this.backoffBaseMs, this.backoffMaxMs, this.random);
      await db
        .updateTable('whatsapp_outbox')
        .set({
          status: failed ? 'failed' : 'due',
          next_attempt_at: failed ? this.clock() : retryAt,
          last_error: problem.slice(0, 500),
          ...(failed ? { text: '', code: null } : {}),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'due')
        .where('attempts', '=', attempts) // still our claim
        .execute();
      this.options.logger?.warn(
        { outboxId: row.id, attempts, problem, givenUp: failed },
        failed ? 'whatsapp: message given up' : 'whatsapp: send failed; will retry',
      );
      return false;
    }
    // Sent: the text (which holds the code) is erased.
    await db
      .updateTable('whatsapp_outbox')
      .set({ status: 'sent', sent_at: this.clock(), text: '', code: null, last_error: null })
      .where('id', '=', row.id)
      .execute();
    return true;
  }

  /** Drains every `intervalMs` until `stop()`. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.drain().catch((error: unknown) =>
        this.options.logger?.warn({ err: error }, 'whatsapp: outbox drain failed; will retry'),
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a drain in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining?.catch(() => undefined);
  }
}

/**
 * Idempotency keys, Stripe-style, for any route whose work must happen once however often a client
 * retries it (orders, stamps). A route wraps its work in one call:
 *
 *     return idempotent(request, reply, node, principal.accountId, async () => {
 *       const order = await orders.create(…);
 *       return { status: 201, body: order, headers: { location: `/v1/orders/${order.id}` } };
 *     });
 *
 * The first request with a key inserts its row (account, key) before doing anything — the primary key
 * decides which of two racing requests runs, on SQLite and PostgreSQL alike. Its response (status,
 * JSON body, the headers the work named) is stored and replayed to every later request with the same
 * key and the same method, route and parameters (`Idempotent-Replayed: true`). The same key with other
 * parameters is refused (IDEMPOTENCY_KEY_REUSED, 422); a duplicate arriving while the first still runs
 * is refused (IDEMPOTENCY_IN_PROGRESS, 409, Retry-After). A row left in progress by a crashed process
 * is taken over once its lease (`leaseMs`) has passed. Rows are kept at least `retentionMs` (24 h) and
 * then swept.
 *
 * What is stored when the work fails: a refusal that describes the request (a 4xx BubuhError other
 * than 408, 409, 425 and 429) is stored and replayed like a success; any other failure (5xx, an
 * overload, a conflict, a crash) releases the key so the same request can be retried.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BubuhError, isBubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import type { Storage } from '../storage/database.js';
import type { IdempotencyKeysTable } from '../storage/schema.js';

export interface IdempotentResponse {
  readonly status: number;
  /** Any JSON value; stored as JSON text. */
  readonly body: unknown;
  /** Headers to send now and on every replay (e.g. `location`). Names are stored lowercase. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface IdempotentOutcome extends IdempotentResponse {
  readonly headers: Readonly<Record<string, string>>;
  /** True when this is the stored response of an earlier request. */
  readonly replayed: boolean;
}

export interface IdempotencyScope {
  /** Whose key it is: keys of different accounts never meet. */
  readonly accountId: string;
  readonly key: string;
  /** `requestFingerprint(method, route, parameters)`. */
  readonly requestHash: string;
}

export interface IdempotencyOptions {
  /** Milliseconds since the epoch. */
  readonly clock?: () => number;
  /** How long a request may stay in progress before its key can be taken over (crash recovery). */
  readonly leaseMs?: number;
  /** How long a key and its response are kept (at least 24 hours). */
  readonly retentionMs?: number;
}

export const idempotencyHeader = 'idempotency-key';
export const replayedHeader = 'idempotent-replayed';
const dayMs = 24 * 3600 * 1000;
const retryAfterMaxSeconds = 5;
/** Refusals that depend on the moment rather than the request: never stored. */
const transientStatuses = new Set([408, 409, 425, 429]);

/** 1–255 printable ASCII characters (space to tilde). */
export function checkIdempotencyKey(key: string): string {
  if (key.length === 0) throw new BubuhError('IDEMPOTENCY_KEY_INVALID', { problem: 'it is empty' });
  if (key.length > 255)
    throw new BubuhError('IDEMPOTENCY_KEY_INVALID', { problem: `it is ${key.length} characters long` });
  if (!/^[\x20-\x7e]+$/.test(key))
    throw new BubuhError('IDEMPOTENCY_KEY_INVALID', {
      problem: 'it contains characters that are not printable ASCII',
    });
  return key;
}

/** JSON with object keys sorted at every level; bytes become their SHA-256; undefined is dropped. */
export function canonicalJson(value: unknown): string {
  if (value === undefined || typeof value === 'function') return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Uint8Array) {
    return JSON.stringify({ $sha256: createHash('sha256').update(value).digest('hex') });
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined && typeof item !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
}

/** Lowercase hex SHA-256 of the method, the route pattern and the canonical parameters. */
export function requestFingerprint(method: string, route: string, parameters: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${route}\n${canonicalJson(parameters)}`, 'utf8')
    .digest('hex');
}

function outcomeFromRow(row: IdempotencyKeysTable): IdempotentOutcome {
  return {
    status: Number(row.response_status),
    body: row.response_body === null ? null : JSON.parse(row.response_body),
    headers: row.response_headers === null ? {} : JSON.parse(row.response_headers),
    replayed: true,
  };
}

function lowercaseHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

export class IdempotencyStore {
  private readonly clock: () => number;
  readonly leaseMs: number;
  readonly retentionMs: number;

  constructor(
    readonly storage: Storage,
    options: IdempotencyOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.leaseMs = options.leaseMs ?? 300_000;
    this.retentionMs = Math.max(options.retentionMs ?? dayMs, dayMs);
  }

  /**
   * Runs `work` once for the scope's key and stores its response, or answers with the stored
   * response of an earlier run; refuses a key reused with other parameters or still in progress.
   */
  async execute(
    scope: IdempotencyScope,
    work: () => Promise<IdempotentResponse>,
  ): Promise<IdempotentOutcome> {
    checkIdempotencyKey(scope.key);
    const lockToken = randomBytes(16).toString('hex');
    const db = this.storage.db;
    let owned = false;
    for (let round = 0; round < 3 && !owned; round += 1) {
      const now = this.clock();
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({
          account_id: scope.accountId,
          key: scope.key,
          request_hash: scope.requestHash,
          state: 'in_progress',
          lock_token: lockToken,
          locked_until: now + this.leaseMs,
          response_status: null,
          response_body: null,
          response_headers: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.columns(['account_id', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
        owned = true;
        break;
      }
      const existing = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('account_id', '=', scope.accountId)
        .where('key', '=', scope.key)
        .executeTakeFirst();
      if (!existing) continue; // released or swept between our insert and read: insert again
      if (existing.request_hash !== scope.requestHash) throw new BubuhError('IDEMPOTENCY_KEY_REUSED');
      if (existing.state === 'done') return outcomeFromRow(existing);
      const lockedUntil = Number(existing.locked_until ?? 0);
      if (lockedUntil > now) {
        const seconds = Math.min(retryAfterMaxSeconds, Math.max(1, Math.ceil((lockedUntil - now) / 1000)));
        throw new BubuhError('IDEMPOTENCY_IN_PROGRESS', { retryAfterSeconds: seconds });
      }
      // The owner's lease passed (its process died): take the key over, compare-and-set on its token.
      const taken = await db
        .updateTable('idempotency_keys')
        .set({ lock_token: lockToken, locked_until: now + this.leaseMs, updated_at: now })
        .where('account_id', '=', scope.accountId)
        .where('key', '=', scope.key)
        .where('state', '=', 'in_progress')
        .where('lock_token', '=', existing.lock_token ?? '')
        .executeTakeFirst();
      owned = Number(taken.numUpdatedRows) === 1;
    }
    if (!owned) throw new BubuhError('IDEMPOTENCY_IN_PROGRESS', { retryAfterSeconds: 1 });

    let response: IdempotentResponse;
    try {
      response = await work();
    } catch (error) {
      if (
        isBubuhError(error) &&
        error.status >= 400 &&
        error.status < 500 &&
        !transientStatuses.has(error.status)
      ) {
        await this.finish(scope, lockToken, { status: error.status, body: error.toBody() });
      } else {
        await this.release(scope, lockToken);
      }
      throw error;
    }
    const headers = lowercaseHeaders(response.headers);
    await this.finish(scope, lockToken, { status: response.status, body: response.body, headers });
    return { status: response.status, body: response.body, headers, replayed: false };
  }

  private async finish(
    scope: IdempotencyScope,
    lockToken: string,
    response: IdempotentResponse,
  ): Promise<void> {
    await this.storage.db
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        lock_token: null,
        locked_until: null,
        response_status: response.status,
        response_body: JSON.stringify(response.body ?? null),
        response_headers: JSON.stringify(lowercaseHeaders(response.headers)),
        updated_at: this.clock(),
      })
      .where('account_id', '=', scope.accountId)
      .where('key', '=', scope.key)
      .where('lock_token', '=', lockToken)
      .execute();
  }

  private async release(scope: IdempotencyScope, lockToken: string): Promise<void> {
    await this.storage.db
      .deleteFrom('idempotency_keys')
      .where('account_id', '=', scope.accountId)
      .where('key', '=', scope.key)
      .where('lock_token', '=', lockToken)
      .execute();
  }

  /** Deletes keys older than the retention (never one still owned by a live request); returns how many. */
  async sweep(): Promise<number> {
    const now = this.clock();
    const result = await this.storage.db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', now - this.retentionMs)
      .where((where) => where.or([where('state', '=', 'done'), where('locked_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

const stores = new WeakMap<BubuhNode, IdempotencyStore>();

/** The node's idempotency store (one per node, shared by every route module). */
export function idempotencyStoreOf(node: BubuhNode): IdempotencyStore {
  let store = stores.get(node);
  if (!store) {
    store = new IdempotencyStore(node.storage, {
      clock: node.clock,
      leaseMs: (node.config.idempotencyLeaseSeconds ?? 300) * 1000,
      retentionMs: (node.config.idempotencyRetentionHours ?? 24) * 3600 * 1000,
    });
    stores.set(node, store);
  }
  return store;
}

/** The request's Idempotency-Key, checked; undefined when absent (or IDEMPOTENCY_KEY_REQUIRED). */
export function idempotencyKeyOf(
  request: Pick<FastifyRequest, 'headers'>,
  required: boolean,
): string | undefined {
  const raw = request.headers[idempotencyHeader];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) {
    if (required) throw new BubuhError('IDEMPOTENCY_KEY_REQUIRED');
    return undefined;
  }
  return checkIdempotencyKey(value);
}

export interface IdempotentRouteOptions {
  /** Refuse a request without the header (default true). */
  readonly required?: boolean;
  /**
   * What makes two requests "the same": default `{params, query, body}` of the request. A route whose
   * body is not JSON (an upload) passes its own, e.g. the file's digest and the form fields.
   */
  readonly parameters?: unknown;
}

/**
 * Runs a route's work under the request's Idempotency-Key and sends its (possibly replayed) status and
 * headers; returns the body for the handler to return. Without a key (when not required) the work
 * simply runs.
 */
export async function idempotent(
  request: FastifyRequest,
  reply: FastifyReply,
  node: BubuhNode,
  accountId: string,
  work: () => Promise<IdempotentResponse>,
  options: IdempotentRouteOptions = {},
): Promise<unknown> {
  const key = idempotencyKeyOf(request, options.required ?? true);
  let outcome: IdempotentOutcome;
  if (key === undefined) {
    const response = await work();
    outcome = { ...response, headers: lowercaseHeaders(response.headers), replayed: false };
  } else {
    const parameters =
      options.parameters !== undefined
        ? options.parameters
        : { params: request.params, query: request.query, body: request.body };
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '/';
    outcome = await idempotencyStoreOf(node).execute(
      { accountId, key, requestHash: requestFingerprint(request.method, route, parameters) },
      work,
    );
  }
  for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
  if (outcome.replayed) reply.header(replayedHeader, 'true');
  reply.status(outcome.status);
  return outcome.body;
}

/** A route module with no routes: sweeps expired idempotency keys every hour. */
export function idempotencySweeper(app: FastifyInstance, node: BubuhNode): void {
  const store = idempotencyStoreOf(node);
  const timer = setInterval(() => {
    store
      .sweep()
      .then((deleted) => {
        if (deleted > 0) node.logger.info({ deleted }, 'idempotency: expired keys swept');
      })
      .catch((error: unknown) => node.logger.warn({ err: error }, 'idempotency: sweep failed; will retry'));
  }, 3600_000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

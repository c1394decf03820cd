/**
 * API keys for resellers and institutions. A key acts as the account it belongs to, like a session
 * that does not expire until it is revoked. Its form is `bbh_<id>_<secret>`: the id (16 hex digits) is
 * public and names the row, so a request's key is found without a search by hash, and the rate limiter
 * can give each key its own budget without any lookup. The secret is 256 CSPRNG bits; only its SHA-256
 * is stored (a slow hash adds nothing to a secret that cannot be guessed).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { accountIds } from '../ledger/chart.js';
import { OldestKeys } from '../oldest-keys.js';
import { compiledOnce, type Storage } from '../storage/database.js';
import type { ApiKeysTable } from '../storage/schema.js';
import type { Principal } from './principal.js';
import { parseRoles } from './roles.js';

export const apiKeyPattern = /^bbh_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** `last_used_at` is written at most once per this interval per key, not on every request. */
const lastUsedResolutionMs = 60_000;
/** Ids this node has seen authenticate; the bound keeps a flood of forged ids from growing it. */
const verifiedIdsMax = 10_000;

export interface ApiKey {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

/**
 * The id of the API key a request carries in `Authorization: Bearer bbh_…`, or null. A syntactic check
 * only (no lookup, so it says nothing about whether the key is real): the rate limiter and the waiting
 * room use it to route a program's requests before any database work.
 */
export function apiKeyIdOf(request: {
  readonly headers: { readonly authorization?: string | undefined };
}): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer +(bbh_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\s*$/i.exec(header);
  return match ? (parseApiKey(match[1]!)?.id ?? null) : null;
}

/** True when the request carries a well-formed API key (see `apiKeyIdOf`). */
export function isApiKeyRequest(request: {
  readonly headers: { readonly authorization?: string | undefined };
}): boolean {
  return apiKeyIdOf(request) !== null;
}

/** The id and secret of a well-formed key, or null. Pure and cheap: no lookup. */
export function parseApiKey(token: string): { id: string; secret: string } | null {
  const match = apiKeyPattern.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

function apiKeyFromRow(row: ApiKeysTable): ApiKey {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

function wholeKeyHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export class ApiKeyStore {
  /** SHA-256 (hex) of whole keys that authenticated on this node → their id. */
  private readonly verified = new Map<string, string>();
  /** Which verified key to forget first when the map is full (`oldest-keys.ts`). */
  private readonly oldestVerified = new OldestKeys(this.verified);
  /** A key's row and account by its id; compiled once (see `compiledOnce`). */
  private readonly keyLookup;

  constructor(
    readonly storage: Storage,
    private readonly clock: () => number,
  ) {
    this.keyLookup = compiledOnce(storage.db, (db) =>
      db
        .selectFrom('api_keys')
        .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
        .select([
          'api_keys.secret_hash',
          'api_keys.revoked_at',
          'api_keys.last_used_at',
          'accounts.id as account_id',
          'accounts.phone',
          'accounts.roles',
        ])
        .where('api_keys.id', '=', ''),
    );
  }

  /** Creates a key for `accountId`; the key is returned once and never stored. */
  async create(accountId: string, name: string): Promise<{ key: string; apiKey: ApiKey }> {
    const cleanName = name.trim();
    if (cleanName.length < 1 || cleanName.length > 100) {
      throw new BubuhError('REQUEST_INVALID', { problem: 'an API key name has 1 to 100 characters' });
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    await this.storage.db
      .insertInto('api_keys')
      .values({
        id,
        account_id: accountId,
        name: cleanName,
        secret_hash: secretHash(secret).toString('hex'),
        created_at: now,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    const key = `bbh_${id}_${secret}`;
    if (!apiKeyPattern.test(key)) throw new Error(`api keys: made a malformed key for ${id}`);
    const apiKey = { id, accountId, name: cleanName, createdAt: now, revokedAt: null, lastUsedAt: null };
    return { key, apiKey };
  }

  /** Revokes a key by id; API_KEY_NOT_FOUND when there is no such key or it is already revoked. */
  async revoke(id: string): Promise<ApiKey> {
    const now = this.clock();
    const result = await this.storage.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    for (const [hash, verifiedId] of this.verified) if (verifiedId === id) this.verified.delete(hash);
    if (Number(result.numUpdatedRows) !== 1)
      throw new BubuhError('API_KEY_NOT_FOUND', { id: id.slice(0, 64) });
    const row = await this.storage.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new Error(`api keys: ${id} vanished after revoking it`);
    return apiKeyFromRow(row);
  }

  /** The principal a key stands for, or null when it is malformed, unknown, wrong or revoked. */
  async principalOf(token: string): Promise<Principal | null> {
    const parsed = parseApiKey(token);
    if (!parsed) return null;
    const [row] = await this.keyLookup([parsed.id]);
    if (!row || row.revoked_at !== null) return null;
    const expected = Buffer.from(row.secret_hash, 'hex');
    const given = secretHash(parsed.secret);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    this.rememberVerified(token, parsed.id);
    await this.touch(parsed.id, row.last_used_at === null ? null : Number(row.last_used_at));
    return {
      accountId: row.account_id,
      phone: row.phone,
      roles: parseRoles(row.roles),
      sessionId: `api-key:${parsed.id}`,
      quotaAccountId: accountIds.customerQuota(row.account_id),
      apiKeyId: parsed.id,
    };
  }

  /**
   * True when exactly this key (id and secret) authenticated on this node before. The rate limiter
   * lets such keys skip the per-address budget (a reseller's server is one address); a forged key, even
   * with a real id, never has, so it cannot be used to escape that budget. A key revoked on another node
   * or by the CLI stays here until forgotten, which only spares its (refused) requests the address budget.
   */
  hasVerified(token: string): boolean {
    return this.verified.has(wholeKeyHash(token));
  }

  private rememberVerified(token: string, id: string): void {
    const hash = wholeKeyHash(token);
    this.verified.delete(hash);
    this.verified.set(hash, id);
    if (this.verified.size > verifiedIdsMax) {
      const oldest = this.oldestVerified.next();
      if (oldest !== undefined) this.verified.delete(oldest);
    }
  }

  private async touch(id: string, lastUsedAt: number | null): Promise<void> {
    const now = this.clock();
    if (lastUsedAt !== null && now - lastUsedAt < lastUsedResolutionMs) return;
    await this.storage.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** Every key of an account (revoked ones too), newest first. */
  async list(accountId: string): Promise<ApiKey[]> {
    const rows = await this.storage.db
      .selectFrom('api_keys')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(apiKeyFromRow);
  }
}

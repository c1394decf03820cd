/**
 * Accounts and sessions in storage. An account is created on its first sign-in with the customer role
 * and its own quota ledger account; a session is a 256-bit random bearer token of which only the
 * SHA-256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { accountCodes, accountIds, quotaLedger } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';
import { compiledOnce, type Storage } from '../storage/database.js';
import type { AccountsTable } from '../storage/schema.js';
import type { Principal, Role } from './principal.js';
import { formatRoles, parseRoles } from './roles.js';
import { timeOrderedId } from '../stamping/random-pool.js';

export interface Account {
  readonly id: string;
  readonly phone: string;
  readonly roles: readonly Role[];
  readonly createdAt: number;
}

export interface Session {
  readonly id: string;
  readonly accountId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

export interface AccountStoreOptions {
  /** Milliseconds since the epoch. */
  readonly clock?: () => number;
  /** How long a session lasts, in milliseconds. */
  readonly sessionLifetimeMs?: number;
}

const tokenPrefix = 'bub_';
const tokenPattern = /^bub_[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function accountFromRow(row: AccountsTable): Account {
  return { id: row.id, phone: row.phone, roles: parseRoles(row.roles), createdAt: Number(row.created_at) };
}

export class AccountStore {
  private readonly clock: () => number;
  private readonly sessionLifetimeMs: number;
  /** The session and account of a token's hash; compiled once, as every authenticated request asks. */
  private readonly sessionLookup;

  constructor(
    readonly storage: Storage,
    readonly ledger: Ledger,
    options: AccountStoreOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.sessionLifetimeMs = options.sessionLifetimeMs ?? 30 * 24 * 3600 * 1000;
    this.sessionLookup = compiledOnce(storage.db, (db) =>
      db
        .selectFrom('sessions')
        .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
        .select([
          'sessions.id as session_id',
          'sessions.expires_at',
          'sessions.revoked_at',
          'accounts.id as account_id',
          'accounts.phone',
          'accounts.roles',
        ])
        .where('sessions.token_hash', '=', ''),
    );
  }

  async findByPhone(phone: string): Promise<Account | null> {
    const row = await this.storage.db
      .selectFrom('accounts')
      .selectAll()
      .where('phone', '=', phone)
      .executeTakeFirst();
    return row ? accountFromRow(row) : null;
  }

  async findById(id: string): Promise<Account | null> {
    const row = await this.storage.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? accountFromRow(row) : null;
  }

  /**
   * The account of `phone`, created (as a customer) when it does not exist yet. Safe under races: the
   * unique phone decides which insert wins and both callers read the winner. The quota ledger account
   * is created every time (the ledger answers `exists` for a repeat), so a crash between the two
   * inserts heals on the next sign-in.
   */
  async findOrCreate(phone: string): Promise<{ account: Account; created: boolean }> {
    const id = timeOrderedId();
    const inserted = await this.storage.db
      .insertInto('accounts')
      .values({ id, phone, roles: formatRoles(['customer']), created_at: this.clock() })
      .onConflict((conflict) => conflict.column('phone').doNothing())
      .executeTakeFirst();
    const account = await this.findByPhone(phone);
    if (!account) throw new Error(`accounts: ${phone} vanished after insert`);
    await this.ensureQuotaAccount(account.id);
    return { account, created: Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1 };
  }

  private async ensureQuotaAccount(accountId: string): Promise<void> {
    const [result] = await this.ledger.createAccounts([
      {
        id: accountIds.customerQuota(accountId),
        ledger: quotaLedger,
        code: accountCodes.customerQuota,
        debitsMustNotExceedCredits: true,
      },
    ]);
    if (result && result.result !== 'ok' && result.result !== 'exists') {
      throw new Error(`accounts: quota account for ${accountId} refused: ${result.result}`);
    }
  }

  /** Adds and removes roles; returns the account after the change, or ACCOUNT_NOT_FOUND. */
  async changeRoles(phone: string, add: readonly Role[], remove: readonly Role[]): Promise<Account> {
    for (let round = 0; round < 10; round += 1) {
      const account = await this.findByPhone(phone);
      if (!account) throw new BubuhError('ACCOUNT_NOT_FOUND', { phone });
      const roles = formatRoles([...account.roles.filter((role) => !remove.includes(role)), ...add]);
      // Compare-and-set on the old value so two concurrent edits never lose one another.
      const updated = await this.storage.db
        .updateTable('accounts')
        .set({ roles })
        .where('id', '=', account.id)
        .where('roles', '=', formatRoles(account.roles))
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return { ...account, roles: parseRoles(roles) };
    }
    throw new Error(`accounts: roles of ${phone} kept changing under us`);
  }

  /** Opens a session; the token is returned once and never stored. */
  async createSession(accountId: string): Promise<{ token: string; session: Session }> {
    const token = tokenPrefix + randomBytes(32).toString('base64url');
    const now = this.clock();
    const session: Session = {
      id: timeOrderedId(),
      accountId,
      createdAt: now,
      expiresAt: now + this.sessionLifetimeMs,
      revokedAt: null,
    };
    await this.storage.db
      .insertInto('sessions')
      .values({
        id: session.id,
        token_hash: hashToken(token),
        account_id: accountId,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        revoked_at: null,
      })
      .execute();
    return { token, session };
  }

  /** The principal a bearer token stands for, or null when it is unknown, expired or revoked. */
  async principalOf(token: string): Promise<Principal | null> {
    if (!tokenPattern.test(token)) return null;
    const [row] = await this.sessionLookup([hashToken(token)]);
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= this.clock()) return null;
    return {
      accountId: row.account_id,
      phone: row.phone,
      roles: parseRoles(row.roles),
      sessionId: row.session_id,
      quotaAccountId: accountIds.customerQuota(row.account_id),
    };
  }

  /** The account's sessions that still work, newest first. */
  async listSessions(accountId: string): Promise<Session[]> {
    const rows = await this.storage.db
      .selectFrom('sessions')
      .select(['id', 'account_id', 'created_at', 'expires_at', 'revoked_at'])
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', this.clock())
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      createdAt: Number(row.created_at),
      expiresAt: Number(row.expires_at),
      revokedAt: null,
    }));
  }

  /**
   * Revokes one of the account's own sessions. A session of another account is answered exactly like
   * one that does not exist (SESSION_NOT_FOUND), so ids cannot be probed.
   */
  async revokeSession(accountId: string, sessionId: string): Promise<void> {
    const result = await this.storage.db
      .updateTable('sessions')
      .set({ revoked_at: this.clock() })
      .where('id', '=', sessionId)
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new BubuhError('SESSION_NOT_FOUND', { sessionId: sessionId.slice(0, 64) });
    }
  }
}

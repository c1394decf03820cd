/**
 * Who is calling: the contract between sign-in (accounts/) and every route that needs an account.
 * `authenticate` in accounts/ turns a bearer token into a Principal or refuses with `AUTH_REQUIRED`.
 */
export type Role = 'customer' | 'channel_operator' | 'platform_operator' | 'issuer';

export const ROLES: readonly Role[] = ['customer', 'channel_operator', 'platform_operator', 'issuer'];

export interface Principal {
  /** The account's opaque id (not the phone number). */
  readonly accountId: string;
  /** E.164, e.g. +6281234567890. */
  readonly phone: string;
  readonly roles: readonly Role[];
  /** The session the bearer token belongs to, for logout and audit. */
  readonly sessionId: string;
  /** The ledger account holding this customer's e-meterai quota. */
  readonly quotaAccountId: string;
  /**
   * Set when the caller authenticated with an API key (a reseller's or an institution's program) rather
   * than a sign-in session; `sessionId` is then `api-key:<id>`.
   */
  readonly apiKeyId?: string;
}

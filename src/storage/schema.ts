/** Row types of every table, as Kysely sees them. One schema for SQLite and PostgreSQL. */

export interface LedgerAccountsTable {
  id: string;
  ledger: number;
  code: number;
  flags: number;
  debits_pending: number;
  debits_posted: number;
  credits_pending: number;
  credits_posted: number;
  last_transfer_id: string | null;
  timestamp: number;
}

export interface LedgerTransfersTable {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  pending_id: string | null;
  ledger: number;
  code: number;
  kind: number;
  timeout_s: number;
  timestamp: number;
  debit_previous_id: string | null;
  credit_previous_id: string | null;
}

export interface LedgerPendingTable {
  id: string;
  status: string;
  expires_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
}

/** One row per e-meterai ever issued: the serial bound to the digest of what its signature covers. */
export interface StampRegistryTable {
  serial: string;
  /** Lowercase hex SHA-256 of the signed byte ranges (the CMS message digest). */
  content_digest: string;
  /** The ledger transfer that spent the unit (a post of the stamp's reservation). */
  transfer_id: string;
  /** Lowercase hex SHA-256 of the signer certificate (DER). */
  signer_fingerprint: string;
  page: number;
  /** Milliseconds since the epoch. */
  stamped_at: number;
  /** 'valid' or 'revoked'. */
  status: string;
}

export interface Database {
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_pending: LedgerPendingTable;
  stamp_registry: StampRegistryTable;
}

/**
 * Tables whose rows may be written in the same transaction as a ledger request ("attachments"), with
 * the key that must be new. A fixed list: attachments name a table, never arbitrary SQL.
 */
export const attachmentTables = Object.freeze({
  stamp_registry: {
    key: 'serial',
    columns: [
      'serial',
      'content_digest',
      'transfer_id',
      'signer_fingerprint',
      'page',
      'stamped_at',
      'status',
    ],
    /** PostgreSQL types of the columns, in order (array parameters are cast to them). */
    types: ['text', 'text', 'text', 'text', 'integer', 'bigint', 'text'],
  },
} as const);

export type AttachmentTable = keyof typeof attachmentTables;

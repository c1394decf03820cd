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
}

export interface LedgerPendingTable {
  id: string;
  status: string;
  expires_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
}

export interface Database {
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_pending: LedgerPendingTable;
}

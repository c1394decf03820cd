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

/** Sign-in (accounts/): times are milliseconds since the epoch. */
export interface AccountsTable {
  id: string;
  /** E.164, unique. */
  phone: string;
  /** Comma-separated sorted role names. */
  roles: string;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  /** Lowercase hex SHA-256 of the bearer token; the token itself is never stored. */
  token_hash: string;
  account_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface ApiKeysTable {
  /** Public: written inside the key (`bbh_<id>_<secret>`). */
  id: string;
  account_id: string;
  name: string;
  /** Lowercase hex SHA-256 of the key's secret part; the secret itself is never stored. */
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface OtpCodesTable {
  id: string;
  phone: string;
  /** Lowercase hex HMAC-SHA256 keyed by `salt` of the six digits. */
  code_hash: string;
  salt: string;
  attempts: number;
  /** 'active', 'used' or 'superseded'. */
  status: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface OtpSendsTable {
  id: string;
  phone: string;
  ip: string;
  sent_at: number;
}

export interface WhatsappOutboxTable {
  id: string;
  recipient: string;
  text: string;
  /** The one-time code the text carries (development file outbox only); erased once sent. */
  code: string | null;
  /** 'due', 'sent', 'expired' or 'failed'. */
  status: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  /** After this the message is pointless (its code expired) and is never sent. */
  expires_at: number | null;
  sent_at: number | null;
  last_error: string | null;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  /** Lowercase hex SHA-256 of method, route and canonical parameters. */
  request_hash: string;
  /** 'in_progress' or 'done'. */
  state: string;
  lock_token: string | null;
  locked_until: number | null;
  response_status: number | null;
  response_body: string | null;
  response_headers: string | null;
  created_at: number;
  updated_at: number;
}

/** One row per stamp attempt that reserved a unit (committed with the reservation). */
export interface StampsTable {
  id: string;
  account_id: string;
  serial: string;
  /** The pending ledger transfer holding the unit. */
  reservation_id: string;
  batch_id: string | null;
  file_name: string;
  doc_type: string;
  doc_number: string | null;
  doc_date: string | null;
  /** Lowercase hex SHA-256 of the upload and its placement: a retry under one key must match it. */
  request_digest: string;
  created_at: number;
}

/** A bulk stamping job. */
export interface StampBatchesTable {
  id: string;
  account_id: string;
  total: number;
  created_at: number;
  finished_at: number | null;
}

/** One file of a bulk job: queued → stamped | refunded | refused | failed. */
export interface StampBatchItemsTable {
  batch_id: string;
  item_index: number;
  file_name: string;
  status: string;
  stamp_id: string | null;
  error_code: string | null;
  updated_at: number;
}

/** How a stamp ended: committed with the post ('stamped') or with the void ('refunded'). */
export interface StampOutcomesTable {
  stamp_id: string;
  outcome: string;
  reason_code: string | null;
  /** JSON of the refusal's details, so a retry under the same key gets the same answer. */
  reason_details: string | null;
  page: number | null;
  added_bytes: number | null;
  file_bytes: number | null;
  file_expires_at: number | null;
  /** `<segment>@<offset>` in the hour's directory (stamps/file-store.ts); NULL: a file of its own. */
  file_location: string | null;
  at: number;
}

/** Commerce (commerce/): amounts are whole rupiah, times milliseconds since the epoch. */
export interface ChannelsTable {
  id: string;
  name: string;
  /** Charged per unit on top of the Rp10,000 duty. */
  fee_rupiah: number;
  created_at: number;
}

export interface OrdersTable {
  id: string;
  account_id: string;
  /** The buyer's phone with all but the first 4 and last 3 digits masked, for receipts. */
  account_phone_masked: string;
  channel_id: string;
  quantity: number;
  unit_price_rupiah: number;
  fee_per_unit_rupiah: number;
  amount_rupiah: number;
  /** Always 'IDR'. */
  currency: string;
  /** 'awaiting_payment', 'paid', 'expired', 'refunded' or 'partially_refunded'. */
  status: string;
  /** The gateway kind that took the payment ('sandbox' or 'midtrans'). */
  gateway: string;
  /** The pending ledger transfer reserving the stock while payment is awaited. */
  reservation_id: string;
  payment_token: string | null;
  redirect_url: string | null;
  created_at: number;
  /** End of the payment window; the reservation times out then. */
  expires_at: number;
  paid_at: number | null;
  /** Units returned for money (customer and automatic refunds). */
  refunded_quantity: number;
  updated_at: number;
}

/** Exactly one row per credited order, written in the transaction of its credit transfer. */
export interface OrderSettlementsTable {
  order_id: string;
  transfer_id: string;
  gateway_transaction_id: string;
  gross_amount_rupiah: number;
  payment_type: string;
  /** 'notification' or 'reconciliation'. */
  source: string;
  settled_at: number;
}

export interface PaymentEventsTable {
  id: string;
  order_id: string;
  source: string;
  transaction_status: string;
  fraud_status: string | null;
  status_code: string;
  gross_amount: string;
  /** What was done: applied, duplicate, ignored, refused_signature, refused_amount, … */
  outcome: string;
  received_at: number;
}

export interface RefundsTable {
  /** `<order id>-r<n>`; also the gateway's idempotent refund_key. */
  id: string;
  order_id: string;
  account_id: string;
  /** 'customer' (asked for) or 'automatic' (paid after expiry with no stock left). */
  kind: string;
  quantity: number;
  amount_rupiah: number;
  /** The moneyRefund transfer that returned the quota (null for automatic refunds: none was credited). */
  transfer_id: string | null;
  /** 'requested', 'succeeded' or 'failed' (retried). */
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  next_attempt_at: number;
}

/** One revocation: a certificate (listed on the issuing CA's CRL) or an e-meterai (shown by the registry). */
export interface RevocationsTable {
  /** 'certificate' or 'stamp'. */
  kind: string;
  /** Certificate serial in lowercase hex without leading zeros, or the 22-character e-meterai serial. */
  serial: string;
  /** An RFC 5280 CRLReason name, e.g. 'keyCompromise'. */
  reason: string;
  /** Milliseconds since the epoch. */
  revoked_at: number;
  /** Certificates only: lowercase hex SHA-256 of the issuing CA certificate. */
  issuer_fingerprint: string | null;
}

export interface Database {
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_pending: LedgerPendingTable;
  stamp_registry: StampRegistryTable;
  revocations: RevocationsTable;
  stamps: StampsTable;
  stamp_outcomes: StampOutcomesTable;
  stamp_batches: StampBatchesTable;
  stamp_batch_items: StampBatchItemsTable;
  accounts: AccountsTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  otp_codes: OtpCodesTable;
  otp_sends: OtpSendsTable;
  whatsapp_outbox: WhatsappOutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  channels: ChannelsTable;
  orders: OrdersTable;
  order_settlements: OrderSettlementsTable;
  payment_events: PaymentEventsTable;
  refunds: RefundsTable;
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
  orders: {
    key: 'id',
    columns: [
      'id',
      'account_id',
      'account_phone_masked',
      'channel_id',
      'quantity',
      'unit_price_rupiah',
      'fee_per_unit_rupiah',
      'amount_rupiah',
      'currency',
      'status',
      'gateway',
      'reservation_id',
      'payment_token',
      'redirect_url',
      'created_at',
      'expires_at',
      'paid_at',
      'refunded_quantity',
      'updated_at',
    ],
    types: [
      'text',
      'text',
      'text',
      'text',
      'integer',
      'integer',
      'integer',
      'bigint',
      'text',
      'text',
      'text',
      'text',
      'text',
      'text',
      'bigint',
      'bigint',
      'bigint',
      'integer',
      'bigint',
    ],
  },
  order_settlements: {
    key: 'order_id',
    columns: [
      'order_id',
      'transfer_id',
      'gateway_transaction_id',
      'gross_amount_rupiah',
      'payment_type',
      'source',
      'settled_at',
    ],
    types: ['text', 'text', 'text', 'bigint', 'text', 'text', 'bigint'],
  },
  refunds: {
    key: 'id',
    columns: [
      'id',
      'order_id',
      'account_id',
      'kind',
      'quantity',
      'amount_rupiah',
      'transfer_id',
      'status',
      'attempts',
      'last_error',
      'created_at',
      'updated_at',
      'next_attempt_at',
    ],
    types: [
      'text',
      'text',
      'text',
      'text',
      'integer',
      'bigint',
      'text',
      'text',
      'integer',
      'text',
      'bigint',
      'bigint',
      'bigint',
    ],
  },
  stamps: {
    key: 'id',
    columns: [
      'id',
      'account_id',
      'serial',
      'reservation_id',
      'batch_id',
      'file_name',
      'doc_type',
      'doc_number',
      'doc_date',
      'request_digest',
      'created_at',
    ],
    types: ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'bigint'],
  },
  stamp_outcomes: {
    key: 'stamp_id',
    columns: [
      'stamp_id',
      'outcome',
      'reason_code',
      'reason_details',
      'page',
      'added_bytes',
      'file_bytes',
      'file_expires_at',
      'file_location',
      'at',
    ],
    types: ['text', 'text', 'text', 'text', 'integer', 'integer', 'integer', 'bigint', 'text', 'bigint'],
  },
} as const);

export type AttachmentTable = keyof typeof attachmentTables;

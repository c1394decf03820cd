/**
 * One migration set for both databases. Column types are the portable subset: `text`, `integer`,
 * `bigint` (SQLite stores both as 64-bit integers). Migrations run at start-up and via `bubuh migrate`.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { apiKeysMigration } from './migrations/0007_api_keys.js';
import { stampFileSegmentsMigration } from './migrations/0008_stamp_file_segments.js';
import { noRegistryDigestIndexMigration } from './migrations/0009_no_registry_digest_index.js';
import { partialStampsBatchIndexMigration } from './migrations/0010_partial_stamps_batch_index.js';

const migrations: Record<string, Migration> = {
  '0001_ledger': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ledger_accounts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('ledger', 'integer', (column) => column.notNull())
        .addColumn('code', 'integer', (column) => column.notNull())
        .addColumn('flags', 'integer', (column) => column.notNull())
        .addColumn('debits_pending', 'bigint', (column) => column.notNull())
        .addColumn('debits_posted', 'bigint', (column) => column.notNull())
        .addColumn('credits_pending', 'bigint', (column) => column.notNull())
        .addColumn('credits_posted', 'bigint', (column) => column.notNull())
        .addColumn('last_transfer_id', 'text')
        .addColumn('timestamp', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('ledger_transfers')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('debit_account_id', 'text', (column) => column.notNull())
        .addColumn('credit_account_id', 'text', (column) => column.notNull())
        .addColumn('amount', 'bigint', (column) => column.notNull())
        .addColumn('pending_id', 'text')
        .addColumn('ledger', 'integer', (column) => column.notNull())
        .addColumn('code', 'integer', (column) => column.notNull())
        .addColumn('kind', 'integer', (column) => column.notNull())
        .addColumn('timeout_s', 'integer', (column) => column.notNull())
        .addColumn('timestamp', 'bigint', (column) => column.notNull())
        // Each account's history is a chain through these (no per-account index: see types.ts).
        .addColumn('debit_previous_id', 'text')
        .addColumn('credit_previous_id', 'text')
        .execute();
      // The resolution state of each pending transfer. Transfers stay immutable; this row changes
      // exactly once, from 'pending' to 'posted', 'voided' or 'expired'.
      await db.schema
        .createTable('ledger_pending')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('resolved_by', 'text')
        .addColumn('resolved_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('ledger_pending_expiry')
        .on('ledger_pending')
        .column('expires_at')
        .where(sql.ref('status'), '=', 'pending')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ledger_pending').execute();
      await db.schema.dropTable('ledger_transfers').execute();
      await db.schema.dropTable('ledger_accounts').execute();
    },
  },
  '0002_stamp_registry': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stamp_registry')
        .addColumn('serial', 'text', (column) => column.primaryKey())
        .addColumn('content_digest', 'text', (column) => column.notNull())
        .addColumn('transfer_id', 'text', (column) => column.notNull())
        .addColumn('signer_fingerprint', 'text', (column) => column.notNull())
        .addColumn('page', 'integer', (column) => column.notNull())
        .addColumn('stamped_at', 'bigint', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('stamp_registry_digest')
        .on('stamp_registry')
        .column('content_digest')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('stamp_registry').execute();
    },
  },
  '0003_accounts': {
    async up(db: Kysely<unknown>) {
      // Accounts are named by an opaque id; the phone (E.164) is unique. `roles` is a comma-separated
      // sorted list of role names.
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('phone', 'text', (column) => column.notNull().unique())
        .addColumn('roles', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
      // Only the SHA-256 of a session's bearer token is kept.
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();
      // One-time codes, stored as HMAC-SHA256(salt, code). status: active, used, superseded.
      await db.schema
        .createTable('otp_codes')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('phone', 'text', (column) => column.notNull())
        .addColumn('code_hash', 'text', (column) => column.notNull())
        .addColumn('salt', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('otp_codes_phone')
        .on('otp_codes')
        .columns(['phone', 'created_at'])
        .execute();
      // Every accepted code send, for the per-phone and per-address limits.
      await db.schema
        .createTable('otp_sends')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('phone', 'text', (column) => column.notNull())
        .addColumn('ip', 'text', (column) => column.notNull())
        .addColumn('sent_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('otp_sends_phone').on('otp_sends').columns(['phone', 'sent_at']).execute();
      await db.schema.createIndex('otp_sends_ip').on('otp_sends').columns(['ip', 'sent_at']).execute();
      // WhatsApp messages waiting to leave. status: due, sent, expired, failed. A row is claimed by
      // moving next_attempt_at past the attempt's deadline, and marked sent only after a 2xx.
      await db.schema
        .createTable('whatsapp_outbox')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('recipient', 'text', (column) => column.notNull())
        .addColumn('text', 'text', (column) => column.notNull())
        .addColumn('code', 'text')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('next_attempt_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('sent_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('whatsapp_outbox_due')
        .on('whatsapp_outbox')
        .columns(['status', 'next_attempt_at'])
        .execute();
      // Idempotency keys: one row per (account, key), inserted first so a duplicate loses on the
      // primary key. state: in_progress (owned by lock_token until locked_until) or done.
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('key', 'text', (column) => column.notNull())
        .addColumn('request_hash', 'text', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('lock_token', 'text')
        .addColumn('locked_until', 'bigint')
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('response_headers', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
        .execute();
      await db.schema
        .createIndex('idempotency_keys_created')
        .on('idempotency_keys')
        .column('created_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('idempotency_keys').execute();
      await db.schema.dropTable('whatsapp_outbox').execute();
      await db.schema.dropTable('otp_sends').execute();
      await db.schema.dropTable('otp_codes').execute();
      await db.schema.dropTable('sessions').execute();
      await db.schema.dropTable('accounts').execute();
    },
  },
  '0006_stamp_service': {
    async up(db: Kysely<unknown>) {
      // One row per stamp attempt that reserved a unit, written in the reservation's own transaction.
      await db.schema
        .createTable('stamps')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('serial', 'text', (column) => column.notNull())
        .addColumn('reservation_id', 'text', (column) => column.notNull())
        .addColumn('batch_id', 'text')
        .addColumn('file_name', 'text', (column) => column.notNull())
        .addColumn('doc_type', 'text', (column) => column.notNull())
        .addColumn('doc_number', 'text')
        .addColumn('doc_date', 'text')
        .addColumn('request_digest', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('stamps_account_created')
        .on('stamps')
        .columns(['account_id', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('stamps_batch').on('stamps').columns(['batch_id']).execute();
      // How each stamp ended, written in the same transaction as the post (stamped) or void (refunded).
      // The primary key makes a second ending impossible.
      // Bulk jobs: the batch and one row per file, updated as each file is stamped or refused.
      await db.schema
        .createTable('stamp_batches')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('total', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('stamp_batches_account')
        .on('stamp_batches')
        .columns(['account_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('stamp_batch_items')
        .addColumn('batch_id', 'text', (column) => column.notNull())
        .addColumn('item_index', 'integer', (column) => column.notNull())
        .addColumn('file_name', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('stamp_id', 'text')
        .addColumn('error_code', 'text')
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('stamp_batch_items_pk', ['batch_id', 'item_index'])
        .execute();
      await db.schema
        .createTable('stamp_outcomes')
        .addColumn('stamp_id', 'text', (column) => column.primaryKey())
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('reason_code', 'text')
        .addColumn('reason_details', 'text')
        .addColumn('page', 'integer')
        .addColumn('added_bytes', 'integer')
        .addColumn('file_bytes', 'integer')
        .addColumn('file_expires_at', 'bigint')
        .addColumn('at', 'bigint', (column) => column.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('stamp_outcomes').execute();
      await db.schema.dropTable('stamp_batch_items').execute();
      await db.schema.dropTable('stamp_batches').execute();
      await db.schema.dropTable('stamps').execute();
    },
  },
  '0004_commerce': {
    async up(db: Kysely<unknown>) {
      // Sales channels and their fee per unit in whole rupiah; `direct` (bubuh itself) charges none.
      await db.schema
        .createTable('channels')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('fee_rupiah', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
      await db
        .insertInto('channels' as never)
        .values({ id: 'direct', name: 'bubuh', fee_rupiah: 0, created_at: Date.now() } as never)
        .execute();
      // Orders of quota. Amounts are whole rupiah. status: awaiting_payment, paid, expired,
      // refunded, partially_refunded (docs/commerce.md has the state diagram).
      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('account_phone_masked', 'text', (column) => column.notNull())
        .addColumn('channel_id', 'text', (column) => column.notNull())
        .addColumn('quantity', 'integer', (column) => column.notNull())
        .addColumn('unit_price_rupiah', 'integer', (column) => column.notNull())
        .addColumn('fee_per_unit_rupiah', 'integer', (column) => column.notNull())
        .addColumn('amount_rupiah', 'bigint', (column) => column.notNull())
        .addColumn('currency', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('gateway', 'text', (column) => column.notNull())
        .addColumn('reservation_id', 'text', (column) => column.notNull())
        .addColumn('payment_token', 'text')
        .addColumn('redirect_url', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('paid_at', 'bigint')
        .addColumn('refunded_quantity', 'integer', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('orders_account')
        .on('orders')
        .columns(['account_id', 'created_at'])
        .execute();
      await db.schema.createIndex('orders_status').on('orders').columns(['status', 'created_at']).execute();
      // The settlement of an order: written in the same transaction as the transfer that credits the
      // quota (a ledger attachment keyed by the order), so an order is credited at most once.
      await db.schema
        .createTable('order_settlements')
        .addColumn('order_id', 'text', (column) => column.primaryKey())
        .addColumn('transfer_id', 'text', (column) => column.notNull())
        .addColumn('gateway_transaction_id', 'text', (column) => column.notNull())
        .addColumn('gross_amount_rupiah', 'bigint', (column) => column.notNull())
        .addColumn('payment_type', 'text', (column) => column.notNull())
        .addColumn('source', 'text', (column) => column.notNull())
        .addColumn('settled_at', 'bigint', (column) => column.notNull())
        .execute();
      // Every gateway event received or learned (notification or status query), with what was done.
      await db.schema
        .createTable('payment_events')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('order_id', 'text', (column) => column.notNull())
        .addColumn('source', 'text', (column) => column.notNull())
        .addColumn('transaction_status', 'text', (column) => column.notNull())
        .addColumn('fraud_status', 'text')
        .addColumn('status_code', 'text', (column) => column.notNull())
        .addColumn('gross_amount', 'text', (column) => column.notNull())
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('payment_events_order')
        .on('payment_events')
        .columns(['order_id', 'received_at'])
        .execute();
      // Money refunds. A customer refund is written with the transfer that returns its quota (a
      // ledger attachment); its id `<order>-r<n>` makes two concurrent refunds of one order collide.
      // status: requested, succeeded, failed (retried until it succeeds).
      await db.schema
        .createTable('refunds')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('order_id', 'text', (column) => column.notNull())
        .addColumn('account_id', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('quantity', 'integer', (column) => column.notNull())
        .addColumn('amount_rupiah', 'bigint', (column) => column.notNull())
        .addColumn('transfer_id', 'text')
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addColumn('next_attempt_at', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('refunds_order').on('refunds').column('order_id').execute();
      await db.schema
        .createIndex('refunds_due')
        .on('refunds')
        .columns(['status', 'next_attempt_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('refunds').execute();
      await db.schema.dropTable('payment_events').execute();
      await db.schema.dropTable('order_settlements').execute();
      await db.schema.dropTable('orders').execute();
      await db.schema.dropTable('channels').execute();
    },
  },
  '0005_revocations': {
    async up(db: Kysely<unknown>) {
      // Every revocation, shared by all nodes: a signer (or TSA) certificate by its serial in lowercase
      // hex, or an e-meterai by its serial. Immutable rows; the key makes a second revocation impossible.
      await db.schema
        .createTable('revocations')
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('serial', 'text', (column) => column.notNull())
        .addColumn('reason', 'text', (column) => column.notNull())
        .addColumn('revoked_at', 'bigint', (column) => column.notNull())
        // Certificates: lowercase hex SHA-256 of the issuing CA certificate whose CRL lists it.
        .addColumn('issuer_fingerprint', 'text')
        .addPrimaryKeyConstraint('revocations_pk', ['kind', 'serial'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('revocations').execute();
    },
  },
  '0007_api_keys': apiKeysMigration,
  '0008_stamp_file_segments': stampFileSegmentsMigration,
  '0009_no_registry_digest_index': noRegistryDigestIndexMigration,
  '0010_partial_stamps_batch_index': partialStampsBatchIndexMigration,
};

class InCodeMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly latest: string;
}

/**
 * Applies every migration not yet applied; throws the first failure. On PostgreSQL `schema` names where
 * the migrator keeps its own tables: Kysely looks for them in every schema otherwise, and a copy left in
 * another schema would make it skip creating them in this one.
 */
export async function migrateToLatest<Schema>(db: Kysely<Schema>, schema?: string): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrations(),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  const names = Object.keys(migrations).sort();
  return {
    applied: (results ?? [])
      .filter((result) => result.status === 'Success')
      .map((result) => result.migrationName),
    latest: names[names.length - 1] ?? '',
  };
}

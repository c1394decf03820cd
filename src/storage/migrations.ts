/**
 * One migration set for both databases. Column types are the portable subset: `text`, `integer`,
 * `bigint` (SQLite stores both as 64-bit integers). Migrations run at start-up and via `bubuh migrate`.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

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
  const names = Object.keys(migrations);
  return {
    applied: (results ?? [])
      .filter((result) => result.status === 'Success')
      .map((result) => result.migrationName),
    latest: names[names.length - 1] ?? '',
  };
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openFreshBackend, postgresSkipReason, postgresUrl, disposeBackend } from '../testing/backends.js';

test('postgres: migrations of one schema ignore the migrator tables another schema holds', async (t) => {
  if (!postgresUrl()) {
    t.skip(postgresSkipReason);
    return;
  }
  // The first schema keeps its tables (kysely_migration, kysely_migration_lock) while the second opens.
  const first = await openFreshBackend('postgres');
  const second = await openFreshBackend('postgres');
  try {
    assert.ok(first && second);
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables
      where table_schema = ${second.openOptions.postgresSchema} order by table_name`.execute(
      second.storage.db,
    );
    assert.deepEqual(
      tables.rows.map((row) => row.table_name),
      [
        'kysely_migration',
        'kysely_migration_lock',
        'ledger_accounts',
        'ledger_pending',
        'ledger_transfers',
        'stamp_registry',
      ],
    );
  } finally {
    if (second) await disposeBackend(second);
    if (first) await disposeBackend(first);
  }
});

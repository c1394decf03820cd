import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  eachBackend,
  openFreshBackend,
  postgresSkipReason,
  postgresUrl,
  disposeBackend,
} from '../testing/backends.js';
import { loadConfig } from '../config.js';
import { compiledOnce, openStorage } from './database.js';

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
    const tablesOf = async (backend: NonNullable<typeof first>) =>
      (
        await sql<{ table_name: string }>`select table_name from information_schema.tables
          where table_schema = ${backend.openOptions.postgresSchema} order by table_name`.execute(
          backend.storage.db,
        )
      ).rows.map((row) => row.table_name);
    const secondTables = await tablesOf(second);
    // The second schema got every table of its own, the same set as the first.
    assert.deepEqual(secondTables, await tablesOf(first));
    for (const table of [
      'kysely_migration',
      'kysely_migration_lock',
      'ledger_accounts',
      'stamp_registry',
      'stamps',
    ]) {
      assert.ok(secondTables.includes(table), `${table} is missing`);
    }
  } finally {
    if (second) await disposeBackend(second);
    if (first) await disposeBackend(first);
  }
});

test('compiledOnce: one compiled query runs with each call’s parameters, and refuses a wrong count', async (t) => {
  await eachBackend(t, async (backend) => {
    const db = backend.storage.db;
    await db
      .insertInto('accounts')
      .values([
        { id: 'a1', phone: '+6281200000101', roles: 'customer', created_at: 1 },
        { id: 'a2', phone: '+6281200000102', roles: 'customer,admin', created_at: 2 },
      ])
      .execute();
    const byPhone = compiledOnce(db, (built) =>
      built.selectFrom('accounts').select(['id', 'roles']).where('phone', '=', ''),
    );
    assert.deepEqual(await byPhone(['+6281200000102']), [{ id: 'a2', roles: 'customer,admin' }]);
    assert.deepEqual(await byPhone(['+6281200000101']), [{ id: 'a1', roles: 'customer' }]);
    assert.deepEqual(await byPhone(['+6281200000199']), []);
    await assert.rejects(byPhone([]), /0 parameters for a query that takes 1/);
  });
});

test('SQLite: a new database has 1 KiB pages and 32 MiB of WAL between checkpoints; an existing one keeps its page size', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-pages-'));
  const largeDir = mkdtempSync(join(tmpdir(), 'bubuh-pages-'));
  try {
    const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir });
    assert.equal(config.sqlitePageBytes, 1024);
    assert.equal(config.sqliteCheckpointPages, undefined);
    const fresh = await openStorage({
      dataDir,
      sqlitePageBytes: config.sqlitePageBytes,
      sqliteCheckpointPages: config.sqliteCheckpointPages,
    });
    assert.equal(fresh.sqlite!.pragma('page_size', { simple: true }), 1024);
    assert.equal(fresh.sqlite!.pragma('wal_autocheckpoint', { simple: true }), 32768);
    await fresh.close();

    // A database made with 4 KiB pages keeps them when opened with the default, and its checkpoints
    // still come every 32 MiB.
    const large = await openStorage({ dataDir: largeDir, sqlitePageBytes: 4096 });
    assert.equal(large.sqlite!.pragma('page_size', { simple: true }), 4096);
    assert.equal(large.sqlite!.pragma('wal_autocheckpoint', { simple: true }), 8192);
    await large.close();
    const reopened = await openStorage({ dataDir: largeDir });
    assert.equal(reopened.sqlite!.pragma('page_size', { simple: true }), 4096);
    assert.equal(reopened.sqlite!.pragma('wal_autocheckpoint', { simple: true }), 8192);
    await reopened.close();

    // BUBUH_SQLITE_CHECKPOINT_PAGES, when set, is taken as it is.
    const told = loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_SQLITE_CHECKPOINT_PAGES: '5000' });
    assert.equal(told.sqliteCheckpointPages, 5000);
    const pinned = await openStorage({ dataDir, sqliteCheckpointPages: told.sqliteCheckpointPages });
    assert.equal(pinned.sqlite!.pragma('wal_autocheckpoint', { simple: true }), 5000);
    await pinned.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(largeDir, { recursive: true, force: true });
  }
});

test('SQLite: the page cache is 4,000 KiB unless BUBUH_SQLITE_CACHE_KIB says otherwise', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-cache-'));
  try {
    const plain = await openStorage({ dataDir });
    assert.equal(plain.sqlite!.pragma('cache_size', { simple: true }), -4000);
    await plain.close();
    const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_SQLITE_CACHE_KIB: '2048' });
    assert.equal(config.sqliteCacheKib, 2048);
    const sized = await openStorage({ dataDir, sqliteCacheKib: config.sqliteCacheKib });
    assert.equal(sized.sqlite!.pragma('cache_size', { simple: true }), -2048);
    await sized.close();
    assert.throws(
      () => loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_SQLITE_CACHE_KIB: '10' }),
      /BUBUH_SQLITE_CACHE_KIB/,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the registry has no index on the document digest (nothing looks a stamp up by it); an upgrade drops it', async (t) => {
  await eachBackend(t, async (backend) => {
    const db = backend.storage.db;
    const schema = backend.openOptions.postgresSchema;
    const registryIndexes = async (): Promise<string[]> =>
      schema
        ? (
            await sql<{ name: string }>`select indexname as name from pg_indexes
              where schemaname = ${schema} and tablename = 'stamp_registry' order by indexname`.execute(db)
          ).rows.map((row) => row.name)
        : (
            await sql<{ name: string }>`select name from sqlite_master
              where type = 'index' and tbl_name = 'stamp_registry' order by name`.execute(db)
          ).rows.map((row) => row.name);
    const keyOnly = schema ? ['stamp_registry_pkey'] : ['sqlite_autoindex_stamp_registry_1'];
    assert.deepEqual(await registryIndexes(), keyOnly);
    const { noRegistryDigestIndexMigration } = await import('./migrations/0009_no_registry_digest_index.js');
    await noRegistryDigestIndexMigration.down!(db);
    assert.deepEqual((await registryIndexes()).sort(), [...keyOnly, 'stamp_registry_digest'].sort());
    await noRegistryDigestIndexMigration.up(db);
    assert.deepEqual(await registryIndexes(), keyOnly);
  });
});

test('the index on stamps.batch_id holds bulk jobs only, and the history of one job still uses it', async (t) => {
  await eachBackend(t, async (backend) => {
    const db = backend.storage.db;
    const schema = backend.openOptions.postgresSchema;
    if (schema) {
      const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes
        where schemaname = ${schema} and indexname = 'stamps_batch'`.execute(db);
      assert.match(rows[0]?.indexdef ?? '', /\(batch_id\) WHERE \(batch_id IS NOT NULL\)$/);
      return;
    }
    const { rows } = await sql<{ sql: string }>`select sql from sqlite_master
      where type = 'index' and name = 'stamps_batch'`.execute(db);
    assert.equal(
      rows[0]?.sql,
      'CREATE INDEX "stamps_batch" on "stamps" ("batch_id") where "batch_id" is not null',
    );
    const plan = await sql<{ detail: string }>`explain query plan
      select id from stamps where batch_id = ${'b1'}`.execute(db);
    assert.deepEqual(
      plan.rows.map((row) => row.detail),
      ['SEARCH stamps USING INDEX stamps_batch (batch_id=?)'],
    );
  });
});

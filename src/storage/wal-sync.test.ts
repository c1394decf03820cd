import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStorage } from './database.js';
import { WalSync } from './wal-sync.js';

test('WalSync: nothing changed, nothing synced; one fdatasync serves every settle that asked before it started', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-wal-'));
  const path = join(directory, 'db-wal');
  writeFileSync(path, 'frames');
  let changes = 0;
  const wal = new WalSync(path, () => changes);
  await wal.settle();
  assert.equal(wal.syncs, 0, 'no change: no fsync');

  changes = 5;
  await Promise.all([wal.settle(), wal.settle(), wal.settle()]);
  assert.equal(wal.syncs, 1, 'three commits before the fsync started share it');
  await wal.settle();
  assert.equal(wal.syncs, 1, 'a reader after a durable commit does not wait');

  // A change made while an fsync runs needs the next one: the running one may have missed it.
  changes = 6;
  const first = wal.settle();
  changes = 7;
  const second = wal.settle();
  await Promise.all([first, second]);
  assert.equal(wal.syncs, 3);
  await wal.close();
});

test('WalSync: a failed fdatasync rejects every waiter, and the next settle tries again', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-wal-'));
  const path = join(directory, 'db-wal');
  const wal = new WalSync(path, () => 1);
  await assert.rejects(Promise.all([wal.settle(), wal.settle()]), { code: 'ENOENT' });
  assert.equal(wal.syncs, 0);
  writeFileSync(path, 'frames');
  await wal.settle();
  assert.equal(wal.syncs, 1);
  await wal.close();
});

test('SQLite storage: synchronous=NORMAL with the WAL synced before a write or a later read returns', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-wal-db-'));
  const storage = await openStorage({ dataDir });
  try {
    assert.equal(storage.sqlite!.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    assert.equal(storage.sqlite!.pragma('journal_mode', { simple: true }), 'wal');
    await sql`create table t (n integer)`.execute(storage.db);
    // Twenty writers at once: every one is answered, and the rows are all there.
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => sql`insert into t (n) values (${n})`.execute(storage.db)),
    );
    const rows = await sql<{ count: number }>`select count(*) as count from t`.execute(storage.db);
    assert.deepEqual(rows.rows, [{ count: 20 }]);
  } finally {
    await storage.close();
  }
});

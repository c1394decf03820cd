import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { Checkpointer } from './checkpointer.js';
import { openStorage, type Storage } from './database.js';

/** 2,000 rows of 400 bytes in 20 transactions, on a database whose own checkpoint never comes. */
async function fill(storage: Storage): Promise<void> {
  await sql`create table filler (id integer primary key, body text not null)`.execute(storage.db);
  for (let round = 0; round < 20; round += 1) {
    const rows = Array.from({ length: 100 }, (_, index) => ({
      id: round * 100 + index,
      body: 'x'.repeat(400),
    }));
    await sql`insert into filler (id, body) select value ->> 'id', value ->> 'body' from json_each(${JSON.stringify(rows)})`.execute(
      storage.db,
    );
  }
}

/** The database file's bytes, and what they would be holding every page (the WAL copied back). */
function fileAndPages(storage: Storage, dataDir: string): { fileBytes: number; pageBytes: number } {
  const pages = storage.sqlite!.pragma('page_count', { simple: true }) as number;
  const pageBytes = storage.sqlite!.pragma('page_size', { simple: true }) as number;
  return { fileBytes: statSync(join(dataDir, 'bubuh.sqlite')).size, pageBytes: pages * pageBytes };
}

test('SQLite checkpoints: without the thread the WAL stays uncopied; with it the file holds every page', async () => {
  // Control: the main connection's automatic checkpoint is out of reach (1,000,000 pages), no thread.
  const plainDir = mkdtempSync(join(tmpdir(), 'bubuh-ckpt-'));
  const plain = await openStorage({ dataDir: plainDir, sqliteCheckpointPages: 1_000_000 });
  try {
    assert.equal(plain.checkpointer, undefined);
    await fill(plain);
    const { fileBytes, pageBytes: allPages } = fileAndPages(plain, plainDir);
    assert.ok(fileBytes < allPages, `the file (${fileBytes} B) lacks pages still in the WAL (${allPages} B)`);
  } finally {
    await plain.close();
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-ckpt-'));
  const storage = await openStorage({
    dataDir,
    sqliteCheckpointPages: 1_000_000,
    sqliteCheckpointIntervalMs: 10,
  });
  try {
    assert.ok(storage.checkpointer instanceof Checkpointer);
    await fill(storage);
    // Wait for a checkpoint that started after the last commit and left nothing behind.
    const after = storage.checkpointer.stats.checkpoints;
    const deadline = Date.now() + 10_000;
    while (
      (storage.checkpointer.stats.checkpoints < after + 2 || storage.checkpointer.stats.lastLeft !== 0) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(storage.checkpointer.stats.lastLeft, 0);
    assert.equal(storage.checkpointer.stats.failures, 0);
    const { fileBytes, pageBytes: allPages } = fileAndPages(storage, dataDir);
    assert.equal(fileBytes, allPages, 'every page is in the database file');
    const [{ count }] = (
      await sql<{ count: number }>`select count(*) as count from filler`.execute(storage.db)
    ).rows as [{ count: number }];
    assert.equal(count, 2000);
  } finally {
    await storage.close();
  }
  // Closing twice is harmless, and the thread is gone.
  await storage.checkpointer!.close();
});

test('Checkpointer: a nonsense interval is a programmer error', () => {
  assert.throws(() => new Checkpointer('unused.sqlite', 0), /not a positive integer/);
  assert.throws(() => new Checkpointer('unused.sqlite', 1.5), /not a positive integer/);
});

/**
 * Chaos: a real `bubuh serve` process stamps under concurrent load and is killed with SIGKILL several
 * times, then restarted. Afterwards nothing may be lost or doubled: the ledger balances, every
 * registry row has its posted transfer and every stamp post its registry row, every reservation is
 * resolved, every stamp the clients were told about is registered, and each history row tells how it
 * ended. Runs on SQLite, and on PostgreSQL (in a fresh database) when DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { accountStoreOf } from '../accounts/index.js';
import { loadConfig } from '../config.js';
import { accountIds, transferCodes } from '../ledger/chart.js';
import { checkLedger } from '../ledger/check.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { createDiskFileStore } from './file-store.js';
import { postgresSkipReason, postgresUrl } from '../testing/backends.js';
import { mintQuota } from '../testing/quota.js';
import { freePort, startServe, waitReady } from '../testing/serve-process.js';

const kills = 3;
const clients = 4;
const reservationTimeoutSeconds = 5;
/** Stamps that must succeed between two kills. */
const progressPerRound = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function chaosRound(databaseUrl: string | undefined): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-chaos-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    BUBUH_DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'error',
    BUBUH_STAMP_WORKERS: '1',
    BUBUH_STAMP_RESERVATION_TIMEOUT_S: String(reservationTimeoutSeconds),
    BUBUH_LEDGER_SWEEP_INTERVAL_MS: '200',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  const config = loadConfig({}, env);
  // The customer, their session and their quota, prepared before the server starts.
  const setup = await createNode(config, createLogger('silent'));
  const { account } = await accountStoreOf(setup).findOrCreate('+6281299990000');
  const { token } = await accountStoreOf(setup).createSession(account.id);
  await mintQuota(setup.ledger, account.id, 100_000);
  await setup.close();

  const told = new Map<string, string>(); // idempotency key → serial the client was given
  let server = startServe(env);
  let running = true;
  let sent = 0;
  const refusals: string[] = [];
  try {
    await waitReady(base);
    const client = async (index: number) => {
      let attempt = 0;
      while (running) {
        const key = `client-${index}-${attempt}`;
        const body = new FormData();
        body.set('doc_type', 'surat_pernyataan');
        body.set(
          'file',
          new Blob([minimalPdf(`/MediaBox [0 0 595 842] /PieceInfo << /N (${key}) >>`)]),
          `${key}.pdf`,
        );
        try {
          sent += 1;
          const response = await fetch(`${base}/v1/stamps`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
            body,
          });
          const answer = (await response.json()) as { serial?: string; status?: string };
          if (response.status === 201 && answer.status === 'stamped' && answer.serial)
            told.set(key, answer.serial);
          else if (refusals.length < 5)
            refusals.push(`${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
          attempt += 1;
        } catch {
          // The server was killed mid-request: the same key is retried once it is back.
          await sleep(50);
        }
      }
    };
    const load = Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
    // Kill only once the server has made progress since it (re)started, so a slow machine still
    // exercises every round rather than killing a server that never got to work.
    const progress = async (target: number) => {
      const until = Date.now() + 60_000;
      while (told.size < target) {
        if (Date.now() > until)
          throw new Error(`no progress: ${told.size} stamps; refusals: ${refusals.join(' | ')}`);
        await sleep(50);
      }
    };
    for (let round = 0; round < kills; round += 1) {
      await progress(told.size + progressPerRound);
      await sleep(Math.floor(Math.random() * 200));
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
      server = startServe(env);
      await waitReady(base);
    }
    await progress(told.size + progressPerRound);
    running = false;
    await load;
    // Reservations the killed processes held expire and the restarted server's sweeper voids them.
    await sleep((reservationTimeoutSeconds + 1) * 1000);
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  } finally {
    running = false;
    if (server.exitCode === null) server.kill('SIGKILL');
  }

  assert.ok(
    told.size >= (kills + 1) * progressPerRound,
    `${told.size} stamps succeeded out of ${sent} attempts`,
  );
  const node = await createNode(config, createLogger('silent'));
  try {
    await node.sweep();
    const ledger = await checkLedger(node.storage);
    assert.deepEqual(ledger.problems, []);
    assert.equal(ledger.pendingOpen, 0);
    const db = node.storage.db;
    const registry = await db
      .selectFrom('stamp_registry')
      .select(['serial', 'transfer_id', 'status'])
      .execute();
    const posts = await db
      .selectFrom('ledger_transfers')
      .select(['id'])
      .where('code', '=', transferCodes.stamp)
      .where('pending_id', 'is not', null)
      .where('debit_account_id', '=', accountIds.customerQuota(account.id))
      .execute();
    const postIds = new Set(posts.map((row) => row.id));
    // A post_pending transfer names its pending; only posts (not voids) spend a unit, so compare with
    // the stamped account's credits.
    const [stamped] = await node.ledger.lookupAccounts([accountIds.stamped]);
    assert.equal(stamped?.creditsPosted, registry.length);
    for (const row of registry)
      assert.ok(postIds.has(row.transfer_id), `registry row ${row.serial} has no posted transfer`);
    const serials = new Set(registry.map((row) => row.serial));
    for (const [key, serial] of told)
      assert.ok(serials.has(serial), `${key}: the client got ${serial}, which is not registered`);

    const history = await db
      .selectFrom('stamps as s')
      .leftJoin('stamp_outcomes as o', 'o.stamp_id', 's.id')
      .leftJoin('ledger_pending as p', 'p.id', 's.reservation_id')
      .select(['s.serial', 'o.outcome', 'p.status'])
      .execute();
    for (const row of history) {
      if (row.outcome === 'stamped') assert.ok(serials.has(row.serial));
      else
        assert.ok(
          row.outcome === 'refunded' || row.status === 'expired' || row.status === 'voided',
          `stamp ${row.serial} is unresolved`,
        );
    }
    assert.equal(history.filter((row) => row.outcome === 'stamped').length, registry.length);
    // Every stamped file survived the kills: its bytes are where its row says, and they are that stamp's.
    const files = createDiskFileStore(join(dataDir, 'files'));
    for (const row of await db
      .selectFrom('stamp_outcomes as o')
      .innerJoin('stamps as s', 's.id', 'o.stamp_id')
      .select(['o.stamp_id', 'o.file_expires_at', 'o.file_location', 'o.file_bytes', 's.serial'])
      .where('o.outcome', '=', 'stamped')
      .execute()) {
      const pdf = await files.get({
        id: row.stamp_id,
        expiresAt: Number(row.file_expires_at),
        location: row.file_location,
        bytes: Number(row.file_bytes),
      });
      assert.ok(pdf, `the file of ${row.serial} is missing`);
      const text = Buffer.from(pdf);
      assert.ok(text.subarray(0, 5).equals(Buffer.from('%PDF-')), `the file of ${row.serial} is not a PDF`);
      assert.ok(
        text.includes(`/Reason ([${row.serial}]`),
        `the file at ${row.file_location} is not ${row.serial}'s`,
      );
    }
  } finally {
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

test(
  'chaos: SIGKILL a stamping server under load, restart it, and lose nothing (SQLite)',
  { timeout: 300_000 },
  async () => {
    await chaosRound(undefined);
  },
);

test(
  'chaos: SIGKILL a stamping server under load, restart it, and lose nothing (PostgreSQL)',
  { timeout: 300_000 },
  async (t) => {
    const url = postgresUrl();
    if (!url) {
      t.skip(postgresSkipReason);
      return;
    }
    const database = `bubuh_chaos_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create database ${database}`);
      const parsed = new URL(url);
      parsed.pathname = `/${database}`;
      await chaosRound(parsed.toString());
    } finally {
      await admin.query(`drop database if exists ${database} with (force)`).catch(() => {});
      await admin.end();
    }
  },
);

/**
 * `npm run bench:ledger` — the hot-account workload of DESIGN §6: 64 concurrent clients, every
 * transfer debits the same channel-stock account, every commit durable (SQLite synchronous=FULL,
 * PostgreSQL synchronous_commit=on). Runs the group-committed ledger on SQLite and PostgreSQL and, in
 * the same run, the naive one-transaction-per-transfer path on PostgreSQL. Prints a table and, as its
 * last line, one JSON object.
 *
 * PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); a fresh
 * schema is created and dropped. Duration per workload: BENCH_SECONDS (default 5).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { checkLedger } from '../src/ledger/check.js';
import { Ledger } from '../src/ledger/ledger.js';
import type { TransferInput, TransferResult } from '../src/ledger/types.js';
import { openStorage, type Storage } from '../src/storage/database.js';

const clients = 64;
const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const warmupSeconds = 1;
const postgresUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** BENCH_SQLITE_PAGE_BYTES: the SQLite database's page size (the node's default otherwise); its WAL is
 * checkpointed every 32 MiB whatever the page size. */
const sqlitePageBytes = process.env['BENCH_SQLITE_PAGE_BYTES']
  ? Number(process.env['BENCH_SQLITE_PAGE_BYTES'])
  : null;

interface Outcome {
  readonly name: string;
  readonly transfers: number;
  readonly seconds: number;
  readonly tps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly commits: number;
  readonly meanBatch: number;
  readonly check: 'pass' | 'FAIL';
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function prepare(ledger: Ledger): Promise<void> {
  await ledger.createAccounts([
    { id: 'issuer', ledger: 1, code: 1 },
    { id: 'channel:hot:stock', ledger: 1, code: 2, debitsMustNotExceedCredits: true },
  ]);
  for (let start = 0; start < clients; start += 32) {
    await ledger.createAccounts(
      Array.from({ length: Math.min(32, clients - start) }, (_, offset) => ({
        id: `customer:${start + offset}:quota`,
        ledger: 1,
        code: 3,
        debitsMustNotExceedCredits: true,
      })),
    );
  }
  const [minted] = await ledger.createTransfers([
    {
      id: 'f'.repeat(32),
      debitAccountId: 'issuer',
      creditAccountId: 'channel:hot:stock',
      amount: 1e12,
      ledger: 1,
      code: 1,
    },
  ]);
  if (minted?.result !== 'ok') throw new Error(`mint failed: ${minted?.result}`);
}

async function drive(
  name: string,
  storage: Storage,
  submit: (ledger: Ledger, transfers: TransferInput[]) => Promise<TransferResult[]>,
): Promise<Outcome> {
  let commits = 0;
  let batched = 0;
  const ledger = new Ledger(storage, {
    batchTransfersMax: 1024,
    queueTransfersMax: 65536,
    onBatch: (info) => {
      commits += 1;
      batched += info.operations;
    },
  });
  await prepare(ledger);
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  const client = async (index: number) => {
    while (!stop) {
      sequence += 1;
      const id = `${prefix}${sequence.toString(16).padStart(24, '0')}`;
      const started = performance.now();
      const [result] = await submit(ledger, [
        {
          id,
          debitAccountId: 'channel:hot:stock',
          creditAccountId: `customer:${index}:quota`,
          amount: 1,
          ledger: 1,
          code: 2,
        },
      ]);
      if (result?.result !== 'ok') throw new Error(`${name}: transfer refused: ${result?.result}`);
      if (measuring) latencies.push(performance.now() - started);
    }
  };
  const running = Array.from({ length: clients }, (_, index) => client(index));
  await new Promise((resolve) => setTimeout(resolve, warmupSeconds * 1000));
  measuring = true;
  commits = 0;
  batched = 0;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const measuredCommits = commits;
  const measuredBatched = batched;
  stop = true;
  await Promise.all(running);
  await ledger.close();
  const report = await checkLedger(storage);
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    transfers: latencies.length,
    seconds: elapsed,
    tps: latencies.length / elapsed,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    commits: measuredCommits,
    meanBatch: measuredCommits ? measuredBatched / measuredCommits : 0,
    check: report.ok ? 'pass' : 'FAIL',
  };
}

async function withPostgres<T>(poolMax: number, body: (storage: Storage) => Promise<T>): Promise<T | null> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  let storage: Storage;
  try {
    storage = await openStorage({
      dataDir: tmpdir(),
      databaseUrl: postgresUrl,
      postgresSchema: schema,
      postgresPoolMax: poolMax,
    });
  } catch (error) {
    process.stderr.write(`postgres unavailable at ${postgresUrl}: ${(error as Error).message}; skipped\n`);
    return null;
  }
  try {
    return await body(storage);
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(storage.db);
    await storage.close();
  }
}

async function main(): Promise<void> {
  const outcomes: Outcome[] = [];
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-bench-'));
  try {
    const storage = await openStorage({
      dataDir: directory,
      ...(sqlitePageBytes === null ? {} : { sqlitePageBytes }),
    });
    outcomes.push(await drive('sqlite group commit', storage, (ledger, t) => ledger.createTransfers(t)));
    await storage.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const postgres = await withPostgres(10, (storage) =>
    drive('postgres group commit', storage, (ledger, t) => ledger.createTransfers(t)),
  );
  if (postgres) outcomes.push(postgres);
  const naive = await withPostgres(clients, (storage) =>
    drive('postgres naive (1 tx/transfer)', storage, (ledger, t) => ledger.createTransfersUnbatched(t)),
  );
  if (naive) outcomes.push(naive);

  const rows = [
    ['workload', 'transfers', 'tps', 'p50 ms', 'p99 ms', 'max ms', 'commits', 'mean batch', 'ledger check'],
    ...outcomes.map((o) => [
      o.name,
      String(o.transfers),
      o.tps.toFixed(0),
      o.p50Ms.toFixed(2),
      o.p99Ms.toFixed(2),
      o.maxMs.toFixed(2),
      String(o.commits),
      o.meanBatch.toFixed(1),
      o.check,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  process.stdout.write(
    `ledger hot-account benchmark: ${clients} clients, ${seconds} s each, durable commits\n` +
      `${rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n')}\n`,
  );
  const find = (name: string) => outcomes.find((o) => o.name.startsWith(name));
  const round = (value: number | undefined, digits = 0) =>
    value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(digits));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ledger',
      sqlite_tps: round(find('sqlite')?.tps),
      postgres_tps: round(find('postgres group')?.tps),
      postgres_naive_tps: round(find('postgres naive')?.tps),
      sqlite_p99_ms: round(find('sqlite')?.p99Ms, 2),
      postgres_p99_ms: round(find('postgres group')?.p99Ms, 2),
    })}\n`,
  );
  if (outcomes.some((o) => o.check !== 'pass')) process.exitCode = 1;
}

await main();

/**
 * `npm run bench:service` — stamping over HTTP, end to end, on one machine. It starts `bubuh serve`
 * (the embedded default: SQLite, development keys, a worker per core), signs in 64 customers with
 * quota, and loads it with autocannon in this process, so the load generator and the server share the
 * same cores. Every request uploads the median corpus letter with its own Idempotency-Key and gets
 * the stamped PDF's record back (reserve → worker → file stored → post + registry + history).
 *
 *   0. warm-up: the same closed loop for BENCH_WARMUP_SECONDS (default 10), not measured;
 *   1. capacity: closed loop, 32 connections, for BENCH_SECONDS (default 10) → stamps_per_s;
 *   2. latency: open loop at 80 % of that capacity (autocannon's overall rate, 64 connections) →
 *      p50_ms and p99_ms;
 *   3. the engine alone on the same file in this process, one thread, same keys and B-T time-stamp →
 *      engine_stamps_per_s; ratio_to_engine = stamps_per_s / engine_stamps_per_s.
 * Prints a summary and, as its LAST line, one JSON object.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStoreOf } from '../src/accounts/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createNode } from '../src/node.js';
import { minimalPdf } from '../src/pdf/fixture-builder.js';
import { checkCharacters } from '../src/seal/serial.js';
import { createStampEnvironment } from '../src/services/node-stamper.js';
import { stampDocument } from '../src/stamping/stamp-document.js';
import { corpusDirectory, loadCorpus } from '../src/testing/corpus.js';
import { mintQuota } from '../src/testing/quota.js';
import { freePort, startServe, waitReady } from '../src/testing/serve-process.js';

interface AutocannonResult {
  readonly duration: number;
  readonly requests: { readonly total: number; readonly average: number };
  readonly latency: {
    readonly p50: number;
    readonly p99: number;
    readonly average: number;
    readonly max: number;
  };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly '2xx': number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
/** BENCH_WARMUP_SECONDS: load before anything is measured. */
const warmupSeconds = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 10);
const customers = 64;

/** The stampable corpus file of median size; a built one-page letter when there is no corpus. */
async function medianLetter(): Promise<{ name: string; bytes: Uint8Array }> {
  const directory = corpusDirectory();
  if (directory === null) {
    process.stderr.write('corpus not found: using a built one-page letter instead\n');
    return { name: 'built-letter.pdf', bytes: minimalPdf('/MediaBox [0 0 595 842]') };
  }
  const entries = loadCorpus(directory).filter((entry) => entry.expect === 'stamp');
  const sized = await Promise.all(
    entries.map(async (entry) => ({
      name: entry.file,
      bytes: new Uint8Array(await readFile(join(directory, entry.file))),
    })),
  );
  sized.sort((left, right) => left.bytes.length - right.bytes.length);
  return sized[Math.floor((sized.length - 1) / 2)]!;
}

async function engineStampsPerSecond(dataDir: string, pdf: Uint8Array): Promise<number> {
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir });
  const { environment, close } = await createStampEnvironment(config);
  try {
    const body = '0A1B2C3D4E5F6G7H8J9K';
    const request = {
      pdf,
      serial: body + checkCharacters(body),
      verifyUrl: 'http://localhost:8080/s/0A1B2C3D4E5F6G7H8J9K',
      reason: 'Surat Pernyataan',
      signingTime: new Date(),
    };
    for (let index = 0; index < 50; index += 1) await stampDocument(request, environment);
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < 3000) {
      await stampDocument(request, environment);
      count += 1;
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await close();
  }
}

type StageTotals = Map<string, { sum: number; count: number; buckets: Map<number, number> }>;

/** The server's `bubuh_stamp_stage_seconds` sums, counts and cumulative buckets per stage. */
async function stageTotals(base: string): Promise<StageTotals> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const totals: StageTotals = new Map();
  const entryOf = (stage: string) => {
    const entry = totals.get(stage) ?? { sum: 0, count: 0, buckets: new Map<number, number>() };
    totals.set(stage, entry);
    return entry;
  };
  for (const match of text.matchAll(/^bubuh_stamp_stage_seconds_(sum|count)\{stage="([a-z_]+)"\} (\S+)$/gm)) {
    entryOf(match[2]!)[match[1] as 'sum' | 'count'] = Number(match[3]);
  }
  const bucketPattern = /^bubuh_stamp_stage_seconds_bucket\{le="([^"]+)",stage="([a-z_]+)"\} (\S+)$/gm;
  for (const match of text.matchAll(bucketPattern)) {
    entryOf(match[2]!).buckets.set(Number(match[1]), Number(match[3]));
  }
  return totals;
}

/**
 * Per stage between two readings, the histogram bucket in which its 99th percentile falls, e.g.
 * "reserve ≤ 20, sync ≤ 50, …" (ms; the buckets are coarse, so this says which stage makes the tail).
 */
function stageP99s(before: StageTotals, after: StageTotals): string {
  const parts: string[] = [];
  for (const [stage, total] of after) {
    const earlier = before.get(stage);
    const count = total.count - (earlier?.count ?? 0);
    if (count <= 0) continue;
    const bounds = [...total.buckets.keys()].sort((left, right) => left - right);
    const bound = bounds.find(
      (le) => total.buckets.get(le)! - (earlier?.buckets.get(le) ?? 0) >= Math.ceil(count * 0.99),
    );
    parts.push(`${stage} ≤ ${bound === undefined || !Number.isFinite(bound) ? '∞' : bound * 1000}`);
  }
  return parts.join(', ') || 'none recorded';
}

/** Mean milliseconds per stage between two readings, e.g. "upload 1.2, queue 30.1, …". */
function stageMeans(before: StageTotals, after: StageTotals): string {
  const means: string[] = [];
  for (const [stage, total] of after) {
    const earlier = before.get(stage) ?? { sum: 0, count: 0 };
    const count = total.count - earlier.count;
    if (count > 0) means.push(`${stage} ${(((total.sum - earlier.sum) / count) * 1000).toFixed(1)}`);
  }
  return means.join(', ') || 'none recorded';
}

async function main(): Promise<void> {
  const letter = await medianLetter();
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-bench-service-'));
  let server: ChildProcess | null = null;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      BUBUH_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      BUBUH_STAMP_QUEUE_MAX: '4096',
      BUBUH_STAMP_UPLOADS_PER_ACCOUNT: '64',
      // The load comes from one address: this measures the service, not one client's budgets (the
      // rate limits and the per-address upload limit would refuse it as the single client it is).
      BUBUH_RATE_LIMITS: 'off',
      BUBUH_UPLOADS_PER_IP: '1024',
      // BENCH_TASKS_PER_THREAD: the server's BUBUH_STAMP_TASKS_PER_THREAD (its default otherwise).
      ...(process.env['BENCH_TASKS_PER_THREAD']
        ? { BUBUH_STAMP_TASKS_PER_THREAD: process.env['BENCH_TASKS_PER_THREAD'] }
        : {}),
      // BENCH_DATABASE_URL: run the server on PostgreSQL (an empty database) instead of SQLite.
      ...(process.env['BENCH_DATABASE_URL'] ? { DATABASE_URL: process.env['BENCH_DATABASE_URL'] } : {}),
      // BENCH_SERVER_ENV: more settings for the server, e.g. "BUBUH_STAMP_WORKER_NICE=0,UV_THREADPOOL_SIZE=8".
      ...Object.fromEntries(
        (process.env['BENCH_SERVER_ENV'] ?? '')
          .split(',')
          .filter((pair) => pair.includes('='))
          .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]),
      ),
    };
    const config = loadConfig({}, env);
    const setup = await createNode(config, createLogger('silent'));
    const tokens: string[] = [];
    for (let index = 0; index < customers; index += 1) {
      const { account } = await accountStoreOf(setup).findOrCreate(`+62812${String(10_000_000 + index)}`);
      tokens.push((await accountStoreOf(setup).createSession(account.id)).token);
      await mintQuota(setup.ledger, account.id, 10_000_000);
    }
    await setup.close();

    // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server.
    server = startServe(env, (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean));
    await waitReady(base);

    const form = new FormData();
    form.set('doc_type', 'surat_pernyataan');
    form.set('file', new Blob([letter.bytes], { type: 'application/pdf' }), letter.name);
    const encoded = new Request(`${base}/v1/stamps`, { method: 'POST', body: form });
    const body = Buffer.from(await encoded.arrayBuffer());
    const contentType = encoded.headers.get('content-type')!;
    let counter = 0;
    const requests = [
      {
        method: 'POST',
        path: '/v1/stamps',
        setupRequest: (request: AutocannonRequest) => {
          counter += 1;
          request.headers = {
            'content-type': contentType,
            authorization: `Bearer ${tokens[counter % tokens.length]}`,
            'idempotency-key': `bench-${counter}`,
          };
          request.body = body;
          return request;
        },
      },
    ];
    const run = (options: Record<string, unknown>) =>
      autocannon({ url: base, requests, timeout: 30, ...options });

    // Warm-up at the capacity run's concurrency: a fresh server needs several seconds of load before it
    // stamps at its steady rate (in alternating 3 s rounds two fresh servers made ~260, ~390, then
    // 550–740 stamps/s), and the capacity, and the rate the latency run offers, are about that rate.
    await run({ connections: 32, duration: warmupSeconds });
    const stagesBefore = await stageTotals(base);
    const capacity = await run({ connections: 32, duration: seconds });
    const stages = stageMeans(stagesBefore, await stageTotals(base));
    const stampsPerSecond = capacity['2xx'] / capacity.duration;
    const rate = Math.max(1, Math.floor(stampsPerSecond * 0.8));
    const loadedBefore = await stageTotals(base);
    const loaded = await run({ connections: 64, duration: seconds, overallRate: rate });
    const loadedAfter = await stageTotals(base);
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
    server = null;

    const engine = await engineStampsPerSecond(dataDir, letter.bytes);
    const result = {
      bench: 'service',
      stamps_per_s: Math.round(stampsPerSecond),
      p50_ms: loaded.latency.p50,
      p99_ms: loaded.latency.p99,
      engine_stamps_per_s: Math.round(engine),
      ratio_to_engine: Number((stampsPerSecond / engine).toFixed(3)),
    };
    process.stdout.write(
      [
        `file: ${letter.name} (${letter.bytes.length} bytes); cores: ${availableParallelism()}; load average at end: ${loadavg()[0]!.toFixed(2)}`,
        `capacity (32 connections, ${seconds}s): ${capacity['2xx']} stamped, ${capacity.non2xx} non-2xx, ${capacity.errors} errors → ${stampsPerSecond.toFixed(0)} stamps/s; latency p50 ${capacity.latency.p50} ms, p99 ${capacity.latency.p99} ms`,
        `at 80 % (${rate}/s offered, 64 connections): ${loaded['2xx']} stamped, ${loaded.non2xx} non-2xx, ${loaded.errors} errors; latency p50 ${loaded.latency.p50} ms, p99 ${loaded.latency.p99} ms`,
        `where a stamp's time went at capacity (mean ms per stage, from /metrics): ${stages}`,
        `at 80 %, the bucket of each stage's p99 (ms, from /metrics): ${stageP99s(loadedBefore, loadedAfter)}; means: ${stageMeans(loadedBefore, loadedAfter)}`,
        `engine alone, one thread, same file and keys (B-T): ${engine.toFixed(0)} stamps/s`,
        JSON.stringify(result),
        '',
      ].join('\n'),
    );
  } finally {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

/**
 * `npm run bench:service` — stamping over HTTP, end to end, on one machine. It starts `bubuh serve`
 * (the embedded default: SQLite, development keys, a worker per core), signs in 64 customers with
 * quota, and loads it from this process with the surge replay's lean HTTP client
 * (`src/surge/http-client.ts`), so the load generator and the server share the same cores. Every
 * request uploads the median corpus letter with its own Idempotency-Key and gets the stamped PDF's
 * record back (reserve → worker → file stored → post + registry + history).
 *
 *   0. warm-up: the same closed loop for BENCH_WARMUP_SECONDS (default 10), not measured;
 *   1. capacity: closed loops of 32, 64 and 128 connections, each for BENCH_SECONDS (default 10), the
 *      next only while the last gained at least 5 % → stamps_per_s, the best of them. One closed loop
 *      measures what its connections can keep busy: when a stamp spends most of its time waiting (for
 *      the disk, for a shared fsync), 32 in flight leave cores idle that more requests would use;
 *   2. latency: open loop at 80 % of that capacity → p50_ms and p99_ms. Arrivals are evenly spaced
 *      (BENCH_BURST groups them, for diagnosis) and each latency runs from the request's scheduled
 *      time, not from when a connection was free to send it, so a server that falls behind cannot hide
 *      its queue (no coordinated omission);
 *   3. the engine alone on the same file in this process, one thread, same keys and B-T time-stamp, a
 *      fresh serial for each stamp as in the service →
 *      engine_stamps_per_s; ratio_to_engine = stamps_per_s / engine_stamps_per_s.
 * Prints a summary and, as its LAST line, one JSON object.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStoreOf } from '../src/accounts/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createNode } from '../src/node.js';
import { Histogram } from '../src/surge/histogram.js';
import { LeanHttpClient, type LeanReply } from '../src/surge/http-client.js';
import { createStampEnvironment } from '../src/services/node-stamper.js';
import { stampDocument } from '../src/stamping/stamp-document.js';
import { medianStampLetter } from '../src/testing/corpus.js';
import { mintQuota } from '../src/testing/quota.js';
import { machineBusyUs, processesCpuUs, threadsCpuUs, type ThreadsCpuUs } from '../src/surge/process-cpu.js';
import { freePort, startServe, waitReady } from '../src/testing/serve-process.js';
import { benchStampRequests } from './stamp-request.js';

/** What one load phase got back. */
interface PhaseResult {
  readonly seconds: number;
  /** Answers 201 that arrived within the phase's time (a closed loop's stragglers are not counted). */
  readonly stamped: number;
  /** Other answers and failures by status or error (`503`, `timeout`…). */
  readonly other: Map<string, number>;
  /** Every answer's latency (the surge replay's histogram: percentiles at most 1.6 % high). */
  readonly latencies: Histogram;
  /** The load generator's own CPU time (this process, both user and system) per request, µs. */
  readonly clientCpuUs: number;
}

/** A percentile of `latencies` in milliseconds, rounded to 0.1; 0 when there are none. */
function percentileMs(latencies: Histogram, percent: number): number {
  return Math.round((latencies.percentileMs(percent) ?? 0) * 10) / 10;
}

type Send = () => Promise<LeanReply>;

class Recorder {
  readonly latencies = new Histogram();
  readonly other = new Map<string, number>();
  stamped = 0;
  record(reply: LeanReply, latencyMs: number): void {
    this.latencies.recordMs(latencyMs);
    if (reply.status === 201) this.stamped += 1;
    else {
      const key = reply.status === 0 ? (reply.error ?? 'failed') : String(reply.status);
      this.other.set(key, (this.other.get(key) ?? 0) + 1);
    }
  }
  result(seconds: number, cpuBefore: NodeJS.CpuUsage): PhaseResult {
    const cpu = process.cpuUsage(cpuBefore);
    const count = this.latencies.count;
    return {
      seconds,
      stamped: this.stamped,
      other: this.other,
      latencies: this.latencies,
      clientCpuUs: count === 0 ? 0 : (cpu.user + cpu.system) / count,
    };
  }
}

/** `connections` loops, each sending its next request when the last is answered, for `seconds`. */
async function closedLoop(send: Send, connections: number, seconds: number): Promise<PhaseResult> {
  const recorder = new Recorder();
  const cpuBefore = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const sent = performance.now();
        const reply = await send();
        const answered = performance.now();
        if (answered <= end) recorder.record(reply, answered - sent);
      }
    }),
  );
  return recorder.result(seconds, cpuBefore);
}

/**
 * `rate` requests a second for `seconds`, evenly spaced (or `burst` at a time, the groups evenly
 * spaced), whatever the answers; each latency is measured from the request's scheduled time. Resolves
 * when every request has been answered (or has timed out).
 */
async function openLoop(send: Send, rate: number, seconds: number, burst = 1): Promise<PhaseResult> {
  const recorder = new Recorder();
  const cpuBefore = process.cpuUsage();
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const start = performance.now();
  const due = (index: number) => start + (index - (index % burst)) * intervalMs;
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && due(next) <= now) {
        const scheduled = due(next);
        next += 1;
        inFlight.push(send().then((reply) => recorder.record(reply, performance.now() - scheduled)));
      }
      // Sleep until the next arrival is due (timers fire no earlier than 1 ms).
      if (next < total) setTimeout(tick, Math.max(1, due(next) - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  return recorder.result(seconds, cpuBefore);
}

interface CapacityStep {
  readonly connections: number;
  readonly result: PhaseResult;
  /** Mean ms per stage and the ledger's batches, from the server's /metrics. */
  readonly stages: string;
  readonly ledger: string;
  /** CPU per stamp from /proc (`cpuPerStamp`). */
  readonly cpu: string;
}

/** The machine's, the server's and the server's threads' CPU time so far (µs; null where unknown). */
interface CpuReading {
  readonly machine: number | null;
  readonly server: number | null;
  readonly threads: ThreadsCpuUs | null;
}

async function readCpu(serverPid: number): Promise<CpuReading> {
  return {
    machine: await machineBusyUs(),
    server: await processesCpuUs([serverPid]),
    threads: await threadsCpuUs(serverPid),
  };
}

/**
 * "the machine 1.884, the server 1.738 (main 0.851, stamping threads 0.694, other threads 0.192)": ms
 * of CPU per stamp between two readings, 'unknown' for what /proc could not tell.
 */
function cpuPerStamp(before: CpuReading, after: CpuReading, stamps: number): string {
  const ms = (from: number | null, to: number | null) =>
    from === null || to === null || stamps === 0 ? 'unknown' : ((to - from) / 1000 / stamps).toFixed(3);
  const { threads: earlier } = before;
  const { threads: later } = after;
  const threads =
    earlier === null || later === null
      ? 'threads unknown'
      : `main ${ms(earlier.main, later.main)}, stamping threads ${ms(earlier.niced, later.niced)}, other threads ${ms(earlier.other, later.other)}`;
  return `the machine ${ms(before.machine, after.machine)}, the server ${ms(before.server, after.server)} (${threads})`;
}

/** One closed loop of the capacity sweep, with what the server's /metrics and /proc say about it. */
async function capacityStep(
  send: Send,
  base: string,
  serverPid: number,
  connections: number,
  seconds: number,
): Promise<CapacityStep> {
  const metricsBefore = await serverMetrics(base);
  const cpuBefore = await readCpu(serverPid);
  const result = await closedLoop(send, connections, seconds);
  const cpuAfter = await readCpu(serverPid);
  const metricsAfter = await serverMetrics(base);
  return {
    connections,
    result,
    stages: stageMeans(metricsBefore.stages, metricsAfter.stages),
    ledger: ledgerSummary(metricsBefore.ledger, metricsAfter.ledger),
    cpu: cpuPerStamp(cpuBefore, cpuAfter, result.stamped),
  };
}

/** "503 ×12, timeout ×1", or "none". */
function otherAnswers(result: PhaseResult): string {
  return [...result.other].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none';
}

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
/** BENCH_WARMUP_SECONDS: load before anything is measured. */
const warmupSeconds = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 10);
/** BENCH_RATE: the open loop offers this many stamps a second instead of 80 % of the capacity found
 * (to compare two builds at the same load; the last line's p50 and p99 are then at that rate). */
const fixedRate = process.env['BENCH_RATE'] ? Number(process.env['BENCH_RATE']) : null;
/** BENCH_BURST: the open loop's arrivals come in groups of this many at once, at the same mean rate (1,
 * evenly spaced, unless told): shows how much of a stamp's cost depends on arrivals that come together. */
const burst = Number(process.env['BENCH_BURST'] ?? 1);
/** A refused bench setting: a message and exit 2, as for any bad input. */
function refuseSetting(variable: string, expected: string): never {
  process.stderr.write(`${variable} must be ${expected}, not ${process.env[variable]}\n`);
  process.exit(2);
}
if (fixedRate !== null && !(Number.isFinite(fixedRate) && fixedRate > 0))
  refuseSetting('BENCH_RATE', 'a number above 0');
if (!Number.isInteger(burst) || burst < 1) refuseSetting('BENCH_BURST', 'a whole number ≥ 1');
const customers = 64;

async function engineStampsPerSecond(dataDir: string, pdf: Uint8Array): Promise<number> {
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir });
  const { environment, close } = await createStampEnvironment(config);
  try {
    // A fresh serial for every stamp, as the service mints one for every request.
    const requests = benchStampRequests(pdf);
    for (let index = 0; index < 50; index += 1) await stampDocument(requests[index]!, environment);
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < 3000) {
      await stampDocument(requests[count % requests.length]!, environment);
      count += 1;
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await close();
  }
}

interface LedgerTotals {
  readonly batches: number;
  readonly transfers: number;
  readonly seconds: number;
}

/** "4,003 batches, 5.7 transfers each, 0.96 ms per batch (0.17 per transfer)" between two readings. */
function ledgerSummary(before: LedgerTotals, after: LedgerTotals): string {
  const batches = after.batches - before.batches;
  const transfers = after.transfers - before.transfers;
  const totalMs = (after.seconds - before.seconds) * 1000;
  if (batches <= 0 || transfers <= 0) return 'no batches';
  return `${batches} batches, ${(transfers / batches).toFixed(1)} transfers each, ${(totalMs / batches).toFixed(2)} ms per batch (${(totalMs / transfers).toFixed(3)} per transfer)`;
}

interface AdmissionTotals {
  readonly waits: number;
  readonly waitSeconds: number;
}

/** "mean 12.3 ms over 9,000 admissions" between two readings. */
function admissionSummary(before: AdmissionTotals, after: AdmissionTotals): string {
  const waits = after.waits - before.waits;
  if (waits <= 0) return 'no admissions';
  return `mean ${(((after.waitSeconds - before.waitSeconds) / waits) * 1000).toFixed(1)} ms over ${waits} admissions`;
}

type StageTotals = Map<string, { sum: number; count: number; buckets: Map<number, number> }>;

/** What the bench reads from the server's /metrics, all from one scrape. */
interface ServerMetrics {
  /** The ledger's batch counters (`bubuh_ledger_batch_transfers` and `_seconds`). */
  readonly ledger: LedgerTotals;
  /** Admission queue waits (`bubuh_admission_queue_wait_seconds`, all classes). */
  readonly admission: AdmissionTotals;
  readonly stages: StageTotals;
}

async function serverMetrics(base: string): Promise<ServerMetrics> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    ledger: {
      batches: value('bubuh_ledger_batch_transfers_count'),
      transfers: value('bubuh_ledger_batch_transfers_sum'),
      seconds: value('bubuh_ledger_batch_seconds_sum'),
    },
    admission: {
      waits: value('bubuh_admission_queue_wait_seconds_count'),
      waitSeconds: value('bubuh_admission_queue_wait_seconds_sum'),
    },
    stages: stageTotals(text),
  };
}

/** `bubuh_stamp_stage_seconds` sums, counts and cumulative buckets per stage, from a /metrics text. */
function stageTotals(text: string): StageTotals {
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
  const letter = medianStampLetter();
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
    // The open loop may have more requests in flight than the closed loop's connections: up to
    // `openSockets` sockets, and requests past that wait in the client, their wait counted.
    const openSockets = 256;
    const client = new LeanHttpClient({
      host: '127.0.0.1',
      port,
      maxSockets: openSockets,
      maxIdle: openSockets,
      timeoutMs: 30_000,
    });
    let counter = 0;
    const send: Send = () => {
      counter += 1;
      const headers = {
        'content-type': contentType,
        authorization: `Bearer ${tokens[counter % tokens.length]}`,
        'idempotency-key': `bench-${counter}`,
      };
      return client.request('POST', '/v1/stamps', headers, body, false);
    };

    // Warm-up at the capacity run's concurrency: a fresh server needs several seconds of load before it
    // stamps at its steady rate (in alternating 3 s rounds two fresh servers made ~260, ~390, then
    // 550–740 stamps/s), and the capacity, and the rate the latency run offers, are about that rate.
    await closedLoop(send, 32, warmupSeconds);
    const steps: CapacityStep[] = [];
    for (const connections of [32, 64, 128]) {
      const step = await capacityStep(send, base, server.pid!, connections, seconds);
      steps.push(step);
      const previous = steps[steps.length - 2];
      if (previous !== undefined && step.result.stamped < previous.result.stamped * 1.05) break;
    }
    const best = steps.reduce((a, b) => (b.result.stamped > a.result.stamped ? b : a));
    const { result: capacity, connections, stages } = best;
    const stampsPerSecond = capacity.stamped / capacity.seconds;
    const rate = fixedRate ?? Math.max(1, Math.floor(stampsPerSecond * 0.8));
    const loadedBefore = await serverMetrics(base);
    const loadedCpuBefore = await readCpu(server.pid!);
    const loaded = await openLoop(send, rate, seconds, burst);
    const loadedCpu = cpuPerStamp(loadedCpuBefore, await readCpu(server.pid!), loaded.latencies.count);
    const loadedAfter = await serverMetrics(base);
    client.destroy();
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
    server = null;

    const engine = await engineStampsPerSecond(dataDir, letter.bytes);
    const result = {
      bench: 'service',
      stamps_per_s: Math.round(stampsPerSecond),
      p50_ms: percentileMs(loaded.latencies, 50),
      p99_ms: percentileMs(loaded.latencies, 99),
      engine_stamps_per_s: Math.round(engine),
      ratio_to_engine: Number((stampsPerSecond / engine).toFixed(3)),
    };
    process.stdout.write(
      [
        `file: ${letter.name} (${letter.bytes.length} bytes); cores: ${availableParallelism()}; load average at end: ${loadavg()[0]!.toFixed(2)}`,
        ...steps.map(
          (step) =>
            `closed loop, ${step.connections} connections, ${seconds}s: ${step.result.stamped} stamped, other answers: ${otherAnswers(step.result)} → ${(step.result.stamped / step.result.seconds).toFixed(0)} stamps/s; latency p50 ${percentileMs(step.result.latencies, 50)} ms, p99 ${percentileMs(step.result.latencies, 99)} ms; client CPU ${step.result.clientCpuUs.toFixed(0)} µs/request; CPU per stamp (ms, from /proc): ${step.cpu}; the ledger: ${step.ledger}`,
        ),
        `capacity: ${stampsPerSecond.toFixed(0)} stamps/s (${connections} connections)`,
        `at ${fixedRate === null ? '80 %' : 'a fixed rate (BENCH_RATE)'} (open loop, ${rate}/s offered for ${seconds}s${burst > 1 ? `, in groups of ${burst}` : ''}): ${loaded.stamped} stamped, other answers: ${otherAnswers(loaded)}; latency from the scheduled send p50 ${percentileMs(loaded.latencies, 50)} ms, p99 ${percentileMs(loaded.latencies, 99)} ms, max ${percentileMs(loaded.latencies, 100)} ms; client CPU ${loaded.clientCpuUs.toFixed(0)} µs/request; CPU per stamp (ms, from /proc): ${loadedCpu}; wait for an admission slot: ${admissionSummary(loadedBefore.admission, loadedAfter.admission)}; the ledger: ${ledgerSummary(loadedBefore.ledger, loadedAfter.ledger)}`,
        `where a stamp's time went at capacity (mean ms per stage, from /metrics): ${stages}`,
        `in the open loop, the bucket of each stage's p99 (ms, from /metrics): ${stageP99s(loadedBefore.stages, loadedAfter.stages)}; means: ${stageMeans(loadedBefore.stages, loadedAfter.stages)}`,
        `engine alone, one thread, same file and keys (B-T), a fresh serial a stamp: ${engine.toFixed(0)} stamps/s`,
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

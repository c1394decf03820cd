/**
 * `npm run surge` — the surge replay: deadline day, compressed to minutes, against a deployment this
 * bench starts itself (or `--target`), through the real HTTP API.
 *
 *   default      one `bubuh serve` node, embedded SQLite, fresh data directory;
 *   --nodes 3    three nodes on PostgreSQL (DATABASE_URL; a fresh database, dropped afterwards) and Redis
 *                (REDIS_URL, a fresh key prefix), virtual applicants assigned round-robin to nodes;
 *   --chaos      during the hold: duplicate and delay the sandbox's payment notifications, SIGKILL a
 *                node and restart it, and restart Redis when the bench started its own redis-server
 *                (it does so for --chaos --nodes N; the shared Redis is never touched);
 *   --quick      a ≈ 60 s run; the full run is ≈ 5 min;
 *   --env NAME=VALUE  (repeatable) set in every node the bench starts, to compare settings;
 *   --node-arg ARG    (repeatable) passed to every started node's Node.js, e.g. --cpu-prof;
 *   --capacity N      take N req/s as the capacity instead of measuring it (to compare two builds or
 *                settings at the same offered load);
 *   --proxy nginx     put nginx (from the PATH) in front of the started nodes, as operations.md advises:
 *                the capacity is measured through it, then sign-in code requests (new applicants)
 *                reach the nodes at most at the capacity's rate and the rest are refused at its edge
 *                (src/surge/nginx-proxy.ts); the refusal floor is then also measured for nginx;
 *   --target URL[,URL…] --outbox FILE[,FILE…] [--data-dir DIR | --database-url URL]
 *                drive a deployment already running (sign-in codes read from its development
 *                WhatsApp outbox files; the ledger checked when its storage is given).
 *
 * Load is open loop: arrival times come from the curve alone (src/surge/curve.ts), each arrival sends
 * the next step of a virtual applicant whose previous step finished (or starts a new applicant), and
 * latency is measured from the scheduled send time, so a slow server cannot hide behind a slow client.
 * A CPNS applicant: send OTP → sign in → order quota (2–3) → pay on the sandbox page → poll the quota →
 * stamp 2–3 small letters → download each → 1–2 anonymous serial look-ups. Refusals (429/503) are
 * retried after Retry-After (capped at 3 s), as people do; any other failure ends the applicant.
 *
 * Each node gets a client of up to 4,000 sockets: every applicant is a phone of its own, and requests
 * must not queue in the client. Capacity is measured first (after a short closed-loop warm-up, an
 * open-loop staircase of rates, each 1.3 × the last, until two steps in a row are refused, slow or
 * behind;
 * capacity = the best goodput of a clean step), then the curve runs: baseline at
 * 0.5 × capacity, ramp to 10 ×, hold, drop back to 0.5 ×. Writes surge-report.json and surge-report.svg
 * and prints, as its LAST line, one JSON object (definitions in src/surge/report.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { outboxFilePath } from '../src/accounts/whatsapp.js';
import { BubuhError } from '../src/errors.js';
import { minimalPdf } from '../src/pdf/fixture-builder.js';
import { type Curve, deadlineCurve, arrivalTimes } from '../src/surge/curve.js';
import { Histogram } from '../src/surge/histogram.js';
import { processesCpuUs } from '../src/surge/process-cpu.js';
import { LeanHttpClient } from '../src/surge/http-client.js';
import { goodputAtPeakRatio, recovery, seriesRows, SurgeSeries } from '../src/surge/report.js';
import { lineChartSvg } from '../src/surge/svg.js';
import { freePort, startServe, waitReady } from '../src/testing/serve-process.js';
import {
  type NginxProcess,
  nginxAvailable,
  startNginxProxy,
  startNginxRefuser,
} from '../src/surge/nginx-proxy.js';

// ---------------------------------------------------------------------------------------------- options

function flag(name: string): boolean {
  return process.argv.includes(name);
}
function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** `--env NAME=VALUE` (repeatable): set in every node this bench starts, e.g. to compare a setting. */
function extraNodeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  process.argv.forEach((argument, index) => {
    if (argument !== '--env') return;
    const pair = process.argv[index + 1] ?? '';
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--env needs NAME=VALUE, not ${JSON.stringify(pair)}`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  });
  return env;
}

/** `--node-arg ARG`, repeatable: an argument for every started node's Node.js (e.g. `--cpu-prof`). */
function extraNodeArgs(): string[] {
  return process.argv.flatMap((argument, index) => {
    if (argument !== '--node-arg') return [];
    const value = process.argv[index + 1];
    if (value === undefined || value === '') throw new Error('--node-arg needs a value, e.g. --cpu-prof');
    return [value];
  });
}
const nodeArgs = extraNodeArgs();

const quick = flag('--quick');
const chaos = flag('--chaos');
const nodeCount = Number(option('--nodes') ?? 1);
const targets = option('--target')?.split(',').filter(Boolean) ?? [];
const outDir = option('--out') ?? process.cwd();
const timing = quick
  ? { warmS: 1, probeStepS: 1.5, baselineS: 5, rampS: 6, holdS: 12, afterS: 12 }
  : { warmS: 3, probeStepS: 3, baselineS: 20, rampS: 30, holdS: 90, afterS: 60 };
const peakFactor = Number(option('--peak') ?? 10);
/**
 * `--capacity N`: skip the staircase and take N req/s as the capacity, so two builds or settings meet
 * the same offered load (the measured capacity varies from run to run by more than most changes move
 * the figures). For comparisons only: the ratios are then relative to N, not to a measured capacity.
 */
const givenCapacity = option('--capacity') === undefined ? null : Number(option('--capacity'));
if (givenCapacity !== null && !(givenCapacity > 0))
  throw new Error('--capacity needs a positive rate (req/s)');
/** `--proxy nginx`: the started nodes behind nginx with an entry limit (src/surge/nginx-proxy.ts). */
const proxy = option('--proxy') ?? null;
if (proxy !== null && proxy !== 'nginx') throw new Error(`--proxy knows only nginx, not ${proxy}`);
if (proxy !== null && (chaos || targets.length > 0))
  throw new Error('--proxy is for the nodes this replay starts, without --chaos');
if (proxy !== null && !nginxAvailable())
  throw new Error('--proxy nginx needs nginx on the PATH (Debian: apt-get install nginx)');
/** A request still unanswered after this long counts as an error (a time-out), not a refusal. */
const requestTimeoutMs = quick ? 10_000 : 30_000;
const inFlightMax = 20_000;
/** Connections each node's client opens and answers on before the load (`warm`). */
const warmSockets = 1024;

// ------------------------------------------------------------------------------------------- deployment

interface NodeHandle {
  readonly index: number;
  readonly base: string;
  readonly env: Record<string, string>;
  readonly client: LeanHttpClient;
  process: ChildProcess | null;
  up: boolean;
  rssHighMb: number;
  /** Times this node was killed (--chaos): a payment sent before a kill died with its sandbox. */
  kills: number;
}

interface Deployment {
  readonly nodes: NodeHandle[];
  readonly outboxFiles: string[];
  /** Runs `bubuh ledger check --json` against the deployment's storage; null when it is not known. */
  readonly ledgerEnv: Record<string, string> | null;
  readonly redis: { port: number; process: ChildProcess | null; dir: string } | null;
  readonly description: string;
  cleanup(): Promise<void>;
}

/**
 * Each applicant is a phone of its own: the client must not queue requests behind a small socket pool
 * (that wait would be counted as the server's). Up to 4,000 connections per node, under the node's
 * default BUBUH_MAX_CONNECTIONS (4,096). The client is the lean one of `src/surge/http-client.ts`:
 * Node's own costs several times more CPU per request, taken from the node on the same cores.
 */
function httpClient(base: string): LeanHttpClient {
  const url = new URL(base);
  if (url.protocol !== 'http:') throw new Error(`the surge replay speaks plain HTTP only, not ${base}`);
  return new LeanHttpClient({
    host: url.hostname,
    port: Number(url.port || 80),
    maxSockets: 4000,
    maxIdle: 4000,
    timeoutMs: requestTimeoutMs,
  });
}

async function startRedis(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new net.Socket();
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
    });
    if (ok) return child;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not start`);
}

async function startDeployment(): Promise<Deployment> {
  if (targets.length > 0) {
    const outboxFiles = option('--outbox')?.split(',').filter(Boolean) ?? [];
    if (outboxFiles.length === 0)
      throw new Error('--target needs --outbox FILE[,FILE…] (the development WhatsApp outbox)');
    const dataDir = option('--data-dir');
    const databaseUrl = option('--database-url');
    return {
      nodes: targets.map((base, index) => ({
        index,
        base: base.replace(/\/$/, ''),
        env: {},
        client: httpClient(base),
        process: null,
        up: true,
        rssHighMb: 0,
        kills: 0,
      })),
      outboxFiles,
      ledgerEnv: databaseUrl
        ? { DATABASE_URL: databaseUrl, BUBUH_DATA_DIR: dataDir ?? tmpdir() }
        : dataDir
          ? { BUBUH_DATA_DIR: dataDir }
          : null,
      redis: null,
      description: `target ${targets.join(', ')}`,
      cleanup: async () => {},
    };
  }
  const root = await mkdtemp(join(tmpdir(), 'bubuh-surge-'));
  const common: Record<string, string> = {
    LOG_LEVEL: 'warn',
    BUBUH_PAYMENT_RECONCILE_DELAY_S: '5',
    // A notification lost to the overload is settled by reconciliation within seconds, not a minute.
    BUBUH_PAYMENT_RECONCILE_INTERVAL_MS: '2000',
    ...(chaos ? { BUBUH_STAMP_RESERVATION_TIMEOUT_S: '10' } : {}),
    // Every virtual applicant sends its own address in X-Forwarded-For (one trusted proxy hop), so the
    // per-address limits (rate limits, OTP sends) see many applicants, not one 127.0.0.1.
    ...rateLimitEnv(),
    ...extraNodeEnv(),
  };
  if (nodeCount <= 1) {
    const port = await freePort();
    const dataDir = join(root, 'node-1');
    await mkdir(dataDir, { recursive: true });
    const env = { ...common, BUBUH_DATA_DIR: dataDir, PORT: String(port), BUBUH_NODE_ID: 'surge-1' };
    const node: NodeHandle = {
      index: 0,
      base: `http://127.0.0.1:${port}`,
      env,
      client: httpClient(`http://127.0.0.1:${port}`),
      process: null,
      up: false,
      rssHighMb: 0,
      kills: 0,
    };
    await bootNode(node);
    return {
      nodes: [node],
      outboxFiles: [outboxFilePath(dataDir)],
      ledgerEnv: { BUBUH_DATA_DIR: dataDir },
      redis: null,
      description: 'one node, embedded SQLite',
      cleanup: async () => {
        await stopNodes([node]);
        await rm(root, { recursive: true, force: true });
      },
    };
  }
  const baseUrl = process.env['DATABASE_URL'];
  if (!baseUrl) throw new Error(`--nodes ${nodeCount} needs DATABASE_URL (PostgreSQL) and REDIS_URL`);
  const sharedRedis = process.env['REDIS_URL'];
  if (!sharedRedis && !chaos) throw new Error(`--nodes ${nodeCount} needs REDIS_URL`);
  const database = `surge_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  let redis: Deployment['redis'] = null;
  let redisUrl = sharedRedis!;
  if (chaos) {
    // A private redis-server, so the chaos can restart it without touching the shared one.
    const port = await freePort();
    const dir = join(root, 'redis');
    await mkdir(dir, { recursive: true });
    redis = { port, dir, process: await startRedis(dir, port) };
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const pkiDir = join(root, 'pki');
  const filesDir = join(root, 'files');
  await mkdir(filesDir, { recursive: true });
  const nodes: NodeHandle[] = [];
  for (let index = 0; index < nodeCount; index += 1) {
    const port = await freePort();
    const dataDir = join(root, `node-${index + 1}`);
    await mkdir(dataDir, { recursive: true });
    nodes.push({
      index,
      base: `http://127.0.0.1:${port}`,
      env: {
        ...common,
        BUBUH_DATA_DIR: dataDir,
        PORT: String(port),
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl,
        BUBUH_REDIS_PREFIX: `${database}:`,
        BUBUH_PKI_DIR: pkiDir,
        BUBUH_FILES_DIR: filesDir,
        BUBUH_NODE_ID: `surge-${index + 1}`,
      },
      client: httpClient(`http://127.0.0.1:${port}`),
      process: null,
      up: false,
      rssHighMb: 0,
      kills: 0,
    });
  }
  // One at a time: the first migrates the database and creates the shared PKI.
  for (const node of nodes) await bootNode(node);
  return {
    nodes,
    outboxFiles: nodes.map((node) => outboxFilePath(node.env['BUBUH_DATA_DIR']!)),
    ledgerEnv: { DATABASE_URL: url.toString(), BUBUH_DATA_DIR: nodes[0]!.env['BUBUH_DATA_DIR']! },
    redis,
    description: `${nodeCount} nodes, PostgreSQL + Redis${redis ? ' (private redis-server)' : ''}`,
    cleanup: async () => {
      await stopNodes(nodes);
      if (redis?.process && redis.process.exitCode === null) redis.process.kill('SIGTERM');
      const drop = new pg.Client({ connectionString: baseUrl });
      await drop.connect();
      await drop.query(`drop database if exists "${database}" with (force)`);
      await drop.end();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * What the started nodes need so the bench's virtual applicants, all on 127.0.0.1, are not one rate
 * limit bucket: trust one proxy hop of X-Forwarded-For (the bench sends a distinct address per
 * applicant, as a load balancer would). Set only when the rate-limit area defines the variable.
 */
function rateLimitEnv(): Record<string, string> {
  return knownVariables.has('BUBUH_TRUST_PROXY_HOPS') ? { BUBUH_TRUST_PROXY_HOPS: '1' } : {};
}
const knownVariables = new Set<string>();

async function bootNode(node: NodeHandle): Promise<void> {
  node.process = startServe(node.env, nodeArgs);
  await waitReady(node.base);
  await warm(node);
  node.up = true;
}

/**
 * Connections opened before the load, as the keep-alive proxy in front of a node holds them
 * (operations.md). A node accepts one new connection per turn of its event loop, so a burst of new
 * connections from the replay itself — whenever its requests in flight outgrow the sockets it has —
 * would queue behind the node's busy turns and be counted as the node's latency, though no proxied
 * deployment pays it.
 */
async function warm(node: NodeHandle): Promise<void> {
  // Fewer answers (a node restarted under --chaos, mid-hold) only leave the pool to grow on demand.
  const ready = await node.client.warm(warmSockets, '/readyz');
  if (ready === 0) throw new Error(`${node.base}: none of ${warmSockets} warm connections answered`);
}

/** The `/metrics` text of every node that is up and answers (one scrape each). */
async function scrapeNodes(
  nodes: readonly NodeHandle[],
): Promise<{ readonly node: NodeHandle; readonly text: string }[]> {
  const scraped = [];
  for (const node of nodes) {
    if (!node.up) continue;
    try {
      scraped.push({ node, text: await (await fetch(`${node.base}/metrics`)).text() });
    } catch {
      // A node that does not answer now adds nothing; the client-side figures still count.
    }
  }
  return scraped;
}

/**
 * `bubuh_admission_refused_total` summed over the scraped nodes, as "class:reason" → count: which
 * refusals were made at arrival (queue_full, busy) and which after a wait (deadline, shed). A node
 * restarted by the chaos run counts only since its restart.
 */
function admissionRefusals(scraped: readonly { readonly text: string }[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { text } of scraped) {
    for (const match of text.matchAll(
      /^bubuh_admission_refused_total\{class="([a-z]+)",reason="([a-z_]+)"\} (\d+)$/gm,
    )) {
      const count = Number(match[3]);
      if (count > 0) totals[`${match[1]}:${match[2]}`] = (totals[`${match[1]}:${match[2]}`] ?? 0) + count;
    }
  }
  return totals;
}

/**
 * What the nodes' own clocks saw since the scrape before: the worst event-loop delay (prom-client's
 * histogram, which it resets on every scrape) and the histogram bucket holding the p99 and the largest
 * ledger batch commit — the two places a node's main thread can stall every request behind it, which
 * is where a refusal made on arrival waits before the node reads it.
 */
function nodeStalls(
  scraped: readonly { readonly node: NodeHandle; readonly text: string }[],
): Record<string, string> {
  const stalls: Record<string, string> = {};
  for (const { node, text } of scraped) {
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const lagMaxMs = gauge('bubuh_process_nodejs_eventloop_lag_max_seconds') * 1000;
    const lagP99Ms = gauge('bubuh_process_nodejs_eventloop_lag_p99_seconds') * 1000;
    const buckets = [...text.matchAll(/^bubuh_ledger_batch_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map(
      (match) => ({ le: Number(match[1]), count: Number(match[2]) }),
    );
    const total = buckets.at(-1)?.count ?? 0;
    const p99 = buckets.find((bucket) => bucket.count >= Math.ceil(total * 0.99))?.le;
    const largest = buckets.find((bucket) => bucket.count >= total)?.le;
    const ms = (seconds: number | undefined) =>
      seconds === undefined || !Number.isFinite(seconds) ? '∞' : String(seconds * 1000);
    stalls[`node ${node.index + 1}`] =
      `loop delay max ${lagMaxMs.toFixed(0)} ms, p99 ${lagP99Ms.toFixed(0)} ms; ` +
      `${total} ledger commits, p99 ≤ ${ms(p99)} ms, largest ≤ ${ms(largest)} ms`;
  }
  return stalls;
}

async function stopNodes(nodes: readonly NodeHandle[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const child = node.process;
      node.up = false;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** VmRSS and VmHWM of a process, in MB; null when it is gone. */
async function memoryOf(pid: number | undefined): Promise<{ rss: number; hwm: number } | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------- sign-in codes

/** Follows the development WhatsApp outbox files (one JSON line per message) and hands out codes. */
class OutboxReader {
  private readonly offsets = new Map<string, number>();
  private readonly remainders = new Map<string, string>();
  private readonly waiters = new Map<string, (code: string) => void>();
  private readonly codes = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(private readonly files: readonly string[]) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), 50);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Forgets the codes sent to `phone` so far: called as a new code is asked for. */
  arm(phone: string): void {
    this.codes.delete(phone);
  }
  /** Calls `onCode` with the first code sent to `phone` since `arm` — at once if it has arrived. */
  expect(phone: string, onCode: (code: string) => void): void {
    const code = this.codes.get(phone);
    if (code !== undefined) {
      this.codes.delete(phone);
      onCode(code);
      return;
    }
    this.waiters.set(phone, onCode);
  }
  forget(phone: string): void {
    this.waiters.delete(phone);
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      for (const file of this.files) {
        if (!existsSync(file)) continue;
        const offset = this.offsets.get(file) ?? 0;
        const handle = await open(file, 'r');
        try {
          const { size } = await handle.stat();
          if (size <= offset) continue;
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          this.offsets.set(file, size);
          const text = (this.remainders.get(file) ?? '') + buffer.toString('utf8');
          const lines = text.split('\n');
          this.remainders.set(file, lines.pop() ?? '');
          for (const line of lines) {
            if (!line) continue;
            const entry = JSON.parse(line) as { to: string; code: string | null };
            if (!entry.code) continue;
            const waiter = this.waiters.get(entry.to);
            if (waiter) {
              this.waiters.delete(entry.to);
              waiter(entry.code);
            } else this.codes.set(entry.to, entry.code);
          }
        } finally {
          await handle.close();
        }
      }
    } finally {
      this.reading = false;
    }
  }
}

// ----------------------------------------------------------------------------------------------- client

interface Reply {
  readonly status: number;
  readonly body: Buffer;
  readonly retryAfterS: number | null;
  readonly error: string | null;
}

let inFlight = 0;

async function send(
  node: NodeHandle,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string | null,
  keepBody = true,
): Promise<Reply> {
  inFlight += 1;
  try {
    // The time-out covers the whole exchange, a wait for a free socket included.
    return await node.client.request(method, path, headers, body, keepBody);
  } finally {
    inFlight -= 1;
  }
}

// ------------------------------------------------------------------------------------------ applicants

/** The stable error code of an error body, or '-'. */
function errorCode(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { code?: unknown; error?: { code?: unknown } };
    const code = parsed.code ?? parsed.error?.code;
    return typeof code === 'string' ? code : '-';
  } catch {
    return '-';
  }
}

type Step = 'otp' | 'sign_in' | 'order' | 'pay' | 'quota' | 'stamp' | 'download' | 'verify';
const steps: readonly Step[] = ['otp', 'sign_in', 'order', 'pay', 'quota', 'stamp', 'download', 'verify'];

interface Applicant {
  readonly id: number;
  node: NodeHandle;
  readonly phone: string;
  readonly address: string;
  readonly letters: number;
  verifications: number;
  step: Step;
  code: string | null;
  token: string | null;
  orderId: string | null;
  paid: boolean;
  gatewayLost: boolean;
  stamps: { id: string; serial: string }[];
  downloaded: number;
  refusals: number;
}

interface Letter {
  readonly body: Buffer;
  readonly contentType: string;
}

async function encodeLetter(index: number): Promise<Letter> {
  const pdf = minimalPdf(`/MediaBox [0 0 595 842] /Surge ${index}`);
  const form = new FormData();
  form.set('doc_type', 'surat_pernyataan');
  form.set('file', new Blob([pdf], { type: 'application/pdf' }), `surat-${index + 1}.pdf`);
  const encoded = new Request('http://x/v1/stamps', { method: 'POST', body: form });
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type')!,
  };
}

class Driver {
  private readonly ready: Applicant[] = [];
  private readyHead = 0;
  private nextId = 0;
  private nextNode = 0;
  readonly phoneBase = 10_000_000 + Math.floor(Math.random() * 80_000_000);
  readonly all: Applicant[] = [];
  readonly stepCounts = new Map<string, { ok: number; refused: number; error: number; latency: Histogram }>();
  readonly journeyFailures = new Map<string, number>();
  readonly refusalCodes = new Map<string, number>();
  completed = 0;
  clientDropped = 0;
  /** Where finished requests are counted (null: not counted, e.g. warm-up). */
  series: SurgeSeries | null = null;
  origin = 0;

  constructor(
    private readonly nodes: readonly NodeHandle[],
    private readonly letters: readonly Letter[],
    private readonly outbox: OutboxReader,
  ) {}

  nodesUp(): NodeHandle[] {
    return this.nodes.filter((node) => node.up);
  }

  private liveNode(): NodeHandle {
    for (let attempt = 0; attempt < this.nodes.length; attempt += 1) {
      const node = this.nodes[this.nextNode++ % this.nodes.length]!;
      if (node.up) return node;
    }
    return this.nodes[0]!;
  }

  private newApplicant(): Applicant {
    const id = this.nextId++;
    const applicant: Applicant = {
      id,
      node: this.liveNode(),
      phone: `+62813${String(this.phoneBase + id).padStart(8, '0')}`,
      address: `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`,
      letters: 2 + (id % 2),
      verifications: 1 + (id % 2),
      step: 'otp',
      code: null,
      token: null,
      orderId: null,
      paid: false,
      gatewayLost: false,
      stamps: [],
      downloaded: 0,
      refusals: 0,
    };
    this.all.push(applicant);
    return applicant;
  }

  private takeReady(): Applicant {
    if (this.readyHead < this.ready.length) {
      const applicant = this.ready[this.readyHead++]!;
      if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
        this.ready.splice(0, this.readyHead);
        this.readyHead = 0;
      }
      return applicant;
    }
    return this.newApplicant();
  }

  readyCount(): number {
    return this.ready.length - this.readyHead;
  }

  private later(applicant: Applicant, ms: number): void {
    if (ms <= 0) this.ready.push(applicant);
    else setTimeout(() => this.ready.push(applicant), ms).unref();
  }

  /** A node went away: its applicants move to another; a payment its sandbox held is gone with it. */
  nodeDown(node: NodeHandle): void {
    for (const applicant of this.all) {
      if (applicant.node !== node) continue;
      applicant.node = this.liveNode();
      if (applicant.step === 'pay') applicant.step = 'order';
      if (applicant.step === 'quota' && applicant.paid) applicant.gatewayLost = true;
    }
  }

  private fail(applicant: Applicant, why: string): void {
    this.journeyFailures.set(why, (this.journeyFailures.get(why) ?? 0) + 1);
    this.outbox.forget(applicant.phone);
  }

  private count(step: Step, outcome: 'ok' | 'refused' | 'error', latencyMs: number): void {
    let entry = this.stepCounts.get(step);
    if (!entry)
      this.stepCounts.set(step, (entry = { ok: 0, refused: 0, error: 0, latency: new Histogram() }));
    entry[outcome] += 1;
    if (outcome !== 'refused') entry.latency.recordMs(latencyMs);
  }

  /** Sends the next step of a ready (or new) applicant; `scheduledMs` is its performance.now() slot. */
  async dispatch(scheduledMs: number): Promise<'ok' | 'refused' | 'error' | 'dropped'> {
    const applicant = this.takeReady();
    if (this.series) this.series.offer((scheduledMs - this.origin) / 1000);
    if (inFlight >= inFlightMax) {
      this.clientDropped += 1;
      this.later(applicant, 100);
      return 'dropped';
    }
    const step = applicant.step;
    const sentTo = applicant.node;
    const killsBefore = sentTo.kills;
    // The node writes the code before it answers 202, so the reader may see it before the answer.
    if (step === 'otp') this.outbox.arm(applicant.phone);
    const reply = await this.request(applicant);
    const doneMs = performance.now();
    const latencyMs = doneMs - scheduledMs;
    const refused = reply.status === 429 || reply.status === 503;
    const succeeded = !refused && this.succeeded(step, reply.status);
    const outcome: 'ok' | 'refused' | 'error' = refused ? 'refused' : succeeded ? 'ok' : 'error';
    if (this.series) {
      const kind =
        reply.status === 0
          ? `${step}:${reply.error ?? 'network'}`
          : refused
            ? `${step}:${reply.status}:${errorCode(reply.body)}`
            : `${step}:${reply.status}`;
      this.series.complete((doneMs - this.origin) / 1000, latencyMs, reply.status, succeeded, kind);
    }
    this.count(step, outcome, latencyMs);
    if (refused) {
      applicant.refusals += 1;
      const code = `${step}:${reply.status}:${errorCode(reply.body)}`;
      this.refusalCodes.set(code, (this.refusalCodes.get(code) ?? 0) + 1);
      const waitS = Math.min(3, Math.max(0.2, reply.retryAfterS ?? 1));
      this.later(applicant, waitS * 1000 * (0.5 + Math.random()));
      return 'refused';
    }
    if (!succeeded) {
      this.fail(
        applicant,
        reply.status === 0 ? `${step}:${reply.error}` : `${step}:${reply.status}:${errorCode(reply.body)}`,
      );
      return 'error';
    }
    // Paid on a node killed while the answer was on its way: the sandbox holding the payment (and its
    // notification) died with it, as `nodeDown` says for payments already made.
    if (step === 'pay' && sentTo.kills !== killsBefore) applicant.gatewayLost = true;
    this.advance(applicant, step, reply);
    return 'ok';
  }

  private succeeded(step: Step, status: number): boolean {
    switch (step) {
      case 'otp':
        return status === 202;
      case 'order':
      case 'stamp':
        return status === 201;
      default:
        return status === 200;
    }
  }

  private advance(applicant: Applicant, step: Step, reply: Reply): void {
    switch (step) {
      case 'otp': {
        applicant.step = 'sign_in';
        const timer = setTimeout(() => {
          this.outbox.forget(applicant.phone);
          this.fail(applicant, 'otp:not_delivered_in_30s');
        }, 30_000);
        timer.unref();
        this.outbox.expect(applicant.phone, (code) => {
          clearTimeout(timer);
          applicant.code = code;
          this.later(applicant, 0);
        });
        return;
      }
      case 'sign_in':
        applicant.token = (JSON.parse(reply.body.toString('utf8')) as { token: string }).token;
        applicant.step = 'order';
        break;
      case 'order':
        applicant.orderId = (JSON.parse(reply.body.toString('utf8')) as { id: string }).id;
        applicant.step = 'pay';
        break;
      case 'pay':
        applicant.paid = true;
        applicant.step = 'quota';
        this.later(applicant, 200);
        return;
      case 'quota': {
        const me = JSON.parse(reply.body.toString('utf8')) as { quota: { available: number } };
        if (me.quota.available >= applicant.letters) applicant.step = 'stamp';
        this.later(applicant, applicant.step === 'quota' ? 250 : 0);
        return;
      }
      case 'stamp': {
        const view = JSON.parse(reply.body.toString('utf8')) as { id: string; serial: string };
        applicant.stamps.push({ id: view.id, serial: view.serial });
        if (applicant.stamps.length >= applicant.letters) applicant.step = 'download';
        break;
      }
      case 'download':
        applicant.downloaded += 1;
        if (applicant.downloaded >= applicant.stamps.length) applicant.step = 'verify';
        break;
      case 'verify':
        applicant.verifications -= 1;
        if (applicant.verifications <= 0) {
          this.completed += 1;
          return;
        }
        break;
    }
    this.later(applicant, 0);
  }

  private request(applicant: Applicant): Promise<Reply> {
    const node = applicant.node;
    const json = { 'content-type': 'application/json', 'x-forwarded-for': applicant.address };
    const auth = { authorization: `Bearer ${applicant.token}`, 'x-forwarded-for': applicant.address };
    switch (applicant.step) {
      case 'otp':
        return send(node, 'POST', '/v1/auth/otp', json, JSON.stringify({ phone: applicant.phone }));
      case 'sign_in':
        return send(
          node,
          'POST',
          '/v1/auth/verify',
          json,
          JSON.stringify({ phone: applicant.phone, code: applicant.code }),
        );
      case 'order':
        return send(
          node,
          'POST',
          '/v1/orders',
          {
            ...json,
            ...auth,
            'idempotency-key': `surge-order-${applicant.id}-${randomBytes(4).toString('hex')}`,
          },
          JSON.stringify({ quantity: applicant.letters }),
        );
      case 'pay':
        return send(
          node,
          'POST',
          `/sandbox/pay/${encodeURIComponent(applicant.orderId!)}`,
          { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': applicant.address },
          'action=pay',
          false,
        );
      case 'quota':
        return send(node, 'GET', '/v1/me', auth, null);
      case 'stamp': {
        const letter = this.letters[applicant.stamps.length % this.letters.length]!;
        return send(
          node,
          'POST',
          '/v1/stamps',
          {
            ...auth,
            'content-type': letter.contentType,
            'idempotency-key': `surge-stamp-${applicant.id}-${applicant.stamps.length}`,
          },
          letter.body,
        );
      }
      case 'download':
        return send(
          node,
          'GET',
          `/v1/stamps/${applicant.stamps[applicant.downloaded]!.id}/file`,
          auth,
          null,
          false,
        );
      case 'verify': {
        // Someone who received the letter looks the serial up: anonymous, from another address.
        const stamp = applicant.stamps[applicant.verifications % applicant.stamps.length]!;
        return send(
          node,
          'GET',
          `/v1/serials/${encodeURIComponent(stamp.serial)}`,
          {
            'x-forwarded-for': `172.16.${(applicant.id >> 8) & 255}.${applicant.id & 255}`,
          },
          null,
        );
      }
    }
  }
}

// ------------------------------------------------------------------------------------------ load shapes

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Closed loop: `concurrency` requests always in flight for `seconds`; returns goodput per second. */
async function closedLoop(driver: Driver, concurrency: number, seconds: number): Promise<number> {
  const series = new SurgeSeries();
  driver.series = series;
  driver.origin = performance.now();
  const until = driver.origin + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      // A person refused waits before trying again (Retry-After), rather than letting the next
      // person in line take the turn at once: otherwise refusals alone would fill the loop.
      while (performance.now() < until) {
        if ((await driver.dispatch(performance.now())) === 'refused') await sleep(250);
      }
    }),
  );
  driver.series = null;
  const elapsedS = (performance.now() - driver.origin) / 1000;
  return series.seconds.reduce((sum, bucket) => sum + bucket.goodput, 0) / elapsedS;
}

/** One step of the capacity probe: offered rate, and what came back. */
interface ProbeStep {
  readonly offered_rps: number;
  readonly goodput_rps: number;
  readonly refused_share: number;
  readonly admitted_p99_ms: number | null;
  readonly clean: boolean;
}

/**
 * Capacity by an open-loop staircase: a constant rate for `stepS` seconds, then 1.3 × that rate, and
 * so on, each step drained before the next. A step is clean while at most 2 % of its answers are
 * refusals, its admitted p99 is at most 500 ms and its goodput keeps up with 90 % of what was offered;
 * capacity is the highest goodput of a clean step, and the staircase stops after two steps in a row
 * that are not (one alone may be a pause: the first, compiling, or a collection). (A closed loop measures less: its fixed number of requests in flight keeps the event loop
 * saturated, and the node's own overload control then refuses the sign-ups that make up its mix.)
 */
async function probeCapacity(
  driver: Driver,
  stepS: number,
  startRps: number,
): Promise<{ capacityRps: number; steps: ProbeStep[] }> {
  const steps: ProbeStep[] = [];
  let capacityRps = 0;
  let unclean = 0;
  for (let rate = startRps; unclean < 2 && steps.length < 30; rate *= 1.3) {
    const curve: Curve = {
      phases: [{ name: 'hold', startS: 0, endS: stepS, fromRps: rate, toRps: rate }],
      durationS: stepS,
      peakRps: rate,
      baselineRps: rate,
    };
    const series = new SurgeSeries();
    await openLoop(driver, curve, series, () => {});
    let ok = 0;
    let refused = 0;
    let answered = 0;
    for (const bucket of series.seconds) {
      ok += bucket.goodput;
      refused += bucket.refused429 + bucket.refused503;
      answered += bucket.goodput + bucket.refused429 + bucket.refused503 + bucket.errors;
    }
    const goodputRps = ok / stepS;
    const refusedShare = answered === 0 ? 0 : refused / answered;
    const p99 = series.admitted.percentileMs(99);
    const clean = refusedShare <= 0.02 && (p99 ?? 0) <= 500 && goodputRps >= 0.9 * rate;
    steps.push({
      offered_rps: Number(rate.toFixed(1)),
      goodput_rps: Number(goodputRps.toFixed(1)),
      refused_share: Number(refusedShare.toFixed(3)),
      admitted_p99_ms: p99,
      clean,
    });
    if (clean) {
      capacityRps = Math.max(capacityRps, goodputRps);
      unclean = 0;
    } else unclean += 1;
  }
  return { capacityRps, steps };
}

/** Open loop along the curve; `onSecond` runs once per curve second (memory sampling, chaos). */
async function openLoop(
  driver: Driver,
  curve: Curve,
  series: SurgeSeries,
  onSecond: (second: number) => void,
): Promise<{ lagMaxMs: number }> {
  driver.series = series;
  driver.origin = performance.now();
  let scheduledUpTo = 0;
  let lastSecond = -1;
  let lagMaxMs = 0;
  const pending = new Set<Promise<unknown>>();
  while (scheduledUpTo < curve.durationS) {
    const nowS = (performance.now() - driver.origin) / 1000;
    const second = Math.floor(nowS);
    while (lastSecond < second && lastSecond + 1 < curve.durationS) onSecond(++lastSecond);
    const upTo = Math.min(curve.durationS, nowS);
    for (const at of arrivalTimes(curve, scheduledUpTo, upTo)) {
      lagMaxMs = Math.max(lagMaxMs, (nowS - at) * 1000);
      const promise = driver.dispatch(driver.origin + at * 1000);
      pending.add(promise);
      void promise.finally(() => pending.delete(promise));
    }
    scheduledUpTo = upTo;
    await sleep(2);
  }
  const drainUntil = performance.now() + requestTimeoutMs + 2000;
  while (pending.size > 0 && performance.now() < drainUntil) await sleep(50);
  driver.series = null;
  return { lagMaxMs };
}

/** What `refusalFloor` measured. */
interface RefusalFloor {
  readonly rate_rps: number;
  readonly answered: number;
  readonly other: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  /** CPU per request of this replay's process (the client) and of the refusing server (all its processes). */
  readonly client_cpu_us_per_request: number;
  readonly server_cpu_us_per_request: number | null;
}

/** The processes doing a server's work: itself and its children (nginx's workers). */
async function serverPids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return [pid, ...children.split(' ').filter(Boolean).map(Number)];
}

/**
 * The floor under `refusal_p99_ms` on this machine: a bare Node HTTP server in its own process that
 * answers every request at once with the node's own 503 body (no admission, no routing, no other
 * work), loaded by this client code — same client, same request, latency from the scheduled time —
 * open loop at `rateRps` for `seconds`, while the deployment idles. No refusal of a node can be
 * faster than this on the same cores: it is what the kernel, the two event loops and the machine's
 * wake-ups cost by themselves. With `server` 'nginx': nginx answering every request with that 503
 * (the floor under the refusals of `--proxy nginx`).
 */
async function refusalFloor(
  rateRps: number,
  seconds: number,
  server: 'node' | 'nginx' = 'node',
): Promise<RefusalFloor> {
  const port = await freePort();
  let stop: () => Promise<void>;
  let child: ChildProcess;
  if (server === 'nginx') {
    const dir = await mkdtemp(join(tmpdir(), 'bubuh-surge-floor-'));
    const refuser = await startNginxRefuser(dir, port);
    child = refuser.process;
    stop = async () => {
      await refuser.stop();
      await rm(dir, { recursive: true, force: true });
    };
  } else {
    const body = JSON.stringify(new BubuhError('OVERLOADED', { retryAfterSeconds: 1 }).toBody());
    const script = `
const http = require('node:http');
const body = ${JSON.stringify(body)};
http.createServer((request, response) => {
  request.resume();
  if (request.url === '/readyz') return response.end('ok');
  response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '1' });
  response.end(body);
}).listen(${port}, '127.0.0.1', 4096);`;
    const bare = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    child = bare;
    stop = async () => {
      bare.kill('SIGTERM');
    };
  }
  const node: NodeHandle = {
    index: -1,
    base: `http://127.0.0.1:${port}`,
    env: {},
    client: httpClient(`http://127.0.0.1:${port}`),
    process: child,
    up: true,
    rssHighMb: 0,
    kills: 0,
  };
  try {
    await waitReady(node.base, 10_000);
    await warm(node);
    const histogram = new Histogram();
    let other = 0;
    const total = Math.floor(rateRps * seconds);
    const replies: Promise<void>[] = [];
    const pids = await serverPids(child.pid!);
    const serverCpuBefore = await processesCpuUs(pids);
    const clientCpuBefore = process.cpuUsage();
    const origin = performance.now();
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(((performance.now() - origin) / 1000) * rateRps));
      for (; sent < due; sent += 1) {
        const scheduledMs = origin + (sent * 1000) / rateRps;
        const reply = send(
          node,
          'POST',
          '/v1/auth/otp',
          {
            'content-type': 'application/json',
            'x-forwarded-for': `10.${(sent >> 16) & 255}.${(sent >> 8) & 255}.${sent & 255}`,
          },
          '{"phone":"+6281200000000"}',
        ).then((answer) => {
          if (answer.status === 503) histogram.recordMs(performance.now() - scheduledMs);
          else other += 1;
        });
        replies.push(reply);
      }
      await sleep(2);
    }
    await Promise.all(replies);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const serverCpuAfter = await processesCpuUs(pids);
    const ms = (percent: number) => {
      const value = histogram.percentileMs(percent);
      return value === null ? null : Number(value.toFixed(1));
    };
    return {
      rate_rps: Math.round(rateRps),
      answered: histogram.count,
      other,
      p50_ms: ms(50),
      p99_ms: ms(99),
      client_cpu_us_per_request: Math.round((clientCpu.user + clientCpu.system) / total),
      server_cpu_us_per_request:
        serverCpuBefore === null || serverCpuAfter === null
          ? null
          : Math.round((serverCpuAfter - serverCpuBefore) / total),
    };
  } finally {
    node.client.destroy();
    await stop();
  }
}

// --------------------------------------------------------------------------------------------- checks

interface LedgerReport {
  readonly ok: boolean;
  readonly pendingOpen: number;
  readonly problems: readonly string[];
}

const cliModule = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function ledgerCheck(env: Record<string, string>): Promise<LedgerReport | null> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'DATABASE_URL' && !name.startsWith('BUBUH_')),
  );
  const child = spawn(
    process.execPath,
    ['-e', `import(${JSON.stringify(cliModule)}).then((m) => m.runCli(['ledger', 'check', '--json']))`],
    { env: { ...inherited, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await new Promise((resolve) => child.once('exit', resolve));
  const line = out.trim().split('\n').pop();
  try {
    return line ? (JSON.parse(line) as LedgerReport) : null;
  } catch {
    return null;
  }
}

/**
 * Every applicant whose payment went through has exactly its order's quantity: available + reserved +
 * stamped = ordered (credited once, not twice, not lost). Read over the API with bounded concurrency.
 */
async function creditCheck(driver: Driver): Promise<{
  checked: number;
  wrong: string[];
  skipped: number;
  /** Applicants not yet credited at the first look, credited later (a notification or reconciliation came late). */
  late: number;
  /** Seconds after the check began when the last late one was seen credited. */
  lastLateS: number | null;
}> {
  const paid = driver.all.filter((applicant) => applicant.paid && !applicant.gatewayLost && applicant.token);
  const wrong: string[] = [];
  const nodeOf = (applicant: Applicant) =>
    applicant.node.up ? applicant.node : (driver.nodesUp()[0] ?? applicant.node);
  /** null: credited exactly once; a string: what is wrong; 'wait': not yet (a notification may be late). */
  const one = async (applicant: Applicant, last: boolean): Promise<string | null | 'wait'> => {
    const auth = { authorization: `Bearer ${applicant.token}`, 'x-forwarded-for': applicant.address };
    const me = await send(nodeOf(applicant), 'GET', '/v1/me', auth, null);
    const list = await send(nodeOf(applicant), 'GET', '/v1/stamps?limit=100', auth, null);
    if (me.status !== 200 || list.status !== 200) {
      const why = `me ${me.status || me.error}, stamps ${list.status || list.error}`;
      return last ? `applicant ${applicant.id}: quota not readable (${why})` : 'wait';
    }
    const quota = (JSON.parse(me.body.toString('utf8')) as { quota: { available: number; pending: number } })
      .quota;
    const items = (JSON.parse(list.body.toString('utf8')) as { items: { status: string }[] }).items;
    const stamped = items.filter((item) => item.status === 'stamped').length;
    const total = quota.available + quota.pending + stamped;
    if (total === applicant.letters && quota.pending === 0) return null;
    if (last || total > applicant.letters) {
      // What the node says of the order tells late (still awaiting payment: reconciliation has not
      // reached it) from lost (paid, expired or refunded without the quota).
      const orders = await send(nodeOf(applicant), 'GET', '/v1/orders?limit=100', auth, null);
      const statuses =
        orders.status === 200
          ? (JSON.parse(orders.body.toString('utf8')) as { orders: { status: string }[] }).orders
              .map((order) => order.status)
              .join(', ')
          : `not readable (${orders.status || orders.error})`;
      return `applicant ${applicant.id}: ordered ${applicant.letters}, available ${quota.available} + pending ${quota.pending} + stamped ${stamped}; orders: ${statuses}`;
    }
    return 'wait';
  };
  // Rounds until every paid applicant is settled or the deadline passes (notifications are delayed
  // on purpose under --chaos; a reservation of a killed node returns after its time-out). A round in
  // which more applicants turned out credited moves the deadline on, up to a hard cap: a node still
  // working through an overload's backlog credits late (its reconciliation walks every order left
  // waiting), and late is reported as such; a credit that is lost never comes, however long the wait.
  const started = performance.now();
  const grace = chaos ? 45_000 : quick ? 10_000 : 20_000;
  const cap = started + 180_000;
  let deadline = started + grace;
  let remaining = paid;
  let late = 0;
  let lastLateS: number | null = null;
  for (let round = 0; remaining.length > 0; round += 1) {
    const last = performance.now() > deadline;
    const waiting: Applicant[] = [];
    await inParallel(remaining, 16, async (applicant) => {
      const verdict = await one(applicant, last);
      if (verdict === 'wait') waiting.push(applicant);
      else if (verdict !== null) wrong.push(verdict);
    });
    const credited = remaining.length - waiting.length;
    if (round > 0 && credited > 0) {
      late += credited;
      lastLateS = Math.round((performance.now() - started) / 1000);
      deadline = Math.min(cap, Math.max(deadline, performance.now() + grace));
    }
    remaining = waiting;
    if (remaining.length > 0) await sleep(1000);
  }
  return {
    checked: paid.length,
    wrong,
    skipped: driver.all.filter((applicant) => applicant.gatewayLost).length,
    late,
    lastLateS,
  };
}

/**
 * Orders still awaiting payment: each holds its stock by a pending transfer until it expires, so the
 * ledger's open pending count must equal this number (every other reservation resolved).
 */
async function ordersAwaitingPayment(driver: Driver): Promise<{ count: number; unreadable: string[] }> {
  let count = 0;
  const unreadable: string[] = [];
  // Thousands of reads in a closed loop keep a node's event loop busy, so its guard refuses some of
  // them (they are 'order' class) like any other load: a refused read waits and asks again. A read
  // counts as unreadable only when no read at all has succeeded for 20 s (the node does not answer).
  let lastSuccess = performance.now();
  const signedIn = driver.all.filter((applicant) => applicant.token);
  await inParallel(signedIn, 8, async (applicant) => {
    for (;;) {
      const node = applicant.node.up ? applicant.node : (driver.nodesUp()[0] ?? applicant.node);
      const list = await send(
        node,
        'GET',
        '/v1/orders?limit=100',
        { authorization: `Bearer ${applicant.token}`, 'x-forwarded-for': applicant.address },
        null,
      );
      if (list.status === 200) {
        lastSuccess = performance.now();
        const items = (JSON.parse(list.body.toString('utf8')) as { orders: { status: string }[] }).orders;
        count += items.filter((item) => item.status === 'awaiting_payment').length;
        return;
      }
      if (performance.now() - lastSuccess > 20_000) {
        unreadable.push(`applicant ${applicant.id}: orders not readable (${list.status || list.error})`);
        return;
      }
      await sleep(500); // refused (still shedding the backlog) or timed out: ask again
    }
  });
  return { count, unreadable };
}

async function inParallel<T>(
  items: readonly T[],
  width: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

// ----------------------------------------------------------------------------------------------- main

async function readKnownVariables(): Promise<void> {
  try {
    const module = (await import('../src/ratelimit/settings.js')) as {
      ratelimitSettings?: readonly { variable: string }[];
    };
    for (const setting of module.ratelimitSettings ?? []) knownVariables.add(setting.variable);
  } catch {
    // the rate-limit area is not there yet
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  await readKnownVariables();
  const letters = await Promise.all([0, 1, 2].map(encodeLetter));
  const deployment = await startDeployment();
  // Nodes this replay started were warmed as they booted; a deployment given by --target is warmed here.
  if (targets.length > 0) for (const node of deployment.nodes) await warm(node);
  // --proxy nginx: the applicants talk to nginx, which keeps each on one node; the nodes themselves
  // are still sampled and scraped directly.
  const front =
    proxy === null
      ? null
      : await startProxy(deployment).catch(async (error: unknown) => {
          await deployment.cleanup();
          for (const node of deployment.nodes) node.client.destroy();
          throw error;
        });
  const outbox = new OutboxReader(deployment.outboxFiles);
  outbox.start();
  const driver = new Driver(front === null ? deployment.nodes : [front.handle], letters, outbox);
  const notes: string[] = [];
  try {
    // RSS of every node process, sampled each second throughout.
    let rssNow = 0;
    const memoryTimer = setInterval(() => {
      void Promise.all(
        deployment.nodes.map(async (node) => ({ node, memory: await memoryOf(node.process?.pid) })),
      ).then((samples) => {
        rssNow = 0;
        for (const { node, memory } of samples) {
          if (!memory) continue;
          rssNow = Math.max(rssNow, memory.rss);
          node.rssHighMb = Math.max(node.rssHighMb, memory.hwm);
        }
      });
    }, 250);

    // Warm-up: a closed loop of 16 until every node has served whole journeys (its stamping threads
    // started, its database connections open, its code compiled), at least `warmS`, at most 30 s, so
    // the probe measures a warm deployment.
    const warmUntil = performance.now() + 30_000;
    await closedLoop(driver, 16, timing.warmS);
    while (driver.completed < 3 * deployment.nodes.length && performance.now() < warmUntil) {
      await closedLoop(driver, 16, 1);
    }
    driver.stepCounts.clear();
    // Read once so the nodes' event-loop delay histograms start again from here.
    await scrapeNodes(deployment.nodes);
    const probe =
      givenCapacity === null
        ? await probeCapacity(driver, timing.probeStepS, 16)
        : { capacityRps: givenCapacity, steps: [] };
    const capacityRps = probe.capacityRps;
    if (capacityRps <= 0)
      throw new Error(`no clean step in the capacity probe: ${JSON.stringify(probe.steps)}`);
    const capacitySteps = stepSummary(driver);
    driver.stepCounts.clear();
    // Behind the proxy: at most `capacity` new-applicant requests a second reach the nodes, whose own
    // admission decides among them (it refuses sign-ups first); the rest are refused at the proxy's
    // edge. The replay's sockets are closed so the reload's old worker can leave at once.
    let entryRateRps: number | null = null;
    if (front !== null) {
      entryRateRps = capacityRps;
      front.handle.client.destroy();
      await front.nginx.setEntryRate(entryRateRps);
      await warm(front.handle);
    }
    const description =
      entryRateRps === null
        ? deployment.description
        : `${deployment.description}, behind nginx (new applicants limited to ${Math.round(entryRateRps)}/s at its edge)`;
    process.stdout.write(
      `deployment: ${description}; cores: ${availableParallelism()}; ` +
        (givenCapacity === null
          ? `capacity (open-loop staircase, ${timing.probeStepS} s steps ×1.3): ${capacityRps.toFixed(0)} req/s\n`
          : `capacity given (--capacity, not measured): ${capacityRps} req/s\n`) +
        `capacity probe: ${probe.steps.map((step) => `${step.offered_rps}→${step.goodput_rps}${step.clean ? '' : ` (refused ${(step.refused_share * 100).toFixed(1)} %, p99 ${step.admitted_p99_ms ?? '-'} ms)`}`).join(', ')}\n`,
    );
    const curve = deadlineCurve({ capacityRps, baselineFactor: 0.5, peakFactor, ...timing });
    const hold = curve.phases.find((phase) => phase.name === 'hold')!;
    const series = new SurgeSeries();
    const chaosAt = {
      faults: Math.ceil(hold.startS),
      kill: Math.ceil(hold.startS + (hold.endS - hold.startS) / 3),
      redis: Math.ceil(hold.startS + (hold.endS - hold.startS) / 2),
      calm: Math.floor(hold.endS),
    };
    const chaosEvents: { t: number; what: string }[] = [];
    const chaosTasks: Promise<void>[] = [];
    const onSecond = (second: number) => {
      series.at(second).rssMb = Math.round(rssNow);
      if (!chaos) return;
      const event = (what: string, task: () => Promise<void>) => {
        chaosEvents.push({ t: second, what });
        chaosTasks.push(task().catch((error: unknown) => void notes.push(`chaos ${what}: ${String(error)}`)));
      };
      if (second === chaosAt.faults)
        event('sandbox: every notification sent 3 times, 1.5 s late', () =>
          faults(deployment.nodes, { duplicate: 3, delay_ms: 1500 }),
        );
      if (second === chaosAt.kill && deployment.nodes[0]!.process) {
        const victim = deployment.nodes[deployment.nodes.length - 1]!;
        event(`SIGKILL node ${victim.index + 1}, restart`, async () => {
          victim.up = false;
          victim.kills += 1;
          victim.process!.kill('SIGKILL');
          driver.nodeDown(victim);
          await new Promise((resolve) => victim.process!.once('exit', resolve));
          victim.client.destroy();
          await sleep(1000);
          await bootNode(victim);
          chaosEvents.push({
            t: Math.floor((performance.now() - driver.origin) / 1000),
            what: `node ${victim.index + 1} ready again`,
          });
        });
      }
      if (second === chaosAt.redis && deployment.redis?.process) {
        const redis = deployment.redis;
        event('restart the private redis-server', async () => {
          const old = redis.process!;
          const exited = new Promise((resolve) => old.once('exit', resolve));
          old.kill('SIGKILL');
          await exited;
          await sleep(500);
          redis.process = await startRedis(redis.dir, redis.port);
        });
      }
      if (second === chaosAt.calm) event('sandbox faults off', () => faults(deployment.nodes, {}));
    };
    // The load generator's own event-loop delay: every latency it measures includes it, refusals too.
    const clientLoop = monitorEventLoopDelay({ resolution: 5 });
    clientLoop.enable();
    const { lagMaxMs } = await openLoop(driver, curve, series, onSecond);
    clientLoop.disable();
    const clientLoopDelayP99Ms = Number((clientLoop.percentile(99) / 1e6).toFixed(1));
    await Promise.all(chaosTasks);
    clearInterval(memoryTimer);
    if (lagMaxMs > 250)
      notes.push(
        `the load generator fell behind its schedule by up to ${lagMaxMs.toFixed(0)} ms (it shares the cores with the nodes)`,
      );
    if (driver.clientDropped > 0)
      notes.push(
        `${driver.clientDropped} arrivals not sent: more than ${inFlightMax} requests already in flight`,
      );

    // End checks: credit exactly once, then the ledger (every reservation resolved).
    const credit = await creditCheck(driver);
    // The ledger is read between two counts of orders awaiting payment, until both counts agree with
    // its open pending transfers (a late notification may settle an order in between).
    let ledger: LedgerReport | null = null;
    let awaiting = { count: -1, unreadable: [] as string[] };
    let ledgerPass = false;
    if (deployment.ledgerEnv) {
      const until = performance.now() + (chaos ? 45_000 : quick ? 10_000 : 20_000);
      for (;;) {
        const before = await ordersAwaitingPayment(driver);
        ledger = await ledgerCheck(deployment.ledgerEnv);
        awaiting = await ordersAwaitingPayment(driver);
        const unreadable = before.unreadable.length + awaiting.unreadable.length;
        ledgerPass =
          ledger !== null &&
          ledger.ok &&
          unreadable === 0 &&
          before.count === awaiting.count &&
          ledger.pendingOpen === awaiting.count &&
          credit.wrong.length === 0;
        if (ledgerPass || !ledger?.ok || performance.now() > until) break;
        await sleep(2000);
      }
    }
    // One scrape for both: any scrape resets the nodes' event-loop delay histograms.
    const scraped = await scrapeNodes(deployment.nodes);
    const stalls = nodeStalls(scraped);
    const floor = await refusalFloor(curve.peakRps, quick ? 3 : 6);
    const proxyFloor = front === null ? null : await refusalFloor(curve.peakRps, quick ? 3 : 6, 'nginx');
    const serverRefusals = admissionRefusals(scraped);
    const rows = seriesRows(series);
    const rec = recovery(rows, curve, capacityRps);
    const peakOffered = Math.max(...rows.slice(0, Math.ceil(curve.durationS)).map((row) => row.offered));
    const rssMaxMb = Math.max(0, ...deployment.nodes.map((node) => node.rssHighMb));
    const result = {
      bench: 'surge',
      capacity_rps: Math.round(capacityRps),
      offered_peak_rps: peakOffered,
      goodput_at_peak_ratio: Number(goodputAtPeakRatio(rows, curve, capacityRps).toFixed(3)),
      admitted_p99_ms: Math.round(series.admitted.percentileMs(99) ?? 0),
      refusal_p99_ms: Number((series.refusals.percentileMs(99) ?? 0).toFixed(1)),
      rss_max_mb: Math.round(rssMaxMb),
      recovery_s: rec.seconds,
      errors_other_than_429_503: series.totalErrors(),
      ledger_check: ledger === null && !deployment.ledgerEnv ? 'skipped' : ledgerPass ? 'pass' : 'fail',
    };
    const report = {
      ...result,
      run: {
        deployment: description,
        proxy_entry_rate_rps: entryRateRps === null ? null : Math.round(entryRateRps),
        quick,
        chaos,
        cores: availableParallelism(),
        duration_s: Number(((performance.now() - started) / 1000).toFixed(1)),
        curve: curve.phases,
        recovered: rec.recovered,
        baseline_p99_ms: rec.baselineP99Ms,
        baseline_refusal_share: rec.baselineRefusalShare,
        applicants: driver.all.length,
        applicants_completed: driver.completed,
        journey_failures: Object.fromEntries(driver.journeyFailures),
        refusal_codes: Object.fromEntries(driver.refusalCodes),
        refusal_latency_by_code: series.refusalLatencyByKind(),
        server_refusals_by_class_and_reason: serverRefusals,
        capacity_steps: capacitySteps,
        capacity_probe: probe.steps,
        errors_by_kind: Object.fromEntries(series.errorsByKind),
        client_dropped: driver.clientDropped,
        schedule_lag_max_ms: Math.round(lagMaxMs),
        load_generator_loop_delay_p99_ms: clientLoopDelayP99Ms,
        refusal_floor: floor,
        proxy_refusal_floor: proxyFloor,
        steps: stepSummary(driver),
        nodes_rss_high_mb: deployment.nodes.map((node) => Math.round(node.rssHighMb)),
        credit_check: credit,
        ledger: ledger ? { ok: ledger.ok, pendingOpen: ledger.pendingOpen, problems: ledger.problems } : null,
        chaos_events: chaosEvents,
        notes,
      },
      series: rows,
    };
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'surge-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const svg = lineChartSvg(
      [
        { label: 'offered (req/s)', color: '#555', values: rows.map((row) => row.offered), axis: 'left' },
        { label: 'goodput (req/s)', color: '#0b6e4f', values: rows.map((row) => row.goodput), axis: 'left' },
        {
          label: 'refusals 429/503 (req/s)',
          color: '#d98c00',
          values: rows.map((row) => row.refused_429 + row.refused_503),
          axis: 'left',
        },
        {
          label: 'admitted p99 (ms)',
          color: '#c0392b',
          values: rows.map((row) => row.admitted_p99_ms),
          axis: 'right',
        },
      ],
      {
        title: `bubuh surge replay — ${description}, capacity ${Math.round(capacityRps)} req/s${chaos ? ', chaos' : ''}`,
        leftLabel: 'requests per second',
        rightLabel: 'admitted p99 latency (ms)',
        xLabel: 'seconds since the start of the curve',
      },
    );
    await writeFile(join(outDir, 'surge-report.svg'), svg);
    const stepLines = Object.entries(report.run.steps).map(
      ([step, entry]) =>
        `  ${step}: ${entry.ok} ok, ${entry.refused} refused, ${entry.error} errors, p99 ${entry.p99_ms ?? '-'} ms`,
    );
    process.stdout.write(
      [
        `curve: ${curve.phases.map((phase) => `${phase.name} ${phase.endS - phase.startS}s ${Math.round(phase.fromRps)}→${Math.round(phase.toRps)}/s`).join(', ')}`,
        `applicants: ${driver.all.length} started, ${driver.completed} finished every step`,
        ...stepLines,
        `capacity probe by journey step: ${JSON.stringify(capacitySteps)}`,
        `refusals by step and code: ${JSON.stringify(report.run.refusal_codes)}`,
        `refusal latency by step and code: ${JSON.stringify(report.run.refusal_latency_by_code)}`,
        `server refusals by class and reason (nodes up at the end, from /metrics): ${JSON.stringify(serverRefusals)}`,
        `where a node's main thread stalled, from the probe on (from /metrics): ${JSON.stringify(stalls)}`,
        `load generator's event-loop delay p99 during the curve: ${clientLoopDelayP99Ms} ms (part of every latency above)`,
        `refusal floor (a bare Node server answering every request at once with the same 503, same client, ${floor.rate_rps} req/s, deployment idle): p50 ${floor.p50_ms ?? '-'} ms, p99 ${floor.p99_ms ?? '-'} ms over ${floor.answered} answers${floor.other ? `, ${floor.other} other outcomes` : ''}; CPU per request: client ${floor.client_cpu_us_per_request} µs, server ${floor.server_cpu_us_per_request ?? '-'} µs`,
        ...(proxyFloor === null
          ? []
          : [
              `refusal floor of the proxy (nginx answering every request with the same 503, same client, ${proxyFloor.rate_rps} req/s): p50 ${proxyFloor.p50_ms ?? '-'} ms, p99 ${proxyFloor.p99_ms ?? '-'} ms over ${proxyFloor.answered} answers${proxyFloor.other ? `, ${proxyFloor.other} other outcomes` : ''}; CPU per request: client ${proxyFloor.client_cpu_us_per_request} µs, nginx ${proxyFloor.server_cpu_us_per_request ?? '-'} µs`,
            ]),
        `errors by kind: ${JSON.stringify(report.run.errors_by_kind)}`,
        `journey failures: ${JSON.stringify(report.run.journey_failures)}`,
        `credit check: ${credit.checked} paid applicants, ${credit.wrong.length} wrong${credit.late ? `, ${credit.late} credited late (the last ${credit.lastLateS} s into the check)` : ''}${credit.skipped ? `, ${credit.skipped} skipped (their sandbox payment died with a killed node)` : ''}${credit.wrong.length ? `: ${credit.wrong.slice(0, 5).join('; ')}` : ''}`,
        `ledger check: ${ledger ? `ok ${ledger.ok}, pending open ${ledger.pendingOpen} (orders awaiting payment: ${awaiting.count}${awaiting.unreadable.length ? `; ${awaiting.unreadable.length} applicants' orders unreadable: ${awaiting.unreadable.slice(0, 3).join('; ')}` : ''})${ledger.problems.length ? `, ${ledger.problems.slice(0, 3).join('; ')}` : ''}` : 'not run'}`,
        ...chaosEvents.map((event) => `chaos at ${event.t}s: ${event.what}`),
        ...notes.map((note) => `note: ${note}`),
        `wrote ${join(outDir, 'surge-report.json')} and surge-report.svg; run took ${report.run.duration_s}s`,
        JSON.stringify(result),
        '',
      ].join('\n'),
    );
  } finally {
    outbox.stop();
    if (front !== null) {
      front.handle.client.destroy();
      await front.nginx.stop();
      await rm(front.dir, { recursive: true, force: true });
    }
    await deployment.cleanup();
    for (const node of deployment.nodes) node.client.destroy();
  }
}

/** nginx in front of the deployment's nodes, and the handle the applicants send through. */
async function startProxy(
  deployment: Deployment,
): Promise<{ readonly nginx: NginxProcess; readonly handle: NodeHandle; readonly dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bubuh-surge-nginx-'));
  const nginx = await startNginxProxy(
    dir,
    await freePort(),
    deployment.nodes.map((node) => new URL(node.base).host),
  );
  const handle: NodeHandle = {
    index: 0,
    base: nginx.base,
    env: {},
    client: httpClient(nginx.base),
    process: null,
    up: true,
    rssHighMb: 0,
    kills: 0,
  };
  await warm(handle);
  return { nginx, handle, dir };
}

function stepSummary(
  driver: Driver,
): Record<
  string,
  { ok: number; refused: number; error: number; p50_ms: number | null; p99_ms: number | null }
> {
  return Object.fromEntries(
    steps
      .filter((step) => driver.stepCounts.has(step))
      .map((step) => {
        const entry = driver.stepCounts.get(step)!;
        return [
          step,
          {
            ok: entry.ok,
            refused: entry.refused,
            error: entry.error,
            p50_ms: entry.latency.percentileMs(50),
            p99_ms: entry.latency.percentileMs(99),
          },
        ];
      }),
  );
}

async function faults(nodes: readonly NodeHandle[], body: Record<string, unknown>): Promise<void> {
  for (const node of nodes) {
    if (!node.up) continue;
    const reply = await send(
      node,
      'POST',
      '/sandbox/faults',
      { 'content-type': 'application/json' },
      JSON.stringify(body),
    );
    if (reply.status !== 200) throw new Error(`sandbox faults on node ${node.index + 1}: ${reply.status}`);
  }
}

await main();

/**
 * Three `bubuh serve` processes on one PostgreSQL database (and one Redis when REDIS_URL is set), with
 * one shared PKI directory and one shared files directory, work as one service: customers sign in,
 * buy through the sandbox gateway and stamp letters with every request sent to the next node in turn
 * (round robin, as a load balancer would), concurrently. Afterwards the global invariants hold:
 * `bubuh ledger check` passes, every serial is unique, every stamped PDF verifies against the one
 * root, each node signed with its own certificate (three in all), and each customer's quota is what
 * they bought minus what they stamped.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import pg from 'pg';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { postgresUrl } from '../testing/backends.js';
import { deleteRedisPrefix, freshRedisPrefix, redisTestUrl } from '../testing/redis.js';
import { freePort, startServe, waitReady } from '../testing/serve-process.js';
import { verifyDocument } from '../verify/verify-document.js';

const run = promisify(execFile);
const cliModule = fileURLToPath(new URL('../cli/main.js', import.meta.url));

const nodeIds = ['node-a', 'node-b', 'node-c'] as const;
const customers = 6;
const unitsBought = 8;
const stampsPerCustomer = 5;

interface Node {
  readonly id: string;
  readonly base: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  process: ChildProcess | null;
}

interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads whatever JSON came back
  readonly json: any;
  readonly text: string;
}

async function call(
  node: Node,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; form?: Record<string, string>; key?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.key) headers['idempotency-key'] = options.key;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${node.base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** The sign-in code a node's WhatsApp file outbox holds for a phone (each node writes its own). */
async function codeFor(node: Node, phone: string): Promise<string> {
  const path = join(node.dataDir, 'outbox', 'whatsapp.jsonl');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (existsSync(path)) {
      const code = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { to: string; code: string | null })
        .filter((entry) => entry.to === phone && entry.code)
        .pop()?.code;
      if (code) return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no sign-in code for ${phone} in ${path}`);
}

async function stopNode(node: Node): Promise<void> {
  const child = node.process;
  if (child === null || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function clusterRun(databaseUrl: string): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bubuh-cluster-'));
  const pkiDir = join(root, 'pki');
  const filesDir = join(root, 'files');
  const redisUrl = redisTestUrl();
  const redisPrefix = freshRedisPrefix();
  const nodes: Node[] = [];
  for (const id of nodeIds) {
    const dataDir = join(root, id);
    await mkdir(dataDir);
    const port = await freePort();
    nodes.push({
      id,
      base: `http://127.0.0.1:${port}`,
      dataDir,
      process: null,
      env: {
        BUBUH_DATA_DIR: dataDir,
        BUBUH_PKI_DIR: pkiDir,
        BUBUH_FILES_DIR: filesDir,
        BUBUH_NODE_ID: id,
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        ...(redisUrl ? { REDIS_URL: redisUrl, BUBUH_REDIS_PREFIX: redisPrefix } : {}),
        LOG_LEVEL: 'error',
        BUBUH_STAMP_WORKERS: '1',
        // Every request of the test comes from 127.0.0.1: the per-IP budgets of sign-in and uploads
        // and the rate limits would refuse a test that is not about them.
        BUBUH_RATE_LIMITS: 'off',
        BUBUH_OTP_SENDS_PER_IP: '1000',
        BUBUH_OTP_SENDS_PER_PHONE: '100',
        BUBUH_UPLOADS_PER_IP: '64',
      },
    });
  }
  let turn = 0;
  const next = () => nodes[turn++ % nodes.length]!;
  try {
    // The first node creates the shared PKI and the development stock; the other two join it.
    nodes[0]!.process = startServe(nodes[0]!.env);
    await waitReady(nodes[0]!.base);
    for (const node of nodes.slice(1)) node.process = startServe(node.env);
    await Promise.all(nodes.slice(1).map((node) => waitReady(node.base)));

    interface Customer {
      readonly phone: string;
      readonly token: string;
    }
    const signUpAndBuy = async (index: number): Promise<Customer> => {
      const phone = `+628129000${String(index).padStart(4, '0')}`;
      const asked = next();
      const sent = await call(asked, 'POST', '/v1/auth/otp', { body: { phone } });
      assert.equal(sent.status, 202, sent.text);
      // The code is checked by another node: sign-in state lives in the shared database.
      const verified = await call(next(), 'POST', '/v1/auth/verify', {
        body: { phone, code: await codeFor(asked, phone) },
      });
      assert.equal(verified.status, 200, verified.text);
      const token = verified.json.token as string;
      const ordering = next();
      const ordered = await call(ordering, 'POST', '/v1/orders', {
        token,
        key: randomBytes(8).toString('hex'),
        body: { quantity: unitsBought },
      });
      assert.equal(ordered.status, 201, ordered.text);
      const orderId = ordered.json.id as string;
      // The sandbox's payment page belongs to the node that took the order (as Midtrans would be one
      // place); its notification reaches that node, and every node then sees the order paid.
      const paid = await call(ordering, 'POST', `/sandbox/pay/${orderId}`, { form: { action: 'pay' } });
      assert.equal(paid.status, 200, paid.text);
      const until = Date.now() + 15_000;
      for (;;) {
        const seen = await call(next(), 'GET', `/v1/orders/${orderId}`, { token });
        assert.equal(seen.status, 200, seen.text);
        if (seen.json.status === 'paid') break;
        assert.ok(Date.now() < until, `order ${orderId} is still ${seen.json.status}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return { phone, token };
    };
    const buyers = await Promise.all(Array.from({ length: customers }, (_, index) => signUpAndBuy(index)));

    interface Stamped {
      readonly id: string;
      readonly serial: string;
      readonly token: string;
      readonly node: string;
    }
    const stamped: Stamped[] = [];
    const stampAll = async (customer: Customer, index: number) => {
      for (let letter = 0; letter < stampsPerCustomer; letter += 1) {
        const name = `c${index}-l${letter}`;
        const body = new FormData();
        body.set('doc_type', 'surat_pernyataan');
        body.set(
          'file',
          new Blob([minimalPdf(`/MediaBox [0 0 595 842] /PieceInfo << /N (${name}) >>`)]),
          `${name}.pdf`,
        );
        const node = next();
        const response = await fetch(`${node.base}/v1/stamps`, {
          method: 'POST',
          headers: { authorization: `Bearer ${customer.token}`, 'idempotency-key': name },
          body,
        });
        const answer = (await response.json()) as { id?: string; serial?: string; status?: string };
        assert.equal(response.status, 201, JSON.stringify(answer));
        assert.equal(answer.status, 'stamped');
        stamped.push({ id: answer.id!, serial: answer.serial!, token: customer.token, node: node.id });
      }
    };
    await Promise.all(buyers.map((customer, index) => stampAll(customer, index)));
    assert.equal(stamped.length, customers * stampsPerCustomer);
    assert.deepEqual(new Set(stamped.map((entry) => entry.node)), new Set(nodeIds));

    // Every serial once, across all nodes.
    assert.equal(new Set(stamped.map((entry) => entry.serial)).size, stamped.length);

    // Every stamped PDF, downloaded from a node other than the one that made it (the files directory
    // is shared), verifies against the one root; three signer certificates signed them, one per node.
    const rootDer = new Uint8Array(
      x509.PemConverter.decodeFirst(readFileSync(join(pkiDir, 'root.pem'), 'utf8')),
    );
    const signers = new Map<string, Set<string>>();
    for (const entry of stamped) {
      const elsewhere = nodes.find((node) => node.id !== entry.node)!;
      const response = await fetch(`${elsewhere.base}/v1/stamps/${entry.id}/file`, {
        headers: { authorization: `Bearer ${entry.token}` },
      });
      assert.equal(response.status, 200, await response.clone().text());
      const pdf = new Uint8Array(await response.arrayBuffer());
      const report = await verifyDocument(pdf, { trustAnchors: [rootDer] });
      assert.equal(report.verdict, 'valid', JSON.stringify(report.reasons));
      const emeterai = report.signatures.filter((signature) => signature.isEmeterai);
      assert.equal(emeterai.length, 1);
      assert.equal(emeterai[0]!.serial, entry.serial);
      const subject = emeterai[0]!.signerSubject ?? '';
      const names = signers.get(entry.node) ?? new Set<string>();
      names.add(subject);
      signers.set(entry.node, names);
    }
    for (const id of nodeIds) {
      assert.deepEqual(
        [...(signers.get(id) ?? [])],
        [`CN=bubuh Development Signer ${id} (NOT FOR PRODUCTION), O=bubuh, C=ID`],
      );
    }

    // What each customer bought minus what they stamped, seen from any node.
    for (const [index, customer] of buyers.entries()) {
      const me = await call(next(), 'GET', '/v1/me', { token: customer.token });
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(
        me.json.quota,
        { available: unitsBought - stampsPerCustomer, pending: 0 },
        `customer ${index}`,
      );
    }

    // The registry agrees: one row per stamp, three distinct signer certificates.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ serials: string; distinct_serials: string; signers: string }>(
        'select count(*) as serials, count(distinct serial) as distinct_serials, count(distinct signer_fingerprint) as signers from stamp_registry',
      );
      assert.deepEqual(rows.rows[0], {
        serials: String(stamped.length),
        distinct_serials: String(stamped.length),
        signers: '3',
      });
    } finally {
      await client.end();
    }
  } finally {
    await Promise.all(nodes.map((node) => stopNode(node)));
  }
  try {
    // `bubuh ledger check`, as an operator runs it, against the shared database.
    const { stdout } = await run(
      process.execPath,
      ['-e', `import(${JSON.stringify(cliModule)}).then((m) => m.runCli(['ledger', 'check']))`],
      { env: { ...process.env, ...nodes[0]!.env } },
    );
    assert.match(stdout, /^result: PASS /m, stdout);
  } finally {
    await rm(root, { recursive: true, force: true });
    if (redisUrl) await deleteRedisPrefix(redisUrl, redisPrefix);
  }
}

test('three nodes on one PostgreSQL stamp as one service', { timeout: 120_000 }, async (t) => {
  const url = postgresUrl();
  if (!url) {
    t.skip('three nodes share one PostgreSQL: DATABASE_URL is not set, so this test was skipped');
    return;
  }
  const database = `bubuh_cluster_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
    const parsed = new URL(url);
    parsed.pathname = `/${database}`;
    await clusterRun(parsed.toString());
  } finally {
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end();
  }
});

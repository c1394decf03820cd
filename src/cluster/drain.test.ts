/**
 * Draining a real `bubuh serve` process: on SIGTERM /readyz answers 503 CLUSTER_DRAINING for
 * BUBUH_DRAIN_DELAY_MS while other routes still serve; then new connections are refused, a request
 * already in flight still gets its whole answer, and the process exits 0. Every log line names the node.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createDrain, type Drain } from './drain.js';
import { freePort, waitReady } from '../testing/serve-process.js';

const cliModule = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const drainDelayMs = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A GET on a connection of its own: the status, or the connection error's code. */
function probe(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const asked = request(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    asked.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    asked.end();
  });
}

test('a drain starts once and resolves after its delay; 0 resolves at once', async () => {
  const started = Date.now();
  const drain: Drain = createDrain(200);
  assert.equal(drain.draining, false);
  const first = drain.start();
  assert.equal(drain.draining, true);
  assert.equal(drain.start(), first);
  await first;
  assert.ok(Date.now() - started >= 195, `resolved after ${Date.now() - started} ms`);
  const none = createDrain(0);
  await none.start();
  assert.equal(none.draining, true);
});

test('SIGTERM drains: /readyz 503 for the delay, then no new connections, in-flight finishes, exit 0', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-drain-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name !== 'DATABASE_URL' && name !== 'REDIS_URL' && !name.startsWith('BUBUH_'),
    ),
  );
  const server = spawn(
    process.execPath,
    ['-e', `import(${JSON.stringify(cliModule)}).then((m) => m.runCli(['serve']))`],
    {
      env: {
        ...inherited,
        BUBUH_DATA_DIR: dataDir,
        PORT: String(port),
        LOG_LEVEL: 'info',
        BUBUH_NODE_ID: 'drain-node',
        BUBUH_DRAIN_DELAY_MS: String(drainDelayMs),
        BUBUH_RATE_LIMITS: 'off',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  try {
    await waitReady(base);

    // A request in flight: its headers and half its body are sent, the rest only after the server has
    // stopped taking connections.
    const body = JSON.stringify({ phone: '+6281200000000', code: '000000' });
    let answered: (value: { status: number; text: string }) => void = () => {};
    const answer = new Promise<{ status: number; text: string }>((resolve) => (answered = resolve));
    const inFlight = request(`${base}/v1/auth/verify`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    inFlight.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => answered({ status: response.statusCode ?? 0, text }));
    });
    inFlight.on('error', (error) => answered({ status: -1, text: String(error) }));
    inFlight.write(body.slice(0, 10));
    await sleep(100);

    const signalled = Date.now();
    server.kill('SIGTERM');
    // Draining: /readyz refuses with the node's name, other routes still answer.
    let readyz: Response | null = null;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      readyz = await fetch(`${base}/readyz`);
      if (readyz.status === 503) break;
      await sleep(20);
    }
    assert.equal(readyz?.status, 503);
    const refusal = (await readyz.json()) as { error: { code: string; details: unknown } };
    assert.equal(refusal.error.code, 'CLUSTER_DRAINING');
    assert.deepEqual(refusal.error.details, { node: 'drain-node' });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);

    // After the delay: new connections are refused while the in-flight request keeps the process
    // alive (each probe opens its own connection: a kept-alive one would still be served).
    let refusedAt = 0;
    while (refusedAt === 0) {
      const seen = await probe(`${base}/readyz`);
      // A probe that connects in the instant the listener closes is reset instead of refused: both
      // mean the node has stopped taking connections.
      if (seen === 'ECONNREFUSED' || seen === 'ECONNRESET') refusedAt = Date.now();
      else assert.equal(seen, 503);
      if (refusedAt === 0) await sleep(50);
      assert.ok(Date.now() - signalled < drainDelayMs + 5000, 'the server never stopped listening');
    }
    assert.ok(
      refusedAt - signalled >= drainDelayMs - 50,
      `listening stopped after ${refusedAt - signalled} ms`,
    );
    assert.equal(server.exitCode, null);

    inFlight.end(body.slice(10));
    const finished = await answer;
    const parsed = JSON.parse(finished.text) as { error: { code: string } };
    assert.equal(finished.status, 401, finished.text);
    assert.equal(parsed.error.code, 'OTP_EXPIRED');
    assert.equal(await exited, 0);

    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { node?: string; msg?: string });
    assert.ok(lines.length >= 3, output);
    assert.deepEqual(
      lines.filter((line) => line.node !== 'drain-node'),
      [],
    );
    assert.ok(lines.some((line) => line.msg === 'draining: /readyz answers 503'));
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

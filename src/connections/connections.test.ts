/**
 * Connection hygiene on a real socket (node:net against the app listening on port 0): slowloris is cut
 * after the headers timeout, sockets beyond maxConnections are closed at once, the (limit+1)-th upload
 * of one address is refused 429 while the first ones complete, an over-size Content-Length is refused
 * before its body is sent, and a chunked body over the limit is cut off as it streams.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { accountStoreOf } from '../accounts/authenticate.js';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { type BubuhNode, createNode } from '../node.js';
import { connectionsCheckingIntervalMs, serverLimits } from './server.js';
import { clientKey, connectionStateOf, isUploadRoute, refusalReasons } from './hooks.js';

interface Served {
  readonly node: BubuhNode;
  readonly app: FastifyInstance;
  readonly port: number;
}

/** A node on SQLite in a fresh directory, its app listening on a free port, with a test upload route. */
async function serve(t: TestContext, env: Record<string, string | number>): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-connections-'));
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_RATE_LIMITS: 'off', ...env });
  const node = await createNode(config, createLogger('silent'));
  const app = await buildApp(node);
  // An upload route like the stamp, batch and verify ones (multipart), that only counts the file.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: 4096, files: 1 } });
    scope.post('/v1/test-upload', { schema: { consumes: ['multipart/form-data'] } }, async (request) => {
      const file = await request.file();
      const bytes = await file!.toBuffer();
      return { bytes: bytes.byteLength };
    });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  t.after(async () => {
    await app.close();
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { node, app, port: address.port };
}

interface Peer {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  text(): string;
  /** Resolves when the server closed the connection (or it was reset), with the ms since connect. */
  readonly closed: Promise<number>;
  /** Resolves once a whole response (headers and a Content-Length body) arrived. */
  response(): Promise<Response>;
}

interface Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function parse(text: string): Response | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = text.slice(end + 4);
  const length = Number(headers['content-length'] ?? '0');
  if (Buffer.byteLength(body) < length) return null;
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

async function open(port: number): Promise<Peer> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // a reset is a close here
  let received = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = performance.now();
  const closed = new Promise<number>((resolve) => {
    socket.once('close', () => {
      for (const wake of waiters.splice(0)) wake();
      resolve(performance.now() - started);
    });
  });
  return {
    socket,
    text: () => received,
    closed,
    async response() {
      for (;;) {
        const parsed = parse(received);
        if (parsed) return parsed;
        if (socket.destroyed) throw new Error(`closed before a whole response: ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 2000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The refusals counter by reason; `expected` lists the non-zero ones, every other reason reads 0. */
async function assertRefusals(node: BubuhNode, expected: Record<string, number>): Promise<void> {
  const metric = await connectionStateOf(node).refusals.get();
  const actual = Object.fromEntries(
    metric.values.map((value) => [String(value.labels['reason']), value.value]),
  );
  assert.deepEqual(actual, {
    ...Object.fromEntries(refusalReasons.map((reason) => [reason, 0])),
    ...expected,
  });
}

const boundary = 'bubuhTestBoundary';

function multipartHead(fileBytes: number): { head: string; tail: string; length: number } {
  const head =
    `--${boundary}\r\n` +
    'Content-Disposition: form-data; name="file"; filename="a.pdf"\r\n' +
    'Content-Type: application/pdf\r\n\r\n';
  const tail = `\r\n--${boundary}--\r\n`;
  return { head, tail, length: head.length + fileBytes + tail.length };
}

function uploadHeaders(length: number): string {
  return (
    'POST /v1/test-upload HTTP/1.1\r\nHost: localhost\r\n' +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n`
  );
}

test('the server limits come from the settings, the checking interval from the headers timeout', () => {
  const config = loadConfig({}, { BUBUH_HEADERS_TIMEOUT_MS: 400, BUBUH_REQUEST_TIMEOUT_MS: 300 });
  assert.deepEqual(serverLimits(config), {
    bodyLimit: 1024 * 1024,
    requestTimeout: 400,
    keepAliveTimeout: 72_000,
    http: {
      headersTimeout: 400,
      requestTimeout: 400,
      keepAliveTimeout: 72_000,
      connectionsCheckingInterval: 100,
    },
  });
  assert.equal(serverLimits(config, 2048).bodyLimit, 2048);
  assert.equal(connectionsCheckingIntervalMs(10_000), 2500);
  assert.equal(connectionsCheckingIntervalMs(600_000), 5000);
  assert.equal(connectionsCheckingIntervalMs(100), 25);
  assert.equal(clientKey('2001:db8:0:1:aaaa::1'), '2001:0db8:0000:0001::/64');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
});

test('a slowloris client trickling its headers is answered 408 and cut off after the headers timeout', async (t) => {
  const { node, port } = await serve(t, { BUBUH_HEADERS_TIMEOUT_MS: 400, BUBUH_REQUEST_TIMEOUT_MS: 5000 });
  const peer = await open(port);
  const request = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(100);
  let sent = 0;
  const trickle = setInterval(() => {
    if (peer.socket.destroyed || sent >= request.length) return;
    peer.socket.write(request[sent]!);
    sent += 1;
  }, 50);
  try {
    const elapsed = await peer.closed;
    // Cut at the timeout plus at most one checking interval (100 ms); slack for a loaded machine,
    // still far below the 5 s request timeout.
    assert.ok(elapsed >= 400 && elapsed < 1200, `cut after ${elapsed} ms`);
    assert.ok(sent < request.length, 'cut before the headers were complete');
    assert.equal(peer.text().split('\r\n')[0], 'HTTP/1.1 408 Request Timeout');
    await assertRefusals(node, { request_timeout: 1 });
  } finally {
    clearInterval(trickle);
  }
});

test('connections beyond maxConnections are closed at once; the open ones still work', async (t) => {
  const { node, port } = await serve(t, { BUBUH_MAX_CONNECTIONS: 3, BUBUH_HEADERS_TIMEOUT_MS: 5000 });
  const state = connectionStateOf(node);
  const first = [await open(port), await open(port), await open(port)];
  await until(() => state.open === 3, 'three open connections');
  const extra = await open(port);
  const elapsed = await extra.closed;
  assert.ok(elapsed < 500, `closed after ${elapsed} ms`);
  assert.equal(extra.text(), '');
  assert.equal(state.open, 3);
  await assertRefusals(node, { max_connections: 1 });
  first[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const health = await first[0]!.response();
  assert.equal(health.status, 200);
  assert.equal(health.body, '{"status":"ok"}');
  for (const peer of first) peer.socket.destroy();
  await until(() => state.open === 0, 'no open connections');
  const again = await open(port);
  again.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  assert.equal((await again.response()).status, 200);
});

test('the (limit+1)-th concurrent upload of one address is refused 429 while the first ones complete', async (t) => {
  const { node, app, port } = await serve(t, { BUBUH_UPLOADS_PER_IP: 2, BUBUH_REQUEST_TIMEOUT_MS: 5000 });
  const state = connectionStateOf(node);
  const fileBytes = 1000;
  const form = multipartHead(fileBytes);
  const holders = [await open(port), await open(port)];
  for (const peer of holders) peer.socket.write(uploadHeaders(form.length) + form.head + 'x'.repeat(10));
  await until(() => state.uploads === 2, 'two uploads in progress');

  const third = await open(port);
  third.socket.write(uploadHeaders(form.length));
  const refused = await third.response();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '2');
  assert.equal(refused.headers['connection'], 'close');
  assert.deepEqual(JSON.parse(refused.body), {
    error: {
      code: 'UPLOADS_IN_PROGRESS',
      message: '2 uploads are already in progress. Wait for one to finish, then try again in 2 seconds.',
      message_id:
        'Sudah ada 2 unggahan yang sedang berjalan. Tunggu salah satunya selesai, lalu coba lagi dalam 2 detik.',
      details: { scope: 'address', limit: 2, retryAfterSeconds: 2 },
    },
  });
  await third.closed;
  assert.equal(state.uploads, 2);

  for (const peer of holders) peer.socket.write('x'.repeat(fileBytes - 10) + form.tail);
  for (const peer of holders) {
    const done = await peer.response();
    assert.equal(done.status, 200);
    assert.equal(done.body, `{"bytes":${fileBytes}}`);
  }
  await until(() => state.uploads === 0, 'the slots released');
  assert.equal(state.byAddress.size, 0);

  // A slot is released when the client goes away mid-upload, too.
  const quitter = await open(port);
  quitter.socket.write(uploadHeaders(form.length) + form.head);
  await until(() => state.uploads === 1, 'one upload in progress');
  quitter.socket.destroy();
  await until(() => state.uploads === 0, 'the aborted slot released');

  const afterwards = await app.inject({
    method: 'POST',
    url: '/v1/test-upload',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: form.head + 'y'.repeat(fileBytes) + form.tail,
  });
  assert.equal(afterwards.statusCode, 200);
  assert.equal(state.uploads, 0);
  await assertRefusals(node, { uploads_per_ip: 1 });
});

test('the (limit+1)-th concurrent upload of one account is refused 429, whichever session it uses', async (t) => {
  const { node, port } = await serve(t, {
    BUBUH_STAMP_UPLOADS_PER_ACCOUNT: 1,
    BUBUH_REQUEST_TIMEOUT_MS: 5000,
  });
  const state = connectionStateOf(node);
  const store = accountStoreOf(node);
  const { account } = await store.findOrCreate('+6281200000101');
  const { account: other } = await store.findOrCreate('+6281200000102');
  const first = (await store.createSession(account.id)).token;
  const second = (await store.createSession(account.id)).token;
  const others = (await store.createSession(other.id)).token;
  const fileBytes = 100;
  const form = multipartHead(fileBytes);
  const withToken = (token: string) =>
    uploadHeaders(form.length).replace(
      'Host: localhost\r\n',
      `Host: localhost\r\nAuthorization: Bearer ${token}\r\n`,
    );

  const holder = await open(port);
  holder.socket.write(withToken(first) + form.head);
  await until(() => state.byAccount.get(account.id) === 1, 'the account holding its one slot');

  const refused = await open(port);
  refused.socket.write(withToken(second));
  const answer = await refused.response();
  assert.equal(answer.status, 429);
  assert.equal(answer.headers['retry-after'], '2');
  assert.deepEqual(JSON.parse(answer.body).error.details, {
    scope: 'account',
    limit: 1,
    retryAfterSeconds: 2,
  });

  // Another account, and a token that does not authenticate (the route answers for itself), pass.
  for (const token of [others, 'bub_not-a-session']) {
    const peer = await open(port);
    peer.socket.write(withToken(token) + form.head + 'z'.repeat(fileBytes) + form.tail);
    const done = await peer.response();
    assert.equal(done.status, 200);
    assert.equal(done.body, `{"bytes":${fileBytes}}`);
  }

  holder.socket.write('z'.repeat(fileBytes) + form.tail);
  assert.equal((await holder.response()).status, 200);
  await until(() => state.byAccount.size === 0 && state.uploads === 0, 'every slot released');
  await assertRefusals(node, { uploads_per_account: 1 });
});

test('an upload over the Content-Length limit is refused 413 before any of its body is sent', async (t) => {
  const { node, port } = await serve(t, { BUBUH_STAMP_FILE_BYTES_MAX: 65536 });
  const peer = await open(port);
  // Headers only: the refusal must come without the server waiting for (or reading) a body.
  peer.socket.write(
    'POST /v1/stamps HTTP/1.1\r\nHost: localhost\r\nIdempotency-Key: k1\r\n' +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n`,
  );
  const refused = await peer.response();
  assert.equal(refused.status, 413);
  assert.equal(refused.headers['connection'], 'close');
  assert.deepEqual(JSON.parse(refused.body), {
    error: {
      code: 'BODY_TOO_LARGE',
      message: 'The request body is too large: at most 131072 bytes.',
      message_id: 'Isi permintaan terlalu besar: paling besar 131072 byte.',
      details: { limitBytes: 131072 },
    },
  });
  await peer.closed;
  assert.equal(connectionStateOf(node).uploads, 0);
  await assertRefusals(node, { body_too_large: 1 });

  // A route that answers in its own protocol (RFC 3161 at /tsa) still answers 413 in it.
  const tsa = await open(port);
  tsa.socket.write(
    'POST /tsa HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/timestamp-query\r\n' +
      'Content-Length: 10000000\r\n\r\n',
  );
  const tsaRefused = await tsa.response();
  assert.equal(tsaRefused.status, 413);
  assert.equal(tsaRefused.headers['content-type'], 'application/timestamp-reply');
  assert.equal(tsaRefused.headers['connection'], 'close');
  await assertRefusals(node, { body_too_large: 2 });
});

test('a chunked body over the limit is cut off as it streams', async (t) => {
  const { node, port } = await serve(t, { BUBUH_BODY_BYTES_MAX: 4096 });
  const peer = await open(port);
  peer.socket.write(
    'POST /v1/auth/otp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n',
  );
  const chunk = '{"phone":"' + 'x'.repeat(1000);
  let sent = 0;
  const stream = setInterval(() => {
    if (peer.socket.destroyed || peer.text() !== '') return;
    peer.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    sent += chunk.length;
  }, 5);
  try {
    const refused = await peer.response();
    assert.equal(refused.status, 413);
    assert.equal(refused.headers['connection'], 'close');
    assert.deepEqual(JSON.parse(refused.body), {
      error: {
        code: 'BODY_TOO_LARGE',
        message: 'The request body is too large: at most 4096 bytes.',
        message_id: 'Isi permintaan terlalu besar: paling besar 4096 byte.',
        details: { limitBytes: 4096 },
      },
    });
    const elapsed = await peer.closed;
    assert.ok(elapsed < 1500, `closed after ${elapsed} ms`);
    assert.ok(sent < 64 * 1024, `the server stopped reading early (${sent} bytes sent)`);
    await assertRefusals(node, { body_too_large: 1 });
  } finally {
    clearInterval(stream);
  }
});

test('upload routes are the multipart ones: stamp, batch and verify', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-connections-'));
  const node = await createNode(loadConfig({}, { BUBUH_DATA_DIR: dataDir }), createLogger('silent'));
  const uploads: string[] = [];
  const app = await buildApp(node, {
    onRoute: (route) => {
      const request = { routeOptions: { schema: route.schema } } as unknown as FastifyRequest;
      if (isUploadRoute(request)) uploads.push(`${String(route.method)} ${route.url}`);
    },
  });
  t.after(async () => {
    await app.close();
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  assert.deepEqual(uploads.sort(), ['POST /v1/batches', 'POST /v1/stamps', 'POST /v1/verify']);
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { LeanHttpClient } from './http-client.js';

let server: Server;
let port = 0;
/** Remote ports of the connections the server accepted, in order. */
const connections: number[] = [];
/** What the server received per request: method, url, headers, body. */
const received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

function route(request: IncomingMessage, response: ServerResponse, body: string): void {
  const url = request.url ?? '/';
  if (url === '/length') {
    response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
    response.end(JSON.stringify({ echo: body }));
  } else if (url === '/chunked') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('first,');
    setTimeout(() => {
      response.write('second,');
      response.end('third');
    }, 10);
  } else if (url === '/empty') {
    response.writeHead(204);
    response.end();
  } else if (url === '/close') {
    response.writeHead(200, { connection: 'close', 'content-length': '2' });
    response.end('ok');
  } else if (url === '/until-close') {
    // No length and no chunking: the body runs until the server closes the connection.
    const socket = response.socket!;
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of ');
    setTimeout(() => socket.end('it'), 10);
  } else if (url === '/slow') {
    setTimeout(() => response.end('late'), 60);
  } else if (url === '/never') {
    // no answer at all
  } else if (url === '/cut') {
    response.socket!.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part');
    setTimeout(() => response.socket!.destroy(), 10);
  } else if (url === '/garbage') {
    response.socket!.end('SSH-2.0-not-http\r\n\r\n');
  } else {
    response.writeHead(404, { 'content-length': '0' });
    response.end();
  }
}

before(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      route(request, response, body);
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket: Socket) => connections.push(socket.remotePort ?? 0));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(maxSockets = 8, timeoutMs = 2000): LeanHttpClient {
  return new LeanHttpClient({ host: '127.0.0.1', port, maxSockets, maxIdle: 8, timeoutMs });
}

test('a request with a body: status, body by content-length, Retry-After, headers sent as given', async () => {
  const http = client();
  received.length = 0;
  const reply = await http.request('POST', '/length', { 'content-type': 'application/json' }, '{"a":"é"}');
  assert.deepEqual(
    {
      status: reply.status,
      body: reply.body.toString('utf8'),
      retryAfterS: reply.retryAfterS,
      error: reply.error,
    },
    { status: 503, body: '{"echo":"{\\"a\\":\\"é\\"}"}', retryAfterS: 2, error: null },
  );
  assert.equal(received[0]!.method, 'POST');
  assert.equal(received[0]!.headers['content-type'], 'application/json');
  assert.equal(received[0]!.headers['content-length'], '10');
  assert.equal(received[0]!.headers.host, `127.0.0.1:${port}`);
  http.destroy();
});

test('keep-alive: one socket carries one request after another', async () => {
  const http = client();
  const before = connections.length;
  for (let i = 0; i < 5; i += 1) {
    const reply = await http.request('GET', '/length', {}, null);
    assert.equal(reply.status, 503);
  }
  assert.equal(connections.length - before, 1);
  assert.equal(http.sockets, 1);
  http.destroy();
});

test('a chunked body arriving in pieces is joined; it is dropped when not kept', async () => {
  const http = client();
  const kept = await http.request('GET', '/chunked', {}, null);
  assert.equal(kept.status, 200);
  assert.equal(kept.body.toString('latin1'), 'first,second,third');
  const dropped = await http.request('GET', '/chunked', {}, null, false);
  assert.equal(dropped.status, 200);
  assert.equal(dropped.body.length, 0);
  // The socket is reusable after a chunked answer.
  assert.equal((await http.request('GET', '/length', {}, null)).status, 503);
  assert.equal(http.sockets, 1);
  http.destroy();
});

test('204, connection: close, and a body that runs until the server closes', async () => {
  const http = client();
  const empty = await http.request('DELETE', '/empty', {}, null);
  assert.deepEqual([empty.status, empty.body.length, empty.error], [204, 0, null]);
  assert.equal(received.at(-1)!.headers['content-length'], '0');
  const closing = await http.request('GET', '/close', {}, null);
  assert.deepEqual([closing.status, closing.body.toString(), closing.error], [200, 'ok', null]);
  const untilClose = await http.request('GET', '/until-close', {}, null);
  assert.deepEqual(
    [untilClose.status, untilClose.body.toString(), untilClose.error],
    [200, 'all of it', null],
  );
  http.destroy();
});

test('beyond maxSockets requests wait their turn, in order, and all are answered', async () => {
  const http = client(2);
  const before = connections.length;
  const order: number[] = [];
  const replies = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      http.request('GET', '/slow', {}, null).then((reply) => {
        order.push(i);
        return reply.status;
      }),
    ),
  );
  assert.deepEqual(replies, [200, 200, 200, 200, 200, 200]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(connections.length - before, 2);
  http.destroy();
});

test('a time-out ends the exchange and its socket; the client goes on with a new one', async () => {
  const http = client(1, 100);
  const started = performance.now();
  const reply = await http.request('GET', '/never', {}, null);
  assert.deepEqual([reply.status, reply.error], [0, 'timeout']);
  assert.ok(performance.now() - started < 1000);
  // A request waiting for the only socket also times out with the wait counted.
  const [first, second] = await Promise.all([
    http.request('GET', '/never', {}, null),
    http.request('GET', '/never', {}, null),
  ]);
  assert.deepEqual([first.error, second.error], ['timeout', 'timeout']);
  assert.equal((await http.request('GET', '/length', {}, null)).status, 503);
  http.destroy();
});

test('a cut connection, a non-HTTP answer and a refused connection are errors, not answers', async () => {
  const http = client();
  const cut = await http.request('GET', '/cut', {}, null);
  assert.deepEqual([cut.status, cut.error], [0, 'ECONNRESET']);
  const garbage = await http.request('GET', '/garbage', {}, null);
  assert.deepEqual([garbage.status, garbage.error], [0, 'not an HTTP/1 response']);
  http.destroy();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const nowhere = new LeanHttpClient({
    host: '127.0.0.1',
    port: closedPort,
    maxSockets: 1,
    maxIdle: 1,
    timeoutMs: 1000,
  });
  const refused = await nowhere.request('GET', '/', {}, null);
  assert.deepEqual([refused.status, refused.error], [0, 'ECONNREFUSED']);
});

test('an idle socket past the server keep-alive time-out (less a second) is not reused', async () => {
  const old = server.keepAliveTimeout;
  server.keepAliveTimeout = 1000; // announced as `keep-alive: timeout=1`: reuse only within 0 s
  try {
    const http = client();
    const before = connections.length;
    assert.equal((await http.request('GET', '/length', {}, null)).status, 503);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await http.request('GET', '/length', {}, null)).status, 503);
    assert.equal(connections.length - before, 2);
    http.destroy();
  } finally {
    server.keepAliveTimeout = old;
  }
});

test('destroy ends what is in flight and the client can be used again', async () => {
  const http = client(1);
  const inFlight = http.request('GET', '/never', {}, null);
  const waiting = http.request('GET', '/never', {}, null);
  await new Promise((resolve) => setTimeout(resolve, 20));
  http.destroy();
  assert.deepEqual(
    (await Promise.all([inFlight, waiting])).map((reply) => reply.error),
    ['client destroyed', 'client destroyed'],
  );
  assert.equal((await http.request('GET', '/length', {}, null)).status, 503);
  http.destroy();
});

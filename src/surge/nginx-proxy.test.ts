import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../testing/serve-process.js';
import { nginxAvailable, startNginxProxy, startNginxRefuser } from './nginx-proxy.js';

const skip = nginxAvailable()
  ? false
  : 'nginx is not on the PATH (Debian: apt-get install nginx); the surge replay’s --proxy nginx is not tested';

/**
 * An upstream that answers 200 — with `answer`, or else its name, method and path — and records the
 * headers and body size of every request but `/readyz`, and says in `x-received` how many bytes it got.
 */
async function upstream(
  name: string,
  answer?: Buffer,
): Promise<{ server: Server; address: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    let received = 0;
    request.on('data', (chunk: Buffer) => (received += chunk.length));
    request.on('end', () => {
      if (request.url !== '/readyz') seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'text/plain', 'x-received': String(received) });
      response.end(
        answer !== undefined && request.url !== '/readyz'
          ? answer
          : `${name} ${request.method} ${request.url}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Runs `work` with a fresh directory for nginx's files, removed afterwards. */
async function inNginxDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bubuh-nginx-test-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function post(base: string, path: string, forwardedFor: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: '{"phone":"+6281200000000"}',
  });
}

test(
  'nginx proxy: passes the applicant’s address, keeps an applicant on one node, then limits only new applicants',
  { skip },
  () =>
    inNginxDir(async (dir) => {
      const nodes = [await upstream('node-a'), await upstream('node-b')];
      const proxy = await startNginxProxy(
        dir,
        await freePort(),
        nodes.map((node) => node.address),
      );
      try {
        // No limit yet: every request goes through, with the applicant's own X-Forwarded-For.
        const first = await post(proxy.base, '/v1/auth/otp', '10.0.0.7');
        assert.equal(first.status, 200);
        const servedBy = (await first.text()).split(' ')[0]!;
        for (let i = 0; i < 5; i += 1) {
          const again = await post(proxy.base, '/v1/orders', '10.0.0.7');
          assert.equal(again.status, 200);
          assert.equal((await again.text()).split(' ')[0], servedBy, 'the same applicant stays on its node');
        }
        const forwarded = nodes.flatMap((node) => node.seen).map((headers) => headers['x-forwarded-for']);
        assert.deepEqual([...new Set(forwarded)], ['10.0.0.7']);

        // One new applicant a second, a burst of one: of ten at once, two reach a node, eight are refused
        // at the edge with the node's own 503.
        await proxy.setEntryRate(1);
        const statuses: number[] = [];
        let refusal: Response | null = null;
        for (let i = 0; i < 10; i += 1) {
          const reply = await post(proxy.base, '/v1/auth/otp', `10.0.1.${i}`);
          statuses.push(reply.status);
          if (reply.status === 503) refusal = reply;
          else await reply.arrayBuffer();
        }
        assert.deepEqual(statuses, [200, 200, 503, 503, 503, 503, 503, 503, 503, 503]);
        assert.equal(refusal!.headers.get('retry-after'), '1');
        assert.equal(refusal!.headers.get('content-type'), 'application/json; charset=utf-8');
        const body = (await refusal!.json()) as { error: { code: string; message_id: string } };
        assert.equal(body.error.code, 'OVERLOADED');
        assert.match(body.error.message_id, /^Layanan sedang sangat sibuk/);
        // Everything after the first step is the nodes' own business: not limited at the edge.
        for (let i = 0; i < 10; i += 1) {
          const reply = await post(proxy.base, '/v1/stamps', `10.0.2.${i}`);
          assert.equal(reply.status, 200);
          await reply.arrayBuffer();
        }
      } finally {
        await proxy.stop();
        for (const node of nodes) node.server.close();
      }
    }),
);

test('nginx proxy: uploads and answers larger than its memory buffers pass through whole', { skip }, () =>
  inNginxDir(async (dir) => {
    // Past client_body_buffer_size and the proxy buffers nginx spills to temporary files, which its
    // workers (`nobody` when started as root) must be able to open.
    const answer = Buffer.alloc(2_000_000, 0x41);
    const node = await upstream('node-a', answer);
    const proxy = await startNginxProxy(dir, await freePort(), [node.address]);
    try {
      const reply = await fetch(`${proxy.base}/v1/stamps`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-forwarded-for': '10.0.3.1' },
        body: Buffer.alloc(3_000_000, 0x42),
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('x-received'), '3000000');
      assert.ok(Buffer.from(await reply.arrayBuffer()).equals(answer));
    } finally {
      await proxy.stop();
      node.server.close();
    }
  }),
);

test(
  'nginx refuser: every request but /readyz gets the node’s 503 OVERLOADED with Retry-After',
  { skip },
  () =>
    inNginxDir(async (dir) => {
      const refuser = await startNginxRefuser(dir, await freePort());
      try {
        assert.equal((await fetch(`${refuser.base}/readyz`)).status, 200);
        const reply = await post(refuser.base, '/v1/auth/otp', '10.0.0.1');
        assert.equal(reply.status, 503);
        assert.equal(reply.headers.get('retry-after'), '1');
        assert.equal(((await reply.json()) as { error: { code: string } }).error.code, 'OVERLOADED');
      } finally {
        await refuser.stop();
      }
    }),
);

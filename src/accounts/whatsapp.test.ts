import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eachBackend } from '../testing/backends.js';
import {
  backoffDelay,
  FileChannel,
  HttpChannel,
  outboxFilePath,
  signBody,
  WhatsappOutbox,
} from './whatsapp.js';

test('the development file channel: one whole line per message, many at once, across a close', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-outbox-'));
  try {
    const channel = new FileChannel(dataDir, () => Date.UTC(2024, 8, 6, 7, 0, 0));
    const message = (i: number) => ({
      id: `m${i}`,
      to: `+62812000${String(i).padStart(5, '0')}`,
      text: `Kode masuk bubuh: ${i} `.repeat(40),
      code: String(i),
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => channel.send(message(i))));
    await channel.close();
    await channel.send(message(200));
    await channel.close();
    const lines = (await readFile(outboxFilePath(dataDir), 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 201);
    const parsed = lines.map(
      (line) => JSON.parse(line) as { to: string; text: string; code: string; at: string },
    );
    assert.deepEqual(
      parsed.map((entry) => Number(entry.code)).sort((a, b) => a - b),
      Array.from({ length: 201 }, (_, i) => i),
    );
    const last = message(200);
    assert.deepEqual(parsed.at(-1), {
      to: last.to,
      text: last.text,
      code: last.code,
      at: '2024-09-06T07:00:00.000Z',
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

const secret = 'test-secret-0123456789';

interface Received {
  readonly signature: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly body: string;
  readonly answered: number | 'hung';
}

/** A WhatsApp-like endpoint that hangs on the first request, answers 503 to the next `failures - 1`, then 200. */
async function flakyEndpoint(
  failures: number,
): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = received.length;
      const answered = index === 0 && failures > 0 ? 'hung' : index < failures ? 503 : 200;
      received.push({
        signature: request.headers['x-bubuh-signature'] as string | undefined,
        idempotencyKey: request.headers['idempotency-key'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        answered,
      });
      if (answered === 'hung') return; // never answers: the client's timeout must fire
      response.writeHead(answered, { 'content-type': 'application/json' });
      response.end(answered === 200 ? '{"messages":[{"id":"wamid.1"}]}' : '{"error":"unavailable"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/messages`, received };
}

test('backoff doubles from the base up to the cap, with equal jitter', () => {
  assert.equal(
    backoffDelay(1, 1000, 60_000, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1, 1000, 60_000, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(3, 1000, 60_000, () => 0.5),
    3000,
  );
  assert.equal(
    backoffDelay(7, 1000, 60_000, () => 1),
    60_000,
  );
  assert.equal(
    backoffDelay(40, 1000, 60_000, () => 0),
    30_000,
  );
});

test('http channel: signed posts, failures and a timeout retried with backoff, sent once, across a worker restart', async (t) => {
  await eachBackend(t, async (backend) => {
    const endpoint = await flakyEndpoint(3);
    try {
      const channel = new HttpChannel({ url: endpoint.url, secret, timeoutMs: 300 });
      const options = { backoffBaseMs: 20, backoffMaxMs: 100, claimMs: 2000, random: () => 0.5 };
      const first = new WhatsappOutbox(backend.storage, channel, options);
      const id = await first.enqueue({
        to: '+6281234567890',
        text: 'kode 123456',
        code: '123456',
        expiresAt: null,
      });

      // Attempt 1 hangs and times out; attempt 2 answers 503. Then this worker stops ("restart").
      assert.equal(await first.deliver(id), false);
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.equal(await first.drain(), 0);
      await first.stop();
      let row = await backend.storage.db.selectFrom('whatsapp_outbox').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.status, 'due');
      assert.equal(row.attempts, 2);
      assert.equal(row.last_error, 'the WhatsApp endpoint answered HTTP 503');
      assert.equal(row.text, 'kode 123456');

      // A new worker on the same database finds the row still due and finishes it.
      const second = new WhatsappOutbox(backend.storage, channel, options);
      second.start(10);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        row = await backend.storage.db.selectFrom('whatsapp_outbox').selectAll().executeTakeFirstOrThrow();
        if (row.status !== 'due') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await second.stop();
      await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more may arrive

      assert.equal(row.status, 'sent');
      assert.equal(row.attempts, 4);
      assert.equal(row.text, '');
      assert.equal(row.code, null);
      assert.equal(row.last_error, null);
      assert.deepEqual(
        endpoint.received.map((request) => request.answered),
        ['hung', 503, 503, 200],
      );
      const expectedBody = JSON.stringify({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '+6281234567890',
        type: 'text',
        text: { preview_url: false, body: 'kode 123456' },
      });
      for (const request of endpoint.received) {
        assert.equal(request.body, expectedBody);
        assert.equal(request.signature, signBody(secret, expectedBody));
        assert.equal(request.idempotencyKey, id);
      }
      assert.match(signBody(secret, expectedBody), /^sha256=[0-9a-f]{64}$/);
    } finally {
      endpoint.server.closeAllConnections();
      await new Promise((resolve) => endpoint.server.close(resolve));
    }
  });
});

test('outbox: a message whose code expired is never sent; a message is given up after attemptsMax', async (t) => {
  await eachBackend(t, async (backend) => {
    const endpoint = await flakyEndpoint(0);
    try {
      let now = 1_000_000;
      const channel = new HttpChannel({ url: endpoint.url, secret, timeoutMs: 1000 });
      const outbox = new WhatsappOutbox(backend.storage, channel, { clock: () => now });
      await outbox.enqueue({ to: '+6281234567890', text: 'old', code: '1', expiresAt: now });
      assert.equal(await outbox.drain(), 0);
      const expired = await backend.storage.db
        .selectFrom('whatsapp_outbox')
        .selectAll()
        .executeTakeFirstOrThrow();
      assert.deepEqual([expired.status, expired.attempts, expired.text], ['expired', 0, '']);
      assert.equal(endpoint.received.length, 0);

      const refusing = new WhatsappOutbox(
        backend.storage,
        {
          kind: 'http',
          send: async () => {
            throw new Error('down');
          },
          close: async () => {},
        },
        { clock: () => now, attemptsMax: 2, backoffBaseMs: 1000, random: () => 0 },
      );
      const id = await refusing.enqueue({ to: '+6281234567891', text: 't', code: null, expiresAt: null });
      assert.equal(await refusing.deliver(id), false);
      let row = await backend.storage.db
        .selectFrom('whatsapp_outbox')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.attempts, Number(row.next_attempt_at)], ['due', 1, now + 500]);
      now += 499;
      assert.equal(await refusing.drain(), 0);
      row = await backend.storage.db
        .selectFrom('whatsapp_outbox')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(row.attempts, 1);
      now += 1;
      await refusing.drain();
      row = await backend.storage.db
        .selectFrom('whatsapp_outbox')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.attempts, row.last_error, row.text], ['failed', 2, 'down', '']);
    } finally {
      await new Promise((resolve) => endpoint.server.close(resolve));
    }
  });
});

/**
 * The guard's refusals before the router, over a real socket: while a class is refused as busy its
 * requests are answered 503 OVERLOADED with Retry-After by the raw server (no Fastify hooks: no
 * x-request-id), counted as `busy`; other classes and unknown paths go on to the app; a refused request
 * with a large body closes its connection, a small one keeps it; a request let through is not drawn
 * again by admission.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { admissionOf } from './hooks.js';
import { overloadedAfterOneSecond } from '../testing/overload.js';
import { PRIORITY_CLASSES } from './priority.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  agent: Agent | false = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const asked = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
      },
    );
    asked.on('error', reject);
    if (body !== undefined) asked.write(body);
    asked.end();
  });
}

test('while sign-ups are refused as busy, the raw server answers them and lets everything else through', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-fast-refusal-'));
  // The guard's own timer is off (delay threshold 0): the test sets the shares itself.
  const config = loadConfig(
    {},
    { BUBUH_DATA_DIR: dataDir, BUBUH_RATE_LIMITS: 'off', BUBUH_ADMISSION_LOOP_DELAY_HIGH_MS: '0' },
  );
  const node = await createNode(config, createLogger('silent'));
  const app = await buildApp(node);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const admission = admissionOf(node);
  try {
    assert.equal(admission.eventLoop, null);
    const signup = PRIORITY_CLASSES.indexOf('signup');
    const order = PRIORITY_CLASSES.indexOf('order');
    const shares = [0, 0, 0, 0, 0];
    shares[signup] = 1;
    admission.queue.setBusyFractions(shares);

    const form = JSON.stringify({ phone: '081234567890' });
    const keepAlive = new Agent({ keepAlive: true });
    const refused = await send(
      port,
      'POST',
      '/v1/auth/otp?lang=id',
      form,
      { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(form)) },
      keepAlive,
    );
    keepAlive.destroy();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(refused.headers['x-request-id'], undefined, 'answered before Fastify');
    assert.equal(refused.headers['connection'], 'keep-alive', 'a small body keeps the connection');
    assert.deepEqual(JSON.parse(refused.body), overloadedAfterOneSecond);

    // A large body is not read: the connection closes after the refusal.
    const large = await send(port, 'POST', '/v1/auth/verify', undefined, {
      'content-type': 'application/json',
      'content-length': String(10 * 1024 * 1024),
    });
    assert.equal(large.status, 503);
    assert.equal(large.headers['connection'], 'close');

    // Other classes, and paths that match no refusable route, reach the app.
    const orders = await send(port, 'GET', '/v1/orders');
    assert.equal(orders.status, 401);
    assert.equal(typeof orders.headers['x-request-id'], 'string');
    // A path that matches no route reaches the app, whose admission classes it as a sign-up (it can
    // only end in a 404) and refuses it there.
    const unknown = await send(port, 'GET', '/v1/auth/otp/extra');
    assert.equal(unknown.status, 503);
    assert.equal(typeof unknown.headers['x-request-id'], 'string');

    // A request the draw lets through is admitted without a second draw (and counted once).
    shares[signup] = 0;
    shares[order] = 0.5;
    admission.queue.setBusyFractions(shares);
    const draws: number[] = [];
    admission.queue.random = () => {
      draws.push(0.75);
      return 0.75;
    };
    const arrivalsBefore = admission.queue.arrivals;
    const passed = await send(port, 'GET', '/v1/orders');
    assert.equal(passed.status, 401, 'through the draw and admission to the route');
    assert.equal(draws.length, 1);
    assert.equal(admission.queue.arrivals - arrivalsBefore, 1);

    assert.deepEqual(admission.snapshot().refused.signup, { queue_full: 0, deadline: 0, shed: 0, busy: 3 });
    assert.deepEqual(admission.snapshot().refused.order, { queue_full: 0, deadline: 0, shed: 0, busy: 0 });
  } finally {
    await app.close();
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

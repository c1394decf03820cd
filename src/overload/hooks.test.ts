/**
 * The admission hook through the real app: a saturated node refuses sign-ups with 503 OVERLOADED and
 * lets finishing work through; every slot taken is given back, also when a client leaves; exempt
 * routes never wait. The one slot is held by taking it from the node's own admission, as a running
 * request would.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openTestNode } from '../accounts/test-node.js';
import { buildApp } from '../http/app.js';
import type { BubuhNode } from '../node.js';
import { disposeBackend, openFreshBackend } from '../testing/backends.js';
import { overloadedAfterOneSecond } from '../testing/overload.js';
import { Ticket } from './admission-queue.js';
import { type Admission, admissionOf } from './hooks.js';

const orderId = '00000000-0000-4000-8000-000000000000';

async function withApp(body: (app: FastifyInstance, admission: Admission, node: BubuhNode) => Promise<void>) {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  // One slot, a queue of 4: sign-ups (a fifth of the queue) may not wait at all, finishing work may.
  const node = await openTestNode(backend, {
    settings: {
      BUBUH_ADMISSION_LIMIT_MIN: 1,
      BUBUH_ADMISSION_LIMIT_MAX: 1,
      BUBUH_ADMISSION_LIMIT_INITIAL: 1,
      BUBUH_ADMISSION_QUEUE_MAX: 4,
    },
  });
  const app = await buildApp(node);
  try {
    await body(app, admissionOf(node), node);
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
  }
}

/** Holds the node's one slot as a running request would. */
function holdSlot(admission: Admission): Ticket {
  const held = admission.queue.acquire(0, admission.now());
  assert.ok(held instanceof Ticket && held.state === 'admitted');
  return held;
}

/** Waits (bounded) until `condition` holds: for events, not for time. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.fail(`never happened: ${what}`);
}

test('saturated: a sign-up is refused at once with 503 OVERLOADED and Retry-After, finishing work still gets through', async () => {
  await withApp(async (app, admission) => {
    const held = holdSlot(admission);
    const signup = await app.inject({
      method: 'POST',
      url: '/v1/auth/otp',
      payload: { phone: '081234567890' },
    });
    assert.equal(signup.statusCode, 503);
    assert.equal(signup.headers['retry-after'], '1');
    assert.deepEqual(signup.json(), overloadedAfterOneSecond);
    const finishing = app.inject({ method: 'GET', url: `/v1/orders/${orderId}` });
    await until(() => admission.snapshot().queued.finishing === 1, 'the finishing request waits');
    admission.finish(held, false);
    const answered = await finishing;
    assert.equal(answered.statusCode, 401, 'admitted: it reached the route, which asks for a sign-in');
    assert.equal(answered.json().error.code, 'AUTH_REQUIRED');
    const snapshot = admission.snapshot();
    assert.equal(snapshot.inFlight, 0);
    assert.equal(snapshot.admitted.finishing, 2);
    assert.deepEqual(snapshot.refused.signup, { queue_full: 1, deadline: 0, shed: 0, busy: 0 });
  });
});

test('every slot taken is given back: after a burst of concurrent requests nothing is held or waiting', async () => {
  await withApp(async (app, admission) => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        app.inject({ method: 'GET', url: index % 2 === 0 ? `/v1/orders/${orderId}` : '/v1/stamps' }),
      ),
    );
    const statuses = new Set(answers.map((answer) => answer.statusCode));
    assert.ok(
      [...statuses].every((status) => status === 401 || status === 503),
      [...statuses].join(),
    );
    const snapshot = admission.snapshot();
    const admitted = Object.values(snapshot.admitted).reduce((sum, count) => sum + count, 0);
    assert.equal(admitted, answers.filter((answer) => answer.statusCode === 401).length);
    assert.equal(snapshot.inFlight, 0);
    assert.deepEqual(snapshot.queued, { finishing: 0, stamp: 0, verify: 0, order: 0, signup: 0 });
  });
});

test('exempt routes never wait, even with every slot held and the queue refusing', async () => {
  await withApp(async (app, admission) => {
    const held = holdSlot(admission);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/verify', payload: {} })).statusCode, 503);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /^bubuh_admission_limit 1$/m);
    assert.match(metrics.body, /^bubuh_admission_in_flight 1$/m);
    assert.match(metrics.body, /^bubuh_admission_refused_total\{class="signup",reason="queue_full"\} 1$/m);
    assert.match(metrics.body, /^bubuh_admission_queue_depth\{class="finishing"\} 0$/m);
    assert.equal(admission.snapshot().inFlight, 1, 'the exempt requests took no slot');
    admission.finish(held, false);
    assert.equal(admission.snapshot().inFlight, 0);
  });
});

function rawRequest(port: number, text: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

test('a client that leaves gives back its slot, whether it was waiting or already admitted', async () => {
  await withApp(async (app, admission) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    // Admitted, then gone while its body is still arriving.
    const uploading = await rawRequest(
      port,
      'POST /v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ph',
    );
    await until(() => admission.snapshot().inFlight === 1, 'the upload is admitted');
    uploading.destroy();
    await until(() => admission.snapshot().inFlight === 0, 'the slot is given back');
    // Waiting, then gone before a slot came free: it never takes one.
    const held = holdSlot(admission);
    const waiting = await rawRequest(port, `GET /v1/orders/${orderId} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(() => admission.snapshot().queued.finishing === 1, 'the request waits');
    waiting.destroy();
    await until(() => admission.snapshot().queued.finishing === 0, 'it leaves the queue');
    admission.finish(held, false);
    const snapshot = admission.snapshot();
    assert.equal(snapshot.inFlight, 0);
    assert.deepEqual(snapshot.admitted, { finishing: 1, stamp: 0, verify: 0, order: 0, signup: 1 });
  });
});

test('answered requests feed the adaptive limit; refused ones do not', async () => {
  await withApp(async (app, admission) => {
    const held = holdSlot(admission);
    for (let index = 0; index < 20; index += 1) {
      assert.equal((await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: {} })).statusCode, 503);
    }
    admission.finish(held, false);
    assert.equal(admission.limit.state().windows, 0, 'refusals and a released slot are no latency samples');
    // A window closes at the latest with its 200th answer.
    for (let index = 0; index < 200; index += 1) {
      assert.equal((await app.inject({ method: 'GET', url: '/v1/stamps' })).statusCode, 401);
    }
    assert.ok(admission.limit.state().windows >= 1);
    assert.ok(admission.limit.state().shortRttMs > 0);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openTestNode, testClock, type TestClock } from '../accounts/test-node.js';
import { buildApp } from '../http/app.js';
import type { BubuhNode } from '../node.js';
import { disposeBackend, openFreshBackend, type Backend } from '../testing/backends.js';
import { deleteRedisPrefix, freshRedisPrefix, redisSkipReason, redisTestUrl } from '../testing/redis.js';
import type { WaitingRoomStatus, WaitingRoomTicketResponse } from './types.js';

const minute = 60_000;

interface Harness {
  readonly app: FastifyInstance;
  readonly node: BubuhNode;
  readonly clock: TestClock;
  close(): Promise<void>;
}

async function harness(settings: Record<string, string | number>): Promise<Harness> {
  const backend = (await openFreshBackend('sqlite')) as Backend;
  const clock = testClock(Date.UTC(2026, 11, 1, 1, 0, 0));
  const node = await openTestNode(backend, { clock, settings });
  const app = await buildApp(node);
  return {
    app,
    node,
    clock,
    async close() {
      await app.close();
      await node.close();
      await disposeBackend(backend);
    },
  };
}

/** The `name=value` pairs a response sets, as one Cookie header. */
function cookiesOf(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  return lines.map((line) => line.split(';')[0]).join('; ');
}

function join(app: FastifyInstance, cookie?: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/waiting-room/tickets', headers: cookie ? { cookie } : {} });
}

function current(app: FastifyInstance, cookie: string, extra: Record<string, string> = {}) {
  return app.inject({
    method: 'GET',
    url: '/v1/waiting-room/tickets/current',
    headers: { cookie, ...extra },
  });
}

function signIn(app: FastifyInstance, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/v1/auth/otp', headers, payload: { phone: '081234567890' } });
}

test('a visitor beyond capacity waits at position 1, keeps it across reloads and goes in when the first admission runs out', async () => {
  const h = await harness({ BUBUH_WAITING_ROOM_CAPACITY: 1, BUBUH_WAITING_ROOM_ADMITTED_MINUTES: 10 });
  try {
    const start = h.clock.now;
    const first = await join(h.app);
    assert.equal(first.statusCode, 200);
    const firstSetCookie = first.headers['set-cookie'] as string[];
    assert.equal(firstSetCookie.length, 2);
    assert.match(
      firstSetCookie[0]!,
      /^bubuh_wr_client=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/,
    );
    assert.match(
      firstSetCookie[1]!,
      /^bubuh_wr_ticket=[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/,
    );
    const a = cookiesOf(first);
    const firstBody = first.json() as WaitingRoomTicketResponse;
    assert.equal(firstBody.ticket, a.split('; ')[1]!.slice('bubuh_wr_ticket='.length));
    assert.deepEqual(
      { ...firstBody, ticket: 'x' },
      {
        state: 'admitted',
        position: 0,
        estimatedWaitSeconds: 0,
        admittedUntil: new Date(start + 10 * minute).toISOString(),
        pollAfterSeconds: 60,
        opensAt: null,
        roomOn: true,
        ticket: 'x',
      },
    );

    const second = await join(h.app);
    const b = cookiesOf(second);
    // One admission in the 120 s window: 1/120 per second, so position 1 waits 120 s; ask again in 12.
    const waiting: WaitingRoomStatus = {
      state: 'waiting',
      position: 1,
      estimatedWaitSeconds: 120,
      admittedUntil: null,
      pollAfterSeconds: 12,
      opensAt: null,
      roomOn: true,
    };
    assert.deepEqual(
      { ...(second.json() as WaitingRoomTicketResponse), ticket: null },
      { ...waiting, ticket: null },
    );

    // A reload (the same cookies) keeps the place and the ticket.
    h.clock.advance(1000);
    const reload = await join(h.app, b);
    assert.deepEqual(reload.json(), {
      ...waiting,
      ticket: (second.json() as WaitingRoomTicketResponse).ticket,
    });
    assert.deepEqual((await current(h.app, b)).json(), waiting);
    // A third visitor is behind it.
    const third = await join(h.app);
    assert.equal((third.json() as WaitingRoomStatus).position, 2);

    // The gate: the waiting visitor and a browser without a ticket are held; the admitted one passes.
    const held = await signIn(h.app, { cookie: b });
    assert.equal(held.statusCode, 429);
    assert.equal(held.headers['retry-after'], '12');
    const heldBody = held.json() as {
      error: { code: string; message_id: string; details: Record<string, unknown> };
    };
    assert.equal(heldBody.error.code, 'WAITING_ROOM');
    assert.match(heldBody.error.message_id, /^Antrean sedang berjalan/);
    assert.deepEqual(heldBody.error.details, {
      join: '/v1/waiting-room/tickets',
      current: '/v1/waiting-room/tickets/current',
      state: 'waiting',
      position: 1,
      retryAfterSeconds: 12,
    });
    const stranger = await signIn(h.app);
    assert.equal(stranger.statusCode, 429);
    assert.equal(stranger.headers['retry-after'], '1');
    assert.equal((stranger.json() as { error: { details: { state: string } } }).error.details.state, 'none');
    const admitted = await signIn(h.app, { cookie: a });
    assert.equal(admitted.statusCode, 202);
    const order = await h.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { cookie: b },
      payload: { quantity: 1 },
    });
    assert.equal(order.statusCode, 429);

    // The waiting visitors keep polling; when the first admission runs out, position 1 goes in.
    const c = cookiesOf(third);
    for (let step = 0; step < 10; step += 1) {
      assert.equal((await current(h.app, b)).statusCode, 200);
      assert.equal((await current(h.app, c)).statusCode, 200);
      h.clock.advance(minute - 100);
    }
    h.clock.now = start + 10 * minute;
    const inside = (await current(h.app, b)).json() as WaitingRoomStatus;
    assert.deepEqual(inside, {
      state: 'admitted',
      position: 0,
      estimatedWaitSeconds: 0,
      admittedUntil: new Date(start + 20 * minute).toISOString(),
      pollAfterSeconds: 60,
      opensAt: null,
      roomOn: true,
    });
    assert.equal((await signIn(h.app, { cookie: b })).statusCode, 202);
    assert.deepEqual(((await current(h.app, a)).json() as WaitingRoomStatus).state, 'expired');
    assert.equal((await signIn(h.app, { cookie: a })).statusCode, 429);
    assert.equal(((await current(h.app, c)).json() as WaitingRoomStatus).position, 1);

    // Leaving frees the place at once for the next.
    const leave = await h.app.inject({
      method: 'DELETE',
      url: '/v1/waiting-room/tickets/current',
      headers: { cookie: b },
    });
    assert.equal(leave.statusCode, 204);
    assert.equal(((await current(h.app, c)).json() as WaitingRoomStatus).state, 'admitted');
    assert.equal((await current(h.app, b)).statusCode, 404);

    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /^bubuh_waiting_room_admissions_total 3$/m);
    assert.match(metrics.body, /^bubuh_waiting_room_admitted 1$/m);
    assert.match(metrics.body, /^bubuh_waiting_room_waiting 0$/m);
  } finally {
    await h.close();
  }
});

test('a ticket is valid only with its own client cookie; a changed ticket is refused', async () => {
  const h = await harness({ BUBUH_WAITING_ROOM_CAPACITY: 1 });
  try {
    const a = cookiesOf(await join(h.app));
    const b = cookiesOf(await join(h.app));
    const [aClient, aTicket] = a.split('; ') as [string, string];
    const [bClient, bTicket] = b.split('; ') as [string, string];
    // A's admitted ticket carried by B's browser: refused by the endpoints and held by the gate.
    const swapped = `${bClient}; ${aTicket}`;
    const refused = await current(h.app, swapped);
    assert.equal(refused.statusCode, 403);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'WAITING_ROOM_TICKET_INVALID');
    assert.equal((await join(h.app, swapped)).statusCode, 403);
    assert.equal((await signIn(h.app, { cookie: swapped })).statusCode, 429);
    // The same ticket in the header instead of the cookie: the same rule.
    const viaHeader = await signIn(h.app, {
      cookie: bClient,
      'x-waiting-room-ticket': aTicket.split('=')[1]!,
    });
    assert.equal(viaHeader.statusCode, 429);
    assert.equal(
      (await signIn(h.app, { cookie: aClient, 'x-waiting-room-ticket': aTicket.split('=')[1]! })).statusCode,
      202,
    );
    // One character changed.
    const value = aTicket.split('=')[1]!;
    const tampered = `${aClient}; bubuh_wr_ticket=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    assert.equal((await current(h.app, tampered)).statusCode, 403);
    assert.equal((await signIn(h.app, { cookie: tampered })).statusCode, 429);
    // Without the client cookie there is nothing to poll.
    const none = await h.app.inject({ method: 'GET', url: '/v1/waiting-room/tickets/current' });
    assert.equal(none.statusCode, 404);
    assert.equal((none.json() as { error: { code: string } }).error.code, 'WAITING_ROOM_NO_TICKET');
    assert.equal(((await current(h.app, `${bClient}; ${bTicket}`)).json() as WaitingRoomStatus).position, 1);
  } finally {
    await h.close();
  }
});

test('requests with an API key bypass the room; the room off lets everyone through', async () => {
  const h = await harness({ BUBUH_WAITING_ROOM_CAPACITY: 1 });
  try {
    const key = `bbh_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    // Past the gate, the unknown key is refused by authentication, not by the room.
    const order = await h.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: `Bearer ${key}` },
      payload: { quantity: 1 },
    });
    assert.equal(order.statusCode, 401);
    assert.equal((order.json() as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
    // A session token is not an API key: held.
    const session = await h.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: 'Bearer bub_notakey' },
      payload: { quantity: 1 },
    });
    assert.equal(session.statusCode, 429);
  } finally {
    await h.close();
  }
  const off = await harness({});
  try {
    assert.equal((await signIn(off.app)).statusCode, 202);
    const answer = await join(off.app);
    assert.equal(answer.headers['set-cookie'], undefined);
    assert.deepEqual(answer.json(), {
      state: 'admitted',
      position: 0,
      estimatedWaitSeconds: 0,
      admittedUntil: null,
      pollAfterSeconds: 60,
      opensAt: null,
      roomOn: false,
      ticket: null,
    });
  } finally {
    await off.close();
  }
});

test('before the opening everyone waits with the time to the opening in the estimate', async () => {
  const opensAt = Date.UTC(2026, 11, 1, 1, 5, 0);
  const h = await harness({
    BUBUH_WAITING_ROOM_CAPACITY: 1,
    BUBUH_WAITING_ROOM_OPENS_AT: new Date(opensAt).toISOString(),
  });
  try {
    const a = await join(h.app);
    assert.deepEqual(
      { ...(a.json() as WaitingRoomTicketResponse), ticket: null },
      {
        state: 'waiting',
        position: 1,
        estimatedWaitSeconds: 300,
        admittedUntil: null,
        pollAfterSeconds: 20,
        opensAt: new Date(opensAt).toISOString(),
        roomOn: true,
        ticket: null,
      },
    );
    assert.equal((await signIn(h.app, { cookie: cookiesOf(a) })).statusCode, 429);
    h.clock.now = opensAt;
    assert.equal(((await current(h.app, cookiesOf(a))).json() as WaitingRoomStatus).state, 'admitted');
  } finally {
    await h.close();
  }
});

test('two nodes sharing Redis run one room: a place taken on one is kept on the other', async (t) => {
  const url = redisTestUrl();
  if (!url) {
    t.skip(redisSkipReason);
    return;
  }
  const prefix = freshRedisPrefix();
  const settings = {
    BUBUH_WAITING_ROOM_CAPACITY: 1,
    BUBUH_WAITING_ROOM_SECRET: 's'.repeat(40),
    REDIS_URL: url,
    BUBUH_REDIS_PREFIX: prefix,
  };
  const one = await harness(settings);
  const two = await harness(settings);
  try {
    two.clock.now = one.clock.now;
    assert.equal(await one.node.redis!.waitReady(5000), true);
    assert.equal(await two.node.redis!.waitReady(5000), true);
    const a = cookiesOf(await join(one.app));
    const b = await join(two.app);
    assert.equal((b.json() as WaitingRoomStatus).position, 1);
    assert.equal(((await current(one.app, cookiesOf(b))).json() as WaitingRoomStatus).position, 1);
    assert.equal((await signIn(two.app, { cookie: cookiesOf(b) })).statusCode, 429);
    assert.equal((await signIn(two.app, { cookie: a })).statusCode, 202);
    const leave = await one.app.inject({
      method: 'DELETE',
      url: '/v1/waiting-room/tickets/current',
      headers: { cookie: a },
    });
    assert.equal(leave.statusCode, 204);
    assert.equal(((await current(two.app, cookiesOf(b))).json() as WaitingRoomStatus).state, 'admitted');
  } finally {
    await one.close();
    await two.close();
    await deleteRedisPrefix(url, prefix);
  }
});

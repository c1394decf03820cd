import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { openTestNode, testClock } from '../accounts/test-node.js';
import { BubuhError, isBubuhError } from '../errors.js';
import { eachBackend } from '../testing/backends.js';
import {
  canonicalJson,
  checkIdempotencyKey,
  idempotent,
  IdempotencyStore,
  requestFingerprint,
} from './idempotency.js';

function refusedWith(code: string, details?: Record<string, unknown>) {
  return (error: unknown) => {
    if (!(error instanceof BubuhError) || error.code !== code) return false;
    if (details) assert.deepEqual(error.details, details);
    return true;
  };
}

test('canonical parameters: key order does not matter, values do', () => {
  assert.equal(
    canonicalJson({ b: 1, a: [{ d: 2, c: null }], u: undefined }),
    '{"a":[{"c":null,"d":2}],"b":1}',
  );
  assert.equal(
    requestFingerprint('post', '/v1/orders', { units: 2, channel: 'x' }),
    requestFingerprint('POST', '/v1/orders', { channel: 'x', units: 2 }),
  );
  assert.notEqual(
    requestFingerprint('POST', '/v1/orders', { units: 2 }),
    requestFingerprint('POST', '/v1/orders', { units: 3 }),
  );
  assert.notEqual(requestFingerprint('POST', '/v1/a', {}), requestFingerprint('POST', '/v1/b', {}));
  assert.equal(checkIdempotencyKey('k'.repeat(255)), 'k'.repeat(255));
  assert.equal(checkIdempotencyKey('a b~!'), 'a b~!');
  assert.throws(
    () => checkIdempotencyKey(''),
    refusedWith('IDEMPOTENCY_KEY_INVALID', { problem: 'it is empty' }),
  );
  assert.throws(
    () => checkIdempotencyKey('k'.repeat(256)),
    refusedWith('IDEMPOTENCY_KEY_INVALID', { problem: 'it is 256 characters long' }),
  );
  assert.throws(() => checkIdempotencyKey('tab\there'), refusedWith('IDEMPOTENCY_KEY_INVALID'));
  assert.throws(() => checkIdempotencyKey('é'), refusedWith('IDEMPOTENCY_KEY_INVALID'));
});

test('idempotency store: replay, reuse with other parameters, in progress, crash takeover, stored refusals, 24 h sweep', async (t) => {
  await eachBackend(t, async (backend) => {
    const clock = testClock();
    const store = new IdempotencyStore(backend.storage, { clock, leaseMs: 60_000 });
    const scope = {
      accountId: 'acct-a',
      key: 'order-1',
      requestHash: requestFingerprint('POST', '/x', { n: 1 }),
    };
    let runs = 0;
    const work = async () => {
      runs += 1;
      return { status: 201, body: { id: `o${runs}`, n: 1 }, headers: { Location: `/x/o${runs}` } };
    };

    const first = await store.execute(scope, work);
    assert.deepEqual(first, {
      status: 201,
      body: { id: 'o1', n: 1 },
      headers: { location: '/x/o1' },
      replayed: false,
    });
    const second = await store.execute(scope, work);
    assert.deepEqual(second, {
      status: 201,
      body: { id: 'o1', n: 1 },
      headers: { location: '/x/o1' },
      replayed: true,
    });
    assert.equal(runs, 1);

    // Same key, other parameters.
    await assert.rejects(
      store.execute({ ...scope, requestHash: requestFingerprint('POST', '/x', { n: 2 }) }, work),
      refusedWith('IDEMPOTENCY_KEY_REUSED', {}),
    );
    // The same key of another account is another key.
    assert.equal((await store.execute({ ...scope, accountId: 'acct-b' }, work)).replayed, false);
    assert.equal(runs, 2);

    // A duplicate while the first still runs: 409 with a short Retry-After, then the replay.
    let finishSlow!: () => void;
    const slowScope = { ...scope, key: 'slow' };
    const slow = store.execute(slowScope, async () => {
      await new Promise<void>((resolve) => {
        finishSlow = resolve;
      });
      return { status: 200, body: { slow: true } };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const duplicate = await store.execute(slowScope, work).catch((error: unknown) => error);
    assert.ok(isBubuhError(duplicate));
    assert.equal(duplicate.code, 'IDEMPOTENCY_IN_PROGRESS');
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.retryAfterSeconds, 5);
    finishSlow();
    assert.deepEqual(await slow, { status: 200, body: { slow: true }, headers: {}, replayed: false });
    assert.deepEqual(await store.execute(slowScope, work), {
      status: 200,
      body: { slow: true },
      headers: {},
      replayed: true,
    });

    // A row left in progress by a crashed process: refused until its lease passes, then taken over.
    const crashedScope = { ...scope, key: 'crashed' };
    await backend.storage.db
      .insertInto('idempotency_keys')
      .values({
        account_id: crashedScope.accountId,
        key: crashedScope.key,
        request_hash: crashedScope.requestHash,
        state: 'in_progress',
        lock_token: 'dead',
        locked_until: clock.now + 60_000,
        response_status: null,
        response_body: null,
        response_headers: null,
        created_at: clock.now,
        updated_at: clock.now,
      })
      .execute();
    clock.advance(58_500);
    await assert.rejects(
      store.execute(crashedScope, work),
      refusedWith('IDEMPOTENCY_IN_PROGRESS', { retryAfterSeconds: 2 }),
    );
    clock.advance(1_500);
    const takenOver = await store.execute(crashedScope, work);
    assert.equal(takenOver.replayed, false);
    assert.equal(runs, 3);

    // A refusal about the request is stored and replayed; a failure of ours releases the key.
    const refusedScope = { ...scope, key: 'refused' };
    const refuse = async (): Promise<never> => {
      runs += 1;
      throw new BubuhError('QUOTA_INSUFFICIENT', { available: 0 });
    };
    await assert.rejects(store.execute(refusedScope, refuse), refusedWith('QUOTA_INSUFFICIENT'));
    const replayedRefusal = await store.execute(refusedScope, work);
    assert.equal(replayedRefusal.status, 402);
    assert.equal(replayedRefusal.replayed, true);
    assert.deepEqual(replayedRefusal.body, new BubuhError('QUOTA_INSUFFICIENT', { available: 0 }).toBody());
    const failingScope = { ...scope, key: 'failing' };
    await assert.rejects(
      store.execute(failingScope, async () => {
        throw new BubuhError('LEDGER_OVERLOADED', { retryAfterSeconds: 1 });
      }),
      refusedWith('LEDGER_OVERLOADED'),
    );
    await assert.rejects(
      store.execute(failingScope, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await store.execute(failingScope, work)).replayed, false);

    // Kept 24 hours, then swept; afterwards the key is new again.
    const count = async () =>
      Number(
        (
          await backend.storage.db
            .selectFrom('idempotency_keys')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    assert.equal(before, 6);
    clock.advance(24 * 3600_000 - 90_000); // 24 h less 30 s after the first four keys were made
    assert.equal(await store.sweep(), 0);
    assert.equal((await store.execute(scope, work)).replayed, true);
    clock.advance(30_001);
    assert.equal(await store.sweep(), 4); // 'refused' and 'failing' were made 60 s later and stay
    assert.equal(await count(), 2);
    const fresh = await store.execute(scope, work);
    assert.equal(fresh.replayed, false);
  });
});

test('idempotency store: many concurrent requests with one key run the work exactly once', async (t) => {
  await eachBackend(
    t,
    async (backend) => {
      const store = new IdempotencyStore(backend.storage, { leaseMs: 60_000 });
      const scope = { accountId: 'acct', key: 'race', requestHash: 'h' };
      let runs = 0;
      // The one run holds its lease until the other fifteen have been answered, so none of them can
      // arrive after it finished (a replay) however slowly a loaded machine opens their connections.
      let othersSettled = 0;
      let releaseWork: () => void = () => {};
      const othersDone = new Promise<void>((resolve) => (releaseWork = resolve));
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, () =>
          store
            .execute(scope, async () => {
              runs += 1;
              await Promise.race([othersDone, new Promise((resolve) => setTimeout(resolve, 20_000))]);
              return { status: 200, body: { ok: true } };
            })
            .finally(() => {
              othersSettled += 1;
              if (othersSettled === 15) releaseWork();
            }),
        ),
      );
      assert.equal(runs, 1);
      const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(fulfilled.length, 1);
      assert.equal(rejected.length, 15);
      for (const outcome of rejected)
        assert.equal((outcome.reason as BubuhError).code, 'IDEMPOTENCY_IN_PROGRESS');
    },
    { postgresPoolMax: 16 },
  );
});

test('idempotent(): the header is required, replays say so, and the route wraps its work in one call', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend);
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      if (isBubuhError(error)) {
        if (error.retryAfterSeconds !== undefined)
          reply.header('retry-after', String(error.retryAfterSeconds));
        return reply.status(error.status).send(error.toBody());
      }
      return reply.status(500).send({ error: String(error) });
    });
    let runs = 0;
    app.post('/v1/things/:kind', async (request, reply) =>
      idempotent(request, reply, node, 'acct-1', async () => {
        runs += 1;
        return { status: 201, body: { run: runs }, headers: { location: `/v1/things/${runs}` } };
      }),
    );
    try {
      const post = (key: string | undefined, body: unknown, kind = 'a') =>
        app.inject({
          method: 'POST',
          url: `/v1/things/${kind}`,
          headers: key === undefined ? {} : { 'idempotency-key': key },
          payload: body as object,
        });
      const missing = await post(undefined, { n: 1 });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.code, 'IDEMPOTENCY_KEY_REQUIRED');
      const first = await post('k1', { n: 1, m: 2 });
      assert.equal(first.statusCode, 201);
      assert.deepEqual(first.json(), { run: 1 });
      assert.equal(first.headers['location'], '/v1/things/1');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const replay = await post('k1', { m: 2, n: 1 });
      assert.equal(replay.statusCode, 201);
      assert.deepEqual(replay.json(), { run: 1 });
      assert.equal(replay.headers['location'], '/v1/things/1');
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      const reused = await post('k1', { n: 2, m: 2 });
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
      const otherPath = await post('k1', { n: 1, m: 2 }, 'b');
      assert.equal(otherPath.statusCode, 422);
      assert.equal(runs, 1);
    } finally {
      await app.close();
      await node.close();
    }
  });
});

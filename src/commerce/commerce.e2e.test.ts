/**
 * Proof over real HTTP: the app listens on a port, the built-in sandbox sends its notifications over
 * HTTP to that port, on SQLite and PostgreSQL. Every scenario ends with a clean `ledger check`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { accountStoreOf } from '../accounts/authenticate.js';
import { outboxFilePath } from '../accounts/whatsapp.js';
import { loadConfig } from '../config.js';
import { isBubuhError } from '../errors.js';
import { buildApp } from '../http/app.js';
import { checkLedger } from '../ledger/check.js';
import { accountCodes, accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import { createLogger } from '../logger.js';
import { type BubuhNode, createNode } from '../node.js';
import { eachBackend } from '../testing/backends.js';
import { loopGuardOff } from '../testing/overload.js';
import { notificationSignature } from './gateway.js';
import { commerceOf, developmentServerKey } from './routes.js';
import { askOnLookAfterMs, askOnLookEveryMs, Reconciler } from './reconcile-payments.js';
import { allocateStock, available, developmentStockUnits, mintStock } from './stock.js';

const run = promisify(execFile);
const windowSeconds = 3600;

interface Harness {
  readonly node: BubuhNode;
  readonly app: FastifyInstance;
  readonly base: string;
  /** Moves the node's clock (ledger, orders, sandbox) forward. */
  advance(ms: number): void;
}

async function api(
  harness: Harness,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; key?: string; form?: Record<string, string> } = {},
) {
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
  const response = await fetch(`${harness.base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read whatever JSON came back
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** Signs in through the WhatsApp file outbox, as a person in development would. */
async function signIn(harness: Harness, phone: string): Promise<string> {
  const sent = await api(harness, 'POST', '/v1/auth/otp', { body: { phone } });
  assert.equal(sent.status, 202, sent.text);
  const path = outboxFilePath(harness.node.config.dataDir);
  let code: string | undefined;
  for (let attempt = 0; attempt < 100 && !code; attempt += 1) {
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').trim().split('\n').filter(Boolean);
      code =
        lines
          .map((line) => JSON.parse(line) as { to: string; code: string | null })
          .filter((entry) => entry.to === phone && entry.code)
          .pop()?.code ?? undefined;
    }
    if (!code) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(code, `no code for ${phone} in the outbox`);
  const verified = await api(harness, 'POST', '/v1/auth/verify', { body: { phone, code } });
  assert.equal(verified.status, 200, verified.text);
  return verified.json.token as string;
}

async function quotaOf(harness: Harness, token: string): Promise<number> {
  const store = accountStoreOf(harness.node);
  const principal = await store.principalOf(token);
  const [account] = await harness.node.ledger.lookupAccounts([principal!.quotaAccountId]);
  return account ? available(account) : 0;
}

async function assertLedgerClean(harness: Harness): Promise<void> {
  const report = await checkLedger(harness.node.storage);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
}

async function order(harness: Harness, token: string, quantity: number, extra: Record<string, unknown> = {}) {
  const response = await api(harness, 'POST', '/v1/orders', {
    token,
    key: randomBytes(8).toString('hex'),
    body: { quantity, ...extra },
  });
  assert.equal(response.status, 201, response.text);
  return response.json as { id: string; amount: number; status: string };
}

async function pay(harness: Harness, orderId: string) {
  const paid = await api(harness, 'POST', `/sandbox/pay/${orderId}`, { form: { action: 'pay' } });
  assert.equal(paid.status, 200, paid.text);
  assert.match(paid.text, /Pembayaran diterima/);
  await commerceOf(harness.node).sandbox!.idle();
}

async function faults(harness: Harness, body: Record<string, unknown>) {
  const response = await api(harness, 'POST', '/sandbox/faults', { body });
  assert.equal(response.status, 200, response.text);
}

async function statusOf(harness: Harness, token: string, orderId: string): Promise<string> {
  const response = await api(harness, 'GET', `/v1/orders/${orderId}`, { token });
  assert.equal(response.status, 200, response.text);
  return response.json.status as string;
}

async function outcomes(harness: Harness, orderId: string): Promise<string[]> {
  const rows = await harness.node.storage.db
    .selectFrom('payment_events')
    .select(['transaction_status', 'outcome', 'received_at', 'id'])
    .where('order_id', '=', orderId)
    .orderBy('received_at')
    .execute();
  return rows.map((row) => `${row.transaction_status}:${row.outcome}`);
}

function signed(
  orderId: string,
  statusCode: string,
  grossAmount: string,
  status: string,
  key = developmentServerKey,
) {
  return {
    order_id: orderId,
    status_code: statusCode,
    gross_amount: grossAmount,
    transaction_status: status,
    fraud_status: 'accept',
    signature_key: notificationSignature(orderId, statusCode, grossAmount, key),
    transaction_id: 'forged-1',
    payment_type: 'bank_transfer',
    transaction_time: '2024-09-06 07:00:00',
  };
}

async function openHarness(backend: Parameters<Parameters<typeof eachBackend>[1]>[0]): Promise<Harness> {
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const config = loadConfig(
    {},
    {
      BUBUH_DATA_DIR: backend.openOptions.dataDir,
      DATABASE_URL: backend.openOptions.databaseUrl,
      BUBUH_PAYMENT_WINDOW_S: windowSeconds,
      BUBUH_PAYMENT_RECONCILE_DELAY_S: 0,
      // Rounds run when the test asks, not on a timer.
      BUBUH_PAYMENT_RECONCILE_INTERVAL_MS: 86_400_000,
      LOG_LEVEL: 'silent',
      ...loopGuardOff,
    },
  );
  const node = await createNode(config, createLogger('silent'), {
    ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    clock,
  });
  const app = await buildApp(node);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { node, app, base, advance: (ms) => (offsetMs += ms) };
}

test('buying over real HTTP: exactly-once credit through every notification fault', async (t) => {
  await eachBackend(t, async (backend, bt: TestContext) => {
    const harness = await openHarness(backend);
    const { node } = harness;
    try {
      const [stock] = await node.ledger.lookupAccounts([accountIds.channelStock('direct')]);
      assert.equal(stock && available(stock), developmentStockUnits, 'development stocks the direct channel');
      const alice = await signIn(harness, '+6281200000001');
      const bob = await signIn(harness, '+6281200000002');
      const orders: string[] = [];

      await bt.test('order, pay on the sandbox page, credited once; the same key replays', async () => {
        const key = 'order-key-1';
        const created = await api(harness, 'POST', '/v1/orders', {
          token: alice,
          key,
          body: { quantity: 3 },
        });
        assert.equal(created.status, 201, created.text);
        const body = created.json;
        assert.match(body.id, /^ord-[0-9a-f]{24}$/);
        assert.equal(body.quantity, 3);
        assert.equal(body.amount, 30_000);
        assert.equal(body.status, 'awaiting_payment');
        assert.equal(body.payment.provider, 'sandbox');
        assert.ok(body.payment.redirect_url.endsWith(`/sandbox/pay/${body.id}`));
        const expires = Date.parse(body.payment.expires_at) - Date.parse(body.created_at);
        assert.equal(expires, windowSeconds * 1000);
        const replay = await api(harness, 'POST', '/v1/orders', { token: alice, key, body: { quantity: 3 } });
        assert.equal(replay.status, 201);
        assert.equal(replay.json.id, body.id);
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        const page = await api(harness, 'GET', `/sandbox/pay/${body.id}`);
        assert.equal(page.status, 200);
        assert.match(page.text, /Rp30\.000/);
        assert.match(page.text, /Bayar/);
        assert.match(page.text, /Batalkan/);
        await pay(harness, body.id);
        assert.equal(await statusOf(harness, alice, body.id), 'paid');
        assert.equal(await quotaOf(harness, alice), 3);
        assert.deepEqual(await outcomes(harness, body.id), ['pending:ignored', 'settlement:applied']);
        orders.push(body.id);
        await assertLedgerClean(harness);
      });

      await bt.test('notifications dropped: reconciliation credits', async () => {
        await faults(harness, { drop: true });
        const created = await order(harness, alice, 2);
        await pay(harness, created.id);
        assert.equal(await statusOf(harness, alice, created.id), 'awaiting_payment');
        assert.equal(await quotaOf(harness, alice), 3);
        const report = await commerceOf(node).reconcile();
        assert.equal(report.outcomes['applied'], 1);
        assert.equal(await statusOf(harness, alice, created.id), 'paid');
        assert.equal(await quotaOf(harness, alice), 5);
        const again = await commerceOf(node).reconcile();
        assert.equal(again.ordersChecked, 0);
        assert.equal(await quotaOf(harness, alice), 5);
        orders.push(created.id);
        await assertLedgerClean(harness);
      });

      await bt.test('reconciliation walks past orders nobody pays to the paid one behind them', async () => {
        // Deadline day leaves thousands of orders unpaid until their window closes. Rounds that always
        // asked about the oldest `batchMax` would never reach a paid order whose notification was lost.
        const carol = await signIn(harness, '+6281200000003');
        await faults(harness, { drop: true });
        const unpaid = [];
        for (let i = 0; i < 3; i += 1) unpaid.push(await order(harness, carol, 1));
        const created = await order(harness, carol, 1);
        await pay(harness, created.id);
        const reconciler = new Reconciler(commerceOf(node).context, {
          delaySeconds: 0,
          batchMax: 2,
          intervalMs: 86_400_000,
        });
        const first = await reconciler.round();
        assert.deepEqual(
          [first.ordersChecked, first.outcomes, first.next?.id],
          [2, { ignored: 2 }, unpaid[1]!.id],
        );
        assert.equal(await statusOf(harness, carol, created.id), 'awaiting_payment');
        const second = await reconciler.round();
        assert.deepEqual(
          [second.ordersChecked, second.outcomes, second.next?.id],
          [2, { ignored: 1, applied: 1 }, created.id],
        );
        assert.equal(await statusOf(harness, carol, created.id), 'paid');
        assert.equal(await quotaOf(harness, carol), 1);
        const third = await reconciler.round();
        assert.deepEqual([third.ordersChecked, third.next], [0, null]);
        const fourth = await reconciler.round();
        assert.deepEqual([fourth.ordersChecked, fourth.next?.id], [2, unpaid[1]!.id]);
        await faults(harness, {});
        for (const waiting of unpaid) {
          const cancelled = await api(harness, 'POST', `/sandbox/pay/${waiting.id}`, {
            form: { action: 'cancel' },
          });
          assert.equal(cancelled.status, 200);
        }
        await commerceOf(node).sandbox!.idle();
        for (const waiting of unpaid) assert.equal(await statusOf(harness, carol, waiting.id), 'expired');
        await assertLedgerClean(harness);
      });

      await bt.test('a buyer looking at an order whose notification was lost is credited', async () => {
        const dave = await signIn(harness, '+6281200000004');
        await faults(harness, { drop: true });
        const created = await order(harness, dave, 2);
        await pay(harness, created.id);
        // Too young: the notification usually comes first, so the gateway is not asked yet.
        assert.equal(await statusOf(harness, dave, created.id), 'awaiting_payment');
        assert.deepEqual(await outcomes(harness, created.id), []);
        harness.advance(askOnLookAfterMs);
        assert.equal(await statusOf(harness, dave, created.id), 'paid');
        assert.equal(await quotaOf(harness, dave), 2);
        assert.deepEqual(await outcomes(harness, created.id), ['settlement:applied']);
        const [source] = await node.storage.db
          .selectFrom('payment_events')
          .select('source')
          .where('order_id', '=', created.id)
          .execute();
        assert.equal(source?.source, 'reconciliation');
        // An order left unpaid is asked about at most once per interval, however often it is looked at.
        const unpaid = await order(harness, dave, 1);
        harness.advance(askOnLookAfterMs);
        for (let i = 0; i < 3; i += 1)
          assert.equal(await statusOf(harness, dave, unpaid.id), 'awaiting_payment');
        assert.deepEqual(await outcomes(harness, unpaid.id), ['pending:ignored']);
        harness.advance(askOnLookEveryMs);
        assert.equal(await statusOf(harness, dave, unpaid.id), 'awaiting_payment');
        assert.deepEqual(await outcomes(harness, unpaid.id), ['pending:ignored', 'pending:ignored']);
        await faults(harness, {});
        const cancelled = await api(harness, 'POST', `/sandbox/pay/${unpaid.id}`, {
          form: { action: 'cancel' },
        });
        assert.equal(cancelled.status, 200);
        await commerceOf(node).sandbox!.idle();
        assert.equal(await statusOf(harness, dave, unpaid.id), 'expired');
        await assertLedgerClean(harness);
      });

      await bt.test('every notification ten times: credited once', async () => {
        await faults(harness, { duplicate: 10 });
        const created = await order(harness, alice, 1);
        await pay(harness, created.id);
        const deliveries = commerceOf(node).sandbox!.deliveries.filter(
          (entry) => entry.orderId === created.id,
        );
        assert.equal(deliveries.length, 20);
        assert.ok(deliveries.every((entry) => entry.responseStatus === 200));
        assert.equal(await quotaOf(harness, alice), 6);
        const seen = await outcomes(harness, created.id);
        assert.equal(seen.filter((entry) => entry === 'settlement:applied').length, 1);
        assert.equal(seen.filter((entry) => entry === 'settlement:duplicate').length, 9);
        orders.push(created.id);
        await assertLedgerClean(harness);
      });

      await bt.test('ten identical settlements at once (racing): credited once', async () => {
        await faults(harness, { drop: true });
        const created = await order(harness, bob, 4);
        await pay(harness, created.id);
        const settlement = await commerceOf(node).sandbox!.getStatus(created.id);
        assert.equal(settlement?.transaction_status, 'settlement');
        const answers = await Promise.all(
          Array.from({ length: 10 }, () =>
            api(harness, 'POST', '/v1/payments/notifications', { body: settlement }),
          ),
        );
        assert.deepEqual(
          answers.map((answer) => answer.status),
          Array.from({ length: 10 }, () => 200),
        );
        const applied = answers.filter((answer) => answer.json.outcome === 'applied').length;
        assert.equal(applied, 1);
        assert.equal(await quotaOf(harness, bob), 4);
        const credits = await node.storage.db
          .selectFrom('order_settlements')
          .select('transfer_id')
          .where('order_id', '=', created.id)
          .execute();
        assert.equal(credits.length, 1);
        await assertLedgerClean(harness);
      });

      await bt.test('reordered: pending after settlement never moves the order back', async () => {
        await faults(harness, { reorder: true });
        const created = await order(harness, alice, 1);
        await pay(harness, created.id);
        assert.deepEqual(await outcomes(harness, created.id), ['settlement:applied', 'pending:ignored']);
        assert.equal(await statusOf(harness, alice, created.id), 'paid');
        assert.equal(await quotaOf(harness, alice), 7);
        orders.push(created.id);
        await assertLedgerClean(harness);
      });

      await bt.test('delayed past expiry: credited from stock with a fresh transfer', async () => {
        await faults(harness, { delay_ms: 1500 });
        const created = await order(harness, alice, 1);
        await api(harness, 'POST', `/sandbox/pay/${created.id}`, { form: { action: 'pay' } });
        harness.advance((windowSeconds + 1) * 1000);
        assert.ok((await node.sweep()) >= 1, 'the reservation expired');
        await commerceOf(node).sandbox!.idle();
        assert.deepEqual(await outcomes(harness, created.id), ['pending:ignored', 'settlement:late_credit']);
        assert.equal(await statusOf(harness, alice, created.id), 'paid');
        assert.equal(await quotaOf(harness, alice), 8);
        orders.push(created.id);
        await assertLedgerClean(harness);
      });

      await bt.test('forged signature: refused, logged, nothing credited; then cancelled', async () => {
        await faults(harness, {});
        const created = await order(harness, alice, 1);
        const forged = signed(created.id, '200', '10000.00', 'settlement', 'SB-Mid-server-not-the-key');
        const refused = await api(harness, 'POST', '/v1/payments/notifications', { body: forged });
        assert.equal(refused.status, 403);
        assert.equal(refused.json.error.code, 'PAYMENT_SIGNATURE_INVALID');
        assert.deepEqual(await outcomes(harness, created.id), ['settlement:refused_signature']);
        assert.equal(await statusOf(harness, alice, created.id), 'awaiting_payment');
        assert.equal(await quotaOf(harness, alice), 8);
        const cancelled = await api(harness, 'POST', `/sandbox/pay/${created.id}`, {
          form: { action: 'cancel' },
        });
        assert.equal(cancelled.status, 200);
        await commerceOf(node).sandbox!.idle();
        assert.equal(await statusOf(harness, alice, created.id), 'expired');
        const [pending] = await node.ledger.lookupPending([
          (
            await node.storage.db
              .selectFrom('orders')
              .select('reservation_id')
              .where('id', '=', created.id)
              .executeTakeFirstOrThrow()
          ).reservation_id,
        ]);
        assert.equal(pending?.status, 'voided');
        await assertLedgerClean(harness);
      });

      await bt.test('wrong amount: refused and logged', async () => {
        const created = await order(harness, alice, 2);
        const wrong = signed(created.id, '200', '10000.00', 'settlement');
        const refused = await api(harness, 'POST', '/v1/payments/notifications', { body: wrong });
        assert.equal(refused.status, 400);
        assert.equal(refused.json.error.code, 'PAYMENT_AMOUNT_MISMATCH');
        assert.deepEqual(refused.json.error.details, {
          order: created.id,
          received: '10000.00',
          expected: 'IDR 20000',
        });
        assert.deepEqual(await outcomes(harness, created.id), ['settlement:refused_amount']);
        assert.equal(await quotaOf(harness, alice), 8);
        const garbage = await api(harness, 'POST', '/v1/payments/notifications', { body: { order_id: 1 } });
        assert.equal(garbage.status, 400);
        assert.equal(garbage.json.error.code, 'PAYMENT_NOTIFICATION_INVALID');
        const unknown = await api(harness, 'POST', '/v1/payments/notifications', {
          body: signed('ord-none', '200', '10000.00', 'settlement'),
        });
        assert.equal(unknown.status, 404);
        await api(harness, 'POST', `/sandbox/pay/${created.id}`, { form: { action: 'cancel' } });
        await commerceOf(node).sandbox!.idle();
        await assertLedgerClean(harness);
      });

      await bt.test('refusals: quantity, stock, idempotency key, sign-in', async () => {
        for (const quantity of [0, 1001, 1.5, 'x']) {
          const response = await api(harness, 'POST', '/v1/orders', {
            token: alice,
            key: `q-${quantity}`,
            body: { quantity },
          });
          assert.equal(response.status, 400, response.text);
          assert.equal(response.json.error.code, 'ORDER_QUANTITY_INVALID');
        }
        const atLimit = await order(harness, bob, 1000);
        assert.equal(atLimit.amount, 10_000_000);
        await mintStock(node.ledger, 2);
        await allocateStock(node.ledger, node.storage, 'tiny', 2, { feeRupiah: 2500 });
        const pendingBefore = (await node.ledger.lookupAccounts([accountIds.channelStock('tiny')]))[0]!;
        const short = await api(harness, 'POST', '/v1/orders', {
          token: bob,
          key: 'tiny-3',
          body: { quantity: 3, channel: 'tiny' },
        });
        assert.equal(short.status, 409);
        assert.equal(short.json.error.code, 'ORDER_STOCK_INSUFFICIENT');
        assert.deepEqual(short.json.error.details, { channel: 'tiny', quantity: 3, available: 2 });
        const pendingAfter = (await node.ledger.lookupAccounts([accountIds.channelStock('tiny')]))[0]!;
        assert.equal(pendingAfter.debitsPending, pendingBefore.debitsPending, 'nothing reserved');
        const fee = await order(harness, bob, 2, { channel: 'tiny' });
        assert.equal(fee.amount, 25_000, 'Rp10,000 duty + Rp2,500 channel fee per unit');
        const noKey = await api(harness, 'POST', '/v1/orders', { token: bob, body: { quantity: 1 } });
        assert.equal(noKey.status, 400);
        assert.equal(noKey.json.error.code, 'IDEMPOTENCY_KEY_REQUIRED');
        const anonymous = await api(harness, 'POST', '/v1/orders', { key: 'k', body: { quantity: 1 } });
        assert.equal(anonymous.status, 401);
        await assertLedgerClean(harness);
      });

      await bt.test('paid after expiry with the stock gone: automatic money refund', async () => {
        // Bob's tiny order holds the channel's last 2 units; pay it late after Carol took them.
        await faults(harness, { delay_ms: 1500 });
        const tinyOrder = await node.storage.db
          .selectFrom('orders')
          .select(['id', 'amount_rupiah'])
          .where('channel_id', '=', 'tiny')
          .executeTakeFirstOrThrow();
        await api(harness, 'POST', `/sandbox/pay/${tinyOrder.id}`, { form: { action: 'pay' } });
        harness.advance((windowSeconds + 1) * 1000);
        await node.sweep();
        const carol = await signIn(harness, '+6281200000003');
        await order(harness, carol, 2, { channel: 'tiny' });
        await commerceOf(node).sandbox!.idle();
        assert.deepEqual(await outcomes(harness, tinyOrder.id), [
          'pending:ignored',
          'settlement:automatic_refund',
        ]);
        assert.equal(await statusOf(harness, bob, tinyOrder.id), 'refunded');
        const report = await commerceOf(node).reconcile();
        assert.equal(report.refundsRetried, 1);
        assert.equal(commerceOf(node).sandbox!.refundedAmount(tinyOrder.id), Number(tinyOrder.amount_rupiah));
        const refund = await api(harness, 'GET', `/v1/refunds/${tinyOrder.id}-auto`, { token: bob });
        assert.equal(refund.status, 200);
        assert.equal(refund.json.status, 'succeeded');
        assert.equal(refund.json.kind, 'automatic');
        await faults(harness, {});
        await assertLedgerClean(harness);
      });

      await bt.test('listing: own orders, newest first, by cursor', async () => {
        const first = await api(harness, 'GET', '/v1/orders?limit=4', { token: alice });
        assert.equal(first.status, 200);
        assert.equal(first.json.orders.length, 4);
        const second = await api(harness, 'GET', `/v1/orders?limit=4&cursor=${first.json.next_cursor}`, {
          token: alice,
        });
        assert.equal(second.json.orders.length, 3);
        assert.equal(second.json.next_cursor, null);
        const all = [...first.json.orders, ...second.json.orders].map((entry: { id: string }) => entry.id);
        assert.deepEqual(all.slice(2).reverse(), orders, 'newest first');
        const times = [...first.json.orders, ...second.json.orders].map(
          (entry: { created_at: string }) => entry.created_at,
        );
        assert.deepEqual(times, [...times].sort().reverse());
        const bobs = await api(harness, 'GET', '/v1/orders', { token: bob });
        assert.ok(bobs.json.orders.every((entry: { id: string }) => !all.includes(entry.id)));
      });

      await bt.test('money refunds of unused quota (first in, first out)', async () => {
        const [firstOrder, , , , newest] = orders as [string, string, string, string, string];
        const one = await api(harness, 'POST', '/v1/refunds', {
          token: alice,
          key: 'refund-1',
          body: { order_id: firstOrder, quantity: 1 },
        });
        assert.equal(one.status, 201, one.text);
        assert.equal(one.json.id, `${firstOrder}-r1`);
        assert.equal(one.json.status, 'succeeded');
        assert.equal(one.json.amount, 10_000);
        assert.equal(await statusOf(harness, alice, firstOrder), 'partially_refunded');
        assert.equal(commerceOf(node).sandbox!.refundedAmount(firstOrder), 10_000);
        assert.equal(await quotaOf(harness, alice), 7);
        const replay = await api(harness, 'POST', '/v1/refunds', {
          token: alice,
          key: 'refund-1',
          body: { order_id: firstOrder, quantity: 1 },
        });
        assert.equal(replay.json.id, one.json.id);
        assert.equal(await quotaOf(harness, alice), 7);
        const tooMany = await api(harness, 'POST', '/v1/refunds', {
          token: alice,
          key: 'refund-2',
          body: { order_id: firstOrder, quantity: 3 },
        });
        assert.equal(tooMany.status, 400);
        assert.equal(tooMany.json.error.code, 'REFUND_QUANTITY_INVALID');
        // Alice stamps 6 of her 7 units: the oldest units go first, so only the newest order's is unused.
        await node.ledger.createAccounts([
          { id: accountIds.stamped, ledger: quotaLedger, code: accountCodes.stamped },
        ]);
        const principal = await accountStoreOf(node).principalOf(alice);
        const [spent] = await node.ledger.createTransfers([
          {
            id: randomBytes(16).toString('hex'),
            debitAccountId: principal!.quotaAccountId,
            creditAccountId: accountIds.stamped,
            amount: 6,
            ledger: quotaLedger,
            code: transferCodes.stamp,
          },
        ]);
        assert.equal(spent?.result, 'ok');
        const used = await api(harness, 'POST', '/v1/refunds', {
          token: alice,
          key: 'refund-3',
          body: { order_id: firstOrder, quantity: 1 },
        });
        assert.equal(used.status, 409);
        assert.equal(used.json.error.code, 'REFUND_QUOTA_UNAVAILABLE');
        assert.equal(used.json.error.details.available, 0);
        const last = await api(harness, 'POST', '/v1/refunds', {
          token: alice,
          key: 'refund-4',
          body: { order_id: newest, quantity: 1 },
        });
        assert.equal(last.status, 201, last.text);
        assert.equal(await statusOf(harness, alice, newest), 'refunded');
        assert.equal(await quotaOf(harness, alice), 0);
        const notPaid = await api(harness, 'POST', '/v1/refunds', {
          token: bob,
          key: 'refund-5',
          body: { order_id: (await order(harness, bob, 1)).id, quantity: 1 },
        });
        assert.equal(notPaid.status, 409);
        assert.equal(notPaid.json.error.code, 'REFUND_ORDER_NOT_PAID');
        await assertLedgerClean(harness);
      });

      await bt.test(
        'signed receipt: openssl verifies it against the root; a changed byte fails',
        async () => {
          const response = await api(harness, 'GET', `/v1/orders/${orders[0]}/receipt`, { token: alice });
          assert.equal(response.status, 200, response.text);
          const receipt = JSON.parse(response.json.receipt);
          assert.equal(receipt.order_id, orders[0]);
          assert.equal(receipt.quantity, 3);
          assert.equal(receipt.amount, 30_000);
          assert.equal(receipt.account_phone, '+62812*****001');
          assert.equal(response.json.certificates.length, 2);
          const root = await fetch(`${harness.base}/pki/root.der`);
          assert.equal(root.status, 200);
          const directory = mkdtempSync(join(tmpdir(), 'bubuh-receipt-'));
          try {
            writeFileSync(join(directory, 'root.der'), Buffer.from(await root.arrayBuffer()));
            await run('openssl', [
              'x509',
              '-inform',
              'DER',
              '-in',
              join(directory, 'root.der'),
              '-out',
              join(directory, 'root.pem'),
            ]);
            writeFileSync(join(directory, 'receipt.json'), response.json.receipt);
            writeFileSync(join(directory, 'receipt.p7s'), Buffer.from(response.json.signature, 'base64'));
            const verify = (content: string) =>
              run('openssl', [
                'cms',
                '-verify',
                '-binary',
                '-inform',
                'DER',
                '-in',
                join(directory, 'receipt.p7s'),
                '-content',
                content,
                '-CAfile',
                join(directory, 'root.pem'),
                '-purpose',
                'any',
                '-out',
                '/dev/null',
              ]);
            const good = await verify(join(directory, 'receipt.json'));
            assert.match(good.stderr, /Verification successful/);
            const changed = Buffer.from(response.json.receipt);
            changed[changed.indexOf('"quantity":3') + 11] = '4'.charCodeAt(0);
            writeFileSync(join(directory, 'changed.json'), changed);
            await assert.rejects(
              verify(join(directory, 'changed.json')),
              /Verification failure|digest failure/i,
            );
          } finally {
            rmSync(directory, { recursive: true, force: true });
          }
          const unpaid = (await api(harness, 'GET', '/v1/orders?limit=1', { token: bob })).json.orders[0].id;
          const early = await api(harness, 'GET', `/v1/orders/${unpaid}/receipt`, { token: bob });
          assert.equal(early.status, 409);
          assert.equal(early.json.error.code, 'RECEIPT_NOT_AVAILABLE');
        },
      );

      await bt.test("authorisation: nobody reads or acts on someone else's order", async () => {
        const target = orders[0]!;
        for (const path of [`/v1/orders/${target}`, `/v1/orders/${target}/receipt`]) {
          const response = await api(harness, 'GET', path, { token: bob });
          assert.equal(response.status, 404, path);
          assert.equal(response.json.error.code, 'ORDER_NOT_FOUND');
          const anonymous = await api(harness, 'GET', path);
          assert.equal(anonymous.status, 401, path);
        }
        const refund = await api(harness, 'POST', '/v1/refunds', {
          token: bob,
          key: 'bob-steals',
          body: { order_id: target, quantity: 1 },
        });
        assert.equal(refund.status, 404);
        assert.equal(refund.json.error.code, 'ORDER_NOT_FOUND');
        const readRefund = await api(harness, 'GET', `/v1/refunds/${target}-r1`, { token: bob });
        assert.equal(readRefund.status, 404);
        assert.equal(readRefund.json.error.code, 'REFUND_NOT_FOUND');
        const cursor = await api(harness, 'GET', `/v1/orders?cursor=${target}`, { token: bob });
        assert.equal(cursor.status, 404);
        const own = await api(harness, 'GET', `/v1/refunds/${target}-r1`, { token: alice });
        assert.equal(own.status, 200);
        await assertLedgerClean(harness);
      });
    } finally {
      await harness.app.close();
      await node.close();
    }
  });
});

test('stock moves only by ledger transfers; allocation beyond the operator stock is refused', async (t) => {
  await eachBackend(t, async (backend) => {
    const config = loadConfig(
      {},
      { BUBUH_DATA_DIR: backend.openOptions.dataDir, DATABASE_URL: backend.openOptions.databaseUrl },
    );
    const node = await createNode(config, createLogger('silent'), {
      ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    });
    try {
      const minted = await mintStock(node.ledger, 50);
      assert.equal(minted.available, 50);
      const allocated = await allocateStock(node.ledger, node.storage, 'pos-bandung', 30, {
        feeRupiah: 2500,
      });
      assert.equal(allocated.available, 30);
      assert.equal(allocated.channel.fee_rupiah, 2500);
      await assert.rejects(
        allocateStock(node.ledger, node.storage, 'pos-bandung', 21),
        (error: unknown) =>
          isBubuhError(error) && error.code === 'STOCK_INSUFFICIENT' && error.details['available'] === 20,
      );
      await assert.rejects(
        mintStock(node.ledger, 0),
        (error: unknown) => isBubuhError(error) && error.code === 'REQUEST_INVALID',
      );
      const direct = await node.storage.db
        .selectFrom('channels')
        .selectAll()
        .where('id', '=', 'direct')
        .executeTakeFirst();
      assert.equal(direct?.fee_rupiah, 0);
      const report = await checkLedger(node.storage);
      assert.equal(report.ok, true);
      assert.equal(report.transfers, 2);
    } finally {
      await node.close();
    }
  });
});

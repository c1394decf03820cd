/**
 * `GET /v1/operator/dashboard` over real HTTP on both storage backends: refused without a session and
 * to a customer (exact codes), and to an operator it answers exact figures after known activity — two
 * orders awaiting payment (reserving 5 units of the direct channel's stock), one stamp made and one
 * refused with its automatic refund, and the admission counts those requests left per class.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountStoreOf } from '../accounts/authenticate.js';
import { openTestNode } from '../accounts/test-node.js';
import { developmentStockUnits } from '../commerce/stock.js';
import { buildApp } from '../http/app.js';
import { mintQuota } from '../testing/quota.js';
import type { BubuhNode } from '../node.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { eachBackend, openFreshBackend, disposeBackend } from '../testing/backends.js';
import { waitingRoomOf } from '../waiting-room/room.js';
import { type OperatorDashboard, operatorDashboardPath } from './operator-dashboard.js';

async function signIn(node: BubuhNode, phone: string): Promise<{ token: string; accountId: string }> {
  const store = accountStoreOf(node);
  const { account } = await store.findOrCreate(phone);
  const { token } = await store.createSession(account.id);
  return { token, accountId: account.id };
}

function form(pdf: Uint8Array, fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  body.set('file', new Blob([pdf], { type: 'application/pdf' }), 'surat.pdf');
  return body;
}

test('the operator dashboard: refused to a customer, exact live figures for an operator', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend, { settings: { BUBUH_STAMP_WORKERS: 1 } });
    const app = await buildApp(node);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const customer = await signIn(node, '+6281200000001');
      const operatorPhone = '+6281200000009';
      const operator = await signIn(node, operatorPhone);
      await accountStoreOf(node).changeRoles(operatorPhone, ['platform_operator'], []);
      const get = async (token?: string) => {
        const response = await fetch(`${base}${operatorDashboardPath}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };

      const anonymous = await get();
      assert.equal(anonymous.status, 401);
      assert.equal((anonymous.body['error'] as { code: string }).code, 'AUTH_REQUIRED');
      const refused = await get(customer.token);
      assert.equal(refused.status, 403);
      assert.equal((refused.body['error'] as { code: string }).code, 'FORBIDDEN');
      assert.deepEqual((refused.body['error'] as { details: unknown }).details, {
        role: 'platform_operator',
      });

      // Known activity: two orders left unpaid, one stamp made, one refused (and refunded).
      for (const [index, quantity] of [3, 2].entries()) {
        const response = await fetch(`${base}/v1/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${customer.token}`,
            'content-type': 'application/json',
            'idempotency-key': `order-${index}`,
          },
          body: JSON.stringify({ quantity }),
        });
        assert.equal(response.status, 201, await response.text());
      }
      await mintQuota(node.ledger, customer.accountId, 2);
      const stamp = (pdf: Uint8Array, key: string) =>
        fetch(`${base}/v1/stamps`, {
          method: 'POST',
          headers: { authorization: `Bearer ${customer.token}`, 'idempotency-key': key },
          body: form(pdf, { doc_type: 'surat_pernyataan', doc_number: key, doc_date: '2024-09-05' }),
        });
      const made = await stamp(minimalPdf(), 'good');
      assert.equal(made.status, 201, await made.clone().text());
      const damaged = await stamp(new TextEncoder().encode('%PDF-1.7\nnot really a PDF\n'), 'bad');
      const damagedBody = (await damaged.json()) as { error: { code: string } };
      assert.equal(damaged.status, 422);
      assert.equal(damagedBody.error.code, 'PDF_DAMAGED');

      const answer = await get(operator.token);
      assert.equal(answer.status, 200);
      const dashboard = answer.body as unknown as OperatorDashboard;
      assert.equal(dashboard.at.length, 24);
      assert.deepEqual(dashboard.stamps, { stamped: 1, refunded: 1 });
      assert.deepEqual(dashboard.refunds, { PDF_DAMAGED: 1 });
      assert.deepEqual(
        dashboard.admission.classes.map((entry) => [
          entry.class,
          entry.admitted,
          entry.refused_total,
          entry.queued,
        ]),
        [
          ['finishing', 0, 0, 0],
          ['stamp', 2, 0, 0],
          // The 401, the 403 and this answer.
          ['verify', 3, 0, 0],
          ['order', 2, 0, 0],
          ['signup', 0, 0, 0],
        ],
      );
      assert.deepEqual(dashboard.admission.classes[0]!.refused, {
        queue_full: 0,
        deadline: 0,
        shed: 0,
        busy: 0,
      });
      assert.equal(dashboard.admission.queue_depth, 0);
      assert.equal(dashboard.admission.in_flight, 1);
      assert.equal(dashboard.admission.shedding, false);
      assert.deepEqual(dashboard.stamp_queue, { waiting: 0, running: 0 });
      assert.deepEqual(dashboard.commerce, {
        operator_stock: 0,
        channels: [
          {
            id: 'direct',
            name: 'bubuh',
            stock: developmentStockUnits - 5,
            orders_awaiting_payment: 2,
            units_awaiting_payment: 5,
          },
        ],
        orders_awaiting_payment: 2,
        units_awaiting_payment: 5,
      });
      assert.equal(dashboard.waiting_room, null);
    } finally {
      await app.close();
      await node.close();
    }
  });
});

test('the operator dashboard reports the waiting room when it is on', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  const node = await openTestNode(backend, { settings: { BUBUH_WAITING_ROOM_CAPACITY: 1 } });
  const app = await buildApp(node);
  try {
    const operatorPhone = '+6281200000009';
    const operator = await signIn(node, operatorPhone);
    await accountStoreOf(node).changeRoles(operatorPhone, ['platform_operator'], []);
    const room = waitingRoomOf(node);
    assert.equal((await room.join('visitor-1')).state, 'admitted');
    assert.equal((await room.join('visitor-2')).state, 'waiting');
    assert.equal((await room.join('visitor-3')).state, 'waiting');
    const response = await app.inject({
      method: 'GET',
      url: operatorDashboardPath,
      headers: { authorization: `Bearer ${operator.token}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual((response.json() as OperatorDashboard).waiting_room, {
      waiting: 2,
      admitted: 1,
      capacity: 1,
    });
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
  }
});

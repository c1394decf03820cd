/**
 * The one contract every payment gateway implementation passes (STYLE habit 4): run against the
 * built-in sandbox directly and against the `midtrans` client talking to the sandbox over real HTTP.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { notificationSignature, type PaymentGateway, signatureMatches } from './gateway.js';
import type { SandboxGateway } from './sandbox-gateway.js';

export interface GatewayUnderTest {
  readonly gateway: PaymentGateway;
  /** The sandbox behind it, to play the customer (pay, cancel) and move time. */
  readonly sandbox: SandboxGateway;
  readonly serverKey: string;
  advance(ms: number): void;
  close(): Promise<void>;
}

let sequence = 0;
function orderId(): string {
  sequence += 1;
  return `ord-contract-${process.pid}-${sequence}`;
}

export async function runGatewayContract(
  t: TestContext,
  open: () => Promise<GatewayUnderTest>,
): Promise<void> {
  const subject = await open();
  const { gateway, sandbox, serverKey } = subject;
  const input = (id: string, grossAmount = 25_000) => ({
    orderId: id,
    grossAmount,
    expirySeconds: 600,
    itemName: 'e-meterai',
    quantity: 2,
    unitPrice: grossAmount / 2,
  });
  try {
    await t.test('create answers a token and the hosted page; an unknown order has no status', async () => {
      const id = orderId();
      const created = await gateway.createTransaction(input(id));
      assert.match(created.token, /^[0-9a-f]{32}$/);
      assert.ok(created.redirectUrl.endsWith(`/sandbox/pay/${id}`), created.redirectUrl);
      assert.equal(await gateway.getStatus(`${id}-unknown`), null);
    });

    await t.test('status before and after payment, signed like a notification', async () => {
      const id = orderId();
      await gateway.createTransaction(input(id));
      const pending = await gateway.getStatus(id);
      assert.equal(pending?.transaction_status, 'pending');
      assert.equal(pending?.status_code, '201');
      assert.equal(pending?.gross_amount, '25000.00');
      assert.equal(pending && signatureMatches(pending, serverKey), true);
      assert.equal(sandbox.pay(id), 'settlement');
      const settled = await gateway.getStatus(id);
      assert.equal(settled?.transaction_status, 'settlement');
      assert.equal(settled?.status_code, '200');
      assert.equal(settled?.fraud_status, 'accept');
      assert.equal(settled?.order_id, id);
      assert.equal(settled?.signature_key, notificationSignature(id, '200', '25000.00', serverKey));
      assert.equal(settled && signatureMatches(settled, `${serverKey}x`), false);
      assert.match(settled?.transaction_time ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    });

    await t.test('cancel, and expiry after the window', async () => {
      const cancelled = orderId();
      await gateway.createTransaction(input(cancelled));
      assert.equal(sandbox.cancel(cancelled), 'cancel');
      assert.equal((await gateway.getStatus(cancelled))?.transaction_status, 'cancel');
      const expiring = orderId();
      await gateway.createTransaction({ ...input(expiring), expirySeconds: 60 });
      subject.advance(60_000);
      const expired = await gateway.getStatus(expiring);
      assert.equal(expired?.transaction_status, 'expire');
      assert.equal(expired?.status_code, '407');
      assert.equal(sandbox.pay(expiring), 'expire', 'an expired payment cannot be paid');
    });

    await t.test('refund: the same refund_key refunds once; beyond the paid amount is refused', async () => {
      const id = orderId();
      await gateway.createTransaction(input(id));
      const unpaid = await gateway.refund(id, { refundKey: `${id}-r0`, amount: 1000, reason: 'test' });
      assert.equal(unpaid.status, 'failed');
      sandbox.pay(id);
      const first = await gateway.refund(id, { refundKey: `${id}-r1`, amount: 10_000, reason: 'test' });
      assert.deepEqual(first, { status: 'succeeded', refundAmount: 10_000 });
      const again = await gateway.refund(id, { refundKey: `${id}-r1`, amount: 10_000, reason: 'test' });
      assert.deepEqual(again, { status: 'succeeded', refundAmount: 10_000 });
      assert.equal(sandbox.refundedAmount(id), 10_000);
      assert.equal((await gateway.getStatus(id))?.transaction_status, 'partial_refund');
      const tooMuch = await gateway.refund(id, { refundKey: `${id}-r2`, amount: 15_001, reason: 'test' });
      assert.equal(tooMuch.status, 'failed');
      const rest = await gateway.refund(id, { refundKey: `${id}-r3`, amount: 15_000, reason: 'test' });
      assert.deepEqual(rest, { status: 'succeeded', refundAmount: 15_000 });
      assert.equal(sandbox.refundedAmount(id), 25_000);
      assert.equal((await gateway.getStatus(id))?.transaction_status, 'refund');
      const unknown = await gateway.refund(`${id}-unknown`, { refundKey: 'k', amount: 1, reason: 'test' });
      assert.equal(unknown.status, 'failed');
    });
  } finally {
    await subject.close();
  }
}

/**
 * What a gateway event does to an order — the one code path for notifications and for what
 * reconciliation learns from the status API. Exactly-once comes from the ledger, not from locks:
 *
 * - the credit is a transfer with an id derived from the order, committed together with the order's
 *   settlement row (a ledger attachment keyed by the order): a second settlement of the same order is
 *   refused whole (`attachment_exists`) and credits nothing, however the duplicates interleave;
 * - a settlement after the reservation expired credits from stock with a fresh transfer (same
 *   attachment, so still at most once), or, when the stock is gone, records an automatic money refund;
 * - statuses only move forward: `pending` never undoes a payment, and deny/cancel/expire close only an
 *   order still awaiting payment.
 */
import { BubuhError } from '../errors.js';
import { accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { OrdersTable } from '../storage/schema.js';
import { type CommerceContext, orderTransferId } from './context.js';
import { type GatewayTransaction, parseGrossAmount, signatureMatches } from './gateway.js';
import { timeOrderedId } from '../stamping/random-pool.js';

export type EventSource = 'notification' | 'reconciliation';

export type EventOutcome =
  | 'applied'
  | 'late_credit'
  | 'automatic_refund'
  | 'duplicate'
  | 'ignored'
  | 'expired'
  | 'refused_signature'
  | 'refused_amount'
  | 'unknown_order';

const textFields = [
  'order_id',
  'status_code',
  'gross_amount',
  'transaction_status',
  'signature_key',
] as const;

/** The body as a gateway transaction, or PAYMENT_NOTIFICATION_INVALID. */
export function parseGatewayEvent(body: unknown): GatewayTransaction {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BubuhError('PAYMENT_NOTIFICATION_INVALID', { problem: 'the body is not a JSON object' });
  }
  const record = body as Record<string, unknown>;
  for (const field of textFields) {
    const value = record[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw new BubuhError('PAYMENT_NOTIFICATION_INVALID', {
        problem: `${field} is missing or not a short text`,
      });
    }
  }
  return {
    ...(record as unknown as GatewayTransaction),
    transaction_id: String(record['transaction_id'] ?? ''),
    payment_type: String(record['payment_type'] ?? ''),
    transaction_time: String(record['transaction_time'] ?? ''),
  };
}

type Kind = 'settled' | 'failed' | 'pending' | 'other';

function kindOf(event: GatewayTransaction): Kind {
  const status = event.transaction_status;
  if (status === 'settlement') return 'settled';
  if (status === 'capture') {
    // Card payments: only an accepted capture is money; "challenge" waits for review.
    if (event.fraud_status === undefined || event.fraud_status === 'accept') return 'settled';
    return event.fraud_status === 'deny' ? 'failed' : 'pending';
  }
  if (status === 'deny' || status === 'cancel' || status === 'expire' || status === 'failure')
    return 'failed';
  if (status === 'pending' || status === 'authorize') return 'pending';
  return 'other';
}

async function recordEvent(
  context: CommerceContext,
  event: GatewayTransaction,
  source: EventSource,
  outcome: EventOutcome,
): Promise<void> {
  await context.storage.db
    .insertInto('payment_events')
    .values({
      id: timeOrderedId(),
      order_id: event.order_id.slice(0, 64),
      source,
      transaction_status: event.transaction_status.slice(0, 32),
      fraud_status: typeof event.fraud_status === 'string' ? event.fraud_status.slice(0, 32) : null,
      status_code: event.status_code.slice(0, 8),
      gross_amount: event.gross_amount.slice(0, 32),
      outcome,
      received_at: context.clock(),
    })
    .execute();
}

/**
 * Applies one gateway event and records it; returns what was done. Refusals (wrong signature, wrong
 * amount, unknown order) are recorded, logged and thrown, and change nothing.
 */
export async function applyPaymentEvent(
  context: CommerceContext,
  body: unknown,
  source: EventSource,
): Promise<EventOutcome> {
  const event = parseGatewayEvent(body);
  const refuse = async (outcome: EventOutcome, error: BubuhError): Promise<never> => {
    await recordEvent(context, event, source, outcome);
    context.logger.warn(
      { order: event.order_id.slice(0, 64), source, outcome, status: event.transaction_status.slice(0, 32) },
      `commerce: payment event refused (${error.code})`,
    );
    throw error;
  };
  if (!context.serverKey || !signatureMatches(event, context.serverKey)) {
    return refuse(
      'refused_signature',
      new BubuhError('PAYMENT_SIGNATURE_INVALID', { order: event.order_id.slice(0, 64) }),
    );
  }
  const order = await context.storage.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', event.order_id)
    .executeTakeFirst();
  if (!order)
    return refuse('unknown_order', new BubuhError('ORDER_NOT_FOUND', { order: event.order_id.slice(0, 64) }));
  const received = parseGrossAmount(event.gross_amount);
  const currencyWrong = event.currency !== undefined && event.currency !== order.currency;
  if (received !== Number(order.amount_rupiah) || currencyWrong) {
    return refuse(
      'refused_amount',
      new BubuhError('PAYMENT_AMOUNT_MISMATCH', {
        order: order.id,
        received: `${event.currency ?? ''} ${event.gross_amount}`.trim().slice(0, 40),
        expected: `${order.currency} ${order.amount_rupiah}`,
      }),
    );
  }
  const kind = kindOf(event);
  let outcome: EventOutcome = 'ignored';
  if (kind === 'settled') outcome = await settle(context, order, event, source);
  if (kind === 'failed') outcome = await close(context, order);
  await recordEvent(context, event, source, outcome);
  if (outcome !== 'duplicate' && outcome !== 'ignored') {
    context.logger.info({ order: order.id, source, outcome }, 'commerce: payment event applied');
  }
  return outcome;
}

function settlementRow(
  order: OrdersTable,
  event: GatewayTransaction,
  transferId: string,
  source: EventSource,
  now: number,
) {
  return {
    table: 'order_settlements' as const,
    row: {
      order_id: order.id,
      transfer_id: transferId,
      gateway_transaction_id: event.transaction_id.slice(0, 64),
      gross_amount_rupiah: Number(order.amount_rupiah),
      payment_type: event.payment_type.slice(0, 32),
      source,
      settled_at: now,
    },
  };
}

/** Marks the order paid once its settlement row exists (also repairs a status left behind by a crash). */
async function markPaid(context: CommerceContext, orderId: string): Promise<void> {
  const settlement = await context.storage.db
    .selectFrom('order_settlements')
    .select('settled_at')
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  if (!settlement) throw new Error(`order ${orderId}: settlement row missing after its credit`);
  await context.storage.db
    .updateTable('orders')
    .set({ status: 'paid', paid_at: Number(settlement.settled_at), updated_at: context.clock() })
    .where('id', '=', orderId)
    .where('status', 'in', ['awaiting_payment', 'expired'])
    .execute();
}

async function settle(
  context: CommerceContext,
  order: OrdersTable,
  event: GatewayTransaction,
  source: EventSource,
): Promise<EventOutcome> {
  if (order.status === 'paid' || order.status === 'refunded' || order.status === 'partially_refunded') {
    return 'duplicate';
  }
  const now = context.clock();
  const creditId = orderTransferId(order.id, 'credit');
  const [posted] = await context.ledger.createTransfers(
    [{ id: creditId, kind: 'post_pending', pendingId: order.reservation_id }],
    [settlementRow(order, event, creditId, source, now)],
  );
  const result = posted?.result;
  if (result === 'ok') {
    await markPaid(context, order.id);
    return 'applied';
  }
  if (result === 'attachment_exists' || result === 'pending_transfer_already_posted') {
    await markPaid(context, order.id);
    return 'duplicate';
  }
  if (
    result === 'pending_transfer_expired' ||
    result === 'pending_transfer_already_voided' ||
    result === 'pending_transfer_not_found'
  ) {
    return settleLate(context, order, event, source);
  }
  throw new Error(`crediting order ${order.id} refused by the ledger: ${result}`);
}

/**
 * Paid after the reservation ended (expired or voided): credit from stock with a fresh transfer if the
 * stock allows, else record an automatic money refund. A paid order is never lost.
 */
async function settleLate(
  context: CommerceContext,
  order: OrdersTable,
  event: GatewayTransaction,
  source: EventSource,
): Promise<EventOutcome> {
  // The reservation may be past its timeout but not yet swept; until it is, its units still count as
  // reserved and would make the stock look smaller than it is.
  await context.ledger.expirePending(context.sweepBatchMax);
  const now = context.clock();
  const lateId = orderTransferId(order.id, 'late-credit');
  const [posted] = await context.ledger.createTransfers(
    [
      {
        id: lateId,
        debitAccountId: accountIds.channelStock(order.channel_id),
        creditAccountId: accountIds.customerQuota(order.account_id),
        amount: Number(order.quantity),
        ledger: quotaLedger,
        code: transferCodes.sale,
      },
    ],
    [settlementRow(order, event, lateId, source, now)],
  );
  const result = posted?.result;
  if (result === 'ok') {
    await markPaid(context, order.id);
    context.logger.warn(
      { order: order.id },
      'commerce: paid after its reservation ended; credited from stock',
    );
    return 'late_credit';
  }
  if (result === 'attachment_exists') {
    await markPaid(context, order.id);
    return 'duplicate';
  }
  if (result === 'exceeds_credits') return recordAutomaticRefund(context, order, now);
  throw new Error(`late credit of order ${order.id} refused by the ledger: ${result}`);
}

/** No stock left for a late payment: the money goes back (the refund worker pays it out). */
async function recordAutomaticRefund(
  context: CommerceContext,
  order: OrdersTable,
  now: number,
): Promise<EventOutcome> {
  const inserted = await context.storage.db
    .insertInto('refunds')
    .values({
      id: `${order.id}-auto`,
      order_id: order.id,
      account_id: order.account_id,
      kind: 'automatic',
      quantity: Number(order.quantity),
      amount_rupiah: Number(order.amount_rupiah),
      transfer_id: null,
      status: 'requested',
      attempts: 0,
      last_error: null,
      created_at: now,
      updated_at: now,
      next_attempt_at: now,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .executeTakeFirst();
  await context.storage.db
    .updateTable('orders')
    .set({ status: 'refunded', refunded_quantity: Number(order.quantity), paid_at: now, updated_at: now })
    .where('id', '=', order.id)
    .where('status', 'in', ['awaiting_payment', 'expired'])
    .execute();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return 'duplicate';
  context.logger.warn(
    { order: order.id, amount: order.amount_rupiah },
    'commerce: paid after its reservation ended and the stock is gone; automatic money refund recorded',
  );
  return 'automatic_refund';
}

/** deny/cancel/expire: release the reservation and close an order still awaiting payment. */
export async function close(context: CommerceContext, order: OrdersTable): Promise<EventOutcome> {
  if (order.status !== 'awaiting_payment') return order.status === 'expired' ? 'duplicate' : 'ignored';
  const [voided] = await context.ledger.createTransfers([
    { id: orderTransferId(order.id, 'void'), kind: 'void_pending', pendingId: order.reservation_id },
  ]);
  const result = voided?.result;
  if (result === 'pending_transfer_already_posted') return 'ignored';
  const released = ['ok', 'exists', 'pending_transfer_expired', 'pending_transfer_already_voided'];
  if (!released.includes(result ?? '')) {
    throw new Error(`releasing order ${order.id} refused by the ledger: ${result}`);
  }
  await context.storage.db
    .updateTable('orders')
    .set({ status: 'expired', updated_at: context.clock() })
    .where('id', '=', order.id)
    .where('status', '=', 'awaiting_payment')
    .execute();
  return 'expired';
}

/**
 * Money refunds of unused quota. The units go back customer quota → channel stock (transfer code
 * moneyRefund) in the same ledger transaction as the refund row (an attachment), then the gateway is
 * asked to pay the money back with the refund's id as its idempotent `refund_key`. A refund the
 * gateway did not confirm stays `failed` and is retried by reconciliation until it succeeds.
 *
 * "Unused quota from an order": quota is one balance, and stamps spend the OLDEST purchased units
 * first (first in, first out). So the unused units of a customer are their newest purchases: order O
 * has `min(remaining(O), max(0, available − Σ remaining(P) over the customer's paid orders P newer
 * than O))` unused units, where remaining = quantity − refunded and available is the quota balance
 * not spent and not reserved for a stamp in progress.
 */
import type { Principal } from '../accounts/principal.js';
import { BubuhError } from '../errors.js';
import { accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { OrdersTable, RefundsTable } from '../storage/schema.js';
import { type CommerceContext, orderTransferId, paidStatus } from './context.js';
import { findOwnOrder } from './create-order.js';
import { available } from './stock.js';

export interface RefundView {
  readonly id: string;
  readonly order_id: string;
  readonly kind: string;
  readonly quantity: number;
  readonly amount: number;
  readonly status: string;
  readonly attempts: number;
  readonly created_at: string;
}

export function refundView(row: RefundsTable): RefundView {
  return {
    id: row.id,
    order_id: row.order_id,
    kind: row.kind,
    quantity: Number(row.quantity),
    amount: Number(row.amount_rupiah),
    status: row.status,
    attempts: Number(row.attempts),
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Retry delay after `attempts` failures: 30 s doubling, at most one hour. */
export function refundRetryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3600_000);
}

/** Requests of one account run one at a time on this node, so their unused-quota checks do not race. */
const accountQueues = new Map<string, Promise<unknown>>();

async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = accountQueues.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => {});
  accountQueues.set(key, settled);
  try {
    return await run;
  } finally {
    if (accountQueues.get(key) === settled) accountQueues.delete(key);
  }
}

/** Unused units of `order` under first-in-first-out spending (see the module comment). */
export async function unusedUnits(context: CommerceContext, order: OrdersTable): Promise<number> {
  const [quota] = await context.ledger.lookupAccounts([accountIds.customerQuota(order.account_id)]);
  const balance = quota ? available(quota) : 0;
  const newer = await context.storage.db
    .selectFrom('orders')
    .select(['quantity', 'refunded_quantity'])
    .where('account_id', '=', order.account_id)
    .where('status', 'in', ['paid', 'partially_refunded'])
    .where((where) =>
      where.or([
        where('created_at', '>', Number(order.created_at)),
        where.and([where('created_at', '=', Number(order.created_at)), where('id', '>', order.id)]),
      ]),
    )
    .execute();
  const newerRemaining = newer.reduce(
    (sum, row) => sum + Number(row.quantity) - Number(row.refunded_quantity),
    0,
  );
  const remaining = Number(order.quantity) - Number(order.refunded_quantity);
  return Math.min(remaining, Math.max(0, balance - newerRemaining));
}

export async function requestRefund(
  context: CommerceContext,
  principal: Principal,
  input: { orderId: string; quantity: unknown },
): Promise<RefundView> {
  return oneAtATime(principal.accountId, async () => {
    const order = await findOwnOrder(context, principal.accountId, input.orderId);
    if (order.status !== 'paid' && order.status !== 'partially_refunded') {
      throw new BubuhError('REFUND_ORDER_NOT_PAID', { order: order.id, status: order.status });
    }
    const remaining = Number(order.quantity) - Number(order.refunded_quantity);
    const quantity = input.quantity;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > remaining) {
      throw new BubuhError('REFUND_QUANTITY_INVALID', {
        max: remaining,
        quantity: typeof quantity === 'number' ? quantity : JSON.stringify(quantity ?? null).slice(0, 40),
      });
    }
    const unused = await unusedUnits(context, order);
    if (quantity > unused) {
      throw new BubuhError('REFUND_QUOTA_UNAVAILABLE', { order: order.id, quantity, available: unused });
    }
    const refund = await returnQuota(context, order, quantity);
    return refundView(await payOut(context, refund));
  });
}

async function returnQuota(
  context: CommerceContext,
  order: OrdersTable,
  quantity: number,
): Promise<RefundsTable> {
  const count = await context.storage.db
    .selectFrom('refunds')
    .select((select) => select.fn.countAll<number>().as('count'))
    .where('order_id', '=', order.id)
    .where('kind', '=', 'customer')
    .executeTakeFirstOrThrow();
  const id = `${order.id}-r${Number(count.count) + 1}`;
  const now = context.clock();
  const transferId = orderTransferId(order.id, `refund:${id}`);
  const refund: RefundsTable = {
    id,
    order_id: order.id,
    account_id: order.account_id,
    kind: 'customer',
    quantity,
    amount_rupiah: quantity * (Number(order.unit_price_rupiah) + Number(order.fee_per_unit_rupiah)),
    transfer_id: transferId,
    status: 'requested',
    attempts: 0,
    last_error: null,
    created_at: now,
    updated_at: now,
    next_attempt_at: now,
  };
  const [result] = await context.ledger.createTransfers(
    [
      {
        id: transferId,
        debitAccountId: accountIds.customerQuota(order.account_id),
        creditAccountId: accountIds.channelStock(order.channel_id),
        amount: quantity,
        ledger: quotaLedger,
        code: transferCodes.moneyRefund,
      },
    ],
    [{ table: 'refunds', row: { ...refund } }],
  );
  if (result?.result === 'exceeds_credits') {
    throw new BubuhError('REFUND_QUOTA_UNAVAILABLE', {
      order: order.id,
      quantity,
      available: await unusedUnits(context, order),
    });
  }
  // Another node took this refund number first.
  if (result?.result === 'attachment_exists') throw new BubuhError('REFUND_BUSY', { order: order.id });
  if (result?.result !== 'ok') throw new Error(`refund ${id} refused by the ledger: ${result?.result}`);
  await recountRefunded(context, order.id);
  return refund;
}

/** The order's refunded quantity and status, recomputed from its refunds (idempotent). */
async function recountRefunded(context: CommerceContext, orderId: string): Promise<void> {
  const order = await context.storage.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', orderId)
    .executeTakeFirst();
  if (
    !order ||
    (order.status !== 'paid' && order.status !== 'partially_refunded' && order.status !== 'refunded')
  )
    return;
  const sum = await context.storage.db
    .selectFrom('refunds')
    .select((select) => select.fn.sum<number>('quantity').as('quantity'))
    .where('order_id', '=', orderId)
    .executeTakeFirstOrThrow();
  const refunded = Number(sum.quantity ?? 0);
  await context.storage.db
    .updateTable('orders')
    .set({ refunded_quantity: refunded, status: paidStatus(order, refunded), updated_at: context.clock() })
    .where('id', '=', orderId)
    .execute();
}

/** Asks the gateway to pay the refund out (same refund_key every attempt); records the result. */
export async function payOut(context: CommerceContext, refund: RefundsTable): Promise<RefundsTable> {
  if (refund.status === 'succeeded') return refund;
  if (refund.kind === 'customer') await recountRefunded(context, refund.order_id);
  let problem: string | null = null;
  if (!context.gateway) {
    problem = `gateway not configured: ${context.gatewayProblem}`;
  } else {
    try {
      const outcome = await context.gateway.refund(refund.order_id, {
        refundKey: refund.id,
        amount: Number(refund.amount_rupiah),
        reason:
          refund.kind === 'automatic' ? 'paid after the order expired; no stock left' : 'unused e-meterai',
      });
      if (outcome.status === 'failed') problem = outcome.problem;
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  const now = context.clock();
  const attempts = Number(refund.attempts) + 1;
  const next: RefundsTable = {
    ...refund,
    status: problem === null ? 'succeeded' : 'failed',
    attempts,
    last_error: problem === null ? null : problem.slice(0, 500),
    updated_at: now,
    next_attempt_at: problem === null ? now : now + refundRetryDelayMs(attempts),
  };
  await context.storage.db
    .updateTable('refunds')
    .set({
      status: next.status,
      attempts: next.attempts,
      last_error: next.last_error,
      updated_at: now,
      next_attempt_at: next.next_attempt_at,
    })
    .where('id', '=', refund.id)
    .where('status', '!=', 'succeeded')
    .execute();
  if (problem !== null) {
    context.logger.warn(
      { refund: refund.id, attempts, problem },
      'commerce: refund not paid out yet; will retry',
    );
  } else {
    context.logger.info({ refund: refund.id, amount: refund.amount_rupiah }, 'commerce: refund paid out');
  }
  return next;
}

/** One of the principal's refunds, or REFUND_NOT_FOUND (also for someone else's). */
export async function findOwnRefund(
  context: CommerceContext,
  accountId: string,
  refundId: string,
): Promise<RefundView> {
  const row = await context.storage.db
    .selectFrom('refunds')
    .selectAll()
    .where('id', '=', refundId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new BubuhError('REFUND_NOT_FOUND', { refund: refundId.slice(0, 80) });
  return refundView(row);
}

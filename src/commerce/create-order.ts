/**
 * Create an order (DESIGN §5, Buy): reserve the units from the channel's stock with a PENDING ledger
 * transfer whose timeout is the payment window — written in the same transaction as the order row (a
 * ledger attachment), so there is never an order without its reservation or the reverse — then open
 * the payment at the gateway. If the gateway cannot be reached the reservation is voided at once and
 * the order is expired; if the process dies instead, the reservation times out by itself.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../accounts/principal.js';
import { BubuhError } from '../errors.js';
import { accountCodes, accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { OrdersTable } from '../storage/schema.js';
import {
  type CommerceContext,
  dutyRupiah,
  maskPhone,
  orderQuantityMax,
  orderTransferId,
  orderView,
  type OrderView,
} from './context.js';
import { available, directChannel, findChannel } from './stock.js';

export interface CreateOrderInput {
  readonly quantity: unknown;
  readonly channel?: string;
}

export function checkOrderQuantity(quantity: unknown): number {
  if (
    typeof quantity !== 'number' ||
    !Number.isInteger(quantity) ||
    quantity < 1 ||
    quantity > orderQuantityMax
  ) {
    throw new BubuhError('ORDER_QUANTITY_INVALID', {
      min: 1,
      max: orderQuantityMax,
      quantity: typeof quantity === 'number' ? quantity : JSON.stringify(quantity ?? null).slice(0, 40),
    });
  }
  return quantity;
}

async function ensureQuotaAccount(context: CommerceContext, accountId: string): Promise<void> {
  const [result] = await context.ledger.createAccounts([
    {
      id: accountId,
      ledger: quotaLedger,
      code: accountCodes.customerQuota,
      debitsMustNotExceedCredits: true,
    },
  ]);
  if (result?.result !== 'ok' && result?.result !== 'exists') {
    throw new Error(`quota account ${accountId} refused by the ledger: ${result?.result}`);
  }
}

async function stockRefusal(
  context: CommerceContext,
  channel: string,
  quantity: number,
): Promise<BubuhError> {
  const [stock] = await context.ledger.lookupAccounts([accountIds.channelStock(channel)]);
  return new BubuhError('ORDER_STOCK_INSUFFICIENT', {
    channel,
    quantity,
    available: stock ? available(stock) : 0,
  });
}

/** Reserves the stock and writes the order row in one ledger transaction. */
async function reserve(context: CommerceContext, order: OrdersTable): Promise<void> {
  const [result] = await context.ledger.createTransfers(
    [
      {
        id: order.reservation_id,
        kind: 'pending',
        debitAccountId: accountIds.channelStock(order.channel_id),
        creditAccountId: accountIds.customerQuota(order.account_id),
        amount: order.quantity,
        ledger: quotaLedger,
        code: transferCodes.sale,
        timeoutSeconds: context.paymentWindowSeconds,
      },
    ],
    [{ table: 'orders', row: { ...order } }],
  );
  if (result?.result === 'ok') return;
  if (result?.result === 'exceeds_credits' || result?.result === 'debit_account_not_found') {
    throw await stockRefusal(context, order.channel_id, order.quantity);
  }
  throw new Error(`reserving order ${order.id} refused by the ledger: ${result?.result}`);
}

/** The gateway could not open the payment: release the stock now and close the order. */
async function abandon(context: CommerceContext, order: OrdersTable): Promise<void> {
  const [result] = await context.ledger.createTransfers([
    { id: orderTransferId(order.id, 'void'), kind: 'void_pending', pendingId: order.reservation_id },
  ]);
  if (
    result?.result !== 'ok' &&
    result?.result !== 'exists' &&
    result?.result !== 'pending_transfer_expired'
  ) {
    context.logger.error(
      { order: order.id, result: result?.result },
      'commerce: voiding an abandoned order failed',
    );
  }
  await context.storage.db
    .updateTable('orders')
    .set({ status: 'expired', updated_at: context.clock() })
    .where('id', '=', order.id)
    .where('status', '=', 'awaiting_payment')
    .execute();
}

export async function createOrder(
  context: CommerceContext,
  principal: Principal,
  input: CreateOrderInput,
): Promise<OrderView> {
  const quantity = checkOrderQuantity(input.quantity);
  const channelId = input.channel ?? directChannel;
  const channel = await findChannel(context.storage, channelId);
  if (!channel) throw new BubuhError('CHANNEL_NOT_FOUND', { channel: channelId });
  const gateway = context.gateway;
  if (!gateway) {
    throw new BubuhError('PAYMENT_GATEWAY_NOT_CONFIGURED', {
      gateway: context.gatewayKind,
      problem: context.gatewayProblem,
    });
  }
  const now = context.clock();
  const id = `ord-${randomBytes(12).toString('hex')}`;
  const feePerUnit = Number(channel.fee_rupiah);
  const order: OrdersTable = {
    id,
    account_id: principal.accountId,
    account_phone_masked: maskPhone(principal.phone),
    channel_id: channel.id,
    quantity,
    unit_price_rupiah: dutyRupiah,
    fee_per_unit_rupiah: feePerUnit,
    amount_rupiah: quantity * (dutyRupiah + feePerUnit),
    currency: 'IDR',
    status: 'awaiting_payment',
    gateway: gateway.kind,
    reservation_id: orderTransferId(id, 'reservation'),
    payment_token: null,
    redirect_url: null,
    created_at: now,
    expires_at: now + context.paymentWindowSeconds * 1000,
    paid_at: null,
    refunded_quantity: 0,
    updated_at: now,
  };
  await ensureQuotaAccount(context, accountIds.customerQuota(principal.accountId));
  await reserve(context, order);
  let created;
  try {
    created = await gateway.createTransaction({
      orderId: id,
      grossAmount: order.amount_rupiah,
      expirySeconds: context.paymentWindowSeconds,
      itemName: 'e-meterai',
      quantity,
      unitPrice: dutyRupiah + feePerUnit,
    });
  } catch (error) {
    await abandon(context, order);
    throw error;
  }
  await context.storage.db
    .updateTable('orders')
    .set({ payment_token: created.token, redirect_url: created.redirectUrl, updated_at: context.clock() })
    .where('id', '=', id)
    .execute();
  context.logger.info({ order: id, quantity, amount: order.amount_rupiah }, 'commerce: order created');
  return orderView({ ...order, payment_token: created.token, redirect_url: created.redirectUrl });
}

/** One of the principal's orders, or ORDER_NOT_FOUND (also for someone else's order). */
export async function findOwnOrder(
  context: CommerceContext,
  accountId: string,
  orderId: string,
): Promise<OrdersTable> {
  const row = await context.storage.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', orderId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new BubuhError('ORDER_NOT_FOUND', { order: orderId.slice(0, 64) });
  return row;
}

export const orderPageMax = 100;

/** The principal's orders, newest first; `cursor` is the id of the last order of the previous page. */
export async function listOrders(
  context: CommerceContext,
  accountId: string,
  options: { limit?: number; cursor?: string },
): Promise<{ orders: OrderView[]; next_cursor: string | null }> {
  const limit = Math.min(Math.max(options.limit ?? 20, 1), orderPageMax);
  let query = context.storage.db.selectFrom('orders').selectAll().where('account_id', '=', accountId);
  if (options.cursor) {
    const last = await findOwnOrder(context, accountId, options.cursor);
    const createdAt = Number(last.created_at);
    query = query.where((where) =>
      where.or([
        where('created_at', '<', createdAt),
        where.and([where('created_at', '=', createdAt), where('id', '<', last.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  return {
    orders: page.map(orderView),
    next_cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

/** What every commerce operation needs, built once per node by the route module. */
import { createHash } from 'node:crypto';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/database.js';
import type { OrdersTable } from '../storage/schema.js';
import type { GatewayKind, PaymentGateway } from './gateway.js';

export interface CommerceContext {
  readonly storage: Storage;
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Null when no gateway is configured; orders are then refused with PAYMENT_GATEWAY_NOT_CONFIGURED. */
  readonly gateway: PaymentGateway | null;
  readonly gatewayKind: GatewayKind;
  /** Why the gateway is null. */
  readonly gatewayProblem: string;
  /** Verifies notification signatures (empty when not configured: every notification is refused). */
  readonly serverKey: string;
  readonly paymentWindowSeconds: number;
  /** Most pending transfers one expiry pass voids (the ledger sweeper's batch). */
  readonly sweepBatchMax: number;
}

/** The e-meterai duty per unit, whole rupiah (UU 10/2020). */
export const dutyRupiah = 10_000;
export const orderQuantityMax = 1000;

export type OrderStatus = 'awaiting_payment' | 'paid' | 'expired' | 'refunded' | 'partially_refunded';

/**
 * Ledger transfer ids derived from the order, so every retry of the same step names the same
 * transfer and the ledger's idempotency makes it happen once.
 */
export function orderTransferId(orderId: string, purpose: string): string {
  return createHash('sha256').update(`bubuh:order:${orderId}:${purpose}`, 'utf8').digest('hex').slice(0, 32);
}

/** The status after `refundedQuantity` units of a paid order went back for money. */
export function paidStatus(order: Pick<OrdersTable, 'quantity'>, refundedQuantity: number): OrderStatus {
  if (refundedQuantity <= 0) return 'paid';
  return refundedQuantity >= order.quantity ? 'refunded' : 'partially_refunded';
}

/** "+6281234567890" → "+62812*****890": enough to recognise, not enough to call. */
export function maskPhone(phone: string): string {
  if (phone.length <= 9) return phone.replace(/\d(?=\d{2})/g, '*');
  return phone.slice(0, 6) + '*'.repeat(phone.length - 9) + phone.slice(-3);
}

export interface OrderView {
  readonly id: string;
  readonly quantity: number;
  readonly amount: number;
  readonly currency: string;
  readonly status: string;
  readonly channel: string;
  readonly unit_price: number;
  readonly fee_per_unit: number;
  readonly refunded_quantity: number;
  readonly created_at: string;
  readonly paid_at: string | null;
  readonly payment: {
    readonly provider: string;
    readonly redirect_url: string | null;
    readonly expires_at: string;
  };
}

export function orderView(row: OrdersTable): OrderView {
  return {
    id: row.id,
    quantity: Number(row.quantity),
    amount: Number(row.amount_rupiah),
    currency: row.currency,
    status: row.status,
    channel: row.channel_id,
    unit_price: Number(row.unit_price_rupiah),
    fee_per_unit: Number(row.fee_per_unit_rupiah),
    refunded_quantity: Number(row.refunded_quantity),
    created_at: new Date(Number(row.created_at)).toISOString(),
    paid_at: row.paid_at === null ? null : new Date(Number(row.paid_at)).toISOString(),
    payment: {
      provider: row.gateway,
      redirect_url: row.redirect_url,
      expires_at: new Date(Number(row.expires_at)).toISOString(),
    },
  };
}

/**
 * Signed receipts: the JSON text of a purchase plus a detached CMS signature (DER, SHA-256) by the
 * platform key, carrying the signer and issuing CA certificates, so anyone can check it against the
 * published root (`/pki/root.der`) — e.g. `openssl cms -verify` (docs/commerce.md).
 */
import { createHash } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { buildCmsSignature, type Signer } from '../pades/cms.js';
import type { OrdersTable } from '../storage/schema.js';
import type { CommerceContext } from './context.js';

export interface SignedReceipt {
  /** The exact bytes that are signed, as UTF-8 text (JSON). */
  readonly receipt: string;
  /** Detached CMS SignedData over `receipt`, DER in base64. */
  readonly signature: string;
  /** Signer then issuing CA, PEM. */
  readonly certificates: readonly string[];
  readonly root_certificate_url: string;
}

function pem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The receipt's text: fixed key order, so the same order always gives the same bytes. */
export function receiptText(
  order: OrdersTable,
  settlement: { gateway_transaction_id: string } | undefined,
): string {
  if (order.paid_at === null) throw new Error(`order ${order.id} has no paid_at`);
  return JSON.stringify({
    type: 'bubuh.receipt.v1',
    order_id: order.id,
    channel: order.channel_id,
    quantity: Number(order.quantity),
    unit_price: Number(order.unit_price_rupiah),
    fee_per_unit: Number(order.fee_per_unit_rupiah),
    amount: Number(order.amount_rupiah),
    currency: order.currency,
    paid_at: new Date(Number(order.paid_at)).toISOString(),
    payment_gateway: order.gateway,
    gateway_transaction_id: settlement?.gateway_transaction_id ?? null,
    account_phone: order.account_phone_masked,
  });
}

export async function signReceipt(
  context: CommerceContext,
  order: OrdersTable,
  signer: () => Promise<Signer>,
): Promise<SignedReceipt> {
  if (order.paid_at === null || order.status === 'awaiting_payment' || order.status === 'expired') {
    throw new BubuhError('RECEIPT_NOT_AVAILABLE', { order: order.id, status: order.status });
  }
  const settlement = await context.storage.db
    .selectFrom('order_settlements')
    .select('gateway_transaction_id')
    .where('order_id', '=', order.id)
    .executeTakeFirst();
  const text = receiptText(order, settlement);
  const key = await signer();
  const digest = new Uint8Array(createHash('sha256').update(text, 'utf8').digest());
  const cms = await buildCmsSignature({ contentDigest: digest, signer: key });
  return {
    receipt: text,
    signature: Buffer.from(cms).toString('base64'),
    certificates: [key.certificate, ...key.chain].map(pem),
    root_certificate_url: '/pki/root.der',
  };
}

/**
 * The payment gateway: one interface, two implementations (the built-in `sandbox` and the real
 * `midtrans` protocol), chosen in one place (`createGateway`). Both speak Midtrans' shapes: a
 * transaction's status and a notification are the same JSON object, signed with
 * SHA-512(order_id + status_code + gross_amount + server_key).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A transaction as the gateway reports it: the body of a notification and of a status answer. */
export interface GatewayTransaction {
  readonly order_id: string;
  readonly status_code: string;
  /** Whole rupiah written with two decimals, e.g. "10000.00". */
  readonly gross_amount: string;
  readonly currency?: string;
  readonly transaction_status: string;
  readonly fraud_status?: string;
  readonly signature_key: string;
  readonly transaction_id: string;
  readonly payment_type: string;
  readonly transaction_time: string;
  readonly status_message?: string;
}

export interface CreateTransactionInput {
  readonly orderId: string;
  /** Whole rupiah. */
  readonly grossAmount: number;
  /** How long the customer may take to pay. */
  readonly expirySeconds: number;
  readonly itemName: string;
  readonly quantity: number;
  /** Whole rupiah per unit; `quantity × unitPrice` equals `grossAmount`. */
  readonly unitPrice: number;
}

export interface CreatedTransaction {
  readonly token: string;
  readonly redirectUrl: string;
}

export interface RefundInput {
  /** The same key twice refunds once (the gateway answers the first result again). */
  readonly refundKey: string;
  /** Whole rupiah. */
  readonly amount: number;
  readonly reason: string;
}

export type RefundOutcome =
  | { readonly status: 'succeeded'; readonly refundAmount: number }
  | { readonly status: 'failed'; readonly problem: string };

export type GatewayKind = 'sandbox' | 'midtrans';

export interface PaymentGateway {
  readonly kind: GatewayKind;
  /** Opens a payment; throws PAYMENT_GATEWAY_UNAVAILABLE when the gateway cannot be reached. */
  createTransaction(input: CreateTransactionInput): Promise<CreatedTransaction>;
  /** The transaction's current status, or null when the gateway does not know the order. */
  getStatus(orderId: string): Promise<GatewayTransaction | null>;
  refund(orderId: string, input: RefundInput): Promise<RefundOutcome>;
}

/** Midtrans' amount text: whole rupiah with ".00". */
export function formatGrossAmount(rupiah: number): string {
  if (!Number.isSafeInteger(rupiah) || rupiah < 0) throw new Error(`amount ${rupiah} is not whole rupiah`);
  return `${rupiah}.00`;
}

/** Whole rupiah from Midtrans' text ("10000.00" or "10000"); null when it is anything else. */
export function parseGrossAmount(text: string): number | null {
  const match = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  if (match[2] !== undefined && Number(match[2]) !== 0) return null;
  return Number(match[1]);
}

/** SHA-512(order_id + status_code + gross_amount + server_key) in lowercase hex. */
export function notificationSignature(
  orderId: string,
  statusCode: string,
  grossAmount: string,
  serverKey: string,
): string {
  return createHash('sha512')
    .update(orderId + statusCode + grossAmount + serverKey, 'utf8')
    .digest('hex');
}

/** Compares a received signature with the expected one in constant time. */
export function signatureMatches(transaction: GatewayTransaction, serverKey: string): boolean {
  const expected = Buffer.from(
    notificationSignature(transaction.order_id, transaction.status_code, transaction.gross_amount, serverKey),
    'utf8',
  );
  const received = Buffer.from(String(transaction.signature_key).toLowerCase(), 'utf8');
  // Same length first: timingSafeEqual demands it, and the length of a hex SHA-512 is public.
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** Midtrans' status code for a transaction status. */
export function statusCodeOf(transactionStatus: string): string {
  switch (transactionStatus) {
    case 'capture':
    case 'settlement':
    case 'cancel':
    case 'refund':
    case 'partial_refund':
      return '200';
    case 'pending':
      return '201';
    case 'deny':
      return '202';
    case 'expire':
      return '407';
    default:
      return '200';
  }
}

/** Midtrans' transaction_time: "YYYY-MM-DD HH:mm:ss" in Western Indonesia Time (UTC+7). */
export function transactionTime(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

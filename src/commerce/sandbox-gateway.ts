/**
 * The built-in payment sandbox (fake money): it keeps transactions in memory, shows a hosted payment
 * page, and on payment notifies bubuh over HTTP exactly as Midtrans does (signed JSON). For tests it
 * can drop, duplicate, delay or reorder its notifications. Transactions do not survive a restart: a
 * development node forgets unpaid sandbox payments, and reconciliation then expires those orders.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OldestKeys } from '../oldest-keys.js';
import {
  type CreatedTransaction,
  type CreateTransactionInput,
  formatGrossAmount,
  type GatewayTransaction,
  notificationSignature,
  type PaymentGateway,
  type RefundInput,
  type RefundOutcome,
  statusCodeOf,
  transactionTime,
} from './gateway.js';

export interface SandboxFaults {
  /** Send nothing (the order is found by reconciliation). */
  readonly drop?: boolean;
  /** Send every notification this many times (default 1). */
  readonly duplicate?: number;
  /** Wait this long before sending. */
  readonly delayMs?: number;
  /** Send one payment's notifications newest first (settlement before pending). */
  readonly reorder?: boolean;
}

export interface SandboxDelivery {
  readonly orderId: string;
  readonly transactionStatus: string;
  /** HTTP status bubuh answered, or 0 when it could not be reached. */
  readonly responseStatus: number;
}

interface SandboxRefund {
  readonly amount: number;
  readonly outcome: RefundOutcome;
}

interface SandboxTransaction {
  readonly orderId: string;
  readonly grossAmount: number;
  readonly token: string;
  readonly transactionId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  status: string;
  paymentType: string;
  updatedAt: number;
  refundedAmount: number;
  readonly refunds: Map<string, SandboxRefund>;
}

export interface SandboxOptions {
  readonly serverKey: string;
  /** Base of the hosted payment page links, e.g. `http://localhost:8080`. */
  readonly publicBaseUrl: string;
  /** Where notifications go; resolved at send time (the node's port is known only after listen). */
  readonly notificationUrl: () => string | undefined;
  readonly clock?: () => number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** Most transactions the sandbox remembers; the oldest are forgotten past it. */
export const sandboxTransactionsMax = 100_000;
const deliveryAttemptsMax = 3;
const deliveryLogMax = 1000;

export class SandboxGateway implements PaymentGateway {
  readonly kind = 'sandbox' as const;
  private readonly options: SandboxOptions;
  private readonly clock: () => number;
  private readonly transactions = new Map<string, SandboxTransaction>();
  /** Which transaction to forget first when the map is full (`oldest-keys.ts`). */
  private readonly oldestTransactions = new OldestKeys(this.transactions);
  private faults: SandboxFaults = {};
  private readonly inFlight = new Set<Promise<void>>();
  /** Every delivery attempt's answer, newest last (bounded). */
  readonly deliveries: SandboxDelivery[] = [];

  constructor(options: SandboxOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
  }

  setFaults(faults: SandboxFaults): void {
    this.faults = { ...faults };
  }

  /** Resolves when every notification sent so far has been delivered (or given up). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async createTransaction(input: CreateTransactionInput): Promise<CreatedTransaction> {
    const existing = this.transactions.get(input.orderId);
    if (existing) return this.created(existing);
    if (this.transactions.size >= sandboxTransactionsMax) {
      const oldest = this.oldestTransactions.next();
      if (oldest !== undefined) this.transactions.delete(oldest);
    }
    const now = this.clock();
    const transaction: SandboxTransaction = {
      orderId: input.orderId,
      grossAmount: input.grossAmount,
      token: randomBytes(16).toString('hex'),
      transactionId: randomUUID(),
      createdAt: now,
      expiresAt: now + input.expirySeconds * 1000,
      status: 'pending',
      paymentType: 'bank_transfer',
      updatedAt: now,
      refundedAmount: 0,
      refunds: new Map(),
    };
    this.transactions.set(input.orderId, transaction);
    return this.created(transaction);
  }

  private created(transaction: SandboxTransaction): CreatedTransaction {
    return {
      token: transaction.token,
      redirectUrl: `${this.options.publicBaseUrl}/sandbox/pay/${encodeURIComponent(transaction.orderId)}`,
    };
  }

  /** The transaction, with a pending one past its expiry turned to `expire`. */
  private current(orderId: string): SandboxTransaction | null {
    const transaction = this.transactions.get(orderId);
    if (!transaction) return null;
    if (transaction.status === 'pending' && this.clock() >= transaction.expiresAt) {
      transaction.status = 'expire';
      transaction.updatedAt = this.clock();
    }
    return transaction;
  }

  /** What the hosted page shows, or null for an unknown order. */
  describe(orderId: string): { grossAmount: number; status: string; expiresAt: number } | null {
    const transaction = this.current(orderId);
    return transaction
      ? { grossAmount: transaction.grossAmount, status: transaction.status, expiresAt: transaction.expiresAt }
      : null;
  }

  async getStatus(orderId: string): Promise<GatewayTransaction | null> {
    const transaction = this.current(orderId);
    return transaction ? this.report(transaction, transaction.status) : null;
  }

  private report(transaction: SandboxTransaction, status: string): GatewayTransaction {
    const statusCode = statusCodeOf(status);
    const grossAmount = formatGrossAmount(transaction.grossAmount);
    return {
      order_id: transaction.orderId,
      status_code: statusCode,
      gross_amount: grossAmount,
      currency: 'IDR',
      transaction_status: status,
      ...(status === 'settlement' || status === 'capture' || status === 'deny'
        ? { fraud_status: 'accept' }
        : {}),
      signature_key: notificationSignature(
        transaction.orderId,
        statusCode,
        grossAmount,
        this.options.serverKey,
      ),
      transaction_id: transaction.transactionId,
      payment_type: transaction.paymentType,
      transaction_time: transactionTime(transaction.createdAt),
      status_message: `midtrans payment notification`,
    };
  }

  /**
   * The customer pays (the hosted page's "Bayar" button): the transaction settles and bubuh is
   * notified of `pending` then `settlement`, as Midtrans does for a bank transfer. Returns the
   * status after the action (`expire` when the window has passed: nothing is charged).
   */
  pay(orderId: string): string | null {
    const transaction = this.current(orderId);
    if (!transaction) return null;
    if (transaction.status !== 'pending') return transaction.status;
    const pending = this.report(transaction, 'pending');
    transaction.status = 'settlement';
    transaction.updatedAt = this.clock();
    this.send([pending, this.report(transaction, 'settlement')]);
    return transaction.status;
  }

  /** The customer cancels (the hosted page's "Batalkan" button). */
  cancel(orderId: string): string | null {
    const transaction = this.current(orderId);
    if (!transaction) return null;
    if (transaction.status !== 'pending') return transaction.status;
    transaction.status = 'cancel';
    transaction.updatedAt = this.clock();
    this.send([this.report(transaction, 'cancel')]);
    return transaction.status;
  }

  async refund(orderId: string, input: RefundInput): Promise<RefundOutcome> {
    const transaction = this.current(orderId);
    if (!transaction) return { status: 'failed', problem: 'transaction not found (404)' };
    const earlier = transaction.refunds.get(input.refundKey);
    if (earlier) {
      if (earlier.amount !== input.amount) {
        return { status: 'failed', problem: `refund_key ${input.refundKey} was used for another amount` };
      }
      return earlier.outcome;
    }
    const refundable = ['settlement', 'capture', 'partial_refund'].includes(transaction.status);
    const left = transaction.grossAmount - transaction.refundedAmount;
    if (!refundable || !Number.isSafeInteger(input.amount) || input.amount < 1 || input.amount > left) {
      // Not remembered under the key: a refused refund may be asked again once it can succeed.
      return {
        status: 'failed',
        problem: `cannot refund ${input.amount} of a ${transaction.status} transaction with ${left} left (412)`,
      };
    }
    transaction.refundedAmount += input.amount;
    transaction.status = transaction.refundedAmount === transaction.grossAmount ? 'refund' : 'partial_refund';
    transaction.updatedAt = this.clock();
    const outcome: RefundOutcome = { status: 'succeeded', refundAmount: input.amount };
    transaction.refunds.set(input.refundKey, { amount: input.amount, outcome });
    return outcome;
  }

  /** Total refunded on a transaction (for tests and the hosted page). */
  refundedAmount(orderId: string): number {
    return this.transactions.get(orderId)?.refundedAmount ?? 0;
  }

  private send(notifications: GatewayTransaction[]): void {
    const faults = this.faults;
    if (faults.drop) {
      this.options.log?.('sandbox: notifications dropped (fault injection)', {
        order: notifications[0]?.order_id,
      });
      return;
    }
    const ordered = faults.reorder ? [...notifications].reverse() : notifications;
    const copies = Math.min(Math.max(faults.duplicate ?? 1, 1), 100);
    const delivery = (async () => {
      if (faults.delayMs) await new Promise((resolve) => setTimeout(resolve, faults.delayMs));
      for (const notification of ordered) {
        for (let copy = 0; copy < copies; copy += 1) await this.deliver(notification);
      }
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async deliver(notification: GatewayTransaction): Promise<void> {
    const url = this.options.notificationUrl();
    if (!url) {
      this.options.log?.('sandbox: no notification URL yet; notification not sent', {
        order: notification.order_id,
      });
      return;
    }
    let responseStatus = 0;
    for (let attempt = 1; attempt <= deliveryAttemptsMax; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notification),
          signal: AbortSignal.timeout(10_000),
        });
        responseStatus = response.status;
        await response.arrayBuffer();
        // Like Midtrans, retry only what might succeed later; a 4xx refusal is final.
        if (response.status < 500) break;
      } catch {
        responseStatus = 0;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
    if (this.deliveries.length >= deliveryLogMax) this.deliveries.shift();
    this.deliveries.push({
      orderId: notification.order_id,
      transactionStatus: notification.transaction_status,
      responseStatus,
    });
  }
}

/**
 * The Midtrans protocol over HTTP: Snap `POST <snap>/v1/transactions` (Basic auth of the server key)
 * for a token and redirect URL, `GET <api>/v2/{order_id}/status`, and `POST <api>/v2/{order_id}/refund`
 * with an idempotent `refund_key`. Notifications arrive at bubuh's own route. The contract tests run
 * this client against the built-in sandbox over real HTTP.
 */
import { BubuhError } from '../errors.js';
import {
  type CreatedTransaction,
  type CreateTransactionInput,
  type GatewayTransaction,
  type PaymentGateway,
  parseGrossAmount,
  type RefundInput,
  type RefundOutcome,
} from './gateway.js';

export interface MidtransOptions {
  readonly serverKey: string;
  /** e.g. `https://app.sandbox.midtrans.com/snap`, no trailing slash. */
  readonly snapUrl: string;
  /** e.g. `https://api.sandbox.midtrans.com`, no trailing slash. */
  readonly apiUrl: string;
  readonly timeoutMs: number;
}

/** Answers larger than this are refused (a status or refund answer is well under 4 KiB). */
const responseBytesMax = 64 * 1024;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class MidtransGateway implements PaymentGateway {
  readonly kind = 'midtrans' as const;
  private readonly options: MidtransOptions;
  private readonly authorization: string;

  constructor(options: MidtransOptions) {
    this.options = options;
    this.authorization = `Basic ${Buffer.from(`${options.serverKey}:`, 'utf8').toString('base64')}`;
  }

  private async call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          authorization: this.authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new BubuhError(
        'PAYMENT_GATEWAY_UNAVAILABLE',
        { problem: (error as Error).name === 'TimeoutError' ? 'timed out' : 'connection failed' },
        { cause: error },
      );
    }
    const text = await response.text();
    if (text.length > responseBytesMax) {
      throw new BubuhError('PAYMENT_GATEWAY_UNAVAILABLE', { problem: `answer of ${text.length} bytes` });
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      throw new BubuhError('PAYMENT_GATEWAY_UNAVAILABLE', { problem: `HTTP ${response.status}, not JSON` });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new BubuhError('PAYMENT_GATEWAY_UNAVAILABLE', {
        problem: `HTTP ${response.status}, not an object`,
      });
    }
    if (response.status === 401) {
      throw new BubuhError('PAYMENT_GATEWAY_NOT_CONFIGURED', {
        gateway: 'midtrans',
        problem: 'the gateway refused the server key',
      });
    }
    return { status: response.status, body: parsed as Record<string, unknown> };
  }

  async createTransaction(input: CreateTransactionInput): Promise<CreatedTransaction> {
    const answer = await this.call('POST', `${this.options.snapUrl}/v1/transactions`, {
      transaction_details: { order_id: input.orderId, gross_amount: input.grossAmount },
      item_details: [
        { id: 'e-meterai', price: input.unitPrice, quantity: input.quantity, name: input.itemName },
      ],
      expiry: { unit: 'second', duration: input.expirySeconds },
    });
    const { token, redirect_url: redirectUrl } = answer.body;
    if (answer.status >= 300 || typeof token !== 'string' || typeof redirectUrl !== 'string') {
      const messages = Array.isArray(answer.body['error_messages']) ? answer.body['error_messages'] : [];
      throw new BubuhError('PAYMENT_GATEWAY_UNAVAILABLE', {
        problem: `Snap answered HTTP ${answer.status}${messages.length ? `: ${messages.join('; ')}` : ''}`,
      });
    }
    return { token, redirectUrl };
  }

  async getStatus(orderId: string): Promise<GatewayTransaction | null> {
    const answer = await this.call('GET', `${this.options.apiUrl}/v2/${encodeURIComponent(orderId)}/status`);
    // Midtrans answers an unknown order with status_code "404" (over HTTP 200 or 404).
    if (answer.status === 404 || answer.body['status_code'] === '404') return null;
    if (answer.status >= 300 || typeof answer.body['transaction_status'] !== 'string') {
      throw new BubuhError('PAYMENT_GATEWAY_UNAVAILABLE', {
        problem: `status answered HTTP ${answer.status} (${String(answer.body['status_message'] ?? '')})`,
      });
    }
    return answer.body as unknown as GatewayTransaction;
  }

  async refund(orderId: string, input: RefundInput): Promise<RefundOutcome> {
    const answer = await this.call(
      'POST',
      `${this.options.apiUrl}/v2/${encodeURIComponent(orderId)}/refund`,
      {
        refund_key: input.refundKey,
        amount: input.amount,
        reason: input.reason,
      },
    );
    const statusCode = String(answer.body['status_code'] ?? answer.status);
    if (answer.status < 300 && statusCode === '200') {
      const refunded = parseGrossAmount(String(answer.body['refund_amount'] ?? ''));
      return { status: 'succeeded', refundAmount: refunded ?? input.amount };
    }
    return {
      status: 'failed',
      problem: `${String(answer.body['status_message'] ?? 'refused')} (${statusCode})`,
    };
  }
}

/**
 * The built-in sandbox over HTTP, shaped like Midtrans so the `midtrans` client can be tested against
 * it: Snap `POST /sandbox/snap/v1/transactions`, `GET /sandbox/v2/{order}/status`,
 * `POST /sandbox/v2/{order}/refund` (Basic auth of the server key), the hosted payment page
 * `GET /sandbox/pay/{order}` (Indonesian, pay and cancel buttons), and `POST /sandbox/faults` to make it
 * drop, duplicate, delay or reorder its notifications. Registered only when the gateway is the sandbox.
 */
import { timingSafeEqual } from 'node:crypto';
// For the `summary` and `tags` of route schemas (OpenAPI).
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatGrossAmount } from './gateway.js';
import type { SandboxGateway } from './sandbox-gateway.js';
import { escapeHtml } from '../http/html.js';

const orderParams = {
  type: 'object',
  required: ['order'],
  properties: { order: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const expiryUnitSeconds: Readonly<Record<string, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
};

function rupiah(amount: number): string {
  return `Rp${new Intl.NumberFormat('id-ID').format(amount)}`;
}

const statusWords: Readonly<Record<string, string>> = {
  pending: 'Menunggu pembayaran',
  settlement: 'Pembayaran berhasil',
  cancel: 'Dibatalkan',
  expire: 'Kedaluwarsa',
  refund: 'Dana dikembalikan',
  partial_refund: 'Dana dikembalikan sebagian',
};

function page(orderId: string, described: { grossAmount: number; status: string } | null, note = ''): string {
  const body = described
    ? `<p class="amount">${rupiah(described.grossAmount)}</p>
  <p>Pesanan <code>${escapeHtml(orderId)}</code> — ${escapeHtml(statusWords[described.status] ?? described.status)}</p>
  ${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}
  ${
    described.status === 'pending'
      ? `<form method="post"><button name="action" value="pay">Bayar ${rupiah(described.grossAmount)}</button>
  <button name="action" value="cancel" class="secondary">Batalkan</button></form>`
      : ''
  }`
    : `<p>Transaksi <code>${escapeHtml(orderId)}</code> tidak ditemukan.</p>`;
  return `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pembayaran sandbox bubuh</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
.banner{background:#fff3cd;border:1px solid #e0c36b;padding:.5rem .75rem;border-radius:.4rem}
.amount{font-size:2rem;font-weight:700;margin:1rem 0}button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem;
border-radius:.4rem;border:0;background:#0b6e4f;color:#fff;cursor:pointer}button.secondary{background:#888}
.note{color:#0b6e4f}</style></head>
<body><h1>Pembayaran e-meterai</h1>
<p class="banner">Sandbox: uang tiruan, bukan pembayaran sungguhan.</p>
${body}
</body></html>`;
}

function authorised(request: FastifyRequest, serverKey: string): boolean {
  const expected = Buffer.from(`Basic ${Buffer.from(`${serverKey}:`).toString('base64')}`);
  const received = Buffer.from(String(request.headers.authorization ?? ''));
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function refuseUnauthorised(reply: FastifyReply) {
  return reply.status(401).send({
    status_code: '401',
    status_message: 'Unknown Merchant server_key/id',
  });
}

export async function registerSandboxRoutes(
  root: FastifyInstance,
  sandbox: SandboxGateway,
  serverKey: string,
): Promise<void> {
  await root.register(async (app) => {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );

    app.post<{
      Body: {
        transaction_details: { order_id: string; gross_amount: number };
        expiry?: { unit: string; duration: number };
      };
    }>(
      '/sandbox/snap/v1/transactions',
      {
        schema: {
          summary: 'Sandbox: open a payment (Snap-shaped)',
          tags: ['sandbox'],
          body: {
            type: 'object',
            required: ['transaction_details'],
            properties: {
              transaction_details: {
                type: 'object',
                required: ['order_id', 'gross_amount'],
                properties: {
                  order_id: { type: 'string', minLength: 1, maxLength: 50 },
                  gross_amount: { type: 'integer', minimum: 1 },
                },
              },
              expiry: {
                type: 'object',
                properties: {
                  unit: { type: 'string', enum: ['second', 'minute', 'hour', 'day'] },
                  duration: { type: 'integer', minimum: 1 },
                },
              },
            },
          },
        },
      },
      async (request, reply) => {
        if (!authorised(request, serverKey)) return refuseUnauthorised(reply);
        const { transaction_details: details, expiry } = request.body;
        const expirySeconds = expiry ? (expiryUnitSeconds[expiry.unit] ?? 60) * expiry.duration : 86_400;
        const created = await sandbox.createTransaction({
          orderId: details.order_id,
          grossAmount: details.gross_amount,
          expirySeconds,
          itemName: 'e-meterai',
          quantity: 1,
          unitPrice: details.gross_amount,
        });
        return reply.status(201).send({ token: created.token, redirect_url: created.redirectUrl });
      },
    );

    app.get<{ Params: { order: string } }>(
      '/sandbox/v2/:order/status',
      {
        schema: {
          summary: 'Sandbox: transaction status (Midtrans-shaped)',
          tags: ['sandbox'],
          params: orderParams,
        },
      },
      async (request, reply) => {
        if (!authorised(request, serverKey)) return refuseUnauthorised(reply);
        const status = await sandbox.getStatus(request.params.order);
        if (!status)
          return reply.status(404).send({ status_code: '404', status_message: "Transaction doesn't exist." });
        return status;
      },
    );

    app.post<{ Params: { order: string }; Body: { refund_key: string; amount: number; reason?: string } }>(
      '/sandbox/v2/:order/refund',
      {
        schema: {
          summary: 'Sandbox: refund (Midtrans-shaped; refund_key is idempotent)',
          tags: ['sandbox'],
          params: orderParams,
          body: {
            type: 'object',
            required: ['refund_key', 'amount'],
            properties: {
              refund_key: { type: 'string', minLength: 1, maxLength: 100 },
              amount: { type: 'integer', minimum: 1 },
              reason: { type: 'string', maxLength: 255 },
            },
          },
        },
      },
      async (request, reply) => {
        if (!authorised(request, serverKey)) return refuseUnauthorised(reply);
        const { order } = request.params;
        const outcome = await sandbox.refund(order, {
          refundKey: request.body.refund_key,
          amount: request.body.amount,
          reason: request.body.reason ?? '',
        });
        if (outcome.status === 'failed') {
          const code = /\((\d{3})\)$/.exec(outcome.problem)?.[1] ?? '412';
          return { status_code: code, status_message: outcome.problem, order_id: order };
        }
        const status = await sandbox.getStatus(order);
        return {
          status_code: '200',
          status_message: 'Success, refund request is approved',
          order_id: order,
          transaction_id: status?.transaction_id,
          transaction_status: status?.transaction_status,
          refund_key: request.body.refund_key,
          refund_amount: formatGrossAmount(outcome.refundAmount),
        };
      },
    );

    app.get<{ Params: { order: string } }>(
      '/sandbox/pay/:order',
      { schema: { summary: 'Sandbox: the hosted payment page', tags: ['sandbox'], params: orderParams } },
      async (request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .send(page(request.params.order, sandbox.describe(request.params.order))),
    );

    app.post<{ Params: { order: string }; Body: { action: string } }>(
      '/sandbox/pay/:order',
      {
        schema: {
          summary: 'Sandbox: the payment page buttons (pay or cancel)',
          tags: ['sandbox'],
          params: orderParams,
          body: {
            type: 'object',
            required: ['action'],
            properties: { action: { type: 'string', enum: ['pay', 'cancel'] } },
          },
        },
      },
      async (request, reply) => {
        const { order } = request.params;
        const status = request.body.action === 'pay' ? sandbox.pay(order) : sandbox.cancel(order);
        const described = sandbox.describe(order);
        const note =
          status === 'settlement'
            ? 'Terima kasih. Pembayaran diterima; kuota Anda segera bertambah.'
            : status === 'cancel'
              ? 'Pembayaran dibatalkan. Tidak ada yang ditagihkan.'
              : '';
        return reply
          .status(described ? 200 : 404)
          .type('text/html; charset=utf-8')
          .send(page(order, described, note));
      },
    );

    app.post<{ Body: { drop?: boolean; duplicate?: number; delay_ms?: number; reorder?: boolean } }>(
      '/sandbox/faults',
      {
        schema: {
          summary: 'Sandbox: make later notifications drop, duplicate, delay or reorder (tests)',
          tags: ['sandbox'],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              drop: { type: 'boolean' },
              duplicate: { type: 'integer', minimum: 1, maximum: 100 },
              delay_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
              reorder: { type: 'boolean' },
            },
          },
        },
      },
      async (request) => {
        const body = request.body ?? {};
        sandbox.setFaults({
          ...(body.drop !== undefined ? { drop: body.drop } : {}),
          ...(body.duplicate !== undefined ? { duplicate: body.duplicate } : {}),
          ...(body.delay_ms !== undefined ? { delayMs: body.delay_ms } : {}),
          ...(body.reorder !== undefined ? { reorder: body.reorder } : {}),
        });
        return { faults: body };
      },
    );
  });
}

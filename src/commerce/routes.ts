/**
 * The commerce route module: orders, payment notifications, refunds, receipts — and, when the gateway
 * is the built-in sandbox, the sandbox itself. It chooses the gateway (the one switch point), stocks
 * the direct channel in development, and runs reconciliation (stopped when the app closes).
 *
 * Someone else's order, refund or receipt answers exactly like one that does not exist: 404
 * ORDER_NOT_FOUND / REFUND_NOT_FOUND, so ids cannot be probed.
 */
// For the `summary` and `tags` of route schemas (OpenAPI).
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../accounts/authenticate.js';
import { BubuhError } from '../errors.js';
import { idempotent } from '../http/idempotency.js';
import { nodePkiLoader } from '../http/routes/pki.js';
import type { BubuhNode } from '../node.js';
import type { Signer } from '../pades/cms.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { applyPaymentEvent } from './apply-payment.js';
import type { CommerceContext } from './context.js';
import { orderQuantityMax, orderView } from './context.js';
import { checkOrderQuantity, createOrder, findOwnOrder, listOrders, orderPageMax } from './create-order.js';
import type { GatewayKind, PaymentGateway } from './gateway.js';
import { MidtransGateway } from './midtrans-gateway.js';
import { LookReconciler, Reconciler, type ReconcileReport } from './reconcile-payments.js';
import { signReceipt } from './receipt.js';
import { findOwnRefund, requestRefund } from './refund-order.js';
import { SandboxGateway } from './sandbox-gateway.js';
import { registerSandboxRoutes } from './sandbox-routes.js';
import { provisionDevelopmentStock } from './stock.js';

/** The development sandbox's server key when none is configured (fake money only). */
export const developmentServerKey = 'SB-Mid-server-bubuh-development';
export const notificationPath = '/v1/payments/notifications';

export interface CommerceServices {
  readonly context: CommerceContext;
  /** The built-in sandbox when it is the gateway. */
  readonly sandbox: SandboxGateway | null;
  /** One reconciliation round, going on where the last stopped. */
  reconcile(): Promise<ReconcileReport>;
}

const services = new WeakMap<BubuhNode, CommerceServices>();

/** The node's commerce services (after its app was built), for tests and tools. */
export function commerceOf(node: BubuhNode): CommerceServices {
  const found = services.get(node);
  if (!found) throw new Error('commerce routes are not registered on this node');
  return found;
}

/** This node's own notification address, known once the server listens. */
function ownNotificationUrl(app: FastifyInstance): string | undefined {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return undefined;
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}${notificationPath}`;
}

function chooseGateway(app: FastifyInstance, node: BubuhNode) {
  const { config } = node;
  const kind: GatewayKind = config.paymentGateway ?? (config.mode === 'development' ? 'sandbox' : 'midtrans');
  const serverKey =
    config.paymentServerKey ??
    (kind === 'sandbox' && config.mode === 'development' ? developmentServerKey : '');
  if (!serverKey) {
    return { kind, serverKey, gateway: null, sandbox: null, problem: 'BUBUH_PAYMENT_SERVER_KEY is not set' };
  }
  if (kind === 'midtrans') {
    const gateway: PaymentGateway = new MidtransGateway({
      serverKey,
      snapUrl: config.midtransSnapUrl,
      apiUrl: config.midtransApiUrl,
      timeoutMs: config.paymentGatewayTimeoutMs,
    });
    return { kind, serverKey, gateway, sandbox: null, problem: '' };
  }
  const sandbox = new SandboxGateway({
    serverKey,
    publicBaseUrl: config.publicBaseUrl,
    notificationUrl: () => config.paymentNotificationUrl ?? ownNotificationUrl(app),
    clock: node.clock,
    log: (message, fields) => node.logger.info(fields, message),
  });
  return { kind, serverKey, gateway: sandbox, sandbox, problem: '' };
}

const orderIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 80 } },
} as const;

/** A schema-valid body, or the route's own clear refusal instead of Fastify's generic one. */
function validated(request: FastifyRequest, onInvalid: () => never): void {
  if (request.validationError) onInvalid();
}

export async function commerceRoutes(app: FastifyInstance, node: BubuhNode): Promise<void> {
  const { config, logger } = node;
  const chosen = chooseGateway(app, node);
  const context: CommerceContext = {
    storage: node.storage,
    ledger: node.ledger,
    logger,
    clock: node.clock,
    gateway: chosen.gateway,
    gatewayKind: chosen.kind,
    gatewayProblem: chosen.problem,
    serverKey: chosen.serverKey,
    paymentWindowSeconds: config.paymentWindowSeconds,
    sweepBatchMax: config.ledgerSweepBatchMax,
  };
  if (!chosen.gateway) {
    logger.warn(
      { gateway: chosen.kind, problem: chosen.problem },
      'commerce: no payment gateway; orders are refused',
    );
  } else if (chosen.kind === 'sandbox' && config.mode === 'production') {
    logger.warn('commerce: the SANDBOX gateway takes fake money in production mode');
  }
  if (config.mode === 'development') {
    const added = await provisionDevelopmentStock(node.ledger, node.storage);
    if (added > 0)
      logger.info(
        { channel: 'direct', units: added },
        'development: direct channel stocked (minted and allocated)',
      );
  }
  const reconcileOptions = {
    delaySeconds: config.paymentReconcileDelaySeconds,
    batchMax: config.paymentReconcileBatchMax,
    intervalMs: config.paymentReconcileIntervalMs,
  };
  const reconciler = new Reconciler(context, reconcileOptions);
  services.set(node, {
    context,
    sandbox: chosen.sandbox,
    reconcile: () => reconciler.round(),
  });
  if (chosen.sandbox) await registerSandboxRoutes(app, chosen.sandbox, chosen.serverKey);

  app.addHook('onReady', async () => {
    reconciler.start();
  });
  app.addHook('onClose', async () => {
    await reconciler.stop();
    if (chosen.sandbox) await chosen.sandbox.idle();
  });

  registerOrderRoutes(app, node, context);
  registerPaymentRoutes(app, context);
  registerRefundRoutes(app, node, context);
}

function registerOrderRoutes(app: FastifyInstance, node: BubuhNode, context: CommerceContext): void {
  const lookReconciler = new LookReconciler(context);
  app.post<{ Body: { quantity: number; channel?: string } }>(
    '/v1/orders',
    {
      attachValidation: true,
      schema: {
        summary: 'Order e-meterai quota (Idempotency-Key required)',
        tags: ['orders'],
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        },
        body: {
          type: 'object',
          required: ['quantity'],
          properties: {
            quantity: { type: 'integer', minimum: 1, maximum: orderQuantityMax },
            channel: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = await authenticate(request, node);
      validated(request, () => {
        const body = request.body as unknown;
        const quantity =
          body && typeof body === 'object' ? (body as Record<string, unknown>)['quantity'] : undefined;
        checkOrderQuantity(quantity);
        throw new BubuhError('REQUEST_INVALID', {
          problem: request.validationError?.message ?? 'invalid body',
        });
      });
      return idempotent(request, reply, node, principal.accountId, async () => {
        const order = await createOrder(context, principal, request.body);
        return { status: 201, body: order, headers: { location: `/v1/orders/${order.id}` } };
      });
    },
  );

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/v1/orders',
    {
      schema: {
        summary: 'Your orders, newest first',
        tags: ['orders'],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: orderPageMax },
            cursor: { type: 'string', minLength: 1, maxLength: 80 },
          },
        },
      },
    },
    async (request) => {
      const principal = await authenticate(request, node);
      return listOrders(context, principal.accountId, {
        ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/orders/:id',
    { schema: { summary: 'One of your orders', tags: ['orders'], params: orderIdParams } },
    async (request) => {
      const principal = await authenticate(request, node);
      const order = await findOwnOrder(context, principal.accountId, request.params.id);
      if (!(await lookReconciler.onLook(order))) return orderView(order);
      return orderView(await findOwnOrder(context, principal.accountId, request.params.id));
    },
  );

  let signer: Promise<Signer> | null = null;
  const pki = nodePkiLoader(node);
  const receiptSigner = () => {
    signer ??= pki()
      .then((loaded) =>
        createNodeSigner({
          privateKeyPem: loaded.signer.privateKeyPem,
          certificate: loaded.signer.certificate,
          chain: [loaded.issuingCa.certificate],
        }),
      )
      .catch((error: unknown) => {
        signer = null;
        throw error;
      });
    return signer;
  };
  app.get<{ Params: { id: string } }>(
    '/v1/orders/:id/receipt',
    {
      schema: {
        summary: 'A signed receipt of a paid order (detached CMS over the receipt text)',
        tags: ['orders'],
        params: orderIdParams,
      },
    },
    async (request) => {
      const principal = await authenticate(request, node);
      const order = await findOwnOrder(context, principal.accountId, request.params.id);
      return signReceipt(context, order, receiptSigner);
    },
  );
}

function registerPaymentRoutes(app: FastifyInstance, context: CommerceContext): void {
  app.post(
    notificationPath,
    {
      schema: {
        summary: 'Payment gateway notification (Midtrans format; signature checked)',
        tags: ['payments'],
        body: {
          type: 'object',
          required: ['order_id', 'status_code', 'gross_amount', 'transaction_status', 'signature_key'],
          properties: {
            order_id: { type: 'string' },
            status_code: { type: 'string' },
            gross_amount: { type: 'string' },
            transaction_status: { type: 'string' },
            fraud_status: { type: 'string' },
            signature_key: { type: 'string' },
            transaction_id: { type: 'string' },
            payment_type: { type: 'string' },
            transaction_time: { type: 'string' },
            currency: { type: 'string' },
          },
        },
      },
      attachValidation: true,
    },
    async (request) => {
      if (request.validationError) {
        throw new BubuhError('PAYMENT_NOTIFICATION_INVALID', { problem: request.validationError.message });
      }
      const outcome = await applyPaymentEvent(context, request.body, 'notification');
      return { status: 'ok', outcome };
    },
  );
}

function registerRefundRoutes(app: FastifyInstance, node: BubuhNode, context: CommerceContext): void {
  app.post<{ Body: { order_id: string; quantity: number } }>(
    '/v1/refunds',
    {
      attachValidation: true,
      schema: {
        summary: 'Refund unused quota of a paid order for money (Idempotency-Key required)',
        tags: ['refunds'],
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        },
        body: {
          type: 'object',
          required: ['order_id', 'quantity'],
          properties: {
            order_id: { type: 'string', minLength: 1, maxLength: 80 },
            quantity: { type: 'integer', minimum: 1, maximum: orderQuantityMax },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = await authenticate(request, node);
      const body = (request.body ?? {}) as unknown as Record<string, unknown>;
      if (request.validationError && typeof body['order_id'] !== 'string') {
        throw new BubuhError('REQUEST_INVALID', { problem: request.validationError.message });
      }
      return idempotent(request, reply, node, principal.accountId, async () => {
        const refund = await requestRefund(context, principal, {
          orderId: String(body['order_id']),
          quantity: body['quantity'],
        });
        return { status: 201, body: refund, headers: { location: `/v1/refunds/${refund.id}` } };
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/refunds/:id',
    { schema: { summary: 'One of your refunds', tags: ['refunds'], params: orderIdParams } },
    async (request) => {
      const principal = await authenticate(request, node);
      return findOwnRefund(context, principal.accountId, request.params.id);
    },
  );
}

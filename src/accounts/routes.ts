/**
 * Sign-in over HTTP:
 *
 * - `POST /v1/auth/otp {phone}` → 202: a six-digit code goes to the phone over WhatsApp;
 * - `POST /v1/auth/verify {phone, code}` → 200 `{token, account}`: the bearer token of a new session
 *   (the account is created, as a customer with its own quota account, on its first sign-in);
 * - `POST /v1/auth/logout` → 204: the calling session is revoked;
 * - `GET /v1/auth/sessions`, `DELETE /v1/auth/sessions/{id}`: the caller's own sessions;
 * - `GET /v1/me` → the caller's account and quota, read from the ledger.
 *
 * The module also runs the WhatsApp outbox worker and the sweep of old send records and codes.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { BubuhNode } from '../node.js';
import { clientAddress } from '../ratelimit/client-address.js';
import { accountStoreOf, authenticate } from './authenticate.js';
import { OtpService } from './otp.js';
import { ROLES } from './principal.js';
import { FileChannel, HttpChannel, type WhatsappChannel, WhatsappOutbox } from './whatsapp.js';

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        message_id: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message', 'message_id', 'details'],
    },
  },
  required: ['error'],
} as const;

const bearer = [{ bearerAuth: [] }];

const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    phone: { type: 'string', description: 'E.164' },
    roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
  },
  required: ['id', 'phone', 'roles'],
} as const;

const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    current: { type: 'boolean' },
  },
  required: ['id', 'created_at', 'expires_at', 'current'],
} as const;

/** The channel the configuration names. */
export function whatsappChannelOf(config: Config, clock: () => number): WhatsappChannel {
  if (config.whatsappChannel === 'http' && config.whatsappUrl && config.whatsappSecret) {
    return new HttpChannel({
      url: config.whatsappUrl,
      secret: config.whatsappSecret,
      timeoutMs: config.whatsappTimeoutMs,
    });
  }
  return new FileChannel(config.dataDir, clock);
}

export interface AccountRouteOptions {
  /** How often the outbox worker looks for due messages. */
  readonly outboxIntervalMs?: number;
}

export function accountRoutesWith(options: AccountRouteOptions = {}) {
  return async function accountRoutes(app: FastifyInstance, node: BubuhNode): Promise<void> {
    const { config, logger } = node;
    const accounts = accountStoreOf(node);
    const channel = whatsappChannelOf(config, node.clock);
    const outbox = new WhatsappOutbox(node.storage, channel, {
      clock: node.clock,
      claimMs: config.whatsappTimeoutMs + 5000,
      logger,
    });
    const otp = new OtpService(node.storage, outbox, {
      clock: node.clock,
      sendsPerPhone: config.otpSendsPerPhone,
      sendsPerIp: config.otpSendsPerIp,
      sendWindowMs: config.otpSendWindowSeconds * 1000,
    });
    if (channel instanceof FileChannel) {
      logger.warn(
        { outbox: channel.path },
        `DEVELOPMENT: WhatsApp sign-in codes are NOT sent; they are written to ${channel.path}`,
      );
    }
    outbox.start(options.outboxIntervalMs ?? 1000);
    const sweeper = setInterval(() => {
      otp
        .sweep()
        .catch((error: unknown) => logger.warn({ err: error }, 'accounts: sweep failed; will retry'));
    }, 60_000);
    sweeper.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweeper);
      await outbox.stop();
      await channel.close();
    });

    app.post(
      '/v1/auth/otp',
      {
        schema: {
          summary: 'Send a sign-in code to a phone over WhatsApp',
          tags: ['accounts'],
          body: {
            type: 'object',
            properties: {
              phone: {
                type: 'string',
                maxLength: 40,
                description: 'Indonesian mobile (08…, 8…, 628…, +628…) or full E.164 (+…)',
              },
            },
            required: ['phone'],
          },
          response: {
            202: {
              type: 'object',
              properties: {
                phone: { type: 'string' },
                expires_at: { type: 'string', format: 'date-time' },
              },
              required: ['phone', 'expires_at'],
            },
            400: errorBody,
            429: errorBody,
          },
        },
      },
      async (request, reply) => {
        const { phone } = request.body as { phone: string };
        // The same client address the rate limits see (X-Forwarded-For only behind trusted proxies).
        const sent = await otp.requestCode(phone, clientAddress(request, node.config.trustProxyHops));
        reply.status(202);
        return { phone: sent.phone, expires_at: new Date(sent.expiresAt).toISOString() };
      },
    );

    app.post(
      '/v1/auth/verify',
      {
        schema: {
          summary: 'Exchange a sign-in code for a session token',
          tags: ['accounts'],
          body: {
            type: 'object',
            properties: {
              phone: { type: 'string', maxLength: 40 },
              code: { type: 'string', maxLength: 16, description: 'the six digits sent over WhatsApp' },
            },
            required: ['phone', 'code'],
          },
          response: {
            200: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'send as Authorization: Bearer <token>' },
                expires_at: { type: 'string', format: 'date-time' },
                account: accountSchema,
              },
              required: ['token', 'expires_at', 'account'],
            },
            400: errorBody,
            401: errorBody,
          },
        },
      },
      async (request) => {
        const body = request.body as { phone: string; code: string };
        const phone = await otp.verify(body.phone, body.code);
        const { account } = await accounts.findOrCreate(phone);
        const { token, session } = await accounts.createSession(account.id);
        return {
          token,
          expires_at: new Date(session.expiresAt).toISOString(),
          account: { id: account.id, phone: account.phone, roles: account.roles },
        };
      },
    );

    app.post(
      '/v1/auth/logout',
      {
        schema: {
          summary: 'Revoke the calling session',
          tags: ['accounts'],
          security: bearer,
          response: { 204: { type: 'null', description: 'revoked' }, 401: errorBody },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, node);
        await accounts.revokeSession(principal.accountId, principal.sessionId);
        return reply.status(204).send();
      },
    );

    app.get(
      '/v1/auth/sessions',
      {
        schema: {
          summary: 'Your sessions that still work',
          tags: ['accounts'],
          security: bearer,
          response: {
            200: {
              type: 'object',
              properties: { sessions: { type: 'array', items: sessionSchema } },
              required: ['sessions'],
            },
            401: errorBody,
          },
        },
      },
      async (request) => {
        const principal = await authenticate(request, node);
        const sessions = await accounts.listSessions(principal.accountId);
        return {
          sessions: sessions.map((session) => ({
            id: session.id,
            created_at: new Date(session.createdAt).toISOString(),
            expires_at: new Date(session.expiresAt).toISOString(),
            current: session.id === principal.sessionId,
          })),
        };
      },
    );

    app.delete(
      '/v1/auth/sessions/:id',
      {
        schema: {
          summary: 'Revoke one of your sessions',
          tags: ['accounts'],
          security: bearer,
          params: {
            type: 'object',
            properties: { id: { type: 'string', maxLength: 64 } },
            required: ['id'],
          },
          response: { 204: { type: 'null', description: 'revoked' }, 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, node);
        await accounts.revokeSession(principal.accountId, (request.params as { id: string }).id);
        return reply.status(204).send();
      },
    );

    app.get(
      '/v1/me',
      {
        schema: {
          summary: 'Your account and e-meterai quota',
          tags: ['accounts'],
          security: bearer,
          response: {
            200: {
              type: 'object',
              properties: {
                ...accountSchema.properties,
                quota: {
                  type: 'object',
                  properties: {
                    available: { type: 'integer', description: 'units you can stamp with now' },
                    pending: { type: 'integer', description: 'units reserved by stamps in progress' },
                  },
                  required: ['available', 'pending'],
                },
              },
              required: ['id', 'phone', 'roles', 'quota'],
            },
            401: errorBody,
          },
        },
      },
      async (request) => {
        const principal = await authenticate(request, node);
        const [quota] = await node.ledger.lookupAccounts([principal.quotaAccountId]);
        const pending = quota?.debitsPending ?? 0;
        const available = quota ? quota.creditsPosted - quota.debitsPosted - quota.debitsPending : 0;
        return {
          id: principal.accountId,
          phone: principal.phone,
          roles: principal.roles,
          quota: { available, pending },
        };
      },
    );
  };
}

export const accountRoutes = accountRoutesWith();

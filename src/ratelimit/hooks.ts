/**
 * The first door of every request (docs/overload.md, "Rate limits"): the client's own budgets, as token
 * buckets, decided before any other work and without a database lookup.
 *
 * - onRequest: the client address (an IPv6 /64) and, when the request carries a bearer token, that
 *   token's budget: an API key (`bbh_<id>_…`) by its id, a session token by a hash of the token (one
 *   session is one signed-in account). A program whose exact key already authenticated on this node
 *   skips the address budget (a reseller's server is one address) and keeps the key's own.
 * - preHandler on `POST /v1/auth/otp`: the normalised phone number (by its hash), so one number cannot
 *   be flooded with sign-in codes from many addresses.
 *
 * Routes the admission table calls `exempt` (health, metrics, static files, the waiting room) are not
 * limited. A refusal is 429 RATE_LIMITED with `Retry-After` in whole seconds (at least 1): the time
 * until the bucket holds the token the request needed.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { apiKeyStoreOf, bearerToken } from '../accounts/authenticate.js';
import { parseApiKey } from '../accounts/api-keys.js';
import { normalisePhone } from '../accounts/phone.js';
import { BubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { priorityOf } from '../overload/priority.js';
import type { Rule } from './bucket.js';
import { addressBucket, clientAddress } from './client-address.js';
import { type Backend, FallbackLimiter } from './fallback-limiter.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter } from './redis-limiter.js';

export type Scope = 'ip' | 'account' | 'api_key' | 'phone';

const scopeNames: Readonly<Record<Scope, { en: string; id: string }>> = {
  ip: { en: 'IP address', id: 'alamat IP' },
  account: { en: 'account', id: 'akun' },
  api_key: { en: 'API key', id: 'kunci API' },
  phone: { en: 'phone number', id: 'nomor telepon' },
};

export interface NodeRateLimits {
  readonly limiter: FallbackLimiter;
  readonly rules: Readonly<Record<Scope, Rule>>;
  /** Takes one token from the scope's bucket `key`, or throws RATE_LIMITED. */
  check(scope: Scope, key: string): Promise<void>;
}

const perNode = new WeakMap<BubuhNode, NodeRateLimits>();

/** The node's limiter and rules (one per node, shared by every app built on it). */
export function rateLimitsOf(node: BubuhNode): NodeRateLimits {
  const existing = perNode.get(node);
  if (existing) return existing;
  const { config, metrics, logger } = node;
  const rules: Record<Scope, Rule> = {
    ip: { capacity: config.rateIpBurst, refillPerHour: config.rateIpPerMinute * 60 },
    account: { capacity: config.rateAccountBurst, refillPerHour: config.rateAccountPerMinute * 60 },
    api_key: { capacity: config.rateApiKeyBurst, refillPerHour: config.rateApiKeyPerMinute * 60 },
    phone: { capacity: config.ratePhoneBurst, refillPerHour: config.ratePhonePerHour },
  };
  const link = node.redis;
  const limiter = new FallbackLimiter({
    memory: new MemoryLimiter({ clock: node.clock, keysMax: config.rateMemoryKeysMax }),
    // The Redis server's clock decides in production; a test node's injected clock decides in tests.
    redis: link
      ? {
          limiter: new RedisLimiter(link, node.clock === Date.now ? {} : { clock: node.clock }),
          ready: () => link.ready,
        }
      : null,
    timeoutMs: config.rateRedisTimeoutMs,
    logger,
  });
  const refused = new Counter({
    name: 'bubuh_ratelimit_refused_total',
    help: 'Requests refused with 429 RATE_LIMITED, by the budget that ran out (ip, account, api_key, phone).',
    labelNames: ['scope'] as const,
    registers: [metrics.registry],
  });
  for (const scope of Object.keys(scopeNames)) refused.inc({ scope }, 0);
  new Gauge({
    name: 'bubuh_ratelimit_backend',
    help: 'Where rate limits are decided now: 1 on the backend in use (redis, shared by every node; memory, this node alone).',
    labelNames: ['backend'] as const,
    registers: [metrics.registry],
    collect() {
      // A link that is not connected means memory for the next decision, even before one is made.
      const backend: Backend = link && !link.ready ? 'memory' : limiter.backend;
      this.set({ backend: 'redis' }, backend === 'redis' ? 1 : 0);
      this.set({ backend: 'memory' }, backend === 'memory' ? 1 : 0);
    },
  });
  const state: NodeRateLimits = {
    limiter,
    rules,
    async check(scope, key) {
      const decision = await limiter.take(`${scope}:${key}`, rules[scope]);
      if (decision.allowed) return;
      refused.inc({ scope });
      throw new BubuhError('RATE_LIMITED', {
        scope,
        scopeName: scopeNames[scope].en,
        scopeNameId: scopeNames[scope].id,
        retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
      });
    },
  };
  perNode.set(node, state);
  return state;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 32);
}

function isExempt(request: FastifyRequest): boolean {
  return priorityOf(request.method, request.routeOptions.url) === 'exempt';
}

export function rateLimitRoutes(app: FastifyInstance, node: BubuhNode): void {
  if (node.config.rateLimits === 'off') return;
  const limits = rateLimitsOf(node);
  const hops = node.config.trustProxyHops;

  app.addHook('onRequest', async (request) => {
    if (isExempt(request)) return;
    const token = bearerToken(request);
    const apiKey = token ? parseApiKey(token) : null;
    if (!(apiKey && token && apiKeyStoreOf(node).hasVerified(token))) {
      await limits.check('ip', addressBucket(clientAddress(request, hops)));
    }
    if (apiKey) await limits.check('api_key', apiKey.id);
    else if (token) await limits.check('account', tokenHash(token));
  });

  app.addHook('preHandler', async (request) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/v1/auth/otp') return;
    const phone = (request.body as { phone?: unknown } | undefined)?.phone;
    if (typeof phone !== 'string') return;
    let normalised: string;
    try {
      normalised = normalisePhone(phone);
    } catch {
      return; // the route refuses it with its own code
    }
    // Hashed like a token, so no phone number is written into Redis key names.
    await limits.check('phone', tokenHash(normalised));
  });
}

/**
 * The one door every authenticated route goes through: `authenticate(request, node)` turns
 * `Authorization: Bearer <token>` (a session token `bub_…` or an API key `bbh_…`) into a Principal, or
 * refuses with AUTH_REQUIRED (401) — the same code for a missing, malformed, unknown, expired or revoked
 * token, so a caller learns nothing about which.
 */
import type { FastifyRequest } from 'fastify';
import { BubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { ApiKeyStore, parseApiKey } from './api-keys.js';
import type { Principal } from './principal.js';
import { AccountStore } from './store.js';

const stores = new WeakMap<BubuhNode, AccountStore>();
const apiKeyStores = new WeakMap<BubuhNode, ApiKeyStore>();

/** The node's API key store (one per node, so what it remembers is shared by every app of the node). */
export function apiKeyStoreOf(node: BubuhNode): ApiKeyStore {
  let store = apiKeyStores.get(node);
  if (!store) {
    store = new ApiKeyStore(node.storage, node.clock);
    apiKeyStores.set(node, store);
  }
  return store;
}

/** The node's account store (one per node, built on first use from its configuration). */
export function accountStoreOf(node: BubuhNode): AccountStore {
  let store = stores.get(node);
  if (!store) {
    store = new AccountStore(node.storage, node.ledger, {
      clock: node.clock,
      sessionLifetimeMs: (node.config.sessionLifetimeSeconds ?? 30 * 24 * 3600) * 1000,
    });
    stores.set(node, store);
  }
  return store;
}

/** The bearer token of a request, or null. */
export function bearerToken(request: Pick<FastifyRequest, 'headers'>): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer +(\S{1,512})\s*$/i.exec(header);
  return match ? match[1]! : null;
}

export async function authenticate(
  request: Pick<FastifyRequest, 'headers'>,
  node: BubuhNode,
): Promise<Principal> {
  const token = bearerToken(request);
  // An API key (`bbh_…`) and a session token (`bub_…`) cannot be mistaken for one another.
  const principal = !token
    ? null
    : parseApiKey(token)
      ? await apiKeyStoreOf(node).principalOf(token)
      : await accountStoreOf(node).principalOf(token);
  if (!principal) throw new BubuhError('AUTH_REQUIRED');
  return principal;
}

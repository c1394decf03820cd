/**
 * The Node HTTP server's own limits, from the connections settings, given to Fastify where the server
 * is created (src/http/app.ts), so `bubuh serve` and every test that listens get the same ones:
 *
 * - headersTimeout: a client still sending its headers after this long is answered 408 and cut off
 *   (slowloris). Node checks every `connectionsCheckingInterval`, so that interval is a quarter of the
 *   headers timeout (at most 5 s): a trickling client is cut between 1× and 1.25× the timeout.
 * - requestTimeout: the same for the whole request, body included (never shorter than the headers').
 * - keepAliveTimeout: an idle keep-alive connection is closed.
 * - bodyLimit: the largest body of a route that sets none of its own; Fastify refuses a larger
 *   Content-Length before reading and cuts a chunked body at the limit.
 *
 * maxConnections is a property of the listening server, set by `connectionRoutes` (hooks.ts).
 */
import type { ServerOptions } from 'node:http';
import type { ConnectionsConfig } from './settings.js';

export interface ServerLimits {
  readonly bodyLimit: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly http: ServerOptions;
}

/** How often Node looks for connections past their headers or request timeout, in ms. */
export function connectionsCheckingIntervalMs(headersTimeoutMs: number): number {
  return Math.max(25, Math.min(5000, Math.floor(headersTimeoutMs / 4)));
}

/** The Fastify options that carry the server limits; `bodyBytesMax` overrides the setting (tests). */
export function serverLimits(config: ConnectionsConfig, bodyBytesMax?: number): ServerLimits {
  // Node refuses a headers timeout longer than the request timeout.
  const requestTimeout = Math.max(config.requestTimeoutMs, config.headersTimeoutMs);
  return {
    bodyLimit: bodyBytesMax ?? config.bodyBytesMax,
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(config.headersTimeoutMs),
    },
  };
}

/**
 * Connection hygiene against cheap attacks (docs/overload.md, "Connections and uploads"), the second
 * door of every request, after the client's rate limits:
 *
 * - The server's timeouts (headers, whole request, keep-alive) are given where Fastify creates the
 *   server (server.ts); here the listening server gets `maxConnections` (a socket beyond it is closed
 *   at once, Node's `drop`), and the open connections are counted.
 * - onRequest: a Content-Length above the route's body limit is refused 413 BODY_TOO_LARGE before a
 *   byte of the body is read. On an upload route (any route that consumes multipart/form-data: stamp,
 *   batch, verify) the client address (an IPv6 /64, src/ratelimit/client-address.ts) takes one of its
 *   BUBUH_UPLOADS_PER_IP slots, or is refused 429 UPLOADS_IN_PROGRESS with Retry-After.
 * - preHandler (upload routes, before the handler reads the body): a request whose bearer token
 *   authenticates takes one of its account's BUBUH_STAMP_UPLOADS_PER_ACCOUNT slots, or is refused the
 *   same way. (The stamp service keeps its own count of stamps in progress with the same setting, which
 *   also covers the stamps of the account's background batches.)
 * - A slot is released exactly once, when the response closes: sent, aborted or failed.
 * - onSend: a refusal sent before the body was read closes the connection, so the rest of the body is
 *   never read (a chunked body over the limit is cut where Fastify or the multipart reader stopped it).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { authenticate, bearerToken } from '../accounts/authenticate.js';
import { BubuhError, isBubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { addressBucket, clientAddress } from '../ratelimit/client-address.js';

/** Seconds a refused upload is told to wait: an upload in progress usually ends within a few. */
export const uploadRetryAfterSeconds = 2;

export const refusalReasons = [
  'max_connections',
  'request_timeout',
  'body_too_large',
  'file_too_large',
  'uploads_per_ip',
  'uploads_per_account',
] as const;

export type RefusalReason = (typeof refusalReasons)[number];

interface ConnectionState {
  open: number;
  uploads: number;
  readonly byAddress: Map<string, number>;
  readonly byAccount: Map<string, number>;
  readonly refusals: Counter<'reason'>;
}

const states = new WeakMap<BubuhNode, ConnectionState>();

/** The node's connection and upload counts (one per node, whatever number of apps it serves). */
export function connectionStateOf(node: BubuhNode): ConnectionState {
  const state = states.get(node);
  if (state) return state;
  const refusals = new Counter({
    name: 'bubuh_connection_refusals_total',
    help: 'Connections and requests refused by the connection limits, by reason.',
    labelNames: ['reason'] as const,
    registers: [node.metrics.registry],
  });
  // Every reason reads 0 from the start, so a dashboard sees the series before the first refusal.
  for (const reason of refusalReasons) refusals.inc({ reason }, 0);
  const created: ConnectionState = {
    open: 0,
    uploads: 0,
    byAddress: new Map(),
    byAccount: new Map(),
    refusals,
  };
  node.metrics.gauge('bubuh_connections_open', 'Open client connections of this node.', () => created.open);
  node.metrics.gauge(
    'bubuh_uploads_in_progress',
    'Uploads (stamp, batch, verify) in progress on this node.',
    () => created.uploads,
  );
  states.set(node, created);
  return created;
}

/** The client key of an address: an IPv4 address as it is, an IPv6 address as its /64. */
export { addressBucket as clientKey } from '../ratelimit/client-address.js';

/** An upload route: one that reads a multipart/form-data body. */
export function isUploadRoute(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema as { consumes?: readonly string[] } | undefined;
  return schema?.consumes?.includes('multipart/form-data') ?? false;
}

/**
 * Fastify's own body-size refusal (a chunked body that streamed past the route's limit, or a
 * Content-Length above it that reached the parser) as BODY_TOO_LARGE; null for any other error.
 */
export function bodyRefusal(error: unknown, request: FastifyRequest): BubuhError | null {
  const code = (error as { code?: string }).code;
  if (code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return null;
  return new BubuhError('BODY_TOO_LARGE', { limitBytes: request.routeOptions.bodyLimit });
}

function take(counts: Map<string, number>, key: string, limit: number): boolean {
  const current = counts.get(key) ?? 0;
  if (current >= limit) return false;
  counts.set(key, current + 1);
  return true;
}

function give(counts: Map<string, number>, key: string): void {
  const current = counts.get(key) ?? 0;
  if (current <= 1) counts.delete(key);
  else counts.set(key, current - 1);
}

/** Calls `release` once, when the response closes (sent, aborted by the client, or failed). */
function onceClosed(reply: FastifyReply, release: () => void): void {
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  if (reply.raw.closed || reply.raw.destroyed) once();
  else reply.raw.once('close', once);
}

function watchServer(server: Server, state: ConnectionState, maxConnections: number): void {
  server.maxConnections = maxConnections;
  server.on('connection', (socket: Socket) => {
    state.open += 1;
    socket.once('close', () => {
      state.open -= 1;
    });
  });
  // Node closes a socket beyond maxConnections at once and says so with `drop` (Node ≥ 18.6).
  server.on('drop', () => state.refusals.inc({ reason: 'max_connections' }));
  // Headers or request timeout: Node reports it here; Fastify's own listener answers 408.
  server.on('clientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') state.refusals.inc({ reason: 'request_timeout' });
  });
}

function declaredLength(request: FastifyRequest): number | null {
  const header = request.headers['content-length'];
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return null;
  return Number(header);
}

export function connectionRoutes(app: FastifyInstance, node: BubuhNode): void {
  const config = node.config;
  const state = connectionStateOf(node);
  watchServer(app.server, state, config.maxConnections);
  const hops = config.trustProxyHops;

  const refuse = (reason: RefusalReason, error: BubuhError): never => {
    state.refusals.inc({ reason });
    throw error;
  };

  app.addHook('onRequest', async (request, reply) => {
    const length = declaredLength(request);
    const limit = request.routeOptions.bodyLimit;
    if (length !== null && length > limit) {
      // statusCode too, so a scope that answers 413 in its own protocol (POST /tsa) recognises it.
      const error = Object.assign(new BubuhError('BODY_TOO_LARGE', { limitBytes: limit }), {
        statusCode: 413,
      });
      refuse('body_too_large', error);
    }
    if (!isUploadRoute(request)) return;
    const address = addressBucket(clientAddress(request, hops));
    if (!take(state.byAddress, address, config.uploadsPerIp)) {
      refuse(
        'uploads_per_ip',
        new BubuhError('UPLOADS_IN_PROGRESS', {
          scope: 'address',
          limit: config.uploadsPerIp,
          retryAfterSeconds: uploadRetryAfterSeconds,
        }),
      );
    }
    state.uploads += 1;
    onceClosed(reply, () => {
      give(state.byAddress, address);
      state.uploads -= 1;
    });
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!isUploadRoute(request) || bearerToken(request) === null) return;
    let accountId: string;
    try {
      accountId = (await authenticate(request, node)).accountId;
    } catch (error) {
      if (isBubuhError(error) && error.code === 'AUTH_REQUIRED') return; // the route answers for itself
      throw error;
    }
    if (!take(state.byAccount, accountId, config.stampUploadsPerAccount)) {
      refuse(
        'uploads_per_account',
        new BubuhError('UPLOADS_IN_PROGRESS', {
          scope: 'account',
          limit: config.stampUploadsPerAccount,
          retryAfterSeconds: uploadRetryAfterSeconds,
        }),
      );
    }
    onceClosed(reply, () => give(state.byAccount, accountId));
  });

  app.addHook('onError', async (_request, _reply, error) => {
    const code = isBubuhError(error) ? error.code : (error as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') state.refusals.inc({ reason: 'body_too_large' });
    else if (code === 'STAMP_FILE_TOO_LARGE') state.refusals.inc({ reason: 'file_too_large' });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    // A refusal before the whole body arrived: close, so the rest of the body is never read.
    // (`complete` is false on a real socket until the body ended; injected requests have none.)
    if (reply.statusCode >= 400 && request.raw.complete === false) reply.header('connection', 'close');
    return payload;
  });
}

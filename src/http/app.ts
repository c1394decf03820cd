/**
 * Builds the HTTP application without listening (STYLE: Fastify). Tests call `app.inject()`; `bubuh
 * serve` calls `listen`. Every error leaves as the registry's JSON body with a stable code.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import { BubuhError, isBubuhError } from '../errors.js';
import type { BubuhNode } from '../node.js';
import { pingStorage } from '../storage/database.js';
import { registerOpenApi } from './openapi.js';
import { routeModules } from './routes/index.js';
import { bodyRefusal } from '../connections/hooks.js';
import { serverLimits } from '../connections/server.js';
import { createServer } from 'node:http';
import { admissionOf } from '../overload/hooks.js';
import { fastRefusal } from '../overload/fast-refusal.js';

export interface AppOptions {
  /** Largest request body in bytes (default BUBUH_BODY_BYTES_MAX). */
  readonly bodyBytesMax?: number;
  /** Called for every route as it is added (the OpenAPI test lists them this way). */
  readonly onRoute?: (route: RouteOptions) => void;
  /** True while the node drains before it stops (src/cluster/drain.ts): /readyz then answers 503. */
  readonly draining?: () => boolean;
}

function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : randomUUID();
}

export async function buildApp(node: BubuhNode, options: AppOptions = {}): Promise<FastifyInstance> {
  const limits = serverLimits(node.config, options.bodyBytesMax);
  const refuseEarly = fastRefusal(admissionOf(node));
  const app = Fastify({
    loggerInstance: node.logger as FastifyBaseLogger,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    // Body limit and the server's timeouts (slowloris), from the connections settings.
    ...limits,
    // The server Fastify would make, with the event-loop guard's refusals in front of the router
    // (src/overload/fast-refusal.ts).
    serverFactory: (handler) => {
      const server = createServer(limits.http, (request, response) => {
        if (!refuseEarly(request, response)) handler(request, response);
      });
      server.keepAliveTimeout = limits.keepAliveTimeout;
      server.requestTimeout = limits.requestTimeout;
      return server;
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error, request, reply) => {
    if (isBubuhError(error)) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(error.status).send(error.toBody());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const refusal =
        bodyRefusal(error, request) ??
        new BubuhError('REQUEST_INVALID', { problem: (error as Error).message });
      return reply.status(status).send(refusal.toBody());
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(new BubuhError('INTERNAL', { requestId: request.id }).toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    return reply.status(404).send(new BubuhError('NOT_FOUND', { path }).toBody());
  });

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  // Before any route: the OpenAPI plugin only describes routes added after it.
  await registerOpenApi(app, '0.1.0');

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['meta'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database answers',
        tags: ['meta'],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              storage: { type: 'string' },
              ledger_queue_depth: { type: 'integer' },
            },
          },
        },
      },
    },
    async () => {
      if (options.draining?.()) throw new BubuhError('CLUSTER_DRAINING', { node: node.config.nodeId });
      if (!(await pingStorage(node.storage))) {
        throw new BubuhError('NOT_READY', { problem: 'the database does not answer' });
      }
      return { status: 'ready', storage: node.storage.dialect, ledger_queue_depth: node.ledger.queueDepth };
    },
  );

  for (const register of routeModules) await register(app, node);

  return app;
}

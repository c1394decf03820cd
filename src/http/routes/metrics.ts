/** `GET /metrics`: the node's Prometheus metrics, optionally behind a bearer token. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { BubuhError } from '../../errors.js';
import type { BubuhNode } from '../../node.js';

function sameSecret(given: string, expected: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function metricsRoutes(app: FastifyInstance, node: BubuhNode): void {
  node.metrics.gauge(
    'bubuh_ledger_queue_depth',
    'Transfers waiting for a ledger commit.',
    () => node.ledger.queueDepth,
  );
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this node',
        produces: ['text/plain'],
      },
    },
    async (request, reply) => {
      const token = node.config.metricsToken;
      if (token !== undefined) {
        const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
        if (!match || !sameSecret(match[1]!, token)) throw new BubuhError('AUTH_REQUIRED');
      }
      reply.header('content-type', node.metrics.registry.contentType);
      reply.header('cache-control', 'no-store');
      return node.metrics.registry.metrics();
    },
  );
}

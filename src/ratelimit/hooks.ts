/** Placeholder: to be written. */
import type { FastifyInstance } from 'fastify';
import type { BubuhNode } from '../node.js';

export function rateLimitRoutes(_app: FastifyInstance, _node: BubuhNode): void {}

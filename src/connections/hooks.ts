/** Placeholder: to be written. */
import type { FastifyInstance } from 'fastify';
import type { BubuhNode } from '../node.js';

export function connectionRoutes(_app: FastifyInstance, _node: BubuhNode): void {}

/** Placeholder: to be written. */
import type { FastifyInstance } from 'fastify';
import type { BubuhNode } from '../node.js';

export function admissionRoutes(_app: FastifyInstance, _node: BubuhNode): void {}

/**
 * Every HTTP route module, in registration order. A module is a function that adds its routes (and
 * any `onClose` hooks for the background jobs it starts) to the Fastify app; it builds the services it
 * needs from the node. Adding a module here is the only change `buildApp` needs.
 */
import type { FastifyInstance } from 'fastify';
import type { BubuhNode } from '../../node.js';
import { accountRoutes } from '../../accounts/routes.js';
import { idempotencySweeper } from '../idempotency.js';
import { commerceRoutes } from '../../commerce/routes.js';
import { pkiRoutes } from './pki.js';
import { stampRoutes } from '../../stamps/routes.js';
import { metricsRoutes } from './metrics.js';
import { webRoutes } from './web.js';
import { tsaRoutes } from './tsa.js';

export type RouteModule = (app: FastifyInstance, node: BubuhNode) => Promise<void> | void;

export const routeModules: readonly RouteModule[] = [
  accountRoutes,
  idempotencySweeper,
  webRoutes,
  pkiRoutes,
  stampRoutes,
  metricsRoutes,
  commerceRoutes,
  tsaRoutes,
];

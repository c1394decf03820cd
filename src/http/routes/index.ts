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
import { rateLimitRoutes } from '../../ratelimit/hooks.js';
import { connectionRoutes } from '../../connections/hooks.js';
import { waitingRoomRoutes } from '../../waiting-room/routes.js';
import { admissionRoutes } from '../../overload/hooks.js';
import { devRoutes } from '../../web/dev-routes.js';
import { operatorDashboardRoutes } from '../../web/operator-dashboard.js';

export type RouteModule = (app: FastifyInstance, node: BubuhNode) => Promise<void> | void;

// The first four add the onRequest hooks that decide admission before any work, in this order: the
// client's own rate limits (429), its concurrent uploads, the waiting room, then the node's overload
// admission by priority class (503). Every later module's routes pass through them.
export const routeModules: readonly RouteModule[] = [
  rateLimitRoutes,
  connectionRoutes,
  waitingRoomRoutes,
  admissionRoutes,
  accountRoutes,
  idempotencySweeper,
  webRoutes,
  pkiRoutes,
  stampRoutes,
  metricsRoutes,
  commerceRoutes,
  tsaRoutes,
  devRoutes,
  operatorDashboardRoutes,
];

/**
 * The priority class of every route (DESIGN §8): under pressure the admission layer refuses the
 * lower classes first. One table, keyed by Fastify's route pattern, so a reader sees every decision in
 * one place and a test fails when a route is added without one.
 *
 * 1 finishing — work that completes something already paid or promised: payment notifications,
 *   downloads of stamped files and results, receipts, order status after paying, sign-out.
 * 2 stamp — stamps paid from held quota, and the owner's own history and balance.
 * 3 verify — verification of documents and serials.
 * 4 order — new orders and refund requests.
 * 5 signup — sign-in codes, sign-in, session management.
 * exempt — cheap, bounded answers that must stay up for the rest to work: health, metrics, the API
 *   description, the PKI files, static pages and assets, the waiting room, the sandbox gateway (an
 *   external service in production). Rate limits still apply to them.
 */
export type PriorityClass = 'finishing' | 'stamp' | 'verify' | 'order' | 'signup';
export type Priority = PriorityClass | 'exempt';

/** Highest first. */
export const PRIORITY_CLASSES: readonly PriorityClass[] = ['finishing', 'stamp', 'verify', 'order', 'signup'];

/** 1 for finishing … 5 for signup, as DESIGN §8 numbers them. */
export function rankOf(priority: PriorityClass): number {
  return PRIORITY_CLASSES.indexOf(priority) + 1;
}

const table: Readonly<Record<string, Priority>> = {
  'POST /v1/payments/notifications': 'finishing',
  'GET /v1/stamps/:id/file': 'finishing',
  'GET /v1/batches/:id/results.zip': 'finishing',
  'GET /v1/orders/:id': 'finishing',
  'GET /v1/orders/:id/receipt': 'finishing',
  'GET /v1/refunds/:id': 'finishing',
  'POST /v1/auth/logout': 'finishing',

  'POST /v1/stamps': 'stamp',
  'GET /v1/stamps': 'stamp',
  'GET /v1/stamps/:id': 'stamp',
  'POST /v1/batches': 'stamp',
  'GET /v1/batches/:id': 'stamp',
  'GET /v1/doc-types': 'stamp',
  'GET /v1/me': 'stamp',

  'POST /v1/verify': 'verify',
  'GET /v1/serials/:serial': 'verify',
  'GET /s/:serial': 'verify',
  'POST /tsa': 'verify',

  'POST /v1/orders': 'order',
  'GET /v1/orders': 'order',
  'POST /v1/refunds': 'order',

  'POST /v1/auth/otp': 'signup',
  'POST /v1/auth/verify': 'signup',
  'GET /v1/auth/sessions': 'signup',
  'DELETE /v1/auth/sessions/:id': 'signup',
  // Development only (src/web/dev-routes.ts): the sign-in code the file channel wrote.
  'GET /v1/dev/outbox/latest': 'signup',

  // The operator dashboard's figures (src/web/operator-dashboard.ts): a few cheap reads every two seconds
  // by a handful of operators, who need them most while the node sheds load; kept with the verifications
  // rather than as exempt because it reads the database.
  'GET /v1/operator/dashboard': 'verify',
};

const exemptPrefixes = ['/pki/', '/assets/', '/sandbox/', '/v1/waiting-room', '/app'];
const exemptExact = new Set(['/', '/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/verify']);

/**
 * The class of a request from its method and route pattern (`request.routeOptions.url`); a request
 * that matched no route is `signup`, the first to be refused, since it can only end in a 404.
 */
export function priorityOf(method: string, routePattern: string | undefined): Priority {
  if (routePattern === undefined) return 'signup';
  const listed = table[`${method === 'HEAD' ? 'GET' : method} ${routePattern}`];
  if (listed) return listed;
  if (exemptExact.has(routePattern)) return 'exempt';
  for (const prefix of exemptPrefixes) if (routePattern.startsWith(prefix)) return 'exempt';
  return 'signup';
}

/** Every `METHOD /pattern` of the table with its class. */
export function classifiedRouteEntries(): readonly (readonly [string, PriorityClass])[] {
  return Object.entries(table).filter((entry): entry is [string, PriorityClass] => entry[1] !== 'exempt');
}

/** Every route pattern the table names, for the test that checks each route has a deliberate class. */
export function classifiedRoutes(): readonly string[] {
  return Object.keys(table);
}

/**
 * The event-loop guard's refusals, written before the router. While the guard refuses part of a
 * class (event-loop-guard.ts), the node is short of main-thread time, and a refusal that goes through
 * Fastify — request and reply objects, the earlier doors, the hooks, serialisation — costs several
 * times what Node's HTTP layer alone does. So the raw request is classified here from its method and
 * path (the same table, `priority.ts`), drawn once, and a refused one is answered at once with the
 * same 503 `OVERLOADED` body and `Retry-After`; everything else goes on to Fastify untouched (marked as
 * drawn, so admission does not draw again). While the guard is idle this is one boolean test.
 *
 * Refused here, a request skips the rate limits, the upload counts and the waiting room: its answer is
 * the node's overload, not the client's own limit, and both are honest refusals with Retry-After.
 * A refused request with a large or streamed body gets `Connection: close`, so its body is never read;
 * a small one (a sign-in form) keeps its connection and Node discards the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Admission } from './hooks.js';
import { classifiedRouteEntries, PRIORITY_CLASSES } from './priority.js';

/** Marks a raw request whose busy draw was made here. */
export const BUSY_DRAWN = Symbol('bubuh.busyDrawn');

/** Bodies larger than this (or of unknown length) close the connection after a fast refusal. */
const keepAliveBodyMax = 64 * 1024;

interface Route {
  readonly segments: readonly string[];
  readonly classIndex: number;
}

/** The routes of the classes the guard may refuse, by method, as path segments (`:x` matches any). */
function refusableRoutes(): Map<string, Route[]> {
  const refusable = new Set(['verify', 'order', 'signup']);
  const byMethod = new Map<string, Route[]>();
  for (const [key, priority] of classifiedRouteEntries()) {
    if (!refusable.has(priority)) continue;
    const [method, pattern] = key.split(' ') as [string, string];
    const routes = byMethod.get(method) ?? [];
    routes.push({ segments: pattern.split('/'), classIndex: PRIORITY_CLASSES.indexOf(priority) });
    byMethod.set(method, routes);
  }
  return byMethod;
}

function classOf(routes: Map<string, Route[]>, method: string, url: string): number {
  const candidates = routes.get(method === 'HEAD' ? 'GET' : method);
  if (candidates === undefined) return -1;
  const query = url.indexOf('?');
  const segments = (query < 0 ? url : url.slice(0, query)).split('/');
  for (const route of candidates) {
    if (route.segments.length !== segments.length) continue;
    let matched = true;
    for (let index = 0; index < segments.length && matched; index += 1) {
      const expected = route.segments[index]!;
      matched = expected.startsWith(':') ? segments[index]!.length > 0 : expected === segments[index];
    }
    if (matched) return route.classIndex;
  }
  return -1;
}

/** Returns a check that answers a request itself (true) or leaves it to Fastify (false). */
export function fastRefusal(
  admission: Admission,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const routes = refusableRoutes();
  return (request, response) => {
    if (!admission.queue.refusingAsBusy) return false;
    const classIndex = classOf(routes, request.method ?? 'GET', request.url ?? '/');
    if (classIndex < 0) return false;
    const refused = admission.queue.drawBusy(classIndex);
    if (refused === null) return false;
    if (!refused) {
      (request as IncomingMessage & { [BUSY_DRAWN]?: true })[BUSY_DRAWN] = true;
      return false;
    }
    const retryAfterSeconds = admission.queue.retryAfterSeconds();
    const body = admission.refusalBody(retryAfterSeconds);
    const length = Number(request.headers['content-length'] ?? 0);
    const close = request.headers['transfer-encoding'] !== undefined || !(length <= keepAliveBodyMax);
    response.writeHead(503, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': String(retryAfterSeconds),
      ...(close ? { connection: 'close' } : {}),
    });
    response.end(body);
    return true;
  };
}

/** Whether `fastRefusal` already made this request's busy draw (and let it through). */
export function busyDrawn(request: IncomingMessage): boolean {
  return (request as IncomingMessage & { [BUSY_DRAWN]?: true })[BUSY_DRAWN] === true;
}

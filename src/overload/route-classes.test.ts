/**
 * Every route the app registers has a deliberate priority class: it is named in the table of
 * `priority.ts` or falls under one of its exempt paths. A new route that nobody classified would fall
 * to `signup`, the first class refused under load, so this test makes the choice explicit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { openTestNode } from '../accounts/test-node.js';
import { buildApp } from '../http/app.js';
import { disposeBackend, openFreshBackend } from '../testing/backends.js';
import { classifiedRoutes, priorityOf } from './priority.js';

test('every registered route is classified on purpose, and the table names no route that does not exist', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  const node = await openTestNode(backend);
  const routes: string[] = [];
  const app = await buildApp(node, {
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat())
        if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
    },
  });
  try {
    const listed = new Set(classifiedRoutes());
    const unclassified = routes.filter((route) => {
      const [method, url] = route.split(' ') as [string, string];
      return !listed.has(route) && priorityOf(method, url) !== 'exempt';
    });
    assert.deepEqual(
      unclassified,
      [],
      'routes without a deliberate class (add them to src/overload/priority.ts)',
    );
    const registered = new Set(routes);
    const stale = [...listed].filter((route) => !registered.has(route));
    assert.deepEqual(stale, [], 'routes the table names but the app does not register');
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
  }
});

test('the class of a route follows DESIGN §8, and a request that matched no route is refused first', () => {
  assert.equal(priorityOf('POST', '/v1/payments/notifications'), 'finishing');
  assert.equal(priorityOf('GET', '/v1/stamps/:id/file'), 'finishing');
  assert.equal(priorityOf('HEAD', '/v1/stamps/:id/file'), 'finishing');
  assert.equal(priorityOf('POST', '/v1/stamps'), 'stamp');
  assert.equal(priorityOf('POST', '/v1/verify'), 'verify');
  assert.equal(priorityOf('POST', '/v1/orders'), 'order');
  assert.equal(priorityOf('POST', '/v1/auth/otp'), 'signup');
  assert.equal(priorityOf('GET', '/healthz'), 'exempt');
  assert.equal(priorityOf('GET', '/assets/*'), 'exempt');
  assert.equal(priorityOf('GET', undefined), 'signup');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { openTestNode } from '../accounts/test-node.js';
import { disposeBackend, openFreshBackend } from '../testing/backends.js';
import { buildApp } from './app.js';

/**
 * Routes that cannot be described in OpenAPI, each with its reason. Everything else the app registers
 * must appear in /openapi.json with its method; a new route without a schema fails this test.
 */
const undocumented: ReadonlyArray<{ method: string; url: string; why: string }> = [
  // Fastify adds a HEAD twin for every GET route (exposeHeadRoutes); the GET is what is documented.
  { method: 'HEAD', url: '*', why: 'automatic HEAD twins of GET routes' },
  // The web interface's built files (@fastify/static): file names, not an API.
  { method: 'GET', url: '/assets/*', why: 'static files of the web interface' },
];

function isExcluded(method: string, url: string): boolean {
  return undocumented.some((entry) => entry.method === method && (entry.url === '*' || entry.url === url));
}

/** Fastify's `/a/:id` as OpenAPI's `/a/{id}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

test('every route the app registers is in /openapi.json with its method', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  const node = await openTestNode(backend);
  const routes: Array<{ method: string; url: string }> = [];
  const app = await buildApp(node, {
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    },
  });
  try {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json() as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
    };
    assert.match(document.openapi, /^3\.\d+\.\d+$/);
    assert.equal(document.info.title, 'bubuh');
    for (const expected of [
      ['post', '/v1/auth/otp'],
      ['post', '/v1/auth/verify'],
      ['post', '/v1/auth/logout'],
      ['get', '/v1/auth/sessions'],
      ['delete', '/v1/auth/sessions/{id}'],
      ['get', '/v1/me'],
      ['get', '/openapi.json'],
      ['get', '/healthz'],
      ['get', '/readyz'],
    ] as const) {
      assert.ok(document.paths[expected[1]]?.[expected[0]], `${expected[0]} ${expected[1]} is documented`);
    }
    const missing = routes
      .filter((route) => !isExcluded(route.method, route.url))
      .filter((route) => !document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()])
      .map((route) => `${route.method} ${route.url}`);
    assert.deepEqual(missing, [], 'routes without an OpenAPI description (declare a schema)');
    assert.ok(routes.length >= 9);

    // The same description for people: every operation listed, and nothing that runs script.
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(docs.statusCode, 200);
    assert.equal(docs.headers['content-type'], 'text/html; charset=utf-8');
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        const row = `<code>${method.toUpperCase()}</code></td><td><code>${path.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</code>`;
        assert.ok(docs.body.includes(row), `${method} ${path} is on /docs`);
      }
    }
    assert.doesNotMatch(docs.body, /<script/i);
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
  }
});

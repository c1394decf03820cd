/**
 * The web route module: the page is revalidated on every visit and carries the strict CSP, hashed
 * assets are immutable for a year and sent precompressed, `/` leads to the page, and a build without the
 * web step answers 503 WEB_NOT_BUILT (a page for browsers, the registry's JSON otherwise) after one
 * warning in the log.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import { loadConfig } from '../../config.js';
import { isBubuhError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { createNode } from '../../node.js';
import type { BubuhNode } from '../../node.js';
import { buildApp } from '../app.js';
import {
  appContentSecurityPolicy,
  pageContentSecurityPolicy,
  verifyPageFile,
  webDirectory,
  webRoutesFrom,
} from './web.js';

test('the page and its hashed assets carry their caching and security headers', async (t) => {
  const directory = webDirectory();
  if (!existsSync(join(directory, verifyPageFile))) {
    t.skip(`skipped: the web front end is not built (no ${verifyPageFile} in the build's web directory)`);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-web-routes-'));
  const node = await createNode(loadConfig({}, { BUBUH_DATA_DIR: dataDir }), createLogger('silent'));
  const app = await buildApp(node);
  try {
    const root = await app.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/app');

    const page = await app.inject({ method: 'GET', url: '/verify' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['content-security-policy'], pageContentSecurityPolicy);
    assert.equal(
      pageContentSecurityPolicy,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; " +
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'; " +
        "require-trusted-types-for 'script'; trusted-types 'none'",
    );
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(page.body, /Berkas tidak dikirim ke mana pun — diperiksa di perangkat Anda\./);
    const etag = String(page.headers.etag);
    const again = await app.inject({ method: 'GET', url: '/verify', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');

    const referenced = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    const assets = (await readdir(join(directory, 'assets'))).filter((name) => !/\.(gz|br)$/.test(name));
    const built = assets.filter((name) => name.startsWith('verify-'));
    assert.deepEqual(referenced.map((path) => path.slice('/assets/'.length)).sort(), built.sort());
    for (const path of referenced) {
      assert.match(path, /^\/assets\/verify-[A-Za-z0-9_-]{8}\.(js|css)$/);
      const plain = await app.inject({ method: 'GET', url: path });
      assert.equal(plain.statusCode, 200, path);
      assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(plain.headers['x-content-type-options'], 'nosniff');
      assert.equal(plain.headers['content-encoding'], undefined);
      const compressed = await app.inject({
        method: 'GET',
        url: path,
        headers: { 'accept-encoding': 'gzip, deflate, br' },
      });
      assert.equal(compressed.statusCode, 200, path);
      assert.equal(compressed.headers['content-encoding'], 'br');
      assert.equal(compressed.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.ok(compressed.rawPayload.length < plain.rawPayload.length);
    }
    // The app: one page for /app and every client route under it, with its own policy.
    const appPage = await app.inject({ method: 'GET', url: '/app' });
    assert.equal(appPage.statusCode, 200);
    assert.equal(appPage.headers['cache-control'], 'no-cache');
    assert.equal(appPage.headers['content-security-policy'], appContentSecurityPolicy);
    assert.equal(
      appContentSecurityPolicy,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; " +
        "worker-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'; " +
        "require-trusted-types-for 'script'; trusted-types bubuh-pdf-worker",
    );
    assert.doesNotMatch(appPage.body, /<script(?![^>]*\ssrc=)/);
    for (const route of ['/app/stamp', '/app/orders/ord-1', '/app/history', '/app/queue']) {
      const same = await app.inject({ method: 'GET', url: route });
      assert.equal(same.statusCode, 200, route);
      assert.equal(same.body, appPage.body, route);
      assert.equal(same.headers.etag, appPage.headers.etag, route);
    }
    const appReferenced = [...appPage.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(
      (match) => match[1]!,
    );
    assert.deepEqual(appReferenced.map((path) => path.replace(/-[A-Za-z0-9_-]{8}\./, '-*.')).sort(), [
      '/assets/app-*.css',
      '/assets/app-*.js',
    ]);
    const worker = assets.find((name) => /^pdf\.worker\.min-[A-Za-z0-9_-]{8}\.mjs$/.test(name));
    assert.ok(worker, 'the PDF worker is a hashed asset');
    const workerReply = await app.inject({ method: 'GET', url: `/assets/${worker}` });
    assert.equal(workerReply.statusCode, 200);
    assert.match(String(workerReply.headers['content-type']), /^(text|application)\/javascript/);
    assert.equal(workerReply.headers['cache-control'], 'public, max-age=31536000, immutable');

    const missing = await app.inject({ method: 'GET', url: '/assets/nothing-here.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'NOT_FOUND');
  } finally {
    await app.close();
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('without a web build the node starts, warns once and answers 503 WEB_NOT_BUILT', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'bubuh-web-missing-'));
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  const app = Fastify();
  // The application's error handler, reduced to the part this module relies on.
  app.setErrorHandler((error, _request, reply) => {
    if (!isBubuhError(error)) throw error;
    return reply.status(error.status).send(error.toBody());
  });
  try {
    await webRoutesFrom(join(empty, 'web'))(app, { logger } as unknown as BubuhNode);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    assert.deepEqual(
      warnings.map((line) => [line.level, line.msg]),
      [
        [
          40,
          'web: the browser front end is not built (npm run build); /app, /verify and /assets/ answer 503 WEB_NOT_BUILT',
        ],
      ],
    );
    const json = await app.inject({ method: 'GET', url: '/verify' });
    assert.equal(json.statusCode, 503);
    assert.deepEqual(json.json(), {
      error: {
        code: 'WEB_NOT_BUILT',
        message:
          'The web pages are not available on this server because they were not built. The server operator needs to run `npm run build` and restart the service.',
        message_id:
          'Halaman web belum tersedia di server ini karena belum dibangun. Pengelola server perlu menjalankan `npm run build` lalu menjalankan ulang layanan.',
        details: {},
      },
    });
    const html = await app.inject({
      method: 'GET',
      url: '/verify',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    assert.equal(html.statusCode, 503);
    assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(html.headers['cache-control'], 'no-store');
    assert.equal(html.headers['content-security-policy'], "default-src 'none'");
    assert.match(html.body, /<h1>WEB_NOT_BUILT<\/h1><p>Halaman web belum tersedia di server ini/);
    for (const route of ['/app', '/app/stamp']) {
      const appRefused = await app.inject({ method: 'GET', url: route });
      assert.equal(appRefused.statusCode, 503, route);
      assert.equal(appRefused.json().error.code, 'WEB_NOT_BUILT', route);
    }
    const asset = await app.inject({ method: 'GET', url: '/assets/verify-abcdefgh.js' });
    assert.equal(asset.statusCode, 503);
    assert.equal(asset.json().error.code, 'WEB_NOT_BUILT');
  } finally {
    await app.close();
    await rm(empty, { recursive: true, force: true });
  }
});

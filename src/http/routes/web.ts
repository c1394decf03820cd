/**
 * The browser front end, as Vite built it into `<build>/web/` beside the compiled server: the verifier
 * page at `/verify` (and `/` leads there), its content-hashed assets under `/assets/`. Assets are cached
 * for a year as immutable (a new build has new names); the page itself is revalidated on every visit
 * so a new build is picked up at once. When the build has no web step the node still starts: it logs a
 * warning and answers `WEB_NOT_BUILT` (503) on those paths.
 *
 * The page's Content-Security-Policy is part of the promise that a checked file never leaves the
 * device: the page may load only its own scripts and styles, and may connect only to this origin (for
 * the root certificate); forms go nowhere, and no other page may frame it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BubuhError } from '../../errors.js';
import type { BubuhNode } from '../../node.js';
import type { RouteModule } from './index.js';
import { escapeHtml } from '../html.js';

/** `<build>/web`, where `<build>` holds this file as `src/http/routes/web.js` (dist/ or a test build). */
export function webDirectory(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web');
}

export const verifyPagePath = '/verify';
export const assetsPrefix = '/assets/';
/** The web build's page, relative to the web directory. */
export const verifyPageFile = join('verify', 'index.html');

export const pageContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src data:',
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const pageHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': pageContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** The OpenAPI description of the two page routes (the hashed assets are files, not an API). */
const pageSchema = {
  summary: 'The verifier page (HTML): checks a PDF in the browser, which never uploads it',
  description:
    'text/html; 503 WEB_NOT_BUILT when the server was built without its web front end. The page fetches only ' +
    'its own assets under /assets/ and GET /pki/root.der.',
  tags: ['web'],
};
const rootSchema = {
  summary: 'Leads to the verifier page (302 to /verify)',
  tags: ['web'],
};

/** One year, the longest lifetime caches honour; the file name changes with its content. */
const assetMaxAgeMs = 365 * 24 * 60 * 60 * 1000;

async function readPage(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The 503 as a page for a browser, and as the registry's JSON body for everything else. */
function refuseNotBuilt(request: FastifyRequest, reply: FastifyReply) {
  const refusal = new BubuhError('WEB_NOT_BUILT');
  if (!(request.headers.accept ?? '').includes('text/html')) throw refusal;
  const body = [
    '<!doctype html><html lang="id"><head><meta charset="utf-8"><title>503 WEB_NOT_BUILT</title></head><body>',
    `<h1>${escapeHtml(refusal.code)}</h1><p>${escapeHtml(refusal.messageId)}</p>`,
    `<p lang="en">${escapeHtml(refusal.message)}</p></body></html>`,
  ].join('');
  return reply
    .status(refusal.status)
    .headers({ ...pageHeaders, 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" })
    .send(body);
}

/** The routes over a web build in `directory` (tests point it elsewhere). */
export function webRoutesFrom(directory: string): RouteModule {
  return (app, node) => registerWebRoutes(app, node, directory);
}

export const webRoutes: RouteModule = (app, node) => registerWebRoutes(app, node, webDirectory());

async function registerWebRoutes(app: FastifyInstance, node: BubuhNode, directory: string): Promise<void> {
  const page = await readPage(join(directory, verifyPageFile));

  app.get('/', { schema: rootSchema }, (_request, reply) => reply.redirect(verifyPagePath, 302));

  if (page === null) {
    node.logger.warn(
      { directory },
      'web: the browser front end is not built (npm run build); /verify and /assets/ answer 503 WEB_NOT_BUILT',
    );
    app.get(verifyPagePath, { schema: pageSchema }, refuseNotBuilt);
    app.get(`${assetsPrefix}*`, refuseNotBuilt);
    return;
  }

  const etag = `"${createHash('sha256').update(page).digest('base64url').slice(0, 27)}"`;
  app.get(verifyPagePath, { schema: pageSchema }, (request, reply) => {
    reply.headers({ ...pageHeaders, etag });
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.send(page);
  });

  await app.register(fastifyStatic, {
    root: join(directory, 'assets'),
    prefix: assetsPrefix,
    decorateReply: false,
    index: false,
    list: false,
    redirect: false,
    dotfiles: 'deny',
    // Vite writes .br and .gz beside each asset: brotli, else gzip, as the client accepts.
    preCompressed: true,
    cacheControl: true,
    immutable: true,
    maxAge: assetMaxAgeMs,
    setHeaders: (reply) => {
      reply.header('x-content-type-options', 'nosniff');
    },
  });
}

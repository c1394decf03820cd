/**
 * The browser front end, as Vite built it into `<build>/web/` beside the compiled server: the
 * applicant's web app at `/app` and every client-side route under `/app/` (and `/` leads there), the
 * verifier page at `/verify`, and their content-hashed assets under `/assets/`. Assets are cached
 * for a year as immutable (a new build has new names); the page itself is revalidated on every visit
 * so a new build is picked up at once. When the build has no web step the node still starts: it logs a
 * warning and answers `WEB_NOT_BUILT` (503) on those paths.
 *
 * The page's Content-Security-Policy is part of the promise that a checked file never leaves the
 * device: the page may load only its own scripts and styles, and may connect only to this origin (for
 * the root certificate, and the serial's public record when the person asks for the online check);
 * forms go nowhere, and no other page may frame it. The app's policy is the same
 * with two additions for the PDF preview on its stamp screen: a same-origin worker, and one named
 * Trusted Types policy that admits only that worker's own asset URL.
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
export const appPagePath = '/app';
export const appPageFile = join('app', 'index.html');
/**
 * The app's client-side routes (web/app/router.tsx), all answered with its page: named parameters
 * rather than a wildcard, so each is described in the OpenAPI document.
 */
export const appPagePaths = [appPagePath, `${appPagePath}/:screen`, `${appPagePath}/orders/:id`] as const;
/** The one Trusted Types policy the app may create (web/app/pdf-preview.ts): the PDF renderer's worker. */
export const appTrustedTypesPolicy = 'bubuh-pdf-worker';

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

export const appContentSecurityPolicy = pageContentSecurityPolicy
  .replace("connect-src 'self'", "connect-src 'self'; worker-src 'self'")
  .replace("trusted-types 'none'", `trusted-types ${appTrustedTypesPolicy}`);

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
    'its own assets under /assets/ and GET /pki/root.der, and GET /v1/serials/{serial} (the serial alone) ' +
    'when asked to check a serial online; a typed serial that passes its check characters opens /s/{serial}.',
  tags: ['web'],
};
const appSchema = {
  summary: 'The web app (HTML): sign in, buy quota, stamp a PDF, history; its client-side routes share it',
  description:
    'text/html; 503 WEB_NOT_BUILT when the server was built without its web front end. The page fetches only ' +
    'its own assets under /assets/ and this API.',
  tags: ['web'],
};
/** The app page's description for one of its paths, with that path's parameters. */
function appSchemaFor(path: string) {
  const names = [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
  if (names.length === 0) return appSchema;
  return {
    ...appSchema,
    params: {
      type: 'object',
      properties: Object.fromEntries(names.map((name) => [name, { type: 'string', maxLength: 80 }])),
      required: names,
    },
  };
}
const rootSchema = {
  summary: 'Leads to the web app (302 to /app)',
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

/** A built page, revalidated by its ETag, with the page headers and its own policy. */
function servePage(page: Buffer, contentSecurityPolicy: string) {
  const etag = `"${createHash('sha256').update(page).digest('base64url').slice(0, 27)}"`;
  return (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers({ ...pageHeaders, 'content-security-policy': contentSecurityPolicy, etag });
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.send(page);
  };
}

async function registerWebRoutes(app: FastifyInstance, node: BubuhNode, directory: string): Promise<void> {
  const page = await readPage(join(directory, verifyPageFile));
  const appPage = await readPage(join(directory, appPageFile));

  app.get('/', { schema: rootSchema }, (_request, reply) => reply.redirect(appPagePath, 302));

  if (page === null || appPage === null) {
    node.logger.warn(
      { directory },
      'web: the browser front end is not built (npm run build); /app, /verify and /assets/ answer 503 WEB_NOT_BUILT',
    );
    for (const path of appPagePaths) app.get(path, { schema: appSchemaFor(path) }, refuseNotBuilt);
    app.get(verifyPagePath, { schema: pageSchema }, refuseNotBuilt);
    app.get(`${assetsPrefix}*`, refuseNotBuilt);
    return;
  }

  app.get(verifyPagePath, { schema: pageSchema }, servePage(page, pageContentSecurityPolicy));
  // Every screen's path is the same page: the app reads the path and shows its screen, so a reload or a
  // shared link lands where it was (an unknown screen is the app's own "not found").
  const appHandler = servePage(appPage, appContentSecurityPolicy);
  for (const path of appPagePaths) app.get(path, { schema: appSchemaFor(path) }, appHandler);

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

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app.js';
import { handleNotFound } from './errors.js';

/**
 * The browser dashboard (web/, built by Vite into dist/web): hashed files under /assets with a
 * long cache, sent as the brotli or gzip copy the build made beside each one
 * (scripts/compress-web.mjs) when the browser accepts it, and index.html for `/` and every other page path, so the dashboard's own routes
 * work on reload. The API keeps its JSON 404s: paths under the API's prefixes never fall back.
 */

/** dist/web, next to dist/src where this file is compiled to. */
export const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

const ASSETS_PREFIX = '/assets/';
const API_PREFIXES = ['/v1/', '/docs', '/healthz', '/readyz', '/metrics', '/openapi.json'];

/** Self only: no script, style, font or connection leaves for another origin. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT =
  'The dashboard is not built: run `npm run build` (it writes dist/web), then restart amisi serve. The API works without it.\n';

function isPagePath(url: string): boolean {
  const path = url.split('?')[0]!;
  if (path === '/v1' || path.startsWith(ASSETS_PREFIX)) return false;
  return !API_PREFIXES.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/** Serves the dashboard from `dir`; without a build, `/` says how to make one. */
export async function registerDashboard(app: App, dir: string = DASHBOARD_DIR): Promise<void> {
  const indexPath = join(dir, 'index.html');
  const built = existsSync(indexPath);

  async function sendIndex(_request: FastifyRequest, reply: FastifyReply) {
    if (!built) return reply.status(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    // Read per request: a rebuilt dashboard is served without a restart.
    const html = await readFile(indexPath, 'utf8');
    return secure(reply)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  app.get(
    '/',
    { config: { access: 'public', rateLimit: false }, schema: { hide: true } },
    sendIndex,
  );
  app.setNotFoundHandler((request, reply) =>
    (request.method === 'GET' || request.method === 'HEAD') && isPagePath(request.url)
      ? sendIndex(request, reply)
      : handleNotFound(request, reply),
  );
  if (!built) return;
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public', rateLimit: false };
    });
    scope.addHook('onSend', async (_request, reply) => {
      secure(reply);
    });
    await scope.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: ASSETS_PREFIX,
      decorateReply: false,
      index: false,
      schemaHide: true,
      // The file names carry a hash of their content: a new build has new names.
      immutable: true,
      // file.js.br or file.js.gz when accept-encoding allows (with vary: accept-encoding).
      preCompressed: true,
      maxAge: '365d',
    });
  });
}

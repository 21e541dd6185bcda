import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyRequest } from 'fastify';
import { AmisiError } from '../core/errors.js';
import type { App, Deps } from './app.js';
import { authenticate } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { handleError } from './errors.js';
import { accountRoutes } from './routes/accounts.js';
import { batchRoutes } from './routes/batches.js';
import { catalogRoutes } from './routes/catalog.js';
import { creditRoutes } from './routes/credits.js';
import { exportRoutes } from './routes/export.js';
import { insightRoutes } from './routes/insights.js';
import { reportRoutes } from './routes/reports.js';
import { operationRoutes } from './routes/operations.js';
import { planRoutes } from './routes/plans.js';
import { purchaseRoutes } from './routes/purchases.js';
import { teamRoutes } from './routes/teams.js';
import { webhookRoutes } from './routes/webhooks.js';
import { components } from './schemas/index.js';
import { validatorCompiler } from './validation.js';

export interface ServerOptions {
  readonly logLevel: string;
  /** Requests per API key (or per address without one) per window; 0 turns limiting off. */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Believe X-Forwarded-For (behind a proxy): the address rate limits key unauthenticated calls by. */
  readonly trustProxy: boolean;
  /** Where logs go (default stdout); tests pass a stream to read them. */
  readonly logStream?: NodeJS.WritableStream;
  /** The built dashboard (default dist/web of this package). */
  readonly dashboardDir?: string;
}

const DOCS_PREFIX = '/docs';

/** Largest request body: far above any real request, small enough to refuse junk early. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Headers that carry secrets: never logged, whatever a serializer prints. */
const REDACTED = [
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["stripe-signature"]',
];

const VERSION = (
  JSON.parse(
    readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'),
      'utf8',
    ),
  ) as { version: string }
).version;

function createApp(options: ServerOptions): App {
  return Fastify({
    logger: {
      level: options.logLevel,
      redact: { paths: REDACTED, censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: options.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
}

async function registerDocs(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Amisi Credits API',
        version: VERSION,
        description:
          'Credits for AI generation platforms: quotes, holds, captures, charges, plans and packs. Every POST that moves credits or money takes an Idempotency-Key. Errors are application/problem+json with a stable code. Times are epoch milliseconds.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from `amisi keys create`: Authorization: Bearer amk_...',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    // Components keep their $id as their name, so the SDK's types read like the docs.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  // The docs page is public like the document it shows.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(DOCS_PREFIX)) {
      route.config = { ...route.config, access: 'public', rateLimit: false };
    }
  });
  // Served from the package's own files: the page works with no network.
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { deepLinking: true } });
  app.get(
    '/openapi.json',
    { config: { access: 'public', rateLimit: false }, schema: { hide: true } },
    async () => app.swagger(),
  );
}

/** The key a request is limited by: its API key, or its address before it has one. */
function rateLimitKey(request: FastifyRequest): string {
  return request.principal ? `key:${request.principal.keyId}` : `ip:${request.ip}`;
}

async function registerRateLimit(app: App, limit: ServerOptions['rateLimit']): Promise<void> {
  if (limit.max <= 0) return;
  // Route-level hooks run after the server's onRequest hooks, so the key is known by then.
  await app.register(rateLimit, {
    global: true,
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      new AmisiError('rate_limited', `more than ${context.max} requests in ${context.after}`, {
        limit: context.max,
      }),
  });
}

/**
 * The HTTP API over the given use-cases. Nothing here owns state: the ledger, the purchase
 * service and the keys are passed in (and closed by whoever made them).
 */
export async function buildServer(deps: Deps, options: ServerOptions): Promise<App> {
  const app = createApp(options);
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(handleError);
  app.decorateRequest('principal', null);
  for (const schema of components) app.addSchema(schema);
  app.addHook('onRequest', authenticate(deps.keys));
  // An empty POST body is an empty object, so "capture all" needs no body at all.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method === 'POST') request.body = {};
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // While shutting down, each answer closes its connection, so draining ends with the last
    // in-flight request instead of waiting for idle keep-alive connections to time out.
    if (!app.server.listening) reply.header('connection', 'close');
  });
  app.addHook('onResponse', deps.metrics.onResponse);
  deps.metrics.trackOpenHolds(() => deps.ledger.store.countOpenHolds());
  await registerDocs(app);
  await registerRateLimit(app, options.rateLimit);
  await registerDashboard(app, options.dashboardDir);
  for (const routes of [
    operationRoutes,
    accountRoutes,
    catalogRoutes,
    creditRoutes,
    batchRoutes,
    planRoutes,
    purchaseRoutes,
    teamRoutes,
    webhookRoutes,
    insightRoutes,
    reportRoutes,
    exportRoutes,
  ]) {
    await app.register(routes, deps);
  }
  return app;
}

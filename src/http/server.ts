import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyRequest } from 'fastify';
import { AmisiError } from '../core/errors.js';
import { MAX_ID_LENGTH, unstorableField } from '../ledger/validate.js';
import type { App, Deps } from './app.js';
import { authenticate, refuseUnauthorized } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { answerClientError, handleError, handleFrameworkError } from './errors.js';
import { accountRoutes } from './routes/accounts.js';
import { autumnRoutes } from './routes/autumn.js';
import { batchRoutes } from './routes/batches.js';
import { catalogRoutes } from './routes/catalog.js';
import { clockRoutes } from './routes/clocks.js';
import { checkRoutes } from './routes/check.js';
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
import { lazySerializers } from './serializers.js';

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
  /** How long a client may take to send a request, and to keep an idle connection open. */
  readonly timeouts?: Timeouts;
  /**
   * Web origins whose pages may call the API from the browser (CORS), such as the platform's
   * own app with the embedded components; ['*'] allows every origin. Empty or absent: none.
   */
  readonly corsOrigins?: readonly string[];
}

export interface Timeouts {
  /** The whole request, headers and body: a client that trickles its body is cut off. */
  readonly requestMs: number;
  /** The request line and headers (at most requestMs). */
  readonly headersMs: number;
  /** An idle kept-alive connection between requests. */
  readonly keepAliveMs: number;
}

/**
 * Short enough that a slow or stalled client cannot hold connections for long, long enough
 * for a 1 MiB body on a slow link. Keep-alive outlasts the usual 60 s idle timeout of load
 * balancers, so they never reuse a connection the server is closing.
 */
export const DEFAULT_TIMEOUTS: Timeouts = {
  requestMs: 30_000,
  headersMs: 10_000,
  keepAliveMs: 72_000,
};

/**
 * The router refuses longer path parameters (414 uri_too_long) before any route runs. It counts
 * the raw, percent-encoded text, where one character of an id takes up to three, so the limit
 * is three times the longest id; the schemas then hold ids to MAX_ID_LENGTH characters with
 * invalid_argument naming the parameter.
 */
export const MAX_PARAM_LENGTH = 3 * MAX_ID_LENGTH;

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
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const serializers = lazySerializers();
  const app = Fastify({
    logger: {
      level: options.logLevel,
      redact: { paths: REDACTED, censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: options.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // While closing, requests that still arrive are answered by refuseWhileClosing (a problem).
    return503OnClosing: false,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      headersTimeout: timeouts.headersMs,
      // Node checks the request and headers timeouts on this interval (30 s by default).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeouts.headersMs / 2))),
    },
    // Errors before a route is found, and errors Node's parser raises, are problems too.
    frameworkErrors: (error, request, reply) => void handleFrameworkError(error, request, reply),
    clientErrorHandler: answerClientError,
    // Each route's response serializers are built on its first answer (serializers.ts).
    schemaController: { compilersFactory: { buildSerializer: serializers.factory } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  serializers.adopt(app);
  return app;
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

/**
 * The key a request is limited by: its API key (also when the key may not do this), or its
 * address when it has no valid key (missing, malformed, unknown or revoked).
 */
function rateLimitKey(request: FastifyRequest): string {
  const keyId = request.principal?.keyId ?? request.rateLimitKeyId;
  return keyId ? `key:${keyId}` : `ip:${request.ip}`;
}

/**
 * Cross-origin calls from the listed origins. The credential is the bearer key in a header
 * (never a cookie), so no credentials mode; preflights are answered before the key check.
 */
async function registerCors(app: App, origins: readonly string[] | undefined): Promise<void> {
  if (origins === undefined || origins.length === 0) return;
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key'],
    exposedHeaders: ['idempotent-replayed', 'retry-after', 'x-request-id'],
    maxAge: 600,
  });
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
 * A query string that is not valid percent-encoding of UTF-8 (`?search=%ff`) is refused like
 * such a path, rather than read as the literal text `%ff`.
 */
function refuseBadQueryEncoding(url: string): void {
  const start = url.indexOf('?');
  if (start < 0) return;
  for (const part of url.slice(start + 1).split('&')) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      const name = part.split('=')[0] ?? '';
      throw new AmisiError(
        'invalid_argument',
        `the query parameter ${JSON.stringify(name)} is not valid: a % must start a %XX escape of UTF-8 (write % itself as %25)`,
        { field: name, in: 'query', reason: 'bad_url' },
      );
    }
  }
}

/**
 * NUL characters and lone surrogates are refused in every path parameter, query parameter and
 * body field, the same on every store (PostgreSQL cannot store them); the ledger refuses them
 * too (src/ledger/validate.ts), for library and CLI callers.
 */
async function refuseUnstorable(request: FastifyRequest): Promise<void> {
  refuseBadQueryEncoding(request.url);
  const parts = { params: request.params, query: request.query, body: request.body };
  for (const [where, value] of Object.entries(parts)) {
    const field = unstorableField(value);
    if (field === null) continue;
    const named = field === '' ? where : `${where}.${field}`;
    throw new AmisiError(
      'invalid_argument',
      `${named} must not contain NUL characters or unpaired UTF-16 surrogates`,
      { field, in: where },
    );
  }
}

/**
 * Once close() is called, a request that still arrives (on a kept-alive connection) is answered
 * 503 shutting_down, a problem like every other answer, with Connection: close (onSend).
 */
function refuseWhileClosing(app: App): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) {
      throw new AmisiError('shutting_down', 'the server is shutting down: retry the request', {});
    }
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
  // Bodies are JSON: a text/plain body is 415 unsupported_media_type, not a string to validate.
  app.removeContentTypeParser('text/plain');
  refuseWhileClosing(app);
  // Before the key check: a preflight carries no key, and is answered here.
  await registerCors(app, options.corsOrigins);
  app.decorateRequest('principal', null);
  app.decorateRequest('refused', null);
  app.decorateRequest('rateLimitKeyId', null);
  for (const schema of components) app.addSchema(schema);
  app.addHook('onRequest', authenticate(deps.keys));
  app.addHook('preParsing', refuseUnauthorized);
  // Before the schemas, so the problem names the field whatever else is wrong with the request.
  app.addHook('preValidation', refuseUnstorable);
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
  deps.metrics.trackOpenHolds(() => deps.ledger.countOpenHolds());
  await registerDocs(app);
  await registerRateLimit(app, options.rateLimit);
  await registerDashboard(app, options.dashboardDir);
  for (const routes of [
    operationRoutes,
    accountRoutes,
    catalogRoutes,
    creditRoutes,
    clockRoutes,
    checkRoutes,
    batchRoutes,
    planRoutes,
    purchaseRoutes,
    teamRoutes,
    webhookRoutes,
    insightRoutes,
    reportRoutes,
    exportRoutes,
    autumnRoutes,
  ]) {
    await app.register(routes, deps);
  }
  return app;
}

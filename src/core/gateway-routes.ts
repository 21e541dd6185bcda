import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { own, type Catalog, type CatalogProblem } from './catalog.js';
import { AmisiError } from './errors.js';
import { HOLD_TTL_MAX_MS } from './holds.js';
import type { QuoteItemRequest } from './quote.js';

/**
 * The metering gateway's routes file: which requests of an upstream API are priced, how, and
 * how the answer says what was made. Validated like the catalog (the schema, then the rules
 * the schema cannot express, checked against the active catalog), each problem naming its JSON
 * pointer. Everything here is pure: the gateway (src/service/gateway) does the I/O.
 */

const HeaderName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" });
const FieldPath = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,7}$' });

const SourceSchema = Type.Union([
  Type.Object({ body: FieldPath }, { additionalProperties: false }),
  Type.Object({ header: HeaderName }, { additionalProperties: false }),
  Type.Object(
    { query: Type.String({ minLength: 1, maxLength: 64 }) },
    { additionalProperties: false },
  ),
]);

const ParamRuleSchema = Type.Object(
  {
    from: SourceSchema,
    /** The request's value to the catalog's value, e.g. "1024x1024": "1080p". */
    map: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ minLength: 1 })),
    ),
    /** When the request does not say: this catalog value (else the catalog's default). */
    default: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const CountRuleSchema = Type.Object(
  {
    from: SourceSchema,
    default: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

const UnitsRuleSchema = Type.Object(
  {
    /** Dotted path into the JSON answer. */
    json: FieldPath,
    /** `length`: the array's length (data[]); `value`: the number there. */
    count: Type.Union([Type.Literal('length'), Type.Literal('value')]),
  },
  { additionalProperties: false },
);

/** Named limits of a job (a route whose answer is a job to poll). */
export const JOB_INTERVAL_DEFAULT_MS = 2000;
export const JOB_INTERVAL_MIN_MS = 100;
export const JOB_TIMEOUT_DEFAULT_MS = 60 * 60 * 1000;
/** A job's hold is extended while it runs, within a hold's lifetime (HOLD_LIFETIME_MAX_MS). */
export const JOB_TIMEOUT_MAX_MS = 29 * 24 * 60 * 60 * 1000;

const JobRuleSchema = Type.Object(
  {
    /** Where the submit answer has the job's id. */
    id: FieldPath,
    /** The upstream path that answers the job's status; `{id}` is the job's id. */
    poll: Type.String({ pattern: "^(/([A-Za-z0-9._~!$&'()*+,;=:@-]+|\\{id\\}))+$" }),
    /** Where a poll's answer has the status, and the statuses that end the job. */
    status: FieldPath,
    done: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 16 }),
    failed: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 16 }),
    intervalMs: Type.Optional(Type.Integer({ minimum: JOB_INTERVAL_MIN_MS, maximum: 3_600_000 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: JOB_TIMEOUT_MAX_MS })),
  },
  { additionalProperties: false },
);

/** Named limits of a route (TigerBeetle style: every limit has a name). */
export const GATEWAY_TIMEOUT_DEFAULT_MS = 120_000;
export const GATEWAY_TIMEOUT_MAX_MS = 60 * 60 * 1000;
/** The hold outlives its route's timeout by this, so only a lost answer lets it expire. */
export const GATEWAY_HOLD_MARGIN_MS = 60_000;
export const GATEWAY_BODY_DEFAULT_BYTES = 25 * 1024 * 1024;
export const GATEWAY_BODY_MAX_BYTES = 256 * 1024 * 1024;

const RouteSchema = Type.Object(
  {
    /** Names the route in metrics, logs and the hold's labels. */
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
    method: Type.Union(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m))),
    /** `/v1/images/generations`; `{name}` matches one path segment. */
    path: Type.String({
      pattern: "^(/([A-Za-z0-9._~!$&'()*+,;=:@-]+|\\{[a-z][a-zA-Z0-9_]*\\}))+/?$",
    }),
    operation: Type.String({ minLength: 1 }),
    params: Type.Optional(Type.Record(Type.String({ minLength: 1 }), ParamRuleSchema)),
    count: Type.Optional(CountRuleSchema),
    /** How the answer says how many units were made; without it, what was asked for. */
    units: Type.Optional(UnitsRuleSchema),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: GATEWAY_TIMEOUT_MAX_MS })),
    /**
     * The hold's ttl: how long a request's credits stay held when its answer is lost (the
     * gateway killed mid-request), after which the hold expires into a release. Default: the
     * timeout plus GATEWAY_HOLD_MARGIN_MS; longer than the timeout.
     */
    holdTtlMs: Type.Optional(Type.Integer({ minimum: 2000, maximum: HOLD_TTL_MAX_MS })),
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: GATEWAY_BODY_MAX_BYTES })),
    /**
     * The answer is a job: its hold stays open while the gateway polls the job, and `units`
     * are counted in the answer that says it is done.
     */
    job: Type.Optional(JobRuleSchema),
  },
  { additionalProperties: false },
);

const AccountRuleSchema = Type.Union([
  /** The account id in a header the platform's own auth sets (never the client). */
  Type.Object({ header: HeaderName }, { additionalProperties: false }),
  /** An Amisi account or member key in this header (`Bearer ` optional); not forwarded. */
  Type.Object({ apiKey: HeaderName }, { additionalProperties: false }),
]);

const GatewayRoutesSchema = Type.Object(
  {
    account: AccountRuleSchema,
    member: Type.Optional(Type.Object({ header: HeaderName }, { additionalProperties: false })),
    project: Type.Optional(Type.Object({ header: HeaderName }, { additionalProperties: false })),
    /** Requests no route matches: refused (404, the default) or forwarded unmetered. */
    unmatched: Type.Optional(Type.Union([Type.Literal('refuse'), Type.Literal('forward')])),
    /** Headers the gateway sets on every forwarded request, each from an environment variable. */
    upstreamHeaders: Type.Optional(
      Type.Record(
        HeaderName,
        Type.Object(
          { env: Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,127}$' }) },
          { additionalProperties: false },
        ),
      ),
    ),
    routes: Type.Array(RouteSchema, { minItems: 1, maxItems: 256 }),
  },
  { additionalProperties: false },
);

export type GatewayRoutes = Static<typeof GatewayRoutesSchema>;
export type GatewayRoute = Static<typeof RouteSchema>;
export type ValueSource = Static<typeof SourceSchema>;
export type JobRule = Static<typeof JobRuleSchema>;
type ParamRule = Static<typeof ParamRuleSchema>;

function pointer(...parts: (string | number)[]): string {
  return '/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function routeProblems(route: GatewayRoute, i: number, catalog: Catalog): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const at = (...p: string[]) => pointer('routes', i, ...p);
  const op = own(catalog.operations, route.operation);
  if (!op) {
    const known = Object.keys(catalog.operations).join(', ');
    return [
      {
        path: at('operation'),
        reason: `"${route.operation}" is not an operation of catalog ${catalog.version} (${known})`,
      },
    ];
  }
  for (const [name, rule] of Object.entries(route.params ?? {})) {
    const param = own(op.params, name);
    if (!param) {
      problems.push({
        path: at('params', name),
        reason: `"${name}" is not a parameter of ${route.operation}`,
      });
      continue;
    }
    const targets = [...Object.entries(rule.map ?? {})].map(([k, v]) => ({
      path: at('params', name, 'map', k),
      value: v,
    }));
    if (rule.default !== undefined)
      targets.push({ path: at('params', name, 'default'), value: rule.default });
    for (const t of targets) {
      if (!param.values.includes(t.value)) {
        problems.push({
          path: t.path,
          reason: `"${t.value}" is not a ${name} of ${route.operation} (${param.values.join(', ')})`,
        });
      }
    }
  }
  const timeoutMs = route.timeoutMs ?? GATEWAY_TIMEOUT_DEFAULT_MS;
  if (route.holdTtlMs !== undefined && route.holdTtlMs <= timeoutMs) {
    problems.push({
      path: at('holdTtlMs'),
      reason: `must be longer than the route's timeout (${timeoutMs} ms): a hold must outlive its request`,
    });
  }
  if (route.job) {
    const both = route.job.done.filter((d) => route.job!.failed.includes(d));
    if (both.length > 0) {
      problems.push({ path: at('job', 'failed'), reason: `"${both[0]}" is also a done status` });
    }
  }
  if (route.count?.default !== undefined && route.count.default > op.maxCount) {
    problems.push({
      path: at('count', 'default'),
      reason: `more than ${route.operation}'s maxCount (${op.maxCount})`,
    });
  }
  return problems;
}

function crossProblems(routes: GatewayRoutes): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const names = new Set<string>();
  const shapes = new Set<string>();
  routes.routes.forEach((r, i) => {
    if (names.has(r.name))
      problems.push({ path: pointer('routes', i, 'name'), reason: `duplicate name "${r.name}"` });
    names.add(r.name);
    const shape = `${r.method} ${segmentsOf(r.path)
      .map((s) => (s.startsWith('{') ? '{}' : s))
      .join('/')}`;
    if (shapes.has(shape))
      problems.push({
        path: pointer('routes', i, 'path'),
        reason: `another route has ${r.method} ${r.path}`,
      });
    shapes.add(shape);
  });
  return problems;
}

/** Every problem in a candidate routes file, against the catalog it prices by. */
export function gatewayRoutesProblems(value: unknown, catalog: Catalog): CatalogProblem[] {
  const schemaProblems = [...Value.Errors(GatewayRoutesSchema, value)].map((e) => ({
    path: e.path || '/',
    reason: e.message,
  }));
  if (schemaProblems.length > 0) return dedupeByPath(schemaProblems);
  const routes = value as GatewayRoutes;
  return [
    ...crossProblems(routes),
    ...routes.routes.flatMap((r, i) => routeProblems(r, i, catalog)),
  ];
}

function dedupeByPath(problems: CatalogProblem[]): CatalogProblem[] {
  const seen = new Map<string, CatalogProblem>();
  for (const p of problems) if (!seen.has(p.path)) seen.set(p.path, p);
  return [...seen.values()];
}

/** Validates a routes file against the active catalog; `routes_invalid` names the first path. */
export function parseGatewayRoutes(value: unknown, catalog: Catalog): GatewayRoutes {
  const problems = gatewayRoutesProblems(value, catalog);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new AmisiError(
      'routes_invalid',
      `routes invalid at ${first.path}: ${first.reason}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''),
      { problems },
    );
  }
  return structuredClone(value) as GatewayRoutes;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** The route a request's method and path (no query) take, or undefined. */
export function matchRoute(
  routes: GatewayRoutes,
  method: string,
  path: string,
): GatewayRoute | undefined {
  const parts = segmentsOf(path);
  return routes.routes.find((r) => {
    if (r.method !== method) return false;
    const pattern = segmentsOf(r.path);
    return (
      pattern.length === parts.length &&
      pattern.every((p, i) => p.startsWith('{') || p === parts[i])
    );
  });
}

/** What the gateway read of a request: the body's fields (JSON or a form), headers, query. */
export interface RequestView {
  /** The parsed JSON body, or a form's text fields; undefined without one. */
  readonly body: unknown;
  readonly header: (name: string) => string | undefined;
  readonly query: (name: string) => string | undefined;
}

function dig(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = Object.hasOwn(at, part) ? (at as Record<string, unknown>)[part] : undefined;
  }
  return at;
}

function read(view: RequestView, from: ValueSource): unknown {
  if ('body' in from) return dig(view.body, from.body);
  if ('header' in from) return view.header(from.header);
  return view.query(from.query);
}

function describeSource(from: ValueSource): string {
  if ('body' in from) return `the body's ${from.body}`;
  if ('header' in from) return `the ${from.header} header`;
  return `the query's ${from.query}`;
}

function paramOf(name: string, rule: ParamRule, view: RequestView): string | undefined {
  const raw = read(view, rule.from);
  if (raw === undefined || raw === null || raw === '') return rule.default;
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new AmisiError('invalid_parameter', `${describeSource(rule.from)} must be a string`, {
      field: name,
    });
  }
  const text = String(raw);
  if (!rule.map) return text;
  const mapped = own(rule.map, text) ?? own(rule.map, text.toLowerCase());
  if (mapped === undefined) {
    const accepted = Object.keys(rule.map);
    throw new AmisiError(
      'invalid_parameter',
      `${describeSource(rule.from)} "${text.slice(0, 64)}" is not one of ${accepted.join(', ')}`,
      { field: name, value: text.slice(0, 64), accepted },
    );
  }
  return mapped;
}

function countOf(route: GatewayRoute, view: RequestView): number {
  const rule = route.count;
  if (!rule) return 1;
  const raw = read(view, rule.from);
  if (raw === undefined || raw === null || raw === '') return rule.default ?? 1;
  const n = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new AmisiError(
      'invalid_parameter',
      `${describeSource(rule.from)} must be a whole number of at least 1`,
      { field: 'count', value: typeof raw === 'string' ? raw.slice(0, 32) : String(raw) },
    );
  }
  return n;
}

/** The quote item a request asks for: the route's operation, its parameters and count. */
export function requestItem(route: GatewayRoute, view: RequestView): QuoteItemRequest {
  const params: Record<string, string> = {};
  for (const [name, rule] of Object.entries(route.params ?? {})) {
    const value = paramOf(name, rule, view);
    if (value !== undefined) params[name] = value;
  }
  return { operation: route.operation, params, count: countOf(route, view) };
}

/**
 * How many units the answer says were made, within what was asked for: a request for 4
 * images that returns 3 made 3. Without a units rule, or when the answer does not say (not
 * JSON, the field missing), the request made what it asked for; `said` tells which.
 */
export function unitsMade(
  route: GatewayRoute,
  requested: number,
  answer: unknown,
): { readonly units: number; readonly said: boolean } {
  if (!route.units) return { units: requested, said: false };
  const at = dig(answer, route.units.json);
  const n =
    route.units.count === 'length'
      ? Array.isArray(at)
        ? at.length
        : undefined
      : typeof at === 'number' && Number.isSafeInteger(at) && at >= 0
        ? at
        : undefined;
  if (n === undefined) return { units: requested, said: false };
  return { units: Math.min(n, requested), said: true };
}

/** The ttl of a route's holds: its own, else the timeout plus the margin. */
export function holdTtlOf(route: GatewayRoute): number {
  return (
    route.holdTtlMs ?? (route.timeoutMs ?? GATEWAY_TIMEOUT_DEFAULT_MS) + GATEWAY_HOLD_MARGIN_MS
  );
}

/** Where a job stands, by its poll's answer: done, failed, or still running. */
export type JobVerdict = 'done' | 'failed' | 'running';

export function jobVerdict(rule: JobRule, answer: unknown): JobVerdict {
  const status = dig(answer, rule.status);
  if (typeof status !== 'string') return 'running';
  if (rule.done.includes(status)) return 'done';
  if (rule.failed.includes(status)) return 'failed';
  return 'running';
}

/** The job's id in the submit answer, or undefined when it has none. */
export function jobIdOf(rule: JobRule, answer: unknown): string | undefined {
  const id = dig(answer, rule.id);
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  return typeof id === 'string' && /^[\x21-\x7e]{1,200}$/.test(id) ? id : undefined;
}

/** The upstream path that answers the job's status. */
export function pollPathOf(rule: JobRule, jobId: string): string {
  return rule.poll.replace('{id}', encodeURIComponent(jobId));
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The job route whose poll path this is, with the job's id, or undefined. */
export function matchPoll(
  routes: GatewayRoutes,
  path: string,
): { readonly route: GatewayRoute; readonly jobId: string } | undefined {
  const parts = segmentsOf(path);
  for (const route of routes.routes) {
    if (!route.job) continue;
    const pattern = segmentsOf(route.job.poll);
    if (pattern.length !== parts.length) continue;
    let jobId: string | undefined;
    const fits = pattern.every((p, i) => {
      if (p !== '{id}') return p === parts[i];
      jobId = decodedSegment(parts[i]!);
      return jobId !== undefined;
    });
    if (fits && jobId !== undefined) return { route, jobId };
  }
  return undefined;
}

/** A job the gateway follows: its hold, where it stands, and when it is polled next. */
export const JOB_STATUSES = ['running', 'done', 'failed', 'timed_out'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface GatewayJob {
  readonly accountId: string;
  readonly holdId: string;
  /** The hold's idempotency key: its capture and release keys are made from it. */
  readonly holdKey: string;
  readonly route: string;
  readonly jobId: string;
  readonly status: JobStatus;
  /** Units captured when done; null before. */
  readonly units: number | null;
  readonly createdAt: number;
  /** Past it, a job still running is released. */
  readonly deadlineAt: number;
  readonly nextPollAt: number;
  readonly endedAt: number | null;
}

import { OVERDRAFT_MODES } from './overdraft.js';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_CREDITS } from './credits.js';
import { AmisiError } from './errors.js';

/**
 * The catalog: operations with their pricing rules, plans and packs. One file, validated
 * against CatalogSchema and then against the rules TypeBox cannot express (a price table must
 * name exactly the values of its parameter, a default must be an allowed value, ...).
 */

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });
const Credits = Type.Integer({ minimum: 1, maximum: MAX_CREDITS });
const Cents = Type.Integer({ minimum: 0, maximum: 100_000_000_00 });
const Currency = Type.String({ pattern: '^[a-z]{3}$' });

const ParamSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    values: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64 }),
    default: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const PriceSchema = Type.Object(
  {
    /** Credits per unit when the price does not depend on a parameter. */
    flat: Type.Optional(Credits),
    /** The parameter whose value picks the credits per unit from `table`. */
    by: Type.Optional(Name),
    table: Type.Optional(Type.Record(Type.String(), Credits)),
  },
  { additionalProperties: false },
);

const OperationSchema = Type.Object(
  {
    description: Type.String({ minLength: 1 }),
    /** Marks an operation that ships only as an example for operators to replace. */
    example: Type.Optional(Type.Boolean()),
    unit: Type.String({ minLength: 1, maxLength: 32 }),
    params: Type.Record(Name, ParamSchema),
    price: PriceSchema,
    maxCount: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);

const PlanSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    priceCents: Cents,
    creditsPerCycle: Type.Integer({ minimum: 0, maximum: MAX_CREDITS }),
    rolloverCap: Type.Integer({ minimum: 0, maximum: MAX_CREDITS }),
    rolloverCycles: Type.Integer({ minimum: 1, maximum: 120 }),
    seats: Type.Integer({ minimum: 1, maximum: 100_000 }),
    teamAccess: Type.Boolean(),
    /**
     * How far below zero the plan's accounts may go (core/overdraft.ts); an account's own limit
     * replaces it. Missing: none.
     */
    overdraft: Type.Optional(
      Type.Object(
        {
          limit: Type.Integer({ minimum: 0, maximum: MAX_CREDITS }),
          mode: Type.Optional(Type.Union(OVERDRAFT_MODES.map((m) => Type.Literal(m)))),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const PackSchema = Type.Object(
  {
    credits: Credits,
    priceCents: Cents,
    expiresAfterMonths: Type.Integer({ minimum: 1, maximum: 120 }),
  },
  { additionalProperties: false },
);

export const TRIAL_MOMENTS = ['creation', 'subscription'] as const;
export type TrialMoment = (typeof TRIAL_MOMENTS)[number];

/**
 * Trial credits: one grant (source `trial`) per account, ever, when it is created or when it
 * first subscribes to a plan, expiring `expiresAfterDays` later.
 */
const TrialSchema = Type.Object(
  {
    credits: Credits,
    expiresAfterDays: Type.Integer({ minimum: 1, maximum: 366 }),
    at: Type.Union(TRIAL_MOMENTS.map((m) => Type.Literal(m))),
  },
  { additionalProperties: false },
);

export const CatalogSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    currency: Currency,
    operations: Type.Record(Name, OperationSchema),
    plans: Type.Record(Name, PlanSchema),
    packs: Type.Record(Name, PackSchema),
    trial: Type.Optional(TrialSchema),
    /**
     * The plan an account made on first use starts on (when the operator turns accounts on
     * first use on): a free plan, since nothing is paid for it.
     */
    defaultPlan: Type.Optional(Name),
  },
  { additionalProperties: false },
);

export type Catalog = Static<typeof CatalogSchema>;
export type Operation = Static<typeof OperationSchema>;
export type Plan = Static<typeof PlanSchema>;
export type Pack = Static<typeof PackSchema>;
export type Trial = Static<typeof TrialSchema>;

export interface CatalogProblem {
  /** JSON pointer into the file, e.g. /operations/image.generate/price/table/4k. */
  readonly path: string;
  readonly reason: string;
}

function pointer(...parts: string[]): string {
  return '/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function operationProblems(id: string, op: Operation): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const at = (...p: string[]) => pointer('operations', id, ...p);
  for (const [name, param] of Object.entries(op.params)) {
    const seen = new Set<string>();
    for (const v of param.values) {
      if (seen.has(v))
        problems.push({ path: at('params', name, 'values'), reason: `duplicate value "${v}"` });
      seen.add(v);
    }
    if (param.default !== undefined && !seen.has(param.default)) {
      problems.push({
        path: at('params', name, 'default'),
        reason: `default "${param.default}" is not one of ${param.values.join(', ')}`,
      });
    }
  }
  const { flat, by, table } = op.price;
  const dearest = Math.max(flat ?? 0, ...Object.values(table ?? {}));
  if (dearest * op.maxCount > MAX_CREDITS) {
    problems.push({
      path: at('maxCount'),
      reason: `maxCount x the dearest price (${dearest}) must stay within ${MAX_CREDITS} credits`,
    });
  }
  if ((flat === undefined) === (by === undefined)) {
    problems.push({ path: at('price'), reason: 'give either "flat" or "by" with "table"' });
  } else if (by !== undefined) {
    const param = own(op.params, by);
    if (!param) {
      problems.push({ path: at('price', 'by'), reason: `"${by}" is not a parameter of ${id}` });
    } else if (!table) {
      problems.push({ path: at('price', 'table'), reason: 'a "by" price needs a table' });
    } else {
      for (const v of param.values) {
        if (own(table, v) === undefined)
          problems.push({ path: at('price', 'table'), reason: `no price for ${by} "${v}"` });
      }
      for (const k of Object.keys(table)) {
        if (!param.values.includes(k))
          problems.push({ path: at('price', 'table', k), reason: `"${k}" is not a ${by} value` });
      }
    }
  } else if (table !== undefined) {
    problems.push({ path: at('price', 'table'), reason: 'a "flat" price takes no table' });
  }
  return problems;
}

/** Every problem in a candidate catalog, each naming its path and reason; empty when valid. */
export function catalogProblems(value: unknown): CatalogProblem[] {
  const schemaProblems = [...Value.Errors(CatalogSchema, value)].map((e) => ({
    path: e.path || '/',
    reason: e.message,
  }));
  if (schemaProblems.length > 0) return dedupe(schemaProblems);
  const catalog = value as Catalog;
  const problems = Object.entries(catalog.operations).flatMap(([id, op]) =>
    operationProblems(id, op),
  );
  if (catalog.defaultPlan !== undefined) {
    const plan = own(catalog.plans, catalog.defaultPlan);
    if (!plan) {
      problems.push({
        path: pointer('defaultPlan'),
        reason: `"${catalog.defaultPlan}" is not a plan of this catalog`,
      });
    } else if (plan.priceCents !== 0) {
      problems.push({
        path: pointer('defaultPlan'),
        reason: `"${catalog.defaultPlan}" costs ${plan.priceCents} cents a cycle: an account made on first use pays nothing, so its plan must be free`,
      });
    }
  }
  return problems;
}

const MISSING = 'Expected required property';

/**
 * One problem per path: the schema reports a missing property twice ("Expected required
 * property", then "Expected string" for the value that is not there), so a missing value is
 * reported as missing alone; several other reasons at one path are joined.
 */
function dedupe(problems: CatalogProblem[]): CatalogProblem[] {
  const byPath = new Map<string, string[]>();
  for (const p of problems) {
    const reasons = byPath.get(p.path) ?? [];
    if (!reasons.includes(p.reason)) reasons.push(p.reason);
    byPath.set(p.path, reasons);
  }
  return [...byPath].map(([path, reasons]) => ({
    path,
    reason: reasons.includes(MISSING) ? MISSING : reasons.join(', '),
  }));
}

/** Validates and returns a deeply frozen catalog: a loaded version never changes. */
export function parseCatalog(value: unknown): Catalog {
  const problems = catalogProblems(value);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new AmisiError(
      'catalog_invalid',
      `catalog invalid at ${first.path}: ${first.reason}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''),
      { problems },
    );
  }
  return deepFreeze(structuredClone(value) as Catalog);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** An own property of a record, never one inherited from Object.prototype ("constructor"). */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

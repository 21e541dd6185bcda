import type { TSchema } from '@sinclair/typebox';
import * as autumn from './autumn.js';
import * as batches from './batches.js';
import * as catalog from './catalog.js';
import * as clocks from './clocks.js';
import * as check from './check.js';
import { Problem } from './common.js';
import * as credits from './credits.js';
import * as insights from './insights.js';
import * as operations from './operations.js';
import * as plans from './plans.js';
import * as purchases from './purchases.js';
import * as reports from './reports.js';
import * as teams from './teams.js';
import * as webhooks from './webhooks.js';

/**
 * The route schemas: the one source of request validation, response serialization and the
 * OpenAPI document (and so of the typed SDK). Components are the schemas with an `$id`.
 */
export * from './autumn.js';
export * from './batches.js';
export * from './catalog.js';
export * from './clocks.js';
export * from './check.js';
export * from './common.js';
export * from './credits.js';
export * from './export.js';
export * from './insights.js';
export * from './operations.js';
export * from './plans.js';
export * from './problems.js';
export * from './purchases.js';
export * from './reports.js';
export * from './teams.js';
export * from './webhooks.js';

/** Every schema with an $id, registered once with the server (and so in the OpenAPI document). */
export const components: readonly TSchema[] = [
  Problem,
  ...[
    catalog,
    clocks,
    credits,
    plans,
    purchases,
    operations,
    teams,
    webhooks,
    insights,
    batches,
    reports,
    check,
    autumn,
  ].flatMap((module) =>
    Object.values(module).filter(
      (value): value is TSchema =>
        typeof value === 'object' && value !== null && typeof (value as TSchema).$id === 'string',
    ),
  ),
];

import type { Migration } from './migration.js';
import { FIRST } from './first.js';
import { ROLLUPS } from './rollups.js';
import { TEAMS } from './teams.js';
import { HOLDS_AND_OVERDRAFT } from './holds-and-overdraft.js';
import { TEST_CLOCKS } from './test-clocks.js';
import { PLAN_UPGRADES } from './plan-upgrades.js';
import { KEY_EXPIRY } from './key-expiry.js';
import { PURCHASE_LINES } from './purchase-lines.js';
import { GATEWAY_JOBS } from './gateway-jobs.js';

export type { Migration } from './migration.js';

/** Every migration in the order they are applied (ids never change once released). */
export const migrations: readonly Migration[] = [
  ...FIRST,
  ...TEAMS,
  ...ROLLUPS,
  ...HOLDS_AND_OVERDRAFT,
  ...TEST_CLOCKS,
  ...PLAN_UPGRADES,
  ...KEY_EXPIRY,
  ...PURCHASE_LINES,
  ...GATEWAY_JOBS,
];

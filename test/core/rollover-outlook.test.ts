import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCatalog } from '../../src/core/catalog.js';
import type { Grant } from '../../src/core/grants.js';
import { rolloverAtRenewal, type Subscription } from '../../src/core/subscriptions.js';
import { defaultCatalog } from '../helpers.js';

// Default catalog: starter 100 credits, rollover cap 50; pro 300, cap 300.
const plans = parseCatalog(defaultCatalog()).plans;
const MAR_1 = Date.UTC(2026, 2, 1);
const APR_1 = Date.UTC(2026, 3, 1);

const sub = (over: Partial<Subscription> = {}): Subscription => ({
  accountId: 'a',
  id: 'sub_1',
  plan: 'starter',
  pendingPlan: null,
  anchorAt: MAR_1,
  cycleIndex: 0,
  nextRenewalAt: APR_1,
  status: 'active',
  cancelAt: null,
  allocationGrantId: 'g-alloc',
  createdAt: MAR_1,
  providerRef: null,
  ...over,
});

const grant = (
  id: string,
  source: Grant['source'],
  remaining: number,
  expiresAt: number | null,
  createdAt = MAR_1,
): Grant => ({
  accountId: 'a',
  id,
  source,
  amount: remaining,
  remaining,
  startsAt: createdAt,
  expiresAt,
  createdAt,
});

describe('what the next renewal rolls over (rolloverAtRenewal)', () => {
  it("the cycle's allocation rolls over up to the cap; packs and other grants do not", () => {
    const grants = [
      grant('g-alloc', 'allocation', 80, APR_1),
      grant('g-pack', 'purchase', 20, Date.UTC(2027, 2, 1)),
      grant('g-promo', 'promotion', 5, APR_1),
    ];
    assert.deepEqual([...rolloverAtRenewal(sub(), plans, grants)], [['g-alloc', 50]]);
    // Pro's cap (300) keeps all 80.
    assert.deepEqual(
      [...rolloverAtRenewal(sub({ plan: 'pro' }), plans, grants)],
      [['g-alloc', 80]],
    );
  });

  it('a pending downgrade uses the next plan’s cap', () => {
    const grants = [
      grant('g-alloc', 'allocation', 200, APR_1),
      grant('g-old', 'rollover', 40, Date.UTC(2026, 5, 1)),
    ];
    // Pro to starter at the renewal: starter's cap 50, older rollover trimmed to make room.
    const r = rolloverAtRenewal(sub({ plan: 'pro', pendingPlan: 'starter' }), plans, grants);
    assert.deepEqual([...r], [['g-alloc', 50]]);
  });

  it('an upgrade’s prorated grant shares the cap with the allocation, oldest first', () => {
    const grants = [
      grant('g-up', 'allocation', 40, APR_1, MAR_1 + 1000),
      grant('g-alloc', 'allocation', 30, APR_1),
    ];
    assert.deepEqual(
      [...rolloverAtRenewal(sub(), plans, grants)],
      [
        ['g-alloc', 30],
        ['g-up', 20],
      ],
    );
  });

  it('nothing rolls over for a plan that ends, an ended plan, or no plan', () => {
    const grants = [grant('g-alloc', 'allocation', 80, APR_1)];
    assert.equal(rolloverAtRenewal(sub({ cancelAt: APR_1 }), plans, grants).size, 0);
    assert.equal(rolloverAtRenewal(sub({ status: 'ended' }), plans, grants).size, 0);
    assert.equal(rolloverAtRenewal(undefined, plans, grants).size, 0);
    assert.equal(rolloverAtRenewal(sub({ plan: 'gone' }), plans, grants).size, 0);
  });
});

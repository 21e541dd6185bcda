import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulate } from '../../src/service/simulate.js';
import { defaultCatalog } from '../helpers.js';

describe('simulate', () => {
  it('plays a Pro customer spending 7 a day: the table worked out by hand', async () => {
    const rows = await simulate({
      catalog: defaultCatalog(),
      plan: 'pro',
      startsAt: Date.UTC(2027, 0, 31),
      months: 6,
      dailyCredits: 7,
      pack: null,
    });
    // Cycle lengths 28, 31, 30, 31, 30, 31 days (Jan 31 anchor, clamped to Feb 28), 7 a day.
    // The allocation is spent first (it expires first); its rest rolls over; rollover credits
    // expire 3 cycles later (R1 = 104 on May 31, R2 = 83 on Jun 30, R3 = 90 on Jul 31).
    assert.deepEqual(
      rows.map((r) => [r.allocation, r.rollover, r.spent, r.expired, r.closing]),
      [
        [300, 104, 196, 0, 104],
        [300, 83, 217, 0, 187],
        [300, 90, 210, 0, 277],
        [300, 83, 217, 104, 360],
        [300, 90, 210, 83, 346],
        [300, 83, 217, 90, 346],
      ],
    );
  });
  it('buys a pack when a day does not fit, and refuses nothing then', async () => {
    const rows = await simulate({
      catalog: defaultCatalog(),
      plan: 'starter',
      startsAt: Date.UTC(2027, 0, 1),
      months: 2,
      dailyCredits: 5,
      pack: 'pack-20',
    });
    // Starter: 100 a cycle; January is 31 days x 5 = 155: after day 20 the allocation is gone
    // and three packs of 20 (60) cover the other 55, leaving 5.
    assert.equal(rows[0]!.spent, 155);
    assert.equal(rows[0]!.refused, 0);
    assert.equal(rows[0]!.purchased, 60);
    assert.equal(rows[0]!.closing, 5);
  });
});

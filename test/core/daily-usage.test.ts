import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  dailyUsage,
  DAY_MS,
  usageOfRollups,
  usageOfSpend,
  utcDays,
  type UsageAt,
} from '../../src/core/daily-usage.js';

const MAR_1 = Date.UTC(2026, 2, 1);
const H = 3_600_000;

describe('daily usage', () => {
  it('UTC days of a cycle, cut at its edges', () => {
    const days = utcDays(MAR_1 + 10 * H, Date.UTC(2026, 3, 1, 10));
    assert.equal(days.length, 32);
    assert.deepEqual(days[0], { from: MAR_1 + 10 * H, to: MAR_1 + DAY_MS });
    assert.deepEqual(days[1], { from: MAR_1 + DAY_MS, to: MAR_1 + 2 * DAY_MS });
    assert.deepEqual(days.at(-1), { from: Date.UTC(2026, 3, 1), to: Date.UTC(2026, 3, 1, 10) });
    // A cycle that starts at midnight has no part days.
    assert.equal(utcDays(MAR_1, Date.UTC(2026, 3, 1)).length, 31);
  });

  it('names the top keys by credits (ties by key), then other, then none', () => {
    const usage: UsageAt[] = [
      { at: MAR_1, key: 'a', credits: 5 },
      { at: MAR_1 + H, key: 'b', credits: 5 },
      { at: MAR_1 + DAY_MS, key: 'c', credits: 9 },
      { at: MAR_1 + DAY_MS, key: 'd', credits: 1 },
      { at: MAR_1 + DAY_MS, key: 'e', credits: 2 },
      { at: MAR_1 + 2 * DAY_MS, key: null, credits: 3 },
    ];
    const d = dailyUsage({ from: MAR_1, to: MAR_1 + 3 * DAY_MS, by: 'member', usage, top: 2 });
    assert.deepEqual(d.series, [
      { key: 'c', kind: 'key', credits: 9 },
      { key: 'a', kind: 'key', credits: 5 },
      { key: null, kind: 'other', credits: 8 },
      { key: null, kind: 'none', credits: 3 },
    ]);
    assert.deepEqual(
      d.days.map((x) => [x.credits, x.split]),
      [
        [10, [0, 5, 5, 0]],
        [12, [9, 0, 3, 0]],
        [3, [0, 0, 0, 3]],
      ],
    );
    assert.equal(d.credits, 25);
  });

  it('one key past the top is named rather than folded into "other"', () => {
    const usage = ['a', 'b', 'c'].map((key) => ({ at: MAR_1, key, credits: 1 }));
    const d = dailyUsage({ from: MAR_1, to: MAR_1 + DAY_MS, by: 'project', usage, top: 2 });
    assert.deepEqual(
      d.series.map((s) => s.kind),
      ['key', 'key', 'key'],
    );
  });

  it('rollup rows: operations as they are; members and projects with the rest as none', () => {
    const rows = [
      { dim: 'operation', key: 'image.generate', credits: 7, units: 2 },
      { dim: 'operation', key: 'image.upscale', credits: 2, units: 1 },
      { dim: 'resolution', key: '4k', credits: 3, units: 1 },
      { dim: 'project', key: 'web', credits: 4, units: 1 },
    ] as const;
    assert.deepEqual(usageOfRollups(MAR_1, rows, 'operation'), [
      { at: MAR_1, key: 'image.generate', credits: 7 },
      { at: MAR_1, key: 'image.upscale', credits: 2 },
    ]);
    assert.deepEqual(usageOfRollups(MAR_1, rows, 'project'), [
      { at: MAR_1, key: 'web', credits: 4 },
      { at: MAR_1, key: null, credits: 5 },
    ]);
    assert.deepEqual(usageOfRollups(MAR_1, rows, 'member'), [{ at: MAR_1, key: null, credits: 9 }]);
  });

  it('a spend: its parts by operation, or its credits under its member or project', () => {
    const spend = {
      parts: [
        { operation: 'image.generate', resolution: '4k', credits: 6, units: 2 },
        { operation: 'image.upscale', resolution: null, credits: 2, units: 1 },
      ],
      attribution: { member: 'mia', project: null, labels: {} },
    };
    assert.deepEqual(usageOfSpend(MAR_1, spend, 'operation'), [
      { at: MAR_1, key: 'image.generate', credits: 6 },
      { at: MAR_1, key: 'image.upscale', credits: 2 },
    ]);
    assert.deepEqual(usageOfSpend(MAR_1, spend, 'member'), [{ at: MAR_1, key: 'mia', credits: 8 }]);
    assert.deepEqual(usageOfSpend(MAR_1, spend, 'project'), [{ at: MAR_1, key: null, credits: 8 }]);
  });

  it('property: days add up to the series, each day to its split, whatever the top', () => {
    const from = MAR_1 + 7 * H;
    const to = from + 30 * DAY_MS;
    const point = fc.record({
      at: fc.integer({ min: from, max: to - 1 }),
      key: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { nil: null }),
      credits: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.array(point, { maxLength: 200 }),
        fc.integer({ min: 1, max: 6 }),
        (usage, top) => {
          const d = dailyUsage({ from, to, by: 'operation', usage, top });
          const spent = usage.reduce((s, u) => s + u.credits, 0);
          assert.equal(d.credits, spent);
          assert.equal(
            d.days.reduce((s, x) => s + x.credits, 0),
            spent,
          );
          for (const day of d.days) {
            assert.equal(day.split.length, d.series.length);
            assert.equal(
              day.split.reduce((s, c) => s + c, 0),
              day.credits,
            );
          }
          assert.ok(d.series.filter((s) => s.kind === 'key').length <= top + 1);
        },
      ),
      { seed: 17 },
    );
  });

  it('refuses usage outside the period and a period of more than 32 days', () => {
    assert.throws(() =>
      dailyUsage({
        from: MAR_1,
        to: MAR_1 + DAY_MS,
        by: 'operation',
        usage: [{ at: MAR_1 - 1, key: 'a', credits: 1 }],
      }),
    );
    assert.throws(() => utcDays(MAR_1, MAR_1 + 40 * DAY_MS));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  advise,
  adviseTier,
  forecastRunOut,
  headlineAdvice,
  planSeasons,
  type Advice,
  type AdviceKind,
  type PlanOption,
  type UsageCycle,
} from '../../src/core/advice.js';
import { parseCatalog } from '../../src/core/catalog.js';
import { addMonths } from '../../src/core/cycles.js';
import { AmisiError } from '../../src/core/errors.js';
import type { PackCombination } from '../../src/core/packs.js';
import { seatsOf } from '../../src/core/teams.js';
import { defaultCatalog } from '../helpers.js';

// Default catalog: free $0/10, starter $9.99/100, pro $24.99/300, business $59.99/1000
// (seats 1, 1, 3, 10); packs 20/$9.99, 50/$19.99, 100/$34.99, 200/$59.99.
const catalog = parseCatalog(defaultCatalog());
const credits: Record<string, number> = { free: 10, starter: 100, pro: 300, business: 1000 };

const JAN_2026 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** Monthly cycles on `plan` from `anchor`, one per consumed value, allocation = the plan's. */
function cycles(
  plan: string,
  consumed: readonly number[],
  anchor = JAN_2026,
  byProject?: readonly Record<string, number>[],
): UsageCycle[] {
  return consumed.map((c, i) => ({
    startsAt: addMonths(anchor, i),
    endsAt: addMonths(anchor, i + 1),
    plan,
    allocation: credits[plan]!,
    consumed: c,
    purchased: 0,
    ...(byProject ? { byProject: byProject[i] } : {}),
  }));
}

function expectKind<K extends AdviceKind>(a: Advice, kind: K): Extract<Advice, { kind: K }> {
  assert.equal(a.kind, kind, a.summary);
  return a as Extract<Advice, { kind: K }>;
}

/** [pack, count] pairs and the total. */
function packs(c: PackCombination | null): [[string, number][], number] | null {
  return c && [c.lines.map((l) => [l.pack, l.count]), c.priceCents];
}

/** [plan, shortfall, packs, monthly] per option. */
function table(options: readonly PlanOption[]) {
  return options.map((o) => [o.plan, o.shortfall, packs(o.packs), o.monthlyCents]);
}

const invalid = (code: string) => (e: unknown) => e instanceof AmisiError && e.code === code;

describe('advice: the three personas of issue 7', () => {
  it('occasional overrun on Pro: 240, 345, 280 -> buy 1 x pack-50 (19.99) for the 45 over', () => {
    // Overruns: 0, 345 - 300 = 45, 0. 45 is 15% over (11500 bp), not heavy (2 x 345 < 3 x 300).
    // Packs for 45: pack-50 19.99 < 3 x pack-20 29.97 < pack-100 34.99.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [240, 345, 280]) }),
      'occasional-overrun',
    );
    assert.equal(
      a.summary,
      'Overran the Pro allocation in 1 of the last 3 cycles, by 45 credits: buy packs when ' +
        'needed, 1 x pack-50 for 19.99 USD covers 45 credits.',
    );
    assert.deepEqual(
      a.figures.cycles.map((c) => [c.consumed, c.overrun, c.usageBasisPoints, c.heavy]),
      [
        [240, 0, 8000, false],
        [345, 45, 11500, false],
        [280, 0, 9333, false],
      ],
    );
    assert.deepEqual(
      [a.figures.overrunCycles, a.figures.heavyCycles, a.figures.coveredOverrun],
      [1, 0, 45],
    );
    assert.equal(a.figures.coveredStartsAt, Date.UTC(2026, 1, 1));
    assert.equal(a.recommendation?.action, 'buy-packs');
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [[['pack-50', 1]], 1999]);
    assert.deepEqual([a.recommendation.credits, a.recommendation.priceCents], [45, 1999]);
  });

  it('consistent +60% on Starter: 160 x 3 -> upgrade to Pro, saving 14.97 a month', () => {
    // Heavy each cycle: 2 x 160 = 320 >= 3 x 100. Demand ceil(480 / 3) = 160.
    // Stay: 9.99 + packs for 60 (3 x pack-20 29.97; pack-20 + pack-50 29.98) = 39.96.
    // Pro: 24.99 (300 >= 160, no packs). Business: 59.99. Saving 3996 - 2499 = 1497.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('starter', [160, 160, 160]) }),
      'consistent-overrun',
    );
    assert.deepEqual(table(a.figures.options), [
      ['starter', 60, [[['pack-20', 3]], 2997], 3996],
      ['pro', 0, null, 2499],
      ['business', 0, null, 5999],
    ]);
    assert.deepEqual(
      [a.figures.heavyCycles, a.figures.demandCredits, a.figures.demandFrom],
      [3, 160, [160, 160, 160]],
    );
    assert.deepEqual([a.figures.cheapest, a.figures.monthlySavingCents], ['pro', 1497]);
    assert.deepEqual(a.recommendation, {
      action: 'upgrade',
      from: 'starter',
      plan: 'pro',
      priceCents: 2499,
      monthlySavingCents: 1497,
    });
    assert.equal(
      a.summary,
      'Used 150% or more of the Starter allocation in 3 of the last 3 cycles (about 160 ' +
        'credits a month): upgrade to Pro at 24.99 USD a month; Starter plus packs costs ' +
        '39.96 USD a month, so upgrading saves 14.97 USD a month.',
    );
  });

  it('light user on Pro: 80, 60, 95 -> downgrade to Starter, saving 15.00 a month', () => {
    // Cheaper plans: free (10 < 95, no), starter (100 >= 80, 60, 95: yes). 2499 - 999 = 1500.
    const a = expectKind(adviseTier({ catalog, cycles: cycles('pro', [80, 60, 95]) }), 'downgrade');
    assert.deepEqual(a.recommendation, {
      action: 'downgrade',
      from: 'pro',
      plan: 'starter',
      priceCents: 999,
      monthlySavingCents: 1500,
    });
    assert.deepEqual(
      [a.figures.largestConsumed, a.figures.candidates, a.figures.blockedBySeats],
      [95, ['starter'], []],
    );
    assert.equal(a.figures.monthlySavingCents, 1500);
    assert.equal(
      a.summary,
      "Starter's 100 credits covered each of the last 3 cycles (at most 95 used): downgrade " +
        'from Pro and save 15.00 USD a month.',
    );
  });
});

describe('advice: project spikes, frequent and other overruns', () => {
  const projects = [
    { web: 200, launch: 50 },
    { web: 210, launch: 60 },
    { web: 220, launch: 60 },
    { web: 215, launch: 145 },
  ];

  it('a spike from one project -> packs for it, not a plan change', () => {
    // Last cycle 360 on Pro: overrun 60. Usual (cycles without overrun: the first three):
    // launch (50 + 60 + 60) / 3 = 56.67 -> 57, spike 145 - 57 = 88 >= 60 / 2;
    // web (200 + 210 + 220) / 3 = 210, spike 5. Share 88 / 60 = 14667 bp.
    // Packs for 60: 3 x pack-20 29.97.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [250, 270, 280, 360], JAN_2026, projects) }),
      'project-spike',
    );
    assert.deepEqual(a.figures.spikes, [
      {
        startsAt: Date.UTC(2026, 3, 1),
        overrun: 60,
        project: 'launch',
        projectCredits: 145,
        usualCredits: 57,
        usualCycles: 3,
        spikeCredits: 88,
        shareBasisPoints: 14667,
      },
    ]);
    assert.equal(a.figures.coveredOverrun, 60);
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [[['pack-20', 3]], 2997]);
    assert.equal(
      a.summary,
      'The 60-credit overrun of the cycle from 2026-04-01 came mostly from project launch ' +
        '(88 credits above its usual 57): buy packs for such a spike, 3 x pack-20 for 29.97 ' +
        'USD for 60 credits, rather than change plan.',
    );
  });

  it('a heavy single-cycle spike is still a spike (1 heavy cycle of 3)', () => {
    // 480 on Pro is 160% (heavy) but alone; launch 330 - 57 = 273 >= 180 / 2.
    // Packs for 180: pack-200 59.99 < 2 x pack-100 69.98 < pack-100 + 4 x pack-20 74.95.
    const big = [...projects.slice(0, 3), { web: 150, launch: 330 }];
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [250, 270, 280, 480], JAN_2026, big) }),
      'project-spike',
    );
    assert.equal(a.figures.heavyCycles, 1);
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [[['pack-200', 1]], 5999]);
  });

  it('growth spread over projects is no spike: occasional packs', () => {
    // Usual a 100, b 100, c 90; last cycle a 140, b 140, c 130 = 410: overrun 110, each
    // spike 40 < 110 / 2. Not heavy (820 < 900). Packs for 110: pack-20 + pack-100 44.98
    // (pack-50 + 3 x pack-20 49.96, 2 x pack-50 + pack-20 49.97, pack-200 59.99).
    const spread = [
      { a: 100, b: 100, c: 90 },
      { a: 100, b: 100, c: 90 },
      { a: 100, b: 100, c: 90 },
      { a: 140, b: 140, c: 130 },
    ];
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [290, 290, 290, 410], JAN_2026, spread) }),
      'occasional-overrun',
    );
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [
      [
        ['pack-20', 1],
        ['pack-100', 1],
      ],
      4498,
    ]);
  });

  it('without byProject there is no usual, so no spike', () => {
    const a = adviseTier({ catalog, cycles: cycles('pro', [250, 270, 280, 360]) });
    assert.equal(a.kind, 'occasional-overrun');
  });

  it('consistent use beats a spike: two heavy cycles compare plans', () => {
    const two = [...projects.slice(0, 2), { web: 215, launch: 255 }, { web: 215, launch: 245 }];
    const a = adviseTier({ catalog, cycles: cycles('pro', [250, 270, 470, 460], JAN_2026, two) });
    assert.equal(a.kind, 'consistent-overrun');
  });

  it('frequent small overruns on Starter: 130, 90, 125 -> Pro is cheaper than packs', () => {
    // Overruns 30 and 25, none heavy. Demand ceil((130 + 125) / 2) = 128, shortfall 28:
    // 2 x pack-20 19.98 (pack-50 19.99). Stay 9.99 + 19.98 = 29.97 > Pro 24.99: saving 4.98.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('starter', [130, 90, 125]) }),
      'frequent-overrun',
    );
    assert.deepEqual(table(a.figures.options), [
      ['starter', 28, [[['pack-20', 2]], 1998], 2997],
      ['pro', 0, null, 2499],
      ['business', 0, null, 5999],
    ]);
    assert.deepEqual(a.recommendation, {
      action: 'upgrade',
      from: 'starter',
      plan: 'pro',
      priceCents: 2499,
      monthlySavingCents: 498,
    });
  });

  it('frequent small overruns on Pro: 320, 250, 330 -> stay and buy packs', () => {
    // Demand ceil(650 / 2) = 325, shortfall 25: 2 x pack-20 19.98. Stay 44.97 < Business 59.99.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [320, 250, 330]) }),
      'frequent-overrun',
    );
    assert.deepEqual(table(a.figures.options), [
      ['pro', 25, [[['pack-20', 2]], 1998], 4497],
      ['business', 0, null, 5999],
    ]);
    assert.deepEqual([a.figures.cheapest, a.figures.monthlySavingCents], ['pro', 0]);
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual([a.recommendation.credits, a.recommendation.priceCents], [25, 1998]);
    assert.equal(
      a.summary,
      'Overran the Pro allocation in 2 of the last 3 cycles (about 325 credits a month): stay ' +
        'and buy packs, 2 x pack-20 for 19.98 USD a month (Pro plus packs 44.97 USD against ' +
        'Business 59.99 USD).',
    );
  });

  it('Business at +50%: no larger plan, so stay and buy 2 x pack-200 + 1 x pack-100', () => {
    // Shortfall 500: 2 x 59.99 + 34.99 = 154.97 (5 x pack-100 174.95, 2 x 200 + 2 x 50 159.96).
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('business', [1500, 1500, 1500]) }),
      'consistent-overrun',
    );
    assert.deepEqual(table(a.figures.options), [
      [
        'business',
        500,
        [
          [
            ['pack-100', 1],
            ['pack-200', 2],
          ],
          15497,
        ],
        21496,
      ],
    ]);
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.equal(a.recommendation.priceCents, 15497);
    assert.match(a.summary, /; no larger plan is an option\.$/);
  });

  it('seats limit upgrades too: 4 members on Starter at 160 skip Pro (3 seats)', () => {
    // Options: stay 39.96, Business 59.99 (Pro seats 3 < 4): stay and buy packs.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('starter', [160, 160, 160]), members: 4 }),
      'consistent-overrun',
    );
    assert.deepEqual(
      a.figures.options.map((o) => o.plan),
      ['starter', 'business'],
    );
    assert.equal(a.recommendation?.action, 'buy-packs');
  });
});

describe('advice: edge cases', () => {
  it('no cycle at all: short history', () => {
    const a = expectKind(adviseTier({ catalog, cycles: [] }), 'short-history');
    assert.deepEqual(a.figures, { rule: 'tier', cycles: 0, needed: 3, plan: null });
    assert.equal(a.recommendation, null);
  });

  it('two light cycles: short history, no downgrade yet', () => {
    const a = expectKind(adviseTier({ catalog, cycles: cycles('pro', [20, 30]) }), 'short-history');
    assert.deepEqual(a.figures, { rule: 'tier', cycles: 2, needed: 3, plan: 'pro' });
  });

  it('two heavy cycles are enough for "2 of the last 3": Starter 160, 170 -> Pro', () => {
    // Demand ceil(330 / 2) = 165, shortfall 65: pack-20 + pack-50 29.98 (pack-100 34.99).
    // Stay 39.97 against Pro 24.99: saving 14.98.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('starter', [160, 170]) }),
      'consistent-overrun',
    );
    assert.deepEqual(table(a.figures.options)[0], [
      'starter',
      65,
      [
        [
          ['pack-20', 1],
          ['pack-50', 1],
        ],
        2998,
      ],
      3997,
    ]);
    assert.equal(a.figures.monthlySavingCents, 1498);
  });

  it('one cycle with an overrun: occasional', () => {
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('starter', [115]) }),
      'occasional-overrun',
    );
    assert.match(a.summary, /in 1 of the last 1 cycles, by 15 credits/);
  });

  it('no allocation: any use is heavy; free plan at 30 and 40 -> Starter', () => {
    // Allocation 0 (e.g. after a lapse): usage in bp is null, 30 and 40 are heavy.
    // Demand ceil(70 / 2) = 35; stay on Free (10 credits): shortfall 25, 2 x pack-20 19.98;
    // Starter 9.99 covers 35: saving 9.99.
    const lapsed = cycles('free', [30, 0, 40]).map((c) => ({ ...c, allocation: 0 }));
    const a = expectKind(adviseTier({ catalog, cycles: lapsed }), 'consistent-overrun');
    assert.deepEqual(
      a.figures.cycles.map((c) => [c.overrun, c.usageBasisPoints, c.heavy]),
      [
        [30, null, true],
        [0, null, false],
        [40, null, true],
      ],
    );
    assert.deepEqual(a.recommendation, {
      action: 'upgrade',
      from: 'free',
      plan: 'starter',
      priceCents: 999,
      monthlySavingCents: 999,
    });
  });

  it('free plan at +50%: a tie on price goes to more credits (Starter, saving 0)', () => {
    // 15 x 3 on Free is heavy (30 >= 30). Stay: 0 + pack-20 9.99 = 30 credits for 9.99;
    // Starter: 100 credits for 9.99. Same price, more credits: Starter, saving 0.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('free', [15, 15, 15]) }),
      'consistent-overrun',
    );
    assert.deepEqual(table(a.figures.options).slice(0, 2), [
      ['free', 5, [[['pack-20', 1]], 999], 999],
      ['starter', 0, null, 999],
    ]);
    assert.ok(a.recommendation?.action === 'upgrade');
    assert.deepEqual([a.recommendation.plan, a.recommendation.monthlySavingCents], ['starter', 0]);
  });

  it('free plan within its allocation: nothing cheaper, the plan fits', () => {
    const a = expectKind(adviseTier({ catalog, cycles: cycles('free', [3, 10, 0]) }), 'plan-fits');
    assert.deepEqual([a.figures.creditsPerCycle, a.figures.blockedBySeats], [10, []]);
    assert.equal(
      a.summary,
      'Free fits: no overrun in the last 3 cycles (at most 10 of 10 credits used) and no ' +
        'cheaper plan fits.',
    );
  });

  it('seat limit blocks a downgrade: 3 members on Pro using 50, 60, 40', () => {
    // Starter covers 60 but seats 1 (no team access) < 3 members: not an option.
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('pro', [50, 60, 40]), members: 3 }),
      'plan-fits',
    );
    assert.deepEqual(a.figures.blockedBySeats, ['starter']);
    assert.equal(a.recommendation, null);
    assert.match(a.summary, /\(starter would cover the usage but not 3 members\)\.$/);
    // One member: Starter it is.
    const solo = adviseTier({ catalog, cycles: cycles('pro', [50, 60, 40]), members: 1 });
    assert.equal(solo.kind, 'downgrade');
  });

  it('downgrade picks the cheapest covering plan: Business at 8, 10, 5 -> Free', () => {
    const a = expectKind(
      adviseTier({ catalog, cycles: cycles('business', [8, 10, 5]) }),
      'downgrade',
    );
    assert.deepEqual(a.figures.candidates, ['free', 'starter', 'pro']);
    assert.ok(a.recommendation?.action === 'downgrade');
    assert.deepEqual([a.recommendation.plan, a.recommendation.monthlySavingCents], ['free', 5999]);
  });

  it('the current plan can be given; only the last 3 cycles count', () => {
    // An old overrun (4 cycles back) is outside the window.
    const a = adviseTier({
      catalog,
      cycles: cycles('pro', [900, 80, 60, 95]),
      plan: 'pro',
    });
    assert.equal(a.kind, 'downgrade');
  });

  it('a catalog without packs: occasional advice without a recommendation', () => {
    const bare = { ...catalog, packs: {} };
    const a = adviseTier({ catalog: bare, cycles: cycles('pro', [240, 345, 280]) });
    assert.equal(a.recommendation, null);
    assert.match(a.summary, /but the catalog sells no packs\.$/);
  });

  it('bad input: unknown plan, cycles out of order, fractions, members 0', () => {
    assert.throws(
      () =>
        adviseTier({ catalog, cycles: cycles('pro', [1]).map((c) => ({ ...c, plan: 'gold' })) }),
      invalid('invalid_parameter'),
    );
    const swapped = cycles('pro', [1, 2]).reverse();
    assert.throws(() => adviseTier({ catalog, cycles: swapped }), invalid('invalid_argument'));
    const half = cycles('pro', [1.5]);
    assert.throws(() => adviseTier({ catalog, cycles: half }), invalid('invalid_argument'));
    assert.throws(
      () => adviseTier({ catalog, cycles: cycles('pro', [1]), members: 0 }),
      invalid('invalid_argument'),
    );
  });
});

describe('advice: run-out forecast', () => {
  // Cycle from 2026-03-01, now 2026-03-11 (10 days), renewal 2026-04-01 (21 days to go).
  const cycleStartsAt = Date.UTC(2026, 2, 1);
  const now = Date.UTC(2026, 2, 11);
  const renewalAt = Date.UTC(2026, 3, 1);
  const base = { now, renewalAt, cycleStartsAt, spentSoFarThisCycle: 120 };

  it('120 spent in 10 days, 150 left: runs out on 2026-03-23, 8 days before the renewal', () => {
    // Pace 12 a day. 150 x 10 days / 120 = 12.5 days: 2026-03-23T12:00Z. Renewal minus that:
    // 8.5 days -> 8 whole days. Spend to the renewal: 120 x 21 / 10 = 252, short 102:
    // pack-20 + pack-100 44.98 (2 x pack-50 + pack-20 49.97, pack-200 59.99).
    const a = expectKind(forecastRunOut(catalog, { ...base, available: 150 }), 'run-out');
    assert.equal(a.figures.runOutAt, Date.UTC(2026, 2, 23, 12));
    assert.deepEqual(
      [
        a.figures.elapsedMs,
        a.figures.paceCreditsPerDay,
        a.figures.runOutDate,
        a.figures.msBeforeRenewal,
        a.figures.daysBeforeRenewal,
        a.figures.projectedToRenewal,
        a.figures.shortfallAtRenewal,
        a.figures.leftAtRenewal,
      ],
      [10 * DAY, 12, '2026-03-23', 8.5 * DAY, 8, 252, 102, 0],
    );
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [
      [
        ['pack-20', 1],
        ['pack-100', 1],
      ],
      4498,
    ]);
    assert.equal(
      a.summary,
      'At the current pace (120 credits spent since 2026-03-01, about 12 a day) the 150 ' +
        'credits available run out on 2026-03-23, 8 days before the renewal on 2026-04-01; ' +
        '1 x pack-20 + 1 x pack-100 for 44.98 USD covers the 102 credits short.',
    );
  });

  it('300 left: lasts past the renewal with 48 to spare', () => {
    // 300 x 10 / 120 = 25 days -> 2026-04-05, after the renewal; 300 - 252 = 48 left.
    const a = expectKind(
      forecastRunOut(catalog, { ...base, available: 300 }),
      'lasts-past-renewal',
    );
    assert.deepEqual(
      [a.figures.runOutAt, a.figures.leftAtRenewal, a.figures.shortfallAtRenewal],
      [null, 48, 0],
    );
    assert.equal(a.recommendation, null);
    assert.equal(
      a.summary,
      'At the current pace (120 credits spent since 2026-03-01, about 12 a day) the 300 ' +
        'credits available last past the renewal on 2026-04-01, with about 48 left.',
    );
  });

  it('252 left: runs out exactly at the renewal, which counts as lasting', () => {
    const a = forecastRunOut(catalog, { ...base, available: 252 });
    assert.equal(a.kind, 'lasts-past-renewal');
    assert.equal(expectKind(a, 'lasts-past-renewal').figures.leftAtRenewal, 0);
    // One credit fewer runs out before: 251 x 10 / 120 days = 20.9166... days.
    const b = expectKind(forecastRunOut(catalog, { ...base, available: 251 }), 'run-out');
    // 251 x 864,000,000 / 120 = 1,807,200,000 ms after now.
    assert.equal(b.figures.runOutAt, now + 1_807_200_000);
    assert.deepEqual([b.figures.daysBeforeRenewal, b.figures.shortfallAtRenewal], [0, 1]);
  });

  it('a rational pace: 7 spent in 3 days, 10 left, rounds the instant down to the ms', () => {
    // 10 x 3 days / 7 = 30/7 days = 370,285,714.28... ms -> 370,285,714.
    const a = forecastRunOut(catalog, {
      now: cycleStartsAt + 3 * DAY,
      cycleStartsAt,
      renewalAt,
      available: 10,
      spentSoFarThisCycle: 7,
    });
    const r = expectKind(a, 'run-out');
    assert.equal(r.figures.runOutAt, cycleStartsAt + 3 * DAY + 370_285_714);
    // 7 x (28 days) / 3 days = 65.33 -> 66 projected, 56 short; pace 7/3 -> 2 a day.
    assert.deepEqual([r.figures.projectedToRenewal, r.figures.paceCreditsPerDay], [66, 2]);
  });

  it('no spending yet, and nothing left', () => {
    const idle = expectKind(
      forecastRunOut(catalog, { ...base, spentSoFarThisCycle: 0, available: 5 }),
      'lasts-past-renewal',
    );
    assert.deepEqual([idle.figures.paceCreditsPerDay, idle.figures.leftAtRenewal], [0, 5]);
    const fresh = forecastRunOut(catalog, {
      ...base,
      now: cycleStartsAt,
      spentSoFarThisCycle: 0,
      available: 5,
    });
    assert.equal(fresh.kind, 'lasts-past-renewal');
    const empty = expectKind(forecastRunOut(catalog, { ...base, available: 0 }), 'run-out');
    assert.deepEqual([empty.figures.runOutAt, empty.figures.daysBeforeRenewal], [now, 21]);
  });

  it('early in a cycle the pace is measured over a day: 40 spent in 7 seconds is 40 a day', () => {
    // Not 40 / 7 s = 493,714 a day. 60 left x 1 day / 40 = 1.5 days: runs out on 2026-03-02
    // at 12:00:07; 40 x (31 days - 7 s) / 1 day = 1239.99... -> 1240 to the renewal.
    const a = expectKind(
      forecastRunOut(catalog, {
        now: cycleStartsAt + 7000,
        cycleStartsAt,
        renewalAt,
        available: 60,
        spentSoFarThisCycle: 40,
      }),
      'run-out',
    );
    assert.deepEqual(
      [
        a.figures.elapsedMs,
        a.figures.paceWindowMs,
        a.figures.paceCreditsPerDay,
        a.figures.runOutAt,
        a.figures.projectedToRenewal,
      ],
      [7000, DAY, 40, cycleStartsAt + 7000 + 1.5 * DAY, 1240],
    );
    // Spending at the very start of the cycle (no time elapsed) is measured the same way.
    const start = forecastRunOut(catalog, { ...base, now: cycleStartsAt, available: 500 });
    assert.equal(expectKind(start, 'run-out').figures.paceCreditsPerDay, 120);
  });

  it('bad input: now at or after the renewal, before the cycle, negative credits', () => {
    for (const bad of [
      { ...base, available: 1, now: renewalAt },
      { ...base, available: 1, now: cycleStartsAt - 1 },
      { ...base, available: -1 },
    ]) {
      assert.throws(() => forecastRunOut(catalog, bad), invalid('invalid_argument'));
    }
  });
});

describe('advice: seasonal planning', () => {
  // 2025 on Pro (300 a month): a busy November and December.
  const year = [200, 220, 250, 240, 260, 230, 210, 250, 280, 300, 420, 480];
  const JAN_2025 = Date.UTC(2025, 0, 1);

  it('12 cycles: Nov and Dec are peaks; buy pack-50 + pack-100 ahead of each', () => {
    // Sorted: 200 210 220 230 240 [250] 250 260 280 300 420 480: lower median 250.
    // Threshold ceil(1.25 x 250) = ceil(312.5) = 313: peaks 420 (Nov), 480 (Dec).
    // Overruns 120, 180: typical ceil(300 / 2) = 150 -> pack-50 + pack-100 54.98 (pack-200
    // 59.99, 3 x pack-50 59.97). Quiet (below 300): 9 cycles, unused 100 + 80 + 50 + 60 +
    // 40 + 70 + 90 + 50 + 20 = 560. Pro rolls over up to 300, for 3 cycles.
    const a = expectKind(
      planSeasons({ catalog, cycles: cycles('pro', year, JAN_2025) }),
      'seasonal-peaks',
    );
    const f = a.figures;
    assert.deepEqual(
      [f.medianCredits, f.peakThresholdCredits, f.overrunPeaks, f.typicalPeakOverrun],
      [250, 313, 2, 150],
    );
    assert.deepEqual(f.peaks, [
      {
        startsAt: Date.UTC(2025, 10, 1),
        month: 11,
        consumed: 420,
        allocation: 300,
        overrun: 120,
        expectedAgainAt: Date.UTC(2026, 10, 1),
      },
      {
        startsAt: Date.UTC(2025, 11, 1),
        month: 12,
        consumed: 480,
        allocation: 300,
        overrun: 180,
        expectedAgainAt: Date.UTC(2026, 11, 1),
      },
    ]);
    assert.deepEqual(
      [f.packsLastMonths, f.quietCycles, f.unusedCredits, f.rolloverCap, f.rolloverCycles],
      [12, 9, 560, 300, 3],
    );
    assert.ok(a.recommendation?.action === 'buy-packs');
    assert.deepEqual(packs(a.recommendation.packs), [
      [
        ['pack-50', 1],
        ['pack-100', 1],
      ],
      5498,
    ]);
    assert.equal(
      a.summary,
      '2 peak cycles in the last 12 (Nov, Dec: 313 credits or more, 1.25 x the median 250): ' +
        'ahead of each, buy 1 x pack-50 + 1 x pack-100 for 54.98 USD for the typical ' +
        '150-credit overrun (packs last 12 months, so buy early). Bank rollover in quiet ' +
        'cycles: 560 credits went unused in 9, and Pro rolls over up to 300.',
    );
  });

  it('only the last 12 cycles count', () => {
    const a = planSeasons({ catalog, cycles: cycles('pro', [900, 900, ...year], JAN_2025) });
    assert.equal(a.kind, 'seasonal-peaks');
    const f = expectKind(a, 'seasonal-peaks').figures;
    assert.equal(f.cycles.length, 12);
    assert.deepEqual(
      f.peaks.map((p) => p.consumed),
      [420, 480],
    );
  });

  it('steady usage: no peaks', () => {
    const a = expectKind(
      planSeasons({ catalog, cycles: cycles('pro', [250, 250, 250, 250, 250, 250]) }),
      'steady-usage',
    );
    assert.deepEqual([a.figures.peakThresholdCredits, a.figures.peaks], [313, []]);
    assert.equal(a.recommendation, null);
  });

  it('a peak within the allocation needs no packs', () => {
    // Business (1000): lower median 100, threshold 125; the 300 peak stays under 1000.
    const a = expectKind(
      planSeasons({ catalog, cycles: cycles('business', [100, 100, 100, 100, 100, 300]) }),
      'seasonal-peaks',
    );
    assert.deepEqual([a.figures.peaks.length, a.figures.typicalPeakOverrun], [1, 0]);
    assert.equal(a.recommendation, null);
    assert.match(a.summary, /the peaks stayed within the allocation, no packs needed/);
  });

  it('fewer than 6 cycles: short history', () => {
    const a = expectKind(
      planSeasons({ catalog, cycles: cycles('pro', [1, 2, 3, 4, 5]) }),
      'short-history',
    );
    assert.deepEqual(a.figures, { rule: 'seasonal', cycles: 5, needed: 6, plan: 'pro' });
  });
});

describe('advice: everything at once', () => {
  it('advise: the tier item, the seasonal item and the forecast', () => {
    const all = advise({
      catalog,
      cycles: cycles('starter', [160, 160, 160]),
      forecast: {
        now: Date.UTC(2026, 3, 11),
        cycleStartsAt: Date.UTC(2026, 3, 1),
        renewalAt: Date.UTC(2026, 4, 1),
        // 50 in 10 days, 20 days to go: 100 projected > 90 available.
        available: 90,
        spentSoFarThisCycle: 50,
      },
    });
    assert.deepEqual(
      all.map((a) => a.kind),
      ['consistent-overrun', 'short-history', 'run-out'],
    );
  });
});

/** Every number anywhere in a value (figures, recommendation). */
function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(numbers);
}

describe('advice: properties', () => {
  const planIds = ['free', 'starter', 'pro', 'business'] as const;
  const history = fc.record({
    plan: fc.constantFrom(...planIds),
    // Light months (up to 120) often enough for downgrades, heavy ones for upgrades.
    consumed: fc.array(
      fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 2500 })),
      { minLength: 0, maxLength: 13 },
    ),
    members: fc.integer({ min: 1, max: 12 }),
  });

  it('the recommended option is never dearer than staying; saving = stay - recommended', () => {
    let seen = 0;
    fc.assert(
      fc.property(history, ({ plan, consumed, members }) => {
        const a = adviseTier({ catalog, cycles: cycles(plan, consumed), members });
        if (a.kind !== 'consistent-overrun' && a.kind !== 'frequent-overrun') return;
        seen++;
        const stay = a.figures.options[0]!;
        assert.equal(stay.current, true);
        const best = a.figures.options.find((o) => o.plan === a.figures.cheapest)!;
        for (const o of a.figures.options) {
          assert.ok(o.current || seatsOf(catalog.plans[o.plan]) >= members);
          assert.ok(best.monthlyCents! <= o.monthlyCents!);
          assert.ok(o.shortfall === 0 || o.packs!.credits >= o.shortfall);
        }
        assert.equal(a.figures.monthlySavingCents, stay.monthlyCents! - best.monthlyCents!);
        assert.ok(a.figures.monthlySavingCents >= 0);
      }),
      { numRuns: 300 },
    );
    assert.ok(seen > 50, `${seen} comparisons`);
  });

  // Light use on the dearer plans, by small teams: where downgrades happen.
  const light = fc.record({
    plan: fc.constantFrom('starter', 'pro', 'business'),
    consumed: fc.oneof(
      ...[12, 110, 320].map((max) =>
        fc.array(fc.integer({ min: 0, max }), { minLength: 0, maxLength: 6 }),
      ),
    ),
    members: fc.integer({ min: 1, max: 4 }),
  });

  it('a downgrade covers every one of the last 3 cycles, is cheaper and seats the members', () => {
    let seen = 0;
    fc.assert(
      fc.property(light, ({ plan, consumed, members }) => {
        const a = adviseTier({ catalog, cycles: cycles(plan, consumed), members });
        if (a.kind !== 'downgrade' || a.recommendation?.action !== 'downgrade') return;
        seen++;
        const to = catalog.plans[a.recommendation.plan]!;
        assert.ok(consumed.slice(-3).every((c) => c <= to.creditsPerCycle));
        assert.equal(consumed.length >= 3, true);
        assert.ok(to.priceCents < catalog.plans[plan]!.priceCents);
        assert.ok(seatsOf(to) >= members);
        assert.equal(
          a.recommendation.monthlySavingCents,
          catalog.plans[plan]!.priceCents - to.priceCents,
        );
      }),
      { numRuns: 300 },
    );
    assert.ok(seen > 20, `${seen} downgrades`);
  });

  it('every figure is a safe integer, and the same input gives the same advice', () => {
    fc.assert(
      fc.property(history, ({ plan, consumed, members }) => {
        const input = { catalog, cycles: cycles(plan, consumed), members };
        const items = advise(input);
        for (const n of numbers(items)) assert.ok(Number.isSafeInteger(n), String(n));
        assert.deepEqual(advise(input), items);
      }),
      { numRuns: 200 },
    );
  });

  it('forecast: it runs out before the renewal exactly when the pace overspends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 * DAY }),
        fc.integer({ min: 1, max: 30 * DAY }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (elapsed, toRenewal, available, spent) => {
          const start = Date.UTC(2026, 0, 1);
          const a = forecastRunOut(catalog, {
            cycleStartsAt: start,
            now: start + elapsed,
            renewalAt: start + elapsed + toRenewal,
            available,
            spentSoFarThisCycle: spent,
          });
          // Exact: runs out first iff available / spent < toRenewal / window (a day at least).
          const window = Math.max(elapsed, DAY);
          const exact = BigInt(available) * BigInt(window) < BigInt(spent) * BigInt(toRenewal);
          assert.equal(a.kind === 'run-out', exact);
          if (a.kind === 'run-out') {
            const { runOutAt, now, renewalAt, shortfallAtRenewal } = a.figures;
            assert.ok(runOutAt! >= now && runOutAt! < renewalAt);
            assert.ok(shortfallAtRenewal >= 1);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('advice: the one headline (headlineAdvice)', () => {
  // Cycle from 2026-03-01, now 2026-03-11, renewal 2026-04-01: 120 spent in 10 days, so 252
  // more to the renewal. 300 available lasts; 150 runs out (102 short).
  const forecastAt = (available: number) => ({
    now: Date.UTC(2026, 2, 11),
    renewalAt: Date.UTC(2026, 3, 1),
    cycleStartsAt: Date.UTC(2026, 2, 1),
    spentSoFarThisCycle: 120,
    available,
  });
  const headline = (plan: string, consumed: number[], available: number) =>
    headlineAdvice(
      advise({ catalog, cycles: cycles(plan, consumed), forecast: forecastAt(available) }),
    );

  it('no pack advice beside a forecast that says the credits last past the renewal', () => {
    // The tier rule alone says buy pack-50 for an old overrun; the forecast says it lasts.
    const h = headline('pro', [240, 345, 280], 300);
    assert.equal(h?.kind, 'lasts-past-renewal');
    assert.equal(h?.recommendation, null);
  });

  it('a run-out leads with the packs for its shortfall', () => {
    const h = headline('pro', [240, 345, 280], 150);
    assert.equal(h?.kind, 'run-out');
    assert.ok(h?.recommendation?.action === 'buy-packs');
    assert.equal(h.recommendation.credits, 102);
  });

  it('an upgrade cheaper per month leads, even over a run-out', () => {
    const h = headline('starter', [160, 160, 160], 150);
    assert.equal(h?.kind, 'consistent-overrun');
    assert.equal(h?.recommendation?.action, 'upgrade');
  });

  it('a downgrade leads while the credits last; packs for overruns lead without a forecast', () => {
    assert.equal(headline('pro', [80, 60, 95], 300)?.kind, 'downgrade');
    const packsOnly = headlineAdvice(advise({ catalog, cycles: cycles('pro', [240, 345, 280]) }));
    assert.equal(packsOnly?.kind, 'occasional-overrun');
  });

  it('"needs N cycles" never leads: the forecast does, or nothing', () => {
    assert.equal(headline('pro', [], 300)?.kind, 'lasts-past-renewal');
    const items = advise({ catalog, cycles: [], plan: 'pro' });
    assert.deepEqual(
      items.map((a) => a.kind),
      ['short-history', 'short-history'],
    );
    assert.equal(headlineAdvice(items), null);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAmisiApiError, type AccountAdvice, type AmisiClient } from '../../src/client/index.js';
import { addMonths } from '../../src/core/cycles.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { rejection, startSdkServer, type SdkServer } from './client-helpers.js';

/*
 * The product brief's three personas played over twelve months on one test clock, through the
 * HTTP API only (the SDK, an operator key; the server runs on real time): accounts made on the
 * clock with their plans, the clock advanced to the 10th day of each cycle, packs bought and
 * confirmed, charges made; then, halfway through the 13th cycle, each account's advice.
 *
 * - heavy: Starter (100 a cycle), 100 a cycle for 9 cycles, then 160 (+60%) for 3, with
 *   3 x pack-20 bought in each of those: told to upgrade to Pro, saving 14.97 USD a month.
 * - occasional: Starter, 80 a cycle and 130 once (the rollover covers 30): told which packs.
 * - spike: Pro (300), 250 a cycle (web 200, launch 50), then 360 with launch at 145: a
 *   one-project spike, told to buy packs and not to change plan.
 */

const DAY = 86_400_000;

interface Persona {
  readonly id: string;
  readonly plan: string;
  /** Per cycle: the credits charged, by project (null: none), and packs bought first. */
  readonly cycles: readonly { spend: Record<string, number>; packs?: readonly string[] }[];
}

const NONE = '';
const heavy: Persona = {
  id: 'p-heavy',
  plan: 'starter',
  cycles: Array.from({ length: 12 }, (_, i) =>
    i < 9
      ? { spend: { [NONE]: 100 } }
      : { spend: { [NONE]: 160 }, packs: ['pack-20', 'pack-20', 'pack-20'] },
  ),
};
const occasional: Persona = {
  id: 'p-occasional',
  plan: 'starter',
  cycles: Array.from({ length: 12 }, (_, i) => ({ spend: { [NONE]: i === 10 ? 130 : 80 } })),
};
const spike: Persona = {
  id: 'p-spike',
  plan: 'pro',
  cycles: Array.from({ length: 12 }, (_, i) => ({
    spend: i === 11 ? { web: 215, launch: 145 } : { web: 200, launch: 50 },
  })),
};
const PERSONAS = [heavy, occasional, spike];

function tierItem(a: AccountAdvice) {
  const kinds = ['occasional-overrun', 'project-spike', 'frequent-overrun', 'consistent-overrun'];
  const items = a.advice.filter((x) => kinds.includes(x.kind) || x.kind === 'plan-fits');
  assert.equal(items.length, 1, `one tier item in ${a.advice.map((x) => x.kind).join(', ')}`);
  return items[0]!;
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(
    `three personas over twelve months on a test clock, through the API, on ${name}`,
    { skip },
    () => {
      let sdk: SdkServer;
      let api: AmisiClient;
      before(async () => {
        sdk = await startSdkServer({ open });
        api = sdk.client();
      });
      after(async () => {
        await sdk?.close();
        assert.deepEqual(sdk?.specViolations ?? [], []);
      });

      it('a year of renewals, packs and charges, then the advice each persona gets', async () => {
        const { clock: made } = await api.testClocks.create({
          id: `year-${name}`,
          name: 'personas',
        });
        const start = made.now;
        for (const p of PERSONAS) {
          const r = await api.accounts.create({ id: p.id, plan: p.plan, testClockId: made.id });
          assert.equal(r.account.testClockId, made.id);
        }
        const real = await api.accounts.create({ id: 'p-real', plan: 'starter' });
        assert.equal(real.account.testClockId, null);

        for (let cycle = 0; cycle < 12; cycle++) {
          const at = addMonths(start, cycle) + 9 * DAY;
          const advanced = await api.testClocks.advance(made.id, at);
          assert.equal(advanced.clock.now, at);
          for (const p of PERSONAS) {
            const c = p.cycles[cycle]!;
            for (const [i, pack] of (c.packs ?? []).entries()) {
              const bought = await api.purchases.buy(
                { accountId: p.id, pack },
                { idempotencyKey: `${p.id}-c${cycle}-pack${i}` },
              );
              await api.purchases.confirm(bought.purchase.id);
            }
            for (const [project, credits] of Object.entries(c.spend)) {
              const charge = await api.charges.create(
                {
                  accountId: p.id,
                  credits,
                  ...(project === NONE ? {} : { attribution: { project } }),
                },
                { idempotencyKey: `${p.id}-c${cycle}-${project || 'all'}` },
              );
              // Charges carry the clock's time.
              assert.equal(charge.createdAt, at);
            }
          }
        }
        // Halfway through the 13th cycle.
        await api.testClocks.advance(made.id, addMonths(start, 12) + 15 * DAY);

        // The heavy Starter customer: upgrade to Pro, with the money saved.
        const h = await api.reports.advice(heavy.id);
        assert.equal(h.cycles.length, 12);
        assert.deepEqual(
          h.cycles.map((c) => c.consumed),
          heavy.cycles.map((c) => Object.values(c.spend).reduce((s, n) => s + n, 0)),
        );
        const ht = tierItem(h);
        assert.equal(ht.kind, 'consistent-overrun');
        assert.deepEqual(ht.recommendation, {
          action: 'upgrade',
          from: 'starter',
          plan: 'pro',
          priceCents: 2499,
          monthlySavingCents: 1497,
        });

        // The occasional overrun: the cheapest packs for 30 credits (2 x pack-20).
        const o = tierItem(await api.reports.advice(occasional.id));
        assert.equal(o.kind, 'occasional-overrun');
        assert.ok(o.recommendation?.action === 'buy-packs');
        assert.deepEqual(
          [o.recommendation.credits, o.recommendation.packs.lines.map((l) => [l.pack, l.count])],
          [30, [['pack-20', 2]]],
        );

        // The one-project spike: packs, not an upgrade.
        const s = tierItem(await api.reports.advice(spike.id));
        assert.equal(s.kind, 'project-spike');
        assert.ok(s.recommendation?.action === 'buy-packs');
        assert.match(s.summary, /project launch/);

        // The real account did not move: one renewal (its start), nothing expired.
        const realHistory = await api.history.list('p-real', { kind: ['renewal'] });
        assert.equal(realHistory.transactions.length, 1);
        const clockNow = (await api.testClocks.get(made.id)).now;
        assert.equal(clockNow, addMonths(start, 12) + 15 * DAY);
      });

      it('bad input: backwards, an unknown clock, a clock that exists, an account key', async () => {
        const { clock } = await api.testClocks.create({ id: `bad-${name}` });
        const back = await rejection(() => api.testClocks.advance(clock.id, clock.now - DAY));
        assert.ok(isAmisiApiError(back));
        assert.deepEqual([back.status, back.code], [400, 'invalid_argument']);
        const unknown = await rejection(() => api.testClocks.advance('clk-nope', clock.now + DAY));
        assert.ok(isAmisiApiError(unknown));
        assert.deepEqual([unknown.status, unknown.code], [404, 'unknown_test_clock']);
        const again = await rejection(() =>
          api.testClocks.create({ id: clock.id, startsAt: clock.now + DAY }),
        );
        assert.ok(isAmisiApiError(again));
        assert.deepEqual([again.status, again.code], [409, 'test_clock_exists']);
        const noClock = await rejection(() =>
          api.accounts.create({ id: 'p-orphan', testClockId: 'clk-nope' }),
        );
        assert.ok(isAmisiApiError(noClock));
        assert.equal(noClock.code, 'unknown_test_clock');
        const customer = sdk.client(await sdk.s.keyFor('p-real'));
        const forbidden = await rejection(() => customer.testClocks.list());
        assert.ok(isAmisiApiError(forbidden));
        assert.equal(forbidden.status, 403);
        const listed = await api.testClocks.list();
        assert.ok(listed.clocks.some((c) => c.id === clock.id));
      });
    },
  );
}

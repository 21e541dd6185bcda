import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAmisiError, type AmisiError } from '../../src/core/errors.js';
import type { BudgetAlert } from '../../src/core/teams.js';
import type { CommitterOptions } from '../../src/ledger/committer.js';
import { Ledger, type BudgetView } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { verify } from '../../src/ledger/verify.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

/**
 * Organizations (issue 6): members, projects and budgets, on both stores. The clock starts on a
 * month start, so an organization's first plan cycle starts where its calendar month does.
 */

const T0 = Date.UTC(2027, 2, 1);
const ORG = 'acme';
const OWNER = 'own';

/** The default catalog plus a plan of 25 seats with team access and no allocation of its own. */
function teamCatalog(): unknown {
  const c = defaultCatalog() as { version: string; plans: Record<string, unknown> };
  c.version = 'teams-test-1';
  c.plans['team25'] = {
    name: 'Team 25',
    priceCents: 9999,
    creditsPerCycle: 0,
    rolloverCap: 0,
    rolloverCycles: 3,
    seats: 25,
    teamAccess: true,
  };
  return c;
}

interface Env {
  readonly ledger: Ledger;
  readonly store: Store;
  readonly clock: FakeClock;
  /** Commands per committed batch, in commit order. */
  readonly batches: number[];
}

async function withLedger(
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
  fn: (env: Env) => Promise<void>,
  committer: Partial<CommitterOptions> = {},
): Promise<void> {
  const { store, close } = await open();
  const clock = new FakeClock(T0);
  const batches: number[] = [];
  const ledger = new Ledger({
    store,
    clock,
    committer: { ...committer, onCommit: (n) => batches.push(n) },
  });
  try {
    await ledger.loadCatalog(teamCatalog());
    await fn({ ledger, store, clock, batches });
  } finally {
    await ledger.idle();
    await close();
  }
}

/** An organization, on `plan` when given, with `members` (role member) besides its owner. */
async function organization(
  ledger: Ledger,
  options: { plan?: string; members?: readonly string[]; credits?: number } = {},
) {
  await ledger.createOrganization({ accountId: ORG, name: 'Acme', owner: { id: OWNER } });
  if (options.plan) await ledger.subscribe({ accountId: ORG, key: 'sub', plan: options.plan });
  for (const m of options.members ?? []) {
    await ledger.setMember({ accountId: ORG, memberId: m, role: 'member' });
  }
  if (options.credits) {
    await ledger.grant({
      accountId: ORG,
      key: 'pool',
      credits: options.credits,
      source: 'promotion',
    });
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; error: AmisiError };

async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    if (!isAmisiError(error)) throw error;
    return { ok: false, code: error.code, error };
  }
}

async function refusal(p: Promise<unknown>): Promise<AmisiError> {
  const o = await outcome(p);
  assert.equal(o.ok, false, 'refused');
  return (o as { error: AmisiError }).error;
}

async function budgetOf(ledger: Ledger, scope: string, target = ''): Promise<BudgetView> {
  const b = (await ledger.budgets(ORG)).find((x) => x.scope === scope && x.target === target);
  assert.ok(b, `budget ${scope}/${target} exists`);
  return b;
}

const figures = (b: BudgetView) => ({ used: b.used, held: b.held });

const pad = (i: number) => String(i).padStart(2, '0');

function sumBy<T>(rows: readonly T[], key: (r: T) => string | null, value: (r: T) => number) {
  const out = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    if (k !== null) out.set(k, (out.get(k) ?? 0) + value(r));
  }
  return out;
}

async function thresholdEvents(ledger: Ledger) {
  const deliveries = await ledger.listDeliveries({ accountId: ORG, limit: 500 });
  const events = await Promise.all(deliveries.map((d) => ledger.webhookEvent(ORG, d.eventId)));
  return events
    .filter((e) => e?.type === 'budget.threshold')
    .map((e) => (e!.data as { alert: BudgetAlert & { limit: number } }).alert);
}

for (const [name, open, skip] of BOTH_STORES) {
  describe(`teams on ${name}`, { skip }, () => {
    for (const [label, committer] of [
      ['one large batch', {}],
      ['batches of 8', { maxBatch: 8 }],
    ] as const) {
      it(`concurrent holds of 20 members never pass a hard budget or the pool (${label})`, async () => {
        await withLedger(
          open,
          async ({ ledger, store, batches }) => {
            const members = Array.from({ length: 20 }, (_, i) => `m${pad(i)}`);
            await ledger.createOrganization({ accountId: ORG, name: 'Acme', owner: { id: OWNER } });
            await ledger.subscribe({ accountId: ORG, key: 'sub', plan: 'team25' });
            // Seats are taken under the account's lock too: 20 adds at once all fit in 25.
            const added = await Promise.all(
              members.map((m) => ledger.setMember({ accountId: ORG, memberId: m, role: 'member' })),
            );
            assert.ok(added.every((a) => a.created && a.member.status === 'active'));
            assert.equal((await ledger.organization(ORG)).members.length, 21);
            await ledger.grant({ accountId: ORG, key: 'pool', credits: 100, source: 'promotion' });
            const limits = { p1: 25, p2: 20 };
            await ledger.setProject({ accountId: ORG, projectId: 'p1' });
            await ledger.setProject({ accountId: ORG, projectId: 'p2' });
            for (const [p, limit] of Object.entries(limits)) {
              await ledger.setBudget({ accountId: ORG, scope: 'project', target: p, limit });
            }
            for (const m of members) {
              await ledger.setBudget({ accountId: ORG, scope: 'member', target: m, limit: 7 });
            }

            // 200 holds of 1-3 credits (400 asked, 140 of member budgets, a pool of 100), fired
            // at once, round robin over the members.
            const asks = Array.from({ length: 10 }, (_, j) =>
              members.map((member, i) => ({
                key: `h-${i}-${j}`,
                member,
                project: ([['p1'], ['p2'], [null]] as const)[j % 3]![0],
                credits: 1 + ((i * 7 + j) % 3),
              })),
            ).flat();
            const before = batches.length;
            const results = await Promise.all(
              asks.map((a) =>
                outcome(
                  ledger.hold({
                    accountId: ORG,
                    key: a.key,
                    credits: a.credits,
                    attribution: { member: a.member, project: a.project },
                  }),
                ),
              ),
            );
            assert.ok(
              batches.slice(before).some((n) => n > 1),
              'holds shared a batch (group commit)',
            );
            const granted = asks.filter((_, k) => results[k]!.ok);
            const codes = new Set(results.flatMap((r) => (r.ok ? [] : [r.code])));
            assert.deepEqual([...codes].sort(), ['budget_exceeded', 'insufficient_credits']);
            for (const [k, r] of results.entries()) {
              if (r.ok) {
                assert.equal(r.value.hold.credits, asks[k]!.credits);
                assert.equal(r.value.hold.attribution.member, asks[k]!.member);
              } else if (r.code === 'budget_exceeded') {
                const d = r.error.data as {
                  limit: number;
                  used: number;
                  held: number;
                  requested: number;
                };
                assert.equal(d.requested, asks[k]!.credits);
                assert.ok(d.used + d.held + d.requested > d.limit, 'refused only past the limit');
              }
            }
            const total = granted.reduce((s, a) => s + a.credits, 0);
            const byMember = sumBy(
              granted,
              (a) => a.member,
              (a) => a.credits,
            );
            const byProject = sumBy(
              granted,
              (a) => a.project,
              (a) => a.credits,
            );
            for (const m of members) assert.ok((byMember.get(m) ?? 0) <= 7, `${m} within 7`);
            for (const [p, limit] of Object.entries(limits)) {
              assert.ok((byProject.get(p) ?? 0) <= limit, `${p} within ${limit}`);
            }
            assert.ok(total <= 100, 'within the pool');
            // A hold refused for want of credits (3 at most) left less than it asked for.
            assert.ok(total >= 98, `the pool was spent down to under 3 credits (${total})`);

            // The counters are exactly the sums of the holds that were made.
            for (const b of await ledger.budgets(ORG)) {
              const expected =
                b.scope === 'pool'
                  ? total
                  : ((b.scope === 'member' ? byMember : byProject).get(b.target) ?? 0);
              assert.deepEqual(figures(b), { used: 0, held: expected }, `${b.scope}/${b.target}`);
            }
            const balance = await ledger.balance(ORG);
            assert.deepEqual([balance.available, balance.held], [100 - total, total]);
            const open = await store.find(
              'holds',
              { accountId: ORG, status: 'held' },
              { order: ['expiresAt', 'id'] },
            );
            assert.equal(open.length, granted.length);
            assert.ok((await verify(store)).ok);
          },
          committer,
        );
      });
    }

    it('concurrent charges, holds, captures and releases keep every counter exact', async () => {
      await withLedger(open, async ({ ledger, store }) => {
        const members = Array.from({ length: 10 }, (_, i) => `m${pad(i)}`);
        await organization(ledger, { plan: 'team25', members, credits: 150 });
        await ledger.setProject({ accountId: ORG, projectId: 'p1' });
        await ledger.setBudget({ accountId: ORG, scope: 'project', target: 'p1', limit: 30 });
        for (const m of members) {
          await ledger.setBudget({ accountId: ORG, scope: 'member', target: m, limit: 12 });
        }
        interface Spend {
          member: string;
          project: string | null;
          used: number;
          held: number;
        }
        const spends: Spend[] = [];
        const attribution = (member: string, k: number) => ({
          member,
          project: k % 2 === 0 ? 'p1' : null,
        });

        // Phase 1: per member 4 holds of 2 and 3 charges of 1-2, all at once.
        const phase1 = members.flatMap((m, i) => [
          ...[0, 1, 2, 3].map((k) => ({ kind: 'hold' as const, m, k, credits: 2 })),
          ...[4, 5, 6].map((k) => ({ kind: 'charge' as const, m, k, credits: 1 + ((i + k) % 2) })),
        ]);
        const r1 = await Promise.all(
          phase1.map((a) =>
            outcome<unknown>(
              a.kind === 'hold'
                ? ledger
                    .hold({
                      accountId: ORG,
                      key: `a-${a.m}-${a.k}`,
                      credits: a.credits,
                      attribution: attribution(a.m, a.k),
                    })
                    .then((r): unknown => r.hold)
                : ledger.charge({
                    accountId: ORG,
                    key: `a-${a.m}-${a.k}`,
                    credits: a.credits,
                    attribution: attribution(a.m, a.k),
                  }),
            ),
          ),
        );
        const holds: { id: string; member: string; project: string | null; credits: number }[] = [];
        phase1.forEach((a, n) => {
          const r = r1[n]!;
          if (!r.ok) {
            assert.ok(['budget_exceeded', 'insufficient_credits'].includes(r.code), r.code);
            return;
          }
          const { project } = attribution(a.m, a.k);
          if (a.kind === 'hold') {
            holds.push({ id: (r.value as { id: string }).id, member: a.m, project, credits: 2 });
          } else {
            spends.push({ member: a.m, project, used: a.credits, held: 0 });
          }
        });
        assert.ok(holds.length > 0 && r1.some((r) => !r.ok), 'some holds made, some refused');

        // Phase 2: capture all, capture 1 or release each hold, while more charges and holds
        // compete for what the captures and releases free.
        const phase2 = [
          ...holds.map((h, n) => ({ kind: (['full', 'part', 'release'] as const)[n % 3], h })),
          ...members.flatMap((m) =>
            [7, 8, 9].map((k) => ({
              kind: k === 9 ? ('hold' as const) : ('charge' as const),
              m,
              k,
            })),
          ),
        ];
        const r2 = await Promise.all(
          phase2.map((a) => {
            if ('h' in a) {
              const key = `r-${a.h.id}`;
              if (a.kind === 'release') return outcome(ledger.release({ holdId: a.h.id, key }));
              return outcome<unknown>(
                ledger.capture({
                  holdId: a.h.id,
                  key,
                  ...(a.kind === 'part' ? { credits: 1 } : {}),
                }),
              );
            }
            const input = {
              accountId: ORG,
              key: `b-${a.m}-${a.k}`,
              credits: 2,
              attribution: attribution(a.m, a.k),
            };
            return outcome<unknown>(a.kind === 'hold' ? ledger.hold(input) : ledger.charge(input));
          }),
        );
        phase2.forEach((a, n) => {
          const r = r2[n]!;
          if ('h' in a) {
            assert.ok(r.ok, `resolving ${a.h.id}`);
            const used = a.kind === 'full' ? 2 : a.kind === 'part' ? 1 : 0;
            spends.push({ member: a.h.member, project: a.h.project, used, held: 0 });
            return;
          }
          if (!r.ok) {
            assert.ok(['budget_exceeded', 'insufficient_credits'].includes(r.code), r.code);
            return;
          }
          const { project } = attribution(a.m, a.k);
          spends.push({
            member: a.m,
            project,
            used: a.kind === 'charge' ? 2 : 0,
            held: a.kind === 'hold' ? 2 : 0,
          });
        });

        const used = sumBy(
          spends,
          (s) => s.member,
          (s) => s.used,
        );
        const held = sumBy(
          spends,
          (s) => s.member,
          (s) => s.held,
        );
        const pUsed = sumBy(
          spends,
          (s) => s.project,
          (s) => s.used,
        );
        const pHeld = sumBy(
          spends,
          (s) => s.project,
          (s) => s.held,
        );
        const totalUsed = spends.reduce((s, x) => s + x.used, 0);
        const totalHeld = spends.reduce((s, x) => s + x.held, 0);
        for (const b of await ledger.budgets(ORG)) {
          const expected =
            b.scope === 'pool'
              ? { used: totalUsed, held: totalHeld }
              : b.scope === 'member'
                ? { used: used.get(b.target) ?? 0, held: held.get(b.target) ?? 0 }
                : { used: pUsed.get(b.target) ?? 0, held: pHeld.get(b.target) ?? 0 };
          assert.deepEqual(figures(b), expected, `${b.scope}/${b.target}`);
          if (b.limitCredits !== null) {
            assert.ok(b.used + b.held <= b.limitCredits, `${b.scope}/${b.target} within its limit`);
          }
        }
        const balance = await ledger.balance(ORG);
        assert.deepEqual(
          [balance.available, balance.held],
          [150 - totalUsed - totalHeld, totalHeld],
        );
        assert.ok((await verify(store)).ok);
      });
    });

    it('a budget set amid concurrent spend counts exactly the spend it covers', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro', members: ['m1', 'm2'] });
        const first = await Promise.all(
          [0, 1, 2, 3].map((i) =>
            ledger.hold({
              accountId: ORG,
              key: `h${i}`,
              credits: 3,
              attribution: { member: 'm1' },
            }),
          ),
        );
        // Captures, releases, charges and holds of both members, with the budget set among them.
        const mixed = await Promise.all([
          ledger.capture({ holdId: first[0]!.hold.id, key: 'cap0', credits: 2 }),
          ledger.charge({ accountId: ORG, key: 'c1', credits: 4, attribution: { member: 'm1' } }),
          ledger.hold({ accountId: ORG, key: 'h4', credits: 5, attribution: { member: 'm1' } }),
          ledger.charge({ accountId: ORG, key: 'c2', credits: 7, attribution: { member: 'm2' } }),
          ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: 100 }),
          ledger.release({ holdId: first[1]!.hold.id, key: 'rel1' }),
          ledger.capture({ holdId: first[2]!.hold.id, key: 'cap2' }),
          ledger.charge({ accountId: ORG, key: 'c3', credits: 1, attribution: { member: 'm1' } }),
          ledger.hold({ accountId: ORG, key: 'h5', credits: 2, attribution: { member: 'm1' } }),
        ]);
        assert.equal(mixed.length, 9);
        // used: 2 + 4 + 3 + 1 = 10; held: h3 3 + h4 5 + h5 2 = 10.
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 10, held: 10 });
        assert.deepEqual(figures(await budgetOf(ledger, 'pool')), { used: 17, held: 10 });
      });
    });

    for (const [label, committer] of [
      ['one large batch', {}],
      ['batches of 4', { maxBatch: 4 }],
    ] as const) {
      it(`a soft budget alerts at 50, 80 and 100% once per cycle under concurrent charges (${label})`, async () => {
        await withLedger(
          open,
          async ({ ledger, clock }) => {
            await organization(ledger, { plan: 'pro', members: ['m1'] });
            await ledger.registerWebhook({
              url: 'http://127.0.0.1:9/hooks',
              secret: 'whsec_teams_test',
              key: 'hook-449',
              eventTypes: ['budget.threshold'],
              accountId: ORG,
            });
            await ledger.setBudget({
              accountId: ORG,
              scope: 'member',
              target: 'm1',
              limit: 10,
              mode: 'soft',
            });
            const burst = (prefix: string) =>
              Promise.all(
                Array.from({ length: 30 }, (_, i) =>
                  ledger.charge({
                    accountId: ORG,
                    key: `${prefix}-${i}`,
                    credits: 1,
                    attribution: { member: 'm1' },
                  }),
                ),
              );
            await burst('c1');
            const memberAlerts = async () =>
              (await ledger.budgetAlerts(ORG))
                .filter((a) => a.scope === 'member' && a.target === 'm1')
                .sort((a, b) => a.periodStart - b.periodStart || a.threshold - b.threshold);
            const cycle1 = await memberAlerts();
            assert.deepEqual(
              cycle1.map((a) => [
                a.threshold,
                a.used,
                a.held,
                a.limitCredits,
                a.mode,
                a.periodStart,
              ]),
              [
                [50, 5, 0, 10, 'soft', T0],
                [80, 8, 0, 10, 'soft', T0],
                [100, 10, 0, 10, 'soft', T0],
              ],
            );
            // The pool (300 credits of 'pro') is at 10%: no alert of its own.
            assert.equal((await ledger.budgetAlerts(ORG)).length, 3);
            assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), {
              used: 30,
              held: 0,
            });
            assert.equal((await budgetOf(ledger, 'member', 'm1')).percent, 300);
            let events = await thresholdEvents(ledger);
            assert.deepEqual(events.map((e) => e.id).sort(), cycle1.map((a) => a.id).sort());
            assert.deepEqual(
              events.map((e) => e.limit),
              [10, 10, 10],
            );

            // More in the same cycle: nothing new.
            await burst('c2');
            assert.equal((await memberAlerts()).length, 3);

            // The renewal: the cycle budget starts again, and alerts again, once.
            const renewal = (await ledger.getSubscription(ORG)).nextRenewalAt;
            clock.set(renewal + 3_600_000);
            // Touching the account renews the plan (lazily); the budget's new period is empty.
            await ledger.balance(ORG);
            const renewed = await budgetOf(ledger, 'member', 'm1');
            assert.deepEqual([renewed.used, renewed.held, renewed.periodStart], [0, 0, renewal]);
            await burst('c3');
            const all = await memberAlerts();
            assert.deepEqual(
              all.slice(3).map((a) => [a.threshold, a.used, a.periodStart]),
              [
                [50, 5, renewal],
                [80, 8, renewal],
                [100, 10, renewal],
              ],
            );
            assert.equal(all.length, 6);
            assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), {
              used: 30,
              held: 0,
            });
            events = await thresholdEvents(ledger);
            assert.equal(events.length, 6);
            assert.deepEqual(events.map((e) => e.id).sort(), all.map((a) => a.id).sort());
          },
          committer,
        );
      });
    }

    it('no endpoint listening: alerts are recorded, no event is written', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: 4 });
        await ledger.hold({ accountId: ORG, key: 'h', credits: 4, attribution: { member: 'm1' } });
        assert.deepEqual(
          (await ledger.budgetAlerts(ORG)).map((a) => [a.threshold, a.held]).sort(),
          [
            [100, 4],
            [50, 4],
            [80, 4],
          ],
        );
        assert.deepEqual(await ledger.listDeliveries({ accountId: ORG, limit: 10 }), []);
      });
    });

    it('a hard budget refuses with its figures and writes nothing', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.setProject({ accountId: ORG, projectId: 'p1' });
        await ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: 10 });
        await ledger.setBudget({ accountId: ORG, scope: 'project', target: 'p1', limit: 5 });
        const m1 = { member: 'm1' };
        await ledger.hold({ accountId: ORG, key: 'h1', credits: 6, attribution: m1 });
        await ledger.charge({ accountId: ORG, key: 'c1', credits: 2, attribution: m1 });
        clock.advance(1000);
        const snapshot = async () => ({
          balance: await ledger.balance(ORG),
          budgets: await ledger.budgets(ORG),
          alerts: await ledger.budgetAlerts(ORG),
          history: (await ledger.history({ accountId: ORG, limit: 100 })).transactions,
        });
        const before = await snapshot();
        const refused = await refusal(
          ledger.hold({ accountId: ORG, key: 'h2', credits: 3, attribution: m1 }),
        );
        assert.equal(refused.code, 'budget_exceeded');
        assert.deepEqual(refused.data, {
          accountId: ORG,
          budget: { scope: 'member', target: 'm1', mode: 'hard', period: 'cycle' },
          limit: 10,
          used: 2,
          held: 6,
          requested: 3,
        });
        const charge = await refusal(
          ledger.charge({ accountId: ORG, key: 'c2', credits: 3, attribution: m1 }),
        );
        assert.equal(charge.code, 'budget_exceeded');
        assert.deepEqual(
          [charge.data['used'], charge.data['held'], charge.data['requested']],
          [2, 6, 3],
        );
        const project = await refusal(
          ledger.hold({
            accountId: ORG,
            key: 'h3',
            credits: 6,
            attribution: { member: OWNER, project: 'p1' },
          }),
        );
        assert.equal(project.code, 'budget_exceeded');
        assert.deepEqual(project.data['budget'], {
          scope: 'project',
          target: 'p1',
          mode: 'hard',
          period: 'cycle',
        });
        assert.deepEqual(
          [project.data['limit'], project.data['used'], project.data['held']],
          [5, 0, 0],
        );
        assert.deepEqual(await snapshot(), before, 'nothing written');
        // The refused key was not used up: the same key, up to the limit exactly, now succeeds.
        await ledger.hold({ accountId: ORG, key: 'h2', credits: 2, attribution: m1 });
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 2, held: 8 });
        const full = await refusal(
          ledger.charge({ accountId: ORG, key: 'c2', credits: 1, attribution: m1 }),
        );
        assert.equal(full.code, 'budget_exceeded');
        assert.deepEqual([full.data['used'], full.data['held'], full.data['requested']], [2, 8, 1]);
        // A pool with a hard limit refuses the same way, even the owner.
        await ledger.setBudget({ accountId: ORG, scope: 'pool', limit: 11 });
        const pool = await refusal(
          ledger.charge({ accountId: ORG, key: 'c3', credits: 2, attribution: { member: OWNER } }),
        );
        assert.equal(pool.code, 'budget_exceeded');
        assert.deepEqual(pool.data['budget'], {
          scope: 'pool',
          target: '',
          mode: 'hard',
          period: 'cycle',
        });
        assert.deepEqual([pool.data['limit'], pool.data['used'], pool.data['held']], [11, 2, 8]);
        await ledger.charge({
          accountId: ORG,
          key: 'c3',
          credits: 1,
          attribution: { member: OWNER },
        });
        assert.deepEqual(figures(await budgetOf(ledger, 'pool')), { used: 3, held: 8 });
      });
    });

    it('seats: the plan limits members, and only team plans let non-owners spend', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        // No plan: the owner alone.
        await ledger.createOrganization({ accountId: ORG, name: 'Acme', owner: { id: OWNER } });
        let e = await refusal(ledger.setMember({ accountId: ORG, memberId: 'm1', role: 'member' }));
        assert.equal(e.code, 'team_access_required');
        assert.deepEqual([e.data['plan'], e.data['seats'], e.data['members']], [null, 1, 1]);
        // Starter has no team access either.
        await ledger.subscribe({ accountId: ORG, key: 'sub', plan: 'starter' });
        e = await refusal(ledger.setMember({ accountId: ORG, memberId: 'm1', role: 'member' }));
        assert.equal(e.code, 'team_access_required');
        assert.equal(e.data['plan'], 'starter');
        assert.match(e.message, /"starter"/);

        // Pro: 3 seats, invitations included; concurrent adds take exactly the free seats.
        await ledger.changePlan({ accountId: ORG, key: 'up', plan: 'pro' });
        const adds = await Promise.all(
          ['m1', 'm2', 'm3', 'm4'].map((m) =>
            outcome(ledger.setMember({ accountId: ORG, memberId: m, role: 'member' })),
          ),
        );
        assert.equal(adds.filter((a) => a.ok).length, 2);
        const refusedAdds = adds.flatMap((a) => (a.ok ? [] : [a]));
        assert.deepEqual(
          refusedAdds.map((a) => [a.code, a.error.data['seats'], a.error.data['members']]),
          [
            ['seat_limit_reached', 3, 3],
            ['seat_limit_reached', 3, 3],
          ],
        );
        const org = await ledger.organization(ORG);
        assert.deepEqual(
          [org.plan, org.seats, org.teamAccess, org.members.length],
          ['pro', 3, true, 3],
        );
        const [second, third] = org.members.filter((m) => m.role !== 'owner').map((m) => m.id);
        await ledger.removeMember({ accountId: ORG, memberId: third! });
        const invited = await ledger.setMember({
          accountId: ORG,
          memberId: 'm9',
          role: 'member',
          invite: true,
        });
        assert.equal(invited.member.status, 'invited');
        e = await refusal(ledger.setMember({ accountId: ORG, memberId: 'm5', role: 'member' }));
        assert.equal(e.code, 'seat_limit_reached', 'an invitation takes a seat');

        // Downgrade to starter with 3 members: refused with the counts, allowed once alone.
        e = await refusal(ledger.changePlan({ accountId: ORG, key: 'down', plan: 'starter' }));
        assert.equal(e.code, 'seat_limit_reached');
        assert.deepEqual(
          [e.data['members'], e.data['seats'], e.data['plan'], e.data['teamAccess']],
          [3, 1, 'starter', false],
        );
        assert.match(e.message, /has 3 members/);
        assert.match(e.message, /remove 2 members first/);
        assert.equal((await ledger.getSubscription(ORG)).pendingPlan, null);
        await ledger.removeMember({ accountId: ORG, memberId: 'm9' });
        e = await refusal(ledger.changePlan({ accountId: ORG, key: 'down2', plan: 'starter' }));
        assert.match(e.message, /remove 1 member first/);

        // The plan ends: the member may no longer spend, the owner still may.
        await ledger.grant({ accountId: ORG, key: 'g', credits: 50, source: 'promotion' });
        const m = { member: second! };
        await ledger.hold({ accountId: ORG, key: 'mh1', credits: 1, attribution: m });
        await ledger.cancelPlan({ accountId: ORG, key: 'cancel' });
        clock.set((await ledger.getSubscription(ORG)).nextRenewalAt + 1000);
        e = await refusal(ledger.hold({ accountId: ORG, key: 'mh2', credits: 1, attribution: m }));
        assert.equal(e.code, 'team_access_required');
        assert.deepEqual(e.data, { accountId: ORG, memberId: second });
        e = await refusal(
          ledger.charge({ accountId: ORG, key: 'mc2', credits: 1, attribution: m }),
        );
        assert.equal(e.code, 'team_access_required');
        const own = await ledger.hold({
          accountId: ORG,
          key: 'oh',
          credits: 5,
          attribution: { member: OWNER },
        });
        assert.equal(own.hold.credits, 5);
        const organizationNow = await ledger.organization(ORG);
        assert.deepEqual([organizationNow.plan, organizationNow.seats], [null, 1]);
      });
    });

    it('a downgrade is allowed once the members fit, and a pending one limits the seats', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'pro', members: ['m1', 'm2'] });
        let e = await refusal(ledger.changePlan({ accountId: ORG, key: 'd1', plan: 'starter' }));
        assert.equal(e.code, 'seat_limit_reached');
        assert.equal((await ledger.getSubscription(ORG)).pendingPlan, null);
        await ledger.removeMember({ accountId: ORG, memberId: 'm1' });
        await ledger.removeMember({ accountId: ORG, memberId: 'm2' });
        const done = await ledger.changePlan({ accountId: ORG, key: 'd2', plan: 'starter' });
        assert.deepEqual(
          [done.change, done.subscription.plan, done.subscription.pendingPlan],
          ['downgrade', 'pro', 'starter'],
        );
        // The downgrade waiting for the renewal counts already: starter seats the owner alone.
        e = await refusal(ledger.setMember({ accountId: ORG, memberId: 'm3', role: 'member' }));
        assert.equal(e.code, 'team_access_required');
        assert.equal(e.data['plan'], 'starter');
        // An upgrade replaces the pending downgrade; members fit again.
        const up = await ledger.changePlan({ accountId: ORG, key: 'u1', plan: 'business' });
        assert.deepEqual([up.change, up.subscription.pendingPlan], ['upgrade', null]);
        for (const m of ['m3', 'm4']) {
          await ledger.setMember({ accountId: ORG, memberId: m, role: 'member' });
        }
        e = await refusal(ledger.changePlan({ accountId: ORG, key: 'd3', plan: 'free' }));
        assert.equal(e.code, 'seat_limit_reached');
        assert.match(e.message, /has 3 members/);
        // business -> pro (3 seats) fits 3 members; a fourth would not fit after the renewal.
        const down = await ledger.changePlan({ accountId: ORG, key: 'd4', plan: 'pro' });
        assert.equal(down.change, 'downgrade');
        e = await refusal(ledger.setMember({ accountId: ORG, memberId: 'm5', role: 'member' }));
        assert.equal(e.code, 'seat_limit_reached');
        assert.deepEqual([e.data['plan'], e.data['seats'], e.data['members']], ['pro', 3, 3]);
        clock.set((await ledger.getSubscription(ORG)).nextRenewalAt + 1000);
        await ledger.balance(ORG);
        const org = await ledger.organization(ORG);
        assert.deepEqual([org.plan, org.seats, org.members.length], ['pro', 3, 3]);
        await ledger.hold({ accountId: ORG, key: 'h', credits: 1, attribution: { member: 'm3' } });
      });
    });

    it('members: the last owner stays, admins cannot touch owners, invitations', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'business', members: ['m1'] });
        let e = await refusal(ledger.removeMember({ accountId: ORG, memberId: OWNER }));
        assert.equal(e.code, 'last_owner');
        e = await refusal(ledger.setMember({ accountId: ORG, memberId: OWNER, role: 'admin' }));
        assert.equal(e.code, 'last_owner');
        assert.equal((await ledger.getMember(ORG, OWNER)).role, 'owner');

        // An admin cannot make, promote or remove an owner; an owner can.
        await ledger.setMember({ accountId: ORG, memberId: 'a1', role: 'admin', actor: 'owner' });
        const admin = { accountId: ORG, actor: 'admin' as const };
        e = await refusal(ledger.setMember({ ...admin, memberId: 'o2', role: 'owner' }));
        assert.equal(e.code, 'forbidden');
        e = await refusal(ledger.setMember({ ...admin, memberId: 'm1', role: 'owner' }));
        assert.equal(e.code, 'forbidden');
        e = await refusal(ledger.setMember({ ...admin, memberId: OWNER, role: 'member' }));
        assert.equal(e.code, 'forbidden');
        e = await refusal(ledger.removeMember({ ...admin, memberId: OWNER }));
        assert.equal(e.code, 'forbidden');
        assert.equal((await ledger.getMember(ORG, 'm1')).role, 'member');
        // ...but may manage members and admins.
        await ledger.setMember({ ...admin, memberId: 'm1', role: 'admin' });
        await ledger.setMember({ ...admin, memberId: 'm1', role: 'member' });
        await ledger.setMember({ accountId: ORG, memberId: 'o2', role: 'owner', actor: 'owner' });
        // With two owners, an admin still may not remove either; an owner may demote one.
        e = await refusal(ledger.removeMember({ ...admin, memberId: 'o2' }));
        assert.equal(e.code, 'forbidden');
        await ledger.setMember({ accountId: ORG, memberId: OWNER, role: 'admin', actor: 'owner' });
        e = await refusal(ledger.removeMember({ accountId: ORG, memberId: 'o2' }));
        assert.equal(e.code, 'last_owner');
        await ledger.setMember({ accountId: ORG, memberId: OWNER, role: 'owner', actor: 'owner' });
        await ledger.removeMember({ accountId: ORG, memberId: 'o2', actor: 'owner' });
        assert.deepEqual((await ledger.listMembers(ORG)).map((m) => [m.id, m.role]).sort(), [
          ['a1', 'admin'],
          ['m1', 'member'],
          [OWNER, 'owner'],
        ]);

        // Invitations: an invited member cannot spend until they accept with the right code.
        await ledger.grant({ accountId: ORG, key: 'g', credits: 20, source: 'promotion' });
        const inv = await ledger.setMember({
          accountId: ORG,
          memberId: 'i1',
          role: 'member',
          email: 'i1@example.com',
          invite: true,
        });
        assert.equal(inv.member.status, 'invited');
        assert.equal(inv.member.joinedAt, null);
        assert.ok(inv.invitationCode && inv.invitationCode.length >= 20);
        const spend = (key: string) =>
          ledger.hold({ accountId: ORG, key, credits: 1, attribution: { member: 'i1' } });
        e = await refusal(spend('i-h1'));
        assert.equal(e.code, 'unknown_member');
        assert.deepEqual(e.data, { accountId: ORG, memberId: 'i1' });
        e = await refusal(
          ledger.acceptInvitation({ accountId: ORG, memberId: 'i1', code: 'not-the-code' }),
        );
        assert.equal(e.code, 'invalid_invitation');
        e = await refusal(
          ledger.acceptInvitation({ accountId: ORG, memberId: 'm1', code: inv.invitationCode }),
        );
        assert.equal(e.code, 'invalid_invitation', "another member's code does not fit");
        assert.equal((await ledger.getMember(ORG, 'i1')).status, 'invited');
        const joined = await ledger.acceptInvitation({
          accountId: ORG,
          memberId: 'i1',
          code: inv.invitationCode,
        });
        assert.equal(joined.member.status, 'active');
        assert.equal(joined.member.inviteHash, null);
        assert.equal(joined.member.joinedAt, T0);
        e = await refusal(
          ledger.acceptInvitation({ accountId: ORG, memberId: 'i1', code: inv.invitationCode }),
        );
        assert.equal(e.code, 'invalid_invitation', 'accepted once only');
        const h = await spend('i-h2');
        assert.equal(h.hold.attribution.member, 'i1');
        // A member removed and invited again: only the new code is valid.
        const old = await ledger.setMember({
          accountId: ORG,
          memberId: 'i2',
          role: 'admin',
          invite: true,
        });
        await ledger.removeMember({ accountId: ORG, memberId: 'i2' });
        const fresh = await ledger.setMember({
          accountId: ORG,
          memberId: 'i2',
          role: 'admin',
          invite: true,
        });
        assert.notEqual(fresh.invitationCode, old.invitationCode);
        e = await refusal(
          ledger.acceptInvitation({ accountId: ORG, memberId: 'i2', code: old.invitationCode! }),
        );
        assert.equal(e.code, 'invalid_invitation');
        const admin2 = await ledger.acceptInvitation({
          accountId: ORG,
          memberId: 'i2',
          code: fresh.invitationCode!,
        });
        assert.deepEqual([admin2.member.role, admin2.member.status], ['admin', 'active']);
        e = await refusal(
          ledger.acceptInvitation({
            accountId: 'nobody',
            memberId: 'i2',
            code: fresh.invitationCode!,
          }),
        );
        assert.equal(e.code, 'invalid_invitation');
        // Unknown members and projects cannot spend; an organization's spend names a member.
        e = await refusal(
          ledger.hold({ accountId: ORG, key: 'x1', credits: 1, attribution: { member: 'zz' } }),
        );
        assert.equal(e.code, 'unknown_member');
        e = await refusal(
          ledger.hold({
            accountId: ORG,
            key: 'x2',
            credits: 1,
            attribution: { member: 'm1', project: 'nope' },
          }),
        );
        assert.equal(e.code, 'unknown_project');
        e = await refusal(ledger.charge({ accountId: ORG, key: 'x3', credits: 1 }));
        assert.equal(e.code, 'invalid_argument');
      });
    });

    it('a budget set mid-cycle counts earlier spend and open holds; holds move it', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'pro', members: ['m1', 'm2'] });
        await ledger.setProject({ accountId: ORG, projectId: 'p1', name: 'Project One' });
        const m1 = { member: 'm1' };
        const m1p1 = { member: 'm1', project: 'p1' };
        await ledger.charge({ accountId: ORG, key: 'c1', credits: 4, attribution: m1p1 });
        const a = await ledger.hold({ accountId: ORG, key: 'a', credits: 3, attribution: m1p1 });
        const b = await ledger.hold({ accountId: ORG, key: 'b', credits: 5, attribution: m1 });
        await ledger.hold({
          accountId: ORG,
          key: 'c',
          credits: 2,
          ttlMs: 60_000,
          attribution: m1,
        });
        const d = await ledger.hold({ accountId: ORG, key: 'd', credits: 2, attribution: m1 });
        await ledger.capture({ holdId: d.hold.id, key: 'd-cap', credits: 1 });
        await ledger.charge({
          accountId: ORG,
          key: 'c2',
          credits: 6,
          attribution: { member: 'm2', project: 'p1' },
        });
        clock.advance(1000);

        const set = await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm1',
          limit: 30,
        });
        assert.equal(set.replay, false);
        assert.deepEqual(
          [set.budget.used, set.budget.held, set.budget.limitCredits, set.budget.mode],
          [5, 10, 30, 'hard'],
        );
        assert.equal(set.budget.percent, 50);
        // Reaching 50% on creation alerts at once.
        assert.deepEqual(
          (await ledger.budgetAlerts(ORG)).map((x) => [x.scope, x.target, x.threshold]),
          [['member', 'm1', 50]],
        );
        await ledger.setBudget({ accountId: ORG, scope: 'project', target: 'p1', limit: 100 });
        await ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm2', limit: 20 });
        assert.deepEqual(figures(await budgetOf(ledger, 'project', 'p1')), { used: 10, held: 3 });
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm2')), { used: 6, held: 0 });
        assert.deepEqual(figures(await budgetOf(ledger, 'pool')), { used: 11, held: 10 });

        // Capture moves held to used (the uncaptured rest is just released).
        await ledger.capture({ holdId: a.hold.id, key: 'a-cap', credits: 2 });
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 7, held: 7 });
        assert.deepEqual(figures(await budgetOf(ledger, 'project', 'p1')), { used: 12, held: 0 });
        // Release returns what was held.
        await ledger.release({ holdId: b.hold.id, key: 'b-rel' });
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 7, held: 2 });
        // Expiry too, when the account is next touched.
        clock.advance(60_000);
        const balance = await ledger.balance(ORG);
        assert.equal(balance.held, 0);
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 7, held: 0 });
        assert.deepEqual(figures(await budgetOf(ledger, 'pool')), { used: 13, held: 0 });
        assert.equal(balance.available, 300 - 13);

        // Removing a member drops the member's budget, not the project's.
        await ledger.removeMember({ accountId: ORG, memberId: 'm2' });
        assert.deepEqual(
          (await ledger.budgets(ORG)).map((x) => [x.scope, x.target, x.used, x.held]),
          [
            ['pool', '', 13, 0],
            ['member', 'm1', 7, 0],
            ['project', 'p1', 12, 0],
          ],
        );
        // Back again, the member's new budget counts the cycle's spend afresh.
        await ledger.setMember({ accountId: ORG, memberId: 'm2', role: 'member' });
        const again = await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm2',
          limit: 20,
        });
        assert.deepEqual(figures(again.budget), { used: 6, held: 0 });
        // removeBudget: the member's goes; the member spends without one.
        await ledger.removeBudget({ accountId: ORG, scope: 'member', target: 'm1' });
        await ledger.charge({ accountId: ORG, key: 'big', credits: 40, attribution: m1 });
        assert.deepEqual(
          (await ledger.budgets(ORG)).map((x) => x.scope + '/' + x.target),
          ['pool/', 'member/m2', 'project/p1'],
        );
        assert.ok((await ledger.verify()).ok);
      });
    });

    it('a fixed budget counts and limits only inside its window', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        const DAY = 86_400_000;
        const m1 = { member: 'm1' };
        await ledger.charge({ accountId: ORG, key: 'before', credits: 8, attribution: m1 });
        const set = await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm1',
          limit: 5,
          period: 'fixed',
          startsAt: T0 + 2 * DAY,
          endsAt: T0 + 4 * DAY,
        });
        assert.deepEqual(figures(set.budget), { used: 0, held: 0 });
        assert.equal(set.budget.periodEnd, T0 + 4 * DAY);
        // Not begun: no limit yet.
        await ledger.charge({ accountId: ORG, key: 'early', credits: 6, attribution: m1 });
        clock.set(T0 + 2 * DAY);
        await ledger.charge({ accountId: ORG, key: 'in1', credits: 5, attribution: m1 });
        const e = await refusal(
          ledger.charge({ accountId: ORG, key: 'in2', credits: 1, attribution: m1 }),
        );
        assert.equal(e.code, 'budget_exceeded');
        assert.deepEqual([e.data['used'], e.data['held'], e.data['limit']], [5, 0, 5]);
        assert.deepEqual(e.data['budget'], {
          scope: 'member',
          target: 'm1',
          mode: 'hard',
          period: 'fixed',
        });
        clock.set(T0 + 4 * DAY);
        await ledger.charge({ accountId: ORG, key: 'after', credits: 7, attribution: m1 });
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 5, held: 0 });
      });
    });

    it('changing, removing and setting a budget again never announces a threshold twice', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.registerWebhook({
          url: 'http://127.0.0.1:9/hooks',
          secret: 'whsec_teams_test',
          key: 'hook-1040',
          eventTypes: ['budget.threshold'],
          accountId: ORG,
        });
        const m1 = { member: 'm1' };
        const limit = (n: number) =>
          ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: n });
        const thresholds = async () =>
          (await ledger.budgetAlerts(ORG))
            .filter((a) => a.scope === 'member')
            .map((a) => a.threshold)
            .sort((a, b) => a - b);
        await limit(10);
        await ledger.charge({ accountId: ORG, key: 'c1', credits: 6, attribution: m1 });
        assert.deepEqual(await thresholds(), [50]);
        // A higher limit: 6 of 20 is below 50% again. Reaching 50% of it once more in the same
        // period is not a new alert (and must not fail the charge).
        await limit(20);
        const c2 = await outcome(
          ledger.charge({ accountId: ORG, key: 'c2', credits: 4, attribution: m1 }),
        );
        assert.ok(c2.ok, c2.ok ? '' : `charge refused: ${c2.code} ${c2.error.message}`);
        assert.deepEqual(await thresholds(), [50]);
        await ledger.charge({ accountId: ORG, key: 'c3', credits: 6, attribution: m1 });
        assert.deepEqual(await thresholds(), [50, 80]);
        // Lower again: 16 of 10 reaches 100%, announced once.
        await limit(10);
        assert.deepEqual(await thresholds(), [50, 80, 100]);
        // Removed and set again in the same period: still one alert per threshold.
        await ledger.removeBudget({ accountId: ORG, scope: 'member', target: 'm1' });
        const again = await outcome(limit(10));
        assert.ok(again.ok, again.ok ? '' : `set again refused: ${again.code}`);
        assert.deepEqual(await thresholds(), [50, 80, 100]);
        // The member, removed and added again, with a budget again.
        await ledger.removeMember({ accountId: ORG, memberId: 'm1' });
        await ledger.setMember({ accountId: ORG, memberId: 'm1', role: 'member' });
        const readded = await outcome(limit(10));
        assert.ok(readded.ok, readded.ok ? '' : `set after re-adding refused: ${readded.code}`);
        assert.deepEqual(await thresholds(), [50, 80, 100]);
        assert.deepEqual(figures(await budgetOf(ledger, 'member', 'm1')), { used: 16, held: 0 });
        assert.equal((await thresholdEvents(ledger)).length, 3);
        assert.equal((await ledger.balance(ORG)).available, 300 - 16);
      });
    });

    it('the pool without a limit alerts on used + held + available', async () => {
      await withLedger(open, async ({ ledger }) => {
        // No plan: the owner alone spends; the pool is what was granted.
        await organization(ledger, { credits: 100 });
        const own = { member: OWNER };
        const poolAlerts = async () =>
          (await ledger.budgetAlerts(ORG))
            .map((a) => [a.scope, a.threshold, a.used, a.held, a.limitCredits])
            .sort((a, b) => (a[1] as number) - (b[1] as number));
        await ledger.hold({ accountId: ORG, key: 'h', credits: 30, attribution: own });
        assert.deepEqual(await poolAlerts(), []);
        await ledger.charge({ accountId: ORG, key: 'c1', credits: 20, attribution: own });
        assert.deepEqual(await poolAlerts(), [['pool', 50, 20, 30, 100]]);
        await ledger.charge({ accountId: ORG, key: 'c2', credits: 29, attribution: own });
        assert.deepEqual(await poolAlerts(), [['pool', 50, 20, 30, 100]]);
        await ledger.charge({ accountId: ORG, key: 'c3', credits: 1, attribution: own });
        assert.deepEqual(await poolAlerts(), [
          ['pool', 50, 20, 30, 100],
          ['pool', 80, 50, 30, 100],
        ]);
        const pool = await budgetOf(ledger, 'pool');
        assert.deepEqual(
          [pool.limitCredits, pool.size, pool.percent, pool.used, pool.held],
          [null, 100, 80, 50, 30],
        );
        const e = await refusal(ledger.removeBudget({ accountId: ORG, scope: 'pool' }));
        assert.equal(e.code, 'not_found');
      });
    });

    it('budgets and members name what exists; bad input is refused before anything is written', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.createAccount({ accountId: 'solo' });
        const cases: [() => Promise<unknown>, string][] = [
          [
            () => ledger.setBudget({ accountId: ORG, scope: 'member', target: 'zz', limit: 5 }),
            'unknown_member',
          ],
          [
            () => ledger.setBudget({ accountId: ORG, scope: 'project', target: 'zz', limit: 5 }),
            'unknown_project',
          ],
          [
            () =>
              ledger.setBudget({
                accountId: ORG,
                scope: 'member',
                target: 'm1',
                limit: 5,
                period: 'fixed',
              }),
            'invalid_argument',
          ],
          [
            () =>
              ledger.setBudget({
                accountId: ORG,
                scope: 'member',
                target: 'm1',
                limit: 5,
                period: 'fixed',
                startsAt: T0 + 10,
                endsAt: T0 + 10,
              }),
            'invalid_argument',
          ],
          [
            () => ledger.setBudget({ accountId: 'solo', scope: 'pool', limit: 5 }),
            'not_an_organization',
          ],
          [
            () => ledger.setMember({ accountId: 'solo', memberId: 'x', role: 'member' }),
            'not_an_organization',
          ],
          [
            () => ledger.setMember({ accountId: ORG, memberId: 'x', role: 'boss' }),
            'invalid_argument',
          ],
          [() => ledger.removeMember({ accountId: ORG, memberId: 'zz' }), 'unknown_member'],
          [
            () => ledger.removeBudget({ accountId: ORG, scope: 'member', target: 'm1' }),
            'not_found',
          ],
          [() => ledger.budgets('solo'), 'not_an_organization'],
        ];
        for (const [run, code] of cases) assert.equal((await refusal(run())).code, code);
        assert.deepEqual(
          (await ledger.budgets(ORG)).map((b) => b.scope),
          ['pool'],
        );
        assert.equal((await ledger.listMembers(ORG)).length, 2);
        // An individual account spends without naming a member, budgets or not.
        await ledger.grant({ accountId: 'solo', key: 'g', credits: 5, source: 'promotion' });
        await ledger.charge({ accountId: 'solo', key: 'c', credits: 5 });
      });
    });

    for (const maxBatch of [1000, 1]) {
      it(`concurrent adds take exactly the free seats (maxBatch ${maxBatch})`, async () => {
        await withLedger(
          open,
          async ({ ledger }) => {
            await organization(ledger, { plan: 'business' });
            const adds = await Promise.all(
              Array.from({ length: 14 }, (_, i) =>
                outcome(
                  ledger.setMember({ accountId: ORG, memberId: `m${pad(i)}`, role: 'member' }),
                ),
              ),
            );
            assert.equal(adds.filter((a) => a.ok).length, 9);
            assert.deepEqual(
              [...new Set(adds.flatMap((a) => (a.ok ? [] : [a.code])))],
              ['seat_limit_reached'],
            );
            assert.equal((await ledger.listMembers(ORG)).length, 10);
            // Several organizations at once: each created once, the repeats are replays (which
            // call of the same id wins is up to the race).
            const ids = ['o1', 'o2', 'o1', 'o2', 'o1'];
            const orgs = await Promise.all(
              ids.map((id) =>
                ledger.createOrganization({ accountId: id, name: id, owner: { id: 'boss' } }),
              ),
            );
            assert.deepEqual(
              ['o1', 'o2'].map((id) => orgs.filter((o, i) => ids[i] === id && !o.replay).length),
              [1, 1],
            );
            assert.equal((await ledger.listMembers('o1')).length, 1);
            assert.deepEqual(
              (await ledger.budgets('o1')).map((b) => [b.scope, b.used, b.held]),
              [['pool', 0, 0]],
            );
          },
          { maxBatch },
        );
      });
    }

    it('the same organization, member, project or budget again is a replay and changes nothing', async () => {
      await withLedger(open, async ({ ledger, clock, store }) => {
        const first = await ledger.createOrganization({
          accountId: ORG,
          name: 'Acme',
          owner: { id: OWNER, email: 'own@example.com' },
        });
        assert.equal(first.replay, false);
        await ledger.subscribe({ accountId: ORG, key: 'sub', plan: 'pro' });
        await ledger.setMember({ accountId: ORG, memberId: 'm1', role: 'member', name: 'Mo' });
        await ledger.setProject({ accountId: ORG, projectId: 'p1', name: 'One' });
        await ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: 9 });
        await ledger.setBudget({ accountId: ORG, scope: 'pool', limit: 250, mode: 'soft' });
        const state = async () => ({
          org: await ledger.organization(ORG),
          budgets: await store.find('budgets', { accountId: ORG }, { order: ['scope', 'target'] }),
          alerts: await ledger.budgetAlerts(ORG),
          history: (await ledger.history({ accountId: ORG, limit: 100 })).transactions,
        });
        const before = await state();
        clock.advance(5000);

        const org = await ledger.createOrganization({
          accountId: ORG,
          name: 'Acme',
          owner: { id: OWNER, email: 'own@example.com' },
        });
        assert.equal(org.replay, true);
        assert.equal(org.account.createdAt, T0);
        const member = await ledger.setMember({
          accountId: ORG,
          memberId: 'm1',
          role: 'member',
          name: 'Mo',
        });
        assert.deepEqual(
          [member.replay, member.created, member.invitationCode],
          [true, false, null],
        );
        const invitedAgain = await ledger.setMember({
          accountId: ORG,
          memberId: 'm1',
          role: 'member',
          invite: true,
        });
        assert.deepEqual([invitedAgain.replay, invitedAgain.invitationCode], [true, null]);
        assert.equal(invitedAgain.member.status, 'active');
        const project = await ledger.setProject({ accountId: ORG, projectId: 'p1', name: 'One' });
        assert.equal(project.replay, true);
        const budget = await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm1',
          limit: 9,
        });
        assert.equal(budget.replay, true);
        assert.equal(budget.budget.updatedAt, T0);
        const pool = await ledger.setBudget({
          accountId: ORG,
          scope: 'pool',
          limit: 250,
          mode: 'soft',
        });
        assert.equal(pool.replay, true);
        assert.deepEqual(await state(), before);

        // Different input is a change, or a refusal.
        await assert.rejects(
          ledger.createOrganization({ accountId: ORG, name: 'Other', owner: { id: OWNER } }),
          { code: 'account_exists' },
        );
        await ledger.createAccount({ accountId: 'solo' });
        await assert.rejects(
          ledger.createOrganization({ accountId: 'solo', name: 'Acme', owner: { id: OWNER } }),
          { code: 'account_exists' },
        );
        const renamed = await ledger.setProject({ accountId: ORG, projectId: 'p1', name: 'Uno' });
        assert.deepEqual(
          [renamed.replay, renamed.project.name, renamed.project.createdAt],
          [false, 'Uno', T0],
        );
        const raised = await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm1',
          limit: 12,
        });
        assert.deepEqual([raised.replay, raised.budget.limitCredits], [false, 12]);
        assert.equal(raised.budget.createdAt, T0);
      });
    });

    // The first spend of a new budget period rolls the budgets over (a write) before it is
    // checked; a refusal must still be the refusal, not "raised after a write" (internal).
    it('a refusal right after subscribing mid-month is that refusal, not an internal error', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        clock.set(T0 + 9 * 86_400_000);
        await ledger.createOrganization({ accountId: ORG, name: 'Acme', owner: { id: OWNER } });
        await ledger.subscribe({ accountId: ORG, key: 'sub', plan: 'pro' });
        const e = await refusal(
          ledger.hold({ accountId: ORG, key: 'h', credits: 1000, attribution: { member: OWNER } }),
        );
        assert.equal(e.code, 'insufficient_credits');
        assert.deepEqual((await ledger.balance(ORG)).available, 300);
      });
    });

    it('a refusal by a budget first thing in a new cycle is that refusal, not an internal error', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.setBudget({ accountId: ORG, scope: 'member', target: 'm1', limit: 5 });
        await ledger.charge({
          accountId: ORG,
          key: 'c1',
          credits: 5,
          attribution: { member: 'm1' },
        });
        const renewal = (await ledger.getSubscription(ORG)).nextRenewalAt;
        clock.set(renewal + 1000);
        const e = await refusal(
          ledger.charge({ accountId: ORG, key: 'c2', credits: 6, attribution: { member: 'm1' } }),
        );
        assert.equal(e.code, 'budget_exceeded');
        assert.deepEqual(
          [e.data['limit'], e.data['used'], e.data['held'], e.data['requested']],
          [5, 0, 0, 6],
        );
        // The new cycle's budget lets the member spend again, up to its limit.
        await ledger.charge({
          accountId: ORG,
          key: 'c3',
          credits: 5,
          attribution: { member: 'm1' },
        });
        const b = await budgetOf(ledger, 'member', 'm1');
        assert.deepEqual([b.used, b.periodStart], [5, renewal]);
      });
    });

    it('removing a fixed pool budget keeps what the pool announced in its cycle', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        clock.set(T0 + 9 * 86_400_000);
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        const cycle = (await budgetOf(ledger, 'pool')).periodStart;
        // 300 credits of the plan: 160 used passes 50% of the pool.
        await ledger.charge({
          accountId: ORG,
          key: 'c1',
          credits: 160,
          attribution: { member: 'm1' },
        });
        await ledger.setBudget({
          accountId: ORG,
          scope: 'pool',
          limit: 1000,
          mode: 'soft',
          period: 'fixed',
          startsAt: T0,
          endsAt: T0 + 40 * 86_400_000,
        });
        await ledger.removeBudget({ accountId: ORG, scope: 'pool' });
        await ledger.charge({
          accountId: ORG,
          key: 'c2',
          credits: 10,
          attribution: { member: 'm1' },
        });
        const pool = (await ledger.budgetAlerts(ORG)).filter(
          (a) => a.scope === 'pool' && a.periodStart === cycle,
        );
        assert.deepEqual(
          pool.map((a) => a.threshold),
          [50],
          'announced once in the cycle, before and after the fixed window',
        );
      });
    });

    it('a soft budget of 0 alerts at every threshold once something is spent against it', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        await ledger.setBudget({
          accountId: ORG,
          scope: 'member',
          target: 'm1',
          limit: 0,
          mode: 'soft',
        });
        await ledger.charge({
          accountId: ORG,
          key: 'c1',
          credits: 1,
          attribution: { member: 'm1' },
        });
        await ledger.charge({
          accountId: ORG,
          key: 'c2',
          credits: 1,
          attribution: { member: 'm1' },
        });
        const alerts = (await ledger.budgetAlerts(ORG)).filter((a) => a.target === 'm1');
        assert.deepEqual(
          alerts.map((a) => a.threshold).sort((a, b) => a - b),
          [50, 80, 100],
        );
        assert.equal((await budgetOf(ledger, 'member', 'm1')).percent, 100);
      });
    });

    it('a lapsed organization cannot take a plan with fewer seats than members, nor spend past them', async () => {
      await withLedger(open, async ({ ledger, clock }) => {
        await organization(ledger, { plan: 'business', members: ['m1', 'm2', 'm3', 'm4'] });
        await ledger.cancelPlan({ accountId: ORG, key: 'cancel' });
        clock.set((await ledger.getSubscription(ORG)).nextRenewalAt + 1000);
        await ledger.balance(ORG); // the plan ends at its renewal
        const e = await refusal(ledger.subscribe({ accountId: ORG, key: 'again', plan: 'pro' }));
        assert.equal(e.code, 'seat_limit_reached');
        assert.deepEqual([e.data['members'], e.data['seats']], [5, 3]);
        // A catalog that lowers the seats of the plan an organization is on: members wait.
        await ledger.subscribe({ accountId: ORG, key: 'again-b', plan: 'business' });
        const fewer = teamCatalog() as {
          version: string;
          plans: Record<string, { seats: number }>;
        };
        fewer.version = 'teams-test-2';
        fewer.plans['business']!.seats = 3;
        await ledger.loadCatalog(fewer);
        await ledger.activateCatalog('teams-test-2');
        const over = await refusal(
          ledger.charge({ accountId: ORG, key: 'm1-c', credits: 1, attribution: { member: 'm1' } }),
        );
        assert.equal(over.code, 'seat_limit_reached');
        await ledger.charge({
          accountId: ORG,
          key: 'own-c',
          credits: 1,
          attribution: { member: OWNER },
        });
      });
    });

    it('an owner is changed by owners only, and a removed member takes its keys along', async () => {
      await withLedger(open, async ({ ledger, store }) => {
        await organization(ledger, { plan: 'pro', members: ['m1'] });
        const e = await refusal(
          ledger.setMember({
            accountId: ORG,
            memberId: OWNER,
            role: 'owner',
            email: 'evil@example.test',
            actor: 'admin',
          }),
        );
        assert.equal(e.code, 'forbidden');
        assert.equal((await ledger.getMember(ORG, OWNER)).email, null);
        const { ApiKeys } = await import('../../src/service/api-keys.js');
        const keys = new ApiKeys(ledger, { cacheMs: 0 });
        const made = await keys.create({ scope: { accountId: ORG, memberId: 'm1' } });
        assert.equal((await keys.authenticate(made.key))?.kind, 'member');
        await ledger.removeMember({ accountId: ORG, memberId: 'm1' });
        await ledger.setMember({ accountId: ORG, memberId: 'm1', role: 'admin' });
        assert.equal(await keys.authenticate(made.key), null, 'the old key stays revoked');
        assert.notEqual((await store.get('api_keys', { id: made.record.id }))?.revokedAt, null);
      });
    });

    it('inviting a member still invited replaces the code', async () => {
      await withLedger(open, async ({ ledger }) => {
        await organization(ledger, { plan: 'pro' });
        const first = await ledger.setMember({
          accountId: ORG,
          memberId: 'iv',
          role: 'member',
          invite: true,
        });
        const second = await ledger.setMember({
          accountId: ORG,
          memberId: 'iv',
          role: 'member',
          invite: true,
        });
        assert.ok(first.invitationCode && second.invitationCode);
        assert.notEqual(first.invitationCode, second.invitationCode);
        const old = await refusal(
          ledger.acceptInvitation({ accountId: ORG, memberId: 'iv', code: first.invitationCode }),
        );
        assert.equal(old.code, 'invalid_invitation');
        const ok = await ledger.acceptInvitation({
          accountId: ORG,
          memberId: 'iv',
          code: second.invitationCode,
        });
        assert.equal(ok.member.status, 'active');
        assert.equal((await ledger.organization(ORG)).seats, 3);
        await ledger
          .changePlan({ accountId: ORG, key: 'down', plan: 'starter' })
          .catch(() => undefined);
        await ledger.removeMember({ accountId: ORG, memberId: 'iv' });
        await ledger.changePlan({ accountId: ORG, key: 'down-2', plan: 'starter' });
        assert.equal((await ledger.organization(ORG)).seats, 1, 'a pending downgrade counts');
      });
    });
  });
}

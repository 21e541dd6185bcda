/**
 * Statements, usage, outcomes and findings on both stores: a hand-worked scenario on Starter
 * (anchored off the hour, with charges on both sides of a cycle boundary within one hour), and a
 * year of renewals in which every statement balances, chains into the next, and equals the
 * journal recomputed from scratch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAmisiError } from '../../src/core/errors.js';
import type { JournalTransaction } from '../../src/core/journal.js';
import { rollupOf, sumFlows, type FlowRow } from '../../src/core/rollups.js';
import { netOfFlows, type UsageLine } from '../../src/core/reports.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import type { Store } from '../../src/ledger/store.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Cycles start at 14:37:12.345 UTC on the 10th: never on the hour. */
const ANCHOR = Date.UTC(2027, 2, 10, 14, 37, 12, 345);
const APRIL_10 = Date.UTC(2027, 3, 10, 14, 37, 12, 345);

const img = (resolution: string, count = 1) => [
  { operation: 'image.generate', params: { resolution }, count },
];

function line(lines: readonly UsageLine[], key: string) {
  const l = lines.find((x) => x.key === key);
  assert.ok(l, `a line for ${key}`);
  return {
    credits: l.credits,
    units: l.units,
    previous: l.previousCredits,
    bp: l.changeBasisPoints,
  };
}

async function open(
  name: string,
  opener: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  const { store, close } = await opener();
  const clock = new FakeClock(ANCHOR);
  const ledger = new Ledger({ store, clock });
  await ledger.loadCatalog(defaultCatalog());
  return {
    ledger,
    store,
    clock,
    name,
    async close() {
      await ledger.idle();
      await close();
    },
  };
}

for (const [name, opener, skip] of BOTH_STORES) {
  describe(`reports on ${name}`, { skip }, () => {
    it('a Starter cycle, hand-worked: statement, usage against the cycle before, outcomes and findings', async () => {
      const { ledger, clock, close } = await open(name, opener);
      try {
        const id = 'ann';
        await ledger.createAccount({ accountId: id });
        await ledger.subscribe({ accountId: id, key: 'sub', plan: 'starter' }); // 100, cap 50
        // Cycle 0: 29 credits early, a pack of 20, and 1 credit one millisecond before the end.
        clock.advance(3 * DAY);
        await ledger.charge({ accountId: id, key: 'c0', credits: 29 });
        const buy = await ledger.createPurchase({
          accountId: id,
          key: 'buy',
          pack: 'pack-20',
          provider: 'manual',
        });
        await ledger.confirmPayment({ purchaseId: buy.purchase.id, paymentRef: 'pay-1' });
        clock.set(APRIL_10 - 1);
        await ledger.charge({ accountId: id, key: 'c0-last', credits: 1 });

        // Cycle 1 starts in the same hour: the renewal rolls 50 of the 70 left over and lets 20
        // expire (the cap). Images follow, the first at the boundary's very millisecond.
        clock.set(APRIL_10);
        const charge = async (
          key: string,
          resolution: string,
          count: number,
          member: string,
          project: string | null,
        ) =>
          (
            await ledger.charge({
              accountId: id,
              key,
              items: img(resolution, count),
              attribution: { member, project },
            })
          ).transactionId;
        const c1 = await charge('c1', '4k', 1, 'mia', 'launch');
        clock.advance(MINUTE);
        const c2 = await charge('c2', '4k', 1, 'mia', 'launch');
        const c3 = await charge('c3', '4k', 1, 'mia', 'launch');
        clock.advance(MINUTE);
        const c4 = await charge('c4', '4k', 1, 'mia', 'launch');
        const c5 = await charge('c5', '8k', 1, 'mia', null);
        clock.advance(2 * DAY);
        // A hold of three 8K images, captured for two of them (8 of 12 credits).
        const hold = await ledger.hold({
          accountId: id,
          key: 'h6',
          items: img('8k', 3),
          attribution: { member: 'adam' },
        });
        const c6 = (await ledger.capture({ holdId: hold.hold.id, key: 'cap6', credits: 8 }))
          .transactionId;
        const c7 = await charge('c7', '4k', 2, 'adam', null);
        const c8 = await charge('c8', '1080p', 3, 'adam', null);
        const c9 = await charge('c9', '720p', 1, 'adam', null);

        const fox = { concept: 'fox' };
        const outcomes: [string, 'kept' | 'discarded', Record<string, string>][] = [
          [c1, 'discarded', fox],
          [c2, 'discarded', fox],
          [c3, 'discarded', fox],
          [c4, 'kept', { ...fox, use: 'print' }],
          [c5, 'discarded', { use: 'web' }],
          [c6, 'kept', { phase: 'explore' }],
          [c7, 'kept', { use: 'social' }],
          [c8, 'kept', { use: 'thumbnail' }],
          [c9, 'kept', { use: 'thumbnail' }],
        ];
        for (const [transactionId, outcome, labels] of outcomes) {
          const r = await ledger.recordOutcome({ accountId: id, transactionId, outcome, labels });
          assert.equal(r.replay, false);
        }

        // Outcomes: the same again is a replay; a change replaces; the wrong kind or id refuses.
        const again = await ledger.recordOutcome({
          accountId: id,
          transactionId: c1,
          outcome: 'discarded',
          labels: fox,
        });
        assert.equal(again.replay, true);
        assert.equal(again.outcome.credits, 3);
        assert.equal(again.outcome.resolution, '4k');
        const flip = await ledger.recordOutcome({
          accountId: id,
          transactionId: c9,
          outcome: 'discarded',
          labels: { use: 'thumbnail' },
        });
        assert.equal(flip.replay, false);
        await ledger.recordOutcome({
          accountId: id,
          transactionId: c9,
          outcome: 'kept',
          labels: { use: 'thumbnail' },
        });
        const captured = (await ledger.outcomes(id, APRIL_10, clock.now() + 1)).find(
          (o) => o.transactionId === c6,
        )!;
        assert.deepEqual(
          {
            credits: captured.credits,
            units: captured.units,
            resolution: captured.resolution,
            member: captured.member,
          },
          { credits: 8, units: 2, resolution: '8k', member: 'adam' },
        );
        const grantTx = (await ledger.history({ accountId: id, kinds: ['renewal'] }))
          .transactions[0]!.id;
        await assert.rejects(
          ledger.recordOutcome({ accountId: id, transactionId: grantTx, outcome: 'kept' }),
          (e: unknown) => isAmisiError(e) && e.code === 'not_a_charge',
        );
        await assert.rejects(
          ledger.recordOutcome({ accountId: id, transactionId: 'txn_nope', outcome: 'kept' }),
          (e: unknown) => isAmisiError(e) && e.code === 'unknown_transaction',
        );
        await ledger.createAccount({ accountId: 'bob' });
        await assert.rejects(
          ledger.recordOutcome({ accountId: 'bob', transactionId: c1, outcome: 'kept' }),
          (e: unknown) => isAmisiError(e) && e.code === 'unknown_transaction',
          "another account's transaction is unknown",
        );
        await assert.rejects(
          ledger.recordOutcome({ accountId: id, transactionId: c1, outcome: 'maybe' }),
          (e: unknown) => isAmisiError(e) && e.code === 'invalid_argument',
        );

        // Statements. Cycle 0: 100 + 20 granted, 30 spent; the allocation's 70 still there at
        // its last millisecond. Cycle 1: 20 expired (the cap) at its first instant, 50 rolled.
        const s0 = await ledger.statement(id, { cycle: 0 });
        assert.deepEqual(
          {
            from: s0.period.from,
            to: s0.period.to,
            opening: s0.opening,
            granted: s0.granted,
            spent: s0.spent.credits,
            expired: s0.expired.credits,
            closing: s0.closing,
          },
          {
            from: ANCHOR,
            to: APRIL_10,
            opening: 0,
            granted: {
              credits: 120,
              bySource: [
                { source: 'allocation', credits: 100 },
                { source: 'purchase', credits: 20 },
              ],
            },
            spent: 30,
            expired: 0,
            closing: 90,
          },
        );
        const s1 = await ledger.statement(id); // the current cycle
        assert.equal(s1.period.cycle, 1);
        const spent1 = 3 + 3 + 3 + 3 + 4 + 8 + 6 + 6 + 1;
        assert.deepEqual(
          {
            opening: s1.opening,
            granted: s1.granted.credits,
            spent: s1.spent.credits,
            expired: s1.expired,
            rolled: s1.rolledOver,
            cap: s1.lostToCap,
            closing: s1.closing,
          },
          {
            opening: 90,
            granted: 100,
            spent: spent1,
            expired: { credits: 20, bySource: [{ source: 'allocation', credits: 20 }] },
            rolled: 50,
            cap: 20,
            closing: 90 + 100 - spent1 - 20,
          },
        );
        const balance = await ledger.balance(id);
        assert.equal(
          s1.closing,
          balance.available + balance.held,
          'the current cycle closes at the balance',
        );

        // Usage of cycle 1 against cycle 0.
        const u = await ledger.usage(id, { cycle: 1 });
        assert.equal(u.credits, spent1);
        assert.equal(u.previousCredits, 30);
        assert.equal(u.changeBasisPoints, 2333, '(37 - 30) / 30 = 23.33%');
        assert.deepEqual(line(u.byOperation, 'image.generate'), {
          credits: 37,
          units: 13,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byOperation, '(credits)'), {
          credits: 0,
          units: 0,
          previous: 30,
          bp: -10000,
        });
        assert.deepEqual(line(u.byResolution, '4k'), {
          credits: 18,
          units: 6,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byResolution, '8k'), {
          credits: 12,
          units: 3,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byResolution, '1080p'), {
          credits: 6,
          units: 3,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byResolution, '720p'), {
          credits: 1,
          units: 1,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byMember, 'mia'), { credits: 16, units: 5, previous: 0, bp: null });
        assert.deepEqual(line(u.byMember, 'adam'), {
          credits: 21,
          units: 8,
          previous: 0,
          bp: null,
        });
        assert.deepEqual(line(u.byProject, 'launch'), {
          credits: 12,
          units: 4,
          previous: 0,
          bp: null,
        });

        // Findings, by hand:
        // - exploration: discarded c1-c3 (4K, fox, before the kept c4) and c5 (8K), and c6
        //   (8K, phase explore): 6 images, 3+3+3+4+8 = 21 credits; at 720p 6: saving 15;
        // - above the use: c7 (4K for social: 1080p, 2 x 2 = 4 instead of 6) and c8 (1080p for
        //   thumbnails: 720p, 3 instead of 6): 5 images, 12 credits, saving 2 + 3 = 5; c5 (web)
        //   is already counted as exploration, c4 (print at 4K) and c9 (720p) fit their use;
        // - the cycle before bought 20 pack credits while 20 of its allocation expired: 20;
        // - 20 credits lost to the rollover cap at the renewal.
        const audit = await ledger.audit(id, { cycle: 1 });
        assert.deepEqual(
          audit.findings.map((f) => [f.kind, f.credits, f.savingCredits]),
          [
            ['high_resolution_exploration', 21, 15],
            ['resolution_above_use', 12, 5],
            ['allocation_expired_with_packs', 20, 20],
            ['rollover_lost_to_cap', 20, 20],
          ],
        );
        const exploration = audit.findings[0]!.data as {
          images: number;
          discarded: unknown;
          concepts: unknown;
        };
        assert.equal(exploration.images, 6);
        assert.deepEqual(exploration.discarded, { images: 4, credits: 13, savingCredits: 9 });
        assert.deepEqual(exploration.concepts, [
          { concept: 'fox', images: 3, credits: 9, saving: 6 },
        ]);
        assert.equal(audit.outcomes, 9);
        // Cycle 0 has nothing to find: no outcomes, no renewal yet.
        assert.deepEqual((await ledger.audit(id, { cycle: 0 })).findings, []);

        // A range: the last hour of cycle 0 and the first of cycle 1 (both edges inside hours).
        const r = await ledger.statement(id, {
          from: APRIL_10 - 30 * MINUTE,
          to: APRIL_10 + 30 * MINUTE,
        });
        assert.deepEqual(
          [r.opening, r.granted.credits, r.spent.credits, r.expired.credits, r.closing],
          [91, 100, 1 + 3 + 3 + 3 + 3 + 4, 20, 91 + 100 - 17 - 20],
        );
        await assert.rejects(
          ledger.statement(id, { cycle: 1, from: 0, to: 1 }),
          (e: unknown) => isAmisiError(e) && e.code === 'invalid_argument',
        );
        await assert.rejects(
          ledger.statement(id, { from: 10, to: 5 }),
          (e: unknown) => isAmisiError(e) && e.code === 'invalid_argument',
        );
        await assert.rejects(
          ledger.statement('nobody'),
          (e: unknown) => isAmisiError(e) && e.code === 'unknown_account',
        );
      } finally {
        await close();
      }
    });

    it('a year of Pro: every statement balances, chains into the next and equals the journal', async () => {
      const { ledger, store, clock, close } = await open(name, opener);
      try {
        const id = 'yara';
        await ledger.createAccount({ accountId: id });
        await ledger.grant({
          accountId: id,
          key: 'promo',
          credits: 25,
          source: 'promotion',
          expiresAt: ANCHOR + 45 * DAY,
        });
        await ledger.subscribe({ accountId: id, key: 'sub', plan: 'pro' });
        // A deterministic pseudo-random year: charges, holds, packs, a refund, an upgrade.
        let seed = 7;
        const rand = (n: number) => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed % n;
        };
        let key = 0;
        const end = Date.UTC(2028, 2, 10, 14, 37, 12, 345);
        const purchases: string[] = [];
        while (clock.now() < end - DAY) {
          clock.advance(rand(2 * DAY) + 1);
          const roll = rand(20);
          try {
            if (roll < 12) {
              await ledger.charge({
                accountId: id,
                key: `k${++key}`,
                items: img(['720p', '1080p', '4k', '8k'][rand(4)]!, 1 + rand(3)),
              });
            } else if (roll < 15) {
              const h = await ledger.hold({
                accountId: id,
                key: `k${++key}`,
                credits: 1 + rand(9),
                ttlMs: HOUR,
              });
              if (rand(3) > 0)
                await ledger.capture({
                  holdId: h.hold.id,
                  key: `k${++key}`,
                  credits: 1 + rand(h.hold.credits),
                });
            } else if (roll < 17) {
              const p = await ledger.createPurchase({
                accountId: id,
                key: `k${++key}`,
                pack: 'pack-20',
                provider: 'manual',
              });
              await ledger.confirmPayment({ purchaseId: p.purchase.id, paymentRef: `pay-${key}` });
              purchases.push(p.purchase.id);
            } else if (roll === 17 && purchases.length > 0) {
              await ledger.reclaimForRefund({ purchaseId: purchases.shift()!, key: `k${++key}` });
            } else if (roll === 18 && clock.now() > ANCHOR + 200 * DAY) {
              await ledger.changePlan({ accountId: id, key: 'upgrade', plan: 'business' });
            }
          } catch (e) {
            if (!isAmisiError(e)) throw e;
          }
        }
        clock.set(end + 5 * HOUR);
        const journal: JournalTransaction[] = [];
        let cursor: string | undefined;
        for (;;) {
          await ledger.balance(id);
          const page = await ledger.history({
            accountId: id,
            limit: 500,
            ...(cursor ? { before: cursor } : {}),
          });
          journal.push(...page.transactions);
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        const sources = new Map(
          (
            await store.find('grants', { accountId: id }, { order: ['createdAt desc', 'id desc'] })
          ).map((g) => [g.id, g.source]),
        );
        const lookup = { grantSource: (g: string) => sources.get(g)!, holdLines: () => [] };
        const flowsWhere = (keep: (t: JournalTransaction) => boolean): FlowRow[] =>
          sumFlows(journal.filter(keep).flatMap((t) => rollupOf(t, lookup).flows));
        let previousClosing = 0;
        const kinds = new Set<string>();
        for (let n = 0; n <= 12; n++) {
          const s = await ledger.statement(id, { cycle: n });
          assert.equal(s.opening, previousClosing, `cycle ${n} opens where ${n - 1} closed`);
          previousClosing = s.closing;
          const from = s.period.from;
          const to = s.period.to;
          assert.equal(
            s.opening,
            netOfFlows(flowsWhere((t) => t.createdAt < from)),
            `cycle ${n}: opening`,
          );
          const inside = flowsWhere((t) => t.createdAt >= from && t.createdAt < to);
          const total = (flow: string) =>
            inside.filter((r) => r.flow === flow).reduce((a, r) => a + r.credits, 0);
          assert.deepEqual(
            [
              s.granted.credits,
              s.spent.credits,
              s.expired.credits,
              s.refunded.credits,
              s.rolledOver,
              s.lostToCap,
            ],
            ['granted', 'consumed', 'expired', 'refunded', 'rolled', 'capped'].map(total),
            `cycle ${n}: flows`,
          );
          for (const r of inside) kinds.add(r.flow);
        }
        assert.deepEqual([...kinds].sort(), [
          'capped',
          'consumed',
          'expired',
          'granted',
          'refunded',
          'rolled',
        ]);
        const b = await ledger.balance(id);
        assert.equal(previousClosing, b.available + b.held, 'the last cycle closes at the balance');
      } finally {
        await close();
      }
    });
  });
}

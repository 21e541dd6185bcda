import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cycleStart } from '../core/cycles.js';
import { AmisiError, isAmisiError } from '../core/errors.js';
import { Ledger } from '../ledger/ledger.js';
import { FakeClock } from '../ledger/ports.js';
import { openStore } from '../store/open.js';
import { verify } from '../ledger/verify.js';
import { ManualProvider } from './payments/manual/manual-provider.js';
import { PurchaseService } from './purchases.js';

export interface SimulationInput {
  readonly catalog: unknown;
  readonly plan: string;
  readonly startsAt: number;
  readonly months: number;
  /** Credits the customer tries to spend each day. */
  readonly dailyCredits: number;
  /** Buy this pack (paid at once) when a day's spending would not fit. */
  readonly pack: string | null;
}

export interface CycleRow {
  readonly cycle: number;
  readonly startsAt: number;
  readonly allocation: number;
  readonly rollover: number;
  readonly purchased: number;
  readonly spent: number;
  readonly expired: number;
  readonly refused: number;
  readonly closing: number;
}

const DAY = 86_400_000;

/**
 * Plays `months` cycles of one customer on a fake clock in a throwaway SQLite ledger: each day
 * it charges `dailyCredits` (buying `pack` first when short, if given), and reports each
 * cycle from the journal. `verify` runs after every cycle.
 */
export async function simulate(
  input: SimulationInput,
  onCycle?: (done: number, of: number) => void,
  /** Runs on the simulated ledger after the last cycle, at the renewal that ends it. */
  atEnd?: (ledger: Ledger, accountId: string) => Promise<void>,
): Promise<CycleRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'amisi-simulate-'));
  const store = await openStore({
    db: join(dir, 'simulation.db'),
    synchronous: 'NORMAL',
    create: true,
  });
  try {
    const clock = new FakeClock(input.startsAt);
    const ledger = new Ledger({ store, clock });
    const purchases = new PurchaseService(ledger, new ManualProvider());
    await ledger.loadCatalog(input.catalog);
    await ledger.createAccount({ accountId: 'customer' });
    await ledger.subscribe({ accountId: 'customer', key: 'subscribe', plan: input.plan });
    const rows: CycleRow[] = [];
    let day = 0;
    for (let cycle = 0; cycle < input.months; cycle++) {
      const start = cycleStart(input.startsAt, cycle);
      const end = cycleStart(input.startsAt, cycle + 1);
      let refused = 0;
      for (let t = start + DAY / 2; t < end; t += DAY) {
        clock.set(t);
        day += 1;
        refused += await chargeDay(ledger, purchases, input, day);
      }
      // The closing balance is what is left just before the renewal grants the next cycle.
      clock.set(end - 1);
      const closing = (await ledger.balance('customer')).available;
      clock.set(end);
      await ledger.renew();
      const report = await verify(store);
      if (!report.ok) {
        throw new AmisiError('verify_failed', `verify failed after cycle ${cycle}`, {
          violations: report.violations.length,
        });
      }
      rows.push({
        ...(await cycleFigures(ledger, input.startsAt, start, end)),
        cycle,
        startsAt: start,
        refused,
        closing,
      });
      onCycle?.(cycle + 1, input.months);
    }
    await atEnd?.(ledger, 'customer');
    return rows;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One day's charge, buying the pack first when short (if one is given): the credits refused. */
async function chargeDay(
  ledger: Ledger,
  purchases: PurchaseService,
  input: SimulationInput,
  day: number,
): Promise<number> {
  if (input.dailyCredits === 0) return 0;
  const charge = () =>
    ledger.charge({ accountId: 'customer', key: `day-${day}`, credits: input.dailyCredits });
  const refusedFor = (e: unknown): number => {
    if (!isAmisiError(e) || e.code !== 'insufficient_credits') throw e;
    return input.dailyCredits;
  };
  try {
    await charge();
    return 0;
  } catch (e) {
    refusedFor(e);
    if (input.pack === null) return input.dailyCredits;
  }
  const bought = await purchases.buy({
    accountId: 'customer',
    pack: input.pack,
    key: `pack-${day}`,
  });
  await purchases.confirm(bought.purchase.id);
  return charge().then(() => 0, refusedFor);
}

/**
 * One cycle's movements, read back from the journal. The renewal at a boundary belongs to both
 * cycles: what rolls over or expires closes the ending cycle, the new allocation opens the next.
 */
async function cycleFigures(ledger: Ledger, first: number, start: number, end: number) {
  const grants = new Map((await ledger.listGrants('customer')).map((g) => [g.id, g]));
  const totals = { allocation: 0, rollover: 0, purchased: 0, spent: 0, expired: 0 };
  let before: string | undefined;
  for (;;) {
    const page = await ledger.history({
      accountId: 'customer',
      since: start,
      until: end + 1,
      limit: 500,
      ...(before ? { before } : {}),
    });
    for (const t of page.transactions) {
      const opening = t.kind === 'renewal' && t.createdAt === start;
      const closing = t.kind === 'renewal' && t.createdAt === end;
      // Expiries settled at the boundary itself belong to the cycle that ended there.
      if (t.kind !== 'renewal' && t.createdAt === start && start !== first) continue;
      for (const e of t.entries) {
        const source = e.grantId ? grants.get(e.grantId)?.source : undefined;
        if (closing ? e.book === 'issued' : opening && e.book !== 'issued') continue;
        if (e.book === 'issued' && source === 'allocation') totals.allocation -= e.credits;
        if (e.book === 'issued' && source === 'purchase') totals.purchased -= e.credits;
        if (e.book === 'grant' && source === 'rollover' && t.kind === 'renewal' && e.credits > 0)
          totals.rollover += e.credits;
        if (e.book === 'consumed') totals.spent += e.credits;
        if (e.book === 'breakage') totals.expired += e.credits;
      }
    }
    if (!page.nextCursor) break;
    before = page.nextCursor;
  }
  return totals;
}

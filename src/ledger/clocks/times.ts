import { assert } from '../../core/errors.js';
import type { Clock, Ids } from '../ports.js';
import { UlidIds } from '../ports.js';
import type { Reader } from '../store.js';

/** Most accounts whose clock (or none) is remembered; past it the memory starts again. */
const MAX_REMEMBERED = 100_000;

/**
 * Whose time an account runs on: the real clock's, or the test clock it was made on (an
 * account's clock never changes once it exists, so what is read once is remembered). A test
 * clock's time is its row's, but never behind real time: left alone, a clock moves with real
 * time, so nothing is ever due in real time that is not due on its clock (the sweep and the
 * renewal scans, which run in real time, then find nothing on a clocked account that its own
 * maintenance leaves due).
 */
export class AccountTimes {
  private readonly clockOf = new Map<string, string | null>();
  private readonly clockIds = new Map<string, { ids: UlidIds; at: { now: number } }>();

  constructor(
    private readonly store: Reader,
    readonly clock: Clock,
  ) {}

  /** The clock of each account that exists (null: real time); unknown accounts are left out. */
  async clocksOf(accountIds: readonly string[]): Promise<Map<string, string | null>> {
    const missing = [...new Set(accountIds.filter((id) => !this.clockOf.has(id)))];
    if (missing.length > 0) {
      const rows = await this.store.findFor(
        'accounts',
        'id',
        missing,
        {},
        {
          fields: ['id', 'testClockId'],
        },
      );
      if (this.clockOf.size + rows.length > MAX_REMEMBERED) this.clockOf.clear();
      for (const r of rows) this.clockOf.set(r.id, r.testClockId);
    }
    const found = new Map<string, string | null>();
    for (const id of accountIds) {
      const c = this.clockOf.get(id);
      if (c !== undefined) found.set(id, c);
    }
    return found;
  }

  /** A test clock's time as of now: its row's, or real time once that has passed it. */
  effective(clockNow: number): number {
    return Math.max(clockNow, this.clock.now());
  }

  /** What now is for the account: real time, or its test clock's. */
  async nowFor(accountId: string): Promise<number> {
    const clockId = (await this.clocksOf([accountId])).get(accountId) ?? null;
    if (clockId === null) return this.clock.now();
    const c = await this.store.get('test_clocks', { id: clockId }, { fields: ['now'] });
    assert(c, `test clock ${clockId} of ${accountId} exists`);
    return this.effective(c.now);
  }

  /**
   * Ids for a unit of work at a test clock's time: sortable by clock time, counting up within
   * one instant, so a clocked account's journal stays in order as its clock moves.
   */
  idsAt(clockId: string, now: number): Ids {
    let entry = this.clockIds.get(clockId);
    if (!entry) {
      const at = { now };
      entry = { ids: new UlidIds({ now: () => at.now }), at };
      this.clockIds.set(clockId, entry);
    }
    entry.at.now = now;
    return entry.ids;
  }
}

import { AmisiError } from '../../core/errors.js';
import { advanceSteps, TEST_CLOCK_MAX_ADVANCE_MS, type TestClock } from '../../core/clocks.js';
import type { LedgerContext } from '../context.js';
import { BASE, codes, STORE, type UseCaseProblems } from '../problems.js';
import { requireId, requireString, requireTime } from '../validate.js';
import * as clocks from './commands.js';

/** A test clock as readers see it: its time as of now, and the accounts made on it. */
export interface ClockView extends TestClock {
  readonly accounts: readonly string[];
}

/** The problem codes of each use-case below (src/ledger/problems.ts). */
export const CLOCKS_PROBLEMS = {
  createClock: codes(BASE, 'test_clock_exists'),
  getClock: codes(BASE, 'unknown_test_clock'),
  listClocks: STORE,
  advanceClock: codes(BASE, 'unknown_test_clock'),
} as const satisfies UseCaseProblems<ClocksApi>;

/**
 * Test clocks (docs/adr/0016-test-clocks.md): an operator makes a clock, makes accounts on it
 * (AccountsApi.createAccount with `testClockId`) and advances it. Every command on those
 * accounts runs at the clock's time (the committer's clock groups); an advance moves the clock
 * a day at a time and at each step maintains its accounts as the scheduler would, so renewals,
 * rollover, expiries, hold ttls, budget periods, auto top-ups and grant.expiring happen in
 * order, as if that time had passed. Real accounts are never touched.
 */
export class ClocksApi {
  constructor(private readonly ctx: LedgerContext) {}

  async createClock(input: { id: string; name?: string | null; startsAt?: number }) {
    const now = this.ctx.clock.now();
    const startsAt = input.startsAt === undefined ? now : requireTime(input.startsAt, 'start');
    if (startsAt < now) {
      throw new AmisiError(
        'invalid_argument',
        'a test clock starts now or later (it never runs behind real time)',
        { field: 'start', value: startsAt },
      );
    }
    const checked = {
      id: requireId(input.id, 'test clock'),
      name: input.name == null ? null : requireString(input.name, 'name', 200),
      startsAt,
    };
    const r = await this.ctx.committer.submit((b) => clocks.createClock(b, checked));
    return { clock: await this.getClock(r.clock.id), replay: r.replay };
  }

  async getClock(clockId: string): Promise<ClockView> {
    const id = requireId(clockId, 'test clock');
    const row = await this.ctx.store.get('test_clocks', { id });
    if (!row) {
      throw new AmisiError('unknown_test_clock', `unknown test clock "${id}"`, {
        testClockId: id,
      });
    }
    return this.view(row);
  }

  async listClocks(): Promise<ClockView[]> {
    const rows = await this.ctx.store.find('test_clocks', {}, { order: ['id'], limit: 1000 });
    return Promise.all(rows.map((r) => this.view(r)));
  }

  private async view(row: TestClock): Promise<ClockView> {
    const accounts = await this.ctx.store.find(
      'accounts',
      { testClockId: row.id },
      { fields: ['id'], order: ['id'] },
    );
    return { ...row, now: this.ctx.times.effective(row.now), accounts: accounts.map((a) => a.id) };
  }

  /**
   * Advances the clock to `to` (forward only, at most TEST_CLOCK_MAX_ADVANCE_MS at once), one
   * day at a time: at each step the clock moves, then each of its accounts is maintained at
   * the new time. Idempotent: advancing to where the clock is answers it unchanged; a time
   * before it is refused. `onProgress` is told each step's time.
   */
  async advanceClock(input: {
    id: string;
    to: number;
    onProgress?: (at: number, step: number, steps: number) => void;
  }): Promise<ClockView & { readonly steps: number }> {
    const clock = await this.getClock(input.id);
    const to = requireTime(input.to, 'to');
    if (to < clock.now) {
      throw new AmisiError(
        'invalid_argument',
        `a test clock only moves forward: ${clock.id} is at ${new Date(clock.now).toISOString()}, asked for ${new Date(to).toISOString()}`,
        { field: 'to', value: to, now: clock.now },
      );
    }
    if (to - clock.now > TEST_CLOCK_MAX_ADVANCE_MS) {
      throw new AmisiError(
        'invalid_argument',
        `an advance moves a clock at most ${TEST_CLOCK_MAX_ADVANCE_MS / 86_400_000} days; advance again for more`,
        { field: 'to', value: to, max: clock.now + TEST_CLOCK_MAX_ADVANCE_MS },
      );
    }
    if (to === clock.now) return { ...clock, steps: 0 };
    const steps = advanceSteps(clock.now, to);
    const { committer } = this.ctx;
    for (const [i, at] of steps.entries()) {
      await committer.submit((b) => clocks.moveClock(b, clock.id, at, this.ctx.clock.now()), {
        clockId: clock.id,
      });
      await Promise.all(
        clock.accounts.map((accountId) =>
          committer.submit((b) => clocks.maintainOnClock(b, accountId), { accountId }),
        ),
      );
      input.onProgress?.(at, i + 1, steps.length);
    }
    return { ...(await this.getClock(clock.id)), steps: steps.length };
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideAutoTopup,
  nextPeriodStart,
  periodStart,
  type AutoTopup,
} from '../../src/core/autotopup.js';

const utc = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h);

const rule = (fields: Partial<AutoTopup> = {}): AutoTopup => ({
  accountId: 'a',
  pack: 'pack-50',
  thresholdCredits: 20,
  maxPerPeriod: 2,
  period: 'month',
  provider: 'manual',
  armed: true,
  periodStartsAt: utc(2027, 3, 1),
  firedInPeriod: 0,
  lastFiredAt: null,
  updatedAt: 0,
  ...fields,
});

describe('periods', () => {
  it('day, ISO week (from Monday) and calendar month, in UTC', () => {
    const wed = utc(2027, 3, 17, 15); // a Wednesday
    assert.equal(periodStart('day', wed), utc(2027, 3, 17));
    assert.equal(periodStart('week', wed), utc(2027, 3, 15));
    assert.equal(periodStart('week', utc(2027, 3, 15)), utc(2027, 3, 15), 'Monday starts it');
    assert.equal(periodStart('week', utc(2027, 3, 21, 23)), utc(2027, 3, 15), 'Sunday ends it');
    assert.equal(periodStart('month', wed), utc(2027, 3, 1));
    assert.equal(nextPeriodStart('month', utc(2027, 1, 1)), utc(2027, 2, 1));
    assert.equal(nextPeriodStart('week', utc(2027, 3, 15)), utc(2027, 3, 22));
  });
});

describe('decideAutoTopup', () => {
  const now = utc(2027, 3, 10);
  const cases: readonly [string, AutoTopup, number, boolean, Partial<AutoTopup>][] = [
    ['at the threshold: nothing', rule(), 20, false, { armed: true, firedInPeriod: 0 }],
    ['below and armed: fires, disarms', rule(), 19, true, { armed: false, firedInPeriod: 1 }],
    ['below and disarmed: nothing', rule({ armed: false }), 5, false, { armed: false }],
    ['back at the threshold: re-arms', rule({ armed: false }), 20, false, { armed: true }],
    [
      'cap reached: no purchase, stays armed',
      rule({ firedInPeriod: 2 }),
      0,
      false,
      { armed: true, firedInPeriod: 2 },
    ],
    [
      'a new period resets the count and fires',
      rule({ firedInPeriod: 2, periodStartsAt: utc(2027, 2, 1) }),
      0,
      true,
      { armed: false, firedInPeriod: 1, periodStartsAt: utc(2027, 3, 1) },
    ],
  ];
  for (const [name, input, available, fire, expected] of cases) {
    it(name, () => {
      const d = decideAutoTopup(input, available, now);
      assert.equal(d.fire, fire);
      for (const [k, v] of Object.entries(expected)) {
        assert.deepEqual(d.next[k as keyof AutoTopup], v, k);
      }
      if (fire) assert.equal(d.next.lastFiredAt, now);
    });
  }

  it('a burst below the threshold fires once: the decision after a fire does not fire', () => {
    let r = rule({ maxPerPeriod: 10 });
    let fired = 0;
    for (const available of [30, 19, 15, 10, 3, 0]) {
      const d = decideAutoTopup(r, available, now);
      if (d.fire) fired += 1;
      r = d.next;
    }
    assert.equal(fired, 1);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { TRANSACTION_KINDS, type TransactionKind } from '../../src/core/journal.js';
import {
  attributionOf,
  isSubscriptionChange,
  linesOf,
  parseDetail,
} from '../../src/core/journal-detail.js';
import { SAMPLE_DETAILS } from '../fixtures/journal-details.js';

/** The stored text of a detail, read back as a driver would hand it over. */
const stored = (detail: unknown): unknown => JSON.parse(JSON.stringify(detail));

const without = (detail: object, key: string): unknown =>
  Object.fromEntries(Object.entries(detail).filter(([k]) => k !== key));

const NOBODY = { member: null, project: null, labels: {} };

describe('parseDetail: a good row of every kind', () => {
  for (const kind of TRANSACTION_KINDS) {
    it(kind, () => {
      const json = stored(SAMPLE_DETAILS[kind]);
      const parsed = parseDetail(kind, json);
      assert.equal(parsed.kind, kind);
      // The same object, so history answers exactly what was written.
      assert.equal(parsed.detail, json);
    });
  }

  const more: [string, TransactionKind, unknown][] = [
    ['a grant without a reason', 'grant', { source: 'adjustment' }],
    [
      "a purchase's grant",
      'grant',
      {
        source: 'purchase',
        purchaseId: 'pur_1',
        pack: 'small',
        priceCents: 500,
        currency: 'usd',
        paymentRef: 'pi_1',
      },
    ],
    [
      "a request batch's hold",
      'hold',
      { credits: 2, attribution: NOBODY, lines: [], batch: { id: 'bat_1', item: 0 } },
    ],
    [
      "a request batch's first release",
      'release',
      {
        captured: 0,
        released: 2,
        attribution: NOBODY,
        batch: { id: 'bat_1', item: 1, released: [1, 3] },
      },
    ],
    [
      'a subscribe that granted credits (a renewal)',
      'renewal',
      { ...SAMPLE_DETAILS.plan_change, change: 'subscribe', chargeCents: 0 },
    ],
    ['a cancel', 'plan_change', { ...SAMPLE_DETAILS.plan_change, change: 'cancel' }],
    [
      'a key this version does not know (written by a newer server)',
      'capture',
      { captured: 1, released: 0, attribution: NOBODY, note: 'later' },
    ],
  ];
  for (const [name, kind, detail] of more) {
    it(name, () => {
      const json = stored(detail);
      assert.equal(parseDetail(kind, json).detail, json);
    });
  }
});

describe('parseDetail: rows written before a field existed', () => {
  it('a hold expiry without attribution (before the teams review)', () => {
    const old = stored(without(SAMPLE_DETAILS.hold_expiry, 'attribution'));
    const parsed = parseDetail('hold_expiry', old);
    assert.equal(parsed.kind === 'hold_expiry' && parsed.detail.attribution, undefined);
    assert.equal(attributionOf(parsed), null);
  });

  it('a plan change whose subscription has no providerRef (before provider billing)', () => {
    const detail = SAMPLE_DETAILS.plan_change;
    const old = stored({ ...detail, subscription: without(detail.subscription, 'providerRef') });
    const parsed = parseDetail('plan_change', old);
    assert.ok(parsed.kind === 'plan_change');
    assert.equal(parsed.detail.subscription.providerRef, undefined);
  });
});

describe('parseDetail: malformed rows', () => {
  const good = SAMPLE_DETAILS;
  const cases: [string, string, unknown, RegExp][] = [
    ['an unknown kind', 'gift', {}, /kind gift is known/],
    ['detail that is not an object', 'grant', 'promotion', /detail is an object/],
    ['detail that is a list', 'charge', [], /detail is an object/],
    ['a grant from an unknown source', 'grant', { source: 'gift' }, /detail\.source is one of/],
    ['a reason that is not text', 'grant', { source: 'promotion', reason: 7 }, /detail\.reason/],
    [
      "a purchase's grant without its price",
      'grant',
      without(
        {
          ...good.grant,
          source: 'purchase',
          purchaseId: 'p',
          pack: 'x',
          currency: 'usd',
          paymentRef: 'r',
          priceCents: 1,
        },
        'priceCents',
      ),
      /detail\.priceCents is a safe integer/,
    ],
    ['a charge without credits', 'charge', without(good.charge, 'credits'), /detail\.credits/],
    [
      'fractional credits',
      'hold',
      { ...good.hold, credits: 1.5 },
      /detail\.credits is a safe integer/,
    ],
    ['credits as text', 'capture', { ...good.capture, captured: '2' }, /detail\.captured/],
    ['a charge without lines', 'charge', without(good.charge, 'lines'), /detail\.lines is a list/],
    [
      'a quote line without its count',
      'hold',
      { ...good.hold, lines: [without(good.hold.lines[0]!, 'count')] },
      /detail\.lines\[0\]\.count is a safe integer/,
    ],
    [
      'a label that is not text',
      'charge',
      { ...good.charge, attribution: { ...NOBODY, labels: { phase: 1 } } },
      /detail\.attribution\.labels\.phase is a string/,
    ],
    [
      'a capture without attribution',
      'capture',
      without(good.capture, 'attribution'),
      /detail\.attribution is an object/,
    ],
    [
      'a batch release listing text',
      'release',
      { ...good.release, batch: { id: 'b', item: 0, released: ['1'] } },
      /detail\.batch\.released\[0\] is a safe integer/,
    ],
    [
      'a renewal without ended',
      'renewal',
      without(good.renewal, 'ended'),
      /detail\.ended is true or false/,
    ],
    [
      'an unknown plan change',
      'plan_change',
      { ...good.plan_change, change: 'pause' },
      /detail\.change is one of/,
    ],
    [
      'a subscription with an unknown status',
      'plan_change',
      { ...good.plan_change, subscription: { ...good.plan_change.subscription, status: 'paused' } },
      /detail\.subscription\.status is one of active, ended/,
    ],
    [
      'a refund without full',
      'refund',
      without(good.refund, 'full'),
      /detail\.full is true or false/,
    ],
    [
      'a grant expiry without credits',
      'grant_expiry',
      without(good.grant_expiry, 'credits'),
      /detail\.credits/,
    ],
  ];
  for (const [name, kind, detail, message] of cases) {
    it(name, () => {
      assert.throws(
        () => parseDetail(kind, stored(detail), 'transaction txn_1 of acc'),
        (e: Error) => {
          assert.match(e.message, /^invariant violated: transaction txn_1 of acc: /);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});

describe('reading a detail by kind', () => {
  it('attribution and lines of the kinds that have them, none for the others', () => {
    const of = (kind: TransactionKind) => parseDetail(kind, stored(SAMPLE_DETAILS[kind]));
    assert.deepEqual(attributionOf(of('charge'))?.member, 'mia');
    assert.equal(attributionOf(of('grant')), null);
    assert.equal(attributionOf(of('renewal')), null);
    assert.equal(linesOf(of('hold')).length, 1);
    assert.equal(linesOf(of('capture')).length, 0);
  });

  it('a renewal is a cycle renewal or a subscribe', () => {
    assert.equal(isSubscriptionChange(SAMPLE_DETAILS.renewal), false);
    assert.equal(isSubscriptionChange(SAMPLE_DETAILS.plan_change), true);
  });
});

describe('canonicalJson', () => {
  it('is independent of key order at every depth, and keeps list order', () => {
    const a = { b: 1, a: { d: [2, 1], c: null } };
    const b = { a: { c: null, d: [2, 1] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"c":null,"d":[2,1]},"b":1}');
    assert.notEqual(canonicalJson({ l: [1, 2] }), canonicalJson({ l: [2, 1] }));
  });
});

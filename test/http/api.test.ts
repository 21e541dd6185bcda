import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type TestServer } from './http-helpers.js';

/**
 * Every endpoint through real HTTP with good and bad input, on each store. Every response is
 * checked against /openapi.json by the helper.
 */

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`HTTP API on ${storeName}`, { skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ open });
    });
    after(async () => s?.close());

    it('accounts: create (idempotent by id), get, list in pages; bad and unknown ids', async () => {
      const created = ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice' } }), 201);
      assert.deepEqual(json(created).account.id, 'alice');
      assert.equal(created.replay, false);
      const again = await s.call('POST', '/v1/accounts', { body: { id: 'alice' } });
      assert.equal(ok(again, 201).replay, true);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: 'alice', plan: 'platinum' } }),
        400,
        'invalid_parameter',
      );
      problem(
        await s.call('POST', '/v1/accounts', { body: { id: '-bad id' } }),
        400,
        'invalid_argument',
      );
      problem(await s.call('POST', '/v1/accounts', { body: {} }), 400, 'invalid_argument');
      for (const id of ['bob', 'carol', 'dave']) {
        ok(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      }
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/alice'))).id, 'alice');
      problem(await s.call('GET', '/v1/accounts/nobody'), 404, 'unknown_account');
      const first = json(ok(await s.call('GET', '/v1/accounts?limit=2')));
      assert.deepEqual(
        first.accounts.map((a: { id: string }) => a.id),
        ['alice', 'bob'],
      );
      const next = json(ok(await s.call('GET', `/v1/accounts?limit=2&cursor=${first.nextCursor}`)));
      assert.deepEqual(
        next.accounts.map((a: { id: string }) => a.id),
        ['carol', 'dave'],
      );
      problem(await s.call('GET', '/v1/accounts?limit=0'), 400, 'invalid_argument');
    });

    it('catalog, packs and plans of the active catalog', async () => {
      const catalog = json(ok(await s.call('GET', '/v1/catalog')));
      assert.equal(catalog.body.operations['image.generate'].price.table['8k'], 4);
      const packs = json(ok(await s.call('GET', '/v1/catalog/packs')));
      assert.deepEqual(
        packs.packs.map((p: { credits: number; priceCents: number }) => [p.credits, p.priceCents]),
        [
          [20, 999],
          [50, 1999],
          [100, 3499],
          [200, 5999],
        ],
      );
      const plans = json(ok(await s.call('GET', '/v1/catalog/plans')));
      assert.ok(plans.plans.some((p: { id: string }) => p.id === 'pro'));
    });

    it('quotes: priced line by line; unknown operations and parameters are refused', async () => {
      const q = json(
        ok(
          await s.call('POST', '/v1/quotes', {
            body: {
              items: [
                { operation: 'image.generate', params: { resolution: '4k' }, count: 2 },
                { operation: 'image.generate', params: { resolution: '720p' } },
              ],
            },
          }),
        ),
      );
      assert.equal(q.credits, 7);
      problem(
        await s.call('POST', '/v1/quotes', { body: { items: [{ operation: 'video.make' }] } }),
        400,
        'unknown_operation',
      );
      problem(
        await s.call('POST', '/v1/quotes', {
          body: { items: [{ operation: 'image.generate', params: { resolution: '16k' } }] },
        }),
        400,
        'invalid_parameter',
      );
      problem(await s.call('POST', '/v1/quotes', { body: { items: [] } }), 400, 'invalid_argument');
    });

    it('grants: the Idempotency-Key is required, credits are whole and positive', async () => {
      const body = { accountId: 'alice', credits: 300, source: 'allocation' };
      const missing = problem(
        await s.call('POST', '/v1/grants', { body }),
        400,
        'invalid_argument',
      );
      assert.match(String(missing.detail), /Idempotency-Key header is required/);
      const g = json(ok(await s.call('POST', '/v1/grants', { body, idem: 'alloc-1' }), 201));
      assert.equal(g.grant.amount, 300);
      assert.equal(g.replay, false);
      const replay = json(ok(await s.call('POST', '/v1/grants', { body, idem: 'alloc-1' }), 201));
      assert.deepEqual({ ...replay, replay: false }, g, 'a replay answers the original result');
      assert.equal(replay.replay, true);
      problem(
        await s.call('POST', '/v1/grants', { body: { ...body, credits: 301 }, idem: 'alloc-1' }),
        422,
        'idempotency_key_reused',
      );
      for (const credits of [0, -1, 1.5, '5']) {
        problem(
          await s.call('POST', '/v1/grants', {
            body: { ...body, credits },
            idem: `bad-${credits}`,
          }),
          400,
          'invalid_credits',
        );
      }
      problem(
        await s.call('POST', '/v1/grants', { body: { ...body, source: 'gift' }, idem: 'g-src' }),
        400,
        'invalid_argument',
      );
      problem(
        await s.call('POST', '/v1/grants', { body: { ...body, expiresAtt: 1 }, idem: 'g-typo' }),
        400,
        'invalid_argument',
      );
      problem(
        await s.call('POST', '/v1/grants', { body: { ...body, accountId: 'nobody' }, idem: 'g-x' }),
        404,
        'unknown_account',
      );
      problem(
        await s.call('POST', '/v1/grants', { body, idem: 'has space' }),
        400,
        'invalid_argument',
      );
      ok(
        await s.call('POST', '/v1/grants', {
          body: {
            accountId: 'alice',
            credits: 20,
            source: 'purchase',
            expiresAt: Date.now() + 86_400_000,
            reason: 'pack',
          },
          idem: 'pack-1',
        }),
        201,
      );
    });

    it('holds: create, get, capture part, release; each resolves once', async () => {
      const h = json(
        ok(
          await s.call('POST', '/v1/holds', {
            body: {
              accountId: 'alice',
              items: [{ operation: 'image.generate', params: { resolution: '8k' }, count: 3 }],
              ttlMs: 60_000,
              attribution: { member: 'bob', project: 'launch', labels: { phase: 'final' } },
            },
            idem: 'job-42',
          }),
          201,
        ),
      );
      assert.equal(h.hold.credits, 12);
      assert.equal(h.hold.attribution.project, 'launch');
      const id = h.hold.id as string;
      assert.equal(json(ok(await s.call('GET', `/v1/holds/${id}`))).status, 'held');
      problem(
        await s.call('POST', `/v1/holds/${id}/capture`, { body: { credits: 13 }, idem: 'cap-x' }),
        409,
        'capture_exceeds_hold',
      );
      const cap = json(
        ok(
          await s.call('POST', `/v1/holds/${id}/capture`, { body: { credits: 8 }, idem: 'cap-1' }),
        ),
      );
      assert.deepEqual([cap.capturedCredits, cap.releasedCredits], [8, 4]);
      const capReplay = json(
        ok(
          await s.call('POST', `/v1/holds/${id}/capture`, { body: { credits: 8 }, idem: 'cap-1' }),
        ),
      );
      assert.equal(capReplay.replay, true);
      problem(
        await s.call('POST', `/v1/holds/${id}/capture`, { idem: 'cap-2' }),
        409,
        'hold_already_captured',
      );
      problem(
        await s.call('POST', `/v1/holds/${id}/release`, { idem: 'rel-0' }),
        409,
        'hold_already_captured',
      );

      const h2 = json(
        ok(
          await s.call('POST', '/v1/holds', {
            body: { accountId: 'alice', credits: 5 },
            idem: 'job-43',
          }),
          201,
        ),
      );
      const rel = json(
        ok(await s.call('POST', `/v1/holds/${h2.hold.id}/release`, { idem: 'rel-1' })),
      );
      assert.equal(rel.releasedCredits, 5);
      problem(
        await s.call('POST', `/v1/holds/${h2.hold.id}/release`, { idem: 'rel-2' }),
        409,
        'hold_already_released',
      );
      // Capture with no body at all takes everything held.
      const h3 = json(
        ok(
          await s.call('POST', '/v1/holds', {
            body: { accountId: 'alice', credits: 2 },
            idem: 'job-44',
          }),
          201,
        ),
      );
      assert.equal(
        json(ok(await s.call('POST', `/v1/holds/${h3.hold.id}/capture`, { idem: 'cap-3' })))
          .capturedCredits,
        2,
      );
    });

    it('holds: bad input is refused and changes nothing', async () => {
      const before = json(ok(await s.call('GET', '/v1/accounts/alice/balance')));
      const cases: [unknown, number, string][] = [
        [{ accountId: 'alice' }, 400, 'invalid_argument'],
        [
          { accountId: 'alice', credits: 1, items: [{ operation: 'image.generate' }] },
          400,
          'invalid_argument',
        ],
        [{ accountId: 'alice', credits: 1, ttlMs: 10 }, 400, 'invalid_argument'],
        [{ accountId: 'alice', credits: 100_000 }, 402, 'insufficient_credits'],
        [{ accountId: 'nobody', credits: 1 }, 404, 'unknown_account'],
        [
          { accountId: 'alice', credits: 1, attribution: { labels: { 'Bad Key': 'x' } } },
          400,
          'invalid_argument',
        ],
      ];
      for (const [i, [body, status, code]] of cases.entries()) {
        problem(
          await s.call('POST', '/v1/holds', { body, idem: `bad-hold-${i}` }),
          status,
          code as never,
        );
      }
      problem(await s.call('GET', '/v1/holds/hld_nope'), 404, 'unknown_hold');
      problem(
        await s.call('POST', '/v1/holds/hld_nope/capture', { idem: 'x' }),
        404,
        'unknown_hold',
      );
      problem(
        await s.call('POST', '/v1/holds', {
          raw: '{"accountId":',
          idem: 'j',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid_argument',
      );
      problem(
        await s.call('POST', '/v1/holds', {
          raw: 'credits=1',
          idem: 'j',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'unsupported_media_type',
      );
      const after = json(ok(await s.call('GET', '/v1/accounts/alice/balance')));
      assert.deepEqual([after.available, after.held], [before.available, before.held]);
    });

    it('charges: a replay never charges twice; a reused key is refused', async () => {
      const body = {
        accountId: 'alice',
        items: [{ operation: 'image.generate', params: { resolution: '720p' } }],
      };
      const before = json(ok(await s.call('GET', '/v1/accounts/alice/balance'))).available;
      const c = json(ok(await s.call('POST', '/v1/charges', { body, idem: 'thumb-7' }), 201));
      assert.equal(c.credits, 1);
      const again = await s.call('POST', '/v1/charges', { body, idem: 'thumb-7' });
      assert.deepEqual({ ...json(ok(again, 201)), replay: false }, c);
      assert.equal(json(again.body).replay, true);
      assert.equal(
        json(ok(await s.call('GET', '/v1/accounts/alice/balance'))).available,
        before - 1,
      );
      problem(
        await s.call('POST', '/v1/charges', {
          body: { accountId: 'alice', credits: 2 },
          idem: 'thumb-7',
        }),
        422,
        'idempotency_key_reused',
      );
      problem(
        await s.call('POST', '/v1/charges', {
          body: { accountId: 'alice', credits: 10_000_000 },
          idem: 'big',
        }),
        402,
        'insufficient_credits',
      );
      problem(
        await s.call('POST', '/v1/charges', { body: { accountId: 'alice', credits: 1 } }),
        400,
        'invalid_argument',
      );
    });

    it('balance and history: per grant, next expiry; history pages with cursor and filters', async () => {
      const b = json(ok(await s.call('GET', '/v1/accounts/alice/balance')));
      assert.equal(b.grants.length, 2);
      const expiring = b.grants.find((g: { expiresAt: number | null }) => g.expiresAt !== null);
      assert.deepEqual(b.nextExpiry, { at: expiring.expiresAt, credits: expiring.remaining });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const page = json(ok(await s.call('GET', `/v1/accounts/alice/history?limit=2${q}`)));
        seen.push(...page.transactions.map((t: { id: string }) => t.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 50);
      assert.ok(pages >= 3, 'several pages');
      assert.deepEqual([...seen].sort().reverse(), seen, 'newest first, no repeats across pages');
      assert.equal(new Set(seen).size, seen.length);
      const grants = json(ok(await s.call('GET', '/v1/accounts/alice/history?kind=grant')));
      assert.ok(grants.transactions.every((t: { kind: string }) => t.kind === 'grant'));
      assert.equal(grants.transactions.length, 2);
      const two = json(
        ok(await s.call('GET', '/v1/accounts/alice/history?kind=grant&kind=charge')),
      );
      assert.ok(two.transactions.some((t: { kind: string }) => t.kind === 'charge'));
      problem(await s.call('GET', '/v1/accounts/alice/history?kind=gift'), 400, 'invalid_argument');
      problem(await s.call('GET', '/v1/accounts/alice/history?limit=501'), 400, 'invalid_argument');
      problem(
        await s.call('GET', '/v1/accounts/alice/history?since=yesterday'),
        400,
        'invalid_argument',
      );
      problem(await s.call('GET', '/v1/accounts/nobody/history'), 404, 'unknown_account');
      problem(await s.call('GET', '/v1/accounts/nobody/balance'), 404, 'unknown_account');
    });

    it('subscriptions: subscribe, upgrade, cancel, show', async () => {
      problem(await s.call('GET', '/v1/accounts/carol/subscription'), 404, 'no_subscription');
      const sub = json(
        ok(
          await s.call('POST', '/v1/accounts/carol/subscription', {
            body: { plan: 'pro' },
            idem: 'sub-carol',
          }),
          201,
        ),
      );
      assert.deepEqual([sub.change, sub.credits, sub.subscription.plan], ['subscribe', 300, 'pro']);
      problem(
        await s.call('POST', '/v1/accounts/carol/subscription', {
          body: { plan: 'pro' },
          idem: 'sub-2',
        }),
        409,
        'subscription_exists',
      );
      problem(
        await s.call('POST', '/v1/accounts/dave/subscription', {
          body: { plan: 'gold' },
          idem: 'sub-3',
        }),
        400,
        'invalid_parameter',
      );
      const up = json(
        ok(
          await s.call('POST', '/v1/accounts/carol/subscription/change', {
            body: { plan: 'business' },
            idem: 'up-1',
          }),
        ),
      );
      assert.equal(up.change, 'upgrade');
      problem(
        await s.call('POST', '/v1/accounts/dave/subscription/change', {
          body: { plan: 'pro' },
          idem: 'up-2',
        }),
        404,
        'no_subscription',
      );
      const cancel = json(
        ok(await s.call('POST', '/v1/accounts/carol/subscription/cancel', { idem: 'c-1' })),
      );
      assert.equal(cancel.change, 'cancel');
      const shown = json(ok(await s.call('GET', '/v1/accounts/carol/subscription')));
      assert.equal(shown.plan, 'business');
      assert.notEqual(shown.cancelAt, null);
      problem(await s.call('GET', '/v1/accounts/nobody/subscription'), 404, 'unknown_account');
    });

    it('purchases: buy, confirm (manual) grants once, list, refund once', async () => {
      const bought = json(
        ok(
          await s.call('POST', '/v1/purchases', {
            body: { accountId: 'dave', pack: 'pack-50' },
            idem: 'buy-1',
          }),
          201,
        ),
      );
      assert.equal(bought.purchase.status, 'pending');
      assert.equal(bought.checkoutUrl, null);
      const id = bought.purchase.id as string;
      problem(
        await s.call('POST', '/v1/purchases', {
          body: { accountId: 'dave', pack: 'pack-51' },
          idem: 'buy-2',
        }),
        400,
        'unknown_pack',
      );
      const confirmed = json(ok(await s.call('POST', `/v1/purchases/${id}/confirm`)));
      assert.equal(confirmed.purchase.status, 'paid');
      assert.equal(confirmed.replay, false);
      assert.equal(json(ok(await s.call('POST', `/v1/purchases/${id}/confirm`))).replay, true);
      assert.equal(json(ok(await s.call('GET', '/v1/accounts/dave/balance'))).available, 50);
      assert.equal(json(ok(await s.call('GET', `/v1/purchases/${id}`))).status, 'paid');
      const list = json(ok(await s.call('GET', '/v1/accounts/dave/purchases')));
      assert.deepEqual(
        list.purchases.map((p: { id: string }) => p.id),
        [id],
      );
      const refund = json(
        ok(await s.call('POST', `/v1/purchases/${id}/refund`, { body: {}, idem: 'r-1' })),
      );
      assert.equal(refund.purchase.status, 'refunded');
      assert.equal(refund.purchase.refundedCents, 1999);
      assert.equal(
        json(ok(await s.call('POST', `/v1/purchases/${id}/refund`, { idem: 'r-1' }))).replay,
        true,
      );
      problem(
        await s.call('POST', `/v1/purchases/${id}/refund`, { idem: 'r-2' }),
        409,
        'purchase_not_refundable',
      );
      problem(await s.call('GET', '/v1/purchases/pur_nope'), 404, 'unknown_purchase');
      problem(await s.call('POST', '/v1/purchases/pur_nope/confirm'), 404, 'unknown_purchase');
      problem(
        await s.call('POST', '/v1/purchases/pur_nope/refund', { idem: 'r-3' }),
        404,
        'unknown_purchase',
      );
      problem(await s.call('GET', '/v1/accounts/nobody/purchases'), 404, 'unknown_account');
    });

    it('verify: a clean ledger reports ok', async () => {
      const report = json(ok(await s.call('GET', '/v1/verify')));
      assert.equal(report.ok, true);
      assert.ok(report.accounts >= 4);
    });

    it('unknown routes are not_found problems', async () => {
      problem(await s.call('GET', '/v1/nope'), 404, 'not_found');
      problem(await s.call('DELETE', '/v1/accounts/alice'), 404, 'not_found');
    });
  });
}

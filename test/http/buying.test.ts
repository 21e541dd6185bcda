import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify } from '../../src/ledger/verify.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { ok, problem, startServer, type Reply, type TestServer } from './http-helpers.js';

/** The answer's JSON body, after its status is checked. */
const ok$ = (r: Reply, status = 200) => ok(r, status) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Buying over HTTP with the manual provider: several packs in one purchase (one payment, the
 * credits of every line granted once when it is paid), and cancelling a pending purchase (no
 * credits move; a paid one cannot be cancelled; a payment that arrives anyway is granted).
 * The default catalog's packs: pack-20 (20 credits, $9.99) and pack-50 (50, $19.99).
 */

const COMBINATION = [
  { pack: 'pack-50', count: 2 },
  { pack: 'pack-20', count: 1 },
];

for (const [storeName, open, skip] of BOTH_STORES) {
  describe(`buying on ${storeName}`, { skip }, () => {
    let s: TestServer;
    let key: string;
    const available = async (id: string) => (await s.ledger.balance(id)).available;
    const buy = (body: Record<string, unknown>, idem: string, k: string | null = key) =>
      s.call('POST', '/v1/purchases', { idem, key: k, body: { accountId: 'ann', ...body } });
    const cancel = (id: string, k: string | null = key) =>
      s.call('POST', `/v1/purchases/${id}/cancel`, { key: k });
    const purchaseCount = async () =>
      (ok$(await s.call('GET', '/v1/accounts/ann/purchases', { key })).purchases as unknown[])
        .length;

    before(async () => {
      s = await startServer({ open });
      for (const id of ['ann', 'bob']) {
        ok$(await s.call('POST', '/v1/accounts', { body: { id } }), 201);
      }
      key = await s.keyFor('ann');
    });
    after(async () => s?.close());

    it('a combination is one purchase of several lines, one payment, granted once', async () => {
      const before = await available('ann');
      const first = ok$(await buy({ packs: COMBINATION }, 'combo-1'), 201);
      const p = first.purchase;
      assert.equal(first.checkoutUrl, null, 'the manual provider: an operator confirms');
      const catalog = ok$(await s.call('GET', '/v1/catalog/packs', { key }));
      assert.equal(catalog.provider, 'manual', 'the packs say how they are paid');
      assert.deepEqual(
        [p.status, p.pack, p.credits, p.priceCents, p.currency],
        ['pending', 'pack-50x2+pack-20', 120, 2 * 1999 + 999, 'usd'],
      );
      assert.deepEqual(p.lines, [
        {
          pack: 'pack-50',
          unitCredits: 50,
          unitPriceCents: 1999,
          count: 2,
          credits: 100,
          priceCents: 3998,
        },
        {
          pack: 'pack-20',
          unitCredits: 20,
          unitPriceCents: 999,
          count: 1,
          credits: 20,
          priceCents: 999,
        },
      ]);
      // A replay answers the first answer; the same key with other packs is refused.
      const again = await buy({ packs: COMBINATION }, 'combo-1');
      assert.equal(ok$(again, 201).purchase.id, p.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      problem(
        await buy({ packs: [{ pack: 'pack-50', count: 3 }] }, 'combo-1'),
        422,
        'idempotency_key_reused',
      );
      assert.equal(await available('ann'), before, 'no credits before the payment');

      const confirm = `/v1/purchases/${p.id}/confirm`;
      const paid = ok$(await s.call('POST', confirm, { body: { paymentRef: 'bank-1' } }));
      assert.deepEqual([paid.purchase.status, paid.replay], ['paid', false]);
      assert.equal(await available('ann'), before + 120, 'every line granted');
      assert.equal(ok$(await s.call('POST', confirm, { body: {} })).replay, true);
      assert.equal(await available('ann'), before + 120, 'confirmed twice, granted once');
      const history = ok$(await s.call('GET', '/v1/accounts/ann/history', { key }));
      const grants = (history.transactions as { kind: string; grantId: string | null }[]).filter(
        (t) => t.kind === 'grant' && t.grantId === paid.purchase.grantId,
      );
      assert.equal(grants.length, 1, 'one grant for the whole purchase');
      // A one-pack purchase is the one-line case of the same thing.
      const single = ok$(await buy({ pack: 'pack-20' }, 'single-1'), 201).purchase;
      assert.equal(single.pack, 'pack-20');
      assert.deepEqual(
        single.lines.map((l: { pack: string; count: number }) => [l.pack, l.count]),
        [['pack-20', 1]],
      );
      assert.ok((await verify(s.store)).ok);
    });

    it('bad packs are refused with a stable code and change nothing', async () => {
      const count = await purchaseCount();
      const eleven = Array.from({ length: 11 }, (_, i) => ({ pack: `pack-${i}`, count: 1 }));
      const cases: [Record<string, unknown>, number, string][] = [
        [{ packs: [{ pack: 'pack-999', count: 1 }] }, 400, 'unknown_pack'],
        [{ packs: [{ pack: 'pack-20', count: 0 }] }, 400, 'invalid_argument'],
        [{ packs: [{ pack: 'pack-20', count: 101 }] }, 400, 'invalid_argument'],
        [{ packs: [{ pack: 'pack-20', count: 1.5 }] }, 400, 'invalid_argument'],
        [{ packs: [] }, 400, 'invalid_argument'],
        [{ packs: eleven }, 400, 'invalid_argument'],
        [{ packs: [COMBINATION[1], COMBINATION[1]] }, 400, 'invalid_argument'],
        [{ pack: 'pack-20', packs: COMBINATION }, 400, 'invalid_argument'],
        [{}, 400, 'invalid_argument'],
      ];
      for (const [i, [body, status, code]] of cases.entries()) {
        problem(await buy(body, `bad-${i}`), status, code as never);
      }
      assert.equal(await purchaseCount(), count, 'nothing was bought');
    });

    it('a pending purchase is cancelled once; no credits move; a paid one is not pending', async () => {
      const before = await available('ann');
      const p = ok$(await buy({ packs: COMBINATION }, 'to-cancel'), 201).purchase;
      const cancelled = ok$(await cancel(p.id));
      assert.deepEqual(
        [cancelled.purchase.status, cancelled.replay, cancelled.transactionId],
        ['cancelled', false, null],
      );
      assert.equal(typeof cancelled.purchase.cancelledAt, 'number');
      const again = await cancel(p.id);
      assert.deepEqual(
        [ok$(again).replay, ok$(again).purchase.cancelledAt],
        [true, cancelled.purchase.cancelledAt],
      );
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(await available('ann'), before, 'cancelling moves no credits');
      const listed = ok$(await s.call('GET', `/v1/purchases/${p.id}`, { key }));
      assert.equal(listed.status, 'cancelled');

      // A payment that still arrives for it is granted: money paid buys what it was paid for.
      const late = ok$(await s.call('POST', `/v1/purchases/${p.id}/confirm`, { body: {} }));
      assert.deepEqual(
        [late.purchase.status, late.purchase.cancelledAt],
        ['paid', cancelled.purchase.cancelledAt],
      );
      assert.equal(await available('ann'), before + 120);
      problem(await cancel(p.id), 409, 'purchase_not_pending');

      // Refunded is not pending either.
      const refunded = ok$(
        await s.call('POST', `/v1/purchases/${p.id}/refund`, { idem: 'refund-1', body: {} }),
      );
      assert.equal(refunded.purchase.status, 'refunded');
      problem(await cancel(p.id), 409, 'purchase_not_pending');
      assert.ok((await verify(s.store)).ok);
    });

    it("another account's purchase looks unknown, and a read-only key cannot cancel", async () => {
      const p = ok$(await buy({ pack: 'pack-20' }, 'ann-pending'), 201).purchase;
      const bobKey = await s.keyFor('bob');
      problem(await cancel(p.id, bobKey), 404, 'unknown_purchase');
      problem(await cancel('pur_01AAAAAAAAAAAAAAAAAAAAAAAA'), 404, 'unknown_purchase');
      problem(await cancel(p.id, await s.keyFor('ann', true)), 403, 'forbidden');
      problem(await cancel(p.id, null), 401, 'unauthorized');
      assert.equal(ok$(await s.call('GET', `/v1/purchases/${p.id}`, { key })).status, 'pending');
      // The operator may cancel for the account.
      assert.equal(ok$(await cancel(p.id, s.operatorKey)).purchase.status, 'cancelled');
    });
  });
}

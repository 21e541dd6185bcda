import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Grant } from '../../src/core/grants.js';
import type { Hold } from '../../src/core/holds.js';
import type { JournalTransaction } from '../../src/core/journal.js';
import type { ApiKeyRecord, Store } from '../../src/ledger/store.js';

/**
 * The one suite every Store adapter must pass (Hono-style: one interface, one shared suite).
 * It speaks only the port; `open` gives a fresh, migrated, empty store.
 */
export interface StoreUnderTest {
  readonly store: Store;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;
const id = (prefix: string) => `${prefix}_${String(T0 + seq++).padStart(16, '0')}`;

function grant(accountId: string, over: Partial<Grant> = {}): Grant {
  return {
    accountId,
    id: id('grt'),
    source: 'purchase',
    amount: 10,
    remaining: 10,
    startsAt: T0,
    expiresAt: null,
    createdAt: T0,
    ...over,
  };
}

function hold(accountId: string, grantId: string, over: Partial<Hold> = {}): Hold {
  return {
    accountId,
    id: id('hld'),
    status: 'held',
    credits: 3,
    capturedCredits: 0,
    draws: [{ grantId, credits: 3 }],
    expiresAt: T0 + 60_000,
    createdAt: T0,
    resolvedAt: null,
    catalogVersion: 'v1',
    quote: null,
    attribution: { member: 'm', project: null, labels: { phase: 'explore' } },
    ...over,
  };
}

function tx(accountId: string, over: Partial<JournalTransaction> = {}): JournalTransaction {
  const g = over.grantId ?? 'g';
  return {
    accountId,
    id: id('txn'),
    kind: 'grant',
    createdAt: T0,
    idempotencyKey: null,
    holdId: null,
    grantId: g,
    catalogVersion: null,
    detail: { note: 'x' },
    entries: [
      { book: 'issued', grantId: g, holdId: null, credits: -10 },
      { book: 'grant', grantId: g, holdId: null, credits: 10 },
    ],
    ...over,
  };
}

export function storeConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store conformance: ${name}`, () => {
    let s: StoreUnderTest;
    let store: Store;
    before(async () => {
      s = await open();
      store = s.store;
      await store.write(async (w) => {
        for (const a of ['acc-a', 'acc-b', 'acc-c'])
          await w.insertAccount({ id: a, plan: null, createdAt: T0 });
      });
    });
    after(async () => s.close());

    it('migrate is idempotent', async () => {
      assert.equal(await store.migrate(), 0);
    });

    it('write commits what the callback did and rolls back everything when it throws', async () => {
      await assert.rejects(
        store.write(async (w) => {
          await w.insertAccount({ id: 'acc-doomed', plan: 'pro', createdAt: T0 });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.getAccount('acc-doomed'), undefined);
      await store.write((w) => w.insertAccount({ id: 'acc-kept', plan: 'pro', createdAt: T0 }));
      assert.deepEqual(await store.getAccount('acc-kept'), {
        id: 'acc-kept',
        plan: 'pro',
        createdAt: T0,
      });
    });

    it('lists accounts in id order, page by page', async () => {
      const first = await store.listAccounts(null, 2);
      assert.deepEqual(
        first.map((a) => a.id),
        ['acc-a', 'acc-b'],
      );
      const next = await store.listAccounts('acc-b', 10);
      assert.deepEqual(
        next.map((a) => a.id),
        ['acc-c', 'acc-kept'],
      );
    });

    it('grants: open grants have credits left; remaining updates; large integers survive', async () => {
      const big = 2 ** 50;
      const g1 = grant('acc-a', { amount: big, remaining: big });
      const g2 = grant('acc-a', { remaining: 0, createdAt: T0 + 1 });
      const other = grant('acc-b');
      await store.write(async (w) => {
        await w.insertGrant(g1);
        await w.insertGrant(g2);
        await w.insertGrant(other);
      });
      await store.write(async (w) => {
        assert.deepEqual(
          (await w.openGrants(['acc-a'])).map((g) => g.id),
          [g1.id],
        );
        assert.deepEqual(
          (await w.openGrants(['acc-a', 'acc-b'])).map((g) => g.id).sort(),
          [g1.id, other.id].sort(),
        );
        assert.deepEqual(
          (await w.lockAccounts(['acc-b', 'nobody', 'acc-a'])).map((a) => a.id),
          ['acc-a', 'acc-b'],
        );
        assert.equal(await w.insertAccount({ id: 'acc-a', plan: 'x', createdAt: T0 }), false);
        assert.deepEqual(await w.getGrant('acc-a', g2.id), g2);
        assert.equal(
          await w.getGrant('acc-b', g1.id),
          undefined,
          'a grant is reached through its account',
        );
        await w.setGrantsRemaining([{ accountId: 'acc-a', grantId: g1.id, remaining: big - 1 }]);
      });
      const listed = await store.listGrants('acc-a');
      assert.deepEqual(
        listed.map((g) => g.id),
        [g2.id, g1.id],
        'newest first',
      );
      assert.equal(listed[1]!.remaining, big - 1);
    });

    it('refuses rows that break the schema and keeps nothing of that write', async () => {
      const bad = grant('acc-c', { remaining: 11 });
      await assert.rejects(store.write((w) => w.insertGrant(bad)));
      assert.deepEqual(await store.listGrants('acc-c'), []);
    });

    it('holds: found by id alone, due when past ttl, resolved once', async () => {
      const g = grant('acc-b');
      const h1 = hold('acc-b', g.id);
      const h2 = hold('acc-b', g.id, { expiresAt: T0 + 120_000 });
      await store.write(async (w) => {
        await w.insertGrant(g);
        await w.insertHold(h1);
        await w.insertHold(h2);
      });
      assert.deepEqual(await store.findHold(h1.id), h1);
      await store.write(async (w) => {
        assert.equal(await w.findHoldAccount(h1.id), 'acc-b');
        assert.equal(await w.findHoldAccount('hld_none'), undefined);
        assert.deepEqual(
          (await w.dueHolds(['acc-b', 'acc-a'], T0 + 60_000)).map((h) => h.id),
          [h1.id],
        );
        const holds = await w.getHolds([
          { accountId: 'acc-b', holdId: h2.id },
          { accountId: 'acc-a', holdId: h1.id },
        ]);
        assert.deepEqual(
          holds.map((h) => h.id),
          [h2.id],
        );
        await w.resolveHold('acc-b', h1.id, 'captured', 2, T0 + 1000);
      });
      const resolved = await store.findHold(h1.id);
      assert.deepEqual(
        [resolved?.status, resolved?.capturedCredits, resolved?.resolvedAt],
        ['captured', 2, T0 + 1000],
      );
      assert.deepEqual(
        (await store.openHolds('acc-b')).map((h) => h.id),
        [h2.id],
      );
      await assert.rejects(
        store.write((w) => w.resolveHold('acc-b', h1.id, 'released', 0, T0 + 2000)),
      );
    });

    it('journal: transactions with entries in order; history filters and pages newest first', async () => {
      const txs = [0, 1, 2, 3, 4].map((i) =>
        tx('acc-c', { createdAt: T0 + i * 1000, kind: i % 2 === 0 ? 'grant' : 'charge' }),
      );
      await store.write((w) => w.appendTransactions(txs));
      await store.write(async (w) =>
        assert.deepEqual(await w.getTransaction('acc-c', txs[2]!.id), txs[2]),
      );
      const all = await store.listTransactions({ accountId: 'acc-c', limit: 10 });
      assert.deepEqual(
        all.map((t) => t.id),
        txs.map((t) => t.id).reverse(),
      );
      const charges = await store.listTransactions({
        accountId: 'acc-c',
        kinds: ['charge'],
        limit: 10,
      });
      assert.deepEqual(
        charges.map((t) => t.id),
        [txs[3]!.id, txs[1]!.id],
      );
      const window = await store.listTransactions({
        accountId: 'acc-c',
        since: T0 + 1000,
        until: T0 + 3000,
        limit: 10,
      });
      assert.deepEqual(
        window.map((t) => t.id),
        [txs[2]!.id, txs[1]!.id],
      );
      const page = await store.listTransactions({
        accountId: 'acc-c',
        before: txs[3]!.id,
        limit: 2,
      });
      assert.deepEqual(
        page.map((t) => t.id),
        [txs[2]!.id, txs[1]!.id],
      );
      assert.deepEqual(await store.listTransactions({ accountId: 'acc-a', limit: 10 }), []);
    });

    it('idempotency records are per account and can be purged by age', async () => {
      await store.write((w) =>
        w.putIdempotency([
          { accountId: 'acc-a', key: 'k', requestHash: 'h1', transactionId: 't1', createdAt: T0 },
          {
            accountId: 'acc-b',
            key: 'k',
            requestHash: 'h2',
            transactionId: 't2',
            createdAt: T0 + 10,
          },
        ]),
      );
      await store.write(async (w) => {
        const found = await w.getIdempotency([
          { accountId: 'acc-a', key: 'k' },
          { accountId: 'acc-b', key: 'k' },
          { accountId: 'acc-c', key: 'k' },
        ]);
        assert.deepEqual(found.map((r) => [r.accountId, r.requestHash, r.transactionId]).sort(), [
          ['acc-a', 'h1', 't1'],
          ['acc-b', 'h2', 't2'],
        ]);
      });
      assert.equal(await store.purgeIdempotency(T0 + 5, 100), 1);
      await store.write(async (w) => {
        const left = await w.getIdempotency([
          { accountId: 'acc-a', key: 'k' },
          { accountId: 'acc-b', key: 'k' },
        ]);
        assert.deepEqual(
          left.map((r) => r.accountId),
          ['acc-b'],
        );
      });
    });

    it('catalogs: stored whole; the last activated is active', async () => {
      const body = { version: 'v1' } as never;
      await store.write(async (w) => {
        assert.equal(
          await w.putCatalog({ version: 'v1', body, digest: 'd1', loadedAt: T0, activatedAt: T0 }),
          true,
        );
        assert.equal(
          await w.putCatalog({ version: 'v1', body, digest: 'dX', loadedAt: T0, activatedAt: T0 }),
          false,
        );
        await w.putCatalog({
          version: 'v2',
          body,
          digest: 'd2',
          loadedAt: T0 + 1,
          activatedAt: T0 + 1,
        });
      });
      assert.equal((await store.activeCatalog())?.version, 'v2');
      await store.write((w) => w.activateCatalog('v1', T0 + 2));
      assert.equal((await store.activeCatalog())?.version, 'v1');
      assert.equal((await store.getCatalog('v2'))?.digest, 'd2');
      assert.deepEqual(
        (await store.listCatalogs()).map((c) => c.version),
        ['v1', 'v2'],
      );
    });

    it('accountAudit sums books and finds unbalanced transactions and repeated resolutions', async () => {
      await store.write(async (w) => {
        await w.insertAccount({ id: 'acc-audit', plan: null, createdAt: T0 });
        await w.appendTransactions([
          tx('acc-audit', { grantId: 'g1' }),
          tx('acc-audit', {
            kind: 'capture',
            holdId: 'h1',
            grantId: null,
            entries: [
              { book: 'grant', grantId: 'g1', holdId: 'h1', credits: -4 },
              { book: 'consumed', grantId: 'g1', holdId: 'h1', credits: 3 },
            ],
          }),
          tx('acc-audit', { kind: 'release', holdId: 'h1', grantId: null }),
        ]);
      });
      const audit = await store.accountAudit('acc-audit');
      assert.equal(audit.transactionCount, 3);
      assert.equal(audit.unbalanced.length, 1);
      assert.equal(audit.unbalanced[0]!.sum, -1);
      assert.equal(audit.resolutions.get('h1'), 2);
      const sum = (book: string) =>
        audit.sums.filter((x) => x.book === book).reduce((a, x) => a + x.credits, 0);
      assert.deepEqual([sum('issued'), sum('grant'), sum('consumed')], [-20, 16, 3]);
    });

    it('accountsDue finds expired grants with credits and holds past ttl', async () => {
      await store.write(async (w) => {
        await w.insertAccount({ id: 'acc-due', plan: null, createdAt: T0 });
        await w.insertGrant(grant('acc-due', { expiresAt: T0 + 10 }));
      });
      const due = await store.accountsDue(T0 + 10, 100);
      assert.ok(due.includes('acc-due'));
      assert.ok(!due.includes('acc-b'), 'its open hold is not due yet');
      assert.ok(
        (await store.accountsDue(T0 + 120_000, 100)).includes('acc-b'),
        'a hold past its ttl',
      );
      assert.ok(!(await store.accountsDue(T0 + 9, 100)).includes('acc-due'));
    });

    it('auto top-up rules: upsert, bulk read, delete; purchases awaiting a checkout', async () => {
      const rule = {
        accountId: 'acc-top',
        pack: 'pack-20',
        thresholdCredits: 10,
        maxPerPeriod: 2,
        period: 'week' as const,
        provider: 'manual',
        armed: true,
        periodStartsAt: T0,
        firedInPeriod: 0,
        lastFiredAt: null,
        updatedAt: T0,
      };
      const purchase = {
        accountId: 'acc-top',
        id: id('pur'),
        pack: 'pack-20',
        credits: 20,
        priceCents: 999,
        currency: 'usd',
        provider: 'manual',
        checkoutRef: null,
        paymentRef: null,
        status: 'pending' as const,
        grantId: null,
        refundedCredits: 0,
        refundedCents: 0,
        refundRef: null,
        createdAt: T0,
        paidAt: null,
        origin: 'autotopup' as const,
      };
      await store.write(async (w) => {
        await w.insertAccount({ id: 'acc-top', plan: null, createdAt: T0 });
        await w.putAutoTopups([rule]);
        await w.putAutoTopups([{ ...rule, armed: false, firedInPeriod: 1, lastFiredAt: T0 + 5 }]);
        await w.insertPurchase(purchase);
        await w.insertPurchase({ ...purchase, id: id('pur'), origin: 'customer' });
      });
      assert.deepEqual(await store.getAutoTopup('acc-top'), {
        ...rule,
        armed: false,
        firedInPeriod: 1,
        lastFiredAt: T0 + 5,
      });
      const waiting = await store.autoTopupsAwaitingCheckout(10);
      assert.deepEqual(
        waiting.map((p) => [p.id, p.origin]),
        [[purchase.id, 'autotopup']],
      );
      await store.write(async (w) => {
        assert.equal((await w.autoTopups(['acc-top', 'acc-b'])).length, 1);
        await w.updatePurchase({ ...purchase, checkoutRef: 'chk_1' });
        assert.equal(await w.deleteAutoTopup('acc-top'), true);
        assert.equal(await w.deleteAutoTopup('acc-top'), false);
      });
      assert.equal(await store.getAutoTopup('acc-top'), undefined);
      assert.deepEqual(await store.autoTopupsAwaitingCheckout(10), []);
    });

    it('webhooks: endpoints, events, deliveries claimed once, attempts recorded', async () => {
      const endpoint = {
        id: 'whe_1',
        url: 'http://127.0.0.1:9/hooks',
        secret: 'whsec_1',
        eventTypes: ['charge.created' as const],
        accountId: null,
        createdAt: T0,
        disabledAt: null,
      };
      const event = {
        accountId: 'acc-hook',
        id: 'evt_1',
        type: 'charge.created' as const,
        createdAt: T0,
        data: { transaction: { id: 't1', detail: { note: 'it\'s "quoted"' } } },
      };
      const delivery = {
        accountId: 'acc-hook',
        id: 'dlv_1',
        endpointId: 'whe_1',
        eventId: 'evt_1',
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: T0,
        createdAt: T0,
        deliveredAt: null,
        lastStatusCode: null,
        lastError: null,
      };
      await store.write(async (w) => {
        await w.insertAccount({ id: 'acc-hook', plan: null, createdAt: T0 });
        await w.insertWebhookEndpoint(endpoint);
        await w.insertWebhookEvents([event]);
        await w.insertDeliveries([delivery, { ...delivery, id: 'dlv_2', nextAttemptAt: T0 + 50 }]);
        await w.insertGrant(grant('acc-hook', { id: 'grt_hook_soon', expiresAt: T0 + 100 }));
      });
      const expiring = (from: number, to: number) =>
        store.grantsExpiring(from, to, 100).then((gs) => gs.map((g) => g.id));
      assert.ok((await expiring(T0 + 50, T0 + 100)).includes('grt_hook_soon'));
      assert.ok(!(await expiring(T0 + 100, T0 + 200)).includes('grt_hook_soon'), 'from is open');
      assert.deepEqual(await store.listWebhookEndpoints(), [endpoint]);
      assert.deepEqual(await store.getWebhookEvent('acc-hook', 'evt_1'), event);
      const claimed = await store.write((w) => w.claimDeliveries(T0 + 10, T0 + 1000, 10));
      assert.deepEqual(
        claimed.map((d) => [d.id, d.nextAttemptAt]),
        [['dlv_1', T0 + 1000]],
      );
      assert.deepEqual(
        await store.write((w) => w.claimDeliveries(T0 + 10, T0 + 1000, 10)),
        [],
        'a claimed delivery is leased',
      );
      await store.write(async (w) => {
        await w.finishDelivery(
          {
            ...claimed[0]!,
            status: 'delivered',
            attempts: 1,
            deliveredAt: T0 + 20,
            lastStatusCode: 200,
          },
          {
            accountId: 'acc-hook',
            deliveryId: 'dlv_1',
            attempt: 1,
            at: T0 + 20,
            statusCode: 200,
            error: null,
            durationMs: 3,
          },
        );
        assert.deepEqual(await w.webhookEventIds('acc-hook', ['evt_1', 'evt_2']), ['evt_1']);
        assert.equal(await w.disableWebhookEndpoint('whe_1', T0 + 30), true);
        assert.equal(await w.disableWebhookEndpoint('whe_1', T0 + 30), false);
        assert.deepEqual(await w.webhookEndpoints(), []);
      });
      assert.equal((await store.findDelivery('dlv_1'))?.status, 'delivered');
      assert.deepEqual(
        (await store.listAttempts('acc-hook', 'dlv_1')).map((a) => a.statusCode),
        [200],
      );
      assert.deepEqual(
        (await store.listDeliveries({ limit: 10, status: 'pending' })).map((d) => d.id),
        ['dlv_2'],
      );
      assert.deepEqual(
        (await store.listDeliveries({ limit: 10, accountId: 'acc-hook' })).length,
        2,
      );
    });

    it('api keys: found by id, listed oldest first, revoked once; open holds counted', async () => {
      const key = (id: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        secretHash: 'ab'.repeat(32),
        scope: 'account',
        accountId: 'acc-a',
        readOnly: false,
        name: null,
        createdAt: T0,
        revokedAt: null,
        ...over,
      });
      const ops = key('key000000002', { scope: 'operator', accountId: null, name: 'ops' });
      const ro = key('key000000001', { readOnly: true, createdAt: T0 + 1 });
      await store.write(async (w) => {
        await w.insertApiKey(ops);
        await w.insertApiKey(ro);
      });
      await assert.rejects(
        store.write((w) => w.insertApiKey(key('key000000003', { scope: 'operator' }))),
        'an operator key names no account',
      );
      assert.deepEqual(await store.getApiKey(ro.id), ro);
      assert.equal(await store.getApiKey('key-unknown'), undefined);
      assert.deepEqual(
        (await store.listApiKeys()).map((k) => k.id),
        [ops.id, ro.id],
      );
      assert.equal(await store.write((w) => w.revokeApiKey(ops.id, T0 + 5)), true);
      assert.equal(await store.write((w) => w.revokeApiKey(ops.id, T0 + 6)), false);
      assert.equal(await store.write((w) => w.revokeApiKey('key-unknown', T0)), false);
      assert.equal((await store.getApiKey(ops.id))?.revokedAt, T0 + 5);
      const held = (
        await Promise.all(['acc-a', 'acc-b', 'acc-c'].map((a) => store.openHolds(a)))
      ).flat().length;
      assert.equal(await store.countOpenHolds(), held);
    });
  });
}

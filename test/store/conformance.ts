import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Grant } from '../../src/core/grants.js';
import type { Hold } from '../../src/core/holds.js';
import type { JournalTransaction, TransactionKind } from '../../src/core/journal.js';
import { parseDetail } from '../../src/core/journal-detail.js';
import { SAMPLE_DETAILS } from '../fixtures/journal-details.js';
import type { Subscription } from '../../src/core/subscriptions.js';
import type { AccountRecord, ApiKeyRecord, Store } from '../../src/ledger/store.js';
import type { Budget, BudgetAlert, Member, Project } from '../../src/core/teams.js';
import type { RequestBatch } from '../../src/core/batches.js';
import type { Purchase } from '../../src/core/purchases.js';
import { recordingStore } from './recording.js';

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

function account(accountId: string, over: Partial<AccountRecord> = {}): AccountRecord {
  return { id: accountId, createdAt: T0, kind: 'individual', name: null, ...over };
}

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

type TxOver = Partial<Omit<JournalTransaction, 'kind' | 'detail'>> & {
  readonly kind?: TransactionKind;
  readonly detail?: unknown;
};

/** A journal transaction (a grant unless `over` says otherwise) with a valid detail of its kind. */
function tx(accountId: string, over: TxOver = {}): JournalTransaction {
  const g = over.grantId ?? 'g';
  const { kind = 'grant', detail, ...header } = over;
  return {
    accountId,
    id: id('txn'),
    createdAt: T0,
    idempotencyKey: null,
    holdId: null,
    grantId: g,
    catalogVersion: null,
    entries: [
      { book: 'issued', grantId: g, holdId: null, credits: -10 },
      { book: 'grant', grantId: g, holdId: null, credits: 10 },
    ],
    ...header,
    ...parseDetail(kind, detail ?? SAMPLE_DETAILS[kind]),
  };
}

export function storeConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store conformance: ${name}`, () => {
    let s: StoreUnderTest;
    let store: Store;
    let missing: () => string[];
    before(async () => {
      s = await open();
      ({ store, missing } = recordingStore(s.store));
      await store.write(async (w) => {
        for (const a of ['acc-a', 'acc-b', 'acc-c']) await w.insertAccount(account(a));
      });
    });
    after(async () => s.close());

    it('migrate is idempotent', async () => {
      assert.equal(await store.migrate(), 0);
    });

    it('write commits what the callback did and rolls back everything when it throws', async () => {
      await assert.rejects(
        store.write(async (w) => {
          await w.insertAccount(account('acc-doomed'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.getAccount('acc-doomed'), undefined);
      await store.write((w) => w.insertAccount(account('acc-kept')));
      assert.deepEqual(await store.getAccount('acc-kept'), {
        id: 'acc-kept',
        plan: null,
        createdAt: T0,
        kind: 'individual',
        name: null,
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
        assert.equal(await w.insertAccount(account('acc-a', { name: 'x' })), false);
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
        await w.insertAccount(account('acc-audit'));
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
        await w.insertAccount(account('acc-due'));
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
        await w.insertAccount(account('acc-top'));
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
        publicOnly: false,
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
        await w.insertAccount(account('acc-hook'));
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
        memberId: null,
        ...over,
      });
      const ops = key('key000000002', { scope: 'operator', accountId: null, name: 'ops' });
      const ro = key('key000000001', { readOnly: true, createdAt: T0 + 1 });
      const member = key('key000000004', { memberId: 'mem_key', createdAt: T0 + 2 });
      await store.write(async (w) => {
        await w.insertApiKey(ops);
        await w.insertApiKey(ro);
        await w.insertApiKey(member);
      });
      await assert.rejects(
        store.write((w) => w.insertApiKey(key('key000000003', { scope: 'operator' }))),
        'an operator key names no account',
      );
      assert.deepEqual(await store.getApiKey(ro.id), ro);
      assert.deepEqual(await store.getApiKey(member.id), member, 'a member key keeps its member');
      assert.equal(await store.getApiKey('key-unknown'), undefined);
      assert.deepEqual(
        (await store.listApiKeys()).map((k) => [k.id, k.memberId]),
        [
          [ops.id, null],
          [ro.id, null],
          [member.id, 'mem_key'],
        ],
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

    it('accounts: kind and name round trip through every reader', async () => {
      const org = account('org-kind', { kind: 'organization', name: 'Acme "Labs"' });
      await store.write(async (w) => {
        assert.equal(await w.insertAccount(org), true);
        assert.equal(
          await w.insertAccount(account('org-kind', { name: 'Other' })),
          false,
          'an existing account is not replaced',
        );
      });
      assert.deepEqual(await store.getAccount('org-kind'), { ...org, plan: null });
      assert.deepEqual(await store.listAccounts('org-kin', 1), [{ ...org, plan: null }]);
      await store.write(async (w) =>
        assert.deepEqual(await w.lockAccounts(['org-kind', 'acc-a']), [account('acc-a'), org]),
      );
    });

    it("accounts: readers show the active subscription's plan, and none after it ended", async () => {
      const sub: Subscription = {
        accountId: 'acc-plan',
        id: 'sub_plan_1',
        plan: 'pro',
        pendingPlan: null,
        anchorAt: T0,
        cycleIndex: 0,
        nextRenewalAt: T0 + 30 * 24 * 3600_000,
        status: 'active',
        cancelAt: null,
        allocationGrantId: null,
        createdAt: T0,
        providerRef: null,
      };
      await store.write(async (w) => {
        await w.insertAccount(account('acc-plan'));
        await w.insertAccount(account('acc-plan-none'));
        await w.insertSubscription(sub);
      });
      assert.equal((await store.getAccount('acc-plan'))?.plan, 'pro');
      assert.equal((await store.getAccount('acc-plan-none'))?.plan, null);
      assert.deepEqual(
        (await store.listAccounts('acc-pl', 2)).map((a) => [a.id, a.plan]),
        [
          ['acc-plan', 'pro'],
          ['acc-plan-none', null],
        ],
      );
      await store.write((w) => w.updateSubscription({ ...sub, status: 'ended' }));
      assert.equal((await store.getAccount('acc-plan'))?.plan, null);
      const search = await store.listAccounts(null, 10, 'acc-plan');
      assert.deepEqual(
        search.map((a) => a.plan),
        [null, null],
      );
    });

    it('searches accounts by a part of the id or the name, ignoring case, page by page', async () => {
      await store.write(async (w) => {
        await w.insertAccount(account('srch-alpha', { name: 'Alpha Studio' }));
        await w.insertAccount(account('srch-beta'));
        await w.insertAccount(
          account('srch-gamma', { kind: 'organization', name: 'The "%_Labs"' }),
        );
      });
      const ids = async (after: string | null, limit: number, search: string) =>
        (await store.listAccounts(after, limit, search)).map((a) => a.id);
      assert.deepEqual(await ids(null, 10, 'SRCH-'), ['srch-alpha', 'srch-beta', 'srch-gamma']);
      assert.deepEqual(await ids(null, 10, 'studio'), ['srch-alpha'], 'the name matches');
      assert.deepEqual(
        await ids(null, 10, '"%_l'),
        ['srch-gamma'],
        'quotes and wildcards are text',
      );
      assert.deepEqual(await ids('srch-alpha', 1, 'srch'), ['srch-beta'], 'after the cursor');
      assert.deepEqual(await ids(null, 10, 'srch%'), [], 'no wildcards');
      assert.deepEqual(await ids(null, 10, 'zz-none'), []);
    });

    it('members: stored whole, in id order, upserted by account and id, deleted once', async () => {
      const member = (accountId: string, memberId: string, over: Partial<Member> = {}): Member => ({
        accountId,
        id: memberId,
        role: 'member',
        status: 'active',
        name: null,
        email: null,
        inviteHash: null,
        createdAt: T0,
        joinedAt: T0 + 1,
        ...over,
      });
      const owner = member('org-m', 'mem_b', {
        role: 'owner',
        name: 'Ada',
        email: 'ada@example.com',
      });
      const invited = member('org-m', 'mem_a', {
        status: 'invited',
        inviteHash: 'hash-1',
        joinedAt: null,
        createdAt: T0 + 2 ** 40,
      });
      const elsewhere = member('org-n', 'mem_a', { role: 'admin' });
      await store.write(async (w) => {
        await w.insertAccount(account('org-m', { kind: 'organization' }));
        await w.insertAccount(account('org-n', { kind: 'organization' }));
        await w.putMembers([owner, invited, elsewhere]);
      });
      assert.deepEqual(await store.listMembers('org-m'), [invited, owner]);
      assert.deepEqual(await store.getMember('org-m', 'mem_a'), invited);
      assert.deepEqual(await store.getMember('org-n', 'mem_a'), elsewhere);
      assert.equal(await store.getMember('org-n', 'mem_b'), undefined, 'reached by its account');

      const joined = { ...invited, status: 'active' as const, inviteHash: null, joinedAt: T0 + 9 };
      const promoted = { ...owner, role: 'admin' as const, email: null };
      await store.write(async (w) => {
        await w.putMembers([joined, { ...promoted, name: 'first' }, promoted]);
        assert.deepEqual(
          await w.members('org-m'),
          [joined, promoted],
          'the last row of a key wins',
        );
        assert.deepEqual(await w.members('org-n'), [elsewhere]);
      });
      assert.deepEqual(await store.listMembers('org-m'), [joined, promoted]);

      await assert.rejects(
        store.write(async (w) => {
          await w.putMembers([member('org-m', 'mem_c')]);
          await w.putMembers([member('org-m', 'mem_d', { status: 'active', joinedAt: null })]);
        }),
        'an active member has joined',
      );
      assert.equal(await store.getMember('org-m', 'mem_c'), undefined, 'nothing of that write');

      await store.write(async (w) => {
        assert.equal(await w.deleteMember('org-m', 'mem_a'), true);
        assert.equal(await w.deleteMember('org-m', 'mem_a'), false);
        assert.equal(await w.deleteMember('org-m', 'mem_zz'), false);
      });
      assert.deepEqual(await store.listMembers('org-m'), [promoted]);
      assert.deepEqual(await store.listMembers('org-n'), [elsewhere], 'the other account kept its');
    });

    it('projects: in id order, upserted by account and id', async () => {
      const project = (accountId: string, projectId: string, name: string): Project => ({
        accountId,
        id: projectId,
        name,
        createdAt: T0 + 3,
      });
      const p2 = project('org-m', 'prj_2', 'Second');
      const p1 = project('org-m', 'prj_1', 'First');
      const other = project('org-n', 'prj_1', 'Theirs');
      await store.write(async (w) => {
        await w.putProject(p2);
        await w.putProject(p1);
        await w.putProject(other);
      });
      assert.deepEqual(await store.listProjects('org-m'), [p1, p2]);
      const renamed = { ...p1, name: 'First, renamed' };
      await store.write(async (w) => {
        await w.putProject(renamed);
        assert.deepEqual(await w.projects('org-m'), [renamed, p2]);
      });
      assert.deepEqual(await store.listProjects('org-n'), [other]);
      assert.deepEqual(await store.listProjects('acc-a'), []);
    });

    const budget = (accountId: string, over: Partial<Budget> = {}): Budget => ({
      accountId,
      scope: 'member',
      target: 'mem_a',
      limitCredits: 100,
      mode: 'hard',
      period: 'cycle',
      startsAt: null,
      endsAt: null,
      periodStart: T0,
      used: 0,
      held: 0,
      alerted: 0,
      createdAt: T0,
      updatedAt: T0,
      ...over,
    });

    it('budgets: bulk read, ordered by scope then target, upserted, deleted once', async () => {
      const pool = budget('org-b', { scope: 'pool', target: '', limitCredits: null, mode: 'soft' });
      const memberB = budget('org-b', { target: 'mem_b', used: 2 ** 50, limitCredits: 2 ** 51 });
      const memberA = budget('org-b', { target: 'mem_a', held: 7, alerted: 3 });
      const fixed = budget('org-b', {
        scope: 'project',
        target: 'prj_1',
        period: 'fixed',
        startsAt: T0,
        endsAt: T0 + 86_400_000,
      });
      const otherPool = budget('org-c', { scope: 'pool', target: '' });
      await store.write(async (w) => {
        await w.insertAccount(account('org-b', { kind: 'organization' }));
        await w.insertAccount(account('org-c', { kind: 'organization' }));
        await w.putBudgets([fixed, pool, memberB, memberA, otherPool]);
      });
      const ordered = [memberA, memberB, pool, fixed];
      assert.deepEqual(await store.listBudgets('org-b'), ordered);
      await store.write(async (w) => {
        assert.deepEqual(await w.budgets(['org-b']), ordered);
        const both = await w.budgets(['org-c', 'org-b', 'acc-a']);
        assert.deepEqual(
          [...both].sort((x, y) => x.accountId.localeCompare(y.accountId)),
          [...ordered, otherPool],
        );
        assert.deepEqual(await w.budgets([]), []);
      });

      const spent = { ...memberA, used: 40, held: 0, alerted: 1, updatedAt: T0 + 5 };
      const capped = { ...pool, limitCredits: 500, mode: 'hard' as const, updatedAt: T0 + 5 };
      await store.write((w) => w.putBudgets([spent, capped]));
      assert.deepEqual(await store.listBudgets('org-b'), [spent, memberB, capped, fixed]);

      await assert.rejects(
        store.write(async (w) => {
          await w.putBudgets([budget('org-b', { target: 'mem_c' })]);
          await w.putBudgets([budget('org-b', { target: 'mem_d', limitCredits: null })]);
        }),
        'only the pool may go without a limit',
      );
      assert.equal((await store.listBudgets('org-b')).length, 4, 'nothing of that write');

      await store.write(async (w) => {
        assert.equal(await w.deleteBudget('org-b', 'member', 'mem_b'), true);
        assert.equal(await w.deleteBudget('org-b', 'member', 'mem_b'), false);
        assert.equal(await w.deleteBudget('org-b', 'project', 'mem_a'), false, 'scope is key');
        assert.equal(await w.deleteBudget('acc-a', 'pool', ''), false);
      });
      assert.deepEqual(await store.listBudgets('org-b'), [spent, capped, fixed]);
      assert.deepEqual(await store.listBudgets('org-c'), [otherPool]);
    });

    it('budget alerts: newest first, limited; one per budget, period and threshold', async () => {
      const alert = (alertId: string, over: Partial<BudgetAlert> = {}): BudgetAlert => ({
        accountId: 'org-b',
        id: alertId,
        scope: 'member',
        target: 'mem_a',
        threshold: 50,
        periodStart: T0,
        used: 50,
        held: 2,
        limitCredits: 100,
        mode: 'hard',
        createdAt: T0 + 10,
        ...over,
      });
      const a1 = alert('bal_1');
      const a2 = alert('bal_2', { threshold: 80, used: 81, createdAt: T0 + 20 });
      const a3 = alert('bal_3', { threshold: 100, used: 2 ** 50, createdAt: T0 + 20 });
      const pool = alert('bal_0', { scope: 'pool', target: '', mode: 'soft', createdAt: T0 + 30 });
      const other = alert('bal_9', { accountId: 'org-c', createdAt: T0 + 40 });
      await store.write((w) => w.insertBudgetAlerts([a1, a2, a3, pool, other]));
      assert.deepEqual(await store.listBudgetAlerts('org-b', 10), [pool, a3, a2, a1]);
      assert.deepEqual(await store.listBudgetAlerts('org-b', 2), [pool, a3]);
      assert.deepEqual(await store.listBudgetAlerts('org-c', 10), [other]);

      const budgetBefore = await store.listBudgets('org-b');
      await assert.rejects(
        store.write(async (w) => {
          await w.putBudgets([budget('org-b', { target: 'mem_new' })]);
          await w.insertBudgetAlerts([alert('bal_4', { createdAt: T0 + 50 })]);
        }),
        'the same threshold of the same budget in the same period is announced once',
      );
      assert.deepEqual(await store.listBudgetAlerts('org-b', 10), [pool, a3, a2, a1]);
      assert.deepEqual(await store.listBudgets('org-b'), budgetBefore, 'nothing of that write');

      const nextPeriod = alert('bal_5', { periodStart: T0 + 1000, createdAt: T0 + 60 });
      const otherTarget = alert('bal_6', { target: 'mem_b', createdAt: T0 + 60 });
      await store.write((w) => w.insertBudgetAlerts([nextPeriod, otherTarget]));
      assert.deepEqual(
        (await store.listBudgetAlerts('org-b', 3)).map((a) => a.id),
        ['bal_6', 'bal_5', 'bal_0'],
        'another period or target may alert at the same threshold',
      );
      await store.write(async (w) => {
        assert.deepEqual(
          await w.budgetAlertThresholds('org-b', 'member', 'mem_a', T0),
          [50, 80, 100],
        );
        assert.deepEqual(
          await w.budgetAlertThresholds('org-b', 'member', 'mem_a', T0 + 1000),
          [50],
        );
        assert.deepEqual(await w.budgetAlertThresholds('org-b', 'member', 'mem_b', T0), [50]);
        assert.deepEqual(await w.budgetAlertThresholds('org-b', 'project', 'mem_a', T0), []);
        assert.deepEqual(await w.budgetAlertThresholds('org-c', 'member', 'mem_a', T0), [50]);
      });
    });

    it('openHoldsOf: only held holds of the account, oldest first whatever their ttl', async () => {
      const g = grant('org-h', { amount: 100, remaining: 100 });
      // Made in this order, so ids ascend: the oldest hold has the largest id.
      const tieFirst = hold('org-h', g.id, { createdAt: T0 + 5, expiresAt: T0 + 10 });
      const tieSecond = hold('org-h', g.id, { createdAt: T0 + 5, expiresAt: T0 + 9 });
      const oldest = hold('org-h', g.id, { createdAt: T0 + 1, expiresAt: T0 + 900_000 });
      const released = hold('org-h', g.id, {
        createdAt: T0,
        status: 'released',
        resolvedAt: T0 + 2,
      });
      const captured = hold('org-h', g.id, {
        createdAt: T0,
        status: 'captured',
        capturedCredits: 1,
        resolvedAt: T0 + 3,
      });
      await store.write(async (w) => {
        await w.insertAccount(account('org-h', { kind: 'organization' }));
        await w.insertGrant(g);
        for (const h of [tieFirst, tieSecond, oldest, released, captured]) await w.insertHold(h);
      });
      const heldInB = (await store.openHolds('acc-b')).map((h) => h.id).sort();
      assert.equal(heldInB.length, 1);
      await store.write(async (w) => {
        assert.deepEqual(await w.openHoldsOf('org-h'), [oldest, tieFirst, tieSecond]);
        assert.deepEqual(await w.openHoldsOf('org-m'), []);
        assert.deepEqual(
          (await w.openHoldsOf('acc-b')).map((h) => h.id).sort(),
          heldInB,
          "another account's holds are its own",
        );
      });
    });

    it('transactionsSince: of the kinds asked, at or after since, oldest first, with entries', async () => {
      const at = (kind: JournalTransaction['kind'], createdAt: number) =>
        tx('org-t', { kind, createdAt });
      const g0 = at('grant', T0 + 1000);
      const c1 = at('charge', T0 + 1000);
      const cap2 = at('capture', T0 + 3000);
      const early = at('charge', T0 + 2000); // a later id, created earlier
      const tooEarly = at('charge', T0 + 999);
      const rel = at('release', T0 + 4000);
      const elsewhere = tx('org-u', { kind: 'charge', createdAt: T0 + 2500 });
      await store.write(async (w) => {
        await w.insertAccount(account('org-t', { kind: 'organization' }));
        await w.insertAccount(account('org-u', { kind: 'organization' }));
        await w.appendTransactions([g0, c1, cap2, early, tooEarly, rel, elsewhere]);
      });
      await store.write(async (w) => {
        assert.deepEqual(await w.transactionsSince('org-t', ['charge', 'capture'], T0 + 1000), [
          c1,
          early,
          cap2,
        ]);
        assert.deepEqual(
          (await w.transactionsSince('org-t', ['charge'], T0 + 1001)).map((t) => t.id),
          [early.id],
        );
        assert.deepEqual(
          (await w.transactionsSince('org-t', ['grant', 'release'], 0)).map((t) => t.id),
          [g0.id, rel.id],
        );
        assert.deepEqual(await w.transactionsSince('org-t', ['refund'], 0), []);
        assert.deepEqual(await w.transactionsSince('org-t', [], 0), [], 'no kinds, none');
        assert.deepEqual(await w.transactionsSince('org-u', ['charge'], 0), [elsewhere]);
      });
    });

    it('request batches: stored whole with their items; found by id alone with their holds', async () => {
      const g = grant('acc-rb', { amount: 100, remaining: 100 });
      const h1 = hold('acc-rb', g.id, { credits: 4, draws: [{ grantId: g.id, credits: 4 }] });
      const h2 = hold('acc-rb', g.id);
      const h3 = hold('acc-rb', g.id);
      const batch: RequestBatch = {
        accountId: 'acc-rb',
        id: id('bat'),
        idempotencyKey: 'session 1',
        createdAt: T0,
        expiresAt: T0 + 60_000,
        catalogVersion: 'v1',
        attribution: { member: 'm', project: 'p', labels: { phase: 'explore' } },
        // Items in order, whatever the order of their hold ids.
        items: [
          { index: 0, holdId: h2.id, ref: 'prompt-1' },
          { index: 1, holdId: h1.id, ref: null },
        ],
      };
      await store.write(async (w) => {
        await w.insertAccount(account('acc-rb'));
        await w.insertAccount(account('acc-rc'));
        await w.insertGrant(g);
        for (const h of [h1, h2, h3]) await w.insertHold(h);
        await w.insertRequestBatch(batch);
      });
      await store.write(async (w) => {
        assert.deepEqual(await w.getRequestBatch('acc-rb', batch.id), batch);
        assert.equal(await w.getRequestBatch('acc-rc', batch.id), undefined, 'its account only');
        assert.equal(await w.getRequestBatch('acc-rb', 'bat_none'), undefined);
        await w.resolveHold('acc-rb', h1.id, 'captured', 3, T0 + 1000);
      });
      const found = await store.findRequestBatch(batch.id);
      assert.deepEqual(found?.batch, batch);
      assert.deepEqual(found?.holds, [
        h2,
        { ...h1, status: 'captured', capturedCredits: 3, resolvedAt: T0 + 1000 },
      ]);
      assert.equal(await store.findRequestBatch('bat_none'), undefined);
      // An item index twice, or a hold in two items, breaks the schema: nothing of it is kept.
      for (const items of [
        [
          { index: 0, holdId: h3.id, ref: null },
          { index: 0, holdId: h3.id, ref: null },
        ],
        [{ index: 0, holdId: h2.id, ref: null }],
      ]) {
        const bad = { ...batch, id: id('bat'), items };
        await assert.rejects(store.write((w) => w.insertRequestBatch(bad)));
        assert.equal(await store.findRequestBatch(bad.id), undefined);
      }
    });

    it('rollups: increments add up per hour and key; a window sums hours and reads its edges', async () => {
      const H = 3_600_000;
      const h0 = T0 + 10 * H;
      const g = grant('acc-ru', { source: 'allocation', amount: 100, remaining: 100 });
      const gp = grant('acc-ru', { source: 'purchase', amount: 20, remaining: 20 });
      const h = hold('acc-ru', g.id, {
        quote: {
          catalogVersion: 'v1',
          credits: 3,
          lines: [
            {
              operation: 'image.generate',
              params: { resolution: '4k' },
              unit: 'image',
              unitCredits: 3,
              count: 1,
              credits: 3,
            },
          ],
        },
      });
      // Ids out of time order on purpose: the hour keeps its lowest and highest id.
      const charge = (n: string, at: number) =>
        tx('acc-ru', {
          id: `txn_${n}`,
          kind: 'charge',
          createdAt: at,
          grantId: null,
          detail: {
            credits: 2,
            attribution: { member: null, project: null, labels: {} },
            lines: [],
          },
          entries: [
            { book: 'grant', grantId: gp.id, holdId: null, credits: -2 },
            { book: 'consumed', grantId: gp.id, holdId: null, credits: 2 },
          ],
        });
      const c1 = charge('00000000000000000000000001', h0 + 10 * 60_000);
      const c2 = charge('00000000000000000000000003', h0 + 50 * 60_000);
      const c3 = charge('00000000000000000000000002', h0 + H + 5 * 60_000);
      const capture = tx('acc-ru', {
        id: 'txn_00000000000000000000000004',
        kind: 'capture',
        createdAt: h0 + 2 * H + 1,
        grantId: null,
        holdId: h.id,
        entries: [
          { book: 'held', grantId: g.id, holdId: h.id, credits: -3 },
          { book: 'consumed', grantId: g.id, holdId: h.id, credits: 3 },
        ],
      });
      const flow = (
        hour: number,
        flow: 'consumed' | 'granted',
        key: string,
        credits: number,
        first: string,
        last: string,
      ) => ({
        accountId: 'acc-ru',
        hour,
        flow,
        key,
        credits,
        firstTransactionId: first,
        lastTransactionId: last,
      });
      await store.write(async (w) => {
        await w.insertAccount(account('acc-ru'));
        await w.insertAccount(account('acc-rv'));
        await w.insertGrants([g, gp]);
        await w.insertHold(h);
        await w.appendTransactions([c1, c2, c3, capture]);
        await w.addFlows([
          flow(h0 - H, 'granted', 'allocation', 100, 'txn_0', 'txn_0'),
          flow(h0, 'consumed', 'purchase', 2, c1.id, c1.id),
          flow(h0 + H, 'consumed', 'purchase', 2, c3.id, c3.id),
        ]);
        await w.addUsage([
          {
            accountId: 'acc-ru',
            hour: h0,
            dim: 'operation',
            key: '(credits)',
            credits: 2,
            units: 0,
          },
        ]);
        await w.addFlows([
          { ...flow(h0, 'consumed', 'purchase', 2, c2.id, c2.id), accountId: 'acc-rv' },
        ]);
      });
      // A second batch adds to the same rows and widens the hour's ids.
      await store.write(async (w) => {
        await w.addFlows([
          flow(h0, 'consumed', 'purchase', 2, c2.id, c2.id),
          flow(h0 + 2 * H, 'consumed', 'allocation', 3, capture.id, capture.id),
        ]);
        await w.addUsage([
          {
            accountId: 'acc-ru',
            hour: h0,
            dim: 'operation',
            key: '(credits)',
            credits: 2,
            units: 0,
          },
          {
            accountId: 'acc-ru',
            hour: h0 + 2 * H,
            dim: 'resolution',
            key: '4k',
            credits: 3,
            units: 1,
          },
        ]);
      });
      const sorted = <T extends { key: string }>(rows: readonly T[]) =>
        [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      const whole = await store.rollupWindow({
        accountId: 'acc-ru',
        hoursFrom: h0,
        hoursTo: h0 + 3 * H,
        before: true,
        usage: true,
        journal: [],
      });
      assert.deepEqual(whole.flowsBefore, [{ flow: 'granted', key: 'allocation', credits: 100 }]);
      assert.deepEqual(
        sorted(whole.flows),
        sorted([
          { flow: 'consumed', key: 'purchase', credits: 6 },
          { flow: 'consumed', key: 'allocation', credits: 3 },
        ]),
      );
      assert.deepEqual(
        sorted(whole.usage),
        sorted([
          { dim: 'operation', key: '(credits)', credits: 4, units: 0 },
          { dim: 'resolution', key: '4k', credits: 3, units: 1 },
        ]),
      );
      assert.deepEqual(whole.transactions, []);
      assert.equal(whole.pending, false);
      // The edges: the journal of [h0 + 20 min, h0 + 1 h) and [h0 + 2 h, h0 + 2 h + 1 ms).
      const edges = await store.rollupWindow({
        accountId: 'acc-ru',
        hoursFrom: h0 + H,
        hoursTo: h0 + 2 * H,
        before: false,
        usage: false,
        journal: [
          { from: h0 + 20 * 60_000, to: h0 + H },
          { from: h0 + 2 * H, to: h0 + 2 * H + 2 },
        ],
      });
      assert.deepEqual(edges.flowsBefore, []);
      assert.deepEqual(edges.usage, []);
      assert.deepEqual(edges.flows, [{ flow: 'consumed', key: 'purchase', credits: 2 }]);
      assert.deepEqual(edges.transactions, [c2, capture]);
      assert.deepEqual(
        sorted(edges.grants.map((x) => ({ key: x.id }))),
        sorted([{ key: g.id }, { key: gp.id }]),
      );
      assert.deepEqual(edges.holds, [h]);
      // Another account's rows are its own.
      const other = await store.rollupWindow({
        accountId: 'acc-rv',
        hoursFrom: 0,
        hoursTo: h0 + 3 * H,
        before: false,
        usage: true,
        journal: [{ from: h0, to: h0 + H }],
      });
      assert.deepEqual(other.flows, [{ flow: 'consumed', key: 'purchase', credits: 2 }]);
      assert.deepEqual(other.transactions, []);
      // The journal page by page, in id order; then a rebuild starts by clearing.
      await store.write(async (w) => {
        const first = await w.journalPage('acc-ru', null, 2);
        assert.deepEqual(first, [c1, c3]);
        assert.deepEqual(await w.journalPage('acc-ru', c3.id, 10), [c2, capture]);
        await w.clearRollups('acc-ru');
      });
      const cleared = await store.rollupWindow({
        accountId: 'acc-ru',
        hoursFrom: 0,
        hoursTo: h0 + 3 * H,
        before: true,
        usage: true,
        journal: [],
      });
      assert.deepEqual([cleared.flows, cleared.usage, cleared.flowsBefore], [[], [], []]);
      assert.deepEqual(await store.accountsPendingRollups(null, 10), []);
      assert.deepEqual(await store.getTransaction('acc-ru', c1.id), c1);
      assert.equal(await store.getTransaction('acc-rv', c1.id), undefined, 'its account only');
    });
    it('outcomes: upserted by account and transaction, read back by the time of the charge', async () => {
      const outcome = (
        transactionId: string,
        createdAt: number,
        over: Record<string, unknown> = {},
      ) => ({
        accountId: 'acc-oc',
        transactionId,
        outcome: 'kept' as const,
        labels: { concept: 'fox', use: 'print' },
        credits: 3,
        operation: 'image.generate',
        resolution: '4k',
        units: 1,
        member: 'mia',
        project: null,
        createdAt,
        recordedAt: T0 + 5000,
        ...over,
      });
      const a = outcome('txn_a', T0 + 100);
      const b = outcome('txn_b', T0 + 200, { outcome: 'discarded', labels: {}, resolution: null });
      await store.write(async (w) => {
        await w.insertAccount(account('acc-oc'));
        await w.putOutcomes([a, b]);
        assert.deepEqual(await w.getOutcome('acc-oc', 'txn_a'), a);
        assert.equal(await w.getOutcome('acc-a', 'txn_a'), undefined);
      });
      const changed = { ...a, outcome: 'discarded' as const, recordedAt: T0 + 6000 };
      await store.write((w) => w.putOutcomes([changed]));
      assert.deepEqual(await store.outcomesBetween('acc-oc', T0, T0 + 1000), [changed, b]);
      assert.deepEqual(await store.outcomesBetween('acc-oc', T0 + 150, T0 + 200), []);
      assert.deepEqual(await store.outcomesBetween('acc-a', T0, T0 + 1000), []);
    });

    it('purchases: found by id alone and by account, updated, payment events marked once', async () => {
      const purchase = (over: Partial<Purchase> = {}): Purchase => ({
        accountId: 'acc-pu',
        id: id('pur'),
        pack: 'pack-20',
        credits: 20,
        priceCents: 999,
        currency: 'usd',
        provider: 'manual',
        checkoutRef: null,
        paymentRef: null,
        status: 'pending',
        grantId: null,
        refundedCredits: 0,
        refundedCents: 0,
        refundRef: null,
        createdAt: T0,
        paidAt: null,
        origin: 'customer',
        ...over,
      });
      const first = purchase();
      const second = purchase({ createdAt: T0 + 1 });
      const paid = { ...first, status: 'paid' as const, paymentRef: 'pay_1', paidAt: T0 + 5 };
      await store.write(async (w) => {
        await w.insertAccount(account('acc-pu'));
        await w.insertPurchase(first);
        await w.insertPurchase(second);
        assert.equal(await w.findPurchaseAccount(first.id), 'acc-pu');
        assert.equal(await w.findPurchaseAccount('pur_unknown'), undefined);
        assert.deepEqual(await w.getPurchase('acc-pu', first.id), first);
        assert.equal(await w.getPurchase('acc-a', first.id), undefined);
        await w.updatePurchase(paid);
        assert.equal(await w.markPaymentEvent('acc-pu', 'evt_pay_1', T0), true);
        assert.equal(await w.markPaymentEvent('acc-pu', 'evt_pay_1', T0 + 1), false);
      });
      assert.deepEqual(await store.findPurchase(first.id), paid);
      assert.equal(await store.findPurchase('pur_unknown'), undefined);
      assert.deepEqual(await store.listPurchases('acc-pu'), [second, paid]);
    });

    it('subscriptions: the active one per account, renewals due, many replaced at once', async () => {
      const sub = (accountId: string, over: Partial<Subscription> = {}): Subscription => ({
        accountId,
        id: id('sub'),
        plan: 'pro',
        pendingPlan: null,
        anchorAt: T0,
        cycleIndex: 0,
        nextRenewalAt: T0 + 100,
        status: 'active',
        cancelAt: null,
        allocationGrantId: null,
        createdAt: T0 + 10,
        providerRef: null,
        ...over,
      });
      const old = sub('acc-su1', { status: 'ended', createdAt: T0 });
      const one = sub('acc-su1');
      const two = sub('acc-su2', { nextRenewalAt: T0 + 200, providerRef: 'sub_ext' });
      await store.write(async (w) => {
        await w.insertAccount(account('acc-su1'));
        await w.insertAccount(account('acc-su2'));
        for (const s of [old, one, two]) await w.insertSubscription(s);
        const active = await w.activeSubscriptions(['acc-su2', 'acc-su1', 'acc-a']);
        assert.deepEqual(
          active.sort((a, b) => a.accountId.localeCompare(b.accountId)),
          [one, two],
        );
      });
      assert.deepEqual(await store.getSubscription('acc-su1'), one);
      const due = async (until: number) =>
        (await store.dueSubscriptions(until, 10)).filter((a) => a.startsWith('acc-su'));
      assert.deepEqual(await due(T0 + 250), ['acc-su1', 'acc-su2']);
      assert.deepEqual(await due(T0 + 150), ['acc-su1']);
      const ended = { ...one, status: 'ended' as const };
      const renewed = { ...two, cycleIndex: 1, nextRenewalAt: T0 + 300 };
      await store.write((w) => w.updateSubscriptions([ended, renewed]));
      assert.deepEqual(await store.getSubscription('acc-su1'), ended);
      assert.deepEqual(await store.getSubscription('acc-su2'), renewed);
      assert.deepEqual(await due(T0 + 250), []);
      assert.equal(await store.getSubscription('acc-a'), undefined);
    });

    it('accountView: every grant, newest first, and the open holds, as one snapshot', async () => {
      const older = grant('acc-av', { createdAt: T0 });
      const newer = grant('acc-av', { createdAt: T0 + 1, remaining: 0 });
      const open = hold('acc-av', older.id);
      await store.write(async (w) => {
        await w.insertAccount(account('acc-av'));
        await w.insertGrants([older, newer]);
        await w.insertHold(open);
      });
      assert.deepEqual(await store.accountView('acc-av'), {
        grants: [newer, older],
        holds: [open],
      });
      await store.write((w) => w.resolveHold('acc-av', open.id, 'released', 0, T0 + 2));
      assert.deepEqual((await store.accountView('acc-av')).holds, []);
      assert.deepEqual(await store.accountView('acc-none'), { grants: [], holds: [] });
    });

    it('inside a write: one endpoint by id, the catalogs, member keys revoked together', async () => {
      const endpoint = {
        id: 'whe_one',
        url: 'https://example.com/hooks',
        secret: 'whsec_one',
        eventTypes: ['charge.created' as const],
        accountId: 'acc-a',
        publicOnly: true,
        createdAt: T0,
        disabledAt: null,
      };
      const key = (keyId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id: keyId,
        secretHash: 'cd'.repeat(32),
        scope: 'account',
        accountId: 'acc-b',
        readOnly: false,
        name: null,
        createdAt: T0,
        revokedAt: null,
        memberId: 'mem_gone',
        ...over,
      });
      const body = { version: 'v-tx' } as never;
      const catalog = { version: 'v-tx', body, digest: 'dtx', loadedAt: T0, activatedAt: T0 + 99 };
      await store.write(async (w) => {
        await w.insertWebhookEndpoint(endpoint);
        assert.deepEqual(await w.webhookEndpoint('whe_one'), endpoint);
        assert.equal(await w.webhookEndpoint('whe_unknown'), undefined);
        await w.putCatalog(catalog);
        assert.deepEqual(await w.getCatalog('v-tx'), catalog);
        assert.equal(await w.getCatalog('v-unknown'), undefined);
        assert.deepEqual(await w.activeCatalog(), catalog);
        await w.insertApiKey(key('key_mem_1'));
        await w.insertApiKey(key('key_mem_2', { revokedAt: T0 + 1 }));
        await w.insertApiKey(key('key_mem_3'));
        await w.insertApiKey(key('key_other', { memberId: 'mem_stays' }));
        assert.equal(await w.revokeMemberKeys('acc-b', 'mem_gone', T0 + 9), 2);
        assert.equal(await w.revokeMemberKeys('acc-b', 'mem_gone', T0 + 10), 0);
      });
      const disabled = { ...endpoint, disabledAt: T0 + 3 };
      await store.write(async (w) => {
        assert.equal(await w.disableWebhookEndpoint('whe_one', T0 + 3), true);
        assert.deepEqual(await w.webhookEndpoint('whe_one'), disabled);
      });
      assert.equal((await store.getApiKey('key_mem_1'))?.revokedAt, T0 + 9);
      assert.equal((await store.getApiKey('key_mem_2'))?.revokedAt, T0 + 1);
      assert.equal((await store.getApiKey('key_other'))?.revokedAt, null);
    });

    // Last in the suite: the cases above called every method of the port at least once
    // (close is called by the test file itself).
    it('exercised every method the port declares', () => {
      assert.deepEqual(missing(), []);
    });
  });
}

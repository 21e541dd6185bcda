import { NO_OVERDRAFT } from '../../src/core/overdraft.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Grant } from '../../src/core/grants.js';
import type { Hold } from '../../src/core/holds.js';
import type { JournalTransaction, TransactionKind } from '../../src/core/journal.js';
import { parseDetail } from '../../src/core/journal-detail.js';
import { SAMPLE_DETAILS } from '../fixtures/journal-details.js';
import type { Subscription } from '../../src/core/subscriptions.js';
import type { AccountRecord, ApiKeyRecord, Store, WriteTx } from '../../src/ledger/store.js';
import {
  activeCatalog,
  currentSubscription,
  dueSubscriptions,
  findRequestBatch,
  grantsAndHolds,
  history,
  journalTransaction,
  readRequestBatch,
} from '../../src/ledger/reads.js';

/** Deliveries newest first, a page of ten (the operator's listing). */
const deliveriesPage = { order: ['createdAt desc', 'id desc'], limit: 10 } as const;

/** A request batch and its items, as the unit of work writes them. */
async function insertRequestBatch(w: WriteTx, batch: RequestBatch) {
  const { items, ...row } = batch;
  await w.insert('request_batches', [{ ...row, itemCount: items.length }]);
  const rows = items.map((i) => ({ ...i, accountId: batch.accountId, batchId: batch.id }));
  await w.insert('request_batch_items', rows);
}
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
  return {
    id: accountId,
    createdAt: T0,
    kind: 'individual',
    name: null,
    testClockId: null,
    ...NO_OVERDRAFT,
    ...over,
  };
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
        for (const a of ['acc-a', 'acc-b', 'acc-c'])
          await w.insert('accounts', [account(a)], 'skip');
      });
    });
    after(async () => s.close());

    it('migrate is idempotent', async () => {
      assert.equal(await store.migrate(), 0);
    });

    it('write commits what the callback did and rolls back everything when it throws', async () => {
      await assert.rejects(
        store.write(async (w) => {
          await w.insert('accounts', [account('acc-doomed')], 'skip');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.accounts({ id: 'acc-doomed' }).then(([a]) => a), undefined);
      await store.write((w) =>
        w.insert('accounts', [account('acc-kept')], 'skip').then((n) => n === 1),
      );
      assert.deepEqual(await store.accounts({ id: 'acc-kept' }).then(([a]) => a), {
        id: 'acc-kept',
        plan: null,
        createdAt: T0,
        kind: 'individual',
        name: null,
        testClockId: null,
        ...NO_OVERDRAFT,
      });
    });

    it('lists accounts in id order, page by page', async () => {
      const first = await store.accounts({ afterId: null, limit: 2 });
      assert.deepEqual(
        first.map((a) => a.id),
        ['acc-a', 'acc-b'],
      );
      const next = await store.accounts({ afterId: 'acc-b', limit: 10 });
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
        await w.insert('grants', [g1]);
        await w.insert('grants', [g2]);
        await w.insert('grants', [other]);
      });
      await store.write(async (w) => {
        assert.deepEqual(
          (await w.findFor('grants', 'accountId', ['acc-a'], { remaining: { gt: 0 } })).map(
            (g) => g.id,
          ),
          [g1.id],
        );
        assert.deepEqual(
          (await w.findFor('grants', 'accountId', ['acc-a', 'acc-b'], { remaining: { gt: 0 } }))
            .map((g) => g.id)
            .sort(),
          [g1.id, other.id].sort(),
        );
        assert.deepEqual(
          (await w.lockAccounts(['acc-b', 'nobody', 'acc-a'])).map((a) => a.id),
          ['acc-a', 'acc-b'],
        );
        assert.equal(await w.insert('accounts', [account('acc-a', { name: 'x' })], 'skip'), 0);
        assert.deepEqual(await w.get('grants', { accountId: 'acc-a', id: g2.id }), g2);
        assert.equal(
          await w.get('grants', { accountId: 'acc-b', id: g1.id }),
          undefined,
          'a grant is reached through its account',
        );
        await w.updateMany(
          'grants',
          [{ accountId: 'acc-a', id: g1.id, remaining: big - 1 }],
          ['remaining'],
        );
      });
      const listed = await store.find(
        'grants',
        { accountId: 'acc-a' },
        { order: ['createdAt desc', 'id desc'] },
      );
      assert.deepEqual(
        listed.map((g) => g.id),
        [g2.id, g1.id],
        'newest first',
      );
      assert.equal(listed[1]!.remaining, big - 1);
    });

    it('refuses rows that break the schema and keeps nothing of that write', async () => {
      const bad = grant('acc-c', { remaining: 11 });
      await assert.rejects(store.write((w) => w.insert('grants', [bad])));
      assert.deepEqual(
        await store.find(
          'grants',
          { accountId: 'acc-c' },
          { order: ['createdAt desc', 'id desc'] },
        ),
        [],
      );
    });

    it('holds: found by id alone, due when past ttl, resolved once', async () => {
      const g = grant('acc-b');
      const h1 = hold('acc-b', g.id);
      const h2 = hold('acc-b', g.id, { expiresAt: T0 + 120_000 });
      await store.write(async (w) => {
        await w.insert('grants', [g]);
        await w.insert('holds', [h1]);
        await w.insert('holds', [h2]);
      });
      assert.deepEqual(await store.get('holds', { id: h1.id }), h1);
      await store.write(async (w) => {
        assert.equal(
          await w.get('holds', { id: h1.id }, { fields: ['accountId'] }).then((h) => h?.accountId),
          'acc-b',
        );
        assert.equal(
          await w
            .get('holds', { id: 'hld_none' }, { fields: ['accountId'] })
            .then((h) => h?.accountId),
          undefined,
        );
        assert.deepEqual(
          (
            await w.findFor(
              'holds',
              'accountId',
              ['acc-b', 'acc-a'],
              { status: 'held', expiresAt: { lte: T0 + 60_000 } },
              { order: ['expiresAt', 'id'] },
            )
          ).map((h) => h.id),
          [h1.id],
        );
        const holds = await w.getMany('holds', [
          { accountId: 'acc-b', id: h2.id },
          { accountId: 'acc-a', id: h1.id },
        ]);
        assert.deepEqual(
          holds.map((h) => h.id),
          [h2.id],
        );
        await w.update(
          'holds',
          { status: 'captured', capturedCredits: 2, resolvedAt: T0 + 1000 },
          { accountId: 'acc-b', id: h1.id, status: 'held' },
        );
      });
      const resolved = await store.get('holds', { id: h1.id });
      assert.deepEqual(
        [resolved?.status, resolved?.capturedCredits, resolved?.resolvedAt],
        ['captured', 2, T0 + 1000],
      );
      assert.deepEqual(
        (
          await store.find(
            'holds',
            { accountId: 'acc-b', status: 'held' },
            { order: ['expiresAt', 'id'] },
          )
        ).map((h) => h.id),
        [h2.id],
      );
      // Resolved once: a resolved hold no longer matches, so a second resolution changes nothing
      // (the unit of work asserts one row changed).
      assert.equal(
        await store.write((w) =>
          w.update(
            'holds',
            { status: 'released', capturedCredits: 0, resolvedAt: T0 + 2000 },
            { accountId: 'acc-b', id: h1.id, status: 'held' },
          ),
        ),
        0,
      );
      assert.equal((await store.get('holds', { id: h1.id }))?.status, 'captured');
      // The generic reader on committed data, and counts inside a write transaction.
      assert.deepEqual(
        (await store.findFor('holds', 'accountId', ['acc-b', 'acc-a'], {}, { order: ['id'] })).map(
          (h) => [h.accountId, h.id],
        ),
        [
          ['acc-b', h1.id],
          ['acc-b', h2.id],
        ].sort((x, y) => (x[1]! < y[1]! ? -1 : 1)),
      );
      assert.deepEqual(
        (await store.getMany('holds', [{ accountId: 'acc-b', id: h2.id }])).map((h) => h.id),
        [h2.id],
      );
      assert.equal(await store.getMany('holds', []).then((hs) => hs.length), 0);
      await store.write(async (w) => {
        assert.equal(await w.count('holds', { accountId: 'acc-b' }), 2);
        assert.equal(await w.count('holds', { accountId: 'acc-b', status: 'held' }), 1);
      });
    });

    it('journal: transactions with entries in order; history filters and pages newest first', async () => {
      const txs = [0, 1, 2, 3, 4].map((i) =>
        tx('acc-c', { createdAt: T0 + i * 1000, kind: i % 2 === 0 ? 'grant' : 'charge' }),
      );
      await store.write((w) => w.appendTransactions(txs));
      await store.write(async (w) =>
        assert.deepEqual(await journalTransaction(w, 'acc-c', txs[2]!.id), txs[2]),
      );
      const all = await history(store, { accountId: 'acc-c', limit: 10 });
      assert.deepEqual(
        all.map((t) => t.id),
        txs.map((t) => t.id).reverse(),
      );
      const charges = await history(store, {
        accountId: 'acc-c',
        kinds: ['charge'],
        limit: 10,
      });
      assert.deepEqual(
        charges.map((t) => t.id),
        [txs[3]!.id, txs[1]!.id],
      );
      const window = await history(store, {
        accountId: 'acc-c',
        since: T0 + 1000,
        until: T0 + 3000,
        limit: 10,
      });
      assert.deepEqual(
        window.map((t) => t.id),
        [txs[2]!.id, txs[1]!.id],
      );
      const page = await history(store, {
        accountId: 'acc-c',
        before: txs[3]!.id,
        limit: 2,
      });
      assert.deepEqual(
        page.map((t) => t.id),
        [txs[2]!.id, txs[1]!.id],
      );
      assert.deepEqual(await history(store, { accountId: 'acc-a', limit: 10 }), []);
    });

    it('idempotency records are per account and can be purged by age', async () => {
      await store.write((w) =>
        w.insert('idempotency', [
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
        const found = await w.getMany('idempotency', [
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
        const left = await w.getMany('idempotency', [
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
          await w.insert(
            'catalogs',
            [{ version: 'v1', body, digest: 'd1', loadedAt: T0, activatedAt: T0 }],
            'skip',
          ),
          1,
        );
        assert.equal(
          await w.insert(
            'catalogs',
            [{ version: 'v1', body, digest: 'dX', loadedAt: T0, activatedAt: T0 }],
            'skip',
          ),
          0,
        );
        await w.insert(
          'catalogs',
          [
            {
              version: 'v2',
              body,
              digest: 'd2',
              loadedAt: T0 + 1,
              activatedAt: T0 + 1,
            },
          ],
          'skip',
        );
      });
      assert.equal((await activeCatalog(store))?.version, 'v2');
      await store.write((w) => w.update('catalogs', { activatedAt: T0 + 2 }, { version: 'v1' }));
      assert.equal((await activeCatalog(store))?.version, 'v1');
      assert.equal((await store.get('catalogs', { version: 'v2' }))?.digest, 'd2');
      assert.deepEqual(
        (await store.find('catalogs', {}, { order: ['activatedAt desc', 'version desc'] })).map(
          (c) => c.version,
        ),
        ['v1', 'v2'],
      );
    });

    it('accountAudit sums books and finds unbalanced transactions and repeated resolutions', async () => {
      await store.write(async (w) => {
        await w.insert('accounts', [account('acc-audit')], 'skip');
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
        await w.insert('accounts', [account('acc-due')], 'skip');
        await w.insert('grants', [grant('acc-due', { expiresAt: T0 + 10 })]);
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
        lines: [
          {
            pack: 'pack-20',
            unitCredits: 20,
            unitPriceCents: 999,
            count: 1,
            credits: 20,
            priceCents: 999,
          },
        ],
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
        cancelledAt: null,
        origin: 'autotopup' as const,
      };
      await store.write(async (w) => {
        await w.insert('accounts', [account('acc-top')], 'skip');
        await w.insert('autotopups', [rule], 'replace');
        await w.insert(
          'autotopups',
          [{ ...rule, armed: false, firedInPeriod: 1, lastFiredAt: T0 + 5 }],
          'replace',
        );
        await w.insert('purchases', [purchase]);
        await w.insert('purchases', [{ ...purchase, id: id('pur'), origin: 'customer' }]);
      });
      assert.deepEqual(await store.get('autotopups', { accountId: 'acc-top' }), {
        ...rule,
        armed: false,
        firedInPeriod: 1,
        lastFiredAt: T0 + 5,
      });
      const waiting = await store.find(
        'purchases',
        { origin: 'autotopup', status: 'pending', checkoutRef: null },
        { order: ['createdAt', 'id'], limit: 10 },
      );
      assert.deepEqual(
        waiting.map((p) => [p.id, p.origin]),
        [[purchase.id, 'autotopup']],
      );
      await store.write(async (w) => {
        assert.equal((await w.findFor('autotopups', 'accountId', ['acc-top', 'acc-b'])).length, 1);
        await w.updateMany('purchases', [{ ...purchase, checkoutRef: 'chk_1' }]);
        assert.equal(await w.delete('autotopups', { accountId: 'acc-top' }), 1);
        assert.equal(await w.delete('autotopups', { accountId: 'acc-top' }), 0);
      });
      assert.equal(await store.get('autotopups', { accountId: 'acc-top' }), undefined);
      assert.deepEqual(
        await store.find(
          'purchases',
          { origin: 'autotopup', status: 'pending', checkoutRef: null },
          { order: ['createdAt', 'id'], limit: 10 },
        ),
        [],
      );
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
        await w.insert('accounts', [account('acc-hook')], 'skip');
        await w.insert('webhook_endpoints', [endpoint]);
        await w.insert('webhook_events', [event]);
        await w.insert('webhook_deliveries', [
          delivery,
          { ...delivery, id: 'dlv_2', nextAttemptAt: T0 + 50 },
        ]);
        await w.insert('grants', [grant('acc-hook', { id: 'grt_hook_soon', expiresAt: T0 + 100 })]);
      });
      const expiring = (from: number, to: number) =>
        store
          .find(
            'grants',
            { remaining: { gt: 0 }, expiresAt: { not: null, gt: from, lte: to } },
            { order: ['expiresAt', 'id'], limit: 100 },
          )
          .then((gs) => gs.map((g) => g.id));
      assert.ok((await expiring(T0 + 50, T0 + 100)).includes('grt_hook_soon'));
      assert.ok(!(await expiring(T0 + 100, T0 + 200)).includes('grt_hook_soon'), 'from is open');
      // The generic reader never answers a secret; webhookTargets is the one way to it.
      const { secret: _secret, ...endpointInfo } = endpoint;
      assert.deepEqual(await store.find('webhook_endpoints', {}, { order: ['createdAt', 'id'] }), [
        endpointInfo,
      ]);
      assert.deepEqual(await store.get('webhook_endpoints', { id: endpoint.id }), endpointInfo);
      assert.deepEqual(await store.webhookTargets(), [endpoint]);
      assert.deepEqual(await store.webhookTargets([]), []);
      assert.deepEqual(
        await store.get('webhook_events', { accountId: 'acc-hook', id: 'evt_1' }),
        event,
      );
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
        await w
          .updateMany('webhook_deliveries', [
            {
              ...claimed[0]!,
              status: 'delivered',
              attempts: 1,
              deliveredAt: T0 + 20,
              lastStatusCode: 200,
            },
          ])
          .then(() =>
            w.insert('webhook_attempts', [
              {
                accountId: 'acc-hook',
                deliveryId: 'dlv_1',
                attempt: 1,
                at: T0 + 20,
                statusCode: 200,
                error: null,
                durationMs: 3,
              },
            ]),
          );
        assert.deepEqual(
          await w
            .findFor(
              'webhook_events',
              'id',
              ['evt_1', 'evt_2'],
              { accountId: 'acc-hook' },
              { fields: ['id'] },
            )
            .then((rows) => rows.map((r) => r.id)),
          ['evt_1'],
        );
        assert.equal(
          await w.update(
            'webhook_endpoints',
            { disabledAt: T0 + 30 },
            { id: 'whe_1', disabledAt: null },
          ),
          1,
        );
        assert.equal(
          await w.update(
            'webhook_endpoints',
            { disabledAt: T0 + 30 },
            { id: 'whe_1', disabledAt: null },
          ),
          0,
        );
        assert.deepEqual(await w.find('webhook_endpoints', { disabledAt: null }), []);
      });
      assert.equal((await store.get('webhook_deliveries', { id: 'dlv_1' }))?.status, 'delivered');
      assert.deepEqual(
        (
          await store.find(
            'webhook_attempts',
            { accountId: 'acc-hook', deliveryId: 'dlv_1' },
            { order: ['attempt'] },
          )
        ).map((a) => a.statusCode),
        [200],
      );
      assert.deepEqual(
        (await store.find('webhook_deliveries', { status: 'pending' }, deliveriesPage)).map(
          (d) => d.id,
        ),
        ['dlv_2'],
      );
      assert.deepEqual(
        (await store.find('webhook_deliveries', { accountId: 'acc-hook' }, deliveriesPage)).length,
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
        expiresAt: null,
        ...over,
      });
      const ops = key('key000000002', { scope: 'operator', accountId: null, name: 'ops' });
      const ro = key('key000000001', {
        readOnly: true,
        createdAt: T0 + 1,
        expiresAt: T0 + 3_600_000,
      });
      const member = key('key000000004', { memberId: 'mem_key', createdAt: T0 + 2 });
      await store.write(async (w) => {
        await w.insert('api_keys', [ops]);
        await w.insert('api_keys', [ro]);
        await w.insert('api_keys', [member]);
      });
      await assert.rejects(
        store.write((w) => w.insert('api_keys', [key('key000000003', { scope: 'operator' })])),
        'an operator key names no account',
      );
      assert.deepEqual(await store.keyForCheck(ro.id), ro);
      assert.deepEqual(await store.keyForCheck(member.id), member, 'a member key keeps its member');
      assert.equal(await store.keyForCheck('key-unknown'), undefined);
      // The generic reader never answers a key's hash; keyForCheck is the one way to it.
      const { secretHash: _hash, ...roInfo } = ro;
      assert.deepEqual(await store.get('api_keys', { id: ro.id }), roInfo);
      assert.ok(
        (await store.find('api_keys', {})).every((k) => !('secretHash' in k)),
        'no listing carries a hash',
      );
      assert.deepEqual(
        (await store.find('api_keys', {}, { order: ['createdAt', 'id'] })).map((k) => [
          k.id,
          k.memberId,
        ]),
        [
          [ops.id, null],
          [ro.id, null],
          [member.id, 'mem_key'],
        ],
      );
      assert.equal(
        await store.write((w) =>
          w
            .update('api_keys', { revokedAt: T0 + 5 }, { id: ops.id, revokedAt: null })
            .then((n) => n === 1),
        ),
        true,
      );
      assert.equal(
        await store.write((w) =>
          w
            .update('api_keys', { revokedAt: T0 + 6 }, { id: ops.id, revokedAt: null })
            .then((n) => n === 1),
        ),
        false,
      );
      assert.equal(
        await store.write((w) =>
          w
            .update('api_keys', { revokedAt: T0 }, { id: 'key-unknown', revokedAt: null })
            .then((n) => n === 1),
        ),
        false,
      );
      assert.equal((await store.keyForCheck(ops.id))?.revokedAt, T0 + 5);
      const held = (
        await Promise.all(
          ['acc-a', 'acc-b', 'acc-c'].map((a) =>
            store.find('holds', { accountId: a, status: 'held' }, { order: ['expiresAt', 'id'] }),
          ),
        )
      ).flat().length;
      assert.equal(await store.count('holds', { status: 'held' }), held);
    });

    it('accounts: kind and name round trip through every reader', async () => {
      const org = account('org-kind', { kind: 'organization', name: 'Acme "Labs"' });
      await store.write(async (w) => {
        assert.equal(await w.insert('accounts', [org], 'skip'), 1);
        assert.equal(
          await w.insert('accounts', [account('org-kind', { name: 'Other' })], 'skip'),
          0,
          'an existing account is not replaced',
        );
      });
      assert.deepEqual(await store.accounts({ id: 'org-kind' }).then(([a]) => a), {
        ...org,
        plan: null,
      });
      assert.deepEqual(await store.accounts({ afterId: 'org-kin', limit: 1 }), [
        { ...org, plan: null },
      ]);
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
        await w.insert('accounts', [account('acc-plan')], 'skip');
        await w.insert('accounts', [account('acc-plan-none')], 'skip');
        await w.insert('subscriptions', [sub]);
      });
      assert.equal((await store.accounts({ id: 'acc-plan' }).then(([a]) => a))?.plan, 'pro');
      assert.equal((await store.accounts({ id: 'acc-plan-none' }).then(([a]) => a))?.plan, null);
      assert.deepEqual(
        (await store.accounts({ afterId: 'acc-pl', limit: 2 })).map((a) => [a.id, a.plan]),
        [
          ['acc-plan', 'pro'],
          ['acc-plan-none', null],
        ],
      );
      await store.write((w) => w.updateMany('subscriptions', [{ ...sub, status: 'ended' }]));
      assert.equal((await store.accounts({ id: 'acc-plan' }).then(([a]) => a))?.plan, null);
      const search = await store.accounts({ afterId: null, limit: 10, search: 'acc-plan' });
      assert.deepEqual(
        search.map((a) => a.plan),
        [null, null],
      );
    });

    it('searches accounts by a part of the id or the name, ignoring case, page by page', async () => {
      await store.write(async (w) => {
        await w.insert('accounts', [account('srch-alpha', { name: 'Alpha Studio' })], 'skip');
        await w.insert('accounts', [account('srch-beta')], 'skip');
        await w.insert(
          'accounts',
          [account('srch-gamma', { kind: 'organization', name: 'The "%_Labs"' })],
          'skip',
        );
      });
      const ids = async (after: string | null, limit: number, search: string) =>
        (await store.accounts({ afterId: after, limit, search })).map((a) => a.id);
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
        await w.insert('accounts', [account('org-m', { kind: 'organization' })], 'skip');
        await w.insert('accounts', [account('org-n', { kind: 'organization' })], 'skip');
        await w.insert('members', [owner, invited, elsewhere], 'replace');
      });
      assert.deepEqual(await store.find('members', { accountId: 'org-m' }, { order: ['id'] }), [
        invited,
        owner,
      ]);
      assert.deepEqual(await store.get('members', { accountId: 'org-m', id: 'mem_a' }), invited);
      assert.deepEqual(await store.get('members', { accountId: 'org-n', id: 'mem_a' }), elsewhere);
      assert.equal(
        await store.get('members', { accountId: 'org-n', id: 'mem_b' }),
        undefined,
        'reached by its account',
      );

      const joined = { ...invited, status: 'active' as const, inviteHash: null, joinedAt: T0 + 9 };
      const promoted = { ...owner, role: 'admin' as const, email: null };
      await store.write(async (w) => {
        await w.insert('members', [joined, { ...promoted, name: 'first' }, promoted], 'replace');
        assert.deepEqual(
          await w.find('members', { accountId: 'org-m' }, { order: ['id'] }),
          [joined, promoted],
          'the last row of a key wins',
        );
        assert.deepEqual(await w.find('members', { accountId: 'org-n' }, { order: ['id'] }), [
          elsewhere,
        ]);
      });
      assert.deepEqual(await store.find('members', { accountId: 'org-m' }, { order: ['id'] }), [
        joined,
        promoted,
      ]);

      await assert.rejects(
        store.write(async (w) => {
          await w.insert('members', [member('org-m', 'mem_c')], 'replace');
          await w.insert(
            'members',
            [member('org-m', 'mem_d', { status: 'active', joinedAt: null })],
            'replace',
          );
        }),
        'an active member has joined',
      );
      assert.equal(
        await store.get('members', { accountId: 'org-m', id: 'mem_c' }),
        undefined,
        'nothing of that write',
      );

      await store.write(async (w) => {
        assert.equal(await w.delete('members', { accountId: 'org-m', id: 'mem_a' }), 1);
        assert.equal(await w.delete('members', { accountId: 'org-m', id: 'mem_a' }), 0);
        assert.equal(await w.delete('members', { accountId: 'org-m', id: 'mem_zz' }), 0);
      });
      assert.deepEqual(await store.find('members', { accountId: 'org-m' }, { order: ['id'] }), [
        promoted,
      ]);
      assert.deepEqual(
        await store.find('members', { accountId: 'org-n' }, { order: ['id'] }),
        [elsewhere],
        'the other account kept its',
      );
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
        await w.insert('projects', [p2], 'replace');
        await w.insert('projects', [p1], 'replace');
        await w.insert('projects', [other], 'replace');
      });
      assert.deepEqual(await store.find('projects', { accountId: 'org-m' }, { order: ['id'] }), [
        p1,
        p2,
      ]);
      const renamed = { ...p1, name: 'First, renamed' };
      await store.write(async (w) => {
        await w.insert('projects', [renamed], 'replace');
        assert.deepEqual(await w.find('projects', { accountId: 'org-m' }, { order: ['id'] }), [
          renamed,
          p2,
        ]);
      });
      assert.deepEqual(await store.find('projects', { accountId: 'org-n' }, { order: ['id'] }), [
        other,
      ]);
      assert.deepEqual(await store.find('projects', { accountId: 'acc-a' }, { order: ['id'] }), []);
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
        await w.insert('accounts', [account('org-b', { kind: 'organization' })], 'skip');
        await w.insert('accounts', [account('org-c', { kind: 'organization' })], 'skip');
        await w.insert('budgets', [fixed, pool, memberB, memberA, otherPool], 'replace');
      });
      const ordered = [memberA, memberB, pool, fixed];
      assert.deepEqual(
        await store.find('budgets', { accountId: 'org-b' }, { order: ['scope', 'target'] }),
        ordered,
      );
      await store.write(async (w) => {
        assert.deepEqual(
          await w.findFor('budgets', 'accountId', ['org-b'], {}, { order: ['scope', 'target'] }),
          ordered,
        );
        const both = await w.findFor(
          'budgets',
          'accountId',
          ['org-c', 'org-b', 'acc-a'],
          {},
          { order: ['scope', 'target'] },
        );
        assert.deepEqual(
          [...both].sort((x, y) => x.accountId.localeCompare(y.accountId)),
          [...ordered, otherPool],
        );
        assert.deepEqual(
          await w.findFor('budgets', 'accountId', [], {}, { order: ['scope', 'target'] }),
          [],
        );
      });

      const spent = { ...memberA, used: 40, held: 0, alerted: 1, updatedAt: T0 + 5 };
      const capped = { ...pool, limitCredits: 500, mode: 'hard' as const, updatedAt: T0 + 5 };
      await store.write((w) => w.insert('budgets', [spent, capped], 'replace'));
      assert.deepEqual(
        await store.find('budgets', { accountId: 'org-b' }, { order: ['scope', 'target'] }),
        [spent, memberB, capped, fixed],
      );

      await assert.rejects(
        store.write(async (w) => {
          await w.insert('budgets', [budget('org-b', { target: 'mem_c' })], 'replace');
          await w.insert(
            'budgets',
            [budget('org-b', { target: 'mem_d', limitCredits: null })],
            'replace',
          );
        }),
        'only the pool may go without a limit',
      );
      assert.equal(
        (await store.find('budgets', { accountId: 'org-b' }, { order: ['scope', 'target'] }))
          .length,
        4,
        'nothing of that write',
      );

      await store.write(async (w) => {
        assert.equal(
          await w.delete('budgets', { accountId: 'org-b', scope: 'member', target: 'mem_b' }),
          1,
        );
        assert.equal(
          await w.delete('budgets', { accountId: 'org-b', scope: 'member', target: 'mem_b' }),
          0,
        );
        assert.equal(
          await w.delete('budgets', { accountId: 'org-b', scope: 'project', target: 'mem_a' }),
          0,
          'scope is key',
        );
        assert.equal(
          await w.delete('budgets', { accountId: 'acc-a', scope: 'pool', target: '' }),
          0,
        );
      });
      assert.deepEqual(
        await store.find('budgets', { accountId: 'org-b' }, { order: ['scope', 'target'] }),
        [spent, capped, fixed],
      );
      assert.deepEqual(
        await store.find('budgets', { accountId: 'org-c' }, { order: ['scope', 'target'] }),
        [otherPool],
      );
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
      await store.write((w) => w.insert('budget_alerts', [a1, a2, a3, pool, other]));
      assert.deepEqual(
        await store.find(
          'budget_alerts',
          { accountId: 'org-b' },
          { order: ['createdAt desc', 'id desc'], limit: 10 },
        ),
        [pool, a3, a2, a1],
      );
      assert.deepEqual(
        await store.find(
          'budget_alerts',
          { accountId: 'org-b' },
          { order: ['createdAt desc', 'id desc'], limit: 2 },
        ),
        [pool, a3],
      );
      assert.deepEqual(
        await store.find(
          'budget_alerts',
          { accountId: 'org-c' },
          { order: ['createdAt desc', 'id desc'], limit: 10 },
        ),
        [other],
      );

      const budgetBefore = await store.find(
        'budgets',
        { accountId: 'org-b' },
        { order: ['scope', 'target'] },
      );
      await assert.rejects(
        store.write(async (w) => {
          await w.insert('budgets', [budget('org-b', { target: 'mem_new' })], 'replace');
          await w.insert('budget_alerts', [alert('bal_4', { createdAt: T0 + 50 })]);
        }),
        'the same threshold of the same budget in the same period is announced once',
      );
      assert.deepEqual(
        await store.find(
          'budget_alerts',
          { accountId: 'org-b' },
          { order: ['createdAt desc', 'id desc'], limit: 10 },
        ),
        [pool, a3, a2, a1],
      );
      assert.deepEqual(
        await store.find('budgets', { accountId: 'org-b' }, { order: ['scope', 'target'] }),
        budgetBefore,
        'nothing of that write',
      );

      const nextPeriod = alert('bal_5', { periodStart: T0 + 1000, createdAt: T0 + 60 });
      const otherTarget = alert('bal_6', { target: 'mem_b', createdAt: T0 + 60 });
      await store.write((w) => w.insert('budget_alerts', [nextPeriod, otherTarget]));
      assert.deepEqual(
        (
          await store.find(
            'budget_alerts',
            { accountId: 'org-b' },
            { order: ['createdAt desc', 'id desc'], limit: 3 },
          )
        ).map((a) => a.id),
        ['bal_6', 'bal_5', 'bal_0'],
        'another period or target may alert at the same threshold',
      );
      // The thresholds announced for one budget in one period, as a commit group reads them.
      const thresholds = (
        w: WriteTx,
        accountId: string,
        scope: 'member' | 'project',
        target: string,
        periodStart: number,
      ) =>
        w
          .find(
            'budget_alerts',
            { accountId, scope, target, periodStart },
            { fields: ['threshold'], order: ['threshold'] },
          )
          .then((rows) => rows.map((r) => r.threshold));
      await store.write(async (w) => {
        assert.deepEqual(await thresholds(w, 'org-b', 'member', 'mem_a', T0), [50, 80, 100]);
        assert.deepEqual(await thresholds(w, 'org-b', 'member', 'mem_a', T0 + 1000), [50]);
        assert.deepEqual(await thresholds(w, 'org-b', 'member', 'mem_b', T0), [50]);
        assert.deepEqual(await thresholds(w, 'org-b', 'project', 'mem_a', T0), []);
        assert.deepEqual(await thresholds(w, 'org-c', 'member', 'mem_a', T0), [50]);
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
        await w.insert('accounts', [account('org-h', { kind: 'organization' })], 'skip');
        await w.insert('grants', [g]);
        for (const h of [tieFirst, tieSecond, oldest, released, captured])
          await w.insert('holds', [h]);
      });
      const heldInB = (
        await store.find(
          'holds',
          { accountId: 'acc-b', status: 'held' },
          { order: ['expiresAt', 'id'] },
        )
      )
        .map((h) => h.id)
        .sort();
      assert.equal(heldInB.length, 1);
      await store.write(async (w) => {
        assert.deepEqual(
          await w.find(
            'holds',
            { accountId: 'org-h', status: 'held' },
            { order: ['createdAt', 'id'] },
          ),
          [oldest, tieFirst, tieSecond],
        );
        assert.deepEqual(
          await w.find(
            'holds',
            { accountId: 'org-m', status: 'held' },
            { order: ['createdAt', 'id'] },
          ),
          [],
        );
        assert.deepEqual(
          (
            await w.find(
              'holds',
              { accountId: 'acc-b', status: 'held' },
              { order: ['createdAt', 'id'] },
            )
          )
            .map((h) => h.id)
            .sort(),
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
        await w.insert('accounts', [account('org-t', { kind: 'organization' })], 'skip');
        await w.insert('accounts', [account('org-u', { kind: 'organization' })], 'skip');
        await w.appendTransactions([g0, c1, cap2, early, tooEarly, rel, elsewhere]);
      });
      await store.write(async (w) => {
        assert.deepEqual(
          await w.journal(
            { accountId: 'org-t', kind: ['charge', 'capture'], createdAt: { gte: T0 + 1000 } },
            { order: ['createdAt', 'id'] },
          ),
          [c1, early, cap2],
        );
        assert.deepEqual(
          (
            await w.journal(
              { accountId: 'org-t', kind: ['charge'], createdAt: { gte: T0 + 1001 } },
              { order: ['createdAt', 'id'] },
            )
          ).map((t) => t.id),
          [early.id],
        );
        assert.deepEqual(
          (
            await w.journal(
              { accountId: 'org-t', kind: ['grant', 'release'], createdAt: { gte: 0 } },
              { order: ['createdAt', 'id'] },
            )
          ).map((t) => t.id),
          [g0.id, rel.id],
        );
        assert.deepEqual(
          await w.journal(
            { accountId: 'org-t', kind: ['refund'], createdAt: { gte: 0 } },
            { order: ['createdAt', 'id'] },
          ),
          [],
        );
        assert.deepEqual(
          await w.journal(
            { accountId: 'org-t', kind: [], createdAt: { gte: 0 } },
            { order: ['createdAt', 'id'] },
          ),
          [],
          'no kinds, none',
        );
        assert.deepEqual(
          await w.journal(
            { accountId: 'org-u', kind: ['charge'], createdAt: { gte: 0 } },
            { order: ['createdAt', 'id'] },
          ),
          [elsewhere],
        );
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
        await w.insert('accounts', [account('acc-rb')], 'skip');
        await w.insert('accounts', [account('acc-rc')], 'skip');
        await w.insert('grants', [g]);
        for (const h of [h1, h2, h3]) await w.insert('holds', [h]);
        await insertRequestBatch(w, batch);
      });
      await store.write(async (w) => {
        assert.deepEqual(await readRequestBatch(w, 'acc-rb', batch.id), batch);
        assert.equal(await readRequestBatch(w, 'acc-rc', batch.id), undefined, 'its account only');
        assert.equal(await readRequestBatch(w, 'acc-rb', 'bat_none'), undefined);
        await w.update(
          'holds',
          { status: 'captured', capturedCredits: 3, resolvedAt: T0 + 1000 },
          { accountId: 'acc-rb', id: h1.id, status: 'held' },
        );
      });
      const found = await findRequestBatch(store, batch.id);
      assert.deepEqual(found?.batch, batch);
      assert.deepEqual(found?.holds, [
        h2,
        { ...h1, status: 'captured', capturedCredits: 3, resolvedAt: T0 + 1000 },
      ]);
      assert.equal(await findRequestBatch(store, 'bat_none'), undefined);
      // An item index twice, or a hold in two items, breaks the schema: nothing of it is kept.
      for (const items of [
        [
          { index: 0, holdId: h3.id, ref: null },
          { index: 0, holdId: h3.id, ref: null },
        ],
        [{ index: 0, holdId: h2.id, ref: null }],
      ]) {
        const bad = { ...batch, id: id('bat'), items };
        await assert.rejects(store.write((w) => insertRequestBatch(w, bad)));
        assert.equal(await findRequestBatch(store, bad.id), undefined);
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
        await w.insert('accounts', [account('acc-ru')], 'skip');
        await w.insert('accounts', [account('acc-rv')], 'skip');
        await w.insert('grants', [g, gp]);
        await w.insert('holds', [h]);
        await w.appendTransactions([c1, c2, c3, capture]);
        await w.addRollups(
          [],
          [
            flow(h0 - H, 'granted', 'allocation', 100, 'txn_0', 'txn_0'),
            flow(h0, 'consumed', 'purchase', 2, c1.id, c1.id),
            flow(h0 + H, 'consumed', 'purchase', 2, c3.id, c3.id),
          ],
        );
        await w.addRollups(
          [
            {
              accountId: 'acc-ru',
              hour: h0,
              dim: 'operation',
              key: '(credits)',
              credits: 2,
              units: 0,
            },
          ],
          [],
        );
        await w.addRollups(
          [],
          [{ ...flow(h0, 'consumed', 'purchase', 2, c2.id, c2.id), accountId: 'acc-rv' }],
        );
      });
      // A second batch adds to the same rows and widens the hour's ids.
      await store.write(async (w) => {
        await w.addRollups(
          [],
          [
            flow(h0, 'consumed', 'purchase', 2, c2.id, c2.id),
            flow(h0 + 2 * H, 'consumed', 'allocation', 3, capture.id, capture.id),
          ],
        );
        await w.addRollups(
          [
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
          ],
          [],
        );
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
        const first = await w.journal(
          { accountId: 'acc-ru', id: { gt: '' } },
          { order: ['id'], limit: 2 },
        );
        assert.deepEqual(first, [c1, c3]);
        assert.deepEqual(
          await w.journal(
            { accountId: 'acc-ru', id: { gt: c3.id ?? '' } },
            { order: ['id'], limit: 10 },
          ),
          [c2, capture],
        );
        await w
          .delete('usage_hourly', { accountId: 'acc-ru' })
          .then(() => w.delete('flows_hourly', { accountId: 'acc-ru' }))
          .then(() => w.delete('rollups_pending', { accountId: 'acc-ru' }));
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
      assert.deepEqual(
        await store
          .find(
            'rollups_pending',
            { accountId: { gt: '' } },
            { fields: ['accountId'], order: ['accountId'], limit: 10 },
          )
          .then((rows) => rows.map((r) => r.accountId)),
        [],
      );
      assert.deepEqual(await journalTransaction(store, 'acc-ru', c1.id), c1);
      assert.equal(await journalTransaction(store, 'acc-rv', c1.id), undefined, 'its account only');
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
        await w.insert('accounts', [account('acc-oc')], 'skip');
        await w.insert('outcomes', [a, b], 'replace');
        assert.deepEqual(
          await w.get('outcomes', { accountId: 'acc-oc', transactionId: 'txn_a' }),
          a,
        );
        assert.equal(
          await w.get('outcomes', { accountId: 'acc-a', transactionId: 'txn_a' }),
          undefined,
        );
      });
      const changed = { ...a, outcome: 'discarded' as const, recordedAt: T0 + 6000 };
      await store.write((w) => w.insert('outcomes', [changed], 'replace'));
      assert.deepEqual(
        await store.find(
          'outcomes',
          { accountId: 'acc-oc', createdAt: { gte: T0, lt: T0 + 1000 } },
          { order: ['createdAt', 'transactionId'] },
        ),
        [changed, b],
      );
      assert.deepEqual(
        await store.find(
          'outcomes',
          { accountId: 'acc-oc', createdAt: { gte: T0 + 150, lt: T0 + 200 } },
          { order: ['createdAt', 'transactionId'] },
        ),
        [],
      );
      assert.deepEqual(
        await store.find(
          'outcomes',
          { accountId: 'acc-a', createdAt: { gte: T0, lt: T0 + 1000 } },
          { order: ['createdAt', 'transactionId'] },
        ),
        [],
      );
    });

    it('purchases: found by id alone and by account, updated, payment events marked once', async () => {
      const purchase = (over: Partial<Purchase> = {}): Purchase => ({
        accountId: 'acc-pu',
        id: id('pur'),
        pack: 'pack-20',
        lines: [
          {
            pack: 'pack-20',
            unitCredits: 20,
            unitPriceCents: 999,
            count: 1,
            credits: 20,
            priceCents: 999,
          },
        ],
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
        cancelledAt: null,
        origin: 'customer',
        ...over,
      });
      const first = purchase();
      // A combination: its lines round-trip through the JSON column of both dialects.
      const second = purchase({
        createdAt: T0 + 1,
        pack: 'pack-50x2+pack-20',
        lines: [
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
        ],
        credits: 120,
        priceCents: 4997,
      });
      const paid = { ...first, status: 'paid' as const, paymentRef: 'pay_1', paidAt: T0 + 5 };
      await store.write(async (w) => {
        await w.insert('accounts', [account('acc-pu')], 'skip');
        await w.insert('purchases', [first]);
        await w.insert('purchases', [second]);
        assert.equal(
          await w
            .get('purchases', { id: first.id }, { fields: ['accountId'] })
            .then((p) => p?.accountId),
          'acc-pu',
        );
        assert.equal(
          await w
            .get('purchases', { id: 'pur_unknown' }, { fields: ['accountId'] })
            .then((p) => p?.accountId),
          undefined,
        );
        assert.deepEqual(await w.get('purchases', { accountId: 'acc-pu', id: first.id }), first);
        assert.equal(await w.get('purchases', { accountId: 'acc-a', id: first.id }), undefined);
        await w.updateMany('purchases', [paid]);
        assert.equal(
          await w.insert(
            'payment_events',
            [{ accountId: 'acc-pu', eventId: 'evt_pay_1', processedAt: T0 }],
            'skip',
          ),
          1,
        );
        assert.equal(
          await w.insert(
            'payment_events',
            [{ accountId: 'acc-pu', eventId: 'evt_pay_1', processedAt: T0 + 1 }],
            'skip',
          ),
          0,
        );
      });
      assert.deepEqual(await store.get('purchases', { id: first.id }), paid);
      assert.equal(await store.get('purchases', { id: 'pur_unknown' }), undefined);
      assert.deepEqual(
        await store.find(
          'purchases',
          { accountId: 'acc-pu' },
          { order: ['createdAt desc', 'id desc'] },
        ),
        [second, paid],
      );
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
        await w.insert('accounts', [account('acc-su1')], 'skip');
        await w.insert('accounts', [account('acc-su2')], 'skip');
        for (const s of [old, one, two]) await w.insert('subscriptions', [s]);
        const active = await w.findFor(
          'subscriptions',
          'accountId',
          ['acc-su2', 'acc-su1', 'acc-a'],
          { status: 'active' },
        );
        assert.deepEqual(
          active.sort((a, b) => a.accountId.localeCompare(b.accountId)),
          [one, two],
        );
      });
      assert.deepEqual(await currentSubscription(store, 'acc-su1'), one);
      const due = async (until: number) =>
        (await dueSubscriptions(store, until, 10)).filter((a) => a.startsWith('acc-su'));
      assert.deepEqual(await due(T0 + 250), ['acc-su1', 'acc-su2']);
      assert.deepEqual(await due(T0 + 150), ['acc-su1']);
      const ended = { ...one, status: 'ended' as const };
      const renewed = { ...two, cycleIndex: 1, nextRenewalAt: T0 + 300 };
      await store.write((w) => w.updateMany('subscriptions', [ended, renewed]));
      assert.deepEqual(await currentSubscription(store, 'acc-su1'), ended);
      assert.deepEqual(await currentSubscription(store, 'acc-su2'), renewed);
      assert.deepEqual(await due(T0 + 250), []);
      assert.equal(await currentSubscription(store, 'acc-a'), undefined);
    });

    it('accountView: every grant, newest first, and the open holds, as one snapshot', async () => {
      const older = grant('acc-av', { createdAt: T0 });
      const newer = grant('acc-av', { createdAt: T0 + 1, remaining: 0 });
      const open = hold('acc-av', older.id);
      await store.write(async (w) => {
        await w.insert('accounts', [account('acc-av')], 'skip');
        await w.insert('grants', [older, newer]);
        await w.insert('holds', [open]);
      });
      assert.deepEqual(await grantsAndHolds(store, 'acc-av'), {
        grants: [newer, older],
        holds: [open],
        overdraft: NO_OVERDRAFT,
      });
      await store.write((w) =>
        w.update(
          'holds',
          { status: 'released', capturedCredits: 0, resolvedAt: T0 + 2 },
          { accountId: 'acc-av', id: open.id, status: 'held' },
        ),
      );
      assert.deepEqual((await grantsAndHolds(store, 'acc-av')).holds, []);
      assert.deepEqual(await grantsAndHolds(store, 'acc-none'), {
        grants: [],
        holds: [],
        overdraft: NO_OVERDRAFT,
      });
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
        expiresAt: null,
        ...over,
      });
      const body = { version: 'v-tx' } as never;
      const catalog = { version: 'v-tx', body, digest: 'dtx', loadedAt: T0, activatedAt: T0 + 99 };
      await store.write(async (w) => {
        await w.insert('webhook_endpoints', [endpoint]);
        assert.deepEqual(await w.webhookTargets(['whe_one']).then(([e]) => e), endpoint);
        assert.equal(await w.webhookTargets(['whe_unknown']).then(([e]) => e), undefined);
        await w.insert('catalogs', [catalog], 'skip');
        assert.deepEqual(await w.get('catalogs', { version: 'v-tx' }), catalog);
        assert.equal(await w.get('catalogs', { version: 'v-unknown' }), undefined);
        assert.deepEqual(await activeCatalog(w), catalog);
        await w.insert('api_keys', [key('key_mem_1')]);
        await w.insert('api_keys', [key('key_mem_2', { revokedAt: T0 + 1 })]);
        await w.insert('api_keys', [key('key_mem_3')]);
        await w.insert('api_keys', [key('key_other', { memberId: 'mem_stays' })]);
        assert.equal(
          await w.update(
            'api_keys',
            { revokedAt: T0 + 9 },
            { accountId: 'acc-b', memberId: 'mem_gone', revokedAt: null },
          ),
          2,
        );
        assert.equal(
          await w.update(
            'api_keys',
            { revokedAt: T0 + 10 },
            { accountId: 'acc-b', memberId: 'mem_gone', revokedAt: null },
          ),
          0,
        );
      });
      const disabled = { ...endpoint, disabledAt: T0 + 3 };
      await store.write(async (w) => {
        assert.equal(
          await w.update(
            'webhook_endpoints',
            { disabledAt: T0 + 3 },
            { id: 'whe_one', disabledAt: null },
          ),
          1,
        );
        assert.deepEqual(await w.webhookTargets(['whe_one']).then(([e]) => e), disabled);
      });
      assert.equal((await store.keyForCheck('key_mem_1'))?.revokedAt, T0 + 9);
      assert.equal((await store.keyForCheck('key_mem_2'))?.revokedAt, T0 + 1);
      assert.equal((await store.keyForCheck('key_other'))?.revokedAt, null);
    });

    // Last in the suite: the cases above called every method of the port at least once
    // (close is called by the test file itself).
    it('exercised every method the port declares', () => {
      assert.deepEqual(missing(), []);
    });
  });
}

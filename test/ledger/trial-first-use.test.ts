import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/ledger/ledger.js';
import { FakeClock } from '../../src/ledger/ports.js';
import { defaultCatalog } from '../helpers.js';
import { BOTH_STORES } from '../pg-helpers.js';
import { clean, refusal } from './refusals.js';

const T0 = Date.UTC(2027, 5, 1);
const DAY = 86_400_000;

/** The default catalog with a trial and a default plan (free unless told). */
function catalogWith(extra: Record<string, unknown>): unknown {
  const c = structuredClone(defaultCatalog()) as Record<string, unknown>;
  return { ...c, version: `trial-${Object.keys(extra).join('-')}`, ...extra };
}

const TRIAL_AT_CREATION = { trial: { credits: 15, expiresAfterDays: 14, at: 'creation' } };

for (const [name, open, skip] of BOTH_STORES) {
  describe(`trial credits and accounts on first use on ${name}`, { skip }, () => {
    it('a trial at creation: once per account, its own expiry, source trial in the balance and statement', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(catalogWith(TRIAL_AT_CREATION));
        await ledger.createAccount({ accountId: 'tri' });
        let balance = await ledger.balance('tri');
        assert.equal(balance.available, 15);
        assert.deepEqual(
          balance.grants.map((g) => [g.source, g.amount, g.expiresAt]),
          [['trial', 15, T0 + 14 * DAY]],
        );
        // The same creation again is a replay: no second trial.
        await ledger.createAccount({ accountId: 'tri' });
        assert.equal((await ledger.balance('tri')).available, 15);

        // An organization is an account too.
        await ledger.createOrganization({ accountId: 'org', name: 'Org', owner: { id: 'own' } });
        assert.equal((await ledger.balance('org')).available, 15);

        // Spent in part; the rest expires after 14 days, in the statement as trial credits.
        await ledger.charge({ accountId: 'tri', key: 'c1', credits: 4 });
        clock.advance(15 * DAY);
        balance = await ledger.balance('tri');
        assert.equal(balance.available, 0);
        const statement = await ledger.statement('tri', { from: T0, to: clock.now() });
        assert.deepEqual(statement.granted.bySource, [{ source: 'trial', credits: 15 }]);
        assert.equal(statement.expired.credits, 11);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('a trial at subscription: at the first plan only, not again after a cancel and a new plan', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const ledger = new Ledger({ store, clock });
        await ledger.loadCatalog(
          catalogWith({ trial: { credits: 20, expiresAfterDays: 30, at: 'subscription' } }),
        );
        await ledger.createAccount({ accountId: 'sub' });
        assert.equal((await ledger.balance('sub')).available, 0);
        await ledger.subscribe({ accountId: 'sub', key: 's1', plan: 'starter' });
        let balance = await ledger.balance('sub');
        assert.deepEqual(balance.grants.map((g) => g.source).sort(), ['allocation', 'trial']);
        assert.equal(balance.available, 120);
        // A replay of the subscribe gives nothing more.
        await ledger.subscribe({ accountId: 'sub', key: 's1', plan: 'starter' });
        await ledger.cancelPlan({ accountId: 'sub', key: 'x1' });
        clock.advance(32 * DAY);
        await ledger.subscribe({ accountId: 'sub', key: 's2', plan: 'starter' });
        balance = await ledger.balance('sub');
        assert.equal(
          balance.grants.filter((g) => g.source === 'trial').length,
          0,
          'the trial expired and none was given again',
        );
        await clean(store);
      } finally {
        await close();
      }
    });

    it('accounts on first use: off by default; on, a charge, hold or grant makes the account with its plan and trial, once', async () => {
      const { store, close } = await open();
      try {
        const clock = new FakeClock(T0);
        const off = new Ledger({ store, clock });
        await off.loadCatalog(catalogWith({ ...TRIAL_AT_CREATION, defaultPlan: 'free' }));
        const unknown = await refusal(off.charge({ accountId: 'nova', key: 'c', credits: 1 }));
        assert.equal(unknown.code, 'unknown_account');
        // The first ledger is not closed: closing a ledger closes its store, shared here.

        const ledger = new Ledger({ store, clock, accountsOnFirstUse: true });
        // Bad input on an unknown account makes nothing.
        const bad = await refusal(
          ledger.charge({
            accountId: 'nova',
            key: 'c0',
            items: [{ operation: 'image.nope', params: {}, count: 1 }],
          }),
        );
        assert.equal(bad.code, 'unknown_operation');
        assert.equal((await refusal(ledger.balance('nova'))).code, 'unknown_account');

        // Ten charges at once on a new account: one account, one plan, one trial.
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            ledger.charge({ accountId: 'nova', key: `c${i + 1}`, credits: 2 }),
          ),
        );
        assert.equal(results.length, 10);
        const balance = await ledger.balance('nova');
        // Free plan: 10 credits a cycle, trial 15; 20 charged.
        assert.equal(balance.available, 10 + 15 - 20);
        assert.equal((await ledger.getAccount('nova')).plan, 'free');
        const grants = await ledger.history({ accountId: 'nova', kinds: ['grant'] });
        assert.deepEqual(
          grants.transactions.map((t) => t.kind === 'grant' && t.detail.source),
          ['trial'],
          'one trial grant (spent first: it expires soonest)',
        );

        // A hold and a grant make their accounts too.
        await ledger.hold({ accountId: 'vega', key: 'h', credits: 5 });
        assert.equal((await ledger.balance('vega')).held, 5);
        await ledger.grant({ accountId: 'lyra', key: 'g', credits: 7, source: 'promotion' });
        assert.equal((await ledger.balance('lyra')).available, 10 + 15 + 7);
        await clean(store);
      } finally {
        await close();
      }
    });

    it('the catalog: a default plan must be a free plan of the catalog; a trial needs its fields', async () => {
      const { store, close } = await open();
      try {
        const ledger = new Ledger({ store, clock: new FakeClock(T0) });
        for (const [extra, path] of [
          [{ defaultPlan: 'starter' }, '/defaultPlan'],
          [{ defaultPlan: 'gold' }, '/defaultPlan'],
          [{ trial: { credits: 5, at: 'creation' } }, '/trial/expiresAfterDays'],
          [{ trial: { credits: 5, expiresAfterDays: 7, at: 'signup' } }, '/trial/at'],
        ] as const) {
          const r = await refusal(ledger.loadCatalog(catalogWith(extra)));
          assert.equal(r.code, 'catalog_invalid');
          assert.match(r.message, new RegExp(path));
        }
      } finally {
        await close();
      }
    });
  });
}

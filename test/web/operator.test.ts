import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ok, startServer, type TestServer } from '../http/http-helpers.js';
import { BrowserSessions, open } from './browser-session.js';
import { browserCheck, launch, screenshots } from './web-helpers.js';

/**
 * The operator acts from the dashboard (issue 17, item 7), in a real Chromium against a real
 * server (SQLite, manual payments): the account list with balances, plans, status and last
 * activity, sorted and searched; creating accounts; and on an account's Operator page: grant,
 * adjust, confirm and refund payments, verify, make keys. Assertions read the page's text and
 * the ledger afterwards, never timings.
 */

const check = browserCheck();
const numbers = new Intl.NumberFormat('en-US');

describe('operator actions in Chromium', { skip: check.skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let sessions: BrowserSessions;
  let purchaseId = '';

  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice', plan: 'starter' } }), 201);
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'bob' } }), 201);
    ok(
      await s.call('POST', '/v1/grants', {
        idem: 'g-bob',
        body: { accountId: 'bob', credits: 500, source: 'promotion' },
      }),
      201,
    );
    ok(
      await s.call('POST', '/v1/charges', {
        idem: 'c-alice',
        body: { accountId: 'alice', credits: 4 },
      }),
      201,
    );
    const bought = ok(
      await s.call('POST', '/v1/purchases', {
        idem: 'p-alice',
        body: { accountId: 'alice', pack: 'pack-20' },
      }),
      201,
    ) as { purchase: { id: string } };
    purchaseId = bought.purchase.id;
    browser = await launch();
    sessions = new BrowserSessions(browser, s.url);
  });

  after(async () => {
    await sessions?.close();
    await browser?.close();
    await s?.close();
  });

  const available = async (accountId: string) => (await s.ledger.balance(accountId)).available;

  async function operatorOn(accountId: string): Promise<Page> {
    const page = await sessions.signedIn(s.operatorKey);
    await page.goto(`${s.url}/accounts/${accountId}/operator`);
    await page.getByRole('heading', { level: 1, name: /^Operator/ }).waitFor();
    await page.getByTestId('op-balance').waitFor();
    return page;
  }

  it('lists accounts with balance, plan, status and last activity; sorts and searches them', async () => {
    const page = await sessions.signedIn(s.operatorKey);
    const table = page.getByRole('table', { name: /^Accounts, sorted by/ });
    await table.waitFor();
    const alice = table.getByRole('row', { name: /^alice/ });
    const last = (await s.ledger.history({ accountId: 'alice', limit: 1 })).transactions[0]!;
    const when = new Intl.DateTimeFormat('en-US', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }).format(last.createdAt);
    const spaced = (t: string) => t.replace(/[\s\u202f]+/g, ' ');
    assert.equal(
      spaced((await alice.locator('td').allInnerTexts()).join(' | ')),
      spaced(`— | starter | active | ${numbers.format(await available('alice'))} | 0 | ${when}`),
    );
    assert.match(await table.getByRole('row', { name: /^bob/ }).innerText(), /no plan\s+500\s+0/);

    // Sorting by available puts bob (500) above alice (96), and back again.
    const firstRow = () => table.locator('tbody tr th').first().innerText();
    assert.equal(await firstRow(), 'alice');
    await table.getByRole('button', { name: 'Available' }).click();
    assert.equal(
      await table.getByRole('columnheader', { name: 'Available' }).getAttribute('aria-sort'),
      'descending',
    );
    assert.equal(await firstRow(), 'bob');
    await table.getByRole('button', { name: 'Available' }).click();
    assert.equal(await firstRow(), 'alice');
    await screenshots(page, 'operator-accounts');

    await page.getByLabel('Search by id or name').fill('BO');
    await page.getByRole('button', { name: 'Search' }).click();
    // The search's answer replaces the table (a loading line stands between): wait for it.
    await page.getByRole('link', { name: 'alice' }).waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'bob' }).waitFor();
    assert.equal(await table.locator('tbody tr').count(), 1);
  });

  it('creates an account on a plan, once, and shows the API problem for a bad id', async () => {
    const page = await sessions.signedIn(s.operatorKey);
    const form = page.getByRole('form', { name: 'Create an account' });
    await form.getByLabel('Account id').fill('carol');
    await form.getByLabel('Plan').selectOption('pro');
    await form.getByRole('button', { name: 'Create' }).dblclick();
    await page
      .getByTestId('create-result')
      .getByText(/^(Created|Already there)/)
      .waitFor();
    assert.match(await page.getByTestId('create-result').innerText(), /^Created carol\.$/);
    assert.equal((await s.ledger.getSubscription('carol')).plan, 'pro');
    assert.equal(await available('carol'), 300, 'one subscription, one allocation');
    await page.getByRole('table').getByRole('link', { name: 'carol' }).waitFor();

    await form.getByLabel('Account id').fill('no spaces allowed');
    await form.getByRole('button', { name: 'Create' }).click();
    const alert = form.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /invalid_argument/);
  });

  it('grants credits once on a double click, and shows the problem for bad input', async () => {
    const page = await operatorOn('carol');
    const before = await available('carol');
    const form = page.getByRole('form', { name: 'Grant credits' });
    await form.getByLabel('Credits').fill('25');
    await form.getByLabel('Source').selectOption('promotion');
    await form.getByLabel('Reason (for the journal)').fill('launch week');
    await form.getByRole('button', { name: 'Grant' }).dblclick();
    await page.getByTestId('grant-result').waitFor();
    assert.match(await page.getByTestId('grant-result').innerText(), /^Granted 25 credits/);
    await page
      .getByTestId('op-balance')
      .getByText(`${before + 25} credits available`)
      .waitFor();
    assert.equal(await available('carol'), before + 25, 'granted once');
    // The same submit again is the same intent: a replay that says so, not a second grant.
    await form.getByRole('button', { name: 'Grant' }).click();
    await page
      .getByTestId('grant-result')
      .getByText(/already done/)
      .waitFor();
    assert.equal(await available('carol'), before + 25);
    await screenshots(page, 'operator-grant');

    for (const bad of ['abc', '0', '-3']) {
      await form.getByLabel('Credits').fill(bad);
      await form.getByRole('button', { name: 'Grant' }).click();
      const alert = form.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /invalid_credits[\s\S]*credits/, bad);
    }
    assert.equal(await available('carol'), before + 25, 'bad input changes nothing');
  });

  it('adjusts the balance down and up, each shown in the history', async () => {
    const page = await operatorOn('carol');
    const before = await available('carol');
    const form = page.getByRole('form', { name: 'Adjust the balance' });
    await form.getByLabel('Change').selectOption('remove');
    await form.getByLabel('Credits').fill('5');
    await form.getByLabel('Reason').fill('duplicate job');
    await form.getByRole('button', { name: 'Apply the adjustment' }).dblclick();
    await page.getByTestId('adjust-result').getByText('Removed 5 credits').waitFor();
    assert.equal(await available('carol'), before - 5);
    await form.getByLabel('Change').selectOption('add');
    await form.getByLabel('Credits').fill('3');
    await form.getByRole('button', { name: 'Apply the adjustment' }).click();
    await page.getByTestId('adjust-result').getByText('Added 3 credits').waitFor();
    assert.equal(await available('carol'), before - 2);
    const kinds = (await s.ledger.history({ accountId: 'carol', limit: 2 })).transactions.map(
      (t) => t.kind,
    );
    assert.deepEqual(kinds, ['grant', 'charge']);
    await screenshots(page, 'operator-adjust');
  });

  it('confirms a pending payment, then refunds it after asking', async () => {
    const page = await operatorOn('alice');
    const before = await available('alice');
    const payments = page.getByRole('region', { name: 'Payments' });
    await payments.getByRole('button', { name: `Confirm the payment of ${purchaseId}` }).dblclick();
    await page.getByTestId('confirm-result').waitFor();
    assert.match(
      await page.getByTestId('confirm-result').innerText(),
      /is paid: 20 credits granted/,
    );
    assert.equal(await available('alice'), before + 20, 'the pack granted once');

    await payments.getByRole('button', { name: `Refund ${purchaseId}` }).click();
    await payments.getByText(/Its unspent credits are taken back/).waitFor();
    await screenshots(page, 'operator-refund');
    assert.equal((await s.ledger.getPurchase(purchaseId)).status, 'paid', 'nothing before yes');
    await payments.getByRole('button', { name: 'Refund now' }).dblclick();
    await page.getByTestId('refund-result').waitFor();
    assert.match(await page.getByTestId('refund-result').innerText(), /refunded/);
    assert.equal((await s.ledger.getPurchase(purchaseId)).status, 'refunded');
    assert.equal(await available('alice'), before, 'the unspent pack credits went back');
  });

  it('runs verify and shows its result; makes an account key shown once', async () => {
    const page = await operatorOn('carol');
    await page.getByRole('button', { name: 'Run verify' }).click();
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    assert.match(
      await result.innerText(),
      /^Verified: no violations in \d+ accounts and \d+ transactions; none in this account\.$/,
    );
    await screenshots(page, 'operator-verify');

    const form = page.getByRole('form', { name: 'API key for this account' });
    await form.getByLabel('Name (optional)').fill('support desk');
    await form.getByLabel('Read only').check();
    await form.getByRole('button', { name: 'Make a key' }).click();
    const key = await page.getByTestId('new-key').innerText();
    const me = ok(await s.call('GET', '/v1/me', { key })) as Record<string, unknown>;
    assert.deepEqual([me.scope, me.accountId, me.readOnly], ['account', 'carol', true]);
    await screenshots(page, 'operator-key');
  });

  it('offers the Operator page to operator keys only', async () => {
    const page = await sessions.signedIn(await s.keyFor('alice'));
    await page.getByTestId('available').waitFor();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    assert.equal(await nav.getByRole('link', { name: 'Operator' }).count(), 0);
    await page.goto(`${s.url}/accounts/alice/operator`);
    await page.getByText('These actions take an operator key.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Grant' }).count(), 0);
    await open(page, 'Overview');
  });

  it('says a sort orders the page shown when the list has more than one page', async () => {
    // 50 a page: with these, the list has two, in id order.
    for (let i = 0; i < 50; i++) {
      await s.ledger.createAccount({ accountId: `zz-${String(i).padStart(2, '0')}`, plan: null });
    }
    const page = await sessions.signedIn(s.operatorKey);
    const table = page.getByRole('table', { name: /^Accounts, sorted by/ });
    await table.waitFor();
    assert.equal(await page.getByTestId('page-sort-note').count(), 0, 'id order needs no note');
    await table.getByRole('button', { name: 'Available' }).click();
    assert.equal(
      await page.getByTestId('page-sort-note').innerText(),
      'Sorted by available within this page of 50; the pages go in id order, and a search narrows them all.',
    );
    await page.getByRole('table', { name: /within this page$/ }).waitFor();
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { ok, startServer, type TestServer } from '../http/http-helpers.js';
import {
  browserCheck,
  launch,
  openPage,
  screenshots,
  signedIn as signInAs,
} from './web-helpers.js';

/**
 * The dashboard in a real Chromium against a real server (SQLite, manual payments): every
 * page, as an account key, an organization's admin and member, and the operator. Assertions
 * read the page's text and the ledger afterwards, never timings. Every page is saved at
 * desktop and phone size under artifacts/screenshots/.
 */

const check = browserCheck();
const numbers = new Intl.NumberFormat('en-US');

describe('the dashboard in Chromium', { skip: check.skip }, () => {
  let s: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const keys: Record<'alice' | 'adam' | 'mia', string> = { alice: '', adam: '', mia: '' };

  const charge = async (accountId: string, resolution: string, count: number, attribution = {}) =>
    ok(
      await s.call('POST', '/v1/charges', {
        idem: `${accountId}-${resolution}-${count}-${JSON.stringify(attribution)}`,
        body: {
          accountId,
          items: [{ operation: 'image.generate', params: { resolution }, count }],
          attribution,
        },
      }),
      201,
    );

  before(async () => {
    s = await startServer();
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice' } }), 201);
    ok(
      await s.call('POST', '/v1/accounts/alice/subscription', {
        idem: 'sub-alice',
        body: { plan: 'starter' },
      }),
      201,
    );
    await charge('alice', '720p', 3);
    await charge('alice', '4k', 2);
    await charge('alice', '1080p', 1);
    keys.alice = await s.keyFor('alice');

    ok(
      await s.call('POST', '/v1/orgs', {
        body: { id: 'acme', name: 'Acme Studio', owner: { id: 'olga', name: 'Olga' } },
      }),
      201,
    );
    ok(
      await s.call('POST', '/v1/accounts/acme/subscription', {
        idem: 'sub-acme',
        body: { plan: 'pro' },
      }),
      201,
    );
    ok(await s.call('PUT', '/v1/accounts/acme/members/adam', { body: { role: 'admin' } }), 201);
    ok(await s.call('PUT', '/v1/accounts/acme/members/mia', { body: { role: 'member' } }), 201);
    const project = await s.call('PUT', '/v1/accounts/acme/projects/launch', {
      body: { name: 'Launch' },
    });
    assert.ok(project.status < 300, project.text);
    await charge('acme', '4k', 2, { member: 'adam', project: 'launch' });
    await charge('acme', '720p', 5, { member: 'mia' });
    await charge('acme', '8k', 1, { member: 'mia', project: 'launch' });
    const memberKey = async (memberId: string) =>
      (await s.keys.create({ scope: { accountId: 'acme', memberId } })).key;
    keys.adam = await memberKey('adam');
    keys.mia = await memberKey('mia');
    browser = await launch();
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await s?.close();
  });

  const signedIn = (key: string) => signInAs(browser, contexts, s.url, key);
  const open = openPage;

  const available = async (accountId: string) =>
    numbers.format((await s.ledger.balance(accountId)).available);

  it('refuses a wrong key with its code, then signs in with an account key and reads the balance', async () => {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${s.url}/`);
    await screenshots(page, 'sign-in');
    await page.getByLabel('API key').fill('amk_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const problem = page.getByRole('alert');
    await problem.waitFor();
    assert.match(await problem.innerText(), /unauthorized/);

    await page.getByLabel('API key').fill(keys.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal(await page.getByTestId('who').innerText(), 'Account alice');
    assert.equal(
      await page.getByTestId('available').innerText(),
      `${await available('alice')} credits`,
    );
    assert.equal(await available('alice'), '89', '100 from Starter, 11 spent');
    await page.getByText('Renews on').waitFor();
    await page.getByRole('table', { name: 'Grants with credits left' }).waitFor();
    assert.match(
      await page.getByRole('table', { name: 'Grants with credits left' }).innerText(),
      /Plan allocation\s+89\s+50 roll over, 39 expire [A-Z][a-z]{2} \d+, \d{4}\s+0\s+100/,
    );
    // One advice: the API's headline.
    const advice = json(ok(await s.call('GET', '/v1/accounts/alice/advice')));
    assert.equal(await page.getByTestId('advice').innerText(), advice.headline.summary);
    // No closed cycle yet: the headline is the forecast itself, so its figures are not repeated.
    assert.equal(advice.headline.kind, advice.advice.at(-1).kind);
    assert.equal(await page.getByTestId('forecast').count(), 0);
    await screenshots(page, 'overview');

    // A reload keeps the session (sessionStorage) and the page (the server's fallback).
    await open(page, 'Usage');
    await page.reload();
    await page.getByTestId('usage-total').waitFor();
    assert.match(await page.getByTestId('usage-total').innerText(), /^11 credits used/);
  });

  it('shows what an account owes past zero and what its overdraft still allows', async () => {
    await s.ledger.createAccount({ accountId: 'owen' });
    await s.ledger.grant({ accountId: 'owen', key: 'owen-g', credits: 5, source: 'promotion' });
    await s.ledger.setOverdraft({ accountId: 'owen', limit: 20 });
    await s.ledger.charge({ accountId: 'owen', key: 'owen-c', credits: 12 });
    const page = await signedIn(await s.keyFor('owen'));
    assert.equal(await page.getByTestId('available').innerText(), '-7 credits');
    assert.equal(
      await page.getByTestId('overdraft').innerText(),
      '7 credits owed, paid first from your next credits. Overdraft: 13 credits of 20 credits left.',
    );
  });

  it('marks an account on a test clock, and shows its trial and partly captured hold', async () => {
    await s.ledger.createClock({ id: 'web-clock' });
    await s.ledger.createAccount({ accountId: 'tess', testClockId: 'web-clock' });
    await s.ledger.grant({ accountId: 'tess', key: 'tess-g', credits: 9, source: 'trial' });
    const { hold } = await s.ledger.hold({ accountId: 'tess', key: 'tess-h', credits: 4 });
    await s.ledger.capture({ holdId: hold.id, key: 'tess-p', credits: 1, final: false });
    const page = await signedIn(await s.keyFor('tess'));
    assert.match(await page.getByTestId('test-clock').innerText(), /test clock web-clock/);
    assert.equal(await page.getByTestId('available').innerText(), '5 credits');
    await page.getByRole('rowheader', { name: 'Trial' }).waitFor();
    await open(page, 'History');
    await page.getByRole('cell', { name: 'partial capture' }).waitFor();
  });

  it('quotes one request, a batch and the phased plan', async () => {
    const page = await signedIn(keys.alice);
    await open(page, 'Planner');
    await page.locator('#quote-resolution').selectOption('4k');
    await page.locator('#quote-count').fill('2');
    await page.getByRole('button', { name: 'Quote', exact: true }).click();
    assert.equal(await page.getByTestId('quote-result').innerText(), '2 × 3 credits = 6 credits');

    await page.locator('#batch-0-resolution').selectOption('720p');
    await page.locator('#batch-0-count').fill('12');
    await page.getByRole('button', { name: 'Add an item' }).click();
    await page.locator('#batch-1-resolution').selectOption('8k');
    await page.locator('#batch-1-count').fill('2');
    await page.getByRole('button', { name: 'Quote the batch' }).click();
    assert.equal(await page.getByTestId('batch-result').innerText(), 'Total 20 credits');

    await page.locator('#phases-finals').fill('10');
    await page.locator('#phases-resolution').selectOption('4k');
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    assert.match(
      await page.getByTestId('phases-result').innerText(),
      /^130 credits instead of 270 credits: 140 credits saved \(51\.85%\)$/,
    );

    // Past the operation's most per request: the API's refusal, with its code.
    await page.locator('#quote-count').fill('1000');
    await page.getByRole('button', { name: 'Quote', exact: true }).click();
    assert.match(await page.getByRole('alert').innerText(), /invalid_\w+/);
    await page.locator('#quote-count').fill('2');
    await page.getByRole('button', { name: 'Quote', exact: true }).click();
    await page.getByTestId('quote-result').waitFor();
    await screenshots(page, 'planner');
  });

  it('buys a pack with the manual provider; the operator confirms it and the credits arrive', async () => {
    const before = (await s.ledger.balance('alice')).available;
    const customer = await signedIn(keys.alice);
    await open(customer, 'Credits');
    await customer.getByText('$0.500 per credit').waitFor();
    await customer.getByRole('button', { name: 'Buy 20 credits for $9.99' }).click();
    // Buying asks first (test/web/buying.test.ts walks the confirmation through).
    await customer.getByRole('button', { name: 'Confirm: pay $9.99' }).click();
    await customer.getByText(/is waiting for the payment/).waitFor();
    const purchases = customer.getByRole('table', { name: 'Purchases, newest first' });
    const row = purchases.getByRole('row', { name: /pack-20/ });
    await row.getByText('pending').waitFor();
    assert.equal(
      await row.getByRole('button', { name: /^Confirm the payment/ }).count(),
      0,
      'a customer cannot confirm',
    );
    assert.equal((await s.ledger.balance('alice')).available, before, 'nothing before payment');
    await screenshots(customer, 'credits');

    const operator = await signedIn(s.operatorKey);
    assert.equal(await operator.getByTestId('who').innerText(), 'Operator key');
    await operator.getByRole('heading', { name: 'Accounts' }).waitFor();
    await operator.getByLabel('Search by id or name').fill('STUDIO');
    await operator.getByRole('button', { name: 'Search' }).click();
    await operator.getByRole('link', { name: 'acme' }).waitFor();
    assert.equal(await operator.getByRole('link', { name: 'alice' }).count(), 0);
    await operator.getByLabel('Search by id or name').fill('ali');
    await operator.getByRole('button', { name: 'Search' }).click();
    await operator.getByRole('link', { name: 'alice' }).waitFor();
    await screenshots(operator, 'accounts');

    await operator.getByRole('link', { name: 'alice' }).click();
    await operator.getByTestId('available').waitFor();
    await open(operator, 'Credits');
    await operator.getByRole('button', { name: /^Confirm the payment of pur_/ }).click();
    await operator
      .getByRole('table', { name: 'Purchases, newest first' })
      .getByRole('row', { name: /pack-20.*paid/ })
      .waitFor();
    await operator
      .getByTestId('credits-available')
      .getByText(`${before + 20} credits`)
      .waitFor();
    assert.equal((await s.ledger.balance('alice')).available, before + 20);
  });

  it('an owner upgrades (paid, then granted once), downgrades and cancels (queued, undone)', async () => {
    const customer = await signedIn(keys.alice);
    await open(customer, 'Plan');
    await customer.getByRole('button', { name: 'Choose Pro' }).click();
    assert.match(
      await customer.getByTestId('preview').innerText(),
      /^An upgrade: \$\d+\.\d\d to pay for the rest of this cycle, and [\d,]+ credits added once it is paid/,
    );
    await screenshots(customer, 'plan');
    const before = (await s.ledger.balance('alice')).available;
    await customer.getByRole('button', { name: 'Confirm the change' }).click();
    await customer.getByTestId('upgrade-pending').waitFor();
    await customer.getByTestId('pending-upgrade').waitFor();
    assert.equal(
      (await s.ledger.getSubscription('alice')).plan,
      'starter',
      'not before it is paid',
    );
    assert.equal((await s.ledger.balance('alice')).available, before);
    await screenshots(customer, 'plan-upgrade-pending');
    const [upgrade] = await s.ledger.listUpgrades('alice');
    assert.equal(upgrade!.status, 'pending');

    // The manual provider: the operator confirms the payment from the same page.
    const operator = await signedIn(s.operatorKey);
    await operator.goto(`${s.url}/accounts/alice/plan`);
    await operator.getByRole('button', { name: 'Confirm the payment' }).click();
    await operator.getByText(/^Paid: the plan is Pro and [\d,]+ credits? were added\.$/).waitFor();
    assert.equal((await s.ledger.getSubscription('alice')).plan, 'pro');
    const granted = (await s.ledger.balance('alice')).available - before;
    assert.equal(granted, upgrade!.credits, 'the quoted credits, once');
    await screenshots(operator, 'plan-upgrade-paid');

    // A downgrade waits for the renewal and is undone before it.
    await customer.reload();
    await customer.getByTestId('current-plan').waitFor();
    await customer.getByRole('button', { name: 'Choose Starter' }).click();
    await customer.getByRole('button', { name: 'Confirm the change' }).click();
    await customer.getByText('Done: the plan is Starter from the next renewal.').waitFor();
    assert.equal((await s.ledger.getSubscription('alice')).pendingPlan, 'starter');
    await customer.getByRole('button', { name: 'Stay on Pro' }).click();
    await customer.getByText('Undone: the plan renews as it is.').waitFor();
    assert.equal((await s.ledger.getSubscription('alice')).pendingPlan, null);

    // A cancellation asks first, ends at the renewal, and is undone.
    await customer.getByRole('button', { name: 'Cancel the plan…' }).click();
    await screenshots(customer, 'plan-cancel');
    await customer.getByRole('button', { name: 'Cancel at the renewal' }).click();
    await customer.getByText(/^Cancelled: the plan ends on /).waitFor();
    assert.notEqual((await s.ledger.getSubscription('alice')).cancelAt, null);
    await customer.getByRole('button', { name: 'Keep the plan' }).click();
    await customer.getByText('Undone: the plan renews as it is.').waitFor();
    assert.equal((await s.ledger.getSubscription('alice')).cancelAt, null);
    assert.equal(
      (await s.ledger.balance('alice')).available - before,
      granted,
      'nothing else moved',
    );
  });

  it('an admin sets a budget; a member sees the form refused', async () => {
    const admin = await signedIn(keys.adam);
    assert.equal(await admin.getByTestId('who').innerText(), 'adam (admin) of acme');
    await open(admin, 'Team');
    await admin.getByRole('row', { name: /mia\s+member\s+active/ }).waitFor();
    await admin.getByLabel('For').selectOption('member');
    await admin.getByLabel('Member', { exact: true }).selectOption('mia');
    await admin.getByLabel('Limit (credits per cycle)').fill('60');
    await admin.getByRole('button', { name: 'Save budget' }).click();
    await admin.getByText('Budget saved.').waitFor();
    const card = admin.getByRole('listitem').filter({ hasText: 'member mia' });
    assert.match(await card.innerText(), /9 used, 0 held of 60/);
    const budgets = json(ok(await s.call('GET', '/v1/accounts/acme/budgets'))).budgets;
    assert.deepEqual(
      budgets
        .filter((b: { scope: string }) => b.scope !== 'pool')
        .map((b: { scope: string; target: string; limitCredits: number }) => [
          b.scope,
          b.target,
          b.limitCredits,
        ]),
      [['member', 'mia', 60]],
    );
    await screenshots(admin, 'team');

    const member = await signedIn(keys.mia);
    await open(member, 'Team');
    await member.getByText('Only owners and admins set budgets.').waitFor();
    assert.equal(await member.getByRole('button', { name: 'Save budget' }).isDisabled(), true);
    assert.equal(await member.getByLabel('Limit (credits per cycle)').isDisabled(), true);
    await screenshots(member, 'team-member');
  });

  it('draws usage charts with bars, and a member sees its own usage', async () => {
    const admin = await signedIn(keys.adam);
    await open(admin, 'Usage');
    const byResolution = admin.getByRole('figure').filter({ hasText: 'By resolution' });
    await byResolution.waitFor();
    assert.equal(await byResolution.locator('svg[role="img"] rect.bar:not(.previous)').count(), 3);
    assert.match(await admin.getByTestId('usage-total').innerText(), /^15 credits used/);
    const byMember = admin.getByRole('table', { name: 'By member' });
    assert.match(await byMember.innerText(), /mia\s+9\s+0\s+adam\s+6\s+0/);
    await screenshots(admin, 'usage');

    // A member sees its own transactions (History), not the organization's reports.
    const member = await signedIn(keys.mia);
    await member.getByTestId('available').waitFor();
    await member.getByText('Advice covers the whole organization').waitFor();
    const nav = member.getByRole('navigation', { name: 'Pages' });
    assert.equal(await nav.getByRole('link', { name: 'Usage' }).count(), 0);
    await member.goto(`${s.url}/accounts/acme/usage`);
    await member.getByText('Usage reports cover the whole organization').waitFor();
    await open(member, 'History');
    const rows = member
      .getByRole('table', { name: 'Transactions, newest first' })
      .locator('tbody tr');
    await rows.first().waitFor();
    assert.deepEqual(await rows.locator('td.num').allInnerTexts(), ['-4', '-5'], 'its own charges');
  });

  it('filters the history, pages it, and exports the same rows as CSV', async () => {
    const page = await signedIn(keys.alice);
    await open(page, 'History');
    await page.getByRole('table', { name: 'Transactions, newest first' }).waitFor();
    await page.getByLabel('Kind').selectOption('charge');
    await page.getByRole('button', { name: 'Apply' }).click();
    const rows = page
      .getByRole('table', { name: 'Transactions, newest first' })
      .locator('tbody tr');
    await page.getByRole('cell', { name: '-6' }).waitFor();
    assert.equal(await rows.count(), 3);
    assert.deepEqual(
      await rows.locator('td.num').allInnerTexts(),
      ['-2', '-6', '-3'],
      'newest first, signed',
    );
    await screenshots(page, 'history');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'alice-history.csv');
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    assert.match(lines[0]!, /^transaction_id,time,kind,credits,/);
    assert.equal(lines.length, 4, 'a header and the three charges');
    assert.ok(lines.slice(1).every((l) => l.split(',')[2] === 'charge'));
  });
});

const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

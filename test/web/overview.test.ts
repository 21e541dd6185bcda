import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { FakeClock } from '../../src/ledger/ports.js';
import { ok, startServer, type TestServer } from '../http/http-helpers.js';
import { BrowserSessions, open } from './browser-session.js';
import { browserCheck, launch, screenshots } from './web-helpers.js';

/**
 * The overview at a glance in a real Chromium against a real server on a fake clock: the
 * header balance on every page (and after an action), the plan with its price and credits,
 * "used X of Y this cycle", grants by expiry with what rolls over said so, the daily chart's
 * numbers against the API, and one piece of advice with its button's target. Every state is
 * saved at desktop and phone size, with axe run at each.
 */

const check = browserCheck();
const numbers = new Intl.NumberFormat('en-US');
const day = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Sam's plan starts three cycles before the others', so its advice has closed cycles. */
const SAM_START = Date.UTC(2025, 11, 1, 10, 30);
const START = Date.UTC(2026, 2, 1, 10, 30);
const HOUR = 3_600_000;

describe('the overview at a glance in Chromium', { skip: check.skip }, () => {
  let s: TestServer;
  let clock: FakeClock;
  let browser: Browser;
  let sessions: BrowserSessions;
  const keys: Record<'rita' | 'rob' | 'sam' | 'olga' | 'mia', string> = {
    rita: '',
    rob: '',
    sam: '',
    olga: '',
    mia: '',
  };
  let n = 0;
  const charge = (accountId: string, items: unknown, attribution = {}) =>
    s.ledger.charge({ accountId, key: `c${++n}`, items: items as never, attribution });
  const images = (resolution: string, count: number) => [
    { operation: 'image.generate', params: { resolution }, count },
  ];

  before(async () => {
    clock = new FakeClock(SAM_START);
    s = await startServer({ clock });
    const { ledger } = s;
    // Sam: Starter (100 a cycle), 160 spent in each of three cycles: upgrading pays.
    await ledger.createAccount({ accountId: 'sam', plan: 'starter' });
    await ledger.grant({
      accountId: 'sam',
      key: 'sam-promo',
      credits: 1000,
      source: 'promotion',
      expiresAt: null,
    });
    for (const month of [11, 12, 13]) {
      clock.set(Date.UTC(2025, month, 10));
      await ledger.charge({ accountId: 'sam', key: `sam-${month}`, credits: 160 });
    }
    clock.set(START);
    // Rita: Starter; 2 credits on March 1, 3 on March 3 (a pace that lasts); a pack's 20 credits.
    await ledger.createAccount({ accountId: 'rita', plan: 'starter' });
    await ledger.grant({
      accountId: 'rita',
      key: 'rita-pack',
      credits: 20,
      source: 'purchase',
      expiresAt: Date.UTC(2027, 2, 1),
    });
    // Rob: no plan, 10 credits, spending fast: they run out before the month ends.
    await ledger.createAccount({ accountId: 'rob' });
    await ledger.grant({
      accountId: 'rob',
      key: 'rob-promo',
      credits: 10,
      source: 'promotion',
      expiresAt: null,
    });
    // Acme: Pro (300, all of it can roll over); Olga owns it, Mia is a member.
    await ledger.createOrganization({ accountId: 'acme', name: 'Acme', owner: { id: 'olga' } });
    await ledger.subscribe({ accountId: 'acme', key: 'acme-sub', plan: 'pro' });
    await ledger.setMember({ accountId: 'acme', memberId: 'mia', role: 'member' });
    await ledger.setProject({ accountId: 'acme', projectId: 'launch' });
    clock.set(START + 2 * HOUR);
    await charge('rita', images('720p', 2));
    await charge('acme', images('4k', 2), { member: 'olga', project: 'launch' });
    await charge('acme', images('720p', 3), { member: 'mia' });
    clock.set(Date.UTC(2026, 2, 3, 9));
    await charge('rita', images('4k', 1));
    await charge('rob', images('1080p', 4));
    await charge('acme', images('8k', 1), { member: 'mia', project: 'launch' });
    clock.set(Date.UTC(2026, 2, 3, 12));
    for (const id of ['rita', 'rob', 'sam'] as const) keys[id] = await s.keyFor(id);
    for (const id of ['olga', 'mia'] as const) {
      keys[id] = (await s.keys.create({ scope: { accountId: 'acme', memberId: id } })).key;
    }
    browser = await launch();
    sessions = new BrowserSessions(browser, s.url);
  });

  after(async () => {
    await sessions?.close();
    await browser?.close();
    await s?.close();
  });

  const available = async (accountId: string) =>
    `${numbers.format((await s.ledger.balance(accountId)).available)} credits available`;
  const headerBalance = (page: Page) => page.getByTestId('header-balance');
  const api = async (path: string, key = s.operatorKey) =>
    json(ok(await s.call('GET', path, { key })));

  /** The daily table's rows as text: day, total, then each series, as the API answers them. */
  async function chartRows(page: Page): Promise<string[][]> {
    const table = page.getByTestId('daily-table');
    await table.waitFor({ state: 'attached' });
    const rows = await table.locator('tbody tr').all();
    return Promise.all(
      rows.map(async (r) => (await r.locator('th, td').allTextContents()).map((t) => t.trim())),
    );
  }
  const apiRows = (d: Record<string, unknown>) =>
    (d.days as { from: number; credits: number; split: number[] }[]).map((x) => [
      day.format(x.from),
      ...[x.credits, ...x.split].map((c) => numbers.format(c)),
    ]);

  it('the header shows the available credits on every page, and again after an action', async () => {
    const page = await sessions.signedIn(keys.rita);
    const want = await available('rita');
    assert.equal(want, '115 credits available', '100 from Starter and a 20-credit pack, 5 spent');
    for (const name of ['Usage', 'History', 'Credits', 'Plan', 'Overview']) {
      await open(page, name);
      await headerBalance(page).getByText(want).waitFor();
    }
    // An operator's grant on the Operator page: the header reads again when it succeeds.
    const operator = await sessions.signedIn(s.operatorKey);
    await operator.goto(`${s.url}/accounts/rita/operator`);
    await headerBalance(operator).getByText(want).waitFor();
    const form = operator.getByRole('form', { name: 'Grant credits' });
    await form.getByLabel('Credits').fill('25');
    await form.getByLabel('Source').selectOption('promotion');
    await form.getByLabel('Reason (for the journal)').fill('header test');
    await form.getByRole('button', { name: 'Grant' }).click();
    await operator.getByTestId('grant-result').waitFor();
    await headerBalance(operator).getByText('140 credits available').waitFor();
    assert.equal(await available('rita'), '140 credits available');
    await screenshots(operator, 'header-balance-operator');
  });

  it('plan, used X of Y, grants by expiry with the rollover said so, and one advice without packs', async () => {
    const page = await sessions.signedIn(keys.rita);
    assert.equal(await page.getByTestId('plan-name').innerText(), 'Starter');
    assert.equal(
      await page.getByTestId('plan-terms').innerText(),
      '$9.99 per cycle for 100 credits per cycle; up to 50 roll over.',
    );
    assert.equal(await page.getByTestId('used').innerText(), 'Used 5 of 100 credits this cycle');
    assert.equal(await page.locator('#used-meter').getAttribute('value'), '5');
    // 95 of the allocation left: Starter rolls over 50 of them at the renewal, 45 expire.
    const rows = await page.getByTestId('grant-row').allInnerTexts();
    const balance = json(ok(await s.call('GET', '/v1/accounts/rita/balance')));
    const allocation = balance.grants.find((g: { source: string }) => g.source === 'allocation');
    assert.deepEqual([allocation.remaining, allocation.rollsOver], [95, 50]);
    assert.equal(rows.length, 3);
    assert.match(
      rows[0]!,
      /^Plan allocation\s+95\s+50 roll over, 45 expire Apr 1, 2026\s+0\s+100$/,
    );
    assert.match(rows[1]!, /^Pack\s+20\s+Expires Mar 1, 2027\s+0\s+20$/);
    // The operator's 25 of the test before never expire.
    assert.match(rows[2]!, /^Promotion\s+25\s+Never expires\s+0\s+25$/);
    assert.equal(
      await page.getByTestId('rolling-over').innerText(),
      '50 credits roll over at the renewal.',
    );
    assert.equal(
      await page.getByTestId('next-expiry').innerText(),
      'Next expiry: 45 credits on Apr 1, 2026.',
    );
    // No closed cycle yet: the headline is the forecast (the credits last), never "needs N cycles".
    const advice = await api('/v1/accounts/rita/advice', keys.rita);
    assert.equal(advice.headline.kind, 'lasts-past-renewal');
    assert.equal(await page.getByTestId('advice').innerText(), advice.headline.summary);
    assert.equal(await page.getByTestId('advice').count(), 1);
    assert.equal(await page.getByRole('link', { name: /^Buy/ }).count(), 0);
    await screenshots(page, 'overview-glance');
  });

  it("the daily chart shows the API's days, by operation, member and project", async () => {
    const page = await sessions.signedIn(keys.olga);
    await page.getByRole('heading', { name: 'Usage this cycle' }).waitFor();
    for (const by of ['operation', 'member', 'project'] as const) {
      const button = page.getByRole('group', { name: 'Split the days by' }).getByRole('button', {
        name: by[0]!.toUpperCase() + by.slice(1),
      });
      await button.click();
      assert.equal(await button.getAttribute('aria-pressed'), 'true');
      await page.getByText(`Credits a day by ${by}`).first().waitFor();
      const d = await api(`/v1/accounts/acme/usage/daily?by=${by}`, keys.olga);
      assert.deepEqual(await chartRows(page), apiRows(d));
      const headers = await page.getByTestId('daily-table').locator('thead th').allTextContents();
      assert.deepEqual(
        headers.slice(2),
        d.series.map((x: { key: string | null; kind: string }) =>
          x.kind === 'key' ? x.key : x.kind === 'other' ? 'Other' : `No ${by}`,
        ),
      );
      if (by === 'project') assert.deepEqual(headers.slice(2), ['launch', 'No project']);
    }
    // Acme is on Pro: all 287 left of the allocation (300 - 13) roll over.
    assert.match(
      (await page.getByTestId('grant-row').allInnerTexts())[0]!,
      /^Plan allocation\s+287\s+Rolls over Apr 1, 2026\s+0\s+300$/,
    );
    await screenshots(page, 'overview-daily-by-project');
  });

  it('a member sees its own usage; no advice', async () => {
    const page = await sessions.signedIn(keys.mia);
    await page.getByRole('heading', { name: 'Your usage this cycle' }).waitFor();
    const d = await api('/v1/accounts/acme/usage/daily', keys.mia);
    assert.equal(d.member, 'mia');
    assert.deepEqual(await chartRows(page), apiRows(d));
    assert.equal(
      await page.getByTestId('used').innerText(),
      `You used ${d.credits} of 300 credits this cycle`,
    );
    await headerBalance(page)
      .getByText(await available('acme'))
      .waitFor();
    assert.equal(await page.getByTestId('advice').count(), 0);
    await screenshots(page, 'overview-member');
  });

  it('a run-out leads with its packs: the button opens Credits with them in ?buy=', async () => {
    const page = await sessions.signedIn(keys.rob);
    const advice = await api('/v1/accounts/rob/advice', keys.rob);
    assert.equal(advice.headline.kind, 'run-out');
    await page.getByTestId('advice').waitFor();
    assert.equal(await page.getByTestId('advice').innerText(), advice.headline.summary);
    const lines: { pack: string; count: number }[] = advice.headline.recommendation.packs.lines;
    const target = `/accounts/rob/credits?buy=${lines.map((l) => `${l.pack}:${l.count}`).join(',')}`;
    const button = page.getByRole('link', { name: /^Buy / });
    assert.equal(await button.getAttribute('href'), target);
    await screenshots(page, 'overview-run-out');
    await button.click();
    await page.getByRole('heading', { level: 1, name: /^Credits/ }).waitFor();
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, target);
  });

  it('an upgrade that pays each month leads: the button opens the Plan page', async () => {
    const page = await sessions.signedIn(keys.sam);
    const advice = await api('/v1/accounts/sam/advice', keys.sam);
    assert.deepEqual(
      [
        advice.headline.kind,
        advice.headline.recommendation.action,
        advice.headline.recommendation.plan,
      ],
      ['consistent-overrun', 'upgrade', 'pro'],
    );
    await page.getByTestId('advice').waitFor();
    assert.equal(await page.getByTestId('advice').innerText(), advice.headline.summary);
    // The forecast under it agrees: no credits spent yet this cycle, so they last.
    assert.match(await page.getByTestId('forecast').innerText(), /last past the renewal/);
    const button = page.getByRole('link', { name: 'Upgrade to Pro' });
    assert.equal(await button.getAttribute('href'), '/accounts/sam/plan');
    await screenshots(page, 'overview-upgrade');
    await button.click();
    await page.getByRole('heading', { level: 1, name: /^Plan/ }).waitFor();
  });
});

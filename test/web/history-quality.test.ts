import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeClock } from '../../src/ledger/ports.js';
import { createOrganization, ok, startServer, type TestServer } from '../http/http-helpers.js';
import {
  assertAccessible,
  browserCheck,
  launch,
  newProfile,
  openPage,
  screenshots,
  SIZES,
  signedIn,
} from './web-helpers.js';

/**
 * The dashboard's history, usage and quality bar in a real Chromium against a real server:
 * history rows that say what happened, filters and pages in the URL, a member's full pages,
 * findings that fit, cycle pickers with dates, one message with a Retry for a server that does
 * not answer, the way back from an unknown account, and axe-core on every page for every role
 * at both sizes. Assertions read the page's text, the URL and the ledger, never timings.
 */

const check = browserCheck();
const DAY = 86_400_000;
const json = (b: unknown) => b as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('history and quality in Chromium', { skip: check.skip }, () => {
  let s: TestServer;
  let browser: Browser;
  const clock = new FakeClock(Date.UTC(2026, 2, 10, 12));
  const contexts: BrowserContext[] = [];
  const keys: Record<'alice' | 'adam' | 'mia', string> = { alice: '', adam: '', mia: '' };
  let n = 0;

  const charge = async (accountId: string, resolution: string, count: number, attribution = {}) =>
    ok(
      await s.call('POST', '/v1/charges', {
        idem: `q-charge-${(n += 1)}`,
        body: {
          accountId,
          items: [{ operation: 'image.generate', params: { resolution }, count }],
          attribution,
        },
      }),
      201,
    );

  before(async () => {
    s = await startServer({ clock });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice' } }), 201);
    ok(
      await s.call('POST', '/v1/accounts/alice/subscription', {
        idem: 'q-sub-alice',
        body: { plan: 'pro' },
      }),
      201,
    );
    await createOrganization(s, {
      id: 'acme',
      name: 'Acme Studio',
      owner: { id: 'olga', name: 'Olga' },
      plan: 'business',
      members: [
        ['adam', 'admin'],
        ['mia', 'member'],
      ],
      projects: [['launch', 'Launch']],
    });
    // The first cycle: some usage, so the picker has a cycle before the current one.
    await charge('alice', '1080p', 3);
    await charge('acme', '4k', 1, { member: 'adam', project: 'launch' });
    clock.advance(35 * DAY);

    // The current cycle. Alice: a promotion, a paid pack, 30 charges (two pages), a live hold.
    await s.ledger.grant({
      accountId: 'alice',
      key: 'q-promo',
      credits: 15,
      source: 'promotion',
      reason: 'launch week',
    });
    const bought = json(
      ok(
        await s.call('POST', '/v1/purchases', {
          idem: 'q-buy',
          body: { accountId: 'alice', pack: 'pack-20' },
        }),
        201,
      ),
    );
    ok(
      await s.call('POST', `/v1/purchases/${bought.purchase.id}/confirm`, {
        idem: 'q-confirm',
        body: {},
      }),
    );
    for (let i = 0; i < 30; i++) await charge('alice', i % 2 === 0 ? '720p' : '4k', 1 + (i % 3));
    ok(
      await s.call('POST', '/v1/holds', {
        idem: 'q-hold',
        body: {
          accountId: 'alice',
          items: [{ operation: 'image.generate', params: { resolution: '8k' }, count: 2 }],
          ttlMs: 3 * DAY,
        },
      }),
      201,
    );
    // Acme: Mia's 30 charges among Adam's 20, some with a project, some without.
    for (let i = 0; i < 50; i++) {
      const member = i % 5 < 3 ? 'mia' : 'adam';
      await charge('acme', '720p', 1, i % 4 === 0 ? { member, project: 'launch' } : { member });
    }
    // Findings: 8K images discarded while exploring, and one kept for a thumbnail.
    for (let i = 0; i < 3; i++) {
      const c = json(await charge('acme', '8k', 2, { member: 'adam' }));
      const outcome = await s.call('POST', '/v1/outcomes', {
        body: {
          accountId: 'acme',
          transactionId: c.transactionId,
          ...(i === 0
            ? { outcome: 'kept', labels: { use: 'thumbnail' } }
            : { outcome: 'discarded', labels: { phase: 'explore' } }),
        },
      });
      assert.ok(outcome.status < 300, outcome.text);
    }
    keys.alice = await s.keyFor('alice');
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

  const signIn = (key: string) => signedIn(browser, contexts, s.url, key);
  const historyRows = (page: Page) =>
    page.getByRole('table', { name: 'Transactions, newest first' }).locator('tbody tr');
  const search = (page: Page) => new URL(page.url()).searchParams;

  it('names what each history row did, with the live hold shown as held', async () => {
    const page = await signIn(keys.alice);
    await openPage(page, 'History');
    const hold = page.getByRole('row', { name: /^.*\bhold\b.*Held for/ });
    assert.match(await hold.innerText(), /Held for image\.generate 8k × 2\s+8 held/);
    const held = (await s.ledger.balance('alice')).held;
    assert.equal(held, 8, 'the ledger holds what the row says');
    assert.match(
      await historyRows(page).filter({ hasText: 'charge' }).first().innerText(),
      /Charged for image\.generate 4k × 3\s+-9/,
    );
    await screenshots(page, 'history-rows');

    // The grants are on the second page (older), after the charges.
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByTestId('history-page').getByText('Page 2').waitFor();
    assert.match(
      await page.getByRole('row', { name: /Pack pack-20/ }).innerText(),
      /grant\s+Pack pack-20 bought for \$9\.99\s+\+20/,
    );
    assert.match(
      await page.getByRole('row', { name: /Promotion/ }).innerText(),
      /Promotion: launch week\s+\+15/,
    );
  });

  it('names the member and project of an organization row', async () => {
    const admin = await signIn(keys.adam);
    await openPage(admin, 'History');
    const rows = historyRows(admin);
    await rows.first().waitFor();
    const texts = await rows.allInnerTexts();
    assert.ok(texts.some((t) => /member mia · project launch/.test(t)));
    assert.ok(
      texts.some((t) => /member adam\s+-1/.test(t)),
      'a row with a member and no project',
    );
  });

  it('keeps filters and the page in the URL: reload, Back and a shared link; focus on the list', async () => {
    const page = await signIn(keys.alice);
    await openPage(page, 'History');
    await page.getByLabel('Kind').selectOption('charge');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/kind=charge/);
    await historyRows(page).first().waitFor();
    assert.equal(await historyRows(page).count(), 25);
    const first = await historyRows(page).allInnerTexts();

    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByTestId('history-page').getByText('Page 2').waitFor();
    await historyRows(page).first().waitFor();
    assert.equal(
      await page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid')"),
      'history-list',
      'the focus is on the list, not lost with the button',
    );
    assert.equal(search(page).get('kind'), 'charge');
    assert.ok(search(page).get('pages'), 'the page is in the URL');
    const second = await historyRows(page).allInnerTexts();
    assert.equal(second.length, 6, '31 charges (30 in this cycle, 1 before): 25, then 6');
    assert.ok(second.every((t) => /\bcharge\b/.test(t)));
    const shared = page.url();

    await page.reload();
    await page.getByTestId('history-page').getByText('Page 2').waitFor();
    assert.deepEqual(await historyRows(page).allInnerTexts(), second, 'a reload shows the same');
    assert.equal(await page.getByLabel('Kind').inputValue(), 'charge');

    await page.goBack();
    await page.getByTestId('history-page').getByText('Page 1').waitFor();
    await historyRows(page).nth(24).waitFor();
    assert.deepEqual(await historyRows(page).allInnerTexts(), first, 'Back shows page 1');

    // A shared link, opened in another browser profile: sign in there, the same rows.
    const other = await (await newProfile(browser, contexts)).newPage();
    await other.goto(shared);
    await other.getByLabel('API key').fill(keys.alice);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByTestId('history-page').getByText('Page 2').waitFor();
    await historyRows(other).first().waitFor();
    assert.deepEqual(await historyRows(other).allInnerTexts(), second);

    // A link with nonsense in it shows the unfiltered first page, never a server error.
    await page.goto(`${s.url}/accounts/alice/history?kind=nope&since=tomorrow&pages=%20,!`);
    await page.getByTestId('history-page').getByText('Page 1').waitFor();
    assert.equal(await page.getByLabel('Kind').inputValue(), '');
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  it('gives a member full pages of its own rows', async () => {
    const member = await signIn(keys.mia);
    await openPage(member, 'History');
    await historyRows(member).nth(24).waitFor();
    const page1 = await historyRows(member).allInnerTexts();
    assert.equal(page1.length, 25, 'a full page although Adam made 2 of every 5 charges');
    assert.ok(page1.every((t) => /member mia/.test(t)));
    await member.getByRole('button', { name: 'Older' }).click();
    await member.getByTestId('history-page').getByText('Page 2').waitFor();
    await historyRows(member).first().waitFor();
    assert.equal(await historyRows(member).count(), 5, "the rest of Mia's 30");
    assert.equal(await member.getByRole('button', { name: 'Older' }).isDisabled(), true);
  });

  it('shows usage without a project as "no project", cycles with dates, findings that fit', async () => {
    const admin = await signIn(keys.adam);
    await openPage(admin, 'Usage');
    const byProject = admin.getByRole('table', { name: 'By project' });
    await byProject.waitFor();
    const audit = json(ok(await s.call('GET', '/v1/accounts/acme/audit'))).usage;
    const launch = audit.byProject.find((l: { key: string }) => l.key === 'launch').credits;
    assert.match(
      await byProject.innerText(),
      new RegExp(`launch\\s+${launch}[\\s\\S]*no project\\s+${audit.credits - launch}`),
    );

    const cycle = admin.getByLabel('Cycle');
    const options = await cycle.locator('option').allInnerTexts();
    assert.deepEqual(options, [
      '2: Apr 10, 2026 to May 10, 2026 (current)',
      '1: Mar 10, 2026 to Apr 10, 2026',
    ]);
    await cycle.selectOption('0');
    await admin.waitForURL(/cycle=0/);
    await admin.getByTestId('usage-period').getByText('Mar 10, 2026 to Apr 10, 2026').waitFor();
    await admin.reload();
    await admin.getByTestId('usage-period').getByText('Mar 10, 2026 to Apr 10, 2026').waitFor();
    assert.equal(await admin.getByLabel('Cycle').inputValue(), '0');
    await admin.goBack();
    await admin.getByTestId('usage-period').getByText('Apr 10, 2026 to May 10, 2026').waitFor();

    const findings = admin.getByTestId('findings');
    await findings.waitFor();
    for (const [size, viewport] of Object.entries(SIZES)) {
      await admin.setViewportSize(viewport);
      const fit = await findings.evaluate(
        (list, width) => ({
          list: list.scrollWidth <= list.clientWidth,
          cards: [...list.children].every((c) => c.scrollWidth <= c.clientWidth),
          page: list.ownerDocument.documentElement.scrollWidth <= width,
        }),
        viewport.width,
      );
      assert.deepEqual(fit, { list: true, cards: true, page: true }, `findings fit at ${size}`);
    }
    await admin.setViewportSize(SIZES.desktop);
    await screenshots(admin, 'usage-findings');
  });

  it('shows one message with a Retry when the server does not answer, and Retry asks again', async () => {
    const page = await signIn(keys.alice);
    await page.getByTestId('available').waitFor();
    let refused = 0;
    await page.route('**/v1/**', (route) => {
      refused += 1;
      return route.abort('connectionrefused');
    });
    await openPage(page, 'Usage');
    const message = page.getByTestId('unreachable');
    await message.waitFor();
    assert.equal(await page.getByRole('alert').count(), 1, 'one message, not one per request');
    assert.match(await message.innerText(), /The server did not answer/);
    await screenshots(page, 'unreachable');
    const before = refused;
    await page.getByRole('button', { name: 'Retry' }).click();
    await message.waitFor();
    assert.ok(refused > before, 'Retry asked the server again');

    await page.unroute('**/v1/**');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('usage-total').waitFor();
    assert.equal(await message.count(), 0);
    assert.equal(await page.getByRole('alert').count(), 0);

    // A reload while the server is away keeps the key, and Retry signs back in.
    await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.getByTestId('unreachable').waitFor();
    await page.unroute('**/v1/**');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('usage-total').waitFor();
  });

  it('offers the way back from an unknown account', async () => {
    const operator = await signIn(s.operatorKey);
    await operator.goto(`${s.url}/accounts/nope`);
    await operator.getByRole('heading', { name: 'No account nope' }).waitFor();
    await screenshots(operator, 'unknown-account');
    await operator.getByRole('link', { name: 'Back to the accounts' }).click();
    await operator.getByRole('heading', { name: 'Accounts' }).waitFor();

    const customer = await signIn(keys.alice);
    await customer.goto(`${s.url}/accounts/acme/history`);
    await customer.getByRole('heading', { name: 'No account acme' }).waitFor();
    await customer.getByRole('link', { name: 'Back to your overview' }).click();
    await customer.getByTestId('available').waitFor();
    assert.equal(new URL(customer.url()).pathname, '/accounts/alice/overview');
  });

  it('offers no buy button to a member who cannot buy', async () => {
    const member = await signIn(keys.mia);
    await openPage(member, 'Credits');
    await member.getByText('Buying packs takes an owner, admin or account key.').waitFor();
    await member.getByRole('heading', { name: '20 credits' }).waitFor();
    assert.equal(await member.getByRole('button', { name: /^Buy/ }).count(), 0);
  });

  it('passes axe (0 serious, 0 critical) on every page for every role at both sizes', async () => {
    const signInPage = await (await newProfile(browser, contexts)).newPage();
    await signInPage.goto(`${s.url}/`);
    await signInPage.getByLabel('API key').waitFor();
    for (const viewport of Object.values(SIZES)) {
      await signInPage.setViewportSize(viewport);
      await assertAccessible(signInPage, 'the sign-in page');
    }
    const roles = [
      ['account', keys.alice, 'alice'],
      ['admin', keys.adam, 'acme'],
      ['member', keys.mia, 'acme'],
      ['operator', s.operatorKey, 'acme'],
    ] as const;
    for (const [role, key, accountId] of roles) {
      const page = await signIn(key);
      if (role === 'operator') {
        await page.getByRole('heading', { name: 'Accounts' }).waitFor();
        await page.getByRole('link', { name: 'acme' }).waitFor();
        await screenshots(page, `axe-${role}-accounts`);
        await page.goto(`${s.url}/accounts/${accountId}/overview`);
      }
      await page.getByTestId('available').waitFor();
      const nav = page.getByRole('navigation', { name: 'Pages' });
      const names = (await nav.getByRole('link').allInnerTexts()).filter((t) => t !== 'Accounts');
      assert.ok(names.length >= 6, `${role} sees its pages`);
      for (const name of names) {
        await openPage(page, name);
        // What the page loads has arrived: no "Loading …" left.
        const loading = page.locator('.loading');
        while ((await loading.count()) > 0) await loading.first().waitFor({ state: 'detached' });
        await screenshots(page, `axe-${role}-${name.toLowerCase()}`);
      }
    }
  });
});

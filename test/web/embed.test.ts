import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeClock } from '../../src/ledger/ports.js';
import { ROOT } from '../helpers.js';
import { freePort } from '../process-helpers.js';
import { ok, startServer, type TestServer } from '../http/http-helpers.js';
import { browserCheck, launch, newProfile, screenshots } from './web-helpers.js';

/**
 * The embeddable components (issue 17, item 9) as a platform uses them: the example platform
 * page (examples/embed, built into dist/examples/embed) served by its own backend on another
 * origin, which mints a short-lived account key per session; the components call the Amisi
 * server across origins (CORS). A real Chromium, a real Amisi server (SQLite, manual payments).
 */

const check = browserCheck();
const numbers = new Intl.NumberFormat('en-US');

/** The example platform's backend (examples/embed/server.mjs), as its README runs it. */
async function startExample(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'examples', 'embed', 'server.mjs')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((ready, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('example platform page at')) ready();
    });
    child.once('exit', (code) => fail(new Error(`the example server exited (${code}): ${out}`)));
  });
  return child;
}

describe('embedded components on a platform page in Chromium', { skip: check.skip }, () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 20, 12));
  let s: TestServer;
  let example: ChildProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pageUrl = '';

  const charge = async (resolution: string, count: number, idem: string) =>
    ok(
      await s.call('POST', '/v1/charges', {
        idem,
        body: {
          accountId: 'alice',
          items: [{ operation: 'image.generate', params: { resolution }, count }],
        },
      }),
      201,
    );
  const available = async () => (await s.ledger.balance('alice')).available;

  before(async () => {
    const port = await freePort();
    pageUrl = `http://127.0.0.1:${port}`;
    s = await startServer({ clock, corsOrigins: [pageUrl] });
    ok(await s.call('POST', '/v1/accounts', { body: { id: 'alice', plan: 'starter' } }), 201);
    await charge('1080p', 3, 'c-1080');
    await charge('4k', 2, 'c-4k');
    example = await startExample({
      PORT: String(port),
      AMISI_URL: s.url,
      AMISI_OPERATOR_KEY: s.operatorKey,
      EXAMPLE_ACCOUNT: 'alice',
      EXAMPLE_KEY_TTL_SECONDS: '600',
    });
    browser = await launch();
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    example?.kill('SIGTERM');
    await s?.close();
  });

  async function platformPage(): Promise<Page> {
    const page = await (await newProfile(browser, contexts)).newPage();
    await page.goto(`${pageUrl}/`);
    await page.getByTestId('amisi-available').waitFor();
    return page;
  }

  it('shows the balance and the cycle’s usage the API answers, across origins', async () => {
    const page = await platformPage();
    assert.equal(
      (await page.getByTestId('amisi-available').innerText()).replace(/\s+/g, ' '),
      `${numbers.format(await available())} credits`,
    );
    const audit = await s.ledger.audit('alice');
    const chart = page.getByRole('figure', { name: 'Credits used by resolution' });
    const rows = await chart.locator('table tbody tr').allInnerTexts();
    assert.deepEqual(
      rows.map((r) => r.split('\t').slice(0, 2).join(' ')),
      audit.usage.byResolution.map((l) => `${l.key} ${numbers.format(l.credits)}`),
    );
    // The cycle a day (the Overview's chart): its table is the API's days.
    const daily = await s.ledger.dailyUsage('alice', { by: 'operation' });
    const dayRows = await page.getByTestId('daily-table').locator('tbody tr').all();
    const shown = await Promise.all(
      dayRows.map(async (r) => (await r.locator('th, td').allTextContents()).map((t) => t.trim())),
    );
    assert.deepEqual(
      shown.map((r) => r.slice(1)),
      daily.days.map((d) => [d.credits, ...d.split].map((c) => numbers.format(c))),
    );
    assert.equal(daily.credits, 12);
    await page.getByLabel('Split by').selectOption('operation');
    await page.getByRole('figure', { name: 'Credits used by operation' }).waitFor();
    // The platform's backend minted a short-lived account key, never the operator key.
    const keys = await s.keys.list();
    const minted = keys.filter((k) => k.name === 'example page');
    assert.ok(minted.length >= 1);
    for (const k of minted) {
      assert.deepEqual(
        [k.scope, k.accountId, k.expiresAt! - k.createdAt],
        ['account', 'alice', 600_000],
      );
    }
    await screenshots(page, 'embed-platform-page');
  });

  it('buys a pack once after a confirmation, and the balance shows it when it is paid', async () => {
    const page = await platformPage();
    const before = await available();
    const picker = page.getByRole('region', { name: 'Buy credits' });
    await picker.getByRole('radio', { name: /^50 credits/ }).check();
    await picker.getByRole('button', { name: 'Buy 50 credits' }).click();
    // The dashboard's own confirmation: what, the total, the expiry, how it is paid.
    const ask = picker.getByRole('alertdialog', { name: /^Buy this pack\?/ });
    assert.equal(await ask.getByTestId('buy-total').innerText(), '$19.99');
    assert.match(
      await ask.innerText(),
      /One payment for 50 credits\. They expire \d+ months after the payment\. An operator confirms the payment; the credits arrive then\./,
    );
    assert.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } })
            .document.activeElement.textContent,
      ),
      'Confirm: pay $19.99',
      'the confirmation takes the focus',
    );
    await ask.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await ask.count(), 0);
    assert.equal((await s.ledger.listPurchases('alice')).length, 0, 'cancel buys nothing');

    await picker.getByRole('button', { name: 'Buy 50 credits' }).click();
    await picker.getByRole('button', { name: 'Confirm: pay $19.99' }).dblclick();
    await picker.getByTestId('buy-result').waitFor();
    const purchases = await s.ledger.listPurchases('alice');
    assert.equal(purchases.length, 1, 'a double click buys once');
    assert.deepEqual([purchases[0]!.pack, purchases[0]!.status], ['pack-50', 'pending']);
    await screenshots(page, 'embed-pack-bought');

    // The operator confirms the manual payment; the balance reads it again on a reload.
    ok(await s.call('POST', `/v1/purchases/${purchases[0]!.id}/confirm`, { idem: 'confirm-1' }));
    assert.equal(await available(), before + 50);
    await page.reload();
    await page.getByTestId('amisi-available').waitFor();
    assert.equal(
      (await page.getByTestId('amisi-available').innerText()).replace(/\s+/g, ' '),
      `${numbers.format(before + 50)} credits`,
    );
  });

  it('buys with a new key when the short-lived one ended, without a second purchase', async () => {
    const page = await platformPage();
    const minted = async () => (await s.keys.list()).filter((k) => k.name === 'example page');
    const keysBefore = (await minted()).length;
    const bought = (await s.ledger.listPurchases('alice')).length;
    clock.advance(600_000);
    await charge('720p', 1, 'c-720');
    const picker = page.getByRole('region', { name: 'Buy credits' });
    await picker.getByRole('radio', { name: /^20 credits/ }).check();
    await picker.getByRole('button', { name: 'Buy 20 credits' }).click();
    await picker.getByRole('button', { name: 'Confirm: pay $9.99' }).click();
    // Refused (401) with the ended key: the provider asks the page's backend for a new key
    // and sends the same purchase again, under the same Idempotency-Key.
    await picker.getByTestId('buy-result').waitFor();
    assert.equal((await s.ledger.listPurchases('alice')).length, bought + 1);
    assert.equal((await minted()).length, keysBefore + 1, 'one new key');
    // The purchase read the balance again, with the new key: after the last charge.
    const now = new RegExp(`^${numbers.format(await available())}\\s+credits$`);
    await page.getByTestId('amisi-available').filter({ hasText: now }).waitFor();
  });
});

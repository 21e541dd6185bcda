import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SIZES } from './web-helpers.js';

/**
 * The set-up every browser test file shares: a fresh profile per key (its own session storage),
 * signed in through the sign-in form, and moving between pages through the page list.
 */
export class BrowserSessions {
  private readonly contexts: BrowserContext[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly url: string,
  ) {}

  /** A fresh profile on `path` (default `/`), not signed in. */
  async fresh(path = '/'): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: SIZES.desktop,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    this.contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${this.url}${path}`);
    return page;
  }

  /** A fresh profile signed in with `key`. */
  async signedIn(key: string): Promise<Page> {
    const page = await this.fresh();
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').waitFor();
    return page;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close();
  }
}

/** Follows the page list's link `name` and waits for that page's heading. */
export async function open(page: Page, name: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${name}`) }).waitFor();
}

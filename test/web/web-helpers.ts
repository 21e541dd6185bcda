import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * A real Chromium (Debian's, at /usr/bin/chromium: .ci/run installs it) driven by
 * playwright-core, which never downloads a browser of its own.
 */

export const CHROMIUM = '/usr/bin/chromium';

/** Where the screenshots go (a CI artifact; the README names it). */
export const SCREENSHOTS = join('artifacts', 'screenshots');

export const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * Whether the browser tests run: they need Chromium, and its absence fails the run unless
 * AMISI_NO_BROWSER=1 says to skip them (the reason is printed).
 */
export function browserCheck(): { skip: false } | { skip: string } {
  if (existsSync(CHROMIUM)) return { skip: false };
  if (process.env.AMISI_NO_BROWSER === '1') {
    return { skip: `${CHROMIUM} is missing and AMISI_NO_BROWSER=1: the browser tests are skipped` };
  }
  throw new Error(
    `the browser tests need Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does it), or AMISI_NO_BROWSER=1 to skip them`,
  );
}

export async function launch(): Promise<Browser> {
  // Chromium's sandbox cannot start as root (CI containers): it is turned off only then.
  const root = process.getuid?.() === 0;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: root ? ['--no-sandbox'] : [],
  });
}

/**
 * A full-page screenshot of the page at both sizes, as <name>-desktop.png and <name>-phone.png,
 * and the axe check at each size (it fails with the violations listed).
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
    await assertAccessible(page, `${name} at ${size} size`);
    await assertNoSidewaysScroll(page, `${name} at ${size} size`, viewport.width);
  }
  await page.setViewportSize(SIZES.desktop);
}

/**
 * The page fits the width: nothing makes the whole page scroll sideways (a wide table scrolls
 * inside its own box). Names the widest elements that stick out when it fails.
 */
export async function assertNoSidewaysScroll(page: Page, where: string, width: number) {
  const wide = await page.evaluate((limit) => {
    const doc = (
      globalThis as unknown as {
        document: {
          documentElement: { scrollWidth: number };
          querySelectorAll: (s: string) => Iterable<{
            tagName: string;
            className: unknown;
            id: string;
            getBoundingClientRect: () => { right: number };
          }>;
        };
      }
    ).document;
    if (doc.documentElement.scrollWidth <= limit) return [];
    return [...doc.querySelectorAll('body *')]
      .map((e) => ({ e, right: Math.round(e.getBoundingClientRect().right) }))
      .filter((x) => x.right > limit)
      .slice(0, 8)
      .map(
        ({ e, right }) =>
          `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${String(e.className)} (right edge ${right}px)`,
      );
  }, width);
  if (wide.length > 0) {
    throw new Error(`the page scrolls sideways on ${where} (${width}px wide): ${wide.join(', ')}`);
  }
}

/** axe-core's browser build, read once (a devDependency: package.json pins 4.x). */
let axeSource: string | undefined;

/** The impacts that fail a page: axe's serious and critical. */
const FAILING = ['serious', 'critical'];

/**
 * Known violations waiting for their fix, each on the one page path and rule it names, printed
 * on every run so it is not forgotten (none now; an entry is removed with its fix).
 */
const KNOWN: readonly { readonly path: RegExp; readonly rule: string }[] = [];

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly {
    readonly target: readonly unknown[];
    readonly failureSummary?: string;
  }[];
}

/**
 * Runs axe-core in the page as it is now (its whole document) and fails, naming each rule,
 * its impact and the elements, when it finds any serious or critical violation. The source is
 * evaluated through the DevTools protocol, so the dashboard's strict Content-Security-Policy
 * (no inline script) stays on.
 */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (o: unknown) => Promise<unknown> } }).axe;
    const result = (await axe.run({ resultTypes: ['violations'] })) as {
      violations: AxeViolation[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  const path = new URL(page.url()).pathname;
  const known = (id: string) => KNOWN.some((k) => k.rule === id && k.path.test(path));
  for (const v of violations.filter((v) => known(v.id))) {
    console.log(`axe: known, not yet fixed, on ${where}: ${v.id} (${v.impact}): ${v.help}`);
  }
  const failing = violations.filter(
    (v) => v.impact !== null && FAILING.includes(v.impact) && !known(v.id),
  );
  if (failing.length === 0) return;
  const list = failing
    .map(
      (v) =>
        `- ${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n'),
    )
    .join('\n');
  throw new Error(`axe: ${failing.length} serious or critical violation(s) on ${where}:\n${list}`);
}

/** A fresh browser profile (its own session storage), kept in `contexts` to be closed. */
export async function newProfile(
  browser: Browser,
  contexts: BrowserContext[],
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: SIZES.desktop,
    locale: 'en-US',
    timezoneId: 'UTC',
    acceptDownloads: true,
  });
  contexts.push(context);
  return context;
}

/** The dashboard at `url`, signed in with `key` in a fresh profile. */
export async function signedIn(
  browser: Browser,
  contexts: BrowserContext[],
  url: string,
  key: string,
): Promise<Page> {
  const page = await (await newProfile(browser, contexts)).newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
  return page;
}

/** Follows the page list's link `name` and waits for the page's heading. */
export async function openPage(page: Page, name: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${name}`) }).waitFor();
}

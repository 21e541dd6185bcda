import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/** A full-page screenshot of the page at both sizes, as <name>-desktop.png and <name>-phone.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(SIZES.desktop);
}

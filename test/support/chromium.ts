/**
 * Debian's Chromium for the e2e tests, driven by playwright-core (no browser download): headless,
 * with the screenshots in test/e2e/screenshots/ (not in git), and the dashboard's token sign-in.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const SCREENSHOTS = path.join(import.meta.dirname, '..', 'e2e', 'screenshots');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Chromium, with the screenshot folder ready. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
}

/** Saves the whole page as `<name>.png` in the screenshot folder. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in to the dashboard at `appUrl` with the admin token and waits for the dashboard. */
export async function signInWithToken(page: Page, appUrl: string, token: string): Promise<void> {
  await page.goto(`${appUrl}/admin/login`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${appUrl}/admin`);
}

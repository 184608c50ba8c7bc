/**
 * The operator controls on the installation page in Debian's Chromium (playwright-core): the Sync
 * card's pause and resume buttons, and the Salesforce API budget form with its gauge. Screenshots
 * go to test/e2e/screenshots/ (not in git).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const SCREENSHOTS = path.join(import.meta.dirname, 'screenshots');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ADMIN_TOKEN = 'operator-controls-e2e-admin-token-0123456789abc';

describe('operator controls in Chromium', () => {
  let h: SyncHarness;
  let browser: Browser;
  let page: Page;
  let installationId: string;
  let base: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startSyncHarness({ ADMIN_TOKEN });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    base = `${h.app.url ?? ''}/admin/installations/${installationId}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${h.app.url ?? ''}/admin/login`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/admin$/);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('pauses and resumes one direction from the Sync card', async () => {
    await page.goto(base);
    const row = page.locator('[data-section="sync-controls"] tr[data-direction="to-salesforce"]');
    await expect(row.getAttribute('data-state')).resolves.toBe('running');
    await row.locator('button:has-text("Pause")').click();
    await page.waitForURL(/notice=sync_paused/);
    await expect(row.getAttribute('data-state')).resolves.toBe('paused');
    await expect(row.textContent()).resolves.toMatch(/paused since \d{4}-\d\d-\d\dT.* \(dashboard\)/);
    await expect(page.locator('[data-section="sync-controls"] tr[data-direction="to-hubspot"]').getAttribute('data-state')).resolves.toBe(
      'running',
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'operator-01-paused.png'), fullPage: true });
    await row.locator('button:has-text("Resume")').click();
    await page.waitForURL(/notice=sync_resumed/);
    await expect(row.getAttribute('data-state')).resolves.toBe('running');
    await expect(page.locator('.actions, body').first().textContent()).resolves.toContain(
      'Sync resumed (HubSpot → Salesforce) from the dashboard',
    );
  });

  it("saves a Salesforce API budget and shows the gauge of the app's calls against it", async () => {
    await page.goto(base);
    await page.fill('[data-budget-form] input[name="value"]', '100000');
    await page.selectOption('[data-budget-form] select[name="kind"]', 'calls');
    await page.click('[data-budget-form] button[type=submit]');
    await page.waitForURL(/notice=budget_saved/);
    const gauge = page.locator('meter[data-budget-limit]');
    await expect(gauge.getAttribute('data-budget-limit')).resolves.toBe('100000');
    const used = Number(await gauge.getAttribute('data-budget-used'));
    // Self-install and the first reads went through the budget's counter.
    expect(used).toBeGreaterThan(0);
    await expect(page.locator('[data-section="sync-controls"]').textContent()).resolves.toContain(`/ 100,000 calls in 24 h`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'operator-02-budget.png'), fullPage: true });
    await page.click('[data-section="sync-controls"] button:has-text("Remove budget")');
    await page.waitForURL(/notice=budget_saved/);
    await expect(page.locator('meter[data-budget-limit]').count()).resolves.toBe(0);
  });
});

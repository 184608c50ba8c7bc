/**
 * The operator controls on the installation page in Debian's Chromium (playwright-core): the Sync
 * card's pause and resume buttons, and the Salesforce API budget form with its gauge. Screenshots
 * go to test/e2e/screenshots/ (not in git).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, signInWithToken } from '../support/chromium.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'operator-controls-e2e-admin-token-0123456789abc';

describe('operator controls in Chromium', () => {
  let h: SyncHarness;
  let browser: Browser;
  let page: Page;
  let installationId: string;
  let base: string;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    base = `${h.app.url ?? ''}/admin/installations/${installationId}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (dialog) => void dialog.accept());
    await signInWithToken(page, h.app.url ?? '', ADMIN_TOKEN);
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
    await screenshot(page, 'operator-01-paused');
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
    await screenshot(page, 'operator-02-budget');
    await page.click('[data-section="sync-controls"] button:has-text("Remove budget")');
    await page.waitForURL(/notice=budget_saved/);
    await expect(page.locator('meter[data-budget-limit]').count()).resolves.toBe(0);
  });
});

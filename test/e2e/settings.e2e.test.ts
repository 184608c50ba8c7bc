/**
 * The settings forms in Debian's Chromium (playwright-core): a Lead Status the sandbox org's
 * picklist lacks is refused by name with the form kept as typed; a field rule added with "Add a
 * row" is previewed, then saved; a removed row is gone after saving; a changed channel rule is
 * followed by re-stamping history, whose run the page shows to completion. Screenshots go to
 * test/e2e/screenshots/ (not in git).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { launchChromium, screenshot, signInWithToken } from '../support/chromium.ts';

describe('settings forms in Chromium', () => {
  let admin: AdminApp;
  let browser: Browser;
  let page: Page;
  let installationId: string;

  beforeAll(async () => {
    admin = await startAdminApp();
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('dialog', (dialog) => void dialog.accept());
    await signInWithToken(page, admin.url, admin.adminToken);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  const settingsUrl = (key: string) => `${admin.url}/admin/installations/${installationId}/settings?key=${key}`;
  const mappingRows = () => page.locator('table[data-rows="map"] tbody tr[data-row]');

  it("refuses SQL's Lead Status 'Working' in the stage dictionary form, naming the value, with the form kept", async () => {
    await page.goto(settingsUrl('stageDictionary'));
    const sqlStatus = page.locator('table[data-rows="row"] tbody tr[data-row]').nth(2).locator('input[name="row.status"]');
    expect(await sqlStatus.inputValue()).toBe('Working - Contacted');
    await sqlStatus.fill('Working');
    await page.click('button:has-text("Check and save")');
    await page.waitForSelector('[data-issues]');
    const issues = await page.locator('[data-issues] li').allTextContents();
    expect(issues).toEqual([
      expect.stringContaining(
        'rows[2] (sql).salesforce.status: "Working" is not a value of the Lead Status picklist (Lead.Status) in Salesforce',
      ),
    ]);
    expect(await page.locator('table[data-rows="row"] tbody tr[data-row]').nth(2).locator('input[name="row.status"]').inputValue()).toBe(
      'Working',
    );
    await screenshot(page, 'settings-01-refused');
  });

  it('adds a field rule with "Add a row", previews it, saves it, then removes a row', async () => {
    await page.goto(settingsUrl('fieldMappings'));
    const before = await mappingRows().count();
    await page.click('button[data-add-row="map"]');
    expect(await mappingRows().count()).toBe(before + 1);
    const added = mappingRows().last();
    await added.locator('input[name="map.hubspotProperty"]').fill('website');
    await added.locator('input[name="map.salesforceField"]').fill('Website');
    await added.locator('select[name="map.rule"]').selectOption('two_way');
    await page.click('button:has-text("Preview changes")');
    await page.waitForSelector('[data-preview]');
    expect(await page.locator('[data-preview]').textContent()).toContain('website ↔ Website starts syncing (two_way)');
    await screenshot(page, 'settings-02-preview');

    await page.click('button:has-text("Check and save")');
    await page.waitForURL(/notice=settings_saved/);
    expect(await page.locator('.card').first().textContent()).toContain('Website');

    // Remove the phone rule, save, and it is gone.
    const phone = mappingRows().filter({ has: page.locator('input[name="map.hubspotProperty"][value="phone"]') });
    await phone.locator('button[data-remove-row]').click();
    await page.click('button:has-text("Check and save")');
    await page.waitForURL(/notice=settings_saved/);
    const inputs = page.locator('input[name="map.hubspotProperty"]');
    const properties = await Promise.all(Array.from({ length: await inputs.count() }, (_, index) => inputs.nth(index).inputValue()));
    expect(properties).toEqual(['email', 'firstname', 'lastname', 'company', 'jobtitle', 'website', '']);
    await screenshot(page, 'settings-03-saved');
  });

  it('offers to re-stamp history after a channel rule change and shows the run until it completes', async () => {
    await page.goto(settingsUrl('channelRules'));
    const rules = page.locator('table[data-rows="rule"] tbody tr[data-row]');
    await rules.first().locator('input[name="rule.channel"]').fill('Search Ads');
    await page.click('button:has-text("Preview changes")');
    await page.waitForSelector('[data-preview]');
    expect(await page.locator('[data-preview]').textContent()).toContain('Re-stamping history classifies them all again');
    await page.click('button:has-text("Check and save")');
    await page.waitForURL(/notice=settings_saved/);
    await page.click('#restamp button:has-text("Re-stamp history with the current rules")');
    await page.waitForURL(/notice=backfill_started/);
    await page.waitForSelector('#restamp [data-backfill-run][data-status="completed"]', { timeout: 30_000 });
    expect(await page.locator('#restamp .card-head .badge').textContent()).toBe('completed');
    await screenshot(page, 'settings-04-restamped');
  });
});

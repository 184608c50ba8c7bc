/**
 * The pipeline review page in Debian's Chromium (playwright-core): it renders its blocks with the
 * pipeline-by-stage and sources charts actually drawn; editing the revenue goal in the Shared goals
 * form changes the review's goal figure; printed, it shows its handout header and hides navigation
 * and forms. Screenshots go to test/e2e/screenshots/ (not in git).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveDeals, saveOrgCurrencies, type DealRecord } from '../../src/store/deals.ts';
import { startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { launchChromium, screenshot, signInWithToken } from '../support/chromium.ts';

const deal = (id: string, fields: Partial<DealRecord>): DealRecord => ({
  salesforceOpportunityId: id,
  salesforceAccountId: null,
  hubspotContactId: null,
  origin: 'unlinked',
  status: 'open',
  amount: null,
  currency: null,
  amountCents: null,
  closeDate: null,
  wonAt: null,
  closedAt: null,
  openedAt: new Date(Date.now() - 86_400_000),
  ownerId: null,
  reason: null,
  campaignId: null,
  name: id,
  stage: null,
  ...fields,
});

describe('the pipeline review in Chromium', () => {
  let admin: AdminApp;
  let browser: Browser;
  let page: Page;
  let installationId: string;
  const quarter = `${new Date().getUTCFullYear()}-Q${Math.floor(new Date().getUTCMonth() / 3) + 1}`;

  beforeAll(async () => {
    admin = await startAdminApp();
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    await saveOrgCurrencies(admin.app.db, installationId, { corporate: 'USD', multiCurrency: false, rates: new Map() });
    // The deals as the sync records them: two open at their stages, one won today.
    await saveDeals(admin.app.db, installationId, [
      deal('006000000000001AAA', { stage: 'Prospecting', amount: 5_000, amountCents: 500_000 }),
      deal('006000000000002AAA', { stage: 'Negotiation/Review', amount: 15_000, amountCents: 1_500_000 }),
      deal('006000000000003AAA', {
        status: 'won',
        stage: 'Closed Won',
        amount: 10_000,
        amountCents: 1_000_000,
        wonAt: new Date(),
        closedAt: new Date(),
        reason: 'Fast rollout',
      }),
    ]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signInWithToken(page, admin.url, admin.adminToken);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  const reviewUrl = () => `${admin.url}/admin/review?installation=${encodeURIComponent(installationId)}&period=${quarter}`;

  it('renders every block with the pipeline and sources charts drawn', async () => {
    await page.goto(reviewUrl());
    await page.waitForSelector('body[data-charts="2"]');
    expect(await page.locator('#table-stages tbody tr').allTextContents()).toEqual([
      expect.stringContaining('Negotiation/Review'),
      expect.stringContaining('Prospecting'),
    ]);
    expect(await page.locator('#table-stages tfoot').textContent()).toContain('$20,000');
    expect(await page.locator('#table-new-customers').textContent()).toContain('Fast rollout');
    expect(await page.locator('#goal-missing').textContent()).toContain(`No shared goal for ${quarter}`);
    // A drawn canvas has coloured pixels; a blank one is all transparent.
    for (const id of ['chart-stages', 'chart-sources']) {
      const painted = await page.$eval(`#${id}`, (canvas) => {
        const element = canvas as unknown as {
          width: number;
          height: number;
          getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
        };
        const pixels = element.getContext('2d')?.getImageData(0, 0, element.width, element.height).data ?? new Uint8ClampedArray();
        let count = 0;
        for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) count += 1;
        return count;
      });
      expect(painted, id).toBeGreaterThan(500);
    }
    expect(await page.locator('.mainnav a[href="/admin/review"]').count()).toBe(1);
    await screenshot(page, 'review-01-page');
  });

  it('shows the revenue goal edited in the Shared goals form', async () => {
    await page.goto(`${admin.url}/admin/installations/${encodeURIComponent(installationId)}/settings?key=sharedGoals`);
    await page.click('button[data-add-row="goal"]');
    const row = page.locator('table[data-rows="goal"] tbody tr[data-row]').last();
    await row.locator('[name="goal.quarter"]').fill(quarter);
    await row.locator('[name="goal.kpi"]').selectOption('revenue');
    await row.locator('[name="goal.target"]').fill('40000');
    await row.locator('[name="goal.owner"]').fill('Sales');
    await page.click('button:has-text("Check and save")');
    await page.waitForURL(/notice=settings_saved/);
    await page.goto(reviewUrl());
    expect(await page.locator('#goal-target').textContent()).toBe('$40,000');
    expect(await page.locator('#goal-share').textContent()).toContain('25 %');

    await page.goto(`${admin.url}/admin/installations/${encodeURIComponent(installationId)}/settings?key=sharedGoals`);
    // The saved goal is the first row (the form keeps an empty row to add one after it).
    await page.locator('table[data-rows="goal"] tbody tr[data-row]').first().locator('[name="goal.target"]').fill('50000');
    await page.click('button:has-text("Check and save")');
    await page.waitForURL(/notice=settings_saved/);
    await page.goto(reviewUrl());
    expect(await page.locator('#goal-target').textContent()).toBe('$50,000');
    expect(await page.locator('#goal-share').textContent()).toContain('20 %');
  });

  it('prints as a handout: a header with installation, period and time, no navigation or forms', async () => {
    await page.goto(reviewUrl());
    await page.waitForSelector('body[data-charts="2"]');
    expect(await page.locator('#review-print-head').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'print' });
    try {
      expect(await page.locator('#review-print-head').isVisible()).toBe(true);
      expect(await page.locator('#review-print-head').textContent()).toMatch(
        new RegExp(`Pipeline review — Sandbox[\\s\\S]*${quarter}[\\s\\S]*generated \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC`),
      );
      for (const selector of ['.topbar', '.mainnav', '#review-picker'])
        expect(await page.locator(selector).first().isVisible(), selector).toBe(false);
      expect(await page.locator('form:visible, button:visible').count()).toBe(0);
      expect(await page.locator('#table-stages').isVisible()).toBe(true);
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.length).toBeGreaterThan(10_000);
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });
});

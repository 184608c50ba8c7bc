/**
 * The admin's whole path in Debian's Chromium (playwright-core): sign in, install through both
 * sandboxes' consent pages, dry run, provisioning, the initial sync run from sync health, a
 * settings edit refused with its message, a failed drain job replayed to success, a validation-rule
 * refusal grouped by cause with its fix, the funnel
 * report with its charts against a seeded dataset counted by hand, and bull-board. Screenshots go
 * to test/e2e/screenshots/ (not in git).
 * Last, no token, secret or session id appears in any log line or page.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@hubspot/api-client';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INTEGRATION_PERMISSION_SET, SALES_PERMISSION_SET } from '../../src/crm/field-catalog.ts';
import { createSealer } from '../../src/runtime/secrets.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { CredentialVault } from '../../src/server/oauth/credentials.ts';
import { PendingSet } from '../../src/sync/pending-set.ts';
import { eventually } from '../support/app-process.ts';
import { launchChromium, screenshot } from '../support/chromium.ts';
import { startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { assignPermissionSet, revokeFieldAccess } from '../support/salesforce-access.ts';
import { sessionAs } from '../support/salesforce-org.ts';
import { insertStageHistory } from '../support/stage-history.ts';

const ALERT_URL = 'https://hooks.example.com/services/T01/B02/alertpathtoken42';
const ALERT_SECRET = 'e2e-alert-signing-secret-5150';

describe('admin dashboard in Chromium', () => {
  let admin: AdminApp;
  let browser: Browser;
  let page: Page;
  let hubspot: HubSpotSandbox;
  let salesforce: SalesforceSandbox;
  let installationId: string;
  let redis: Redis;
  /** The HTML of every page the admin saw (checked for secrets at the end). */
  const pagesSeen: string[] = [];

  const shot = async (name: string) => {
    pagesSeen.push(await page.content());
    await screenshot(page, name);
  };

  beforeAll(async () => {
    admin = await startAdminApp({}, { selfInstall: false });
    if (!admin.app.sandboxes?.hubspot || !admin.app.sandboxes.salesforce) throw new Error('sandboxes did not start');
    hubspot = admin.app.sandboxes.hubspot;
    salesforce = admin.app.sandboxes.salesforce;
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    redis = new Redis(inject('redisUrl'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (dialog) => void dialog.accept());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    redis?.disconnect();
    await admin?.close();
  });

  it('signs in with the admin token', async () => {
    await page.goto(`${admin.url}/admin`);
    expect(page.url()).toContain('/admin/login?next=%2Fadmin');
    await page.fill('#token', 'wrong-token-wrong-token');
    await page.click('button[type=submit]');
    await expect(page.locator('.notice.error').textContent()).resolves.toContain('That is not the admin token.');
    await shot('01-sign-in-refused');
    await page.fill('#token', admin.adminToken);
    await page.click('button[type=submit]');
    await page.waitForURL(`${admin.url}/admin`);
    await expect(page.locator('table.data').first().textContent()).resolves.toContain('Sandbox');
    await shot('02-installations');
  });

  it('installs through the HubSpot and Salesforce consent pages', async () => {
    await page.click('a:has-text("Sandbox")');
    await page.waitForURL(`${admin.url}/admin/installations/${installationId}`);
    await page.click('a[data-connect="hubspot"]');
    await page.waitForSelector('button[value="approve"]');
    expect(await page.textContent('body')).toContain('crm.schemas.contacts.write');
    await shot('03-hubspot-consent');
    await page.click('button[value="approve"]');
    await page.waitForURL(/notice=hubspot_connected/, { timeout: 15_000 });
    await expect(page.locator('[data-side="hubspot"] .badge').first().textContent()).resolves.toBe('connected');

    await page.click('a[data-connect="salesforce"]');
    await page.waitForSelector('button[value="allow"]');
    expect(await page.textContent('body')).toContain('Allow Access?');
    await shot('04-salesforce-consent');
    await page.click('button[value="allow"]');
    await page.waitForURL(/notice=salesforce_connected/, { timeout: 15_000 });
    for (const side of ['hubspot', 'salesforce']) {
      await expect(page.locator(`[data-side="${side}"] .badge`).first().textContent()).resolves.toBe('connected');
      await expect(page.locator(`[data-side="${side}"] dd`).nth(1).textContent()).resolves.toBe('OAuth');
    }
    await expect(page.locator('[data-side="salesforce"] .usage').textContent()).resolves.toContain('/ 15,000');
    await shot('05-connected');
  });

  it('shows the dry run, then provisions what is missing', async () => {
    await page.click('button:has-text("Dry run")');
    await page.waitForSelector('[data-summary]');
    const summary = await page.textContent('[data-summary]');
    expect(summary).toMatch(/^\d+ item\(s\) will be created/);
    expect(await page.locator('tr[data-status="missing"]').count()).toBeGreaterThan(70);
    expect(await page.inputValue('input[aria-label="Outbound Message endpoint URL"]')).toMatch(
      new RegExp(`^${admin.url}/webhooks/salesforce/`),
    );
    await shot('06-dry-run');
    expect(salesforce.outbound.rules()).toHaveLength(0);

    await page.click('button:has-text("missing item(s)")');
    await page.waitForSelector('[data-summary]');
    expect(await page.textContent('h2')).toBe('Provisioning result');
    expect(await page.locator('tr[data-status="missing"]').count()).toBe(0);
    expect(await page.locator('tr[data-status="created"]').count()).toBeGreaterThan(70);
    await shot('07-provisioned');
    expect(
      salesforce.outbound
        .rules()
        .map((r) => r.object)
        .sort(),
    ).toEqual(['Contact', 'Lead', 'Opportunity', 'Task']);
    expect(await page.textContent('[data-access-summary]')).toContain(
      'Every field the sync uses is readable and updateable by the integration user',
    );
    expect(await page.locator('.badge:has-text("ready to sync")').count()).toBe(1);
  });

  it('names the field whose field-level security an admin removed in the dry run, with the fix', async () => {
    const orgAdmin = sessionAs(salesforce, salesforce.adminUserId);
    // The org's admin works with the app's fields as the sales users do (read on the stamps).
    await assignPermissionSet(orgAdmin, SALES_PERMISSION_SET.name, salesforce.adminUserId);
    await revokeFieldAccess(orgAdmin, INTEGRATION_PERMISSION_SET.name, 'Contact.Feedback_Reason__c');
    await page.click('button:has-text("Dry run again")');
    await page.waitForSelector('[data-access-summary]');
    expect(await page.textContent('[data-access-summary]')).toContain('1 permission(s) missing');
    const missing = page.locator('table[data-missing-access] tr[data-kind="field"]');
    expect(await missing.count()).toBe(1);
    const row = await missing.textContent();
    expect(row).toContain('Contact.Feedback_Reason__c');
    expect(row).toContain('Setup → Permission Sets → Smarketing Sync Integration → Object Settings → Contact');
    expect(await page.locator('.badge:has-text("not ready")').count()).toBeGreaterThan(0);
    await shot('07b-field-access-removed');
    // Provisioning grants it again.
    await page.click('button:has-text("missing item(s)")');
    await page.waitForSelector('[data-access-summary]');
    expect(await page.textContent('[data-access-summary]')).toContain('Every field the sync uses is readable and updateable');
  });

  it('runs the initial sync from sync health: its bar moves to completed and the records it found are linked and aligned', async () => {
    // A contact and a Lead made before the installation: neither CRM tells the app about them.
    hubspot.setFaults({ webhooks: { drop: {} } });
    salesforce.faults.set({ outbound: { drop: { probability: 1 } } });
    const email = `before-install-${Date.now()}@example.com`;
    const rep = sessionAs(salesforce, salesforce.adminUserId);
    let contactId = '';
    let leadId = '';
    try {
      contactId = String(
        hubspot.createInUi('contacts', {
          email,
          firstname: 'Olive',
          lastname: 'Oldtimer',
          company: 'Before Co',
          lifecyclestage: 'marketingqualifiedlead',
        }).id,
      );
      leadId = (
        (await rep.sobject('Lead').create({ Email: email, LastName: 'Oldtimer', Company: 'Before Co', Status: 'Working - Contacted' })) as {
          id: string;
        }
      ).id;
      await eventually(async () => salesforce.outbound.pending().length === 0, 10_000, "the old Lead's Outbound Message to be dropped");
    } finally {
      hubspot.clearFaults();
      salesforce.faults.clear();
    }

    await page.goto(`${admin.url}/admin/installations/${installationId}/health`);
    await page.click('button:has-text("Start the initial sync")');
    await page.waitForURL(/notice=/);
    const card = page.locator('[data-run-kind="initial"]');
    await card.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 30_000 });
    const text = (await card.locator('[data-progress-text]').textContent()) ?? '';
    expect(text).toMatch(/^completed · phase \w+ · (\d+) \/ \1 records \(\d+ linked, \d+ stages aligned, \d+ unmatched, 0 failed\)$/);
    expect(Number(/\((\d+) linked/.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    const bar = card.locator('progress');
    expect(await bar.getAttribute('value')).toBe(await bar.getAttribute('max'));
    // The card's badge follows the run, and the button for the next run comes back without a reload.
    const section = page.locator('section.card', { has: card });
    await expect(section.locator('.card-head .badge').textContent()).resolves.toBe('completed');
    expect(await section.locator('button:has-text("Run the initial sync again")').isVisible()).toBe(true);
    await shot('08b-initial-sync');

    // What the bar counted happened in both CRMs: the Lead carries the contact's id, the contact caught up with the rep.
    const lead = (
      await rep.query<{ HubSpot_Contact_Id__c: string | null }>(`SELECT HubSpot_Contact_Id__c FROM Lead WHERE Id = '${leadId}'`)
    ).records[0];
    expect(lead?.HubSpot_Contact_Id__c).toBe(contactId);
    const marketing = new Client({ accessToken: hubspot.createPrivateApp('Marketing operations').token, basePath: hubspot.url });
    expect((await marketing.crm.contacts.basicApi.getById(contactId, ['lifecyclestage'])).properties.lifecyclestage).toBe(
      'salesqualifiedlead',
    );
  });

  it('refuses a settings edit with a clear message, keeps the text, and saves a fixed one', async () => {
    await page.goto(`${admin.url}/admin/installations/${installationId}/settings?key=slaPolicy`);
    await page.click('summary:has-text("Edit as JSON")');
    await page.fill(
      '#value',
      JSON.stringify({ hours: 0, businessHours: { timeZone: 'Mars/Olympus_Mons', start: '18:00', end: '09:00' } }, null, 2),
    );
    await page.click('button:has-text("Validate and save")');
    await page.waitForSelector('[data-issues]');
    const issues = await page.locator('[data-issues] li').allTextContents();
    expect(issues).toEqual(
      expect.arrayContaining([
        'hours: Too small: expected number to be >0',
        'businessHours.timeZone: is not an IANA time zone',
        'businessHours.end: start must be before end (overnight windows are not supported)',
      ]),
    );
    expect(await page.inputValue('#value')).toContain('Mars/Olympus_Mons');
    await shot('08-settings-refused');

    await page.fill('#value', JSON.stringify({ hours: 8, businessHours: { timeZone: 'Europe/Paris' } }, null, 2));
    await page.click('button:has-text("Validate and save")');
    await page.waitForURL(/notice=settings_saved/);
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('Saved.');
    await expect(page.locator('.card').first().textContent()).resolves.toContain('8 h');

    // The breach alert target: saved sealed, shown by its origin only.
    await page.fill('#alert-target input[name="url"]', ALERT_URL);
    await page.fill('#alert-target input[name="secret"]', ALERT_SECRET);
    await page.click('#alert-target button:has-text("Save the alert target")');
    await page.waitForURL(/notice=alert_saved/);
    await expect(page.locator('#alert-target').textContent()).resolves.toContain('https://hooks.example.com/…');
    await shot('08b-settings-alert-target');
  });

  it('shows a failed drain job with its error and replays it to success', async () => {
    hubspot.setFaults({ webhooks: { drop: {} }, http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 503 }] });
    const email = `replayed-${Date.now()}@example.com`;
    const contactId = String(
      hubspot.createInUi('contacts', {
        email,
        firstname: 'Rita',
        lastname: 'Replay',
        company: 'Faults Inc',
        lifecyclestage: 'marketingqualifiedlead',
      }).id,
    );
    await new PendingSet(redis, admin.prefix).mark(installationId, 'to-salesforce', [contactId]);
    const queue = admin.app.producer.queue('syncToSalesforce');
    await queue.add(
      'sync-to-salesforce',
      { v: 1, installationId },
      { jobId: 'e2e-replay', attempts: 2, backoff: { type: 'fixed', delay: 50 } },
    );
    await eventually(async () => (await (await queue.getJob('e2e-replay'))?.getState()) === 'failed', 20_000, 'the drain job to fail');

    await page.goto(`${admin.url}/admin/installations/${installationId}/health`);
    const row = page.locator('tr[data-job="e2e-replay"]');
    await expect(row.locator('.error-text').textContent()).resolves.toContain('HubSpot batch read contacts: 503');
    await shot('09-failed-job');

    hubspot.clearFaults();
    await row.locator('button:has-text("Replay")').click();
    await page.waitForURL(/notice=replayed/);
    await expect(page.locator('.notice.ok').textContent()).resolves.toContain('Job replayed');
    await eventually(
      async () => (await (await queue.getJob('e2e-replay'))?.getState()) === 'completed',
      20_000,
      'the replayed job to complete',
    );
    const rep = sessionAs(salesforce, salesforce.adminUserId);
    const leads = (await rep.query<{ Id: string }>(`SELECT Id FROM Lead WHERE HubSpot_Contact_Id__c = '${contactId}'`)).records;
    expect(leads).toHaveLength(1);

    await page.fill('#q', email);
    await page.click('button:has-text("Search")');
    await page.waitForSelector('table.log');
    const log = await page.textContent('table.log');
    expect(log).toContain('handoff');
    expect(log).toContain('sync-to-salesforce #e2e-replay');
    expect(await page.locator('section.card', { has: page.locator('h2', { hasText: 'Failed jobs' }) }).textContent()).toContain(
      'No failed job',
    );
    await shot('10-replayed-and-record-log');
  });

  it('groups a validation-rule refusal on the health page with its fix and the record behind it', async () => {
    // The org's validation rule refuses the next Lead the app writes; the request itself succeeds.
    const ruleMessage = 'Phone is required before a Lead reaches sales';
    salesforce.faults.set({
      records: [{ object: 'Lead', error: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: ruleMessage, fields: ['Phone'], count: 1 }],
    });
    hubspot.setFaults({ webhooks: { drop: {} } });
    const email = `validation-${Date.now()}@example.com`;
    const contactId = String(
      hubspot.createInUi('contacts', {
        email,
        firstname: 'Vera',
        lastname: 'Rule',
        company: 'Rules Inc',
        lifecyclestage: 'marketingqualifiedlead',
      }).id,
    );
    try {
      await new PendingSet(redis, admin.prefix).mark(installationId, 'to-salesforce', [contactId]);
      await admin.app.producer
        .queue('syncToSalesforce')
        .add('sync-to-salesforce', { v: 1, installationId }, { jobId: `e2e-validation-${contactId}` });
      await eventually(
        async () =>
          (
            await admin.app.db.query('SELECT 1 FROM sync_log WHERE installation_id = $1 AND record_ref = $2 AND action = $3', [
              installationId,
              `hubspot:contact:${contactId}`,
              'handoff_failed',
            ])
          ).length > 0,
        20_000,
        'the refused handoff in the sync log',
      );
    } finally {
      hubspot.clearFaults();
      salesforce.faults.clear();
    }

    await page.goto(`${admin.url}/admin/installations/${installationId}/health`);
    const group = page.locator('[data-failure-causes] tr[data-cause="validation_rule"]');
    await expect(group.locator('strong').textContent()).resolves.toBe('Salesforce validation rule');
    expect(Number.parseInt((await group.locator('[data-cause-count]').textContent()) ?? '', 10)).toBeGreaterThanOrEqual(1);
    await expect(group.locator('[data-cause-hint]').textContent()).resolves.toContain('Validation Rules');
    await expect(group.textContent()).resolves.toContain(ruleMessage);
    await shot('10b-problems-by-cause');

    // Each record of the group opens its own log, where the CRM's answer is in full.
    await group.locator(`a:has-text("hubspot:contact:${contactId}")`).click();
    await page.waitForSelector('table.log');
    const log = (await page.textContent('table.log')) ?? '';
    expect(log).toContain('handoff_failed');
    expect(log).toContain(`FIELD_CUSTOM_VALIDATION_EXCEPTION ${ruleMessage}`);
  });

  it('shows the funnel report with charts, its numbers as counted by hand, and exports CSV', async () => {
    // March 2024 for this installation: c101 and c102 Paid Search / spring-search, c103 and c104 Email / newsletter.
    // c101 MQL 03-03, SQL 03-04, customer 03-10 (won 50,000); c102 MQL 03-05; c103 lead only; c104 MQL 03-08, rejected (no budget).
    // Leads 4, MQLs 3, SQLs 1, opportunities 1 (passed on the way to customer), customers 1; SLA 1 handoff, met.
    const db = admin.app.db;
    for (const [contact, when, channel, campaign] of [
      ['c101', '2024-03-01', 'Paid Search', 'spring-search'],
      ['c102', '2024-03-02', 'Paid Search', 'spring-search'],
      ['c103', '2024-03-07', 'Email', 'newsletter'],
      ['c104', '2024-03-07', 'Email', 'newsletter'],
    ]) {
      await db.query(
        'INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, campaign) VALUES ($1, $2, $3, true, $4, $5)',
        [installationId, contact, new Date(`${when}T00:00:00Z`), channel, campaign],
      );
    }
    const midnight = (day: string) => new Date(`${day}T00:00:00Z`);
    await insertStageHistory(db, installationId, [
      ['c101', 'mql', midnight('2024-03-03')],
      ['c101', 'sql', midnight('2024-03-04')],
      ['c101', 'customer', midnight('2024-03-10')],
      ['c102', 'mql', midnight('2024-03-05')],
      ['c104', 'mql', midnight('2024-03-08')],
    ]);
    await db.query(
      "INSERT INTO feedback_events (installation_id, hubspot_contact_id, salesforce_object, salesforce_record_id, outcome, reason_code, reason_label, occurred_at) VALUES ($1, 'c104', 'Lead', '00Qe2e', 'rejected', 'no_budget', 'No budget', $2)",
      [installationId, new Date('2024-03-09T00:00:00Z')],
    );
    await db.query(
      "INSERT INTO feedback_events (installation_id, hubspot_contact_id, salesforce_object, salesforce_record_id, outcome, amount, occurred_at) VALUES ($1, 'c101', 'Opportunity', '006e2e', 'won', 50000, $2)",
      [installationId, new Date('2024-03-10T00:00:00Z')],
    );
    await db.query(
      "INSERT INTO deals (installation_id, salesforce_opportunity_id, hubspot_contact_id, origin, status, amount_cents, won_at, closed_at) VALUES ($1, '006e2e', 'c101', 'lead', 'won', 5000000, $2, $2)",
      [installationId, new Date('2024-03-10T23:59:59Z')],
    );
    // The org's currency as the sync reads it (single-currency org in US dollars).
    await db.query(
      "INSERT INTO org_currencies (installation_id, corporate) VALUES ($1, 'USD') ON CONFLICT (installation_id) DO UPDATE SET corporate = 'USD'",
      [installationId],
    );
    await db.query(
      "INSERT INTO sla_clocks (installation_id, salesforce_lead_id, hubspot_contact_id, handoff_at, due_at, first_touch_at, status, schedule_n) VALUES ($1, '00Qe2eSLA', 'c101', $2, $3, $4, 'met', 1)",
      [installationId, new Date('2024-03-03T00:00:00Z'), new Date('2024-03-03T04:00:00Z'), new Date('2024-03-03T01:30:00Z')],
    );

    await page.goto(`${admin.url}/admin/report?installation=${installationId}&from=2024-03-01&to=2024-03-31`);
    await page.waitForSelector('body[data-charts]', { state: 'attached' });
    const kpis = Object.fromEntries(
      await page
        .locator('.kpi')
        .evaluateAll((cards) =>
          cards.map((card) => [card.querySelector('.kpi-label')?.textContent ?? '', card.querySelector('.kpi-value')?.textContent ?? '']),
        ),
    );
    expect(kpis).toEqual({
      Leads: '4',
      MQLs: '3',
      SQLs: '1',
      Opportunities: '1',
      Customers: '1',
      'SLA met': '100 %',
      Pipeline: '$50,000',
      'Won revenue': '$50,000',
      'Customer lifetime value': '$50,000',
    });
    const paidSearch = await page.locator('#table-channels tbody tr', { hasText: 'Paid Search' }).locator('td').allTextContents();
    expect(paidSearch.slice(0, 6)).toEqual(['2', '2', '1', '1', '1', '100 %']);
    const email = await page.locator('#table-channels tbody tr', { hasText: 'Email' }).locator('td').allTextContents();
    expect(email.slice(0, 6)).toEqual(['2', '1', '0', '0', '0', '50 %']);
    await expect(page.locator('#table-reasons tbody tr').first().textContent()).resolves.toContain('No budget');
    await expect(page.locator('#table-credit tbody tr').first().textContent()).resolves.toContain('spring-search');
    // Each canvas has a Chart.js chart attached (evaluated in the page, where Chart is a global).
    const charts = await page.evaluate(
      "[...document.querySelectorAll('canvas')].map((canvas) => ({ id: canvas.id, drawn: Boolean(window.Chart.getChart(canvas)) }))",
    );
    expect(charts).toEqual(
      ['chart-funnel', 'chart-channels', 'chart-revenue', 'chart-reasons', 'chart-credit'].map((id) => ({ id, drawn: true })),
    );

    // Sorting: by leads ascending puts Email (2) and Paid Search (2) before… and marks the column.
    await page.click('#table-channels thead th:has-text("MQLs")');
    expect(await page.getAttribute('#table-channels thead th:has-text("MQLs")', 'aria-sort')).toBe('ascending');
    expect(await page.locator('#table-channels tbody tr th').first().textContent()).toBe('Email');
    await shot('11-report');

    const csv = await page.request.get(
      `${admin.url}/api/report?installation=${installationId}&from=2024-03-01&to=2024-03-31&format=csv&table=channels`,
    );
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toContain('\r\nPaid Search,2,2,1,1,1,1,0.5,1,1,0.5,');
  });

  it('mounts the queue dashboard behind the sign-in', async () => {
    await page.goto(`${admin.url}/admin/queues`);
    await page.waitForSelector('text=sync-to-salesforce', { timeout: 15_000 });
    await shot('12-queues');
    const anonymous = await browser.newPage();
    await anonymous.goto(`${admin.url}/admin/queues`);
    expect(anonymous.url()).toContain('/admin/login');
    await anonymous.close();
  });

  it('writes no token, secret or session id to any log line or page', async () => {
    const key = readFileSync(path.join(admin.dataDir, 'secrets', 'encryption-key'), 'utf8').trim();
    const vault = new CredentialVault(admin.app.db, createSealer(Buffer.from(key, 'hex')));
    const hubspotGrant = await vault.read(installationId, 'hubspot');
    const salesforceGrant = await vault.read(installationId, 'salesforce');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'smk_admin')?.value ?? '';
    expect(session.length).toBeGreaterThan(30);
    await page.goto(`${admin.url}/admin`);
    const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content')) ?? '';
    expect(csrf.length).toBeGreaterThan(20);
    const secrets: Record<string, string> = {
      'admin token': admin.adminToken,
      'encryption key': key,
      'session id': session,
      'HubSpot access token': hubspotGrant?.accessToken ?? '',
      'HubSpot refresh token': hubspotGrant?.refreshToken ?? '',
      'Salesforce access token': salesforceGrant?.accessToken ?? '',
      'Salesforce refresh token': salesforceGrant?.refreshToken ?? '',
      'HubSpot client secret': admin.app.config.sandbox.hubspot.clientSecret,
      'Salesforce client secret': admin.app.config.sandbox.salesforce.clientSecret,
      'HubSpot private-app token': admin.app.config.sandbox.hubspot.privateAppToken,
      'alert secret': ALERT_SECRET,
      'alert URL token': ALERT_URL.split('/').at(-1) ?? '',
    };
    for (const [name, value] of Object.entries(secrets)) expect(value.length, name).toBeGreaterThan(8);
    const logs = admin.logs();
    expect(logs.length).toBeGreaterThan(50);
    for (const [name, value] of Object.entries({ ...secrets, 'CSRF token': csrf })) {
      const leaked = logs.filter((line) => line.includes(value));
      expect(leaked, `${name} in the logs`).toEqual([]);
    }
    for (const [name, value] of Object.entries(secrets)) {
      expect(pagesSeen.filter((html) => html.includes(value)).length, `${name} in a page`).toBe(0);
    }
  });
});

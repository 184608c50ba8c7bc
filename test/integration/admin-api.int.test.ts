/**
 * The admin API against the whole app and both sandbox CRMs: provisioning with a dry run first,
 * settings edits validated by the domain (refused with every message), a drain job that fails on
 * HubSpot 503s until its attempts run out and then replays to success, the per-record log, queue
 * depths, the OpenAPI document, and installations kept apart.
 */
import { Redis } from 'ioredis';
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HUBSPOT_COMPANY_PROPERTIES,
  HUBSPOT_CONTACT_PROPERTIES,
  INTEGRATION_PERMISSION_SET,
  SALESFORCE_CUSTOM_FIELDS,
} from '../../src/crm/field-catalog.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { PendingSet } from '../../src/sync/pending-set.ts';
import { eventually } from '../support/app-process.ts';
import { grantFieldAccess, revokeFieldAccess } from '../support/salesforce-access.ts';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { sessionAs } from '../support/salesforce-org.ts';

describe('admin API', () => {
  let admin: AdminApp;
  let client: AdminClient;
  let hubspot: HubSpotSandbox;
  let salesforce: SalesforceSandbox;
  let installationId: string;
  let redis: Redis;
  let rep: jsforce.Connection;
  let seq = 0;

  beforeAll(async () => {
    admin = await startAdminApp({}, { selfInstall: false });
    if (!admin.app.sandboxes?.hubspot || !admin.app.sandboxes.salesforce) throw new Error('sandboxes did not start');
    hubspot = admin.app.sandboxes.hubspot;
    salesforce = admin.app.sandboxes.salesforce;
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    client = new AdminClient(admin.url);
    await client.signIn(admin.adminToken);
    redis = new Redis(inject('redisUrl'));
    rep = sessionAs(salesforce, salesforce.adminUserId);
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await admin?.close();
  });

  const leadsOf = async (contactId: string) =>
    (await rep.query<{ Id: string; Status: string }>(`SELECT Id, Status FROM Lead WHERE HubSpot_Contact_Id__c = '${contactId}'`)).records;

  /** An MQL whose webhooks never arrive, marked pending as the reconciler would. */
  async function pendingMql(): Promise<{ contactId: string; email: string }> {
    seq += 1;
    const email = `replay${seq}-${Date.now()}@example.com`;
    const created = hubspot.createInUi('contacts', {
      email,
      firstname: 'Rita',
      lastname: `Replay ${seq}`,
      company: 'Faults Inc',
      lifecyclestage: 'marketingqualifiedlead',
    });
    const contactId = String(created.id);
    await new PendingSet(redis, admin.prefix).mark(installationId, 'to-salesforce', [contactId]);
    return { contactId, email };
  }

  async function failedDrain(jobId: string): Promise<void> {
    await admin.app.producer
      .queue('syncToSalesforce')
      .add('sync-to-salesforce', { v: 1, installationId }, { jobId, attempts: 2, backoff: { type: 'fixed', delay: 50 } });
    await eventually(
      async () => (await admin.app.producer.queue('syncToSalesforce').getJob(jobId))?.finishedOn !== undefined,
      20_000,
      `job ${jobId} to fail`,
    );
  }

  it('shows what provisioning will create, creates only that, then finds everything in place', async () => {
    const dry = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(dry.status).toBe(200);
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.ready).toBe(false);
    expect(dry.json.salesforceAccess.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'permission-set', name: INTEGRATION_PERMISSION_SET.name, status: 'missing' }),
        expect.objectContaining({ kind: 'user-flag', name: 'Marketing User', status: 'missing' }),
        expect.objectContaining({
          kind: 'field',
          name: 'Lead.HubSpot_Contact_Id__c',
          status: 'missing',
          fix: expect.stringContaining('HubSpot_Contact_Id__c'),
        }),
      ]),
    );
    expect(dry.json.hubspotProperties.items).toHaveLength(HUBSPOT_CONTACT_PROPERTIES.length + HUBSPOT_COMPANY_PROPERTIES.length);
    expect(dry.json.hubspotProperties.items.every((i: { status: string }) => i.status === 'missing')).toBe(true);
    expect(
      dry.json.salesforceFields.items.find(
        (f: { object: string; name: string }) => f.object === 'Lead' && f.name === 'HubSpot_Contact_Id__c',
      ),
    ).toMatchObject({ status: 'missing' });
    expect(dry.json.outboundMessages.endpointUrl).toMatch(new RegExp(`^${admin.url}/webhooks/salesforce/[A-Za-z0-9_-]{32}$`));
    expect(dry.json.hubspotWebhooks.targetUrl).toBe(`${admin.url}/webhooks/hubspot`);
    expect(salesforce.outbound.rules()).toHaveLength(0);
    const described = await rep.sobject('Lead').describe();
    expect(described.fields.map((f) => f.name)).not.toContain('HubSpot_Contact_Id__c');

    // An admin's own field with one of our names is kept as it is.
    await rep.tooling
      .sobject('CustomField')
      .create({ FullName: 'Lead.SLA_Status__c', Metadata: { type: 'Text', label: 'Admin SLA status', length: 20 } });

    const made = await client.api('POST', `/api/installations/${installationId}/provisioning`);
    expect(made.status).toBe(200);
    expect(made.json.salesforceAccess.items.filter((i: { fix: string | null }) => i.fix !== null)).toEqual([]);
    expect(made.json.salesforceAccess).toMatchObject({ ok: true, ready: true });
    expect(made.json.ready).toBe(true);
    expect(made.json.counts.created).toBe(dry.json.counts.missing - 1);
    expect(
      made.json.salesforceFields.items.find((f: { object: string; name: string }) => f.object === 'Lead' && f.name === 'SLA_Status__c'),
    ).toMatchObject({ status: 'exists' });
    // The admin's field keeps its label; the integration user (granted it) sees it as the admin made it.
    const integration = sessionAs(salesforce, salesforce.integrationUserId);
    const fields = (await integration.sobject('Lead').describe()).fields;
    expect(fields.find((f) => f.name === 'SLA_Status__c')?.label).toBe('Admin SLA status');
    expect(
      salesforce.outbound
        .rules()
        .map((r) => r.object)
        .sort(),
    ).toEqual(['Contact', 'Lead', 'Opportunity', 'Task']);

    const again = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(again.json.counts).toMatchObject({ missing: 0, conflicts: 0 });
    expect((await client.api('GET', `/api/installations/${installationId}/activity`)).json.actions[0].summary).toContain('Provisioned');
    // The org's admin reads the app's fields through the sales users' permission set, as a rep would.
    await grantFieldAccess(rep, ['Lead.HubSpot_Contact_Id__c'], { access: 'read' });
  });

  it('starts a fresh org with no field-level security and ends ready: every field readable and updateable by the integration user', async () => {
    // The previous case provisioned; this org's integration user had none of the fields before it.
    const integration = sessionAs(salesforce, salesforce.integrationUserId);
    for (const object of ['Lead', 'Contact', 'Opportunity']) {
      const fields = new Map((await integration.sobject(object).describe()).fields.map((f) => [f.name, f]));
      for (const wanted of SALESFORCE_CUSTOM_FIELDS.filter((f) => f.object === object)) {
        expect(fields.get(wanted.name), `${object}.${wanted.name}`).toMatchObject({ createable: true, updateable: true });
      }
    }
    const dry = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(dry.json.salesforceAccess.error).toBeUndefined();
    expect(dry.json.ready).toBe(true);
    expect(dry.json.salesforceAccess).toMatchObject({ ok: true, ready: true, integrationUserId: salesforce.integrationUserId });
    expect(dry.json.salesforceAccess.items.filter((i: { fix: string | null }) => i.fix !== null)).toEqual([]);
    expect(dry.json.salesforceAccess.items.find((i: { name: string }) => i.name === 'Marketing User')).toMatchObject({ status: 'exists' });
    const [user] = (
      await rep.query<{ UserPermissionsMarketingUser: boolean }>(
        `SELECT UserPermissionsMarketingUser FROM User WHERE Id = '${salesforce.integrationUserId}'`,
      )
    ).records;
    expect(user?.UserPermissionsMarketingUser).toBe(true);
  });

  it('names a field whose field-level security an admin removed, with its fix, and provisioning grants it again', async () => {
    await revokeFieldAccess(rep, INTEGRATION_PERMISSION_SET.name, 'Lead.Last_Touch_Campaign__c');
    const dry = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(dry.json.ready).toBe(false);
    expect(dry.json.salesforceAccess.ready).toBe(false);
    const open = dry.json.salesforceAccess.items.filter((i: { fix: string | null }) => i.fix !== null);
    expect(open).toEqual([
      expect.objectContaining({
        kind: 'field',
        name: 'Lead.Last_Touch_Campaign__c',
        needs: 'Read and Edit',
        status: 'missing',
        fix: expect.stringContaining('Last_Touch_Campaign__c'),
      }),
    ]);
    const made = await client.api('POST', `/api/installations/${installationId}/provisioning`);
    expect(made.json.salesforceAccess.items.find((i: { name: string }) => i.name === 'Lead.Last_Touch_Campaign__c')).toMatchObject({
      status: 'created',
      fix: null,
    });
    expect(made.json.ready).toBe(true);
  });

  it('refuses a settings edit the domain validator rejects, with every message, and saves a valid one', async () => {
    const bad = await client.api('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      hours: -1,
      businessHours: { timeZone: 'Mars/Olympus_Mons' },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toBe('invalid_settings');
    expect(bad.json.message).toContain('2 problem(s)');
    expect(bad.json.issues).toEqual(
      expect.arrayContaining([expect.stringMatching(/^hours: /), 'businessHours.timeZone: is not an IANA time zone']),
    );

    const twoStages = await client.api('PUT', `/api/installations/${installationId}/settings/fieldMappings`, [
      { hubspotProperty: 'email', salesforceField: 'Email', rule: 'two_way' },
      { hubspotProperty: 'email', salesforceField: 'Company', rule: 'two_way' },
    ]);
    expect(twoStages.status).toBe(422);
    expect(twoStages.json.issues).toEqual(['[1].hubspotProperty: HubSpot property "email" is already mapped by [0]']);

    const reschedules = async () =>
      (await admin.app.producer.queue('slaClocks').getJobs(['waiting', 'active', 'completed', 'delayed'])).filter(
        (job) => job.id?.startsWith(`sla-reschedule-${installationId}-`) === true,
      ).length;
    const before = await reschedules();
    const good = await client.api('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      hours: 8,
      businessHours: { timeZone: 'Europe/Paris' },
    });
    expect(good.status).toBe(200);
    expect(good.json.value).toMatchObject({ hours: 8, businessHours: { timeZone: 'Europe/Paris', start: '09:00', end: '17:00' } });
    // A new SLA policy has the running clocks checked again by the SLA worker.
    await eventually(async () => (await reschedules()) > before, 10_000, 'an SLA reschedule request');
    const view = await client.api('GET', `/api/installations/${installationId}/settings/slaPolicy`);
    expect(view.json).toMatchObject({ key: 'slaPolicy', isDefault: false, value: { hours: 8 } });
    const reset = await client.api('DELETE', `/api/installations/${installationId}/settings/slaPolicy`);
    expect(reset.status).toBe(204);
    expect((await client.api('GET', `/api/installations/${installationId}/settings/slaPolicy`)).json.isDefault).toBe(true);

    expect((await client.api('GET', `/api/installations/${installationId}/settings/colour`)).status).toBe(404);
    const notJson = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      body: 'hours=8',
      headers: { 'content-type': 'text/plain', 'x-csrf-token': client.csrfToken },
    });
    expect(notJson.status).toBe(415);
    const malformed = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      body: '{"hours": ',
      headers: { 'content-type': 'application/json', 'x-csrf-token': client.csrfToken },
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'invalid_request', message: 'The request body is not valid JSON' });

    // The dashboard's form shows the same messages and keeps the admin's text.
    const page = await client.form(`/admin/installations/${installationId}/settings/slaPolicy`, { value: '{"hours": 0}' });
    expect(page.status).toBe(422);
    const html = await page.text();
    expect(html).toContain('Not saved: 1 problem.');
    expect(html).toContain('hours: Too small: expected number to be &gt;0');
    expect(html).toContain('{&quot;hours&quot;: 0}');
  });

  it('keeps the SLA alert target sealed: shown by origin only, never its path or secret, and refused with every problem', async () => {
    const secret = 'alert-signing-secret-0123456789';
    const url = 'https://hooks.example.com/services/T000/B000/tokenpart';
    expect((await client.api('GET', `/api/installations/${installationId}/alert`)).json).toEqual({
      configured: false,
      url: null,
      state: 'none',
      problem: null,
    });

    const bad = await client.api('PUT', `/api/installations/${installationId}/alert`, {
      url: 'ftp://hooks.example.com/x',
      secret: 'short',
    });
    expect(bad.status).toBe(422);
    expect(bad.json.issues).toEqual(['url: must be an http(s) URL', 'secret: must be at least 16 characters']);
    expect((await client.api('GET', `/api/installations/${installationId}/alert`)).json.configured).toBe(false);

    const saved = await client.api('PUT', `/api/installations/${installationId}/alert`, { url, secret });
    expect(saved.json).toEqual({ configured: true, url: 'https://hooks.example.com/…', state: 'ok', problem: null });
    // At rest: sealed, not in the settings, no plaintext in the row.
    const row = (
      await admin.app.db.query<{ settings: Record<string, unknown>; sealed: Uint8Array | null }>(
        'SELECT settings, alert_target AS sealed FROM installations WHERE id = $1',
        [installationId],
      )
    )[0];
    expect(row?.settings).not.toHaveProperty('alert');
    expect(Buffer.from(row?.sealed ?? new Uint8Array()).toString('latin1')).not.toContain('tokenpart');
    expect(Buffer.from(row?.sealed ?? new Uint8Array()).toString('latin1')).not.toContain(secret);
    // The dashboard shows the same, and a refused form keeps the URL but never echoes the secret.
    const page = await client.page(`/admin/installations/${installationId}/settings?key=slaPolicy`);
    expect(page.html).toContain('https://hooks.example.com/…');
    expect(page.html).not.toContain('tokenpart');
    const refused = await client.form(`/admin/installations/${installationId}/alert`, {
      url: 'https://hooks.example.com/other',
      secret: 'tiny-secret',
    });
    expect(refused.status).toBe(422);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toContain('secret: must be at least 16 characters');
    expect(refusedHtml).not.toContain('tiny-secret');

    expect((await client.api('DELETE', `/api/installations/${installationId}/alert`)).status).toBe(204);
    expect((await client.api('GET', `/api/installations/${installationId}/alert`)).json).toEqual({
      configured: false,
      url: null,
      state: 'none',
      problem: null,
    });
  });

  it.each([
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/iam', /169\.254\.169\.254, a link-local address/],
    ['Redis on localhost', 'http://localhost:6379/', /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ['IPv6 loopback', 'http://[::1]:3000/api', /::1, a loopback address/],
    ['a private network address', 'http://10.1.2.3/hook', /10\.1\.2\.3, a private address \(RFC 1918\)/],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:6379/', /a loopback address/],
  ])('refuses an alert target at %s with 422 saying why, and saves nothing', async (_name, url, why) => {
    const refused = await client.api('PUT', `/api/installations/${installationId}/alert`, {
      url,
      secret: 'alert-signing-secret-0123456789',
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe('invalid_alert_target');
    expect(refused.json.issues).toHaveLength(1);
    expect(refused.json.issues[0]).toMatch(why);
    expect((await client.api('GET', `/api/installations/${installationId}/alert`)).json).toEqual({
      configured: false,
      url: null,
      state: 'none',
      problem: null,
    });
    const form = await client.form(`/admin/installations/${installationId}/alert`, { url, secret: 'alert-signing-secret-0123456789' });
    expect(form.status).toBe(422);
    expect(await form.text()).toContain('alerts go only to public addresses');
  });

  it('shows a drain job that failed on HubSpot 503s with its error, and replays it to success', async () => {
    hubspot.setFaults({ webhooks: { drop: {} }, http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 503 }] });
    const { contactId, email } = await pendingMql();
    await failedDrain('replay-one');
    const failed = await client.api('GET', `/api/jobs/failed?queue=sync-to-salesforce&installation=${installationId}`);
    const job = failed.json.jobs.find((j: { id: string }) => j.id === 'replay-one');
    expect(job).toMatchObject({ queue: 'syncToSalesforce', installationId, attemptsMade: 2, attempts: 2 });
    expect(job.error).toMatch(/HubSpot batch read contacts: 503/);
    expect(await leadsOf(contactId)).toHaveLength(0);

    const early = await client.api('POST', '/api/jobs/syncToSalesforce/not-a-job/replay');
    expect(early.status).toBe(404);
    hubspot.clearFaults();
    const replay = await client.api('POST', '/api/jobs/sync-to-salesforce/replay-one/replay');
    expect(replay.status).toBe(200);
    await eventually(async () => (await leadsOf(contactId)).length === 1, 20_000, 'the Lead after the replay');
    const states: string[] = [];
    await eventually(
      async () => {
        const state = (await (await admin.app.producer.queue('syncToSalesforce').getJob('replay-one'))?.getState()) ?? 'gone';
        if (states.at(-1) !== state) states.push(state);
        return state === 'completed' || state === 'failed';
      },
      10_000,
      'the replayed job to finish',
    );
    expect(states.at(-1)).toBe('completed');
    const twice = await client.api('POST', '/api/jobs/syncToSalesforce/replay-one/replay');
    expect([404, 409]).toContain(twice.status);

    // What happened to the record, and why: found by email, by HubSpot id and by Lead id.
    const lead = (await leadsOf(contactId))[0] as { Id: string };
    const byEmail = await client.api('GET', `/api/installations/${installationId}/sync-log?q=${encodeURIComponent(email.toUpperCase())}`);
    expect(byEmail.json.links).toEqual([expect.objectContaining({ hubspotContactId: contactId, salesforceLeadId: lead.Id })]);
    expect(byEmail.json.entries.map((e: { action: string }) => e.action)).toContain('handoff');
    expect(byEmail.json.entries.find((e: { action: string }) => e.action === 'handoff')).toMatchObject({
      level: 'info',
      jobQueue: 'sync-to-salesforce',
      jobId: 'replay-one',
      reason: expect.stringContaining('handoff (mql)'),
    });
    const byLead = await client.api('GET', `/api/installations/${installationId}/sync-log?q=${lead.Id.slice(0, 15)}`);
    expect(byLead.json.links[0]?.hubspotContactId).toBe(contactId);
    const byContact = await client.api('GET', `/api/installations/${installationId}/sync-log?q=${contactId}`);
    expect(byContact.json.refs).toContain(`hubspot:contact:${contactId}`);
    expect((await client.api('GET', `/api/installations/${installationId}/sync-log?q=`)).status).toBe(400);
  });

  it('replays every failed job of a queue at once', async () => {
    hubspot.setFaults({ webhooks: { drop: {} }, http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 503 }] });
    const first = await pendingMql();
    await failedDrain('bulk-a');
    const second = await pendingMql();
    await failedDrain('bulk-b');
    const depths = await client.api('GET', '/api/queues');
    expect(depths.json.queues.find((q: { key: string }) => q.key === 'syncToSalesforce').failed).toBeGreaterThanOrEqual(2);
    hubspot.clearFaults();
    const replay = await client.api('POST', '/api/jobs/syncToSalesforce/replay-failed', { installationId });
    expect(replay.json.replayed).toBe(2);
    await eventually(
      async () => (await leadsOf(first.contactId)).length === 1 && (await leadsOf(second.contactId)).length === 1,
      20_000,
      'both Leads',
    );
    expect((await client.api('GET', `/api/jobs/failed?installation=${installationId}`)).json.jobs).toHaveLength(0);
    expect((await client.api('POST', '/api/jobs/no-such-queue/replay-failed', {})).status).toBe(404);
  });

  it('keeps installations apart: settings, failed jobs and record logs', async () => {
    const other = await upsertInstallation(admin.app.db, {
      name: 'Second portal',
      hubspotPortalId: '777',
      salesforceOrgId: '00D0000000000TWOAA',
    });
    // A payload that no longer matches the catalog fails at once, never retried.
    await admin.app.producer
      .queue('syncToHubSpot')
      .add('sync-to-hubspot', { v: 99, installationId: other.id }, { jobId: 'other-fails', attempts: 1 });
    await eventually(
      async () => (await admin.app.producer.queue('syncToHubSpot').getJob('other-fails'))?.finishedOn !== undefined,
      20_000,
      'the other installation job to fail',
    );
    const mine = await client.api('GET', `/api/jobs/failed?installation=${installationId}`);
    expect(mine.json.jobs.map((j: { id: string }) => j.id)).not.toContain('other-fails');
    const theirs = await client.api('GET', `/api/jobs/failed?installation=${other.id}`);
    expect(theirs.json.jobs.map((j: { id: string }) => j.id)).toEqual(['other-fails']);
    expect(theirs.json.jobs[0].error).toBe('payload does not match sync-to-hubspot schema v99');

    expect((await client.api('PUT', `/api/installations/${other.id}/settings/slaPolicy`, { hours: 48 })).status).toBe(200);
    expect((await client.api('GET', `/api/installations/${installationId}/settings/slaPolicy`)).json.value.hours).toBe(4);
    const sandboxEmail =
      (
        await admin.app.db.query<{ email: string }>('SELECT email FROM record_links WHERE installation_id = $1 LIMIT 1', [installationId])
      )[0]?.email ?? '';
    expect(
      (await client.api('GET', `/api/installations/${other.id}/sync-log?q=${encodeURIComponent(sandboxEmail)}`)).json.links,
    ).toHaveLength(0);
    expect((await client.api('GET', '/api/installations/no-such-installation')).status).toBe(404);
    await admin.app.producer.queue('syncToHubSpot').remove('other-fails');
  });

  it('answers bad input with a 4xx and a message, and documents every route in openapi.json', async () => {
    const badQueue = await client.api('GET', '/api/jobs/failed?limit=100000');
    expect(badQueue.status).toBe(400);
    expect(badQueue.json.issues[0]).toMatch(/^query\.limit: /);
    const badPeriod = await client.api('GET', `/api/report?installation=${installationId}&from=2024-02-30`);
    expect(badPeriod.status).toBe(400);
    expect(badPeriod.json.issues).toContain('query.from: is not a real date');
    const backwards = await client.api('GET', `/api/report?installation=${installationId}&from=2024-03-01&to=2024-02-01`);
    expect(backwards.json.issues).toEqual(['from: must be on or before to']);
    const csv = await client.api(
      'GET',
      `/api/report?installation=${installationId}&from=2024-01-01&to=2024-01-31&format=csv&table=channels`,
    );
    expect(csv.status).toBe(200);
    expect(csv.text.split('\r\n')[0]).toMatch(/^channel,leads,mqls,sqls,opportunities,customers,conversion_lead_to_mql/);

    const badMonth = await client.api('GET', `/api/installations/${installationId}/commitments?period=2026-13`);
    expect(badMonth.status).toBe(400);
    expect(badMonth.json.issues).toEqual(['query.period: must be a month YYYY-MM or a quarter YYYY-Qn']);
    const otherKind = await client.api('GET', `/api/installations/${installationId}/commitments?period=2026-Q4`);
    expect(otherKind.status).toBe(400);
    expect(otherKind.json.message).toBe('Invalid query: period: the commitments are per month: give a month YYYY-MM');
    const month = await client.api('GET', `/api/installations/${installationId}/commitments?period=2026-11`);
    expect(month.json).toMatchObject({ period: { id: '2026-11', kind: 'month' }, commitments: [] });
    const badQuarter = await client.api('GET', `/api/installations/${installationId}/goals?quarter=2026-Q5`);
    expect(badQuarter.status).toBe(400);
    expect(badQuarter.json.issues).toEqual(['query.quarter: must be a quarter YYYY-Qn, e.g. 2026-Q4']);
    expect((await client.api('GET', `/api/installations/${installationId}/goals?quarter=2026-Q4`)).json).toMatchObject({
      quarter: '2026-Q4',
      previousQuarter: '2026-Q3',
      goals: [],
    });

    const doc = await client.api('GET', '/api/openapi.json');
    expect(doc.json.openapi).toBe('3.1.0');
    for (const route of [
      '/installations',
      '/installations/{id}/provisioning/dry-run',
      '/installations/{id}/settings/{key}',
      '/jobs/{queue}/{jobId}/replay',
      '/jobs/{queue}/replay-failed',
      '/report',
      '/backfill/{runId}',
      '/installations/{id}/commitments',
      '/installations/{id}/goals',
    ]) {
      expect(doc.json.paths[route], route).toBeDefined();
    }
    expect(doc.json.components.schemas.slaPolicy.properties.hours).toMatchObject({ type: 'number' });
    expect(doc.json.components.schemas.stageDictionary.properties.rows.type).toBe('array');
    expect((await client.api('GET', '/api/nothing-here')).json).toMatchObject({ error: 'not_found' });
  });
});

/**
 * Settings checked against the live CRMs through the admin API: values the sandbox org's picklists
 * or the portal's properties do not have are refused by name, a preview counts what a change would
 * do from the app's own tables, and a valid edit saves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../src/domain/feedback.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY } from '../../src/domain/stages.ts';
import { DEFAULT_SLA_POLICY } from '../../src/domain/sla.ts';
import { fieldsOf } from '../../src/server/admin/settings-forms.ts';
import { recordStageChanges } from '../../src/store/sync-log.ts';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';

describe('settings checked against the CRMs', () => {
  let admin: AdminApp;
  let client: AdminClient;
  let installationId: string;

  beforeAll(async () => {
    admin = await startAdminApp();
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    client = new AdminClient(admin.url);
    await client.signIn(admin.adminToken);
  }, 90_000);

  afterAll(async () => {
    await admin?.close();
  });

  const settingsPath = (key: string) => `/api/installations/${installationId}/settings/${key}`;
  const withSqlStatus = (status: string) => ({
    ...DEFAULT_STAGE_DICTIONARY,
    rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) =>
      row.stage === 'sql' && row.salesforce?.object === 'Lead' ? { ...row, salesforce: { ...row.salesforce, status } } : row,
    ),
  });

  it("refuses SQL's Lead Status 'Working', naming the value and the org's Lead Status picklist", async () => {
    const refused = await client.api('PUT', settingsPath('stageDictionary'), withSqlStatus('Working'));
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe('invalid_settings');
    expect(refused.json.issues).toEqual([
      expect.stringMatching(
        /^rows\[2\] \(sql\)\.salesforce\.status: "Working" is not a value of the Lead Status picklist \(Lead\.Status\) in Salesforce; its active values are .*"Working - Contacted"/,
      ),
    ]);
    expect((await client.api('GET', settingsPath('stageDictionary'))).json.isDefault).toBe(true);
  });

  it('refuses a feedback reason label that is not a value of Feedback_Reason__c', async () => {
    const taxonomy = {
      ...DEFAULT_FEEDBACK_TAXONOMY,
      reasons: [...DEFAULT_FEEDBACK_TAXONOMY.reasons, { label: 'Went dark', code: 'went_dark' }],
    };
    const refused = await client.api('PUT', settingsPath('feedbackTaxonomy'), taxonomy);
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([
      expect.stringContaining('reasons[8].label: "Went dark" is not a value of the Feedback Reason picklist (Lead.Feedback_Reason__c)'),
    ]);
  });

  it('refuses an SLA override for a Lead Source the org does not have', async () => {
    const refused = await client.api('PUT', settingsPath('slaPolicy'), {
      hours: 24,
      overrides: [{ leadSource: 'Carrier Pigeon', hours: 2 }],
    });
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([
      expect.stringContaining('overrides[0].leadSource: "Carrier Pigeon" is not a value of the Lead Source picklist (Lead.LeadSource)'),
    ]);
  });

  it('refuses a Lead Status meaning stated outside the stage dictionary, naming the key, and changes nothing', async () => {
    const refused = await client.api('PUT', settingsPath('slaPolicy'), { hours: 24, untouchedLeadStatuses: ['Open - Not Contacted'] });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(JSON.stringify(refused.json)).toContain('untouchedLeadStatuses');
    expect((await client.api('GET', settingsPath('slaPolicy'))).json.isDefault).toBe(true);
  });

  it('refuses field rules naming a Salesforce field or a HubSpot property that does not exist, or one HubSpot calculates', async () => {
    const refused = await client.api('PUT', settingsPath('fieldMappings'), [
      ...DEFAULT_FIELD_MAPPINGS,
      { hubspotProperty: 'shoe_size', salesforceField: 'Shoe_Size__c', rule: 'two_way' },
      { hubspotProperty: 'hs_lifecyclestage_lead_date', salesforceField: 'Description', rule: 'prefer_salesforce_unless_blank' },
    ]);
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([
      '[6].salesforceField: "Shoe_Size__c" is not a Lead field in Salesforce, or the integration user cannot see it',
      '[6].hubspotProperty: "shoe_size" is not a contact property in the HubSpot portal',
      expect.stringMatching(/^\[7\]\.hubspotProperty: "hs_lifecyclestage_lead_date" \(.*\) is calculated by HubSpot and cannot be written/),
    ]);
  });

  it('previews from stage history: contacts in SQL whose values no row would cover, without saving', async () => {
    const at = new Date('2026-11-02T10:00:00Z');
    await recordStageChanges(admin.app.db, [
      ...['101', '102', '103'].map((id) => ({
        installationId,
        hubspotContactId: `preview-${id}`,
        stage: 'sql',
        source: 'salesforce' as const,
        occurredAt: at,
      })),
      { installationId, hubspotContactId: 'preview-104', stage: 'sql', source: 'salesforce', occurredAt: at },
      {
        installationId,
        hubspotContactId: 'preview-104',
        stage: 'rejected',
        source: 'salesforce',
        occurredAt: new Date(at.getTime() + 60_000),
      },
    ]);
    const withoutSql = { ...DEFAULT_STAGE_DICTIONARY, rows: DEFAULT_STAGE_DICTIONARY.rows.filter((row) => row.stage !== 'sql') };
    const preview = await client.api('POST', `${settingsPath('stageDictionary')}/preview`, withoutSql);
    expect(preview.status).toBe(200);
    expect(preview.json.crmCheck).toEqual({ checked: true });
    expect(preview.json.preview.changed).toBe(true);
    expect(preview.json.preview.lines).toEqual([
      {
        level: 'warn',
        count: 3,
        text: '3 contacts in SQL would map to a stage no rule covers (their Salesforce Lead Status "Working - Contacted"; their HubSpot lifecyclestage="salesqualifiedlead" + hs_lead_status="IN_PROGRESS" matches no row): their sync would stop',
      },
    ]);
    expect((await client.api('GET', settingsPath('stageDictionary'))).json.isDefault).toBe(true);
  });

  it('saves a valid edit checked against both CRMs and says what it changes', async () => {
    const saved = await client.api('PUT', settingsPath('slaPolicy'), {
      hours: 8,
      overrides: [{ leadSource: 'Partner Referral', hours: 2 }],
    });
    expect(saved.status).toBe(200);
    expect(saved.json.crmCheck).toEqual({ checked: true });
    expect(saved.json.preview.lines[0].text).toMatch(/^\d+ running SLA clocks? would be rescheduled from their handoff/);
    expect((await client.api('GET', settingsPath('slaPolicy'))).json.value.overrides).toEqual([
      { leadSource: 'Partner Referral', hours: 2 },
    ]);
  });

  /** The form fields of a value, as a browser would post them (repeated names, in order). */
  function formBody(fields: Record<string, string | string[] | undefined>, intent: 'preview' | 'save'): string {
    const body = new URLSearchParams({ _csrf: client.csrfToken, intent });
    for (const [name, value] of Object.entries(fields))
      for (const one of Array.isArray(value) ? value : [value ?? '']) body.append(name, one);
    return body.toString();
  }
  const postForm = (key: string, body: string) =>
    client.request('POST', `/admin/installations/${installationId}/settings/${key}`, {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('refuses a form whose Lead Status the org lacks, naming it, with the form kept as typed', async () => {
    await client.page(`/admin/installations/${installationId}/settings?key=stageDictionary`);
    const fields = fieldsOf('stageDictionary', DEFAULT_STAGE_DICTIONARY);
    const statuses = [...(fields['row.status'] as string[])];
    statuses[2] = 'Working';
    const response = await postForm('stageDictionary', formBody({ ...fields, 'row.status': statuses }, 'save'));
    expect(response.status).toBe(422);
    const page = await response.text();
    expect(page).toContain(
      'rows[2] (sql).salesforce.status: &quot;Working&quot; is not a value of the Lead Status picklist (Lead.Status) in Salesforce',
    );
    expect(page).toContain('name="row.status" value="Working"');
    expect((await client.api('GET', settingsPath('stageDictionary'))).json.isDefault).toBe(true);
  });

  it('previews a form, then saves it: an override row added in the SLA form', async () => {
    await client.page(`/admin/installations/${installationId}/settings?key=slaPolicy`);
    const fields = {
      ...fieldsOf('slaPolicy', DEFAULT_SLA_POLICY),
      hours: '6',
      'override.team': ['', 'Enterprise'],
      'override.leadSource': ['Web', ''],
      'override.hours': ['1', '12'],
      'override.clock': ['calendar', 'inherit'],
      'override.ownHours': ['', ''],
    };
    const preview = await postForm('slaPolicy', formBody(fields, 'preview'));
    expect(preview.status).toBe(200);
    const previewPage = await preview.text();
    expect(previewPage).toContain('Preview: not saved yet.');
    expect(previewPage).toMatch(/\d+ running SLA clocks? would be rescheduled from their handoff/);
    expect((await client.api('GET', settingsPath('slaPolicy'))).json.value.hours).toBe(8);

    const saved = await postForm('slaPolicy', formBody(fields, 'save'));
    expect(saved.status).toBe(303);
    expect((await client.api('GET', settingsPath('slaPolicy'))).json.value).toMatchObject({
      hours: 6,
      businessHours: null,
      overrides: [
        { leadSource: 'Web', hours: 1, businessHours: null },
        { team: 'Enterprise', hours: 12 },
      ],
    });
  });

  it('reads channel conditions written one per line and refuses a line it cannot read', async () => {
    await client.page(`/admin/installations/${installationId}/settings?key=channelRules`);
    const unreadable = await postForm(
      'channelRules',
      formBody({ fallbackChannel: 'Unassigned', 'rule.channel': ['Paid Search'], 'rule.conditions': ['medium equals cpc'] }, 'preview'),
    );
    expect(unreadable.status).toBe(422);
    expect(await unreadable.text()).toContain('rules[0].anyOf: &quot;medium equals cpc&quot; is not a condition');
    const read = await postForm(
      'channelRules',
      formBody(
        {
          fallbackChannel: 'Unassigned',
          'list.name': ['social'],
          'list.entries': ['facebook.com, t.co'],
          'rule.channel': ['Paid Search', 'Organic Social'],
          'rule.conditions': ['medium ~ /^(cpc|ppc)$/\nor\nsource in ["adwords", "bing ads"]', 'referrer in site list social'],
        },
        'save',
      ),
    );
    expect(read.status).toBe(303);
    const saved = (await client.api('GET', settingsPath('channelRules'))).json.value;
    expect(saved.rules).toEqual([
      {
        channel: 'Paid Search',
        anyOf: [
          [{ field: 'medium', operator: 'regex', pattern: '^(cpc|ppc)$' }],
          [{ field: 'source', operator: 'in', values: ['adwords', 'bing ads'] }],
        ],
      },
      { channel: 'Organic Social', anyOf: [[{ field: 'referrer', operator: 'in_site_list', list: 'social' }]] },
    ]);
    const page = await client.page(`/admin/installations/${installationId}/settings?key=channelRules`);
    expect(page.html).toContain('Re-stamp history');
  });

  it('re-stamps history from the channel rules page and shows the run there', async () => {
    await client.page(`/admin/installations/${installationId}/settings?key=channelRules`);
    const started = await client.form(`/admin/installations/${installationId}/settings/channelRules/restamp`, {});
    expect(started.status).toBe(303);
    expect(started.headers.get('location')).toBe(
      `/admin/installations/${installationId}/settings?key=channelRules&notice=backfill_started#restamp`,
    );
    const run = (await client.api('GET', `/api/installations/${installationId}/backfill`)).json.run;
    expect(run).not.toBeNull();
    const page = await client.page(`/admin/installations/${installationId}/settings?key=channelRules`);
    expect(page.html).toContain(`data-backfill-run="${String(run.runId)}"`);
    expect(page.html).toContain('<script src="/admin/static/health.js"></script>');
  });
});

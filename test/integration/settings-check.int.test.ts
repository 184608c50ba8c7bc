/**
 * Settings checked against the live CRMs through the admin API: values the sandbox org's picklists
 * or the portal's properties do not have are refused by name, a preview counts what a change would
 * do from the app's own tables, and a valid edit saves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../src/domain/feedback.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY } from '../../src/domain/stages.ts';
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
    rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) => (row.stage === 'sql' && row.salesforce?.object === 'Lead' ? { ...row, salesforce: { ...row.salesforce, status } } : row)),
  });

  it("refuses SQL's Lead Status 'Working', naming the value and the org's Lead Status picklist", async () => {
    const refused = await client.api('PUT', settingsPath('stageDictionary'), withSqlStatus('Working'));
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe('invalid_settings');
    expect(refused.json.issues).toEqual([expect.stringMatching(/^rows\[2\] \(sql\)\.salesforce\.status: "Working" is not a value of the Lead Status picklist \(Lead\.Status\) in Salesforce; its active values are .*"Working - Contacted"/)]);
    expect((await client.api('GET', settingsPath('stageDictionary'))).json.isDefault).toBe(true);
  });

  it('refuses a feedback reason label that is not a value of Feedback_Reason__c', async () => {
    const taxonomy = { ...DEFAULT_FEEDBACK_TAXONOMY, reasons: [...DEFAULT_FEEDBACK_TAXONOMY.reasons, { label: 'Went dark', code: 'went_dark' }] };
    const refused = await client.api('PUT', settingsPath('feedbackTaxonomy'), taxonomy);
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([expect.stringContaining('reasons[8].label: "Went dark" is not a value of the Feedback Reason picklist (Lead.Feedback_Reason__c)')]);
  });

  it('refuses an SLA override for a Lead Source the org does not have, and a misspelt Lead Status with its spelling', async () => {
    const refused = await client.api('PUT', settingsPath('slaPolicy'), { hours: 24, untouchedLeadStatuses: ['open - not contacted'], overrides: [{ leadSource: 'Carrier Pigeon', hours: 2 }] });
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([
      'untouchedLeadStatuses[0]: "open - not contacted" is spelled "Open - Not Contacted" in the Lead Status picklist (Lead.Status) in Salesforce',
      expect.stringContaining('overrides[0].leadSource: "Carrier Pigeon" is not a value of the Lead Source picklist (Lead.LeadSource)'),
    ]);
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
      ...['101', '102', '103'].map((id) => ({ installationId, hubspotContactId: `preview-${id}`, stage: 'sql', source: 'salesforce' as const, occurredAt: at })),
      { installationId, hubspotContactId: 'preview-104', stage: 'sql', source: 'salesforce', occurredAt: at },
      { installationId, hubspotContactId: 'preview-104', stage: 'rejected', source: 'salesforce', occurredAt: new Date(at.getTime() + 60_000) },
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
    const saved = await client.api('PUT', settingsPath('slaPolicy'), { hours: 8, overrides: [{ leadSource: 'Partner Referral', hours: 2 }] });
    expect(saved.status).toBe(200);
    expect(saved.json.crmCheck).toEqual({ checked: true });
    expect(saved.json.preview.lines[0].text).toMatch(/^\d+ running SLA clocks? would be rescheduled from their handoff/);
    expect((await client.api('GET', settingsPath('slaPolicy'))).json.value.overrides).toEqual([{ leadSource: 'Partner Referral', hours: 2 }]);
  });
});

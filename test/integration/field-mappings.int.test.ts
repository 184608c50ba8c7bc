/**
 * Field mappings driving the sync end to end: an admin adds a custom picklist on both sides (a
 * HubSpot property through the properties API, a Salesforce field through the Tooling API with its
 * field-level security granted by a permission set), maps it with a value map through the admin
 * API, provisions, and the values cross both ways through the real clients. A value the org's
 * restricted picklist refuses is logged with its field and value while the rest of the write lands.
 * Once a rep converts the Lead, the mappings follow the Contact lead conversion copied the values into.
 */
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_FIELD_MAPPINGS, validateStageDictionary } from '../../src/domain/stages.ts';
import { leadStatusSection } from '../../src/server/admin/provisioning.ts';
import { eventually } from '../support/app-process.ts';
import { AdminClient } from '../support/admin-harness.ts';
import { grantFieldAccess, userIdOf } from '../support/salesforce-access.ts';
import { loginAsIntegration } from '../support/salesforce-org.ts';
import { directSyncContext, startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'f'.repeat(16) + '0123456789abcdef'.repeat(3);
const TIERS = [
  { hubspot: 'hot', salesforce: 'Tier 1 - Hot' },
  { hubspot: 'warm', salesforce: 'Tier 2 - Warm' },
  { hubspot: 'cold', salesforce: 'Tier 3 - Cold' },
];

describe('field mappings', () => {
  let h: SyncHarness;
  let client: AdminClient;
  let admin: Connection;
  let installationId: string;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    client = new AdminClient(h.app.url ?? '');
    await client.signIn(ADMIN_TOKEN);
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    admin = await loginAsIntegration(h.salesforceSandbox);

    // The admin's custom fields, as they make them in Setup and in HubSpot's property settings.
    await admin.tooling.sobject('CustomField').create({
      FullName: 'Lead.Lead_Tier__c',
      Metadata: {
        type: 'Picklist',
        label: 'Lead Tier',
        valueSet: { restricted: true, valueSetDefinition: { value: TIERS.map((t) => ({ fullName: t.salesforce, label: t.salesforce })) } },
      },
    });
    await admin.tooling
      .sobject('CustomField')
      .create({ FullName: 'Lead.Employee_Count__c', Metadata: { type: 'Number', label: 'Employee Count', precision: 8, scale: 0 } });
    // The Contact's field of the same name, which the org's lead field mapping fills on conversion.
    await admin.tooling.sobject('CustomField').create({
      FullName: 'Contact.Lead_Tier__c',
      Metadata: {
        type: 'Picklist',
        label: 'Lead Tier',
        valueSet: { restricted: true, valueSetDefinition: { value: TIERS.map((t) => ({ fullName: t.salesforce, label: t.salesforce })) } },
      },
    });
    const fields = ['Lead.Lead_Tier__c', 'Lead.Employee_Count__c', 'Contact.Lead_Tier__c'];
    await grantFieldAccess(admin, fields);
    await grantFieldAccess(admin, fields, { userId: await userIdOf(h.rep) });
    await h.hubspot.crm.properties.coreApi.create('contacts', {
      name: 'lead_tier',
      label: 'Lead tier',
      groupName: 'contactinformation',
      type: 'enumeration',
      fieldType: 'select',
      options: TIERS.map((t, i) => ({ label: t.hubspot, value: t.hubspot, displayOrder: i, hidden: false })),
    } as never);
    await h.hubspot.crm.properties.coreApi.create('contacts', {
      name: 'employee_count',
      label: 'Employee count',
      groupName: 'contactinformation',
      type: 'number',
      fieldType: 'number',
    } as never);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const settingsPath = () => `/api/installations/${installationId}/settings/fieldMappings`;
  const lead = async (id: string) =>
    (
      await h.rep.query<{ Lead_Tier__c: string | null; Employee_Count__c: number | null }>(
        `SELECT Lead_Tier__c, Employee_Count__c FROM Lead WHERE Id = '${id}'`,
      )
    ).records[0];
  const tierOf = async (contactId: string) =>
    (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['lead_tier', 'employee_count'])).properties;

  it("lists the Lead Status values the stage dictionary names in the provisioning plan, one the org's picklist lacks left to the admin", async () => {
    const dry = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(dry.status).toBe(200);
    expect(dry.json.leadStatuses.items).toEqual([
      { value: 'Open - Not Contacted', stages: ['mql'], writtenByTheApp: true, status: 'exists' },
      { value: 'Working - Contacted', stages: ['sql'], writtenByTheApp: false, status: 'exists' },
      { value: 'Closed - Not Converted', stages: ['rejected', 'recycled'], writtenByTheApp: false, status: 'exists' },
    ]);

    // A dictionary with a stage of its own: the plan names the value to add in Setup, and the sync can still run.
    const meeting = validateStageDictionary(
      JSON.parse(readFileSync(new URL('../fixtures/stage-dictionary-meeting.json', import.meta.url), 'utf8')),
    );
    if (!meeting.ok) throw new Error(meeting.error.join('; '));
    const direct = await directSyncContext(h);
    try {
      const section = await leadStatusSection(direct.ctx.salesforce, meeting.value);
      expect(section.ok && section.items.find((item) => item.value === 'Meeting Booked')).toEqual({
        value: 'Meeting Booked',
        stages: ['meeting'],
        writtenByTheApp: false,
        status: 'manual',
      });
    } finally {
      await direct.close();
    }
  });

  it('refuses a picklist mapping whose values have no counterpart, then syncs it both ways with its value map', async () => {
    const tier = { hubspotProperty: 'lead_tier', salesforceField: 'Lead_Tier__c', rule: 'two_way' as const };
    const refused = await client.api('PUT', settingsPath(), [...DEFAULT_FIELD_MAPPINGS, tier]);
    expect(refused.status).toBe(422);
    expect(refused.json.issues).toEqual([
      '[6].valueMap: HubSpot "hot", "warm", "cold" of lead_tier have no value in the Lead Tier picklist (Lead.Lead_Tier__c): map each to one of "Tier 1 - Hot", "Tier 2 - Warm", "Tier 3 - Cold"',
      '[6].valueMap: Salesforce "Tier 1 - Hot", "Tier 2 - Warm", "Tier 3 - Cold" of Lead.Lead_Tier__c have no option in Lead tier (lead_tier): map each to one of "hot", "warm", "cold"',
    ]);
    const count = { hubspotProperty: 'employee_count', salesforceField: 'Employee_Count__c', rule: 'two_way' as const };
    const saved = await client.api('PUT', settingsPath(), [...DEFAULT_FIELD_MAPPINGS, { ...tier, valueMap: TIERS }, count]);
    expect(saved.status).toBe(200);

    // Provisioning watches the new properties (the dry run lists their subscriptions first).
    const dry = await client.api('POST', `/api/installations/${installationId}/provisioning/dry-run`);
    expect(dry.status).toBe(200);
    const missing = (dry.json.hubspotWebhooks.items as { eventType: string; propertyName: string | null; status: string }[])
      .filter((i) => i.status !== 'exists')
      .map((i) => i.propertyName);
    expect(missing).toEqual(expect.arrayContaining(['lead_tier', 'employee_count']));
    expect((await client.api('POST', `/api/installations/${installationId}/provisioning`)).status).toBe(200);

    // HubSpot → Salesforce on the handoff: the HubSpot value lands as the org's picklist value.
    const { contactId, lead: created } = await h.handOff({ lead_tier: 'hot', employee_count: '120' });
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 1 - Hot', 20_000, 'the tier on the new Lead');
    expect((await lead(created.Id))?.Employee_Count__c).toBe(120);

    // Salesforce → HubSpot: a rep's change arrives in HubSpot's words.
    await h.rep.sobject('Lead').update({ Id: created.Id, Lead_Tier__c: 'Tier 3 - Cold', Employee_Count__c: 140 });
    await eventually(async () => (await tierOf(contactId)).lead_tier === 'cold', 20_000, 'the tier on the contact');
    expect((await tierOf(contactId)).employee_count).toBe('140');

    // HubSpot → Salesforce again, on a marketer's later edit of the linked contact.
    h.hubspotSandbox.editInUi('contacts', contactId, { lead_tier: 'warm' });
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 2 - Warm', 20_000, 'the edited tier on the Lead');

    // A rep's change is newer than the contact's tier even when the contact itself changed after it
    // (a marketer's edit of another property, or the app's own stamps): each side's field time decides.
    const pause = await client.api('POST', `/api/installations/${installationId}/pause`, { direction: 'to-hubspot' });
    expect(pause.status).toBe(200);
    try {
      await h.rep.sobject('Lead').update({ Id: created.Id, Lead_Tier__c: 'Tier 1 - Hot' });
      h.hubspotSandbox.editInUi('contacts', contactId, { jobtitle: 'Head of Tiers' });
    } finally {
      expect((await client.api('POST', `/api/installations/${installationId}/resume`, { direction: 'to-hubspot' })).status).toBe(200);
    }
    await eventually(async () => (await tierOf(contactId)).lead_tier === 'hot', 20_000, "the rep's tier on the contact edited after it");
    expect((await lead(created.Id))?.Lead_Tier__c).toBe('Tier 1 - Hot');
  }, 120_000);

  it('logs a value the restricted picklist refuses with its field and value, and writes the rest of the record', async () => {
    // A HubSpot option added after the mapping was saved, which the org's picklist does not have.
    await h.hubspot.crm.properties.coreApi.update('contacts', 'lead_tier', {
      options: [...TIERS, { hubspot: 'frozen' }].map((t, i) => ({ label: t.hubspot, value: t.hubspot, displayOrder: i, hidden: false })),
    });
    const { contactId, lead: created } = await h.handOff({ lead_tier: 'warm', employee_count: '10' });
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 2 - Warm', 20_000, 'the tier on the new Lead');

    h.hubspotSandbox.editInUi('contacts', contactId, { lead_tier: 'frozen', employee_count: '11' });
    await eventually(
      async () => (await lead(created.Id))?.Employee_Count__c === 11,
      20_000,
      'the employee count written without the refused tier',
    );
    const refusal = async () =>
      (
        await h.app.db.query<{ reason: string; details: { field: string; value: unknown; code: string } }>(
          "SELECT reason, details FROM sync_log WHERE action = 'mapped_value_refused' AND record_ref = $1",
          [`salesforce:Lead:${created.Id}`],
        )
      )[0];
    await eventually(async () => (await refusal()) !== undefined, 20_000, 'the refusal in the sync log');
    expect((await refusal())?.details).toEqual({ field: 'Lead_Tier__c', value: 'frozen', code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' });
    expect((await refusal())?.reason).toContain('Salesforce refused Lead_Tier__c = "frozen"');
    expect((await lead(created.Id))?.Lead_Tier__c).toBe('Tier 2 - Warm');
  }, 90_000);
  it("weighs a tracked Salesforce field by its own history: a rep's edit of another field does not make the Lead's old value newer", async () => {
    const tier = { hubspotProperty: 'lead_tier', salesforceField: 'Lead_Tier__c', rule: 'two_way' as const, valueMap: TIERS };
    await h.hubspot.crm.properties.coreApi.update('contacts', 'lead_tier', {
      options: TIERS.map((t, i) => ({ label: t.hubspot, value: t.hubspot, displayOrder: i, hidden: false })),
    });
    expect((await client.api('PUT', settingsPath(), [...DEFAULT_FIELD_MAPPINGS, tier])).status).toBe(200);
    // The admin tracks the tier's history (Setup → Set History Tracking).
    h.salesforceSandbox.fieldHistory.set('Lead', ['Lead_Tier__c']);
    const { contactId, lead: created } = await h.handOff({ lead_tier: 'hot' });
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 1 - Hot', 20_000, 'the tier on the new Lead');
    // The rep rates the Lead (its first history row: a value it was created with has none).
    await h.rep.sobject('Lead').update({ Id: created.Id, Lead_Tier__c: 'Tier 2 - Warm' });
    await eventually(async () => (await tierOf(contactId)).lead_tier === 'warm', 20_000, "the rep's tier on the contact");

    // The marketer cools the contact while the way to Salesforce is paused; then a rep edits the
    // Lead's phone, which makes the Lead newer than the marketer's change, but not its tier.
    expect((await client.api('POST', `/api/installations/${installationId}/pause`, { direction: 'to-salesforce' })).status).toBe(200);
    try {
      h.hubspotSandbox.editInUi('contacts', contactId, { lead_tier: 'cold' });
      await h.rep.sobject('Lead').update({ Id: created.Id, Phone: '+1 555 0142' });
      await eventually(
        async () => (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['phone'])).properties.phone === '+1 555 0142',
        20_000,
        "the rep's phone on the contact",
      );
      expect((await tierOf(contactId)).lead_tier).toBe('cold');
    } finally {
      expect((await client.api('POST', `/api/installations/${installationId}/resume`, { direction: 'to-salesforce' })).status).toBe(200);
      h.salesforceSandbox.fieldHistory.set('Lead', []);
    }
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 3 - Cold', 20_000, "the marketer's tier on the Lead");
    expect((await tierOf(contactId)).lead_tier).toBe('cold');
  }, 90_000);

  it('follows the Contact once the Lead is converted: mapped fields both ways, and the opt-out made on the Contact', async () => {
    const tier = { hubspotProperty: 'lead_tier', salesforceField: 'Lead_Tier__c', rule: 'two_way' as const, valueMap: TIERS };
    // The option the org's picklist lacks (the test before) is taken out again.
    await h.hubspot.crm.properties.coreApi.update('contacts', 'lead_tier', {
      options: TIERS.map((t, i) => ({ label: t.hubspot, value: t.hubspot, displayOrder: i, hidden: false })),
    });
    // A Contact field the org does not have is refused at save, with the field named.
    const wrong = await client.api('PUT', settingsPath(), [...DEFAULT_FIELD_MAPPINGS, { ...tier, salesforceContactField: 'Tier__c' }]);
    expect(wrong.status).toBe(422);
    expect(wrong.json.issues).toEqual([
      '[6].salesforceContactField: "Tier__c" is not a Contact field in Salesforce, or the integration user cannot see it: name the Contact field, or null to follow the Lead only',
    ]);
    const saved = await client.api('PUT', settingsPath(), [...DEFAULT_FIELD_MAPPINGS, { ...tier, salesforceContactField: 'Lead_Tier__c' }]);
    expect(saved.status).toBe(200);
    expect((await client.api('POST', `/api/installations/${installationId}/provisioning`)).status).toBe(200);

    const { contactId, lead: created } = await h.handOff({ lead_tier: 'hot', jobtitle: 'Analyst' });
    await eventually(async () => (await lead(created.Id))?.Lead_Tier__c === 'Tier 1 - Hot', 20_000, 'the tier on the new Lead');
    // Lead conversion copies the values into the Contact (standard fields, and the custom one by the org's mapping).
    await h.rep.sobject('Lead').update({ Id: created.Id, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId: created.Id, convertedStatus: 'Closed - Converted' });
    const { contactId: salesforceContactId } = (Array.isArray(converted) ? converted[0] : converted) as { contactId: string };
    await eventually(
      async () => (await h.contact(contactId)).salesforce_contact_id === salesforceContactId,
      20_000,
      'the conversion linked in HubSpot',
    );
    const person = async () =>
      (
        await h.rep.query<{ Title: string | null; Lead_Tier__c: string | null; HasOptedOutOfEmail: boolean }>(
          `SELECT Title, Lead_Tier__c, HasOptedOutOfEmail FROM Contact WHERE Id = '${salesforceContactId}'`,
        )
      ).records[0];
    expect(await person()).toMatchObject({ Title: 'Analyst', Lead_Tier__c: 'Tier 1 - Hot' });

    // HubSpot → Salesforce: a marketer's edit lands on the Contact (the converted Lead is read-only),
    // each field under its rule: the job title is Salesforce's unless blank, so the Contact keeps its own.
    h.hubspotSandbox.editInUi('contacts', contactId, { lead_tier: 'cold', jobtitle: 'Head of Analytics' });
    await eventually(async () => (await person())?.Lead_Tier__c === 'Tier 3 - Cold', 20_000, 'the tier on the Contact');
    expect((await person())?.Title).toBe('Analyst');
    expect((await lead(created.Id))?.Lead_Tier__c).toBe('Tier 1 - Hot');

    // Salesforce → HubSpot: the rep's edit of the Contact reaches the contact, in HubSpot's words.
    await h.rep.sobject('Contact').update({ Id: salesforceContactId, Lead_Tier__c: 'Tier 2 - Warm', Title: 'VP Analytics' });
    await eventually(async () => (await tierOf(contactId)).lead_tier === 'warm', 20_000, "the Contact's tier on the contact");
    expect((await h.hubspot.crm.contacts.basicApi.getById(contactId, ['jobtitle'])).properties.jobtitle).toBe('VP Analytics');

    // A new Email the rep types on the Contact becomes the contact's, with no second contact.
    const newEmail = `converted-${contactId}@example.com`;
    await h.rep.sobject('Contact').update({ Id: salesforceContactId, Email: newEmail });
    await eventually(async () => (await h.contact(contactId)).email === newEmail, 20_000, "the Contact's email on the contact");
    const sameEmail = await h.hubspot.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ' as never, value: newEmail }] }],
      properties: ['email'],
      limit: 10,
    });
    expect(sameEmail.results.map((c) => c.id)).toEqual([contactId]);

    // The opt-out a rep ticks on the Contact unsubscribes the contact in HubSpot.
    await h.rep.sobject('Contact').update({ Id: salesforceContactId, HasOptedOutOfEmail: true });
    await eventually(
      async () => (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['hs_email_optout'])).properties.hs_email_optout === 'true',
      20_000,
      "the Contact's opt-out in HubSpot",
    );
  }, 120_000);
});

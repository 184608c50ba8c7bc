/**
 * The whole journey against sandboxes that enforce the real permission model, through the running
 * app and the real clients: the integration user starts with no field-level security and no
 * Marketing User (the app's provisioning at boot grants them, as it would in a real org), the
 * campaign exists before the app with member statuses of its own, and HubSpot silently ignores a
 * backward lifecycle write. Form → MQL → Lead with attribution and Campaign membership → SLA →
 * SQL → conversion → Closed Won → customer with revenue; a rejection with its reason; a Lead sales
 * created.
 */
import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTEGRATION_PERMISSION_SET } from '../../src/crm/field-catalog.ts';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, submitHubSpotForm, type SyncHarness } from '../support/sync-harness.ts';
import { sessionAs } from '../support/salesforce-org.ts';

const CAMPAIGN = 'Winter Summit 2026';

interface JourneyLead {
  Id: string;
  Status: string;
  First_Touch_Channel__c: string | null;
  First_Touch_Campaign__c: string | null;
  SLA_Status__c: string | null;
  IsConverted: boolean;
  ConvertedOpportunityId: string | null;
}

describe('the journey on permission-enforcing sandboxes', () => {
  let h: SyncHarness;
  let orgAdmin: jsforce.Connection;
  let seq = 0;

  const contact = async (id: string) =>
    (
      await h.hubspot.crm.contacts.basicApi.getById(id, [
        'lifecyclestage',
        'hs_lead_status',
        'attribution_first_channel',
        'attribution_first_campaign',
        'salesforce_lead_id',
        'sales_sla_status',
        'sales_first_touch_at',
        'sales_feedback_status',
        'sales_feedback_reason',
        'sales_won_amount',
      ])
    ).properties;

  const leadOf = async (contactId: string): Promise<JourneyLead | undefined> =>
    (
      await h.rep.query<JourneyLead>(
        `SELECT Id, Status, First_Touch_Channel__c, First_Touch_Campaign__c, SLA_Status__c, IsConverted, ConvertedOpportunityId FROM Lead WHERE HubSpot_Contact_Id__c = '${contactId}'`,
      )
    ).records[0];

  /** A visitor submits the summit form from an event link; marketing makes them an MQL. */
  async function formToMql(): Promise<string> {
    seq += 1;
    const email = `journey${seq}-${Date.now()}@example.com`;
    await submitHubSpotForm(
      h,
      'summit',
      { email, firstname: 'Grace', lastname: `Hopper ${seq}`, company: 'Compilers Inc' },
      {
        pageUri: `https://www.example.com/summit?utm_source=partner&utm_medium=event&utm_campaign=${encodeURIComponent(CAMPAIGN)}`,
        pageName: 'Summit',
      },
    );
    const found = await h.hubspot.crm.contacts.basicApi.getById(email, ['email'], undefined, undefined, false, 'email');
    h.hubspotSandbox.editInUi('contacts', found.id, { lifecyclestage: 'marketingqualifiedlead' });
    return found.id;
  }

  beforeAll(async () => {
    h = await startSyncHarness();
    orgAdmin = sessionAs(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
    // The campaign predates the app, with statuses of its own: 'Registered' (default) and 'Attended' (responded), no 'Responded'.
    const campaign = await orgAdmin.sobject('Campaign').create({ Name: CAMPAIGN, IsActive: true });
    const statuses = (
      await orgAdmin.query<{ Id: string }>(
        `SELECT Id FROM CampaignMemberStatus WHERE CampaignId = '${campaign.id ?? ''}' ORDER BY SortOrder`,
      )
    ).records;
    await orgAdmin.sobject('CampaignMemberStatus').update(
      [
        { Id: statuses[0]?.Id ?? '', Label: 'Registered', HasResponded: false },
        { Id: statuses[1]?.Id ?? '', Label: 'Attended', HasResponded: true },
      ],
      { allOrNone: true },
    );
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('runs with access the app granted itself: the integration user holds only the app permission set and Marketing User', async () => {
    const assignments = await orgAdmin.query<{ PermissionSet: { Name: string } }>(
      `SELECT PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = '${h.salesforceSandbox.integrationUserId}'`,
    );
    expect(assignments.records.map((a) => a.PermissionSet.Name)).toEqual([INTEGRATION_PERMISSION_SET.name]);
    const [user] = (
      await orgAdmin.query<{ UserPermissionsMarketingUser: boolean }>(
        `SELECT UserPermissionsMarketingUser FROM User WHERE Id = '${h.salesforceSandbox.integrationUserId}'`,
      )
    ).records;
    expect(user?.UserPermissionsMarketingUser).toBe(true);
  });

  it('takes a form lead from MQL to a customer with revenue, stamped and in the campaign as it exists', async () => {
    const contactId = await formToMql();
    let lead: JourneyLead | undefined;
    await eventually(
      async () => {
        lead = await leadOf(contactId);
        return lead?.First_Touch_Campaign__c === CAMPAIGN && lead.SLA_Status__c === 'pending';
      },
      30_000,
      'the stamped Lead with its SLA clock',
    );
    const leadId = (lead as JourneyLead).Id;
    expect(lead).toMatchObject({ Status: 'Open - Not Contacted', First_Touch_Channel__c: 'Events' });
    await eventually(
      async () => (await h.rep.query(`SELECT Id FROM CampaignMember WHERE LeadId = '${leadId}'`)).totalSize === 1,
      20_000,
      'the campaign membership',
    );
    const member = (
      await h.rep.query<{ Status: string; HasResponded: boolean }>(
        `SELECT Status, HasResponded FROM CampaignMember WHERE LeadId = '${leadId}'`,
      )
    ).records[0];
    expect(member).toMatchObject({ Status: 'Attended', HasResponded: true });
    await eventually(async () => (await contact(contactId)).sales_sla_status === 'pending', 20_000, 'the SLA stamp in HubSpot');
    expect(await contact(contactId)).toMatchObject({
      attribution_first_channel: 'Events',
      attribution_first_campaign: CAMPAIGN,
      salesforce_lead_id: leadId,
    });

    // Sales accepts: SQL, SLA met.
    await h.rep.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    await eventually(
      async () => {
        const props = await contact(contactId);
        return props.lifecyclestage === 'salesqualifiedlead' && props.sales_sla_status === 'met';
      },
      20_000,
      'SQL with the SLA met',
    );

    // Conversion, then Closed Won with revenue.
    const converted = await h.rep.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    const result = (Array.isArray(converted) ? converted[0] : converted) as { success: boolean; opportunityId: string };
    expect(result.success).toBe(true);
    await eventually(async () => (await contact(contactId)).lifecyclestage === 'opportunity', 20_000, 'opportunity');
    await h.rep
      .sobject('Opportunity')
      .update({ Id: result.opportunityId, Amount: 42000, StageName: 'Closed Won', Win_Reason__c: 'Integration depth' });
    await eventually(
      async () => {
        const props = await contact(contactId);
        return props.lifecyclestage === 'customer' && props.sales_won_amount === '42000' && props.sales_feedback_status === 'won';
      },
      20_000,
      'a customer with the won revenue',
    );
  });

  it('writes a rejection back with its standard reason', async () => {
    const contactId = await formToMql();
    let lead: JourneyLead | undefined;
    await eventually(async () => (lead = await leadOf(contactId)) !== undefined, 30_000, 'the Lead');
    // The rep edits the feedback fields through the sales users' permission set.
    await h.rep.sobject('Lead').update({
      Id: (lead as JourneyLead).Id,
      Status: 'Closed - Not Converted',
      Feedback_Reason__c: 'No authority',
      Feedback_Notes__c: 'Talk to the CFO',
    });
    await eventually(
      async () => {
        const props = await contact(contactId);
        return (
          props.sales_feedback_status === 'rejected' &&
          props.sales_feedback_reason === 'no_authority' &&
          props.hs_lead_status === 'UNQUALIFIED'
        );
      },
      20_000,
      'the rejection in HubSpot',
    );
  });

  it("keeps HubSpot's later stage when a marketer moved the contact on, and says so in the sync log", async () => {
    const contactId = await formToMql();
    let lead: JourneyLead | undefined;
    await eventually(async () => (lead = await leadOf(contactId)) !== undefined, 30_000, 'the Lead');
    // Marketing marks the contact a customer by hand; the rep then works the (now stale) Lead.
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'customer' });
    await h.rep.sobject('Lead').update({ Id: (lead as JourneyLead).Id, Status: 'Working - Contacted' });
    await eventually(
      async () => {
        const rows = await h.app.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM sync_log WHERE (record_ref LIKE $1 OR record_ref LIKE $2) AND reason LIKE '%customer%'",
          [`%${contactId}`, `%${(lead as JourneyLead).Id}`],
        );
        return (rows[0]?.n ?? 0) > 0;
      },
      20_000,
      'the kept stage in the sync log',
    );
    expect((await contact(contactId)).lifecyclestage).toBe('customer');
  });

  it('gives a Lead sales created a HubSpot contact stamped Sales-sourced', async () => {
    seq += 1;
    const email = `sales-made${seq}-${Date.now()}@example.com`;
    await h.rep.sobject('Lead').create({ LastName: 'Direct', Company: 'Walk-in Ltd', Email: email });
    await eventually(
      async () => {
        try {
          const found = await h.hubspot.crm.contacts.basicApi.getById(
            email,
            ['attribution_first_channel'],
            undefined,
            undefined,
            false,
            'email',
          );
          return found.properties.attribution_first_channel === 'Sales-sourced';
        } catch {
          return false;
        }
      },
      30_000,
      'the Sales-sourced contact',
    );
  });
});

/**
 * Campaign-source attribution end to end: the app (receivers, queues, workers) against both
 * sandbox CRMs over HTTP. Visitors submit HubSpot forms from tagged URLs, marketers promote them,
 * sales reps create and work Leads with their own Salesforce session.
 */
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_MODELS, type CreditModel } from '../../src/domain/attribution-credit.ts';
import { funnelReport } from '../../src/store/report.ts';
import {
  backfillProgress,
  createAttributionBackfillRun,
  runAttributionBackfill,
  startAttributionBackfill,
  type BackfillProgress,
} from '../../src/sync/attribution-backfill.ts';
import { DEFAULT_ATTRIBUTION_SETTINGS } from '../../src/sync/attribution-settings.ts';
import type { SyncContext } from '../../src/sync/context.ts';
import { syncContactsToSalesforce } from '../../src/sync/handoff.ts';
import { eventually } from '../support/app-process.ts';
import { sessionAs } from '../support/salesforce-org.ts';
import { directSyncContext, startSyncHarness, submitHubSpotForm, type SyncHarness, untilCrmsQuiet } from '../support/sync-harness.ts';

interface StampedLead {
  Id: string;
  LeadSource: string | null;
  First_Touch_Channel__c: string | null;
  First_Touch_Source__c: string | null;
  First_Touch_Medium__c: string | null;
  First_Touch_Campaign__c: string | null;
  First_Touch_At__c: string | null;
  Last_Touch_Channel__c: string | null;
  Last_Touch_Source__c: string | null;
  Last_Touch_Medium__c: string | null;
  Last_Touch_Campaign__c: string | null;
  Last_Touch_At__c: string | null;
  ConvertedContactId: string | null;
  ConvertedOpportunityId: string | null;
}

const LEAD_STAMP =
  'Id, LeadSource, First_Touch_Channel__c, First_Touch_Source__c, First_Touch_Medium__c, First_Touch_Campaign__c, First_Touch_At__c, Last_Touch_Channel__c, Last_Touch_Source__c, Last_Touch_Medium__c, Last_Touch_Campaign__c, Last_Touch_At__c, ConvertedContactId, ConvertedOpportunityId';
const HUBSPOT_STAMP = [
  'attribution_first_channel',
  'attribution_first_source',
  'attribution_first_medium',
  'attribution_first_campaign',
  'attribution_first_at',
  'attribution_last_channel',
  'attribution_last_source',
  'attribution_last_medium',
  'attribution_last_campaign',
  'attribution_last_at',
  'salesforce_lead_id',
];
const SPRING = 'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring-launch&utm_term=lead+routing';
const NEWSLETTER = 'https://www.example.com/webinar?utm_source=newsletter&utm_medium=email&utm_campaign=may-newsletter';
const RETARGETING = 'https://www.example.com/demo?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q3-retarget';

describe('campaign-source attribution', () => {
  let h: SyncHarness;
  let seq = 0;
  /** The app's own sync services, called directly through the real clients (for call counts and resumption). */
  let direct: SyncContext;
  let closeDirect: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // One reconcile pass at boot, then none for an hour: the tests below make changes the app
    // must not see (dropped webhooks) and count calls, so no pass may land in the middle.
    h = await startSyncHarness({}, { reconcileIntervalMs: 3_600_000 });
    await eventually(
      async () => ((await h.app.producer.queue('reconcile').getJobCounts('completed')).completed ?? 0) >= 1,
      30_000,
      'the boot-time reconcile pass',
    );
    ({ ctx: direct, close: closeDirect } = await directSyncContext(h));
  }, 120_000);

  afterAll(async () => {
    await closeDirect?.();
    await h?.close();
  });

  /** While it runs, neither CRM tells the app about changes: records made meanwhile predate the installation as far as the app knows. */
  async function unseenByTheApp<T>(work: () => Promise<T>): Promise<T> {
    h.hubspotSandbox.setFaults({ webhooks: { drop: {} } });
    h.salesforceSandbox.faults.set({ outbound: { drop: { probability: 1 } } });
    try {
      return await work();
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  }

  const quiet = () => untilCrmsQuiet(h, 1_000);

  function callDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
    const delta: Record<string, number> = {};
    for (const [key, n] of Object.entries(after)) if (n !== (before[key] ?? 0)) delta[key] = n - (before[key] ?? 0);
    return delta;
  }

  function uniqueEmail(tag: string): string {
    seq += 1;
    return `${tag}${seq}-${Date.now()}@example.com`;
  }

  /** A visitor submits a HubSpot form on `pageUri` (the Forms API computes the analytics properties). */
  async function submitForm(email: string, pageUri: string, options: { pageName?: string; referrer?: string } = {}): Promise<void> {
    await submitHubSpotForm(
      h,
      'demo-request',
      { email, firstname: 'Ada', lastname: 'Lovelace', company: 'Analytical Engines' },
      {
        pageUri,
        pageName: options.pageName ?? 'Pricing',
        ...(options.referrer === undefined ? {} : { sandboxReferrer: options.referrer }),
      },
    );
  }

  async function contactByEmail(email: string): Promise<{ id: string; properties: Record<string, string | null> }> {
    const found = await h.hubspot.crm.contacts.basicApi.getById(email, HUBSPOT_STAMP, undefined, undefined, false, 'email');
    return { id: found.id, properties: found.properties };
  }

  async function stampedLead(where: string): Promise<StampedLead | undefined> {
    return (await h.rep.query<StampedLead>(`SELECT ${LEAD_STAMP} FROM Lead WHERE ${where}`)).records[0];
  }

  async function membershipsOf(
    personId: string,
    field: 'LeadId' | 'ContactId' = 'LeadId',
  ): Promise<{ campaign: string; status: string }[]> {
    const rows = await h.rep.query<{ Status: string; Campaign: { Name: string } }>(
      `SELECT Status, Campaign.Name FROM CampaignMember WHERE ${field} = '${personId}'`,
    );
    return rows.records
      .map((row) => ({ campaign: row.Campaign.Name, status: row.Status }))
      .sort((a, b) => a.campaign.localeCompare(b.campaign));
  }

  /** Submits the spring-launch form, promotes the contact to MQL and waits for its stamped Lead. */
  async function paidSearchLead(): Promise<{ email: string; contactId: string; lead: StampedLead }> {
    const email = uniqueEmail('spring');
    await submitForm(email, SPRING);
    const { id: contactId } = await contactByEmail(email);
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    let lead: StampedLead | undefined;
    await eventually(
      async () => {
        lead = await stampedLead(`HubSpot_Contact_Id__c = '${contactId}'`);
        return lead?.First_Touch_Channel__c != null;
      },
      20_000,
      'the stamped Lead',
    );
    return { email, contactId, lead: lead as StampedLead };
  }

  it('stamps twelve handoffs with the same API calls as one: stamping and Campaign membership add no call per lead', async () => {
    async function handOffMeasured(count: number, campaign: string) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const email = uniqueEmail(campaign);
        await submitForm(email, `https://www.example.com/demo?utm_source=linkedin&utm_medium=paid_social&utm_campaign=${campaign}`);
        const { id } = await contactByEmail(email);
        h.hubspotSandbox.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
        ids.push(id);
      }
      await quiet();
      const hubspotBefore = h.hubspotSandbox.stats().endpoints;
      const salesforceBefore = h.salesforceSandbox.stats().calls;
      const summary = await syncContactsToSalesforce(direct, ids);
      const calls = {
        hubspot: callDelta(hubspotBefore, h.hubspotSandbox.stats().endpoints),
        salesforce: callDelta(salesforceBefore, h.salesforceSandbox.stats().calls),
      };
      expect(summary.created).toBe(count);
      const leads = await h.rep.query<StampedLead>(
        `SELECT ${LEAD_STAMP} FROM Lead WHERE HubSpot_Contact_Id__c IN (${ids.map((id) => `'${id}'`).join(', ')})`,
      );
      expect(leads.records.map((lead) => [lead.First_Touch_Channel__c, lead.First_Touch_Campaign__c, lead.LeadSource])).toEqual(
        ids.map(() => ['Paid Social', campaign, 'Web']),
      );
      const members = await h.rep.query(`SELECT Id FROM CampaignMember WHERE Campaign.Name = '${campaign}'`);
      expect(members.totalSize).toBe(count);
      return calls;
    }
    // The owner directory (HubSpot owners, Salesforce users) is read once per process and kept for
    // minutes: a first handoff reads it, the measured ones find it.
    const [, one, twelve] = await unseenByTheApp(async () => [
      await handOffMeasured(1, `batch-warm-${Date.now()}`),
      await handOffMeasured(1, `batch-one-${Date.now()}`),
      await handOffMeasured(12, `batch-twelve-${Date.now()}`),
    ]);
    expect(twelve).toEqual(one);
    // One batch read and one batch update in HubSpot; in Salesforce two email lookups, the Lead upsert,
    // the owners the assignment rules gave the new Leads (for the contacts' sales owner), then the
    // Campaign query and create, the CampaignMemberStatus query (the new Campaigns have the
    // configured Responded, so nothing to add), the CampaignMember query and create.
    expect(Object.values(one.hubspot).reduce((a, b) => a + b, 0)).toBe(2);
    expect(Object.values(one.salesforce).reduce((a, b) => a + b, 0)).toBe(9);
    expect(one.salesforce['GET /services/data/:version/query']).toBe(6);
    expect(one.salesforce['POST /services/data/:version/composite/sobjects']).toBe(2);
  });

  it('stamps a Lead handed over from a paid search form with Paid Search, the campaign, LeadSource and a Campaign membership', async () => {
    const { contactId, lead } = await paidSearchLead();
    expect(lead).toMatchObject({
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Source__c: 'google',
      First_Touch_Medium__c: 'cpc',
      First_Touch_Campaign__c: 'spring-launch',
      Last_Touch_Channel__c: 'Paid Search',
      LeadSource: 'Web',
    });
    await eventually(async () => (await membershipsOf(lead.Id)).length > 0, 10_000, 'the Campaign membership');
    expect(await membershipsOf(lead.Id)).toEqual([{ campaign: 'spring-launch', status: 'Responded' }]);
    const campaigns = await h.rep.query<{ IsActive: boolean }>("SELECT Id, IsActive FROM Campaign WHERE Name = 'spring-launch'");
    expect(campaigns.records).toEqual([expect.objectContaining({ IsActive: true })]);
    const contact = await h.hubspot.crm.contacts.basicApi.getById(contactId, HUBSPOT_STAMP);
    expect(contact.properties).toMatchObject({
      attribution_first_channel: 'Paid Search',
      attribution_first_campaign: 'spring-launch',
      attribution_last_channel: 'Paid Search',
    });
  });

  /** A Salesforce session of the org's administrator (a Marketing User), who manages Campaigns. */
  function salesforceAdmin(): Connection {
    return sessionAs(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
  }

  /** An admin's Campaign whose two starting statuses (Sent, Responded) are renamed and re-flagged. */
  async function campaignWithStatuses(
    name: string,
    sent: { Label: string; HasResponded: boolean },
    responded: { Label: string; HasResponded: boolean },
  ): Promise<string> {
    const admin = salesforceAdmin();
    const campaign = await admin.sobject('Campaign').create({ Name: name, IsActive: true });
    const statuses = await admin.query<{ Id: string; Label: string }>(
      `SELECT Id, Label FROM CampaignMemberStatus WHERE CampaignId = '${campaign.id ?? ''}' ORDER BY SortOrder`,
    );
    const [first, second] = statuses.records;
    await admin.sobject('CampaignMemberStatus').update(
      [
        { Id: first?.Id ?? '', ...sent },
        { Id: second?.Id ?? '', ...responded },
      ],
      { allOrNone: true },
    );
    return campaign.id ?? '';
  }

  async function handOffFrom(campaign: string): Promise<{ contactId: string; lead: StampedLead }> {
    const email = uniqueEmail(campaign);
    await submitForm(email, `https://www.example.com/summit?utm_source=partner&utm_medium=event&utm_campaign=${campaign}`);
    const { id: contactId } = await contactByEmail(email);
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    let lead: StampedLead | undefined;
    await eventually(
      async () => {
        lead = await stampedLead(`HubSpot_Contact_Id__c = '${contactId}'`);
        return lead?.First_Touch_Campaign__c === campaign;
      },
      20_000,
      'the stamped Lead',
    );
    return { contactId, lead: lead as StampedLead };
  }

  it("adds the Lead to an existing Campaign with that Campaign's own responded status", async () => {
    const campaign = `partner-summit-${Date.now()}`;
    await campaignWithStatuses(campaign, { Label: 'Registered', HasResponded: false }, { Label: 'Attended', HasResponded: true });
    const { lead } = await handOffFrom(campaign);
    await eventually(async () => (await membershipsOf(lead.Id)).length > 0, 10_000, 'the Campaign membership');
    expect(await membershipsOf(lead.Id)).toEqual([{ campaign, status: 'Attended' }]);
    const member = await h.rep.query<{ HasResponded: boolean }>(`SELECT HasResponded FROM CampaignMember WHERE LeadId = '${lead.Id}'`);
    expect(member.records.map((m) => m.HasResponded)).toEqual([true]);
  });

  it('adds no member to a Campaign that counts no status as responded and tells the admin in the sync log', async () => {
    const campaign = `cold-list-${Date.now()}`;
    await campaignWithStatuses(campaign, { Label: 'Sent', HasResponded: false }, { Label: 'Opened', HasResponded: false });
    const { contactId, lead } = await handOffFrom(campaign);
    let logged: { level: string; reason: string; record_ref: string }[] = [];
    await eventually(
      async () => {
        logged = await h.app.db.query<{ level: string; reason: string; record_ref: string }>(
          "SELECT level, reason, record_ref FROM sync_log WHERE action = 'campaign_no_responded_status' AND details->>'campaign' = $1",
          [campaign],
        );
        return logged.length > 0;
      },
      20_000,
      'the sync log warning',
    );
    expect(logged).toEqual([
      {
        level: 'warn',
        record_ref: expect.stringContaining(contactId),
        reason: expect.stringContaining(`not added to Campaign "${campaign}"`),
      },
    ]);
    expect(logged[0]?.reason).toContain('tick Responded');
    expect(await membershipsOf(lead.Id)).toEqual([]);
  });

  it('gives a Campaign it creates the configured member status and adds the Lead with it', async () => {
    const campaign = `webinar-form-${Date.now()}`;
    const ctx: SyncContext = {
      ...direct,
      attribution: { ...DEFAULT_ATTRIBUTION_SETTINGS, campaigns: { createMissing: true, memberStatus: 'Form Submitted' } },
    };
    const contactId = await unseenByTheApp(async () => {
      const email = uniqueEmail(campaign);
      await submitForm(email, `https://www.example.com/webinar?utm_source=newsletter&utm_medium=email&utm_campaign=${campaign}`);
      const { id } = await contactByEmail(email);
      h.hubspotSandbox.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
      expect((await syncContactsToSalesforce(ctx, [id])).created).toBe(1);
      return id;
    });
    const lead = await stampedLead(`HubSpot_Contact_Id__c = '${contactId}'`);
    expect(await membershipsOf(lead?.Id ?? '')).toEqual([{ campaign, status: 'Form Submitted' }]);
    const statuses = await h.rep.query<{ Label: string; HasResponded: boolean; IsDefault: boolean; SortOrder: number }>(
      `SELECT Label, HasResponded, IsDefault, SortOrder FROM CampaignMemberStatus WHERE Campaign.Name = '${campaign}' ORDER BY SortOrder`,
    );
    expect(statuses.records.map((r) => [r.Label, r.HasResponded, r.IsDefault, r.SortOrder])).toEqual([
      ['Sent', false, true, 1],
      ['Responded', true, false, 2],
      ['Form Submitted', true, false, 3],
    ]);
  });

  it('updates only the last touch when the lead comes back through an email', async () => {
    const { email, contactId, lead } = await paidSearchLead();
    await submitForm(email, NEWSLETTER, { pageName: 'Webinar' });
    let after: StampedLead | undefined;
    await eventually(
      async () => {
        after = await stampedLead(`Id = '${lead.Id}'`);
        return after?.Last_Touch_Channel__c === 'Email';
      },
      20_000,
      'the last touch on the Lead',
    );
    expect(after).toMatchObject({
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Campaign__c: 'spring-launch',
      First_Touch_At__c: lead.First_Touch_At__c,
      Last_Touch_Source__c: 'newsletter',
      Last_Touch_Medium__c: 'email',
      Last_Touch_Campaign__c: 'may-newsletter',
      LeadSource: 'Web',
    });
    await eventually(
      async () => (await contactByEmail(email)).properties.attribution_last_channel === 'Email',
      10_000,
      'the last touch on the contact',
    );
    expect((await contactByEmail(email)).properties).toMatchObject({
      attribution_first_channel: 'Paid Search',
      attribution_first_campaign: 'spring-launch',
      attribution_last_campaign: 'may-newsletter',
    });
    await eventually(async () => (await membershipsOf(lead.Id)).length === 2, 10_000, 'the second membership');
    expect((await membershipsOf(lead.Id)).map((m) => m.campaign)).toEqual(['may-newsletter', 'spring-launch']);
    expect(contactId).not.toBe('');
  });

  it('stamps a Lead created in Salesforce as Sales-sourced on both sides', async () => {
    const email = uniqueEmail('rep-made');
    const created = (await h.rep.sobject('Lead').create({ FirstName: 'Grace', LastName: 'Hopper', Company: 'Navy', Email: email })) as {
      id: string;
    };
    await eventually(
      async () => (await stampedLead(`Id = '${created.id}'`))?.First_Touch_Channel__c === 'Sales-sourced',
      20_000,
      'the Sales-sourced Lead',
    );
    expect(await stampedLead(`Id = '${created.id}'`)).toMatchObject({
      Last_Touch_Channel__c: 'Sales-sourced',
      LeadSource: 'Other',
      First_Touch_Campaign__c: null,
    });
    await eventually(
      async () => {
        try {
          return (await contactByEmail(email)).properties.attribution_first_channel === 'Sales-sourced';
        } catch {
          return false;
        }
      },
      20_000,
      'the Sales-sourced contact',
    );
    expect((await contactByEmail(email)).properties).toMatchObject({
      attribution_last_channel: 'Sales-sourced',
      salesforce_lead_id: created.id,
    });
  });

  it('never overwrites the LeadSource a rep chose and stamps the marketing history the email already has', async () => {
    const email = uniqueEmail('trade-show');
    await submitForm(email, SPRING);
    const created = (await h.rep
      .sobject('Lead')
      .create({ FirstName: 'Ada', LastName: 'Lovelace', Company: 'Analytical Engines', Email: email, LeadSource: 'Trade Show' })) as {
      id: string;
    };
    await eventually(async () => (await stampedLead(`Id = '${created.id}'`))?.First_Touch_Channel__c != null, 20_000, 'the stamped Lead');
    expect(await stampedLead(`Id = '${created.id}'`)).toMatchObject({
      LeadSource: 'Trade Show',
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Campaign__c: 'spring-launch',
    });
    expect((await contactByEmail(email)).properties).toMatchObject({
      attribution_first_channel: 'Paid Search',
      salesforce_lead_id: created.id,
    });
  });

  it('carries the stamp to the Contact and Opportunity on conversion and keeps the last touch on the Contact current', async () => {
    const { email, lead } = await paidSearchLead();
    await eventually(async () => (await membershipsOf(lead.Id)).length === 1, 10_000, 'the Lead joining spring-launch');
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const result = (Array.isArray(converted) ? converted[0] : converted) as { contactId: string; opportunityId: string };
    const contact = (await h.rep.sobject('Contact').retrieve(result.contactId)) as Record<string, unknown>;
    const opportunity = (await h.rep.sobject('Opportunity').retrieve(result.opportunityId)) as Record<string, unknown>;
    for (const record of [contact, opportunity]) {
      expect(record).toMatchObject({ First_Touch_Channel__c: 'Paid Search', First_Touch_Campaign__c: 'spring-launch', LeadSource: 'Web' });
    }
    expect(await membershipsOf(result.contactId, 'ContactId')).toEqual([{ campaign: 'spring-launch', status: 'Responded' }]);

    await submitForm(email, NEWSLETTER, { pageName: 'Webinar' });
    await eventually(
      async () =>
        ((await h.rep.sobject('Contact').retrieve(result.contactId)) as Record<string, unknown>).Last_Touch_Channel__c === 'Email',
      20_000,
      'the last touch on the Contact',
    );
    expect(await h.rep.sobject('Contact').retrieve(result.contactId)).toMatchObject({
      First_Touch_Channel__c: 'Paid Search',
      Last_Touch_Campaign__c: 'may-newsletter',
    });
    await eventually(
      async () => (await membershipsOf(result.contactId, 'ContactId')).length === 2,
      10_000,
      'the Contact joining may-newsletter',
    );
  });

  it('credits won revenue per campaign under first-touch, last-touch, linear and position-based models that each sum to the revenue', async () => {
    const since = new Date(Date.now() - 60_000);
    const { email, contactId, lead } = await paidSearchLead();
    for (const [page, campaign] of [
      [NEWSLETTER, 'may-newsletter'],
      [RETARGETING, 'q3-retarget'],
    ] as const) {
      await submitForm(email, page);
      await eventually(
        async () => (await stampedLead(`Id = '${lead.Id}'`))?.Last_Touch_Campaign__c === campaign,
        20_000,
        `the ${campaign} touch`,
      );
    }
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const { opportunityId } = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
    await h.rep.sobject('Opportunity').update({ Id: opportunityId, Amount: 12345.67, StageName: 'Closed Won' });
    await eventually(
      async () => (await h.app.db.query('SELECT 1 FROM record_links WHERE salesforce_opportunity_id = $1', [opportunityId])).length === 1,
      20_000,
      'the Opportunity linked',
    );

    const touches = await h.app.db.query<{ campaign: string; page_url: string }>(
      'SELECT campaign, page_url FROM attribution_touches WHERE hubspot_contact_id = $1 ORDER BY occurred_at',
      [contactId],
    );
    expect(touches.map((t) => t.campaign)).toEqual(['spring-launch', 'may-newsletter', 'q3-retarget']);
    expect(touches.map((t) => t.page_url)).toEqual([SPRING, NEWSLETTER, RETARGETING]);

    // The live sync records the won deal: no backfill needed.
    await eventually(
      async () =>
        (await h.app.db.query("SELECT 1 FROM deals WHERE salesforce_opportunity_id = $1 AND status = 'won'", [opportunityId])).length === 1,
      20_000,
      'the won deal recorded',
    );
    // The shared report credits the win to each campaign touched before it, under every model.
    const report = await funnelReport(direct.db, {
      installationId: direct.installationId,
      from: since,
      to: new Date(Date.now() + 366 * 86_400_000),
    });
    expect(report.totals.wonCents).toBe(1_234_567);
    for (const model of CREDIT_MODELS) expect(report.revenueCredit.reduce((sum, row) => sum + row.credit[model], 0)).toBe(1_234_567);
    const credit = (model: CreditModel): { campaign: string; amountCents: number }[] =>
      report.revenueCredit
        .map((row) => ({ campaign: row.campaign, amountCents: row.credit[model] }))
        .filter((row) => row.amountCents !== 0)
        .sort((a, b) => b.amountCents - a.amountCents || a.campaign.localeCompare(b.campaign));
    expect(credit('first_touch')).toEqual([{ campaign: 'spring-launch', amountCents: 1_234_567 }]);
    expect(credit('last_touch')).toEqual([{ campaign: 'q3-retarget', amountCents: 1_234_567 }]);
    expect(credit('linear')).toEqual([
      { campaign: 'spring-launch', amountCents: 411_523 },
      { campaign: 'may-newsletter', amountCents: 411_522 },
      { campaign: 'q3-retarget', amountCents: 411_522 },
    ]);
    expect(credit('position_based')).toEqual([
      { campaign: 'q3-retarget', amountCents: 493_827 },
      { campaign: 'spring-launch', amountCents: 493_827 },
      { campaign: 'may-newsletter', amountCents: 246_913 },
    ]);
  });

  it('backfills contacts and Leads that predate the installation, reporting progress on the job', async () => {
    const paid = uniqueEmail('old-paid');
    const news = uniqueEmail('old-news');
    const repEmail = uniqueEmail('old-rep');
    const { bare, salesMade, tradeShow, matched } = await unseenByTheApp(async () => {
      await submitForm(paid, SPRING);
      await submitForm(news, NEWSLETTER);
      const bareContact = String(
        h.hubspotSandbox.createInUi('contacts', { email: uniqueEmail('old-bare'), firstname: 'No', lastname: 'History' }).id,
      );
      const lead = async (fields: Record<string, string>) =>
        ((await h.rep.sobject('Lead').create({ LastName: 'Before', Company: 'Old Co', ...fields })) as { id: string }).id;
      return {
        bare: bareContact,
        salesMade: await lead({ Email: repEmail }),
        tradeShow: await lead({ Email: uniqueEmail('old-show'), LeadSource: 'Trade Show' }),
        matched: await lead({ Email: paid }),
      };
    });
    expect((await contactByEmail(paid)).properties.attribution_first_channel).toBeNull();

    const { runId } = await startAttributionBackfill({ db: h.app.db, producer: h.app.producer }, direct.installationId);
    let progress: BackfillProgress | null = null;
    await eventually(
      async () => {
        progress = await backfillProgress(h.app.db, runId);
        return progress?.status === 'completed';
      },
      40_000,
      'the backfill to complete',
    );
    const final = progress as unknown as BackfillProgress;
    expect(final.done).toBe(final.total);
    expect(final.done).toBeGreaterThanOrEqual(6);
    expect(final.etaS).toBe(0);
    expect(final.ratePerS).toBeGreaterThan(0);
    const job = await h.app.producer.queue('attributionBackfill').getJob(`attribution-backfill-${runId}`);
    expect(job?.progress).toEqual({ done: final.done, total: final.total, ratePerS: final.ratePerS, etaS: 0 });

    expect((await contactByEmail(paid)).properties).toMatchObject({
      attribution_first_channel: 'Paid Search',
      attribution_first_campaign: 'spring-launch',
    });
    expect((await contactByEmail(news)).properties).toMatchObject({
      attribution_first_channel: 'Email',
      attribution_first_campaign: 'may-newsletter',
    });
    expect((await h.hubspot.crm.contacts.basicApi.getById(bare, HUBSPOT_STAMP)).properties.attribution_first_channel).toBe('Unassigned');
    expect(await stampedLead(`Id = '${salesMade}'`)).toMatchObject({ First_Touch_Channel__c: 'Sales-sourced', LeadSource: 'Other' });
    expect(await stampedLead(`Id = '${tradeShow}'`)).toMatchObject({ First_Touch_Channel__c: 'Events', LeadSource: 'Trade Show' });
    expect(await stampedLead(`Id = '${matched}'`)).toMatchObject({
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Campaign__c: 'spring-launch',
      LeadSource: 'Web',
    });
    expect(await membershipsOf(matched)).toEqual([{ campaign: 'spring-launch', status: 'Responded' }]);
    const logged = await h.app.db.query("SELECT 1 FROM sync_log WHERE action = 'stamp_attribution' AND details->>'backfillRun' = $1", [
      runId,
    ]);
    expect(logged.length).toBeGreaterThanOrEqual(5);
    // The stamps' own Outbound Messages are the app's writes: an old sales-only Lead is not copied to HubSpot.
    await quiet();
    await expect(contactByEmail(repEmail)).rejects.toMatchObject({ code: 404 });
  });

  it('resumes an interrupted backfill from its saved cursor without reading a page twice, and a second run changes nothing', async () => {
    const created = await unseenByTheApp(async () =>
      Array.from({ length: 250 }, (_, i) =>
        String(h.hubspotSandbox.createInUi('contacts', { email: uniqueEmail(`bulk${i}-`), lastname: `Bulk ${i}` }).id),
      ),
    );
    const contacts = await direct.hubspot.countContacts();
    const listCalls = () => h.hubspotSandbox.stats().endpoints['GET /crm/v3/objects/contacts'] ?? 0;
    const before = listCalls();

    const runId = await createAttributionBackfillRun(h.app.db, direct.installationId);
    await expect(runAttributionBackfill(direct, runId, async () => Promise.reject(new Error('the worker was killed')))).rejects.toThrow(
      'the worker was killed',
    );
    expect(await backfillProgress(h.app.db, runId)).toMatchObject({ status: 'running', phase: 'contacts', done: 200 });

    const final = await runAttributionBackfill(direct, runId, async () => undefined);
    expect(final).toMatchObject({ status: 'completed', done: final.total });
    expect(listCalls() - before).toBe(Math.ceil(contacts / 100));
    const sample = await h.hubspot.crm.contacts.batchApi.read({
      inputs: created.slice(-100).map((id) => ({ id })),
      properties: ['attribution_first_channel'],
      propertiesWithHistory: [],
    });
    expect(new Set(sample.results.map((c) => c.properties.attribution_first_channel))).toEqual(new Set(['Unassigned']));

    const again = await runAttributionBackfill(
      direct,
      await createAttributionBackfillRun(h.app.db, direct.installationId),
      async () => undefined,
    );
    expect(again).toMatchObject({ status: 'completed', stampedContacts: 0, stampedLeads: 0, failed: 0 });
  });
});

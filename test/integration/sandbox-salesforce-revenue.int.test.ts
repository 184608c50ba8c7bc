/**
 * The revenue side of the sandbox Salesforce org through the real jsforce client: campaign cost
 * fields and the statistics the platform keeps on each Campaign, the Account size fields reached
 * from an Opportunity, and the Opportunity fields a won deal is reported by.
 */
import type { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import { createdId, sandboxOrgPerTest } from '../support/salesforce-org.ts';

interface CampaignStatistics {
  NumberOfLeads: number;
  NumberOfConvertedLeads: number;
  NumberOfContacts: number;
  NumberOfResponses: number;
  NumberOfOpportunities: number;
  NumberOfWonOpportunities: number;
  AmountAllOpportunities: number;
  AmountWonOpportunities: number;
}

const STATISTICS =
  'NumberOfLeads, NumberOfConvertedLeads, NumberOfContacts, NumberOfResponses, NumberOfOpportunities, NumberOfWonOpportunities, AmountAllOpportunities, AmountWonOpportunities';

let integration: Connection;
/** The org's administrator, a Marketing User (campaigns need one). */
let admin: Connection;

sandboxOrgPerTest((org) => {
  ({ integration, admin } = org);
});
const created = createdId;

async function statistics(campaignId: string): Promise<CampaignStatistics> {
  const [row] = (
    await integration.query<CampaignStatistics & { Id: string }>(`SELECT Id, ${STATISTICS} FROM Campaign WHERE Id = '${campaignId}'`)
  ).records;
  if (!row) throw new Error('campaign not found');
  const { Id: _id, attributes: _attributes, ...rest } = row as CampaignStatistics & { Id: string; attributes?: unknown };
  return rest;
}

describe('campaign cost fields', () => {
  it('are written by a Marketing User and read back through REST and SOQL', async () => {
    const campaignId = await created(admin, 'Campaign', {
      Name: 'Webinar Q3',
      BudgetedCost: 12000,
      ActualCost: 9500,
      ExpectedRevenue: 60000,
      ExpectedResponse: 2.5,
      NumberSent: 4000,
    });
    await admin.sobject('Campaign').update({ Id: campaignId, ActualCost: 10250 });
    const record = (await integration.sobject('Campaign').retrieve(campaignId)) as unknown as Record<string, unknown>;
    expect(record).toMatchObject({
      BudgetedCost: 12000,
      ActualCost: 10250,
      ExpectedRevenue: 60000,
      ExpectedResponse: 2.5,
      NumberSent: 4000,
    });
    const rows = await integration.query<{ ActualCost: number }>(`SELECT ActualCost FROM Campaign WHERE ActualCost > 10000`);
    expect(rows.records.map((r) => r.ActualCost)).toEqual([10250]);
  });

  it('are described as editable currency, percent and double fields, and the statistics as read-only', async () => {
    const described = await admin.sobject('Campaign').describe();
    const field = (name: string) => described.fields.find((f) => f.name === name);
    expect(field('ActualCost')).toMatchObject({
      type: 'currency',
      precision: 18,
      scale: 0,
      createable: true,
      updateable: true,
      nillable: true,
      permissionable: true,
    });
    expect(field('ExpectedResponse')).toMatchObject({ type: 'percent', precision: 10, scale: 2, updateable: true });
    expect(field('NumberSent')).toMatchObject({ type: 'double', precision: 18, scale: 0, updateable: true });
    expect(field('NumberOfLeads')).toMatchObject({ type: 'int', digits: 9, createable: false, updateable: false, permissionable: false });
    expect(field('AmountWonOpportunities')).toMatchObject({ type: 'currency', createable: false, updateable: false });
  });

  it('refuses a write to a campaign statistic', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Trade show' });
    await expect(admin.sobject('Campaign').update({ Id: campaignId, NumberOfLeads: 5 })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    });
  });
});

describe('campaign statistics', () => {
  it('start at zero', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Empty' });
    expect(await statistics(campaignId)).toEqual({
      NumberOfLeads: 0,
      NumberOfConvertedLeads: 0,
      NumberOfContacts: 0,
      NumberOfResponses: 0,
      NumberOfOpportunities: 0,
      NumberOfWonOpportunities: 0,
      AmountAllOpportunities: 0,
      AmountWonOpportunities: 0,
    });
  });

  it('count lead and contact members and their responses as members come, change status and go', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Newsletter' });
    const leads = await Promise.all(
      ['Ada', 'Ben', 'Cy'].map((name) => created(integration, 'Lead', { LastName: name, Company: `${name} Ltd` })),
    );
    const accountId = await created(integration, 'Account', { Name: 'Dee Corp' });
    const contactId = await created(integration, 'Contact', { LastName: 'Dee', AccountId: accountId });
    const members = await Promise.all(
      [...leads.map((LeadId) => ({ LeadId })), { ContactId: contactId }].map((who) =>
        created(integration, 'CampaignMember', { CampaignId: campaignId, ...who }),
      ),
    );
    expect(await statistics(campaignId)).toMatchObject({ NumberOfLeads: 3, NumberOfContacts: 1, NumberOfResponses: 0 });

    await integration.sobject('CampaignMember').update({ Id: members[0] ?? '', Status: 'Responded' });
    await integration.sobject('CampaignMember').update({ Id: members[3] ?? '', Status: 'Responded' });
    expect(await statistics(campaignId)).toMatchObject({ NumberOfLeads: 3, NumberOfContacts: 1, NumberOfResponses: 2 });

    await integration.sobject('CampaignMember').destroy(members[1] ?? '');
    await integration.sobject('Lead').destroy(leads[0] ?? '');
    expect(await statistics(campaignId)).toMatchObject({ NumberOfLeads: 1, NumberOfContacts: 1, NumberOfResponses: 1 });
  });

  it('keep a converted lead in the lead count, add it to the converted and contact counts, and count its response once', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Webinar' });
    const leadId = await created(integration, 'Lead', { LastName: 'Eve', Company: 'Eve Inc' });
    const memberId = await created(integration, 'CampaignMember', { CampaignId: campaignId, LeadId: leadId });
    await integration.sobject('CampaignMember').update({ Id: memberId, Status: 'Responded' });
    const result = await integration.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted', doNotCreateOpportunity: true });
    expect(result.success).toBe(true);
    // Members listed on the campaign = leads − converted leads + contacts (Help article 003964576).
    expect(await statistics(campaignId)).toMatchObject({
      NumberOfLeads: 1,
      NumberOfConvertedLeads: 1,
      NumberOfContacts: 1,
      NumberOfResponses: 1,
    });
  });

  it('count and sum the opportunities whose primary campaign it is, all and won, as they move, change amount and leave', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Paid search' });
    const otherId = await created(admin, 'Campaign', { Name: 'Display' });
    const accountId = await created(integration, 'Account', { Name: 'Globex' });
    const opportunity = (name: string, amount: number | null, stage: string) =>
      created(integration, 'Opportunity', {
        Name: name,
        AccountId: accountId,
        CampaignId: campaignId,
        StageName: stage,
        CloseDate: '2026-11-30',
        Amount: amount,
      });
    const open = await opportunity('Open', 1000, 'Prospecting');
    const won = await opportunity('Won', 2500.5, 'Closed Won');
    await opportunity('Lost', 400, 'Closed Lost');
    await opportunity('No amount', null, 'Closed Won');
    expect(await statistics(campaignId)).toMatchObject({
      NumberOfOpportunities: 4,
      NumberOfWonOpportunities: 2,
      AmountAllOpportunities: 3900.5,
      AmountWonOpportunities: 2500.5,
    });

    await integration.sobject('Opportunity').update({ Id: open, StageName: 'Closed Won', Amount: 1200 });
    await integration.sobject('Opportunity').update({ Id: won, CampaignId: otherId });
    expect(await statistics(campaignId)).toMatchObject({
      NumberOfOpportunities: 3,
      NumberOfWonOpportunities: 2,
      AmountAllOpportunities: 1600,
      AmountWonOpportunities: 1200,
    });
    expect(await statistics(otherId)).toMatchObject({
      NumberOfOpportunities: 1,
      NumberOfWonOpportunities: 1,
      AmountWonOpportunities: 2500.5,
    });

    await integration.sobject('Opportunity').destroy(open);
    expect(await statistics(campaignId)).toMatchObject({
      NumberOfOpportunities: 2,
      NumberOfWonOpportunities: 1,
      AmountAllOpportunities: 400,
      AmountWonOpportunities: 0,
    });
  });

  it('change without touching the campaign’s LastModifiedDate', async () => {
    const campaignId = await created(admin, 'Campaign', { Name: 'Quiet' });
    const before = (await integration.sobject('Campaign').retrieve(campaignId)) as unknown as {
      LastModifiedDate: string;
      SystemModstamp: string;
    };
    const leadId = await created(integration, 'Lead', { LastName: 'Fay', Company: 'Fay plc' });
    await created(integration, 'CampaignMember', { CampaignId: campaignId, LeadId: leadId });
    const after = (await integration.sobject('Campaign').retrieve(campaignId)) as unknown as {
      LastModifiedDate: string;
      SystemModstamp: string;
      NumberOfLeads: number;
    };
    expect(after.NumberOfLeads).toBe(1);
    expect(after.LastModifiedDate).toBe(before.LastModifiedDate);
    expect(after.SystemModstamp).toBe(before.SystemModstamp);
  });
});

describe('account size and opportunity fields for revenue reports', () => {
  it('reach the account size fields from an opportunity through the Account relationship', async () => {
    const accountId = await created(integration, 'Account', {
      Name: 'Initech',
      Industry: 'Technology',
      Type: 'Customer - Direct',
      NumberOfEmployees: 850,
      AnnualRevenue: 120000000,
    });
    await created(integration, 'Opportunity', {
      Name: 'Initech - New',
      AccountId: accountId,
      StageName: 'Closed Won',
      CloseDate: '2026-08-15',
      Amount: 48000,
      Type: 'New Customer',
    });
    const rows = await integration.query<{
      Amount: number;
      Type: string;
      Account: { NumberOfEmployees: number; AnnualRevenue: number; Industry: string; Type: string };
    }>(
      'SELECT Amount, Type, Account.NumberOfEmployees, Account.AnnualRevenue, Account.Industry, Account.Type FROM Opportunity WHERE IsWon = true AND Account.NumberOfEmployees >= 500',
    );
    expect(rows.records).toHaveLength(1);
    expect(rows.records[0]).toMatchObject({
      Amount: 48000,
      Type: 'New Customer',
      Account: { NumberOfEmployees: 850, AnnualRevenue: 120000000, Industry: 'Technology', Type: 'Customer - Direct' },
    });
  });

  it('gives the fiscal period of the close date, and follows it when the close date moves', async () => {
    const accountId = await created(integration, 'Account', { Name: 'Hooli' });
    const id = await created(integration, 'Opportunity', {
      Name: 'Hooli',
      AccountId: accountId,
      StageName: 'Prospecting',
      CloseDate: '2026-08-15',
    });
    const fiscal = async () =>
      (await integration.sobject('Opportunity').retrieve(id)) as unknown as { Fiscal: string; FiscalQuarter: number; FiscalYear: number };
    expect(await fiscal()).toMatchObject({ Fiscal: '2026 3', FiscalQuarter: 3, FiscalYear: 2026 });
    await integration.sobject('Opportunity').update({ Id: id, CloseDate: '2027-01-02' });
    expect(await fiscal()).toMatchObject({ Fiscal: '2027 1', FiscalQuarter: 1, FiscalYear: 2027 });
  });

  it('leaves LastStageChangeDate empty on a new opportunity and stamps it when the stage changes, not on other edits', async () => {
    const accountId = await created(integration, 'Account', { Name: 'Umbrella' });
    const id = await created(integration, 'Opportunity', {
      Name: 'Umbrella',
      AccountId: accountId,
      StageName: 'Prospecting',
      CloseDate: '2026-08-15',
    });
    const read = async () =>
      (await integration.sobject('Opportunity').retrieve(id)) as unknown as {
        LastStageChangeDate: string | null;
        LastModifiedDate: string;
      };
    expect((await read()).LastStageChangeDate).toBeNull();
    await integration.sobject('Opportunity').update({ Id: id, Amount: 5000 });
    expect((await read()).LastStageChangeDate).toBeNull();
    await integration.sobject('Opportunity').update({ Id: id, StageName: 'Closed Won' });
    const changed = await read();
    expect(changed.LastStageChangeDate).toBe(changed.LastModifiedDate);
    await expect(
      integration.sobject('Opportunity').update({ Id: id, LastStageChangeDate: '2026-01-01T00:00:00.000Z' }),
    ).rejects.toMatchObject({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE' });
  });
});

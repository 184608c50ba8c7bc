/** Lead conversion through jsforce's `conn.soap.convertLead` against the sandbox Salesforce org. */
import type { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { grantFieldAccess } from '../support/salesforce-access.ts';
import { setMarketingUser } from '../support/salesforce-marketing.ts';
import { sandboxOrgPerTest } from '../support/salesforce-org.ts';

type Row = Record<string, unknown>;

let sandbox: SalesforceSandbox;
let conn: Connection;
let clock = Date.parse('2025-05-14T09:00:00.000Z');

async function createLead(fields: Row = {}): Promise<string> {
  const result = await conn
    .sobject('Lead')
    .create({ FirstName: 'Pat', LastName: 'Lee', Company: 'Acme', Email: 'pat@acme.test', LeadSource: 'Web', ...fields });
  return result.id ?? '';
}

async function customField(object: string, name: string): Promise<void> {
  await conn.tooling
    .sobject('CustomField')
    .create({ FullName: `${object}.${name}`, Metadata: { type: 'Text', label: name.replace('__c', ''), length: 80 } });
  await grantFieldAccess(conn, [`${object}.${name}`]);
}

sandboxOrgPerTest(
  (org) => {
    ({ sandbox, integration: conn } = org);
  },
  { now: () => clock, apiVersion: '60.0' },
);

describe('convertLead', () => {
  it('creates account, contact and opportunity and marks the lead converted', async () => {
    const leadId = await createLead({ Title: 'CTO', Phone: '+1 555 0100' });
    const result = await conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    expect(result).toMatchObject({ success: true, leadId, errors: [] });
    expect(result.accountId).toMatch(/^001/);
    expect(result.contactId).toMatch(/^003/);
    expect(result.opportunityId).toMatch(/^006/);
    const lead = await conn.sobject('Lead').retrieve(leadId);
    expect(lead).toMatchObject({
      IsConverted: true,
      Status: 'Closed - Converted',
      ConvertedDate: '2025-05-14',
      ConvertedAccountId: result.accountId,
      ConvertedContactId: result.contactId,
      ConvertedOpportunityId: result.opportunityId,
    });
    expect(await conn.sobject('Account').retrieve(result.accountId ?? '')).toMatchObject({
      Name: 'Acme',
      Phone: '+1 555 0100',
      AccountSource: 'Web',
      OwnerId: lead.OwnerId,
    });
    expect(await conn.sobject('Contact').retrieve(result.contactId ?? '')).toMatchObject({
      Name: 'Pat Lee',
      Title: 'CTO',
      Email: 'pat@acme.test',
      LeadSource: 'Web',
      AccountId: result.accountId,
    });
    expect(await conn.sobject('Opportunity').retrieve(result.opportunityId ?? '')).toMatchObject({
      Name: 'Acme-',
      StageName: 'Prospecting',
      CloseDate: '2025-06-30',
      IsClosed: false,
      LeadSource: 'Web',
      AccountId: result.accountId,
    });
    const viaQuery = await conn.query<Row>(`SELECT ConvertedContact.Email FROM Lead WHERE Id = '${leadId}'`);
    expect((viaQuery.records[0]?.ConvertedContact as Row).Email).toBe('pat@acme.test');
  });

  it('copies matching custom fields and moves campaign memberships to the contact', async () => {
    await customField('Lead', 'First_Touch_Channel__c');
    await customField('Contact', 'First_Touch_Channel__c');
    await customField('Opportunity', 'First_Touch_Channel__c');
    const leadId = await createLead({ First_Touch_Channel__c: 'Paid Search' });
    await setMarketingUser(sandbox, sandbox.integrationUserId);
    const [older, newer] = await conn.sobject('Campaign').create([{ Name: 'Spring Webinar' }, { Name: 'Summer Ads' }]);
    await conn.sobject('CampaignMember').create({ CampaignId: older?.id, LeadId: leadId, Status: 'Responded' });
    clock += 60_000;
    await conn.sobject('CampaignMember').create({ CampaignId: newer?.id, LeadId: leadId });
    const result = await conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted', opportunityName: 'Acme - New Business' });
    const contact = await conn.sobject('Contact').retrieve(result.contactId ?? '');
    expect(contact.First_Touch_Channel__c).toBe('Paid Search');
    const opportunity = await conn.sobject('Opportunity').retrieve(result.opportunityId ?? '');
    expect(opportunity).toMatchObject({ Name: 'Acme - New Business', First_Touch_Channel__c: 'Paid Search', CampaignId: newer?.id });
    const members = await conn.query<Row>(
      `SELECT Campaign.Name, LeadId, ContactId FROM CampaignMember WHERE ContactId = '${result.contactId ?? ''}' ORDER BY Campaign.Name`,
    );
    expect(members.records.map((m) => [(m.Campaign as Row).Name, m.LeadId, m.ContactId])).toEqual([
      ['Spring Webinar', leadId, result.contactId],
      ['Summer Ads', leadId, result.contactId],
    ]);
  });

  it('skips the opportunity when doNotCreateOpportunity is set and merges into a given account', async () => {
    const [account] = await conn.sobject('Account').create([{ Name: 'Existing Acme', Website: 'https://acme.test' }]);
    const leadId = await createLead({ Website: 'https://other.test', City: 'Lyon' });
    const result = await conn.soap.convertLead({
      leadId,
      convertedStatus: 'Closed - Converted',
      accountId: account?.id,
      doNotCreateOpportunity: true,
    });
    expect(result).toMatchObject({ success: true, accountId: account?.id, opportunityId: null });
    expect(await conn.sobject('Account').retrieve(account?.id ?? '')).toMatchObject({
      Name: 'Existing Acme',
      Website: 'https://acme.test',
      BillingCity: 'Lyon',
    });
    expect(await conn.sobject('Opportunity').count()).toBe(0);
  });

  it('refuses to update a converted lead', async () => {
    const leadId = await createLead();
    await conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    await expect(conn.sobject('Lead').update({ Id: leadId, Title: 'x' })).rejects.toMatchObject({
      errorCode: 'CANNOT_UPDATE_CONVERTED_LEAD',
    });
    const again = await conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    expect(again).toMatchObject({ success: false, errors: [{ statusCode: 'CANNOT_UPDATE_CONVERTED_LEAD' }] });
  });

  it('refuses a status that is not a converted status and changes nothing', async () => {
    const leadId = await createLead();
    const result = await conn.soap.convertLead({ leadId, convertedStatus: 'Working - Contacted' });
    expect(result).toMatchObject({
      success: false,
      accountId: null,
      contactId: null,
      errors: [{ statusCode: 'INVALID_STATUS', message: 'invalid convertedStatus: Working - Contacted' }],
    });
    expect(await conn.sobject('Account').count()).toBe(0);
    expect((await conn.sobject('Lead').retrieve(leadId)).IsConverted).toBe(false);
  });

  it('converts several leads in one call with a result each', async () => {
    const ok = await createLead();
    const results = await conn.soap.convertLead([
      { leadId: ok, convertedStatus: 'Closed - Converted' },
      { leadId: '00Q000000009999EAA', convertedStatus: 'Closed - Converted' },
    ]);
    expect(results.map((r) => r.success)).toEqual([true, false]);
  });

  it('answers an expired SOAP session with INVALID_SESSION_ID, then jsforce logs in again and converts', async () => {
    const leadId = await createLead();
    sandbox.expireSessions();
    const refreshed = new Promise<void>((resolve) => conn.on('refresh', () => resolve()));
    await expect(conn.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' })).resolves.toMatchObject({ success: true });
    await refreshed;
  });
});

/**
 * Campaigns in the sandbox Salesforce org through the real jsforce client, as users with and
 * without the Marketing User checkbox: who may write Campaigns and their member statuses, the
 * statuses a new Campaign starts with, and campaign members whose status comes from their campaign.
 */
import type { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { sandboxOrgPerTest, sessionAs } from '../support/salesforce-org.ts';

interface StatusRow {
  Id: string;
  Label: string;
  HasResponded: boolean;
  IsDefault: boolean;
  SortOrder: number | null;
}

interface MemberRow {
  Id: string;
  Status: string | null;
  HasResponded: boolean;
  FirstRespondedDate: string | null;
}

let sandbox: SalesforceSandbox;
/** The connected app's session: the integration user, without Marketing User in a fresh org. */
let integration: Connection;
/** The org's administrator, a Marketing User. */
let admin: Connection;
/** A sales rep, not a Marketing User. */
let rep: Connection;

const as = (userId: string): Connection => sessionAs(sandbox, userId);

sandboxOrgPerTest((org) => {
  ({ sandbox, integration, admin } = org);
  rep = as(sandbox.salesRepIds[0] ?? '');
});

async function createCampaign(conn: Connection, name: string): Promise<string> {
  const created = await conn.sobject('Campaign').create({ Name: name, IsActive: true });
  if (!created.success) throw new Error(`campaign not created: ${JSON.stringify(created)}`);
  return created.id;
}

async function statusesOf(conn: Connection, campaignId: string): Promise<StatusRow[]> {
  return (
    await conn.query<StatusRow>(
      `SELECT Id, Label, HasResponded, IsDefault, SortOrder FROM CampaignMemberStatus WHERE CampaignId = '${campaignId}' ORDER BY SortOrder`,
    )
  ).records.map(({ Id, Label, HasResponded, IsDefault, SortOrder }) => ({ Id, Label, HasResponded, IsDefault, SortOrder }));
}

async function newLead(lastName: string): Promise<string> {
  const created = await rep.sobject('Lead').create({ LastName: lastName, Company: 'Acme' });
  return created.id ?? '';
}

async function member(id: string): Promise<MemberRow> {
  const row = (await integration.sobject('CampaignMember').retrieve(id)) as unknown as MemberRow;
  return { Id: row.Id, Status: row.Status, HasResponded: row.HasResponded, FirstRespondedDate: row.FirstRespondedDate };
}

describe('the Marketing User checkbox', () => {
  it('is ticked for the first administrator only, and readable through SOQL', async () => {
    const users = await admin.query<{ Id: string; UserPermissionsMarketingUser: boolean }>(
      'SELECT Id, UserPermissionsMarketingUser FROM User',
    );
    const marketing = users.records.filter((u) => u.UserPermissionsMarketingUser).map((u) => u.Id);
    expect(marketing).toEqual([sandbox.adminUserId]);
    expect(users.records.find((u) => u.Id === sandbox.integrationUserId)?.UserPermissionsMarketingUser).toBe(false);
    const field = (await admin.describe('User')).fields.find((f) => f.name === 'UserPermissionsMarketingUser');
    expect(field).toMatchObject({ type: 'boolean', label: 'Marketing User', createable: true, updateable: true });
  });

  it('refuses a Campaign from a user without it with INVALID_TYPE_FOR_OPERATION, on REST and Collections alike', async () => {
    await expect(integration.sobject('Campaign').create({ Name: 'Spring Webinar' })).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
      message: 'entity type cannot be inserted: Campaign',
    });
    const raw = await fetch(`${sandbox.url}/services/data/v62.0/sobjects/Campaign`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${rep.accessToken ?? ''}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ Name: 'Spring Webinar' }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual([{ errorCode: 'INVALID_TYPE_FOR_OPERATION', message: 'entity type cannot be inserted: Campaign' }]);
    const batch = await integration.sobject('Campaign').create([{ Name: 'A' }, { Name: 'B' }]);
    expect(batch.map((r) => [r.success, r.errors])).toEqual([
      [false, [{ statusCode: 'INVALID_TYPE_FOR_OPERATION', message: 'entity type cannot be inserted: Campaign', fields: [] }]],
      [false, [{ statusCode: 'INVALID_TYPE_FOR_OPERATION', message: 'entity type cannot be inserted: Campaign', fields: [] }]],
    ]);
    expect((await admin.query('SELECT Id FROM Campaign')).totalSize).toBe(0);
  });

  it('refuses editing and deleting a Campaign without it, while reading stays open', async () => {
    const id = await createCampaign(admin, 'Spring Webinar');
    await expect(integration.sobject('Campaign').update({ Id: id, IsActive: false })).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
      message: 'entity type cannot be updated: Campaign',
    });
    await expect(rep.sobject('Campaign').destroy(id)).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
      message: 'entity type cannot be deleted: Campaign',
    });
    expect(await rep.query<{ Name: string; IsActive: boolean }>('SELECT Name, IsActive FROM Campaign')).toMatchObject({
      records: [{ Name: 'Spring Webinar', IsActive: true }],
    });
  });

  it('describes Campaign and CampaignMemberStatus as read-only to a user without it', async () => {
    for (const type of ['Campaign', 'CampaignMemberStatus']) {
      const seen = await integration.describe(type);
      expect(seen).toMatchObject({ createable: false, updateable: false, deletable: false, queryable: true });
      expect(seen.fields.filter((f) => f.createable || f.updateable).map((f) => f.name)).toEqual([]);
      const adminSees = await admin.describe(type);
      expect(adminSees).toMatchObject({ createable: true, updateable: true, deletable: true });
      expect(adminSees.fields.find((f) => f.name === (type === 'Campaign' ? 'Name' : 'Label'))).toMatchObject({
        createable: true,
        updateable: true,
      });
    }
    const global = await integration.describeGlobal();
    expect(global.sobjects.find((s) => s.name === 'Campaign')).toMatchObject({ createable: false });
  });

  it('lets the integration user create Campaigns once an admin ticks it through REST', async () => {
    await admin.sobject('User').update({ Id: sandbox.integrationUserId, UserPermissionsMarketingUser: true });
    expect((await integration.describe('Campaign')).createable).toBe(true);
    const id = await createCampaign(integration, 'Spring Webinar');
    await expect(integration.sobject('Campaign').update({ Id: id, Status: 'In Progress' })).resolves.toMatchObject({ success: true });
    await admin.sobject('User').update({ Id: sandbox.integrationUserId, UserPermissionsMarketingUser: false });
    await expect(integration.sobject('Campaign').destroy(id)).rejects.toMatchObject({ errorCode: 'INVALID_TYPE_FOR_OPERATION' });
  });
});

describe('member statuses', () => {
  it('gives a new Campaign the statuses Sent (the default) and Responded (counted as responded)', async () => {
    const id = await createCampaign(admin, 'Spring Webinar');
    expect((await statusesOf(rep, id)).map(({ Id: _id, ...row }) => row)).toEqual([
      { Label: 'Sent', HasResponded: false, IsDefault: true, SortOrder: 1 },
      { Label: 'Responded', HasResponded: true, IsDefault: false, SortOrder: 2 },
    ]);
    const nested = await rep.query<{ Name: string; CampaignMemberStatuses: { records: { Label: string }[] } }>(
      `SELECT Name, (SELECT Label FROM CampaignMemberStatuses ORDER BY SortOrder DESC) FROM Campaign WHERE Id = '${id}'`,
    );
    expect(nested.records[0]?.CampaignMemberStatuses.records.map((s) => s.Label)).toEqual(['Responded', 'Sent']);
  });

  it('creates, updates and queries statuses through REST and Collections, one default and one label per campaign', async () => {
    const id = await createCampaign(admin, 'Partner Event');
    const registered = await admin.sobject('CampaignMemberStatus').create({ CampaignId: id, Label: 'Registered', SortOrder: 3 });
    expect(registered).toMatchObject({ success: true, id: expect.stringMatching(/^01Y/) });
    const [attended] = await admin
      .sobject('CampaignMemberStatus')
      .create([{ CampaignId: id, Label: 'Attended', HasResponded: true, SortOrder: 4 }], { allOrNone: true });
    expect(attended).toMatchObject({ success: true });
    await admin.sobject('CampaignMemberStatus').update({ Id: registered.id ?? '', IsDefault: true });
    expect((await statusesOf(admin, id)).map((s) => [s.Label, s.IsDefault, s.HasResponded])).toEqual([
      ['Sent', false, false],
      ['Responded', false, true],
      ['Registered', true, false],
      ['Attended', false, true],
    ]);
    await expect(admin.sobject('CampaignMemberStatus').create({ CampaignId: id, Label: 'attended' })).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
      data: { fields: ['Label'] },
    });
    await expect(admin.sobject('CampaignMemberStatus').create({ CampaignId: id, Label: 'No Show', SortOrder: 4 })).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
      data: { fields: ['SortOrder'] },
    });
    await expect(
      admin.sobject('CampaignMemberStatus').update({ Id: attended?.id ?? '', CampaignId: await createCampaign(admin, 'Other') }),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    });
    const described = await admin.describe('CampaignMember');
    expect((described.fields.find((f) => f.name === 'Status')?.picklistValues ?? []).map((p): string => String(p.value))).toEqual([
      'Sent',
      'Responded',
      'Registered',
      'Attended',
    ]);
  });

  it('refuses status writes from a user without Marketing User', async () => {
    const id = await createCampaign(admin, 'Spring Webinar');
    await expect(
      integration.sobject('CampaignMemberStatus').create({ CampaignId: id, Label: 'Form Submitted', HasResponded: true }),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
      message: 'entity type cannot be inserted: Campaign Member Status',
    });
    const [sent] = await statusesOf(rep, id);
    await expect(rep.sobject('CampaignMemberStatus').update({ Id: sent?.Id ?? '', HasResponded: true })).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE_FOR_OPERATION',
      message: 'entity type cannot be updated: Campaign Member Status',
    });
  });

  it('goes to the recycle bin with its Campaign', async () => {
    const id = await createCampaign(admin, 'Spring Webinar');
    await admin.sobject('Campaign').destroy(id);
    expect(await statusesOf(admin, id)).toEqual([]);
    const binned = await admin
      .query<{ IsDeleted: boolean }>(`SELECT IsDeleted FROM CampaignMemberStatus WHERE CampaignId = '${id}'`)
      .scanAll(true);
    expect(binned.records.map((r) => r.IsDeleted)).toEqual([true, true]);
  });
});

describe('campaign members', () => {
  it("gives a member added without a status its campaign's default, not responded", async () => {
    const id = await createCampaign(admin, 'Spring Webinar');
    const created = await rep.sobject('CampaignMember').create({ CampaignId: id, LeadId: await newLead('Lee') });
    expect(await member(created.id ?? '')).toMatchObject({ Status: 'Sent', HasResponded: false, FirstRespondedDate: null });
  });

  it("follows its status's Responded flag, custom statuses included, when created and when changed", async () => {
    const id = await createCampaign(admin, 'Partner Event');
    await admin.sobject('CampaignMemberStatus').create([
      { CampaignId: id, Label: 'Registered', SortOrder: 3 },
      { CampaignId: id, Label: 'Attended', HasResponded: true, SortOrder: 4 },
    ]);
    const attended = await integration
      .sobject('CampaignMember')
      .create({ CampaignId: id, LeadId: await newLead('Kim'), Status: 'Attended' });
    expect(await member(attended.id ?? '')).toMatchObject({
      Status: 'Attended',
      HasResponded: true,
      FirstRespondedDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    const registered = await integration
      .sobject('CampaignMember')
      .create({ CampaignId: id, LeadId: await newLead('Brooks'), Status: 'Registered' });
    expect(await member(registered.id ?? '')).toMatchObject({ Status: 'Registered', HasResponded: false });
    await integration.sobject('CampaignMember').update({ Id: attended.id ?? '', Status: 'Registered' });
    expect(await member(attended.id ?? '')).toMatchObject({
      Status: 'Registered',
      HasResponded: false,
      FirstRespondedDate: expect.any(String),
    });
    const responders = await rep.query(`SELECT Id FROM CampaignMember WHERE CampaignId = '${id}' AND HasResponded = true`);
    expect(responders.totalSize).toBe(0);
  });

  it("refuses a status that is not one of its campaign's, on create and on update", async () => {
    const webinar = await createCampaign(admin, 'Spring Webinar');
    const event = await createCampaign(admin, 'Partner Event');
    await admin.sobject('CampaignMemberStatus').create({ CampaignId: event, Label: 'Attended', HasResponded: true, SortOrder: 3 });
    const code = 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST';
    const message = 'Status: bad value for restricted picklist field: Attended';
    const refusal = { errorCode: code, message, data: { errorCode: code, message, fields: ['Status'] } };
    await expect(
      integration.sobject('CampaignMember').create({ CampaignId: webinar, LeadId: await newLead('Lee'), Status: 'Attended' }),
    ).rejects.toMatchObject(refusal);
    const [result] = await integration
      .sobject('CampaignMember')
      .create([{ CampaignId: webinar, LeadId: await newLead('Kim'), Status: 'Attended' }]);
    expect(result).toMatchObject({ success: false, errors: [{ statusCode: code, message, fields: ['Status'] }] });
    const joined = await integration
      .sobject('CampaignMember')
      .create({ CampaignId: webinar, LeadId: await newLead('Brooks'), Status: 'Responded' });
    await expect(integration.sobject('CampaignMember').update({ Id: joined.id ?? '', Status: 'Attended' })).rejects.toMatchObject(refusal);
    expect(await member(joined.id ?? '')).toMatchObject({ Status: 'Responded', HasResponded: true });
  });

  it("recounts the members holding a status when an admin changes that status's Responded flag", async () => {
    const id = await createCampaign(admin, 'Partner Event');
    const registered = await admin.sobject('CampaignMemberStatus').create({ CampaignId: id, Label: 'Registered', SortOrder: 3 });
    const a = await integration.sobject('CampaignMember').create({ CampaignId: id, LeadId: await newLead('Lee'), Status: 'Registered' });
    const b = await integration.sobject('CampaignMember').create({ CampaignId: id, LeadId: await newLead('Kim') });
    await admin.sobject('CampaignMemberStatus').update({ Id: registered.id ?? '', HasResponded: true });
    expect(await member(a.id ?? '')).toMatchObject({ Status: 'Registered', HasResponded: true, FirstRespondedDate: expect.any(String) });
    expect(await member(b.id ?? '')).toMatchObject({ Status: 'Sent', HasResponded: false });
    const row = (await admin.sobject('CampaignMember').retrieve(a.id ?? '')) as unknown as { LastModifiedById: string };
    expect(row.LastModifiedById).toBe(sandbox.adminUserId);
  });
});

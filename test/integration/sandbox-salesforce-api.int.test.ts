/**
 * The sandbox Salesforce org through the real jsforce client over HTTP: OAuth, record DML and its
 * errors, upsert, sObject Collections, composite, Tooling custom fields, assignment, limits, faults.
 */
import jsforce, { type Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { grantFieldAccess } from '../support/salesforce-access.ts';
import { SANDBOX_ORG, sandboxOrgPerTest } from '../support/salesforce-org.ts';

const ORG = SANDBOX_ORG;
const REDIRECT_URI = 'http://localhost:3000/oauth/salesforce/callback';
const SF_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

let sandbox: SalesforceSandbox;
let conn: Connection;

function oauth2() {
  return { loginUrl: sandbox.url, clientId: ORG.clientId, clientSecret: ORG.clientSecret, redirectUri: REDIRECT_URI };
}

async function login(version = '60.0'): Promise<Connection> {
  const c = new jsforce.Connection({ version, oauth2: oauth2() });
  await c.login(ORG.username, ORG.password);
  return c;
}

async function createExternalIdField(): Promise<void> {
  await conn.tooling.sobject('CustomField').create({
    FullName: 'Lead.HubSpot_Contact_Id__c',
    Metadata: { type: 'Text', label: 'HubSpot Contact Id', length: 64, externalId: true, unique: true },
  });
  await grantFieldAccess(conn, ['Lead.HubSpot_Contact_Id__c']);
}

/** Walks the consent page the way a browser would and returns the authorization code. */
async function authorizationCode(state: string): Promise<string> {
  const page = await fetch(new jsforce.OAuth2(oauth2()).getAuthorizationUrl({ state, scope: 'api refresh_token' }));
  const html = await page.text();
  expect(html).toContain('>Allow</button>');
  const form = new URLSearchParams(
    [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1] ?? '', (m[2] ?? '').replace(/&amp;/g, '&')]),
  );
  form.set('decision', 'allow');
  const answer = await fetch(`${sandbox.url}/services/oauth2/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('state')).toBe(state);
  return location.searchParams.get('code') ?? '';
}

sandboxOrgPerTest(
  (org) => {
    ({ sandbox, integration: conn } = org);
  },
  { apiVersion: '60.0' },
);

describe('OAuth', () => {
  it('logs in with the password grant as the integration user', async () => {
    expect(conn.instanceUrl).toBe(sandbox.url);
    expect(conn.userInfo).toMatchObject({ id: sandbox.integrationUserId, organizationId: ORG.orgId });
    const identity = await conn.identity();
    expect(identity).toMatchObject({
      user_id: sandbox.integrationUserId,
      organization_id: ORG.orgId,
      username: 'integration@sandbox.example.com',
    });
  });

  it('logs in through the SOAP login call when the connection has no client secret', async () => {
    const c = new jsforce.Connection({ loginUrl: sandbox.url, version: '60.0' });
    const info = await c.login(ORG.username, ORG.password);
    expect(info).toMatchObject({ id: sandbox.integrationUserId, organizationId: ORG.orgId });
    await expect(c.query('SELECT Id FROM Lead')).resolves.toMatchObject({ totalSize: 0 });
  });

  it('refuses a wrong password with invalid_grant', async () => {
    const c = new jsforce.Connection({ version: '60.0', oauth2: oauth2() });
    await expect(c.login(ORG.username, 'wrong')).rejects.toMatchObject({ name: 'invalid_grant', message: 'authentication failure' });
  });

  it('issues a refresh token through the consent page and code exchange', async () => {
    const c = new jsforce.Connection({ version: '60.0', oauth2: oauth2() });
    const userInfo = await c.authorize(await authorizationCode('xyz'));
    expect(userInfo.id).toBe(sandbox.integrationUserId);
    expect(c.refreshToken).toMatch(/^5Aep861/);
    expect(c.accessToken).toMatch(/^00D000000000001!/);
  });

  it('answers an expired session with INVALID_SESSION_ID, and jsforce refreshes, replays and emits refresh', async () => {
    const c = new jsforce.Connection({ version: '60.0', oauth2: oauth2() });
    await c.authorize(await authorizationCode('s1'));
    const oldToken = c.accessToken ?? '';
    sandbox.expireSessions();
    const raw = await fetch(`${sandbox.url}/services/data/v60.0/limits`, { headers: { Authorization: `Bearer ${oldToken}` } });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const refreshed = new Promise<string>((resolve) => c.on('refresh', (token: string) => resolve(token)));
    const result = await c.query('SELECT Id FROM User');
    expect(result.totalSize).toBe(7);
    const newToken = await refreshed;
    expect(newToken).not.toBe(oldToken);
    expect(c.accessToken).toBe(newToken);
  });

  it('logs in again on 401 for a password-grant connection and emits refresh', async () => {
    sandbox.expireSessions();
    const refreshed = new Promise<void>((resolve) => conn.on('refresh', () => resolve()));
    await expect(conn.sobject('Lead').create({ LastName: 'Kim', Company: 'Acme' })).resolves.toMatchObject({ success: true });
    await refreshed;
  });

  it('answers userinfo for a live token and nothing after revoke', async () => {
    const headers = { Authorization: `Bearer ${conn.accessToken ?? ''}` };
    const info = (await (await fetch(`${sandbox.url}/services/oauth2/userinfo`, { headers })).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      user_id: sandbox.integrationUserId,
      organization_id: ORG.orgId,
      preferred_username: 'integration@sandbox.example.com',
    });
    await conn.oauth2.revokeToken(conn.accessToken ?? '');
    const after = await fetch(`${sandbox.url}/services/oauth2/userinfo`, { headers });
    expect(after.status).toBe(403);
    expect(await after.text()).toBe('Bad_OAuth_Token');
  });

  it("stamps writes made with a sales rep's own token with that rep's id", async () => {
    const repId = sandbox.salesRepIds[0] ?? '';
    const answer = await fetch(`${sandbox.url}/__sandbox/users/${repId}/token`, { method: 'POST' });
    const { access_token: token } = (await answer.json()) as { access_token: string };
    const rep = new jsforce.Connection({ instanceUrl: sandbox.url, accessToken: token, version: '60.0' });
    const created = await rep.sobject('Lead').create({ LastName: 'Rivera', Company: 'Rep Co' });
    const lead = await conn.sobject('Lead').retrieve(created.id ?? '');
    expect(lead).toMatchObject({ CreatedById: repId, LastModifiedById: repId });
    await conn.sobject('Lead').update({ Id: created.id ?? '', Title: 'CTO' });
    expect(await conn.sobject('Lead').retrieve(created.id ?? '')).toMatchObject({
      CreatedById: repId,
      LastModifiedById: sandbox.integrationUserId,
    });
  });
});

describe('records', () => {
  it('creates, reads, updates and deletes a lead with Salesforce system fields', async () => {
    const created = await conn
      .sobject('Lead')
      .create(
        { FirstName: 'Pat', LastName: 'Lee', Company: 'Acme', Email: 'pat@acme.test' },
        { headers: { 'Sforce-Auto-Assign': 'FALSE' } },
      );
    expect(created.id).toMatch(/^00Q[A-Za-z0-9]{15}$/);
    const id = created.id ?? '';
    const lead = await conn.sobject('Lead').retrieve(id.slice(0, 15));
    expect(lead).toMatchObject({
      attributes: { type: 'Lead', url: `/services/data/v60.0/sobjects/Lead/${id}` },
      Id: id,
      Name: 'Pat Lee',
      Status: 'Open - Not Contacted',
      IsConverted: false,
      IsDeleted: false,
      OwnerId: sandbox.integrationUserId,
      CreatedById: sandbox.integrationUserId,
      LastModifiedById: sandbox.integrationUserId,
    });
    expect(lead.CreatedDate).toMatch(SF_DATETIME);
    expect(lead.SystemModstamp).toMatch(SF_DATETIME);
    await expect(conn.sobject('Lead').update({ Id: id, Status: 'Working - Contacted' })).resolves.toEqual({
      id,
      success: true,
      errors: [],
    });
    expect((await conn.sobject('Lead').retrieve(id)).Status).toBe('Working - Contacted');
    await conn.sobject('Lead').destroy(id);
    await expect(conn.sobject('Lead').retrieve(id)).rejects.toMatchObject({ errorCode: 'ENTITY_IS_DELETED' });
    await expect(conn.sobject('Lead').update({ Id: id, Title: 'x' })).rejects.toMatchObject({ errorCode: 'ENTITY_IS_DELETED' });
  });

  it.each([
    ['a missing required field', { Email: 'a@b.test' }, 'REQUIRED_FIELD_MISSING', ['LastName', 'Company']],
    [
      'a value outside a restricted picklist',
      { LastName: 'A', Company: 'B', Status: 'Qualified' },
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      ['Status'],
    ],
    ['a field the object does not have', { LastName: 'A', Company: 'B', Nope__c: 'x' }, 'INVALID_FIELD', undefined],
    ['a read-only field', { LastName: 'A', Company: 'B', IsConverted: true }, 'INVALID_FIELD_FOR_INSERT_UPDATE', ['IsConverted']],
    ['an invalid email address', { LastName: 'A', Company: 'B', Email: 'not-an-email' }, 'INVALID_EMAIL_ADDRESS', ['Email']],
    ['a malformed reference id', { LastName: 'A', Company: 'B', OwnerId: 'xyz' }, 'MALFORMED_ID', ['OwnerId']],
    [
      'a reference to the wrong object',
      { LastName: 'A', Company: 'B', OwnerId: '001000000000001AAA' },
      'FIELD_INTEGRITY_EXCEPTION',
      ['OwnerId'],
    ],
  ])('refuses %s on create', async (_case, record, errorCode, fields) => {
    const failure = conn.sobject('Lead').create(record as Record<string, unknown>);
    await expect(failure).rejects.toMatchObject({ errorCode, ...(fields ? { data: { errorCode, fields } } : {}) });
  });

  it('answers NOT_FOUND for an id that does not exist', async () => {
    await expect(conn.sobject('Lead').update({ Id: '00Q000000009999EAA', Title: 'x' })).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('describes picklists, stages and the field flags of the standard objects', async () => {
    const lead = await conn.describe('Lead');
    const status = lead.fields.find((f) => f.name === 'Status');
    expect(status).toMatchObject({ type: 'picklist', restrictedPicklist: true, nillable: false, createable: true, updateable: true });
    expect((status?.picklistValues ?? []).map((p): string => String(p.value))).toEqual([
      'Open - Not Contacted',
      'Working - Contacted',
      'Closed - Converted',
      'Closed - Not Converted',
    ]);
    expect((lead.fields.find((f) => f.name === 'LeadSource')?.picklistValues ?? []).map((p): string => String(p.value))).toEqual(
      expect.arrayContaining(['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other']),
    );
    expect(lead.fields.some((f) => f.custom)).toBe(false);
    const member = await conn.describe('CampaignMember');
    expect((member.fields.find((f) => f.name === 'Status')?.picklistValues ?? []).map((p): string => String(p.value))).toEqual([
      'Sent',
      'Responded',
    ]);
    const campaign = await conn.describe('Campaign');
    expect(campaign.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Type', 'Status', 'IsActive']));
    const stages = await conn.query<{ ApiName: string; IsWon: boolean; IsClosed: boolean }>(
      'SELECT ApiName, IsWon, IsClosed FROM OpportunityStage ORDER BY SortOrder',
    );
    expect(stages.records[0]).toMatchObject({ ApiName: 'Prospecting', IsClosed: false });
    expect(stages.records.filter((s) => s.IsWon).map((s) => s.ApiName)).toEqual(['Closed Won']);
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(
      expect.arrayContaining(['Lead', 'Contact', 'Account', 'Opportunity', 'Campaign', 'CampaignMember', 'Task', 'User']),
    );
  });

  it('assigns new leads round-robin over active reps unless Sforce-Auto-Assign is FALSE', async () => {
    const activeReps = sandbox
      .users()
      .filter((u) => u.role === 'sales-rep' && u.isActive)
      .map((u) => u.id);
    const owners: unknown[] = [];
    for (let i = 0; i < activeReps.length + 1; i++) {
      const { id } = await conn.sobject('Lead').create({ LastName: `L${i}`, Company: 'Acme' });
      owners.push((await conn.sobject('Lead').retrieve(id ?? '')).OwnerId);
    }
    expect(owners).toEqual([...activeReps, activeReps[0]]);
    const unassigned = await conn
      .sobject('Lead')
      .create({ LastName: 'Raw', Company: 'Acme' }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    expect((await conn.sobject('Lead').retrieve(unassigned.id ?? '')).OwnerId).toBe(sandbox.integrationUserId);
  });

  it("re-runs assignment on API updates without the header, but not on a rep's own edits", async () => {
    sandbox.setAssignment({ active: true, userIds: [sandbox.salesRepIds[0] ?? '', sandbox.salesRepIds[1] ?? ''] });
    const { id = '' } = await conn.sobject('Lead').create({ LastName: 'Lee', Company: 'Acme' });
    expect((await conn.sobject('Lead').retrieve(id)).OwnerId).toBe(sandbox.salesRepIds[0]);
    await conn.sobject('Lead').update({ Id: id, Title: 'CTO' });
    expect((await conn.sobject('Lead').retrieve(id)).OwnerId).toBe(sandbox.salesRepIds[1]);
    await conn.sobject('Lead').update({ Id: id, Title: 'CEO' }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    expect((await conn.sobject('Lead').retrieve(id)).OwnerId).toBe(sandbox.salesRepIds[1]);
    const rep = new jsforce.Connection({
      instanceUrl: sandbox.url,
      accessToken: sandbox.issueUserToken(sandbox.salesRepIds[1] ?? '').access_token,
      version: '60.0',
    });
    await rep.sobject('Lead').update({ Id: id, Status: 'Working - Contacted' });
    expect((await conn.sobject('Lead').retrieve(id)).OwnerId).toBe(sandbox.salesRepIds[1]);
  });
});

describe('custom fields and upsert', () => {
  it('creates a custom field through the Tooling API that describe lists and DML accepts', async () => {
    await expect(conn.sobject('Lead').create({ LastName: 'A', Company: 'B', First_Touch_Channel__c: 'Email' })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    const created = await conn.tooling
      .sobject('CustomField')
      .create({ FullName: 'Lead.First_Touch_Channel__c', Metadata: { type: 'Text', label: 'First Touch Channel', length: 80 } });
    await grantFieldAccess(conn, ['Lead.First_Touch_Channel__c']);
    expect(created).toMatchObject({ success: true, id: expect.stringMatching(/^00N/) });
    const field = (await conn.describe('Lead')).fields.find((f) => f.name === 'First_Touch_Channel__c');
    expect(field).toMatchObject({ custom: true, type: 'string', length: 80, createable: true, updateable: true });
    const lead = await conn.sobject('Lead').create({ LastName: 'A', Company: 'B', First_Touch_Channel__c: 'Email' });
    expect((await conn.sobject('Lead').retrieve(lead.id ?? '')).First_Touch_Channel__c).toBe('Email');
    const listed = await conn.tooling.query("SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId = 'Lead'");
    expect(listed.records).toEqual([
      expect.objectContaining({ Id: created.id, DeveloperName: 'First_Touch_Channel', TableEnumOrId: 'Lead' }),
    ]);
    await expect(
      conn.tooling
        .sobject('CustomField')
        .create({ FullName: 'Lead.First_Touch_Channel__c', Metadata: { type: 'Text', label: 'Again', length: 80 } }),
    ).rejects.toMatchObject({ errorCode: 'DUPLICATE_DEVELOPER_NAME' });
  });

  it('upserts by external id: 201 when created, 200 with created false when updated', async () => {
    await createExternalIdField();
    const first = await conn
      .sobject('Lead')
      .upsert({ HubSpot_Contact_Id__c: 'hs-101', LastName: 'Up', Company: 'Acme' }, 'HubSpot_Contact_Id__c');
    expect(first).toMatchObject({ success: true, created: true, id: expect.stringMatching(/^00Q/) });
    const second = await conn.sobject('Lead').upsert({ HubSpot_Contact_Id__c: 'hs-101', Title: 'VP' }, 'HubSpot_Contact_Id__c');
    expect(second).toEqual({ id: first.id, success: true, errors: [], created: false });
  });

  it('reads and deletes a record by external id, and answers 404 once none has the value', async () => {
    await createExternalIdField();
    const created = await conn.sobject('Lead').create({ HubSpot_Contact_Id__c: 'hs-5', LastName: 'Ext', Company: 'Acme' });
    const path = '/services/data/v60.0/sobjects/Lead/HubSpot_Contact_Id__c/HS-5';
    await expect(conn.request<{ Id: string }>(path)).resolves.toMatchObject({ Id: created.id, LastName: 'Ext' });
    await conn.request({ method: 'DELETE', url: path });
    await expect(conn.request(path)).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    await expect(conn.request({ method: 'DELETE', url: path })).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('answers 204 to an upsert that updates on API versions before 46.0', async () => {
    await createExternalIdField();
    const old = await login('45.0');
    await old.sobject('Lead').upsert({ HubSpot_Contact_Id__c: 'hs-7', LastName: 'Old', Company: 'Acme' }, 'HubSpot_Contact_Id__c');
    await expect(old.sobject('Lead').upsert({ HubSpot_Contact_Id__c: 'hs-7', Title: 'CEO' }, 'HubSpot_Contact_Id__c')).resolves.toEqual({
      success: true,
      errors: [],
    });
  });

  it('refuses a duplicate value on a unique external id', async () => {
    await createExternalIdField();
    await conn.sobject('Lead').create({ HubSpot_Contact_Id__c: 'HS-1', LastName: 'A', Company: 'B' });
    await expect(conn.sobject('Lead').create({ HubSpot_Contact_Id__c: 'hs-1', LastName: 'C', Company: 'D' })).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
      data: { fields: ['HubSpot_Contact_Id__c'] },
    });
  });
});

describe('sObject Collections and composite', () => {
  it('reports per-record errors without allOrNone', async () => {
    const results = await conn
      .sobject('Lead')
      .create([{ LastName: 'One', Company: 'A' }, { LastName: 'Two' }, { LastName: 'Three', Company: 'C' }]);
    expect(results.map((r) => r.success)).toEqual([true, false, true]);
    expect(results[1]).toEqual({
      success: false,
      errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Company]', fields: ['Company'] }],
    });
  });

  it('rolls back the whole request under allOrNone', async () => {
    const results = await conn.sobject('Lead').create([{ LastName: 'One', Company: 'A' }, { LastName: 'Two' }], { allOrNone: true });
    expect(results.map((r) => (r.success ? 'ok' : (r.errors[0] as { statusCode?: string } | undefined)?.statusCode))).toEqual([
      'ALL_OR_NONE_OPERATION_ROLLED_BACK',
      'REQUIRED_FIELD_MISSING',
    ]);
    expect(await conn.sobject('Lead').count()).toBe(0);
  });

  it('upserts, updates, retrieves and deletes through collections', async () => {
    await createExternalIdField();
    await conn.sobject('Lead').create({ HubSpot_Contact_Id__c: 'hs-1', LastName: 'Existing', Company: 'A' });
    const upserted = await conn.sobject('Lead').upsert(
      [
        { HubSpot_Contact_Id__c: 'hs-1', Title: 'Updated' },
        { HubSpot_Contact_Id__c: 'hs-2', LastName: 'New', Company: 'B' },
      ],
      'HubSpot_Contact_Id__c',
    );
    expect(upserted.map((r) => (r as { created?: boolean }).created)).toEqual([false, true]);
    const ids = upserted.map((r) => r.id ?? '');
    await conn.sobject('Lead').update(ids.map((Id) => ({ Id, Rating: 'Hot' })));
    const records: Array<Record<string, unknown>> = await conn.retrieve('Lead', ids, { fields: ['Title', 'Rating'] });
    expect(records.map((r) => [r.Title, r.Rating])).toEqual([
      ['Updated', 'Hot'],
      [null, 'Hot'],
    ]);
    const deleted = await conn.sobject('Lead').destroy(ids);
    expect(deleted.every((r) => r.success)).toBe(true);
  });

  it('refuses more than 200 records in one collection call', async () => {
    const records = Array.from({ length: 201 }, (_, i) => ({ LastName: `L${i}`, Company: 'A' }));
    await expect(conn.sobject('Lead').create(records)).rejects.toMatchObject({ errorCode: 'EXCEEDED_ID_LIMIT' });
  });

  it('runs a composite request with references as one API call', async () => {
    const before = sandbox.stats().apiUsage.used;
    const answer = await conn.requestPost<{ compositeResponse: Array<{ httpStatusCode: number; body: { id?: string } }> }>('/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v60.0/sobjects/Account', referenceId: 'acct', body: { Name: 'Acme' } },
        {
          method: 'POST',
          url: '/services/data/v60.0/sobjects/Contact',
          referenceId: 'person',
          body: { LastName: 'Lee', AccountId: '@{acct.id}' },
        },
        { method: 'GET', url: '/services/data/v60.0/sobjects/Contact/@{person.id}?fields=AccountId', referenceId: 'check' },
      ],
    });
    expect(answer.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 201, 200]);
    expect((answer.compositeResponse[2]?.body as { AccountId?: string }).AccountId).toBe(answer.compositeResponse[0]?.body.id);
    expect(sandbox.stats().apiUsage.used).toBe(before + 1);
  });
});

describe('limits and faults', () => {
  it('reports usage in Sforce-Limit-Info and refuses calls past the daily allowance', async () => {
    await conn.query('SELECT Id FROM Lead');
    const used = conn.limitInfo.apiUsage?.used ?? 0;
    expect(conn.limitInfo.apiUsage).toEqual({ used, limit: 15_000 });
    await conn.query('SELECT Id FROM Lead');
    expect(conn.limitInfo.apiUsage?.used).toBe(used + 1);
    const limits = await conn.limits();
    expect(limits.DailyApiRequests).toEqual({ Max: 15_000, Remaining: 15_000 - (used + 2) });
    sandbox.setApiUsage(14_999);
    await conn.query('SELECT Id FROM Lead');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 15_000, limit: 15_000 });
    await expect(conn.query('SELECT Id FROM Lead')).rejects.toMatchObject({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
      message: 'TotalRequests Limit exceeded.',
    });
  });

  it('injects REQUEST_LIMIT_EXCEEDED on a chosen endpoint for the next N calls', async () => {
    const answer = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        endpoints: [{ method: 'POST', path: '/services/data/*/composite/sobjects', error: 'REQUEST_LIMIT_EXCEEDED', count: 1 }],
      }),
    });
    expect(answer.status).toBe(200);
    const records = [{ LastName: 'A', Company: 'B' }];
    await expect(conn.sobject('Lead').create(records)).rejects.toMatchObject({ errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    await expect(conn.sobject('Lead').create(records)).resolves.toEqual([expect.objectContaining({ success: true })]);
    expect(sandbox.stats().faultsInjected).toBe(1);
  });

  it('injects errors on the token endpoint in the OAuth error format', async () => {
    sandbox.faults.set({ endpoints: [{ method: 'POST', path: '/services/oauth2/token', error: 'SERVER_UNAVAILABLE', count: 1 }] });
    await expect(login()).rejects.toMatchObject({ name: 'server_unavailable' });
    await expect(login()).resolves.toBeDefined();
  });

  it('injects a 500 by probability from a seeded generator', async () => {
    sandbox.faults.set({
      seed: 7,
      endpoints: [{ method: 'POST', path: '/services/data/*/sobjects/Lead', error: 'UNKNOWN_EXCEPTION', probability: 1 }],
    });
    await expect(conn.sobject('Lead').create({ LastName: 'A', Company: 'B' })).rejects.toMatchObject({ errorCode: 'UNKNOWN_EXCEPTION' });
    sandbox.faults.clear();
    await expect(conn.sobject('Lead').create({ LastName: 'A', Company: 'B' })).resolves.toMatchObject({ success: true });
  });
});

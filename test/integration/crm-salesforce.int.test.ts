/**
 * The Salesforce adapter through the real `jsforce`, over HTTP, against the sandbox org
 * (src/sandbox/salesforce). Error shapes follow docs/reference/salesforce-api.md §3.4 and §4.6.
 */
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../../src/crm/errors.ts';
import type { RequestLimiter } from '../../src/crm/limiter.ts';
import type { CustomFieldDefinition, PermissionSetSpec, SalesforcePort } from '../../src/crm/ports.ts';
import { connectSalesforce, createSalesforceAdapter } from '../../src/crm/salesforce/client.ts';
import { REQUEST_LIMIT_RETRY_MS } from '../../src/crm/salesforce/errors.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { failureOf } from '../support/failure.ts';
import { SANDBOX_ORG } from '../support/salesforce-org.ts';

const ORG = SANDBOX_ORG;
const API_VERSION = '60.0';
const UPSERT_ENDPOINT = 'PATCH /services/data/:version/composite/sobjects/Lead/:field';

const FIELDS: CustomFieldDefinition[] = [
  { object: 'Lead', name: 'HubSpot_Contact_Id__c', label: 'HubSpot Contact Id', type: 'Text', length: 64, externalId: true, unique: true },
  {
    object: 'Lead',
    name: 'First_Touch_Channel__c',
    label: 'First Touch Channel',
    type: 'Picklist',
    picklistValues: ['Paid Search', 'Email', 'Direct'],
  },
  { object: 'Lead', name: 'SLA_Due_At__c', label: 'SLA Due At', type: 'DateTime' },
  { object: 'Lead', name: 'Feedback_Notes__c', label: 'Feedback Notes', type: 'LongTextArea' },
  {
    object: 'Contact',
    name: 'HubSpot_Contact_Id__c',
    label: 'HubSpot Contact Id',
    type: 'Text',
    length: 64,
    externalId: true,
    unique: true,
  },
  { object: 'Opportunity', name: 'Win_Reason__c', label: 'Win Reason', type: 'Text', length: 255 },
];

let clock = Date.parse('2026-05-04T09:00:00.000Z');
let sandbox: SalesforceSandbox;
let conn: Connection;
let salesforce: SalesforcePort;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, ...ORG, now: () => clock });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await sandbox.reset();
  conn = await connectSalesforce({ loginUrl: sandbox.url, ...ORG, apiVersion: API_VERSION });
  salesforce = createSalesforceAdapter({ connection: conn, apiVersion: API_VERSION });
});

/** A permission set granting edit on the test's fields (a new field is invisible to everyone until granted). */
const ACCESS: PermissionSetSpec = {
  name: 'Adapter_Test_Access',
  label: 'Adapter test access',
  description: 'Edit on the adapter test fields',
  userPermissions: ['ApiEnabled'],
  objects: [{ object: 'Lead', read: true, create: true, edit: true }],
  fields: FIELDS.map((field) => ({ object: field.object, field: field.name, access: 'edit' as const })),
};

async function withFields(): Promise<void> {
  await salesforce.ensureCustomFields(FIELDS, false);
  await salesforce.ensurePermissionSet(ACCESS, [await salesforce.integrationUserId()], false);
}

function lead(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> & { HubSpot_Contact_Id__c: string } {
  return {
    HubSpot_Contact_Id__c: String(5000 + n),
    LastName: `Lead ${n}`,
    Company: `Company ${n}`,
    Email: `lead${n}@example.com`,
    ...extra,
  };
}

function calls(endpoint: string): number {
  return sandbox.stats().calls[endpoint] ?? 0;
}

/** The OAuth web-server flow against the sandbox: consent, code, tokens (with a refresh token). */
async function authorizationCodeGrant(): Promise<{ access_token: string; refresh_token: string; instance_url: string }> {
  const redirectUri = 'http://localhost/oauth/salesforce/callback';
  const consent = await fetch(`${sandbox.url}/services/oauth2/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      response_type: 'code',
      client_id: ORG.clientId,
      redirect_uri: redirectUri,
      scope: 'api refresh_token',
      decision: 'allow',
    }),
  });
  const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const token = await fetch(`${sandbox.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      client_id: ORG.clientId,
      client_secret: ORG.clientSecret,
      redirect_uri: redirectUri,
    }),
  });
  return (await token.json()) as { access_token: string; refresh_token: string; instance_url: string };
}

describe('Salesforce adapter: connection', () => {
  it('logs in with the password grant and names the sandbox integration user', async () => {
    expect(conn.accessToken).toMatch(/^00D000000000001!/);
    expect(await salesforce.integrationUserId()).toBe(sandbox.integrationUserId);
  });

  it('finds the integration user of a token-only session from the identity URL, once', async () => {
    const grant = await authorizationCodeGrant();
    const session = await connectSalesforce({
      loginUrl: sandbox.url,
      instanceUrl: grant.instance_url,
      accessToken: grant.access_token,
      apiVersion: API_VERSION,
    });
    const keys: string[] = [];
    const adapter = createSalesforceAdapter({
      connection: session,
      apiVersion: API_VERSION,
      limiter: { acquire: async (key) => void keys.push(key) },
    });
    const before = sandbox.stats().totalCalls;
    expect(await adapter.integrationUserId()).toBe(sandbox.integrationUserId);
    expect(await adapter.integrationUserId()).toBe(sandbox.integrationUserId);
    expect(sandbox.stats().totalCalls - before).toBe(1);
    // The session id starts with the org id, so the limiter key names the org without a login.
    expect(keys).toEqual([`salesforce:${ORG.orgId.slice(0, 15)}`]);
  });

  it('refreshes an expired session with the refresh token and reports the new token', async () => {
    const grant = await authorizationCodeGrant();
    const refreshed: [string, string][] = [];
    const session = await connectSalesforce({
      loginUrl: sandbox.url,
      instanceUrl: grant.instance_url,
      accessToken: grant.access_token,
      refreshToken: grant.refresh_token,
      clientId: ORG.clientId,
      clientSecret: ORG.clientSecret,
      apiVersion: API_VERSION,
      onRefresh: (accessToken, instanceUrl) => refreshed.push([accessToken, instanceUrl]),
    });
    const adapter = createSalesforceAdapter({ connection: session, apiVersion: API_VERSION });
    sandbox.expireSessions();
    expect((await adapter.listUsers()).filter((user) => user.active)).not.toHaveLength(0);
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]?.[0]).not.toBe(grant.access_token);
    expect(refreshed[0]?.[0]).toBe(session.accessToken);
    expect(refreshed[0]?.[1]).toBe(sandbox.url);
  });

  it('logs in again after the session expires on a password login and reports the new token', async () => {
    const refreshed: string[] = [];
    const session = await connectSalesforce({
      loginUrl: sandbox.url,
      ...ORG,
      apiVersion: API_VERSION,
      onRefresh: (accessToken) => refreshed.push(accessToken),
    });
    const adapter = createSalesforceAdapter({ connection: session, apiVersion: API_VERSION });
    sandbox.expireSessions();
    await adapter.listUsers();
    expect(refreshed).toEqual([session.accessToken]);
  });

  it('fails with CrmAuthError, without the tokens in the message, once the refresh token is revoked', async () => {
    const grant = await authorizationCodeGrant();
    const session = await connectSalesforce({
      loginUrl: sandbox.url,
      instanceUrl: grant.instance_url,
      accessToken: grant.access_token,
      refreshToken: grant.refresh_token,
      clientId: ORG.clientId,
      clientSecret: ORG.clientSecret,
      apiVersion: API_VERSION,
    });
    await fetch(`${sandbox.url}/services/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token: grant.refresh_token }) });
    const error = await failureOf(createSalesforceAdapter({ connection: session, apiVersion: API_VERSION }).listUsers());
    expect(error).toBeInstanceOf(CrmAuthError);
    expect((error as Error).message).not.toContain(grant.access_token);
    expect((error as Error).message).not.toContain(grant.refresh_token);
  });

  it('refuses a wrong password with CrmAuthError', async () => {
    const error = await failureOf(
      connectSalesforce({ loginUrl: sandbox.url, ...ORG, password: 'wrong-password', apiVersion: API_VERSION }),
    );
    expect(error).toBeInstanceOf(CrmAuthError);
    expect((error as Error).message).not.toContain('wrong-password');
  });
});

describe('Salesforce adapter: custom fields', () => {
  it('lists the missing fields in a dry run, creates them on the real run, and creates nothing the second time', async () => {
    const all = FIELDS.map((field) => `${field.object}.${field.name}`);
    expect(await salesforce.ensureCustomFields(FIELDS, true)).toEqual({ missing: all, created: [] });
    expect(await conn.tooling.query('SELECT Id FROM CustomField').then((result) => result.totalSize)).toBe(0);

    expect(await salesforce.ensureCustomFields(FIELDS, false)).toEqual({ missing: all, created: all });
    await salesforce.ensurePermissionSet(ACCESS, [await salesforce.integrationUserId()], false);
    const describe = await conn.describe('Lead');
    const hubspotId = describe.fields.find((field) => field.name === 'HubSpot_Contact_Id__c');
    expect(hubspotId).toMatchObject({ externalId: true, unique: true, length: 64 });
    const channel = describe.fields.find((field) => field.name === 'First_Touch_Channel__c');
    expect(channel?.picklistValues?.map((value): unknown => value.value)).toEqual(['Paid Search', 'Email', 'Direct']);

    expect(await salesforce.ensureCustomFields(FIELDS, false)).toEqual({ missing: [], created: [] });
  });
});

describe('Salesforce adapter: permission sets and access', () => {
  it('creates a missing permission set with its grants and assignment, then finds nothing missing', async () => {
    await salesforce.ensureCustomFields(FIELDS, false);
    const userId = await salesforce.integrationUserId();
    const fields = FIELDS.map((field) => `${field.object}.${field.name}`);
    expect((await salesforce.describeAccess(['Lead'])).fields.has('Lead.HubSpot_Contact_Id__c')).toBe(false);

    const dry = await salesforce.ensurePermissionSet(ACCESS, [userId], true);
    expect(dry).toMatchObject({
      id: null,
      existed: false,
      missingFields: fields,
      missingObjects: ['Lead'],
      missingUserPermissions: ['ApiEnabled'],
      unassigned: [userId],
      assignees: 0,
    });
    expect((await conn.query('SELECT Id FROM PermissionSet')).totalSize).toBe(0);

    const made = await salesforce.ensurePermissionSet(ACCESS, [userId], false);
    expect(made).toMatchObject({ existed: false, missingFields: fields, unassigned: [userId] });
    const access = await salesforce.describeAccess(['Lead', 'Contact', 'Opportunity']);
    for (const field of fields) expect(access.fields.get(field), field).toBe('edit');

    expect(await salesforce.ensurePermissionSet(ACCESS, [userId], false)).toMatchObject({
      id: made.id,
      existed: true,
      missingFields: [],
      missingObjects: [],
      missingUserPermissions: [],
      unassigned: [],
      assignees: 1,
    });
  });

  it('raises a field an admin left read-only to edit, and never lowers one', async () => {
    await withFields();
    const row = (await conn.query<{ Id: string }>("SELECT Id FROM FieldPermissions WHERE Field = 'Lead.SLA_Due_At__c'")).records[0];
    await conn.sobject('FieldPermissions').update({ Id: row?.Id ?? '', PermissionsEdit: false });
    expect((await salesforce.describeAccess(['Lead'])).fields.get('Lead.SLA_Due_At__c')).toBe('read');
    const readOnly = { ...ACCESS, fields: ACCESS.fields.map((f) => ({ ...f, access: 'read' as const })) };
    expect((await salesforce.ensurePermissionSet(readOnly, [], false)).missingFields).toEqual([]);
    expect((await salesforce.ensurePermissionSet(ACCESS, [], false)).missingFields).toEqual(['Lead.SLA_Due_At__c']);
    expect((await salesforce.describeAccess(['Lead'])).fields.get('Lead.SLA_Due_At__c')).toBe('edit');
  });
});

describe('Salesforce adapter: leads', () => {
  it('upserts 250 leads in two collection calls, creating then updating, with owners from the assignment rule', async () => {
    await withFields();
    const leads = Array.from({ length: 250 }, (_, n) => lead(n));
    const before = calls(UPSERT_ENDPOINT);
    const first = await salesforce.upsertLeadsByHubSpotId(leads);
    expect(calls(UPSERT_ENDPOINT) - before).toBe(2);
    expect(first.size).toBe(250);
    expect([...first.values()].every((outcome) => outcome.ok && outcome.created)).toBe(true);

    const second = await salesforce.upsertLeadsByHubSpotId(leads.map((row) => ({ ...row, Title: 'Updated' })));
    expect([...second.values()].every((outcome) => outcome.ok && !outcome.created)).toBe(true);
    const id = (outcome: unknown) => (outcome as { id?: string }).id;
    expect(id(second.get('5000'))).toBe(id(first.get('5000')));

    const rows = await salesforce.findChangedSince('Lead', ['OwnerId', 'Title'], new Date(0), 1000);
    expect(rows).toHaveLength(250);
    const reps = new Set(sandbox.salesRepIds);
    expect(rows.every((row) => reps.has(String(row.OwnerId)) && row.Title === 'Updated')).toBe(true);
    expect(rows.every((row) => !('attributes' in row))).toBe(true);
  });

  it('returns REQUIRED_FIELD_MISSING for a lead without Company while the others are written', async () => {
    await withFields();
    const { Company: _missing, ...noCompany } = lead(2);
    const outcomes = await salesforce.upsertLeadsByHubSpotId([lead(1), noCompany, lead(3)]);
    expect(outcomes.get('5001')).toMatchObject({ ok: true, created: true });
    expect(outcomes.get('5003')).toMatchObject({ ok: true, created: true });
    expect(outcomes.get('5002')).toMatchObject({ ok: false, code: 'REQUIRED_FIELD_MISSING', fields: ['Company'] });
    expect(await salesforce.findChangedSince('Lead', [], new Date(0), 1000)).toHaveLength(2);
  });

  it('upserts a single lead through the collection endpoint as well', async () => {
    await withFields();
    const outcomes = await salesforce.upsertLeadsByHubSpotId([lead(7, { First_Touch_Channel__c: 'Email' })]);
    expect(outcomes.get('5007')).toMatchObject({ ok: true, created: true });
    expect(calls(UPSERT_ENDPOINT)).toBe(1);
  });

  it('reads records by id and finds unconverted leads and contacts by email, ignoring case', async () => {
    await withFields();
    const outcomes = await salesforce.upsertLeadsByHubSpotId([lead(1, { Email: 'Mixed.Case@Example.com' }), lead(2), lead(3)]);
    const ids = [...outcomes.values()].map((outcome) => (outcome.ok ? outcome.id : ''));
    const read = await salesforce.readRecords('Lead', [...ids, 'not-an-id'], ['Email', 'Company']);
    expect(read.map((row) => row.Id).sort()).toEqual([...ids].sort());
    expect(read.find((row) => row.Id === ids[0])).toMatchObject({ Email: 'Mixed.Case@Example.com', Company: 'Company 1' });

    const converted = await salesforce.convertLead(ids[2] ?? '', 'Closed - Converted', false);
    const found = await salesforce.findByEmail(['mixed.case@EXAMPLE.com', 'lead3@example.com', 'nobody@example.com']);
    expect(found.leads.map((row) => row.Id)).toEqual([ids[0]]);
    expect(found.leads[0]).toMatchObject({ HubSpot_Contact_Id__c: '5001' });
    expect(found.contacts.map((row) => row.Id)).toEqual([converted.contactId]);
  });

  it('converts a lead into account, contact and opportunity', async () => {
    await withFields();
    const outcome = (await salesforce.upsertLeadsByHubSpotId([lead(1)])).get('5001');
    const leadId = outcome?.ok === true ? outcome.id : '';
    const result = await salesforce.convertLead(leadId, 'Closed - Converted', true);
    expect(result.accountId).toMatch(/^001/);
    expect(result.contactId).toMatch(/^003/);
    expect(result.opportunityId).toMatch(/^006/);
    const [row] = await salesforce.readRecords('Lead', [leadId], ['IsConverted', 'ConvertedContactId']);
    expect(row).toMatchObject({ IsConverted: true, ConvertedContactId: result.contactId });

    const again = await failureOf(salesforce.convertLead(leadId, 'Closed - Converted', true));
    expect(again).toBeInstanceOf(CrmRejectedError);
  });

  it('finds records changed since a time, ordered by SystemModstamp then Id, up to the limit', async () => {
    await withFields();
    await salesforce.upsertLeadsByHubSpotId([lead(1), lead(2)]);
    clock += 60_000;
    const since = new Date(clock);
    await salesforce.upsertLeadsByHubSpotId([lead(3), lead(4)]);
    clock += 60_000;
    await salesforce.upsertLeadsByHubSpotId([lead(1, { Title: 'Touched' })]);

    const changed = await salesforce.findChangedSince('Lead', ['HubSpot_Contact_Id__c'], since, 10);
    expect(changed.map((row) => row.HubSpot_Contact_Id__c)).toEqual(['5003', '5004', '5001']);
    const stamps = changed.map((row) => Date.parse(String(row.SystemModstamp)));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    const [first, second] = changed;
    expect(String(first?.Id) < String(second?.Id)).toBe(true);

    expect(await salesforce.findChangedSince('Lead', ['Email'], since, 2)).toHaveLength(2);
  });
});

describe('Salesforce adapter: other records', () => {
  it('creates records in input order and updates them by id, with failures as values', async () => {
    const created = await salesforce.createRecords('Account', [{ Name: 'Acme' }, { Website: 'no-name.example.com' }, { Name: 'Globex' }]);
    expect(created[0]).toMatchObject({ ok: true, created: true });
    expect(created[1]).toMatchObject({ ok: false, code: 'REQUIRED_FIELD_MISSING', fields: ['Name'] });
    expect(created[2]).toMatchObject({ ok: true, created: true });

    const [acme, , globex] = created.map((outcome) => (outcome.ok ? outcome.id : ''));
    const updated = await salesforce.updateRecords('Account', [
      { Id: acme ?? '', Industry: 'Technology' },
      { Id: globex ?? '', NoSuchField__c: 'x' },
    ]);
    expect(updated.get(acme ?? '')).toEqual({ ok: true, id: acme, created: false });
    expect(updated.get(globex ?? '')).toMatchObject({ ok: false, code: 'INVALID_FIELD' });
    const [row] = await salesforce.readRecords('Account', [acme ?? ''], ['Industry']);
    expect(row?.Industry).toBe('Technology');
  });
});

describe('Salesforce adapter: failures and pacing', () => {
  it('turns REQUEST_LIMIT_EXCEEDED into CrmRateLimitedError with the daily retry hint', async () => {
    sandbox.setApiUsage(sandbox.stats().apiUsage.limit);
    const error = await failureOf(salesforce.listUsers());
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(REQUEST_LIMIT_RETRY_MS.daily);
  });

  it('turns REQUEST_LIMIT_EXCEEDED on the SOAP API into CrmRateLimitedError too', async () => {
    sandbox.faults.set({ endpoints: [{ method: 'POST', path: '/services/Soap/u/*', error: 'REQUEST_LIMIT_EXCEEDED', count: 1 }] });
    const error = await failureOf(salesforce.convertLead('00Q000000000001AAA', 'Closed - Converted', false));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
  });

  it('turns SERVER_UNAVAILABLE on a collection write into CrmTransientError', async () => {
    await withFields();
    sandbox.faults.set({
      endpoints: [{ method: 'PATCH', path: '/services/data/*/composite/sobjects/Lead/*', error: 'SERVER_UNAVAILABLE', count: 1 }],
    });
    expect(await failureOf(salesforce.upsertLeadsByHubSpotId([lead(1)]))).toBeInstanceOf(CrmTransientError);
  });

  it('turns UNABLE_TO_LOCK_ROW into CrmTransientError', async () => {
    sandbox.faults.set({
      endpoints: [{ method: 'POST', path: '/services/data/*/composite/sobjects', error: 'UNABLE_TO_LOCK_ROW', count: 1 }],
    });
    expect(await failureOf(salesforce.createRecords('Account', [{ Name: 'Acme' }]))).toBeInstanceOf(CrmTransientError);
  });

  it('turns a query Salesforce refuses into CrmRejectedError with its code', async () => {
    const error = await failureOf(salesforce.readRecords('Lead', ['00Q000000000001AAA'], ['No_Such_Field__c']));
    expect(error).toBeInstanceOf(CrmRejectedError);
    expect((error as CrmRejectedError).code).toBe('INVALID_FIELD');
  });

  it('asks the limiter before every request, keyed by org', async () => {
    await withFields();
    const keys: string[] = [];
    const limiter: RequestLimiter = { acquire: async (key) => void keys.push(key) };
    const paced = createSalesforceAdapter({ connection: conn, apiVersion: API_VERSION, limiter });
    await paced.listUsers();
    await paced.findByEmail(['a@example.com']);
    expect(keys).toEqual(Array.from({ length: 3 }, () => `salesforce:${ORG.orgId.slice(0, 15)}`));
  });
});

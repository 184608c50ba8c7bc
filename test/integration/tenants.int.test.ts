/**
 * Two installations on one deployment, each its own HubSpot account and Salesforce org: the second
 * is installed through the admin (the account chosen on the OAuth consent page, provisioning from
 * the API) and its people move both ways between its own account and org, never the other's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { eventuallyValue } from '../support/app-process.ts';
import { addTenant, leadOf, promoteNewContact, type Tenant } from '../support/tenants.ts';

let admin: AdminApp;
let tenant: Tenant;

beforeAll(async () => {
  admin = await startAdminApp();
  const client = new AdminClient(admin.url);
  await client.signIn(admin.adminToken);
  tenant = await addTenant(admin.app, {
    n: 2,
    encryptionKey: Buffer.from(readFileSync(path.join(admin.dataDir, 'secrets', 'encryption-key'), 'utf8').trim(), 'hex'),
    prefix: admin.prefix,
    admin: client,
    adminToken: admin.adminToken,
  });
}, 90_000);

afterAll(async () => {
  await tenant?.close();
  await admin?.close();
});

const leadsByEmail = async (instanceUrl: string, accessToken: string, email: string) =>
  (
    await new jsforce.Connection({ instanceUrl, accessToken, version: '62.0' }).query<{ Id: string; Status: string }>(
      `SELECT Id, Status FROM Lead WHERE Email = '${email}'`,
    )
  ).records;

describe('two installations on one deployment', () => {
  it("provisions the second installation without touching the first one's org", () => {
    const firstOrg = admin.app.sandboxes?.salesforce;
    const endpoints = firstOrg?.outbound.rules().map((rule) => rule.endpointUrl) ?? [];
    expect(endpoints.length).toBeGreaterThan(0);
    const secondEndpoints = tenant.org.outbound.rules().map((rule) => rule.endpointUrl);
    expect(secondEndpoints.length).toBeGreaterThan(0);
    expect(endpoints.filter((url) => secondEndpoints.includes(url))).toEqual([]);
  });

  it("hands an MQL of the second account to the second org, and the rep's progress there back to that account", async () => {
    const email = 'tenant2-mql@example.com';
    const { contactId, rep } = promoteNewContact(tenant, email);
    const lead = await leadOf(rep, email, 20_000);
    const firstOrg = admin.app.sandboxes?.salesforce;
    if (!firstOrg) throw new Error('no first org');
    const firstRep = firstOrg.users().find((user) => user.isActive && user.role === 'sales-rep')?.id ?? '';
    expect(await leadsByEmail(firstOrg.url, firstOrg.issueUserToken(firstRep).access_token, email)).toEqual([]);

    await rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const portalApi = new Client({ accessToken: tenant.portal.privateAppToken, basePath: admin.app.sandboxes?.hubspot?.url ?? '' });
    await eventuallyValue(
      async () =>
        (await portalApi.crm.contacts.basicApi.getById(contactId, ['lifecyclestage'])).properties.lifecyclestage === 'salesqualifiedlead',
      20_000,
      "the rep's progress on the second account's contact",
    );
    const [link] = await admin.app.db.query<{ installation_id: string }>(
      'SELECT installation_id FROM record_links WHERE hubspot_contact_id = $1 AND salesforce_lead_id IS NOT NULL',
      [contactId],
    );
    expect(link?.installation_id).toBe(tenant.installationId);
  });
});

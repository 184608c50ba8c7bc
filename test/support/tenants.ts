/**
 * More installations on one running app, each a HubSpot account and a Salesforce org of its own,
 * installed the way an admin installs them: the HubSpot account chosen on the consent page of the
 * app's OAuth install, the provisioning run from the admin API, and the Outbound Messages deployed
 * in the org as the admin deploys the platform kit. Used by the multi-installation tests and the
 * `tenants` benchmark (no test runner needed).
 */
import jsforce from 'jsforce';
import type { Logger } from 'pino';
import { outboundRulesFor } from '../../src/server/admin/provisioning.ts';
import { settingsVersionKey } from '../../src/runtime/installation-clients.ts';
import { createSealer } from '../../src/runtime/secrets.ts';
import type { AddedPortal } from '../../src/sandbox/hubspot/server.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { CredentialVault } from '../../src/server/oauth/credentials.ts';
import { bindOrg } from '../../src/store/installation-admin.ts';
import type { RunningApp } from '../../src/startup/boot.ts';
import { producerConnection, untilReady } from '../../src/queue/redis.ts';
import { runOAuthInstall, type AdminClient } from './admin-client.ts';
import { eventuallyValue } from './app-process.ts';

export interface Tenant {
  installationId: string;
  portal: AddedPortal;
  org: SalesforceSandbox;
  close(): Promise<void>;
}

/** The org id of the n-th added org (n ≥ 2): a valid 18-character id, distinct per n. */
export function tenantOrgId(n: number): string {
  return `00D${String(n).padStart(12, '0')}AAA`;
}

/**
 * Adds installation number `n` (n ≥ 2): HubSpot account `portalId` on the sandbox host, and a
 * Salesforce org of its own (a second sandbox org on another port, as each org has its own My
 * Domain instance URL).
 */
export async function addTenant(
  app: RunningApp,
  input: {
    n: number;
    /** The key the app seals credentials with (ENCRYPTION_KEY, or the one sandbox mode generated in DATA_DIR). */
    encryptionKey: Buffer;
    /** The app's Redis key prefix (its queue prefix). */
    prefix: string;
    admin: AdminClient;
    adminToken: string;
    burstLimit?: number;
    log?: Logger;
  },
): Promise<Tenant> {
  const hubspot = app.sandboxes?.hubspot;
  if (!hubspot || !app.url) throw new Error('the app runs without its sandbox HubSpot or without HTTP');
  const portalId = 1_000_000 + input.n;
  const portal = hubspot.addPortal({ portalId, ...(input.burstLimit === undefined ? {} : { burstLimit: input.burstLimit }) });
  const sf = app.config.sandbox.salesforce;
  // The app's External Client App is installed in every org: the same consumer key and secret.
  const org = await startSalesforceSandbox({
    port: 0,
    pubsubPort: 0,
    orgId: tenantOrgId(input.n),
    username: `admin@org${input.n}.example.com`,
    password: sf.password,
    clientId: sf.clientId,
    clientSecret: sf.clientSecret,
    ...(input.log ? { logger: input.log } : {}),
  });
  try {
    const install = await runOAuthInstall(input.admin, 'hubspot', undefined, portalId);
    if (install.status !== 200) throw new Error(`HubSpot install of portal ${portalId} answered ${install.status}`);
    const [row] = await app.db.query<{ id: string }>('SELECT id FROM installations WHERE hubspot_portal_id = $1', [portalId]);
    if (!row) throw new Error(`no installation for portal ${portalId}`);
    const integration = await connectSalesforce(app, row.id, org, input);
    await provisionTenant(app, row.id, org, {
      adminToken: input.adminToken,
      integrationUserId: integration.userId,
      integrationToken: integration.accessToken,
    });
    return { installationId: row.id, portal, org, close: () => org.close() };
  } catch (error) {
    await org.close();
    throw error;
  }
}

/**
 * What the Salesforce OAuth callback stores once the admin signed in to the org: the sandbox's
 * login host serves one org, so the session comes from this org's own login endpoint instead.
 */
async function connectSalesforce(
  app: RunningApp,
  installationId: string,
  org: SalesforceSandbox,
  input: { n: number; encryptionKey: Buffer; prefix: string },
): Promise<{ userId: string; accessToken: string }> {
  const sf = app.config.sandbox.salesforce;
  const conn = new jsforce.Connection({
    version: '62.0',
    oauth2: {
      loginUrl: org.url,
      clientId: sf.clientId,
      clientSecret: sf.clientSecret,
      redirectUri: `${app.url}/oauth/salesforce/callback`,
    },
  });
  const identity = await conn.login(`admin@org${input.n}.example.com`, sf.password);
  const now = Date.now();
  await new CredentialVault(app.db, createSealer(input.encryptionKey)).write(installationId, 'salesforce', {
    kind: 'oauth',
    accessToken: conn.accessToken ?? '',
    refreshToken: null,
    instanceUrl: org.url,
    orgId: identity.organizationId,
    userId: identity.id,
    scope: 'api',
    issuedAt: now,
    connectedAt: now,
  });
  await bindOrg(app.db, installationId, identity.organizationId);
  // As the callback does: every process builds the installation's clients again, and the intake routes to the new org.
  const redis = producerConnection(app.redisUrl);
  try {
    await untilReady(redis);
    await redis.incr(settingsVersionKey(input.prefix, installationId));
  } finally {
    redis.disconnect();
  }
  await app.directory.reload();
  return { userId: identity.id, accessToken: conn.accessToken ?? '' };
}

/** The admin's provisioning run, then the Outbound Messages it lists deployed in the org. */
async function provisionTenant(
  app: RunningApp,
  installationId: string,
  org: SalesforceSandbox,
  input: { adminToken: string; integrationUserId: string; integrationToken: string },
): Promise<void> {
  const response = await fetch(`${app.url}/api/installations/${installationId}/provisioning`, {
    method: 'POST',
    headers: { authorization: `Bearer ${input.adminToken}` },
  });
  const plan = (await response.json()) as Record<string, unknown> & { ready?: boolean };
  const failed = Object.entries(plan).filter(([, section]) => (section as { ok?: boolean } | null)?.ok === false);
  if (response.status !== 200 || failed.length > 0)
    throw new Error(`provisioning answered ${response.status}: ${JSON.stringify(failed.length > 0 ? Object.fromEntries(failed) : plan)}`);
  const [installation] = await app.db.query<{ id: string; salesforce_webhook_token: string; salesforce_org_id: string }>(
    'SELECT id, salesforce_webhook_token, salesforce_org_id FROM installations WHERE id = $1',
    [installationId],
  );
  if (!installation) throw new Error(`installation ${installationId} vanished`);
  const rules = outboundRulesFor(app.url ?? '', {
    id: installation.id,
    salesforceWebhookToken: installation.salesforce_webhook_token,
    salesforceOrgId: installation.salesforce_org_id,
  });
  // The sandbox org has no Event object: the admin deploys no Flow on an object the org lacks.
  const objects = new Set((await session(org, input.integrationToken).describeGlobal()).sobjects.map((o) => o.name));
  for (const rule of rules.filter((r) => objects.has(r.object)))
    org.outbound.addRule({ ...rule, integrationUserId: input.integrationUserId });
}

const session = (org: SalesforceSandbox, accessToken: string) =>
  new jsforce.Connection({ instanceUrl: org.url, accessToken, version: '62.0' });

/**
 * A marketer creates a contact in the tenant's account and promotes it to MQL; returns the contact's
 * id and a session of one of the org's sales reps, to look for its Lead as the rep would.
 */
export function promoteNewContact(tenant: Tenant, email: string): { contactId: string; rep: jsforce.Connection } {
  const contact = tenant.portal.createInUi('contacts', { email, lastname: email.split('@')[0] ?? 'Tenant', company: 'Tenant' });
  tenant.portal.editInUi('contacts', String(contact.id), { lifecyclestage: 'marketingqualifiedlead' });
  const repId = tenant.org.users().find((user) => user.isActive && user.role === 'sales-rep')?.id ?? '';
  return { contactId: String(contact.id), rep: session(tenant.org, tenant.org.issueUserToken(repId).access_token) };
}

/** The Lead of an email in the rep's org, once it exists. */
export function leadOf(rep: jsforce.Connection, email: string, timeoutMs: number): Promise<{ Id: string; Status: string; Email: string }> {
  return eventuallyValue(
    async () =>
      (await rep.query<{ Id: string; Status: string; Email: string }>(`SELECT Id, Status, Email FROM Lead WHERE Email = '${email}'`))
        .records[0],
    timeoutMs,
    `the Lead of ${email}`,
  );
}

/**
 * Installing for real through both sandboxes' consent pages: HubSpot OAuth (scopes, state, code
 * exchange with @hubspot/api-client, refresh before expiry) and the Salesforce web server flow
 * (PKCE, jsforce `refresh` events stored); tokens sealed with AES-256-GCM, keys rotating; one
 * portal and one org per installation; uninstall revokes both grants and stops the jobs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createSealer } from '../../src/runtime/secrets.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { resolveOAuthApps } from '../../src/server/oauth/apps.ts';
import { CredentialVault, type HubSpotCredentials } from '../../src/server/oauth/credentials.ts';
import { hubspotTokenSource } from '../../src/server/oauth/hubspot.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { eventually } from '../support/app-process.ts';
import { AdminClient, runOAuthInstall, startAdminApp, type AdminApp } from '../support/admin-harness.ts';

describe('OAuth install', () => {
  let admin: AdminApp;
  let client: AdminClient;
  let hubspot: HubSpotSandbox;
  let salesforce: SalesforceSandbox;
  let installationId: string;
  let vault: CredentialVault;
  let key: Buffer;

  beforeAll(async () => {
    admin = await startAdminApp({}, { selfInstall: false });
    if (!admin.app.sandboxes?.hubspot || !admin.app.sandboxes.salesforce) throw new Error('sandboxes did not start');
    hubspot = admin.app.sandboxes.hubspot;
    salesforce = admin.app.sandboxes.salesforce;
    installationId = (await admin.app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    key = Buffer.from(readFileSync(path.join(admin.dataDir, 'secrets', 'encryption-key'), 'utf8').trim(), 'hex');
    vault = new CredentialVault(admin.app.db, createSealer(key));
    client = new AdminClient(admin.url);
    await client.signIn(admin.adminToken);
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
  });

  it('installs HubSpot through its consent page: scopes and state in the authorize URL, tokens sealed at rest', async () => {
    const install = await runOAuthInstall(client, 'hubspot', installationId);
    expect(install.status).toBe(200);
    expect(install.html).toContain('HubSpot connected');
    expect(install.html).toContain(`/admin/installations/${installationId}?notice=hubspot_connected`);

    const query = install.authorizeUrl.searchParams;
    expect(`${install.authorizeUrl.origin}${install.authorizeUrl.pathname}`).toBe(`${hubspot.url}/oauth/authorize`);
    expect(query.get('client_id')).toBe('sandbox-hubspot-client');
    expect(query.get('redirect_uri')).toBe(`${admin.url}/oauth/hubspot/callback`);
    expect(query.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.write']),
    );
    expect(query.get('state')?.length).toBeGreaterThanOrEqual(40);
    expect(await admin.app.db.query('SELECT 1 FROM oauth_states')).toHaveLength(0);

    const sealed = (
      await admin.app.db.query<{ c: Buffer }>('SELECT hubspot_credentials AS c FROM installations WHERE id = $1', [installationId])
    )[0]?.c;
    const stored = await vault.read(installationId, 'hubspot');
    expect(stored).toMatchObject({ kind: 'oauth', hubId: '1000001', appId: '2000001' });
    expect(stored?.accessToken).toMatch(/^CN/);
    expect(Buffer.from(sealed ?? []).toString('latin1')).not.toContain(stored?.accessToken);
    expect(Buffer.from(sealed ?? []).toString('latin1')).not.toContain(stored?.refreshToken);

    const connections = await client.api('GET', `/api/installations/${installationId}/connections`);
    expect(connections.json.hubspot).toMatchObject({ state: 'connected', via: 'oauth', account: '1000001' });
    // OAuth requests get the burst window headers, not the daily ones (hubspot-api.md §4.2).
    expect(connections.json.hubspot.usage.map((u: { name: string }) => u.name)).toEqual(['Requests per 10 s window']);
  });

  it('refuses a callback with an unknown, reused, expired or foreign state, and says why', async () => {
    const start = async () => {
      const response = await client.request('GET', `/oauth/hubspot/install?installation=${installationId}`);
      const url = new URL(response.headers.get('location') ?? '');
      return url.searchParams.get('state') ?? '';
    };
    const callback = (state: string, extra = 'code=abc') => `/oauth/hubspot/callback?${extra}&state=${encodeURIComponent(state)}`;

    const unknown = await client.request('GET', callback('forged-state-value'));
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('unknown or was already used');

    const state = await start();
    const otherBrowser = new AdminClient(admin.url);
    const foreign = await otherBrowser.request('GET', callback(state));
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toContain('another browser');
    const reused = await client.request('GET', callback(state));
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('already used');

    const late = await start();
    await admin.app.db.query("UPDATE oauth_states SET expires_at = now() - interval '1 minute'");
    const expired = await client.request('GET', callback(late));
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('expired');

    const denied = await client.request('GET', callback(await start(), 'error=access_denied'));
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('HubSpot says: access_denied');
  });

  it('installs Salesforce with the web server flow (PKCE) and stores each session jsforce refreshes', async () => {
    const install = await runOAuthInstall(client, 'salesforce', installationId);
    expect(install.status).toBe(200);
    expect(install.html).toContain('Salesforce connected');
    expect(install.authorizeUrl.searchParams.get('scope')).toBe('api refresh_token');
    expect(install.authorizeUrl.searchParams.get('code_challenge')?.length).toBeGreaterThan(40);
    expect(install.authorizeUrl.searchParams.get('redirect_uri')).toBe(`${admin.url}/oauth/salesforce/callback`);

    const first = await vault.read(installationId, 'salesforce');
    expect(first).toMatchObject({ kind: 'oauth', orgId: '00D000000000001AAA', instanceUrl: salesforce.url });
    expect(first?.refreshToken).toBeTruthy();
    const connections = await client.api('GET', `/api/installations/${installationId}/connections`);
    expect(connections.json.salesforce).toMatchObject({ state: 'connected', via: 'oauth' });
    expect(connections.json.salesforce.usage[0]).toMatchObject({ name: 'Daily API requests', max: 15_000 });

    // The session times out: jsforce refreshes on the 401 and the app stores the new token.
    salesforce.expireSessions();
    const again = await client.api('GET', `/api/installations/${installationId}/connections`);
    expect(again.json.salesforce.state).toBe('connected');
    await eventually(
      async () => (await vault.read(installationId, 'salesforce'))?.accessToken !== first?.accessToken,
      10_000,
      'the refreshed session stored',
    );
    expect((await vault.read(installationId, 'salesforce'))?.refreshToken).toBe(first?.refreshToken);
    expect(admin.logs().some((line) => line.includes('Salesforce session refreshed and stored'))).toBe(true);
  });

  it('refreshes the HubSpot access token before it expires and stores the new grant', async () => {
    const apps = resolveOAuthApps(admin.app.config, { hubspot: hubspot.url, salesforce: salesforce.url });
    if (!apps.hubspot) throw new Error('no HubSpot app');
    const stored = (await vault.read(installationId, 'hubspot')) as HubSpotCredentials;
    const now = Date.now();
    const fresh = hubspotTokenSource({
      app: apps.hubspot,
      vault,
      installationId,
      initial: { ...stored, expiresAt: now + 20 * 60_000 },
      log: createLogger('silent'),
    });
    expect(await fresh()).toBe(stored.accessToken);
    const nearExpiry = hubspotTokenSource({
      app: apps.hubspot,
      vault,
      installationId,
      initial: { ...stored, expiresAt: now + 60_000 },
      log: createLogger('silent'),
    });
    const [a, b] = await Promise.all([nearExpiry(), nearExpiry()]);
    expect(a).toBe(b);
    expect(a).not.toBe(stored.accessToken);
    const after = await vault.read(installationId, 'hubspot');
    expect(after?.accessToken).toBe(a);
    expect(after?.expiresAt).toBeGreaterThan(now + 25 * 60_000);
    expect(await (await fetch(`${hubspot.url}/oauth/v1/access-tokens/${a}`)).json()).toMatchObject({ hub_id: 1000001 });
  });

  it('keeps one portal and one org per installation', async () => {
    const other = await upsertInstallation(admin.app.db, { name: 'Other portal', hubspotPortalId: '999', salesforceOrgId: null });
    const mismatch = await runOAuthInstall(client, 'hubspot', other.id);
    expect(mismatch.status).toBe(409);
    expect(mismatch.html).toContain('connected to HubSpot portal 999, but portal 1000001 was approved');

    const empty = await upsertInstallation(admin.app.db, { name: 'Empty', hubspotPortalId: '998', salesforceOrgId: null });
    await admin.app.db.query('UPDATE installations SET hubspot_portal_id = NULL WHERE id = $1', [empty.id]);
    const taken = await runOAuthInstall(client, 'hubspot', empty.id);
    expect(taken.status).toBe(409);
    expect(taken.html).toContain('already connected to installation &quot;Sandbox&quot;');
    const orgTaken = await runOAuthInstall(client, 'salesforce', empty.id);
    expect(orgTaken.status).toBe(409);
    expect(orgTaken.html).toContain('already connected to installation &quot;Sandbox&quot;');
    expect(await vault.read(empty.id, 'hubspot')).toBeNull();
    expect(await vault.read(empty.id, 'salesforce')).toBeNull();
  });

  it('reads tokens sealed with a previous key during a rotation and re-seals them all with the new one', async () => {
    const next = Buffer.alloc(32, 7);
    // ENCRYPTION_KEY=next, ENCRYPTION_KEY_PREVIOUS=key: old values still open.
    const rotated = new CredentialVault(admin.app.db, createSealer(next, [key]));
    const before = await rotated.read(installationId, 'hubspot');
    expect(before?.hubId).toBe('1000001');
    expect(await rotated.resealAll()).toBe(2);
    await expect(vault.read(installationId, 'hubspot')).rejects.toThrow(/ENCRYPTION_KEY/);
    const newOnly = new CredentialVault(admin.app.db, createSealer(next));
    expect((await newOnly.read(installationId, 'hubspot'))?.accessToken).toBe(before?.accessToken);
    expect((await newOnly.read(installationId, 'salesforce'))?.orgId).toBe('00D000000000001AAA');
    // Back to the key the running app has, then its own re-seal endpoint (a no-op rotation).
    expect(await new CredentialVault(admin.app.db, createSealer(key, [next])).resealAll()).toBe(2);
    const resealed = await client.api('POST', '/api/credentials/reseal');
    expect(resealed.json).toEqual({ resealed: 2 });
    expect((await vault.read(installationId, 'hubspot'))?.accessToken).toBe(before?.accessToken);
  });

  it('uninstalls: revokes both grants, forgets them and removes every queued job of the installation', async () => {
    const hubspotGrant = await vault.read(installationId, 'hubspot');
    const salesforceGrant = await vault.read(installationId, 'salesforce');
    const queue = admin.app.producer.queue('syncToSalesforce');
    await queue.add('sync-to-salesforce', { v: 1, installationId }, { jobId: 'uninstall-mine', delay: 60_000 });
    await queue.add('sync-to-salesforce', { v: 1, installationId: 'another-installation' }, { jobId: 'uninstall-theirs', delay: 60_000 });

    const refused = await client.api('POST', `/api/installations/${installationId}/uninstall`, {});
    expect(refused.status).toBe(400);
    expect(refused.json.issues[0]).toContain('confirm');
    const answer = await client.api('POST', `/api/installations/${installationId}/uninstall`, { confirm: true });
    expect(answer.status).toBe(200);
    expect(answer.json.revoked).toEqual({ hubspot: true, salesforce: true });
    expect(answer.json.jobsRemoved).toBeGreaterThanOrEqual(1);

    expect(await queue.getJob('uninstall-mine')).toBeUndefined();
    expect(await queue.getJob('uninstall-theirs')).toBeDefined();
    expect((await fetch(`${hubspot.url}/oauth/v1/refresh-tokens/${hubspotGrant?.refreshToken ?? ''}`)).status).toBe(404);
    const refresh = await fetch(`${salesforce.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: salesforceGrant?.refreshToken ?? '',
        client_id: 'sandbox-salesforce-client',
        client_secret: 'sandbox-salesforce-secret',
      }).toString(),
    });
    expect(refresh.status).toBe(400);
    const row = (
      await admin.app.db.query<{ status: string; h: unknown; s: unknown }>(
        'SELECT status, hubspot_credentials AS h, salesforce_credentials AS s FROM installations WHERE id = $1',
        [installationId],
      )
    )[0];
    expect(row).toEqual({ status: 'uninstalled', h: null, s: null });
    expect(await admin.app.directory.forPortal('1000001')).toBeUndefined();
    const page = await client.page(`/admin/installations/${installationId}`);
    expect(page.html).toContain('Uninstalled');
    const schedulers = async () => (await admin.app.producer.queue('reconcile').getJobSchedulers(0, -1)).map((scheduler) => scheduler.key);
    expect(await schedulers()).not.toContain(`reconcile-${installationId}`);

    // Connecting HubSpot again reinstalls the same installation (history kept).
    const reinstall = await runOAuthInstall(client, 'hubspot', installationId);
    expect(reinstall.status).toBe(200);
    expect(
      (await admin.app.db.query<{ status: string }>('SELECT status FROM installations WHERE id = $1', [installationId]))[0]?.status,
    ).toBe('active');
    // The reinstalled installation is reconciled again.
    expect(await schedulers()).toContain(`reconcile-${installationId}`);
    await queue.remove('uninstall-theirs');
  });
});

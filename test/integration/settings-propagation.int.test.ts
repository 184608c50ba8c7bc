/**
 * A settings change reaches a worker that runs as its own process: the web process (with both
 * sandbox CRMs) takes the change through the admin API, the worker process applies it to the next
 * handoff without a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_MAPPINGS } from '../../src/domain/stages.ts';
import { freePort } from '../../src/startup/redis-server.ts';
import { eventually, spawnApp, waitForOk, type AppProcess } from '../support/app-process.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { startTestRedis } from '../support/services.ts';

const ADMIN_TOKEN = 'propagation-admin-token-0123456789-abcdefghijk';

interface LeadRow {
  Id: string;
  Title: string | null;
}

describe('settings across processes', () => {
  const started: AppProcess[] = [];
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let dataDirs: string[] = [];
  let web: string;
  let hubspot: string;
  let salesforce: string;
  let worker: AppProcess;
  let webApp: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const [webPort, hubspotPort, salesforcePort] = [await freePort(), await freePort(), await freePort()];
    web = `http://127.0.0.1:${webPort}`;
    hubspot = `http://127.0.0.1:${hubspotPort}`;
    salesforce = `http://127.0.0.1:${salesforcePort}`;
    const shared = {
      REDIS_URL: redis.url,
      DATABASE_URL: freshPostgresUrl(),
      ADMIN_TOKEN,
      SANDBOX_DEMO: 'false',
      PORT: String(webPort),
      SANDBOX_HUBSPOT_PORT: String(hubspotPort),
      SANDBOX_SALESFORCE_PORT: String(salesforcePort),
      // A port of its own: the default, the next one after the org's, may be taken.
      SANDBOX_SALESFORCE_PUBSUB_PORT: String(await freePort()),
    };
    const dataDir = () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'smk-propagation-'));
      dataDirs.push(dir);
      return dir;
    };
    webApp = spawnApp({ ...shared, DATA_DIR: dataDir() }, ['--role=web']);
    started.push(webApp);
    await waitForOk(`${web}/readyz`, 90_000, webApp);
    worker = spawnApp({ ...shared, DATA_DIR: dataDir() }, ['--role=worker']);
    started.push(worker);
    // The web process installs itself on the sandboxes after it answers /readyz; a contact changed
    // before its webhook subscriptions exist would never reach the app.
    await eventually(
      async () => {
        const response = await fetch(`${hubspot}/webhooks/v3/2000001/subscriptions?hapikey=SANDBOX_HUBSPOT_DEV_KEY`);
        if (!response.ok) return false;
        const { results } = (await response.json()) as { results: { eventType: string; propertyName?: string; active: boolean }[] };
        return results.some(
          (subscription) =>
            subscription.active && subscription.eventType === 'contact.propertyChange' && subscription.propertyName === 'lifecyclestage',
        );
      },
      90_000,
      'the web process to subscribe to lifecycle changes',
    );
  }, 180_000);

  afterAll(async () => {
    for (const app of started) {
      if (app.child.exitCode === null) {
        app.child.kill('SIGTERM');
        await app.exited;
      }
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    dataDirs = [];
    await redis?.stop();
  }, 60_000);

  async function api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${web}/api${pathname}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  }

  /** A session of the integration user (the sandbox issues tokens for its users), who reads every field of the app's once provisioned. */
  async function salesforceToken(): Promise<string> {
    const users = (await (await fetch(`${salesforce}/__sandbox/users`)).json()) as { id: string; role: string }[];
    const integration = users.find((user) => user.role === 'integration');
    const token = (await (await fetch(`${salesforce}/__sandbox/users/${integration?.id ?? ''}/token`, { method: 'POST' })).json()) as {
      access_token: string;
    };
    return token.access_token;
  }

  /** A marketer creates a contact in the HubSpot UI and promotes it to MQL; resolves with its Lead. */
  async function handOff(email: string): Promise<LeadRow> {
    const write = async (method: string, pathname: string, properties: Record<string, string>) => {
      const response = await fetch(`${hubspot}/__sandbox${pathname}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ properties }),
      });
      expect(response.ok).toBe(true);
      return (await response.json()) as { id: string | number };
    };
    const created = await write('POST', '/ui/contacts', {
      email,
      firstname: 'Grace',
      lastname: 'Hopper',
      company: 'Navy',
      jobtitle: 'Rear Admiral',
      lifecyclestage: 'lead',
    });
    await write('PATCH', `/ui/contacts/${String(created.id)}`, { lifecyclestage: 'marketingqualifiedlead' });
    let lead: LeadRow | undefined;
    let refusal = '';
    await eventually(
      async () => {
        const soql = `SELECT Id, Title FROM Lead WHERE HubSpot_Contact_Id__c = '${String(created.id)}'`;
        // A new session each time: the web process may still be provisioning the app's fields.
        const token = await salesforceToken();
        const response = await fetch(`${salesforce}/services/data/v62.0/query?q=${encodeURIComponent(soql)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        // Until the web process has provisioned the org, the app's fields are not there yet.
        if (!response.ok) {
          refusal = await response.text();
          return false;
        }
        refusal = '';
        lead = ((await response.json()) as { records: LeadRow[] }).records[0];
        return lead !== undefined;
      },
      60_000,
      `the Lead of ${email}`,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)} ${refusal}\nsandboxes: ${hubspot} ${salesforce}\nweb:\n${webApp.output().slice(-6000)}\nworker:\n${worker.output().slice(-3000)}`,
      );
    });
    return lead as LeadRow;
  }

  it('applies a field rule saved through the API to the next handoff in a separate worker process', async () => {
    // 1. The worker builds its runtime with the default rules: the job title reaches the Lead.
    const before = await handOff(`before-${Date.now()}@example.com`);
    expect(before.Title).toBe('Rear Admiral');

    // 2. The admin stops syncing the job title, through the web process.
    const installations = (await api('GET', '/installations')).body as { installations: { id: string }[] };
    const installationId = installations.installations[0]?.id ?? '';
    const mappings = DEFAULT_FIELD_MAPPINGS.map((mapping) =>
      mapping.hubspotProperty === 'jobtitle' ? { ...mapping, rule: 'dont_sync' } : mapping,
    );
    const saved = await api('PUT', `/installations/${installationId}/settings/fieldMappings`, mappings);
    expect(saved.status).toBe(200);

    // 3. The worker process, never restarted, writes the next Lead without it.
    const after = await handOff(`after-${Date.now()}@example.com`);
    expect(after.Title).toBeNull();
    expect(worker.output()).toContain('installation settings changed: rules read again');
  }, 180_000);
});

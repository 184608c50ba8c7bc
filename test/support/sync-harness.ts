/**
 * The whole app in-process against both sandbox CRMs (ports chosen by the OS), plus the people
 * who use them: a marketer editing contacts in the HubSpot UI and a sales rep with their own
 * Salesforce session.
 */
import { rmSync } from 'node:fs';
import { Client } from '@hubspot/api-client';
import type { JobType } from 'bullmq';
import { Redis } from 'ioredis';
import type { Connection } from 'jsforce';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHubSpotAdapter } from '../../src/crm/hubspot/client.ts';
import { connectSalesforce, createSalesforceAdapter } from '../../src/crm/salesforce/client.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY } from '../../src/domain/stages.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type BootOptions, type RunningApp } from '../../src/startup/boot.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import type { SyncContext } from '../../src/sync/context.ts';
import { PendingSet } from '../../src/sync/pending-set.ts';
import { ValueLedger } from '../../src/sync/value-ledger.ts';
import { eventually } from './app-process.ts';
import { dropPrefix, uniquePrefix } from './queue.ts';
import { sessionAs } from './salesforce-org.ts';
import { appDataDir } from './data-dir.ts';

export interface LeadRow {
  Id: string;
  Status: string;
  OwnerId: string;
  Email: string | null;
  HubSpot_Contact_Id__c: string | null;
  Lifecycle_Stage__c: string | null;
  IsConverted: boolean;
  ConvertedOpportunityId: string | null;
}

export interface SyncHarness {
  app: RunningApp;
  hubspotSandbox: HubSpotSandbox;
  salesforceSandbox: SalesforceSandbox;
  /** The HubSpot client, with the sandbox's private-app token (reads only, in tests). */
  hubspot: Client;
  /** The app's queue and key prefix in Redis. */
  prefix: string;
  /** A jsforce session of the first sales rep. */
  rep: Connection;
  /** Creates a contact as a marketer would in the HubSpot UI; returns its id. */
  newContact(overrides?: Record<string, string>): string;
  /** Reads a contact's sync-relevant properties. */
  contact(id: string): Promise<Record<string, string | null>>;
  /** Queries Leads as the rep. */
  leadsFor(where: string): Promise<LeadRow[]>;
  /** Creates a contact, promotes it to MQL and waits for its Lead. */
  handOff(overrides?: Record<string, string>): Promise<{ contactId: string; lead: LeadRow }>;
  close(): Promise<void>;
}

let sequence = 0;

/** Boots the app with both sandboxes; `env` adds configuration, `options` boot options. */
export async function startSyncHarness(env: Record<string, string> = {}, options: Partial<BootOptions> = {}): Promise<SyncHarness> {
  const dataDir = appDataDir('smk-sync-');
  const prefix = uniquePrefix();
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    REDIS_URL: inject('redisUrl'),
    SANDBOX_DEMO: 'false',
    SANDBOX_HUBSPOT_PORT: '0',
    SANDBOX_SALESFORCE_PORT: '0',
    ...env,
  });
  if (!config.ok) throw new Error(config.error);
  const app = await boot(config.value, { role: 'all', log: createLogger('silent'), queuePrefix: prefix, coalesceMs: 50, ...options });
  if (!app.sandboxes?.hubspot || !app.sandboxes.salesforce) {
    await app.close();
    throw new Error('sandboxes did not start');
  }
  const hubspotSandbox = app.sandboxes.hubspot;
  const salesforceSandbox = app.sandboxes.salesforce;
  // The marketer's changes come through a private app of their own (as a script or a marketing
  // tool's would): its own burst limit, so the app's pacing and the marketer's calls do not meet.
  const hubspot = new Client({
    accessToken: hubspotSandbox.createPrivateApp('Marketing operations').token,
    basePath: hubspotSandbox.url,
  });
  const rep = sessionAs(salesforceSandbox, salesforceSandbox.salesRepIds[0] as string);

  const harness: SyncHarness = {
    app,
    hubspotSandbox,
    salesforceSandbox,
    hubspot,
    rep,
    prefix,
    newContact(overrides = {}) {
      sequence += 1;
      const created = hubspotSandbox.createInUi('contacts', {
        email: `person${sequence}-${Date.now()}@example.com`,
        firstname: 'Ada',
        lastname: `Lovelace ${sequence}`,
        company: 'Analytical Engines',
        jobtitle: 'CTO',
        phone: '+1 555 0100',
        lifecyclestage: 'lead',
        ...overrides,
      });
      return String(created.id);
    },
    async contact(id) {
      const found = await hubspot.crm.contacts.basicApi.getById(id, [
        'lifecyclestage',
        'hs_lead_status',
        'salesforce_lead_id',
        'salesforce_contact_id',
        'email',
      ]);
      return found.properties;
    },
    async leadsFor(where) {
      return (
        await rep.query<LeadRow>(
          `SELECT Id, Status, OwnerId, Email, HubSpot_Contact_Id__c, Lifecycle_Stage__c, IsConverted, ConvertedOpportunityId FROM Lead WHERE ${where}`,
        )
      ).records;
    },
    async handOff(overrides = {}) {
      const contactId = harness.newContact(overrides);
      hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
      let lead: LeadRow | undefined;
      await eventually(
        async () => {
          lead = (await harness.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`))[0];
          return lead !== undefined;
        },
        30_000,
        `the Lead of contact ${contactId}`,
      );
      return { contactId, lead: lead as LeadRow };
    },
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropPrefix(prefix);
    },
  };
  return harness;
}

/**
 * The app's own sync services against the harness's sandboxes, called directly through the real
 * clients (for call counts and resumption), with a value ledger of its own.
 */
export async function directSyncContext(h: SyncHarness): Promise<{ ctx: SyncContext; close: () => Promise<void> }> {
  const { config } = h.app;
  const connection = await connectSalesforce({
    loginUrl: h.salesforceSandbox.url,
    username: config.sandbox.salesforce.username,
    password: config.sandbox.salesforce.password,
    clientId: config.sandbox.salesforce.clientId,
    clientSecret: config.sandbox.salesforce.clientSecret,
    apiVersion: config.salesforce.apiVersion,
  });
  const ledgerRedis = new Redis(inject('redisUrl'));
  const ledgerPrefix = uniquePrefix();
  const installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  return {
    ctx: {
      installationId,
      db: h.app.db,
      hubspot: createHubSpotAdapter({ accessToken: config.sandbox.hubspot.privateAppToken, basePath: h.hubspotSandbox.url }),
      salesforce: createSalesforceAdapter({ connection, apiVersion: config.salesforce.apiVersion }),
      dictionary: DEFAULT_STAGE_DICTIONARY,
      fieldMappings: DEFAULT_FIELD_MAPPINGS,
      ledger: new ValueLedger(ledgerRedis, ledgerPrefix),
      now: () => new Date(),
    },
    close: async () => {
      ledgerRedis.disconnect();
      await dropPrefix(ledgerPrefix);
    },
  };
}

/** Waits until neither sandbox has served a request for `quietMs`: every webhook and Outbound Message the app caused has been handled. */
export async function untilCrmsQuiet(h: Pick<SyncHarness, 'hubspotSandbox' | 'salesforceSandbox'>, quietMs = 1_500): Promise<void> {
  const total = () => h.hubspotSandbox.stats().totals.calls + h.salesforceSandbox.stats().totalCalls;
  let last = total();
  let since = Date.now();
  await eventually(
    async () => {
      const now = total();
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    30_000,
    'both CRMs to go quiet',
  );
}

/** The queues a change travels through, from a sandbox's webhook or Outbound Message to the other CRM. */
const CHANGE_QUEUES = ['webhookDeliveries', 'hubspotEvents', 'salesforceEvents', 'syncToSalesforce', 'syncToHubSpot'] as const;

/**
 * True when nothing of a change is left to do: no webhook or Outbound Message on its way from a
 * sandbox, no record waiting to sync, no change job waiting or running (nor an event job waiting
 * for a retry). A drain that only checks after a lock's expiry may still be delayed: it has nothing to do.
 */
async function appIdleNow(
  h: Pick<SyncHarness, 'app' | 'hubspotSandbox' | 'salesforceSandbox'>,
  pending: PendingSet,
  installationIds: readonly string[],
): Promise<boolean> {
  const inFlight = new Set(['held', 'pending', 'retrying']);
  if (h.hubspotSandbox.deliveries().some((delivery) => inFlight.has(delivery.state))) return false;
  if (h.salesforceSandbox.outbound.pending().length > 0) return false;
  for (const key of CHANGE_QUEUES) {
    const states: JobType[] = key.startsWith('sync')
      ? ['waiting', 'active', 'prioritized']
      : ['waiting', 'active', 'prioritized', 'delayed'];
    const counts = await h.app.producer.queue(key).getJobCounts(...states);
    if (Object.values(counts).some((n) => n > 0)) return false;
  }
  for (const id of installationIds) {
    if ((await pending.size(id, 'to-salesforce')) > 0 || (await pending.size(id, 'to-hubspot')) > 0) return false;
  }
  return true;
}

/**
 * Waits until the app has done everything the changes so far caused, its own writes' webhooks and
 * Outbound Messages included: idle at two looks in a row 100 ms apart (HubSpot holds a change's
 * event up to 50 ms to batch it, unseen, before the delivery shows).
 */
export async function untilAppIdle(
  h: Pick<SyncHarness, 'app' | 'hubspotSandbox' | 'salesforceSandbox' | 'prefix'>,
  timeoutMs = 30_000,
): Promise<void> {
  const redis = new Redis(h.app.redisUrl);
  try {
    const pending = new PendingSet(redis, h.prefix);
    const installationIds = (await h.app.db.query<{ id: string }>('SELECT id FROM installations')).map((row) => row.id);
    let idleBefore = false;
    await eventually(
      async () => {
        const idle = await appIdleNow(h, pending, installationIds);
        const settled = idle && idleBefore;
        idleBefore = idle;
        return settled;
      },
      timeoutMs,
      'the app to finish what the changes caused',
      100,
    );
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits for a reconcile pass that starts after this call to finish, and for any pass running
 * before it: what a pass does about the records as they are now is then done and in the sync log.
 */
export async function untilReconcilePass(h: Pick<SyncHarness, 'app'>, timeoutMs = 30_000): Promise<void> {
  const since = Date.now();
  const queue = h.app.producer.queue('reconcile');
  await eventually(
    async () => {
      if ((await queue.getJobs(['active'])).some((job) => (job.processedOn ?? 0) <= since)) return false;
      return (await queue.getJobs(['completed'], 0, 20)).some((job) => (job.processedOn ?? 0) > since);
    },
    timeoutMs,
    'a reconcile pass started after now to finish',
    100,
  );
}

/**
 * A visitor submits the sandbox portal's form `formId` with these contact properties, on the page
 * `context` names (the Forms API computes the analytics properties from it); throws unless HubSpot took it.
 */
export async function submitHubSpotForm(
  h: Pick<SyncHarness, 'app' | 'hubspotSandbox'>,
  formId: string,
  properties: Record<string, string>,
  context: Record<string, string>,
): Promise<void> {
  const response = await fetch(
    `${h.hubspotSandbox.url}/submissions/v3/integration/submit/${h.app.config.sandbox.hubspot.portalId}/${formId}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        fields: Object.entries(properties).map(([name, value]) => ({ objectTypeId: '0-1', name, value })),
        context,
      }),
    },
  );
  if (response.status !== 200) throw new Error(`form ${formId} not taken: ${response.status} ${await response.text()}`);
}

/**
 * The whole app in-process against both sandbox CRMs (ports chosen by the OS), plus the people
 * who use them: a marketer editing contacts in the HubSpot UI and a sales rep with their own
 * Salesforce session.
 */
import { rmSync } from 'node:fs';
import { Client } from '@hubspot/api-client';
import { Redis } from 'ioredis';
import jsforce from 'jsforce';
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
import { ValueLedger } from '../../src/sync/value-ledger.ts';
import { eventually } from './app-process.ts';
import { dropPrefix, uniquePrefix } from './queue.ts';
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
  rep: jsforce.Connection;
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
  const hubspot = new Client({ accessToken: config.value.sandbox.hubspot.privateAppToken, basePath: hubspotSandbox.url });
  const token = salesforceSandbox.issueUserToken(salesforceSandbox.salesRepIds[0] as string);
  const rep = new jsforce.Connection({ instanceUrl: salesforceSandbox.url, accessToken: token.access_token, version: '62.0' });

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

/**
 * Two-way lifecycle sync end to end: the app (receivers, queues, workers) against both sandbox
 * CRMs over HTTP, driven the way people drive the real ones — marketers edit contacts in the
 * HubSpot UI, sales reps work Leads with their own Salesforce session.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/runtime/boot.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { eventually } from '../support/app-process.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';

interface LeadRow { Id: string; Status: string; OwnerId: string; Email: string | null; HubSpot_Contact_Id__c: string | null; Lifecycle_Stage__c: string | null; IsConverted: boolean; ConvertedOpportunityId: string | null }

describe('two-way lifecycle sync', () => {
  let app: RunningApp;
  let dataDir: string;
  let prefix: string;
  let hubspotSandbox: HubSpotSandbox;
  let salesforceSandbox: SalesforceSandbox;
  let hubspot: Client;
  let rep: jsforce.Connection;
  let seq = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-lifecycle-'));
    prefix = uniquePrefix();
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, REDIS_URL: inject('redisUrl'), SANDBOX_DEMO: 'false', SANDBOX_HUBSPOT_PORT: '0', SANDBOX_SALESFORCE_PORT: '0' });
    if (!config.ok) throw new Error(config.error);
    app = await boot(config.value, { role: 'all', log: createLogger('silent'), queuePrefix: prefix, coalesceMs: 50 });
    if (!app.sandboxes?.hubspot || !app.sandboxes.salesforce) throw new Error('sandboxes did not start');
    hubspotSandbox = app.sandboxes.hubspot;
    salesforceSandbox = app.sandboxes.salesforce;
    hubspot = new Client({ accessToken: 'pat-sandbox-hubspot', basePath: hubspotSandbox.url });
    const repId = salesforceSandbox.salesRepIds[0] as string;
    const token = salesforceSandbox.issueUserToken(repId);
    rep = new jsforce.Connection({ instanceUrl: salesforceSandbox.url, accessToken: token.access_token, version: '62.0' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropPrefix(prefix);
  });

  function newContact(overrides: Record<string, string> = {}): string {
    seq += 1;
    const created = hubspotSandbox.createInUi('contacts', {
      email: `person${seq}-${Date.now()}@example.com`, firstname: 'Ada', lastname: `Lovelace ${seq}`, company: 'Analytical Engines', jobtitle: 'CTO', phone: '+1 555 0100', lifecyclestage: 'lead', ...overrides,
    });
    return String(created.id);
  }

  async function contact(id: string): Promise<Record<string, string | null>> {
    const found = await hubspot.crm.contacts.basicApi.getById(id, ['lifecyclestage', 'hs_lead_status', 'salesforce_lead_id', 'salesforce_contact_id', 'email']);
    return found.properties;
  }

  async function leadsFor(where: string): Promise<LeadRow[]> {
    return (await rep.query<LeadRow>(`SELECT Id, Status, OwnerId, Email, HubSpot_Contact_Id__c, Lifecycle_Stage__c, IsConverted, ConvertedOpportunityId FROM Lead WHERE ${where}`)).records;
  }

  async function handOff(): Promise<{ contactId: string; lead: LeadRow }> {
    const contactId = newContact();
    hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    let lead: LeadRow | undefined;
    await eventually(async () => {
      lead = (await leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`))[0];
      return lead !== undefined;
    }, 20_000, 'the Lead to appear');
    return { contactId, lead: lead as LeadRow };
  }

  it('hands an MQL over to sales as a Salesforce Lead with status, stage and an assigned owner', async () => {
    const { contactId, lead } = await handOff();
    expect(lead.Status).toBe('Open - Not Contacted');
    expect(lead.Lifecycle_Stage__c).toBe('mql');
    expect(salesforceSandbox.salesRepIds).toContain(lead.OwnerId);
    await eventually(async () => (await contact(contactId)).salesforce_lead_id === lead.Id, 10_000, 'salesforce_lead_id on the contact');
  });

  it('moves the contact to SQL when a rep starts working the Lead', async () => {
    const { contactId, lead } = await handOff();
    await rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => {
      const props = await contact(contactId);
      return props.lifecyclestage === 'salesqualifiedlead' && props.hs_lead_status === 'IN_PROGRESS';
    }, 20_000, 'HubSpot SQL');
  });

  it('marks the contact an opportunity on conversion and a customer on Closed Won, and never moves it back', async () => {
    const { contactId, lead } = await handOff();
    await rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const converted = await rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const result = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string; contactId: string };
    await eventually(async () => (await contact(contactId)).lifecyclestage === 'opportunity', 20_000, 'HubSpot opportunity');
    await eventually(async () => (await contact(contactId)).salesforce_contact_id === result.contactId, 10_000, 'salesforce_contact_id');

    await rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Closed Won' });
    await eventually(async () => (await contact(contactId)).lifecyclestage === 'customer', 20_000, 'HubSpot customer');

    // Reopening the Opportunity would mean customer → opportunity: refused, the contact stays a customer.
    await rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Negotiation/Review' });
    await eventually(async () => {
      const rows = await app.db.query<{ n: number }>("SELECT count(*) AS n FROM sync_log WHERE action = 'refused' AND record_ref = $1", [`salesforce:Opportunity:${result.opportunityId}`]);
      return (rows[0]?.n ?? 0) > 0;
    }, 20_000, 'the refusal in the sync log');
    expect((await contact(contactId)).lifecyclestage).toBe('customer');
  });

  it('links to an existing Lead with the same email instead of creating a second one', async () => {
    const email = `existing-${Date.now()}@example.com`;
    const created = await rep.sobject('Lead').create({ LastName: 'Existing', Company: 'Acme', Email: email, Status: 'Working - Contacted' });
    const existingId = (created as { id: string }).id;
    const contactId = newContact({ email });
    hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    await eventually(async () => (await leadsFor(`Id = '${existingId}'`))[0]?.HubSpot_Contact_Id__c === contactId, 20_000, 'the existing Lead linked');
    const sameEmail = await leadsFor(`Email = '${email}'`);
    expect(sameEmail).toHaveLength(1);
    expect(sameEmail[0]?.Status).toBe('Working - Contacted');
    // Whichever side synced first (the rep's new Lead, or the MQL), the sync log says it linked.
    await eventually(async () => {
      const log = await app.db.query<{ action: string }>('SELECT action FROM sync_log WHERE record_ref IN ($1, $2)', [`hubspot:contact:${contactId}`, `salesforce:Lead:${existingId}`]);
      return log.some((l) => l.action === 'link_existing_lead' || l.action === 'link_contact');
    }, 10_000, 'the link in the sync log');
  });

  it('creates one Lead when the MQL event is delivered twice', async () => {
    hubspotSandbox.setFaults({ webhooks: { duplicate: {} } });
    try {
      const { contactId } = await handOff();
      await eventually(async () => hubspotSandbox.deliveries().filter((d) => d.duplicateOf !== undefined && d.state === 'delivered').length > 0, 10_000, 'a duplicate delivery');
      expect(await leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
    } finally {
      hubspotSandbox.clearFaults();
    }
  });

  it('creates a HubSpot contact for a Lead created in Salesforce', async () => {
    const email = `sales-sourced-${Date.now()}@example.com`;
    const created = (await rep.sobject('Lead').create({ FirstName: 'Grace', LastName: 'Hopper', Company: 'Navy', Email: email })) as { id: string };
    let contactId = '';
    await eventually(async () => {
      try {
        const found = await hubspot.crm.contacts.basicApi.getById(email, ['salesforce_lead_id'], undefined, undefined, false, 'email');
        contactId = found.id;
        return found.properties.salesforce_lead_id === created.id;
      } catch {
        return false;
      }
    }, 20_000, 'the HubSpot contact');
    await eventually(async () => (await leadsFor(`Id = '${created.id}'`))[0]?.HubSpot_Contact_Id__c === contactId, 10_000, 'HubSpot_Contact_Id__c on the Lead');
  });

  it('goes quiet after a change: its own writes do not come back as new syncs', async () => {
    await handOff();
    // Let every webhook and Outbound Message of that change arrive and be processed.
    const settled = async () => {
      const before = hubspotSandbox.stats().totals.calls + salesforceSandbox.stats().totalCalls;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return before === hubspotSandbox.stats().totals.calls + salesforceSandbox.stats().totalCalls;
    };
    await eventually(settled, 30_000, 'the system to go quiet');
  });
});

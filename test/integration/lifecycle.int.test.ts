/**
 * Two-way lifecycle sync end to end: the app (receivers, queues, workers) against both sandbox
 * CRMs over HTTP, driven the way people drive the real ones — marketers edit contacts in the
 * HubSpot UI, sales reps work Leads with their own Salesforce session.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, untilAppIdle, type SyncHarness } from '../support/sync-harness.ts';

describe('two-way lifecycle sync', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness();
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('hands an MQL over to sales as a Salesforce Lead with status, stage and an assigned owner', async () => {
    const { contactId, lead } = await h.handOff();
    expect(lead.Status).toBe('Open - Not Contacted');
    expect(lead.Lifecycle_Stage__c).toBe('mql');
    expect(h.salesforceSandbox.salesRepIds).toContain(lead.OwnerId);
    await eventually(async () => (await h.contact(contactId)).salesforce_lead_id === lead.Id, 10_000, 'salesforce_lead_id on the contact');
  });

  it('paces HubSpot at 90 % of the burst limit the portal reports (the sandbox portal: 100 per 10 s)', async () => {
    await h.handOff();
    const installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    const redis = new Redis(inject('redisUrl'));
    try {
      let learned: string[] = [];
      await eventually(
        async () => {
          learned = [];
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `*:limit:hubspot:${installationId}:*learned-limit`, 'COUNT', 1000);
            cursor = next;
            learned.push(...keys);
          } while (cursor !== '0');
          return learned.length === 1;
        },
        10_000,
        "the portal's limit learned",
      );
      expect(await redis.get(learned[0] ?? '')).toBe('90');
    } finally {
      redis.disconnect();
    }
  });

  it('moves the contact to SQL when a rep starts working the Lead', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(
      async () => {
        const props = await h.contact(contactId);
        return props.lifecyclestage === 'salesqualifiedlead' && props.hs_lead_status === 'IN_PROGRESS';
      },
      20_000,
      'HubSpot SQL',
    );
  });

  it('marks the contact an opportunity on conversion and a customer on Closed Won, and never moves it back', async () => {
    const { contactId, lead } = await h.handOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const result = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string; contactId: string };
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'opportunity', 20_000, 'HubSpot opportunity');
    await eventually(async () => (await h.contact(contactId)).salesforce_contact_id === result.contactId, 10_000, 'salesforce_contact_id');

    await h.rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Closed Won' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'customer', 20_000, 'HubSpot customer');

    // Reopening the Opportunity would mean customer → opportunity: refused, the contact stays a customer.
    await h.rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Negotiation/Review' });
    await eventually(
      async () => {
        const rows = await h.app.db.query<{ n: number }>(
          "SELECT count(*) AS n FROM sync_log WHERE action = 'refused' AND record_ref = $1",
          [`salesforce:Opportunity:${result.opportunityId}`],
        );
        return (rows[0]?.n ?? 0) > 0;
      },
      20_000,
      'the refusal in the sync log',
    );
    expect((await h.contact(contactId)).lifecyclestage).toBe('customer');
  });

  it('links to an existing Lead with the same email instead of creating a second one', async () => {
    const email = `existing-${Date.now()}@example.com`;
    const created = await h.rep
      .sobject('Lead')
      .create({ LastName: 'Existing', Company: 'Acme', Email: email, Status: 'Working - Contacted' });
    const existingId = (created as { id: string }).id;
    const contactId = h.newContact({ email });
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    await eventually(
      async () => (await h.leadsFor(`Id = '${existingId}'`))[0]?.HubSpot_Contact_Id__c === contactId,
      20_000,
      'the existing Lead linked',
    );
    const sameEmail = await h.leadsFor(`Email = '${email}'`);
    expect(sameEmail).toHaveLength(1);
    expect(sameEmail[0]?.Status).toBe('Working - Contacted');
    // Whichever side synced first (the rep's new Lead, or the MQL), the sync log says it linked.
    await eventually(
      async () => {
        const log = await h.app.db.query<{ action: string }>('SELECT action FROM sync_log WHERE record_ref IN ($1, $2)', [
          `hubspot:contact:${contactId}`,
          `salesforce:Lead:${existingId}`,
        ]);
        return log.some((l) => l.action === 'link_existing_lead' || l.action === 'link_contact');
      },
      10_000,
      'the link in the sync log',
    );
  });

  it('creates one Lead when the MQL event is delivered twice', async () => {
    h.hubspotSandbox.setFaults({ webhooks: { duplicate: {} } });
    try {
      const { contactId } = await h.handOff();
      await eventually(
        async () => h.hubspotSandbox.deliveries().filter((d) => d.duplicateOf !== undefined && d.state === 'delivered').length > 0,
        10_000,
        'a duplicate delivery',
      );
      expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
    } finally {
      h.hubspotSandbox.clearFaults();
    }
  });

  it('creates a HubSpot contact for a Lead created in Salesforce', async () => {
    const email = `sales-sourced-${Date.now()}@example.com`;
    const created = (await h.rep.sobject('Lead').create({ FirstName: 'Grace', LastName: 'Hopper', Company: 'Navy', Email: email })) as {
      id: string;
    };
    let contactId = '';
    await eventually(
      async () => {
        try {
          const found = await h.hubspot.crm.contacts.basicApi.getById(email, ['salesforce_lead_id'], undefined, undefined, false, 'email');
          contactId = found.id;
          return found.properties.salesforce_lead_id === created.id;
        } catch {
          return false;
        }
      },
      20_000,
      'the HubSpot contact',
    );
    await eventually(
      async () => (await h.leadsFor(`Id = '${created.id}'`))[0]?.HubSpot_Contact_Id__c === contactId,
      10_000,
      'HubSpot_Contact_Id__c on the Lead',
    );
  });

  it('fills a blank Lead field from a later HubSpot change and keeps the Lead owner', async () => {
    const { contactId, lead } = await h.handOff({ jobtitle: '' });
    const otherRep = h.salesforceSandbox.salesRepIds.find((id) => id !== lead.OwnerId) as string;
    await h.rep.sobject('Lead').update({ Id: lead.Id, OwnerId: otherRep });
    h.hubspotSandbox.editInUi('contacts', contactId, { jobtitle: 'VP Marketing' });
    await eventually(
      async () => {
        const rows = (
          await h.rep.query<{ Title: string | null; OwnerId: string }>(`SELECT Title, OwnerId FROM Lead WHERE Id = '${lead.Id}'`)
        ).records;
        return rows[0]?.Title === 'VP Marketing';
      },
      20_000,
      'the Title on the Lead',
    );
    const after = (await h.rep.query<{ OwnerId: string }>(`SELECT OwnerId FROM Lead WHERE Id = '${lead.Id}'`)).records[0];
    expect(after?.OwnerId).toBe(otherRep);
  });

  it('makes a bounded number of API calls for one handoff and then goes quiet (no echo)', async () => {
    // HubSpot calls without the test's own single-contact reads (GET …/contacts/{objectId}).
    const calls = () => {
      const stats = h.hubspotSandbox.stats();
      return {
        hubspot: stats.totals.calls - (stats.endpoints['GET /crm/v3/objects/contacts/{objectId}'] ?? 0),
        salesforce: h.salesforceSandbox.stats().totalCalls,
      };
    };
    // Writes only (the reconciler, should a pass fall in the window, only reads).
    const writes = () => ({
      hubspot: h.hubspotSandbox.stats().endpoints['POST /crm/v3/objects/contacts/batch/update'] ?? 0,
      salesforce: Object.entries(h.salesforceSandbox.stats().calls)
        .filter(([endpoint]) => /^(PATCH|POST) .*composite\/sobjects/.test(endpoint))
        .reduce((n, [, count]) => n + count, 0),
    });
    // Nothing the earlier tests caused is still on its way.
    await untilAppIdle(h);
    const before = calls();
    const writesBefore = writes();
    const contactId = h.newContact();
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    await eventually(async () => Boolean((await h.contact(contactId)).salesforce_lead_id), 20_000, 'the handoff');
    // Every webhook and Outbound Message the change caused, the app's own writes included, arrives and is filtered.
    await untilAppIdle(h);
    const after = calls();
    // HubSpot: one batch read, one batch update (salesforce_lead_id). Salesforce: the email lookups,
    // one upsert and the read of the new Lead as its SLA clock starts (a rep may have worked it already).
    expect(after.hubspot - before.hubspot).toBeLessThanOrEqual(3);
    expect(after.salesforce - before.salesforce).toBeLessThanOrEqual(5);
    // The Lead (with its SLA stamp) is one write; the contact's ids and SLA stamp are another.
    expect(writes().hubspot - writesBefore.hubspot).toBe(1);
    expect(writes().salesforce - writesBefore.salesforce).toBe(1);
  });
});

/**
 * The lifecycle sync under the faults real CRMs produce: rate-limit storms, server errors,
 * duplicated and reordered deliveries. Whatever happens on the way, every change lands once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_SYNC_PROPERTIES } from '../../src/sync/context.ts';
import { syncContactsToSalesforce } from '../../src/sync/handoff.ts';
import { eventually } from '../support/app-process.ts';
import { directSyncContext, startSyncHarness, untilAppIdle, type SyncHarness } from '../support/sync-harness.ts';

describe('lifecycle sync under faults', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    // No scheduled reconcile pass during these tests: a lost delivery stays lost until a test says so.
    h = await startSyncHarness({ RECONCILE_INTERVAL_MS: '3600000' });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('applies every change once through a 429 storm and 5xx errors on both sides', async () => {
    h.hubspotSandbox.setFaults({
      http: [
        { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', status: 429, policyName: 'SECONDLY', count: 3 },
        { method: 'POST', path: '/crm/v3/objects/contacts/batch/update', status: 502, count: 2 },
      ],
    });
    h.salesforceSandbox.faults.set({
      endpoints: [
        { method: 'PATCH', path: '/services/data/*/composite/sobjects*', error: 'SERVER_UNAVAILABLE', count: 2 },
        { method: 'GET', path: '/services/data/*/query*', error: 'UNKNOWN_EXCEPTION', count: 2 },
      ],
    });
    try {
      const contacts = Array.from({ length: 12 }, () => h.newContact());
      for (const id of contacts) h.hubspotSandbox.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
      await eventually(
        async () => {
          const leads = await h.leadsFor(`HubSpot_Contact_Id__c IN (${contacts.map((c) => `'${c}'`).join(',')})`);
          return leads.length === contacts.length;
        },
        90_000,
        'a Lead for every contact',
      );
      for (const id of contacts) {
        expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${id}'`)).toHaveLength(1);
        await eventually(async () => Boolean((await h.contact(id)).salesforce_lead_id), 60_000, `salesforce_lead_id on ${id}`);
      }
      expect(h.hubspotSandbox.stats().totals.faultsInjected).toBeGreaterThanOrEqual(5);
      expect(h.salesforceSandbox.stats().faultsInjected).toBeGreaterThanOrEqual(2);
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  }, 180_000);

  it('never reopens a Lead sales closed before HubSpot heard of it, also when the handoff that made it had to be retried', async () => {
    // The handoff creates the Lead, then fails writing back to HubSpot: no link, no stage row yet.
    h.hubspotSandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/update', status: 502, count: 10_000 }] });
    // And the rep's recycle does not reach the app (its Outbound Message is lost).
    h.salesforceSandbox.faults.set({ outbound: { drop: { probability: 1 } } });
    try {
      const contactId = h.newContact();
      h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
      await eventually(
        async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).length === 1,
        30_000,
        'the Lead of the failing handoff',
      );
      const [lead] = await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`);
      const leadId = lead?.Id ?? '';
      const owner = ((await h.rep.sobject('Lead').retrieve(leadId)) as unknown as { OwnerId: string }).OwnerId;
      await h.rep.sobject('Lead').update({ Id: leadId, Status: 'Closed - Not Converted', Feedback_Reason__c: 'Bad timing' });

      // The retried handoff gets through and links the Lead; HubSpot still says MQL.
      h.hubspotSandbox.clearFaults();
      await eventually(
        async () => (await h.contact(contactId)).salesforce_lead_id === leadId,
        60_000,
        'the retried handoff to link the Lead',
      );
      await eventually(
        async () =>
          (
            await h.app.db.query('SELECT 1 FROM record_links WHERE hubspot_contact_id = $1 AND salesforce_lead_id = $2', [
              contactId,
              leadId,
            ])
          ).length === 1,
        10_000,
        'the link saved',
      );
      // A marketer's edit syncs the contact again: its MQL is older news than the rep's recycle.
      const editedAt = new Date();
      h.hubspotSandbox.editInUi('contacts', contactId, { jobtitle: 'Head of Nurture' });
      await eventually(
        async () => {
          const rows = await h.app.db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM sync_log WHERE record_ref = $1 AND created_at > $2',
            [`hubspot:contact:${contactId}`, editedAt],
          );
          return (rows[0]?.n ?? 0) > 0;
        },
        30_000,
        'the edit to sync',
      ).catch(async (e: unknown) => {
        const log = await h.app.db.query('SELECT created_at, record_ref, action, reason FROM sync_log ORDER BY id DESC LIMIT 25');
        throw new Error(`${String(e)}\n${JSON.stringify(await h.contact(contactId))}\n${log.map((l) => JSON.stringify(l)).join('\n')}`);
      });
      const after = (await h.rep.sobject('Lead').retrieve(leadId)) as unknown as { Status: string; OwnerId: string; Title: string | null };
      expect(after.Status).toBe('Closed - Not Converted');
      expect(after.OwnerId).toBe(owner);
      expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
      // Linked once, the contact is not handed off again and again: once the app has done all that
      // the edit caused (its own writes' webhooks included), the handoffs are counted.
      await untilAppIdle(h);
      const handoffs = await h.app.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM sync_log WHERE record_ref = $1 AND action = 'handoff'",
        [`hubspot:contact:${contactId}`],
      );
      expect(handoffs[0]?.n).toBeLessThanOrEqual(2);
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  }, 120_000);

  it('does not reopen a recycled Lead on a HubSpot answer that predates the recycle, and does when marketing qualifies it again', async () => {
    const { contactId, lead } = await h.handOff();
    await eventually(async () => (await h.contact(contactId)).salesforce_lead_id === lead.Id, 30_000, 'the handoff written back');
    const { ctx, close } = await directSyncContext(h);
    try {
      // HubSpot's answer to a read made now, before the rep recycles the Lead…
      const [before] = await ctx.hubspot.readContacts([contactId], CONTACT_SYNC_PROPERTIES);
      expect(before?.properties.lifecyclestage).toBe('marketingqualifiedlead');
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Closed - Not Converted', Feedback_Reason__c: 'Bad timing' });
      await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'lead', 30_000, 'the recycle written to HubSpot');
      await eventually(
        async () =>
          (await h.app.db.query("SELECT 1 FROM stage_history WHERE hubspot_contact_id = $1 AND stage = 'recycled'", [contactId])).length ===
          1,
        10_000,
        'the recycle recorded',
      );

      // …arrives only now, at a sync of the contact (a slow network hop): it still says MQL.
      let late = true;
      const hubspot = Object.create(ctx.hubspot) as typeof ctx.hubspot;
      hubspot.readContacts = async (ids, properties) => {
        if (late && before) {
          late = false;
          return [before];
        }
        return ctx.hubspot.readContacts(ids, properties);
      };
      await syncContactsToSalesforce({ ...ctx, hubspot }, [contactId]);

      const after = (await h.rep.sobject('Lead').retrieve(lead.Id)) as unknown as { Status: string };
      expect(after.Status).toBe('Closed - Not Converted');
      expect((await h.contact(contactId)).lifecyclestage).toBe('lead');
      const skipped = await h.app.db.query<{ reason: string }>(
        "SELECT reason FROM sync_log WHERE record_ref = $1 AND action = 'no_stage_change' ORDER BY id DESC LIMIT 1",
        [`hubspot:contact:${contactId}`],
      );
      expect(skipped[0]?.reason).toContain('the first answer predated the recycle');

      // Marketing qualifying the contact again after the recycle does reopen the Lead.
      h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
      await eventually(
        async () => ((await h.rep.sobject('Lead').retrieve(lead.Id)) as unknown as { Status: string }).Status === 'Open - Not Contacted',
        30_000,
        'the re-qualified contact to reopen its Lead',
      );
      expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
    } finally {
      await close();
    }
  }, 90_000);

  it('converges on the newest state when deliveries are duplicated and reordered', async () => {
    h.hubspotSandbox.setFaults({
      seed: 7,
      webhooks: { duplicate: { probability: 0.5 }, reorderWithin: {}, reorderBetween: { probability: 0.5 } },
    });
    h.salesforceSandbox.faults.set({ seed: 7, outbound: { duplicate: { probability: 0.5 }, reorder: { probability: 0.5 } } });
    try {
      const { contactId, lead } = await h.handOff();
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
      const result = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
      await h.rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Closed Won' });
      await eventually(
        async () => (await h.contact(contactId)).lifecyclestage === 'customer',
        30_000,
        'the contact to become a customer',
      ).catch(async (e: unknown) => {
        const log = await h.app.db.query('SELECT record_ref, action, reason FROM sync_log ORDER BY id DESC LIMIT 30');
        throw new Error(
          `${String(e)}\n${JSON.stringify(await h.contact(contactId))}\n${JSON.stringify(h.salesforceSandbox.outbound.deliveries().slice(-10))}\n${JSON.stringify(h.salesforceSandbox.outbound.pending())}\n${log.map((l) => JSON.stringify(l)).join('\n')}`,
        );
      });
      expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
      const history = await h.app.db.query<{ stage: string }>(
        'SELECT stage FROM stage_history WHERE hubspot_contact_id = $1 ORDER BY occurred_at, id',
        [contactId],
      );
      const stages = history.map((r) => r.stage);
      // The funnel only moves forward: no stage appears after a later one.
      const rank = ['mql', 'sql', 'opportunity', 'customer'];
      const ranks = stages.filter((s) => rank.includes(s)).map((s) => rank.indexOf(s));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(stages.at(-1)).toBe('customer');
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { queues } from '../../src/queue/catalog.ts';
import { eventually } from '../support/app-process.ts';
import { directSyncContext, startSyncHarness, untilAppIdle, untilReconcilePass, type SyncHarness } from '../support/sync-harness.ts';
import { DEFAULT_FIELD_MAPPINGS } from '../../src/domain/stages.ts';
import { syncContactsToSalesforce } from '../../src/sync/handoff.ts';
import { watchedContactProperties } from '../../src/sync/mapped-fields.ts';
import { reconcileHubSpot } from '../../src/sync/reconcile.ts';

describe('the reconciler', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({}, { reconcileIntervalMs: 1_000 });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  /**
   * A handoff whose every step is done (the Lead's SLA clock started, the app's own writes back as
   * echoes), so the Outbound Message a test drops next is the rep's change and nothing else.
   */
  async function handedOff(): ReturnType<SyncHarness['handOff']> {
    const handoff = await h.handOff();
    await untilAppIdle(h);
    return handoff;
  }

  it('applies a HubSpot change whose webhook was dropped', async () => {
    const contactId = h.newContact();
    // Let the creation's webhook arrive and its sync finish, so only the dropped MQL change is left
    // for the reconciler (a pass that sees the contact before its creation webhook catches that instead).
    await eventually(
      async () => {
        const received = await h.app.db.query("SELECT 1 FROM inbound_events WHERE source = 'hubspot' AND object_id = $1", [contactId]);
        const rows = await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM sync_log WHERE record_ref = $1', [
          `hubspot:contact:${contactId}`,
        ]);
        return received.length > 0 && (rows[0]?.n ?? 0) > 0;
      },
      20_000,
      'the creation received and synced',
    );
    // A pass running while the creation's webhooks land may catch the creation itself: once a pass
    // that started after it has finished, only what is logged after the MQL change counts here.
    await untilReconcilePass(h);
    const [mark] = await h.app.db.query<{ id: string | null }>('SELECT max(id) AS id FROM sync_log');
    h.hubspotSandbox.setFaults({ webhooks: { drop: { next: 1 } } });
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    await eventually(
      async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).length === 1,
      30_000,
      'the Lead created by the reconciler',
    );
    // The catch is reported in the sync log, naming what the lost webhook would have said.
    const caught = () =>
      h.app.db.query<{ level: string; reason: string }>(
        "SELECT level, reason FROM sync_log WHERE record_ref = $1 AND action = 'reconcile_caught' AND id > $2 ORDER BY id DESC",
        [`hubspot:contact:${contactId}`, mark?.id ?? 0],
      );
    await eventually(async () => (await caught()).length > 0, 30_000, 'the lost webhook reported');
    const log = await caught();
    // The warning names the watched property whose webhook was lost.
    expect(log[0]).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/^lifecyclestage changed by .* with no webhook received for it/) as unknown,
    });
    expect(h.hubspotSandbox.faults().counters.dropped).toBe(1);
    h.hubspotSandbox.clearFaults();
  });

  it('syncs a contact modified only in unwatched properties without a warning', async () => {
    const contactId = h.newContact();
    await eventually(
      async () => {
        const rows = await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM sync_log WHERE record_ref = $1', [
          `hubspot:contact:${contactId}`,
        ]);
        return (rows[0]?.n ?? 0) > 0;
      },
      20_000,
      'the creation synced',
    );
    // No subscription covers `city`: HubSpot sends nothing, and nothing was lost.
    h.hubspotSandbox.editInUi('contacts', contactId, { city: 'Lyon' });
    const actions = async () =>
      await h.app.db.query<{ action: string; level: string }>(
        "SELECT action, level FROM sync_log WHERE record_ref = $1 AND action LIKE 'reconcile_%'",
        [`hubspot:contact:${contactId}`],
      );
    await eventually(async () => (await actions()).length > 0, 20_000, 'the reconciler to see the edit');
    expect(await actions()).toEqual([{ action: 'reconcile_checked', level: 'info' }]);
  });

  it('applies a Salesforce change whose Outbound Message was dropped', async () => {
    const { contactId, lead } = await handedOff();
    h.salesforceSandbox.faults.set({ outbound: { drop: { next: 1 } } });
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(
      async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead',
      30_000,
      'HubSpot SQL via the reconciler',
    );
    const caught = () =>
      h.app.db.query<{ level: string; reason: string }>(
        "SELECT level, reason FROM sync_log WHERE record_ref = $1 AND action = 'reconcile_caught' ORDER BY id DESC",
        [`salesforce:Lead:${lead.Id}`],
      );
    await eventually(async () => (await caught()).length > 0, 30_000, 'the lost Outbound Message reported');
    const log = await caught();
    expect(log[0]).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/^Status changed by .* with no Outbound Message received for it/) as unknown,
    });
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toMatch(/reconcile_caught_total\{stream="salesforce:Lead"\} [1-9]/);
    h.salesforceSandbox.faults.clear();
  });

  it("applies a change to a converted person's Contact whose Outbound Message was dropped", async () => {
    const { contactId, lead } = await handedOff();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const { contactId: personId } = (Array.isArray(converted) ? converted[0] : converted) as { contactId: string };
    await eventually(async () => (await h.contact(contactId)).salesforce_contact_id === personId, 30_000, 'the conversion linked');
    await untilAppIdle(h);
    h.salesforceSandbox.faults.set({ outbound: { drop: { next: 1 } } });
    try {
      await h.rep.sobject('Contact').update({ Id: personId, Phone: '+1 555 0199' });
      await eventually(
        async () => (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['phone'])).properties.phone === '+1 555 0199',
        30_000,
        "the Contact's phone in HubSpot via the reconciler",
      );
      const caught = await h.app.db.query<{ level: string; reason: string }>(
        "SELECT level, reason FROM sync_log WHERE record_ref = $1 AND action = 'reconcile_caught'",
        [`salesforce:Contact:${personId}`],
      );
      expect(caught[0]).toMatchObject({
        level: 'warn',
        // Every watched field when no message for the Contact was ever received (its first came from the app's own writes, or none).
        reason: expect.stringMatching(
          /^(?:[A-Za-z]+, )*Phone(?:, [A-Za-z]+)* changed by .* with no Outbound Message received for it/,
        ) as unknown,
      });
    } finally {
      h.salesforceSandbox.faults.clear();
    }
  });

  it('still catches a Salesforce change while every HubSpot search of its passes is rate-limited', async () => {
    const { contactId, lead } = await handedOff();
    h.hubspotSandbox.setFaults({
      http: [{ method: 'POST', path: '/crm/v3/objects/contacts/search', status: 429, policyName: 'SECONDLY', count: 10_000 }],
    });
    h.salesforceSandbox.faults.set({ outbound: { drop: { next: 1 } } });
    try {
      // The change is made once a pass has met the rate limit (a pass already past its search when
      // the fault was set could otherwise catch it before any search failed).
      await eventually(async () => h.hubspotSandbox.stats().totals.faultsInjected > 0, 10_000, 'a rate-limited search');
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      await eventually(
        async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead',
        30_000,
        'HubSpot SQL via the reconciler',
      );
      expect(h.hubspotSandbox.stats().totals.faultsInjected).toBeGreaterThan(0);
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  });

  it('still catches a Salesforce change while every HubSpot search of its passes fails with a 502, and no pass ends failed', async () => {
    const { contactId, lead } = await handedOff();
    const reconcile = new Queue(queues.reconcile.name, { connection: { url: h.app.redisUrl }, prefix: h.prefix });
    const failedBefore = await reconcile.getFailedCount();
    h.hubspotSandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/search', status: 502, count: 10_000 }] });
    h.salesforceSandbox.faults.set({ outbound: { drop: { next: 1 } } });
    try {
      await eventually(async () => h.hubspotSandbox.stats().totals.faultsInjected > 0, 10_000, 'a failed search');
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      await eventually(
        async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead',
        30_000,
        'HubSpot SQL via the reconciler',
      );
      // Passes kept running past the failing stream: none used up its attempts on it.
      expect(await reconcile.getFailedCount()).toBe(failedBefore);
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
      await reconcile.close();
    }
  });
});

describe("the reconciler and the app's own writes", () => {
  let h: SyncHarness;

  beforeAll(async () => {
    // Passes only when the test runs them.
    h = await startSyncHarness({}, { reconcileIntervalMs: 3_600_000 });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it("syncs a change whose webhook was lost just before the app wrote the contact: the app's echo is no news of it", async () => {
    const { contactId, lead } = await h.handOff({ phone: '' });
    await untilAppIdle(h);
    const direct = await directSyncContext(h);
    try {
      const marked: string[] = [];
      const pass = () =>
        reconcileHubSpot({
          db: h.app.db,
          installationId: direct.ctx.installationId,
          hubspot: direct.ctx.hubspot,
          salesforce: direct.ctx.salesforce,
          watchedProperties: watchedContactProperties(DEFAULT_FIELD_MAPPINGS),
          markPending: async (_direction, keys) => {
            marked.push(...keys);
          },
          now: () => new Date(),
          lookbackMs: 120_000,
          pageLimit: 2_000,
        });
      await pass();
      marked.length = 0;

      // The marketer adds the phone and its webhook is lost; the app then writes the contact (the job
      // title a rep set, say), and that write's webhook comes back.
      h.hubspotSandbox.setFaults({ webhooks: { drop: { next: 1 } } });
      h.hubspotSandbox.editInUi('contacts', contactId, { phone: '+1 555 0177' });
      await eventually(async () => h.hubspotSandbox.faults().counters.dropped === 1, 10_000, 'the webhook dropped');
      await direct.ctx.hubspot.updateContacts([{ id: contactId, properties: { jobtitle: 'Chief Technology Officer' } }]);
      await eventually(
        async () =>
          (
            await h.app.db.query(
              "SELECT 1 FROM inbound_events WHERE object_id = $1 AND own_write AND occurred_at > now() - interval '1 minute'",
              [contactId],
            )
          ).length > 0,
        10_000,
        "the app's own write back as an echo",
      );

      await pass();
      expect(marked).toEqual([contactId]);
      const lines = await h.app.db.query<{ action: string; reason: string }>(
        "SELECT action, reason FROM sync_log WHERE record_ref = $1 AND action = 'reconcile_checked' ORDER BY id DESC LIMIT 1",
        [`hubspot:contact:${contactId}`],
      );
      expect(lines[0]?.reason).toMatch(/by the app's own write \(its webhook came back\)/);
      await syncContactsToSalesforce(direct.ctx, marked);
      const phone = await h.rep.query<{ Phone: string | null }>(`SELECT Phone FROM Lead WHERE Id = '${lead.Id}'`);
      expect(phone.records[0]?.Phone).toBe('+1 555 0177');
    } finally {
      h.hubspotSandbox.clearFaults();
      await direct.close();
    }
  }, 90_000);
});

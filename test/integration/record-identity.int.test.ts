/**
 * Merges, deletions, restores and email changes through the running app, the real clients and
 * both sandboxes: one link per person whatever the CRMs do to their records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, eventuallyValue } from '../support/app-process.ts';
import { loginAsIntegration } from '../support/salesforce-org.ts';
import { directSyncContext, startSyncHarness, untilAppIdle, untilReconcilePass, type SyncHarness } from '../support/sync-harness.ts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queues } from '../../src/queue/catalog.ts';
import { saveLinks } from '../../src/store/record-links.ts';
import { underDrainLock } from '../../src/sync/drain.ts';
import { syncContactsToSalesforce } from '../../src/sync/handoff.ts';
import { applyHubSpotMerge, settleLateLinksOfMergedContacts } from '../../src/sync/merges.ts';

interface LinkRow extends Record<string, unknown> {
  hubspot_contact_id: string;
  salesforce_lead_id: string | null;
}

describe('record identity', () => {
  let h: SyncHarness;
  let seq = 0;
  // Probes that read HubSpot poll every 500 ms: the test shares the portal's 10-second limit with the app.
  const email = () => `identity${(seq += 1)}-${Date.now()}@example.com`;
  const linkOf = async (contactId: string) =>
    (
      await h.app.db.query<LinkRow>('SELECT hubspot_contact_id, salesforce_lead_id FROM record_links WHERE hubspot_contact_id = $1', [
        contactId,
      ])
    )[0];
  const linksOfLead = (leadId: string) =>
    h.app.db.query<LinkRow>('SELECT hubspot_contact_id, salesforce_lead_id FROM record_links WHERE salesforce_lead_id = $1', [leadId]);
  const logged = async (recordRef: string, action: string) =>
    await h.app.db.query<{ reason: string }>('SELECT reason FROM sync_log WHERE record_ref = $1 AND action = $2', [recordRef, action]);

  /** Takes the installation's to-Salesforce drain lock as a running batch would (once no batch holds it); returns its release. */
  const holdDrainLock = (redis: Redis, installation: string): Promise<() => Promise<void>> =>
    eventuallyValue(
      async () => {
        let release!: () => void;
        let entered!: () => void;
        const holding = new Promise<void>((resolve) => (release = resolve));
        const inside = new Promise<'held'>((resolve) => (entered = () => resolve('held')));
        const run = underDrainLock({ redis, prefix: h.prefix }, installation, 'to-salesforce', async () => {
          entered();
          await holding;
        });
        if ((await Promise.race([inside, run.then((r) => r.kind)])) !== 'held') return undefined;
        return async () => {
          release();
          await run;
        };
      },
      30_000,
      'the drain lock free to take',
      100,
    );
  /** Salesforce as the app's integration user: what the app writes, a test can write the same way. */
  const integrationUser = () => loginAsIntegration(h.salesforceSandbox);
  const installationId = async () =>
    (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  const ADMIN_TOKEN = 'record-identity-admin-token-0123456789-abcdefgh';
  const api = async (method: string, path: string, body?: unknown) => {
    const installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    const response = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN }, { reconcileIntervalMs: 1_000 });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('leaves one link and no duplicate Lead when two HubSpot contacts that each had a Lead merge; the survivor keeps the earlier first touch and both stage histories', async () => {
    const older = await h.handOff({ email: email() });
    const newer = await h.handOff({ email: email() });
    const firstTouches = async (ids: string[]) =>
      h.app.db.query<{ hubspot_contact_id: string; occurred_at: Date }>(
        'SELECT hubspot_contact_id, occurred_at FROM attribution_touches WHERE hubspot_contact_id = ANY($1) AND is_first',
        [ids],
      );
    await eventually(async () => (await firstTouches([older.contactId, newer.contactId])).length === 2, 20_000, 'both first touches');
    const earlier = (await firstTouches([older.contactId])).map((t) => t.occurred_at.getTime())[0];

    // The newer contact is the primary: its values win in HubSpot, but not its later first touch.
    const merged = await h.hubspot.crm.contacts.basicApi.merge({ primaryObjectId: newer.contactId, objectIdToMerge: older.contactId });
    expect(merged.id).not.toBe(newer.contactId);
    expect(merged.id).not.toBe(older.contactId);
    // An old id reads the merged record under its new id (HubSpot's merge behaviour since the change).
    expect((await h.hubspot.crm.contacts.basicApi.getById(older.contactId, ['hs_merged_object_ids'])).id).toBe(merged.id);

    await eventually(
      async () => (await linkOf(merged.id))?.salesforce_lead_id === newer.lead.Id,
      30_000,
      "the survivor linked to the primary's Lead",
    );
    expect(await linkOf(older.contactId)).toBeUndefined();
    expect(await linkOf(newer.contactId)).toBeUndefined();
    expect(await linksOfLead(older.lead.Id)).toEqual([]);
    await eventually(
      async () => (await h.leadsFor(`Id = '${older.lead.Id}'`))[0]?.HubSpot_Contact_Id__c === null,
      20_000,
      'the duplicate Lead let go of its contact',
    );
    expect((await h.leadsFor(`Id = '${newer.lead.Id}'`))[0]?.HubSpot_Contact_Id__c).toBe(merged.id);
    await eventually(
      async () => (await logged(`salesforce:Lead:${older.lead.Id}`, 'merge_duplicate_unlinked')).length === 1,
      20_000,
      'the duplicate Lead reported',
    );

    // The survivor syncs without making a Lead of its own.
    const [mark] = await h.app.db.query<{ id: string | null }>('SELECT max(id) AS id FROM sync_log');
    h.hubspotSandbox.editInUi('contacts', merged.id, { jobtitle: 'VP Engineering' });
    await eventually(
      async () =>
        (await h.app.db.query('SELECT 1 FROM sync_log WHERE record_ref = $1 AND id > $2', [`hubspot:contact:${merged.id}`, mark?.id ?? 0]))
          .length > 0,
      20_000,
      'the survivor synced',
    );
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${merged.id}'`)).toHaveLength(1);
    const stageRows = await h.app.db.query<{ hubspot_contact_id: string }>(
      'SELECT hubspot_contact_id FROM stage_history WHERE hubspot_contact_id = ANY($1)',
      [[older.contactId, newer.contactId, merged.id]],
    );
    expect(stageRows.length).toBeGreaterThanOrEqual(2);
    expect(stageRows.every((r) => r.hubspot_contact_id === merged.id)).toBe(true);
    const touches = await firstTouches([older.contactId, newer.contactId, merged.id]);
    expect(touches.map((t) => [t.hubspot_contact_id, t.occurred_at.getTime()])).toEqual([[merged.id, earlier]]);
    await eventually(
      async () =>
        Date.parse(
          (await h.hubspot.crm.contacts.basicApi.getById(merged.id, ['attribution_first_at'])).properties.attribution_first_at ?? '',
        ) === earlier,
      20_000,
      'the earlier first touch on the survivor',
      500,
    );
  }, 120_000);

  it('finds the Lead of a handoff that stopped before saving its link when its contact is merged, and lets it go', async () => {
    const kept = await h.handOff({ email: email() });
    // A Lead the app made for a contact whose link was never saved (the handoff stopped between its
    // writes), written as the integration user; nothing may link it meanwhile, so the Salesforce side waits.
    const integration = await integrationUser();
    expect((await api('POST', '/pause', { direction: 'to-hubspot' })).status).toBe(200);
    try {
      const strayId = h.newContact({ email: email() });
      const stray = await integration
        .sobject('Lead')
        .create({ LastName: 'Stray', Company: 'Analytical Engines', HubSpot_Contact_Id__c: strayId });
      const strayLeadId = String(stray.id);
      const merged = await h.hubspot.crm.contacts.basicApi.merge({ primaryObjectId: kept.contactId, objectIdToMerge: strayId });

      await eventually(
        async () => (await h.leadsFor(`Id = '${strayLeadId}'`))[0]?.HubSpot_Contact_Id__c === null,
        30_000,
        'the stray Lead let go of the merged-away contact',
      );
      await eventually(
        async () => (await logged(`salesforce:Lead:${strayLeadId}`, 'merge_duplicate_unlinked')).length === 1,
        20_000,
        'the duplicate reported',
      );
      expect(await linksOfLead(strayLeadId)).toEqual([]);
      expect((await linkOf(merged.id))?.salesforce_lead_id).toBe(kept.lead.Id);
      expect(await h.leadsFor(`Id = '${strayLeadId}'`)).toHaveLength(1);
    } finally {
      expect((await api('POST', '/resume', { direction: 'to-hubspot' })).status).toBe(200);
    }
  }, 90_000);

  it("keeps the primary's link when the survivor got a Lead of its own before its merge was applied, and the survivor goes on syncing", async () => {
    const primary = await h.handOff({ email: email() });
    const other = await h.handOff({ email: email() });
    const redis = new Redis(h.app.redisUrl);
    try {
      const installation = await installationId();
      const release = await holdDrainLock(redis, installation);
      let survivorId: string;
      let ownLeadId: string;
      try {
        const merged = await h.hubspot.crm.contacts.basicApi.merge({
          primaryObjectId: primary.contactId,
          objectIdToMerge: other.contactId,
        });
        survivorId = merged.id;
        // What a handoff batch running beside the ones that linked the two contacts leaves behind:
        // the survivor, an MQL no link named yet, handed off with a Lead and a link of its own.
        const own = await (
          await integrationUser()
        )
          .sobject('Lead')
          .create({ LastName: 'Survivor', Company: 'Analytical Engines', Email: email(), HubSpot_Contact_Id__c: survivorId });
        ownLeadId = String(own.id);
        await saveLinks(h.app.db, installation, [
          {
            hubspotContactId: survivorId,
            email: null,
            salesforceLeadId: ownLeadId,
            salesforceContactId: null,
            salesforceOpportunityId: null,
          },
        ]);
      } finally {
        await release();
      }

      await eventually(
        async () => (await logged(`hubspot:contact:${survivorId}`, 'merge_contacts')).length === 1,
        30_000,
        'the merge applied',
      );
      expect((await linkOf(survivorId))?.salesforce_lead_id).toBe(primary.lead.Id);
      for (const duplicate of [other.lead.Id, ownLeadId]) {
        expect(await linksOfLead(duplicate)).toEqual([]);
        expect(await logged(`salesforce:Lead:${duplicate}`, 'merge_duplicate_unlinked')).toHaveLength(1);
      }

      // The survivor is not taken for a contact whose link was set aside: its changes reach the kept Lead.
      const [mark] = await h.app.db.query<{ id: string | null }>('SELECT max(id) AS id FROM sync_log');
      h.hubspotSandbox.editInUi('contacts', survivorId, { jobtitle: 'Head of Survival' });
      await eventually(
        async () =>
          (
            await h.app.db.query('SELECT 1 FROM sync_log WHERE record_ref = $1 AND id > $2', [
              `hubspot:contact:${survivorId}`,
              mark?.id ?? 0,
            ])
          ).length > 0,
        30_000,
        'the survivor synced',
      );
      expect(await logged(`hubspot:contact:${survivorId}`, 'skip_unlinked')).toEqual([]);
      expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${survivorId}'`)).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  it("lets a survivor synced before its merge event take the primary's Lead that a stopped handoff left unlinked; the event applied later keeps it", async () => {
    const redis = new Redis(h.app.redisUrl);
    const direct = await directSyncContext(h);
    const integration = await integrationUser();
    expect((await api('POST', '/pause', { direction: 'to-hubspot' })).status).toBe(200);
    try {
      const installation = await installationId();
      const release = await holdDrainLock(redis, installation);
      let survivorId: string;
      let primaryLead: string;
      let otherLead: string;
      try {
        // Two MQLs of one person, each with the Lead a handoff made before it stopped short of its link.
        const [primary, other] = [email(), email()].map((address) =>
          h.newContact({ email: address, lifecyclestage: 'marketingqualifiedlead' }),
        ) as [string, string];
        const strays = await Promise.all(
          [primary, other].map((id) =>
            integration.sobject('Lead').create({ LastName: 'Stopped', Company: 'Analytical Engines', HubSpot_Contact_Id__c: id }),
          ),
        );
        [primaryLead, otherLead] = strays.map((r) => String(r.id)) as [string, string];
        survivorId = (await h.hubspot.crm.contacts.basicApi.merge({ primaryObjectId: primary, objectIdToMerge: other })).id;

        // A batch takes the survivor before the merge event could be applied (the event waits for the lock).
        await syncContactsToSalesforce(direct.ctx, [survivorId]);
        expect((await linkOf(survivorId))?.salesforce_lead_id).toBe(primaryLead);
        expect((await h.leadsFor(`HubSpot_Contact_Id__c = '${survivorId}'`)).map((l) => l.Id)).toEqual([primaryLead]);
        expect((await h.leadsFor(`Id = '${otherLead}'`))[0]?.HubSpot_Contact_Id__c).toBeNull();
      } finally {
        await release();
      }

      // The event, applied after, keeps what the sync chose.
      await eventually(
        async () => (await logged(`hubspot:contact:${survivorId}`, 'merge_contacts')).length === 2,
        30_000,
        'the merge event applied',
      );
      expect((await linkOf(survivorId))?.salesforce_lead_id).toBe(primaryLead);
      expect(await linksOfLead(otherLead)).toEqual([]);
      expect((await h.leadsFor(`Id = '${otherLead}'`))[0]?.HubSpot_Contact_Id__c).toBeNull();
      expect((await h.leadsFor(`HubSpot_Contact_Id__c = '${survivorId}'`)).map((l) => l.Id)).toEqual([primaryLead]);
    } finally {
      expect((await api('POST', '/resume', { direction: 'to-hubspot' })).status).toBe(200);
      await direct.close();
      redis.disconnect();
    }
  }, 120_000);

  /**
   * A handed-off contact and another one merged into it (the merge applied), with the way to
   * HubSpot paused and a direct sync context for the test's own calls.
   */
  async function mergedAwayContact() {
    const primary = await h.handOff({ email: email() });
    const otherId = h.newContact({ email: email() });
    const merged = await h.hubspot.crm.contacts.basicApi.merge({ primaryObjectId: primary.contactId, objectIdToMerge: otherId });
    await eventually(async () => (await linkOf(merged.id))?.salesforce_lead_id === primary.lead.Id, 30_000, 'the merge applied');
    // The merge event too (a sync may have applied the merge first): nothing of it is left to run.
    await untilAppIdle(h);
    const direct = await directSyncContext(h);
    expect((await api('POST', '/pause', { direction: 'to-hubspot' })).status).toBe(200);
    return { primary, otherId, merged, direct };
  }

  /**
   * What a handoff batch that read a contact before its merge saves after it (its lock lost in a
   * Redis restart): a Lead and a link naming the merged-away id. Resolves the Lead's id.
   */
  async function lateLinkOf(mergedAwayId: string): Promise<string> {
    const late = await (
      await integrationUser()
    )
      .sobject('Lead')
      .create({ LastName: 'Late', Company: 'Analytical Engines', HubSpot_Contact_Id__c: mergedAwayId });
    const lateLead = String(late.id);
    await saveLinks(h.app.db, await installationId(), [
      { hubspotContactId: mergedAwayId, email: null, salesforceLeadId: lateLead, salesforceContactId: null, salesforceOpportunityId: null },
    ]);
    return lateLead;
  }

  it('applies a merge delivered again after a late write linked a merged-away contact: the first choice stays, the late Lead is let go', async () => {
    const { primary, otherId, merged, direct } = await mergedAwayContact();
    try {
      const lateLead = await lateLinkOf(otherId);

      // The merge event, delivered again, while a trigger holds the late Lead's row: the merge fails
      // to be retried whole (a row lock passes), and the retry goes through.
      const identity = { ...direct.ctx, markPending: async () => undefined };
      const event = { objectId: primary.contactId, primaryObjectId: primary.contactId, mergedObjectIds: [otherId], newObjectId: merged.id };
      h.salesforceSandbox.faults.set({ records: [{ object: 'Lead', error: 'UNABLE_TO_LOCK_ROW', count: 1 }] });
      try {
        await expect(applyHubSpotMerge(identity, event)).rejects.toThrow(/UNABLE_TO_LOCK_ROW.*retried/);
      } finally {
        h.salesforceSandbox.faults.clear();
      }
      expect((await h.leadsFor(`Id = '${lateLead}'`))[0]?.HubSpot_Contact_Id__c).toBe(otherId);
      await applyHubSpotMerge(identity, event);
      expect((await linkOf(merged.id))?.salesforce_lead_id).toBe(primary.lead.Id);
      expect(await linkOf(otherId)).toBeUndefined();
      expect((await h.leadsFor(`Id = '${lateLead}'`))[0]?.HubSpot_Contact_Id__c).toBeNull();
      expect((await h.leadsFor(`Id = '${primary.lead.Id}'`))[0]?.HubSpot_Contact_Id__c).toBe(merged.id);
      expect((await h.contact(merged.id)).salesforce_lead_id).toBe(primary.lead.Id);
      expect(await logged(`salesforce:Lead:${lateLead}`, 'merge_duplicate_unlinked')).toHaveLength(1);
    } finally {
      expect((await api('POST', '/resume', { direction: 'to-hubspot' })).status).toBe(200);
      await direct.close();
    }
  }, 90_000);

  it('settles a link a late handoff saved for a contact a merge already took away: the merge is applied again, the late Lead let go', async () => {
    const { primary, otherId, merged, direct } = await mergedAwayContact();
    try {
      const lateLead = await lateLinkOf(otherId);
      const identity = { ...direct.ctx, markPending: async () => undefined };
      const merges = async () => (await logged(`hubspot:contact:${merged.id}`, 'merge_contacts')).length;
      const before = await merges();
      // A contact no merge took away (the survivor itself) is left as it is.
      await settleLateLinksOfMergedContacts(identity, [merged.id]);
      expect(await merges()).toBe(before);
      expect(await linkOf(otherId)).toMatchObject({ salesforce_lead_id: lateLead });

      await settleLateLinksOfMergedContacts(identity, [otherId]);
      expect(await merges()).toBe(before + 1);
      expect(await linkOf(otherId)).toBeUndefined();
      expect((await linkOf(merged.id))?.salesforce_lead_id).toBe(primary.lead.Id);
      expect((await h.leadsFor(`Id = '${lateLead}'`))[0]?.HubSpot_Contact_Id__c).toBeNull();
      expect(await logged(`salesforce:Lead:${lateLead}`, 'merge_duplicate_unlinked')).toHaveLength(1);
    } finally {
      expect((await api('POST', '/resume', { direction: 'to-hubspot' })).status).toBe(200);
      await direct.close();
    }
  }, 90_000);

  it('applies a merge only once the running handoff batch of its installation lets go', async () => {
    const { contactId, lead } = await h.handOff({ email: email() });
    const other = h.newContact({ email: email() });
    const redis = new Redis(h.app.redisUrl);
    const events = new Queue(queues.hubspotEvents.name, { connection: redis, prefix: h.prefix });
    try {
      const release = await holdDrainLock(redis, await installationId());
      const merged = await h.hubspot.crm.contacts.basicApi.merge({ primaryObjectId: contactId, objectIdToMerge: other });
      // The merge event arrives and is put back to wait while the batch holds the lock.
      await eventually(async () => (await events.getDelayedCount()) > 0, 20_000, 'the merge event waiting');
      expect(await logged(`hubspot:contact:${merged.id}`, 'merge_contacts')).toHaveLength(0);
      await release();
      await eventually(
        async () => (await logged(`hubspot:contact:${merged.id}`, 'merge_contacts')).length === 1,
        20_000,
        'the merge applied after the batch',
      );
      expect((await linkOf(merged.id))?.salesforce_lead_id).toBe(lead.Id);
    } finally {
      await events.close();
      redis.disconnect();
    }
  }, 90_000);

  it('re-points the contact when sales merges its Lead into another', async () => {
    const { contactId, lead } = await h.handOff({ email: email() });
    // A duplicate Lead a rep typed in without an email (so it makes no contact of its own).
    const duplicate = await h.rep.sobject('Lead').create({ LastName: 'Lovelace', Company: 'Analytical Engines' });
    const masterId = String(duplicate.id);
    const [result] = await h.rep.soap.merge([{ masterRecord: { type: 'Lead', Id: masterId }, recordToMergeIds: [lead.Id] }]);
    expect(result?.success).toBe(true);
    const deleted = await h.rep.query<{ Id: string; MasterRecordId: string }>(
      `SELECT Id, MasterRecordId FROM Lead WHERE Id = '${lead.Id}' AND IsDeleted = true`,
      { scanAll: true },
    );
    expect(deleted.records[0]?.MasterRecordId).toBe(masterId);

    await eventually(
      async () => (await linkOf(contactId))?.salesforce_lead_id === masterId,
      30_000,
      'the contact linked to the surviving Lead',
    );
    await eventually(
      async () => (await h.contact(contactId)).salesforce_lead_id === masterId,
      20_000,
      'the surviving Lead on the contact',
      500,
    );
    // The log line follows both stamps (HubSpot's first, then the Lead's).
    await eventually(async () => (await logged(`salesforce:Lead:${masterId}`, 'merge_records')).length === 1, 20_000, 'the sync log line');
    expect((await h.leadsFor(`Id = '${masterId}'`))[0]?.HubSpot_Contact_Id__c).toBe(contactId);
    expect(await logged(`salesforce:Lead:${masterId}`, 'merge_records')).toHaveLength(1);
  }, 90_000);

  it("unlinks a deleted contact's Lead by default, keeps the Lead, and links them again on restore", async () => {
    const { contactId, lead } = await h.handOff({ email: email() });
    await eventually(async () => (await linkOf(contactId))?.salesforce_lead_id === lead.Id, 20_000, 'the link');
    h.hubspotSandbox.archiveInUi('contacts', contactId);
    await eventually(
      async () => (await linkOf(contactId)) === undefined && (await logged(`hubspot:contact:${contactId}`, 'unlink_deleted')).length > 0,
      20_000,
      'the link set aside',
    );
    expect(await logged(`hubspot:contact:${contactId}`, 'unlink_deleted')).toHaveLength(1);
    expect(await h.leadsFor(`Id = '${lead.Id}'`)).toHaveLength(1);

    h.hubspotSandbox.restoreInUi('contacts', contactId);
    await eventually(async () => (await linkOf(contactId))?.salesforce_lead_id === lead.Id, 20_000, 'linked again');
    await eventually(
      async () => (await logged(`hubspot:contact:${contactId}`, 'relink_restored')).length === 1,
      20_000,
      'the sync log line',
    );
    expect(await logged(`hubspot:contact:${contactId}`, 'relink_restored')).toHaveLength(1);
  }, 90_000);

  it("unlinks a deleted Lead's contact, keeps the contact, and links them again on undelete", async () => {
    const { contactId, lead } = await h.handOff({ email: email() });
    await eventually(async () => (await linkOf(contactId))?.salesforce_lead_id === lead.Id, 20_000, 'the link');
    await h.rep.sobject('Lead').destroy(lead.Id);
    await eventually(
      async () => (await linkOf(contactId)) === undefined && (await logged(`salesforce:Lead:${lead.Id}`, 'unlink_deleted')).length > 0,
      30_000,
      'the link set aside',
    );
    expect(await logged(`salesforce:Lead:${lead.Id}`, 'unlink_deleted')).toHaveLength(1);
    expect((await h.contact(contactId)).email).toBeTruthy();
    // A later change of the contact does not make a second Lead.
    h.hubspotSandbox.editInUi('contacts', contactId, { jobtitle: 'Head of Research' });
    await eventually(
      async () => (await logged(`hubspot:contact:${contactId}`, 'skip_unlinked')).length > 0,
      20_000,
      'the contact left alone',
    );
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toEqual([]);

    const [undeleted] = await h.rep.soap.undelete([lead.Id]);
    expect(undeleted?.success).toBe(true);
    await eventually(async () => (await linkOf(contactId))?.salesforce_lead_id === lead.Id, 30_000, 'linked again');
    await eventually(async () => (await logged(`salesforce:Lead:${lead.Id}`, 'relink_restored')).length === 1, 20_000, 'the sync log line');
    expect(await logged(`salesforce:Lead:${lead.Id}`, 'relink_restored')).toHaveLength(1);
  }, 90_000);

  it('brings a changed Lead email to the contact without a new record, and a HubSpot email change makes no second Lead', async () => {
    const { contactId, lead } = await h.handOff({ email: email() });
    const changed = email();
    await h.rep.sobject('Lead').update({ Id: lead.Id, Email: changed });
    await eventually(async () => (await h.contact(contactId)).email === changed, 30_000, 'the new email on the contact', 500);
    const sameEmail = await h.hubspot.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ' as never, value: changed }] }],
      properties: ['email'],
      limit: 10,
    });
    expect(sameEmail.results.map((c) => c.id)).toEqual([contactId]);

    const again = email();
    h.hubspotSandbox.editInUi('contacts', contactId, { email: again });
    await eventually(
      async () =>
        (await h.app.db.query('SELECT 1 FROM record_links WHERE hubspot_contact_id = $1 AND email = $2', [contactId, again])).length === 1,
      20_000,
      'the link follows the email',
    );
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
    expect(await h.leadsFor(`Email = '${again}'`)).toEqual([]);
  }, 90_000);

  it('reports two linked records that end up sharing an email, and merges nothing', async () => {
    const first = await h.handOff({ email: email() });
    const second = await h.handOff({ email: email() });
    const firstEmail = (await h.contact(first.contactId)).email ?? '';
    await h.rep.sobject('Lead').update({ Id: second.lead.Id, Email: firstEmail });
    await eventually(
      async () => (await logged(`hubspot:contact:${second.contactId}`, 'shared_email')).length > 0,
      30_000,
      'the shared email reported',
    );
    expect(await linkOf(first.contactId)).toEqual({ hubspot_contact_id: first.contactId, salesforce_lead_id: first.lead.Id });
    expect(await linkOf(second.contactId)).toEqual({ hubspot_contact_id: second.contactId, salesforce_lead_id: second.lead.Id });
    // The record search finds the second link by the email its Lead now shows.
    const found = await api('GET', `/sync-log?q=${encodeURIComponent(firstEmail)}`);
    expect(found.status).toBe(200);
    expect((found.body.links as { hubspotContactId: string }[]).map((l) => l.hubspotContactId).sort()).toEqual(
      [first.contactId, second.contactId].sort(),
    );
    const listed = await api('GET', '/shared-emails');
    expect(listed.status).toBe(200);
    expect(listed.body.sharedEmails).toContainEqual({
      email: firstEmail.toLowerCase(),
      records: expect.arrayContaining([
        { hubspotContactId: first.contactId, salesforceLeadId: first.lead.Id, salesforceContactId: null },
        { hubspotContactId: second.contactId, salesforceLeadId: second.lead.Id, salesforceContactId: null },
      ]) as unknown,
    });
  }, 90_000);

  it("deletes the linked Lead with a deleted contact when the admin's policy says so, and that delete comes back as nothing", async () => {
    const saved = await api('PUT', '/settings/deletionPolicy', { hubspotContactDeleted: 'delete', salesforceRecordDeleted: 'unlink' });
    expect(saved.status).toBe(200);
    expect((await api('PUT', '/settings/deletionPolicy', { hubspotContactDeleted: 'erase' })).status).toBe(422);
    const audited = await h.app.db.query("SELECT 1 FROM admin_audit WHERE action = 'settings_saved' AND summary = 'Deletion policy saved'");
    expect(audited.length).toBeGreaterThan(0);
    try {
      const { contactId, lead } = await h.handOff({ email: email() });
      h.hubspotSandbox.archiveInUi('contacts', contactId);
      await eventually(
        async () =>
          (await h.rep.query(`SELECT Id FROM Lead WHERE Id = '${lead.Id}' AND IsDeleted = true`, { scanAll: true })).records.length === 1,
        30_000,
        'the Lead deleted too',
      );
      await eventually(async () => (await logged(`salesforce:Lead:${lead.Id}`, 'delete_linked')).length === 1, 20_000, 'the sync log line');
      expect(await logged(`salesforce:Lead:${lead.Id}`, 'delete_linked')).toHaveLength(1);
      // The reconciler's next pass sees the deleted Lead; its link is already set aside: nothing else happens.
      await untilReconcilePass(h);
      expect(await logged(`salesforce:Lead:${lead.Id}`, 'unlink_deleted')).toEqual([]);
      expect(await h.hubspot.crm.contacts.basicApi.getById(contactId, ['email'], undefined, undefined, true).then((c) => c.archived)).toBe(
        true,
      );
    } finally {
      await api('DELETE', '/settings/deletionPolicy');
    }
  }, 90_000);
});

/**
 * The HubSpot pull feed end to end: the app (worker role's journal feed, intake, drains) against
 * both sandboxes over HTTP, with the installation's `hubspotChangeFeed` set to pull or both. With
 * pull and the sandbox's webhooks switched off, changes reach Salesforce through the webhooks
 * journal alone; with both, each change is synced once; a feed stopped and started again (here or
 * from an offset that was not saved) neither skips nor repeats a change; an expired offset starts
 * again from the earliest entry, asks the reconciler for a pass and says so in the sync log; the
 * app's own writes coming back through the journal are not synced back.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FeedLease } from '../../workers/hubspot-journal-feed.runner.ts';
import { writeSetting } from '../../src/store/installation-admin.ts';
import { readJournalPosition } from '../../src/store/journal-offsets.ts';
import { eventually } from '../support/app-process.ts';
import { AdminClient } from '../support/admin-harness.ts';
import { startSyncHarness, untilAppIdle, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'journal-feed-admin-token-0123456789abcdef0123456789abcdef01234567';

describe('HubSpot pull feed (webhooks journal)', () => {
  let h: SyncHarness;
  let installationId: string;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN }, { journalPollMs: 100, journalRefreshMs: 150 });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const developerCall = (method: string, path: string, body?: unknown) =>
    fetch(
      `${h.hubspotSandbox.url}/webhooks/v3/${h.app.config.sandbox.hubspot.appId}${path}?hapikey=${h.app.config.sandbox.hubspot.developerKey}`,
      {
        method,
        headers: { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
    );

  /** Switches the sandbox portal's webhooks to the app off (no target URL: nothing is pushed). */
  async function pushOff(): Promise<void> {
    expect((await developerCall('DELETE', '/settings')).status).toBe(204);
  }

  async function setMode(mode: 'push' | 'pull' | 'both'): Promise<void> {
    await writeSetting(h.app.db, installationId, 'hubspotChangeFeed', { mode });
  }

  /** The installation's journal offset once the feed has caught up (found nothing after it). */
  async function caughtUp(): Promise<string | null> {
    const since = new Date();
    let offset: string | null = null;
    await eventually(
      async () => {
        const position = await readJournalPosition(h.app.db, installationId);
        offset = position?.offset ?? null;
        return position?.caughtUpAt != null && position.caughtUpAt > since;
      },
      20_000,
      'the journal feed to catch up',
      100,
    );
    return offset;
  }

  /**
   * Waits until the app has done everything the changes so far caused, the journal entries of its
   * own writes included: the feed caught up, then the app idle, until a round of both leaves the
   * journal offset where it was (nothing the app did in that round wrote a change it follows).
   */
  async function settled(): Promise<void> {
    let offset = await caughtUp();
    for (let round = 0; round < 10; round += 1) {
      await untilAppIdle(h);
      const after = await caughtUp();
      if (after === offset) return;
      offset = after;
    }
    throw new Error('the journal kept moving: the app keeps writing changes it follows');
  }

  /** The key of the feed's lease on the installation (FeedLease): held while a follower runs, deleted when it stops. */
  const leaseKey = () => `${h.prefix}:journal-lease:${installationId}`;

  /** Switches the feed to push and waits for its follower to stop (it lets go of its lease). */
  async function stopFollowing(): Promise<void> {
    const redis = new Redis(inject('redisUrl'));
    try {
      expect(await redis.exists(leaseKey())).toBe(1);
      await setMode('push');
      await eventually(async () => (await redis.exists(leaseKey())) === 0, 10_000, 'the journal follower to stop', 50);
    } finally {
      redis.disconnect();
    }
  }

  const salesforceWrites = () =>
    Object.entries(h.salesforceSandbox.stats().calls)
      .filter(([endpoint]) => /^(PATCH|POST) .*composite\/sobjects/.test(endpoint))
      .reduce((n, [, count]) => n + count, 0);

  /** The inbound events recorded for one change of a contact's lifecycle stage. */
  const recordedStageChanges = async (contactId: string, stage: string) =>
    (
      await h.app.db.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM inbound_events WHERE installation_id = $1 AND object_id = $2
           AND payload->>'subscriptionType' = 'contact.propertyChange' AND payload->>'propertyName' = 'lifecyclestage' AND payload->>'propertyValue' = $3`,
        [installationId, contactId, stage],
      )
    ).map((row) => Number(row.n))[0];

  it('with both feeds on, a change arrives twice and is synced once', async () => {
    // Set through the admin API, as an admin would.
    const response = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}/settings/hubspotChangeFeed`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'both' }),
    });
    expect(response.status).toBe(200);
    await caughtUp();
    const writesBefore = salesforceWrites();
    const { contactId, lead } = await h.handOff();
    // Both copies taken and everything they caused done: the second was taken once too, if at all.
    await settled();
    // It came both ways: pushed by webhook, and read from the journal.
    const pushed = h.hubspotSandbox
      .deliveries()
      .flatMap((delivery) => delivery.events)
      .filter((event) => String(event.objectId) === contactId && event.propertyValue === 'marketingqualifiedlead');
    expect(pushed.length).toBeGreaterThanOrEqual(1);
    expect(await recordedStageChanges(contactId, 'marketingqualifiedlead')).toBe(1);
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(1);
    expect(lead.Status).toBe('Open - Not Contacted');
    expect(salesforceWrites() - writesBefore).toBe(1);
  });

  it('with pull only and no webhook sent, an MQL becomes a Lead, and the app’s own writes are not synced back', async () => {
    await setMode('pull');
    await pushOff();
    await caughtUp();
    const deliveriesBefore = h.hubspotSandbox.deliveries().length;
    const writesBefore = salesforceWrites();
    const hubspotWritesBefore = h.hubspotSandbox.stats().endpoints['POST /crm/v3/objects/contacts/batch/update'] ?? 0;

    const { contactId, lead } = await h.handOff();
    expect(lead.Lifecycle_Stage__c).toBe('mql');
    await eventually(async () => (await h.contact(contactId)).salesforce_lead_id === lead.Id, 20_000, 'salesforce_lead_id on the contact');
    // The app's write to the contact comes back through the journal: wait until it is taken and handled.
    await settled();

    expect(h.hubspotSandbox.deliveries().length).toBe(deliveriesBefore);
    expect(salesforceWrites() - writesBefore).toBe(1);
    expect((h.hubspotSandbox.stats().endpoints['POST /crm/v3/objects/contacts/batch/update'] ?? 0) - hubspotWritesBefore).toBe(1);

    // A rep works the Lead: the app moves the contact to SQL in HubSpot, and that write comes back
    // through the journal (lifecyclestage and hs_lead_status are subscribed): it is not synced back.
    const drainsToSalesforce = async () =>
      (await h.app.producer.queue('syncToSalesforce').getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])).length;
    const drainsBefore = await drainsToSalesforce();
    const journalBefore = (await readJournalPosition(h.app.db, installationId))?.offset;
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 20_000, 'HubSpot SQL');
    await settled();
    expect((await readJournalPosition(h.app.db, installationId))?.offset).not.toBe(journalBefore);
    expect(await drainsToSalesforce()).toBe(drainsBefore);

    // The dashboard shows the feed: mode, the offset it resumes after, no lag, current.
    const admin = new AdminClient(h.app.url ?? '');
    await admin.signIn(ADMIN_TOKEN);
    const page = await admin.page(`/admin/installations/${installationId}/health`);
    const position = await readJournalPosition(h.app.db, installationId);
    const card = /<section class="card" data-feed="hubspot">[\s\S]*?<\/section>/.exec(page.html)?.[0] ?? '';
    expect(card).toContain('pull');
    expect(card).toContain(position?.offset ?? 'no offset');
    expect(card).toMatch(/badge ok">current/);
  });

  it('stopped mid-journal and started again from an offset that was not saved, it neither skips nor repeats a change', async () => {
    await setMode('pull');
    const before = await caughtUp();
    const first = await h.handOff();
    await settled();

    // Down: the feed stops following; changes keep happening in HubSpot.
    await stopFollowing();
    const down = await readJournalPosition(h.app.db, installationId);
    const second = h.newContact();
    h.hubspotSandbox.editInUi('contacts', second, { lifecyclestage: 'marketingqualifiedlead' });
    const third = h.newContact();
    h.hubspotSandbox.editInUi('contacts', third, { lifecyclestage: 'marketingqualifiedlead' });
    // Nothing is on its way to the app (the webhooks are off since the test before), and the
    // stopped feed neither read nor polled the journal.
    await untilAppIdle(h);
    expect(await readJournalPosition(h.app.db, installationId)).toEqual(down);
    expect(await h.leadsFor(`HubSpot_Contact_Id__c IN ('${second}', '${third}')`)).toHaveLength(0);

    // As if it went down after enqueueing the first handoff's entries but before saving their offset.
    await h.app.db.query('UPDATE hubspot_journal_offsets SET journal_offset = $2 WHERE installation_id = $1', [installationId, before]);
    const leadsBefore = (await h.leadsFor('HubSpot_Contact_Id__c != null')).length;
    await setMode('pull');
    await caughtUp();
    await eventually(
      async () => (await h.leadsFor(`HubSpot_Contact_Id__c IN ('${second}', '${third}')`)).length === 2,
      20_000,
      'the Leads of the changes made while the feed was down',
    );
    // The entries read again are taken and handled (as duplicates) by now.
    await settled();
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${first.contactId}'`)).toHaveLength(1);
    for (const contactId of [first.contactId, second, third])
      expect(await recordedStageChanges(contactId, 'marketingqualifiedlead')).toBe(1);
    // Two new Leads, nothing for the entries read again.
    expect((await h.leadsFor('HubSpot_Contact_Id__c != null')).length - leadsBefore).toBe(2);
  });

  it('an expired offset starts again from the earliest entry kept, requests a reconciler pass and logs it', async () => {
    await setMode('pull');
    await caughtUp();
    await stopFollowing();
    const contactId = h.newContact();
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    // The stored offset has passed the retention by the time the feed asks for what follows it.
    h.hubspotSandbox.setFaults({ journal: { expireOffset: { next: 1 } } });
    await setMode('pull');
    await eventually(
      async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).length === 1,
      20_000,
      'the Lead of the change after the expired offset',
    );
    expect(h.hubspotSandbox.faults().counters.journalOffsetsExpired).toBe(1);
    const logged = await h.app.db.query<{ level: string; details: { offset: string } }>(
      "SELECT level, details FROM sync_log WHERE installation_id = $1 AND action = 'journal_offset_expired'",
      [installationId],
    );
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe('warn');
    const reconciles = await h.app.producer.queue('reconcile').getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    expect(reconciles.some((job) => job.id?.startsWith(`reconcile-journal-${installationId}-`))).toBe(true);
  });

  it('one worker process follows an installation at a time: the lease passes on when its holder lets go or dies', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const prefix = `${h.prefix}:lease-test`;
      const ttlMs = 300;
      const first = new FeedLease(redis, prefix, ttlMs);
      const second = new FeedLease(redis, prefix, ttlMs);
      // The lease's time to live as Redis counts it down (FeedLease's key).
      const key = `${prefix}:journal-lease:inst-a`;
      const untilHalfSpent = (what: string) =>
        eventually(
          async () => {
            const left = await redis.pttl(key);
            if (left < 0) throw new Error(`the lease expired while held (${what})`);
            return left < ttlMs / 2;
          },
          5_000,
          what,
          10,
        );
      expect(await first.hold('inst-a')).toBe(true);
      expect(await second.hold('inst-a')).toBe(false);
      expect(await second.hold('inst-b')).toBe(true);
      // Renewed by its holder past half its term, it outlives its first term: when half of the
      // renewed term has run too, the first is over, and the lease is still the first's.
      await untilHalfSpent('half of the first term');
      expect(await first.hold('inst-a')).toBe(true);
      expect(await redis.pttl(key)).toBeGreaterThan(ttlMs / 2);
      await untilHalfSpent('half of the renewed term');
      expect(await second.hold('inst-a')).toBe(false);
      await first.release('inst-a');
      expect(await second.hold('inst-a')).toBe(true);
      // A holder that stops renewing (its process died) loses it: Redis lets the lease expire.
      await eventually(async () => (await redis.exists(key)) === 0, 5_000, 'the unrenewed lease to expire', 10);
      expect(await first.hold('inst-a')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

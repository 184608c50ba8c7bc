/**
 * Salesforce changes in pull mode: the worker follows the sandbox org's change event channels over
 * the Pub/Sub API (real gRPC) instead of receiving Outbound Messages, and the lifecycle journey's
 * Salesforce → HubSpot half still completes. Also: a feed stopped and started again resumes where it
 * stopped, an expired replay id falls back to LATEST with a reconciler pass, the app's own writes
 * are not synced back, and with both paths on a change is synced once.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { InstallationClients } from '../../src/runtime/installation-clients.ts';
import { startSalesforceFeedRunner } from '../../workers/salesforce-feed.runner.ts';
import { writeSetting } from '../../src/store/installation-admin.ts';
import { feedChannels } from '../../src/store/salesforce-feeds.ts';
import { eventually, eventuallyValue } from '../support/app-process.ts';
import { startSyncHarness, untilCrmsQuiet, type SyncHarness } from '../support/sync-harness.ts';
import type { OutboundRule } from '../../src/sandbox/salesforce/server.ts';

const LEAD_CHANNEL = '/data/LeadChangeEvent';
const ADMIN_TOKEN = 'salesforce-pull-admin-token-0123456789-abcdefgh';

describe('Salesforce change feed in pull mode', () => {
  let h: SyncHarness;
  let installationId: string;
  let outboundRules: OutboundRule[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };

  /** The admin's setting, saved through the admin API. */
  const setMode = async (mode: 'push' | 'pull' | 'both') => {
    expect((await api('PUT', '/settings/salesforceFeed', { mode })).status).toBe(200);
  };

  const leadChannel = async () => (await feedChannels(h.app.db, installationId)).find((c) => c.channel === LEAD_CHANNEL);

  const syncLog = (recordRef: string) =>
    h.app.db.query<{ action: string; reason: string; level: string }>(
      'SELECT action, reason, level FROM sync_log WHERE installation_id = $1 AND record_ref = $2 ORDER BY id',
      [installationId, recordRef],
    );

  /** The change events of a record the intake took (the inbound ledger, under their change-event job ids). */
  const cdcEvents = (recordId: string) =>
    h.app.db.query<{ dedupe_key: string }>(
      "SELECT dedupe_key FROM inbound_events WHERE installation_id = $1 AND object_id = $2 AND dedupe_key LIKE '%-cdc-%'",
      [installationId, recordId],
    );

  /** The Outbound Message notifications of a record the intake took. */
  const outboundEvents = (recordId: string) =>
    h.app.db.query<{ dedupe_key: string }>(
      "SELECT dedupe_key FROM inbound_events WHERE installation_id = $1 AND object_id = $2 AND source = 'salesforce' AND dedupe_key NOT LIKE '%-cdc-%'",
      [installationId, recordId],
    );

  /** Waits until the Lead channel is followed (connected) from a stored position or LATEST. */
  const following = async () => {
    await eventually(async () => (await leadChannel())?.state === 'connected', 20_000, 'the Lead channel connected');
  };

  const stopped = async () => {
    await eventually(async () => (await leadChannel())?.state === 'stopped', 20_000, 'the Lead channel stopped');
  };

  beforeAll(async () => {
    // The periodic reconciler stays out of the way: only the feed (and the passes it asks for) syncs.
    h = await startSyncHarness({ ADMIN_TOKEN }, { salesforceFeedRefreshMs: 100, reconcileIntervalMs: 60 * 60 * 1000 });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    // The Outbound Messages the install set up: off, except where a test turns them back on.
    outboundRules = h.salesforceSandbox.outbound.rules();
    expect(outboundRules.length).toBeGreaterThan(0);
    for (const rule of outboundRules) h.salesforceSandbox.outbound.removeRule(rule.id);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(async () => {
    h.salesforceSandbox.pubsub.faults.clear();
    await setMode('pull');
    await following();
  });

  it('refuses a feed mode it does not know', async () => {
    const refused = await api('PUT', '/settings/salesforceFeed', { mode: 'poll' });
    expect(refused.status).toBe(422);
    expect((await api('GET', '/settings/salesforceFeed')).body).toMatchObject({ value: { mode: 'pull' } });
    // On the settings page it is a form: one choice of the three modes, the one in effect selected.
    const page = await fetch(`${h.app.url ?? ''}/admin/installations/${installationId}/settings?key=salesforceFeed`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = await page.text();
    expect(body).toContain('<select name="mode">');
    expect(body).toMatch(/<option value="pull" selected>/);
    expect(body.match(/<option value="(push|pull|both)"/g)).toHaveLength(3);
  });

  it('carries the journey from a worked Lead to a customer with no Outbound Message sent', async () => {
    const deliveriesBefore = h.salesforceSandbox.outbound.deliveries().length;
    const { contactId, lead } = await h.handOff();

    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 20_000, 'HubSpot SQL');

    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const result = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string; contactId: string };
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'opportunity', 20_000, 'HubSpot opportunity');

    await h.rep.sobject('Opportunity').update({ Id: result.opportunityId, StageName: 'Closed Won' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'customer', 20_000, 'HubSpot customer');

    expect(h.salesforceSandbox.outbound.deliveries().length).toBe(deliveriesBefore);
    expect(await outboundEvents(lead.Id)).toEqual([]);
    expect((await cdcEvents(lead.Id)).length).toBeGreaterThan(0);
    const feed = await api('GET', '/salesforce-feed');
    expect(feed.status).toBe(200);
    expect(feed.body.mode).toBe('pull');
    const channels = feed.body.channels as { channel: string }[];
    expect(channels.map((c) => c.channel).sort()).toEqual(
      ['/data/ContactChangeEvent', '/data/EventChangeEvent', LEAD_CHANNEL, '/data/OpportunityChangeEvent', '/data/TaskChangeEvent'].sort(),
    );
    expect(channels.find((c) => c.channel === LEAD_CHANNEL)).toMatchObject({
      state: 'connected',
      message: null,
      replayId: expect.stringMatching(/^[0-9a-f]+$/) as unknown,
      lastEventAt: expect.any(String) as unknown,
      lagSeconds: expect.any(Number) as unknown,
    });
    // The installation page shows the same, per channel.
    const page = await fetch(`${h.app.url ?? ''}/admin/installations/${installationId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = await page.text();
    expect(body).toContain('data-section="salesforce-feed" data-mode="pull"');
    expect(body).toMatch(new RegExp(`data-channel="${LEAD_CHANNEL}" data-state="connected"`));
  });

  it('syncs a change once when it arrives both as an Outbound Message and as a change event', async () => {
    await setMode('both');
    const added = outboundRules.map(({ id: _id, createdDate: _created, ...input }) => h.salesforceSandbox.outbound.addRule(input));
    try {
      const { contactId, lead } = await h.handOff();
      const deliveriesBefore = h.salesforceSandbox.outbound.deliveries().length;
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 20_000, 'HubSpot SQL');
      await eventually(async () => h.salesforceSandbox.outbound.deliveries().length > deliveriesBefore, 20_000, 'the Outbound Message');
      await eventually(async () => (await cdcEvents(lead.Id)).length > 0, 20_000, 'the change event');
      await eventually(async () => (await outboundEvents(lead.Id)).length > 0, 20_000, 'the Outbound Message taken in');
      await untilCrmsQuiet(h);
      const moves = (await syncLog(`hubspot:contact:${contactId}`)).filter(
        (line) => line.action === 'update_hubspot' && line.reason.includes('"Working - Contacted"'),
      );
      expect(moves).toHaveLength(1);
    } finally {
      for (const rule of added) h.salesforceSandbox.outbound.removeRule(rule.id);
    }
  });

  it('does not sync back a change the app made itself', async () => {
    // No title yet: the marketer's title then reaches the Lead through the app (Salesforce wins
    // unless blank), and the change event of that write names the app's client.
    const { contactId, lead } = await h.handOff({ jobtitle: '' });
    h.hubspotSandbox.editInUi('contacts', contactId, { jobtitle: 'Chief Engine Officer' });
    await eventually(
      async () => (await h.rep.sobject('Lead').retrieve(lead.Id)).Title === 'Chief Engine Officer',
      20_000,
      'the title on the Lead',
    );
    await eventually(
      async () =>
        (await syncLog(`salesforce:Lead:${lead.Id}`)).filter((l) => l.action === 'skip_echo' && l.reason.includes('changeOrigin')).length >=
        2,
      20_000,
      'both echoes dropped by the feed',
    );
    await untilCrmsQuiet(h);
    expect(await cdcEvents(lead.Id)).toEqual([]);
    expect((await syncLog(`hubspot:contact:${contactId}`)).filter((l) => l.action === 'update_hubspot')).toEqual([]);
  });

  it('resumes after a stop where it stopped: no change skipped, none taken twice', async () => {
    h.salesforceSandbox.pubsub.faults.set({ delayMs: 150 });
    const ids: string[] = [];
    const createLead = async (name: string) => {
      const created = (await h.rep.sobject('Lead').create({ LastName: name, Company: 'Resume Co' })) as { id: string };
      ids.push(created.id);
    };
    for (const name of ['One', 'Two', 'Three']) await createLead(name);
    await eventually(async () => (await cdcEvents(ids[0] ?? '')).length > 0, 20_000, 'the first change taken');
    const latestStarts = async () =>
      (await syncLog(`salesforce:feed:${LEAD_CHANNEL}`)).filter((l) => l.action === 'feed_started_latest').length;
    const startsBefore = await latestStarts();
    // Stopped mid-stream, with changes still on their way and more made while it is stopped.
    await setMode('push');
    await stopped();
    const position = (await leadChannel())?.replayId;
    expect(position).toMatch(/^[0-9a-f]+$/);
    for (const name of ['Four', 'Five']) await createLead(name);

    await setMode('pull');
    await following();
    await eventually(
      async () => (await Promise.all(ids.map(cdcEvents))).every((events) => events.length > 0),
      20_000,
      'every change taken',
    );
    for (const id of ids) expect(await cdcEvents(id)).toHaveLength(1);
    // It resumed from the stored position, never from LATEST (which would have skipped Four and Five).
    expect(await latestStarts()).toBe(startsBefore);
    expect((await leadChannel())?.replayId).not.toBe(position);
  });

  it('falls back to LATEST when the stored replay id expired, and the reconciler closes the gap', async () => {
    const { contactId, lead } = await h.handOff();
    await eventually(async () => (await leadChannel())?.replayId !== null, 20_000, 'a stored position');
    await setMode('push');
    await stopped();
    // Changed while nothing follows the feed, and then the position is past the retention.
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    h.salesforceSandbox.pubsub.faults.set({ expireReplayIds: true });
    await setMode('pull');

    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 30_000, 'HubSpot SQL');
    const feedLog = await syncLog(`salesforce:feed:${LEAD_CHANNEL}`);
    expect(feedLog.map((l) => l.action)).toEqual(expect.arrayContaining(['feed_replay_expired', 'feed_started_latest']));
    expect(feedLog.find((l) => l.action === 'feed_replay_expired')).toMatchObject({ level: 'warn' });
    expect((await syncLog(`hubspot:contact:${contactId}`)).map((l) => l.action)).toContain('update_hubspot');
    expect(await cdcEvents(lead.Id)).toEqual([]);
  });

  it('reconnects after a dropped stream and takes the changes that were still to come', async () => {
    const lead = (await h.rep.sobject('Lead').create({ LastName: 'Dropped', Company: 'Drop Co' })) as { id: string };
    await eventually(async () => (await cdcEvents(lead.id)).length > 0, 20_000, 'the create taken');
    // The knob applies to the next stream opened: the Lead channel's, opened first when the feed starts.
    await setMode('push');
    await stopped();
    h.salesforceSandbox.pubsub.faults.set({ dropStreamAfter: 1 });
    await setMode('pull');
    await following();
    await h.rep.sobject('Lead').update({ Id: lead.id, Title: 'First' });
    await eventually(async () => (await leadChannel())?.state === 'reconnecting', 10_000, 'the drop shown', 20);
    expect((await leadChannel())?.message).toMatch(/unavailable/i);
    await h.rep.sobject('Lead').update({ Id: lead.id, Title: 'Second' });
    await eventually(async () => (await cdcEvents(lead.id)).length === 3, 20_000, 'both updates taken across the drop');
    await following();
    expect(await cdcEvents(lead.id)).toHaveLength(3);
  });

  it('reads a record again when Salesforce sends a gap event instead of its change', async () => {
    const { contactId, lead } = await h.handOff();
    h.salesforceSandbox.pubsub.faults.set({ gapEvents: 1 });
    await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => (await h.contact(contactId)).lifecyclestage === 'salesqualifiedlead', 20_000, 'HubSpot SQL');
    const [taken] = await h.app.db.query<{ payload: { fields: Record<string, string | null> } }>(
      "SELECT payload FROM inbound_events WHERE installation_id = $1 AND object_id = $2 AND dedupe_key LIKE '%-cdc-%'",
      [installationId, lead.Id],
    );
    // The gap event says which record changed, not how: the drain read the Lead's Status itself.
    expect(taken?.payload.fields.Status).toBeUndefined();
  });

  it('keeps a quiet channel’s position current from the keepalives, so a restart does not start from LATEST', async () => {
    await setMode('push');
    await stopped();
    h.salesforceSandbox.pubsub.faults.set({ keepaliveMs: 50 });
    const taskChannel = async () => (await feedChannels(h.app.db, installationId)).find((c) => c.channel === '/data/TaskChangeEvent');
    const before = (await taskChannel())?.replayId ?? null;
    await setMode('pull');
    await following();
    // A Lead changes; no Task does: the Task channel's keepalive moves its position past the Lead's event.
    const lead = (await h.rep.sobject('Lead').create({ LastName: 'Quiet', Company: 'Quiet Co' })) as { id: string };
    await eventually(async () => (await cdcEvents(lead.id)).length > 0, 20_000, 'the Lead change taken');
    const leadPosition = (await leadChannel())?.replayId;
    await eventually(async () => (await taskChannel())?.replayId === leadPosition, 20_000, 'the Task channel at the newest replay id');
    expect(leadPosition).not.toBe(before);
    const startsBefore = (await syncLog(`salesforce:feed:/data/TaskChangeEvent`)).length;
    await setMode('push');
    await stopped();
    await setMode('pull');
    await following();
    await eventually(async () => (await taskChannel())?.state === 'connected', 20_000, 'the Task channel back');
    expect(await syncLog(`salesforce:feed:/data/TaskChangeEvent`)).toHaveLength(startsBefore);
  });

  it('refreshes an expired session the Pub/Sub API refuses, and follows on', async () => {
    await setMode('push');
    await stopped();
    // Nothing else calls Salesforce meanwhile: a sync's REST call would refresh the session first.
    await untilCrmsQuiet(h);
    h.salesforceSandbox.expireSessions(h.salesforceSandbox.integrationUserId);
    // Straight into the settings: saving through the API would call Salesforce and refresh the session first.
    await writeSetting(h.app.db, installationId, 'salesforceFeed', { mode: 'pull' });
    // Whichever channel asks first is refused and refreshes the session for all of them.
    const refused = async () => (await feedChannels(h.app.db, installationId)).find((c) => c.state === 'reconnecting');
    const shown = await eventuallyValue(refused, 20_000, 'the refusal shown', 20);
    expect(shown.message).toMatch(/authenticate/);
    await following();
    const lead = (await h.rep.sobject('Lead').create({ LastName: 'Fresh', Company: 'Session Co' })) as { id: string };
    await eventually(async () => (await cdcEvents(lead.id)).length > 0, 20_000, 'the change taken with the new session');
  });

  it('leaves an installation followed by another worker process alone', async () => {
    await following();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', sink);
    const redis = new Redis(h.app.redisUrl);
    const sf = h.app.config.sandbox.salesforce;
    const clients = new InstallationClients({
      db: h.app.db,
      redis,
      prefix: h.prefix,
      log,
      endpoints: {
        hubspot: { basePath: h.hubspotSandbox.url, accessToken: h.app.config.sandbox.hubspot.privateAppToken, appId: null },
        salesforce: {
          loginUrl: h.salesforceSandbox.url,
          clientId: sf.clientId,
          clientSecret: sf.clientSecret,
          username: sf.username,
          password: sf.password,
          apiVersion: h.app.config.salesforce.apiVersion,
        },
      },
    });
    const second = startSalesforceFeedRunner({
      db: h.app.db,
      producer: h.app.producer,
      redis,
      prefix: h.prefix,
      clients,
      log,
      endpoint: `http://${h.salesforceSandbox.pubsub.endpoint}`,
      budgetMs: 2_000,
      refreshMs: 50,
    });
    try {
      for (let refresh = 0; refresh < 5; refresh++) await second.refresh();
      expect(lines.filter((line) => line.includes('following the Salesforce change feed'))).toEqual([]);
      expect(await redis.get(`${h.prefix}:salesforce-feed:${installationId}`)).not.toBeNull();
      expect((await leadChannel())?.state).toBe('connected');
    } finally {
      await second.stop();
      redis.disconnect();
    }
  });
});

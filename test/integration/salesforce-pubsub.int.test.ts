/**
 * Change data capture over the Pub/Sub API: the app's client (`src/crm/salesforce/pubsub`) against
 * the sandbox org's gRPC service, with records written through the REST API by `jsforce`.
 */
import jsforce, { type Connection } from 'jsforce';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP_CLIENT_NAME, type ChangeEventMessage, type RecordChange } from '../../src/crm/salesforce/pubsub/change-events.ts';
import { PubSubClient, type Replay, type Subscription, type SubscriptionEnd } from '../../src/crm/salesforce/pubsub/client.ts';
import { followChannel, type ReplayPositions } from '../../src/crm/salesforce/pubsub/follow.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { readReplayId, saveReplayId } from '../../src/store/replay-positions.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { eventuallyValue } from '../support/app-process.ts';
import { openTestDb } from '../support/db.ts';
import { SANDBOX_ORG, createdId, loginAsIntegration } from '../support/salesforce-org.ts';

const HOUR = 3_600_000;

let sandbox: SalesforceSandbox;
let conn: Connection;
let client: PubSubClient;
/** The org's clock runs this far ahead of the wall clock (to age events past the retention). */
let skewMs = 0;
const open: Subscription[] = [];

/** Polls `probe` every 5 ms (it reads local state only) until it returns a value; that value. */
const waitFor = <T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> =>
  eventuallyValue(probe, timeoutMs, 'the condition', 5);

/** Subscribes and collects every event handed over, in order. */
function collect(topic: string, replay: Replay, batchSize = 10): { events: ChangeEventMessage[]; subscription: Subscription } {
  const events: ChangeEventMessage[] = [];
  const subscription = client.subscribe({
    topic,
    replay,
    batchSize,
    onEvents: (batch) => {
      events.push(...batch);
      return Promise.resolve();
    },
  });
  open.push(subscription);
  return { events, subscription };
}

/**
 * A LATEST subscription starts where the bus is when the service reads the first request, which the
 * client cannot see: probe writes until one arrives, then the feed is live.
 */
async function subscribedLatest(topic = '/data/LeadChangeEvent') {
  const feed = collect(topic, { preset: 'LATEST' });
  for (let attempt = 0; ; attempt++) {
    const probe = await createdId(conn, 'Lead', { LastName: 'Probe', Company: 'Probe Co' });
    try {
      await waitFor(() => feed.events.some((e) => e.recordIds.includes(probe)), 500);
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
  feed.events.length = 0;
  return feed;
}

const changes = (events: ChangeEventMessage[]) => events.filter((e): e is RecordChange => e.kind === 'change');

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, ...SANDBOX_ORG, now: () => Date.now() + skewMs });
  client = new PubSubClient({
    endpoint: `http://${sandbox.pubsub.endpoint}`,
    auth: () => ({ accessToken: conn.accessToken ?? '', instanceUrl: conn.instanceUrl, orgId: SANDBOX_ORG.orgId }),
  });
});

afterAll(async () => {
  client.close();
  await sandbox.close();
});

beforeEach(async () => {
  skewMs = 0;
  await sandbox.reset();
  sandbox.pubsub.faults.clear();
  conn = await loginAsIntegration(sandbox);
});

afterEach(() => {
  for (const subscription of open.splice(0)) subscription.close();
});

describe('change events', () => {
  it('delivers a Lead create and update made through the REST API, with header and changed fields', async () => {
    const feed = await subscribedLatest();
    const leadId = await createdId(conn, 'Lead', { LastName: 'Lee', Company: 'Acme', Email: 'lee@acme.test' });
    await conn.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted', Title: null });
    const [created, updated] = changes(await waitFor(() => feed.events.length >= 2 && feed.events));
    expect(created).toMatchObject({ entityName: 'Lead', recordIds: [leadId], changeType: 'CREATE', echo: false });
    expect(created?.fields).toMatchObject({ LastName: 'Lee', Company: 'Acme', Email: 'lee@acme.test' });
    expect(updated).toMatchObject({ entityName: 'Lead', recordIds: [leadId], changeType: 'UPDATE', commitUser: sandbox.integrationUserId });
    expect(updated?.changedFields).toEqual(expect.arrayContaining(['Status', 'LastModifiedDate']));
    expect(updated?.fields).toMatchObject({ Status: 'Working - Contacted' });
    expect(updated?.transactionKey).not.toBe(created?.transactionKey);
    expect(updated?.sequenceNumber).toBe(1);
    expect(Math.abs((updated?.commitTimestamp ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('carries only the channel’s entity, and every entity on /data/ChangeEvents', async () => {
    const all = await subscribedLatest('/data/ChangeEvents');
    const leads = collect('/data/LeadChangeEvent', { preset: 'LATEST' });
    const contactId = await createdId(conn, 'Contact', { LastName: 'Cole' });
    const leadId = await createdId(conn, 'Lead', { LastName: 'Lee', Company: 'Acme' });
    await waitFor(() => all.events.length >= 2 && leads.events.some((e) => e.recordIds.includes(leadId)));
    expect(all.events.map((e) => e.entityName)).toEqual(['Contact', 'Lead']);
    expect(leads.events.every((e) => e.entityName === 'Lead' && !e.recordIds.includes(contactId))).toBe(true);
  });

  it('marks a change written with the app’s client name as an echo', async () => {
    const feed = await subscribedLatest();
    const app = new jsforce.Connection({
      instanceUrl: conn.instanceUrl,
      accessToken: conn.accessToken ?? '',
      version: '62.0',
      callOptions: { client: APP_CLIENT_NAME },
    });
    const ours = await createdId(app, 'Lead', { LastName: 'Ours', Company: 'Acme' });
    const theirs = await createdId(conn, 'Lead', { LastName: 'Theirs', Company: 'Acme' });
    const [first, second] = changes(await waitFor(() => feed.events.length >= 2 && feed.events));
    expect(first).toMatchObject({ recordIds: [ours], echo: true, originClient: APP_CLIENT_NAME });
    expect(second).toMatchObject({ recordIds: [theirs], echo: false, originClient: undefined });
  });

  it('names the app’s client in the change events of a SOAP call that sends it in the CallOptions header', async () => {
    const leadId = await createdId(conn, 'Lead', { LastName: 'Convert', Company: 'Acme' });
    const feed = await subscribedLatest();
    const app = new jsforce.Connection({
      instanceUrl: conn.instanceUrl,
      accessToken: conn.accessToken ?? '',
      version: '62.0',
      callOptions: { client: APP_CLIENT_NAME },
    });
    await app.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    const converted = await waitFor(() => changes(feed.events).find((e) => e.recordIds.includes(leadId)));
    expect(converted).toMatchObject({ changeType: 'UPDATE', echo: true, originClient: APP_CLIENT_NAME });
  });

  it('surfaces a gap event as records to re-read', async () => {
    const feed = await subscribedLatest();
    const leadId = await createdId(conn, 'Lead', { LastName: 'Lee', Company: 'Acme' });
    sandbox.pubsub.faults.set({ gapEvents: 1 });
    await conn.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    const gap = await waitFor(() => feed.events.find((e) => e.kind === 'reread'));
    expect(gap).toMatchObject({ kind: 'reread', changeType: 'GAP_UPDATE', entityName: 'Lead', recordIds: [leadId] });
  });
});

describe('replay', () => {
  it('resumes from a stored replay id without skipping or repeating an event, also after a dropped stream', async () => {
    const feed = await subscribedLatest();
    const ids: string[] = [];
    for (const name of ['One', 'Two', 'Three']) ids.push(await createdId(conn, 'Lead', { LastName: name, Company: 'Acme' }));
    await waitFor(() => feed.events.length >= 3);
    const stored = feed.events[0]?.replayId ?? Buffer.alloc(0);
    feed.subscription.close();
    sandbox.pubsub.faults.set({ dropStreamAfter: 1 });
    ids.push(await createdId(conn, 'Lead', { LastName: 'Four', Company: 'Acme' }));

    const dropped = collect('/data/LeadChangeEvent', { preset: 'CUSTOM', replayId: stored }, 1);
    const end = await dropped.subscription.ended;
    expect(end).toMatchObject({ kind: 'failed', code: 14 });
    expect(dropped.events.map((e) => e.recordIds[0])).toEqual([ids[1]]);

    const resumed = collect('/data/LeadChangeEvent', { preset: 'CUSTOM', replayId: dropped.events[0]?.replayId ?? stored }, 1);
    await waitFor(() => resumed.events.length >= 2);
    expect(resumed.events.map((e) => e.recordIds[0])).toEqual([ids[2], ids[3]]);
  });

  it('refuses a replay id past the 72-hour retention, and LATEST works after it', async () => {
    const feed = await subscribedLatest();
    await createdId(conn, 'Lead', { LastName: 'Old', Company: 'Acme' });
    const old = await waitFor(() => feed.events[0]);
    feed.subscription.close();
    skewMs = 73 * HOUR;
    conn = await loginAsIntegration(sandbox);

    const expired = collect('/data/LeadChangeEvent', { preset: 'CUSTOM', replayId: old.replayId });
    const end: SubscriptionEnd = await expired.subscription.ended;
    expect(end).toMatchObject({ kind: 'replay-expired', replayId: old.replayId });
    expect(expired.events).toEqual([]);

    const latest = await subscribedLatest();
    const fresh = await createdId(conn, 'Lead', { LastName: 'New', Company: 'Acme' });
    await waitFor(() => latest.events.some((e) => e.recordIds.includes(fresh)));
  });

  it('refuses any replay id while the expired-replay knob is on', async () => {
    const feed = await subscribedLatest();
    await createdId(conn, 'Lead', { LastName: 'Lee', Company: 'Acme' });
    const event = await waitFor(() => feed.events[0]);
    const knob = await fetch(`${sandbox.url}/__sandbox/pubsub/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ expireReplayIds: true }),
    });
    expect(knob.status).toBe(200);
    const refused = collect('/data/LeadChangeEvent', { preset: 'CUSTOM', replayId: event.replayId });
    expect(await refused.subscription.ended).toMatchObject({ kind: 'replay-expired' });
  });
});

describe('flow control and auth', () => {
  it('sends no more events than requested until the consumer has taken the batch', async () => {
    await subscribedLatest();
    const handedOver: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const subscription = client.subscribe({
      topic: '/data/LeadChangeEvent',
      replay: { preset: 'EARLIEST' },
      batchSize: 2,
      onEvents: async (batch) => {
        handedOver.push(batch.length);
        await gate;
      },
    });
    open.push(subscription);
    for (const name of ['A', 'B', 'C']) await createdId(conn, 'Lead', { LastName: name, Company: 'Acme' });
    await waitFor(() => handedOver.length >= 1);
    expect(handedOver[0]).toBeLessThanOrEqual(2);
    release();
    await waitFor(() => handedOver.reduce((a, b) => a + b, 0) >= 4);
  });

  it('sends a keepalive naming the latest replay id when the channel has nothing to deliver', async () => {
    sandbox.pubsub.faults.set({ keepaliveMs: 50 });
    const leads = await subscribedLatest();
    await createdId(conn, 'Lead', { LastName: 'Elsewhere', Company: 'Acme' });
    const lead = await waitFor(() => leads.events[0]);
    const keepalives: Buffer[] = [];
    const quiet = client.subscribe({
      topic: '/data/TaskChangeEvent',
      replay: { preset: 'LATEST' },
      onEvents: () => Promise.reject(new Error('no Task changed')),
      onKeepalive: (latest) => {
        keepalives.push(latest);
        return Promise.resolve();
      },
    });
    open.push(quiet);
    // The Lead's event is the bus's newest: a Task subscriber may resume after it without missing anything.
    const latest = await waitFor(() => keepalives[0]);
    expect(latest.equals(lead.replayId)).toBe(true);
  });

  it('refuses a session the org does not know', async () => {
    const stranger = new PubSubClient({
      endpoint: `http://${sandbox.pubsub.endpoint}`,
      auth: () => ({ accessToken: 'not-a-session', instanceUrl: sandbox.url, orgId: SANDBOX_ORG.orgId }),
    });
    try {
      await expect(stranger.getTopic('/data/LeadChangeEvent')).rejects.toMatchObject({ code: 16 });
      const subscription = stranger.subscribe({
        topic: '/data/LeadChangeEvent',
        replay: { preset: 'LATEST' },
        onEvents: () => Promise.resolve(),
      });
      expect(await subscription.ended).toMatchObject({ kind: 'failed', code: 16 });
    } finally {
      stranger.close();
    }
  });

  it('answers GetTopic with the channel’s schema id, and GetSchema with its Avro schema', async () => {
    const topic = await client.getTopic('/data/LeadChangeEvent');
    expect(topic).toMatchObject({ topic_name: '/data/LeadChangeEvent', can_subscribe: true, tenant_guid: SANDBOX_ORG.orgId });
    const schema = await client.schema(topic.schema_id);
    expect(schema.name).toBe('com.sforce.eventbus.LeadChangeEvent');
  });
});

describe('stored position', () => {
  const INSTALLATION = 'pubsub-installation';
  const TOPIC = '/data/LeadChangeEvent';
  let db: Db;
  let positions: ReplayPositions;

  beforeAll(async () => {
    db = await openTestDb('postgres');
    await migrate(db);
    await db.query("INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ($1, 'Pub/Sub', 'pubsub-token')", [INSTALLATION]);
    positions = {
      read: (channel) => readReplayId(db, INSTALLATION, channel),
      save: (channel, replayId) => saveReplayId(db, INSTALLATION, channel, replayId),
    };
  });

  afterAll(async () => {
    await db.close();
  });

  it('resumes after the last event the intake took, and does not advance past a batch the intake refused', async () => {
    await subscribedLatest();
    const taken: string[] = [];
    let refuse = false;
    const follow = () =>
      followChannel({
        client,
        topic: TOPIC,
        positions,
        batchSize: 1,
        intake: (events) => {
          if (refuse) return Promise.reject(new Error('queue unavailable'));
          taken.push(...events.flatMap((e) => e.recordIds));
          return Promise.resolve();
        },
      });
    await db.query('DELETE FROM salesforce_replay_positions');
    const first = await follow();
    expect(first.startedFrom).toEqual({ preset: 'LATEST' });
    open.push(first.subscription);
    const one = await createdId(conn, 'Lead', { LastName: 'One', Company: 'Acme' });
    await waitFor(() => taken.includes(one));
    first.subscription.close();

    const two = await createdId(conn, 'Lead', { LastName: 'Two', Company: 'Acme' });
    refuse = true;
    const refused = await follow();
    open.push(refused.subscription);
    expect(await refused.subscription.ended).toMatchObject({ kind: 'failed' });

    refuse = false;
    const three = await createdId(conn, 'Lead', { LastName: 'Three', Company: 'Acme' });
    const resumed = await follow();
    open.push(resumed.subscription);
    expect(resumed.startedFrom.preset).toBe('CUSTOM');
    await waitFor(() => taken.includes(three));
    expect(taken.filter((id) => [one, two, three].includes(id))).toEqual([one, two, three]);
  });
});

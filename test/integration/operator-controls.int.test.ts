/**
 * The operator's controls against the whole app and both sandbox CRMs, through the admin API:
 * pause and resume per direction (changes made while paused arrive through the real webhooks,
 * wait, and are synced on resume in the order they arrived, none lost) and the Salesforce API
 * budget (counted against the sandbox org's own call count, alerting once at 80 %); "sync this
 * record now" from the record log for a contact whose webhook was dropped; disconnecting one
 * side, which leaves the other connected and holds the sync until it is reconnected by OAuth.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyAlertSignature } from '../../src/sync/alerts.ts';
import { initialSyncJobId } from '../../src/sync/initial-sync.ts';
import { AdminClient, runOAuthInstall } from '../support/admin-harness.ts';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'operator-controls-admin-token-0123456789abcdef';
const ALERT_SECRET = 'operator-controls-alert-secret';

describe('operator controls', () => {
  let h: SyncHarness;
  let installationId: string;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    h = await startSyncHarness({ ADMIN_TOKEN, OUTBOUND_ALLOW_PRIVATE: '127.0.0.1/32' });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are inspected with expect(), field by field
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${h.app.url ?? ''}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  }

  /**
   * True once no drain to Salesforce is queued or running, nor delayed by less than the coalescing
   * windows (a drain that waits on the API budget asks again a minute later, past these tests).
   */
  async function drainsSettled(): Promise<boolean> {
    const queue = h.app.producer.queue('syncToSalesforce');
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    // BullMQ scores a delayed job by its due time × 4096 (plus a counter).
    const scores = (await redis.zrange(queue.keys.delayed ?? '', 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1);
    const soon = scores.filter((score) => Math.floor(Number(score) / 4096) < Date.now() + 5_000);
    return Object.values(counts).every((count) => count === 0) && soon.length === 0;
  }

  /** How many of the contacts' MQL changes the intake has recorded (each one marked its contact pending first). */
  async function recordedChanges(contactIds: readonly string[]): Promise<number> {
    const rows = await h.app.db.query<{ n: number | string }>(
      "SELECT count(DISTINCT object_id) AS n FROM inbound_events WHERE installation_id = $1 AND source = 'hubspot' AND object_id = ANY($2) AND payload->>'propertyValue' = 'marketingqualifiedlead'",
      [installationId, [...contactIds]],
    );
    return Number(rows[0]?.n ?? 0);
  }

  it('keeps changes waiting while paused and syncs them on resume in the order they arrived, none lost', async () => {
    const paused = await api('POST', `/installations/${installationId}/pause`, {});
    expect(paused.status).toBe(200);
    expect(paused.json.controls.paused.map((p: { direction: string }) => p.direction).sort()).toEqual(['to-hubspot', 'to-salesforce']);
    expect(paused.json.controls.paused[0].pausedBy).toBe('api');
    const shown = await api('GET', `/installations/${installationId}`);
    expect(shown.json.controls.paused).toHaveLength(2);

    // Five MQLs, one after another, through the HubSpot UI and its signed webhooks.
    const contactIds: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const contactId = h.newContact({ firstname: `Paused ${i}` });
      h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
      contactIds.push(contactId);
    }
    await eventually(async () => (await recordedChanges(contactIds)) === contactIds.length, 30_000, 'the five MQL webhooks recorded');
    await eventually(drainsSettled, 20_000, 'the drains scheduled for them to finish');
    const inClause = contactIds.map((id) => `'${id}'`).join(', ');
    expect(await h.leadsFor(`HubSpot_Contact_Id__c IN (${inClause})`)).toHaveLength(0);

    const resumed = await api('POST', `/installations/${installationId}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(resumed.json.controls.paused).toEqual([]);
    let leads: Awaited<ReturnType<SyncHarness['leadsFor']>> = [];
    await eventually(
      async () => (leads = await h.leadsFor(`HubSpot_Contact_Id__c IN (${inClause})`)).length === contactIds.length,
      30_000,
      'a Lead for each of the five',
    );
    // The sandbox numbers records as it creates them: Ids in creation order are the contacts' order.
    const created = [...leads].sort((a, b) => (a.Id < b.Id ? -1 : 1)).map((lead) => lead.HubSpot_Contact_Id__c);
    expect(created).toEqual(contactIds);

    const activity = await api('GET', `/installations/${installationId}/activity`);
    const actions = activity.json.actions.map((a: { action: string; summary: string }) => `${a.action}: ${a.summary}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sync_paused: .*from the api$/),
        expect.stringMatching(/^sync_resumed: .*from the api$/),
      ]),
    );
  }, 90_000);

  it('holds an initial sync run while paused and lets it finish once resumed', async () => {
    await api('POST', `/installations/${installationId}/pause`, { direction: 'to-hubspot' });
    const started = await api('POST', `/installations/${installationId}/initial-sync`, {});
    expect(started.status).toBe(202);
    const job = async () => h.app.producer.queue('initialSync').getJob(initialSyncJobId(started.json.runId));
    await eventually(async () => (await (await job())?.getState()) === 'delayed', 20_000, 'the run to wait');
    expect((await api('GET', `/backfill/${started.json.runId}`)).json).toMatchObject({ status: 'queued', done: 0 });
    await api('POST', `/installations/${installationId}/resume`, { direction: 'to-hubspot' });
    // The held job looks again a minute later; promoting it stands in for that minute.
    await (await job())?.promote();
    await eventually(
      async () => (await api('GET', `/backfill/${started.json.runId}`)).json.status === 'completed',
      30_000,
      'the run to complete',
    );
  }, 60_000);

  it('pauses one direction only and refuses a direction it does not know', async () => {
    const refused = await api('POST', `/installations/${installationId}/pause`, { direction: 'sideways' });
    expect(refused.status).toBe(400);
    const paused = await api('POST', `/installations/${installationId}/pause`, { direction: 'to-hubspot' });
    expect(paused.json.controls.paused.map((p: { direction: string }) => p.direction)).toEqual(['to-hubspot']);
    // The other direction still syncs.
    const { lead } = await h.handOff({ firstname: 'Running' });
    expect(lead.Status).toBe('Open - Not Contacted');
    const resumed = await api('POST', `/installations/${installationId}/resume`, { direction: 'to-hubspot' });
    expect(resumed.json.controls.paused).toEqual([]);
  }, 60_000);

  it('never lets the app exceed a Salesforce API budget of N calls under a bulk handoff, delays the drains instead, alerts once at 80 % and syncs every record once raised', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const alert = await api('PUT', `/installations/${installationId}/alert`, {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        secret: ALERT_SECRET,
      });
      expect(alert.status).toBe(200);

      // The budget leaves room for N more calls than the app has made so far (all of them are counted).
      const N = 5;
      const before = await api('GET', `/installations/${installationId}`);
      const budget = before.json.controls.salesforceBudget.used + N;
      const saved = await api('PUT', `/installations/${installationId}/salesforce-budget`, { calls: budget });
      expect(saved.status).toBe(200);
      expect(saved.json.controls.salesforceBudget).toMatchObject({ budget: { calls: budget }, limit: budget });
      const callsBefore = h.salesforceSandbox.stats().totalCalls;

      // A bulk handoff: 300 MQLs (two batches at least, each several Salesforce calls).
      const run = Date.now();
      for (let i = 0; i < 300; i += 1) h.newContact({ email: `budget-${run}-${i}@example.com`, lifecyclestage: 'marketingqualifiedlead' });

      // The drains reach the budget and wait: delayed, not failed.
      let controls: { salesforceBudget: { used: number; limit: number } } = { salesforceBudget: { used: 0, limit: budget } };
      await eventually(
        async () => {
          controls = (await api('GET', `/installations/${installationId}`)).json.controls;
          const counts = await h.app.producer.queue('syncToSalesforce').getJobCounts('delayed', 'active');
          return controls.salesforceBudget.used >= budget && (counts.delayed ?? 0) > 0 && counts.active === 0;
        },
        60_000,
        'the drains to wait at the budget',
      );
      expect(controls.salesforceBudget.used).toBe(budget);
      // Only the app has called Salesforce since the budget was set: the org saw at most N calls.
      const callsDuring = h.salesforceSandbox.stats().totalCalls - callsBefore;
      expect(callsDuring).toBeLessThanOrEqual(N);
      expect(await h.app.producer.queue('syncToSalesforce').getJobCounts('failed')).toEqual({ failed: 0 });
      const waiting = await h.leadsFor(`Email LIKE 'budget-${run}-%'`);
      expect(waiting.length).toBeLessThan(300);

      // The 80 % alert: signed, sent once.
      await eventually(async () => received.length > 0, 20_000, 'the budget alert');
      const [delivery] = received;
      expect(delivery?.headers['x-smarketing-event']).toBe('salesforce.api_budget');
      expect(
        verifyAlertSignature(delivery?.body ?? '', ALERT_SECRET, delivery?.headers['x-smarketing-signature'] as string | undefined),
      ).toBe(true);
      expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ installationId, budget, event: 'salesforce.api_budget' });

      // Raised: the waiting drains run at once and every record is synced.
      const raised = await api('PUT', `/installations/${installationId}/salesforce-budget`, { percent: 100 });
      expect(raised.status).toBe(200);
      await eventually(async () => (await h.leadsFor(`Email LIKE 'budget-${run}-%'`)).length === 300, 60_000, 'a Lead for each of the 300');
      expect(received).toHaveLength(1);
      const refused = await api('PUT', `/installations/${installationId}/salesforce-budget`, { percent: 0 });
      expect(refused.status).toBe(422);
      await api('DELETE', `/installations/${installationId}/salesforce-budget`);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  }, 150_000);

  it('syncs a record whose webhook was dropped when the admin asks from the record log', async () => {
    h.hubspotSandbox.setFaults({ webhooks: { drop: { probability: 1 } } });
    let contactId = '';
    try {
      contactId = h.newContact({ firstname: 'Dropped', lifecyclestage: 'marketingqualifiedlead' });
      await eventually(
        async () =>
          h.hubspotSandbox.deliveries().some((d) => d.state === 'dropped' && d.events.some((e) => String(e.objectId) === contactId)),
        20_000,
        'the webhook to be dropped',
      );
    } finally {
      h.hubspotSandbox.clearFaults();
    }
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(0);

    // The record log offers the button for the contact id even before the sync has logged anything.
    const admin = new AdminClient(h.app.url ?? '');
    await admin.signIn(ADMIN_TOKEN);
    const health = await admin.page(`/admin/installations/${installationId}/health?q=${contactId}`);
    expect(health.html).toContain('Sync this record now (to Salesforce)');
    const posted = await admin.form(`/admin/installations/${installationId}/sync-now`, { record: contactId });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toContain('notice=sync_now_started');
    await eventually(
      async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).length === 1,
      20_000,
      'the Lead of the dropped contact',
    );
    const activity = await api('GET', `/installations/${installationId}/activity`);
    expect(activity.json.actions.map((a: { action: string }) => a.action)).toContain('record_sync_requested');

    const api202 = await api('POST', `/installations/${installationId}/sync-now`, { record: `hubspot:contact:${contactId}` });
    expect(api202).toMatchObject({ status: 202, json: { direction: 'to-salesforce', key: contactId, held: false } });
    const refused = await api('POST', `/installations/${installationId}/sync-now`, { record: '003000000000001AAA' });
    expect(refused.status).toBe(422);
  }, 60_000);

  it('disconnects Salesforce alone: HubSpot stays connected, changes wait without failing jobs, and reconnecting by OAuth syncs them', async () => {
    const disconnected = await api('POST', `/installations/${installationId}/connections/salesforce/disconnect`);
    expect(disconnected.status).toBe(200);
    expect(disconnected.json).toMatchObject({ side: 'salesforce', revoked: null });
    expect(disconnected.json.connections.salesforce).toMatchObject({ state: 'not_connected', via: 'none' });
    expect(disconnected.json.connections.salesforce.disconnectedAt).toEqual(expect.any(String));
    expect(disconnected.json.connections.hubspot).toMatchObject({ state: 'connected', disconnectedAt: null });
    expect((await api('POST', `/installations/${installationId}/connections/zoho/disconnect`)).status).toBe(400);

    const contactId = h.newContact({ firstname: 'Disconnected' });
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    await eventually(async () => (await recordedChanges([contactId])) === 1, 30_000, 'the MQL webhook recorded');
    await eventually(drainsSettled, 20_000, 'the drain scheduled for it to finish');
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).toHaveLength(0);
    for (const queue of ['hubspotEvents', 'syncToSalesforce'] as const)
      expect(await h.app.producer.queue(queue).getJobCounts('failed')).toEqual({ failed: 0 });

    // Reconnected through the existing OAuth flow (the sandbox's consent page).
    const admin = new AdminClient(h.app.url ?? '');
    await admin.signIn(ADMIN_TOKEN);
    const page = await admin.page(`/admin/installations/${installationId}`);
    expect(page.html).toContain('data-disconnected="salesforce"');
    const callback = await runOAuthInstall(admin, 'salesforce', installationId);
    expect(callback.status).toBe(200);
    const connections = await api('GET', `/installations/${installationId}/connections`);
    expect(connections.json.salesforce).toMatchObject({ state: 'connected', via: 'oauth', disconnectedAt: null });
    await eventually(
      async () => (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`)).length === 1,
      30_000,
      'the Lead once Salesforce is back',
    );
    const activity = await api('GET', `/installations/${installationId}/activity`);
    expect(activity.json.actions.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['salesforce_disconnected', 'salesforce_connected']),
    );
  }, 90_000);
});

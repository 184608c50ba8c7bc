/**
 * The operator's controls against the whole app and both sandbox CRMs, through the admin API:
 * pause and resume per direction. Changes made while paused arrive through the real webhooks,
 * wait, and are synced on resume in the order they arrived, none lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = 'operator-controls-admin-token';

describe('operator controls', () => {
  let h: SyncHarness;
  let installationId: string;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
  }, 120_000);

  afterAll(async () => {
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

  /** True once no drain to Salesforce is queued, delayed or running. */
  async function drainsSettled(): Promise<boolean> {
    const counts = await h.app.producer.queue('syncToSalesforce').getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).every((count) => count === 0);
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
    await eventually(async () => (leads = await h.leadsFor(`HubSpot_Contact_Id__c IN (${inClause})`)).length === contactIds.length, 30_000, 'a Lead for each of the five');
    // The sandbox numbers records as it creates them: Ids in creation order are the contacts' order.
    const created = [...leads].sort((a, b) => (a.Id < b.Id ? -1 : 1)).map((lead) => lead.HubSpot_Contact_Id__c);
    expect(created).toEqual(contactIds);

    const activity = await api('GET', `/installations/${installationId}/activity`);
    const actions = activity.json.actions.map((a: { action: string; summary: string }) => `${a.action}: ${a.summary}`);
    expect(actions).toEqual(expect.arrayContaining([expect.stringMatching(/^sync_paused: .*from the api$/), expect.stringMatching(/^sync_resumed: .*from the api$/)]));
  }, 90_000);

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
});

/**
 * The initial sync end to end: both sandbox CRMs hold records made before the app was installed
 * (their webhooks and Outbound Messages dropped, so the app never heard of them); the run links
 * them, brings the side that is behind forward, creates nothing for historical records, resumes
 * after a crash from its cursor, and leaves the system quiet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncContext } from '../../src/sync/context.ts';
import { createInitialSyncRun, initialSyncProgress, runInitialSync, type InitialSyncProgress } from '../../src/sync/initial-sync.ts';
import { eventually } from '../support/app-process.ts';
import { directSyncContext, startSyncHarness, type SyncHarness, untilCrmsQuiet } from '../support/sync-harness.ts';
import { sessionAs } from '../support/salesforce-org.ts';

const ADMIN_TOKEN = 'initial-sync-admin-token-0123456789-abcdefghij';

interface LeadState {
  Id: string;
  Status: string;
  HubSpot_Contact_Id__c: string | null;
  Lifecycle_Stage__c: string | null;
  SystemModstamp: string;
}

describe('initial sync', () => {
  let h: SyncHarness;
  let installationId: string;
  let direct: SyncContext;
  let closeDirect: (() => Promise<void>) | undefined;
  let seq = 0;

  beforeAll(async () => {
    // One reconcile pass at boot, then none: records made below must reach the app only through the initial sync.
    h = await startSyncHarness({ ADMIN_TOKEN }, { reconcileIntervalMs: 3_600_000 });
    await eventually(
      async () => ((await h.app.producer.queue('reconcile').getJobCounts('completed')).completed ?? 0) >= 1,
      30_000,
      'the boot-time reconcile pass',
    );
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations'))[0]?.id ?? '';
    ({ ctx: direct, close: closeDirect } = await directSyncContext(h));
  }, 120_000);

  afterAll(async () => {
    await closeDirect?.();
    await h?.close();
  });

  const email = (tag: string) => {
    seq += 1;
    return `${tag}${seq}-${Date.now()}@example.com`;
  };

  /** While it runs, neither CRM tells the app about changes: what is made meanwhile predates the installation. */
  async function beforeTheInstall<T>(work: () => Promise<T>): Promise<T> {
    h.hubspotSandbox.setFaults({ webhooks: { drop: {} } });
    h.salesforceSandbox.faults.set({ outbound: { drop: { probability: 1 } } });
    try {
      const result = await work();
      // Outbound Messages go out after the commit: the last ones must meet the fault too.
      await eventually(
        async () => h.salesforceSandbox.outbound.pending().length === 0,
        10_000,
        'the Outbound Messages of the old records to be dropped',
      );
      return result;
    } finally {
      h.hubspotSandbox.clearFaults();
      h.salesforceSandbox.faults.clear();
    }
  }

  const contact = (properties: Record<string, string>) =>
    String(
      h.hubspotSandbox.createInUi('contacts', { firstname: 'Old', lastname: `Record ${seq}`, company: 'Before Co', ...properties }).id,
    );
  const newLead = async (fields: Record<string, unknown>) =>
    ((await h.rep.sobject('Lead').create({ LastName: 'Before', Company: 'Before Co', ...fields })) as { id: string }).id;
  /** A Lead an earlier integration wrote, with the app's fields filled (a rep may only read those). */
  const leadFromEarlierSync = async (fields: Record<string, unknown>) => {
    const integration = sessionAs(h.salesforceSandbox, h.salesforceSandbox.integrationUserId);
    return ((await integration.sobject('Lead').create({ LastName: 'Before', Company: 'Before Co', ...fields })) as { id: string }).id;
  };
  const leadState = async (id: string) =>
    (
      await h.rep.query<LeadState>(
        `SELECT Id, Status, HubSpot_Contact_Id__c, Lifecycle_Stage__c, SystemModstamp FROM Lead WHERE Id = '${id}'`,
      )
    ).records[0];
  const leadCount = async () => (await h.rep.query<{ Id: string }>('SELECT Id FROM Lead')).totalSize;
  const linkOf = async (contactId: string) =>
    (
      await h.app.db.query<{
        salesforce_lead_id: string | null;
        salesforce_contact_id: string | null;
        salesforce_opportunity_id: string | null;
      }>('SELECT salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id FROM record_links WHERE hubspot_contact_id = $1', [
        contactId,
      ])
    )[0];
  const stageHistory = async (contactId: string) =>
    h.app.db.query<{ stage: string; source: string }>('SELECT stage, source FROM stage_history WHERE hubspot_contact_id = $1 ORDER BY id', [
      contactId,
    ]);
  const slaClocks = async () => Number((await h.app.db.query<{ n: number }>('SELECT count(*) AS n FROM sla_clocks'))[0]?.n ?? 0);
  const writeCalls = () => {
    const hs = h.hubspotSandbox.stats().endpoints;
    const sf = h.salesforceSandbox.stats().calls;
    const writes = Object.entries({ ...hs, ...sf }).filter(
      ([endpoint]) =>
        /^(POST|PATCH|PUT|DELETE) /.test(endpoint) && !/\/(read|search)\b|\/query|oauth2|\/token| getUserInfo$/.test(endpoint),
    );
    return writes.reduce((sum, [, n]) => sum + n, 0);
  };

  async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${h.app.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  const quiet = () => untilCrmsQuiet(h);

  let runStartedAt = new Date();
  let seeded: {
    behind: { contactId: string; leadId: string };
    ahead: { contactId: string; leadId: string };
    won: { contactId: string; leadId: string; contactSfId: string; opportunityId: string };
    agreeing: { contactId: string; leadId: string };
    orphanMql: string;
    orphanLead: string;
  };

  it('starts through the API (202), links existing records, moves the side that is behind forward and creates nothing for historical records', async () => {
    seeded = await beforeTheInstall(async () => {
      const behindEmail = email('behind');
      const behind = {
        contactId: contact({ email: behindEmail, lifecyclestage: 'marketingqualifiedlead' }),
        leadId: await newLead({ Email: behindEmail, Status: 'Working - Contacted' }),
      };
      const aheadEmail = email('ahead');
      const ahead = {
        contactId: contact({ email: aheadEmail, lifecyclestage: 'opportunity' }),
        leadId: await newLead({ Email: aheadEmail, Status: 'Open - Not Contacted' }),
      };
      const wonEmail = email('won');
      const wonLead = await newLead({ Email: wonEmail, Status: 'Working - Contacted' });
      const converted = await h.rep.soap.convertLead({ leadId: wonLead, convertedStatus: 'Closed - Converted' });
      const result = (Array.isArray(converted) ? converted[0] : converted) as { contactId: string; opportunityId: string };
      await h.rep.sobject('Opportunity').update({ Id: result.opportunityId, Amount: 5000, StageName: 'Closed Won' });
      const won = {
        contactId: contact({ email: wonEmail, lifecyclestage: 'lead' }),
        leadId: wonLead,
        contactSfId: result.contactId,
        opportunityId: result.opportunityId,
      };
      // Already in agreement: linked by external id, both at MQL, the Lead mirrors the stage.
      const agreeingEmail = email('agree');
      const agreeingContact = contact({ email: agreeingEmail, lifecyclestage: 'marketingqualifiedlead' });
      const agreeingLead = await leadFromEarlierSync({
        Email: agreeingEmail,
        Status: 'Open - Not Contacted',
        HubSpot_Contact_Id__c: agreeingContact,
        Lifecycle_Stage__c: 'mql',
      });
      h.hubspotSandbox.editInUi('contacts', agreeingContact, { salesforce_lead_id: agreeingLead });
      return {
        behind,
        ahead,
        won,
        agreeing: { contactId: agreeingContact, leadId: agreeingLead },
        orphanMql: contact({ email: email('orphan-mql'), lifecyclestage: 'marketingqualifiedlead' }),
        orphanLead: await newLead({ Email: email('orphan-lead'), Status: 'Open - Not Contacted' }),
      };
    });
    const agreeingBefore = await leadState(seeded.agreeing.leadId);
    const leadsBefore = await leadCount();
    const clocksBefore = await slaClocks();
    runStartedAt = new Date();

    const started = await api('POST', `/api/installations/${installationId}/initial-sync`);
    expect(started.status).toBe(202);
    const runId = String(started.json.runId);
    expect(started.json.progressUrl).toBe(`/api/backfill/${runId}`);
    let progress: Record<string, unknown> = {};
    await eventually(
      async () => {
        progress = (await api('GET', String(started.json.progressUrl))).json;
        return progress.status === 'completed';
      },
      60_000,
      'the initial sync to complete',
    );
    expect(progress).toMatchObject({ kind: 'initial', runId, phase: 'done', etaS: 0, failed: 0 });
    expect(progress.done).toBe(progress.total);
    expect(progress.linked).toBeGreaterThanOrEqual(3);
    expect(progress.stagesAligned).toBeGreaterThanOrEqual(3);
    const unmatched = await h.app.db.query<{ record_ref: string }>(
      "SELECT record_ref FROM sync_log WHERE action = 'unmatched_initial' AND details->>'initialSyncRun' = $1",
      [runId],
    );
    expect(unmatched.map((row) => row.record_ref)).toEqual(
      expect.arrayContaining([`hubspot:contact:${seeded.orphanMql}`, `salesforce:Lead:${seeded.orphanLead}`]),
    );
    expect(progress.unmatched).toBe(unmatched.length);
    expect((await api('GET', `/api/installations/${installationId}/initial-sync`)).json.run).toEqual(progress);
    const job = await h.app.producer.queue('initialSync').getJob(`initial-sync-${runId}`);
    expect(job?.progress).toEqual({
      done: progress.done,
      total: progress.total,
      ratePerS: progress.ratePerS,
      etaS: 0,
      linked: progress.linked,
      stagesAligned: progress.stagesAligned,
      unmatched: progress.unmatched,
      failed: 0,
    });

    // A contact behind its same-email Lead moves forward to SQL and is linked both ways.
    expect(await h.contact(seeded.behind.contactId)).toMatchObject({
      lifecyclestage: 'salesqualifiedlead',
      hs_lead_status: 'IN_PROGRESS',
      salesforce_lead_id: seeded.behind.leadId,
    });
    expect(await leadState(seeded.behind.leadId)).toMatchObject({
      Status: 'Working - Contacted',
      HubSpot_Contact_Id__c: seeded.behind.contactId,
    });
    expect(await linkOf(seeded.behind.contactId)).toMatchObject({ salesforce_lead_id: seeded.behind.leadId });
    expect(await stageHistory(seeded.behind.contactId)).toEqual([{ stage: 'sql', source: 'salesforce' }]);
    const linkLine = await h.app.db.query<{ reason: string }>(
      "SELECT reason FROM sync_log WHERE record_ref = $1 AND action = 'link_initial'",
      [`hubspot:contact:${seeded.behind.contactId}`],
    );
    expect(linkLine[0]?.reason).toMatch(/^matched by email to an unconverted Lead/);

    // A contact ahead of its Lead moves the Lead's stage mirror, not its Status (sales owns SQL).
    expect(await leadState(seeded.ahead.leadId)).toMatchObject({
      Status: 'Open - Not Contacted',
      Lifecycle_Stage__c: 'opportunity',
      HubSpot_Contact_Id__c: seeded.ahead.contactId,
    });
    expect(await h.contact(seeded.ahead.contactId)).toMatchObject({ lifecyclestage: 'opportunity' });
    expect(await stageHistory(seeded.ahead.contactId)).toEqual([{ stage: 'opportunity', source: 'hubspot' }]);

    // A converted Lead with a won Opportunity makes the contact a customer, linked to Contact and Opportunity.
    expect(await h.contact(seeded.won.contactId)).toMatchObject({
      lifecyclestage: 'customer',
      salesforce_contact_id: seeded.won.contactSfId,
      salesforce_lead_id: seeded.won.leadId,
    });
    expect(await linkOf(seeded.won.contactId)).toEqual({
      salesforce_lead_id: seeded.won.leadId,
      salesforce_contact_id: seeded.won.contactSfId,
      salesforce_opportunity_id: seeded.won.opportunityId,
    });

    // An agreeing pair, already carrying each other's ids: linked by external id, no id or stage written
    // (the Lead's only write is its attribution stamp), no stage line.
    const { SystemModstamp: _before, ...agreeingFields } = agreeingBefore as LeadState;
    const { SystemModstamp: _after, ...agreeingNow } = (await leadState(seeded.agreeing.leadId)) as LeadState;
    expect(agreeingNow).toEqual(agreeingFields);
    expect(await stageHistory(seeded.agreeing.contactId)).toEqual([]);
    const agreeingLog = await h.app.db.query<{ action: string; reason: string }>(
      "SELECT action, reason FROM sync_log WHERE record_ref IN ($1, $2) AND details->>'initialSyncRun' = $3 AND action <> 'stamp_attribution'",
      [`hubspot:contact:${seeded.agreeing.contactId}`, `salesforce:Lead:${seeded.agreeing.leadId}`, runId],
    );
    expect(agreeingLog).toEqual([
      { action: 'link_initial', reason: expect.stringMatching(/^matched by external id: Lead.HubSpot_Contact_Id__c/) },
    ]);
    expect(await linkOf(seeded.agreeing.contactId)).toMatchObject({ salesforce_lead_id: seeded.agreeing.leadId });

    // Historical records are not handoffs: no Lead for the orphan MQL, no HubSpot contact for the orphan Lead, no SLA clock.
    expect(await leadCount()).toBe(leadsBefore);
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${seeded.orphanMql}'`)).toEqual([]);
    expect(await slaClocks()).toBe(clocksBefore);
    expect(await h.contact(seeded.orphanMql)).toMatchObject({ lifecyclestage: 'marketingqualifiedlead', salesforce_lead_id: null });
    const summary = await h.app.db.query<{ reason: string }>(
      "SELECT reason FROM sync_log WHERE action = 'initial_sync_completed' AND details->>'initialSyncRun' = $1",
      [runId],
    );
    expect(summary[0]?.reason).toContain('left unmatched on purpose');
  });

  it('goes quiet after the run: its own writes come back as echoes and sync nothing', async () => {
    await quiet();
    // No drain ran for any record since the run started: every webhook and Outbound Message its writes caused was known as its own.
    const drained = await h.app.db.query<{ action: string; record_ref: string }>(
      "SELECT action, record_ref FROM sync_log WHERE created_at >= $1 AND job_queue IN ('sync-to-salesforce', 'sync-to-hubspot')",
      [runStartedAt],
    );
    expect(drained).toEqual([]);
    const echoes = await h.app.db.query("SELECT 1 FROM sync_log WHERE created_at >= $1 AND action = 'skip_echo'", [runStartedAt]);
    expect(echoes.length).toBeGreaterThan(0);
    expect(await h.contact(seeded.behind.contactId)).toMatchObject({ lifecyclestage: 'salesqualifiedlead' });
    expect(await h.leadsFor(`HubSpot_Contact_Id__c = '${seeded.orphanMql}'`)).toEqual([]);
  });

  it('writes nothing when run again: every pair is linked and in agreement', async () => {
    await quiet();
    const before = writeCalls();
    const again = await runInitialSync(direct, await createInitialSyncRun(h.app.db, installationId), async () => undefined);
    expect(again).toMatchObject({ status: 'completed', linked: 0, stagesAligned: 0, stampedContacts: 0, stampedLeads: 0, failed: 0 });
    expect(writeCalls() - before).toBe(0);
  });

  it('resumes a run killed mid-way from its cursor and ends in the same state, with no duplicate link or Lead', async () => {
    const pairs = await beforeTheInstall(async () => {
      const made: { contactId: string; leadId: string }[] = [];
      for (let i = 0; i < 230; i += 1) {
        const address = email(`bulk${i}-`);
        const contactId = contact({ email: address, lifecyclestage: 'marketingqualifiedlead' });
        if (i % 23 === 0) made.push({ contactId, leadId: await newLead({ Email: address, Status: 'Working - Contacted' }) });
      }
      return made;
    });
    const leadsBefore = await leadCount();
    const runId = await createInitialSyncRun(h.app.db, installationId);
    await expect(runInitialSync(direct, runId, async () => Promise.reject(new Error('the worker was killed')))).rejects.toThrow(
      'the worker was killed',
    );
    const interrupted = (await initialSyncProgress(h.app.db, runId)) as InitialSyncProgress;
    expect(interrupted).toMatchObject({ status: 'running', phase: 'contacts', done: 200 });

    const steps: number[] = [];
    const final = await runInitialSync(direct, runId, async (progress) => {
      steps.push(progress.done);
    });
    expect(steps[0]).toBeGreaterThan(200);
    expect(final).toMatchObject({ status: 'completed', failed: 0 });
    expect(final.done).toBe(final.total);
    expect(final.linked).toBe(pairs.length);

    for (const { contactId, leadId } of pairs) {
      expect(await h.contact(contactId)).toMatchObject({ lifecyclestage: 'salesqualifiedlead', salesforce_lead_id: leadId });
      expect(await leadState(leadId)).toMatchObject({ HubSpot_Contact_Id__c: contactId });
    }
    const duplicates = await h.app.db.query(
      'SELECT salesforce_lead_id FROM record_links WHERE salesforce_lead_id IS NOT NULL GROUP BY salesforce_lead_id HAVING count(*) > 1',
    );
    expect(duplicates).toEqual([]);
    const twice = await h.app.db.query(
      "SELECT record_ref FROM sync_log WHERE action = 'link_initial' AND details->>'initialSyncRun' = $1 GROUP BY record_ref HAVING count(*) > 1",
      [runId],
    );
    expect(twice).toEqual([]);
    expect(await leadCount()).toBe(leadsBefore);
  });

  it('links a Lead that two contacts name in salesforce_lead_id to one of them only', async () => {
    const { first, second, leadId } = await beforeTheInstall(async () => {
      const lead = await newLead({ Email: email('shared-lead'), Status: 'Open - Not Contacted' });
      return {
        leadId: lead,
        first: contact({ email: email('names-lead-a'), lifecyclestage: 'marketingqualifiedlead', salesforce_lead_id: lead }),
        second: contact({ email: email('names-lead-b'), lifecyclestage: 'marketingqualifiedlead', salesforce_lead_id: lead }),
      };
    });
    const final = await runInitialSync(direct, await createInitialSyncRun(h.app.db, installationId), async () => undefined);
    expect(final).toMatchObject({ status: 'completed', failed: 0 });
    expect(await linkOf(first)).toMatchObject({ salesforce_lead_id: leadId });
    expect(await linkOf(second)).toBeUndefined();
    expect(await leadState(leadId)).toMatchObject({ HubSpot_Contact_Id__c: first });
    const links = await h.app.db.query('SELECT hubspot_contact_id FROM record_links WHERE salesforce_lead_id = $1', [leadId]);
    expect(links).toHaveLength(1);
  });

  it('refuses a start with a body, an unknown installation and a malformed run id with clear 4xx answers', async () => {
    const withBody = await api('POST', `/api/installations/${installationId}/initial-sync`, { everything: true });
    expect(withBody.status).toBe(400);
    expect(withBody.json).toMatchObject({ error: 'invalid_request' });
    expect((await api('POST', '/api/installations/no-such-installation/initial-sync')).status).toBe(404);
    expect((await api('GET', '/api/installations/no-such-installation/initial-sync')).status).toBe(404);
    expect((await api('GET', '/api/backfill/not-a-run')).status).toBe(400);
    expect((await api('GET', '/api/backfill/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

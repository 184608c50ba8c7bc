/**
 * The sales side of the SLA beyond the first touch, end to end: the app against both sandboxes on
 * PostgreSQL with a cadence (2 touches in 7 days) and a disposition deadline (10 days) in its
 * SLA policy. Early decisions come from the live sync (a rep logs Tasks or accepts the Lead); the
 * checks at the due instant are the app's own delayed jobs, run once the test has moved the app's
 * SLA clock past the due instant, so the test does not wait days. Then the compliance figures and
 * the violations list from the same rows.
 */
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSlaPolicy, type SlaPolicy } from '../../src/domain/sla.ts';
import { connectPostgres } from '../../src/store/db.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { migrate } from '../../src/store/migrate.ts';
import { salesSide, salesViolations } from '../../src/store/sla-compliance.ts';
import { followUpJobId, type FollowUpRule } from '../../src/sync/sla-scheduler.ts';
import { eventually, eventuallyValue } from '../support/app-process.ts';
import { MovableClock } from '../support/clock.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const DAY = 86_400_000;
const POLICY_INPUT = { hours: 1, cadence: { touches: 2, days: 7 }, disposition: { days: 10 } };

interface FollowUpRow extends Record<string, unknown> {
  id: number;
  schedule_n: number;
  handoff_at: Date;
  owner_name: string | null;
  cadence_status: string | null;
  cadence_touches: number;
  cadence_due_at: Date | null;
  disposition_status: string | null;
  disposition: string | null;
  disposition_due_at: Date | null;
  updated_at: Date;
}

describe('SLA follow-up cadence and disposition', () => {
  let h: SyncHarness;
  let installationId: string;
  let policy: SlaPolicy;
  const slaClock = new MovableClock();

  beforeAll(async () => {
    const parsed = validateSlaPolicy(POLICY_INPUT);
    if (!parsed.ok) throw new Error(parsed.error.join('; '));
    policy = parsed.value;
    const databaseUrl = freshPostgresUrl();
    const db = connectPostgres(databaseUrl, 2);
    try {
      await migrate(db);
      installationId = (
        await upsertInstallation(db, { name: 'Sandbox', hubspotPortalId: '1000001', salesforceOrgId: '00D000000000001AAA' })
      ).id;
      await db.query('UPDATE installations SET settings = $2::jsonb WHERE id = $1', [
        installationId,
        JSON.stringify({ slaPolicy: POLICY_INPUT }),
      ]);
    } finally {
      await db.close();
    }
    h = await startSyncHarness({ DATABASE_URL: databaseUrl }, { slaClock: slaClock.now });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  /**
   * Moves the app's SLA clock on to `at` and runs the rule's delayed check of the clock now (BullMQ
   * counts the delay on the wall clock, which the test does not move). Resolves the job once it
   * completed, or once it went back to wait for its due instant (run before it).
   */
  async function runCheckAt(at: Date, row: FollowUpRow, leadId: string, rule: FollowUpRule): Promise<Job> {
    slaClock.advanceTo(at);
    const queue = h.app.producer.queue('slaClocks');
    const jobId = followUpJobId(installationId, leadId, row.schedule_n, rule);
    const state = async (): Promise<{ job: Job; state: string } | undefined> => {
      const job = await queue.getJob(jobId);
      return job && { job, state: await job.getState() };
    };
    const delayed = await eventuallyValue(
      async () => {
        const now = await state();
        return now?.state === 'delayed' && now.job.delay > 0 ? now.job : undefined;
      },
      20_000,
      `the ${rule} check of Lead ${leadId} waiting`,
      100,
    );
    // Promoted, the job waits without a delay; run, it completes or goes back to wait with one.
    await delayed.promote();
    return eventuallyValue(
      async () => {
        const now = await state();
        return now && (now.state === 'completed' || (now.state === 'delayed' && now.job.delay > 0)) ? now.job : undefined;
      },
      20_000,
      `the ${rule} check of Lead ${leadId} run`,
      100,
    );
  }

  async function followUpOf(leadId: string): Promise<FollowUpRow> {
    await eventually(
      async () =>
        (await h.app.db.query('SELECT 1 FROM sla_clocks WHERE salesforce_lead_id = $1 AND cadence_status IS NOT NULL', [leadId])).length >
        0,
      15_000,
      `the follow-up rules of Lead ${leadId}`,
    );
    const rows = await h.app.db.query<FollowUpRow>(
      'SELECT id, schedule_n, handoff_at, owner_name, cadence_status, cadence_touches, cadence_due_at, disposition_status, disposition, disposition_due_at, updated_at FROM sla_clocks WHERE salesforce_lead_id = $1',
      [leadId],
    );
    return rows[0] as FollowUpRow;
  }

  async function hubspotStamps(contactId: string): Promise<Record<string, string | null>> {
    return (await h.hubspot.crm.contacts.basicApi.getById(contactId, ['sales_followup_status', 'sales_disposition_status'])).properties;
  }

  async function leadStamps(leadId: string): Promise<{ SLA_Cadence_Status__c: string | null; SLA_Disposition_Status__c: string | null }> {
    const rows = (
      await h.rep.query<{ SLA_Cadence_Status__c: string | null; SLA_Disposition_Status__c: string | null }>(
        `SELECT SLA_Cadence_Status__c, SLA_Disposition_Status__c FROM Lead WHERE Id = '${leadId}'`,
      )
    ).records;
    return rows[0] ?? { SLA_Cadence_Status__c: null, SLA_Disposition_Status__c: null };
  }

  const eventuallyInCrm = (probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> =>
    eventually(probe, timeoutMs, what, 1_000);

  it('starts both rules at handoff: due in 7 and 10 days, pending on both records', async () => {
    const { contactId, lead } = await h.handOff();
    const row = await followUpOf(lead.Id);
    expect(row.cadence_due_at?.getTime()).toBe(row.handoff_at.getTime() + 7 * DAY);
    expect(row.disposition_due_at?.getTime()).toBe(row.handoff_at.getTime() + 10 * DAY);
    await eventuallyInCrm(async () => (await hubspotStamps(contactId)).sales_followup_status === 'pending', 15_000, 'pending in HubSpot');
    expect(await leadStamps(lead.Id)).toEqual(
      expect.objectContaining({ SLA_Cadence_Status__c: 'pending', SLA_Disposition_Status__c: 'pending' }),
    );
    const jobs = await h.app.producer.queue('slaClocks').getJobs(['delayed']);
    expect(
      jobs
        .filter((job) => String(job.id).startsWith(`sla-followup-${installationId}-${lead.Id}-`))
        .map((job) => String(job.id).split('-').pop())
        .sort(),
    ).toEqual(['cadence', 'disposition']);
  });

  it('meets the cadence as soon as the sync sees K touches, on both records', async () => {
    const { contactId, lead } = await h.handOff();
    await followUpOf(lead.Id);
    await h.rep.sobject('Task').create({ WhoId: lead.Id, Subject: 'Intro call', Status: 'Completed', TaskSubtype: 'Call' });
    await h.rep.sobject('Task').create({ WhoId: lead.Id, Subject: 'Follow-up email', Status: 'Completed', TaskSubtype: 'Email' });
    await eventually(async () => (await followUpOf(lead.Id)).cadence_status === 'met', 20_000, 'the cadence met');
    expect((await followUpOf(lead.Id)).cadence_touches).toBe(2);
    await eventuallyInCrm(async () => (await hubspotStamps(contactId)).sales_followup_status === 'met', 15_000, 'met in HubSpot');
    expect((await leadStamps(lead.Id)).SLA_Cadence_Status__c).toBe('met');
  });

  it("marks a Lead with fewer than K touches in D days missed on both records, in its rep's compliance and the violations; a duplicate check changes nothing", async () => {
    const { contactId, lead } = await h.handOff();
    const started = await followUpOf(lead.Id);
    await h.rep.sobject('Task').create({ WhoId: lead.Id, Subject: 'Left a voicemail', Status: 'Completed', TaskSubtype: 'Call' });
    await eventually(async () => (await followUpOf(lead.Id)).cadence_touches === 1, 20_000, 'one touch counted');
    expect((await followUpOf(lead.Id)).cadence_status).toBe('pending');

    const afterWindow = new Date((started.cadence_due_at?.getTime() ?? 0) + 1_000);
    // Two days early, the check decides nothing and waits for the due instant again.
    const early = await runCheckAt(new Date(afterWindow.getTime() - 2 * DAY), started, lead.Id, 'cadence');
    expect(await early.getState()).toBe('delayed');
    expect(early.delay).toBeGreaterThan(2 * DAY - 60_000);
    expect(early.delay).toBeLessThanOrEqual(2 * DAY);
    expect((await followUpOf(lead.Id)).cadence_status).toBe('pending');
    // Past the window, it judges the rule missed.
    expect(await (await runCheckAt(afterWindow, started, lead.Id, 'cadence')).getState()).toBe('completed');
    expect((await followUpOf(lead.Id)).cadence_status).toBe('missed');
    await eventuallyInCrm(async () => (await hubspotStamps(contactId)).sales_followup_status === 'missed', 10_000, 'missed in HubSpot');
    expect((await leadStamps(lead.Id)).SLA_Cadence_Status__c).toBe('missed');

    // The same check again (a repeated or late job) finds the rule decided and writes nothing.
    const decided = await followUpOf(lead.Id);
    slaClock.advanceTo(new Date(afterWindow.getTime() + DAY));
    const repeatedId = `${followUpJobId(installationId, lead.Id, started.schedule_n, 'cadence')}-repeated`;
    await h.app.producer.enqueue('slaClocks', [
      { jobId: repeatedId, payload: { v: 1, kind: 'followUp', installationId, clockId: started.id, rule: 'cadence' } },
    ]);
    await eventually(
      async () => (await (await h.app.producer.queue('slaClocks').getJob(repeatedId))?.getState()) === 'completed',
      20_000,
      'the repeated check',
    );
    expect((await followUpOf(lead.Id)).updated_at).toEqual(decided.updated_at);
    const logged = await h.app.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM sync_log WHERE record_ref = $1 AND action = 'sla_cadence'",
      [`salesforce:Lead:${lead.Id}`],
    );
    expect(logged[0]?.n).toBe(1);
    // A touch logged after the window does not change the decision.
    await h.rep.sobject('Task').create({ WhoId: lead.Id, Subject: 'Late call', Status: 'Completed', TaskSubtype: 'Call' });
    expect((await followUpOf(lead.Id)).cadence_status).toBe('missed');

    const owner =
      decided.owner_name ??
      (
        await h.app.db.query<{ owner_name: string | null; owner_id: string | null }>(
          'SELECT owner_name, owner_id FROM sla_clocks WHERE id = $1',
          [started.id],
        )
      )[0]?.owner_id ??
      '(none)';
    const period = {
      installationId,
      from: new Date(started.handoff_at.getTime() - 1),
      to: new Date(started.handoff_at.getTime() + 1),
      now: afterWindow,
      policy,
    };
    const side = await salesSide(h.app.db, period);
    const row = side.byRep.find((group) => group.key === owner);
    expect(row?.rules.find((rule) => rule.rule === 'cadence')).toMatchObject({ enabled: true, broken: 1, kept: 0 });
    const violations = await salesViolations(h.app.db, { ...period, rule: 'cadence', group: owner });
    expect(violations.map((v) => [v.leadId, v.touches, v.touchesRequired])).toEqual([[lead.Id, 1, 2]]);
  });

  it('meets the disposition when the rep accepts the Lead, and misses it for a Lead nobody decided on', async () => {
    const accepted = await h.handOff();
    const undecided = await h.handOff();
    await followUpOf(accepted.lead.Id);
    const idle = await followUpOf(undecided.lead.Id);
    await h.rep.sobject('Lead').update({ Id: accepted.lead.Id, Status: 'Working - Contacted' });
    await eventually(async () => (await followUpOf(accepted.lead.Id)).disposition_status === 'met', 20_000, 'the disposition met');
    expect((await followUpOf(accepted.lead.Id)).disposition).toBe('accepted');
    await eventuallyInCrm(
      async () => (await hubspotStamps(accepted.contactId)).sales_disposition_status === 'met',
      15_000,
      'met in HubSpot',
    );
    expect((await leadStamps(accepted.lead.Id)).SLA_Disposition_Status__c).toBe('met');

    const afterDeadline = new Date((idle.disposition_due_at?.getTime() ?? 0) + 1_000);
    expect(await (await runCheckAt(afterDeadline, idle, undecided.lead.Id, 'disposition')).getState()).toBe('completed');
    expect((await followUpOf(undecided.lead.Id)).disposition_status).toBe('missed');
    await eventuallyInCrm(
      async () => (await hubspotStamps(undecided.contactId)).sales_disposition_status === 'missed',
      10_000,
      'missed in HubSpot',
    );
    expect((await leadStamps(undecided.lead.Id)).SLA_Disposition_Status__c).toBe('missed');
    // The accepted Lead's check at its due instant finds it decided: it stays met.
    const acceptedRow = await followUpOf(accepted.lead.Id);
    expect(await (await runCheckAt(afterDeadline, acceptedRow, accepted.lead.Id, 'disposition')).getState()).toBe('completed');
    expect(await followUpOf(accepted.lead.Id)).toMatchObject({ disposition_status: 'met', disposition: 'accepted' });
  });
});

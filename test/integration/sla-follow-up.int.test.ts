/**
 * The sales side of the SLA beyond the first touch, end to end: the app against both sandboxes on
 * PostgreSQL with a cadence (2 touches in 7 days) and a disposition deadline (10 days) in its
 * SLA policy. Early decisions come from the live sync (a rep logs Tasks or accepts the Lead); the
 * checks at the due instant are the worker's own function called with an injected clock, so the
 * test does not wait days. Then the compliance figures and the violations list from the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAGE_DICTIONARY } from '../../src/domain/stages.ts';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../src/domain/feedback.ts';
import { validateSlaPolicy, type SlaPolicy } from '../../src/domain/sla.ts';
import { connectPostgres } from '../../src/store/db.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { migrate } from '../../src/store/migrate.ts';
import { salesSide, salesViolations } from '../../src/store/sla-compliance.ts';
import { SlaScheduler, type ClockContext } from '../../src/sync/sla-clock.ts';
import { checkFollowUpDue } from '../../src/sync/sla-followup.ts';
import { eventually } from '../support/app-process.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { directSyncContext, startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const DAY = 86_400_000;
const POLICY_INPUT = { hours: 1, cadence: { touches: 2, days: 7 }, disposition: { days: 10 } };

interface FollowUpRow extends Record<string, unknown> {
  id: number;
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
  let direct: Awaited<ReturnType<typeof directSyncContext>>;

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
    h = await startSyncHarness({ DATABASE_URL: databaseUrl });
    direct = await directSyncContext(h);
  }, 120_000);

  afterAll(async () => {
    await direct?.close();
    await h?.close();
  });

  /** The worker's clock context, at an injected instant. */
  function clockContextAt(at: Date): ClockContext {
    return {
      installationId,
      db: h.app.db,
      hubspot: direct.ctx.hubspot,
      salesforce: direct.ctx.salesforce,
      ledger: direct.ctx.ledger,
      policy,
      integrationUserId: h.salesforceSandbox.integrationUserId,
      feedbackTaxonomy: DEFAULT_FEEDBACK_TAXONOMY,
      dictionary: DEFAULT_STAGE_DICTIONARY,
      scheduler: new SlaScheduler(h.app.producer),
      alerts: false,
      now: () => at,
    };
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
      'SELECT id, handoff_at, owner_name, cadence_status, cadence_touches, cadence_due_at, disposition_status, disposition, disposition_due_at, updated_at FROM sla_clocks WHERE salesforce_lead_id = $1',
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
    expect(
      await checkFollowUpDue(clockContextAt(new Date(afterWindow.getTime() - 2 * DAY)), { clockId: started.id, rule: 'cadence' }),
    ).toEqual({ kind: 'not_due', dueAt: started.cadence_due_at });
    expect(await checkFollowUpDue(clockContextAt(afterWindow), { clockId: started.id, rule: 'cadence' })).toEqual({
      kind: 'judged',
      status: 'missed',
    });
    await eventuallyInCrm(async () => (await hubspotStamps(contactId)).sales_followup_status === 'missed', 10_000, 'missed in HubSpot');
    expect((await leadStamps(lead.Id)).SLA_Cadence_Status__c).toBe('missed');

    // The same check again (a repeated or late job) finds the rule decided and writes nothing.
    const decided = await followUpOf(lead.Id);
    expect(await checkFollowUpDue(clockContextAt(new Date(afterWindow.getTime() + DAY)), { clockId: started.id, rule: 'cadence' })).toEqual(
      { kind: 'decided', status: 'missed' },
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
    expect(await checkFollowUpDue(clockContextAt(afterDeadline), { clockId: idle.id, rule: 'disposition' })).toEqual({
      kind: 'judged',
      status: 'missed',
    });
    await eventuallyInCrm(
      async () => (await hubspotStamps(undecided.contactId)).sales_disposition_status === 'missed',
      10_000,
      'missed in HubSpot',
    );
    expect((await leadStamps(undecided.lead.Id)).SLA_Disposition_Status__c).toBe('missed');
    // The accepted Lead's check at its due instant finds it decided.
    const acceptedRow = await followUpOf(accepted.lead.Id);
    expect(await checkFollowUpDue(clockContextAt(afterDeadline), { clockId: acceptedRow.id, rule: 'disposition' })).toEqual({
      kind: 'decided',
      status: 'met',
    });
  });
});

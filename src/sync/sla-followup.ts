/**
 * The sales side of the SLA beyond the first touch (docs/architecture.md §5): the follow-up cadence
 * (at least K touches — Tasks and Events reps logged, never the app's own — within D days of
 * handoff) and the disposition deadline (accepted, rejected with a reason, recycled or converted
 * within X days). Both are fixed on the clock row at handoff (src/store/sla.ts, migration 015).
 *
 * - A rule is decided early when the sync sees it kept (K touches counted, a disposition), or by
 *   its delayed check at the due instant (`sla-followup-<installation>-<lead>-<n>-<rule>`). Only a
 *   `pending` state moves, so a repeated, late or duplicate check finds the rule decided and does
 *   nothing.
 * - Converting a Lead moves its Tasks and Events to the new Contact (Salesforce Help, "Convert
 *   Leads": "activities … are associated with the contact"; the sandbox does the same, see
 *   src/sandbox/salesforce/lead-convert.ts), so touches are counted on the Lead and on its
 *   converted Contact.
 * - Decided states are stamped on the Lead (or its converted Contact) and the HubSpot contact,
 *   through the value ledger like every other stamp.
 */
import { refusalOf, type SalesforceRecord } from '../crm/ports.ts';
import { deriveFeedback } from '../domain/feedback.ts';
import {
  cadenceStatus,
  dispositionOf,
  dispositionStatus,
  followUpDeadlines,
  type Disposition,
  type FollowUpStatus,
} from '../domain/sla.ts';
import {
  feedbackSince,
  followUpById,
  nameSlaClock,
  pendingFollowUps,
  pendingFollowUpsForLeads,
  recordCadence,
  recordDisposition,
  setFollowUpRules,
  type FollowUpRecord,
  type SlaClockRecord,
} from '../store/sla.ts';
import { salesforceRef, trimmedText } from './context.ts';
import { isCrmFailure, leadName, Log, readLeads, type ClockContext } from './sla-context.ts';
import { loggedActivities } from './sla-first-touch.ts';
import type { FollowUpRule } from './sla-scheduler.ts';
import { stampHubSpot, type HubSpotWrite } from './sla-stamps.ts';
import { salesforceId15 } from '../domain/salesforce-id.ts';

/** The Salesforce fields of the follow-up stamps (Lead and Contact). */
export const SALESFORCE_FOLLOW_UP_FIELDS = { cadence: 'SLA_Cadence_Status__c', disposition: 'SLA_Disposition_Status__c' } as const;
/** The HubSpot contact properties of the follow-up stamps. */
export const HUBSPOT_FOLLOW_UP_PROPERTIES = { cadence: 'sales_followup_status', disposition: 'sales_disposition_status' } as const;

const LEAD_FIELDS = [
  'Id',
  'Status',
  'IsConverted',
  'ConvertedContactId',
  'ConvertedOpportunityId',
  'Feedback_Reason__c',
  'FirstName',
  'LastName',
  'LastModifiedDate',
] as const;

/** Starts the follow-up rules of clocks just started at handoff: rules on the row, checks scheduled, `pending` stamped. */
export async function startFollowUps(ctx: ClockContext, clocks: readonly SlaClockRecord[]): Promise<number> {
  const started: FollowUpRecord[] = [];
  for (const clock of clocks) {
    const deadlines = followUpDeadlines(ctx.policy, clock.handoffAt.getTime());
    if (deadlines.cadence === null && deadlines.dispositionDueAtMs === null) continue;
    const record = await setFollowUpRules(ctx.db, clock.id, {
      cadence: deadlines.cadence === null ? null : { required: deadlines.cadence.touches, dueAt: new Date(deadlines.cadence.dueAtMs) },
      dispositionDueAt: deadlines.dispositionDueAtMs === null ? null : new Date(deadlines.dispositionDueAtMs),
    });
    if (record) started.push(record);
  }
  if (started.length === 0) return 0;
  await ctx.scheduler.scheduleFollowUpChecks(ctx.installationId, started.flatMap(dueChecks));
  const log = new Log(ctx);
  await stampFollowUps(
    ctx,
    started.map((record) => ({ record, converted: null })),
    log,
  );
  await log.flush();
  return started.length;
}

function dueChecks(record: FollowUpRecord): { clockId: number; leadId: string; scheduleN: number; rule: FollowUpRule; dueAt: Date }[] {
  const base = { clockId: record.clockId, leadId: record.leadId, scheduleN: record.scheduleN };
  return [
    ...(record.cadence?.status === 'pending' ? [{ ...base, rule: 'cadence' as const, dueAt: record.cadence.dueAt }] : []),
    ...(record.disposition?.status === 'pending' ? [{ ...base, rule: 'disposition' as const, dueAt: record.disposition.dueAt }] : []),
  ];
}

/** Enqueues the check of every pending follow-up rule again (after a restart that lost Redis: a no-op while the jobs exist). */
export async function rescheduleFollowUps(ctx: ClockContext): Promise<number> {
  const records = await pendingFollowUps(ctx.db, ctx.installationId);
  await ctx.scheduler.scheduleFollowUpChecks(ctx.installationId, records.flatMap(dueChecks));
  return records.length;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Evaluation {
  record: FollowUpRecord;
  /** The converted Contact that carries the Salesforce stamp (a converted Lead cannot be edited). */
  converted: string | null;
}

/** Touches a rep logged on the Lead or its converted Contact inside [handoff, due], per clock. */
async function countTouches(
  ctx: ClockContext,
  records: readonly FollowUpRecord[],
  leads: ReadonlyMap<string, SalesforceRecord>,
): Promise<Map<number, number>> {
  const whoIds = new Map<string, FollowUpRecord>();
  for (const record of records) {
    if (record.cadence?.status !== 'pending') continue;
    whoIds.set(salesforceId15(record.leadId), record);
    const contactId = trimmedText(leads.get(salesforceId15(record.leadId)), 'ConvertedContactId');
    if (contactId !== null) whoIds.set(salesforceId15(contactId), record);
  }
  const counts = new Map<number, number>();
  if (whoIds.size === 0) return counts;
  for (const activity of await loggedActivities(ctx, [...whoIds.keys()])) {
    const record = whoIds.get(salesforceId15(activity.whoId));
    if (!record?.cadence) continue;
    if (activity.at < record.handoffAt.getTime() || activity.at > record.cadence.dueAt.getTime()) continue;
    counts.set(record.clockId, (counts.get(record.clockId) ?? 0) + 1);
  }
  return counts;
}

/** The first disposition since handoff: recorded feedback (with its own time) or the Lead as it stands now. */
async function findDisposition(
  ctx: ClockContext,
  record: FollowUpRecord,
  lead: SalesforceRecord | undefined,
): Promise<{ outcome: Disposition; at: Date } | null> {
  const candidates: { outcome: Disposition; at: Date }[] = [];
  for (const event of await feedbackSince(ctx.db, ctx.installationId, record, record.handoffAt)) {
    const outcome = dispositionOf(event.outcome, event.reasonCode);
    if (outcome !== null) candidates.push({ outcome, at: event.occurredAt });
  }
  if (lead) {
    // The Lead's current state, judged by the feedback taxonomy (one place for what a status means).
    const decision = deriveFeedback(
      null,
      {
        object: 'Lead',
        Id: lead.Id,
        Status: trimmedText(lead, 'Status') ?? '',
        IsConverted: lead.IsConverted === true,
        ConvertedOpportunityId: trimmedText(lead, 'ConvertedOpportunityId'),
        Feedback_Reason__c: trimmedText(lead, 'Feedback_Reason__c'),
        LastModifiedDate: trimmedText(lead, 'LastModifiedDate') ?? ctx.now().toISOString(),
      },
      ctx.feedbackTaxonomy,
      ctx.dictionary,
    );
    if (decision.kind === 'feedback') {
      const outcome = dispositionOf(decision.feedback.outcome, decision.feedback.reasonCode);
      const at = new Date(Math.max(decision.feedback.at, record.handoffAt.getTime()));
      if (outcome !== null) candidates.push({ outcome, at });
    }
  }
  return candidates.sort((a, b) => a.at.getTime() - b.at.getTime())[0] ?? null;
}

/**
 * Judges the pending rules of these clocks against the Leads as they are now: a cadence with K
 * touches is met, a disposition seen is met (or missed when late); past its due instant a rule
 * still open is missed. `rules` limits which rules may be decided (a due check decides its own).
 */
async function evaluate(
  ctx: ClockContext,
  records: readonly FollowUpRecord[],
  rules: readonly FollowUpRule[],
  log: Log,
): Promise<Evaluation[]> {
  const nowMs = ctx.now().getTime();
  const leads = await readLeads(
    ctx,
    records.map((record) => record.leadId),
    LEAD_FIELDS,
  );
  const touches = rules.includes('cadence') ? await countTouches(ctx, records, leads) : new Map<number, number>();
  const decided: Evaluation[] = [];
  for (const record of records) {
    const lead = leads.get(salesforceId15(record.leadId));
    const converted = lead?.IsConverted === true ? trimmedText(lead, 'ConvertedContactId') : null;
    if (record.leadName === null) await nameSlaClock(ctx.db, record.clockId, leadName(lead));
    let latest = record;
    let changed = false;
    const ref = salesforceRef('Lead', record.leadId);
    if (rules.includes('cadence') && record.cadence?.status === 'pending') {
      const counted = touches.get(record.clockId) ?? 0;
      const status = cadenceStatus({ required: record.cadence.required, dueAtMs: record.cadence.dueAt.getTime() }, counted, nowMs);
      if (status !== 'pending' || counted !== record.cadence.touches) {
        const updated = await recordCadence(ctx.db, record.clockId, counted, status);
        if (updated) {
          latest = updated;
          if (status !== 'pending') {
            changed = true;
            log.add(
              ref,
              status === 'met' ? 'info' : 'warn',
              'sla_cadence',
              `follow-up cadence ${status}: ${counted} of ${record.cadence.required} touches logged by ${record.cadence.dueAt.toISOString()}`,
              { clock: record.clockId, contact: record.contactId },
            );
          }
        }
      }
    }
    if (rules.includes('disposition') && record.disposition?.status === 'pending') {
      const found = await findDisposition(ctx, record, lead);
      const status: FollowUpStatus = dispositionStatus(record.disposition.dueAt.getTime(), found?.at.getTime() ?? null, nowMs);
      if (status !== 'pending') {
        const updated = await recordDisposition(ctx.db, record.clockId, { outcome: found?.outcome ?? null, at: found?.at ?? null, status });
        if (updated) {
          latest = updated;
          changed = true;
          log.add(
            ref,
            status === 'met' ? 'info' : 'warn',
            'sla_disposition',
            found
              ? `disposition ${status}: ${found.outcome} at ${found.at.toISOString()}, due ${record.disposition.dueAt.toISOString()}`
              : `disposition missed: the Lead was neither accepted, rejected with a reason, recycled nor converted by ${record.disposition.dueAt.toISOString()}`,
            { clock: record.clockId, contact: record.contactId },
          );
        }
      }
    }
    if (changed) decided.push({ record: latest, converted });
  }
  return decided;
}

/**
 * Writes the cadence and disposition states on the Lead (or its converted Contact) and the
 * HubSpot contact. A CRM that cannot be reached is returned for the caller to retry or log.
 */
async function stampFollowUps(ctx: ClockContext, evaluations: readonly Evaluation[], log: Log): Promise<Error | null> {
  const byType = new Map<'Lead' | 'Contact', SalesforceRecord[]>();
  const hubspot: HubSpotWrite[] = [];
  for (const { record, converted } of evaluations) {
    const salesforce: Record<string, string> = {};
    const properties: Record<string, string> = {};
    if (record.cadence) {
      salesforce[SALESFORCE_FOLLOW_UP_FIELDS.cadence] = record.cadence.status;
      properties[HUBSPOT_FOLLOW_UP_PROPERTIES.cadence] = record.cadence.status;
    }
    if (record.disposition) {
      salesforce[SALESFORCE_FOLLOW_UP_FIELDS.disposition] = record.disposition.status;
      properties[HUBSPOT_FOLLOW_UP_PROPERTIES.disposition] = record.disposition.status;
    }
    const type = converted === null ? 'Lead' : 'Contact';
    byType.set(type, [...(byType.get(type) ?? []), { Id: converted ?? record.leadId, ...salesforce }]);
    if (record.contactId !== null) hubspot.push({ id: record.contactId, properties });
  }
  let unavailable: Error | null = null;
  for (const [type, records] of byType) {
    try {
      for (const [id, outcome] of await ctx.salesforce.updateRecords(type, records)) {
        if (!outcome.ok)
          log.add(salesforceRef(type, id), 'warn', 'sla_stamp_failed', `Salesforce refused the follow-up stamp: ${refusalOf(outcome)}`);
      }
    } catch (error) {
      if (!isCrmFailure(error)) throw error;
      unavailable = error;
    }
  }
  return (await stampHubSpot(ctx, hubspot, log)) ?? unavailable;
}

/**
 * Decides early what a synced batch shows (`Lead:<id>` keys): K touches reached, a disposition
 * seen. No CRM call when none of the Leads waits on a follow-up rule. Returns the clocks decided.
 */
export async function evaluateFollowUpsOnSync(ctx: ClockContext, keys: readonly string[]): Promise<number> {
  const leadIds = keys.flatMap((key) => {
    const [type, id] = key.split(':');
    return type === 'Lead' && id ? [id] : [];
  });
  const pending = await pendingFollowUpsForLeads(ctx.db, ctx.installationId, leadIds);
  if (pending.length === 0) return 0;
  const log = new Log(ctx);
  const decided = await evaluate(ctx, pending, ['cadence', 'disposition'], log);
  const unavailable = await stampFollowUps(ctx, decided, log);
  if (unavailable)
    for (const { record } of decided)
      log.add(
        salesforceRef('Lead', record.leadId),
        'warn',
        'sla_stamp_deferred',
        `the follow-up stamp was not written (${unavailable.message}); the compliance report has it`,
      );
  await log.flush();
  return decided.length;
}

/** What a follow-up check found. */
export type FollowUpCheck =
  | { kind: 'gone' }
  | { kind: 'off'; reason: string }
  | { kind: 'decided'; status: Exclude<FollowUpStatus, 'pending'> }
  | { kind: 'not_due'; dueAt: Date }
  | { kind: 'judged'; status: Exclude<FollowUpStatus, 'pending'> };

/**
 * The delayed check of one follow-up rule at its due instant. A rule already decided (early by
 * the sync, or by an earlier run of this check) is left as it is; otherwise the Lead is read and
 * the rule decided: met or missed, stamped on both sides. An unreachable CRM is thrown for a retry.
 */
export async function checkFollowUpDue(ctx: ClockContext, check: { clockId: number; rule: FollowUpRule }): Promise<FollowUpCheck> {
  const record = await followUpById(ctx.db, ctx.installationId, check.clockId);
  if (!record) return { kind: 'gone' };
  const rule = check.rule === 'cadence' ? record.cadence : record.disposition;
  if (rule === null) return { kind: 'off', reason: `the ${check.rule} rule was off at handoff` };
  if (rule.status !== 'pending') return { kind: 'decided', status: rule.status };
  if (ctx.now().getTime() <= rule.dueAt.getTime()) return { kind: 'not_due', dueAt: rule.dueAt };
  const log = new Log(ctx);
  const decided = await evaluate(ctx, [record], [check.rule], log);
  const unavailable = await stampFollowUps(ctx, decided, log);
  await log.flush();
  if (unavailable) throw unavailable;
  const after = await followUpById(ctx.db, ctx.installationId, check.clockId);
  const status = (check.rule === 'cadence' ? after?.cadence?.status : after?.disposition?.status) ?? 'pending';
  // Past due, evaluate always decides; 'pending' only when another run decided it between reads.
  return status === 'pending' ? { kind: 'decided', status: 'missed' } : { kind: decided.length > 0 ? 'judged' : 'decided', status };
}

/**
 * The SLA's due check and escalation (docs/architecture.md §5): a clock still untouched at its due
 * time is breached and escalated exactly once — claimed in Postgres by one job (a unique row per
 * clock), its steps (Tasks for the owner and the owner's manager, the `breached` stamps, the alert)
 * stamped as they finish, so a retried job resumes and never repeats one.
 */
import { refusalOf, type SalesforceRecord } from '../crm/ports.ts';
import { type SlaStatus } from '../domain/sla.ts';
import {
  claimEscalation,
  closeSlaClock,
  completeEscalation,
  enrichSlaClock,
  markEscalationStep,
  markSlaClockBreached,
  recordEscalationTasks,
  slaClockById,
  type EscalationDetails,
  type SlaClockRecord,
  type SlaEscalationRecord,
} from '../store/sla.ts';
import { salesforceRef, trimmedText } from './context.ts';
import { isSalesforceId, salesforceId15, sameSalesforceId } from '../domain/salesforce-id.ts';
import { type ClockContext, contextOf, LEAD_FIELDS, leadName, Log, ownerOf, readOwners, USER_FIELDS } from './sla-context.ts';
import { findFirstTouches, recordTouch, stampTouches } from './sla-first-touch.ts';
import { stampBothSides } from './sla-stamps.ts';

/** Marks the Tasks of one escalation, so a resumed escalation finds the ones it already created. */
export const TASK_MARKER = (escalationId: number): string => `[smarketing-sla-escalation:${escalationId}]`;

/** What a clock's due check found. */
export type DueCheck =
  | { kind: 'gone' }
  | { kind: 'stale'; reason: string }
  | { kind: 'not_due'; dueAt: Date }
  | { kind: 'touched'; status: SlaStatus }
  | { kind: 'lead_missing' }
  | { kind: 'escalated_elsewhere'; escalationId: number }
  | { kind: 'escalated'; escalationId: number; taskIds: string[]; resumed: boolean };

/**
 * The due check of one clock schedule. Re-reads the Lead: touched → the clock stops; still
 * untouched past due → breach and escalation (claimed once in Postgres; a retry resumes it).
 */
export async function checkClockDue(ctx: ClockContext, check: { clockId: number; scheduleN: number; jobId: string }): Promise<DueCheck> {
  const log = new Log(ctx);
  const clock = await slaClockById(ctx.db, ctx.installationId, check.clockId);
  if (!clock) return { kind: 'gone' };
  if (clock.scheduleN !== check.scheduleN)
    return { kind: 'stale', reason: `the clock was rescheduled (schedule ${clock.scheduleN} is current)` };
  if (clock.escalatedAt !== null) return { kind: 'stale', reason: 'the breach was already escalated' };
  if (clock.breachedAt === null && clock.firstTouchAt !== null)
    return { kind: 'stale', reason: `the clock stopped at the first touch (${clock.status})` };
  if (clock.breachedAt === null && clock.closedAt !== null) return { kind: 'stale', reason: 'the clock closed: its Lead is gone' };
  const now = ctx.now();
  if (clock.breachedAt === null && now.getTime() <= clock.dueAt.getTime()) return { kind: 'not_due', dueAt: clock.dueAt };

  const lead = (await ctx.salesforce.readRecords('Lead', [clock.leadId], LEAD_FIELDS))[0];
  const owner = ownerOf(await readOwners(ctx, [lead]), lead);
  if (lead) await enrichSlaClock(ctx.db, clock.id, contextOf(lead, owner));
  let breached = clock;
  if (clock.breachedAt === null) {
    if (!lead) {
      await closeSlaClock(ctx.db, clock.id, now);
      log.add(
        salesforceRef('Lead', clock.leadId),
        'warn',
        'sla_lead_missing',
        'the SLA fell due but the Lead no longer exists (deleted or merged): nothing to escalate',
      );
      await log.flush();
      return { kind: 'lead_missing' };
    }
    const touch = (await findFirstTouches(ctx, [clock], new Map([[salesforceId15(clock.leadId), lead]]))).get(clock.id);
    if (touch) {
      const stamp = await recordTouch(ctx, clock, touch, lead);
      if (stamp) await stampTouches(ctx, [{ stamp, touch }], log);
      await log.flush();
      return stamp ? { kind: 'touched', status: stamp.status } : { kind: 'stale', reason: 'the clock stopped meanwhile' };
    }
    const marked = await markSlaClockBreached(ctx.db, clock.id, now);
    if (!marked) return { kind: 'stale', reason: 'the clock stopped meanwhile' };
    breached = marked;
  }

  const details: EscalationDetails = {
    leadName: leadName(lead),
    leadUrl: ctx.salesforce.recordUrl('Lead', clock.leadId),
    ownerName: trimmedText(owner, 'Name') ?? clock.ownerName,
    managerName: null,
  };
  const claim = await claimEscalation(ctx.db, {
    clockId: clock.id,
    installationId: ctx.installationId,
    jobId: check.jobId,
    breachedAt: breached.breachedAt ?? now,
    details,
  });
  if (!claim.owned) return { kind: 'escalated_elsewhere', escalationId: claim.escalation.id };
  const taskIds = await escalate(ctx, breached, claim.escalation, claim.resumed, lead, owner, log);
  await log.flush();
  return { kind: 'escalated', escalationId: claim.escalation.id, taskIds, resumed: claim.resumed };
}

/** The escalation steps not done yet: Tasks, `breached` stamps, alert, then the sync log line. */
async function escalate(
  ctx: ClockContext,
  clock: SlaClockRecord,
  escalation: SlaEscalationRecord,
  resumed: boolean,
  lead: SalesforceRecord | undefined,
  owner: SalesforceRecord | undefined,
  log: Log,
): Promise<string[]> {
  const leadRef = salesforceRef('Lead', clock.leadId);
  let taskIds = escalation.taskIds;
  let { managerName } = escalation.details;
  const ownerId = trimmedText(lead, 'OwnerId') ?? clock.ownerId;
  const ownerName = trimmedText(owner, 'Name') ?? clock.ownerName;

  // 1. A Task for the owner and one for the owner's manager, marked with the escalation id.
  if (escalation.tasksCreatedAt === null) {
    const managerId = trimmedText(owner, 'ManagerId') ?? (sameSalesforceId(ownerId, clock.ownerId) ? clock.managerId : null);
    const manager = managerId === null ? undefined : (await ctx.salesforce.readRecords('User', [managerId], USER_FIELDS))[0];
    managerName = trimmedText(manager, 'Name');
    const people = {
      ownerId,
      ownerName,
      ownerUserId: owner && ownerId !== null ? ownerId : null,
      managerUserId: manager && managerId !== null ? managerId : null,
    };
    taskIds = await escalationTasks(ctx, clock, escalation, resumed, lead, people, log);
    await recordEscalationTasks(ctx.db, escalation.id, taskIds, { ...escalation.details, ownerName, managerName });
    await log.flush();
  }

  // 2. `breached` on both records; an unreachable CRM retries the job (the steps before stay done).
  if (escalation.stampedAt === null) {
    const convertedContact = lead?.IsConverted === true ? trimmedText(lead, 'ConvertedContactId') : null;
    const unavailable = await stampBothSides(
      ctx,
      [
        {
          clock,
          status: 'breached',
          ...(convertedContact ? { salesforceTarget: { type: 'Contact' as const, id: convertedContact } } : {}),
        },
      ],
      log,
    );
    if (unavailable) throw unavailable;
    await markEscalationStep(ctx.db, escalation.id, 'stamped');
  }

  // 3. The alert, when the installation has a target (sent by its own retried job).
  if (ctx.alerts && escalation.alertEnqueuedAt === null) {
    await ctx.scheduler.enqueueAlert(ctx.installationId, escalation.id);
    await markEscalationStep(ctx.db, escalation.id, 'alert_enqueued');
  }

  // 4. One sync log line, written with the completion mark.
  await completeEscalation(
    ctx.db,
    escalation,
    log.line(
      leadRef,
      'warn',
      'sla_breached',
      `no first touch by ${clock.dueAt.toISOString()}: escalated to ${[ownerName, managerName].filter((n) => n !== null).join(' and ') || 'nobody (no owner user)'}${ctx.alerts ? ', alert queued' : ''}`,
      {
        clock: clock.id,
        escalation: escalation.id,
        contact: clock.contactId,
        tasks: taskIds,
        owner: ownerId,
        handoffAt: clock.handoffAt.toISOString(),
        dueAt: clock.dueAt.toISOString(),
      },
    ),
  );
  return taskIds;
}

/**
 * The escalation's Tasks: those a resumed escalation created already (found by its marker), else a
 * new one for the owner and one for the manager, where each is a user. Returns the Task ids.
 */
async function escalationTasks(
  ctx: ClockContext,
  clock: SlaClockRecord,
  escalation: SlaEscalationRecord,
  resumed: boolean,
  lead: SalesforceRecord | undefined,
  people: { ownerId: string | null; ownerName: string | null; ownerUserId: string | null; managerUserId: string | null },
  log: Log,
): Promise<string[]> {
  const leadRef = salesforceRef('Lead', clock.leadId);
  const marker = TASK_MARKER(escalation.id);
  const canSearch = resumed && isSalesforceId(clock.leadId) && isSalesforceId(ctx.integrationUserId);
  const existing = canSearch
    ? (await ctx.salesforce.tasksCreatedBy(clock.leadId, ctx.integrationUserId)).filter((task) => (task.description ?? '').includes(marker))
    : [];
  if (existing.length > 0) return existing.map((task) => task.id);
  const name = leadName(lead) ?? clock.leadId;
  const today = ctx.now().toISOString().slice(0, 10);
  const task = (ownerId: string, subject: string): Record<string, unknown> => ({
    WhoId: clock.leadId,
    OwnerId: ownerId,
    Subject: subject,
    Priority: 'High',
    Status: 'Not Started',
    ActivityDate: today,
    Description: [
      `${name}${trimmedText(lead, 'Company') ? ` (${trimmedText(lead, 'Company') ?? ''})` : ''} was handed to sales at ${clock.handoffAt.toISOString()} and was due a first touch by ${clock.dueAt.toISOString()}.`,
      'Nobody has changed the Lead Status or logged an activity on it yet.',
      marker,
    ].join('\n'),
  });
  const { ownerUserId, managerUserId } = people;
  const tasks = [
    ...(ownerUserId !== null ? [task(ownerUserId, `SLA breached: follow up with ${name} now`)] : []),
    ...(managerUserId !== null
      ? [task(managerUserId, `SLA breached: ${people.ownerName ?? 'the owner'} has not followed up with ${name}`)]
      : []),
  ];
  const to = [ownerUserId, managerUserId].filter((id) => id !== null);
  const outcomes = tasks.length === 0 ? [] : await ctx.salesforce.createRecords('Task', tasks);
  const taskIds: string[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.ok) taskIds.push(outcome.id);
    else
      log.add(
        leadRef,
        'error',
        'sla_task_failed',
        `Salesforce refused the escalation Task for user ${to[index] ?? '?'}: ${refusalOf(outcome)}`,
        { clock: clock.id },
      );
  });
  if (tasks.length === 0)
    log.add(
      leadRef,
      'error',
      'sla_task_failed',
      `the Lead's owner (${people.ownerId ?? 'none'}) is not a user: no one to give the escalation Task to`,
      {
        clock: clock.id,
      },
    );
  return taskIds;
}

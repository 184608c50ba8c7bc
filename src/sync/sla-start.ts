/**
 * Starting SLA clocks at the handoff (docs/architecture.md §5): the due time from the policy (with
 * its overrides by team or Lead Source, read from the Lead and its owner when the policy has any),
 * the clock row in Postgres first, then its due check and the `pending` stamps on both records. A
 * Lead whose clock already runs gets no second one.
 */
import type { SalesforceRecord } from '../crm/ports.ts';
import { sameSalesforceId, salesforceId15 } from '../domain/salesforce-id.ts';
import { computeDueAt, effectiveSla, type SlaPolicy } from '../domain/sla.ts';
import { insertSlaClocks, runningClocksForLeads, type NewSlaClock, type SlaClockRecord } from '../store/sla.ts';
import { salesforceRef, trimmedText } from './context.ts';
import { contextOf, isCrmFailure, Log, ownerOf, readLeads, readOwners, type ClockContext } from './sla-context.ts';
import { stopTouchedClocks } from './sla-first-touch.ts';
import { stampPending } from './sla-stamps.ts';

/** A contact handed to sales, as the handoff reports it. */
export interface Handoff {
  contactId: string;
  leadId: string;
  at: Date;
  /** The due time the handoff already stamped `pending` with on both sides (`handoffDueAt`). */
  stampedDueAt?: Date;
}

/**
 * The due time of a handoff at `at` when the policy alone decides it (no overrides by team or
 * Lead Source, which need the Lead and its owner); null otherwise.
 */
export function handoffDueAt(policy: SlaPolicy, at: Date): Date | null {
  return policy.overrides.length === 0 ? new Date(computeDueAt(policy, at.getTime())) : null;
}

/** A rule's time for the log: hours, else minutes, else seconds. */
function durationText(hours: number): string {
  if (hours >= 1) return `${Math.round(hours * 100) / 100} h`;
  return hours * 60 >= 1 ? `${Math.round(hours * 60)} min` : `${Math.round(hours * 3600)} s`;
}

/** Starts the SLA clock of each handoff, schedules its due check and stamps `pending` on both sides. */
export async function startClocks(ctx: ClockContext, handoffs: readonly Handoff[]): Promise<SlaClockRecord[]> {
  if (handoffs.length === 0) return [];
  const log = new Log(ctx);
  // 1. What the policy's overrides match on.
  const { leads, owners } = await readOverrideContext(ctx, handoffs, log);

  // 2. The clocks, in Postgres first: the due check and the stamps follow from the rows.
  const clocks: NewSlaClock[] = handoffs.map((handoff) => {
    const lead = leads.get(salesforceId15(handoff.leadId));
    const context = contextOf(lead, ownerOf(owners, lead));
    return {
      installationId: ctx.installationId,
      leadId: handoff.leadId,
      contactId: handoff.contactId,
      handoffAt: handoff.at,
      dueAt:
        handoff.stampedDueAt ??
        new Date(computeDueAt(ctx.policy, handoff.at.getTime(), { team: context.team, leadSource: context.leadSource })),
      ...context,
    };
  });
  const started = await insertSlaClocks(ctx.db, clocks);
  await ctx.scheduler.scheduleDueChecks(ctx.installationId, started);

  // 3. Stamp `pending` and the due time on both sides.
  logStartedClocks(ctx, handoffs, started, log);
  await stampPending(
    ctx,
    await clocksToStampPending(ctx, handoffs, started),
    log,
    (error) => `the pending SLA stamp was not written (${error.message}); the first touch or the breach writes the status`,
  );
  await log.flush();
  await stopClocksTouchedBeforeTheirStart(ctx, started);
  return started;
}

/**
 * The handoff writes the Lead before its clock starts, so a rep quick enough to work the Lead in
 * between changed it while no clock ran: that change stopped nothing. The new clocks' Leads are
 * read once (one query per batch); those someone other than the integration user changed since
 * are checked for their first touch now instead of at their due check. A Task or Event logged in
 * that window leaves the Lead unchanged and is still found by the due check.
 */
async function stopClocksTouchedBeforeTheirStart(ctx: ClockContext, started: readonly SlaClockRecord[]): Promise<void> {
  if (started.length === 0) return;
  let leads: Map<string, SalesforceRecord>;
  try {
    leads = await readLeads(
      ctx,
      started.map((clock) => clock.leadId),
    );
  } catch (error) {
    if (isCrmFailure(error)) return;
    throw error;
  }
  const touched = started.filter((clock) => {
    const by = trimmedText(leads.get(salesforceId15(clock.leadId)), 'LastModifiedById');
    return by !== null && !sameSalesforceId(by, ctx.integrationUserId);
  });
  if (touched.length > 0) await stopTouchedClocks(ctx, touched, leads);
}

/**
 * What the policy's overrides match on: the Lead Source from the Lead, the team (the owner's
 * Department) from its owner. A policy without overrides needs neither, so a handoff costs one
 * stamp per side; owner, team and channel are then filled in at the first touch or the
 * breach, which read the Lead anyway. Unreadable, the clock still starts under the default
 * rule: a handoff is never left without a clock because Salesforce was slow to answer.
 */
async function readOverrideContext(
  ctx: ClockContext,
  handoffs: readonly Handoff[],
  log: Log,
): Promise<{ leads: Map<string, SalesforceRecord>; owners: Map<string, SalesforceRecord> }> {
  const needsLead = ctx.policy.overrides.length > 0;
  const needsOwner = ctx.policy.overrides.some((override) => override.team !== undefined);
  let leads = new Map<string, SalesforceRecord>();
  let owners = new Map<string, SalesforceRecord>();
  try {
    if (needsLead)
      leads = await readLeads(
        ctx,
        handoffs.map((h) => h.leadId),
      );
    if (needsOwner) owners = await readOwners(ctx, [...leads.values()]);
  } catch (error) {
    if (!isCrmFailure(error)) throw error;
    for (const handoff of handoffs) {
      log.add(
        salesforceRef('Lead', handoff.leadId),
        'warn',
        'sla_context_unavailable',
        `the SLA clock starts under the default rule: owner and Lead Source could not be read (${error.message})`,
      );
    }
  }
  return { leads, owners };
}

/** Logs each clock started, and each handoff whose Lead had a running clock already. */
function logStartedClocks(ctx: ClockContext, handoffs: readonly Handoff[], started: readonly SlaClockRecord[], log: Log): void {
  for (const clock of started) {
    const rule = effectiveSla(ctx.policy, { team: clock.team, leadSource: clock.leadSource });
    log.add(
      salesforceRef('Lead', clock.leadId),
      'info',
      'sla_started',
      `handoff starts the SLA clock: first touch due by ${clock.dueAt.toISOString()} (${durationText(rule.hours)}${rule.businessHours === null ? '' : ` of business hours, ${rule.businessHours.timeZone}`})`,
      {
        clock: clock.id,
        contact: clock.contactId,
        owner: clock.ownerName ?? clock.ownerId,
        team: clock.team,
        channel: clock.channel,
        campaign: clock.campaign,
      },
    );
  }
  for (const handoff of handoffs.filter((h) => !started.some((clock) => clock.leadId === h.leadId)))
    log.add(
      salesforceRef('Lead', handoff.leadId),
      'info',
      'sla_already_running',
      'the Lead already has a running SLA clock; the repeated handoff starts no second one',
    );
}

/**
 * The clocks whose `pending` stamp is still to write. The handoff stamped most of them already; a
 * repeated handoff stamped a new due time on a Lead whose clock runs: that clock's own due time goes back on.
 */
async function clocksToStampPending(
  ctx: ClockContext,
  handoffs: readonly Handoff[],
  started: readonly SlaClockRecord[],
): Promise<SlaClockRecord[]> {
  const skipped = handoffs.filter((handoff) => !started.some((clock) => clock.leadId === handoff.leadId));
  const prestamped = new Set(handoffs.filter((handoff) => handoff.stampedDueAt !== undefined).map((handoff) => handoff.leadId));
  const restamp = await runningClocksForLeads(
    ctx.db,
    ctx.installationId,
    skipped.filter((handoff) => prestamped.has(handoff.leadId)).map((handoff) => handoff.leadId),
  );
  return [...started.filter((clock) => !prestamped.has(clock.leadId)), ...restamp.values()];
}

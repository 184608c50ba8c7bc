/**
 * The first sales touch that stops an SLA clock (docs/architecture.md §5): the Lead leaving its
 * untouched status (converting counts) or a Task or Event a rep logged on it after the handoff —
 * never an activity the app created. Stopping a clock records `met` or `breached` once in
 * Postgres, stamps both records and logs the touch.
 */
import { CrmRejectedError } from '../crm/errors.ts';
import type { SalesforceActivity, SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import { leadStatusMeanings } from '../domain/feedback.ts';
import { isSalesforceId, salesforceId15 } from '../domain/salesforce-id.ts';
import { isFirstTouch, slaStatus } from '../domain/sla.ts';
import { enrichSlaClock, runningClocksForLeads, stopSlaClock, type SlaClockRecord, type TouchSource } from '../store/sla.ts';
import { salesforceRef, trimmedText } from './context.ts';
import { contextOf, Log, ownerOf, readLeads, readOwners, type ClockContext } from './sla-context.ts';
import { stampBothSides, type HubSpotWrite, type SlaStamp } from './sla-stamps.ts';

const ACTIVITY_TYPES = ['Task', 'Event'] as const;

/** Orgs whose Event object is not available to the integration user (asked once per port). */
const withoutEvents = new WeakSet<SalesforcePort>();

/** The first touch of each clock whose Lead shows one, keyed by clock id. */
export async function findFirstTouches(
  ctx: ClockContext,
  clocks: readonly SlaClockRecord[],
  leads: ReadonlyMap<string, SalesforceRecord>,
): Promise<Map<number, { at: Date; source: TouchSource }>> {
  const nowMs = ctx.now().getTime();
  const touches = new Map<number, { at: Date; source: TouchSource }>();
  const offer = (clock: SlaClockRecord, atMs: number, source: TouchSource): void => {
    // A touch is never before the handoff nor after now (clock skew between the systems).
    const at = new Date(Math.min(Math.max(atMs, clock.handoffAt.getTime()), nowMs));
    const known = touches.get(clock.id);
    if (!known || at < known.at) touches.set(clock.id, { at, source });
  };
  const untouched = leadStatusMeanings(ctx.dictionary).untouched;
  for (const clock of clocks) {
    const lead = leads.get(salesforceId15(clock.leadId));
    if (!lead) continue;
    // The clock started at an untouched status; leaving it (or converting) is the first touch.
    const leftUntouched = lead.IsConverted === true || isFirstTouch(untouched[0], trimmedText(lead, 'Status'), untouched);
    const modified = Date.parse(trimmedText(lead, 'LastModifiedDate') ?? '');
    if (leftUntouched) offer(clock, Number.isNaN(modified) ? nowMs : modified, 'status');
  }
  const byLead = new Map(clocks.map((clock) => [salesforceId15(clock.leadId), clock]));
  for (const activity of await loggedActivities(ctx, [...byLead.keys()])) {
    const clock = byLead.get(salesforceId15(activity.whoId));
    if (clock && activity.at >= clock.handoffAt.getTime()) offer(clock, activity.at, activity.type);
  }
  return touches;
}

/**
 * Tasks and Events reps logged on these records (Leads, or the Contacts converted Leads became:
 * conversion moves a Lead's activities to its Contact), not the app's own; oldest first.
 */
export async function loggedActivities(
  ctx: ClockContext,
  leadIds: readonly string[],
): Promise<{ type: 'Task' | 'Event'; whoId: string; at: number }[]> {
  const ids = leadIds.filter((id) => isSalesforceId(id));
  if (ids.length === 0 || !isSalesforceId(ctx.integrationUserId)) return [];
  const activities: { type: 'Task' | 'Event'; whoId: string; at: number }[] = [];
  for (const type of ACTIVITY_TYPES) {
    if (type === 'Event' && withoutEvents.has(ctx.salesforce)) continue;
    let rows: SalesforceActivity[];
    try {
      rows = await ctx.salesforce.activitiesByOthers(type, ids, ctx.integrationUserId);
    } catch (error) {
      // An org (or integration user) without access to Events: Tasks alone stop the clock.
      if (type === 'Event' && error instanceof CrmRejectedError && error.code === 'INVALID_TYPE') {
        withoutEvents.add(ctx.salesforce);
        continue;
      }
      throw error;
    }
    for (const row of rows) {
      const at = Date.parse(row.createdDate ?? '');
      if (row.whoId !== null && !Number.isNaN(at)) activities.push({ type, whoId: row.whoId, at });
    }
  }
  return activities;
}

/** Stops a clock at its first touch; returns the stamp it needs (met/breached and the touch time), or undefined when another run stopped it. */
export async function recordTouch(
  ctx: ClockContext,
  clock: SlaClockRecord,
  touch: { at: Date; source: TouchSource },
  lead: SalesforceRecord | undefined,
): Promise<SlaStamp | undefined> {
  const status = slaStatus(clock.dueAt.getTime(), touch.at.getTime(), ctx.now().getTime());
  const stopped = await stopSlaClock(ctx.db, clock.id, { ...touch, status });
  if (!stopped) return undefined;
  const convertedContact = lead?.IsConverted === true ? trimmedText(lead, 'ConvertedContactId') : null;
  return {
    clock: stopped,
    status,
    ...(convertedContact === null ? {} : { salesforceTarget: { type: 'Contact' as const, id: convertedContact } }),
  };
}

/**
 * Stops the running clocks of the Leads in a synced batch (`Lead:<id>` keys) that show a first
 * touch: their status left untouched, or a rep logged a Task/Event. No CRM call when none of the
 * Leads has a running clock; the stamps of all the stopped clocks go out together (one update per
 * side; with `hubspotBatch`, the HubSpot stamps are handed to the caller's next contact update).
 */
export async function stopClocksOnFirstTouch(ctx: ClockContext, keys: readonly string[], hubspotBatch?: HubSpotWrite[]): Promise<number> {
  const leadIds = keys.flatMap((key) => {
    const [type, id] = key.split(':');
    return type === 'Lead' && id ? [id] : [];
  });
  const running = await runningClocksForLeads(ctx.db, ctx.installationId, leadIds);
  if (running.size === 0) return 0;
  const clocks = [...running.values()];
  const leads = await readLeads(
    ctx,
    clocks.map((clock) => clock.leadId),
  );
  return stopTouchedClocks(ctx, clocks, leads, hubspotBatch);
}

/** Stops those of the running `clocks` whose Lead (in `leads`, read with `LEAD_FIELDS`) shows a first touch, and stamps them. */
export async function stopTouchedClocks(
  ctx: ClockContext,
  clocks: readonly SlaClockRecord[],
  leads: ReadonlyMap<string, SalesforceRecord>,
  hubspotBatch?: HubSpotWrite[],
): Promise<number> {
  const touches = await findFirstTouches(ctx, clocks, leads);
  // Owner names and teams for the report, of the clocks that stop and do not know them yet.
  const unknown = clocks.filter((clock) => touches.has(clock.id) && (clock.ownerName === null || clock.team === null));
  const owners = await readOwners(
    ctx,
    unknown.map((clock) => leads.get(salesforceId15(clock.leadId))),
  );
  const log = new Log(ctx);
  const stamps: { stamp: SlaStamp; touch: { at: Date; source: TouchSource } }[] = [];
  for (const clock of clocks) {
    const touch = touches.get(clock.id);
    if (!touch) continue;
    const lead = leads.get(salesforceId15(clock.leadId));
    await enrichSlaClock(ctx.db, clock.id, contextOf(lead, ownerOf(owners, lead)));
    const stamp = await recordTouch(ctx, clock, touch, lead);
    if (stamp) stamps.push({ stamp, touch });
  }
  await stampTouches(ctx, stamps, log, hubspotBatch);
  await log.flush();
  return stamps.length;
}

/** Stamps the stopped clocks on both sides together (HubSpot in the caller's batch, if given) and logs each first touch. */
export async function stampTouches(
  ctx: ClockContext,
  stamps: readonly { stamp: SlaStamp; touch: { at: Date; source: TouchSource } }[],
  log: Log,
  hubspotBatch?: HubSpotWrite[],
): Promise<void> {
  const unavailable = await stampBothSides(
    ctx,
    stamps.map(({ stamp }) => stamp),
    log,
    hubspotBatch,
  );
  for (const { stamp, touch } of stamps) {
    const { clock, status } = stamp;
    const how = touch.source === 'status' ? 'the Lead left its untouched status' : `a ${touch.source} was logged on the Lead`;
    log.add(
      salesforceRef('Lead', clock.leadId),
      status === 'met' ? 'info' : 'warn',
      'sla_first_touch',
      `first touch at ${touch.at.toISOString()} (${how}): SLA ${status}, due ${clock.dueAt.toISOString()}`,
      {
        clock: clock.id,
        contact: clock.contactId,
        minutesToFirstTouch: Math.round((touch.at.getTime() - clock.handoffAt.getTime()) / 600) / 100,
        ...(unavailable ? { stampDeferred: unavailable.message } : {}),
      },
    );
  }
}

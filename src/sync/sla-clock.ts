/**
 * The follow-up SLA (docs/architecture.md §5): the handoff starts a clock, the first sales touch stops it,
 * and a clock still untouched at its due time is breached and escalated exactly once.
 *
 * - The clock lives in Postgres (src/store/sla.ts); a delayed BullMQ job per clock schedule
 *   (`sla-<installation>-<lead>-<n>`) only says when to look again. A job of an older schedule,
 *   a repeated job or a job after a restart finds the clock as it is and does nothing more.
 * - A first touch is the Lead leaving its untouched status (converting counts) or a Task/Event a
 *   rep logged on it after the handoff; activities the app created itself never count.
 * - The due check and the escalation, claimed once in Postgres and resumed by a retry, are
 *   `./sla-escalation.ts`; this module starts clocks, finds first touches, stamps both records and
 *   reschedules clocks when the policy changes.
 */
import { randomUUID } from 'node:crypto';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../crm/errors.ts';
import { refusalOf, type HubSpotPort, type SalesforceActivity, type SalesforcePort, type SalesforceRecord } from '../crm/ports.ts';
import {
  computeDueAt,
  effectiveSla,
  isFirstTouch,
  recomputeOnPolicyChange,
  slaStatus,
  type SlaPolicy,
  type SlaStatus,
} from '../domain/sla.ts';
import { leadStatusMeanings, type FeedbackTaxonomy } from '../domain/feedback.ts';
import type { StageDictionary } from '../domain/stages.ts';
import type { Producer } from '../queue/producer.ts';
import type { Queryable } from '../store/db.ts';
import {
  enrichSlaClock,
  insertSlaClocks,
  pendingClocks,
  rescheduleSlaClock,
  runningClocksForLeads,
  stopSlaClock,
  type NewSlaClock,
  type SlaClockContext,
  type SlaClockRecord,
  type TouchSource,
} from '../store/sla.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { contactRef, salesforceRef, trimmedText } from './context.ts';
import type { ValueLedger } from './value-ledger.ts';
import { isSalesforceId, salesforceId15 } from '../domain/salesforce-id.ts';

/** Enqueues the SLA jobs of the catalog's `slaClocks` and `slaAlerts` queues. */
export class SlaScheduler {
  constructor(
    private readonly producer: Producer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Schedules the due check of each clock at its due time (deduplicated by schedule). */
  async scheduleDueChecks(installationId: string, clocks: readonly SlaClockRecord[]): Promise<void> {
    const now = this.now();
    await this.producer.enqueue(
      'slaClocks',
      clocks.map((clock) => ({
        jobId: slaJobId(installationId, clock.leadId, clock.scheduleN),
        payload: { v: 1 as const, kind: 'due' as const, installationId, clockId: clock.id, scheduleN: clock.scheduleN },
        delayMs: Math.max(0, clock.dueAt.getTime() - now),
      })),
    );
  }

  /**
   * Schedules the check of a clock's follow-up rule at its due instant (cadence: handoff + D days,
   * disposition: handoff + X days), deduplicated by clock schedule and rule.
   */
  async scheduleFollowUpChecks(
    installationId: string,
    checks: readonly { clockId: number; leadId: string; scheduleN: number; rule: FollowUpRule; dueAt: Date }[],
  ): Promise<void> {
    const now = this.now();
    await this.producer.enqueue(
      'slaClocks',
      checks.map((check) => ({
        jobId: followUpJobId(installationId, check.leadId, check.scheduleN, check.rule),
        payload: { v: 1 as const, kind: 'followUp' as const, installationId, clockId: check.clockId, rule: check.rule },
        delayMs: Math.max(0, check.dueAt.getTime() - now),
      })),
    );
  }

  /** Asks for the installation's running clocks to be checked against its current SLA policy. */
  async requestReschedule(installationId: string): Promise<void> {
    await this.producer.enqueue('slaClocks', [
      { jobId: `sla-reschedule-${installationId}-${randomUUID()}`, payload: { v: 1, kind: 'reschedule', installationId } },
    ]);
  }

  /** Enqueues the one alert of an escalation. */
  async enqueueAlert(installationId: string, escalationId: number): Promise<void> {
    await this.producer.enqueue('slaAlerts', [
      { jobId: `sla-alert-${installationId}-${escalationId}`, payload: { v: 1, installationId, escalationId } },
    ]);
  }
}

/** The deterministic id of a clock's due check: `sla-<installation>-<leadId>-<n>`. */
export function slaJobId(installationId: string, leadId: string, scheduleN: number): string {
  return `sla-${installationId}-${leadId}-${scheduleN}`;
}

/** A follow-up rule a delayed check decides. */
export type FollowUpRule = 'cadence' | 'disposition';

/** The deterministic id of a follow-up check: `sla-followup-<installation>-<leadId>-<n>-<rule>`. */
export function followUpJobId(installationId: string, leadId: string, scheduleN: number, rule: FollowUpRule): string {
  return `sla-followup-${installationId}-${leadId}-${scheduleN}-${rule}`;
}

/** What the SLA clock works with: one installation's ports, policy, state and clock. */
export interface ClockContext {
  installationId: string;
  db: Queryable;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  ledger: ValueLedger;
  policy: SlaPolicy;
  /** The user the app writes as: activities it created are never a sales touch. */
  integrationUserId: string;
  /** The reasons the disposition deadline judges feedback by. */
  feedbackTaxonomy: FeedbackTaxonomy;
  /** What a Lead Status means (untouched, accepted, closed…): the first touch and the disposition deadline ask it. */
  dictionary: StageDictionary;
  scheduler: SlaScheduler;
  /** True when the installation has an alert target (settings `alert`). */
  alerts: boolean;
  now: () => Date;
  /** Where the log lines of this run point (queue and job). */
  job?: { queue: string; id: string };
}

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

export const LEAD_FIELDS = [
  'Id',
  'Status',
  'IsConverted',
  'ConvertedContactId',
  'OwnerId',
  'LeadSource',
  'First_Touch_Channel__c',
  'First_Touch_Campaign__c',
  'FirstName',
  'LastName',
  'Company',
  'LastModifiedDate',
] as const;
export const USER_FIELDS = ['Id', 'Name', 'Department', 'ManagerId', 'IsActive'] as const;
const ACTIVITY_TYPES = ['Task', 'Event'] as const;
/** Marks the Tasks of one escalation, so a resumed escalation finds the ones it already created. */
export const TASK_MARKER = (escalationId: number): string => `[smarketing-sla-escalation:${escalationId}]`;

/** Orgs whose Event object is not available to the integration user (asked once per port). */
const withoutEvents = new WeakSet<SalesforcePort>();

/** True for a CRM failure the caller retries or logs (rate limit, outage, refusal, auth). */
export function isCrmFailure(error: unknown): error is CrmRateLimitedError | CrmTransientError | CrmRejectedError | CrmAuthError {
  return (
    error instanceof CrmRateLimitedError ||
    error instanceof CrmTransientError ||
    error instanceof CrmRejectedError ||
    error instanceof CrmAuthError
  );
}

/** A Lead's display name (first and last), or null. */
export function leadName(lead: SalesforceRecord | undefined): string | null {
  const name = [trimmedText(lead, 'FirstName'), trimmedText(lead, 'LastName')].filter((part) => part !== null).join(' ');
  return name === '' ? null : name;
}

/** Owner, team, Lead Source, channel and campaign of a Lead and its owner, as far as known. */
export function contextOf(lead: SalesforceRecord | undefined, owner: SalesforceRecord | undefined): SlaClockContext {
  const leadSource = trimmedText(lead, 'LeadSource');
  return {
    ownerId: trimmedText(lead, 'OwnerId'),
    ownerName: trimmedText(owner, 'Name'),
    managerId: trimmedText(owner, 'ManagerId'),
    team: trimmedText(owner, 'Department'),
    leadSource,
    channel: trimmedText(lead, 'First_Touch_Channel__c') ?? leadSource,
    campaign: trimmedText(lead, 'First_Touch_Campaign__c'),
  };
}

/** The owners (Users, not queues) of these Leads, keyed by 15-character id; one query. */
export async function readOwners(
  ctx: ClockContext,
  leads: readonly (SalesforceRecord | undefined)[],
): Promise<Map<string, SalesforceRecord>> {
  const ids = [
    ...new Set(leads.map((lead) => trimmedText(lead, 'OwnerId')).filter((id): id is string => id !== null && id.startsWith('005'))),
  ];
  if (ids.length === 0) return new Map();
  return new Map((await ctx.salesforce.readRecords('User', ids, USER_FIELDS)).map((user) => [salesforceId15(user.Id), user]));
}

export function ownerOf(owners: ReadonlyMap<string, SalesforceRecord>, lead: SalesforceRecord | undefined): SalesforceRecord | undefined {
  const ownerId = trimmedText(lead, 'OwnerId');
  return ownerId === null ? undefined : owners.get(salesforceId15(ownerId));
}

function durationText(hours: number): string {
  if (hours >= 1) return `${Math.round(hours * 100) / 100} h`;
  return hours * 60 >= 1 ? `${Math.round(hours * 60)} min` : `${Math.round(hours * 3600)} s`;
}

/** Sync log lines of one run, written together. */
export class Log {
  private readonly entries: SyncLogEntry[] = [];
  constructor(private readonly ctx: ClockContext) {}
  /** A line for this run, not yet queued for writing. */
  line(recordRef: string, level: SyncLogEntry['level'], action: string, reason: string, details?: Record<string, unknown>): SyncLogEntry {
    return {
      installationId: this.ctx.installationId,
      recordRef,
      level,
      action,
      reason,
      ...(details ? { details } : {}),
      ...(this.ctx.job ? { jobQueue: this.ctx.job.queue, jobId: this.ctx.job.id } : {}),
    };
  }
  add(recordRef: string, level: SyncLogEntry['level'], action: string, reason: string, details?: Record<string, unknown>): void {
    this.entries.push(this.line(recordRef, level, action, reason, details));
  }
  async flush(): Promise<void> {
    await writeSyncLog(this.ctx.db, this.entries.splice(0));
  }
}

// ---------------------------------------------------------------------------------------------
// Stamps on both records

/** A HubSpot contact update. */
export interface HubSpotWrite {
  id: string;
  properties: Record<string, string>;
}

interface Stamp {
  clock: SlaClockRecord;
  status: SlaStatus;
  /** The converted Contact carries the stamp once the Lead is converted (a converted Lead cannot be edited). */
  salesforceTarget?: { type: 'Lead' | 'Contact'; id: string };
}

/**
 * Writes SLA status and due time to the Salesforce Lead (or its converted Contact) and the
 * HubSpot contact (with the first touch time). A CRM that cannot be reached is returned, for
 * the caller to retry or to log; per-record refusals are logged.
 */
export async function stampBothSides(
  ctx: ClockContext,
  stamps: readonly Stamp[],
  log: Log,
  hubspotBatch?: HubSpotWrite[],
): Promise<Error | null> {
  if (stamps.length === 0) return null;
  const byType = new Map<'Lead' | 'Contact', SalesforceRecord[]>();
  for (const { clock, status, salesforceTarget } of stamps) {
    const target = salesforceTarget ?? { type: 'Lead' as const, id: clock.leadId };
    byType.set(target.type, [
      ...(byType.get(target.type) ?? []),
      { Id: target.id, SLA_Status__c: status, SLA_Due_At__c: clock.dueAt.toISOString() },
    ]);
  }
  const hubspotWrites = stamps.flatMap(({ clock, status }) => {
    if (clock.contactId === null) return [];
    const properties: Record<string, string> = { sales_sla_status: status, sales_sla_due_at: clock.dueAt.toISOString() };
    if (clock.firstTouchAt !== null) properties['sales_first_touch_at'] = clock.firstTouchAt.toISOString();
    return [{ id: clock.contactId, properties }];
  });
  let unavailable: Error | null = null;
  for (const [type, records] of byType) {
    try {
      for (const [id, outcome] of await ctx.salesforce.updateRecords(type, records)) {
        if (!outcome.ok)
          log.add(salesforceRef(type, id), 'warn', 'sla_stamp_failed', `Salesforce refused the SLA stamp: ${refusalOf(outcome)}`);
      }
    } catch (error) {
      if (!isCrmFailure(error)) throw error;
      unavailable = error;
    }
  }
  // The caller's own HubSpot batch takes the contact stamps when it goes out next (one call fewer).
  if (hubspotBatch) {
    hubspotBatch.push(...hubspotWrites);
    return unavailable;
  }
  return (await stampHubSpot(ctx, hubspotWrites, log)) ?? unavailable;
}

/** Writes SLA stamps on HubSpot contacts (one batch); returns the failure when HubSpot could not be reached. */
export async function stampHubSpot(ctx: ClockContext, writes: readonly HubSpotWrite[], log: Log): Promise<Error | null> {
  if (writes.length === 0) return null;
  try {
    await ctx.ledger.remember(
      ctx.installationId,
      'hubspot',
      writes.map((write) => ({ recordId: write.id, values: write.properties })),
    );
    for (const [id, outcome] of await ctx.hubspot.updateContacts(writes)) {
      if (!outcome.ok) log.add(contactRef(id), 'warn', 'sla_stamp_failed', `HubSpot refused the SLA stamp: ${refusalOf(outcome)}`);
    }
    return null;
  } catch (error) {
    if (!isCrmFailure(error)) throw error;
    return error;
  }
}

/**
 * Writes first-touch stamps that were handed to a batch which then failed, on their own; if
 * HubSpot cannot take them either, each is logged (the clock's result stays in Postgres and the
 * funnel report).
 */
export async function writeHandedOverStamps(ctx: ClockContext, writes: readonly HubSpotWrite[]): Promise<void> {
  const log = new Log(ctx);
  const unavailable = await stampHubSpot(ctx, writes, log);
  if (unavailable) {
    for (const write of writes)
      log.add(
        contactRef(write.id),
        'warn',
        'sla_stamp_deferred',
        `the SLA first-touch stamp did not reach HubSpot (${unavailable.message}); the funnel report has it, the contact keeps its previous SLA status`,
      );
  }
  await log.flush();
}

// ---------------------------------------------------------------------------------------------
// Start

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
  const toStamp = await clocksToStampPending(ctx, handoffs, started);
  const unavailable = await stampBothSides(
    ctx,
    toStamp.map((clock) => ({ clock, status: 'pending' as const })),
    log,
  );
  if (unavailable)
    for (const clock of toStamp)
      log.add(
        salesforceRef('Lead', clock.leadId),
        'warn',
        'sla_stamp_deferred',
        `the pending SLA stamp was not written (${unavailable.message}); the first touch or the breach writes the status`,
      );
  await log.flush();
  return started;
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
      leads = new Map(
        (
          await ctx.salesforce.readRecords(
            'Lead',
            handoffs.map((h) => h.leadId),
            LEAD_FIELDS,
          )
        ).map((lead) => [salesforceId15(lead.Id), lead]),
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

// ---------------------------------------------------------------------------------------------
// First touch

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
): Promise<Stamp | undefined> {
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
  const leads = new Map(
    (
      await ctx.salesforce.readRecords(
        'Lead',
        clocks.map((clock) => clock.leadId),
        LEAD_FIELDS,
      )
    ).map((lead) => [salesforceId15(lead.Id), lead]),
  );
  const touches = await findFirstTouches(ctx, clocks, leads);
  // Owner names and teams for the report, of the clocks that stop and do not know them yet.
  const unknown = clocks.filter((clock) => touches.has(clock.id) && (clock.ownerName === null || clock.team === null));
  const owners = await readOwners(
    ctx,
    unknown.map((clock) => leads.get(salesforceId15(clock.leadId))),
  );
  const log = new Log(ctx);
  const stamps: { stamp: Stamp; touch: { at: Date; source: TouchSource } }[] = [];
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
  stamps: readonly { stamp: Stamp; touch: { at: Date; source: TouchSource } }[],
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

// ---------------------------------------------------------------------------------------------
// Policy changes and restarts

/**
 * Checks every pending clock against the current policy: a changed due time reschedules it
 * (next schedule number, stamped on both sides; the old job then finds itself stale), an
 * unchanged one has its due check enqueued again (a no-op while the job exists, a recovery
 * when Redis lost it).
 */
export async function rescheduleClocks(ctx: ClockContext): Promise<{ rescheduled: number; checked: number }> {
  const log = new Log(ctx);
  const clocks = await pendingClocks(ctx.db, ctx.installationId);
  const nowMs = ctx.now().getTime();
  const schedule: SlaClockRecord[] = [];
  const moved: SlaClockRecord[] = [];
  for (const clock of clocks) {
    const recomputed = recomputeOnPolicyChange(
      ctx.policy,
      {
        handoffAtMs: clock.handoffAt.getTime(),
        dueAtMs: clock.dueAt.getTime(),
        firstTouchAtMs: null,
        context: { team: clock.team, leadSource: clock.leadSource },
      },
      nowMs,
    );
    if (recomputed.kind === 'unchanged') {
      schedule.push(clock);
      continue;
    }
    const rescheduled = await rescheduleSlaClock(ctx.db, clock.id, clock.scheduleN, new Date(recomputed.dueAtMs));
    if (!rescheduled) continue;
    schedule.push(rescheduled);
    moved.push(rescheduled);
    log.add(
      salesforceRef('Lead', clock.leadId),
      'info',
      'sla_rescheduled',
      `the SLA policy changed: first touch now due by ${rescheduled.dueAt.toISOString()} (was ${clock.dueAt.toISOString()})`,
      { clock: clock.id, schedule: rescheduled.scheduleN },
    );
  }
  await ctx.scheduler.scheduleDueChecks(ctx.installationId, schedule);
  const unavailable = await stampBothSides(
    ctx,
    moved.map((clock) => ({ clock, status: 'pending' as const })),
    log,
  );
  if (unavailable)
    for (const clock of moved)
      log.add(
        salesforceRef('Lead', clock.leadId),
        'warn',
        'sla_stamp_deferred',
        `the new due time was not stamped (${unavailable.message})`,
      );
  await log.flush();
  return { rescheduled: moved.length, checked: clocks.length };
}

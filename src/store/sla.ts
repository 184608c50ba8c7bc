/**
 * SLA clocks, their escalations, and the compliance figures the funnel report shows
 * (docs/architecture.md §5). A clock row is the truth about one handoff; the delayed job only says when to
 * look at it again, so a lost, repeated or stale job can never change the outcome.
 */
import type { FeedbackOutcome } from '../domain/feedback.ts';
import {
  DEFAULT_SLA_POLICY,
  validateSlaPolicy,
  type Disposition,
  type FollowUpStatus,
  type SlaPolicy,
  type SlaStatus,
} from '../domain/sla.ts';
import type { Queryable } from './db.ts';
import { settingInEffect } from './installation-admin.ts';
import type { SyncLogEntry } from './sync-log.ts';

/** The SLA policy in effect for an installation. */
export async function slaPolicyOf(db: Queryable, installationId: string): Promise<SlaPolicy> {
  return settingInEffect(db, installationId, 'slaPolicy', validateSlaPolicy, DEFAULT_SLA_POLICY);
}

/** How a first touch was seen: the Lead left its untouched status, or a rep logged an activity. */
export type TouchSource = 'status' | 'Task' | 'Event';

/** One clock, as stored. */
export interface SlaClockRecord {
  id: number;
  installationId: string;
  leadId: string;
  contactId: string | null;
  handoffAt: Date;
  dueAt: Date;
  status: SlaStatus;
  firstTouchAt: Date | null;
  firstTouchSource: TouchSource | null;
  breachedAt: Date | null;
  escalatedAt: Date | null;
  closedAt: Date | null;
  scheduleN: number;
  ownerId: string | null;
  ownerName: string | null;
  managerId: string | null;
  team: string | null;
  leadSource: string | null;
  channel: string | null;
  campaign: string | null;
}

/** A clock to start at handoff. */
export interface NewSlaClock {
  installationId: string;
  leadId: string;
  contactId: string | null;
  handoffAt: Date;
  dueAt: Date;
  ownerId: string | null;
  ownerName: string | null;
  managerId: string | null;
  team: string | null;
  leadSource: string | null;
  channel: string | null;
  campaign: string | null;
}

interface ClockRow extends Record<string, unknown> {
  id: number;
  installation_id: string;
  salesforce_lead_id: string;
  hubspot_contact_id: string | null;
  handoff_at: Date;
  due_at: Date;
  status: SlaStatus;
  first_touch_at: Date | null;
  first_touch_source: TouchSource | null;
  breached_at: Date | null;
  escalated_at: Date | null;
  closed_at: Date | null;
  schedule_n: number;
  owner_id: string | null;
  owner_name: string | null;
  manager_id: string | null;
  team: string | null;
  lead_source: string | null;
  channel: string | null;
  campaign: string | null;
}

const CLOCK_COLUMNS = `id, installation_id, salesforce_lead_id, hubspot_contact_id, handoff_at, due_at, status, first_touch_at,
  first_touch_source, breached_at, escalated_at, closed_at, schedule_n, owner_id, owner_name, manager_id, team, lead_source, channel, campaign`;

/** A clock still waiting for its first touch (breached or not) whose Lead still exists. */
const RUNNING = 'first_touch_at IS NULL AND closed_at IS NULL';

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function maybeDate(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

function fromClockRow(row: ClockRow): SlaClockRecord {
  return {
    id: Number(row.id),
    installationId: row.installation_id,
    leadId: row.salesforce_lead_id,
    contactId: row.hubspot_contact_id,
    handoffAt: toDate(row.handoff_at),
    dueAt: toDate(row.due_at),
    status: row.status,
    firstTouchAt: maybeDate(row.first_touch_at),
    firstTouchSource: row.first_touch_source,
    breachedAt: maybeDate(row.breached_at),
    escalatedAt: maybeDate(row.escalated_at),
    closedAt: maybeDate(row.closed_at),
    scheduleN: Number(row.schedule_n),
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    managerId: row.manager_id,
    team: row.team,
    leadSource: row.lead_source,
    channel: row.channel,
    campaign: row.campaign,
  };
}

/** A new clock's values in the order of the insert's `unnest` columns. */
const NEW_CLOCK_FIELDS = [
  'installationId',
  'leadId',
  'contactId',
  'handoffAt',
  'dueAt',
  'ownerId',
  'ownerName',
  'managerId',
  'team',
  'leadSource',
  'channel',
  'campaign',
] as const satisfies readonly (keyof NewSlaClock)[];

/**
 * Starts clocks; a Lead that already has a running clock keeps it (a repeated handoff event
 * starts nothing). Returns the clocks this call started.
 */
export async function insertSlaClocks(db: Queryable, clocks: readonly NewSlaClock[]): Promise<SlaClockRecord[]> {
  if (clocks.length === 0) return [];
  // One statement: a Lead named twice starts one clock (the second row meets the first's conflict).
  const rows = await db.query<ClockRow>(
    `INSERT INTO sla_clocks (installation_id, salesforce_lead_id, hubspot_contact_id, handoff_at, due_at, schedule_n,
       owner_id, owner_name, manager_id, team, lead_source, channel, campaign)
     SELECT c.installation_id, c.lead, c.contact, c.handoff_at, c.due_at,
       COALESCE((SELECT max(schedule_n) FROM sla_clocks s WHERE s.installation_id = c.installation_id AND s.salesforce_lead_id = c.lead), 0) + 1,
       c.owner_id, c.owner_name, c.manager_id, c.team, c.lead_source, c.channel, c.campaign
     FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::text[], $11::text[], $12::text[])
       WITH ORDINALITY AS c(installation_id, lead, contact, handoff_at, due_at, owner_id, owner_name, manager_id, team, lead_source, channel, campaign, n)
     ORDER BY c.n
     ON CONFLICT (installation_id, salesforce_lead_id) WHERE ${RUNNING} DO NOTHING
     RETURNING ${CLOCK_COLUMNS}`,
    NEW_CLOCK_FIELDS.map((field) => clocks.map((clock) => clock[field])),
  );
  const started = new Map(rows.map((row) => [row.salesforce_lead_id, fromClockRow(row)]));
  // In the order asked.
  return clocks.flatMap((clock) => {
    const record = started.get(clock.leadId);
    if (record === undefined) return [];
    started.delete(clock.leadId);
    return [record];
  });
}

/** One clock by id, or undefined. */
export async function slaClockById(db: Queryable, installationId: string, id: number): Promise<SlaClockRecord | undefined> {
  const rows = await db.query<ClockRow>(`SELECT ${CLOCK_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND id = $2`, [
    installationId,
    id,
  ]);
  return rows[0] ? fromClockRow(rows[0]) : undefined;
}

/** The running clocks of the given Leads, keyed by Lead id. */
export async function runningClocksForLeads(
  db: Queryable,
  installationId: string,
  leadIds: readonly string[],
): Promise<Map<string, SlaClockRecord>> {
  if (leadIds.length === 0) return new Map();
  const rows = await db.query<ClockRow>(
    `SELECT ${CLOCK_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND salesforce_lead_id = ANY($2) AND ${RUNNING}`,
    [installationId, leadIds],
  );
  return new Map(rows.map((row) => [row.salesforce_lead_id, fromClockRow(row)]));
}

/** Running clocks that have not breached yet: the ones a policy change can move. */
export async function pendingClocks(db: Queryable, installationId: string): Promise<SlaClockRecord[]> {
  const rows = await db.query<ClockRow>(
    `SELECT ${CLOCK_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND ${RUNNING} AND breached_at IS NULL ORDER BY due_at`,
    [installationId],
  );
  return rows.map(fromClockRow);
}

/** Stops a running clock at its first touch; undefined when it had already stopped. */
export async function stopSlaClock(
  db: Queryable,
  id: number,
  touch: { at: Date; source: TouchSource; status: SlaStatus },
): Promise<SlaClockRecord | undefined> {
  const rows = await db.query<ClockRow>(
    `UPDATE sla_clocks SET first_touch_at = $2, first_touch_source = $3, status = $4, updated_at = now()
     WHERE id = $1 AND ${RUNNING} RETURNING ${CLOCK_COLUMNS}`,
    [id, touch.at, touch.source, touch.status],
  );
  return rows[0] ? fromClockRow(rows[0]) : undefined;
}

/** Marks a running clock breached (the first breach time is kept); undefined when it stopped meanwhile. */
export async function markSlaClockBreached(db: Queryable, id: number, at: Date): Promise<SlaClockRecord | undefined> {
  const rows = await db.query<ClockRow>(
    `UPDATE sla_clocks SET status = 'breached', breached_at = COALESCE(breached_at, $2), updated_at = now()
     WHERE id = $1 AND ${RUNNING} RETURNING ${CLOCK_COLUMNS}`,
    [id, at],
  );
  return rows[0] ? fromClockRow(rows[0]) : undefined;
}

/** Who and where a handoff belongs to, as far as known. */
export type SlaClockContext = Pick<NewSlaClock, 'ownerId' | 'ownerName' | 'managerId' | 'team' | 'leadSource' | 'channel' | 'campaign'>;

/** Fills in what a clock did not know at handoff (values already stored are kept). */
export async function enrichSlaClock(db: Queryable, id: number, context: SlaClockContext): Promise<void> {
  await db.query(
    `UPDATE sla_clocks SET owner_id = COALESCE(owner_id, $2), owner_name = COALESCE(owner_name, $3), manager_id = COALESCE(manager_id, $4),
       team = COALESCE(team, $5), lead_source = COALESCE(lead_source, $6), channel = COALESCE(channel, $7), campaign = COALESCE(campaign, $8), updated_at = now()
     WHERE id = $1`,
    [id, context.ownerId, context.ownerName, context.managerId, context.team, context.leadSource, context.channel, context.campaign],
  );
}

/** Closes a running clock whose Lead is gone. */
export async function closeSlaClock(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(`UPDATE sla_clocks SET closed_at = $2, updated_at = now() WHERE id = $1 AND ${RUNNING}`, [id, at]);
}

/**
 * Moves a pending clock to a new due time under the next schedule number; undefined when the
 * clock moved on meanwhile (touched, breached or rescheduled by someone else).
 */
export async function rescheduleSlaClock(
  db: Queryable,
  id: number,
  fromScheduleN: number,
  dueAt: Date,
): Promise<SlaClockRecord | undefined> {
  const rows = await db.query<ClockRow>(
    `UPDATE sla_clocks SET due_at = $3, schedule_n = schedule_n + 1, updated_at = now()
     WHERE id = $1 AND schedule_n = $2 AND ${RUNNING} AND breached_at IS NULL RETURNING ${CLOCK_COLUMNS}`,
    [id, fromScheduleN, dueAt],
  );
  return rows[0] ? fromClockRow(rows[0]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Escalations

/** What an escalation remembers for its steps and its alert. */
export interface EscalationDetails {
  leadName: string | null;
  leadUrl: string | null;
  ownerName: string | null;
  managerName: string | null;
}

/** One escalation, as stored. */
export interface SlaEscalationRecord {
  id: number;
  clockId: number;
  installationId: string;
  jobId: string;
  breachedAt: Date;
  details: EscalationDetails;
  taskIds: string[];
  tasksCreatedAt: Date | null;
  stampedAt: Date | null;
  alertEnqueuedAt: Date | null;
  alertDeliveredAt: Date | null;
  completedAt: Date | null;
}

interface EscalationRow extends Record<string, unknown> {
  id: number;
  clock_id: number;
  installation_id: string;
  job_id: string;
  breached_at: Date;
  details: EscalationDetails | string;
  task_ids: string[] | string;
  tasks_created_at: Date | null;
  stamped_at: Date | null;
  alert_enqueued_at: Date | null;
  alert_delivered_at: Date | null;
  completed_at: Date | null;
}

const ESCALATION_COLUMNS =
  'id, clock_id, installation_id, job_id, breached_at, details, task_ids, tasks_created_at, stamped_at, alert_enqueued_at, alert_delivered_at, completed_at';

function json<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

function fromEscalationRow(row: EscalationRow): SlaEscalationRecord {
  return {
    id: Number(row.id),
    clockId: Number(row.clock_id),
    installationId: row.installation_id,
    jobId: row.job_id,
    breachedAt: toDate(row.breached_at),
    details: json(row.details),
    taskIds: json(row.task_ids),
    tasksCreatedAt: maybeDate(row.tasks_created_at),
    stampedAt: maybeDate(row.stamped_at),
    alertEnqueuedAt: maybeDate(row.alert_enqueued_at),
    alertDeliveredAt: maybeDate(row.alert_delivered_at),
    completedAt: maybeDate(row.completed_at),
  };
}

/**
 * Claims the one escalation of a clock for a job. `owned` is true for the job that holds the
 * claim (first time, or its own retry resuming the steps); any other job must leave it alone.
 */
export async function claimEscalation(
  db: Queryable,
  claim: { clockId: number; installationId: string; jobId: string; breachedAt: Date; details: EscalationDetails },
): Promise<{ escalation: SlaEscalationRecord; owned: boolean; resumed: boolean }> {
  const inserted = await db.query<EscalationRow>(
    `INSERT INTO sla_escalations (clock_id, installation_id, job_id, breached_at, details) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (clock_id) DO NOTHING RETURNING ${ESCALATION_COLUMNS}`,
    [claim.clockId, claim.installationId, claim.jobId, claim.breachedAt, JSON.stringify(claim.details)],
  );
  if (inserted[0]) return { escalation: fromEscalationRow(inserted[0]), owned: true, resumed: false };
  const existing = await db.query<EscalationRow>(`SELECT ${ESCALATION_COLUMNS} FROM sla_escalations WHERE clock_id = $1`, [claim.clockId]);
  const row = existing[0];
  if (!row) throw new Error(`escalation of clock ${claim.clockId} neither inserted nor found`);
  const escalation = fromEscalationRow(row);
  return { escalation, owned: escalation.jobId === claim.jobId, resumed: escalation.jobId === claim.jobId };
}

/** One escalation with its clock, or undefined. */
export async function escalationById(
  db: Queryable,
  installationId: string,
  id: number,
): Promise<{ escalation: SlaEscalationRecord; clock: SlaClockRecord } | undefined> {
  const rows = await db.query<EscalationRow>(`SELECT ${ESCALATION_COLUMNS} FROM sla_escalations WHERE installation_id = $1 AND id = $2`, [
    installationId,
    id,
  ]);
  if (!rows[0]) return undefined;
  const escalation = fromEscalationRow(rows[0]);
  const clock = await slaClockById(db, installationId, escalation.clockId);
  return clock ? { escalation, clock } : undefined;
}

/** Records the Tasks an escalation created, with the names it gave them to. */
export async function recordEscalationTasks(
  db: Queryable,
  id: number,
  taskIds: readonly string[],
  details: EscalationDetails,
): Promise<void> {
  await db.query('UPDATE sla_escalations SET task_ids = $2::jsonb, details = $3::jsonb, tasks_created_at = now() WHERE id = $1', [
    id,
    JSON.stringify(taskIds),
    JSON.stringify(details),
  ]);
}

/** Stamps one finished step of an escalation. */
export async function markEscalationStep(db: Queryable, id: number, step: 'stamped' | 'alert_enqueued' | 'alert_delivered'): Promise<void> {
  const column = { stamped: 'stamped_at', alert_enqueued: 'alert_enqueued_at', alert_delivered: 'alert_delivered_at' }[step];
  await db.query(`UPDATE sla_escalations SET ${column} = COALESCE(${column}, now()) WHERE id = $1`, [id]);
}

/**
 * Completes an escalation and writes its sync log line in one statement, so the line appears
 * exactly once whatever the retries; false when it was already complete.
 */
export async function completeEscalation(
  db: Queryable,
  escalation: { id: number; clockId: number },
  entry: SyncLogEntry,
): Promise<boolean> {
  const rows = await db.query<{ id: number }>(
    `WITH done AS (
       UPDATE sla_escalations SET completed_at = now() WHERE id = $1 AND completed_at IS NULL RETURNING id
     ), clock AS (
       UPDATE sla_clocks SET escalated_at = COALESCE(escalated_at, now()), updated_at = now() WHERE id = $2 AND EXISTS (SELECT 1 FROM done) RETURNING id
     )
     INSERT INTO sync_log (installation_id, record_ref, level, action, reason, details, job_queue, job_id)
     SELECT $3, $4, $5, $6, $7, $8::jsonb, $9, $10 FROM done
     RETURNING id`,
    [
      escalation.id,
      escalation.clockId,
      entry.installationId,
      entry.recordRef,
      entry.level,
      entry.action,
      entry.reason,
      JSON.stringify(entry.details ?? {}),
      entry.jobQueue ?? null,
      entry.jobId ?? null,
    ],
  );
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Compliance

/** What the compliance figures are grouped by. */
export type SlaGroupBy = 'team' | 'owner' | 'channel' | 'campaign';

/** Compliance figures for one group, or for all handoffs. */
export interface SlaComplianceFigures {
  /** The group key (owner: the Salesforce User id); `(none)` when unknown; `(all)` for the total. */
  group: string;
  /** What to show: the group key, or the owner's name. */
  label: string;
  handedOff: number;
  touchedWithinSla: number;
  /** Touched late, or untouched past the due time. */
  breached: number;
  /** Untouched and not due yet. */
  pending: number;
  /** Median minutes from handoff to first touch over touched handoffs; null when none was touched. */
  medianMinutesToFirstTouch: number | null;
  /** touchedWithinSla / (touchedWithinSla + breached); null when nothing is decided yet. */
  complianceRate: number | null;
}

const NONE = '(none)';
const GROUP_EXPRESSIONS: Readonly<Record<SlaGroupBy, { key: string; label: string }>> = {
  team: { key: `COALESCE(team, '${NONE}')`, label: `COALESCE(team, '${NONE}')` },
  owner: { key: `COALESCE(owner_id, '${NONE}')`, label: `COALESCE(owner_name, owner_id, '${NONE}')` },
  channel: { key: `COALESCE(channel, '${NONE}')`, label: `COALESCE(channel, '${NONE}')` },
  campaign: { key: `COALESCE(campaign, '${NONE}')`, label: `COALESCE(campaign, '${NONE}')` },
};

interface ComplianceRow extends Record<string, unknown> {
  is_total: number;
  grp: string | null;
  label: string | null;
  handed_off: number;
  within: number;
  breached: number;
  pending: number;
  median_seconds: number | null;
}

/**
 * SLA compliance of the handoffs in [from, to): in total and per team, owner, channel or
 * campaign (groups sorted by key). `now` decides which untouched clocks count as breached; a
 * Lead deleted before its first touch is left out (it cannot be judged).
 */
export async function slaCompliance(
  db: Queryable,
  installationId: string,
  options: { from: Date; to: Date; groupBy: SlaGroupBy; now?: Date },
): Promise<{ total: SlaComplianceFigures; groups: SlaComplianceFigures[] }> {
  const expression = GROUP_EXPRESSIONS[options.groupBy];
  const rows = await db.query<ComplianceRow>(
    `SELECT GROUPING(grp) AS is_total, grp, min(label) AS label,
       count(*) AS handed_off,
       count(*) FILTER (WHERE first_touch_at IS NOT NULL AND first_touch_at <= due_at) AS within,
       count(*) FILTER (WHERE (first_touch_at IS NOT NULL AND first_touch_at > due_at) OR (first_touch_at IS NULL AND due_at < $4)) AS breached,
       count(*) FILTER (WHERE first_touch_at IS NULL AND due_at >= $4) AS pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (first_touch_at - handoff_at))) FILTER (WHERE first_touch_at IS NOT NULL) AS median_seconds
     FROM (
       SELECT ${expression.key} AS grp, ${expression.label} AS label, handoff_at, due_at, first_touch_at
       FROM sla_clocks WHERE installation_id = $1 AND handoff_at >= $2 AND handoff_at < $3
         AND NOT (closed_at IS NOT NULL AND first_touch_at IS NULL)
     ) handoffs
     GROUP BY GROUPING SETS ((grp), ())
     ORDER BY is_total DESC, grp COLLATE "C"`,
    [installationId, options.from, options.to, options.now ?? new Date()],
  );
  const figures = (row: ComplianceRow | undefined, group: string, label: string): SlaComplianceFigures => {
    const handedOff = Number(row?.handed_off ?? 0);
    const within = Number(row?.within ?? 0);
    const breached = Number(row?.breached ?? 0);
    const median = row?.median_seconds ?? null;
    return {
      group,
      label,
      handedOff,
      touchedWithinSla: within,
      breached,
      pending: Number(row?.pending ?? 0),
      medianMinutesToFirstTouch: median === null ? null : Math.round((Number(median) / 60) * 100) / 100,
      complianceRate: within + breached === 0 ? null : within / (within + breached),
    };
  };
  const totalRow = rows.find((row) => Number(row.is_total) === 1);
  return {
    total: figures(totalRow, '(all)', '(all)'),
    groups: rows.filter((row) => Number(row.is_total) === 0).map((row) => figures(row, row.grp ?? NONE, row.label ?? row.grp ?? NONE)),
  };
}

// ---------------------------------------------------------------------------------------------
// Follow-up rules beyond the first touch (migration 015)

/** A clock's follow-up rules as stored: cadence and disposition (null columns: the rule was off at handoff). */
export interface FollowUpRecord {
  clockId: number;
  installationId: string;
  leadId: string;
  contactId: string | null;
  leadName: string | null;
  handoffAt: Date;
  scheduleN: number;
  cadence: { required: number; dueAt: Date; touches: number; status: FollowUpStatus; decidedAt: Date | null } | null;
  disposition: { dueAt: Date; outcome: Disposition | null; at: Date | null; status: FollowUpStatus; decidedAt: Date | null } | null;
}

interface FollowUpRow extends Record<string, unknown> {
  id: number;
  installation_id: string;
  salesforce_lead_id: string;
  hubspot_contact_id: string | null;
  lead_name: string | null;
  handoff_at: Date;
  schedule_n: number;
  cadence_required: number | null;
  cadence_due_at: Date | null;
  cadence_touches: number;
  cadence_status: FollowUpStatus | null;
  cadence_decided_at: Date | null;
  disposition_due_at: Date | null;
  disposition: Disposition | null;
  disposition_at: Date | null;
  disposition_status: FollowUpStatus | null;
  disposition_decided_at: Date | null;
}

const FOLLOW_UP_COLUMNS = `id, installation_id, salesforce_lead_id, hubspot_contact_id, lead_name, handoff_at, schedule_n, cadence_required, cadence_due_at,
  cadence_touches, cadence_status, cadence_decided_at, disposition_due_at, disposition, disposition_at, disposition_status, disposition_decided_at`;

function fromFollowUpRow(row: FollowUpRow): FollowUpRecord {
  return {
    clockId: Number(row.id),
    installationId: row.installation_id,
    leadId: row.salesforce_lead_id,
    contactId: row.hubspot_contact_id,
    leadName: row.lead_name,
    handoffAt: toDate(row.handoff_at),
    scheduleN: Number(row.schedule_n),
    cadence:
      row.cadence_status === null || row.cadence_due_at === null || row.cadence_required === null
        ? null
        : {
            required: Number(row.cadence_required),
            dueAt: toDate(row.cadence_due_at),
            touches: Number(row.cadence_touches),
            status: row.cadence_status,
            decidedAt: maybeDate(row.cadence_decided_at),
          },
    disposition:
      row.disposition_status === null || row.disposition_due_at === null
        ? null
        : {
            dueAt: toDate(row.disposition_due_at),
            outcome: row.disposition,
            at: maybeDate(row.disposition_at),
            status: row.disposition_status,
            decidedAt: maybeDate(row.disposition_decided_at),
          },
  };
}

/** The rules a clock is judged by, fixed at handoff (null: the rule is off). */
export interface FollowUpRules {
  cadence: { required: number; dueAt: Date } | null;
  dispositionDueAt: Date | null;
}

/** Sets a just-started clock's follow-up rules (pending); a clock that has them keeps them. */
export async function setFollowUpRules(db: Queryable, clockId: number, rules: FollowUpRules): Promise<FollowUpRecord | undefined> {
  const rows = await db.query<FollowUpRow>(
    `UPDATE sla_clocks SET cadence_required = $2, cadence_due_at = $3, cadence_status = CASE WHEN $2::integer IS NULL THEN NULL ELSE 'pending' END,
       disposition_due_at = $4, disposition_status = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE 'pending' END, updated_at = now()
     WHERE id = $1 AND cadence_status IS NULL AND disposition_status IS NULL RETURNING ${FOLLOW_UP_COLUMNS}`,
    [clockId, rules.cadence?.required ?? null, rules.cadence?.dueAt ?? null, rules.dispositionDueAt],
  );
  return rows[0] ? fromFollowUpRow(rows[0]) : undefined;
}

/** One clock's follow-up rules, or undefined. */
export async function followUpById(db: Queryable, installationId: string, clockId: number): Promise<FollowUpRecord | undefined> {
  const rows = await db.query<FollowUpRow>(`SELECT ${FOLLOW_UP_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND id = $2`, [
    installationId,
    clockId,
  ]);
  return rows[0] ? fromFollowUpRow(rows[0]) : undefined;
}

/** The clocks of these Leads with a follow-up rule still pending. */
export async function pendingFollowUpsForLeads(
  db: Queryable,
  installationId: string,
  leadIds: readonly string[],
): Promise<FollowUpRecord[]> {
  if (leadIds.length === 0) return [];
  const rows = await db.query<FollowUpRow>(
    `SELECT ${FOLLOW_UP_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND salesforce_lead_id = ANY($2)
       AND (cadence_status = 'pending' OR disposition_status = 'pending') ORDER BY id`,
    [installationId, leadIds],
  );
  return rows.map(fromFollowUpRow);
}

/**
 * Records the touches counted for a pending cadence and, when decided, its state; undefined when
 * the cadence is no longer pending (decided by another run: the first decision stands).
 */
export async function recordCadence(
  db: Queryable,
  clockId: number,
  touches: number,
  status: FollowUpStatus,
): Promise<FollowUpRecord | undefined> {
  const rows = await db.query<FollowUpRow>(
    `UPDATE sla_clocks SET cadence_touches = $2, cadence_status = $3, cadence_decided_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END, updated_at = now()
     WHERE id = $1 AND cadence_status = 'pending' RETURNING ${FOLLOW_UP_COLUMNS}`,
    [clockId, touches, status],
  );
  return rows[0] ? fromFollowUpRow(rows[0]) : undefined;
}

/** Decides a pending disposition deadline; undefined when it was already decided. */
export async function recordDisposition(
  db: Queryable,
  clockId: number,
  decision: { outcome: Disposition | null; at: Date | null; status: Exclude<FollowUpStatus, 'pending'> },
): Promise<FollowUpRecord | undefined> {
  const rows = await db.query<FollowUpRow>(
    `UPDATE sla_clocks SET disposition = $2, disposition_at = $3, disposition_status = $4, disposition_decided_at = now(), updated_at = now()
     WHERE id = $1 AND disposition_status = 'pending' RETURNING ${FOLLOW_UP_COLUMNS}`,
    [clockId, decision.outcome, decision.at, decision.status],
  );
  return rows[0] ? fromFollowUpRow(rows[0]) : undefined;
}

/** Remembers the Lead's name for the violations list (a name already known is replaced). */
export async function nameSlaClock(db: Queryable, clockId: number, leadName: string | null): Promise<void> {
  if (leadName === null) return;
  await db.query('UPDATE sla_clocks SET lead_name = $2 WHERE id = $1', [clockId, leadName]);
}

/** Feedback recorded for a Lead (or its HubSpot contact) since a time, oldest first: the disposition's evidence. */
export async function feedbackSince(
  db: Queryable,
  installationId: string,
  lead: { leadId: string; contactId: string | null },
  since: Date,
): Promise<{ outcome: FeedbackOutcome; reasonCode: string | null; occurredAt: Date }[]> {
  const rows = await db.query<{ outcome: FeedbackOutcome; reason_code: string | null; occurred_at: Date | string }>(
    `SELECT outcome, reason_code, occurred_at FROM feedback_events
     WHERE installation_id = $1 AND (salesforce_record_id = $2 OR hubspot_contact_id = $3) AND occurred_at >= $4 ORDER BY occurred_at, id`,
    [installationId, lead.leadId, lead.contactId, since],
  );
  return rows.map((row) => ({ outcome: row.outcome, reasonCode: row.reason_code, occurredAt: toDate(row.occurred_at) }));
}

/** Every clock of an installation with a follow-up rule still pending (their checks are enqueued again at boot). */
export async function pendingFollowUps(db: Queryable, installationId: string): Promise<FollowUpRecord[]> {
  const rows = await db.query<FollowUpRow>(
    `SELECT ${FOLLOW_UP_COLUMNS} FROM sla_clocks WHERE installation_id = $1 AND (cadence_status = 'pending' OR disposition_status = 'pending') ORDER BY id`,
    [installationId],
  );
  return rows.map(fromFollowUpRow);
}

/** Stores an SLA policy for an installation that has none yet (the sandbox demo's); false when one is stored. */
export async function seedSlaPolicy(db: Queryable, installationId: string, policy: unknown): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE installations SET settings = jsonb_set(COALESCE(settings, '{}'::jsonb), '{slaPolicy}', $2::jsonb)
     WHERE id = $1 AND (settings IS NULL OR NOT settings ? 'slaPolicy') RETURNING id`,
    [installationId, JSON.stringify(policy)],
  );
  return rows.length > 0;
}

/**
 * Follow-up SLA (docs/architecture.md §5): the handoff starts a clock, the first sales touch stops it. The
 * policy is data (hours, overrides per team or Lead Source, optional business hours in an IANA
 * time zone); time is always passed in. Working time is real elapsed time inside the business
 * windows, so a window on a DST day lasts what the wall clock says (09:00–17:00 is 8 h) and a
 * calendar-hours policy adds real hours across DST changes.
 */
import { z } from 'zod';
import type { FeedbackOutcome } from './feedback.ts';
import { assertNever, type Result } from './result.ts';
import { presentOrNull, sameValue, validatorOf } from './validation.ts';

/** SLA states (the `sales_sla_status` values). */
export const SLA_STATUSES = ['pending', 'met', 'breached'] as const;
/** An SLA state. */
export type SlaStatus = (typeof SLA_STATUSES)[number];

/** Lead Status values that mean "not touched yet" by default. */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Search horizon for the next working minute; a valid policy always finds one within a week. */
const MAX_DAYS_SEARCHED = 3_700;

const nonBlankText = z.string().trim().min(1, 'must not be blank');
const CLOCK_TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const clockTime = z.string().regex(CLOCK_TIME, 'must be HH:MM (00:00–24:00)');
const localDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be YYYY-MM-DD');

/** Working hours: an IANA time zone, ISO weekdays (1 = Monday … 7 = Sunday), a daily window, holidays. */
export const BusinessHoursSchema = z
  .object({
    timeZone: nonBlankText.refine(isValidTimeZone, { message: 'is not an IANA time zone' }),
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    start: clockTime.default('09:00'),
    end: clockTime.default('17:00'),
    /** Local dates with no working time. */
    holidays: z.array(localDate).default([]),
  })
  .strict()
  // Only judged when both times are well formed; a malformed one has its own message.
  .refine((hours) => !CLOCK_TIME.test(hours.start) || !CLOCK_TIME.test(hours.end) || minutesOf(hours.start) < minutesOf(hours.end), {
    message: 'start must be before end (overnight windows are not supported)',
    path: ['end'],
  });
/** Business hours. */
export type BusinessHours = z.output<typeof BusinessHoursSchema>;

const positiveHours = z
  .number()
  .positive()
  .max(24 * 366, 'must be at most a year');

/** An override for a team and/or Lead Source; `businessHours` null means calendar hours, absent inherits. */
export const SlaOverrideSchema = z
  .object({
    team: nonBlankText.optional(),
    leadSource: nonBlankText.optional(),
    hours: positiveHours,
    businessHours: BusinessHoursSchema.nullable().optional(),
  })
  .strict()
  .refine((override) => override.team !== undefined || override.leadSource !== undefined, {
    message: 'an override needs a team or a leadSource',
  });

const numberError = { error: (issue: { input: unknown }): string => (issue.input === undefined ? 'is required' : 'must be a number') };
const followUpDays = z.number(numberError).positive('must be more than 0 days').max(366, 'must be at most a year');

/** The follow-up cadence rule: K touches within D calendar days of handoff. */
export const CadenceRuleSchema = z
  .object({
    touches: z.number(numberError).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100'),
    days: followUpDays,
  })
  .strict();

/** The disposition deadline: a decision on the Lead within X calendar days of handoff. */
export const DispositionRuleSchema = z.object({ days: followUpDays }).strict();

/** The admin-editable SLA policy; overrides are tried in order and the first match wins. */
export const SlaPolicySchema = z
  .object({
    hours: positiveHours.default(4),
    businessHours: BusinessHoursSchema.nullable().default(null),
    overrides: z.array(SlaOverrideSchema).default([]),
    /** Follow-up cadence: at least `touches` logged Tasks/Events within `days` of handoff; null: off. */
    cadence: CadenceRuleSchema.nullable().default(null),
    /** Disposition deadline: accepted, rejected with a reason, recycled or converted within `days`; null: off. */
    disposition: DispositionRuleSchema.nullable().default(null),
  })
  .strict();
/** A validated SLA policy. */
export type SlaPolicy = z.output<typeof SlaPolicySchema>;

/** The default policy: 4 calendar hours for everyone. */
export const DEFAULT_SLA_POLICY: SlaPolicy = SlaPolicySchema.parse({});

/** Validates an admin-supplied SLA policy, listing every problem. */
export const validateSlaPolicy: (input: unknown) => Result<SlaPolicy, string[]> = validatorOf(SlaPolicySchema);

/** What an override can match on. */
export interface SlaContext {
  readonly team?: string | null | undefined;
  readonly leadSource?: string | null | undefined;
}

/** The hours and business hours that apply to a handoff in this context. */
export function effectiveSla(policy: SlaPolicy, context: SlaContext = {}): { hours: number; businessHours: BusinessHours | null } {
  const team = presentOrNull(context.team);
  const leadSource = presentOrNull(context.leadSource);
  const override = policy.overrides.find(
    (candidate) =>
      (candidate.team === undefined || (team !== null && sameValue(candidate.team, team))) &&
      (candidate.leadSource === undefined || (leadSource !== null && sameValue(candidate.leadSource, leadSource))),
  );
  if (override === undefined) return { hours: policy.hours, businessHours: policy.businessHours };
  return {
    hours: override.hours,
    businessHours: override.businessHours === undefined ? policy.businessHours : override.businessHours,
  };
}

/** When the first touch is due: handoff plus the SLA hours, counted in business hours when set. */
export function computeDueAt(policy: SlaPolicy, handoffAtMs: number, context: SlaContext = {}): number {
  const { hours, businessHours } = effectiveSla(policy, context);
  const duration = Math.round(hours * HOUR_MS);
  return businessHours === null ? handoffAtMs + duration : addWorkingTime(businessHours, handoffAtMs, duration);
}

/** Adds working time inside the business windows, skipping nights, non-working days and holidays. */
export function addWorkingTime(hours: BusinessHours, startMs: number, durationMs: number): number {
  const { timeZone } = hours;
  const opensAt = minutesOf(hours.start);
  const closesAt = minutesOf(hours.end);
  const startDay = new Date(localWallMs(startMs, timeZone));
  let remaining = durationMs;
  for (let offset = 0; offset < MAX_DAYS_SEARCHED; offset += 1) {
    const day = new Date(Date.UTC(startDay.getUTCFullYear(), startDay.getUTCMonth(), startDay.getUTCDate() + offset));
    if (!isWorkingDay(hours, day)) continue;
    const open = epochForLocalWall(day.getTime() + opensAt * 60_000, timeZone);
    const close = epochForLocalWall(day.getTime() + closesAt * 60_000, timeZone);
    const from = Math.max(startMs, open);
    if (from >= close) continue;
    const available = close - from;
    if (remaining <= available) return from + remaining;
    remaining -= available;
  }
  throw new Error(`no working time within ${MAX_DAYS_SEARCHED} days of ${new Date(startMs).toISOString()}`);
}

function isWorkingDay(hours: BusinessHours, day: Date): boolean {
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  if (!hours.weekdays.includes(weekday)) return false;
  return !hours.holidays.includes(day.toISOString().slice(0, 10));
}

function minutesOf(clock: string): number {
  const [hoursText = '0', minutesText = '0'] = clock.split(':');
  return Number(hoursText) * 60 + Number(minutesText);
}

// ---------------------------------------------------------------------------------------------
// Time zones (pure: Intl only)

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when Intl knows the time zone. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock time of an instant in a zone, expressed as if it were UTC epoch ms. */
export function localWallMs(epochMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wholeSecond = Date.UTC(
    parts['year'] ?? 1970,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  return wholeSecond + (((epochMs % 1000) + 1000) % 1000);
}

/**
 * The instant a local wall time occurs in a zone. A repeated wall time (clocks go back) resolves
 * to the earlier instant; a skipped one (clocks go forward) to the same distance after the gap,
 * as Temporal's "compatible" disambiguation does.
 */
export function epochForLocalWall(wallMs: number, timeZone: string): number {
  const offsetBefore = localWallMs(wallMs - DAY_MS, timeZone) - (wallMs - DAY_MS);
  const offsetAfter = localWallMs(wallMs + DAY_MS, timeZone) - (wallMs + DAY_MS);
  const candidates = [wallMs - offsetBefore, wallMs - offsetAfter].filter((instant) => localWallMs(instant, timeZone) === wallMs);
  if (candidates.length > 0) return Math.min(...candidates);
  return wallMs - offsetBefore;
}

// ---------------------------------------------------------------------------------------------
// Status

/** The SLA state: met when touched at or before the due instant, breached after it, else pending. */
export function slaStatus(dueAtMs: number, firstTouchAtMs: number | null, nowMs: number): SlaStatus {
  if (firstTouchAtMs !== null) return firstTouchAtMs <= dueAtMs ? 'met' : 'breached';
  return nowMs > dueAtMs ? 'breached' : 'pending';
}

/** True when a Lead leaves its untouched status (e.g. `Open - Not Contacted`): the first sales touch. */
export function isFirstTouch(
  previousStatus: string | null | undefined,
  newStatus: string | null | undefined,
  untouchedStatuses: readonly string[],
): boolean {
  const before = presentOrNull(previousStatus);
  const after = presentOrNull(newStatus);
  if (before === null || after === null) return false;
  const untouched = (status: string): boolean => untouchedStatuses.some((value) => sameValue(value, status));
  return untouched(before) && !untouched(after);
}

/** A running or stopped SLA clock. */
export interface SlaClock {
  readonly handoffAtMs: number;
  readonly dueAtMs: number;
  readonly firstTouchAtMs: number | null;
  readonly context?: SlaContext | undefined;
}

/** The clock after a policy change: rescheduled from the original handoff, or left as it is. */
export type SlaRecomputation =
  | { readonly kind: 'unchanged'; readonly reason: string }
  | { readonly kind: 'rescheduled'; readonly dueAtMs: number; readonly previousDueAtMs: number; readonly status: SlaStatus };

/** Recomputes a running clock under a new policy, counting from the original handoff time. */
export function recomputeOnPolicyChange(policy: SlaPolicy, clock: SlaClock, nowMs: number): SlaRecomputation {
  if (clock.firstTouchAtMs !== null) {
    return { kind: 'unchanged', reason: 'the clock already stopped at the first touch; its outcome stands' };
  }
  const dueAtMs = computeDueAt(policy, clock.handoffAtMs, clock.context ?? {});
  if (dueAtMs === clock.dueAtMs) return { kind: 'unchanged', reason: 'the new policy gives the same due time' };
  return { kind: 'rescheduled', dueAtMs, previousDueAtMs: clock.dueAtMs, status: slaStatus(dueAtMs, null, nowMs) };
}

// ---------------------------------------------------------------------------------------------
// Compliance report

/** One handoff as the compliance report reads it. */
export interface SlaRecord {
  /** The grouping key: team, campaign, owner… */
  readonly group: string;
  readonly handoffAtMs: number;
  readonly dueAtMs: number;
  readonly firstTouchAtMs: number | null;
}

/** Compliance figures for one group (or all). */
export interface SlaSummary {
  readonly group: string;
  readonly handedOff: number;
  readonly touchedWithinSla: number;
  /** Touched late, or untouched past the due time. */
  readonly breached: number;
  readonly pending: number;
  /** Median handoff → first touch over touched records, in ms (rounded); null when none. */
  readonly medianTimeToFirstTouchMs: number | null;
  /** touchedWithinSla / (touchedWithinSla + breached); null when nothing is decided yet. */
  readonly complianceRate: number | null;
}

/** The group name of the all-records summary. */
export const ALL_GROUPS = '(all)';

/** Summarizes SLA compliance in total and per group (groups sorted by key). */
export function summarizeSla(records: readonly SlaRecord[], nowMs: number): { total: SlaSummary; groups: SlaSummary[] } {
  const byGroup = new Map<string, SlaRecord[]>();
  for (const record of records) byGroup.set(record.group, [...(byGroup.get(record.group) ?? []), record]);
  const groups = [...byGroup.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((group) => summarize(group, byGroup.get(group) ?? [], nowMs));
  return { total: summarize(ALL_GROUPS, records, nowMs), groups };
}

function summarize(group: string, records: readonly SlaRecord[], nowMs: number): SlaSummary {
  let met = 0;
  let breached = 0;
  let pending = 0;
  const times: number[] = [];
  for (const record of records) {
    const status = slaStatus(record.dueAtMs, record.firstTouchAtMs, nowMs);
    if (status === 'met') met += 1;
    else if (status === 'breached') breached += 1;
    else pending += 1;
    if (record.firstTouchAtMs !== null) times.push(record.firstTouchAtMs - record.handoffAtMs);
  }
  return {
    group,
    handedOff: records.length,
    touchedWithinSla: met,
    breached,
    pending,
    medianTimeToFirstTouchMs: median(times),
    complianceRate: met + breached === 0 ? null : met / (met + breached),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  if (sorted.length % 2 === 1) return upper;
  const lower = sorted[middle - 1] ?? upper;
  return Math.round((lower + upper) / 2);
}

// ---------------------------------------------------------------------------------------------
// Beyond the first touch: cadence, disposition, no lead left untouched (docs/architecture.md §5)

/** States of the follow-up rules (the `sales_followup_status` / `sales_disposition_status` values). */
export const FOLLOW_UP_STATUSES = ['pending', 'met', 'missed'] as const;
/** A follow-up rule state. */
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

/** What sales decided about a Lead, as the disposition deadline counts it. */
export const DISPOSITIONS = ['accepted', 'rejected', 'recycled', 'converted'] as const;
/** A disposition. */
export type Disposition = (typeof DISPOSITIONS)[number];

/** The sales-side figures a policy in effect judges (first touch and "untouched" always). */
export function salesRulesEnabled(policy: SlaPolicy): { first_touch: true; untouched: true; cadence: boolean; disposition: boolean } {
  return { first_touch: true, untouched: true, cadence: policy.cadence !== null, disposition: policy.disposition !== null };
}

/** The follow-up deadlines of a handoff under a policy (calendar days; null: the rule is off). */
export function followUpDeadlines(
  policy: SlaPolicy,
  handoffAtMs: number,
): { cadence: { touches: number; dueAtMs: number } | null; dispositionDueAtMs: number | null } {
  return {
    cadence:
      policy.cadence === null ? null : { touches: policy.cadence.touches, dueAtMs: handoffAtMs + Math.round(policy.cadence.days * DAY_MS) },
    dispositionDueAtMs: policy.disposition === null ? null : handoffAtMs + Math.round(policy.disposition.days * DAY_MS),
  };
}

/**
 * The cadence state: met as soon as `required` touches are counted inside the window (early,
 * before the window ends), missed once the window is over with fewer, pending until then.
 * `touchesInWindow` counts only touches logged between handoff and the due instant.
 */
export function cadenceStatus(rule: { required: number; dueAtMs: number }, touchesInWindow: number, nowMs: number): FollowUpStatus {
  if (touchesInWindow >= rule.required) return 'met';
  return nowMs > rule.dueAtMs ? 'missed' : 'pending';
}

/**
 * What a feedback outcome (derived from the Lead by the feedback taxonomy, src/domain/feedback.ts)
 * means for the disposition deadline: accepted, recycled, converted (an Opportunity and what
 * follows it), rejected only with a reason; null when it is no disposition (rejected without one).
 */
export function dispositionOf(outcome: FeedbackOutcome, reasonCode: string | null): Disposition | null {
  switch (outcome) {
    case 'accepted':
      return 'accepted';
    case 'recycled':
      return 'recycled';
    case 'rejected':
      return reasonCode === null ? null : 'rejected';
    case 'opportunity':
    case 'won':
    case 'lost':
      return 'converted';
    default:
      return assertNever(outcome);
  }
}

/** The disposition state: met when decided by the due instant, missed when decided late or not by then. */
export function dispositionStatus(dueAtMs: number, dispositionAtMs: number | null, nowMs: number): FollowUpStatus {
  if (dispositionAtMs !== null) return dispositionAtMs <= dueAtMs ? 'met' : 'missed';
  return nowMs > dueAtMs ? 'missed' : 'pending';
}

/**
 * No lead left untouched: kept by any touch (a late one too), broken when still untouched past
 * the first-touch due instant, pending inside the window.
 */
export function untouchedStatus(firstTouchDueAtMs: number, firstTouchAtMs: number | null, nowMs: number): FollowUpStatus {
  if (firstTouchAtMs !== null) return 'met';
  return nowMs > firstTouchDueAtMs ? 'missed' : 'pending';
}

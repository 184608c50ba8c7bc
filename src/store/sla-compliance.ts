/**
 * The sales side of the SLA over a period of handoffs (docs/architecture.md §5, §13): per rule —
 * first touch, follow-up cadence, disposition, no lead left untouched — how many handoffs kept it,
 * broke it or are still inside its window, in total and per rep, team, channel or campaign, and
 * the handoffs that broke a rule. Each clock row is judged by the rules of src/domain/sla.ts with
 * `now` passed in, so a rule past due whose check has not run yet already counts as broken.
 */
import type { SalesComplianceRow, SalesRuleFigures, SalesSide, SalesSlaRule } from '../domain/review.ts';
import { SALES_SLA_RULES } from '../domain/review.ts';
import {
  cadenceStatus,
  dispositionStatus,
  salesRulesEnabled,
  slaStatus,
  untouchedStatus,
  type Disposition,
  type FollowUpStatus,
  type SlaPolicy,
} from '../domain/sla.ts';
import type { Queryable } from './db.ts';

/** What the sales side is grouped by. */
export const SALES_GROUPINGS = ['owner', 'team', 'channel', 'campaign'] as const;
/** A grouping of the sales side. */
export type SalesGroupBy = (typeof SALES_GROUPINGS)[number];

/** The key of a handoff whose group is unknown. */
export const NO_GROUP = '(none)';

interface HandoffRow extends Record<string, unknown> {
  salesforce_lead_id: string;
  hubspot_contact_id: string | null;
  lead_name: string | null;
  handoff_at: Date | string;
  due_at: Date | string;
  first_touch_at: Date | string | null;
  owner_id: string | null;
  owner_name: string | null;
  team: string | null;
  channel: string | null;
  campaign: string | null;
  cadence_required: number | null;
  cadence_due_at: Date | string | null;
  cadence_touches: number;
  cadence_status: FollowUpStatus | null;
  disposition_due_at: Date | string | null;
  disposition: Disposition | null;
  disposition_at: Date | string | null;
  disposition_status: FollowUpStatus | null;
}

/** A handoff of the period with each rule's state (null: the rule did not apply to it). */
export interface JudgedHandoff {
  leadId: string;
  contactId: string | null;
  leadName: string | null;
  owner: string;
  team: string;
  channel: string;
  campaign: string;
  handoffAt: Date;
  firstTouchDueAt: Date;
  firstTouchAt: Date | null;
  cadence: { required: number; dueAt: Date; touches: number } | null;
  disposition: { dueAt: Date; outcome: Disposition | null; at: Date | null } | null;
  states: Record<SalesSlaRule, FollowUpStatus | null>;
}

const ms = (value: Date | string): number => (value instanceof Date ? value : new Date(value)).getTime();
const date = (value: Date | string): Date => new Date(ms(value));

function judge(row: HandoffRow, nowMs: number): JudgedHandoff {
  const dueMs = ms(row.due_at);
  const touchMs = row.first_touch_at === null ? null : ms(row.first_touch_at);
  const firstTouch = slaStatus(dueMs, touchMs, nowMs);
  const cadence =
    row.cadence_status === null || row.cadence_due_at === null || row.cadence_required === null
      ? null
      : { required: Number(row.cadence_required), dueAt: date(row.cadence_due_at), touches: Number(row.cadence_touches) };
  const disposition =
    row.disposition_status === null || row.disposition_due_at === null
      ? null
      : {
          dueAt: date(row.disposition_due_at),
          outcome: row.disposition,
          at: row.disposition_at === null ? null : date(row.disposition_at),
        };
  // A decided state is final; a pending one is judged now (its check may not have run yet).
  const cadenceState =
    cadence === null
      ? null
      : row.cadence_status !== 'pending'
        ? row.cadence_status
        : cadenceStatus({ required: cadence.required, dueAtMs: cadence.dueAt.getTime() }, cadence.touches, nowMs);
  const dispositionState =
    disposition === null
      ? null
      : row.disposition_status !== 'pending'
        ? row.disposition_status
        : dispositionStatus(disposition.dueAt.getTime(), disposition.at?.getTime() ?? null, nowMs);
  return {
    leadId: row.salesforce_lead_id,
    contactId: row.hubspot_contact_id,
    leadName: row.lead_name,
    owner: row.owner_name ?? row.owner_id ?? NO_GROUP,
    team: row.team ?? NO_GROUP,
    channel: row.channel ?? NO_GROUP,
    campaign: row.campaign ?? NO_GROUP,
    handoffAt: date(row.handoff_at),
    firstTouchDueAt: date(row.due_at),
    firstTouchAt: touchMs === null ? null : new Date(touchMs),
    cadence,
    disposition,
    states: {
      first_touch: firstTouch === 'breached' ? 'missed' : firstTouch,
      cadence: cadenceState,
      disposition: dispositionState,
      untouched: untouchedStatus(dueMs, touchMs, nowMs),
    },
  };
}

/** The handoffs of [from, to) with their rule states; a Lead deleted before its first touch cannot be judged and is left out. */
export async function judgedHandoffs(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date; now: Date },
): Promise<JudgedHandoff[]> {
  const rows = await db.query<HandoffRow>(
    `SELECT salesforce_lead_id, hubspot_contact_id, lead_name, handoff_at, due_at, first_touch_at, owner_id, owner_name, team, channel, campaign,
       cadence_required, cadence_due_at, cadence_touches, cadence_status, disposition_due_at, disposition, disposition_at, disposition_status
     FROM sla_clocks WHERE installation_id = $1 AND handoff_at >= $2 AND handoff_at < $3
       AND NOT (closed_at IS NOT NULL AND first_touch_at IS NULL)
     ORDER BY handoff_at, id`,
    [input.installationId, input.from, input.to],
  );
  const nowMs = input.now.getTime();
  return rows.map((row) => judge(row, nowMs));
}

function figures(rule: SalesSlaRule, enabled: boolean, handoffs: readonly JudgedHandoff[]): SalesRuleFigures {
  let kept = 0;
  let broken = 0;
  let pending = 0;
  for (const handoff of handoffs) {
    const state = handoff.states[rule];
    if (state === 'met') kept += 1;
    else if (state === 'missed') broken += 1;
    else if (state === 'pending') pending += 1;
  }
  const judged = kept + broken;
  return { rule, enabled, judged, kept, broken, pending, rate: judged === 0 ? null : kept / judged };
}

function rulesOf(policy: SlaPolicy, handoffs: readonly JudgedHandoff[]): SalesRuleFigures[] {
  const enabled = salesRulesEnabled(policy);
  return SALES_SLA_RULES.map((rule) => figures(rule, enabled[rule], handoffs));
}

function medianHours(handoffs: readonly JudgedHandoff[]): number | null {
  const hours = handoffs
    .flatMap((h) => (h.firstTouchAt === null ? [] : [(h.firstTouchAt.getTime() - h.handoffAt.getTime()) / 3_600_000]))
    .sort((a, b) => a - b);
  if (hours.length === 0) return null;
  const middle = Math.floor(hours.length / 2);
  const value = hours.length % 2 === 1 ? (hours[middle] ?? 0) : ((hours[middle - 1] ?? 0) + (hours[middle] ?? 0)) / 2;
  return Math.round(value * 100) / 100;
}

/** The group a handoff falls in. */
export function groupOf(handoff: JudgedHandoff, groupBy: SalesGroupBy): string {
  return handoff[groupBy];
}

/**
 * The sales side of the SLA for handoffs in [from, to): each rule's figures in total and per
 * group of `groupBy` (default the rep, by name), groups sorted by key.
 */
export async function salesSide(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date; now: Date; policy: SlaPolicy; groupBy?: SalesGroupBy },
): Promise<SalesSide> {
  const handoffs = await judgedHandoffs(db, input);
  const groupBy = input.groupBy ?? 'owner';
  const groups = new Map<string, JudgedHandoff[]>();
  for (const handoff of handoffs) groups.set(groupOf(handoff, groupBy), [...(groups.get(groupOf(handoff, groupBy)) ?? []), handoff]);
  const byRep: SalesComplianceRow[] = [...groups.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => {
      const members = groups.get(key) ?? [];
      return { key, handedOff: members.length, rules: rulesOf(input.policy, members) };
    });
  return { handedOff: handoffs.length, rules: rulesOf(input.policy, handoffs), medianHoursToFirstTouch: medianHours(handoffs), byRep };
}

/** A handoff that broke a rule, as the violations list shows it (links are added by the caller, who has the CRMs). */
export interface SalesViolation {
  rule: SalesSlaRule;
  leadId: string;
  leadName: string | null;
  contactId: string | null;
  owner: string;
  team: string;
  channel: string;
  campaign: string;
  handoffAt: string;
  /** The rule's due instant. */
  dueAt: string;
  firstTouchAt: string | null;
  touches: number | null;
  touchesRequired: number | null;
  disposition: Disposition | null;
  dispositionAt: string | null;
}

/** The handoffs of [from, to) that broke `rule`, in one group of `groupBy` (or all when `group` is absent), oldest first. */
export async function salesViolations(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date; now: Date; rule: SalesSlaRule; groupBy?: SalesGroupBy; group?: string },
): Promise<SalesViolation[]> {
  const groupBy = input.groupBy ?? 'owner';
  return (await judgedHandoffs(db, input))
    .filter(
      (handoff) => handoff.states[input.rule] === 'missed' && (input.group === undefined || groupOf(handoff, groupBy) === input.group),
    )
    .map((handoff) => ({
      rule: input.rule,
      leadId: handoff.leadId,
      leadName: handoff.leadName,
      contactId: handoff.contactId,
      owner: handoff.owner,
      team: handoff.team,
      channel: handoff.channel,
      campaign: handoff.campaign,
      handoffAt: handoff.handoffAt.toISOString(),
      dueAt:
        (input.rule === 'cadence'
          ? handoff.cadence?.dueAt
          : input.rule === 'disposition'
            ? handoff.disposition?.dueAt
            : handoff.firstTouchDueAt
        )?.toISOString() ?? handoff.firstTouchDueAt.toISOString(),
      firstTouchAt: handoff.firstTouchAt?.toISOString() ?? null,
      touches: handoff.cadence?.touches ?? null,
      touchesRequired: handoff.cadence?.required ?? null,
      disposition: handoff.disposition?.outcome ?? null,
      dispositionAt: handoff.disposition?.at?.toISOString() ?? null,
    }));
}

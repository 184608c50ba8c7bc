/**
 * The shared funnel report, per channel and per campaign over a period [from, to):
 *
 * - Funnel (stage_history + attribution_touches): a contact enters the funnel (becomes a lead) at
 *   its first touch or first recorded stage, whichever is earlier, and reaches a stage at the first
 *   time it entered that stage or any later one of the stage dictionary's funnel (by default
 *   lead < MQL < SQL < opportunity < customer), so a skipped stage counts as passed. Stage counts are contacts that reached the stage in the period;
 *   conversion A→B is the share of those that reached A in the period and B before its end; median
 *   days A→B are over the same converted contacts.
 * - Grouping: the contact's first touch (channel; campaign, `(unattributed)` when it has none).
 * - SLA (sla_clocks): handoffs in the period, judged by the domain's `summarizeSla`; per team and
 *   per owner through `slaCompliance`.
 * - Feedback (feedback_events): rejected / recycled / lost outcomes in the period, by reason code.
 * - Revenue: pipeline = Opportunities first seen in the period, at their latest amount before the
 *   period's end; won = deals (store/deals.ts) won in the period, on the day they were won or their
 *   close date as the revenue policy says; revenue credit of the wins converted from synced Leads
 *   per campaign and channel under each attribution model (touches up to the win).
 * - Lifetime value, segments, cost and ROI: store/revenue-report.ts.
 */
import { creditWonDeals, UNATTRIBUTED_CAMPAIGN, type CreditedDeal, type CreditRow } from '../domain/attribution-credit.ts';
import { toCents } from '../domain/money.ts';
import { summarizeSla, type SlaRecord, type SlaSummary } from '../domain/sla.ts';
import { DEFAULT_REVENUE_POLICY, type RevenuePolicy } from '../domain/revenue.ts';
import {
  DEFAULT_STAGE_DICTIONARY,
  funnelColumns,
  funnelSteps,
  validateStageDictionary,
  type FunnelColumn,
  type FunnelStep,
  type StageDictionary,
} from '../domain/stages.ts';
import type { Queryable } from './db.ts';
import { FIRST_TOUCHES, groupsOf, UNASSIGNED_CHANNEL } from './first-touch.ts';
import { settingInEffect } from './installation-admin.ts';
import { revenueSections, wonDateExpression, type RevenueSections } from './revenue-report.ts';
import { slaCompliance, type SlaComplianceFigures } from './sla.ts';

export { UNASSIGNED_CHANNEL };
export type { CreditRow };
/** The key of the all-contacts row. */
export const ALL_KEY = '(all)';

export interface ReportQuery {
  installationId: string;
  /** Inclusive start. */
  from: Date;
  /** Exclusive end. */
  to: Date;
  /** Judges SLA clocks still running (default: now). */
  now?: Date;
  /** Won date basis, size bands and channel costs (default: the default policy). */
  revenue?: RevenuePolicy;
  /** The funnel to count along (default: the installation's stage dictionary in effect). */
  stages?: StageDictionary;
}

/**
 * Contacts reaching each funnel stage, under the stage's count key (`funnelColumns`). The default
 * funnel's counts are named here; a stage only a custom funnel names is read with `stageCount`.
 */
export interface StageCounts {
  leads: number;
  mqls: number;
  sqls: number;
  opportunities: number;
  customers: number;
}

/**
 * Per funnel step (`funnelSteps`: `leadToMql`, …, then first → last `leadToCustomer`): ratios in
 * [0, 1] (null when nobody reached the earlier stage) or median days (null when nobody converted).
 */
export interface Transitions<T> {
  leadToMql: T;
  mqlToSql: T;
  sqlToOpportunity: T;
  opportunityToCustomer: T;
  leadToCustomer: T;
  [step: string]: T;
}

export interface SlaFigures {
  handedOff: number;
  met: number;
  breached: number;
  pending: number;
  /** met / (met + breached), null when nothing is decided. */
  complianceRate: number | null;
  medianHoursToFirstTouch: number | null;
}

export interface FunnelRow extends StageCounts {
  key: string;
  conversion: Transitions<number | null>;
  medianDays: Transitions<number | null>;
  sla: SlaFigures;
  feedback: { rejected: number; recycled: number; lost: number };
  pipelineCents: number;
  wonCents: number;
  wonDeals: number;
}

export interface ReasonRow {
  code: string;
  label: string;
  rejected: number;
  recycled: number;
  lost: number;
  total: number;
}

export interface FunnelReport extends RevenueSections {
  installationId: string;
  period: { from: string; to: string };
  /** The stage dictionary's funnel, first stage to last: the columns of the funnel tables. */
  funnel: FunnelColumn[];
  totals: FunnelRow;
  channels: FunnelRow[];
  campaigns: FunnelRow[];
  feedbackReasons: ReasonRow[];
  revenueCredit: CreditRow[];
  /** The same credit per first-touch channel of each credited touch. */
  channelCredit: CreditRow[];
  /** SLA compliance per sales team and per owner (as recorded on each clock at handoff). */
  slaByTeam: SlaComplianceFigures[];
  slaByOwner: SlaComplianceFigures[];
}

type Dimension = 'channel' | 'campaign';

/**
 * Stage counts, conversions and medians per channel, per campaign and in total, for a funnel of `length`
 * stages passed as $4 (text[]): `at_i` is when a contact first reached funnel stage i or a later one.
 */
function funnelSql(steps: readonly IndexedStep[], length: number): string {
  const reached = Array.from({ length: length - 1 }, (_, index) => index + 1);
  const inPeriod = (i: number) => `at_${i} >= $2 AND at_${i} < $3`;
  const stepColumns = steps.flatMap((step) => {
    const [a, b] = [step.from.index, step.to.index];
    const converted = `${inPeriod(a)} AND at_${b} < $3`;
    return [
      `count(*) FILTER (WHERE ${converted}) AS converted_${a}_${b}`,
      `percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at_${b} - at_${a})) FILTER (WHERE ${converted}) AS median_${a}_${b}`,
    ];
  });
  return `
WITH firsts AS (${FIRST_TOUCHES}),
touched AS (
  SELECT hubspot_contact_id AS contact, min(occurred_at) AS at FROM attribution_touches WHERE installation_id = $1 GROUP BY hubspot_contact_id
),
stages AS (
  SELECT hubspot_contact_id AS contact, min(occurred_at) AS any_at,
    ${reached.map((i) => `min(occurred_at) FILTER (WHERE array_position($4::text[], stage) > ${i}) AS at_${i}`).join(',\n    ')}
  FROM stage_history WHERE installation_id = $1 GROUP BY hubspot_contact_id
),
people AS (
  SELECT COALESCE(s.contact, t.contact) AS contact, LEAST(s.any_at, t.at) AS at_0, ${reached.map((i) => `s.at_${i}`).join(', ')}
  FROM stages s FULL OUTER JOIN touched t ON t.contact = s.contact
),
grouped AS (
  SELECT p.*, COALESCE(f.channel, '${UNASSIGNED_CHANNEL}') AS channel, COALESCE(f.campaign, '${UNATTRIBUTED_CAMPAIGN}') AS campaign
  FROM people p LEFT JOIN firsts f ON f.contact = p.contact
)
SELECT GROUPING(channel) AS g_channel, GROUPING(campaign) AS g_campaign, channel, campaign,
  ${[0, ...reached].map((i) => `count(*) FILTER (WHERE ${inPeriod(i)}) AS count_${i}`).join(',\n  ')},
  ${stepColumns.join(',\n  ')}
FROM grouped
GROUP BY GROUPING SETS ((channel), (campaign), ())`;
}

interface FunnelSqlRow extends Record<string, unknown> {
  g_channel: number;
  g_campaign: number;
  channel: string | null;
  campaign: string | null;
}

/** A funnel step with the positions of its two stages. */
interface IndexedStep extends FunnelStep {
  readonly from: FunnelColumn & { readonly index: number };
  readonly to: FunnelColumn & { readonly index: number };
}

/** How the report counts along a dictionary's funnel. */
interface FunnelShape {
  readonly columns: readonly FunnelColumn[];
  readonly steps: readonly IndexedStep[];
  readonly sql: string;
  readonly stages: readonly string[];
}

function funnelShapeOf(dictionary: StageDictionary): FunnelShape {
  const columns = funnelColumns(dictionary);
  const indexed = (column: FunnelColumn) => ({ ...column, index: dictionary.funnel.indexOf(column.stage) });
  const steps = funnelSteps(dictionary).map((step) => ({ ...step, from: indexed(step.from), to: indexed(step.to) }));
  return { columns, steps, sql: funnelSql(steps, columns.length), stages: dictionary.funnel };
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : round(part / whole, 4));
const days = (seconds: unknown): number | null => (seconds === null || seconds === undefined ? null : round(Number(seconds) / 86_400, 2));

/** Contacts that reached a funnel stage, by the stage's count key (0 when the row has none). */
export function stageCount(row: FunnelRow, column: Pick<FunnelColumn, 'countKey'>): number {
  const value: unknown = (row as unknown as Record<string, unknown>)[column.countKey];
  return typeof value === 'number' ? value : 0;
}

function emptyRow(key: string, shape: FunnelShape): FunnelRow {
  const none = () => Object.fromEntries(shape.steps.map((step) => [step.key, null])) as unknown as Transitions<number | null>;
  const counts = Object.fromEntries(shape.columns.map((column) => [column.countKey, 0]));
  return {
    key,
    leads: 0,
    mqls: 0,
    sqls: 0,
    opportunities: 0,
    customers: 0,
    ...counts,
    conversion: none(),
    medianDays: none(),
    sla: { handedOff: 0, met: 0, breached: 0, pending: 0, complianceRate: null, medianHoursToFirstTouch: null },
    feedback: { rejected: 0, recycled: 0, lost: 0 },
    pipelineCents: 0,
    wonCents: 0,
    wonDeals: 0,
  };
}

function funnelRowOf(key: string, row: FunnelSqlRow, shape: FunnelShape): FunnelRow {
  const n = (value: unknown): number => Number(value ?? 0);
  const result = emptyRow(key, shape);
  const counts = shape.columns.map((_, index) => n(row[`count_${index}`]));
  shape.columns.forEach((column, index) => {
    (result as unknown as Record<string, number>)[column.countKey] = counts[index] ?? 0;
  });
  for (const { key: step, from, to } of shape.steps) {
    result.conversion[step] = ratio(n(row[`converted_${from.index}_${to.index}`]), counts[from.index] ?? 0);
    result.medianDays[step] = days(row[`median_${from.index}_${to.index}`]);
  }
  return result;
}

function slaFigures(summary: SlaSummary): SlaFigures {
  return {
    handedOff: summary.handedOff,
    met: summary.touchedWithinSla,
    breached: summary.breached,
    pending: summary.pending,
    complianceRate: summary.complianceRate === null ? null : round(summary.complianceRate, 4),
    medianHoursToFirstTouch: summary.medianTimeToFirstTouchMs === null ? null : round(summary.medianTimeToFirstTouchMs / 3_600_000, 2),
  };
}

/** The report's rows per channel, per campaign and in total, created on first use. */
class FunnelRows {
  readonly channel = new Map<string, FunnelRow>();
  readonly campaign = new Map<string, FunnelRow>();
  totals: FunnelRow;

  constructor(readonly shape: FunnelShape) {
    this.totals = emptyRow(ALL_KEY, shape);
  }

  rowFor(dimension: Dimension, key: string): FunnelRow {
    let row = this[dimension].get(key);
    if (!row) {
      row = emptyRow(key, this.shape);
      this[dimension].set(key, row);
    }
    return row;
  }
}

/** Where a contact's facts are grouped: its first touch, else the fact's own channel/campaign, else the catch-all. */
type GroupOf = (dimension: Dimension, contact: string | null, fallback?: string | null) => string;

interface SalesFacts {
  clocks: Array<{
    contact: string | null;
    channel: string | null;
    campaign: string | null;
    handoff_at: Date | string;
    due_at: Date | string;
    first_touch_at: Date | string | null;
  }>;
  feedback: Array<{ contact: string; outcome: 'rejected' | 'recycled' | 'lost'; reason_code: string | null; reason_label: string | null }>;
  pipeline: Array<{ contact: string; amount: number | string | null }>;
  won: Array<{ contact: string | null; amount_cents: number | string; won_at: Date | string; origin: string }>;
}

/** Builds the funnel report of one installation for a period. */
export async function funnelReport(db: Queryable, query: ReportQuery): Promise<FunnelReport> {
  const { installationId, from, to } = query;
  const now = query.now ?? new Date();
  const policy = query.revenue ?? DEFAULT_REVENUE_POLICY;
  const dictionary =
    query.stages ?? (await settingInEffect(db, installationId, 'stageDictionary', validateStageDictionary, DEFAULT_STAGE_DICTIONARY));
  const shape = funnelShapeOf(dictionary);

  // 1. Stage counts, conversions and medians, per channel, per campaign and in total.
  const rows = await countFunnel(db, query, shape);
  // 2. The sales-side facts, each tied to a contact, then grouped like the funnel.
  const facts = await salesFactsOf(db, query, policy);
  const groups = await groupsOf(
    db,
    installationId,
    [...facts.clocks, ...facts.feedback, ...facts.pipeline, ...facts.won].map((f) => f.contact).filter((c): c is string => c !== null),
  );
  const groupOf: GroupOf = (dimension, contact, fallback) => {
    const group = contact === null ? undefined : groups.get(contact);
    if (group) return group[dimension];
    if (fallback) return fallback;
    return dimension === 'channel' ? UNASSIGNED_CHANNEL : UNATTRIBUTED_CAMPAIGN;
  };
  addSla(rows, facts.clocks, groupOf, now);
  const reasons = addFeedback(rows, facts.feedback, groupOf);
  addRevenue(rows, facts, groupOf);
  // 3. Revenue credit of the period's new-business wins under each model.
  const credit = await revenueCreditOf(db, installationId, facts.won);

  const [byTeam, byOwner] = await Promise.all([
    slaCompliance(db, installationId, { from, to, groupBy: 'team', now }),
    slaCompliance(db, installationId, { from, to, groupBy: 'owner', now }),
  ]);
  const sections = await revenueSections(db, {
    installationId,
    from,
    to,
    policy,
    funnel: { channels: [...rows.channel.values()], campaigns: [...rows.campaign.values()] },
    credit,
  });
  const ordered = (map: Map<string, FunnelRow>): FunnelRow[] => orderedRows(map, shape);
  return {
    ...sections,
    installationId,
    period: { from: from.toISOString(), to: to.toISOString() },
    funnel: [...shape.columns],
    totals: rows.totals,
    channels: ordered(rows.channel),
    campaigns: ordered(rows.campaign),
    feedbackReasons: [...reasons.values()].sort((a, b) => b.total - a.total || a.code.localeCompare(b.code)),
    revenueCredit: credit.campaigns,
    channelCredit: credit.channels,
    slaByTeam: byTeam.groups,
    slaByOwner: byOwner.groups,
  };
}

async function countFunnel(db: Queryable, query: ReportQuery, shape: FunnelShape): Promise<FunnelRows> {
  const rows = new FunnelRows(shape);
  const counted = await db.query<FunnelSqlRow>(shape.sql, [query.installationId, query.from, query.to, shape.stages]);
  for (const row of counted) {
    if (Number(row.g_channel) === 0) {
      const key = row.channel ?? UNASSIGNED_CHANNEL;
      rows.channel.set(key, funnelRowOf(key, row, shape));
    } else if (Number(row.g_campaign) === 0) {
      const key = row.campaign ?? UNATTRIBUTED_CAMPAIGN;
      rows.campaign.set(key, funnelRowOf(key, row, shape));
    } else rows.totals = funnelRowOf(ALL_KEY, row, shape);
  }
  return rows;
}

async function salesFactsOf(db: Queryable, query: ReportQuery, policy: RevenuePolicy): Promise<SalesFacts> {
  const params = [query.installationId, query.from, query.to];
  const clocks = await db.query<SalesFacts['clocks'][number]>(
    `SELECT hubspot_contact_id AS contact, channel, campaign, handoff_at, due_at, first_touch_at FROM sla_clocks
     WHERE installation_id = $1 AND handoff_at >= $2 AND handoff_at < $3 AND NOT (closed_at IS NOT NULL AND first_touch_at IS NULL)`,
    params,
  );
  const feedback = await db.query<SalesFacts['feedback'][number]>(
    `SELECT hubspot_contact_id AS contact, outcome, reason_code, reason_label FROM feedback_events
     WHERE installation_id = $1 AND outcome IN ('rejected', 'recycled', 'lost') AND occurred_at >= $2 AND occurred_at < $3`,
    params,
  );
  const pipeline = await db.query<SalesFacts['pipeline'][number]>(
    `SELECT contact, amount FROM (
       SELECT salesforce_record_id,
         (array_agg(hubspot_contact_id ORDER BY occurred_at DESC, id DESC))[1] AS contact,
         min(occurred_at) AS opened_at,
         (array_agg(amount ORDER BY occurred_at DESC, id DESC) FILTER (WHERE amount IS NOT NULL AND occurred_at < $3))[1] AS amount
       FROM feedback_events WHERE installation_id = $1 AND salesforce_object = 'Opportunity'
       GROUP BY salesforce_record_id) opportunities
     WHERE opened_at >= $2 AND opened_at < $3`,
    params,
  );
  const wonDay = wonDateExpression(policy.wonDate);
  const won = await db.query<SalesFacts['won'][number]>(
    `SELECT hubspot_contact_id AS contact, amount_cents, ${wonDay} AS won_at, origin FROM deals
     WHERE installation_id = $1 AND status = 'won' AND amount_cents IS NOT NULL AND ${wonDay} >= $2 AND ${wonDay} < $3`,
    params,
  );
  return { clocks, feedback, pipeline, won };
}

/** Applies a fact to the totals and to its channel's and campaign's rows. */
function eachRow(
  rows: FunnelRows,
  groupOf: GroupOf,
  contact: string | null,
  apply: (row: FunnelRow) => void,
  fallback?: { channel: string | null; campaign: string | null },
): void {
  apply(rows.totals);
  apply(rows.rowFor('channel', groupOf('channel', contact, fallback?.channel)));
  apply(rows.rowFor('campaign', groupOf('campaign', contact, fallback?.campaign)));
}

/** SLA compliance through the domain's summary, per dimension. */
function addSla(rows: FunnelRows, clocks: SalesFacts['clocks'], groupOf: GroupOf, now: Date): void {
  const slaRecords = (dimension: Dimension): SlaRecord[] =>
    clocks.map((clock) => ({
      group: groupOf(dimension, clock.contact, dimension === 'channel' ? clock.channel : clock.campaign),
      handoffAtMs: new Date(clock.handoff_at).getTime(),
      dueAtMs: new Date(clock.due_at).getTime(),
      firstTouchAtMs: clock.first_touch_at === null ? null : new Date(clock.first_touch_at).getTime(),
    }));
  for (const dimension of ['channel', 'campaign'] as const) {
    const summary = summarizeSla(slaRecords(dimension), now.getTime());
    if (dimension === 'channel') rows.totals.sla = slaFigures(summary.total);
    for (const group of summary.groups) rows.rowFor(dimension, group.group).sla = slaFigures(group);
  }
}

/** Feedback outcomes, per group and per reason. */
function addFeedback(rows: FunnelRows, feedback: SalesFacts['feedback'], groupOf: GroupOf): Map<string, ReasonRow> {
  const reasons = new Map<string, ReasonRow>();
  for (const event of feedback) {
    eachRow(rows, groupOf, event.contact, (row) => {
      row.feedback[event.outcome] += 1;
    });
    const code = event.reason_code ?? '(none)';
    const reason = reasons.get(code) ?? {
      code,
      label: event.reason_label ?? (event.reason_code === null ? 'No reason given' : code),
      rejected: 0,
      recycled: 0,
      lost: 0,
      total: 0,
    };
    reason[event.outcome] += 1;
    reason.total += 1;
    reasons.set(code, reason);
  }
  return reasons;
}

/** Pipeline and won revenue. */
function addRevenue(rows: FunnelRows, facts: SalesFacts, groupOf: GroupOf): void {
  for (const opportunity of facts.pipeline) {
    const cents = opportunity.amount === null ? 0 : toCents(opportunity.amount);
    eachRow(rows, groupOf, opportunity.contact, (row) => {
      row.pipelineCents += cents;
    });
  }
  for (const deal of facts.won) {
    eachRow(rows, groupOf, deal.contact, (row) => {
      row.wonCents += Number(deal.amount_cents);
      row.wonDeals += 1;
    });
  }
}

/**
 * Revenue credit of the period's new-business wins under each model, from the touches before each
 * win, per campaign and per channel (a renewal or upsell of a customer's Account is revenue, not a
 * campaign's result).
 */
async function revenueCreditOf(
  db: Queryable,
  installationId: string,
  won: SalesFacts['won'],
): Promise<{ campaigns: CreditRow[]; channels: CreditRow[] }> {
  const credited = won.filter((deal): deal is typeof deal & { contact: string } => deal.origin === 'lead' && deal.contact !== null);
  const touches =
    credited.length === 0
      ? []
      : await db.query<{ contact: string; campaign: string | null; channel: string; occurred_at: Date | string }>(
          'SELECT hubspot_contact_id AS contact, campaign, channel, occurred_at FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = ANY($2) ORDER BY occurred_at',
          [installationId, [...new Set(credited.map((w) => w.contact))]],
        );
  const dealsCrediting = (creditedKey: (touch: (typeof touches)[number]) => string): CreditedDeal[] =>
    credited.map((deal) => ({
      amountCents: Number(deal.amount_cents),
      wonAt: new Date(deal.won_at).getTime(),
      touchpoints: touches
        .filter((touch) => touch.contact === deal.contact)
        .map((touch) => ({ campaign: creditedKey(touch), at: new Date(touch.occurred_at).getTime() })),
    }));
  return {
    campaigns: creditWonDeals(dealsCrediting((touch) => touch.campaign ?? UNATTRIBUTED_CAMPAIGN)),
    channels: creditWonDeals(
      dealsCrediting((touch) => touch.channel),
      UNASSIGNED_CHANNEL,
    ),
  };
}

/** The rows with activity in the period (a group whose contacts did nothing in it is left out), most leads first. */
function orderedRows(map: Map<string, FunnelRow>, shape: FunnelShape): FunnelRow[] {
  const first = shape.columns[0];
  const entered = (row: FunnelRow): number => (first === undefined ? 0 : stageCount(row, first));
  const active = (row: FunnelRow): boolean =>
    shape.columns.reduce((sum, column) => sum + stageCount(row, column), 0) +
      row.sla.handedOff +
      row.feedback.rejected +
      row.feedback.recycled +
      row.feedback.lost +
      row.pipelineCents +
      row.wonDeals >
    0;
  return [...map.values()].filter(active).sort((a, b) => entered(b) - entered(a) || b.wonCents - a.wonCents || a.key.localeCompare(b.key));
}

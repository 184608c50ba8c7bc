/**
 * The shared funnel report, per channel and per campaign over a period [from, to):
 *
 * - Funnel (stage_history + attribution_touches): a contact enters the funnel (becomes a lead) at
 *   its first touch or first recorded stage, whichever is earlier, and reaches a stage at the first
 *   time it entered that stage or any later one (lead < MQL < SQL < opportunity < customer), so a
 *   skipped stage counts as passed. Stage counts are contacts that reached the stage in the period;
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
import { creditRevenue, CREDIT_MODELS, UNATTRIBUTED_CAMPAIGN, type CreditModel } from '../domain/attribution.ts';
import { toCents } from '../domain/money.ts';
import { summarizeSla, type SlaRecord, type SlaSummary } from '../domain/sla.ts';
import { DEFAULT_REVENUE_POLICY, type RevenuePolicy } from '../domain/revenue.ts';
import type { Queryable } from './db.ts';
import { FIRST_TOUCHES, groupsOf, UNASSIGNED_CHANNEL } from './first-touch.ts';
import { revenueSections, wonDateExpression, type RevenueSections } from './revenue-report.ts';
import { slaCompliance, type SlaComplianceFigures } from './sla.ts';

export { UNASSIGNED_CHANNEL };
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
}

export interface StageCounts {
  leads: number;
  mqls: number;
  sqls: number;
  opportunities: number;
  customers: number;
}

/** Ratios in [0, 1] (null when nobody reached the earlier stage) and median days (null when nobody converted). */
export interface Transitions<T> {
  leadToMql: T;
  mqlToSql: T;
  sqlToOpportunity: T;
  opportunityToCustomer: T;
  leadToCustomer: T;
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

export interface CreditRow {
  campaign: string;
  /** Cents credited under each model. */
  credit: Record<CreditModel, number>;
}

export interface FunnelReport extends RevenueSections {
  installationId: string;
  period: { from: string; to: string };
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

const FUNNEL_SQL = `
WITH firsts AS (${FIRST_TOUCHES}),
touched AS (
  SELECT hubspot_contact_id AS contact, min(occurred_at) AS at FROM attribution_touches WHERE installation_id = $1 GROUP BY hubspot_contact_id
),
stages AS (
  SELECT hubspot_contact_id AS contact,
    min(occurred_at) AS any_at,
    min(occurred_at) FILTER (WHERE stage IN ('mql', 'sql', 'opportunity', 'customer')) AS mql_at,
    min(occurred_at) FILTER (WHERE stage IN ('sql', 'opportunity', 'customer')) AS sql_at,
    min(occurred_at) FILTER (WHERE stage IN ('opportunity', 'customer')) AS opportunity_at,
    min(occurred_at) FILTER (WHERE stage = 'customer') AS customer_at
  FROM stage_history WHERE installation_id = $1 GROUP BY hubspot_contact_id
),
people AS (
  SELECT COALESCE(s.contact, t.contact) AS contact, LEAST(s.any_at, t.at) AS lead_at,
    s.mql_at, s.sql_at, s.opportunity_at, s.customer_at
  FROM stages s FULL OUTER JOIN touched t ON t.contact = s.contact
),
grouped AS (
  SELECT p.*, COALESCE(f.channel, '${UNASSIGNED_CHANNEL}') AS channel, COALESCE(f.campaign, '${UNATTRIBUTED_CAMPAIGN}') AS campaign
  FROM people p LEFT JOIN firsts f ON f.contact = p.contact
)
SELECT GROUPING(channel) AS g_channel, GROUPING(campaign) AS g_campaign, channel, campaign,
  count(*) FILTER (WHERE lead_at >= $2 AND lead_at < $3) AS leads,
  count(*) FILTER (WHERE mql_at >= $2 AND mql_at < $3) AS mqls,
  count(*) FILTER (WHERE sql_at >= $2 AND sql_at < $3) AS sqls,
  count(*) FILTER (WHERE opportunity_at >= $2 AND opportunity_at < $3) AS opportunities,
  count(*) FILTER (WHERE customer_at >= $2 AND customer_at < $3) AS customers,
  count(*) FILTER (WHERE lead_at >= $2 AND lead_at < $3 AND mql_at < $3) AS lead_to_mql,
  count(*) FILTER (WHERE mql_at >= $2 AND mql_at < $3 AND sql_at < $3) AS mql_to_sql,
  count(*) FILTER (WHERE sql_at >= $2 AND sql_at < $3 AND opportunity_at < $3) AS sql_to_opportunity,
  count(*) FILTER (WHERE opportunity_at >= $2 AND opportunity_at < $3 AND customer_at < $3) AS opportunity_to_customer,
  count(*) FILTER (WHERE lead_at >= $2 AND lead_at < $3 AND customer_at < $3) AS lead_to_customer,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mql_at - lead_at)) FILTER (WHERE lead_at >= $2 AND lead_at < $3 AND mql_at < $3) AS lead_to_mql_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sql_at - mql_at)) FILTER (WHERE mql_at >= $2 AND mql_at < $3 AND sql_at < $3) AS mql_to_sql_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM opportunity_at - sql_at)) FILTER (WHERE sql_at >= $2 AND sql_at < $3 AND opportunity_at < $3) AS sql_to_opportunity_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM customer_at - opportunity_at)) FILTER (WHERE opportunity_at >= $2 AND opportunity_at < $3 AND customer_at < $3) AS opportunity_to_customer_s,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM customer_at - lead_at)) FILTER (WHERE lead_at >= $2 AND lead_at < $3 AND customer_at < $3) AS lead_to_customer_s
FROM grouped
GROUP BY GROUPING SETS ((channel), (campaign), ())`;

interface FunnelSqlRow extends Record<string, unknown> {
  g_channel: number;
  g_campaign: number;
  channel: string | null;
  campaign: string | null;
  leads: number;
  mqls: number;
  sqls: number;
  opportunities: number;
  customers: number;
  lead_to_mql: number;
  mql_to_sql: number;
  sql_to_opportunity: number;
  opportunity_to_customer: number;
  lead_to_customer: number;
  lead_to_mql_s: number | null;
  mql_to_sql_s: number | null;
  sql_to_opportunity_s: number | null;
  opportunity_to_customer_s: number | null;
  lead_to_customer_s: number | null;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : round(part / whole, 4));
const days = (seconds: number | null): number | null => (seconds === null ? null : round(Number(seconds) / 86_400, 2));

function emptyRow(key: string): FunnelRow {
  const none = { leadToMql: null, mqlToSql: null, sqlToOpportunity: null, opportunityToCustomer: null, leadToCustomer: null };
  return {
    key,
    leads: 0,
    mqls: 0,
    sqls: 0,
    opportunities: 0,
    customers: 0,
    conversion: { ...none },
    medianDays: { ...none },
    sla: { handedOff: 0, met: 0, breached: 0, pending: 0, complianceRate: null, medianHoursToFirstTouch: null },
    feedback: { rejected: 0, recycled: 0, lost: 0 },
    pipelineCents: 0,
    wonCents: 0,
    wonDeals: 0,
  };
}

function funnelRowOf(key: string, row: FunnelSqlRow): FunnelRow {
  const n = (value: unknown): number => Number(value ?? 0);
  const base = emptyRow(key);
  const counts = {
    leads: n(row.leads),
    mqls: n(row.mqls),
    sqls: n(row.sqls),
    opportunities: n(row.opportunities),
    customers: n(row.customers),
  };
  return {
    ...base,
    ...counts,
    conversion: {
      leadToMql: ratio(n(row.lead_to_mql), counts.leads),
      mqlToSql: ratio(n(row.mql_to_sql), counts.mqls),
      sqlToOpportunity: ratio(n(row.sql_to_opportunity), counts.sqls),
      opportunityToCustomer: ratio(n(row.opportunity_to_customer), counts.opportunities),
      leadToCustomer: ratio(n(row.lead_to_customer), counts.leads),
    },
    medianDays: {
      leadToMql: days(row.lead_to_mql_s),
      mqlToSql: days(row.mql_to_sql_s),
      sqlToOpportunity: days(row.sql_to_opportunity_s),
      opportunityToCustomer: days(row.opportunity_to_customer_s),
      leadToCustomer: days(row.lead_to_customer_s),
    },
  };
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

/** Builds the funnel report of one installation for a period. */
export async function funnelReport(db: Queryable, query: ReportQuery): Promise<FunnelReport> {
  const { installationId, from, to } = query;
  const now = query.now ?? new Date();
  const rows: Record<Dimension, Map<string, FunnelRow>> = { channel: new Map(), campaign: new Map() };
  let totals = emptyRow(ALL_KEY);
  const rowFor = (dimension: Dimension | 'total', key: string): FunnelRow => {
    if (dimension === 'total') return totals;
    let row = rows[dimension].get(key);
    if (!row) {
      row = emptyRow(key);
      rows[dimension].set(key, row);
    }
    return row;
  };

  // 1. Stage counts, conversions and medians, per channel, per campaign and in total.
  for (const row of await db.query<FunnelSqlRow>(FUNNEL_SQL, [installationId, from, to])) {
    if (Number(row.g_channel) === 0)
      rows.channel.set(row.channel ?? UNASSIGNED_CHANNEL, funnelRowOf(row.channel ?? UNASSIGNED_CHANNEL, row));
    else if (Number(row.g_campaign) === 0)
      rows.campaign.set(row.campaign ?? UNATTRIBUTED_CAMPAIGN, funnelRowOf(row.campaign ?? UNATTRIBUTED_CAMPAIGN, row));
    else totals = funnelRowOf(ALL_KEY, row);
  }

  // 2. The rows of sales-side facts, each tied to a contact, then grouped like the funnel.
  const clocks = await db.query<{
    contact: string | null;
    channel: string | null;
    campaign: string | null;
    handoff_at: Date | string;
    due_at: Date | string;
    first_touch_at: Date | string | null;
  }>(
    `SELECT hubspot_contact_id AS contact, channel, campaign, handoff_at, due_at, first_touch_at FROM sla_clocks
     WHERE installation_id = $1 AND handoff_at >= $2 AND handoff_at < $3 AND NOT (closed_at IS NOT NULL AND first_touch_at IS NULL)`,
    [installationId, from, to],
  );
  const feedback = await db.query<{
    contact: string;
    outcome: 'rejected' | 'recycled' | 'lost';
    reason_code: string | null;
    reason_label: string | null;
  }>(
    `SELECT hubspot_contact_id AS contact, outcome, reason_code, reason_label FROM feedback_events
     WHERE installation_id = $1 AND outcome IN ('rejected', 'recycled', 'lost') AND occurred_at >= $2 AND occurred_at < $3`,
    [installationId, from, to],
  );
  const pipeline = await db.query<{ contact: string; amount: number | string | null }>(
    `SELECT contact, amount FROM (
       SELECT salesforce_record_id,
         (array_agg(hubspot_contact_id ORDER BY occurred_at DESC, id DESC))[1] AS contact,
         min(occurred_at) AS opened_at,
         (array_agg(amount ORDER BY occurred_at DESC, id DESC) FILTER (WHERE amount IS NOT NULL AND occurred_at < $3))[1] AS amount
       FROM feedback_events WHERE installation_id = $1 AND salesforce_object = 'Opportunity'
       GROUP BY salesforce_record_id) opportunities
     WHERE opened_at >= $2 AND opened_at < $3`,
    [installationId, from, to],
  );
  const policy = query.revenue ?? DEFAULT_REVENUE_POLICY;
  const wonDay = wonDateExpression(policy.wonDate);
  const won = await db.query<{ contact: string | null; amount_cents: number | string; won_at: Date | string; origin: string }>(
    `SELECT hubspot_contact_id AS contact, amount_cents, ${wonDay} AS won_at, origin FROM deals
     WHERE installation_id = $1 AND status = 'won' AND amount_cents IS NOT NULL AND ${wonDay} >= $2 AND ${wonDay} < $3`,
    [installationId, from, to],
  );
  const groups = await groupsOf(
    db,
    installationId,
    [
      ...clocks.map((c) => c.contact),
      ...feedback.map((f) => f.contact),
      ...pipeline.map((p) => p.contact),
      ...won.map((w) => w.contact),
    ].filter((c): c is string => c !== null),
  );
  const keyOf = (dimension: Dimension, contact: string | null, fallback?: string | null): string => {
    const group = contact === null ? undefined : groups.get(contact);
    if (group) return group[dimension];
    if (fallback) return fallback;
    return dimension === 'channel' ? UNASSIGNED_CHANNEL : UNATTRIBUTED_CAMPAIGN;
  };
  const eachRow = (
    contact: string | null,
    apply: (row: FunnelRow) => void,
    fallback?: { channel: string | null; campaign: string | null },
  ): void => {
    apply(rowFor('total', ALL_KEY));
    apply(rowFor('channel', keyOf('channel', contact, fallback?.channel)));
    apply(rowFor('campaign', keyOf('campaign', contact, fallback?.campaign)));
  };

  // SLA compliance through the domain's summary, per dimension.
  const nowMs = now.getTime();
  const slaRecords = (dimension: Dimension): SlaRecord[] =>
    clocks.map((clock) => ({
      group: keyOf(dimension, clock.contact, dimension === 'channel' ? clock.channel : clock.campaign),
      handoffAtMs: new Date(clock.handoff_at).getTime(),
      dueAtMs: new Date(clock.due_at).getTime(),
      firstTouchAtMs: clock.first_touch_at === null ? null : new Date(clock.first_touch_at).getTime(),
    }));
  for (const dimension of ['channel', 'campaign'] as const) {
    const summary = summarizeSla(slaRecords(dimension), nowMs);
    if (dimension === 'channel') totals.sla = slaFigures(summary.total);
    for (const group of summary.groups) rowFor(dimension, group.group).sla = slaFigures(group);
  }

  // Feedback outcomes, per group and per reason.
  const reasons = new Map<string, ReasonRow>();
  for (const event of feedback) {
    eachRow(event.contact, (row) => {
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

  // Pipeline and won revenue.
  for (const opportunity of pipeline) {
    const cents = opportunity.amount === null ? 0 : toCents(opportunity.amount);
    eachRow(opportunity.contact, (row) => {
      row.pipelineCents += cents;
    });
  }
  for (const deal of won) {
    eachRow(deal.contact, (row) => {
      row.wonCents += Number(deal.amount_cents);
      row.wonDeals += 1;
    });
  }

  // 3. Revenue credit of the period's new-business wins under each model, from the touches before
  // each win, per campaign and per channel (a renewal or upsell of a customer's Account is revenue,
  // not a campaign's result).
  const credited = won.filter((deal): deal is typeof deal & { contact: string } => deal.origin === 'lead' && deal.contact !== null);
  const touches =
    credited.length === 0
      ? []
      : await db.query<{ contact: string; campaign: string | null; channel: string; occurred_at: Date | string }>(
          'SELECT hubspot_contact_id AS contact, campaign, channel, occurred_at FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = ANY($2) ORDER BY occurred_at',
          [installationId, [...new Set(credited.map((w) => w.contact))]],
        );
  const credit = new Map<string, CreditRow>();
  const channelCredit = new Map<string, CreditRow>();
  const addCredit = (rows: Map<string, CreditRow>, key: string, model: CreditModel, cents: number): void => {
    const row = rows.get(key) ?? { campaign: key, credit: { first_touch: 0, last_touch: 0, linear: 0, position_based: 0 } };
    row.credit[model] += cents;
    rows.set(key, row);
  };
  for (const deal of credited) {
    const wonAt = new Date(deal.won_at).getTime();
    const before = touches.filter((t) => t.contact === deal.contact && new Date(t.occurred_at).getTime() <= wonAt);
    for (const model of CREDIT_MODELS) {
      const at = (t: (typeof before)[number]) => new Date(t.occurred_at).getTime();
      for (const share of creditRevenue(
        model,
        before.map((t) => ({ campaign: t.campaign ?? UNATTRIBUTED_CAMPAIGN, at: at(t) })),
        Number(deal.amount_cents),
      ))
        addCredit(credit, share.campaign, model, share.amountCents);
      for (const share of creditRevenue(
        model,
        before.map((t) => ({ campaign: t.channel, at: at(t) })),
        Number(deal.amount_cents),
      )) {
        addCredit(channelCredit, share.campaign === UNATTRIBUTED_CAMPAIGN ? UNASSIGNED_CHANNEL : share.campaign, model, share.amountCents);
      }
    }
  }

  // A group whose contacts did nothing in the period (all its activity is before or after) is left out.
  const active = (row: FunnelRow): boolean =>
    row.leads +
      row.mqls +
      row.sqls +
      row.opportunities +
      row.customers +
      row.sla.handedOff +
      row.feedback.rejected +
      row.feedback.recycled +
      row.feedback.lost +
      row.pipelineCents +
      row.wonDeals >
    0;
  const [byTeam, byOwner] = await Promise.all([
    slaCompliance(db, installationId, { from, to, groupBy: 'team', now }),
    slaCompliance(db, installationId, { from, to, groupBy: 'owner', now }),
  ]);

  const ordered = (map: Map<string, FunnelRow>): FunnelRow[] =>
    [...map.values()].filter(active).sort((a, b) => b.leads - a.leads || b.wonCents - a.wonCents || a.key.localeCompare(b.key));
  const byCredit = (rows: Map<string, CreditRow>): CreditRow[] =>
    [...rows.values()].sort((a, b) => b.credit.linear - a.credit.linear || a.campaign.localeCompare(b.campaign));
  const sections = await revenueSections(db, {
    installationId,
    from,
    to,
    policy,
    funnel: { channels: [...rows.channel.values()], campaigns: [...rows.campaign.values()] },
    credit: { campaigns: byCredit(credit), channels: byCredit(channelCredit) },
  });
  return {
    ...sections,
    installationId,
    period: { from: from.toISOString(), to: to.toISOString() },
    totals,
    channels: ordered(rows.channel),
    campaigns: ordered(rows.campaign),
    feedbackReasons: [...reasons.values()].sort((a, b) => b.total - a.total || a.code.localeCompare(b.code)),
    revenueCredit: byCredit(credit),
    channelCredit: byCredit(channelCredit),
    slaByTeam: byTeam.groups,
    slaByOwner: byOwner.groups,
  };
}

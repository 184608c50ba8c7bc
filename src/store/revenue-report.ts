/**
 * The report's revenue sections (docs/architecture.md §14), over a period [from, to):
 *
 * - Currency: sums are in the org's corporate currency (multi-currency amounts converted with the
 *   CurrencyType rates when each deal was recorded); a single-currency org's own currency.
 * - Lifetime value: each customer Account (one won deal or more before the period's end) with all
 *   its won deals up to then — first deal, renewals, upsells — grouped by the first-touch channel and
 *   campaign of the contact its first deal converted from, and by size band.
 * - Segments: per size band (the revenue policy's bands over the Account's or the HubSpot company's
 *   employees or annual revenue): revenue and deals won in the period, deals lost, win rate (won ÷
 *   closed), median sales cycle (Opportunity created → won), customers and average lifetime value.
 * - Cost and ROI per campaign and channel: a Salesforce Campaign's ActualCost (BudgetedCost when no
 *   actual cost is entered) counts in the period of its StartDate (else EndDate, else the day it was
 *   created); a
 *   channel's cost is its campaigns' plus the amounts the admin entered per channel and month. Cost
 *   per lead / MQL / customer (CAC), ROI under each attribution model, LTV:CAC.
 */
import { CREDIT_MODELS, type CreditModel } from '../domain/attribution-credit.ts';
import { costReturns, segmentOf, type RevenuePolicy, type WonDateBasis } from '../domain/revenue.ts';
import type { Queryable } from './db.ts';
import { groupsOf, UNASSIGNED_CHANNEL } from './first-touch.ts';
import { orgCurrencies } from './deals.ts';

/** The SQL value of a won deal's report day under the policy (the end of its close date, or when it was won). */
export function wonDateExpression(basis: WonDateBasis): string {
  return basis === 'close_date' ? "COALESCE((close_date + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 millisecond', won_at)" : 'won_at';
}

export interface LifetimeValueRow {
  key: string;
  /** Customer accounts (a won deal before the period's end). */
  customers: number;
  /** Of those, first won in the period. */
  newCustomers: number;
  lifetimeValueCents: number;
  averageLifetimeValueCents: number | null;
}

export interface SegmentRow {
  key: string;
  wonCents: number;
  wonDeals: number;
  lostDeals: number;
  /** Won ÷ (won + lost) among the deals closed in the period; null when none closed. */
  winRate: number | null;
  medianSalesCycleDays: number | null;
  customers: number;
  averageLifetimeValueCents: number | null;
}

export interface RoiRow {
  key: string;
  costCents: number;
  /** Where the cost came from. */
  costSources: ('actual' | 'budgeted' | 'entered')[];
  leads: number;
  mqls: number;
  customers: number;
  credit: Record<CreditModel, number>;
  costPerLeadCents: number | null;
  costPerMqlCents: number | null;
  cacCents: number | null;
  /** (credited − cost) ÷ cost under each model; null without a cost. */
  roi: Record<CreditModel, number | null>;
  averageLifetimeValueCents: number | null;
  ltvToCac: number | null;
}

export interface RevenueSections {
  currency: { code: string | null; multiCurrency: boolean; rates: Record<string, number> };
  wonDate: WonDateBasis;
  lifetimeValue: { channels: LifetimeValueRow[]; campaigns: LifetimeValueRow[]; segments: LifetimeValueRow[] };
  segments: { source: RevenuePolicy['segments']['source']; measure: RevenuePolicy['segments']['measure']; rows: SegmentRow[] };
  roi: { campaigns: RoiRow[]; channels: RoiRow[] };
}

interface FunnelCounts {
  key: string;
  leads: number;
  mqls: number;
  customers: number;
}

interface CreditCounts {
  campaign: string;
  credit: Record<CreditModel, number>;
}

export interface RevenueSectionsQuery {
  installationId: string;
  from: Date;
  to: Date;
  policy: RevenuePolicy;
  funnel: { channels: readonly FunnelCounts[]; campaigns: readonly FunnelCounts[] };
  credit: { campaigns: readonly CreditCounts[]; channels: readonly CreditCounts[] };
}

const median = (values: readonly number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const average = (total: number, count: number): number | null => (count === 0 ? null : Math.round(total / count));
const numeric = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

type DealFact = {
  account: string | null;
  contact: string | null;
  origin: string;
  status: string;
  amount_cents: string | number | null;
  won_day: Date | string | null;
  closed_at: Date | string | null;
  opened_at: Date | string | null;
};
type Customer = { valueCents: number; firstWon: number; contact: string | null; contactRank: [number, number]; segment: string };
type CostSource = RoiRow['costSources'][number];
type CostRows = Map<string, { cents: number; sources: Set<CostSource> }>;
type LifetimeValueRows = Record<'channels' | 'campaigns' | 'segments', Map<string, LifetimeValueRow>>;

/** The revenue sections of the report. */
export async function revenueSections(db: Queryable, query: RevenueSectionsQuery): Promise<RevenueSections> {
  const { installationId, from, to, policy } = query;
  const wonDay = wonDateExpression(policy.wonDate);
  const currencies = await orgCurrencies(db, installationId);

  // Every deal that matters to the period: won before its end (lifetime value), or closed in it.
  const deals = await db.query<DealFact>(
    `SELECT salesforce_account_id AS account, hubspot_contact_id AS contact, origin, status, amount_cents,
       CASE WHEN status = 'won' THEN ${wonDay} END AS won_day, closed_at, opened_at
     FROM deals WHERE installation_id = $1 AND status IN ('won', 'lost') AND (${wonDay} < $3 OR (closed_at >= $2 AND closed_at < $3))`,
    [installationId, from, to],
  );
  const segmentKey = await segmentKeyOf(db, installationId, policy);
  const ltvRows = await lifetimeValueOf(db, query, customersOf(deals, to.getTime(), segmentKey));
  const byValue = (rows: Map<string, LifetimeValueRow>) =>
    [...rows.values()].sort((a, b) => b.lifetimeValueCents - a.lifetimeValueCents || a.key.localeCompare(b.key));
  const cost = await costsOf(db, query);

  return {
    currency: { code: currencies?.corporate ?? null, multiCurrency: currencies?.multiCurrency ?? false, rates: currencies?.rates ?? {} },
    wonDate: policy.wonDate,
    lifetimeValue: { channels: byValue(ltvRows.channels), campaigns: byValue(ltvRows.campaigns), segments: byValue(ltvRows.segments) },
    segments: {
      source: policy.segments.source,
      measure: policy.segments.measure,
      rows: segmentRowsOf(deals, query, segmentKey, ltvRows.segments),
    },
    roi: {
      campaigns: roiRows(query.funnel.campaigns, query.credit.campaigns, cost.campaigns, ltvRows.campaigns),
      channels: roiRows(query.funnel.channels, query.credit.channels, cost.channels, ltvRows.channels),
    },
  };
}

/** The size band of each customer Account, by the revenue policy's source and measure. */
async function segmentKeyOf(db: Queryable, installationId: string, policy: RevenuePolicy): Promise<(account: string | null) => string> {
  const accounts = await db.query<{
    id: string;
    employees: number | null;
    annual_revenue: string | number | null;
    company_employees: number | null;
    company_annual_revenue: string | number | null;
  }>(
    'SELECT salesforce_account_id AS id, employees, annual_revenue, company_employees, company_annual_revenue FROM customer_accounts WHERE installation_id = $1',
    [installationId],
  );
  const segmentOfAccount = new Map(
    accounts.map((a) => {
      const fromCompany = policy.segments.source === 'hubspot_company';
      const size = {
        employees: numeric(fromCompany ? a.company_employees : a.employees),
        annualRevenue: numeric(fromCompany ? a.company_annual_revenue : a.annual_revenue),
      };
      return [a.id, segmentOf(policy.segments, size)] as const;
    }),
  );
  const unknownSegment = segmentOf(policy.segments, null);
  return (account) => (account === null ? unknownSegment : (segmentOfAccount.get(account) ?? unknownSegment));
}

/**
 * Customers: accounts (or, without an account, the deal's contact) with their won deals up to the
 * period's end. Its group is the first-touch of the contact its earliest new-business deal converted
 * from (any deal's contact if none).
 */
function customersOf(deals: readonly DealFact[], toMs: number, segmentKey: (account: string | null) => string): Map<string, Customer> {
  const customers = new Map<string, Customer>();
  for (const deal of deals) {
    if (deal.status !== 'won' || deal.won_day === null || deal.amount_cents === null) continue;
    const wonAt = new Date(deal.won_day).getTime();
    if (wonAt >= toMs) continue;
    const key = deal.account ?? `contact:${deal.contact ?? '(none)'}`;
    const current = customers.get(key) ?? {
      valueCents: 0,
      firstWon: wonAt,
      contact: null,
      contactRank: [2, Number.POSITIVE_INFINITY],
      segment: segmentKey(deal.account),
    };
    current.valueCents += Number(deal.amount_cents);
    current.firstWon = Math.min(current.firstWon, wonAt);
    const rank: [number, number] = [deal.origin === 'lead' ? 0 : 1, wonAt];
    if (
      deal.contact !== null &&
      (rank[0] < current.contactRank[0] || (rank[0] === current.contactRank[0] && rank[1] < current.contactRank[1]))
    ) {
      current.contact = deal.contact;
      current.contactRank = rank;
    }
    customers.set(key, current);
  }
  return customers;
}

/** Lifetime value per first-touch channel, campaign and segment. */
async function lifetimeValueOf(db: Queryable, query: RevenueSectionsQuery, customers: Map<string, Customer>): Promise<LifetimeValueRows> {
  const groups = await groupsOf(
    db,
    query.installationId,
    [...customers.values()].map((c) => c.contact).filter((c): c is string => c !== null),
  );
  const ltvRows: LifetimeValueRows = { channels: new Map(), campaigns: new Map(), segments: new Map() };
  const addLtv = (rows: Map<string, LifetimeValueRow>, key: string, valueCents: number, isNew: boolean): void => {
    const row = rows.get(key) ?? { key, customers: 0, newCustomers: 0, lifetimeValueCents: 0, averageLifetimeValueCents: null };
    row.customers += 1;
    if (isNew) row.newCustomers += 1;
    row.lifetimeValueCents += valueCents;
    row.averageLifetimeValueCents = average(row.lifetimeValueCents, row.customers);
    rows.set(key, row);
  };
  for (const customer of customers.values()) {
    const group = customer.contact === null ? undefined : groups.get(customer.contact);
    const isNew = customer.firstWon >= query.from.getTime();
    addLtv(ltvRows.channels, group?.channel ?? UNASSIGNED_CHANNEL, customer.valueCents, isNew);
    addLtv(ltvRows.campaigns, group?.campaign ?? '(unattributed)', customer.valueCents, isNew);
    addLtv(ltvRows.segments, customer.segment, customer.valueCents, isNew);
  }
  return ltvRows;
}

/** Segments: the period's closed deals per band, with the band's customers. */
function segmentRowsOf(
  deals: readonly DealFact[],
  query: RevenueSectionsQuery,
  segmentKey: (account: string | null) => string,
  ltvSegments: Map<string, LifetimeValueRow>,
): SegmentRow[] {
  const [fromMs, toMs] = [query.from.getTime(), query.to.getTime()];
  const bands = new Map<string, { wonCents: number; wonDeals: number; lostDeals: number; cycles: number[] }>();
  const band = (key: string) => {
    const row = bands.get(key) ?? { wonCents: 0, wonDeals: 0, lostDeals: 0, cycles: [] };
    bands.set(key, row);
    return row;
  };
  for (const deal of deals) {
    const key = segmentKey(deal.account);
    if (deal.status === 'won' && deal.won_day !== null) {
      const wonAt = new Date(deal.won_day).getTime();
      if (wonAt < fromMs || wonAt >= toMs) continue;
      const row = band(key);
      row.wonDeals += 1;
      row.wonCents += Number(deal.amount_cents ?? 0);
      if (deal.opened_at !== null) row.cycles.push((wonAt - new Date(deal.opened_at).getTime()) / 86_400_000);
    } else if (deal.status === 'lost' && deal.closed_at !== null) {
      const closedAt = new Date(deal.closed_at).getTime();
      if (closedAt >= fromMs && closedAt < toMs) band(key).lostDeals += 1;
    }
  }
  const segments = query.policy.segments;
  const segmentOrder = [...segments.bands.map((b) => b.label), segmentOf(segments, null)];
  return segmentOrder
    .map((key) => {
      const row = bands.get(key) ?? { wonCents: 0, wonDeals: 0, lostDeals: 0, cycles: [] };
      const ltv = ltvSegments.get(key);
      const cycle = median(row.cycles);
      return {
        key,
        wonCents: row.wonCents,
        wonDeals: row.wonDeals,
        lostDeals: row.lostDeals,
        winRate: row.wonDeals + row.lostDeals === 0 ? null : round(row.wonDeals / (row.wonDeals + row.lostDeals), 4),
        medianSalesCycleDays: cycle === null ? null : round(cycle, 2),
        customers: ltv?.customers ?? 0,
        averageLifetimeValueCents: ltv?.averageLifetimeValueCents ?? null,
      };
    })
    .filter((row) => row.wonDeals + row.lostDeals + row.customers > 0);
}

/** Cost: Campaigns placed in the period, and the admin's channel amounts for its months. */
async function costsOf(db: Queryable, query: RevenueSectionsQuery): Promise<{ campaigns: CostRows; channels: CostRows }> {
  const { installationId, from, to, policy } = query;
  const campaigns = await db.query<{ name: string; budgeted: string | number | null; actual: string | number | null }>(
    `SELECT name, budgeted_cost_cents AS budgeted, actual_cost_cents AS actual FROM campaign_costs
     WHERE installation_id = $1 AND COALESCE(start_date, end_date, created_date) >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND COALESCE(start_date, end_date, created_date) < ($3::timestamptz AT TIME ZONE 'UTC')::date`,
    [installationId, from, to],
  );
  const channelOfCampaign = new Map(
    (
      await db.query<{ campaign: string; channel: string }>(
        `SELECT DISTINCT ON (lower(campaign)) lower(campaign) AS campaign, channel FROM attribution_touches
       WHERE installation_id = $1 AND campaign IS NOT NULL GROUP BY lower(campaign), channel ORDER BY lower(campaign), count(*) DESC, channel`,
        [installationId],
      )
    ).map((row) => [row.campaign, row.channel]),
  );
  const cost = { campaigns: new Map() as CostRows, channels: new Map() as CostRows };
  const addCost = (rows: CostRows, key: string, cents: number, source: CostSource): void => {
    const row = rows.get(key) ?? { cents: 0, sources: new Set() };
    row.cents += cents;
    row.sources.add(source);
    rows.set(key, row);
  };
  for (const campaign of campaigns) {
    const actual = numeric(campaign.actual);
    const cents = actual !== null && actual > 0 ? actual : numeric(campaign.budgeted);
    if (cents === null) continue;
    const source = actual !== null && actual > 0 ? 'actual' : 'budgeted';
    addCost(cost.campaigns, campaign.name, cents, source);
    addCost(cost.channels, channelOfCampaign.get(campaign.name.toLowerCase()) ?? UNASSIGNED_CHANNEL, cents, source);
  }
  const fromMonth = from.toISOString().slice(0, 7);
  const lastMonth = new Date(to.getTime() - 1).toISOString().slice(0, 7);
  for (const entry of policy.channelCosts) {
    if (entry.month >= fromMonth && entry.month <= lastMonth)
      addCost(cost.channels, entry.channel, Math.round(entry.amount * 100), 'entered');
  }
  return cost;
}

/** Cost and return per key (campaign or channel) that spent or earned credit. */
function roiRows(
  funnel: readonly FunnelCounts[],
  credits: readonly CreditCounts[],
  costs: CostRows,
  ltv: Map<string, LifetimeValueRow>,
): RoiRow[] {
  const keys = new Map<string, string>();
  for (const key of [...funnel.map((f) => f.key), ...credits.map((c) => c.campaign), ...costs.keys()])
    if (!keys.has(key.toLowerCase())) keys.set(key.toLowerCase(), key);
  const find = <T>(rows: Iterable<T>, keyOf: (row: T) => string, key: string): T | undefined =>
    [...rows].find((row) => keyOf(row).toLowerCase() === key.toLowerCase());
  return [...keys.values()]
    .map((key): RoiRow => {
      const counts = find(funnel, (f) => f.key, key);
      const credit = find(credits, (c) => c.campaign, key)?.credit ?? { first_touch: 0, last_touch: 0, linear: 0, position_based: 0 };
      const spent = find(costs.entries(), ([k]) => k, key)?.[1];
      const averageLifetimeValueCents = find(ltv.values(), (row) => row.key, key)?.averageLifetimeValueCents ?? null;
      const figures = {
        costCents: spent?.cents ?? 0,
        leads: counts?.leads ?? 0,
        mqls: counts?.mqls ?? 0,
        customers: counts?.customers ?? 0,
        averageLifetimeValueCents,
      };
      const returns = costReturns({ ...figures, creditedCents: credit.linear });
      return {
        key,
        costCents: figures.costCents,
        costSources: [...(spent?.sources ?? [])].sort(),
        leads: figures.leads,
        mqls: figures.mqls,
        customers: figures.customers,
        credit: { ...credit },
        costPerLeadCents: returns.costPerLeadCents,
        costPerMqlCents: returns.costPerMqlCents,
        cacCents: returns.cacCents,
        roi: Object.fromEntries(
          CREDIT_MODELS.map((model) => [model, costReturns({ ...figures, creditedCents: credit[model] }).roi]),
        ) as Record<CreditModel, number | null>,
        averageLifetimeValueCents,
        ltvToCac: returns.ltvToCac,
      };
    })
    .filter((row) => row.costCents > 0 || CREDIT_MODELS.some((model) => row.credit[model] > 0))
    .sort((a, b) => b.costCents - a.costCents || b.credit.linear - a.credit.linear || a.key.localeCompare(b.key));
}

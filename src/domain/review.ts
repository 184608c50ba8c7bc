/**
 * The pipeline review (docs/architecture.md §13): the one data set sales and marketing meet over.
 * `GET /api/review`, the `/admin/review` page and the scheduled digest all render this shape, so
 * each block's numbers are computed once (src/store/review.ts) and only formatted elsewhere.
 *
 * Money is integer cents in the org's corporate currency (`currency`); dates are ISO-8601 strings;
 * ratios are 0–1 (null when there is nothing to divide).
 */
import type { CommitmentMetric, Pacing } from './commitments.ts';
import type { GoalRow } from './goals.ts';

/** The sales-side SLA rules (docs/architecture.md §13), in the order the review shows them. */
export const SALES_SLA_RULES = ['first_touch', 'cadence', 'disposition', 'untouched'] as const;
/** A sales-side SLA rule. */
export type SalesSlaRule = (typeof SALES_SLA_RULES)[number];

/** How a sales-side rule is kept over the handoffs of the period. */
export interface SalesRuleFigures {
  rule: SalesSlaRule;
  /** Whether the installation's SLA policy has this rule on. */
  enabled: boolean;
  /** Handoffs the rule has decided: kept + broken. */
  judged: number;
  kept: number;
  broken: number;
  /** Handoffs still inside the rule's window. */
  pending: number;
  /** kept / judged; null when nothing is judged. */
  rate: number | null;
}

/** One grouping of the sales side (rep, team, channel, campaign) with each rule's figures. */
export interface SalesComplianceRow {
  key: string;
  handedOff: number;
  rules: SalesRuleFigures[];
}

/** The sales side of the SLA in a period. */
export interface SalesSide {
  handedOff: number;
  rules: SalesRuleFigures[];
  /** Median handoff → first touch, hours (null: no touched handoff). */
  medianHoursToFirstTouch: number | null;
  byRep: SalesComplianceRow[];
}

/** Marketing's side: each commitment of the period with its pacing (null: the commitments are per the other period kind). */
export interface MarketingSide {
  period: { id: string; kind: 'month' | 'quarter'; from: string; to: string };
  commitments: (Pacing & { key: string; metric: CommitmentMetric; channel: string | null })[];
}

/** Revenue and pipeline that came from one channel or campaign. */
export interface SourceRow {
  key: string;
  wonDeals: number;
  wonCents: number;
  openDeals: number;
  openCents: number;
}

/** An open-pipeline stage. */
export interface StageRow {
  stage: string;
  deals: number;
  amountCents: number;
}

/** A deal won in the period that made its Account a new customer. */
export interface NewCustomer {
  accountId: string | null;
  accountName: string | null;
  opportunityId: string;
  opportunityName: string | null;
  amountCents: number;
  wonAt: string;
  reason: string | null;
  channel: string;
  campaign: string | null;
}

/** A deal lost in the period. */
export interface Loss {
  opportunityId: string;
  opportunityName: string | null;
  accountName: string | null;
  amountCents: number;
  lostAt: string;
  reason: string | null;
}

/** A marketing campaign starting soon (dates `YYYY-MM-DD`); the CRM ports read it without `source`. */
export interface UpcomingCampaign {
  source: 'salesforce' | 'hubspot';
  id: string;
  name: string;
  startDate: string;
  endDate: string | null;
  type: string | null;
  status: string | null;
  url: string | null;
}

/** The whole review of one period. */
export interface PipelineReview {
  installationId: string;
  period: { id: string; kind: 'month' | 'quarter'; from: string; to: string };
  generatedAt: string;
  currency: string | null;
  /** The quarter's revenue goal against what closed (the quarter containing the period). */
  goal: { quarter: string; targetCents: number | null; closedCents: number; share: number | null; owner: string | null };
  pipeline: { stages: StageRow[]; totalDeals: number; totalCents: number };
  sources: { channels: SourceRow[]; campaigns: SourceRow[] };
  newCustomers: NewCustomer[];
  losses: { deals: Loss[]; reasons: { reason: string; deals: number; amountCents: number }[] };
  agreement: { marketing: MarketingSide | null; sales: SalesSide };
  goals: GoalRow[];
  /** Campaigns starting in the next 30 days; a side that could not be read is named in `unavailable`. */
  upcoming: { campaigns: UpcomingCampaign[]; unavailable: { source: 'salesforce' | 'hubspot'; reason: string }[] };
}

/** How far ahead the review looks for campaigns. */
export const UPCOMING_DAYS = 30;

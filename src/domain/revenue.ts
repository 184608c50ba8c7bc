/**
 * The revenue loop (docs/architecture.md §14), as pure rules: what state a closed Opportunity
 * leaves a deal in, which day a won deal counts on, a multi-currency amount in the corporate
 * currency, customer lifetime value per account, customer size bands, and the cost figures of a
 * campaign or channel (CAC, ROI, LTV:CAC). The policy an admin edits (`revenuePolicy`) is data.
 */
import { z } from 'zod';
import type { Result } from './result.ts';
import { uniqueRows, validatorOf } from './validation.ts';

/** A deal's state: open (including reopened), won, or lost. */
export const DEAL_STATUSES = ['open', 'won', 'lost'] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

/**
 * The day a won deal counts on in the report: the day the sync saw it won (`won_day`, the
 * default), or its Close Date (`close_date`, which may have been set in the future before the deal
 * closed, or backdated after).
 */
export const WON_DATE_BASES = ['won_day', 'close_date'] as const;
export type WonDateBasis = (typeof WON_DATE_BASES)[number];

/** Where a customer's size comes from: the Salesforce Account, or the contact's HubSpot company. */
export const SEGMENT_SOURCES = ['salesforce_account', 'hubspot_company'] as const;

/** What a size band measures: employees (`NumberOfEmployees` / `numberofemployees`) or annual revenue. */
export const SEGMENT_MEASURES = ['employees', 'annual_revenue'] as const;

/** The band of a customer whose size is not known. */
export const UNKNOWN_SEGMENT = 'Unknown size';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM');
const label = z.string().trim().min(1, 'must not be blank').max(60, 'must be at most 60 characters');

const SizeBandSchema = z.object({ label, min: z.number().min(0, 'must be 0 or more').finite() }).strict();

export const RevenuePolicySchema = z
  .object({
    wonDate: z.enum(WON_DATE_BASES).default('won_day'),
    segments: z
      .object({
        source: z.enum(SEGMENT_SOURCES).default('salesforce_account'),
        measure: z.enum(SEGMENT_MEASURES).default('employees'),
        /** Ascending lower bounds; the first starts at 0. A customer is in the last band whose min it reaches. */
        bands: z
          .array(SizeBandSchema)
          .min(1, 'needs at least one band')
          .max(12, 'at most 12 bands')
          .default([
            { label: 'Small business', min: 0 },
            { label: 'Mid-market', min: 100 },
            { label: 'Enterprise', min: 1000 },
          ]),
      })
      .strict()
      .default({
        source: 'salesforce_account',
        measure: 'employees',
        bands: [
          { label: 'Small business', min: 0 },
          { label: 'Mid-market', min: 100 },
          { label: 'Enterprise', min: 1000 },
        ],
      })
      .superRefine((segments, context) => {
        if (segments.bands[0] !== undefined && segments.bands[0].min !== 0)
          context.addIssue({ code: 'custom', message: 'the first band must start at 0', path: ['bands', 0, 'min'] });
        segments.bands.forEach((band, index) => {
          const before = segments.bands[index - 1];
          if (before !== undefined && band.min <= before.min)
            context.addIssue({ code: 'custom', message: 'bands must be in ascending order of min', path: ['bands', index, 'min'] });
        });
        const labels = segments.bands.map((band) => band.label.toLowerCase());
        labels.forEach((text, index) => {
          if (labels.indexOf(text) !== index || text === UNKNOWN_SEGMENT.toLowerCase())
            context.addIssue({
              code: 'custom',
              message: `label "${segments.bands[index]?.label ?? ''}" is used twice or reserved`,
              path: ['bands', index, 'label'],
            });
        });
      }),
    /**
     * Acquisition cost of channels that have no Salesforce Campaign to carry it (paid social bought
     * outside any campaign, agency fees): one amount per channel and month, in the corporate currency.
     */
    channelCosts: z
      .array(
        z.object({ channel: label, month, amount: z.number().min(0, 'must be 0 or more').max(1e12, 'is too large').finite() }).strict(),
      )
      .max(600, 'at most 600 rows')
      .default([])
      .superRefine(
        uniqueRows(
          (row) => `${row.channel.toLowerCase()}|${row.month}`,
          (row) => `${row.channel} ${row.month}`,
          'month',
        ),
      ),
  })
  .strict();

export type RevenuePolicy = z.output<typeof RevenuePolicySchema>;
export type SizeBands = RevenuePolicy['segments'];

/** The default policy: won day, bands by Account employees (1–99, 100–999, 1,000+), no channel costs. */
export const DEFAULT_REVENUE_POLICY: RevenuePolicy = RevenuePolicySchema.parse({});

/** Validates an admin-supplied revenue policy, listing every problem. */
export const validateRevenuePolicy: (input: unknown) => Result<RevenuePolicy, string[]> = validatorOf(RevenuePolicySchema);

/** An Opportunity as the revenue loop reads it. */
export interface OpportunityOutcome {
  readonly IsWon: boolean;
  readonly IsClosed: boolean;
}

/** The deal state of an Opportunity: won, lost (closed, not won), or open. */
export function dealStatusOf(opportunity: OpportunityOutcome): DealStatus {
  if (opportunity.IsWon) return 'won';
  return opportunity.IsClosed ? 'lost' : 'open';
}

/** The end (UTC) of a `YYYY-MM-DD` date: a close date counts the whole day. Null for anything else. */
export function endOfDate(date: string | null | undefined): Date | null {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const at = Date.parse(`${date}T23:59:59.999Z`);
  return Number.isNaN(at) ? null : new Date(at);
}

/**
 * When a deal reached a settled state (won; or closed, won or lost): kept from the first time it
 * was seen so while it stays so; a deal the sync saw unsettled and now sees settled got there now;
 * a deal first seen already settled (the app installed later, or its earlier changes never seen)
 * got there at the end of its close date, never later than now. Null while unsettled (a reopened
 * deal leaves the won figures).
 */
export function settledAt(input: {
  settled: boolean;
  previous: { settled: boolean; at: Date | null } | null;
  closeDate: string | null;
  now: Date;
}): Date | null {
  if (!input.settled) return null;
  if (input.previous !== null) return input.previous.settled && input.previous.at !== null ? input.previous.at : input.now;
  const closed = endOfDate(input.closeDate);
  return closed === null || closed.getTime() > input.now.getTime() ? input.now : closed;
}

/**
 * The org's currencies: the corporate currency (a single-currency org's only one) and, in a
 * multi-currency org, the units of each active ISO code per one unit of it (CurrencyType).
 */
export interface CurrencyRates {
  readonly corporate: string;
  readonly multiCurrency: boolean;
  readonly rates: ReadonlyMap<string, number>;
}

/**
 * An amount in the corporate currency, in cents. Salesforce keeps `Amount` in the record's own
 * currency; the corporate amount is `amount / ConversionRate` of that currency (Salesforce Help,
 * "Edit Conversion Rates": rates are relative to the corporate currency). Null when the currency
 * has no rate (an inactive or unknown code): such a deal is reported, not summed.
 */
export function toCorporateCents(amount: number, currency: string | null, rates: CurrencyRates | null): number | null {
  if (rates === null || !rates.multiCurrency || currency === null || currency === rates.corporate) return Math.round(amount * 100);
  const rate = rates.rates.get(currency);
  if (rate === undefined || !(rate > 0)) return null;
  return Math.round((amount / rate) * 100);
}

/** One won deal of an account. */
export interface WonDeal {
  readonly accountId: string;
  readonly amountCents: number;
  readonly wonAt: Date;
}

/** A customer account's lifetime value: every won deal over time (first deal, renewals, upsells). */
export interface LifetimeValue {
  readonly valueCents: number;
  readonly firstWonAt: Date;
  readonly dealsWon: number;
}

/** Lifetime value per account from its won deals. */
export function lifetimeValues(deals: readonly WonDeal[]): Map<string, LifetimeValue> {
  const values = new Map<string, LifetimeValue>();
  for (const deal of deals) {
    const current = values.get(deal.accountId);
    values.set(
      deal.accountId,
      current === undefined
        ? { valueCents: deal.amountCents, firstWonAt: deal.wonAt, dealsWon: 1 }
        : {
            valueCents: current.valueCents + deal.amountCents,
            firstWonAt: deal.wonAt < current.firstWonAt ? deal.wonAt : current.firstWonAt,
            dealsWon: current.dealsWon + 1,
          },
    );
  }
  return values;
}

/** A customer's size, as far as it is known. */
export interface CustomerSize {
  readonly employees: number | null;
  readonly annualRevenue: number | null;
}

/** The size band of a customer under the policy: the last band whose min it reaches. */
export function segmentOf(bands: SizeBands, size: CustomerSize | null | undefined): string {
  const value = size === null || size === undefined ? null : bands.measure === 'employees' ? size.employees : size.annualRevenue;
  if (value === null || !Number.isFinite(value) || value < 0) return UNKNOWN_SEGMENT;
  let found = UNKNOWN_SEGMENT;
  for (const band of bands.bands) if (value >= band.min) found = band.label;
  return found;
}

/** What a campaign or channel cost and returned in a period. */
export interface CostFigures {
  readonly costCents: number;
  readonly leads: number;
  readonly mqls: number;
  readonly customers: number;
  /** Won revenue credited to it under one attribution model. */
  readonly creditedCents: number;
  /** Average lifetime value of the customers it acquired (null when none). */
  readonly averageLifetimeValueCents: number | null;
}

/** Cost per lead / MQL / customer (CAC), ROI and LTV:CAC; null where a divisor is zero. */
export interface CostReturns {
  readonly costPerLeadCents: number | null;
  readonly costPerMqlCents: number | null;
  /** Customer acquisition cost. */
  readonly cacCents: number | null;
  /** (credited − cost) / cost. */
  readonly roi: number | null;
  readonly ltvToCac: number | null;
}

const per = (cents: number, count: number): number | null => (count > 0 && cents > 0 ? Math.round(cents / count) : null);
const ratio = (value: number, of: number): number => Math.round((value / of) * 10_000) / 10_000;

/** The cost ratios of one campaign or channel. */
export function costReturns(figures: CostFigures): CostReturns {
  const cac = per(figures.costCents, figures.customers);
  return {
    costPerLeadCents: per(figures.costCents, figures.leads),
    costPerMqlCents: per(figures.costCents, figures.mqls),
    cacCents: cac,
    roi: figures.costCents > 0 ? ratio(figures.creditedCents - figures.costCents, figures.costCents) : null,
    ltvToCac: cac !== null && figures.averageLifetimeValueCents !== null ? ratio(figures.averageLifetimeValueCents, cac) : null,
  };
}

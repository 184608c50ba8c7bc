/**
 * Revenue credit per campaign (docs/architecture.md §3): a won amount split across the campaigns
 * that touched the deal under first-touch, last-touch, linear and position-based models, exact to
 * the cent; the one rule the shared report and its CSV read.
 */
import { assertCents } from './money.ts';
import { assertNever } from './result.ts';
import { presentOrNull } from './validation.ts';

/** Multi-touch revenue credit models. */
export const CREDIT_MODELS = ['first_touch', 'last_touch', 'linear', 'position_based'] as const;
/** A credit model. */
export type CreditModel = (typeof CREDIT_MODELS)[number];

/** One campaign touch on the way to a won deal. */
export interface CreditTouchpoint {
  readonly campaign: string;
  /** Epoch ms; touches are credited in time order (ties keep input order). */
  readonly at: number;
}

/** Revenue credited to one campaign, in integer cents. */
export interface CampaignCredit {
  readonly campaign: string;
  readonly amountCents: number;
}

/** The campaign that receives revenue when a deal has no touchpoints (or a touch has no campaign). */
export const UNATTRIBUTED_CAMPAIGN = '(unattributed)';

/**
 * Splits a won amount (integer cents) across campaigns: first/last touch, linear, or position
 * based (40/20/40; one touch 100 %, two touches 50/50). Exact rational shares are floored and
 * the leftover cents go to the largest remainders, ties to the earliest campaign, so the credits
 * always sum to the won amount. Campaigns appear in order of their first touch.
 */
export function creditRevenue(model: CreditModel, touchpoints: readonly CreditTouchpoint[], wonAmountCents: number): CampaignCredit[] {
  assertCents(wonAmountCents);
  if (touchpoints.length === 0) return [{ campaign: UNATTRIBUTED_CAMPAIGN, amountCents: wonAmountCents }];

  const ordered = touchpoints
    .map((touch, index) => ({ campaign: presentOrNull(touch.campaign) ?? UNATTRIBUTED_CAMPAIGN, at: touch.at, index }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index));
  const { numerators, denominator } = creditWeights(model, ordered.length);

  const weightByCampaign = new Map<string, bigint>();
  ordered.forEach((touch, position) => {
    const weight = numerators[position] ?? 0n;
    weightByCampaign.set(touch.campaign, (weightByCampaign.get(touch.campaign) ?? 0n) + weight);
  });
  const shares = [...weightByCampaign].filter(([, weight]) => weight > 0n);

  const total = BigInt(Math.abs(wonAmountCents));
  const floored = shares.map(([campaign, weight], order) => ({
    campaign,
    order,
    cents: (total * weight) / denominator,
    remainder: (total * weight) % denominator,
  }));
  let leftover = total - floored.reduce((sum, share) => sum + share.cents, 0n);
  const byRemainder = [...floored].sort((a, b) => (a.remainder === b.remainder ? a.order - b.order : a.remainder > b.remainder ? -1 : 1));
  for (const share of byRemainder) {
    if (leftover === 0n) break;
    share.cents += 1n;
    leftover -= 1n;
  }
  const sign = wonAmountCents < 0 ? -1 : 1;
  return floored.map((share) => ({ campaign: share.campaign, amountCents: sign * Number(share.cents) || 0 }));
}

/** One won deal and the touches that may share its credit. */
export interface CreditedDeal {
  readonly amountCents: number;
  /** Epoch ms: touches after the win get no credit. */
  readonly wonAt: number;
  readonly touchpoints: readonly CreditTouchpoint[];
}

/** The revenue one campaign (or channel) is credited with, in cents, under each model. */
export interface CreditRow {
  campaign: string;
  credit: Record<CreditModel, number>;
}

/**
 * Credits every won deal under each model from its touches up to the win (docs/architecture.md §3)
 * and adds the credit up per campaign: each model's column sums to the deals' revenue, to the cent.
 * A deal with no touch before its win credits `unattributed`. Rows are ordered by linear credit,
 * largest first, then by name. The touches' `campaign` is whatever is credited: a campaign, or a
 * channel for credit per channel.
 */
export function creditWonDeals(deals: readonly CreditedDeal[], unattributed: string = UNATTRIBUTED_CAMPAIGN): CreditRow[] {
  const rows = new Map<string, CreditRow>();
  for (const deal of deals) {
    const before = deal.touchpoints.filter((touch) => touch.at <= deal.wonAt);
    for (const model of CREDIT_MODELS) {
      for (const share of creditRevenue(model, before, deal.amountCents)) {
        const campaign = share.campaign === UNATTRIBUTED_CAMPAIGN ? unattributed : share.campaign;
        const row = rows.get(campaign) ?? { campaign, credit: { first_touch: 0, last_touch: 0, linear: 0, position_based: 0 } };
        row.credit[model] += share.amountCents;
        rows.set(campaign, row);
      }
    }
  }
  return [...rows.values()].sort((a, b) => b.credit.linear - a.credit.linear || a.campaign.localeCompare(b.campaign));
}

/** Integer weights per touch position over a common denominator (exact, no floats). */
function creditWeights(model: CreditModel, count: number): { numerators: bigint[]; denominator: bigint } {
  const zeros = (): bigint[] => Array.from({ length: count }, () => 0n);
  switch (model) {
    case 'first_touch': {
      const numerators = zeros();
      numerators[0] = 1n;
      return { numerators, denominator: 1n };
    }
    case 'last_touch': {
      const numerators = zeros();
      numerators[count - 1] = 1n;
      return { numerators, denominator: 1n };
    }
    case 'linear':
      return { numerators: Array.from({ length: count }, () => 1n), denominator: BigInt(count) };
    case 'position_based': {
      if (count <= 2) return { numerators: Array.from({ length: count }, () => 1n), denominator: BigInt(count) };
      // First and last 40 % each = 2(n−2)/5(n−2); each middle touch 20 %/(n−2) = 1/5(n−2).
      const middle = BigInt(count - 2);
      const numerators = Array.from({ length: count }, () => 1n);
      numerators[0] = 2n * middle;
      numerators[count - 1] = 2n * middle;
      return { numerators, denominator: 5n * middle };
    }
    default:
      return assertNever(model);
  }
}

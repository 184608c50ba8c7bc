/**
 * The Salesforce API budget: the share of the org's rolling 24 h API allowance the app may spend,
 * as HubSpot's own connector has "allocated to HubSpot". Given as a percentage of the org's daily
 * allowance or as a number of calls. The limiter counts the app's calls; this module says what the
 * cap is and when the admin is warned.
 */
import { z } from 'zod';

/** A budget: `{percent}` of the org's daily allowance, or `{calls}` per rolling 24 h. */
export const ApiBudgetSchema = z.union([
  z.object({ percent: z.number().gt(0, 'must be more than 0').max(100, 'must be at most 100') }).strict(),
  z.object({ calls: z.number().int('must be a whole number').min(1, 'must be at least 1') }).strict(),
]);
export type ApiBudget = z.output<typeof ApiBudgetSchema>;

/** The share of the budget at which the admin is alerted (once per budget period). */
export const API_BUDGET_ALERT_SHARE = 0.8;

/**
 * The calls allowed per rolling 24 h, or null when there is no cap: no budget, or a percentage of
 * an allowance not known yet (the first answer from the org tells it).
 */
export function budgetLimit(budget: ApiBudget | null, dailyAllowance: number | null): number | null {
  if (budget === null) return null;
  if ('calls' in budget) return budget.calls;
  if (dailyAllowance === null || !Number.isFinite(dailyAllowance) || dailyAllowance <= 0) return null;
  return Math.max(1, Math.floor((dailyAllowance * budget.percent) / 100));
}

/** The number of calls at which the 80 % alert goes out. */
export function alertThreshold(limit: number): number {
  return Math.max(1, Math.ceil(limit * API_BUDGET_ALERT_SHARE));
}

/** How the budget reads on the dashboard and in messages. */
export function describeBudget(budget: ApiBudget): string {
  return 'calls' in budget ? `${budget.calls} calls per 24 h` : `${budget.percent} % of the org's daily API allowance`;
}

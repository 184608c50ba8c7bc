/**
 * The pipeline review's figures from the report's tables (docs/architecture.md §13), over a period
 * [from, to) judged at `now`. Every block derives from a rule kept elsewhere:
 *
 * - Won revenue counts on the won day of the revenue policy (`wonDateExpression`); revenue by
 *   channel and campaign is the funnel report's own (`funnelReport`: the credited contact's first
 *   touch, `first-touch.ts`).
 * - Open pipeline: deals open at the period's end, or now while it runs (the goal table's rule in
 *   `quarterActuals`), by their Opportunity stage as last recorded; amounts in corporate cents
 *   (a deal whose amount is unknown counts as a deal of 0).
 * - New customers: Accounts (a deal without one: its contact) whose first won deal, on the won day,
 *   falls in the period — that deal, its amount and win reason.
 * - Losses: deals that closed lost in the period (first seen closed), with Loss_Reason__c.
 */
import { UNATTRIBUTED_CAMPAIGN } from '../domain/attribution-credit.ts';
import type { RevenuePolicy } from '../domain/revenue.ts';
import type { Loss, NewCustomer, SourceRow, StageRow } from '../domain/review.ts';
import type { Queryable } from './db.ts';
import { groupsOf, UNASSIGNED_CHANNEL } from './first-touch.ts';
import { funnelReport } from './report.ts';
import { wonDateExpression } from './revenue-report.ts';

/** The moment the period is judged at: its end once over, else now (never before its start). */
export function judgedAt(period: { from: Date; to: Date }, now: Date): Date {
  return new Date(Math.max(period.from.getTime(), Math.min(now.getTime(), period.to.getTime())));
}

const OPEN_AT = `opened_at < $2 AND (status = 'open' OR closed_at >= $2)`;
/** The stage of a deal recorded before the sync kept stages. */
export const UNKNOWN_STAGE = '(stage not recorded)';
/** The reason row of losses without a reason. */
export const NO_REASON = 'No reason given';

/** Deals open at `at`, per Opportunity stage (largest amount first). */
export async function openPipelineByStage(
  db: Queryable,
  installationId: string,
  at: Date,
): Promise<{ stages: StageRow[]; totalDeals: number; totalCents: number }> {
  const rows = await db.query<{ stage: string | null; deals: string | number; cents: string | number | null }>(
    `SELECT stage, count(*) AS deals, sum(amount_cents) AS cents FROM deals WHERE installation_id = $1 AND ${OPEN_AT} GROUP BY stage`,
    [installationId, at],
  );
  const stages = rows
    .map((row) => ({ stage: row.stage ?? UNKNOWN_STAGE, deals: Number(row.deals), amountCents: Number(row.cents ?? 0) }))
    .sort((a, b) => b.amountCents - a.amountCents || a.stage.localeCompare(b.stage));
  return {
    stages,
    totalDeals: stages.reduce((sum, row) => sum + row.deals, 0),
    totalCents: stages.reduce((sum, row) => sum + row.amountCents, 0),
  };
}

/** Won revenue of the period (the funnel report's) and pipeline open at `at`, per first-touch channel and campaign. */
export async function revenueSources(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date; at: Date; revenue: RevenuePolicy },
): Promise<{ channels: SourceRow[]; campaigns: SourceRow[] }> {
  const { installationId, at } = input;
  const funnel = await funnelReport(db, { installationId, from: input.from, to: input.to, now: at, revenue: input.revenue });
  const open = await db.query<{ contact: string | null; cents: string | number | null }>(
    `SELECT hubspot_contact_id AS contact, amount_cents AS cents FROM deals WHERE installation_id = $1 AND ${OPEN_AT}`,
    [installationId, at],
  );
  const groups = await groupsOf(
    db,
    installationId,
    open.map((deal) => deal.contact).filter((contact): contact is string => contact !== null),
  );
  const build = (
    funnelRows: readonly { key: string; wonCents: number; wonDeals: number }[],
    dimension: 'channel' | 'campaign',
  ): SourceRow[] => {
    const rows = new Map<string, SourceRow>();
    const rowOf = (key: string): SourceRow => {
      const row = rows.get(key) ?? { key, wonDeals: 0, wonCents: 0, openDeals: 0, openCents: 0 };
      rows.set(key, row);
      return row;
    };
    for (const row of funnelRows) {
      if (row.wonDeals === 0) continue;
      const target = rowOf(row.key);
      target.wonDeals += row.wonDeals;
      target.wonCents += row.wonCents;
    }
    for (const deal of open) {
      const group = deal.contact === null ? undefined : groups.get(deal.contact);
      const target = rowOf(group?.[dimension] ?? (dimension === 'channel' ? UNASSIGNED_CHANNEL : UNATTRIBUTED_CAMPAIGN));
      target.openDeals += 1;
      target.openCents += Number(deal.cents ?? 0);
    }
    return [...rows.values()].sort((a, b) => b.wonCents - a.wonCents || b.openCents - a.openCents || a.key.localeCompare(b.key));
  };
  return { channels: build(funnel.channels, 'channel'), campaigns: build(funnel.campaigns, 'campaign') };
}

/** Accounts whose first won deal (on the policy's won day) is in [from, to), with that deal; earliest first. */
export async function newCustomersIn(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date; revenue: RevenuePolicy },
): Promise<NewCustomer[]> {
  const wonDay = wonDateExpression(input.revenue.wonDate);
  const rows = await db.query<{
    id: string;
    account: string | null;
    account_name: string | null;
    name: string | null;
    contact: string | null;
    amount_cents: string | number | null;
    won_day: Date | string;
    reason: string | null;
  }>(
    `SELECT * FROM (
       SELECT DISTINCT ON (COALESCE(d.salesforce_account_id, 'contact:' || COALESCE(d.hubspot_contact_id, d.salesforce_opportunity_id)))
         d.salesforce_opportunity_id AS id, d.salesforce_account_id AS account, a.name AS account_name, d.name, d.hubspot_contact_id AS contact,
         d.amount_cents, ${wonDay} AS won_day, d.reason
       FROM deals d LEFT JOIN customer_accounts a ON a.installation_id = d.installation_id AND a.salesforce_account_id = d.salesforce_account_id
       WHERE d.installation_id = $1 AND d.status = 'won'
       ORDER BY COALESCE(d.salesforce_account_id, 'contact:' || COALESCE(d.hubspot_contact_id, d.salesforce_opportunity_id)), won_day, d.salesforce_opportunity_id) firsts
     WHERE won_day >= $2 AND won_day < $3
     ORDER BY won_day, id`,
    [input.installationId, input.from, input.to],
  );
  const groups = await groupsOf(
    db,
    input.installationId,
    rows.map((row) => row.contact).filter((contact): contact is string => contact !== null),
  );
  return rows.map((row) => {
    const group = row.contact === null ? undefined : groups.get(row.contact);
    return {
      accountId: row.account,
      accountName: row.account_name,
      opportunityId: row.id,
      opportunityName: row.name,
      amountCents: Number(row.amount_cents ?? 0),
      wonAt: new Date(row.won_day).toISOString(),
      reason: row.reason,
      channel: group?.channel ?? UNASSIGNED_CHANNEL,
      campaign: group?.campaign ?? null,
    };
  });
}

/** Deals lost in [from, to), latest first, and their reasons (most deals first). */
export async function lossesIn(
  db: Queryable,
  input: { installationId: string; from: Date; to: Date },
): Promise<{ deals: Loss[]; reasons: { reason: string; deals: number; amountCents: number }[] }> {
  const rows = await db.query<{
    id: string;
    name: string | null;
    account_name: string | null;
    amount_cents: string | number | null;
    closed_at: Date | string;
    reason: string | null;
  }>(
    `SELECT d.salesforce_opportunity_id AS id, d.name, a.name AS account_name, d.amount_cents, d.closed_at, d.reason
     FROM deals d LEFT JOIN customer_accounts a ON a.installation_id = d.installation_id AND a.salesforce_account_id = d.salesforce_account_id
     WHERE d.installation_id = $1 AND d.status = 'lost' AND d.closed_at >= $2 AND d.closed_at < $3
     ORDER BY d.closed_at DESC, d.salesforce_opportunity_id`,
    [input.installationId, input.from, input.to],
  );
  const deals: Loss[] = rows.map((row) => ({
    opportunityId: row.id,
    opportunityName: row.name,
    accountName: row.account_name,
    amountCents: Number(row.amount_cents ?? 0),
    lostAt: new Date(row.closed_at).toISOString(),
    reason: row.reason,
  }));
  const reasons = new Map<string, { reason: string; deals: number; amountCents: number }>();
  for (const deal of deals) {
    const key = deal.reason ?? NO_REASON;
    const row = reasons.get(key) ?? { reason: key, deals: 0, amountCents: 0 };
    row.deals += 1;
    row.amountCents += deal.amountCents;
    reasons.set(key, row);
  }
  return {
    deals,
    reasons: [...reasons.values()].sort((a, b) => b.deals - a.deals || b.amountCents - a.amountCents || a.reason.localeCompare(b.reason)),
  };
}

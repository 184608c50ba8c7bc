/**
 * Marketing commitments and shared goals from the report's tables (docs/architecture.md §13):
 *
 * - MQLs delivered / SQLs accepted: contacts that reached the stage (or a later one, as the funnel
 *   report counts) for the first time in the period, from stage_history; pipeline created:
 *   Opportunities opened (`deals.opened_at`, the Opportunity's CreatedDate) in the period, at their
 *   amount in the corporate currency. A contact, and a deal through its contact, counts in the
 *   channel of its first touch (first-touch.ts; `Unassigned` without one).
 * - Goal actuals of a quarter: revenue, MQL→SQL and median hours to first touch from the funnel
 *   report; SQL→won (contacts reaching SQL in the quarter that became customers before its end),
 *   win rate (won ÷ closed deals in the quarter) and open pipeline (deals open at the quarter's end,
 *   or now while it runs) from stage_history and deals.
 * - `commitment_alerts`: the one alert per commitment and period (migration 014).
 */
import {
  commitmentKey,
  DEFAULT_MARKETING_COMMITMENTS,
  paceCommitment,
  parsePeriod,
  periodContaining,
  validateMarketingCommitments,
  type CommitmentMetric,
  type CommitmentPeriod,
  type MarketingCommitments,
  type Pacing,
} from '../domain/commitments.ts';
import {
  DEFAULT_SHARED_GOALS,
  goalTable,
  previousQuarter,
  validateSharedGoals,
  type GoalRow,
  type QuarterActuals,
  type SharedGoals,
} from '../domain/goals.ts';
import type { RevenuePolicy } from '../domain/revenue.ts';
import type { Queryable } from './db.ts';
import { FIRST_TOUCHES, UNASSIGNED_CHANNEL } from './first-touch.ts';
import { settingInEffect } from './installation-admin.ts';
import { funnelReport } from './report.ts';
import { wonDateExpression } from './revenue-report.ts';

/** The marketing commitments in effect for an installation (none when none is stored or it no longer validates). */
export async function marketingCommitmentsOf(db: Queryable, installationId: string): Promise<MarketingCommitments> {
  return settingInEffect(db, installationId, 'marketingCommitments', validateMarketingCommitments, DEFAULT_MARKETING_COMMITMENTS);
}

/** The shared goals in effect for an installation (none when none is stored or it no longer validates). */
export async function sharedGoalsOf(db: Queryable, installationId: string): Promise<SharedGoals> {
  return settingInEffect(db, installationId, 'sharedGoals', validateSharedGoals, DEFAULT_SHARED_GOALS);
}

/** What was delivered in a period, for one channel or all. */
export interface Delivered {
  mqls: number;
  sqls: number;
  pipelineCents: number;
}

/** Delivered figures per first-touch channel (keys lower-cased) and in total, over [from, until). */
export async function deliveredInPeriod(
  db: Queryable,
  installationId: string,
  from: Date,
  until: Date,
): Promise<{ total: Delivered; byChannel: Map<string, Delivered> }> {
  const stages = await db.query<{ channel: string; mqls: string | number; sqls: string | number }>(
    `WITH firsts AS (${FIRST_TOUCHES}),
     reached AS (
       SELECT hubspot_contact_id AS contact,
         min(occurred_at) FILTER (WHERE stage IN ('mql', 'sql', 'opportunity', 'customer')) AS mql_at,
         min(occurred_at) FILTER (WHERE stage IN ('sql', 'opportunity', 'customer')) AS sql_at
       FROM stage_history WHERE installation_id = $1 GROUP BY hubspot_contact_id
     )
     SELECT COALESCE(f.channel, '${UNASSIGNED_CHANNEL}') AS channel,
       count(*) FILTER (WHERE r.mql_at >= $2 AND r.mql_at < $3) AS mqls,
       count(*) FILTER (WHERE r.sql_at >= $2 AND r.sql_at < $3) AS sqls
     FROM reached r LEFT JOIN firsts f ON f.contact = r.contact
     GROUP BY 1`,
    [installationId, from, until],
  );
  const deals = await db.query<{ channel: string; cents: string | number | null }>(
    `WITH firsts AS (${FIRST_TOUCHES})
     SELECT COALESCE(f.channel, '${UNASSIGNED_CHANNEL}') AS channel, sum(d.amount_cents) AS cents
     FROM deals d LEFT JOIN firsts f ON f.contact = d.hubspot_contact_id
     WHERE d.installation_id = $1 AND d.opened_at >= $2 AND d.opened_at < $3
     GROUP BY 1`,
    [installationId, from, until],
  );
  const byChannel = new Map<string, Delivered>();
  const rowOf = (channel: string): Delivered => {
    const key = channel.toLowerCase();
    let row = byChannel.get(key);
    if (!row) {
      row = { mqls: 0, sqls: 0, pipelineCents: 0 };
      byChannel.set(key, row);
    }
    return row;
  };
  for (const row of stages) {
    const target = rowOf(row.channel);
    target.mqls += Number(row.mqls);
    target.sqls += Number(row.sqls);
  }
  for (const row of deals) rowOf(row.channel).pipelineCents += Number(row.cents ?? 0);
  const total = { mqls: 0, sqls: 0, pipelineCents: 0 };
  for (const row of byChannel.values()) {
    total.mqls += row.mqls;
    total.sqls += row.sqls;
    total.pipelineCents += row.pipelineCents;
  }
  return { total, byChannel };
}

/** A commitment with its pacing in one period. */
export interface CommitmentStatus extends Pacing {
  key: string;
  metric: CommitmentMetric;
  /** Null: all channels. */
  channel: string | null;
}

export interface CommitmentsReport {
  installationId: string;
  period: { id: string; kind: CommitmentPeriod['kind']; from: string; to: string };
  asOf: string;
  commitments: CommitmentStatus[];
}

function deliveredFor(metric: CommitmentMetric, delivered: Delivered): number {
  switch (metric) {
    case 'mqls_delivered':
      return delivered.mqls;
    case 'sqls_accepted':
      return delivered.sqls;
    case 'pipeline_created':
      return delivered.pipelineCents / 100;
    default: {
      const unreachable: never = metric;
      return unreachable;
    }
  }
}

/**
 * Every commitment paced in a period at `now`: the period given (a month or quarter id of the
 * commitments' kind), else the one containing `now`. Null when the period is of the other kind.
 */
export async function commitmentsReport(
  db: Queryable,
  input: { installationId: string; commitments: MarketingCommitments; now: Date; period?: CommitmentPeriod },
): Promise<CommitmentsReport | null> {
  const { installationId, commitments, now } = input;
  const period = input.period ?? periodContaining(commitments.period, now);
  if (period.kind !== commitments.period) return null;
  const until = new Date(Math.max(period.from.getTime(), Math.min(now.getTime(), period.to.getTime())));
  const delivered = await deliveredInPeriod(db, installationId, period.from, until);
  const none: Delivered = { mqls: 0, sqls: 0, pipelineCents: 0 };
  return {
    installationId,
    period: { id: period.id, kind: period.kind, from: period.from.toISOString(), to: period.to.toISOString() },
    asOf: now.toISOString(),
    commitments: commitments.commitments.map((commitment) => {
      const figures =
        commitment.channel === undefined ? delivered.total : (delivered.byChannel.get(commitment.channel.toLowerCase()) ?? none);
      return {
        key: commitmentKey(commitment),
        metric: commitment.metric,
        channel: commitment.channel ?? null,
        ...paceCommitment({ target: commitment.target, delivered: deliveredFor(commitment.metric, figures), period, now }),
      };
    }),
  };
}

/** A quarter's actuals for the goal table, as it stands at `now` (its end once over). */
export async function quarterActuals(
  db: Queryable,
  input: { installationId: string; quarter: string; now: Date; revenue: RevenuePolicy },
): Promise<QuarterActuals> {
  const period = parsePeriod(input.quarter);
  if (period === null || period.kind !== 'quarter') throw new Error(`not a quarter: ${input.quarter}`);
  const { installationId, now, revenue } = input;
  const to = new Date(Math.max(period.from.getTime(), Math.min(now.getTime(), period.to.getTime())));
  const funnel = await funnelReport(db, { installationId, from: period.from, to, now, revenue });
  const [sqlToWon] = await db.query<{ reached: string | number; won: string | number }>(
    `SELECT count(*) FILTER (WHERE sql_at >= $2 AND sql_at < $3) AS reached,
       count(*) FILTER (WHERE sql_at >= $2 AND sql_at < $3 AND customer_at < $3) AS won
     FROM (
       SELECT min(occurred_at) FILTER (WHERE stage IN ('sql', 'opportunity', 'customer')) AS sql_at,
         min(occurred_at) FILTER (WHERE stage = 'customer') AS customer_at
       FROM stage_history WHERE installation_id = $1 GROUP BY hubspot_contact_id) reached`,
    [installationId, period.from, to],
  );
  const wonDay = wonDateExpression(revenue.wonDate);
  const [closed] = await db.query<{ won: string | number; lost: string | number; open_cents: string | number | null }>(
    `SELECT count(*) FILTER (WHERE status = 'won' AND ${wonDay} >= $2 AND ${wonDay} < $3) AS won,
       count(*) FILTER (WHERE status = 'lost' AND closed_at >= $2 AND closed_at < $3) AS lost,
       sum(amount_cents) FILTER (WHERE opened_at < $3 AND (status = 'open' OR closed_at >= $3)) AS open_cents
     FROM deals WHERE installation_id = $1`,
    [installationId, period.from, to],
  );
  const reachedSql = Number(sqlToWon?.reached ?? 0);
  const won = Number(closed?.won ?? 0);
  const decided = won + Number(closed?.lost ?? 0);
  return {
    wonCents: funnel.totals.wonCents,
    openPipelineCents: Number(closed?.open_cents ?? 0),
    mqlToSql: funnel.totals.conversion.mqlToSql,
    sqlToWon: reachedSql === 0 ? null : Number(sqlToWon?.won ?? 0) / reachedSql,
    winRate: decided === 0 ? null : won / decided,
    medianHoursToFirstTouch: funnel.totals.sla.medianHoursToFirstTouch,
  };
}

export interface GoalsReport {
  installationId: string;
  quarter: string;
  previousQuarter: string;
  asOf: string;
  goals: GoalRow[];
}

/** The goal table of one quarter, against the previous quarter. */
export async function goalsReport(
  db: Queryable,
  input: { installationId: string; goals: SharedGoals; quarter: string; now: Date; revenue: RevenuePolicy },
): Promise<GoalsReport> {
  const before = previousQuarter(input.quarter);
  const current = await quarterActuals(db, input);
  const previous = await quarterActuals(db, { ...input, quarter: before });
  return {
    installationId: input.installationId,
    quarter: input.quarter,
    previousQuarter: before,
    asOf: input.now.toISOString(),
    goals: goalTable(input.goals, input.quarter, current, previous),
  };
}

/** A raised commitment alert, as the check delivers it. */
export interface CommitmentAlertRow {
  periodId: string;
  commitmentKey: string;
  status: 'at_risk' | 'behind';
  details: CommitmentStatus;
  raisedAt: Date;
}

/** Records that a commitment fell to at risk or behind in a period; the first record of a period stands. */
export async function raiseCommitmentAlert(
  db: Queryable,
  installationId: string,
  periodId: string,
  status: CommitmentStatus & { status: 'at_risk' | 'behind' },
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO commitment_alerts (installation_id, period_id, commitment_key, status, details, raised_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (installation_id, period_id, commitment_key) DO NOTHING`,
    [installationId, periodId, status.key, status.status, JSON.stringify(status), now],
  );
}

/**
 * Claims the period's raised alerts not yet delivered nor given up, for `leaseMs`: while the lease
 * runs no other check takes them, so one alert goes out however many workers check at once.
 */
export async function claimCommitmentAlerts(
  db: Queryable,
  installationId: string,
  periodId: string,
  now: Date,
  leaseMs: number,
): Promise<CommitmentAlertRow[]> {
  const rows = await db.query<{
    period_id: string;
    commitment_key: string;
    status: 'at_risk' | 'behind';
    details: CommitmentStatus | string;
    raised_at: Date | string;
  }>(
    `UPDATE commitment_alerts SET claimed_until = $4
     WHERE installation_id = $1 AND period_id = $2 AND delivered_at IS NULL AND failed_reason IS NULL AND (claimed_until IS NULL OR claimed_until < $3)
     RETURNING period_id, commitment_key, status, details, raised_at`,
    [installationId, periodId, now, new Date(now.getTime() + leaseMs)],
  );
  return rows.map((row) => ({
    periodId: row.period_id,
    commitmentKey: row.commitment_key,
    status: row.status,
    details: typeof row.details === 'string' ? (JSON.parse(row.details) as CommitmentStatus) : row.details,
    raisedAt: new Date(row.raised_at),
  }));
}

/** Ends a claimed alert: delivered, given up with a reason, or released for the next check. */
export async function settleCommitmentAlert(
  db: Queryable,
  installationId: string,
  row: Pick<CommitmentAlertRow, 'periodId' | 'commitmentKey'>,
  outcome: { kind: 'delivered'; at: Date } | { kind: 'failed'; reason: string } | { kind: 'released' },
): Promise<void> {
  const set =
    outcome.kind === 'delivered'
      ? 'delivered_at = $4, claimed_until = NULL'
      : outcome.kind === 'failed'
        ? 'failed_reason = $4, claimed_until = NULL'
        : 'claimed_until = NULL';
  const params: unknown[] = [installationId, row.periodId, row.commitmentKey];
  if (outcome.kind === 'delivered') params.push(outcome.at);
  if (outcome.kind === 'failed') params.push(outcome.reason);
  await db.query(`UPDATE commitment_alerts SET ${set} WHERE installation_id = $1 AND period_id = $2 AND commitment_key = $3`, params);
}

/** The alerts raised for an installation in a period (for the page and the tests). */
export async function commitmentAlertsOf(
  db: Queryable,
  installationId: string,
  periodId: string,
): Promise<{ commitmentKey: string; status: string; deliveredAt: Date | null; failedReason: string | null }[]> {
  const rows = await db.query<{ commitment_key: string; status: string; delivered_at: Date | string | null; failed_reason: string | null }>(
    'SELECT commitment_key, status, delivered_at, failed_reason FROM commitment_alerts WHERE installation_id = $1 AND period_id = $2 ORDER BY commitment_key',
    [installationId, periodId],
  );
  return rows.map((row) => ({
    commitmentKey: row.commitment_key,
    status: row.status,
    deliveredAt: row.delivered_at === null ? null : new Date(row.delivered_at),
    failedReason: row.failed_reason,
  }));
}

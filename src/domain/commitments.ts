/**
 * Marketing's side of the SLA (docs/architecture.md §13): per installation, what marketing commits
 * to deliver each month or quarter — MQLs delivered, SQLs accepted by sales, pipeline created —
 * optionally for one first-touch channel, and how the period is pacing.
 *
 * Pacing, for a period [from, to) judged at `now` (periods are calendar months and quarters in UTC):
 * - elapsed share = (now − from) ÷ (to − from), between 0 and 1;
 * - expected to date = target × elapsed share;
 * - forecast = delivered ÷ elapsed share (a straight line through what was delivered so far); once
 *   the period is over, the forecast is what was delivered;
 * - status, from forecast ÷ target: 100 % or more `on_track`, 85 % or more `at_risk`, below that
 *   `behind`; a target already reached is `on_track` whatever the date. Before 10 % of the period
 *   has passed (3 days of a month, 9 of a quarter) a straight line through so few days says little,
 *   so the status is `too_early` and no alert is raised.
 */
import { z } from 'zod';
import type { Result } from './result.ts';
import { uniqueRows, validatorOf } from './validation.ts';

/** What a commitment counts. */
export const COMMITMENT_METRICS = ['mqls_delivered', 'sqls_accepted', 'pipeline_created'] as const;
export type CommitmentMetric = (typeof COMMITMENT_METRICS)[number];

/** The period a commitment is made for. */
export const COMMITMENT_PERIODS = ['month', 'quarter'] as const;
export type CommitmentPeriodKind = (typeof COMMITMENT_PERIODS)[number];

/** The statuses of a commitment's pacing, from best to worst. */
export const PACING_STATUSES = ['too_early', 'on_track', 'at_risk', 'behind'] as const;
export type PacingStatus = (typeof PACING_STATUSES)[number];

/** Forecast ÷ target from which a commitment is on track. */
export const ON_TRACK_SHARE = 1;
/** Forecast ÷ target from which a commitment is at risk rather than behind. */
export const AT_RISK_SHARE = 0.85;
/** The share of the period that must have passed before a status is judged. */
export const JUDGED_FROM_SHARE = 0.1;

const CommitmentSchema = z
  .object({
    metric: z.enum(COMMITMENT_METRICS),
    /** Per period: a count of contacts, or for pipeline an amount in the corporate currency. */
    target: z.number().positive('must be more than 0').max(1e12, 'is too large').finite(),
    /** Only contacts (and their deals) whose first touch is in this channel; absent: all. */
    channel: z.string().trim().min(1, 'must not be blank').max(60, 'must be at most 60 characters').optional(),
  })
  .strict();

export const MarketingCommitmentsSchema = z
  .object({
    period: z.enum(COMMITMENT_PERIODS).default('month'),
    commitments: z
      .array(CommitmentSchema)
      .max(50, 'at most 50 commitments')
      .default([])
      .superRefine(
        uniqueRows(
          (row: z.output<typeof CommitmentSchema>) => commitmentKey(row),
          (row) => `${row.metric} ${row.channel === undefined ? 'for all channels' : `for ${row.channel}`}`,
          'metric',
        ),
      ),
  })
  .strict();

export type MarketingCommitments = z.output<typeof MarketingCommitmentsSchema>;

/** No commitments, monthly. */
export const DEFAULT_MARKETING_COMMITMENTS: MarketingCommitments = MarketingCommitmentsSchema.parse({});

/** Validates admin-supplied commitments, listing every problem. */
export const validateMarketingCommitments: (input: unknown) => Result<MarketingCommitments, string[]> =
  validatorOf(MarketingCommitmentsSchema);

/** A commitment's identity within a period: its metric and channel (lower-cased; '' for all channels). */
export function commitmentKey(commitment: { readonly metric: CommitmentMetric; readonly channel?: string | undefined }): string {
  return `${commitment.metric}|${(commitment.channel ?? '').toLowerCase()}`;
}

/** A calendar month or quarter in UTC: `2026-12` or `2026-Q4`, [from, to). */
export interface CommitmentPeriod {
  id: string;
  kind: CommitmentPeriodKind;
  from: Date;
  to: Date;
}

/** The month or quarter (UTC) containing `at`. */
export function periodContaining(kind: CommitmentPeriodKind, at: Date): CommitmentPeriod {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (kind === 'month')
    return {
      id: `${year}-${String(month + 1).padStart(2, '0')}`,
      kind,
      from: new Date(Date.UTC(year, month, 1)),
      to: new Date(Date.UTC(year, month + 1, 1)),
    };
  const quarter = Math.floor(month / 3);
  return {
    id: `${year}-Q${quarter + 1}`,
    kind,
    from: new Date(Date.UTC(year, quarter * 3, 1)),
    to: new Date(Date.UTC(year, quarter * 3 + 3, 1)),
  };
}

/** Reads `YYYY-MM` (a month) or `YYYY-Qn` (a quarter); null for anything else. */
export function parsePeriod(text: string): CommitmentPeriod | null {
  const monthMatch = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (monthMatch) return periodContaining('month', new Date(Date.UTC(Number(monthMatch[1]), Number(monthMatch[2]) - 1, 1)));
  const quarterMatch = /^(\d{4})-Q([1-4])$/.exec(text);
  if (quarterMatch) return periodContaining('quarter', new Date(Date.UTC(Number(quarterMatch[1]), (Number(quarterMatch[2]) - 1) * 3, 1)));
  return null;
}

/** The pacing of one commitment at one moment. */
export interface Pacing {
  target: number;
  delivered: number;
  /** Share of the period passed, 0 to 1. */
  elapsedShare: number;
  expectedToDate: number;
  forecast: number;
  /** forecast ÷ target. */
  forecastShare: number;
  status: PacingStatus;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Paces a delivered figure against its target for the period at `now` (rules in the module comment). */
export function paceCommitment(input: {
  target: number;
  delivered: number;
  period: Pick<CommitmentPeriod, 'from' | 'to'>;
  now: Date;
}): Pacing {
  const { target, delivered, period, now } = input;
  const length = period.to.getTime() - period.from.getTime();
  const elapsedShare = Math.min(1, Math.max(0, (now.getTime() - period.from.getTime()) / length));
  const forecast = elapsedShare === 0 ? delivered : delivered / elapsedShare;
  const forecastShare = forecast / target;
  let status: PacingStatus;
  if (delivered >= target) status = 'on_track';
  else if (elapsedShare < JUDGED_FROM_SHARE) status = 'too_early';
  else if (forecastShare >= ON_TRACK_SHARE) status = 'on_track';
  else status = forecastShare >= AT_RISK_SHARE ? 'at_risk' : 'behind';
  return {
    target,
    delivered,
    elapsedShare: round(elapsedShare, 4),
    expectedToDate: round(target * elapsedShare, 2),
    forecast: round(forecast, 2),
    forecastShare: round(forecastShare, 4),
    status,
  };
}

/** Whether a status calls for the alert. */
export function needsAlert(status: PacingStatus): boolean {
  return status === 'at_risk' || status === 'behind';
}

/** The report's period parameters (zod) and its CSV export, shared by the page and `/api/report`. */
import { z } from 'zod';
import { CREDIT_MODELS } from '../../domain/attribution-credit.ts';
import { funnelSteps } from '../../domain/stages.ts';
import { stageCount, type FunnelReport, type FunnelRow } from '../../store/report.ts';

const DAY_MS = 86_400_000;
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((value) => {
    const at = Date.parse(`${value}T00:00:00Z`);
    // Date.parse rolls 2024-02-30 over to March: only a date that comes back unchanged is real.
    return !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === value;
  }, 'is not a real date');

export const REPORT_TABLES = ['channels', 'campaigns', 'reasons', 'credit', 'sla', 'ltv', 'segments', 'roi'] as const;
export type ReportTable = (typeof REPORT_TABLES)[number];

/** Query of `/api/report` and `/admin/report`: inclusive dates (UTC), 90 days up to today by default. */
export const ReportQuerySchema = z
  .object({
    installation: z.string().min(1).max(100).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    format: z.enum(['json', 'csv']).default('json'),
    table: z.enum(REPORT_TABLES).default('channels'),
  })
  .strict();

export interface ReportPeriod {
  fromText: string;
  toText: string;
  from: Date;
  /** Exclusive: the day after `toText`. */
  to: Date;
}

/** Resolves the period (defaults applied) or says what is wrong with it. */
export function periodOf(
  input: { from?: string | undefined; to?: string | undefined },
  now: number,
): { ok: true; period: ReportPeriod } | { ok: false; issues: string[] } {
  const today = new Date(now).toISOString().slice(0, 10);
  const toText = input.to ?? today;
  const fromText = input.from ?? new Date(Date.parse(`${toText}T00:00:00Z`) - 89 * DAY_MS).toISOString().slice(0, 10);
  const from = new Date(`${fromText}T00:00:00Z`);
  const to = new Date(Date.parse(`${toText}T00:00:00Z`) + DAY_MS);
  const issues: string[] = [];
  if (from.getTime() >= to.getTime()) issues.push('from: must be on or before to');
  if (to.getTime() - from.getTime() > 3 * 366 * DAY_MS) issues.push('to: the period may span at most three years');
  return issues.length > 0 ? { ok: false, issues } : { ok: true, period: { fromText, toText, from, to } };
}

/** One CSV field: quoted when needed, and never read as a formula by a spreadsheet. */
function field(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvOf = (header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string =>
  [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';

const amount = (cents: number): number => Math.round(cents) / 100;
const optionalAmount = (cents: number | null): number | null => (cents === null ? null : amount(cents));

/** A funnel table: a column per funnel stage, then each step's conversion and median days, SLA, feedback and revenue. */
function funnelCsv(report: FunnelReport, rows: readonly FunnelRow[], dimension: string): string {
  const steps = funnelSteps({ funnel: report.funnel.map((column) => column.stage) });
  const stepsOnly = steps.filter((step) => !step.overall);
  const header = [
    dimension,
    ...report.funnel.map((column) => column.countKey),
    ...steps.map((step) => `conversion_${step.snakeKey}`),
    ...stepsOnly.map((step) => `median_days_${step.snakeKey}`),
    ...['sla_handoffs', 'sla_met', 'sla_breached', 'sla_pending', 'sla_compliance', 'sla_median_hours_to_first_touch'],
    ...['rejected', 'recycled', 'lost', 'pipeline', 'won', 'won_deals'],
  ];
  const line = (r: FunnelRow) => [
    r.key,
    ...report.funnel.map((column) => stageCount(r, column)),
    ...steps.map((step) => r.conversion[step.key] ?? null),
    ...stepsOnly.map((step) => r.medianDays[step.key] ?? null),
    r.sla.handedOff,
    r.sla.met,
    r.sla.breached,
    r.sla.pending,
    r.sla.complianceRate,
    r.sla.medianHoursToFirstTouch,
    r.feedback.rejected,
    r.feedback.recycled,
    r.feedback.lost,
    amount(r.pipelineCents),
    amount(r.wonCents),
    r.wonDeals,
  ];
  return csvOf(header, [...rows.map(line), line(report.totals)]);
}

/** Customer lifetime value per channel, campaign and segment. */
function ltvCsv(report: FunnelReport): string {
  return csvOf(
    ['dimension', 'key', 'customers', 'new_customers', 'lifetime_value', 'average_lifetime_value', 'currency'],
    (['channels', 'campaigns', 'segments'] as const).flatMap((dimension) =>
      report.lifetimeValue[dimension].map((r) => [
        dimension.slice(0, -1),
        r.key,
        r.customers,
        r.newCustomers,
        amount(r.lifetimeValueCents),
        optionalAmount(r.averageLifetimeValueCents),
        report.currency.code,
      ]),
    ),
  );
}

/** Won and lost deals per size band. */
function segmentsCsv(report: FunnelReport): string {
  return csvOf(
    ['segment', 'won', 'won_deals', 'lost_deals', 'win_rate', 'median_sales_cycle_days', 'customers', 'average_lifetime_value', 'currency'],
    report.segments.rows.map((r) => [
      r.key,
      amount(r.wonCents),
      r.wonDeals,
      r.lostDeals,
      r.winRate,
      r.medianSalesCycleDays,
      r.customers,
      optionalAmount(r.averageLifetimeValueCents),
      report.currency.code,
    ]),
  );
}

/** Cost and return per campaign and channel. */
function roiCsv(report: FunnelReport): string {
  return csvOf(
    [
      'dimension',
      'key',
      'cost',
      'cost_sources',
      'leads',
      'mqls',
      'customers',
      ...CREDIT_MODELS.map((m) => `credit_${m}`),
      'cost_per_lead',
      'cost_per_mql',
      'cac',
      ...CREDIT_MODELS.map((m) => `roi_${m}`),
      'average_lifetime_value',
      'ltv_to_cac',
      'currency',
    ],
    [...report.roi.campaigns.map((r) => ['campaign', r] as const), ...report.roi.channels.map((r) => ['channel', r] as const)].map(
      ([dimension, r]) => [
        dimension,
        r.key,
        amount(r.costCents),
        r.costSources.join(' '),
        r.leads,
        r.mqls,
        r.customers,
        ...CREDIT_MODELS.map((m) => amount(r.credit[m])),
        optionalAmount(r.costPerLeadCents),
        optionalAmount(r.costPerMqlCents),
        optionalAmount(r.cacCents),
        ...CREDIT_MODELS.map((m) => r.roi[m]),
        optionalAmount(r.averageLifetimeValueCents),
        r.ltvToCac,
        report.currency.code,
      ],
    ),
  );
}

/** SLA compliance per team and per owner. */
function slaCsv(report: FunnelReport): string {
  return csvOf(
    ['group_by', 'group', 'label', 'handoffs', 'met', 'breached', 'pending', 'compliance', 'median_minutes_to_first_touch'],
    [...report.slaByTeam.map((g) => ['team', g] as const), ...report.slaByOwner.map((g) => ['owner', g] as const)].map(([by, g]) => [
      by,
      g.group,
      g.label,
      g.handedOff,
      g.touchedWithinSla,
      g.breached,
      g.pending,
      g.complianceRate === null ? null : Math.round(g.complianceRate * 10_000) / 10_000,
      g.medianMinutesToFirstTouch,
    ]),
  );
}

/** One table of the report as CSV. */
export function reportCsv(report: FunnelReport, table: ReportTable): string {
  switch (table) {
    case 'channels':
      return funnelCsv(report, report.channels, 'channel');
    case 'campaigns':
      return funnelCsv(report, report.campaigns, 'campaign');
    case 'reasons':
      return csvOf(
        ['reason_code', 'reason_label', 'rejected', 'recycled', 'lost', 'total'],
        report.feedbackReasons.map((r) => [r.code, r.label, r.rejected, r.recycled, r.lost, r.total]),
      );
    case 'credit':
      return csvOf(
        ['campaign', ...CREDIT_MODELS],
        report.revenueCredit.map((r) => [r.campaign, ...CREDIT_MODELS.map((model) => amount(r.credit[model]))]),
      );
    case 'ltv':
      return ltvCsv(report);
    case 'segments':
      return segmentsCsv(report);
    case 'roi':
      return roiCsv(report);
    case 'sla':
      return slaCsv(report);
    default: {
      const unreachable: never = table;
      return unreachable;
    }
  }
}

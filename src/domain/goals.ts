/**
 * The shared goals (docs/architecture.md §13): one table both teams see, per quarter, with a target
 * and an owner per KPI. Units: revenue in the corporate currency; pipeline coverage as a multiple
 * (open pipeline ÷ what is left of the quarter's revenue goal); MQL→SQL, SQL→won and win rate in
 * percent; time to first touch in hours (the median; lower is better).
 *
 * Per KPI: the target, the actual, the status (`met` when the actual reaches the target — at or
 * below it for time to first touch —, `below` otherwise, `no_data` without an actual) and the trend
 * against the previous quarter (`better`, `worse`, `same`, or null when either quarter has no
 * figure). A quarter in progress is compared as it stands with the whole previous quarter.
 */
import { z } from 'zod';
import type { Result } from './result.ts';
import { uniqueRows, validatorOf } from './validation.ts';

/** The KPIs a goal may set, in the order the table shows them. */
export const GOAL_KPIS = ['revenue', 'pipeline_coverage', 'mql_to_sql', 'sql_to_won', 'win_rate', 'hours_to_first_touch'] as const;
export type GoalKpi = (typeof GOAL_KPIS)[number];

/** What a KPI is measured in. */
export const GOAL_UNITS: Readonly<Record<GoalKpi, 'amount' | 'multiple' | 'percent' | 'hours'>> = {
  revenue: 'amount',
  pipeline_coverage: 'multiple',
  mql_to_sql: 'percent',
  sql_to_won: 'percent',
  win_rate: 'percent',
  hours_to_first_touch: 'hours',
};

const quarter = z.string().regex(/^\d{4}-Q[1-4]$/, 'must be a quarter YYYY-Qn, e.g. 2026-Q4');

const GoalSchema = z
  .object({
    quarter,
    kpi: z.enum(GOAL_KPIS),
    target: z.number().min(0, 'must be 0 or more').max(1e12, 'is too large').finite(),
    /** Who answers for it: "Marketing", "Sales", a name. */
    owner: z.string().trim().min(1, 'must not be blank').max(80, 'must be at most 80 characters'),
  })
  .strict()
  .superRefine((goal, context) => {
    if (GOAL_UNITS[goal.kpi] === 'percent' && goal.target > 100)
      context.addIssue({ code: 'custom', message: 'is a percentage: at most 100', path: ['target'] });
  });

export const SharedGoalsSchema = z
  .object({
    goals: z
      .array(GoalSchema)
      .max(240, 'at most 240 goals')
      .default([])
      .superRefine(
        uniqueRows(
          (row) => `${row.quarter}|${row.kpi}`,
          (row) => `${row.kpi} of ${row.quarter}`,
          'kpi',
        ),
      ),
  })
  .strict();

export type SharedGoals = z.output<typeof SharedGoalsSchema>;

/** No goals. */
export const DEFAULT_SHARED_GOALS: SharedGoals = SharedGoalsSchema.parse({});

/** Validates admin-supplied goals, listing every problem. */
export const validateSharedGoals: (input: unknown) => Result<SharedGoals, string[]> = validatorOf(SharedGoalsSchema);

/** The quarter before `2026-Q1` is `2025-Q4`. */
export function previousQuarter(id: string): string {
  const [year = '0', number = '1'] = id.split('-Q');
  return Number(number) === 1 ? `${Number(year) - 1}-Q4` : `${year}-Q${Number(number) - 1}`;
}

/** What a quarter delivered, as the report's tables give it (ratios 0–1; null when nothing to divide). */
export interface QuarterActuals {
  wonCents: number;
  /** Open pipeline as the quarter stands (at its end once over). */
  openPipelineCents: number;
  mqlToSql: number | null;
  sqlToWon: number | null;
  winRate: number | null;
  medianHoursToFirstTouch: number | null;
}

export type GoalStatus = 'met' | 'below' | 'no_data';
export type GoalTrend = 'better' | 'worse' | 'same';

/** One row of the goal table. */
export interface GoalRow {
  kpi: GoalKpi;
  unit: (typeof GOAL_UNITS)[GoalKpi];
  owner: string;
  target: number;
  actual: number | null;
  previous: number | null;
  trend: GoalTrend | null;
  status: GoalStatus;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const percent = (ratio: number | null): number | null => (ratio === null ? null : round(ratio * 100, 2));

/** A KPI's actual in the goal's unit; coverage needs the quarter's revenue target (null without one, or when it is reached). */
export function kpiActual(kpi: GoalKpi, actuals: QuarterActuals, revenueTarget: number | null): number | null {
  switch (kpi) {
    case 'revenue':
      return actuals.wonCents / 100;
    case 'pipeline_coverage': {
      if (revenueTarget === null) return null;
      const remaining = revenueTarget - actuals.wonCents / 100;
      return remaining <= 0 ? null : round(actuals.openPipelineCents / 100 / remaining, 2);
    }
    case 'mql_to_sql':
      return percent(actuals.mqlToSql);
    case 'sql_to_won':
      return percent(actuals.sqlToWon);
    case 'win_rate':
      return percent(actuals.winRate);
    case 'hours_to_first_touch':
      return actuals.medianHoursToFirstTouch;
    default: {
      const unreachable: never = kpi;
      return unreachable;
    }
  }
}

/** The goal table of a quarter: one row per goal set for it, in GOAL_KPIS order (rules in the module comment). */
export function goalTable(goals: SharedGoals, quarterId: string, current: QuarterActuals, previous: QuarterActuals): GoalRow[] {
  const revenueTargetOf = (id: string): number | null =>
    goals.goals.find((goal) => goal.quarter === id && goal.kpi === 'revenue')?.target ?? null;
  const lowerIsBetter = (kpi: GoalKpi): boolean => kpi === 'hours_to_first_touch';
  return goals.goals
    .filter((goal) => goal.quarter === quarterId)
    .sort((a, b) => GOAL_KPIS.indexOf(a.kpi) - GOAL_KPIS.indexOf(b.kpi))
    .map((goal) => {
      const actual = kpiActual(goal.kpi, current, revenueTargetOf(quarterId));
      // Coverage of the previous quarter is measured against that quarter's own revenue goal.
      const before = kpiActual(goal.kpi, previous, revenueTargetOf(previousQuarter(quarterId)));
      const status: GoalStatus =
        actual === null ? 'no_data' : (lowerIsBetter(goal.kpi) ? actual <= goal.target : actual >= goal.target) ? 'met' : 'below';
      let trend: GoalTrend | null = null;
      if (actual !== null && before !== null)
        trend = actual === before ? 'same' : actual > before !== lowerIsBetter(goal.kpi) ? 'better' : 'worse';
      return { kpi: goal.kpi, unit: GOAL_UNITS[goal.kpi], owner: goal.owner, target: goal.target, actual, previous: before, trend, status };
    });
}

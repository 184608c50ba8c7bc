import { describe, expect, it } from 'vitest';
import { goalTable, previousQuarter, validateSharedGoals, type QuarterActuals, type SharedGoals } from '../../../src/domain/goals.ts';

const current: QuarterActuals = {
  wonCents: 30_000_000,
  openPipelineCents: 45_000_000,
  mqlToSql: 0.25,
  sqlToWon: 0.1,
  winRate: 0.4,
  medianHoursToFirstTouch: 3,
};
const previous: QuarterActuals = {
  wonCents: 40_000_000,
  openPipelineCents: 20_000_000,
  mqlToSql: 0.2,
  sqlToWon: 0.1,
  winRate: 0.5,
  medianHoursToFirstTouch: 5,
};

function goals(rows: SharedGoals['goals']): SharedGoals {
  return { goals: rows };
}

describe('shared goals', () => {
  it('names the quarter before, across a year', () => {
    expect(previousQuarter('2026-Q1')).toBe('2025-Q4');
    expect(previousQuarter('2026-Q4')).toBe('2026-Q3');
  });

  it('gives target, actual, owner, status and trend for each KPI of the quarter', () => {
    const table = goalTable(
      goals([
        { quarter: '2026-Q4', kpi: 'win_rate', target: 35, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'revenue', target: 500_000, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'pipeline_coverage', target: 3, owner: 'Marketing' },
        { quarter: '2026-Q4', kpi: 'mql_to_sql', target: 30, owner: 'Marketing' },
        { quarter: '2026-Q4', kpi: 'sql_to_won', target: 10, owner: 'Dana' },
        { quarter: '2026-Q4', kpi: 'hours_to_first_touch', target: 4, owner: 'Sales' },
        { quarter: '2026-Q3', kpi: 'revenue', target: 600_000, owner: 'Sales' },
        { quarter: '2027-Q1', kpi: 'revenue', target: 700_000, owner: 'Sales' },
      ]),
      '2026-Q4',
      current,
      previous,
    );
    // Coverage: 450,000 open ÷ (500,000 − 300,000 left) = 2.25; the quarter before: 200,000 ÷ (600,000 − 400,000) = 1.
    expect(table).toEqual([
      {
        kpi: 'revenue',
        unit: 'amount',
        owner: 'Sales',
        target: 500_000,
        actual: 300_000,
        previous: 400_000,
        trend: 'worse',
        status: 'below',
      },
      {
        kpi: 'pipeline_coverage',
        unit: 'multiple',
        owner: 'Marketing',
        target: 3,
        actual: 2.25,
        previous: 1,
        trend: 'better',
        status: 'below',
      },
      { kpi: 'mql_to_sql', unit: 'percent', owner: 'Marketing', target: 30, actual: 25, previous: 20, trend: 'better', status: 'below' },
      { kpi: 'sql_to_won', unit: 'percent', owner: 'Dana', target: 10, actual: 10, previous: 10, trend: 'same', status: 'met' },
      { kpi: 'win_rate', unit: 'percent', owner: 'Sales', target: 35, actual: 40, previous: 50, trend: 'worse', status: 'met' },
      // Lower is better: 3 h meets a 4 h target and is better than 5 h.
      { kpi: 'hours_to_first_touch', unit: 'hours', owner: 'Sales', target: 4, actual: 3, previous: 5, trend: 'better', status: 'met' },
    ]);
  });

  it('has no coverage without a revenue goal or once the goal is reached, and no status without data', () => {
    const none: QuarterActuals = {
      wonCents: 0,
      openPipelineCents: 0,
      mqlToSql: null,
      sqlToWon: null,
      winRate: null,
      medianHoursToFirstTouch: null,
    };
    const withoutRevenue = goalTable(
      goals([
        { quarter: '2026-Q4', kpi: 'pipeline_coverage', target: 3, owner: 'Marketing' },
        { quarter: '2026-Q4', kpi: 'win_rate', target: 30, owner: 'Sales' },
      ]),
      '2026-Q4',
      current,
      none,
    );
    expect(withoutRevenue.map((row) => [row.actual, row.status, row.trend])).toEqual([
      [null, 'no_data', null],
      [40, 'met', null],
    ]);
    const reached = goalTable(
      goals([
        { quarter: '2026-Q4', kpi: 'revenue', target: 250_000, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'pipeline_coverage', target: 3, owner: 'Marketing' },
      ]),
      '2026-Q4',
      current,
      previous,
    );
    expect(reached[1]).toMatchObject({ actual: null, status: 'no_data' });
  });

  it('refuses a bad quarter, a percentage over 100, a blank owner and a KPI set twice in a quarter', () => {
    const result = validateSharedGoals({
      goals: [
        { quarter: '2026-4', kpi: 'revenue', target: 1, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'win_rate', target: 120, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'mql_to_sql', target: 20, owner: ' ' },
        { quarter: '2026-Q4', kpi: 'mql_to_sql', target: 25, owner: 'Marketing' },
      ],
    });
    expect(result).toEqual({
      ok: false,
      error: [
        'goals[0].quarter: must be a quarter YYYY-Qn, e.g. 2026-Q4',
        'goals[1].target: is a percentage: at most 100',
        'goals[2].owner: must not be blank',
        'goals[3].kpi: mql_to_sql of 2026-Q4 is listed twice',
      ],
    });
  });
});

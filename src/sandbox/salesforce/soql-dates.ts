/**
 * SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER, …) as half-open UTC ranges. The sandbox
 * org runs on GMT with a January fiscal year start, so fiscal literals equal calendar ones.
 */
import { addDays, addMonths, startOfDay, startOfMonth, startOfQuarter, startOfWeek, startOfYear } from './sf-time.ts';

export interface DateRange {
  start: number;
  end: number;
}

type Unit = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

function unitStart(now: number, unit: Unit): number {
  switch (unit) {
    case 'DAY':
      return startOfDay(now);
    case 'WEEK':
      return startOfWeek(now);
    case 'MONTH':
      return startOfMonth(now);
    case 'QUARTER':
      return startOfQuarter(now);
    case 'YEAR':
      return startOfYear(now);
    default: {
      const unreachable: never = unit;
      return unreachable;
    }
  }
}

function shift(start: number, unit: Unit, k: number): number {
  switch (unit) {
    case 'DAY':
      return addDays(start, k);
    case 'WEEK':
      return addDays(start, 7 * k);
    case 'MONTH':
      return addMonths(start, k);
    case 'QUARTER':
      return addMonths(start, 3 * k);
    case 'YEAR':
      return addMonths(start, 12 * k);
    default: {
      const unreachable: never = unit;
      return unreachable;
    }
  }
}

function span(now: number, unit: Unit, from: number, to: number): DateRange {
  const s = unitStart(now, unit);
  return { start: shift(s, unit, from), end: shift(s, unit, to) };
}

const UNIT_WORDS: Record<string, Unit> = {
  DAY: 'DAY',
  DAYS: 'DAY',
  WEEK: 'WEEK',
  WEEKS: 'WEEK',
  MONTH: 'MONTH',
  MONTHS: 'MONTH',
  QUARTER: 'QUARTER',
  QUARTERS: 'QUARTER',
  YEAR: 'YEAR',
  YEARS: 'YEAR',
};

/** Range for a literal such as `TODAY`, `LAST_N_DAYS` (with n), `THIS_FISCAL_YEAR`; null if unknown. */
export function dateLiteralRange(literal: string, n: number | undefined, now: number): DateRange | null {
  const name = literal.toUpperCase().replace('_FISCAL', '').split(':')[0] ?? '';
  const simple: Record<string, [Unit, number, number]> = {
    YESTERDAY: ['DAY', -1, 0],
    TODAY: ['DAY', 0, 1],
    TOMORROW: ['DAY', 1, 2],
    LAST_90_DAYS: ['DAY', -90, 1],
    NEXT_90_DAYS: ['DAY', 1, 91],
  };
  const fixed = simple[name];
  if (fixed) return span(now, fixed[0], fixed[1], fixed[2]);
  let m = /^(THIS|LAST|NEXT)_(WEEK|MONTH|QUARTER|YEAR)$/.exec(name);
  if (m) {
    const unit = UNIT_WORDS[m[2] ?? ''] as Unit;
    const offset = m[1] === 'THIS' ? 0 : m[1] === 'LAST' ? -1 : 1;
    return span(now, unit, offset, offset + 1);
  }
  if (n === undefined || !Number.isInteger(n) || n < 0) return null;
  m = /^(LAST|NEXT)_N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)$/.exec(name);
  if (m) {
    const unit = UNIT_WORDS[m[2] ?? ''] as Unit;
    // LAST_N_DAYS counts today as well; the longer units stop at the start of the current one.
    if (m[1] === 'LAST') return unit === 'DAY' ? span(now, unit, -n, 1) : span(now, unit, -n, 0);
    return span(now, unit, 1, 1 + n);
  }
  m = /^N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)_AGO$/.exec(name);
  if (m) {
    const unit = UNIT_WORDS[m[1] ?? ''] as Unit;
    return span(now, unit, -n, -n + 1);
  }
  return null;
}

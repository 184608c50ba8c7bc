import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REVENUE_POLICY,
  costReturns,
  dealStatusOf,
  lifetimeValues,
  segmentOf,
  settledAt,
  toCorporateCents,
  validateRevenuePolicy,
} from '../../../src/domain/revenue.ts';

const now = new Date('2026-12-03T15:00:00Z');

describe('deal state and the day a deal counts on', () => {
  it('reads won, lost and open (reopened) from IsWon and IsClosed', () => {
    expect(dealStatusOf({ IsWon: true, IsClosed: true })).toBe('won');
    expect(dealStatusOf({ IsWon: false, IsClosed: true })).toBe('lost');
    expect(dealStatusOf({ IsWon: false, IsClosed: false })).toBe('open');
  });

  it('keeps the first won time while the deal stays won, and takes now when it was seen open before', () => {
    const first = new Date('2026-11-01T10:00:00Z');
    expect(settledAt({ settled: true, previous: { settled: true, at: first }, closeDate: '2026-12-31', now })).toEqual(first);
    expect(settledAt({ settled: true, previous: { settled: false, at: null }, closeDate: '2027-03-31', now })).toEqual(now);
  });

  it('dates a deal first seen already won at the end of its close date, never in the future', () => {
    expect(settledAt({ settled: true, previous: null, closeDate: '2026-10-15', now })).toEqual(new Date('2026-10-15T23:59:59.999Z'));
    expect(settledAt({ settled: true, previous: null, closeDate: '2027-01-15', now })).toEqual(now);
    expect(settledAt({ settled: true, previous: null, closeDate: null, now })).toEqual(now);
  });

  it('leaves a reopened deal with no won time', () => {
    expect(
      settledAt({ settled: false, previous: { settled: true, at: new Date('2026-11-01T10:00:00Z') }, closeDate: '2026-11-01', now }),
    ).toBeNull();
  });
});

describe('currency', () => {
  const rates = {
    corporate: 'USD',
    multiCurrency: true,
    rates: new Map([
      ['USD', 1],
      ['EUR', 0.8],
      ['JPY', 150],
    ]),
  };

  it('converts to the corporate currency by dividing by the rate', () => {
    expect(toCorporateCents(400, 'EUR', rates)).toBe(50_000);
    expect(toCorporateCents(1_500_000, 'JPY', rates)).toBe(1_000_000);
    expect(toCorporateCents(1_234.56, 'USD', rates)).toBe(123_456);
  });

  it('leaves a single-currency org unchanged and refuses a currency without a rate', () => {
    expect(toCorporateCents(400, null, { corporate: 'EUR', multiCurrency: false, rates: new Map() })).toBe(40_000);
    expect(toCorporateCents(400, 'CHF', rates)).toBeNull();
  });
});

describe('lifetime value', () => {
  it('adds every won deal of an account, first won date and count', () => {
    const values = lifetimeValues([
      { accountId: 'a', amountCents: 3_000_000, wonAt: new Date('2026-02-01T00:00:00Z') },
      { accountId: 'b', amountCents: 500_000, wonAt: new Date('2026-03-01T00:00:00Z') },
      { accountId: 'a', amountCents: 1_200_000, wonAt: new Date('2026-01-01T00:00:00Z') },
    ]);
    expect(values.get('a')).toEqual({ valueCents: 4_200_000, firstWonAt: new Date('2026-01-01T00:00:00Z'), dealsWon: 2 });
    expect(values.get('b')?.dealsWon).toBe(1);
  });
});

describe('segments', () => {
  const bands = DEFAULT_REVENUE_POLICY.segments;

  it('puts a customer in the last band whose lower bound it reaches', () => {
    expect(segmentOf(bands, { employees: 24, annualRevenue: null })).toBe('Small business');
    expect(segmentOf(bands, { employees: 100, annualRevenue: null })).toBe('Mid-market');
    expect(segmentOf(bands, { employees: 12_500, annualRevenue: null })).toBe('Enterprise');
    expect(segmentOf(bands, { employees: null, annualRevenue: 5e6 })).toBe('Unknown size');
    expect(
      segmentOf(
        {
          ...bands,
          measure: 'annual_revenue',
          bands: [
            { label: 'Under 1M', min: 0 },
            { label: '1M+', min: 1e6 },
          ],
        },
        { employees: 3, annualRevenue: 5e6 },
      ),
    ).toBe('1M+');
  });

  it('refuses bands that do not start at 0, are out of order or share a label', () => {
    const result = validateRevenuePolicy({
      segments: {
        bands: [
          { label: 'A', min: 10 },
          { label: 'B', min: 5 },
          { label: 'a', min: 50 },
        ],
      },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.join('\n')).toContain('the first band must start at 0');
    expect(result.error.join('\n')).toContain('ascending order');
    expect(result.error.join('\n')).toContain('used twice');
  });

  it('refuses a channel cost entered twice for one month', () => {
    const result = validateRevenuePolicy({
      channelCosts: [
        { channel: 'Paid Social', month: '2026-11', amount: 100 },
        { channel: 'paid social', month: '2026-11', amount: 50 },
      ],
    });
    expect(result.ok).toBe(false);
  });
});

describe('cost ratios', () => {
  it('gives cost per lead and MQL, CAC, ROI and LTV:CAC, and no ratio where a divisor is zero', () => {
    expect(
      costReturns({ costCents: 800_000, leads: 4, mqls: 2, customers: 1, creditedCents: 2_000_000, averageLifetimeValueCents: 3_000_000 }),
    ).toEqual({
      costPerLeadCents: 200_000,
      costPerMqlCents: 400_000,
      cacCents: 800_000,
      roi: 1.5,
      ltvToCac: 3.75,
    });
    expect(costReturns({ costCents: 0, leads: 4, mqls: 2, customers: 0, creditedCents: 100, averageLifetimeValueCents: null })).toEqual({
      costPerLeadCents: null,
      costPerMqlCents: null,
      cacCents: null,
      roi: null,
      ltvToCac: null,
    });
  });
});

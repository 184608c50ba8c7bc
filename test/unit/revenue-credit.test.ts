import { describe, expect, it } from 'vitest';
import {
  CREDIT_MODELS,
  creditWonDeals,
  UNATTRIBUTED_CAMPAIGN,
  type CreditedDeal,
  type CreditModel,
  type CreditRow,
} from '../../src/domain/attribution-credit.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T09:00:00.000Z');

function deal(amountCents: number, wonAfterDays: number, campaigns: readonly string[]): CreditedDeal {
  return {
    amountCents,
    wonAt: T0 + wonAfterDays * DAY,
    touchpoints: campaigns.map((campaign, index) => ({ campaign, at: T0 + index * DAY })),
  };
}

/** One model's column: the campaigns it credits, largest first. */
function column(rows: readonly CreditRow[], model: CreditModel): { campaign: string; amountCents: number }[] {
  return rows
    .map((row) => ({ campaign: row.campaign, amountCents: row.credit[model] }))
    .filter((row) => row.amountCents !== 0)
    .sort((a, b) => b.amountCents - a.amountCents || a.campaign.localeCompare(b.campaign));
}

function total(rows: readonly CreditRow[], model: CreditModel): number {
  return rows.reduce((sum, row) => sum + row.credit[model], 0);
}

describe('creditWonDeals', () => {
  it('gives the whole deal to the first and to the last campaign under the single-touch models', () => {
    const rows = creditWonDeals([deal(100_000, 10, ['spring-launch', 'may-newsletter', 'q3-retarget'])]);
    expect(column(rows, 'first_touch')).toEqual([{ campaign: 'spring-launch', amountCents: 100_000 }]);
    expect(column(rows, 'last_touch')).toEqual([{ campaign: 'q3-retarget', amountCents: 100_000 }]);
  });

  it('splits 40/20/40 under position-based and evenly under linear', () => {
    const rows = creditWonDeals([deal(100_000, 10, ['a', 'b', 'c'])]);
    expect(column(rows, 'position_based')).toEqual([
      { campaign: 'a', amountCents: 40_000 },
      { campaign: 'c', amountCents: 40_000 },
      { campaign: 'b', amountCents: 20_000 },
    ]);
    expect(column(rows, 'linear')).toEqual([
      { campaign: 'a', amountCents: 33_334 },
      { campaign: 'b', amountCents: 33_333 },
      { campaign: 'c', amountCents: 33_333 },
    ]);
  });

  it('adds the credit of several deals up per campaign, rows ordered by linear credit', () => {
    const rows = creditWonDeals([deal(50_000, 5, ['spring-launch', 'webinar']), deal(30_000, 5, ['spring-launch'])]);
    expect(rows.map((row) => row.campaign)).toEqual(['spring-launch', 'webinar']);
    expect(column(rows, 'first_touch')).toEqual([{ campaign: 'spring-launch', amountCents: 80_000 }]);
    expect(column(rows, 'last_touch')).toEqual([
      { campaign: 'webinar', amountCents: 50_000 },
      { campaign: 'spring-launch', amountCents: 30_000 },
    ]);
  });

  it('credits no touch that came after the win', () => {
    const rows = creditWonDeals([deal(10_000, 1.5, ['before', 'also-before', 'after-the-win'])]);
    expect(column(rows, 'last_touch')).toEqual([{ campaign: 'also-before', amountCents: 10_000 }]);
    expect(rows.map((row) => row.campaign)).not.toContain('after-the-win');
  });

  it('credits (unattributed) when a deal has no touch, or its touches have no campaign', () => {
    const rows = creditWonDeals([deal(7_00, 1, []), deal(3_00, 1, [''])]);
    for (const model of CREDIT_MODELS) expect(column(rows, model)).toEqual([{ campaign: UNATTRIBUTED_CAMPAIGN, amountCents: 1_000 }]);
  });

  it('names the uncredited share as asked, for credit per channel', () => {
    const rows = creditWonDeals([deal(5_00, 1, [])], 'Unassigned');
    expect(rows).toEqual([{ campaign: 'Unassigned', credit: { first_touch: 500, last_touch: 500, linear: 500, position_based: 500 } }]);
  });

  it('keeps every model equal to the won revenue to the cent, whatever the split', () => {
    const deals = Array.from({ length: 40 }, (_, i) =>
      deal(
        1_000_003 + i * 7_919,
        30,
        Array.from({ length: 1 + (i % 7) }, (_, j) => `campaign-${(i + j) % 5}`),
      ),
    );
    const rows = creditWonDeals(deals);
    const won = deals.reduce((sum, d) => sum + d.amountCents, 0);
    for (const model of CREDIT_MODELS) {
      expect(total(rows, model)).toBe(won);
      for (const row of rows) expect(Number.isInteger(row.credit[model])).toBe(true);
    }
  });

  it('credits nothing for no deals', () => {
    expect(creditWonDeals([])).toEqual([]);
  });
});

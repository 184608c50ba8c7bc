import { describe, expect, it } from 'vitest';
import { CREDIT_MODELS, UNATTRIBUTED_CAMPAIGN } from '../../src/domain/attribution.ts';
import { creditCampaigns, type CreditedDeal } from '../../src/sync/revenue-credit.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T09:00:00.000Z');

function deal(amountCents: number, wonAfterDays: number, campaigns: readonly string[]): CreditedDeal {
  return {
    amountCents,
    wonAt: T0 + wonAfterDays * DAY,
    touchpoints: campaigns.map((campaign, index) => ({ campaign, at: T0 + index * DAY })),
  };
}

function total(credits: readonly { amountCents: number }[]): number {
  return credits.reduce((sum, credit) => sum + credit.amountCents, 0);
}

describe('creditCampaigns', () => {
  it('gives the whole deal to the first and to the last campaign under the single-touch models', () => {
    const report = creditCampaigns([deal(100_000, 10, ['spring-launch', 'may-newsletter', 'q3-retarget'])]);
    expect(report.models.first_touch).toEqual([{ campaign: 'spring-launch', amountCents: 100_000 }]);
    expect(report.models.last_touch).toEqual([{ campaign: 'q3-retarget', amountCents: 100_000 }]);
  });

  it('splits 40/20/40 under position-based and evenly under linear', () => {
    const report = creditCampaigns([deal(100_000, 10, ['a', 'b', 'c'])]);
    expect(report.models.position_based).toEqual([
      { campaign: 'a', amountCents: 40_000 },
      { campaign: 'c', amountCents: 40_000 },
      { campaign: 'b', amountCents: 20_000 },
    ]);
    expect(report.models.linear).toEqual([
      { campaign: 'a', amountCents: 33_334 },
      { campaign: 'b', amountCents: 33_333 },
      { campaign: 'c', amountCents: 33_333 },
    ]);
  });

  it('adds the credit of several deals up per campaign', () => {
    const report = creditCampaigns([deal(50_000, 5, ['spring-launch', 'webinar']), deal(30_000, 5, ['spring-launch'])]);
    expect(report.wonCents).toBe(80_000);
    expect(report.deals).toBe(2);
    expect(report.models.first_touch).toEqual([{ campaign: 'spring-launch', amountCents: 80_000 }]);
    expect(report.models.last_touch).toEqual([
      { campaign: 'webinar', amountCents: 50_000 },
      { campaign: 'spring-launch', amountCents: 30_000 },
    ]);
  });

  it('credits no touch that came after the win', () => {
    const report = creditCampaigns([deal(10_000, 1.5, ['before', 'also-before', 'after-the-win'])]);
    expect(report.models.last_touch).toEqual([{ campaign: 'also-before', amountCents: 10_000 }]);
  });

  it('credits (unattributed) when a deal has no touch, or its touches have no campaign', () => {
    const report = creditCampaigns([deal(7_00, 1, []), deal(3_00, 1, [''])]);
    for (const model of CREDIT_MODELS) expect(report.models[model]).toEqual([{ campaign: UNATTRIBUTED_CAMPAIGN, amountCents: 1_000 }]);
  });

  it('keeps every model equal to the won revenue to the cent, whatever the split', () => {
    const deals = Array.from({ length: 40 }, (_, i) =>
      deal(
        1_000_003 + i * 7_919,
        30,
        Array.from({ length: 1 + (i % 7) }, (_, j) => `campaign-${(i + j) % 5}`),
      ),
    );
    const report = creditCampaigns(deals);
    const won = deals.reduce((sum, d) => sum + d.amountCents, 0);
    expect(report.wonCents).toBe(won);
    for (const model of CREDIT_MODELS) {
      expect(total(report.models[model])).toBe(won);
      for (const credit of report.models[model]) expect(Number.isInteger(credit.amountCents)).toBe(true);
    }
  });

  it('reports nothing won for no deals', () => {
    const report = creditCampaigns([]);
    expect(report.wonCents).toBe(0);
    for (const model of CREDIT_MODELS) expect(report.models[model]).toEqual([]);
  });
});

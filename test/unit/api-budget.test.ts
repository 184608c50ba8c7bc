import { describe, expect, it } from 'vitest';
import { alertThreshold, ApiBudgetSchema, budgetLimit } from '../../src/domain/api-budget.ts';

describe('Salesforce API budget', () => {
  it('caps a number of calls as given, whatever the allowance', () => {
    expect(budgetLimit({ calls: 5000 }, null)).toBe(5000);
    expect(budgetLimit({ calls: 5000 }, 15_000)).toBe(5000);
  });

  it("takes a percentage of the org's daily allowance, rounded down", () => {
    expect(budgetLimit({ percent: 20 }, 15_000)).toBe(3000);
    expect(budgetLimit({ percent: 33.3 }, 1000)).toBe(333);
  });

  it('has no cap for a percentage before the allowance is known, nor without a budget', () => {
    expect(budgetLimit({ percent: 20 }, null)).toBeNull();
    expect(budgetLimit(null, 15_000)).toBeNull();
  });

  it('alerts at 80 %, rounded up', () => {
    expect(alertThreshold(3000)).toBe(2400);
    expect(alertThreshold(7)).toBe(6);
  });

  it('refuses 0 %, more than 100 %, a fraction of a call and both kinds at once', () => {
    for (const input of [{ percent: 0 }, { percent: 101 }, { calls: 2.5 }, { calls: 0 }, { calls: 10, percent: 10 }])
      expect(ApiBudgetSchema.safeParse(input).success).toBe(false);
  });
});

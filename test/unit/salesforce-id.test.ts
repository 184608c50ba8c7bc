import { describe, expect, it } from 'vitest';
import { salesforceId15, sameSalesforceId } from '../../src/domain/salesforce-id.ts';

describe('Salesforce ids', () => {
  it('names the same record in its 15- and 18-character forms', () => {
    expect(sameSalesforceId('005000000000001', '005000000000001AAA')).toBe(true);
    expect(salesforceId15('005000000000001AAA')).toBe('005000000000001');
  });

  it('tells records apart that differ only in case (15-character ids are case-sensitive)', () => {
    expect(sameSalesforceId('005000000000abc', '005000000000ABC')).toBe(false);
  });

  it('matches nothing when either id is absent', () => {
    expect(sameSalesforceId(null, '005000000000001')).toBe(false);
    expect(sameSalesforceId('005000000000001', undefined)).toBe(false);
  });
});

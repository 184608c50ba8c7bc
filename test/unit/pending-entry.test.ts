import { describe, expect, it } from 'vitest';
import { pendingEntryOf } from '../../src/sync/context.ts';

describe('pendingEntryOf', () => {
  it('sends a HubSpot contact, by id or by reference, to Salesforce', () => {
    expect(pendingEntryOf('101')).toEqual({ direction: 'to-salesforce', key: '101' });
    expect(pendingEntryOf(' hubspot:contact:101 ')).toEqual({ direction: 'to-salesforce', key: '101' });
  });

  it('sends a Lead or an Opportunity, 15 or 18 characters, to HubSpot under its pending key', () => {
    expect(pendingEntryOf('00Q000000000001AAA')).toEqual({ direction: 'to-hubspot', key: 'Lead:00Q000000000001AAA' });
    expect(pendingEntryOf('salesforce:Opportunity:006000000000001')).toEqual({
      direction: 'to-hubspot',
      key: 'Opportunity:006000000000001',
    });
  });

  it('refuses a Contact, an email and a reference whose type does not match its id', () => {
    expect(pendingEntryOf('003000000000001AAA')).toBeNull();
    expect(pendingEntryOf('ada@example.com')).toBeNull();
    expect(pendingEntryOf('salesforce:Lead:006000000000001AAA')).toBeNull();
  });
});

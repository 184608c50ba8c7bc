import { describe, expect, it } from 'vitest';
import {
  hubspotCanonical,
  hubspotKindOf,
  kindsMatch,
  salesforceCanonical,
  salesforceKindOf,
  salesforceValueOf,
  type TypedMapping,
} from '../../../src/domain/field-values.ts';
import { resolveFieldValue } from '../../../src/domain/stages.ts';

const typed = (
  hubspotKind: TypedMapping['hubspotKind'],
  salesforceKind: TypedMapping['salesforceKind'],
  extra: Partial<TypedMapping> = {},
): TypedMapping => ({
  hubspotProperty: 'p',
  salesforceField: 'F__c',
  rule: 'two_way',
  hubspotKind,
  salesforceKind,
  contactField: null,
  contactKind: salesforceKind,
  ...extra,
});

describe('field kinds', () => {
  it('reads a HubSpot checkbox enumeration as a multi-select and a booleancheckbox as a checkbox', () => {
    expect(hubspotKindOf('enumeration', 'checkbox')).toBe('multipicklist');
    expect(hubspotKindOf('enumeration', 'booleancheckbox')).toBe('boolean');
    expect(hubspotKindOf('bool', 'booleancheckbox')).toBe('boolean');
    expect(hubspotKindOf('enumeration', 'select')).toBe('picklist');
    expect(hubspotKindOf('string', 'file')).toBeNull();
  });

  it('reads Salesforce currency, percent and int as numbers, and leaves references unmappable', () => {
    expect(['currency', 'percent', 'int', 'double'].map(salesforceKindOf)).toEqual(['number', 'number', 'number', 'number']);
    expect(salesforceKindOf('reference')).toBeNull();
    expect(salesforceKindOf('email')).toBe('text');
  });

  it('pairs text with a picklist but never a number with a checkbox', () => {
    expect(kindsMatch('text', 'picklist')).toBe(true);
    expect(kindsMatch('number', 'boolean')).toBe(false);
    expect(kindsMatch('picklist', 'multipicklist')).toBe(false);
  });
});

describe('values across the two sides', () => {
  it('compares a HubSpot number with a Salesforce number without writing an equal value', () => {
    const mapping = typed('number', 'number');
    const hubspot = hubspotCanonical(mapping, '120.50');
    const salesforce = salesforceCanonical(mapping, 120.5);
    expect(hubspot).toBe(salesforce);
    expect(resolveFieldValue('two_way', { value: hubspot, at: 2 }, { value: salesforce, at: 1 }, 'hubspot_to_salesforce').write).toBe(
      false,
    );
  });

  it('writes a HubSpot number to Salesforce as a number and a checkbox as a boolean', () => {
    expect(salesforceValueOf(typed('number', 'number'), '140')).toBe(140);
    expect(salesforceValueOf(typed('boolean', 'boolean'), 'true')).toBe(true);
    expect(salesforceValueOf(typed('boolean', 'boolean'), null)).toBe(false);
  });

  it("reads Salesforce's datetime offset without a colon as the same instant HubSpot shows", () => {
    const mapping = typed('datetime', 'datetime');
    expect(salesforceCanonical(mapping, '2026-12-04T09:30:00.000+0000')).toBe(hubspotCanonical(mapping, '2026-12-04T09:30:00Z'));
  });

  it("reads HubSpot's midnight-UTC milliseconds as the date Salesforce holds", () => {
    const mapping = typed('date', 'date');
    expect(hubspotCanonical(mapping, String(Date.UTC(2026, 11, 4)))).toBe('2026-12-04');
    expect(salesforceCanonical(mapping, '2026-12-04')).toBe('2026-12-04');
  });

  it('translates picklist values through the value map both ways, and passes an unmapped value as it is', () => {
    const mapping = typed('picklist', 'picklist', { valueMap: [{ hubspot: 'hot', salesforce: 'Tier 1 - Hot' }] });
    expect(salesforceCanonical(mapping, 'Tier 1 - Hot')).toBe('hot');
    expect(salesforceValueOf(mapping, 'hot')).toBe('Tier 1 - Hot');
    expect(salesforceValueOf(mapping, 'frozen')).toBe('frozen');
  });

  it('compares multi-select values as sets, each translated', () => {
    const mapping = typed('multipicklist', 'multipicklist', {
      valueMap: [
        { hubspot: 'sync', salesforce: 'Sync' },
        { hubspot: 'review', salesforce: 'Review' },
      ],
    });
    expect(hubspotCanonical(mapping, 'sync;review')).toBe(salesforceCanonical(mapping, 'Review;Sync'));
    expect(salesforceValueOf(mapping, 'review;sync')).toBe('Review;Sync');
  });

  it('treats a blank on either side as no value', () => {
    const mapping = typed('text', 'text');
    expect(hubspotCanonical(mapping, '  ')).toBeNull();
    expect(salesforceCanonical(mapping, '')).toBeNull();
    expect(salesforceCanonical(mapping, null)).toBeNull();
  });
});

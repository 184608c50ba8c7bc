import { describe, expect, it } from 'vitest';
import type { HubSpotContact, SalesforceRecord } from '../../src/crm/ports.ts';
import { mappingsOn, type TypedMapping } from '../../src/domain/field-values.ts';
import { contactValuesFor, leadValuesFor } from '../../src/sync/mapped-fields.ts';

const tier: TypedMapping = {
  hubspotProperty: 'lead_tier',
  salesforceField: 'Lead_Tier__c',
  salesforceContactField: 'Contact_Tier__c',
  rule: 'two_way',
  hubspotKind: 'text',
  salesforceKind: 'text',
  contactField: 'Contact_Tier__c',
  contactKind: 'text',
};
const at = (iso: string) => Date.parse(iso);
// The marketer set "cold" at 10:05; a rep edited another field of the record at 10:10.
const contact: HubSpotContact = { id: '1', properties: { lead_tier: 'cold' }, updatedAt: '2026-12-05T10:05:00.000Z', archived: false };
const lead: SalesforceRecord = { Id: '00Q000000000001AAA', Lead_Tier__c: 'warm', SystemModstamp: '2026-12-05T10:10:00.000+0000' };

describe("a two_way field's Salesforce side", () => {
  it("is the record's modification time when the org keeps no history of the field: the Lead's older value wins", () => {
    expect(leadValuesFor([tier], contact, lead)).toEqual({});
    expect(contactValuesFor([tier], lead, contact)).toEqual({ lead_tier: 'warm' });
  });

  it("is the field's own history time where the org tracks it: the marketer's newer value wins", () => {
    const history = { Lead_Tier__c: at('2026-12-05T10:01:00.000Z') };
    expect(leadValuesFor([tier], contact, lead, undefined, undefined, history)).toEqual({ Lead_Tier__c: 'cold' });
    expect(contactValuesFor([tier], lead, contact, undefined, history)).toEqual({});
  });

  it('decides nothing on a field whose history is newer than the record read: that change syncs on its own', () => {
    const history = { Lead_Tier__c: at('2026-12-05T10:11:00.000Z') };
    expect(leadValuesFor([tier], contact, lead, undefined, undefined, history)).toEqual({});
    expect(contactValuesFor([tier], lead, contact, undefined, history)).toEqual({});
  });

  it("weighs a converted person's Contact by the Contact field the mapping follows", () => {
    const person: SalesforceRecord = { Id: '003000000000001AAA', Contact_Tier__c: 'warm', SystemModstamp: '2026-12-05T10:10:00.000+0000' };
    const onContact = mappingsOn([tier], 'Contact');
    const history = { Contact_Tier__c: at('2026-12-05T10:01:00.000Z') };
    expect(leadValuesFor(onContact, contact, person, undefined, undefined, history)).toEqual({ Contact_Tier__c: 'cold' });
    expect(mappingsOn([{ ...tier, contactField: null }], 'Contact')).toEqual([]);
  });
});

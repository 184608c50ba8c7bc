/** SOQL building, collection results and custom field metadata of the Salesforce adapter (docs/reference/salesforce-api.md §3.1, §3.6). */
import { describe, expect, it } from 'vitest';
import {
  byEmailQuery,
  byIdsQuery,
  changedSinceQuery,
  developerNameOf,
  selectList,
  soqlDateTime,
  soqlString,
  toFieldMetadata,
  toSalesforceRecord,
  toWriteOutcome,
} from '../../src/crm/salesforce/mapper.ts';
import { isSalesforceId } from '../../src/domain/salesforce-id.ts';

describe('SOQL building', () => {
  it('escapes quotes, backslashes and line breaks in string literals', () => {
    expect(soqlString("o'brien@example.com")).toBe("'o\\'brien@example.com'");
    expect(soqlString('a\\b\nc')).toBe("'a\\\\b\\nc'");
  });

  it('refuses field and object names that could inject SOQL', () => {
    expect(() => selectList(['Email, (SELECT Id FROM Contacts)'])).toThrow(RangeError);
    expect(() => byIdsQuery('Lead WHERE Id != null', [], ['Email'])).toThrow(RangeError);
  });

  it('selects Id first and each field once, relationship paths allowed', () => {
    expect(selectList(['Email', 'id', 'Owner.Name', 'email'])).toBe('Id, Email, Owner.Name');
  });

  it('writes datetimes in UTC whole seconds, rounded down', () => {
    expect(soqlDateTime(new Date('2026-05-04T09:00:01.999Z'))).toBe('2026-05-04T09:00:01Z');
  });

  it('orders changed records by SystemModstamp then Id and limits the page', () => {
    expect(changedSinceQuery('Lead', ['Email'], new Date('2026-05-04T09:00:00.000Z'), 500)).toBe(
      'SELECT Id, Email, SystemModstamp FROM Lead WHERE SystemModstamp >= 2026-05-04T09:00:00Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 500',
    );
    expect(() => changedSinceQuery('Lead', [], new Date(0), 0)).toThrow(RangeError);
  });

  it('looks up only unconverted leads by email', () => {
    expect(byEmailQuery('Lead', ['a@example.com'])).toMatch(/FROM Lead WHERE IsConverted = false AND Email IN \('a@example\.com'\)$/);
    expect(byEmailQuery('Contact', ['a@example.com'])).toMatch(/FROM Contact WHERE Email IN \('a@example\.com'\)$/);
  });

  it('finds the Leads naming given contacts in the same query as the email lookup, with the fields asked for', () => {
    const soql = byEmailQuery('Lead', ['a@example.com'], ['101'], ['Lead_Tier__c']);
    expect(soql).toMatch(
      /, Lead_Tier__c FROM Lead WHERE IsConverted = false AND \(Email IN \('a@example\.com'\) OR HubSpot_Contact_Id__c IN \('101'\)\)$/,
    );
    expect(byEmailQuery('Lead', [], ['101'])).toMatch(/WHERE IsConverted = false AND HubSpot_Contact_Id__c IN \('101'\)$/);
  });

  it('recognizes 15- and 18-character record ids', () => {
    expect(isSalesforceId('00Q000000000001')).toBe(true);
    expect(isSalesforceId('00Q000000000001AAA')).toBe(true);
    expect(isSalesforceId("00Q' OR Id != '")).toBe(false);
  });
});

describe('records and outcomes', () => {
  it('drops jsforce attributes, also on relationship records', () => {
    const record = toSalesforceRecord({
      attributes: { type: 'Lead' },
      Id: '00Q1',
      Owner: { attributes: { type: 'User' }, Name: 'Alex Rivera' },
    });
    expect(record).toEqual({ Id: '00Q1', Owner: { Name: 'Alex Rivera' } });
  });

  it('turns collection results into outcomes with the record-level code and fields', () => {
    expect(toWriteOutcome({ id: '00Q1', success: true, created: true, errors: [] }, false)).toEqual({
      ok: true,
      id: '00Q1',
      created: true,
    });
    expect(toWriteOutcome({ id: '00Q1', success: true, errors: [] }, false)).toEqual({ ok: true, id: '00Q1', created: false });
    expect(
      toWriteOutcome(
        {
          success: false,
          errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Company]', fields: ['Company'] }],
        },
        false,
      ),
    ).toEqual({ ok: false, code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Company]', fields: ['Company'] });
  });
});

describe('custom field metadata', () => {
  it('makes the HubSpot id an external, unique, case-insensitive text field', () => {
    expect(
      toFieldMetadata({
        object: 'Lead',
        name: 'HubSpot_Contact_Id__c',
        label: 'HubSpot Contact Id',
        type: 'Text',
        length: 64,
        externalId: true,
        unique: true,
      }),
    ).toMatchObject({
      type: 'Text',
      length: 64,
      externalId: true,
      unique: true,
      caseSensitive: false,
    });
  });

  it('lists picklist values as an unrestricted value set', () => {
    const metadata = toFieldMetadata({
      object: 'Lead',
      name: 'Feedback_Reason__c',
      label: 'Feedback Reason',
      type: 'Picklist',
      picklistValues: ['No budget', 'Other'],
    });
    expect(metadata).toMatchObject({
      type: 'Picklist',
      valueSet: {
        restricted: false,
        valueSetDefinition: {
          value: [
            { fullName: 'No budget', label: 'No budget' },
            { fullName: 'Other', label: 'Other' },
          ],
        },
      },
    });
  });

  it('gives long text, currency and datetime fields their required settings', () => {
    expect(toFieldMetadata({ object: 'Lead', name: 'Feedback_Notes__c', label: 'Notes', type: 'LongTextArea' })).toMatchObject({
      length: 32_768,
      visibleLines: 5,
    });
    expect(toFieldMetadata({ object: 'Opportunity', name: 'Won__c', label: 'Won', type: 'Currency' })).toMatchObject({
      precision: 18,
      scale: 2,
    });
    expect(toFieldMetadata({ object: 'Lead', name: 'SLA_Due_At__c', label: 'SLA due', type: 'DateTime' })).toMatchObject({
      type: 'DateTime',
    });
  });

  it('accepts only custom field names', () => {
    expect(developerNameOf('First_Touch_At__c')).toBe('First_Touch_At');
    expect(() => developerNameOf('Email')).toThrow(RangeError);
  });
});

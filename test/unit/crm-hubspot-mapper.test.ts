/**
 * HubSpot wire shapes ⇄ port types. The 400 bodies are HubSpot's invalid-property answer (the legacy
 * `Property values were not valid: [...]` message plus structured `errors[]`, docs/reference/hubspot-api.md §4.2).
 */
import { describe, expect, it } from 'vitest';
import {
  attributeIssues,
  chunk,
  coalesce,
  ignoredWriteOutcome,
  ignoredWrites,
  keptAsSent,
  matchCreatedNotes,
  missingIdsOf,
  namedInputsOf,
  propertyIssuesOf,
  searchSorts,
  toHubSpotContact,
  toPropertyCreate,
} from '../../src/crm/hubspot/mapper.ts';

const LEGACY_BODY = {
  status: 'error',
  category: 'VALIDATION_ERROR',
  correlationId: 'c-1',
  message:
    'Property values were not valid: [{"isValid":false,"message":"Property \\"favorite_color\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"favorite_color","localizedErrorMessage":"Property \\"favorite_color\\" does not exist","portalId":1}]',
};

const STRUCTURED_BODY = {
  status: 'error',
  category: 'VALIDATION_ERROR',
  correlationId: 'c-2',
  message: 'Property values were not valid: […]',
  errors: [
    {
      message: 'lead was not one of the allowed options: [subscriber, lead, customer]',
      code: 'INVALID_OPTION',
      context: { propertyName: ['hs_lead_status'] },
    },
    {
      message: 'bogus was not one of the allowed options: [subscriber, lead, customer]',
      code: 'INVALID_OPTION',
      context: { propertyName: ['lifecyclestage'] },
    },
  ],
};

describe('HubSpot validation issues', () => {
  it('reads the issues of the legacy message when there is no errors[]', () => {
    expect(propertyIssuesOf(LEGACY_BODY)).toEqual([
      { propertyName: 'favorite_color', code: 'PROPERTY_DOESNT_EXIST', message: 'Property "favorite_color" does not exist' },
    ]);
  });

  it('reads structured errors[] with their property names', () => {
    expect(propertyIssuesOf(STRUCTURED_BODY).map((issue) => [issue.propertyName, issue.code])).toEqual([
      ['hs_lead_status', 'INVALID_OPTION'],
      ['lifecyclestage', 'INVALID_OPTION'],
    ]);
  });

  it('finds no issues in a body that names no property', () => {
    expect(propertyIssuesOf({ status: 'error', message: 'Contact already exists. Existing ID: 5', category: 'CONFLICT' })).toEqual([]);
    expect(propertyIssuesOf('not json')).toEqual([]);
  });

  it('pins an unknown property on every input that writes it', () => {
    const inputs = [
      { properties: { favorite_color: 'red' } },
      { properties: { firstname: 'Ada' } },
      { properties: { favorite_color: 'blue' } },
    ];
    const { failed, unattributed } = attributeIssues(inputs, propertyIssuesOf(LEGACY_BODY));
    expect([...failed.keys()].sort()).toEqual([0, 2]);
    expect(unattributed).toEqual([]);
  });

  it('pins a bad option only on the input whose value the message quotes, not on valid values in the options list', () => {
    const inputs = [
      { properties: { lifecyclestage: 'lead' } },
      { properties: { lifecyclestage: 'bogus' } },
      { properties: { lifecyclestage: 'customer' } },
    ];
    const issues = propertyIssuesOf(STRUCTURED_BODY).filter((issue) => issue.propertyName === 'lifecyclestage');
    expect([...attributeIssues(inputs, issues).failed.keys()]).toEqual([1]);
  });

  it('reports an issue no input writes as unattributed', () => {
    const { failed, unattributed } = attributeIssues([{ properties: { firstname: 'Ada' } }], propertyIssuesOf(LEGACY_BODY));
    expect(failed.size).toBe(0);
    expect(unattributed.map((issue) => issue.propertyName)).toEqual(['favorite_color']);
  });
});

describe('inputs named by id', () => {
  it('reads ids from the top-level context and from errors[]', () => {
    const named = namedInputsOf({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: 'Some inputs were refused',
      context: { ids: ['11'] },
      errors: [{ message: 'Email address bad@ is invalid', code: 'INVALID_EMAIL', context: { id: ['12'] } }],
    });
    expect(named.get('11')).toEqual({ code: 'VALIDATION_ERROR', message: 'Some inputs were refused' });
    expect(named.get('12')).toEqual({ code: 'INVALID_EMAIL', message: 'Email address bad@ is invalid' });
  });

  it('names nothing in a body without ids', () => {
    expect(namedInputsOf({ status: 'error', message: 'nope' }).size).toBe(0);
    expect(namedInputsOf(undefined).size).toBe(0);
  });
});

describe('HubSpot mapping helpers', () => {
  it('turns the ids of a 207 into failed outcomes', () => {
    const outcomes = missingIdsOf([
      { category: 'OBJECT_NOT_FOUND', message: 'Could not get some contacts objects', context: { ids: ['7', '8'] } },
    ]);
    expect([...outcomes.keys()]).toEqual(['7', '8']);
    expect(outcomes.get('7')).toMatchObject({ ok: false, code: 'OBJECT_NOT_FOUND' });
  });

  it('merges writes to the same record, later values winning, in first-seen order', () => {
    const merged = coalesce(
      [
        { id: '1', properties: { a: 'x', b: 'y' } },
        { id: '2', properties: { a: 'z' } },
        { id: '1', properties: { b: 'w' } },
      ],
      (item) => item.id,
    );
    expect(merged.map(({ key, item }) => [key, item.properties])).toEqual([
      ['1', { a: 'x', b: 'w' }],
      ['2', { a: 'z' }],
    ]);
  });

  it('splits lists at the batch limit', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 100)).toEqual([]);
  });

  it('reads a contact with missing values as null and updatedAt as ISO', () => {
    const contact = toHubSpotContact({
      id: '5',
      properties: { email: 'a@b.co', firstname: null, lastname: undefined },
      updatedAt: new Date('2026-01-02T03:04:05.000Z'),
    });
    expect(contact).toEqual({
      id: '5',
      properties: { email: 'a@b.co', firstname: null, lastname: null },
      updatedAt: '2026-01-02T03:04:05.000Z',
      archived: false,
    });
  });

  it('builds a property create with its group and ordered options', () => {
    expect(
      toPropertyCreate(
        {
          name: 'sales_sla_status',
          label: 'SLA status',
          type: 'enumeration',
          fieldType: 'select',
          options: [
            { label: 'Met', value: 'met' },
            { label: 'Breached', value: 'breached' },
          ],
        },
        'smarketing',
      ),
    ).toEqual({
      name: 'sales_sla_status',
      label: 'SLA status',
      type: 'enumeration',
      fieldType: 'select',
      groupName: 'smarketing',
      options: [
        { label: 'Met', value: 'met', displayOrder: 0, hidden: false },
        { label: 'Breached', value: 'breached', displayOrder: 1, hidden: false },
      ],
    });
  });
});

describe('matchCreatedNotes', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 2, 30, 12, 0, s));
  const inputs = [
    { html: '<p>Accepted</p>', at: at(0) },
    { html: '<p>Rejected: no budget</p>', at: at(1) },
    { html: '<p>Won</p>', at: at(2) },
  ];

  it('pairs notes answered in another order by timestamp and body', () => {
    const results = [
      { id: 'n3', properties: { hs_timestamp: at(2).toISOString(), hs_note_body: '<p>Won</p>' } },
      { id: 'n1', properties: { hs_timestamp: at(0).toISOString(), hs_note_body: '<p>Accepted</p>' } },
      { id: 'n2', properties: { hs_timestamp: at(1).toISOString(), hs_note_body: '<p>Rejected: no budget</p>' } },
    ];
    expect(matchCreatedNotes(inputs, results).map((o) => (o.ok ? o.id : o.code))).toEqual(['n1', 'n2', 'n3']);
  });

  it('falls back to the timestamp when HubSpot tidied the HTML', () => {
    const results = [
      { id: 'n2', properties: { hs_timestamp: at(1).toISOString(), hs_note_body: '<p>Rejected: no budget</p>\n' } },
      { id: 'n1', properties: { hs_timestamp: at(0).toISOString(), hs_note_body: '<p>Accepted</p>' } },
      { id: 'n3', properties: { hs_timestamp: at(2).toISOString(), hs_note_body: '<div><p>Won</p></div>' } },
    ];
    expect(matchCreatedNotes(inputs, results).map((o) => (o.ok ? o.id : o.code))).toEqual(['n1', 'n2', 'n3']);
  });

  it('says which note is missing from a short answer', () => {
    const results = [{ id: 'n1', properties: { hs_timestamp: at(0).toISOString(), hs_note_body: '<p>Accepted</p>' } }];
    expect(matchCreatedNotes(inputs, results).map((o) => (o.ok ? o.id : o.code))).toEqual(['n1', 'NOT_WRITTEN', 'NOT_WRITTEN']);
  });
});

describe('writes HubSpot answered without keeping them', () => {
  it('finds a lifecyclestage HubSpot kept at a later stage and names sent and kept values', () => {
    const ignored = ignoredWrites(
      { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      { lifecyclestage: 'customer', hs_lead_status: 'IN_PROGRESS', hs_object_id: '101' },
    );
    expect(ignored).toEqual([{ property: 'lifecyclestage', sent: 'salesqualifiedlead', kept: 'customer' }]);
    expect(ignoredWriteOutcome(ignored)).toEqual({
      ok: false,
      code: 'WRITE_IGNORED',
      message:
        'HubSpot answered the update without an error but kept other values: lifecyclestage is "customer", not the "salesqualifiedlead" that was sent (HubSpot ignores a move to an earlier lifecycle stage unless the stage is cleared first)',
      fields: ['lifecyclestage'],
    });
  });

  it('takes a cleared property answered as null or "" as kept', () => {
    expect(ignoredWrites({ lifecyclestage: '', jobtitle: '' }, { lifecyclestage: null, jobtitle: '' })).toEqual([]);
  });

  it('counts a value answered as null, or a clear answered with a value, as not kept', () => {
    const ignored = ignoredWrites({ jobtitle: 'CTO', lifecyclestage: '' }, { jobtitle: null, lifecyclestage: 'customer' });
    expect(ignored).toEqual([
      { property: 'jobtitle', sent: 'CTO', kept: null },
      { property: 'lifecyclestage', sent: '', kept: 'customer' },
    ]);
    expect(ignoredWriteOutcome(ignored)).toMatchObject({
      message: expect.stringContaining(
        'jobtitle is empty, not the "CTO" that was sent; lifecyclestage is "customer", not the clear that was sent',
      ),
      fields: ['jobtitle', 'lifecyclestage'],
    });
  });

  it('takes datetimes and dates sent as epoch milliseconds or ISO 8601 and answered in ISO 8601 as kept', () => {
    expect(keptAsSent('sales_sla_due_at', '2026-04-01T08:00:00Z', '2026-04-01T08:00:00.000Z')).toBe(true);
    expect(keptAsSent('sales_sla_due_at', '1775030400000', '2026-04-01T08:00:00.000Z')).toBe(true);
    expect(keptAsSent('sales_close_date', '1774915200000', '2026-03-31')).toBe(true);
    expect(keptAsSent('sales_sla_due_at', '2026-04-01T09:00:00+01:00', '2026-04-01T08:00:00.000Z')).toBe(true);
    expect(keptAsSent('sales_sla_due_at', '2026-04-01T08:00:00.000Z', '2026-04-01T08:00:01.000Z')).toBe(false);
    expect(keptAsSent('sales_close_date', '2026-03-31', '2026-04-01')).toBe(false);
  });

  it('takes numbers answered in canonical form as kept', () => {
    expect(keptAsSent('sales_won_amount', '50000.00', '50000')).toBe(true);
    expect(keptAsSent('sales_won_amount', '5e4', '50000')).toBe(true);
    expect(keptAsSent('sales_won_amount', ' 17 ', '17')).toBe(true);
    expect(keptAsSent('sales_won_amount', '50000', '50001')).toBe(false);
  });

  it('takes booleans in another case, checkbox options in another order and an email in another case as kept', () => {
    expect(keptAsSent('hs_is_unworked', 'TRUE', 'true')).toBe(true);
    expect(keptAsSent('hs_is_unworked', 'true', 'false')).toBe(false);
    expect(keptAsSent('interests', 'b;a', 'a;b')).toBe(true);
    expect(keptAsSent('interests', 'a;b', 'a')).toBe(false);
    expect(keptAsSent('email', 'Grace@Example.com', 'grace@example.com')).toBe(true);
  });

  it('tells enumeration values and text apart exactly, case included', () => {
    expect(keptAsSent('lifecyclestage', 'lead', 'customer')).toBe(false);
    expect(keptAsSent('hs_lead_status', 'IN_PROGRESS', 'in_progress')).toBe(false);
    expect(keptAsSent('firstname', 'Ada', 'ADA')).toBe(false);
    expect(keptAsSent('phone', '+1 555 0100', '+1 555 0101')).toBe(false);
  });

  it('does not judge a property the answer leaves out', () => {
    expect(ignoredWrites({ lifecyclestage: 'lead', jobtitle: 'CTO' }, { jobtitle: 'CTO' })).toEqual([]);
  });
});

describe('search sorts', () => {
  it('sends sorts in the object form the search API documents', () => {
    expect(searchSorts([{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }])).toEqual([
      { propertyName: 'lastmodifieddate', direction: 'ASCENDING' },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL_RULES } from '../../../src/domain/channels.ts';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../../src/domain/feedback.ts';
import {
  checkChannelRules,
  checkFeedbackTaxonomy,
  checkFieldMappings,
  checkStageDictionary,
  type CrmFacts,
  type HubSpotPropertyFacts,
  type SalesforceFieldFacts,
} from '../../../src/domain/settings-check.ts';
import { previewChannelRules, previewFieldMappings, previewStageDictionary } from '../../../src/domain/settings-preview.ts';
import {
  DEFAULT_FIELD_MAPPINGS,
  DEFAULT_STAGE_DICTIONARY,
  validateFieldMappings,
  type FieldMapping,
  type StageDictionary,
} from '../../../src/domain/stages.ts';

const picklist = (label: string, values: string[], type = 'picklist'): SalesforceFieldFacts => ({
  label,
  type,
  length: 255,
  writable: true,
  picklistValues: values,
});
const text = (label: string, writable = true): SalesforceFieldFacts => ({
  label,
  type: 'string',
  length: 80,
  writable,
  picklistValues: null,
});
const property = (
  label: string,
  options: string[] | null = null,
  type = options ? 'enumeration' : 'string',
  fieldType: string | null = options ? 'select' : 'text',
  readOnly = false,
): HubSpotPropertyFacts => ({ label, type, fieldType, readOnly, options });

/** An org and a portal with the standard values (the sandbox's, which are Salesforce's and HubSpot's defaults). */
function facts(overrides: { leadStatuses?: string[]; titleWritable?: boolean } = {}): CrmFacts {
  return {
    salesforce: new Map([
      [
        'Lead',
        new Map<string, SalesforceFieldFacts>([
          [
            'Status',
            picklist(
              'Lead Status',
              overrides.leadStatuses ?? ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'],
            ),
          ],
          ['LeadSource', picklist('Lead Source', ['Web', 'Phone Inquiry', 'Partner Referral', 'Other'])],
          [
            'Feedback_Reason__c',
            picklist(
              'Feedback Reason',
              DEFAULT_FEEDBACK_TAXONOMY.reasons.map((reason) => reason.label),
            ),
          ],
          ...['Email', 'FirstName', 'LastName', 'Company', 'Phone'].map((name) => [name, text(name)] as const),
          ['Title', text('Title', overrides.titleWritable ?? true)],
          ['Rating__c', picklist('Rating', ['Hot', 'Warm', 'Cold'])],
          ['Products__c', picklist('Products', ['Sync', 'Review'], 'multipicklist')],
          ['AnnualRevenue', { label: 'Annual Revenue', type: 'currency', length: 0, writable: true, picklistValues: null }],
          ['Do_Not_Call__c', { label: 'Do Not Call', type: 'boolean', length: 0, writable: true, picklistValues: null }],
          ['OwnerId', { label: 'Owner ID', type: 'reference', length: 18, writable: true, picklistValues: null }],
        ]),
      ],
      [
        'Opportunity',
        new Map([
          [
            'Loss_Reason__c',
            picklist(
              'Loss Reason',
              DEFAULT_FEEDBACK_TAXONOMY.reasons.map((reason) => reason.label),
            ),
          ],
        ]),
      ],
    ]),
    hubspot: new Map<string, HubSpotPropertyFacts>([
      [
        'lifecyclestage',
        {
          label: 'Lifecycle Stage',
          type: 'enumeration',
          fieldType: 'radio',
          readOnly: false,
          options: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'],
        },
      ],
      [
        'hs_lead_status',
        {
          label: 'Lead Status',
          type: 'enumeration',
          fieldType: 'radio',
          readOnly: false,
          options: ['NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', 'UNQUALIFIED', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'BAD_TIMING'],
        },
      ],
      [
        'sales_feedback_status',
        {
          label: 'Sales feedback status',
          type: 'enumeration',
          fieldType: 'select',
          readOnly: false,
          options: ['accepted', 'rejected', 'recycled', 'opportunity', 'won', 'lost'],
        },
      ],
      ...['email', 'firstname', 'lastname', 'company', 'phone', 'jobtitle'].map((name) => [name, property(name)] as const),
      ['hs_object_id', property('Record ID', null, 'number', 'number', true)],
      ['lead_rating', property('Lead rating', ['hot', 'warm', 'cold'])],
      [
        'lead_segment',
        property('Lead segment', ['smb', 'enterprise_named_accounts_with_a_dedicated_account_team_in_every_region_we_sell_into']),
      ],
      ['products', property('Products', ['sync', 'review'], 'enumeration', 'checkbox')],
      ['annual_revenue', property('Annual revenue', null, 'number', 'number')],
      ['do_not_call', property('Do not call', null, 'bool', 'booleancheckbox')],
      ['birthday', property('Birthday', null, 'date', 'date')],
    ]),
  };
}

const withSqlStatus = (status: string): StageDictionary => ({
  ...DEFAULT_STAGE_DICTIONARY,
  rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) =>
    row.stage === 'sql' && row.salesforce?.object === 'Lead' ? { ...row, salesforce: { ...row.salesforce, status } } : row,
  ),
});

describe('settings checked against CRM metadata', () => {
  it('passes the default rules against an org and a portal with the standard values', () => {
    expect(checkStageDictionary(DEFAULT_STAGE_DICTIONARY, facts())).toEqual([]);
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, facts())).toEqual([]);
    expect(checkFeedbackTaxonomy(DEFAULT_FEEDBACK_TAXONOMY, facts())).toEqual([]);
    expect(checkChannelRules(DEFAULT_CHANNEL_RULES, {}, facts())).toEqual([]);
  });

  it("refuses SQL's Lead Status 'Working' because the org's picklist has 'Working - Contacted'", () => {
    expect(checkStageDictionary(withSqlStatus('Working'), facts())).toEqual([
      'rows[2] (sql).salesforce.status: "Working" is not a value of the Lead Status picklist (Lead.Status) in Salesforce; its active values are "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"',
    ]);
  });

  it('names an inactive Lead Status as missing: only active values count', () => {
    const problems = checkStageDictionary(
      DEFAULT_STAGE_DICTIONARY,
      facts({ leadStatuses: ['Open - Not Contacted', 'Closed - Converted', 'Closed - Not Converted'] }),
    );
    expect(problems).toEqual([
      expect.stringContaining('rows[2] (sql).salesforce.status: "Working - Contacted" is not a value of the Lead Status picklist'),
    ]);
  });

  it('refuses a field rule that writes a field read-only to the integration user, but not when Salesforce always wins', () => {
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, facts({ titleWritable: false }))).toEqual([
      '[5].salesforceField: "Title" (Title) is read-only to the integration user in Salesforce: grant Edit in its field-level security, or choose always_salesforce',
    ]);
    const salesforceWins = DEFAULT_FIELD_MAPPINGS.map((m) =>
      m.salesforceField === 'Title' ? { ...m, rule: 'always_salesforce' as const } : m,
    );
    expect(checkFieldMappings(salesforceWins, facts({ titleWritable: false }))).toEqual([]);
  });

  it("checks the Contact field a mapping follows after conversion: there, writable, of the property's kind", () => {
    const withContact = (fields: [string, SalesforceFieldFacts][]): CrmFacts => {
      const base = facts();
      return { ...base, salesforce: new Map([...base.salesforce, ['Contact', new Map(fields)]]) };
    };
    const standard = ['Email', 'FirstName', 'LastName', 'Phone', 'Title'].map(
      (name) => [name, text(name)] as [string, SalesforceFieldFacts],
    );
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, withContact(standard))).toEqual([]);
    // The standard counterpart hidden from the integration user, then read-only to it.
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, withContact(standard.filter(([name]) => name !== 'Title')))).toEqual([
      '[5].salesforceContactField: "Title" (where lead conversion copies Title) is not a Contact field in Salesforce, or the integration user cannot see it: name the Contact field, or null to follow the Lead only',
    ]);
    const readOnlyTitle = standard.map(
      ([name, f]) => [name, name === 'Title' ? { ...f, writable: false } : f] as [string, SalesforceFieldFacts],
    );
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, withContact(readOnlyTitle))).toEqual([
      '[5].salesforceContactField: "Title" (where lead conversion copies Title) (Title) is read-only to the integration user in Salesforce: grant Edit in its field-level security, or choose always_salesforce',
    ]);
    // A Contact field of another kind; null keeps the mapping on the Lead only.
    const title = {
      hubspotProperty: 'jobtitle',
      salesforceField: 'Title',
      rule: 'two_way' as const,
      salesforceContactField: 'Title_Score__c',
    };
    const scored = withContact([
      ...standard,
      ['Title_Score__c', { label: 'Title Score', type: 'double', length: 0, writable: true, picklistValues: null }],
    ]);
    expect(checkFieldMappings([title], scored)).toEqual([
      '[0].salesforceContactField: "jobtitle" is text in HubSpot but Contact field "Title_Score__c" is a number: map fields of the same kind',
    ]);
    expect(checkFieldMappings([{ ...title, salesforceContactField: null }], scored)).toEqual([]);
  });

  it('refuses a channel whose Lead Source the org lacks', () => {
    expect(checkChannelRules(DEFAULT_CHANNEL_RULES, { Unassigned: 'Walk-in' }, facts())).toEqual([
      expect.stringMatching(
        /^fallbackChannel: "Walk-in" is not a value of the Lead Source picklist \(Lead\.LeadSource\) in Salesforce; .* \(the Lead Source channel "Unassigned" fills in\)$/,
      ),
    ]);
  });
});

describe('field mappings checked against CRM metadata', () => {
  const mapping = (hubspotProperty: string, salesforceField: string, extra: Partial<FieldMapping> = {}): FieldMapping => ({
    hubspotProperty,
    salesforceField,
    rule: 'two_way',
    ...extra,
  });
  const ratingMap = [
    { hubspot: 'hot', salesforce: 'Hot' },
    { hubspot: 'warm', salesforce: 'Warm' },
    { hubspot: 'cold', salesforce: 'Cold' },
  ];

  it('refuses a HubSpot option longer than the Salesforce text field it would be written to, unless the value map shortens it', () => {
    const segment = mapping('lead_segment', 'Company');
    expect(checkFieldMappings([segment], facts())).toEqual([
      '[0].salesforceField: "Company" (Company) holds at most 80 characters, and "enterprise_named_accounts_with_a_dedicated_account_team_in_every_region_we_sell_into" from lead_segment is longer: Salesforce would refuse it; map it to a shorter value, or choose a longer field',
    ]);
    const shortened = {
      ...segment,
      valueMap: [
        { hubspot: 'enterprise_named_accounts_with_a_dedicated_account_team_in_every_region_we_sell_into', salesforce: 'Enterprise' },
      ],
    };
    expect(checkFieldMappings([shortened], facts())).toEqual([]);
    expect(checkFieldMappings([{ ...segment, rule: 'always_salesforce' as const }], facts())).toEqual([]);
  });

  it('passes a picklist whose value map names every value on both sides, and pairs of the same kind', () => {
    expect(
      checkFieldMappings(
        [
          mapping('lead_rating', 'Rating__c', { valueMap: ratingMap }),
          mapping('products', 'Products__c', {
            valueMap: [
              { hubspot: 'sync', salesforce: 'Sync' },
              { hubspot: 'review', salesforce: 'Review' },
            ],
          }),
          mapping('annual_revenue', 'AnnualRevenue'),
          mapping('do_not_call', 'Do_Not_Call__c'),
        ],
        facts(),
      ),
    ).toEqual([]);
  });

  it('refuses a number mapped to a checkbox, naming both kinds', () => {
    expect(checkFieldMappings([mapping('annual_revenue', 'Do_Not_Call__c')], facts())).toEqual([
      '[0]: "annual_revenue" is a number in HubSpot but "Do_Not_Call__c" is a checkbox in Salesforce: map properties and fields of the same kind',
    ]);
  });

  it('refuses a reference field, which no mapping can carry', () => {
    expect(checkFieldMappings([mapping('company', 'OwnerId')], facts())).toEqual([
      '[0].salesforceField: "OwnerId" (Owner ID) is a reference field, which no mapping can carry',
    ]);
  });

  it('names the picklist values that would have no counterpart without a value map', () => {
    expect(checkFieldMappings([mapping('lead_rating', 'Rating__c')], facts())).toEqual([
      '[0].valueMap: HubSpot "hot", "warm", "cold" of lead_rating have no value in the Rating picklist (Lead.Rating__c): map each to one of "Hot", "Warm", "Cold"',
      '[0].valueMap: Salesforce "Hot", "Warm", "Cold" of Lead.Rating__c have no option in Lead rating (lead_rating): map each to one of "hot", "warm", "cold"',
    ]);
  });

  it('checks only the direction a rule writes: Salesforce values when Salesforce always wins', () => {
    const oneWay = mapping('lead_rating', 'Rating__c', {
      rule: 'always_salesforce',
      valueMap: [
        { hubspot: 'hot', salesforce: 'Hot' },
        { hubspot: 'warm', salesforce: 'Warm' },
        { hubspot: 'cold', salesforce: 'Cold' },
      ],
    });
    expect(checkFieldMappings([oneWay], facts())).toEqual([]);
  });

  it('refuses a value map entry naming a value the picklist does not have', () => {
    const problems = checkFieldMappings(
      [mapping('lead_rating', 'Rating__c', { valueMap: [...ratingMap.slice(0, 2), { hubspot: 'cold', salesforce: 'Frozen' }] })],
      facts(),
    );
    expect(problems[0]).toBe(
      '[0].valueMap[2].salesforce: "Frozen" is not an active value of the Rating picklist (Lead.Rating__c) in Salesforce; its active values are "Hot", "Warm", "Cold"',
    );
  });

  it('refuses a value map on two text fields', () => {
    expect(checkFieldMappings([mapping('company', 'Company', { valueMap: [{ hubspot: 'a', salesforce: 'b' }] })], facts())).toEqual([
      '[0].valueMap: a value map is for picklists, and neither "company" nor "Company" is one',
    ]);
  });

  it('refuses a value mapped twice on one side at the shape check', () => {
    expect(
      validateFieldMappings([
        mapping('lead_rating', 'Rating__c', {
          valueMap: [
            { hubspot: 'hot', salesforce: 'Hot' },
            { hubspot: 'hot', salesforce: 'Warm' },
          ],
        }),
      ]),
    ).toEqual({
      ok: false,
      error: ['[0].valueMap[1].hubspot: "hot" is already mapped by valueMap[0]'],
    });
  });
});

describe('settings previews', () => {
  it('counts the contacts in SQL that a changed Lead Status would leave to a row that matches nothing', () => {
    const preview = previewStageDictionary(
      DEFAULT_STAGE_DICTIONARY,
      withSqlStatus('Closed - Converted'),
      new Map([
        ['sql', 12],
        ['mql', 40],
      ]),
    );
    expect(preview.lines).toEqual([
      {
        level: 'warn',
        count: 12,
        text: '12 contacts in SQL would map to a stage no rule covers (their Salesforce Lead Status "Working - Contacted" matches no row): their sync would stop',
      },
    ]);
  });

  it('says nothing moves when the dictionary is unchanged', () => {
    expect(previewStageDictionary(DEFAULT_STAGE_DICTIONARY, DEFAULT_STAGE_DICTIONARY, new Map([['sql', 3]]))).toEqual({
      changed: false,
      lines: [],
      restampOffered: false,
    });
  });

  it('names a field pair that stops syncing for every linked record', () => {
    const withoutPhone = DEFAULT_FIELD_MAPPINGS.filter((m) => m.hubspotProperty !== 'phone');
    expect(previewFieldMappings(DEFAULT_FIELD_MAPPINGS, withoutPhone, 250).lines).toEqual([
      { level: 'warn', count: 250, text: 'phone ↔ Phone stops syncing for 250 linked records: the two sides may drift apart' },
    ]);
  });

  it('offers to fill existing records with the pairs that start syncing or change rule, and not for a pair that stops', () => {
    const next: FieldMapping[] = [
      ...DEFAULT_FIELD_MAPPINGS.filter((m) => m.hubspotProperty !== 'phone').map((m) =>
        m.hubspotProperty === 'jobtitle' ? { ...m, rule: 'always_salesforce' as const } : m,
      ),
      { hubspotProperty: 'website', salesforceField: 'Website', rule: 'two_way' },
    ];
    expect(previewFieldMappings(DEFAULT_FIELD_MAPPINGS, next, 12)).toMatchObject({
      fillOffered: true,
      fillPairs: [
        { hubspotProperty: 'jobtitle', salesforceField: 'Title' },
        { hubspotProperty: 'website', salesforceField: 'Website' },
      ],
      restampOffered: false,
    });
    const withoutPhone = DEFAULT_FIELD_MAPPINGS.filter((m) => m.hubspotProperty !== 'phone');
    expect(previewFieldMappings(DEFAULT_FIELD_MAPPINGS, withoutPhone, 12)).toMatchObject({ fillOffered: false });
    expect(previewFieldMappings(DEFAULT_FIELD_MAPPINGS, withoutPhone, 12).fillPairs).toBeUndefined();
  });

  it('offers to re-stamp when stamped touches carry a channel the new rules no longer produce', () => {
    const renamed = {
      ...DEFAULT_CHANNEL_RULES,
      rules: DEFAULT_CHANNEL_RULES.rules.map((rule) => (rule.channel === 'Paid Search' ? { ...rule, channel: 'Search Ads' } : rule)),
    };
    const preview = previewChannelRules(
      DEFAULT_CHANNEL_RULES,
      renamed,
      new Map([
        ['Paid Search', 7],
        ['Direct', 3],
      ]),
    );
    expect(preview.restampOffered).toBe(true);
    expect(preview.lines[0]).toEqual({
      level: 'warn',
      count: 7,
      text: '7 touches stamped "Paid Search", a channel no rule produces any more: the report splits its history until it is re-stamped',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL_RULES } from '../../../src/domain/channels.ts';
import { DEFAULT_FEEDBACK_TAXONOMY } from '../../../src/domain/feedback.ts';
import { checkChannelRules, checkFeedbackTaxonomy, checkFieldMappings, checkStageDictionary, type CrmFacts, type HubSpotPropertyFacts, type SalesforceFieldFacts } from '../../../src/domain/settings-check.ts';
import { previewChannelRules, previewFieldMappings, previewStageDictionary } from '../../../src/domain/settings-preview.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY, type StageDictionary } from '../../../src/domain/stages.ts';

const picklist = (label: string, values: string[]): SalesforceFieldFacts => ({ label, writable: true, picklistValues: values });
const text = (label: string, writable = true): SalesforceFieldFacts => ({ label, writable, picklistValues: null });

/** An org and a portal with the standard values (the sandbox's, which are Salesforce's and HubSpot's defaults). */
function facts(overrides: { leadStatuses?: string[]; titleWritable?: boolean } = {}): CrmFacts {
  return {
    salesforce: new Map([
      [
        'Lead',
        new Map<string, SalesforceFieldFacts>([
          ['Status', picklist('Lead Status', overrides.leadStatuses ?? ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'])],
          ['LeadSource', picklist('Lead Source', ['Web', 'Phone Inquiry', 'Partner Referral', 'Other'])],
          ['Feedback_Reason__c', picklist('Feedback Reason', DEFAULT_FEEDBACK_TAXONOMY.reasons.map((reason) => reason.label))],
          ...['Email', 'FirstName', 'LastName', 'Company', 'Phone'].map((name) => [name, text(name)] as const),
          ['Title', text('Title', overrides.titleWritable ?? true)],
        ]),
      ],
      ['Opportunity', new Map([['Loss_Reason__c', picklist('Loss Reason', DEFAULT_FEEDBACK_TAXONOMY.reasons.map((reason) => reason.label))]])],
    ]),
    hubspot: new Map<string, HubSpotPropertyFacts>([
      ['lifecyclestage', { label: 'Lifecycle Stage', readOnly: false, options: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'] }],
      ['hs_lead_status', { label: 'Lead Status', readOnly: false, options: ['NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', 'UNQUALIFIED', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'BAD_TIMING'] }],
      ['sales_feedback_status', { label: 'Sales feedback status', readOnly: false, options: ['accepted', 'rejected', 'recycled', 'opportunity', 'won', 'lost'] }],
      ...['email', 'firstname', 'lastname', 'company', 'phone', 'jobtitle'].map((name) => [name, { label: name, readOnly: false, options: null }] as const),
      ['hs_object_id', { label: 'Record ID', readOnly: true, options: null }],
    ]),
  };
}

const withSqlStatus = (status: string): StageDictionary => ({
  ...DEFAULT_STAGE_DICTIONARY,
  rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) => (row.stage === 'sql' && row.salesforce?.object === 'Lead' ? { ...row, salesforce: { ...row.salesforce, status } } : row)),
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
    const problems = checkStageDictionary(DEFAULT_STAGE_DICTIONARY, facts({ leadStatuses: ['Open - Not Contacted', 'Closed - Converted', 'Closed - Not Converted'] }));
    expect(problems).toEqual([expect.stringContaining('rows[2] (sql).salesforce.status: "Working - Contacted" is not a value of the Lead Status picklist')]);
  });

  it('refuses a field rule that writes a field read-only to the integration user, but not when Salesforce always wins', () => {
    expect(checkFieldMappings(DEFAULT_FIELD_MAPPINGS, facts({ titleWritable: false }))).toEqual([
      '[5].salesforceField: "Title" (Title) is read-only to the integration user in Salesforce: grant Edit in its field-level security, or choose always_salesforce',
    ]);
    const salesforceWins = DEFAULT_FIELD_MAPPINGS.map((m) => (m.salesforceField === 'Title' ? { ...m, rule: 'always_salesforce' as const } : m));
    expect(checkFieldMappings(salesforceWins, facts({ titleWritable: false }))).toEqual([]);
  });

  it('refuses a HubSpot value the taxonomy sets that is not an option of its property', () => {
    const taxonomy = { ...DEFAULT_FEEDBACK_TAXONOMY, hubspot: { ...DEFAULT_FEEDBACK_TAXONOMY.hubspot, rejectedLeadStatus: 'REJECTED' } };
    expect(checkFeedbackTaxonomy(taxonomy, facts())).toEqual([expect.stringMatching(/^hubspot\.rejectedLeadStatus: "REJECTED" is not an option of the Lead Status property \(hs_lead_status\) in HubSpot/)]);
  });

  it('refuses a channel whose Lead Source the org lacks', () => {
    expect(checkChannelRules(DEFAULT_CHANNEL_RULES, { Unassigned: 'Walk-in' }, facts())).toEqual([
      expect.stringMatching(/^fallbackChannel: "Walk-in" is not a value of the Lead Source picklist \(Lead\.LeadSource\) in Salesforce; .* \(the Lead Source channel "Unassigned" fills in\)$/),
    ]);
  });
});

describe('settings previews', () => {
  it('counts the contacts in SQL that a changed Lead Status would leave to a row that matches nothing', () => {
    const preview = previewStageDictionary(DEFAULT_STAGE_DICTIONARY, withSqlStatus('Closed - Converted'), new Map([['sql', 12], ['mql', 40]]));
    expect(preview.lines).toEqual([
      { level: 'warn', count: 12, text: '12 contacts in SQL would map to a stage no rule covers (their Salesforce Lead Status "Working - Contacted" matches no row): their sync would stop' },
    ]);
  });

  it('says nothing moves when the dictionary is unchanged', () => {
    expect(previewStageDictionary(DEFAULT_STAGE_DICTIONARY, DEFAULT_STAGE_DICTIONARY, new Map([['sql', 3]]))).toEqual({ changed: false, lines: [], restampOffered: false });
  });

  it('names a field pair that stops syncing for every linked record', () => {
    const withoutPhone = DEFAULT_FIELD_MAPPINGS.filter((m) => m.hubspotProperty !== 'phone');
    expect(previewFieldMappings(DEFAULT_FIELD_MAPPINGS, withoutPhone, 250).lines).toEqual([{ level: 'warn', count: 250, text: 'phone ↔ Phone stops syncing for 250 linked records: the two sides may drift apart' }]);
  });

  it('offers to re-stamp when stamped touches carry a channel the new rules no longer produce', () => {
    const renamed = { ...DEFAULT_CHANNEL_RULES, rules: DEFAULT_CHANNEL_RULES.rules.map((rule) => (rule.channel === 'Paid Search' ? { ...rule, channel: 'Search Ads' } : rule)) };
    const preview = previewChannelRules(DEFAULT_CHANNEL_RULES, renamed, new Map([['Paid Search', 7], ['Direct', 3]]));
    expect(preview.restampOffered).toBe(true);
    expect(preview.lines[0]).toEqual({ level: 'warn', count: 7, text: '7 touches stamped "Paid Search", a channel no rule produces any more: the report splits its history until it is re-stamped' });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contactFieldOf, validateStageDictionary, type FieldMapping } from '../../src/domain/stages.ts';
import { SETTING_KEYS, SETTINGS } from '../../src/server/admin/settings.ts';
import { fieldsOf, valueFromFields } from '../../src/server/admin/settings-forms.ts';

describe('settings forms', () => {
  for (const key of SETTING_KEYS) {
    it(`reads the ${key} form back into the same setting`, () => {
      const read = valueFromFields(key, fieldsOf(key, SETTINGS[key].defaults));
      expect(read.problems).toEqual([]);
      const validated = SETTINGS[key].validate(read.value);
      expect(validated).toEqual({ ok: true, value: SETTINGS[key].defaults });
    });
  }

  it('keeps a funnel with a stage of its own and where the side stages rank, through the stage dictionary form', () => {
    const meeting: unknown = JSON.parse(readFileSync(new URL('../fixtures/stage-dictionary-meeting.json', import.meta.url), 'utf8'));
    const dictionary = validateStageDictionary(meeting);
    if (!dictionary.ok) throw new Error(dictionary.error.join('; '));
    const custom = { ...dictionary.value, sideStageRanks: { ...dictionary.value.sideStageRanks, recycled: 'mql' } };
    const fields = fieldsOf('stageDictionary', custom);
    expect(fields['funnel']).toBe('lead, mql, sql, meeting, opportunity, customer');
    const read = valueFromFields('stageDictionary', fields);
    expect(SETTINGS.stageDictionary.validate(read.value)).toEqual({ ok: true, value: custom });
  });

  it('reads the privacy policy chosen in its form, and names a choice it does not know', () => {
    const read = valueFromFields('privacyPolicy', { salesforceRecords: 'unlink' });
    expect(SETTINGS.privacyPolicy.validate(read.value)).toEqual({ ok: true, value: { salesforceRecords: 'unlink' } });
    const refused = SETTINGS.privacyPolicy.validate(valueFromFields('privacyPolicy', { salesforceRecords: 'delete' }).value);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.error.join(' ')).toMatch(/^salesforceRecords: /);
  });

  it("keeps an override's own business hours that the table does not show", () => {
    const policy = SETTINGS.slaPolicy.validate({
      hours: 4,
      overrides: [{ team: 'EMEA', hours: 8, businessHours: { timeZone: 'Europe/Paris', start: '08:00', end: '18:00' } }],
    });
    if (!policy.ok) throw new Error(policy.error.join('; '));
    const read = valueFromFields('slaPolicy', fieldsOf('slaPolicy', policy.value));
    expect(SETTINGS.slaPolicy.validate(read.value)).toEqual(policy);
  });

  it('drops a row left blank and names a condition line it cannot read', () => {
    const read = valueFromFields('channelRules', {
      fallbackChannel: 'Unassigned',
      'rule.channel': ['Email', ''],
      'rule.conditions': ['medium contains mail', ''],
    });
    expect(read.problems).toEqual([
      'rules[0].anyOf: "medium contains mail" is not a condition: write field = "value", field in ["a", "b"], field ~ /pattern/, field is set, or field in site list name',
    ]);
  });

  it('reads commitments and goals with rows back into the same setting, a blank channel meaning all channels', () => {
    const commitments = SETTINGS.marketingCommitments.validate({
      period: 'quarter',
      commitments: [
        { metric: 'mqls_delivered', target: 120 },
        { metric: 'pipeline_created', target: 250000.5, channel: 'Paid Search' },
      ],
    });
    const goals = SETTINGS.sharedGoals.validate({
      goals: [
        { quarter: '2026-Q4', kpi: 'revenue', target: 500000, owner: 'Sales' },
        { quarter: '2026-Q4', kpi: 'mql_to_sql', target: 25, owner: 'Marketing' },
      ],
    });
    if (!commitments.ok || !goals.ok) throw new Error('the fixtures must validate');
    expect(
      SETTINGS.marketingCommitments.validate(
        valueFromFields('marketingCommitments', fieldsOf('marketingCommitments', commitments.value)).value,
      ),
    ).toEqual(commitments);
    expect(SETTINGS.sharedGoals.validate(valueFromFields('sharedGoals', fieldsOf('sharedGoals', goals.value)).value)).toEqual(goals);
  });

  it('names a target that is not a number in the commitments form', () => {
    const read = valueFromFields('marketingCommitments', {
      period: 'month',
      'commitment.metric': ['sqls_accepted'],
      'commitment.target': ['forty'],
      'commitment.channel': [''],
    });
    expect(SETTINGS.marketingCommitments.validate(read.value)).toEqual({
      ok: false,
      error: ['commitments[0].target: Invalid input: expected number, received string'],
    });
  });
  it("reads a mapping's value map one entry per line and writes it back the same", () => {
    const mappings = SETTINGS.fieldMappings.validate([
      {
        hubspotProperty: 'industry',
        salesforceField: 'Industry',
        rule: 'always_salesforce',
        valueMap: [
          { hubspot: 'COMPUTER_SOFTWARE', salesforce: 'Technology' },
          { hubspot: 'BANKING', salesforce: 'Finance = Banking' },
        ],
      },
      { hubspotProperty: 'jobtitle', salesforceField: 'Title', rule: 'two_way' },
    ]);
    if (!mappings.ok) throw new Error(mappings.error.join('; '));
    const fields = fieldsOf('fieldMappings', mappings.value);
    expect(fields['map.valueMap']).toEqual(['COMPUTER_SOFTWARE = Technology\nBANKING = Finance = Banking', '']);
    const read = valueFromFields('fieldMappings', fields);
    expect(read.problems).toEqual([]);
    expect(SETTINGS.fieldMappings.validate(read.value)).toEqual(mappings);
    expect(fieldsOf('fieldMappings', (SETTINGS.fieldMappings.validate(read.value) as { value: unknown }).value)).toEqual(fields);
    expect('valueMap' in ((read.value as Record<string, unknown>[])[1] ?? {})).toBe(false);
  });

  it("reads a mapping's Contact field after conversion: blank follows the conversion's own field, `none` the Lead only", () => {
    const mappings = SETTINGS.fieldMappings.validate([
      { hubspotProperty: 'jobtitle', salesforceField: 'Title', rule: 'two_way' },
      { hubspotProperty: 'lead_tier', salesforceField: 'Lead_Tier__c', rule: 'two_way', salesforceContactField: 'Contact_Tier__c' },
      { hubspotProperty: 'company', salesforceField: 'Company', rule: 'two_way', salesforceContactField: null },
    ]);
    if (!mappings.ok) throw new Error(mappings.error.join('; '));
    const fields = fieldsOf('fieldMappings', mappings.value);
    expect(fields['map.salesforceContactField']).toEqual(['', 'Contact_Tier__c', 'none']);
    const read = valueFromFields('fieldMappings', fields);
    expect(read.problems).toEqual([]);
    expect(SETTINGS.fieldMappings.validate(read.value)).toEqual(mappings);
    expect('salesforceContactField' in ((read.value as Record<string, unknown>[])[0] ?? {})).toBe(false);
    expect((mappings.value as FieldMapping[]).map((m) => contactFieldOf(m))).toEqual(['Title', 'Contact_Tier__c', null]);
  });

  it('refuses two mappings that follow the same Contact field', () => {
    const refused = SETTINGS.fieldMappings.validate([
      { hubspotProperty: 'phone', salesforceField: 'Phone', rule: 'two_way' },
      { hubspotProperty: 'mobilephone', salesforceField: 'Mobile__c', rule: 'two_way', salesforceContactField: 'Phone' },
    ]);
    expect(refused).toEqual({ ok: false, error: ['[1].salesforceContactField: Contact field "Phone" is already followed by [0]'] });
  });

  it('trims value map entries, skips blank lines, and names a line without = or with an empty side by its row', () => {
    const read = valueFromFields('fieldMappings', {
      'map.hubspotProperty': ['jobtitle', 'industry'],
      'map.salesforceField': ['Title', 'Industry'],
      'map.rule': ['two_way', 'always_salesforce'],
      'map.valueMap': ['', '  BANKING =  Finance \r\n\n Technology\n= Retail\nRETAIL =  '],
    });
    expect(read.problems).toEqual([
      '[1].valueMap: "Technology" is not a value pair: write hubspot value = Salesforce value',
      '[1].valueMap: "= Retail" is not a value pair: write hubspot value = Salesforce value',
      '[1].valueMap: "RETAIL =" is not a value pair: write hubspot value = Salesforce value',
    ]);
    expect(read.value).toEqual([
      { hubspotProperty: 'jobtitle', salesforceField: 'Title', rule: 'two_way' },
      {
        hubspotProperty: 'industry',
        salesforceField: 'Industry',
        rule: 'always_salesforce',
        valueMap: [{ hubspot: 'BANKING', salesforce: 'Finance' }],
      },
    ]);
  });
});

/**
 * One rulebook: a stage dictionary given only as data (test/fixtures/stage-dictionary-meeting.json adds
 * `meeting`, Salesforce Lead Status "Meeting Booked", between SQL and opportunity) drives the sync
 * decisions, the report's funnel columns and the Lead Status values provisioning needs; a feedback
 * reason added to the taxonomy reaches the Salesforce picklists. No code names the new stage or reason.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leadStatusValues, salesforceCustomFields } from '../../../src/crm/field-catalog.ts';
import { DEFAULT_FEEDBACK_TAXONOMY, findRulebookProblems, reasonCodeFor, validateFeedbackTaxonomy } from '../../../src/domain/feedback.ts';
import {
  compareStageRank,
  DEFAULT_STAGE_DICTIONARY,
  decideHubSpotToSalesforce,
  decideSalesforceToHubSpot,
  findStageForSalesforce,
  funnelColumns,
  funnelSteps,
  isForwardMove,
  validateStageDictionary,
  type StageDictionary,
} from '../../../src/domain/stages.ts';

const meetingData: unknown = JSON.parse(readFileSync(new URL('../../fixtures/stage-dictionary-meeting.json', import.meta.url), 'utf8'));

function meetingDictionary(): StageDictionary {
  const result = validateStageDictionary(meetingData);
  if (!result.ok) throw new Error(result.error.join('; '));
  return result.value;
}

const meetingBooked = { object: 'Lead', Status: 'Meeting Booked', IsConverted: false } as const;

describe('a stage added to the dictionary as data', () => {
  it('validates, with the new stage ranked between SQL and opportunity', () => {
    const dictionary = meetingDictionary();
    expect(dictionary.funnel).toEqual(['lead', 'mql', 'sql', 'meeting', 'opportunity', 'customer']);
    expect(compareStageRank(dictionary, 'meeting', 'sql')).toBeGreaterThan(0);
    expect(compareStageRank(dictionary, 'meeting', 'opportunity')).toBeLessThan(0);
    expect(compareStageRank(dictionary, 'lost', 'opportunity')).toBe(0);
    expect(isForwardMove(dictionary, 'sql', 'meeting')).toBe(true);
    expect(isForwardMove(dictionary, 'meeting', 'sql')).toBe(false);
  });

  it('maps Salesforce "Meeting Booked" to the new stage and moves HubSpot forward to its meaning', () => {
    const dictionary = meetingDictionary();
    expect(findStageForSalesforce(dictionary, meetingBooked)).toBe('meeting');
    const decision = decideSalesforceToHubSpot(
      dictionary,
      { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
      meetingBooked,
    );
    expect(decision).toMatchObject({ action: 'update', stage: 'meeting', clearFirst: false, steps: [{ hs_lead_status: 'CONNECTED' }] });
  });

  it('refuses to move a Lead at the new stage back to the handoff', () => {
    const decision = decideHubSpotToSalesforce(
      meetingDictionary(),
      { lifecyclestage: 'marketingqualifiedlead' },
      { leadId: '00Q000000000001', leadStatus: 'Meeting Booked' },
    );
    expect(decision).toEqual({
      action: 'none',
      reason: 'refused: backward move from meeting (Lead Status "Meeting Booked") to mql',
    });
  });

  it('gives the report a column and two steps for it', () => {
    const dictionary = meetingDictionary();
    expect(funnelColumns(dictionary).map((column) => [column.countKey, column.plural])).toEqual([
      ['leads', 'Leads'],
      ['mqls', 'MQLs'],
      ['sqls', 'SQLs'],
      ['meetings', 'Meetings'],
      ['opportunities', 'Opportunities'],
      ['customers', 'Customers'],
    ]);
    expect(funnelSteps(dictionary).map((step) => step.key)).toEqual([
      'leadToMql',
      'mqlToSql',
      'sqlToMeeting',
      'meetingToOpportunity',
      'opportunityToCustomer',
      'leadToCustomer',
    ]);
  });

  it('adds its Lead Status to the values provisioning needs in Salesforce, in funnel order', () => {
    expect(leadStatusValues(DEFAULT_STAGE_DICTIONARY)).toEqual(['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted']);
    expect(leadStatusValues(meetingDictionary())).toEqual([
      'Open - Not Contacted',
      'Working - Contacted',
      'Meeting Booked',
      'Closed - Not Converted',
    ]);
  });

  it('refuses a row whose stage is neither in the funnel nor a side stage, naming the row', () => {
    const data = meetingData as { funnel: string[] };
    const result = validateStageDictionary({ ...data, funnel: data.funnel.filter((stage) => stage !== 'meeting') });
    expect(result).toEqual({
      ok: false,
      error: [
        'rows[3].stage: stage "meeting" is neither a funnel stage (lead, mql, sql, opportunity, customer) nor a side stage (rejected, recycled, lost)',
      ],
    });
  });

  it('refuses a funnel that lists a side stage or a stage twice, and a side stage ranked outside the funnel', () => {
    const result = validateStageDictionary({
      ...DEFAULT_STAGE_DICTIONARY,
      funnel: ['lead', 'mql', 'lost', 'sql', 'mql', 'customer'],
    });
    expect(result).toEqual({
      ok: false,
      error: [
        'funnel[2]: "lost" is a side stage, reached only by an explicit rule; it has no place in the funnel',
        'funnel[4]: "mql" is listed twice',
        'sideStageRanks.lost: "opportunity" is not a stage of the funnel',
        'rows[5].stage: stage "opportunity" is neither a funnel stage (lead, mql, lost, sql, mql, customer) nor a side stage (rejected, recycled, lost)',
        'rows[6].stage: stage "opportunity" is neither a funnel stage (lead, mql, lost, sql, mql, customer) nor a side stage (rejected, recycled, lost)',
      ],
    });
  });
});

describe('a feedback reason added to the taxonomy as data', () => {
  it('is known by code and offered in the Salesforce reason picklists', () => {
    const result = validateFeedbackTaxonomy({
      reasons: [
        { label: 'No budget', code: 'no_budget' },
        { label: 'Bad timing', code: 'bad_timing' },
        { label: 'Chose a partner', code: 'chose_partner' },
        { label: 'Other', code: 'other' },
      ],
    });
    if (!result.ok) throw new Error(result.error.join('; '));
    expect(reasonCodeFor(result.value, 'Chose a partner')).toBe('chose_partner');
    const picklists = salesforceCustomFields(result.value.reasons).filter(
      (field) => field.type === 'Picklist' && /Reason/.test(field.name),
    );
    expect(picklists.map((field) => [field.object, field.name])).toEqual([
      ['Lead', 'Feedback_Reason__c'],
      ['Contact', 'Feedback_Reason__c'],
      ['Opportunity', 'Loss_Reason__c'],
    ]);
    for (const field of picklists) expect(field.picklistValues).toEqual(['No budget', 'Bad timing', 'Chose a partner', 'Other']);
  });
});

describe('the feedback taxonomy checked against the stage dictionary', () => {
  it('finds nothing to say about the defaults, nor about a dictionary with an added stage', () => {
    expect(findRulebookProblems(DEFAULT_STAGE_DICTIONARY, DEFAULT_FEEDBACK_TAXONOMY)).toEqual([]);
    expect(findRulebookProblems(meetingDictionary(), DEFAULT_FEEDBACK_TAXONOMY)).toEqual([]);
  });

  it('refuses a taxonomy whose accepted status the dictionary maps to another stage, naming the row', () => {
    const taxonomy = validateFeedbackTaxonomy({ leadStatuses: { accepted: ['Meeting Booked'] } });
    if (!taxonomy.ok) throw new Error(taxonomy.error.join('; '));
    expect(findRulebookProblems(meetingDictionary(), taxonomy.value)).toEqual([
      'rows[3]: Lead Status "Meeting Booked" is accepted in the feedback taxonomy but stage "meeting" here (expected sql)',
    ]);
  });

  it("refuses an outcome lifecyclestage that differs from its stage's row", () => {
    const taxonomy = validateFeedbackTaxonomy({ hubspot: { wonLifecycleStage: 'evangelist' } });
    if (!taxonomy.ok) throw new Error(taxonomy.error.join('; '));
    expect(findRulebookProblems(DEFAULT_STAGE_DICTIONARY, taxonomy.value)).toEqual([
      'rows[7]: stage "customer" sets lifecyclestage "customer" but the feedback taxonomy\'s wonLifecycleStage is "evangelist"',
    ]);
  });
});

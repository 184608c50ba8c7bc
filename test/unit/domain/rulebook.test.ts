/**
 * One rulebook: a stage dictionary given only as data (test/fixtures/stage-dictionary-meeting.json adds
 * `meeting`, Salesforce Lead Status "Meeting Booked", between SQL and opportunity) drives the sync
 * decisions, the report's funnel columns and the Lead Status values provisioning needs; a feedback
 * reason added to the taxonomy reaches the Salesforce picklists. No code names the new stage or reason.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leadStatusValues, salesforceCustomFields } from '../../../src/crm/field-catalog.ts';
import {
  DEFAULT_FEEDBACK_TAXONOMY,
  deriveFeedback,
  leadStatusMeanings,
  reasonCodeFor,
  validateFeedbackTaxonomy,
} from '../../../src/domain/feedback.ts';
import { isFirstTouch } from '../../../src/domain/sla.ts';
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

describe('what a Lead Status or a reason means is said once, in the dictionary', () => {
  const closedLead = (reason: string) =>
    ({
      object: 'Lead',
      Id: '00Q000000000001AAA',
      Status: 'Closed - Not Converted',
      IsConverted: false,
      Feedback_Reason__c: reason,
      LastModifiedDate: '2026-03-02T10:00:00.000Z',
    }) as const;

  it('recycles the reasons the recycled row names, and no other', () => {
    const dictionary: StageDictionary = {
      ...DEFAULT_STAGE_DICTIONARY,
      rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) =>
        row.stage === 'recycled' && row.salesforce?.object === 'Lead'
          ? { ...row, salesforce: { ...row.salesforce, reasons: ['Competitor'] } }
          : row,
      ),
    };
    const outcome = (reason: string, rules: StageDictionary) => {
      const decision = deriveFeedback(null, closedLead(reason), DEFAULT_FEEDBACK_TAXONOMY, rules);
      return decision.kind === 'feedback' ? decision.feedback.outcome : decision.reason;
    };
    expect([outcome('Competitor', dictionary), outcome('Bad timing', dictionary)]).toEqual(['recycled', 'rejected']);
    expect([outcome('Competitor', DEFAULT_STAGE_DICTIONARY), outcome('Bad timing', DEFAULT_STAGE_DICTIONARY)]).toEqual([
      'rejected',
      'recycled',
    ]);
  });

  it("starts and stops the SLA's first touch on the handoff stage's statuses", () => {
    const untouched = leadStatusMeanings(meetingDictionary()).untouched;
    expect(untouched).toEqual(['Open - Not Contacted']);
    expect(isFirstTouch('Open - Not Contacted', 'Meeting Booked', untouched)).toBe(true);
    expect(isFirstTouch('Open - Not Contacted', 'Open - Not Contacted', untouched)).toBe(false);
  });
});

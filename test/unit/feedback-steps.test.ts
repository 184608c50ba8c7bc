import { describe, expect, it } from 'vitest';
import type { SalesforceRecord } from '../../src/crm/ports.ts';
import { DEFAULT_FEEDBACK_TAXONOMY, deriveFeedback } from '../../src/domain/feedback.ts';
import {
  decideSalesforceToHubSpot,
  DEFAULT_STAGE_DICTIONARY,
  type HubSpotContactSnapshot,
  type SalesforceSnapshot,
  type StageDictionary,
} from '../../src/domain/stages.ts';
import { feedbackSnapshotOf, mergeFeedbackSteps } from '../../src/sync/feedback.ts';
import { recyclingLostOpportunities } from '../support/dictionaries.ts';

const AT = '2026-03-02T14:05:00.000+0000';

const leadRecord = (fields: Record<string, unknown>): SalesforceRecord => ({
  Id: '00Q000000000001AAA',
  Status: 'Open - Not Contacted',
  IsConverted: false,
  LastModifiedDate: AT,
  OwnerId: '005000000000004AAA',
  ...fields,
});
const opportunityRecord = (fields: Record<string, unknown>): SalesforceRecord => ({
  Id: '006000000000001AAA',
  StageName: 'Proposal/Price Quote',
  IsClosed: false,
  IsWon: false,
  Amount: 12_500,
  CloseDate: '2026-06-30',
  LastModifiedDate: AT,
  ...fields,
});

function stageSnapshot(type: 'Lead' | 'Opportunity', record: SalesforceRecord): SalesforceSnapshot {
  const feedback = feedbackSnapshotOf(type, record, null);
  return feedback.object === 'Lead'
    ? { object: 'Lead', Status: feedback.Status, IsConverted: feedback.IsConverted, Feedback_Reason__c: feedback.Feedback_Reason__c }
    : {
        object: 'Opportunity',
        StageName: feedback.StageName,
        IsWon: feedback.IsWon,
        IsClosed: feedback.IsClosed,
        Loss_Reason__c: feedback.Loss_Reason__c,
      };
}

/** The writes sales-progress sends for one record: the dictionary's lifecycle decision plus the feedback. */
function steps(
  type: 'Lead' | 'Opportunity',
  record: SalesforceRecord,
  contact: HubSpotContactSnapshot,
  dictionary: StageDictionary = DEFAULT_STAGE_DICTIONARY,
) {
  const lifecycle = decideSalesforceToHubSpot(dictionary, contact, stageSnapshot(type, record));
  const feedback = deriveFeedback(null, feedbackSnapshotOf(type, record, 'Riley Rep'), DEFAULT_FEEDBACK_TAXONOMY, dictionary);
  return mergeFeedbackSteps(lifecycle, feedback, contact);
}

describe('feedbackSnapshotOf', () => {
  it('reads a Lead record as the feedback rules see it', () => {
    expect(
      feedbackSnapshotOf(
        'Lead',
        leadRecord({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need', Feedback_Notes__c: ' ' }),
        'Riley Rep',
      ),
    ).toEqual({
      object: 'Lead',
      Id: '00Q000000000001AAA',
      Status: 'Closed - Not Converted',
      IsConverted: false,
      ConvertedOpportunityId: null,
      Feedback_Reason__c: 'No need',
      Feedback_Notes__c: null,
      OwnerName: 'Riley Rep',
      LastModifiedDate: AT,
    });
  });

  it('falls back to SystemModstamp when a record has no LastModifiedDate', () => {
    const { LastModifiedDate: _omitted, ...rest } = opportunityRecord({});
    expect(feedbackSnapshotOf('Opportunity', { ...rest, SystemModstamp: AT }, null).LastModifiedDate).toBe(AT);
  });
});

describe('mergeFeedbackSteps', () => {
  it('puts the rejection feedback on the same write as UNQUALIFIED', () => {
    const record = leadRecord({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'No need', Feedback_Notes__c: 'Uses spreadsheets' });
    expect(steps('Lead', record, { lifecyclestage: 'marketingqualifiedlead' })).toEqual([
      {
        hs_lead_status: 'UNQUALIFIED',
        sales_feedback_status: 'rejected',
        sales_feedback_reason: 'no_need',
        sales_feedback_notes: 'Uses spreadsheets',
        sales_feedback_by: 'Riley Rep',
        sales_feedback_at: '2026-03-02T14:05:00.000Z',
      },
    ]);
  });

  it('keeps the dictionary recycle in two writes, clear first, with the feedback on the second', () => {
    const record = leadRecord({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'Bad timing' });
    const [clear, set, ...rest] = steps('Lead', record, { lifecyclestage: 'marketingqualifiedlead' });
    expect(clear).toEqual({ lifecyclestage: '' });
    expect(set).toMatchObject({
      lifecyclestage: 'lead',
      hs_lead_status: 'NEW',
      sales_feedback_status: 'recycled',
      sales_feedback_reason: 'bad_timing',
    });
    expect(rest).toEqual([]);
  });

  it('recycles a lost Opportunity to nurture when the dictionary says so, clearing the lifecycle first', () => {
    const dictionary = recyclingLostOpportunities(['Bad timing']);
    const record = opportunityRecord({ StageName: 'Closed Lost', IsClosed: true, Loss_Reason__c: 'Bad timing' });
    const [clear, set, ...rest] = steps(
      'Opportunity',
      record,
      { lifecyclestage: 'opportunity', sales_feedback_status: 'opportunity' },
      dictionary,
    );
    expect(clear).toEqual({ lifecyclestage: '' });
    expect(set).toMatchObject({
      lifecyclestage: 'lead',
      hs_lead_status: 'NEW',
      sales_feedback_status: 'recycled',
      sales_feedback_reason: 'bad_timing',
      sales_opportunity_amount: '12500.00',
    });
    expect(rest).toEqual([]);
  });

  it('records a lost reason without moving the lifecycle', () => {
    const record = opportunityRecord({ StageName: 'Closed Lost', IsClosed: true, Loss_Reason__c: 'Competitor' });
    expect(steps('Opportunity', record, { lifecyclestage: 'opportunity' })).toEqual([
      expect.objectContaining({ sales_feedback_status: 'lost', sales_feedback_reason: 'competitor', sales_opportunity_amount: '12500.00' }),
    ]);
    expect(steps('Opportunity', record, { lifecyclestage: 'opportunity' })[0]).not.toHaveProperty('lifecyclestage');
  });

  it('writes the won amount with the move to customer', () => {
    const record = opportunityRecord({
      StageName: 'Closed Won',
      IsClosed: true,
      IsWon: true,
      Amount: 50_000,
      Win_Reason__c: 'Best integration',
    });
    expect(steps('Opportunity', record, { lifecyclestage: 'opportunity' })).toEqual([
      expect.objectContaining({
        lifecyclestage: 'customer',
        sales_feedback_status: 'won',
        sales_won_amount: '50000.00',
        sales_opportunity_amount: '50000.00',
      }),
    ]);
  });

  it('writes feedback alone when the lifecycle already matches', () => {
    const record = leadRecord({ Status: 'Closed - Not Converted', Feedback_Reason__c: 'Duplicate' });
    expect(steps('Lead', record, { lifecyclestage: 'marketingqualifiedlead', hs_lead_status: 'UNQUALIFIED' })).toEqual([
      expect.objectContaining({ sales_feedback_status: 'rejected', sales_feedback_reason: 'duplicate' }),
    ]);
  });

  it('leaves the lifecycle steps as they are when there is no new feedback', () => {
    const record = leadRecord({ Status: 'Working - Contacted' });
    const lifecycle = decideSalesforceToHubSpot(
      DEFAULT_STAGE_DICTIONARY,
      { lifecyclestage: 'marketingqualifiedlead' },
      stageSnapshot('Lead', record),
    );
    const unchanged = deriveFeedback(
      { outcome: 'accepted', reasonCode: null, notes: null, at: Date.parse(AT) },
      feedbackSnapshotOf('Lead', record, null),
      DEFAULT_FEEDBACK_TAXONOMY,
      DEFAULT_STAGE_DICTIONARY,
    );
    expect(unchanged.kind).toBe('none');
    expect(mergeFeedbackSteps(lifecycle, unchanged, { lifecyclestage: 'marketingqualifiedlead' })).toEqual([
      { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
    ]);
  });

  it('sets lead without a clear when a recycled contact has no lifecycle stage yet', () => {
    const record = opportunityRecord({ StageName: 'Closed Lost', IsClosed: true, Loss_Reason__c: 'No budget' });
    const written = steps('Opportunity', record, {}, recyclingLostOpportunities(['No budget']));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ lifecyclestage: 'lead', sales_feedback_status: 'recycled' });
  });
});

import { describe, expect, it } from 'vitest';
import { decideStageAgreement, hubspotFunnelRank } from '../../../src/domain/stage-agreement.ts';
import { DEFAULT_STAGE_DICTIONARY as dictionary } from '../../../src/domain/stages.ts';

const lead = (Status: string, extra: { IsConverted?: boolean; Feedback_Reason__c?: string; Lifecycle_Stage__c?: string } = {}) => ({
  lead: { object: 'Lead' as const, Status, IsConverted: false, ...extra },
});
const opportunity = (state: 'open' | 'won' | 'lost') => ({
  lead: { object: 'Lead' as const, Status: 'Closed - Converted', IsConverted: true },
  opportunity: {
    object: 'Opportunity' as const,
    StageName: state === 'won' ? 'Closed Won' : state === 'lost' ? 'Closed Lost' : 'Prospecting',
    IsWon: state === 'won',
    IsClosed: state !== 'open',
  },
});

describe('initial sync stage agreement', () => {
  it('moves HubSpot forward to SQL when the same-email Lead is already Working - Contacted', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'marketingqualifiedlead' }, lead('Working - Contacted'))).toMatchObject({
      action: 'move_hubspot',
      stage: 'sql',
      properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' },
    });
  });

  it('moves HubSpot to customer when the converted Lead has a won Opportunity', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'lead' }, opportunity('won'))).toMatchObject({
      action: 'move_hubspot',
      stage: 'customer',
      properties: { lifecyclestage: 'customer' },
    });
  });

  it('moves HubSpot to opportunity for an open or a lost Opportunity, never further', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'salesqualifiedlead' }, opportunity('open'))).toMatchObject({
      action: 'move_hubspot',
      properties: { lifecyclestage: 'opportunity' },
    });
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'marketingqualifiedlead' }, opportunity('lost'))).toMatchObject({
      action: 'move_hubspot',
      properties: { lifecyclestage: 'opportunity' },
    });
  });

  it('moves an unconverted Lead forward when HubSpot is ahead, setting Lifecycle_Stage__c only when no mapped Status syncs to Salesforce', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'opportunity' }, lead('Open - Not Contacted'))).toEqual({
      action: 'move_salesforce',
      stage: 'opportunity',
      fields: { Lifecycle_Stage__c: 'opportunity' },
      reason: expect.stringContaining('HubSpot is ahead'),
    });
  });

  it('sets the mapped Status when the stage HubSpot is at syncs to Salesforce as a Lead Status', () => {
    const bothWays = {
      ...dictionary,
      rows: dictionary.rows.map((row) => (row.stage === 'sql' ? { ...row, direction: 'both' as const } : row)),
    };
    expect(decideStageAgreement(bothWays, { lifecyclestage: 'salesqualifiedlead' }, lead('Open - Not Contacted'))).toMatchObject({
      action: 'move_salesforce',
      fields: { Lifecycle_Stage__c: 'sql', Status: 'Working - Contacted' },
    });
  });

  it('writes nothing when both sides are already at the same stage', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'marketingqualifiedlead' }, lead('Open - Not Contacted'))).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('already in agreement'),
    });
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'customer' }, opportunity('won'))).toMatchObject({ action: 'none' });
  });

  it('writes nothing when HubSpot is ahead but the Lead already mirrors its stage', () => {
    expect(
      decideStageAgreement(
        dictionary,
        { lifecyclestage: 'opportunity' },
        lead('Open - Not Contacted', { Lifecycle_Stage__c: 'opportunity' }),
      ),
    ).toMatchObject({ action: 'none' });
  });

  it('never moves HubSpot backwards: a customer stays a customer next to an open Lead', () => {
    const decision = decideStageAgreement(dictionary, { lifecyclestage: 'customer' }, opportunity('open'));
    expect(decision).toMatchObject({ action: 'none', reason: expect.stringContaining('Salesforce owns the stage') });
  });

  it('does not reopen a Lead sales closed, however far HubSpot is', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'salesqualifiedlead' }, lead('Closed - Not Converted'))).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('not reopened'),
    });
    expect(
      decideStageAgreement(
        dictionary,
        { lifecyclestage: 'marketingqualifiedlead' },
        lead('Closed - Not Converted', { Feedback_Reason__c: 'Bad timing' }),
      ),
    ).toMatchObject({ action: 'none' });
  });

  it('ranks an evangelist past customer and refuses a lifecyclestage the portal order does not know', () => {
    expect(hubspotFunnelRank(dictionary, { lifecyclestage: 'evangelist' })).toBe(4);
    expect(hubspotFunnelRank(dictionary, { lifecyclestage: 'subscriber' })).toBe(-1);
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'evangelist' }, opportunity('won'))).toMatchObject({ action: 'none' });
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'made-up' }, lead('Working - Contacted'))).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('cannot be ranked'),
    });
  });

  it('moves a subscriber with no stage forward to the stage of its Lead', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'subscriber' }, lead('Open - Not Contacted'))).toMatchObject({
      action: 'move_hubspot',
      stage: 'mql',
      properties: { lifecyclestage: 'marketingqualifiedlead' },
    });
    expect(decideStageAgreement(dictionary, {}, lead('Working - Contacted'))).toMatchObject({ action: 'move_hubspot', stage: 'sql' });
  });

  it('compares nothing for a pair linked to a Salesforce Contact only, or a Lead Status no stage names', () => {
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'lead' }, {})).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('Contact only'),
    });
    expect(decideStageAgreement(dictionary, { lifecyclestage: 'lead' }, lead('Nurturing'))).toMatchObject({
      action: 'none',
      reason: expect.stringContaining('no stage in the dictionary'),
    });
  });
});

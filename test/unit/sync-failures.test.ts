import { describe, expect, it } from 'vitest';
import { decideHubSpotToSalesforce, decideSalesforceToHubSpot, DEFAULT_STAGE_DICTIONARY } from '../../src/domain/stages.ts';
import {
  classifyFailure,
  FAILURE_CAUSES,
  groupFailures,
  isNoRuleMatch,
  type FailureCause,
  type FailureLine,
} from '../../src/domain/sync-failures.ts';

const AT = new Date('2026-12-01T10:00:00Z');

function line(overrides: Partial<FailureLine>): FailureLine {
  return { recordRef: 'hubspot:contact:101', level: 'error', action: 'handoff_failed', reason: '', details: {}, at: AT, ...overrides };
}

const cause = (action: string, reason: string, details: Record<string, unknown> = {}): FailureCause =>
  classifyFailure({ action, reason, details }).cause;

describe('the cause of a sync failure', () => {
  it('reads a Salesforce validation rule from a refused Lead', () => {
    expect(
      classifyFailure({
        action: 'handoff_failed',
        reason: 'Salesforce refused the Lead: FIELD_CUSTOM_VALIDATION_EXCEPTION Phone is required',
        details: { fields: ['Phone'] },
      }),
    ).toEqual({
      cause: 'validation_rule',
      code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    });
  });

  it('reads missing field-level security from INVALID_FIELD', () => {
    expect(
      cause(
        'update_lead_failed',
        "Salesforce refused the update of Lead 00Q1: INVALID_FIELD No such column 'First_Touch_Channel__c' on sobject of type Lead",
      ),
    ).toBe('missing_permission');
  });

  it('reads a locked record from UNABLE_TO_LOCK_ROW', () => {
    expect(
      cause(
        'stamp_failed',
        'Salesforce refused the attribution stamp: UNABLE_TO_LOCK_ROW unable to obtain exclusive access to this record',
      ),
    ).toBe('locked_record');
  });

  it('reads an unknown picklist value from INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', () => {
    expect(
      cause(
        'update_lead_failed',
        'Salesforce refused the update of Lead 00Q1: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST bad value for restricted picklist field: Working',
      ),
    ).toBe('unknown_picklist_value');
  });

  it('reads a rate limit from REQUEST_LIMIT_EXCEEDED', () => {
    expect(
      cause('sla_check_refused', 'salesforce refused a request of the SLA check: REQUEST_LIMIT_EXCEEDED TotalRequests Limit exceeded.'),
    ).toBe('rate_limit');
  });

  it('reads a write HubSpot did not keep from the code in the details', () => {
    expect(
      classifyFailure({
        action: 'update_hubspot_failed',
        reason: 'HubSpot did not take the update: kept other values',
        details: { code: 'WRITE_IGNORED', fields: ['lifecyclestage'] },
      }),
    ).toEqual({
      cause: 'write_ignored',
      code: 'WRITE_IGNORED',
    });
  });

  it('reads a HubSpot property refusal from VALIDATION_ERROR', () => {
    expect(cause('create_contact_failed', 'HubSpot refused the contact: VALIDATION_ERROR Property values were not valid')).toBe(
      'hubspot_property_rejected',
    );
  });

  it('takes a campaign without a responded status, a stage no rule covers and a reconciler catch by their action', () => {
    expect(cause('campaign_no_responded_status', 'not added to Campaign "Webinar"')).toBe('campaign_no_responded_status');
    expect(cause('no_rule_matches', 'no salesforce_to_hubspot rule matches Lead Status "Working"')).toBe('no_rule_matches');
    expect(cause('reconcile_caught', 'lifecyclestage changed at … with no webhook received for it')).toBe('missed_webhook');
  });

  it('puts a failure with no known code under other problems', () => {
    expect(classifyFailure({ action: 'sla_alert_failed', reason: 'SLA alert refused, not retried: HTTP 410', details: {} })).toEqual({
      cause: 'other',
      code: null,
    });
  });

  it('names each error code under one cause only', () => {
    const codes = Object.values(FAILURE_CAUSES).flatMap((info) => info.codes);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('failures grouped by cause', () => {
  it('counts lines and distinct records per cause, the biggest group first, with its fix', () => {
    const groups = groupFailures([
      line({
        recordRef: 'hubspot:contact:1',
        reason: 'Salesforce refused the Lead: FIELD_CUSTOM_VALIDATION_EXCEPTION Phone is required',
        at: new Date('2026-12-01T10:00:00Z'),
      }),
      line({
        recordRef: 'hubspot:contact:2',
        reason: 'Salesforce refused the Lead: FIELD_CUSTOM_VALIDATION_EXCEPTION Phone is required',
        at: new Date('2026-12-01T11:00:00Z'),
      }),
      line({
        recordRef: 'hubspot:contact:2',
        reason: 'Salesforce refused the Lead: FIELD_CUSTOM_VALIDATION_EXCEPTION Company is required',
        at: new Date('2026-12-01T12:00:00Z'),
      }),
      line({
        recordRef: 'salesforce:Lead:00Q1',
        level: 'warn',
        action: 'no_rule_matches',
        reason: 'no salesforce_to_hubspot rule matches Lead Status "Working"',
      }),
      line({ recordRef: 'hubspot:contact:3', level: 'info', action: 'handoff', reason: 'handoff (MQL)' }),
    ]);
    expect(groups.map((g) => [g.cause, g.count, g.recordCount])).toEqual([
      ['validation_rule', 3, 2],
      ['no_rule_matches', 1, 1],
    ]);
    const [validation] = groups;
    expect(validation?.records).toEqual(['hubspot:contact:2', 'hubspot:contact:1']);
    expect(validation?.example).toContain('Company is required');
    expect(validation?.latestAt).toEqual(new Date('2026-12-01T12:00:00Z'));
    expect(validation?.hint).toContain('Validation Rules');
    expect(validation?.errors).toBe(3);
  });

  it('lists at most the asked number of records and still counts them all', () => {
    const lines = Array.from({ length: 15 }, (_, i) =>
      line({ recordRef: `hubspot:contact:${i}`, reason: 'UNABLE_TO_LOCK_ROW', at: new Date(AT.getTime() + i) }),
    );
    const [group] = groupFailures(lines, 10);
    expect(group?.records).toHaveLength(10);
    expect(group?.recordCount).toBe(15);
    expect(group?.records[0]).toBe('hubspot:contact:14');
  });
});

describe('a silent stop', () => {
  it('is a Salesforce state that no stage row covers', () => {
    const decision = decideSalesforceToHubSpot(
      DEFAULT_STAGE_DICTIONARY,
      { lifecyclestage: 'marketingqualifiedlead' },
      { object: 'Lead', Status: 'Working', IsConverted: false },
    );
    expect(decision.action).toBe('none');
    expect(isNoRuleMatch(decision.reason)).toBe(true);
  });

  it('is a linked Lead whose Status no stage names', () => {
    const decision = decideHubSpotToSalesforce(
      DEFAULT_STAGE_DICTIONARY,
      { lifecyclestage: 'salesqualifiedlead' },
      { leadId: '00Q000000000001AAA', leadStatus: 'Working' },
    );
    expect(decision.action).toBe('none');
    expect(isNoRuleMatch(decision.reason)).toBe(true);
  });

  it('is not a backward move the dictionary refuses on purpose', () => {
    expect(isNoRuleMatch('refused: backward move from lifecyclestage "customer" to "lead" (lead is not a rejected/recycled rule)')).toBe(
      false,
    );
  });
});

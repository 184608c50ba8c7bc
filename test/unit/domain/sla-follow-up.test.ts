import { describe, expect, it } from 'vitest';
import { DEFAULT_FEEDBACK_TAXONOMY, deriveFeedback } from '../../../src/domain/feedback.ts';
import { DEFAULT_STAGE_DICTIONARY, type StageDictionary } from '../../../src/domain/stages.ts';
import {
  cadenceStatus,
  DEFAULT_SLA_POLICY,
  dispositionOf,
  dispositionStatus,
  followUpDeadlines,
  salesRulesEnabled,
  untouchedStatus,
  validateSlaPolicy,
} from '../../../src/domain/sla.ts';
import { SETTINGS } from '../../../src/server/admin/settings.ts';
import { fieldsOf, valueFromFields } from '../../../src/server/admin/settings-forms.ts';

const DAY = 86_400_000;
const HANDOFF = Date.parse('2026-03-02T09:00:00Z');

describe('follow-up rules in the SLA policy', () => {
  it('leaves cadence and disposition off by default, so an existing policy judges nothing new', () => {
    expect(DEFAULT_SLA_POLICY.cadence).toBeNull();
    expect(DEFAULT_SLA_POLICY.disposition).toBeNull();
    expect(salesRulesEnabled(DEFAULT_SLA_POLICY)).toEqual({ first_touch: true, untouched: true, cadence: false, disposition: false });
    const stored = validateSlaPolicy({ hours: 4 });
    expect(stored.ok && stored.value.cadence).toBeNull();
  });

  it('accepts a cadence of K touches in D days and a disposition deadline of X days', () => {
    const result = validateSlaPolicy({ cadence: { touches: 3, days: 7 }, disposition: { days: 10 } });
    expect(result.ok).toBe(true);
    if (result.ok) expect(salesRulesEnabled(result.value)).toMatchObject({ cadence: true, disposition: true });
  });

  it('refuses a fractional or zero touch count, non-positive days and days beyond a year, naming each field', () => {
    const result = validateSlaPolicy({ cadence: { touches: 2.5, days: 0 }, disposition: { days: 400 } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual(
        expect.arrayContaining([
          'cadence.touches: must be a whole number',
          'cadence.days: must be more than 0 days',
          'disposition.days: must be at most a year',
        ]),
      );
    }
    const zero = validateSlaPolicy({ cadence: { touches: 0, days: 7 } });
    expect(!zero.ok && zero.error).toEqual(['cadence.touches: must be at least 1']);
  });

  it('computes the cadence and disposition due instants in calendar days from handoff', () => {
    const deadlines = followUpDeadlines({ ...DEFAULT_SLA_POLICY, cadence: { touches: 3, days: 7 }, disposition: { days: 10 } }, HANDOFF);
    expect(deadlines).toEqual({ cadence: { touches: 3, dueAtMs: HANDOFF + 7 * DAY }, dispositionDueAtMs: HANDOFF + 10 * DAY });
    expect(followUpDeadlines(DEFAULT_SLA_POLICY, HANDOFF)).toEqual({ cadence: null, dispositionDueAtMs: null });
  });
});

describe('the settings form of the follow-up rules', () => {
  it('reads the cadence and disposition inputs back into the same policy', () => {
    const policy = SETTINGS.slaPolicy.validate({ hours: 4, cadence: { touches: 3, days: 7 }, disposition: { days: 10 } });
    if (!policy.ok) throw new Error(policy.error.join('; '));
    const fields = fieldsOf('slaPolicy', policy.value);
    expect(fields).toMatchObject({ cadenceTouches: '3', cadenceDays: '7', dispositionDays: '10' });
    expect(SETTINGS.slaPolicy.validate(valueFromFields('slaPolicy', fields).value)).toEqual(policy);
  });

  it('turns a rule off when its inputs are left blank', () => {
    const fields = { ...fieldsOf('slaPolicy', DEFAULT_SLA_POLICY), cadenceTouches: '', cadenceDays: '', dispositionDays: '' };
    const read = validateSlaPolicy(valueFromFields('slaPolicy', fields).value);
    expect(read.ok && [read.value.cadence, read.value.disposition]).toEqual([null, null]);
  });

  it('names a half-filled cadence and a disposition that is not a number', () => {
    const fields = { ...fieldsOf('slaPolicy', DEFAULT_SLA_POLICY), cadenceTouches: '3', cadenceDays: '', dispositionDays: 'ten' };
    const read = SETTINGS.slaPolicy.validate(valueFromFields('slaPolicy', fields).value);
    expect(!read.ok && read.error).toEqual(expect.arrayContaining(['cadence.days: is required', 'disposition.days: must be a number']));
  });
});

describe('cadenceStatus', () => {
  const rule = { required: 3, dueAtMs: HANDOFF + 7 * DAY };
  it('is met as soon as K touches are counted, before the window ends', () => {
    expect(cadenceStatus(rule, 3, HANDOFF + DAY)).toBe('met');
  });
  it('stays pending with fewer touches inside the window, the due instant included', () => {
    expect(cadenceStatus(rule, 2, HANDOFF + DAY)).toBe('pending');
    expect(cadenceStatus(rule, 2, rule.dueAtMs)).toBe('pending');
  });
  it('is missed with fewer than K touches once the window is over', () => {
    expect(cadenceStatus(rule, 2, rule.dueAtMs + 1)).toBe('missed');
    expect(cadenceStatus(rule, 0, rule.dueAtMs + DAY)).toBe('missed');
  });
});

describe('dispositionStatus and dispositionOf', () => {
  const due = HANDOFF + 10 * DAY;
  it('is met by a disposition at or before the due instant, early included', () => {
    expect(dispositionStatus(due, HANDOFF + DAY, HANDOFF + DAY)).toBe('met');
    expect(dispositionStatus(due, due, due + DAY)).toBe('met');
  });
  it('is missed by a late disposition or none past due, pending before', () => {
    expect(dispositionStatus(due, due + 1, due + DAY)).toBe('missed');
    expect(dispositionStatus(due, null, due + 1)).toBe('missed');
    expect(dispositionStatus(due, null, due - 1)).toBe('pending');
  });
  it('counts accepted, recycled, converted and rejected with a reason; not rejected without one', () => {
    expect(dispositionOf('accepted', null)).toBe('accepted');
    expect(dispositionOf('recycled', 'bad_timing')).toBe('recycled');
    expect(dispositionOf('opportunity', null)).toBe('converted');
    expect(dispositionOf('won', null)).toBe('converted');
    expect(dispositionOf('rejected', 'no_need')).toBe('rejected');
    expect(dispositionOf('rejected', null)).toBeNull();
  });
  it('reads what a Lead Status means from the stage dictionary, never from a list of its own', () => {
    const renamed: Record<string, string> = {
      'Open - Not Contacted': 'New',
      'Working - Contacted': 'Qualified',
      'Closed - Not Converted': 'Disqualified',
    };
    const dictionary: StageDictionary = {
      ...DEFAULT_STAGE_DICTIONARY,
      rows: DEFAULT_STAGE_DICTIONARY.rows.map((row) =>
        row.salesforce?.object === 'Lead' && row.salesforce.status !== undefined
          ? { ...row, salesforce: { ...row.salesforce, status: renamed[row.salesforce.status] ?? row.salesforce.status } }
          : row,
      ),
    };
    const lead = (Status: string, reason: string | null) =>
      deriveFeedback(
        null,
        { object: 'Lead', Id: '00Q1', Status, IsConverted: false, Feedback_Reason__c: reason, LastModifiedDate: HANDOFF },
        DEFAULT_FEEDBACK_TAXONOMY,
        dictionary,
      );
    const outcome = (Status: string, reason: string | null) => {
      const decision = lead(Status, reason);
      return decision.kind === 'feedback' ? dispositionOf(decision.feedback.outcome, decision.feedback.reasonCode) : null;
    };
    expect(outcome('Qualified', null)).toBe('accepted');
    expect(outcome('Working - Contacted', null)).toBeNull();
    expect(outcome('Disqualified', 'No need')).toBe('rejected');
    expect(outcome('Disqualified', 'Bad timing')).toBe('recycled');
    expect(outcome('Disqualified', null)).toBeNull();
  });
});

describe('untouchedStatus', () => {
  const due = HANDOFF + 4 * 3_600_000;
  it('is kept by any touch, a late one too', () => {
    expect(untouchedStatus(due, HANDOFF + 1, due + DAY)).toBe('met');
    expect(untouchedStatus(due, due + DAY, due + 2 * DAY)).toBe('met');
  });
  it('is broken by a Lead untouched past its first-touch due time, pending inside the window', () => {
    expect(untouchedStatus(due, null, due + 1)).toBe('missed');
    expect(untouchedStatus(due, null, due)).toBe('pending');
  });
});

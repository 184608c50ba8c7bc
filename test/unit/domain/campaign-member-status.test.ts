import { describe, expect, it } from 'vitest';
import { chooseMemberStatus, type MemberStatusOption } from '../../../src/domain/campaign-member-status.ts';

const status = (label: string, responded: boolean, sortOrder: number | null): MemberStatusOption => ({ label, responded, sortOrder });
/** What a new Salesforce Campaign starts with. */
const FRESH = [status('Sent', false, 1), status('Responded', true, 2)];
const EVENT = [status('Registered', false, 1), status('No Show', false, 2), status('Attended', true, 3), status('Spoke', true, 4)];

describe('chooseMemberStatus', () => {
  it("uses the configured status when the campaign counts it as responded, in the campaign's spelling", () => {
    expect(chooseMemberStatus(FRESH, 'responded', false)).toEqual({ kind: 'use', label: 'Responded' });
  });

  it("uses the campaign's first responded status by sort order when the configured one is missing", () => {
    expect(chooseMemberStatus([...EVENT].reverse(), 'Responded', false)).toEqual({ kind: 'use', label: 'Attended' });
  });

  it('never writes a configured status the campaign has but does not count as responded', () => {
    expect(chooseMemberStatus(EVENT, 'Registered', false)).toEqual({ kind: 'use', label: 'Attended' });
    expect(chooseMemberStatus(EVENT, 'Registered', true)).toEqual({ kind: 'use', label: 'Attended' });
  });

  it('finds no status on a campaign that counts none as responded', () => {
    expect(chooseMemberStatus([status('Sent', false, 1), status('Opened', false, 2)], 'Responded', false)).toEqual({ kind: 'none' });
    expect(chooseMemberStatus([], 'Responded', false)).toEqual({ kind: 'none' });
  });

  it('adds the configured status after the last one on a campaign the app created', () => {
    expect(chooseMemberStatus(FRESH, 'Form Submitted', true)).toEqual({ kind: 'add', label: 'Form Submitted', sortOrder: 3 });
    expect(chooseMemberStatus([], ' Form Submitted ', true)).toEqual({ kind: 'add', label: 'Form Submitted', sortOrder: 1 });
  });

  it('puts statuses without a sort order after the numbered ones', () => {
    expect(chooseMemberStatus([status('Clicked', true, null), status('Opened', true, 5)], 'Responded', false)).toEqual({
      kind: 'use',
      label: 'Opened',
    });
  });
});

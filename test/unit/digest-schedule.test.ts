import { describe, expect, it } from 'vitest';
import { currentSlot, digestPeriod, dueSlot, nextSlot, validateReviewDigest, type DigestSchedule } from '../../src/domain/digest.ts';

const at = (iso: string) => new Date(iso);
const weekly = (overrides: Partial<DigestSchedule> = {}): DigestSchedule => ({
  every: 'week',
  weekday: 1,
  hour: 8,
  timeZone: 'Europe/Paris',
  ...overrides,
});

describe('digest schedule', () => {
  it('names a weekly slot by the ISO week of the time zone and makes it due on the weekday and hour, local time', () => {
    // Wednesday 2026-12-02 is in 2026-W49; Monday 08:00 Paris (CET, UTC+1) is 07:00Z.
    expect(currentSlot(weekly(), at('2026-12-02T12:00:00Z'))).toEqual({ id: '2026-W49', dueAt: at('2026-11-30T07:00:00Z') });
    expect(currentSlot(weekly({ weekday: 5, hour: 16 }), at('2026-12-02T12:00:00Z'))).toEqual({
      id: '2026-W49',
      dueAt: at('2026-12-04T15:00:00Z'),
    });
  });

  it('reads the week in the time zone: Sunday 23:30Z is already Monday in Tokyo', () => {
    expect(currentSlot(weekly({ timeZone: 'UTC' }), at('2026-12-06T23:30:00Z')).id).toBe('2026-W49');
    expect(currentSlot(weekly({ timeZone: 'Asia/Tokyo' }), at('2026-12-06T23:30:00Z')).id).toBe('2026-W50');
  });

  it('keeps the local hour across the spring DST change (Paris, 29 March 2026)', () => {
    // Monday 23 March 08:00 CET = 07:00Z; Monday 30 March 08:00 CEST = 06:00Z.
    expect(currentSlot(weekly(), at('2026-03-25T00:00:00Z'))).toEqual({ id: '2026-W13', dueAt: at('2026-03-23T07:00:00Z') });
    expect(currentSlot(weekly(), at('2026-04-01T00:00:00Z'))).toEqual({ id: '2026-W14', dueAt: at('2026-03-30T06:00:00Z') });
    // Sunday 29 March 02:00 does not exist in Paris: due after the gap, 03:00 CEST = 01:00Z.
    expect(currentSlot(weekly({ weekday: 7, hour: 2 }), at('2026-03-25T00:00:00Z')).dueAt).toEqual(at('2026-03-29T01:00:00Z'));
  });

  it('takes the first of a repeated hour when clocks go back (Paris, 25 October 2026)', () => {
    // 02:00 happens twice: first in CEST (00:00Z), then in CET (01:00Z).
    expect(currentSlot(weekly({ weekday: 7, hour: 2 }), at('2026-10-21T00:00:00Z')).dueAt).toEqual(at('2026-10-25T00:00:00Z'));
  });

  it('anchors two-weekly slots on fixed week pairs, also across the 53-week year 2026', () => {
    const every = weekly({ every: 'two_weeks', timeZone: 'UTC' });
    // Pairs counted from the week of 5 January 1970: W50+W51, W52+W53, then 2027-W01+W02.
    expect(currentSlot(every, at('2026-12-09T00:00:00Z')).id).toBe('2026-W50');
    expect(currentSlot(every, at('2026-12-16T00:00:00Z')).id).toBe('2026-W50');
    expect(currentSlot(every, at('2026-12-23T00:00:00Z')).id).toBe('2026-W52');
    expect(currentSlot(every, at('2026-12-30T00:00:00Z'))).toEqual({ id: '2026-W52', dueAt: at('2026-12-21T08:00:00Z') });
    expect(currentSlot(every, at('2027-01-12T00:00:00Z'))).toEqual({ id: '2027-W01', dueAt: at('2027-01-04T08:00:00Z') });
  });

  it('is due from the due instant until a day after, and not before nor later', () => {
    const schedule = weekly({ timeZone: 'UTC' });
    expect(dueSlot(schedule, at('2026-11-30T07:59:59Z'))).toBeNull();
    expect(dueSlot(schedule, at('2026-11-30T08:00:00Z'))?.id).toBe('2026-W49');
    expect(dueSlot(schedule, at('2026-12-01T07:59:59Z'))?.id).toBe('2026-W49');
    expect(dueSlot(schedule, at('2026-12-01T08:00:00Z'))).toBeNull();
  });

  it('gives the next send: this slot before it is due, the next one after', () => {
    const schedule = weekly({ timeZone: 'UTC' });
    expect(nextSlot(schedule, at('2026-11-30T07:00:00Z'))).toEqual({ id: '2026-W49', dueAt: at('2026-11-30T08:00:00Z') });
    expect(nextSlot(schedule, at('2026-11-30T08:00:00Z'))).toEqual({ id: '2026-W50', dueAt: at('2026-12-07T08:00:00Z') });
    expect(nextSlot({ ...schedule, every: 'two_weeks' }, at('2026-12-09T00:00:00Z'))).toEqual({
      id: '2026-W52',
      dueAt: at('2026-12-21T08:00:00Z'),
    });
  });

  it('shows the quarter or month containing the local send date', () => {
    // 1 January 2027 00:30 in Paris is still 31 December 2026 in UTC.
    expect(digestPeriod({ period: 'quarter', timeZone: 'Europe/Paris' }, at('2026-12-31T23:30:00Z')).id).toBe('2027-Q1');
    expect(digestPeriod({ period: 'month', timeZone: 'UTC' }, at('2026-12-31T23:30:00Z')).id).toBe('2026-12');
  });
});

describe('digest setting', () => {
  it('refuses a bad weekday, hour, time zone and address, listing each', () => {
    const result = validateReviewDigest({ enabled: true, weekday: 8, hour: 24, timeZone: 'Mars/Olympus', emailTo: ['not-an-address'] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^weekday: must be 1 \(Monday\)/),
        expect.stringMatching(/^hour: must be 0 to 23/),
        expect.stringMatching(/^timeZone: is not an IANA time zone/),
        expect.stringMatching(/^emailTo\[0\]: must be an email address/),
      ]),
    );
  });

  it('refuses a digest that goes nowhere and a recipient listed twice', () => {
    const nowhere = validateReviewDigest({ enabled: true, emailTo: [], toAlertTarget: false });
    expect(nowhere).toEqual({
      ok: false,
      error: ['emailTo: the digest goes nowhere: add an email recipient or send it to the alert target'],
    });
    const twice = validateReviewDigest({ emailTo: ['a@example.com', 'A@example.com'] });
    expect(twice).toEqual({ ok: false, error: ['emailTo[1]: A@example.com is listed twice'] });
  });
});

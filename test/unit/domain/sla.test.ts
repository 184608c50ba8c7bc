import { describe, expect, it } from 'vitest';
import {
  computeDueAt,
  DEFAULT_SLA_POLICY,
  effectiveSla,
  epochForLocalWall,
  isFirstTouch,
  recomputeOnPolicyChange,
  slaStatus,
  summarizeSla,
  validateSlaPolicy,
  type SlaContext,
  type SlaPolicy,
  type SlaRecord,
  type SlaStatus,
} from '../../../src/domain/sla.ts';

const HOUR = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);

function policy(input: unknown): SlaPolicy {
  const result = validateSlaPolicy(input);
  if (!result.ok) throw new Error(result.error.join('\n'));
  return result.value;
}

const NEW_YORK = { timeZone: 'America/New_York' };
const BERLIN = { timeZone: 'Europe/Berlin' };

describe('validateSlaPolicy', () => {
  it('defaults to 4 calendar hours', () => {
    expect(DEFAULT_SLA_POLICY).toEqual({
      hours: 4,
      businessHours: null,
      cadence: null,
      disposition: null,
      overrides: [],
    });
  });

  it('fills business-hour defaults: Monday to Friday, 09:00–17:00, no holidays', () => {
    expect(policy({ businessHours: NEW_YORK }).businessHours).toEqual({
      timeZone: 'America/New_York',
      weekdays: [1, 2, 3, 4, 5],
      start: '09:00',
      end: '17:00',
      holidays: [],
    });
  });

  it.each<{ name: string; input: unknown; messages: string[] }>([
    {
      name: 'an unknown time zone',
      input: { businessHours: { timeZone: 'Mars/Olympus_Mons' } },
      messages: ['businessHours.timeZone: is not an IANA time zone'],
    },
    {
      name: 'a window that ends before it starts',
      input: { businessHours: { ...NEW_YORK, start: '18:00', end: '09:00' } },
      messages: ['businessHours.end: start must be before end (overnight windows are not supported)'],
    },
    {
      name: 'a malformed clock time',
      input: { businessHours: { ...NEW_YORK, start: '9am' } },
      messages: ['businessHours.start: must be HH:MM (00:00–24:00)'],
    },
    {
      name: 'a weekday outside 1–7',
      input: { businessHours: { ...NEW_YORK, weekdays: [0, 1] } },
      messages: [expect.stringMatching(/^businessHours\.weekdays\[0\]: /)],
    },
    {
      name: 'no working days',
      input: { businessHours: { ...NEW_YORK, weekdays: [] } },
      messages: [expect.stringMatching(/^businessHours\.weekdays: /)],
    },
    {
      name: 'a malformed holiday',
      input: { businessHours: { ...NEW_YORK, holidays: ['25/12/2026'] } },
      messages: ['businessHours.holidays[0]: must be YYYY-MM-DD'],
    },
    { name: 'zero hours', input: { hours: 0 }, messages: [expect.stringMatching(/^hours: /)] },
    {
      name: 'an override with neither team nor Lead Source',
      input: { overrides: [{ hours: 2 }] },
      messages: ['overrides[0]: an override needs a team or a leadSource'],
    },
  ])('refuses $name', ({ input, messages }) => {
    const result = validateSlaPolicy(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toEqual(messages);
  });
});

describe('computeDueAt', () => {
  it.each<{ name: string; handoff: string; due: string }>([
    {
      name: 'adds 4 real hours across the spring DST change in calendar mode',
      handoff: '2026-03-08T05:00:00Z',
      due: '2026-03-08T09:00:00Z',
    },
    {
      name: 'adds 4 real hours across the autumn DST change in calendar mode',
      handoff: '2026-11-01T04:00:00Z',
      due: '2026-11-01T08:00:00Z',
    },
    { name: 'adds 4 hours across midnight in calendar mode', handoff: '2026-03-03T22:30:00Z', due: '2026-03-04T02:30:00Z' },
  ])('$name', ({ handoff, due }) => {
    expect(computeDueAt(DEFAULT_SLA_POLICY, utc(handoff))).toBe(utc(due));
  });

  const newYorkOffice = policy({ businessHours: { ...NEW_YORK, holidays: ['2026-12-25'] } });
  it.each<{ name: string; handoff: string; due: string; hours?: number }>([
    { name: 'stays within one working day', handoff: '2026-03-03T15:00:00Z', due: '2026-03-03T19:00:00Z' },
    { name: 'carries the rest of the clock over the night', handoff: '2026-03-03T20:30:00Z', due: '2026-03-04T16:30:00Z' },
    { name: 'starts a night-time handoff at the next opening', handoff: '2026-03-04T03:00:00Z', due: '2026-03-04T18:00:00Z' },
    { name: 'starts an early-morning handoff at opening', handoff: '2026-03-04T11:00:00Z', due: '2026-03-04T18:00:00Z' },
    {
      name: 'falls due exactly at closing time rather than the next morning',
      handoff: '2026-03-03T18:00:00Z',
      due: '2026-03-03T22:00:00Z',
    },
    { name: 'treats a handoff exactly at closing as the next morning', handoff: '2026-03-03T22:00:00Z', due: '2026-03-04T18:00:00Z' },
    {
      name: 'skips the weekend of the spring DST change (Friday EST → Monday EDT)',
      handoff: '2026-03-06T20:00:00Z',
      due: '2026-03-09T15:00:00Z',
    },
    {
      name: 'starts a Saturday handoff on Monday after the spring DST change',
      handoff: '2026-03-07T17:00:00Z',
      due: '2026-03-09T17:00:00Z',
    },
    {
      name: 'skips the weekend of the autumn DST change (Friday EDT → Monday EST)',
      handoff: '2026-10-30T19:00:00Z',
      due: '2026-11-02T16:00:00Z',
    },
    { name: 'skips a holiday', handoff: '2026-12-24T20:00:00Z', due: '2026-12-28T16:00:00Z' },
    { name: 'spreads a 24-hour SLA over three working days', handoff: '2026-03-02T14:00:00Z', due: '2026-03-04T22:00:00Z', hours: 24 },
  ])('in New York business hours $name', ({ handoff, due, hours }) => {
    const rules = hours === undefined ? newYorkOffice : { ...newYorkOffice, hours };
    expect(new Date(computeDueAt(rules, utc(handoff))).toISOString()).toBe(new Date(utc(due)).toISOString());
  });

  it.each<{ name: string; rules: SlaPolicy; handoff: string; due: string }>([
    {
      name: 'works through the DST Sunday itself when Sundays are working days',
      rules: policy({ businessHours: { ...NEW_YORK, weekdays: [1, 2, 3, 4, 5, 6, 7], start: '08:00', end: '18:00' } }),
      handoff: '2026-03-07T22:00:00Z',
      due: '2026-03-08T15:00:00Z',
    },
    {
      name: 'counts the 23-hour spring DST day as 23 working hours in a 24/7 window',
      rules: policy({ hours: 24, businessHours: { ...NEW_YORK, weekdays: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } }),
      handoff: '2026-03-08T05:00:00Z',
      due: '2026-03-09T05:00:00Z',
    },
    {
      name: 'counts the 25-hour autumn DST day as 25 working hours in a 24/7 window',
      rules: policy({ hours: 26, businessHours: { ...NEW_YORK, weekdays: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } }),
      handoff: '2026-11-01T04:00:00Z',
      due: '2026-11-02T06:00:00Z',
    },
    {
      name: 'skips the Berlin weekend of the spring DST change (Friday CET → Monday CEST)',
      rules: policy({ businessHours: BERLIN }),
      handoff: '2026-03-27T15:00:00Z',
      due: '2026-03-30T10:00:00Z',
    },
    {
      name: 'skips the Berlin weekend of the autumn DST change (Friday CEST → Monday CET)',
      rules: policy({ businessHours: BERLIN }),
      handoff: '2026-10-23T14:00:00Z',
      due: '2026-10-26T11:00:00Z',
    },
    {
      name: 'adds half an hour for a 0.5-hour SLA',
      rules: policy({ hours: 0.5, businessHours: BERLIN }),
      handoff: '2026-03-27T15:45:00Z',
      due: '2026-03-30T07:15:00Z',
    },
  ])('$name', ({ rules, handoff, due }) => {
    expect(new Date(computeDueAt(rules, utc(handoff))).toISOString()).toBe(new Date(utc(due)).toISOString());
  });

  describe('overrides', () => {
    const rules = policy({
      hours: 4,
      overrides: [
        { team: 'Enterprise', hours: 8, businessHours: NEW_YORK },
        { leadSource: 'Partner Referral', hours: 1 },
        { team: 'SMB', leadSource: 'Web', hours: 2 },
      ],
    });
    const handoff = utc('2026-03-03T15:00:00Z');
    it.each<{ name: string; context: SlaContext; due: string }>([
      { name: 'uses the default without a matching override', context: {}, due: '2026-03-03T19:00:00Z' },
      {
        name: 'uses the team override, case-insensitively, with its business hours',
        context: { team: 'enterprise' },
        due: '2026-03-04T15:00:00Z',
      },
      { name: 'uses the Lead Source override', context: { leadSource: 'partner referral' }, due: '2026-03-03T16:00:00Z' },
      { name: 'needs both team and Lead Source when an override names both', context: { team: 'SMB' }, due: '2026-03-03T19:00:00Z' },
      { name: 'applies an override naming both when both match', context: { team: 'SMB', leadSource: 'Web' }, due: '2026-03-03T17:00:00Z' },
      {
        name: 'lets the first matching override win',
        context: { team: 'Enterprise', leadSource: 'Partner Referral' },
        due: '2026-03-04T15:00:00Z',
      },
    ])('$name', ({ context, due }) => {
      expect(computeDueAt(rules, handoff, context)).toBe(utc(due));
    });

    it('lets an override switch business hours off with null', () => {
      const office = policy({ businessHours: NEW_YORK, overrides: [{ team: 'Follow the sun', hours: 4, businessHours: null }] });
      expect(effectiveSla(office, { team: 'Follow the sun' })).toEqual({ hours: 4, businessHours: null });
      expect(computeDueAt(office, utc('2026-03-07T17:00:00Z'), { team: 'Follow the sun' })).toBe(utc('2026-03-07T21:00:00Z'));
      expect(computeDueAt(office, utc('2026-03-07T17:00:00Z'))).toBe(utc('2026-03-09T17:00:00Z'));
    });
  });
});

describe('local wall times', () => {
  it.each<{ name: string; zone: string; wall: [number, number, number, number, number]; instant: string }>([
    { name: 'resolves an ordinary New York time', zone: 'America/New_York', wall: [2026, 6, 1, 9, 0], instant: '2026-06-01T13:00:00Z' },
    {
      name: 'moves a time skipped by the New York spring change forward',
      zone: 'America/New_York',
      wall: [2026, 3, 8, 2, 30],
      instant: '2026-03-08T07:30:00Z',
    },
    {
      name: 'takes the earlier of a New York time repeated in autumn',
      zone: 'America/New_York',
      wall: [2026, 11, 1, 1, 30],
      instant: '2026-11-01T05:30:00Z',
    },
    {
      name: 'moves a time skipped by the Berlin spring change forward',
      zone: 'Europe/Berlin',
      wall: [2026, 3, 29, 2, 30],
      instant: '2026-03-29T01:30:00Z',
    },
    {
      name: 'takes the earlier of a Berlin time repeated in autumn',
      zone: 'Europe/Berlin',
      wall: [2026, 10, 25, 2, 30],
      instant: '2026-10-25T00:30:00Z',
    },
  ])('$name', ({ zone, wall, instant }) => {
    const [year, month, day, hour, minute] = wall;
    expect(epochForLocalWall(Date.UTC(year, month - 1, day, hour, minute), zone)).toBe(utc(instant));
  });
});

describe('slaStatus', () => {
  const due = utc('2026-03-03T19:00:00Z');
  it.each<{ name: string; touch: number | null; now: number; status: SlaStatus }>([
    { name: 'keeps a touch exactly at the due instant as met', touch: due, now: due + HOUR, status: 'met' },
    { name: 'counts a touch before the due instant as met', touch: due - 1, now: due + HOUR, status: 'met' },
    { name: 'counts a touch one millisecond late as breached', touch: due + 1, now: due + HOUR, status: 'breached' },
    { name: 'keeps an untouched clock pending before the due instant', touch: null, now: due - 1, status: 'pending' },
    { name: 'keeps an untouched clock pending at the due instant', touch: null, now: due, status: 'pending' },
    { name: 'breaches an untouched clock after the due instant', touch: null, now: due + 1, status: 'breached' },
    { name: 'judges a touch by the due instant, not by now', touch: due - HOUR, now: due - 2 * HOUR, status: 'met' },
  ])('$name', ({ touch, now, status }) => {
    expect(slaStatus(due, touch, now)).toBe(status);
  });
});

describe('isFirstTouch', () => {
  it.each<[string | null | undefined, string | null | undefined, boolean]>([
    ['Open - Not Contacted', 'Working - Contacted', true],
    ['Open - Not Contacted', 'Closed - Not Converted', true],
    ['open - not contacted', 'Closed - Converted', true],
    ['Open - Not Contacted', 'Open - Not Contacted', false],
    ['Working - Contacted', 'Closed - Not Converted', false],
    [null, 'Working - Contacted', false],
    ['Open - Not Contacted', null, false],
    ['Open - Not Contacted', ' ', false],
  ])('treats %j → %j as the first touch: %s', (previous, next, expected) => {
    expect(isFirstTouch(previous, next, ['Open - Not Contacted'])).toBe(expected);
  });

  it('uses the untouched statuses it is given', () => {
    expect(isFirstTouch('New', 'Open - Not Contacted', ['New', 'Open - Not Contacted'])).toBe(false);
    expect(isFirstTouch('New', 'Attempted', ['New', 'Open - Not Contacted'])).toBe(true);
  });
});

describe('recomputeOnPolicyChange', () => {
  const handoffAtMs = utc('2026-03-03T15:00:00Z');
  const fourHours = DEFAULT_SLA_POLICY;
  const dueAtMs = computeDueAt(fourHours, handoffAtMs);

  it('reschedules a running clock from the original handoff time', () => {
    const twoHours = policy({ hours: 2 });
    expect(recomputeOnPolicyChange(twoHours, { handoffAtMs, dueAtMs, firstTouchAtMs: null }, handoffAtMs + HOUR)).toEqual({
      kind: 'rescheduled',
      dueAtMs: handoffAtMs + 2 * HOUR,
      previousDueAtMs: dueAtMs,
      status: 'pending',
    });
  });

  it('breaches a running clock whose new due time has already passed', () => {
    const oneHour = policy({ hours: 1 });
    expect(recomputeOnPolicyChange(oneHour, { handoffAtMs, dueAtMs, firstTouchAtMs: null }, handoffAtMs + 3 * HOUR)).toMatchObject({
      kind: 'rescheduled',
      dueAtMs: handoffAtMs + HOUR,
      status: 'breached',
    });
  });

  it('applies the new policy to the clock context (a team override added mid-clock)', () => {
    const withOverride = policy({ hours: 4, overrides: [{ team: 'Enterprise', hours: 8 }] });
    const clock = { handoffAtMs, dueAtMs, firstTouchAtMs: null, context: { team: 'Enterprise' } };
    expect(recomputeOnPolicyChange(withOverride, clock, handoffAtMs + 5 * HOUR)).toMatchObject({
      kind: 'rescheduled',
      dueAtMs: handoffAtMs + 8 * HOUR,
      status: 'pending',
    });
  });

  it('leaves a clock stopped by the first touch as it is', () => {
    expect(
      recomputeOnPolicyChange(
        policy({ hours: 1 }),
        { handoffAtMs, dueAtMs, firstTouchAtMs: handoffAtMs + 2 * HOUR },
        handoffAtMs + 3 * HOUR,
      ),
    ).toMatchObject({
      kind: 'unchanged',
    });
  });

  it('leaves a clock whose due time does not change as it is', () => {
    expect(recomputeOnPolicyChange(policy({ hours: 4 }), { handoffAtMs, dueAtMs, firstTouchAtMs: null }, handoffAtMs)).toEqual({
      kind: 'unchanged',
      reason: 'the new policy gives the same due time',
    });
  });
});

describe('summarizeSla', () => {
  const due = 4 * HOUR;
  const records: SlaRecord[] = [
    { group: 'Team A', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: HOUR },
    { group: 'Team A', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: 5 * HOUR },
    { group: 'Team A', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: null },
    { group: 'Team B', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: due },
    { group: 'Team B', handoffAtMs: 9 * HOUR, dueAtMs: 13 * HOUR, firstTouchAtMs: null },
    { group: 'Team B', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: 2 * HOUR },
  ];
  const now = 10 * HOUR;

  it('counts handoffs, touches within SLA, breaches and the median time to first touch in total', () => {
    expect(summarizeSla(records, now).total).toEqual({
      group: '(all)',
      handedOff: 6,
      touchedWithinSla: 3,
      breached: 2,
      pending: 1,
      medianTimeToFirstTouchMs: 3 * HOUR,
      complianceRate: 0.6,
    });
  });

  it.each([
    {
      group: 'Team A',
      handedOff: 3,
      touchedWithinSla: 1,
      breached: 2,
      pending: 0,
      medianTimeToFirstTouchMs: 3 * HOUR,
      complianceRate: 1 / 3,
    },
    { group: 'Team B', handedOff: 3, touchedWithinSla: 2, breached: 0, pending: 1, medianTimeToFirstTouchMs: 3 * HOUR, complianceRate: 1 },
  ])('summarizes $group on its own', (expected) => {
    expect(summarizeSla(records, now).groups.find((group) => group.group === expected.group)).toEqual(expected);
  });

  it('sorts groups by key', () => {
    const shuffled = [...records].reverse();
    expect(summarizeSla(shuffled, now).groups.map((group) => group.group)).toEqual(['Team A', 'Team B']);
  });

  it('takes the middle value of an odd number of touches as the median', () => {
    const odd = records
      .filter((record) => record.group === 'Team A')
      .concat({ group: 'Team A', handoffAtMs: 0, dueAtMs: due, firstTouchAtMs: 30 * 60_000 });
    expect(summarizeSla(odd, now).total.medianTimeToFirstTouchMs).toBe(HOUR);
  });

  it('reports empty figures without dividing by zero', () => {
    expect(summarizeSla([], now)).toEqual({
      total: {
        group: '(all)',
        handedOff: 0,
        touchedWithinSla: 0,
        breached: 0,
        pending: 0,
        medianTimeToFirstTouchMs: null,
        complianceRate: null,
      },
      groups: [],
    });
  });
});

describe('business hours in other zones', () => {
  it.each<{ name: string; rules: SlaPolicy; handoff: string; due: string }>([
    {
      name: "skips Sydney's spring-forward weekend (Friday AEST → Monday AEDT)",
      rules: policy({ businessHours: { timeZone: 'Australia/Sydney' } }),
      handoff: '2026-10-02T06:00:00Z',
      due: '2026-10-05T01:00:00Z',
    },
    {
      name: "counts real time through Lord Howe's half-hour DST shift in a 24/7 window",
      rules: policy({
        hours: 24,
        businessHours: { timeZone: 'Australia/Lord_Howe', weekdays: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
      }),
      handoff: '2026-10-03T01:30:00Z',
      due: '2026-10-04T01:30:00Z',
    },
    {
      name: 'carries the clock over the night in a half-hour offset zone (Kolkata)',
      rules: policy({ businessHours: { timeZone: 'Asia/Kolkata' } }),
      handoff: '2026-03-02T10:30:00Z',
      due: '2026-03-03T06:30:00Z',
    },
  ])('$name', ({ rules, handoff, due }) => {
    expect(new Date(computeDueAt(rules, utc(handoff))).toISOString()).toBe(new Date(utc(due)).toISOString());
  });
});

describe('first touch at the due instant of a business-hours clock', () => {
  const office = policy({ businessHours: NEW_YORK });
  const handoff = utc('2026-03-06T20:00:00Z');
  const due = computeDueAt(office, handoff);

  it('falls due on Monday morning after the spring DST weekend', () => {
    expect(new Date(due).toISOString()).toBe('2026-03-09T15:00:00.000Z');
  });

  it('counts a touch exactly at that instant as met, and one millisecond later as breached', () => {
    expect(slaStatus(due, due, due + HOUR)).toBe('met');
    expect(slaStatus(due, due + 1, due + HOUR)).toBe('breached');
  });
});

describe('rule changes mid-clock, continued', () => {
  const handoffAtMs = utc('2026-03-06T20:00:00Z');
  const calendarDue = computeDueAt(DEFAULT_SLA_POLICY, handoffAtMs);

  it('keeps a clock running when business hours move its due time past an old one that has already passed', () => {
    const now = calendarDue + HOUR;
    expect(slaStatus(calendarDue, null, now)).toBe('breached');
    expect(
      recomputeOnPolicyChange(policy({ businessHours: NEW_YORK }), { handoffAtMs, dueAtMs: calendarDue, firstTouchAtMs: null }, now),
    ).toEqual({
      kind: 'rescheduled',
      dueAtMs: utc('2026-03-09T15:00:00Z'),
      previousDueAtMs: calendarDue,
      status: 'pending',
    });
  });

  it('falls back to the default rule when the override a clock ran under is removed', () => {
    const withOverride = policy({ hours: 4, overrides: [{ leadSource: 'Partner Referral', hours: 1 }] });
    const context = { leadSource: 'Partner Referral' };
    const dueAtMs = computeDueAt(withOverride, handoffAtMs, context);
    expect(dueAtMs).toBe(handoffAtMs + HOUR);
    expect(
      recomputeOnPolicyChange(DEFAULT_SLA_POLICY, { handoffAtMs, dueAtMs, firstTouchAtMs: null, context }, handoffAtMs + 30 * 60_000),
    ).toMatchObject({
      kind: 'rescheduled',
      dueAtMs: handoffAtMs + 4 * HOUR,
      status: 'pending',
    });
  });
});

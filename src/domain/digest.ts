/**
 * The scheduled digest of the pipeline review (docs/architecture.md §13): its setting and its
 * schedule, as pure rules (the clock is passed in).
 *
 * Slots. The digest goes out once per slot. A weekly slot is an ISO week of the setting's time zone
 * (its id `2026-W49`); it is due on the chosen ISO weekday (1 = Monday … 7 = Sunday) at the chosen
 * hour, local time, DST-correct (a skipped hour resolves after the gap, a repeated one to its first
 * occurrence). A two-weekly slot is a pair of ISO weeks counted from the week of Monday 5 January
 * 1970 (weeks 0–1, 2–3, …), so the pairs never shift, not even at a 53-week year; it is named by,
 * and due in, its first week. A slot may be sent from its due instant until a day after it
 * (`DIGEST_LATENESS_MS`): a worker that was down catches up, a digest days late is not sent.
 */
import { z } from 'zod';
import { COMMITMENT_PERIODS, periodContaining, type CommitmentPeriod } from './commitments.ts';
import type { Result } from './result.ts';
import type { SettingPreview } from './settings-preview.ts';
import { epochForLocalWall, isValidTimeZone, localWallMs } from './sla.ts';
import { validatorOf } from './validation.ts';

/** How often the digest goes out. */
export const DIGEST_FREQUENCIES = ['week', 'two_weeks'] as const;
export type DigestFrequency = (typeof DIGEST_FREQUENCIES)[number];

/** How long after its due instant a slot may still be sent. */
export const DIGEST_LATENESS_MS = 24 * 60 * 60_000;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Day number (days since 1970-01-01) of Monday 5 January 1970, the first week of the two-weekly pairs. */
const FIRST_MONDAY_DAY = 4;

/** Installation setting `reviewDigest`. */
export const ReviewDigestSchema = z
  .object({
    enabled: z.boolean().default(false),
    every: z.enum(DIGEST_FREQUENCIES, { message: 'must be week or two_weeks' }).default('week'),
    weekday: z
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be 1 (Monday) to 7 (Sunday)')
      .max(7, 'must be 1 (Monday) to 7 (Sunday)')
      .default(1),
    hour: z
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be 0 to 23')
      .max(23, 'must be 0 to 23')
      .default(8),
    timeZone: z
      .string()
      .trim()
      .min(1, 'must not be blank')
      .refine(isValidTimeZone, { message: 'is not an IANA time zone (e.g. Europe/Paris)' })
      .default('UTC'),
    /** The review period the digest shows: the quarter or month containing the send time. */
    period: z.enum(COMMITMENT_PERIODS, { message: 'must be quarter or month' }).default('quarter'),
    emailTo: z
      .array(z.email({ message: 'must be an email address' }))
      .max(50, 'at most 50 recipients')
      .default([])
      .superRefine((list, context) => {
        const seen = new Set<string>();
        list.forEach((address, index) => {
          if (seen.has(address.toLowerCase())) context.addIssue({ code: 'custom', message: `${address} is listed twice`, path: [index] });
          seen.add(address.toLowerCase());
        });
      }),
    /** Whether the chat-ready text goes to the installation's signed alert target. */
    toAlertTarget: z.boolean().default(true),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.enabled && value.emailTo.length === 0 && !value.toAlertTarget) {
      context.addIssue({
        code: 'custom',
        message: 'the digest goes nowhere: add an email recipient or send it to the alert target',
        path: ['emailTo'],
      });
    }
  });
export type ReviewDigest = z.output<typeof ReviewDigestSchema>;

/** Off, weekly on Monday at 08:00 UTC once enabled. */
export const DEFAULT_REVIEW_DIGEST: ReviewDigest = ReviewDigestSchema.parse({});

/** Validates an admin-supplied digest setting, listing every problem. */
export const validateReviewDigest: (input: unknown) => Result<ReviewDigest, string[]> = validatorOf(ReviewDigestSchema);

/** The schedule part of the setting. */
export type DigestSchedule = Pick<ReviewDigest, 'every' | 'weekday' | 'hour' | 'timeZone'>;

/** One slot: its id (`2026-W49`) and the instant it becomes due. */
export interface DigestSlot {
  id: string;
  dueAt: Date;
}

/** ISO weekday (1 = Monday) of a day number. 1970-01-01 was a Thursday. */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** `2026-W49`: the ISO week of the Monday `mondayDay` (its year is the year of its Thursday). */
function isoWeekId(mondayDay: number): string {
  const thursday = mondayDay + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1) / DAY_MS) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday (day number) on which the slot containing the local day `day` starts. */
function slotMonday(every: DigestFrequency, day: number): number {
  const monday = day - (isoWeekday(day) - 1);
  if (every === 'week') return monday;
  const weekIndex = Math.floor((monday - FIRST_MONDAY_DAY) / 7);
  return FIRST_MONDAY_DAY + 14 * Math.floor(weekIndex / 2);
}

function slotStartingOn(schedule: DigestSchedule, mondayDay: number): DigestSlot {
  const dueWall = (mondayDay + schedule.weekday - 1) * DAY_MS + schedule.hour * HOUR_MS;
  return { id: isoWeekId(mondayDay), dueAt: new Date(epochForLocalWall(dueWall, schedule.timeZone)) };
}

/** The slot `at` falls in (in the schedule's time zone), whether or not it is due yet. */
export function currentSlot(schedule: DigestSchedule, at: Date): DigestSlot {
  const localDay = Math.floor(localWallMs(at.getTime(), schedule.timeZone) / DAY_MS);
  return slotStartingOn(schedule, slotMonday(schedule.every, localDay));
}

/** The slot to send at `at`: the current one once due and until a day after; otherwise null. */
export function dueSlot(schedule: DigestSchedule, at: Date): DigestSlot | null {
  const slot = currentSlot(schedule, at);
  const late = at.getTime() - slot.dueAt.getTime();
  return late >= 0 && late < DIGEST_LATENESS_MS ? slot : null;
}

/** The next slot to become due after `at` (the current one when it is not due yet). */
export function nextSlot(schedule: DigestSchedule, at: Date): DigestSlot {
  const slot = currentSlot(schedule, at);
  if (slot.dueAt.getTime() > at.getTime()) return slot;
  const localDay = Math.floor(localWallMs(at.getTime(), schedule.timeZone) / DAY_MS);
  return slotStartingOn(schedule, slotMonday(schedule.every, localDay) + (schedule.every === 'week' ? 7 : 14));
}

/** The review period a digest sent at `sentAt` shows: the month or quarter containing its local date. */
export function digestPeriod(setting: Pick<ReviewDigest, 'period' | 'timeZone'>, sentAt: Date): CommitmentPeriod {
  return periodContaining(setting.period, new Date(localWallMs(sentAt.getTime(), setting.timeZone)));
}

/** `Mon, 7 Dec 2026, 08:00 (Europe/Paris)`: an instant as the admin reads it, in the digest's zone. */
export function describeSendTime(at: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return `${text} (${timeZone})`;
}

/** What saving `next` over `current` changes, as of `now`: when the next digest would go out, and where. */
export function previewReviewDigest(current: ReviewDigest, next: ReviewDigest, now: Date): SettingPreview {
  if (JSON.stringify(current) === JSON.stringify(next)) return { changed: false, lines: [], restampOffered: false };
  if (!next.enabled)
    return {
      changed: true,
      lines: [{ level: current.enabled ? 'warn' : 'info', count: 0, text: 'No digest would be sent' }],
      restampOffered: false,
    };
  const slot = nextSlot(next, now);
  const to = [
    ...(next.emailTo.length > 0 ? [`${next.emailTo.length} email recipient${next.emailTo.length === 1 ? '' : 's'}`] : []),
    ...(next.toAlertTarget ? ['the alert target'] : []),
  ].join(' and ');
  return {
    changed: true,
    lines: [
      {
        level: 'info',
        count: 1,
        text: `The next digest (${slot.id}, the review of ${digestPeriod(next, slot.dueAt).id}) would go out ${describeSendTime(slot.dueAt, next.timeZone)} to ${to}`,
      },
    ],
    restampOffered: false,
  };
}

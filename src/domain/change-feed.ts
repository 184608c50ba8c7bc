/**
 * How an installation hears of changes on one side: pushed to the app's webhook route (`push`),
 * pulled from the vendor's change feed over outbound connections only (`pull`: the HubSpot webhooks
 * journal), or both at once, each change taken once (the two feeds make the same intake jobs).
 */
import { z } from 'zod';
import { err, ok, type Result } from './result.ts';

export const CHANGE_FEED_MODES = ['push', 'pull', 'both'] as const;
export type ChangeFeedMode = (typeof CHANGE_FEED_MODES)[number];

/** The setting of one side (`hubspotChangeFeed`): `{ "mode": "pull" }`. */
export const ChangeFeedSettingSchema = z.object({ mode: z.enum(CHANGE_FEED_MODES).default('push') }).strict();
export type ChangeFeedSetting = z.infer<typeof ChangeFeedSettingSchema>;

/** Push, the way installations worked before the pull feeds. */
export const DEFAULT_CHANGE_FEED: ChangeFeedSetting = { mode: 'push' };

/** Validates an admin-supplied change feed setting, listing every problem. */
export function validateChangeFeed(input: unknown): Result<ChangeFeedSetting, string[]> {
  const parsed = ChangeFeedSettingSchema.safeParse(input);
  return parsed.success
    ? ok(parsed.data)
    : err(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'changeFeed'}: ${issue.message}`));
}

/** Whether a mode reads the pull feed. */
export function pulls(mode: ChangeFeedMode): boolean {
  return mode !== 'push';
}

/** What saving `next` over `current` changes, in words for the preview. */
export function describeChangeFeedChange(side: string, current: ChangeFeedMode, next: ChangeFeedMode): string[] {
  if (current === next) return [];
  const words: Readonly<Record<ChangeFeedMode, string>> = {
    push: `${side} changes arrive only through the webhook route (needs a public URL)`,
    pull: `${side} changes are pulled from the change feed; the webhook route is not needed`,
    both: `${side} changes arrive through the webhook route and the change feed, each taken once`,
  };
  return [words[next]];
}

/** A pull feed that has neither taken an entry nor found itself caught up for this long is stalled. */
export const FEED_STALE_AFTER_MS = 2 * 60_000;
/** Behind by more than this, a feed that is reading entries is catching up rather than current. */
const FEED_BEHIND_AFTER_MS = 60_000;

/** What the dashboard shows of a pull feed. */
export interface FeedStatus {
  mode: ChangeFeedMode;
  /** The offset (HubSpot) the feed resumes after; null before its first entry. */
  position: string | null;
  /** How far the feed is behind what was published, in seconds; null when unknown. */
  lagSeconds: number | null;
  health: 'off' | 'starting' | 'current' | 'catching up' | 'failing' | 'stalled';
  detail: string | null;
}

/** What a pull feed's stored position says (store/journal-offsets.ts keeps it). */
export interface FeedRecord {
  /** Null before the first entry was taken (or after an expired offset was forgotten). */
  offset: string | null;
  /** When the vendor published that entry; null when its file did not say. */
  publishedAt: Date | null;
  storedAt: Date | null;
  /** When the feed last found no entry after its offset. */
  caughtUpAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

/** The position, lag and health of a feed at `now`. */
export function feedStatus(mode: ChangeFeedMode, record: FeedRecord | null, now: Date): FeedStatus {
  const position = record?.offset ?? null;
  if (!pulls(mode)) return { mode, position, lagSeconds: null, health: 'off', detail: null };
  if (record === null) return { mode, position, lagSeconds: null, health: 'starting', detail: 'the worker has not read the feed yet' };
  const activity = Math.max(record.storedAt?.getTime() ?? 0, record.caughtUpAt?.getTime() ?? 0);
  const caughtUp = record.caughtUpAt !== null && record.caughtUpAt.getTime() >= (record.storedAt?.getTime() ?? 0);
  const lagSeconds = caughtUp
    ? 0
    : record.publishedAt === null
      ? null
      : Math.max(0, Math.round((now.getTime() - record.publishedAt.getTime()) / 1000));
  if (record.lastError !== null && (record.lastErrorAt?.getTime() ?? 0) >= activity)
    return { mode, position, lagSeconds, health: 'failing', detail: record.lastError };
  if (now.getTime() - activity > FEED_STALE_AFTER_MS)
    return { mode, position, lagSeconds, health: 'stalled', detail: 'no read in the last 2 minutes: is a worker running?' };
  const behind = lagSeconds !== null && lagSeconds * 1000 > FEED_BEHIND_AFTER_MS;
  return { mode, position, lagSeconds, health: behind ? 'catching up' : 'current', detail: null };
}

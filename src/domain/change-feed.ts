/**
 * How an installation hears of changes on one side: pushed to the app's webhook route (`push`),
 * pulled from the vendor's change feed over outbound connections only (`pull`: the HubSpot webhooks
 * journal), or both at once, each change taken once (the two feeds make the same intake jobs).
 */
import { z } from 'zod';
import { err, ok, type Result } from './result.ts';

export const CHANGE_FEED_MODES = ['push', 'pull', 'both'] as const;
export type ChangeFeedMode = (typeof CHANGE_FEED_MODES)[number];

export const ChangeFeedModeSchema = z.enum(CHANGE_FEED_MODES);

/** Push, the way installations worked before the pull feeds. */
export const DEFAULT_CHANGE_FEED: ChangeFeedMode = 'push';

/** Validates an admin-supplied change feed mode. */
export function validateChangeFeedMode(input: unknown): Result<ChangeFeedMode, string[]> {
  const parsed = ChangeFeedModeSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err([`mode: must be one of ${CHANGE_FEED_MODES.join(', ')}`]);
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

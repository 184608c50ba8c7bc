/**
 * How Salesforce changes reach the app (docs/architecture.md §12), per installation: pushed as
 * Outbound Messages to the app's public endpoint, pulled over the Pub/Sub API (change data capture,
 * outbound connections only), or both: the modes and the setting every side shares are
 * `./change-feed.ts`; this is what they mean in Salesforce's words. Pure.
 */
import { pulls, type ChangeFeedMode, type ChangeFeedSetting } from './change-feed.ts';

/** What each mode means, in words for the settings page. */
export const SALESFORCE_FEED_MODE_LABELS: Readonly<Record<ChangeFeedMode, string>> = {
  push: 'push: Outbound Messages to the app’s public endpoint',
  pull: 'pull: change data capture over the Pub/Sub API (no public endpoint)',
  both: 'both: Outbound Messages and the Pub/Sub API, deduplicated',
};

/** What saving `next` over `current` changes, in words for the preview. */
export function describeSalesforceFeedChange(current: ChangeFeedSetting, next: ChangeFeedSetting): string[] {
  if (current.mode === next.mode) return [];
  const lines = [`Salesforce changes arrive by ${next.mode} instead of ${current.mode}`];
  if (pulls(next.mode) && !pulls(current.mode))
    lines.push('the worker starts following the change event channels from the latest event; a reconciler pass covers the time before');
  if (!pulls(next.mode) && pulls(current.mode))
    lines.push('the worker stops following the change event channels; Outbound Messages must be active in the org');
  return lines;
}

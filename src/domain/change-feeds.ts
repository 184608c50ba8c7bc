/**
 * How Salesforce changes reach the app (docs/architecture.md §12), per installation: pushed as
 * Outbound Messages to the app's public endpoint, pulled over the Pub/Sub API (change data capture,
 * outbound connections only), or both — the modes and the setting every side shares
 * (`./change-feed.ts`), in Salesforce's words. Pure: the feed runner and the dashboard read it.
 */
import {
  CHANGE_FEED_MODES,
  ChangeFeedSettingSchema,
  DEFAULT_CHANGE_FEED,
  pulls,
  validateChangeFeed,
  type ChangeFeedMode,
  type ChangeFeedSetting,
} from './change-feed.ts';

/** The ways Salesforce changes can arrive; `push` is how every installation worked before pull existed. */
export const SALESFORCE_FEED_MODES = CHANGE_FEED_MODES;
export type SalesforceFeedMode = ChangeFeedMode;

/** What each mode means, in words for the settings page. */
export const SALESFORCE_FEED_MODE_LABELS: Readonly<Record<SalesforceFeedMode, string>> = {
  push: 'push: Outbound Messages to the app’s public endpoint',
  pull: 'pull: change data capture over the Pub/Sub API (no public endpoint)',
  both: 'both: Outbound Messages and the Pub/Sub API, deduplicated',
};

export const SalesforceFeedSchema = ChangeFeedSettingSchema;
export type SalesforceFeed = ChangeFeedSetting;
export const DEFAULT_SALESFORCE_FEED: SalesforceFeed = DEFAULT_CHANGE_FEED;
export const validateSalesforceFeed = validateChangeFeed;
export const pullsSalesforceChanges = pulls;

/** What saving `next` over `current` changes, in words for the preview. */
export function describeSalesforceFeedChange(current: SalesforceFeed, next: SalesforceFeed): string[] {
  if (current.mode === next.mode) return [];
  const lines = [`Salesforce changes arrive by ${next.mode} instead of ${current.mode}`];
  if (pulls(next.mode) && !pulls(current.mode))
    lines.push('the worker starts following the change event channels from the latest event; a reconciler pass covers the time before');
  if (!pulls(next.mode) && pulls(current.mode))
    lines.push('the worker stops following the change event channels; Outbound Messages must be active in the org');
  return lines;
}

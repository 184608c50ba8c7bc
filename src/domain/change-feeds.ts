/**
 * How Salesforce changes reach the app (docs/architecture.md §12), per installation: pushed as
 * Outbound Messages to the app's public endpoint, pulled over the Pub/Sub API (change data capture,
 * outbound connections only), or both. Pure: the feed runner and the dashboard read it.
 */
import { z } from 'zod';
import { err, ok, type Result } from './result.ts';

/** The ways Salesforce changes can arrive; `push` is how every installation worked before pull existed. */
export const SALESFORCE_FEED_MODES = ['push', 'pull', 'both'] as const;
export type SalesforceFeedMode = (typeof SALESFORCE_FEED_MODES)[number];

/** What each mode means, in words for the settings page. */
export const SALESFORCE_FEED_MODE_LABELS: Readonly<Record<SalesforceFeedMode, string>> = {
  push: 'push: Outbound Messages to the app’s public endpoint',
  pull: 'pull: change data capture over the Pub/Sub API (no public endpoint)',
  both: 'both: Outbound Messages and the Pub/Sub API, deduplicated',
};

export const SalesforceFeedSchema = z.object({ mode: z.enum(SALESFORCE_FEED_MODES).default('push') }).strict();
export type SalesforceFeed = z.infer<typeof SalesforceFeedSchema>;

export const DEFAULT_SALESFORCE_FEED: SalesforceFeed = { mode: 'push' };

/** Validates an admin-supplied feed setting, listing every problem. */
export function validateSalesforceFeed(input: unknown): Result<SalesforceFeed, string[]> {
  const parsed = SalesforceFeedSchema.safeParse(input);
  return parsed.success
    ? ok(parsed.data)
    : err(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'salesforceFeed'}: ${issue.message}`));
}

/** Whether the app follows the org's change event channels in this mode. */
export function pullsSalesforceChanges(mode: SalesforceFeedMode): boolean {
  return mode !== 'push';
}

/** What saving `next` over `current` changes, in words for the preview. */
export function describeSalesforceFeedChange(current: SalesforceFeed, next: SalesforceFeed): string[] {
  if (current.mode === next.mode) return [];
  const lines = [`Salesforce changes arrive by ${next.mode} instead of ${current.mode}`];
  if (pullsSalesforceChanges(next.mode) && !pullsSalesforceChanges(current.mode))
    lines.push('the worker starts following the change event channels from the latest event; a reconciler pass covers the time before');
  if (!pullsSalesforceChanges(next.mode) && pullsSalesforceChanges(current.mode))
    lines.push('the worker stops following the change event channels; Outbound Messages must be active in the org');
  return lines;
}

/** The record log's "Sync this record now" button (Sync health page). */
import { pendingEntryOf } from '../../../sync/context.ts';
import { postButton } from '../components.ts';
import { html, type Html } from '../html.ts';

/** The button for one record (a HubSpot contact id, a Lead or Opportunity id); nothing for a record the sync does not take. */
export function syncNowButton(installationId: string, record: string | null, csrfToken: string): Html {
  const entry = record === null ? null : pendingEntryOf(record);
  if (record === null || entry === null) return html``;
  return postButton({
    action: `/admin/installations/${encodeURIComponent(installationId)}/sync-now`,
    csrfToken,
    label: entry.direction === 'to-salesforce' ? 'Sync this record now (to Salesforce)' : 'Sync this record now (to HubSpot)',
    fields: { record },
  });
}

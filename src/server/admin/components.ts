/** Small pieces shared by the dashboard pages. */
import type { ApiLimitUsage } from '../../crm/ports.ts';
import { formatCount, html, type Html } from './html.ts';

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A coloured label. */
export function badge(text: string, kind: 'ok' | 'warn' | 'error' | 'muted' | 'info'): Html {
  return html`<span class="badge ${kind}">${text}</span>`;
}

/** Usage against limits as meters. */
export function usageMeters(usage: readonly ApiLimitUsage[]): Html {
  if (usage.length === 0) return html`<p class="muted small">No usage figures reported.</p>`;
  return html`<dl class="usage">${usage.map(
    (
      limit,
    ) => html`<dt>${limit.name}</dt><dd><meter min="0" max="${limit.max}" low="${Math.round(limit.max * 0.6)}" high="${Math.round(limit.max * 0.85)}" optimum="0" value="${limit.used}">${limit.used}</meter>
      <span class="small">${formatCount(limit.used)} / ${formatCount(limit.max)} (${limit.max === 0 ? 0 : Math.round((limit.used / limit.max) * 1000) / 10} %)</span></dd>`,
  )}</dl>`;
}

/** A form with one button posting to `action` (with an optional confirmation question). */
export function postButton(input: {
  action: string;
  csrfToken: string;
  label: string;
  kind?: 'primary' | 'danger' | 'secondary';
  confirm?: string;
  fields?: Record<string, string>;
}): Html {
  return html`<form method="post" action="${input.action}" class="inline"${input.confirm ? html` data-confirm="${input.confirm}"` : ''}>
    ${csrfField(input.csrfToken)}
    ${Object.entries(input.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
    <button type="submit" class="${input.kind ?? 'secondary'}">${input.label}</button>
  </form>`;
}

/** A percentage for a ratio, or a dash. */
export function percent(value: number | null): string {
  return value === null ? '—' : `${Math.round(value * 1000) / 10} %`;
}

/** An amount of cents as currency. */
export function money(cents: number, currency: string | null): string {
  // An unknown currency is shown as a plain amount rather than in a symbol that may be wrong.
  return currency === null
    ? new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(cents / 100)
    : new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 }).format(cents / 100);
}

/** A number or a dash. */
export function numberOrDash(value: number | null, unit = ''): string {
  return value === null ? '—' : `${value}${unit}`;
}

/** Fixed notices for `?notice=` codes (never free text from the URL). */
export const NOTICES: Readonly<Record<string, { kind: 'ok' | 'error'; text: string }>> = {
  hubspot_connected: { kind: 'ok', text: 'HubSpot connected. Connect Salesforce next, then run the provisioning dry run.' },
  salesforce_connected: { kind: 'ok', text: 'Salesforce connected. Run the provisioning dry run to see what will be created.' },
  provisioned: { kind: 'ok', text: 'Provisioning finished: what was missing has been created.' },
  uninstalled: { kind: 'ok', text: 'Uninstalled: grants revoked, queued jobs removed. Reconnect HubSpot to install again.' },
  replayed: { kind: 'ok', text: 'Job replayed: it is back in its queue.' },
  replayed_all: { kind: 'ok', text: 'Failed jobs replayed: they are back in their queue.' },
  replay_missing: { kind: 'error', text: 'That job is no longer failed (it was replayed or removed).' },
  settings_saved: { kind: 'ok', text: 'Saved. The sync uses the new rules from its next batch.' },
  digest_test_queued: { kind: 'ok', text: 'Test digest queued: it goes out within a minute; its result shows below.' },
  alert_saved: { kind: 'ok', text: 'Alert target saved (encrypted). The next SLA breach is sent there.' },
  alert_removed: { kind: 'ok', text: 'SLA alerts turned off. Breaches are still escalated with Salesforce Tasks.' },
  settings_reset: { kind: 'ok', text: 'Reset to the default.' },
  backfill_started: { kind: 'ok', text: 'Backfill started.' },
  field_fill_started: { kind: 'ok', text: 'Filling existing records: progress below.' },
  initial_sync_started: { kind: 'ok', text: 'Initial sync started: progress below.' },
  signed_out: { kind: 'ok', text: 'Signed out.' },
  sync_paused: { kind: 'ok', text: 'Sync paused: changes keep arriving and wait; resume to sync them.' },
  sync_resumed: { kind: 'ok', text: 'Sync resumed: the changes that waited are being synced, oldest first.' },
  budget_saved: { kind: 'ok', text: 'Salesforce API budget saved: every process keeps it within seconds.' },
  budget_refused: {
    kind: 'error',
    text: 'The budget was not saved: give a whole number of calls (at least 1) or a percentage above 0 and at most 100.',
  },
  sync_now_started: {
    kind: 'ok',
    text: 'The record is marked for syncing and its drain started: its log below shows the outcome in a moment.',
  },
  sync_now_held: {
    kind: 'ok',
    text: 'The record is marked for syncing; its direction is paused or disconnected, so it syncs when that ends.',
  },
  sync_now_refused: {
    kind: 'error',
    text: 'Not a record the sync takes: give a HubSpot contact id, a Lead id (00Q…) or an Opportunity id (006…).',
  },
  user_revoked: { kind: 'ok', text: 'User revoked: their sessions ended at once.' },
  invitation_cancelled: { kind: 'ok', text: 'Invitation cancelled: its link no longer works.' },
  user_missing: { kind: 'error', text: 'That user or invitation is no longer there (revoked, accepted or cancelled).' },
  signed_out_everywhere: { kind: 'ok', text: 'Signed out everywhere: every other session of yours has ended.' },
  hubspot_disconnected: {
    kind: 'ok',
    text: 'HubSpot disconnected: its grant is revoked and forgotten; the sync waits until it is connected again.',
  },
  salesforce_disconnected: {
    kind: 'ok',
    text: 'Salesforce disconnected: its grant is revoked and forgotten; the sync waits until it is connected again.',
  },
};

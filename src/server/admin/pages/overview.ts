/** `/admin`: every installation with its status, the queues at a glance, recent admin actions. */
import type { AdminActionRecord } from '../../../store/admin-sessions.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { badge } from '../components.ts';
import { formatCount, formatTime, html, type Html } from '../html.ts';
import type { QueueDepth } from '../jobs.ts';

export interface OverviewData {
  installations: InstallationDetails[];
  depths: QueueDepth[];
  actions: AdminActionRecord[];
  /** The caller's role: the queues and the audit trail of every installation are the operator's. */
  role: 'operator' | 'installation_admin' | 'viewer';
  canAddInstallation: boolean;
  mode: { hubspot: string; salesforce: string };
}

/** Renders the overview body. */
export function overviewBody(data: OverviewData): Html {
  return html`
  <section class="card">
    <div class="card-head">
      <h2>Installations</h2>
      ${data.canAddInstallation ? html`<a class="button primary" href="/oauth/hubspot/install">Add an installation</a>` : ''}
    </div>
    <p class="muted">One installation is one HubSpot portal and one Salesforce org. HubSpot: ${data.mode.hubspot}; Salesforce: ${data.mode.salesforce}.</p>
    ${
      data.installations.length === 0
        ? html`<p class="empty">No installation yet. ${data.canAddInstallation ? 'Add one by connecting a HubSpot portal.' : 'Configure HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET to install through OAuth.'}</p>`
        : html`<table class="data" data-sortable>
      <thead><tr><th>Name</th><th>HubSpot portal</th><th>Salesforce org</th><th>Credentials</th><th>Status</th><th>Created</th><th></th></tr></thead>
      <tbody>${data.installations.map(
        (i) => html`<tr>
          <td><a href="${data.role === 'viewer' ? `/admin/report?installation=${encodeURIComponent(i.id)}` : `/admin/installations/${encodeURIComponent(i.id)}`}">${i.name}</a></td>
          <td>${i.hubspotPortalId ?? '—'}</td>
          <td class="mono">${i.salesforceOrgId ?? '—'}</td>
          <td>${i.hasHubSpotCredentials ? badge('HubSpot OAuth', 'info') : ''} ${i.hasSalesforceCredentials ? badge('Salesforce OAuth', 'info') : ''}${!i.hasHubSpotCredentials && !i.hasSalesforceCredentials ? html`<span class="muted small">environment / sandbox</span>` : ''}</td>
          <td>${badge(i.status, i.status === 'active' ? 'ok' : 'muted')}</td>
          <td data-sort-value="${i.createdAt.getTime()}">${formatTime(i.createdAt)}</td>
          <td class="actions">${data.role === 'viewer' ? '' : html`<a href="/admin/installations/${encodeURIComponent(i.id)}/health">Sync health</a> · `}<a href="/admin/report?installation=${encodeURIComponent(i.id)}">Report</a></td>
        </tr>`,
      )}</tbody>
    </table>`
    }
  </section>

  ${
    data.role !== 'operator'
      ? ''
      : html`<div class="grid two">
    <section class="card">
      <div class="card-head"><h2>Queues</h2><a href="/admin/queues">Open the queue dashboard</a></div>
      ${queueTable(data.depths)}
    </section>
    <section class="card">
      <h2>Recent admin actions</h2>
      ${actionList(data.actions)}
    </section>
  </div>`
  }`;
}

/** Queue depths as a table. */
export function queueTable(depths: readonly QueueDepth[]): Html {
  return html`<table class="data compact">
    <thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Active</th><th class="num">Delayed</th><th class="num">Failed</th><th class="num">Completed</th></tr></thead>
    <tbody>${depths.map(
      (
        d,
      ) => html`<tr><td class="mono">${d.name}</td><td class="num">${formatCount(d.waiting)}</td><td class="num">${formatCount(d.active)}</td><td class="num">${formatCount(d.delayed)}</td>
        <td class="num">${d.failed > 0 ? html`<strong class="text-error">${formatCount(d.failed)}</strong>` : '0'}</td><td class="num">${formatCount(d.completed)}</td></tr>`,
    )}</tbody>
  </table>`;
}

/** Admin actions as a list. */
export function actionList(actions: readonly AdminActionRecord[]): Html {
  if (actions.length === 0) return html`<p class="empty">Nothing yet.</p>`;
  return html`<ul class="timeline">${actions.map((a) => html`<li><span class="muted small">${formatTime(a.at)}</span> ${a.summary}</li>`)}</ul>`;
}

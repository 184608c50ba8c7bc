/** `/admin/installations/:id`: connections with API usage, provisioning (dry run first), uninstall. */
import type { AlertTargetView } from '../alert-target.ts';
import type { AdminActionRecord } from '../../../store/admin-sessions.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { SYNC_DIRECTIONS, type SyncDirection } from '../../../store/sync-controls.ts';
import { badge, csrfField, postButton, usageMeters } from '../components.ts';
import { formatCount, html, type Html } from '../html.ts';
import type { SideConnection } from '../installations.ts';
import type { SyncControlsView } from '../sync-controls.ts';
import { alertThreshold, describeBudget } from '../../../domain/api-budget.ts';
import type { AccessItem, SalesforceAccessReport } from '../../../runtime/salesforce-access.ts';
import type { ItemStatus, ProvisioningPlan } from '../provisioning.ts';
import { actionList } from './overview.ts';
import type { SalesforceFeedView } from '../change-feed.ts';
import { SALESFORCE_FEED_MODE_LABELS } from '../../../domain/salesforce-feed.ts';
import type { FeedState } from '../../../store/salesforce-feeds.ts';

const STATE_BADGES: Record<SideConnection['state'], Html> = {
  connected: badge('connected', 'ok'),
  not_connected: badge('not connected', 'muted'),
  error: badge('error', 'error'),
};

const VIA_LABELS: Record<SideConnection['via'], string> = {
  oauth: 'OAuth',
  environment: 'environment token',
  sandbox: 'sandbox',
  none: '—',
};

function connectionCard(installation: InstallationDetails, side: SideConnection, csrfToken: string): Html {
  const name = side.side === 'hubspot' ? 'HubSpot' : 'Salesforce';
  const account = side.side === 'hubspot' ? 'Portal' : 'Org';
  const connectHref = `/oauth/${side.side}/install?installation=${encodeURIComponent(installation.id)}`;
  return html`<section class="card connection" data-side="${side.side}">
    <div class="card-head"><h2>${name}</h2>${STATE_BADGES[side.state]}</div>
    <dl class="facts">
      <dt>${account}</dt><dd class="mono">${side.account ?? '—'}</dd>
      <dt>Connected through</dt><dd>${VIA_LABELS[side.via]}</dd>
      <dt>Details</dt><dd>${side.detail}</dd>
    </dl>
    ${side.error ? html`<div class="notice error small">${side.error}</div>` : ''}
    ${side.disconnectedAt ? html`<div class="notice error small" data-disconnected="${side.side}">${name} was disconnected at ${side.disconnectedAt}: the sync waits and keeps the changes; connect ${name} again to resume.</div>` : ''}
    <h3>API usage</h3>
    ${usageMeters(side.usage)}
    ${
      side.canConnect
        ? html`<p><a class="button ${side.via === 'oauth' ? 'secondary' : 'primary'}" href="${connectHref}" data-connect="${side.side}">${side.via === 'oauth' ? `Reconnect ${name}` : `Connect ${name} (OAuth)`}</a></p>`
        : html`<p class="muted small">No ${name} OAuth app configured (${side.side === 'hubspot' ? 'HUBSPOT_CLIENT_ID / HUBSPOT_CLIENT_SECRET' : 'SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET'}).</p>`
    }
    ${
      installation.status === 'active' && side.disconnectedAt === null
        ? postButton({
            action: `/admin/installations/${encodeURIComponent(installation.id)}/connections/${side.side}/disconnect`,
            csrfToken,
            label: `Disconnect ${name}`,
            kind: 'danger',
            confirm: `Disconnect ${name}? Its grant is revoked and forgotten, the other side stays connected, and the sync waits until ${name} is connected again.`,
          })
        : ''
    }
  </section>`;
}

const DIRECTION_LABELS: Readonly<Record<SyncDirection, string>> = {
  'to-salesforce': 'HubSpot → Salesforce',
  'to-hubspot': 'Salesforce → HubSpot',
};

/** Pause and resume per direction, with who paused and when. */
function controlsCard(installation: InstallationDetails, controls: SyncControlsView, csrfToken: string): Html {
  const base = `/admin/installations/${encodeURIComponent(installation.id)}`;
  const active = installation.status === 'active';
  const row = (direction: SyncDirection) => {
    const pause = controls.paused.find((p) => p.direction === direction);
    return html`<tr data-direction="${direction}" data-state="${pause ? 'paused' : 'running'}">
      <td>${DIRECTION_LABELS[direction]}</td>
      <td>${pause ? badge('paused', 'warn') : badge('running', 'ok')}${pause ? html` <span class="muted small">since ${pause.pausedAt.toISOString()} (${pause.pausedBy})</span>` : ''}</td>
      <td>${
        active
          ? postButton({
              action: `${base}/${pause ? 'resume' : 'pause'}`,
              csrfToken,
              label: pause ? 'Resume' : 'Pause',
              kind: pause ? 'primary' : 'secondary',
              fields: { direction },
            })
          : ''
      }</td>
    </tr>`;
  };
  return html`<section class="card" data-section="sync-controls">
    <div class="card-head"><h2>Sync</h2>${controls.paused.length > 0 ? badge(`${controls.paused.length} direction(s) paused`, 'warn') : badge('running', 'ok')}</div>
    <p class="muted small">While a direction is paused, webhooks are still received and recorded and the changed records wait; resuming syncs them, oldest first. SLA due checks wait too.</p>
    <table class="data compact"><thead><tr><th>Direction</th><th>State</th><th></th></tr></thead><tbody>${SYNC_DIRECTIONS.map(row)}</tbody></table>
    ${budgetSection(installation, controls, csrfToken)}
  </section>`;
}

/** The Salesforce API budget: a gauge of the app's calls in the last 24 h against it, and its form. */
function budgetSection(installation: InstallationDetails, controls: SyncControlsView, csrfToken: string): Html {
  const base = `/admin/installations/${encodeURIComponent(installation.id)}`;
  const { budget, used, limit, dailyAllowance } = controls.salesforceBudget;
  const gauge =
    limit === null
      ? html`<p class="small" data-budget-used="${used}">${formatCount(used)} Salesforce calls by the app in the last 24 h${budget ? ` (budget: ${describeBudget(budget)}; the org's allowance is learned from its next answer)` : '; no budget set'}.</p>`
      : html`<dl class="usage"><dt>Salesforce API budget</dt><dd><meter min="0" max="${limit}" low="${alertThreshold(limit)}" high="${alertThreshold(limit)}" optimum="0" value="${Math.min(used, limit)}" data-budget-used="${used}" data-budget-limit="${limit}">${used}</meter>
          <span class="small">${formatCount(used)} / ${formatCount(limit)} calls in 24 h (${Math.round((used / limit) * 1000) / 10} %)${budget && 'percent' in budget && dailyAllowance !== null ? ` · ${budget.percent} % of ${formatCount(dailyAllowance)}` : ''}</span></dd></dl>
        ${used >= limit ? html`<div class="notice error small">The budget is spent: syncs wait until calls are available again (or a higher budget is saved).</div>` : ''}`;
  const kind = budget && 'percent' in budget ? 'percent' : 'calls';
  const value = budget === null ? '' : 'percent' in budget ? String(budget.percent) : String(budget.calls);
  return html`<h3>Salesforce API budget</h3>
    <p class="muted small">The share of the org's rolling 24 h API allowance this app may spend, like HubSpot's "allocated to HubSpot". At the budget, syncs wait (nothing is lost) until calls are available again; at 80 % the SLA alert target is told, once per period.</p>
    ${gauge}
    ${
      installation.status === 'active'
        ? html`<form method="post" action="${base}/salesforce-budget" class="inline" data-budget-form>
          ${csrfField(csrfToken)}
          <label>Budget <input type="number" name="value" min="1" step="any" value="${value}" aria-label="Budget" required></label>
          <select name="kind" aria-label="Budget unit"><option value="calls"${kind === 'calls' ? html` selected` : ''}>calls per 24 h</option><option value="percent"${kind === 'percent' ? html` selected` : ''}>% of the daily allowance</option></select>
          <button type="submit" class="secondary">Save budget</button>
        </form>
        ${budget ? postButton({ action: `${base}/salesforce-budget`, csrfToken, label: 'Remove budget', fields: { kind: 'none' } }) : ''}`
        : ''
    }`;
}

export interface InstallationPageData {
  installation: InstallationDetails;
  connections: { hubspot: SideConnection; salesforce: SideConnection };
  actions: AdminActionRecord[];
  controls: SyncControlsView;
  csrfToken: string;
  hubspotWebhookUrl: string;
  salesforceEndpointUrl: string;
  /** The SLA alert target's state: an unreadable one is shown here with its fix. */
  alert: AlertTargetView;
  /** How Salesforce changes arrive, and each followed channel's position and health. */
  feed: SalesforceFeedView;
}

const FEED_BADGES: Record<FeedState, Html> = {
  connecting: badge('connecting', 'info'),
  connected: badge('connected', 'ok'),
  reconnecting: badge('reconnecting', 'warn'),
  error: badge('error', 'error'),
  stopped: badge('stopped', 'muted'),
};

/** The Salesforce change feed: the mode, and per channel its replay id, last event, lag and health. */
function feedCard(installation: InstallationDetails, feed: SalesforceFeedView): Html {
  const settings = `/admin/installations/${encodeURIComponent(installation.id)}/settings?key=salesforceFeed`;
  return html`<section class="card" data-section="salesforce-feed" data-mode="${feed.mode}">
    <div class="card-head"><h2>Salesforce change feed</h2></div>
    <p>Changes arrive by <strong>${SALESFORCE_FEED_MODE_LABELS[feed.mode]}</strong> (<a href="${settings}">change</a>).</p>
    ${
      feed.channels.length === 0
        ? html`<p class="muted small">No change event channel followed yet.</p>`
        : html`<table class="data compact"><thead><tr><th>Channel</th><th>Health</th><th>Replay id</th><th>Last event</th><th>Lag</th></tr></thead>
      <tbody>${feed.channels.map(
        (c) =>
          html`<tr data-channel="${c.channel}" data-state="${c.state}"><td class="mono">${c.channel}</td><td>${FEED_BADGES[c.state]}${c.message ? html`<div class="small">${c.message}</div>` : ''}</td><td class="mono small">${c.replayId ?? '—'}</td><td>${c.lastEventAt?.toISOString() ?? '—'}</td><td class="num">${c.lagSeconds === null ? '—' : `${c.lagSeconds.toFixed(1)} s`}</td></tr>`,
      )}</tbody></table>
      <p class="muted small">Lag: how long after its commit in Salesforce the last event was taken in.</p>`
    }
  </section>`;
}

/** Stored secrets that cannot be opened, each with what to do (the connection cards show the CRM grants). */
function unreadableNotice(installation: InstallationDetails, alert: AlertTargetView): Html | string {
  if (alert.state !== 'unreadable') return '';
  const settings = `/admin/installations/${encodeURIComponent(installation.id)}/settings?key=slaPolicy#alert-target`;
  return html`<div class="notice error" role="alert" data-unreadable="alert"><strong>The SLA alert target cannot be read: no alert is sent.</strong> ${alert.problem ?? ''} <a href="${settings}">Save the alert target again</a>.</div>`;
}

/** Renders the installation page body. */
export function installationBody(data: InstallationPageData): Html {
  const { installation, csrfToken } = data;
  const base = `/admin/installations/${encodeURIComponent(installation.id)}`;
  return html`
  ${unreadableNotice(installation, data.alert)}
  <div class="grid two">
    ${connectionCard(installation, data.connections.hubspot, csrfToken)}
    ${connectionCard(installation, data.connections.salesforce, csrfToken)}
  </div>

  ${controlsCard(installation, data.controls, csrfToken)}

  ${feedCard(installation, data.feed)}

  <p class="small"><a href="${base}/sla" data-link="sla-compliance">Sales SLA compliance</a>: first touch, follow-up cadence, disposition and untouched leads per rep, team, channel and campaign.</p>

  <section class="card">
    <div class="card-head"><h2>Provisioning</h2></div>
    <p>Creates what the sync needs and is missing: the HubSpot property group <code>smarketing</code> and its contact properties, the Salesforce custom fields (Tooling API), the HubSpot webhook subscriptions and the Salesforce Outbound Messages. Existing fields are never changed or deleted. Start with a dry run: it shows what would be created and changes nothing.</p>
    <dl class="facts">
      <dt>HubSpot webhook URL</dt><dd><input class="copy mono" readonly value="${data.hubspotWebhookUrl}" aria-label="HubSpot webhook URL"></dd>
      <dt>Outbound Message endpoint</dt><dd><input class="copy mono" readonly value="${data.salesforceEndpointUrl}" aria-label="Outbound Message endpoint URL"></dd>
    </dl>
    <div class="button-row">
      ${postButton({ action: `${base}/provisioning`, csrfToken, label: 'Dry run', kind: 'primary', fields: { mode: 'dry-run' } })}
    </div>
  </section>

  <div class="grid two">
    <section class="card">
      <h2>Recent admin actions</h2>
      ${actionList(data.actions)}
    </section>
    <section class="card danger-zone">
      <h2>Uninstall</h2>
      <p>Revokes the stored HubSpot and Salesforce grants, forgets the credentials and removes every queued job of this installation. History (sync log, report) is kept; connecting HubSpot again reinstalls.</p>
      ${
        installation.status === 'active'
          ? html`<form method="post" action="${base}/uninstall" data-confirm="Uninstall ${installation.name}? Syncing stops and the grants are revoked.">
            ${csrfField(csrfToken)}
            <input type="hidden" name="confirm" value="yes">
            <button type="submit" class="danger">Uninstall</button>
          </form>`
          : html`<p class="muted">Uninstalled.</p>`
      }
    </section>
  </div>`;
}

const ITEM_BADGES: Record<ItemStatus, Html> = {
  exists: badge('exists', 'muted'),
  missing: badge('will be created', 'warn'),
  created: badge('created', 'ok'),
  manual: badge('set up by hand', 'info'),
  conflict: badge('conflict', 'error'),
  unavailable: badge('not in this org', 'muted'),
};

const KIND_LABELS: Record<AccessItem['kind'], string> = {
  'permission-set': 'Permission set',
  assignment: 'Assignment',
  'system-permission': 'System permission',
  object: 'Object',
  field: 'Field',
  'user-flag': 'User setting',
};

/**
 * The integration user's access: what is not in place first, each with its fix; then the rest,
 * folded. A field is in place only when describe shows it readable and updateable to that user.
 */
function accessSection(report: SalesforceAccessReport): Html {
  const open = report.items.filter((item) => item.fix !== null);
  const inPlace = report.items.filter((item) => item.fix === null);
  const row = (item: AccessItem) =>
    html`<tr data-status="${item.status}" data-kind="${item.kind}"><td>${KIND_LABELS[item.kind]}</td><td class="mono">${item.name}</td><td>${item.needs}</td><td>${ITEM_BADGES[item.status]}</td><td class="small">${item.fix ?? ''}</td></tr>`;
  const head = html`<thead><tr><th>Kind</th><th>Name</th><th>Needs</th><th>Status</th><th>How to fix it by hand</th></tr></thead>`;
  return html`
    <p class="summary" data-access-summary>${
      report.ready
        ? `Every field the sync uses is readable and updateable by the integration user (checked by describe as that user).`
        : `${open.length} permission(s) missing: until they are granted, Salesforce answers INVALID_FIELD and the sync cannot write these fields.`
    }</p>
    ${report.errors.map((error) => html`<div class="notice error small">${error}</div>`)}
    ${open.length > 0 ? html`<table class="data compact" data-missing-access>${head}<tbody>${open.map(row)}</tbody></table>` : ''}
    <details><summary>${inPlace.length} permission(s) in place</summary><table class="data compact">${head}<tbody>${inPlace.map(row)}</tbody></table></details>
    <p class="muted small">Sales users: permission set <code>${report.sales.name}</code> (${report.sales.label}) ${ITEM_BADGES[report.sales.status]}, held by ${report.sales.assignees} user(s). ${report.sales.fix}.</p>`;
}

function sectionError(error: string): Html {
  return html`<div class="notice error">${error}</div>`;
}

/** Renders a provisioning plan (dry run) or result. */
export function provisioningBody(plan: ProvisioningPlan, installation: InstallationDetails, csrfToken: string): Html {
  const base = `/admin/installations/${encodeURIComponent(installation.id)}`;
  const { counts } = plan;
  return html`
  <section class="card">
    <div class="card-head">
      <h2>${plan.dryRun ? 'Dry run: nothing was changed' : 'Provisioning result'}</h2>
      ${plan.dryRun ? badge(`${counts.missing} to create`, counts.missing > 0 ? 'warn' : 'ok') : badge(`${counts.created} created`, 'ok')}
      ${plan.ready ? badge('ready to sync', 'ok') : badge('not ready', 'error')}
    </div>
    <p class="summary" data-summary>${
      plan.dryRun
        ? counts.missing > 0
          ? `${counts.missing} item(s) will be created; ${counts.manual} step(s) need to be set up by hand${counts.conflicts > 0 ? `; ${counts.conflicts} conflict(s) to resolve by hand` : ''}.`
          : `Everything the sync needs already exists${counts.manual > 0 ? `; ${counts.manual} step(s) are set up by hand` : ''}.`
        : `${counts.created} item(s) created${counts.conflicts > 0 ? `; ${counts.conflicts} conflict(s) left as they are` : ''}.`
    }</p>
    <div class="button-row">
      ${plan.dryRun && counts.missing > 0 ? postButton({ action: `${base}/provisioning`, csrfToken, label: `Create the ${counts.missing} missing item(s)`, kind: 'primary', fields: { mode: 'provision' } }) : ''}
      ${postButton({ action: `${base}/provisioning`, csrfToken, label: plan.dryRun ? 'Run the dry run again' : 'Dry run again', fields: { mode: 'dry-run' } })}
      <a class="button secondary" href="${base}">Back to the installation</a>
    </div>
  </section>

  <section class="card" data-section="salesforce-access">
    <div class="card-head">
      <h2>Salesforce access of the integration user</h2>
      ${plan.salesforceAccess.ok ? (plan.salesforceAccess.ready ? badge('ready', 'ok') : badge('not ready', 'error')) : ''}
    </div>
    ${plan.salesforceAccess.ok ? accessSection(plan.salesforceAccess) : sectionError(plan.salesforceAccess.error)}
  </section>

  <section class="card">
    <h2>HubSpot contact and company properties</h2>
    ${
      plan.hubspotProperties.ok
        ? html`<p class="muted">Property group <code>${plan.hubspotProperties.group.name}</code> (${plan.hubspotProperties.group.label}), created with the first missing property.</p>
        <table class="data compact" data-sortable>
          <thead><tr><th>Object</th><th>Property</th><th>Label</th><th>Type</th><th>Status</th></tr></thead>
          <tbody>${plan.hubspotProperties.items.map((p) => html`<tr data-status="${p.status}"><td>${p.object}</td><td class="mono">${p.name}</td><td>${p.label}</td><td>${p.type}</td><td>${ITEM_BADGES[p.status]}</td></tr>`)}</tbody>
        </table>`
        : sectionError(plan.hubspotProperties.error)
    }
  </section>

  <section class="card">
    <h2>Salesforce custom fields (Tooling API)</h2>
    ${
      plan.salesforceFields.ok
        ? html`<table class="data compact" data-sortable>
          <thead><tr><th>Object</th><th>Field</th><th>Label</th><th>Type</th><th>Status</th></tr></thead>
          <tbody>${plan.salesforceFields.items.map((f) => html`<tr data-status="${f.status}"><td>${f.object}</td><td class="mono">${f.name}</td><td>${f.label}</td><td>${f.type}</td><td>${ITEM_BADGES[f.status]}</td></tr>`)}</tbody>
        </table>
        <p class="muted small">A new field exists for no user until a permission set grants it: provisioning grants these to the integration user (above).</p>`
        : sectionError(plan.salesforceFields.error)
    }
  </section>

  <section class="card">
    <h2>Salesforce Lead Status values (stage dictionary)</h2>
    ${
      plan.leadStatuses.ok
        ? html`<table class="data compact">
          <thead><tr><th>Lead Status</th><th>Shared stage</th><th>Set by</th><th>Status</th></tr></thead>
          <tbody>${plan.leadStatuses.items.map((s) => html`<tr data-status="${s.status}"><td>${s.value}</td><td>${s.stages.join(', ')}</td><td>${s.writtenByTheApp ? 'the sync' : 'sales'}</td><td>${ITEM_BADGES[s.status]}</td></tr>`)}</tbody>
        </table>
        <p class="muted small">Lead Status is a standard picklist: add a missing value in Setup → Object Manager → Lead → Fields &amp; Relationships → Lead Status. A value the sync writes must exist before it can run.</p>`
        : sectionError(plan.leadStatuses.error)
    }
  </section>

  ${webhookSections(plan)}`;
}

/** Where each CRM sends its changes: the HubSpot webhook subscriptions and the Salesforce Outbound Messages. */
function webhookSections(plan: ProvisioningPlan): Html {
  return html`<div class="grid two">
    <section class="card">
      <h2>HubSpot webhooks</h2>
      ${
        plan.hubspotWebhooks.ok
          ? html`<dl class="facts"><dt>Target URL</dt><dd><input class="copy mono" readonly value="${plan.hubspotWebhooks.targetUrl}" aria-label="HubSpot webhook target URL"></dd>
            ${plan.hubspotWebhooks.automatic ? html`<dt>Currently</dt><dd class="mono">${plan.hubspotWebhooks.currentTargetUrl ?? 'not set'}</dd>` : ''}</dl>
          ${plan.hubspotWebhooks.automatic ? '' : html`<p class="muted small">The HubSpot project in <code>platform/hubspot</code> declares this target URL (its profile's <code>PUBLIC_URL</code>) and these subscriptions; upload it with <code>hs project upload</code>:</p>`}
          <table class="data compact"><thead><tr><th>Event</th><th>Property</th><th>Status</th></tr></thead>
          <tbody>${plan.hubspotWebhooks.items.map((s) => html`<tr><td class="mono">${s.eventType}</td><td class="mono">${s.propertyName ?? '—'}</td><td>${ITEM_BADGES[s.status]}</td></tr>`)}</tbody></table>`
          : sectionError(plan.hubspotWebhooks.error)
      }
    </section>
    <section class="card">
      <h2>Salesforce Outbound Messages</h2>
      ${
        plan.outboundMessages.ok
          ? html`<dl class="facts"><dt>Endpoint URL to paste</dt><dd><input class="copy mono" readonly value="${plan.outboundMessages.endpointUrl}" aria-label="Outbound Message endpoint URL"></dd></dl>
          <table class="data compact"><thead><tr><th>Rule</th><th>Object</th><th>Fields sent</th><th>Status</th></tr></thead>
          <tbody>${plan.outboundMessages.items.map((r) => html`<tr><td>${r.name}${r.note ? html`<div class="muted small">${r.note}</div>` : ''}</td><td>${r.object}</td><td class="small mono">${r.fields.join(', ')}</td><td>${ITEM_BADGES[r.status]}</td></tr>`)}</tbody></table>`
          : sectionError(plan.outboundMessages.error)
      }
    </section>
  </div>`;
}

/**
 * `/admin/installations/:id/settings`: each rule set shown readably and edited as JSON; an edit
 * the domain validator refuses comes back with every message, the text kept for fixing.
 */
import type { ChannelCondition, ChannelRules } from '../../../domain/channels.ts';
import type { FeedbackTaxonomy } from '../../../domain/feedback.ts';
import type { SlaPolicy } from '../../../domain/sla.ts';
import type { FieldMapping, StageDictionary } from '../../../domain/stages.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { badge, csrfField, postButton } from '../components.ts';
import { html, type Html } from '../html.ts';
import type { AlertTargetView } from '../alert-target.ts';
import type { SettingKey, SettingView } from '../settings.ts';

function meaning(value: Record<string, unknown> | null): Html {
  if (!value) return html`<span class="muted">—</span>`;
  return html`${Object.entries(value).map(([k, v]) => html`<div><span class="muted small">${k}</span> <code>${Array.isArray(v) ? v.join(', ') : String(v as string | number | boolean)}</code></div>`)}`;
}

function dictionaryView(dictionary: StageDictionary): Html {
  return html`<p>Handoff to sales at <strong>${dictionary.handoffStage}</strong>. HubSpot lifecycle order: <code>${dictionary.hubspotLifecycleOrder.join(' → ')}</code></p>
  <table class="data compact"><thead><tr><th>Shared stage</th><th>HubSpot</th><th>Salesforce</th><th>Direction</th></tr></thead>
  <tbody>${dictionary.rows.map((row) => html`<tr><td><strong>${row.stage}</strong></td><td>${meaning(row.hubspot)}</td><td>${meaning(row.salesforce)}</td><td>${row.direction.replaceAll('_', ' ')}</td></tr>`)}</tbody></table>`;
}

function mappingsView(mappings: readonly FieldMapping[]): Html {
  return html`<table class="data compact"><thead><tr><th>HubSpot property</th><th>Salesforce field</th><th>Rule</th></tr></thead>
  <tbody>${mappings.map((m) => html`<tr><td class="mono">${m.hubspotProperty}</td><td class="mono">${m.salesforceField}</td><td>${m.rule.replaceAll('_', ' ')}</td></tr>`)}</tbody></table>`;
}

function conditionText(condition: ChannelCondition): string {
  switch (condition.operator) {
    case 'equals':
      return `${condition.field} = "${condition.value}"`;
    case 'in':
      return `${condition.field} in (${condition.values.join(', ')})`;
    case 'regex':
      return `${condition.field} ~ /${condition.pattern}/`;
    case 'exists':
      return `${condition.field} is set`;
    case 'in_site_list':
      return `${condition.field} in site list ${condition.list}`;
    default: {
      const unreachable: never = condition;
      return String(unreachable);
    }
  }
}

function channelsView(rules: ChannelRules): Html {
  return html`<p>First matching rule wins; otherwise <strong>${rules.fallbackChannel}</strong>. Site lists: ${Object.entries(rules.siteLists).map(([name, entries]) => html`<code>${name}</code> (${entries.length}) `)}</p>
  <table class="data compact"><thead><tr><th>#</th><th>Channel</th><th>Matches when any group holds</th></tr></thead>
  <tbody>${rules.rules.map((rule, index) => html`<tr><td class="num">${index + 1}</td><td><strong>${rule.channel}</strong></td><td>${rule.anyOf.map((group) => html`<div class="small">${group.map(conditionText).join(' and ')}</div>`)}</td></tr>`)}</tbody></table>`;
}

function taxonomyView(taxonomy: FeedbackTaxonomy): Html {
  const recycles = new Set([...taxonomy.recycleRejectedReasons, ...taxonomy.recycleLostReasons]);
  return html`<table class="data compact"><thead><tr><th>Salesforce label</th><th>Code</th><th>Goes back to nurture</th></tr></thead>
  <tbody>${taxonomy.reasons.map((r) => html`<tr><td>${r.label}</td><td class="mono">${r.code}</td><td>${recycles.has(r.code) ? badge('recycled', 'info') : ''}</td></tr>`)}</tbody></table>
  <p class="small muted">Unknown labels count as <code>${taxonomy.fallbackCode}</code>. Lead statuses — untouched: ${taxonomy.leadStatuses.untouched.join(', ')}; accepted: ${taxonomy.leadStatuses.accepted.join(', ')}; closed: ${taxonomy.leadStatuses.closed.join(', ')}.</p>`;
}

function slaView(policy: SlaPolicy): Html {
  const hours = (business: SlaPolicy['businessHours'] | undefined) =>
    business === undefined ? 'inherited' : business === null ? 'calendar hours' : `business hours ${business.start}–${business.end} ${business.timeZone}, weekdays ${business.weekdays.join(',')}`;
  return html`<p>First touch within <strong>${policy.hours} h</strong> of the handoff (${hours(policy.businessHours)}). A Lead counts as untouched while its status is ${policy.untouchedLeadStatuses.join(', ')}.</p>
  ${policy.overrides.length === 0
    ? html`<p class="muted small">No overrides.</p>`
    : html`<table class="data compact"><thead><tr><th>Team</th><th>Lead Source</th><th>Hours</th><th>Clock</th></tr></thead>
      <tbody>${policy.overrides.map((o) => html`<tr><td>${o.team ?? 'any'}</td><td>${o.leadSource ?? 'any'}</td><td class="num">${o.hours}</td><td>${hours(o.businessHours)}</td></tr>`)}</tbody></table>`}`;
}

function readableView(view: SettingView): Html {
  switch (view.key) {
    case 'stageDictionary':
      return dictionaryView(view.value as StageDictionary);
    case 'fieldMappings':
      return mappingsView(view.value as FieldMapping[]);
    case 'channelRules':
      return channelsView(view.value as ChannelRules);
    case 'feedbackTaxonomy':
      return taxonomyView(view.value as FeedbackTaxonomy);
    case 'slaPolicy':
      return slaView(view.value as SlaPolicy);
    default: {
      const unreachable: never = view.key;
      return html`${String(unreachable)}`;
    }
  }
}

export interface SettingsPageData {
  installation: InstallationDetails;
  views: SettingView[];
  selected: SettingKey;
  csrfToken: string;
  /** The text in the editor (the admin's refused input, or the value in effect). */
  editorText?: string;
  issues?: string[];
  /** Where SLA breach alerts go (shown with the SLA policy). */
  alert?: AlertTargetView;
  /** A refused alert target form: the URL as typed and every problem (the secret is never sent back). */
  alertEdit?: { url: string; issues: string[] };
}

function issuesNotice(issues: readonly string[] | undefined): Html | string {
  return issues && issues.length > 0
    ? html`<div class="notice error" role="alert" data-issues><strong>Not saved: ${issues.length} problem${issues.length === 1 ? '' : 's'}.</strong><ul class="issues">${issues.map((issue) => html`<li>${issue}</li>`)}</ul></div>`
    : '';
}

/** The alert target card: a signed JSON POST per SLA breach; the secret is write-only. */
function alertCard(data: SettingsPageData, base: string): Html {
  const alert = data.alert ?? { configured: false, url: null };
  return html`<section class="card" id="alert-target">
    <div class="card-head"><h2>SLA breach alerts</h2>${alert.configured ? badge('on', 'ok') : badge('off', 'muted')}</div>
    <p class="muted">Each breach is escalated with Salesforce Tasks for the owner and their manager. With an alert target, a JSON alert signed with HMAC-SHA256 (<code>x-smarketing-signature</code>) is also POSTed to it: a chat webhook or an incident tool. URL and secret are stored encrypted.</p>
    ${alert.configured ? html`<p>Alerts go to <code>${alert.url ?? ''}</code>.</p>` : ''}
    ${issuesNotice(data.alertEdit?.issues)}
    <form method="post" action="${base}/alert" class="stack">
      ${csrfField(data.csrfToken)}
      <label>Alert URL <input type="url" name="url" required value="${data.alertEdit?.url ?? ''}" placeholder="https://hooks.example.com/…" autocomplete="off"></label>
      <label>Signing secret (16 characters or more) <input type="password" name="secret" required minlength="16" autocomplete="new-password"></label>
      <div class="button-row"><button type="submit" class="primary">${alert.configured ? 'Replace the alert target' : 'Save the alert target'}</button></div>
    </form>
    ${alert.configured ? postButton({ action: `${base}/alert/remove`, csrfToken: data.csrfToken, label: 'Turn alerts off', confirm: 'Stop sending SLA breach alerts?' }) : ''}
  </section>`;
}

/** Renders the settings page body. */
export function settingsBody(data: SettingsPageData): Html {
  const base = `/admin/installations/${encodeURIComponent(data.installation.id)}/settings`;
  const view = data.views.find((v) => v.key === data.selected) ?? data.views[0];
  if (!view) return html`<p class="empty">No settings.</p>`;
  const text = data.editorText ?? JSON.stringify(view.value, null, 2);
  return html`<div class="settings-layout">
    <nav class="side-list" aria-label="Settings">
      ${data.views.map((v) => html`<a href="${base}?key=${v.key}" class="${v.key === view.key ? 'active' : ''}">${v.label}${v.isDefault ? html` <span class="muted small">default</span>` : ''}${v.problems.length > 0 ? html` ${badge('invalid', 'error')}` : ''}</a>`)}
    </nav>
    <div>
      <section class="card">
        <div class="card-head"><h2>${view.label}</h2>${view.isDefault ? badge('default', 'muted') : badge('customised', 'info')}</div>
        <p class="muted">${view.description}</p>
        ${view.problems.length > 0 ? html`<div class="notice error">The stored value no longer validates, so the default applies: <ul>${view.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
        ${readableView(view)}
      </section>
      <section class="card">
        <h2>Edit</h2>
        ${issuesNotice(data.issues)}
        <form method="post" action="${base}/${view.key}" class="editor">
          ${csrfField(data.csrfToken)}
          <label for="value" class="visually-hidden">${view.label} (JSON)</label>
          <textarea id="value" name="value" rows="22" spellcheck="false" class="mono">${text}</textarea>
          <div class="button-row">
            <button type="submit" class="primary">Validate and save</button>
          </div>
        </form>
        ${view.isDefault ? '' : postButton({ action: `${base}/${view.key}/reset`, csrfToken: data.csrfToken, label: 'Reset to the default', confirm: `Reset ${view.label} to the default?` })}
      </section>
      ${view.key === 'slaPolicy' ? alertCard(data, `/admin/installations/${encodeURIComponent(data.installation.id)}`) : ''}
    </div>
  </div>`;
}

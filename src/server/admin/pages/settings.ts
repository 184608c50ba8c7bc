/**
 * `/admin/installations/:id/settings`: each rule set shown readably and edited in a form (or as
 * JSON); "Preview" says what saving would change, an edit the checks refuse comes back with every
 * message and the form as typed. The channel rules offer to re-stamp history, with the run's progress.
 */
import type { PrivacyPolicy } from '../../../domain/consent.ts';
import type { OwnerMatching } from '../../../domain/owners.ts';
import type { MarketingCommitments } from '../../../domain/commitments.ts';
import type { SharedGoals } from '../../../domain/goals.ts';
import { describeSendTime, type ReviewDigest } from '../../../domain/digest.ts';
import type { DeletionPolicy } from '../../../domain/record-identity.ts';
import { type ChangeFeedSetting } from '../../../domain/change-feed.ts';
import { SALESFORCE_FEED_MODE_LABELS } from '../../../domain/salesforce-feed.ts';
import type { DigestRecord } from '../../../store/digests.ts';
import type { DigestStatusView } from '../review-digest.ts';
import type { ChannelRules } from '../../../domain/channels.ts';
import { leadStatusMeanings, recycleReasonsOf, type FeedbackTaxonomy } from '../../../domain/feedback.ts';
import type { RevenuePolicy } from '../../../domain/revenue.ts';
import type { SlaPolicy } from '../../../domain/sla.ts';
import { contactFieldOf, SIDE_STAGES, type FieldMapping, type StageDictionary } from '../../../domain/stages.ts';
import type { SettingPreview } from '../../../domain/settings-preview.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import type { BackfillProgress } from '../../../sync/attribution-backfill.ts';
import type { FieldFillProgress } from '../../../sync/field-fill.ts';
import type { MappingPair } from '../../../domain/field-values.ts';
import { badge, csrfField, postButton } from '../components.ts';
import { html, type Html } from '../html.ts';
import type { AlertTargetView } from '../alert-target.ts';
import { conditionText, fieldsOf, pairsText, type FormFields } from '../settings-forms.ts';
import type { CrmCheck, SettingKey, SettingView } from '../settings.ts';
import { fieldFillText, progressText } from './health.ts';
import { settingEditor } from './settings-editors.ts';

function meaning(value: Record<string, unknown> | null): Html {
  if (!value) return html`<span class="muted">—</span>`;
  return html`${Object.entries(value).map(([k, v]) => html`<div><span class="muted small">${k}</span> <code>${Array.isArray(v) ? v.join(', ') : String(v as string | number | boolean)}</code></div>`)}`;
}

function dictionaryView(dictionary: StageDictionary): Html {
  const statuses = leadStatusMeanings(dictionary);
  const recycling = [...recycleReasonsOf(dictionary, 'Lead'), ...recycleReasonsOf(dictionary, 'Opportunity')];
  return html`<p>Funnel: <strong>${dictionary.funnel.join(' → ')}</strong>; handoff to sales at <strong>${dictionary.handoffStage}</strong>; ${SIDE_STAGES.map((side) => `${side} counts at ${dictionary.sideStageRanks[side]}`).join(', ')}. HubSpot lifecycle order: <code>${dictionary.hubspotLifecycleOrder.join(' → ')}</code></p>
  <p class="small muted">So, for feedback and the SLA, Lead Status untouched: ${statuses.untouched.join(', ') || '—'}; accepted: ${statuses.accepted.join(', ') || '—'}; closed: ${statuses.closed.join(', ') || '—'}. Back to nurture with: ${recycling.join(', ') || 'no reason'}.</p>
  <table class="data compact"><thead><tr><th>Shared stage</th><th>HubSpot</th><th>Salesforce</th><th>Direction</th></tr></thead>
  <tbody>${dictionary.rows.map((row) => html`<tr><td><strong>${row.stage}</strong></td><td>${meaning(row.hubspot)}</td><td>${meaning(row.salesforce)}</td><td>${row.direction.replaceAll('_', ' ')}</td></tr>`)}</tbody></table>`;
}

function mappingsView(mappings: readonly FieldMapping[]): Html {
  const valueMap = (m: FieldMapping) =>
    (m.valueMap ?? []).map((entry) => html`<div class="small"><code>${entry.hubspot}</code> = <code>${entry.salesforce}</code></div>`);
  const contactField = (m: FieldMapping) => contactFieldOf(m) ?? html`<span class="muted">Lead only</span>`;
  return html`<table class="data compact"><thead><tr><th>HubSpot property</th><th>Salesforce Lead field</th><th>Contact field after conversion</th><th>Rule</th><th>Value map</th></tr></thead>
  <tbody>${mappings.map((m) => html`<tr><td class="mono">${m.hubspotProperty}</td><td class="mono">${m.salesforceField}</td><td class="mono">${contactField(m)}</td><td>${m.rule.replaceAll('_', ' ')}</td><td>${valueMap(m)}</td></tr>`)}</tbody></table>`;
}

function channelsView(rules: ChannelRules): Html {
  return html`<p>First matching rule wins; otherwise <strong>${rules.fallbackChannel}</strong>. Site lists: ${Object.entries(rules.siteLists).map(([name, entries]) => html`<code>${name}</code> (${entries.length}) `)}</p>
  <table class="data compact"><thead><tr><th>#</th><th>Channel</th><th>Matches when any group holds</th></tr></thead>
  <tbody>${rules.rules.map((rule, index) => html`<tr><td class="num">${index + 1}</td><td><strong>${rule.channel}</strong></td><td>${rule.anyOf.map((group) => html`<div class="small">${group.map(conditionText).join(' and ')}</div>`)}</td></tr>`)}</tbody></table>`;
}

function taxonomyView(taxonomy: FeedbackTaxonomy): Html {
  return html`<table class="data compact"><thead><tr><th>Salesforce label</th><th>Code</th></tr></thead>
  <tbody>${taxonomy.reasons.map((r) => html`<tr><td>${r.label}</td><td class="mono">${r.code}</td></tr>`)}</tbody></table>
  <p class="small muted">Unknown labels count as <code>${taxonomy.fallbackCode}</code>. Which reasons send a lead back to nurture is the stage dictionary's recycled rows.</p>`;
}

function slaView(policy: SlaPolicy): Html {
  const hours = (business: SlaPolicy['businessHours'] | undefined) =>
    business === undefined
      ? 'inherited'
      : business === null
        ? 'calendar hours'
        : `business hours ${business.start}–${business.end} ${business.timeZone}, weekdays ${business.weekdays.join(',')}`;
  return html`<p>First touch within <strong>${policy.hours} h</strong> of the handoff (${hours(policy.businessHours)}). A Lead counts as untouched while its Lead Status is one the stage dictionary puts at the handoff stage.</p>
  <p>Follow-up cadence: ${policy.cadence === null ? html`<span class="muted">off</span>` : html`at least <strong>${policy.cadence.touches}</strong> logged touches within <strong>${policy.cadence.days} days</strong>`}.
    Disposition: ${policy.disposition === null ? html`<span class="muted">off</span>` : html`accepted, rejected with a reason or recycled within <strong>${policy.disposition.days} days</strong>`}. <a href="sla">Compliance</a></p>
  ${
    policy.overrides.length === 0
      ? html`<p class="muted small">No overrides.</p>`
      : html`<table class="data compact"><thead><tr><th>Team</th><th>Lead Source</th><th>Hours</th><th>Clock</th></tr></thead>
      <tbody>${policy.overrides.map((o) => html`<tr><td>${o.team ?? 'any'}</td><td>${o.leadSource ?? 'any'}</td><td class="num">${o.hours}</td><td>${hours(o.businessHours)}</td></tr>`)}</tbody></table>`
  }`;
}

function revenueView(policy: RevenuePolicy): Html {
  const measure = policy.segments.measure === 'employees' ? 'employees' : 'annual revenue';
  const source = policy.segments.source === 'salesforce_account' ? 'the Salesforce Account' : "the contact's HubSpot company";
  return html`<p>Won deals count on <strong>${policy.wonDate === 'won_day' ? 'the day they were won' : 'their close date'}</strong>. Customer size bands by ${measure} of ${source}:
    ${policy.segments.bands.map((band, index) => html`<code>${band.label}</code> from ${band.min.toLocaleString('en-US')}${index < policy.segments.bands.length - 1 ? ', ' : ''}`)}.</p>
  ${
    policy.channelCosts.length === 0
      ? html`<p class="muted small">No channel cost entered: cost comes from Salesforce Campaigns only.</p>`
      : html`<table class="data compact"><thead><tr><th>Channel</th><th>Month</th><th>Cost</th></tr></thead>
      <tbody>${policy.channelCosts.map((row) => html`<tr><td>${row.channel}</td><td>${row.month}</td><td class="num">${row.amount.toLocaleString('en-US', { minimumFractionDigits: 2 })}</td></tr>`)}</tbody></table>`
  }`;
}

function commitmentsView(value: MarketingCommitments): Html {
  if (value.commitments.length === 0) return html`<p class="muted small">No commitment: nothing is paced.</p>`;
  return html`<p>Committed per <strong>${value.period}</strong>; on track from a forecast of 100 % of the target, at risk from 85 %, behind below.</p>
  <table class="data compact"><thead><tr><th>Metric</th><th>Target per ${value.period}</th><th>Channel</th></tr></thead>
  <tbody>${value.commitments.map((row) => html`<tr><td>${row.metric.replaceAll('_', ' ')}</td><td class="num">${row.target.toLocaleString('en-US')}</td><td>${row.channel ?? 'all'}</td></tr>`)}</tbody></table>`;
}

function goalsView(value: SharedGoals): Html {
  if (value.goals.length === 0) return html`<p class="muted small">No goal set.</p>`;
  return html`<table class="data compact"><thead><tr><th>Quarter</th><th>KPI</th><th>Target</th><th>Owner</th></tr></thead>
  <tbody>${value.goals.map((row) => html`<tr><td>${row.quarter}</td><td>${row.kpi.replaceAll('_', ' ')}</td><td class="num">${row.target.toLocaleString('en-US')}</td><td>${row.owner}</td></tr>`)}</tbody></table>`;
}

const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function digestView(value: ReviewDigest): Html {
  if (!value.enabled) return html`<p class="muted small">Off: no digest is sent.</p>`;
  return html`<p>Every <strong>${value.every === 'week' ? 'week' : 'two weeks'}</strong> on <strong>${WEEKDAY_NAMES[value.weekday - 1] ?? ''}</strong> at <strong>${String(value.hour).padStart(2, '0')}:00</strong> ${value.timeZone}: the review of the ${value.period} containing the send time.</p>
  <p>Email to ${value.emailTo.length === 0 ? html`<span class="muted">nobody</span>` : html`<code>${value.emailTo.join(', ')}</code>`}; chat text to the alert target: <strong>${value.toAlertTarget ? 'yes' : 'no'}</strong>.</p>`;
}

function ownerMatchingView(value: OwnerMatching): Html {
  if (value.overrides.length === 0)
    return html`<p class="muted small">No override: each HubSpot owner is the Salesforce user with the same email.</p>`;
  return html`<table class="data compact"><thead><tr><th>HubSpot owner</th><th>Salesforce user</th></tr></thead>
  <tbody>${value.overrides.map((row) => html`<tr><td><code>${row.hubspotOwner}</code></td><td><code>${row.salesforceUser}</code></td></tr>`)}</tbody></table>`;
}

/** Each setting shown readably. */
const VIEWS: { readonly [K in SettingKey]: (value: unknown) => Html } = {
  stageDictionary: (v) => dictionaryView(v as StageDictionary),
  fieldMappings: (v) => mappingsView(v as FieldMapping[]),
  channelRules: (v) => channelsView(v as ChannelRules),
  feedbackTaxonomy: (v) => taxonomyView(v as FeedbackTaxonomy),
  slaPolicy: (v) => slaView(v as SlaPolicy),
  revenuePolicy: (v) => revenueView(v as RevenuePolicy),
  marketingCommitments: (v) => commitmentsView(v as MarketingCommitments),
  sharedGoals: (v) => goalsView(v as SharedGoals),
  reviewDigest: (v) => digestView(v as ReviewDigest),
  ownerMatching: (v) => ownerMatchingView(v as OwnerMatching),
  privacyPolicy: (v) =>
    html`<p>A HubSpot privacy deletion <strong>${(v as PrivacyPolicy).salesforceRecords === 'anonymize' ? 'anonymizes' : 'leaves (and unlinks)'}</strong> the linked Salesforce Lead or Contact; the app's own copy of the person is always erased.</p>`,
  hubspotChangeFeed: (v) => {
    const { mode } = v as ChangeFeedSetting;
    const how = { push: 'webhooks', pull: 'the webhooks journal', both: 'webhooks and the webhooks journal, each change taken once' }[mode];
    return html`<p>HubSpot changes arrive by <strong>${mode}</strong> (${how}).</p>`;
  },
  deletionPolicy: (v) => {
    const policy = v as DeletionPolicy;
    const says = (action: string, other: string) =>
      action === 'delete' ? html`<strong>deletes</strong> the linked ${other} too` : html`only unlinks the ${other}`;
    return html`<p>A contact deleted in HubSpot ${says(policy.hubspotContactDeleted, 'Salesforce record')}; a Lead or Contact deleted in Salesforce ${says(policy.salesforceRecordDeleted, 'HubSpot contact')}.</p>`;
  },
  salesforceFeed: (v) =>
    html`<p>Salesforce changes arrive by <strong>${SALESFORCE_FEED_MODE_LABELS[(v as ChangeFeedSetting).mode]}</strong>.</p>`,
};

function readableView(view: SettingView): Html {
  return VIEWS[view.key](view.value);
}

export interface SettingsPageData {
  installation: InstallationDetails;
  views: SettingView[];
  selected: SettingKey;
  csrfToken: string;
  /** The form as the admin sent it (a refused edit or a preview); absent: the value in effect. */
  fields?: FormFields;
  /** The JSON editor's text as sent (a refused JSON edit). */
  jsonText?: string;
  issues?: string[];
  /** What saving the form would change (the "Preview" step). */
  preview?: { preview: SettingPreview; crmCheck: CrmCheck };
  /** The latest attribution backfill (re-stamping history), shown with the channel rules. */
  restampRun?: BackfillProgress | null;
  /** The latest fill of existing records, shown with the field mappings. */
  fillRun?: FieldFillProgress | null;
  /** The pairs a save just turned on (the fill button fills those). */
  fillPairs?: readonly MappingPair[];
  /** Where SLA breach alerts go (shown with the SLA policy). */
  alert?: AlertTargetView;
  /** The review digest's schedule and last sends (shown with the digest setting). */
  digest?: DigestStatusView;
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
  const alert: AlertTargetView = data.alert ?? { configured: false, url: null, state: 'none', problem: null };
  const stateBadge =
    alert.state === 'unreadable' ? badge('unreadable', 'error') : alert.configured ? badge('on', 'ok') : badge('off', 'muted');
  return html`<section class="card" id="alert-target" data-alert-state="${alert.state}">
    <div class="card-head"><h2>SLA breach alerts</h2>${stateBadge}</div>
    <p class="muted">Each breach is escalated with Salesforce Tasks for the owner and their manager. With an alert target, a JSON alert signed with HMAC-SHA256 (<code>x-smarketing-signature</code>) is also POSTed to it: a chat webhook or an incident tool. URL and secret are stored encrypted.</p>
    ${alert.state === 'ok' ? html`<p>Alerts go to <code>${alert.url ?? ''}</code>.</p>` : ''}
    ${alert.state === 'unreadable' ? html`<div class="notice error" role="alert"><strong>The stored alert target cannot be read: no alert is sent.</strong> ${alert.problem ?? ''}</div>` : ''}
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

function digestChannels(record: DigestRecord, timeZone: string): Html {
  const line = (label: string, state: string, at: Date | null, detail: string | null) =>
    html`<li data-digest-channel="${label}">${label}: ${badge(state, state === 'sent' ? 'ok' : state === 'failed' ? 'error' : state === 'pending' ? 'warn' : 'muted')}${at === null ? '' : ` ${describeSendTime(at, timeZone)}`}${detail === null ? '' : html` <span class="small">${detail}</span>`}</li>`;
  return html`<ul>${line('email', record.email.state, record.email.at, record.email.detail)}${line('chat', record.chat.state, record.chat.at, record.chat.detail)}</ul>`;
}

/** The digest card: the next send, the last digest and test per channel, and "Send now". */
function digestCard(data: SettingsPageData, base: string): Html {
  const digest = data.digest;
  if (!digest) return html``;
  return html`<section class="card" id="review-digest" data-next-send="${digest.nextSend?.at ?? ''}">
    <div class="card-head"><h2>Digest status</h2>${digest.enabled ? badge('on', 'ok') : badge('off', 'muted')}</div>
    <p>${digest.nextSend === null ? html`<span class="muted">No digest scheduled.</span>` : html`Next digest (${digest.nextSend.slotId}): <strong>${digest.nextSend.text}</strong>.`}</p>
    ${digest.emailConfigured ? '' : html`<p class="small muted">Email is not configured on this deployment (SMTP_HOST, SMTP_FROM): the digest can go to the alert target only.</p>`}
    <h3>Last digest</h3>
    ${digest.last === null ? html`<p class="muted small">None sent yet.</p>` : html`<p>${digest.last.slotId}, the review of ${digest.last.periodId}</p>${digestChannels(digest.last, digest.timeZone)}`}
    <h3>Last test</h3>
    ${digest.lastTest === null ? html`<p class="muted small">No test sent.</p>` : html`<p>Requested ${describeSendTime(digest.lastTest.createdAt, digest.timeZone)}, the review of ${digest.lastTest.periodId}</p>${digestChannels(digest.lastTest, digest.timeZone)}`}
    <p class="small muted">A test goes to the saved recipients and alert target now, marked as a test; it does not count as the week's digest.</p>
    ${postButton({ action: `${base}/review-digest/test`, csrfToken: data.csrfToken, label: 'Send a test digest now', kind: 'primary' })}
  </section>`;
}

/** The "Preview" step: what saving the form would change, counted from the app's records. */
function previewNotice(input: NonNullable<SettingsPageData['preview']>): Html {
  const { preview, crmCheck } = input;
  return html`<div class="notice ${preview.lines.some((line) => line.level === 'warn') ? 'warn' : 'ok'}" role="status" data-preview>
    <strong>${preview.changed ? 'Preview: not saved yet.' : 'Preview: this is the value in effect; saving changes nothing.'}</strong>
    ${crmCheck.checked ? html` Every value exists in the CRMs.` : html` Not checked against the CRMs: ${crmCheck.reason}`}
    ${preview.lines.length > 0 ? html`<ul class="preview-lines">${preview.lines.map((line) => html`<li data-level="${line.level}">${line.level === 'warn' ? badge('check', 'warn') : ''} ${line.text}</li>`)}</ul>` : ''}
    ${preview.restampOffered ? html`<p class="small">After saving, re-stamp history (below) so recorded touches get the new channels.</p>` : ''}
    ${preview.fillOffered ? html`<p class="small" data-fill-offered>After saving, fill existing records (below) so the linked records get ${(preview.fillPairs ?? []).map((p) => `${p.hubspotProperty} ↔ ${p.salesforceField}`).join(', ')} now rather than at their next change.</p>` : ''}
  </div>`;
}

/** A run card's parts: its head with the run's status, and its live progress bar (none before a first run). */
function runCardParts(
  run: { runId: string; status: string; total: number | null; done: number } | null,
  kind: string,
  label: string,
  text: string,
): { badge: Html | string; progress: Html | string; running: boolean } {
  return {
    badge: run ? badge(run.status, run.status === 'completed' ? 'ok' : run.status === 'failed' ? 'error' : 'info') : '',
    progress: run
      ? html`<div class="progress" data-backfill-run="${run.runId}" data-run-kind="${kind}">
          <progress max="${run.total ?? 1}" value="${run.total === null ? 0 : run.done}" aria-label="${label}"></progress>
          <p class="small" data-progress-text>${text}</p>
        </div>`
      : '',
    running: run !== null && (run.status === 'queued' || run.status === 'running'),
  };
}

/** Re-stamping history after a channel rule change: the attribution backfill and its live progress. */
function restampCard(data: SettingsPageData, base: string): Html {
  const run = data.restampRun ?? null;
  const parts = runCardParts(run, 'attribution', 'Re-stamp progress', run ? progressText(run) : '');
  return html`<section class="card" id="restamp">
    <div class="card-head"><h2>Re-stamp history</h2>${parts.badge}</div>
    <p class="muted">Touches keep the channel they were given when recorded. After changing the channel rules, re-stamp every contact and Lead with the new rules (the attribution backfill), so the report's channels do not split in two.</p>
    ${parts.progress}
    <div data-run-again ${parts.running ? 'hidden' : ''}>${postButton({ action: `${base}/channelRules/restamp`, csrfToken: data.csrfToken, label: 'Re-stamp history with the current rules', kind: 'primary', confirm: 'Re-stamp attribution on every contact and Lead with the saved channel rules?' })}</div>
  </section>`;
}

/** Filling existing records after field mappings start syncing: the field fill and its live progress. */
function fillCard(data: SettingsPageData, base: string): Html {
  const run = data.fillRun ?? null;
  const parts = runCardParts(run, 'field-fill', 'Fill progress', run ? fieldFillText(run) : '');
  const pairs = data.fillPairs ?? [];
  const which = pairs.length > 0 ? pairs.map((p) => `${p.hubspotProperty} ↔ ${p.salesforceField}`).join(', ') : 'every syncing mapping';
  return html`<section class="card" id="fill">
    <div class="card-head"><h2>Fill existing records</h2>${parts.badge}</div>
    <p class="muted">A mapping that starts syncing (or changes rule) reaches a linked record at its next change. Fill the records linked already, by each mapping's rule, to have them agree now.</p>
    ${parts.progress}
    <div data-run-again ${parts.running ? 'hidden' : ''}>${postButton({
      action: `${base}/fieldMappings/fill`,
      csrfToken: data.csrfToken,
      label: `Fill existing records (${which})`,
      kind: 'primary',
      confirm: `Write ${which} to every linked contact and Lead by its rule?`,
      ...(pairs.length > 0 ? { fields: { pairs: pairsText(pairs) } } : {}),
    })}</div>
  </section>`;
}

/** Renders the settings page body. */
export function settingsBody(data: SettingsPageData): Html {
  const base = `/admin/installations/${encodeURIComponent(data.installation.id)}/settings`;
  const view = data.views.find((v) => v.key === data.selected) ?? data.views[0];
  if (!view) return html`<p class="empty">No settings.</p>`;
  const text = data.jsonText ?? JSON.stringify(view.value, null, 2);
  const fields = data.fields ?? fieldsOf(view.key, view.value);
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
      <section class="card" id="edit">
        <h2>Edit</h2>
        <p class="small muted">Values are checked against the live CRMs before anything is saved: picklist values, fields and properties must exist, and the fields the sync writes must be writable.</p>
        ${issuesNotice(data.issues)}
        ${data.preview ? previewNotice(data.preview) : ''}
        <form method="post" action="${base}/${view.key}" class="settings-form" data-settings-form>
          ${csrfField(data.csrfToken)}
          ${settingEditor(view.key, fields)}
          <div class="button-row">
            <button type="submit" name="intent" value="preview" class="secondary">Preview changes</button>
            <button type="submit" name="intent" value="save" class="primary">Check and save</button>
          </div>
        </form>
        <details class="json-editor"${data.jsonText === undefined ? '' : ' open'}>
          <summary>Edit as JSON</summary>
          <form method="post" action="${base}/${view.key}" class="editor">
            ${csrfField(data.csrfToken)}
            <label for="value" class="visually-hidden">${view.label} (JSON)</label>
            <textarea id="value" name="value" rows="22" spellcheck="false" class="mono">${text}</textarea>
            <div class="button-row">
              <button type="submit" name="intent" value="preview" class="secondary">Preview changes</button>
              <button type="submit" name="intent" value="save" class="primary">Validate and save</button>
            </div>
          </form>
        </details>
        ${view.isDefault ? '' : postButton({ action: `${base}/${view.key}/reset`, csrfToken: data.csrfToken, label: 'Reset to the default', confirm: `Reset ${view.label} to the default?` })}
      </section>
      ${view.key === 'channelRules' ? restampCard(data, base) : ''}
      ${view.key === 'fieldMappings' ? fillCard(data, base) : ''}
      ${view.key === 'reviewDigest' ? digestCard(data, `/admin/installations/${encodeURIComponent(data.installation.id)}`) : ''}
      ${view.key === 'slaPolicy' ? alertCard(data, `/admin/installations/${encodeURIComponent(data.installation.id)}`) : ''}
    </div>
  </div>`;
}

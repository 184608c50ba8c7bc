/**
 * The settings forms: tables of rows with inputs and selects (one blank row at the end for a new
 * one; settings.js adds and removes rows), rendered from form fields so a refused form comes back
 * as typed. settings-forms.ts turns the fields into the setting and back.
 */
import { COMMITMENT_METRICS, COMMITMENT_PERIODS } from '../../../domain/commitments.ts';
import { GOAL_KPIS } from '../../../domain/goals.ts';
import { SALESFORCE_FEED_MODE_LABELS } from '../../../domain/salesforce-feed.ts';
import { CHANGE_FEED_MODES } from '../../../domain/change-feed.ts';
import { TOUCH_FIELDS } from '../../../domain/channels.ts';
import { FIELD_SYNC_RULES, isSideStage, OPPORTUNITY_STATES, SHARED_STAGES, SIDE_STAGES, SYNC_DIRECTIONS } from '../../../domain/stages.ts';
import { field, fieldList, LEAD_ONLY_WORD, splitList, type FormFields } from '../settings-forms.ts';
import type { SettingKey } from '../settings.ts';
import { html, type Html } from '../html.ts';

/** A table column: a text input, or a select with (value, label) options. */
type Column =
  | { name: string; label: string; kind: 'text'; placeholder?: string; width?: string }
  | { name: string; label: string; kind: 'select'; options: readonly (readonly [string, string])[] }
  | { name: string; label: string; kind: 'textarea'; placeholder?: string }
  | { name: string; label: string; kind: 'hidden' };

const choices = (values: readonly string[]): (readonly [string, string])[] =>
  values.map((value) => [value, value.replaceAll('_', ' ')] as const);

function cell(column: Column, prefix: string, value: string): Html {
  const name = `${prefix}.${column.name}`;
  switch (column.kind) {
    case 'text':
      return html`<td><input type="text" name="${name}" value="${value}" aria-label="${column.label}"${column.placeholder ? html` placeholder="${column.placeholder}"` : ''}${column.width ? html` style="width:${column.width}"` : ''}></td>`;
    case 'textarea':
      return html`<td><textarea name="${name}" rows="${Math.max(2, value.split('\n').length)}" aria-label="${column.label}" spellcheck="false"${column.placeholder ? html` placeholder="${column.placeholder}"` : ''}>${value}</textarea></td>`;
    case 'select':
      return html`<td><select name="${name}" aria-label="${column.label}">${column.options.map(([option, label]) => html`<option value="${option}"${option === value ? ' selected' : ''}>${label}</option>`)}</select></td>`;
    case 'hidden':
      return html`<input type="hidden" name="${name}" value="${value}">`;
    default: {
      const unreachable: never = column;
      return html`${String(unreachable)}`;
    }
  }
}

/**
 * An editable table: one row per value of the repeated fields, then one blank row for a new entry
 * (without script it is still there; settings.js clones it for "Add a row").
 */
function rowsTable(fields: FormFields, prefix: string, columns: readonly Column[], caption: string): Html {
  const lists = columns.map((column) => fieldList(fields, `${prefix}.${column.name}`));
  const count = Math.max(0, ...lists.map((list) => list.length));
  // Hidden columns ride in the last cell, so every row keeps the same number of each field.
  const row = (values: readonly string[], index: number | null) =>
    html`<tr data-row><td class="muted small num">${index === null ? 'new' : index}</td>${columns.map((column, c) => (column.kind === 'hidden' ? '' : cell(column, prefix, values[c] ?? '')))}<td class="actions">${columns.map((column, c) => (column.kind === 'hidden' ? cell(column, prefix, values[c] ?? '') : ''))}<button type="button" class="secondary" data-remove-row aria-label="Remove this row">Remove</button></td></tr>`;
  const visible = columns.filter((column) => column.kind !== 'hidden');
  // A row sent back with every typed cell blank is the blank row itself: it is not shown twice.
  const typed = columns.flatMap((column, c) => (column.kind === 'text' || column.kind === 'textarea' ? [c] : []));
  const rows = Array.from({ length: count }, (_, index) => lists.map((list) => list[index] ?? '')).filter((values) =>
    typed.some((c) => (values[c] ?? '').trim() !== ''),
  );
  return html`<table class="data compact editable" data-rows="${prefix}">
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr><th>#</th>${visible.map((column) => html`<th>${column.label}</th>`)}<th></th></tr></thead>
    <tbody>${rows.map((values, index) => row(values, index))}${row(
      columns.map((column) => (column.kind === 'select' ? (column.options[0]?.[0] ?? '') : '')),
      null,
    )}</tbody>
  </table>
  <p><button type="button" class="secondary" data-add-row="${prefix}">Add a row</button></p>`;
}

function textField(fields: FormFields, name: string, label: string, hint?: string): Html {
  return html`<label>${label} <input type="text" name="${name}" value="${field(fields, name)}">${hint ? html`<span class="small muted">${hint}</span>` : ''}</label>`;
}

function selectField(fields: FormFields, name: string, label: string, options: readonly (readonly [string, string])[]): Html {
  const value = field(fields, name);
  return html`<label>${label} <select name="${name}">${options.map(([option, text]) => html`<option value="${option}"${option === value ? ' selected' : ''}>${text}</option>`)}</select></label>`;
}

function dictionaryEditor(fields: FormFields): Html {
  // The stages a row may name: the funnel as the form has it (a stage added there is offered once saved or refused), then the side stages.
  const funnel = splitList(field(fields, 'funnel'));
  const stages = choices([...(funnel.length > 0 ? funnel : SHARED_STAGES.filter((stage) => !isSideStage(stage))), ...SIDE_STAGES]);
  const funnelStages = stages.filter(([stage]) => !isSideStage(stage));
  return html`${textField(fields, 'funnel', 'Funnel', 'stage names, comma-separated, first to last: the report counts and converts along them')}
    ${selectField(fields, 'handoffStage', 'Handoff to sales at', funnelStages)}
    <div class="form-grid">${SIDE_STAGES.map((side) => selectField(fields, `rank.${side}`, `A ${side} lead counts at`, funnelStages))}</div>
    ${textField(fields, 'lifecycleOrder', 'HubSpot lifecycle order', 'internal values, comma-separated, earliest first')}
    <p class="small muted">Each row says what a shared stage means on each side. A Salesforce value must be a value of the org's picklist (Lead Status, Feedback Reason, Loss Reason); a HubSpot value an option of the property.</p>
    ${rowsTable(
      fields,
      'row',
      [
        { name: 'stage', label: 'Shared stage', kind: 'select', options: stages },
        { name: 'direction', label: 'Direction', kind: 'select', options: choices(SYNC_DIRECTIONS) },
        { name: 'lifecyclestage', label: 'HubSpot lifecyclestage', kind: 'text' },
        { name: 'hs_lead_status', label: 'HubSpot hs_lead_status', kind: 'text' },
        { name: 'sales_feedback_status', label: 'HubSpot sales_feedback_status', kind: 'text' },
        {
          name: 'object',
          label: 'Salesforce object',
          kind: 'select',
          options: [
            ['', '—'],
            ['Lead', 'Lead'],
            ['Opportunity', 'Opportunity'],
          ],
        },
        { name: 'status', label: 'Lead Status', kind: 'text' },
        {
          name: 'converted',
          label: 'Converted',
          kind: 'select',
          options: [
            ['', 'either'],
            ['yes', 'yes'],
            ['no', 'no'],
          ],
        },
        { name: 'state', label: 'Opportunity state', kind: 'select', options: [['', '—'], ...choices(OPPORTUNITY_STATES)] },
        { name: 'reasons', label: 'Reasons', kind: 'text', placeholder: 'comma-separated' },
      ],
      'Stage dictionary rows',
    )}`;
}

function mappingsEditor(fields: FormFields): Html {
  return html`<p class="small muted">Value map (picklists): one entry per line, <code>hubspot value = Salesforce value</code>; a value the map does not name crosses as it is.
      Contact field: the field of the Salesforce Contact the mapping follows once the Lead is converted (where your lead field mapping copies the Lead field); blank follows the standard field's own counterpart (a custom field then stays on the Lead), <code>${LEAD_ONLY_WORD}</code> follows the Lead only.</p>
    ${rowsTable(
      fields,
      'map',
      [
        { name: 'hubspotProperty', label: 'HubSpot property', kind: 'text' },
        { name: 'salesforceField', label: 'Salesforce Lead field', kind: 'text' },
        { name: 'salesforceContactField', label: 'Contact field after conversion', kind: 'text', placeholder: 'as converted' },
        { name: 'rule', label: 'Rule', kind: 'select', options: choices(FIELD_SYNC_RULES) },
        { name: 'valueMap', label: 'Value map', kind: 'textarea', placeholder: 'hubspot value = Salesforce value' },
      ],
      'Field sync rules',
    )}`;
}

function channelsEditor(fields: FormFields): Html {
  return html`${textField(fields, 'fallbackChannel', 'Channel when no rule matches')}
    <h3>Site lists</h3>
    ${rowsTable(
      fields,
      'list',
      [
        { name: 'name', label: 'Name', kind: 'text' },
        { name: 'entries', label: 'Sites', kind: 'text', placeholder: 'comma-separated hosts', width: '40rem' },
      ],
      'Site lists',
    )}
    <h3>Rules (first match wins)</h3>
    <p class="small muted">One condition per line, all must hold; a line <code>or</code> starts another group. Fields: ${TOUCH_FIELDS.join(', ')}. Forms: <code>medium = "cpc"</code>, <code>source in ["google", "bing"]</code>, <code>medium ~ /^(cpc|ppc)$/</code>, <code>referrer is set</code>, <code>source in site list social</code>; <code>!=</code>, <code>not in</code>, <code>!~</code>, <code>is not set</code> negate.</p>
    ${rowsTable(
      fields,
      'rule',
      [
        { name: 'channel', label: 'Channel', kind: 'text' },
        { name: 'conditions', label: 'Conditions', kind: 'textarea', placeholder: 'medium = "cpc"' },
      ],
      'Channel rules',
    )}`;
}

function taxonomyEditor(fields: FormFields): Html {
  return html`<p class="small muted">Each label must be a value of the org's Feedback Reason picklist (Lead.Feedback_Reason__c). Which reasons send a lead back to nurture, what each Lead Status means and the HubSpot values each outcome sets are the stage dictionary's rows (its recycled, sql and handoff rows).</p>
    ${rowsTable(
      fields,
      'reason',
      [
        { name: 'label', label: 'Salesforce label', kind: 'text' },
        { name: 'code', label: 'Code', kind: 'text' },
      ],
      'Feedback reasons',
    )}
    <div class="form-grid">${textField(fields, 'fallbackCode', 'Code for an unknown label')}</div>`;
}

function slaEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      <label>Hours to the first touch <input type="text" inputmode="decimal" name="hours" value="${field(fields, 'hours')}"></label>
      ${selectField(fields, 'clock', 'Clock', [
        ['calendar', 'calendar hours'],
        ['business', 'business hours'],
      ])}
      ${textField(fields, 'timeZone', 'Time zone (business hours)', 'IANA, e.g. Europe/Paris')}
      ${textField(fields, 'start', 'Working day starts')}
      ${textField(fields, 'end', 'Working day ends')}
      ${textField(fields, 'weekdays', 'Working days', '1 = Monday … 7 = Sunday, comma-separated')}
      ${textField(fields, 'holidays', 'Holidays', 'YYYY-MM-DD, comma-separated')}
    </div>
    <h3>Follow-up after the first touch (leave blank to turn a rule off)</h3>
    <div class="form-grid">
      ${textField(fields, 'cadenceTouches', 'Cadence: at least this many logged touches', 'Tasks and Events reps log, e.g. 3')}
      ${textField(fields, 'cadenceDays', 'Cadence: within days of handoff', 'calendar days, e.g. 7')}
      ${textField(fields, 'dispositionDays', 'Disposition: accepted, rejected with a reason or recycled within days', 'calendar days, e.g. 10')}
    </div>
    <h3>Overrides (first match wins)</h3>
    ${rowsTable(
      fields,
      'override',
      [
        { name: 'team', label: "Team (owner's department)", kind: 'text' },
        { name: 'leadSource', label: 'Lead Source', kind: 'text' },
        { name: 'hours', label: 'Hours', kind: 'text', width: '6rem' },
        {
          name: 'clock',
          label: 'Clock',
          kind: 'select',
          options: [
            ['inherit', 'as the policy'],
            ['calendar', 'calendar hours'],
            ['own', 'its own business hours'],
          ],
        },
        { name: 'ownHours', label: 'Own business hours', kind: 'hidden' },
      ],
      'SLA overrides',
    )}`;
}

function revenueEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(fields, 'wonDate', 'A won deal counts on', [
        ['won_day', 'the day it was won'],
        ['close_date', 'its close date'],
      ])}
      ${selectField(fields, 'segmentSource', 'Customer size from', [
        ['salesforce_account', 'the Salesforce Account'],
        ['hubspot_company', "the contact's HubSpot company"],
      ])}
      ${selectField(fields, 'segmentMeasure', 'Size measured by', [
        ['employees', 'employees'],
        ['annual_revenue', 'annual revenue'],
      ])}
    </div>
    <h3>Size bands (ascending; the first starts at 0)</h3>
    ${rowsTable(
      fields,
      'band',
      [
        { name: 'label', label: 'Band', kind: 'text' },
        { name: 'min', label: 'From (employees or revenue)', kind: 'text', width: '10rem' },
      ],
      'Size bands',
    )}
    <h3>Channel cost per month (for channels with no Salesforce Campaign cost)</h3>
    ${rowsTable(
      fields,
      'cost',
      [
        { name: 'channel', label: 'Channel', kind: 'text' },
        { name: 'month', label: 'Month (YYYY-MM)', kind: 'text', width: '8rem' },
        { name: 'amount', label: 'Cost (corporate currency)', kind: 'text', width: '10rem' },
      ],
      'Channel costs',
    )}`;
}

function commitmentsEditor(fields: FormFields): Html {
  return html`<div class="form-grid">${selectField(fields, 'period', 'Committed per', choices(COMMITMENT_PERIODS))}</div>
    <p class="small muted">Targets per period: a number of contacts, or for pipeline created an amount in the corporate currency. A channel limits the commitment to contacts (and their deals) whose first touch is in it; leave it blank for all.</p>
    ${rowsTable(
      fields,
      'commitment',
      [
        { name: 'metric', label: 'Metric', kind: 'select', options: choices(COMMITMENT_METRICS) },
        { name: 'target', label: 'Target per period', kind: 'text', width: '10rem' },
        { name: 'channel', label: 'Channel (optional)', kind: 'text' },
      ],
      'Marketing commitments',
    )}`;
}

function goalsEditor(fields: FormFields): Html {
  return html`<p class="small muted">Targets: revenue in the corporate currency, pipeline coverage as a multiple (3 = three times what is left of the revenue goal), conversions and win rate in percent, time to first touch in hours.</p>
    ${rowsTable(
      fields,
      'goal',
      [
        { name: 'quarter', label: 'Quarter (YYYY-Qn)', kind: 'text', width: '8rem', placeholder: '2026-Q4' },
        { name: 'kpi', label: 'KPI', kind: 'select', options: choices(GOAL_KPIS) },
        { name: 'target', label: 'Target', kind: 'text', width: '10rem' },
        { name: 'owner', label: 'Owner', kind: 'text', placeholder: 'Marketing, Sales, a name' },
      ],
      'Shared goals',
    )}`;
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

function digestEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(fields, 'enabled', 'Send the digest', [
        ['no', 'no'],
        ['yes', 'yes'],
      ])}
      ${selectField(fields, 'every', 'Every', [
        ['week', 'week'],
        ['two_weeks', 'two weeks'],
      ])}
      ${selectField(
        fields,
        'weekday',
        'On',
        WEEKDAYS.map((day, index) => [String(index + 1), day] as const),
      )}
      ${selectField(
        fields,
        'hour',
        'At',
        Array.from({ length: 24 }, (_, hour) => [String(hour), `${String(hour).padStart(2, '0')}:00`] as const),
      )}
      <label>Time zone <input type="text" name="timeZone" value="${field(fields, 'timeZone')}" required pattern="[A-Za-z_]+(/[A-Za-z0-9_+-]+)*"><span class="small muted">IANA, e.g. Europe/Paris</span></label>
      ${selectField(fields, 'period', 'Review of the', [
        ['quarter', 'quarter containing the send time'],
        ['month', 'month containing the send time'],
      ])}
      <label>Email to <input type="email" multiple name="emailTo" value="${field(fields, 'emailTo')}"><span class="small muted">addresses, comma-separated; none for no email</span></label>
      ${selectField(fields, 'toAlertTarget', 'Chat text to the alert target', [
        ['yes', 'yes'],
        ['no', 'no'],
      ])}
    </div>
    <p class="small muted">Every two weeks counts fixed pairs of weeks, so changing the day keeps the rhythm. A digest goes out once per week or pair; a worker that was down sends it when it is back, up to a day late.</p>`;
}

function ownerMatchingEditor(fields: FormFields): Html {
  return html`<p class="small muted">Without a row here a HubSpot owner is the Salesforce user with the same email. Each row pairs an owner with a user instead; both are checked against the CRMs when saved. An archived owner or an inactive user never owns a Lead: the org's assignment rules decide, and the sync log says why.</p>
    ${rowsTable(
      fields,
      'pair',
      [
        { name: 'hubspotOwner', label: 'HubSpot owner (id or email)', kind: 'text', placeholder: '9000001 or owner@example.com' },
        { name: 'salesforceUser', label: 'Salesforce user (id or username)', kind: 'text', placeholder: '005… or user@example.com' },
      ],
      'Owner overrides',
    )}`;
}

function privacyEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(fields, 'salesforceRecords', 'The linked Salesforce Lead or Contact', [
        ['anonymize', 'anonymize it (name, email, phone, title, notes)'],
        ['unlink', 'leave it as it is, only unlink it'],
      ])}
    </div>
    <p class="small muted">A HubSpot privacy deletion always erases the person from the app's own tables; the sync log keeps only that it happened. Anonymizing reaches the copy of the person the app made in Salesforce; leaving it means the org's admin erases it there.</p>`;
}

function deletionPolicyEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(fields, 'hubspotContactDeleted', 'A contact deleted in HubSpot', [
        ['unlink', 'unlinks its Salesforce record'],
        ['delete', 'deletes its Salesforce record too'],
      ])}
      ${selectField(fields, 'salesforceRecordDeleted', 'A Lead or Contact deleted in Salesforce', [
        ['unlink', 'unlinks its HubSpot contact'],
        ['delete', 'deletes its HubSpot contact too'],
      ])}
    </div>
    <p class="small muted">Either way the sync log says what happened, and a restore (HubSpot restore within 90 days, Salesforce undelete within 15) links the records again. A delete the app makes is not echoed back.</p>`;
}

function changeFeedEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(fields, 'mode', 'HubSpot changes reach the app by', [
        ['push', 'push: signed webhooks to /webhooks/hubspot'],
        ['pull', "pull: reading the portal's webhooks journal"],
        ['both', 'both, each change taken once'],
      ])}
    </div>
    <p class="small muted">Pull needs no public URL: the worker reads the journal with the app's client credentials token (scopes developer.webhooks_journal.read, .subscriptions.read and .subscriptions.write) and creates the journal subscriptions itself. The journal keeps 3 days: after a longer outage the feed starts again from the oldest entry kept and the reconciler catches up.</p>`;
}

function salesforceFeedEditor(fields: FormFields): Html {
  return html`<div class="form-grid">
      ${selectField(
        fields,
        'mode',
        'Salesforce changes arrive by',
        CHANGE_FEED_MODES.map((mode) => [mode, SALESFORCE_FEED_MODE_LABELS[mode]] as const),
      )}
    </div>
    <p class="small muted">Pull needs no public endpoint: the worker connects out to the org's Pub/Sub API, resumes each channel where it stopped, and after an outage longer than the 72-hour retention starts from the latest event and runs a reconciler pass. With both, a change that arrives both ways is synced once. The dashboard shows each channel's position and health.</p>`;
}

/** The form body of one setting. */
export function settingEditor(key: SettingKey, fields: FormFields): Html {
  return EDITORS[key](fields);
}

const EDITORS: { readonly [K in SettingKey]: (fields: FormFields) => Html } = {
  stageDictionary: dictionaryEditor,
  fieldMappings: mappingsEditor,
  channelRules: channelsEditor,
  feedbackTaxonomy: taxonomyEditor,
  slaPolicy: slaEditor,
  revenuePolicy: revenueEditor,
  marketingCommitments: commitmentsEditor,
  sharedGoals: goalsEditor,
  reviewDigest: digestEditor,
  ownerMatching: ownerMatchingEditor,
  privacyPolicy: privacyEditor,
  deletionPolicy: deletionPolicyEditor,
  hubspotChangeFeed: changeFeedEditor,
  salesforceFeed: salesforceFeedEditor,
};

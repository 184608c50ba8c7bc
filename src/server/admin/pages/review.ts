/**
 * The pipeline review page (`/admin/review`): every block of `PipelineReview` as a table, the open
 * pipeline by stage and the sources by channel as charts (public/review.js), a period picker, and a
 * print stylesheet (admin.css, `@media print`) so the page is the meeting's handout.
 */
import { GOAL_UNITS, type GoalRow } from '../../../domain/goals.ts';
import type { PipelineReview, SalesRuleFigures, SourceRow } from '../../../domain/review.ts';
import { UPCOMING_DAYS } from '../../../domain/review.ts';
import { periodContaining } from '../../../domain/commitments.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { money, numberOrDash, percent } from '../components.ts';
import { formatCount, formatTime, html, jsonBlock, type Html } from '../html.ts';

export interface ReviewPageData {
  installations: InstallationDetails[];
  installation: InstallationDetails | null;
  /** The period as typed (or the default one). */
  periodText: string;
  review: PipelineReview | null;
  problems: string[];
  /** The caller may edit the installation's settings (the empty states link there). */
  canManage: boolean;
}

const RULE_LABELS: Readonly<Record<SalesRuleFigures['rule'], string>> = {
  first_touch: 'First touch in time',
  cadence: 'Follow-up cadence',
  disposition: 'Disposition in time',
  untouched: 'No lead left untouched',
};

const KPI_LABELS: Readonly<Record<GoalRow['kpi'], string>> = {
  revenue: 'Revenue',
  pipeline_coverage: 'Pipeline coverage',
  mql_to_sql: 'MQL → SQL',
  sql_to_won: 'SQL → won',
  win_rate: 'Win rate',
  hours_to_first_touch: 'Hours to first touch',
};

const date = (iso: string): string => iso.slice(0, 10);
const empty = (text: Html | string): Html => html`<p class="empty">${text}</p>`;

function goalValue(row: GoalRow, value: number | null, currency: string | null): string {
  if (value === null) return '—';
  switch (GOAL_UNITS[row.kpi]) {
    case 'amount':
      return money(Math.round(value * 100), currency);
    case 'multiple':
      return `${value}×`;
    case 'percent':
      return `${value} %`;
    case 'hours':
      return `${value} h`;
    default:
      return String(value);
  }
}

function sourcesTable(rows: readonly SourceRow[], label: string, id: string, currency: string | null): Html {
  if (rows.length === 0) return empty('No won revenue or open pipeline in this period.');
  return html`<table id="${id}" class="data"><thead><tr><th>${label}</th><th class="num">Won deals</th><th class="num">Won</th><th class="num">Open deals</th><th class="num">Open pipeline</th></tr></thead>
    <tbody>${rows.map((row) => html`<tr><td>${row.key}</td><td class="num">${formatCount(row.wonDeals)}</td><td class="num">${money(row.wonCents, currency)}</td><td class="num">${formatCount(row.openDeals)}</td><td class="num">${money(row.openCents, currency)}</td></tr>`)}</tbody></table>`;
}

function rulesTable(rules: readonly SalesRuleFigures[], id: string): Html {
  return html`<table id="${id}" class="data"><thead><tr><th>Rule</th><th class="num">Kept</th><th class="num">Broken</th><th class="num">Pending</th><th class="num">Kept share</th></tr></thead>
    <tbody>${rules.map((rule) => html`<tr data-rule="${rule.rule}"><td>${RULE_LABELS[rule.rule]}</td>${rule.enabled ? html`<td class="num">${formatCount(rule.kept)}</td><td class="num">${formatCount(rule.broken)}</td><td class="num">${formatCount(rule.pending)}</td><td class="num">${percent(rule.rate)}</td>` : html`<td colspan="4" class="muted">Not set in the SLA policy</td>`}</tr>`)}</tbody></table>`;
}

/** A link to a setting for those who may change it, else where it is set. */
type SettingLink = (key: string, label: string) => Html;

function reviewSections(review: PipelineReview, installation: InstallationDetails, canManage: boolean): Html {
  const settings = `/admin/installations/${encodeURIComponent(installation.id)}/settings`;
  const settingLink: SettingLink = (key, label) =>
    canManage ? html`<a href="${settings}?key=${key}#edit">${label}</a>` : html`${label} (an installation admin sets it)`;
  return html`${revenueSectionsHtml(review, settingLink)}${agreementSectionsHtml(review, settingLink)}`;
}

/** Goal, open pipeline, sources, new customers and losses. */
function revenueSectionsHtml(review: PipelineReview, settingLink: SettingLink): Html {
  const currency = review.currency;
  const { goal, pipeline, sources, losses } = review;
  return html`
  <section class="card review-block" id="review-goal">
    <h2>${goal.quarter} revenue goal</h2>
    ${
      goal.targetCents === null
        ? html`<p class="empty" id="goal-missing">No shared goal for ${goal.quarter} — set one in ${settingLink('sharedGoals', 'Settings → Shared goals')}. Closed so far: <span id="goal-closed">${money(goal.closedCents, currency)}</span>.</p>`
        : html`<div class="kpis">
        <div class="kpi"><span class="muted small">Goal</span><strong id="goal-target">${money(goal.targetCents, currency)}</strong><span class="muted small">owner ${goal.owner ?? '—'}</span></div>
        <div class="kpi"><span class="muted small">Closed won</span><strong id="goal-closed">${money(goal.closedCents, currency)}</strong><span class="muted small" id="goal-share">${percent(goal.share)} of the goal</span></div>
        <div class="kpi"><span class="muted small">Open pipeline</span><strong>${money(pipeline.totalCents, currency)}</strong><span class="muted small">${formatCount(pipeline.totalDeals)} deal(s)</span></div>
      </div>`
    }
  </section>

  <section class="card review-block" id="review-pipeline">
    <h2>Open pipeline by stage</h2>
    ${
      pipeline.stages.length === 0
        ? empty('No open Opportunities.')
        : html`<div class="chart review-chart"><canvas id="chart-stages" role="img" aria-label="Open pipeline amount per Opportunity stage"></canvas></div>
      <table id="table-stages" class="data"><thead><tr><th>Stage</th><th class="num">Deals</th><th class="num">Amount</th></tr></thead>
        <tbody>${pipeline.stages.map((row) => html`<tr><td>${row.stage}</td><td class="num">${formatCount(row.deals)}</td><td class="num">${money(row.amountCents, currency)}</td></tr>`)}</tbody>
        <tfoot><tr><th>Total</th><td class="num">${formatCount(pipeline.totalDeals)}</td><td class="num">${money(pipeline.totalCents, currency)}</td></tr></tfoot></table>`
    }
  </section>

  <section class="card review-block" id="review-sources">
    <h2>Where revenue and pipeline came from</h2>
    <p class="muted small">Won in ${review.period.id} and open now, by the first touch of the contact each deal is credited through.</p>
    ${sources.channels.length === 0 ? '' : html`<div class="chart review-chart"><canvas id="chart-sources" role="img" aria-label="Won revenue and open pipeline per first-touch channel"></canvas></div>`}
    <div class="grid two"><div><h3>By channel</h3>${sourcesTable(sources.channels, 'Channel', 'table-source-channels', currency)}</div>
    <div><h3>By campaign</h3>${sourcesTable(sources.campaigns, 'Campaign', 'table-source-campaigns', currency)}</div></div>
  </section>

  <section class="card review-block" id="review-customers">
    <h2>New customers</h2>
    ${
      review.newCustomers.length === 0
        ? empty(`No Account won its first deal in ${review.period.id}.`)
        : html`<table id="table-new-customers" class="data"><thead><tr><th>Account</th><th>Opportunity</th><th class="num">Amount</th><th>Won</th><th>Why won</th><th>Channel</th><th>Campaign</th></tr></thead>
      <tbody>${review.newCustomers.map((c) => html`<tr><td>${c.accountName ?? c.accountId ?? '—'}</td><td>${c.opportunityName ?? c.opportunityId}</td><td class="num">${money(c.amountCents, currency)}</td><td>${date(c.wonAt)}</td><td>${c.reason ?? '—'}</td><td>${c.channel}</td><td>${c.campaign ?? '—'}</td></tr>`)}</tbody></table>`
    }
  </section>

  <section class="card review-block" id="review-losses">
    <h2>Losses</h2>
    ${
      losses.deals.length === 0
        ? empty(`No deal lost in ${review.period.id}.`)
        : html`<div class="grid two">
      <div><h3>Why</h3><table id="table-loss-reasons" class="data"><thead><tr><th>Reason</th><th class="num">Deals</th><th class="num">Amount</th></tr></thead>
        <tbody>${losses.reasons.map((r) => html`<tr><td>${r.reason}</td><td class="num">${formatCount(r.deals)}</td><td class="num">${money(r.amountCents, currency)}</td></tr>`)}</tbody></table></div>
      <div><h3>Deals</h3><table id="table-losses" class="data"><thead><tr><th>Opportunity</th><th>Account</th><th class="num">Amount</th><th>Lost</th><th>Reason</th></tr></thead>
        <tbody>${losses.deals.map((d) => html`<tr><td>${d.opportunityName ?? d.opportunityId}</td><td>${d.accountName ?? '—'}</td><td class="num">${money(d.amountCents, currency)}</td><td>${date(d.lostAt)}</td><td>${d.reason ?? '—'}</td></tr>`)}</tbody></table></div>
    </div>`
    }
  </section>
`;
}

/** Both sides of the agreement, shared goals, upcoming campaigns and the chart data. */
function agreementSectionsHtml(review: PipelineReview, settingLink: SettingLink): Html {
  const currency = review.currency;
  const { goal, pipeline, sources, agreement, upcoming } = review;
  const marketing = agreement.marketing;
  return html`
  <section class="card review-block" id="review-agreement">
    <h2>The agreement</h2>
    <div>
      <div><h3>Marketing's commitments</h3>
      ${
        marketing === null
          ? empty(
              html`The commitments are set per ${review.period.kind === 'month' ? 'quarter' : 'month'}: see their pacing in the <a href="?installation=${encodeURIComponent(review.installationId)}&amp;period=${otherPeriod(review)}">review of ${otherPeriod(review)}</a>.`,
            )
          : marketing.commitments.length === 0
            ? empty(
                html`No marketing commitments — set them in ${settingLink('marketingCommitments', 'Settings → Marketing commitments')}.`,
              )
            : html`<table id="table-commitments" class="data"><thead><tr><th>Commitment</th><th class="num">Target</th><th class="num">Delivered</th><th class="num">Expected to date</th><th class="num">Forecast</th><th>Status</th></tr></thead>
          <tbody>${marketing.commitments.map((c) => html`<tr><td>${c.metric.replaceAll('_', ' ')}${c.channel === null ? '' : ` (${c.channel})`}</td><td class="num">${formatCount(c.target)}</td><td class="num">${formatCount(c.delivered)}</td><td class="num">${formatCount(c.expectedToDate)}</td><td class="num">${formatCount(c.forecast)}</td><td>${c.status.replaceAll('_', ' ')}</td></tr>`)}</tbody></table>`
      }
      </div>
      <div><h3>Sales' follow-up</h3>
        <p class="muted small">${formatCount(agreement.sales.handedOff)} handoff(s) in ${review.period.id} · median ${numberOrDash(agreement.sales.medianHoursToFirstTouch, ' h')} to first touch</p>
        ${rulesTable(agreement.sales.rules, 'table-sales-rules')}
        <p class="small"><a href="/admin/installations/${encodeURIComponent(review.installationId)}/sla?from=${review.period.from}&amp;to=${review.period.to}">Compliance per rep, team, channel and campaign, with the leads that broke each rule</a></p>
        ${
          agreement.sales.byRep.length === 0
            ? ''
            : html`<h3>Per rep</h3><div class="scroll"><table id="table-sales-reps" class="data"><thead><tr><th>Rep</th><th class="num">Handoffs</th>${agreement.sales.rules.map((rule) => html`<th class="num">${RULE_LABELS[rule.rule]}</th>`)}</tr></thead>
          <tbody>${agreement.sales.byRep.map((rep) => html`<tr><td>${rep.key}</td><td class="num">${formatCount(rep.handedOff)}</td>${rep.rules.map((rule) => html`<td class="num">${rule.enabled ? percent(rule.rate) : '—'}</td>`)}</tr>`)}</tbody></table></div>`
        }
      </div>
    </div>
  </section>

  <section class="card review-block" id="review-goals">
    <h2>Shared goals, ${goal.quarter}</h2>
    ${
      review.goals.length === 0
        ? empty(html`No shared goal for ${goal.quarter} — set one in ${settingLink('sharedGoals', 'Settings → Shared goals')}.`)
        : html`<table id="table-goals" class="data"><thead><tr><th>KPI</th><th>Owner</th><th class="num">Target</th><th class="num">Actual</th><th class="num">Previous quarter</th><th>Trend</th><th>Status</th></tr></thead>
      <tbody>${review.goals.map((row) => html`<tr data-kpi="${row.kpi}"><td>${KPI_LABELS[row.kpi]}</td><td>${row.owner}</td><td class="num">${goalValue(row, row.target, currency)}</td><td class="num">${goalValue(row, row.actual, currency)}</td><td class="num">${goalValue(row, row.previous, currency)}</td><td>${row.trend ?? '—'}</td><td>${row.status.replaceAll('_', ' ')}</td></tr>`)}</tbody></table>`
    }
  </section>

  <section class="card review-block" id="review-upcoming">
    <h2>Campaigns starting in the next ${UPCOMING_DAYS} days</h2>
    ${upcoming.unavailable.map((side) => html`<p class="notice error" data-unavailable="${side.source}">${side.source === 'hubspot' ? 'HubSpot' : 'Salesforce'}: ${side.reason}</p>`)}
    ${
      upcoming.campaigns.length === 0
        ? empty('No campaign starts in the next 30 days.')
        : html`<table id="table-upcoming" class="data"><thead><tr><th>Starts</th><th>Ends</th><th>Campaign</th><th>Type</th><th>Status</th><th>Where</th></tr></thead>
      <tbody>${upcoming.campaigns.map((c) => html`<tr><td>${c.startDate}</td><td>${c.endDate ?? '—'}</td><td>${c.url === null ? c.name : html`<a href="${c.url}">${c.name}</a>`}</td><td>${c.type ?? '—'}</td><td>${c.status ?? '—'}</td><td>${c.source === 'hubspot' ? 'HubSpot' : 'Salesforce'}</td></tr>`)}</tbody></table>`
    }
  </section>
  <p class="muted small">${currency === null ? "Amounts are in the org's currency." : `Amounts are in ${currency}.`} Won revenue counts on the day the revenue policy names; open pipeline is the Opportunities open ${review.period.to < review.generatedAt ? "at the period's end" : 'now'}, by stage as last synced.</p>
  ${jsonBlock('review-data', {
    currency,
    stages: { labels: pipeline.stages.map((s) => s.stage), amounts: pipeline.stages.map((s) => s.amountCents / 100) },
    channels: {
      labels: sources.channels.map((s) => s.key),
      won: sources.channels.map((s) => s.wonCents / 100),
      open: sources.channels.map((s) => s.openCents / 100),
    },
  })}`;
}

/** Renders the review page body. */
/** The period of the other kind to pace commitments in: the month of the review's time inside a quarter, or the quarter of a month. */
function otherPeriod(review: PipelineReview): string {
  const inside = new Date(Math.min(Date.parse(review.generatedAt), Date.parse(review.period.to) - 1));
  return review.period.kind === 'quarter'
    ? periodContaining('month', new Date(Math.max(inside.getTime(), Date.parse(review.period.from)))).id
    : periodContaining('quarter', new Date(review.period.from)).id;
}

export function reviewBody(data: ReviewPageData): Html {
  const { installation, review } = data;
  return html`
  <div class="review-print-head" id="review-print-head">
    <h1>Pipeline review — ${installation?.name ?? ''}</h1>
    <p>${review?.period.id ?? data.periodText}${review ? html` (${date(review.period.from)} to ${date(new Date(Date.parse(review.period.to) - 1).toISOString())})` : ''} · generated ${review ? formatTime(new Date(review.generatedAt)) : ''}</p>
  </div>
  <form method="get" action="/admin/review" class="card filters review-picker" id="review-picker">
    ${
      data.installations.length > 1
        ? html`<label>Installation <select name="installation">${data.installations.map((i) => html`<option value="${i.id}"${i.id === installation?.id ? ' selected' : ''}>${i.name}</option>`)}</select></label>`
        : installation
          ? html`<input type="hidden" name="installation" value="${installation.id}">`
          : ''
    }
    <label>Period <input name="period" value="${data.periodText}" placeholder="2026-Q4 or 2026-12" pattern="\\d{4}-(0[1-9]|1[0-2]|Q[1-4])" title="A month YYYY-MM or a quarter YYYY-Qn" required></label>
    <button type="submit" class="primary">Show</button>
    ${installation ? html`<a href="/admin/report?installation=${encodeURIComponent(installation.id)}">Funnel report</a>` : ''}
  </form>
  ${data.problems.length > 0 ? html`<div class="notice error" role="alert">${data.problems.map((p) => html`<p>${p}</p>`)}</div>` : ''}
  ${installation === null ? empty('No installation yet.') : review === null ? '' : reviewSections(review, installation, data.canManage)}`;
}

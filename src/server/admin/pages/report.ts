/**
 * `/admin/report`: the funnel report for marketing and sales leaders — KPIs, charts (Chart.js),
 * sortable tables per channel and per campaign, feedback reasons, revenue credit per attribution
 * model, customer lifetime value, segments, cost and ROI, and CSV export of every table.
 */
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { CREDIT_MODELS } from '../../../domain/attribution-credit.ts';
import { funnelSteps, type FunnelStep } from '../../../domain/stages.ts';
import { stageCount, type FunnelReport, type FunnelRow } from '../../../store/report.ts';
import type { LifetimeValueRow, RoiRow } from '../../../store/revenue-report.ts';
import type { SlaComplianceFigures } from '../../../store/sla.ts';
import { money, numberOrDash, percent } from '../components.ts';
import { formatCount, html, jsonBlock, type Html } from '../html.ts';
import { agreementSection, type AgreementData } from './agreement.ts';

export interface ReportPageData {
  installations: InstallationDetails[];
  installation: InstallationDetails | null;
  /** Inclusive dates as typed (YYYY-MM-DD). */
  from: string;
  to: string;
  report: FunnelReport | null;
  /** Marketing's commitments in the current period and the current quarter's goals. */
  agreement?: AgreementData | null;
  problems?: string[];
}

const plural = (count: number, noun: string): string => `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;

const kpi = (label: string, value: string, hint?: string): Html =>
  html`<div class="kpi"><div class="kpi-value">${value}</div><div class="kpi-label">${label}</div>${hint ? html`<div class="kpi-hint">${hint}</div>` : ''}</div>`;

// Lower-case a stage's short name inside a sentence unless it is an acronym: "Days lead → MQL".
const inSentence = (word: string): string => (/^[A-Z]{2}/.test(word) ? word : word.charAt(0).toLowerCase() + word.slice(1));
const stepsOf = (report: FunnelReport): FunnelStep[] =>
  funnelSteps({ funnel: report.funnel.map((column) => column.stage) }).filter((step) => !step.overall);

function funnelTable(report: FunnelReport, rows: readonly FunnelRow[], dimension: string, id: string, currency: string | null): Html {
  const steps = stepsOf(report);
  const line = (row: FunnelRow, total: boolean) => html`<tr${total ? html` class="total"` : ''}>
    <th scope="row">${row.key}</th>
    ${report.funnel.map((column) => html`<td class="num">${formatCount(stageCount(row, column))}</td>`)}
    ${steps.map((step) => html`<td class="num" data-sort-value="${row.conversion[step.key] ?? -1}">${percent(row.conversion[step.key] ?? null)}</td>`)}
    <td class="num" data-sort-value="${row.pipelineCents}">${money(row.pipelineCents, currency)}</td>
    <td class="num" data-sort-value="${row.wonCents}">${money(row.wonCents, currency)}</td>
  </tr>`;
  return html`<table class="data" id="${id}" data-sortable>
    <thead><tr><th>${dimension}</th>${report.funnel.map((column) => html`<th class="num">${column.plural}</th>`)}
      ${steps.map((step) => html`<th class="num">${step.from.short} → ${step.to.short}</th>`)}<th class="num">Pipeline</th><th class="num">Won</th></tr></thead>
    <tbody>${rows.map((row) => line(row, false))}</tbody>
    <tfoot>${line(report.totals, true)}</tfoot>
  </table>`;
}

function velocityTable(report: FunnelReport, rows: readonly FunnelRow[], dimension: string, id: string): Html {
  const steps = stepsOf(report);
  const line = (row: FunnelRow, total: boolean) => html`<tr${total ? html` class="total"` : ''}>
    <th scope="row">${row.key}</th>
    ${steps.map((step) => html`<td class="num" data-sort-value="${row.medianDays[step.key] ?? -1}">${numberOrDash(row.medianDays[step.key] ?? null)}</td>`)}
    <td class="num">${formatCount(row.sla.handedOff)}</td>
    <td class="num" data-sort-value="${row.sla.complianceRate ?? -1}">${percent(row.sla.complianceRate)}</td>
    <td class="num" data-sort-value="${row.sla.medianHoursToFirstTouch ?? -1}">${numberOrDash(row.sla.medianHoursToFirstTouch, ' h')}</td>
    <td class="num">${formatCount(row.feedback.rejected)}</td><td class="num">${formatCount(row.feedback.recycled)}</td><td class="num">${formatCount(row.feedback.lost)}</td>
  </tr>`;
  return html`<table class="data" id="${id}" data-sortable>
    <thead><tr><th>${dimension}</th>${steps.map((step) => html`<th class="num">Days ${inSentence(step.from.short)} → ${inSentence(step.to.short)}</th>`)}
      <th class="num">Handoffs</th><th class="num">SLA met</th><th class="num">Median to first touch</th><th class="num">Rejected</th><th class="num">Recycled</th><th class="num">Lost</th></tr></thead>
    <tbody>${rows.map((row) => line(row, false))}</tbody>
    <tfoot>${line(report.totals, true)}</tfoot>
  </table>`;
}

function slaTable(title: string, dimension: string, groups: readonly SlaComplianceFigures[], id: string): Html {
  return html`<section class="card">
    <h2>${title}</h2>
    ${
      groups.length === 0
        ? html`<p class="empty">No handoff in this period.</p>`
        : html`<table class="data compact" id="${id}" data-sortable><thead><tr><th>${dimension}</th><th class="num">Handoffs</th><th class="num">Met</th><th class="num">Breached</th><th class="num">Pending</th><th class="num">SLA met</th><th class="num">Median to first touch</th></tr></thead>
        <tbody>${groups.map((g) => html`<tr><td>${g.label}</td><td class="num">${g.handedOff}</td><td class="num">${g.touchedWithinSla}</td><td class="num">${g.breached}</td><td class="num">${g.pending}</td><td class="num" data-sort-value="${g.complianceRate ?? -1}">${percent(g.complianceRate)}</td><td class="num" data-sort-value="${g.medianMinutesToFirstTouch ?? -1}">${g.medianMinutesToFirstTouch === null ? '—' : `${Math.round(g.medianMinutesToFirstTouch)} min`}</td></tr>`)}</tbody></table>`
    }
  </section>`;
}

/** Chart series the page script draws (no user text is evaluated: it is data in a JSON block). */
function chartData(report: FunnelReport): unknown {
  const top = (rows: readonly FunnelRow[]) => rows.slice(0, 12);
  return {
    funnel: {
      labels: report.funnel.map((column) => column.plural),
      values: report.funnel.map((column) => stageCount(report.totals, column)),
    },
    channels: {
      labels: top(report.channels).map((r) => r.key),
      stages: report.funnel.map((column) => ({ label: column.plural, data: top(report.channels).map((r) => stageCount(r, column)) })),
      pipeline: top(report.channels).map((r) => r.pipelineCents / 100),
      won: top(report.channels).map((r) => r.wonCents / 100),
    },
    reasons: {
      labels: report.feedbackReasons.map((r) => r.label),
      rejected: report.feedbackReasons.map((r) => r.rejected),
      recycled: report.feedbackReasons.map((r) => r.recycled),
      lost: report.feedbackReasons.map((r) => r.lost),
    },
    credit: {
      labels: report.revenueCredit.slice(0, 12).map((r) => r.campaign),
      firstTouch: report.revenueCredit.slice(0, 12).map((r) => r.credit.first_touch / 100),
      lastTouch: report.revenueCredit.slice(0, 12).map((r) => r.credit.last_touch / 100),
      linear: report.revenueCredit.slice(0, 12).map((r) => r.credit.linear / 100),
      positionBased: report.revenueCredit.slice(0, 12).map((r) => r.credit.position_based / 100),
    },
  };
}

const cellMoney = (cents: number | null, currency: string | null): Html =>
  html`<td class="num" data-sort-value="${cents ?? -1}">${cents === null ? '—' : money(cents, currency)}</td>`;
const ratio = (value: number | null): string => (value === null ? '—' : `${value.toFixed(2)}×`);

function lifetimeTable(rows: readonly LifetimeValueRow[], dimension: string, id: string, currency: string | null): Html {
  return rows.length === 0
    ? html`<p class="empty">No customer yet.</p>`
    : html`<table class="data compact" id="${id}" data-sortable><thead><tr><th>${dimension}</th><th class="num">Customers</th><th class="num">New in period</th><th class="num">Lifetime value</th><th class="num">Average</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><td>${r.key}</td><td class="num">${formatCount(r.customers)}</td><td class="num">${formatCount(r.newCustomers)}</td>${cellMoney(r.lifetimeValueCents, currency)}${cellMoney(r.averageLifetimeValueCents, currency)}</tr>`)}</tbody></table>`;
}

function roiTable(rows: readonly RoiRow[], dimension: string, id: string, currency: string | null): Html {
  return rows.length === 0
    ? html`<p class="empty">No cost or credited revenue in this period.</p>`
    : html`<table class="data compact" id="${id}" data-sortable><thead><tr><th>${dimension}</th><th class="num">Cost</th><th class="num">Leads</th><th class="num">Cost per lead</th><th class="num">Cost per MQL</th><th class="num">Customers</th><th class="num">CAC</th>
        <th class="num">Credited (linear)</th><th class="num">ROI first touch</th><th class="num">ROI last touch</th><th class="num">ROI linear</th><th class="num">ROI position based</th><th class="num">Avg. LTV</th><th class="num">LTV:CAC</th></tr></thead>
      <tbody>${rows.map(
        (
          r,
        ) => html`<tr><td>${r.key}${r.costSources.includes('budgeted') ? html` <span class="small muted">(budgeted)</span>` : ''}</td>${cellMoney(r.costCents, currency)}<td class="num">${formatCount(r.leads)}</td>${cellMoney(r.costPerLeadCents, currency)}${cellMoney(r.costPerMqlCents, currency)}
        <td class="num">${formatCount(r.customers)}</td>${cellMoney(r.cacCents, currency)}${cellMoney(r.credit.linear, currency)}
        ${CREDIT_MODELS.map((model) => html`<td class="num" data-sort-value="${r.roi[model] ?? -999}">${percent(r.roi[model])}</td>`)}${cellMoney(r.averageLifetimeValueCents, currency)}<td class="num" data-sort-value="${r.ltvToCac ?? -1}">${ratio(r.ltvToCac)}</td></tr>`,
      )}</tbody></table>`;
}

/** Lifetime value, segments, cost and ROI. */
function revenueSectionsHtml(report: FunnelReport, currency: string | null): Html {
  const segments = report.segments;
  const measure = segments.measure === 'employees' ? 'employees' : 'annual revenue';
  return html`<section class="card">
    <h2>Customer lifetime value</h2>
    <div class="grid three">
      <div><h3>By first-touch channel</h3>${lifetimeTable(report.lifetimeValue.channels, 'Channel', 'table-ltv-channels', currency)}</div>
      <div><h3>By first-touch campaign</h3>${lifetimeTable(report.lifetimeValue.campaigns, 'Campaign', 'table-ltv-campaigns', currency)}</div>
      <div><h3>By customer size</h3>${lifetimeTable(report.lifetimeValue.segments, 'Segment', 'table-ltv-segments', currency)}</div>
    </div>
  </section>
  <section class="card">
    <h2>Segments: which customer sizes bring the most</h2>
    <p class="small muted">Bands by ${measure} of ${segments.source === 'salesforce_account' ? 'the Salesforce Account' : "the contact's HubSpot company"} (revenue policy).</p>
    ${
      segments.rows.length === 0
        ? html`<p class="empty">No deal closed in this period.</p>`
        : html`<table class="data compact" id="table-segments" data-sortable><thead><tr><th>Segment</th><th class="num">Won</th><th class="num">Deals won</th><th class="num">Deals lost</th><th class="num">Win rate</th><th class="num">Median sales cycle</th><th class="num">Customers</th><th class="num">Avg. lifetime value</th></tr></thead>
        <tbody>${segments.rows.map((r) => html`<tr><td>${r.key}</td>${cellMoney(r.wonCents, currency)}<td class="num">${formatCount(r.wonDeals)}</td><td class="num">${formatCount(r.lostDeals)}</td><td class="num" data-sort-value="${r.winRate ?? -1}">${percent(r.winRate)}</td><td class="num" data-sort-value="${r.medianSalesCycleDays ?? -1}">${numberOrDash(r.medianSalesCycleDays, ' d')}</td><td class="num">${formatCount(r.customers)}</td>${cellMoney(r.averageLifetimeValueCents, currency)}</tr>`)}</tbody></table>`
    }
  </section>
  <section class="card">
    <h2>Cost and ROI by campaign</h2>
    <div class="scroll">${roiTable(report.roi.campaigns, 'Campaign', 'table-roi-campaigns', currency)}</div>
    <h3>By channel</h3>
    <div class="scroll">${roiTable(report.roi.channels, 'Channel', 'table-roi-channels', currency)}</div>
  </section>`;
}

/** The installation and period form, with the CSV and JSON links of the report shown. */
function reportFilters(data: ReportPageData): Html {
  const { report, installation } = data;
  const query = installation
    ? `installation=${encodeURIComponent(installation.id)}&from=${encodeURIComponent(data.from)}&to=${encodeURIComponent(data.to)}`
    : '';
  const csv = (table: string) => `/api/report?${query}&format=csv&table=${table}`;
  return html`<form method="get" action="/admin/report" class="filters card">
    ${data.installation ? html`<a href="/admin/review?installation=${encodeURIComponent(data.installation.id)}" id="link-review">Pipeline review</a>` : ''}
    <label>Installation
      <select name="installation">${data.installations.map((i) => html`<option value="${i.id}"${installation?.id === i.id ? html` selected` : ''}>${i.name}</option>`)}</select>
    </label>
    <label>From <input type="date" name="from" value="${data.from}" required></label>
    <label>To <input type="date" name="to" value="${data.to}" required></label>
    <button type="submit" class="primary">Show</button>
    ${report ? html`<span class="exports">Export CSV: <a href="${csv('channels')}">channels</a> · <a href="${csv('campaigns')}">campaigns</a> · <a href="${csv('reasons')}">feedback reasons</a> · <a href="${csv('credit')}">revenue credit</a> · <a href="${csv('sla')}">SLA by team and owner</a> · <a href="${csv('ltv')}">lifetime value</a> · <a href="${csv('segments')}">segments</a> · <a href="${csv('roi')}">cost and ROI</a> · <a href="/api/report?${query}">JSON</a></span>` : ''}
  </form>`;
}

/** One KPI per funnel stage: its count and the share of the stage before it. */
function funnelKpis(report: FunnelReport): Html[] {
  const t = report.totals;
  return report.funnel.map((column, index) => {
    const previous = report.funnel[index - 1];
    const step = previous === undefined ? undefined : stepsOf(report)[index - 1];
    return previous === undefined || step === undefined
      ? kpi(column.plural, formatCount(stageCount(t, column)))
      : kpi(
          column.plural,
          formatCount(stageCount(t, column)),
          `${percent(t.conversion[step.key] ?? null)} of ${inSentence(previous.plural)}`,
        );
  });
}

/** Renders the report page body. */
export function reportBody(data: ReportPageData): Html {
  const { report, installation } = data;
  const filters = reportFilters(data);
  if (data.problems && data.problems.length > 0)
    return html`${filters}<div class="notice error" role="alert"><ul>${data.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`;
  if (!report || !installation)
    return html`${filters}<p class="empty">No installation yet: the report fills as leads move through the funnel.</p>`;
  const t = report.totals;
  const currency = report.currency.code;
  const customers = report.lifetimeValue.segments.reduce((sum, row) => sum + row.customers, 0);
  const customersValue = report.lifetimeValue.segments.reduce((sum, row) => sum + row.lifetimeValueCents, 0);
  const averageValue = customers === 0 ? null : Math.round(customersValue / customers);
  return html`${filters}
  <section class="kpis" aria-label="Totals">
    ${funnelKpis(report)}
    ${kpi('SLA met', percent(t.sla.complianceRate), `${plural(t.sla.handedOff, 'handoff')} · median ${numberOrDash(t.sla.medianHoursToFirstTouch, ' h')} to first touch`)}
    ${kpi('Pipeline', money(t.pipelineCents, currency))}
    ${kpi('Won revenue', money(t.wonCents, currency), plural(t.wonDeals, 'deal'))}
    ${kpi('Customer lifetime value', money(customersValue, currency), `${plural(customers, 'customer')} · average ${averageValue === null ? '—' : money(averageValue, currency)}`)}
  </section>
  ${data.agreement ? agreementSection(data.agreement) : ''}

  <div class="grid two charts">
    <section class="card"><h2>Funnel</h2><div class="chart"><canvas id="chart-funnel" role="img" aria-label="Funnel: contacts reaching each stage"></canvas></div></section>
    <section class="card"><h2>Stages by channel</h2><div class="chart"><canvas id="chart-channels" role="img" aria-label="${report.funnel.map((column) => column.plural).join(', ')} per channel"></canvas></div></section>
    <section class="card"><h2>Pipeline and won revenue by channel</h2><div class="chart"><canvas id="chart-revenue" role="img" aria-label="Pipeline and won revenue per channel"></canvas></div></section>
    <section class="card"><h2>Sales feedback reasons</h2><div class="chart"><canvas id="chart-reasons" role="img" aria-label="Rejected, recycled and lost per reason"></canvas></div></section>
  </div>

  <section class="card">
    <h2>By channel</h2>
    <div class="scroll">${funnelTable(report, report.channels, 'Channel', 'table-channels', currency)}</div>
    <h3>Velocity, SLA and feedback</h3>
    <div class="scroll">${velocityTable(report, report.channels, 'Channel', 'table-channels-velocity')}</div>
  </section>
  <section class="card">
    <h2>By campaign</h2>
    <div class="scroll">${funnelTable(report, report.campaigns, 'Campaign', 'table-campaigns', currency)}</div>
    <h3>Velocity, SLA and feedback</h3>
    <div class="scroll">${velocityTable(report, report.campaigns, 'Campaign', 'table-campaigns-velocity')}</div>
  </section>

  <div class="grid two">
    <section class="card">
      <h2>Feedback reasons</h2>
      ${
        report.feedbackReasons.length === 0
          ? html`<p class="empty">No rejected, recycled or lost leads in this period.</p>`
          : html`<table class="data compact" id="table-reasons" data-sortable><thead><tr><th>Reason</th><th>Code</th><th class="num">Rejected</th><th class="num">Recycled</th><th class="num">Lost</th><th class="num">Total</th></tr></thead>
          <tbody>${report.feedbackReasons.map((r) => html`<tr><td>${r.label}</td><td class="mono">${r.code}</td><td class="num">${r.rejected}</td><td class="num">${r.recycled}</td><td class="num">${r.lost}</td><td class="num">${r.total}</td></tr>`)}</tbody></table>`
      }
    </section>
    <section class="card">
      <h2>Revenue credit by attribution model</h2>
      ${
        report.revenueCredit.length === 0
          ? html`<p class="empty">No revenue won in this period.</p>`
          : html`<div class="chart"><canvas id="chart-credit" role="img" aria-label="Won revenue credited to campaigns under each model"></canvas></div>
          <table class="data compact" id="table-credit" data-sortable><thead><tr><th>Campaign</th><th class="num">First touch</th><th class="num">Last touch</th><th class="num">Linear</th><th class="num">Position based</th></tr></thead>
          <tbody>${report.revenueCredit.map((r) => html`<tr><td>${r.campaign}</td><td class="num" data-sort-value="${r.credit.first_touch}">${money(r.credit.first_touch, currency)}</td><td class="num" data-sort-value="${r.credit.last_touch}">${money(r.credit.last_touch, currency)}</td><td class="num" data-sort-value="${r.credit.linear}">${money(r.credit.linear, currency)}</td><td class="num" data-sort-value="${r.credit.position_based}">${money(r.credit.position_based, currency)}</td></tr>`)}</tbody></table>`
      }
    </section>
  </div>
  <div class="grid two">
    ${slaTable('SLA by sales team', 'Team', report.slaByTeam, 'table-sla-team')}
    ${slaTable('SLA by owner', 'Owner', report.slaByOwner, 'table-sla-owner')}
  </div>
  ${revenueSectionsHtml(report, currency)}
  <p class="muted small">How it is counted: a contact becomes a lead at its first touch (or first recorded stage) and reaches a stage the first time it enters that stage or a later one. Counts are contacts reaching the stage in the period; a conversion is the share of those reaching the next stage before the period ends; median days are over the contacts that converted. Channel and campaign are the contact's first touch. SLA figures cover handoffs in the period; pipeline counts Opportunities opened in it, won revenue deals won in it (on ${report.wonDate === 'won_day' ? 'the day each was won' : "each one's close date"}, as the revenue policy says), new business credited to campaigns by the touches before each win. Lifetime value is every won deal of a customer's Salesforce Account up to the period's end (renewals and upsells included), grouped by the first touch of the contact its first deal came from. A Campaign's cost counts in the period of its start date (else its end date, else the day it was created): its actual cost, else its budgeted cost; a channel's cost adds its campaigns' and the amounts entered per month in the revenue policy. ${report.currency.multiCurrency ? `Amounts are in the corporate currency (${report.currency.code ?? ''}), converted at the org's rates.` : report.currency.code === null ? "Amounts are in the org's currency." : `Amounts are in ${report.currency.code}.`}</p>
  ${jsonBlock('report-data', chartData(report))}`;
}

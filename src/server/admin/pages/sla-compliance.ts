/**
 * The sales side of the SLA (`/admin/installations/:id/sla`): per rep, team, channel or campaign,
 * each rule's kept / broken / pending over the handoffs of a period; each broken count links to
 * the list of those leads (`?rule=&group=`), each lead to its Salesforce record and HubSpot contact.
 */
import type { SalesRuleFigures, SalesSide, SalesSlaRule } from '../../../domain/review.ts';
import { SALES_SLA_RULES } from '../../../domain/review.ts';
import { SALES_GROUPINGS } from '../../../store/sla-compliance.ts';
import { percent } from '../components.ts';
import { formatCount, html, type Html } from '../html.ts';
import type { LinkedViolation } from '../sla-compliance.ts';

const RULE_LABELS: Readonly<Record<SalesSlaRule, string>> = {
  first_touch: 'First touch in time',
  cadence: 'Follow-up cadence',
  disposition: 'Disposition in time',
  untouched: 'No lead left untouched',
};
const GROUP_LABELS: Readonly<Record<(typeof SALES_GROUPINGS)[number], string>> = {
  owner: 'Rep',
  team: 'Team',
  channel: 'Channel',
  campaign: 'Campaign',
};

export interface SlaCompliancePageData {
  basePath: string;
  from: string;
  to: string;
  groupBy: (typeof SALES_GROUPINGS)[number];
  sales: SalesSide | null;
  problems: string[];
  /** The violations list, when a broken count was followed. */
  violations: { rule: SalesSlaRule; group: string | null; rows: LinkedViolation[] } | null;
}

function query(data: SlaCompliancePageData, extra: Record<string, string>): string {
  return new URLSearchParams({ from: data.from, to: data.to, groupBy: data.groupBy, ...extra }).toString();
}

function ruleCells(data: SlaCompliancePageData, rules: readonly SalesRuleFigures[], group: string | null): Html[] {
  return rules.map((figures) => {
    if (!figures.enabled) return html`<td class="muted">off</td>`;
    const broken =
      figures.broken === 0
        ? html`0`
        : html`<a href="?${query(data, { rule: figures.rule, ...(group === null ? {} : { group }) })}" data-broken="${figures.rule}">${formatCount(figures.broken)}</a>`;
    return html`<td class="num" data-rule="${figures.rule}">${percent(figures.rate)} <span class="small muted">kept ${formatCount(figures.kept)} · broken</span> ${broken} <span class="small muted">· pending ${formatCount(figures.pending)}</span></td>`;
  });
}

function violationsCard(data: SlaCompliancePageData): Html | string {
  const list = data.violations;
  if (list === null) return '';
  const title = `${RULE_LABELS[list.rule]} broken${list.group === null ? '' : ` — ${GROUP_LABELS[data.groupBy]} ${list.group}`}`;
  return html`<section class="card" id="violations"><h2>${title}</h2>
    ${
      list.rows.length === 0
        ? html`<p class="empty">No handoff broke this rule in the period.</p>`
        : html`<div class="scroll"><table class="data compact" id="table-violations"><thead><tr><th>Lead</th><th>Owner</th><th>Handoff</th><th>Due</th><th class="num">Touches</th><th>Disposition</th><th>Records</th></tr></thead>
      <tbody>${list.rows.map(
        (
          row,
        ) => html`<tr data-lead="${row.leadId}"><td>${row.leadName ?? row.leadId}</td><td>${row.owner}</td><td>${row.handoffAt}</td><td>${row.dueAt}</td>
        <td class="num">${row.touches === null ? '—' : `${row.touches} of ${row.touchesRequired ?? '?'}`}</td>
        <td>${row.disposition === null ? '—' : `${row.disposition}${row.dispositionAt ? ` at ${row.dispositionAt}` : ''}`}</td>
        <td>${row.salesforceUrl ? html`<a href="${row.salesforceUrl}" target="_blank" rel="noopener">Salesforce</a>` : row.leadId}${row.hubspotUrl ? html` · <a href="${row.hubspotUrl}" target="_blank" rel="noopener">HubSpot</a>` : ''}</td></tr>`,
      )}</tbody></table></div>`
    }
  </section>`;
}

/** The page body. */
export function slaComplianceBody(data: SlaCompliancePageData): Html {
  const sales = data.sales;
  return html`<section class="card"><h2>Sales SLA compliance</h2>
    <form method="get" class="filters">
      <label>Handoffs from <input type="text" name="from" value="${data.from}"></label>
      <label>to (exclusive) <input type="text" name="to" value="${data.to}"></label>
      <label>Group by <select name="groupBy">${SALES_GROUPINGS.map((g) => html`<option value="${g}"${g === data.groupBy ? ' selected' : ''}>${GROUP_LABELS[g]}</option>`)}</select></label>
      <button type="submit" class="primary">Show</button>
    </form>
    ${data.problems.length > 0 ? html`<div class="notice error" role="alert"><ul class="issues">${data.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
    ${
      sales === null
        ? ''
        : html`<p>${formatCount(sales.handedOff)} handoffs · median ${sales.medianHoursToFirstTouch === null ? '—' : `${sales.medianHoursToFirstTouch} h`} to first touch. The rules are set in the <a href="${data.basePath}/settings?key=slaPolicy">SLA policy</a>.</p>
    <div class="scroll"><table class="data compact" id="table-sla-compliance"><thead><tr><th>${GROUP_LABELS[data.groupBy]}</th><th class="num">Handoffs</th>${SALES_SLA_RULES.map((rule) => html`<th>${RULE_LABELS[rule]}</th>`)}</tr></thead>
      <tbody>
        ${sales.byRep.map((row) => html`<tr data-group="${row.key}"><td>${row.key}</td><td class="num">${formatCount(row.handedOff)}</td>${ruleCells(data, row.rules, row.key)}</tr>`)}
        <tr class="total"><th>All</th><td class="num">${formatCount(sales.handedOff)}</td>${ruleCells(data, sales.rules, null)}</tr>
      </tbody></table></div>`
    }
  </section>
  ${violationsCard(data)}`;
}

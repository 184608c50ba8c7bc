/**
 * The report page's "Commitments and goals" card: marketing's commitments paced in the current
 * period and the shared goal table of the current quarter, each with its status. They are edited
 * in the settings (marketingCommitments, sharedGoals).
 */
import type { PacingStatus } from '../../../domain/commitments.ts';
import type { GoalRow, GoalStatus } from '../../../domain/goals.ts';
import type { CommitmentsReport, GoalsReport } from '../../../store/commitments.ts';
import { badge } from '../components.ts';
import { html, type Html } from '../html.ts';

export interface AgreementData {
  installationId: string;
  commitments: CommitmentsReport | null;
  goals: GoalsReport;
  /** Whether the caller may edit the settings (a link is shown). */
  canEdit: boolean;
}

const PACING_BADGES: Readonly<Record<PacingStatus, Html>> = {
  too_early: badge('too early to judge', 'muted'),
  on_track: badge('on track', 'ok'),
  at_risk: badge('at risk', 'warn'),
  behind: badge('behind', 'error'),
};

const GOAL_BADGES: Readonly<Record<GoalStatus, Html>> = {
  met: badge('met', 'ok'),
  below: badge('below target', 'warn'),
  no_data: badge('no data', 'muted'),
};

const figure = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 2 });

function goalValue(row: GoalRow, value: number | null): string {
  if (value === null) return '—';
  switch (row.unit) {
    case 'amount':
      return figure(value);
    case 'multiple':
      return `${figure(value)}×`;
    case 'percent':
      return `${figure(value)} %`;
    case 'hours':
      return `${figure(value)} h`;
    default: {
      const unreachable: never = row.unit;
      return unreachable;
    }
  }
}

/** The card, or a line saying where to set commitments and goals when there are none. */
export function agreementSection(data: AgreementData): Html {
  const settings = (key: string) => `/admin/installations/${encodeURIComponent(data.installationId)}/settings?key=${key}`;
  const commitments = data.commitments;
  const commitmentsPart =
    commitments === null || commitments.commitments.length === 0
      ? html`<p class="muted small">No marketing commitment set.${data.canEdit ? html` <a href="${settings('marketingCommitments')}">Set commitments</a>` : ''}</p>`
      : html`<table class="data compact" id="table-commitments"><caption>Marketing commitments, ${commitments.period.id} (${Math.round((commitments.commitments[0]?.elapsedShare ?? 0) * 100)} % of the ${commitments.period.kind} gone)</caption>
        <thead><tr><th>Commitment</th><th>Channel</th><th class="num">Target</th><th class="num">Delivered</th><th class="num">Expected by now</th><th class="num">Forecast</th><th>Status</th></tr></thead>
        <tbody>${commitments.commitments.map((row) => html`<tr data-commitment="${row.key}"><td>${row.metric.replaceAll('_', ' ')}</td><td>${row.channel ?? 'all'}</td><td class="num">${figure(row.target)}</td><td class="num">${figure(row.delivered)}</td><td class="num">${figure(row.expectedToDate)}</td><td class="num">${figure(row.forecast)} (${Math.round(row.forecastShare * 100)} %)</td><td>${PACING_BADGES[row.status]}</td></tr>`)}</tbody></table>`;
  const goals = data.goals;
  const goalsPart =
    goals.goals.length === 0
      ? html`<p class="muted small">No shared goal set for ${goals.quarter}.${data.canEdit ? html` <a href="${settings('sharedGoals')}">Set goals</a>` : ''}</p>`
      : html`<table class="data compact" id="table-goals"><caption>Shared goals, ${goals.quarter} (trend against ${goals.previousQuarter})</caption>
        <thead><tr><th>KPI</th><th>Owner</th><th class="num">Target</th><th class="num">Actual</th><th class="num">${goals.previousQuarter}</th><th>Trend</th><th>Status</th></tr></thead>
        <tbody>${goals.goals.map((row) => html`<tr data-goal="${row.kpi}"><td>${row.kpi.replaceAll('_', ' ')}</td><td>${row.owner}</td><td class="num">${goalValue(row, row.target)}</td><td class="num">${goalValue(row, row.actual)}</td><td class="num">${goalValue(row, row.previous)}</td><td>${row.trend ?? '—'}</td><td>${GOAL_BADGES[row.status]}</td></tr>`)}</tbody></table>`;
  return html`<section class="card" aria-label="Commitments and goals">
    <h2>Commitments and goals</h2>
    <p class="small muted">A commitment is on track when its straight-line forecast reaches the target, at risk from 85 %, behind below; it is judged once 10 % of the period has passed. At risk or behind alerts the alert target once per period.</p>
    <div class="scroll">${commitmentsPart}</div>
    <div class="scroll">${goalsPart}</div>
  </section>`;
}

/**
 * `/admin/installations/:id/health`: the per-record log (search by email or id: what happened and
 * why), problems grouped by cause with their fix, recent problems, failed jobs with their error and replay, queue depths, and the
 * initial sync, the attribution backfill and the fill of existing records for field mappings, each
 * with a start button and a live progress bar.
 */
import type { BackfillProgress } from '../../../sync/attribution-backfill.ts';
import type { FieldFillProgress } from '../../../sync/field-fill.ts';
import type { InitialSyncProgress } from '../../../sync/initial-sync.ts';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import type { LogLine, RecordSearchResult } from '../../../store/sync-search.ts';
import type { FailureGroup } from '../../../domain/sync-failures.ts';
import type { FeedStatus } from '../../../domain/change-feed.ts';
import { badge, postButton } from '../components.ts';
import { formatTime, html, type Html } from '../html.ts';
import type { FailedJob, QueueDepth } from '../jobs.ts';
import { queueTable } from './overview.ts';
import { syncNowButton } from './sync-now.ts';

export interface HealthPageData {
  installation: InstallationDetails;
  query: string;
  search: RecordSearchResult | null;
  problems: LogLine[];
  /** The last week's warnings and errors grouped by cause, the biggest group first. */
  causes: FailureGroup[];
  failed: FailedJob[];
  depths: QueueDepth[];
  backfill: BackfillProgress | null;
  /** The latest fill of existing records for field mappings. */
  fieldFill?: FieldFillProgress | null;
  initialSync: InitialSyncProgress | null;
  /** The HubSpot change feed: mode, position, lag and health. */
  hubspotFeed?: FeedStatus;
  csrfToken: string;
}

const FEED_BADGES: Record<FeedStatus['health'], Html> = {
  off: badge('push only', 'muted'),
  starting: badge('starting', 'muted'),
  current: badge('current', 'ok'),
  'catching up': badge('catching up', 'warn'),
  failing: badge('failing', 'error'),
  stalled: badge('stalled', 'error'),
};

function feedSection(feed: FeedStatus | undefined): Html {
  if (feed === undefined) return html``;
  return html`<section class="card" data-feed="hubspot">
    <div class="card-head"><h2>HubSpot change feed</h2>${FEED_BADGES[feed.health]}</div>
    <table class="data compact">
      <tbody>
        <tr><th>Mode</th><td>${feed.mode}</td></tr>
        <tr><th>Journal offset</th><td class="mono small">${feed.position ?? '—'}</td></tr>
        <tr><th>Lag</th><td>${feed.lagSeconds === null ? '—' : `${feed.lagSeconds} s`}</td></tr>
        ${feed.detail === null ? '' : html`<tr><th>Detail</th><td class="error-text">${feed.detail}</td></tr>`}
      </tbody>
    </table>
  </section>`;
}

const LEVEL_BADGES: Record<LogLine['level'], Html> = {
  info: badge('info', 'muted'),
  warn: badge('warn', 'warn'),
  error: badge('error', 'error'),
};

function logTable(lines: readonly LogLine[], withRecord: boolean): Html {
  return html`<table class="data compact log">
    <thead><tr><th>When</th>${withRecord ? html`<th>Record</th>` : ''}<th>Level</th><th>What happened</th><th>Why</th><th>Job</th></tr></thead>
    <tbody>${lines.map(
      (line) => html`<tr class="level-${line.level}">
        <td class="nowrap small">${formatTime(line.at)}</td>
        ${withRecord ? html`<td class="mono small">${line.recordRef ?? '—'}</td>` : ''}
        <td>${LEVEL_BADGES[line.level]}</td>
        <td class="mono">${line.action}</td>
        <td>${line.reason}</td>
        <td class="mono small">${line.jobQueue ? `${line.jobQueue} #${line.jobId ?? ''}` : '—'}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function searchSection(data: HealthPageData): Html {
  const base = `/admin/installations/${encodeURIComponent(data.installation.id)}/health`;
  const { search } = data;
  return html`<section class="card">
    <div class="card-head"><h2>Record log</h2></div>
    <form method="get" action="${base}" class="search" role="search">
      <label for="q" class="visually-hidden">Email or record id</label>
      <input id="q" name="q" type="search" value="${data.query}" placeholder="Email, HubSpot contact id or Salesforce id (00Q…, 003…, 006…)" autocomplete="off">
      <button type="submit" class="primary">Search</button>
    </form>
    ${
      search === null
        ? html`<p class="muted">What the sync did with one person's records, and why: search by email or by any of their ids.</p>`
        : search.links.length === 0 && search.entries.length === 0
          ? html`<p class="empty">Nothing found for “${search.query}”.</p>${syncNowButton(data.installation.id, search.query, data.csrfToken)}`
          : html`${search.links.map(
              (link) => html`<dl class="facts inline-facts">
              <dt>Email</dt><dd>${link.email ?? '—'}</dd>
              <dt>HubSpot contact</dt><dd class="mono">${link.hubspotContactId}</dd>
              <dt>Lead</dt><dd class="mono">${link.salesforceLeadId ?? '—'}</dd>
              <dt>Contact</dt><dd class="mono">${link.salesforceContactId ?? '—'}</dd>
              <dt>Opportunity</dt><dd class="mono">${link.salesforceOpportunityId ?? '—'}</dd>
            </dl>
            <div class="button-row">${[link.hubspotContactId, link.salesforceLeadId, link.salesforceOpportunityId].map((record) => syncNowButton(data.installation.id, record, data.csrfToken))}</div>`,
            )}
          ${search.entries.length === 0 ? html`<p class="empty">No log lines for these records yet.</p>` : logTable(search.entries, true)}`
    }
  </section>`;
}

/** Problems by cause: what failed, how often, the fix, and the records behind it (each opens its log). */
function causesSection(data: HealthPageData): Html {
  const base = `/admin/installations/${encodeURIComponent(data.installation.id)}/health`;
  return html`<section class="card" data-failure-causes>
    <div class="card-head"><h2>Problems by cause</h2><span class="muted small">last 7 days</span></div>
    ${
      data.causes.length === 0
        ? html`<p class="empty">No warning or error in the last 7 days.</p>`
        : html`<table class="data compact">
          <thead><tr><th>Cause</th><th>Count</th><th>What to do</th><th>Records</th></tr></thead>
          <tbody>${data.causes.map(
            (group) => html`<tr data-cause="${group.cause}">
              <td><strong>${group.title}</strong><div class="small muted">latest ${formatTime(group.latestAt)}</div></td>
              <td class="num" data-cause-count>${group.count}${group.errors > 0 ? html` ${badge(`${group.errors} error${group.errors === 1 ? '' : 's'}`, 'error')}` : ''}${group.warnings > 0 ? html` ${badge(`${group.warnings} warning${group.warnings === 1 ? '' : 's'}`, 'warn')}` : ''}</td>
              <td><p data-cause-hint>${group.hint}</p><p class="small muted">Latest: ${group.example}</p></td>
              <td class="small">${group.records.map((ref) => html`<a class="mono" href="${base}?q=${encodeURIComponent(ref)}">${ref}</a><br>`)}${
                group.recordCount > group.records.length
                  ? html`<span class="muted">and ${group.recordCount - group.records.length} more</span>`
                  : ''
              }</td>
            </tr>`,
          )}</tbody>
        </table>`
    }
  </section>`;
}

function failedSection(data: HealthPageData): Html {
  const { csrfToken, installation } = data;
  const byQueue = new Map<string, FailedJob[]>();
  for (const job of data.failed) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
  return html`<section class="card">
    <div class="card-head"><h2>Failed jobs</h2>${data.failed.length > 0 ? badge(`${data.failed.length} failed`, 'error') : badge('none', 'ok')}</div>
    ${
      data.failed.length === 0
        ? html`<p class="empty">No failed job. Every failure of a job lands here with its error, ready to replay.</p>`
        : html`<div class="button-row">${[...byQueue].map(([queue, jobs]) =>
            postButton({
              action: `/admin/installations/${encodeURIComponent(installation.id)}/jobs/${encodeURIComponent(queue)}/replay-failed`,
              csrfToken,
              label: `Replay all ${jobs.length} failed in ${jobs[0]?.queueName ?? queue}`,
              fields: { installation: installation.id },
              confirm: `Replay every failed job of ${jobs[0]?.queueName ?? queue} for this installation?`,
            }),
          )}</div>
        <table class="data compact" data-sortable>
          <thead><tr><th>Failed at</th><th>Queue</th><th>Job</th><th>Attempts</th><th>Error</th><th></th></tr></thead>
          <tbody>${data.failed.map(
            (job) => html`<tr data-job="${job.id}">
              <td class="nowrap small" data-sort-value="${job.failedAt?.getTime() ?? 0}">${formatTime(job.failedAt)}</td>
              <td class="mono">${job.queueName}</td>
              <td class="mono small">${job.id}</td>
              <td class="num">${job.attemptsMade} / ${job.attempts}</td>
              <td class="error-text">${job.error}</td>
              <td>${postButton({ action: `/admin/installations/${encodeURIComponent(installation.id)}/jobs/${encodeURIComponent(job.queue)}/${encodeURIComponent(job.id)}/replay`, csrfToken, label: 'Replay', kind: 'primary' })}</td>
            </tr>`,
          )}</tbody>
        </table>`
    }
  </section>`;
}

/** A run card: what the run does, its live progress bar, and the start button (hidden while a run is under way; the page script shows it when the run ends). */
function runCard<R extends { runId: string; status: string; done: number; total: number | null }>(
  data: HealthPageData,
  card: {
    title: string;
    description: string;
    kind: 'attribution' | 'initial' | 'field-fill';
    run: R | null;
    text: (run: R) => string;
    action: string;
    start: string;
    again: string;
  },
): Html {
  const { run } = card;
  const running = run !== null && (run.status === 'queued' || run.status === 'running');
  return html`<section class="card">
    <div class="card-head"><h2>${card.title}</h2>${run ? badge(run.status, run.status === 'completed' ? 'ok' : run.status === 'failed' ? 'error' : 'info') : ''}</div>
    <p class="muted">${card.description}</p>
    ${
      run
        ? html`<div class="progress" data-backfill-run="${run.runId}" data-run-kind="${card.kind}">
          <progress max="${run.total ?? 1}" value="${run.total === null ? 0 : run.done}" aria-label="${card.title} progress"></progress>
          <p class="small" data-progress-text>${card.text(run)}</p>
        </div>`
        : ''
    }
    <div data-run-again ${running ? 'hidden' : ''}>${postButton({ action: `/admin/installations/${encodeURIComponent(data.installation.id)}/${card.action}`, csrfToken: data.csrfToken, label: run ? card.again : card.start, kind: 'primary' })}</div>
  </section>`;
}

function backfillSection(data: HealthPageData): Html {
  return runCard(data, {
    title: 'Attribution backfill',
    description:
      'Stamps attribution on every contact and Lead that predates the installation, then reads won revenue for the revenue credit.',
    kind: 'attribution',
    run: data.backfill,
    text: progressText,
    action: 'backfill',
    start: 'Start backfill',
    again: 'Start a new backfill',
  });
}

function fieldFillSection(data: HealthPageData): Html {
  return runCard(data, {
    title: 'Fill existing records',
    description:
      'Writes every syncing field mapping to the contacts and Leads linked before it was added, by its rule, as the live sync would at their next change (the settings page fills only the pairs a save turned on).',
    kind: 'field-fill',
    run: data.fieldFill ?? null,
    text: fieldFillText,
    action: 'field-fill',
    start: 'Fill existing records',
    again: 'Fill existing records again',
  });
}

/** The one-line summary under a field fill's progress bar (the page script updates it the same way). */
export function fieldFillText(run: FieldFillProgress): string {
  return runSummary(
    run,
    `${run.done} / ${totalText(run)} linked records at ${run.ratePerS}/s (${run.filledContacts} contacts and ${run.filledLeads} Leads filled, ${run.failed} failed)`,
  );
}

function initialSyncSection(data: HealthPageData): Html {
  return runCard(data, {
    title: 'Initial sync',
    description:
      'Links the contacts, Leads and Contacts that existed before the installation (by external id, then email), moves the stage of the side that is behind forward and stamps attribution. Historical records without a match are counted, not created: no Lead, no HubSpot contact, no SLA clock.',
    kind: 'initial',
    run: data.initialSync,
    text: initialSyncText,
    action: 'initial-sync',
    start: 'Start the initial sync',
    again: 'Run the initial sync again',
  });
}

/** The one-line summary under the initial sync's progress bar (the page script updates it the same way). */
export function initialSyncText(run: InitialSyncProgress): string {
  return runSummary(
    run,
    `phase ${run.phase} · ${run.done} / ${totalText(run)} records (${run.linked} linked, ${run.stagesAligned} stages aligned, ${run.unmatched} unmatched, ${run.failed} failed)`,
  );
}

/** The one-line summary under the progress bar (the page script updates it the same way). */
export function progressText(run: BackfillProgress): string {
  return runSummary(
    run,
    `phase ${run.phase} · ${run.done} / ${totalText(run)} records (${run.stampedContacts} contacts and ${run.stampedLeads} Leads stamped, ${run.failed} failed)`,
  );
}

/** What every run's summary shares: the status first, then what the run counts, the time left while it runs, and its error. */
function runSummary(run: { status: string; etaS: number | null; error: string | null }, counts: string): string {
  const eta = run.etaS === null || run.status === 'completed' ? '' : `, about ${run.etaS} s left`;
  return `${run.status} · ${counts}${eta}${run.error ? ` · ${run.error}` : ''}`;
}

/** A run's total, or that it is still being counted. */
function totalText(run: { total: number | null }): string {
  return run.total === null ? 'counting…' : String(run.total);
}

/** Renders the sync health page body. */
export function healthBody(data: HealthPageData): Html {
  return html`
  ${searchSection(data)}
  ${feedSection(data.hubspotFeed)}
  ${failedSection(data)}
  ${causesSection(data)}
  <div class="grid two">
    <section class="card">
      <div class="card-head"><h2>Queues</h2><a href="/admin/queues">Open the queue dashboard</a></div>
      ${queueTable(data.depths)}
    </section>
    ${initialSyncSection(data)}
  </div>
  <div class="grid two">
    ${backfillSection(data)}
    ${fieldFillSection(data)}
  </div>
  <section class="card">
    <h2>Recent warnings and errors</h2>
    ${data.problems.length === 0 ? html`<p class="empty">None.</p>` : logTable(data.problems, true)}
  </section>`;
}

/* global document, window, fetch */
// Sync health: keeps each run's progress bar live (initial sync, attribution backfill, field fill) by polling /api/backfill/:runId.
'use strict';

/** The same summary lines the server renders (pages/health.ts initialSyncText / progressText). */
function progressText(run) {
  if (run.kind === 'field-fill') return fieldFillText(run);
  const total = run.total === null ? 'counting…' : String(run.total);
  const eta = run.etaS === null || run.status === 'completed' ? '' : `, about ${run.etaS} s left`;
  const counts =
    run.kind === 'initial'
      ? `${run.linked} linked, ${run.stagesAligned} stages aligned, ${run.unmatched} unmatched, ${run.failed} failed`
      : `${run.stampedContacts} contacts and ${run.stampedLeads} Leads stamped, ${run.failed} failed`;
  return `${run.status} · phase ${run.phase} · ${run.done} / ${total} records (${counts})${eta}${run.error ? ` · ${run.error}` : ''}`;
}

/** pages/health.ts fieldFillText. */
function fieldFillText(run) {
  const total = run.total === null ? 'counting…' : String(run.total);
  const eta = run.etaS === null || run.status === 'completed' ? '' : `, about ${run.etaS} s left`;
  return `${run.status} · ${run.done} / ${total} linked records at ${run.ratePerS}/s (${run.filledContacts} contacts and ${run.filledLeads} Leads filled, ${run.failed} failed)${eta}${run.error ? ` · ${run.error}` : ''}`;
}

/** The card's status badge, coloured as the server renders it (pages/health.ts runCard). */
function showStatus(badge, status) {
  if (!badge) return;
  badge.textContent = status;
  badge.className = `badge ${status === 'completed' ? 'ok' : status === 'failed' ? 'error' : 'info'}`;
}

for (const box of document.querySelectorAll('[data-backfill-run]')) {
  const runId = box.getAttribute('data-backfill-run');
  const bar = box.querySelector('progress');
  const text = box.querySelector('[data-progress-text]');
  const card = box.closest('section.card');
  const badge = card ? card.querySelector('.card-head .badge') : null;
  /** The button that starts the next run, drawn hidden while this one runs. */
  const again = card ? card.querySelector('[data-run-again]') : null;
  const poll = async () => {
    try {
      const response = await fetch(`/api/backfill/${encodeURIComponent(runId)}`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const run = await response.json();
      if (bar) {
        bar.max = run.total === null ? 1 : Math.max(1, run.total);
        bar.value = run.total === null ? 0 : Math.min(run.done, bar.max);
      }
      if (text) text.textContent = progressText(run);
      box.setAttribute('data-status', run.status);
      showStatus(badge, run.status);
      if (run.status === 'queued' || run.status === 'running') window.setTimeout(poll, 1000);
      else if (again) again.hidden = false;
    } catch {
      window.setTimeout(poll, 3000);
    }
  };
  void poll();
}

/* global document, window, fetch */
// Sync health: keeps each run's progress bar live (initial sync, attribution backfill) by polling /api/backfill/:runId.
'use strict';

/** The same summary lines the server renders (pages/health.ts initialSyncText / progressText). */
function progressText(run) {
  const total = run.total === null ? 'counting…' : String(run.total);
  const eta = run.etaS === null || run.status === 'completed' ? '' : `, about ${run.etaS} s left`;
  const counts =
    run.kind === 'initial'
      ? `${run.linked} linked, ${run.stagesAligned} stages aligned, ${run.unmatched} unmatched, ${run.failed} failed`
      : `${run.stampedContacts} contacts and ${run.stampedLeads} Leads stamped, ${run.failed} failed`;
  return `${run.status} · phase ${run.phase} · ${run.done} / ${total} records (${counts})${eta}${run.error ? ` · ${run.error}` : ''}`;
}

for (const box of document.querySelectorAll('[data-backfill-run]')) {
  const runId = box.getAttribute('data-backfill-run');
  const bar = box.querySelector('progress');
  const text = box.querySelector('[data-progress-text]');
  const poll = async () => {
    try {
      const response = await fetch(`/api/backfill/${encodeURIComponent(runId)}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) return;
      const run = await response.json();
      if (bar) {
        bar.max = run.total === null ? 1 : Math.max(1, run.total);
        bar.value = run.total === null ? 0 : Math.min(run.done, bar.max);
      }
      if (text) text.textContent = progressText(run);
      box.setAttribute('data-status', run.status);
      if (run.status === 'queued' || run.status === 'running') window.setTimeout(poll, 1000);
    } catch {
      window.setTimeout(poll, 3000);
    }
  };
  void poll();
}

/**
 * Attribution backfill worker: runs (or resumes) one admin-triggered backfill run. Thin: take the
 * run → backfill service → report progress on the job and in the log. A rate limit delays the job
 * by the server's hint without using up an attempt; a request the CRM refuses as a whole, or the
 * last failed attempt, marks the run failed with the reason for the admin.
 */
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import { runAttributionBackfill, type BackfillProgress } from '../src/sync/attribution-backfill.ts';
import { runBackfillJob, type BackfillJobDeps } from './job-support.ts';

export type AttributionBackfillDeps = BackfillJobDeps;

/** The backfill processor for the worker pool. */
export function attributionBackfillProcessors(deps: AttributionBackfillDeps): ProcessorsOf<'attributionBackfill'> {
  return {
    attributionBackfill: (payload, job, token) =>
      runBackfillJob<BackfillProgress>(deps, job, token, {
        installationId: payload.installationId,
        runId: payload.runId,
        queue: 'attribution-backfill',
        what: 'attribution backfill',
        unit: 'records',
        counts: (p) => ({ phase: p.phase, stampedContacts: p.stampedContacts, stampedLeads: p.stampedLeads, failed: p.failed }),
        run: (ctx, report) => runAttributionBackfill(ctx, payload.runId, report),
      }),
  };
}

/**
 * Field fill worker: runs (or resumes) one admin-triggered fill of the existing records after
 * field mappings start syncing. Thin: take the run → fill service → report progress on the job and
 * in the log. A rate limit delays the job by the server's hint without using up an attempt; a held
 * installation waits; a request the CRM refuses as a whole, or the last failed attempt, marks the
 * run failed with the reason for the admin.
 */
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import { runFieldFill, type FieldFillProgress } from '../src/sync/field-fill.ts';
import { runBackfillJob, type BackfillJobDeps } from './job-support.ts';

export type FieldFillDeps = BackfillJobDeps;

/** The field fill processor for the worker pool. */
export function fieldFillProcessors(deps: FieldFillDeps): ProcessorsOf<'fieldFill'> {
  return {
    fieldFill: (payload, job, token) =>
      runBackfillJob<FieldFillProgress>(deps, job, token, {
        installationId: payload.installationId,
        runId: payload.runId,
        queue: 'field-fill',
        what: 'field fill',
        unit: 'linked records',
        counts: (p) => ({ filledContacts: p.filledContacts, filledLeads: p.filledLeads, failed: p.failed }),
        run: (ctx, report) => runFieldFill(ctx, payload.runId, payload.pairs, report),
      }),
  };
}

/**
 * Field fill worker: runs (or resumes) one admin-triggered fill of the existing records after
 * field mappings start syncing. Thin: take the run → fill service → report progress on the job and
 * in the log. A rate limit delays the job by the server's hint without using up an attempt; a held
 * installation waits; a request the CRM refuses as a whole, or the last failed attempt, marks the
 * run failed with the reason for the admin.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { Processors } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { runFieldFill, type FieldFillProgress } from '../src/sync/field-fill.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { failBackfillJob, syncContextFor, waitWhileHeld } from './job-support.ts';

export interface FieldFillDeps {
  db: Queryable;
  clients: InstallationClients;
  ledger: ValueLedger;
  log: Logger;
}

/** The field fill processor for the worker pool. */
export function fieldFillProcessors(deps: FieldFillDeps): Processors {
  return {
    fieldFill: async (payload, job: Job, token) => {
      const { installationId, runId, pairs } = payload;
      const report = async (progress: FieldFillProgress): Promise<void> => {
        const { done, total, ratePerS, etaS } = progress;
        await job.updateProgress({ done, total, ratePerS, etaS });
        deps.log.info({ installationId, runId, done, total, ratePerS, etaS, filledContacts: progress.filledContacts, filledLeads: progress.filledLeads, failed: progress.failed }, `field fill: ${done}${total === null ? '' : ` of ${total}`} linked records`);
      };
      await waitWhileHeld(deps.db, job, token, installationId);
      try {
        const runtime = await deps.clients.forInstallation(installationId);
        const ctx = syncContextFor(deps, runtime, { queue: 'field-fill', id: job.id ?? '' });
        const final = await runFieldFill(ctx, runId, pairs, report);
        deps.log.info({ installationId, runId, status: final.status, done: final.done, failed: final.failed }, 'field fill finished');
      } catch (error) {
        await failBackfillJob(error, { job, token, db: deps.db, log: deps.log, installationId, runId, what: 'field fill' });
      }
    },
  };
}

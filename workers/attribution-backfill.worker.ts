/**
 * Attribution backfill worker: runs (or resumes) one admin-triggered backfill run. Thin: take the
 * run → backfill service → report progress on the job and in the log. A rate limit delays the job
 * by the server's hint without using up an attempt; a request the CRM refuses as a whole, or the
 * last failed attempt, marks the run failed with the reason for the admin.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { Processors } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { runAttributionBackfill, type BackfillProgress } from '../src/sync/attribution-backfill.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { failBackfillJob, syncContextFor, waitWhileHeld } from './job-support.ts';

export interface AttributionBackfillDeps {
  db: Queryable;
  clients: InstallationClients;
  ledger: ValueLedger;
  log: Logger;
}

/** The backfill processor for the worker pool. */
export function attributionBackfillProcessors(deps: AttributionBackfillDeps): Processors {
  return {
    attributionBackfill: async (payload, job: Job, token) => {
      const { installationId, runId } = payload;
      const report = async (progress: BackfillProgress): Promise<void> => {
        const { done, total, ratePerS, etaS } = progress;
        await job.updateProgress({ done, total, ratePerS, etaS });
        deps.log.info({ installationId, runId, phase: progress.phase, done, total, ratePerS, etaS, stampedContacts: progress.stampedContacts, stampedLeads: progress.stampedLeads, failed: progress.failed }, `attribution backfill: ${done}${total === null ? '' : ` of ${total}`} records`);
      };
      await waitWhileHeld(deps.db, job, token, installationId);
      try {
        const runtime = await deps.clients.forInstallation(installationId);
        const ctx = syncContextFor(deps, runtime, { queue: 'attribution-backfill', id: job.id ?? '' });
        const final = await runAttributionBackfill(ctx, runId, report);
        deps.log.info({ installationId, runId, status: final.status, done: final.done, failed: final.failed }, 'attribution backfill finished');
      } catch (error) {
        await failBackfillJob(error, { job, token, db: deps.db, log: deps.log, installationId, runId, what: 'attribution backfill' });
      }
    },
  };
}

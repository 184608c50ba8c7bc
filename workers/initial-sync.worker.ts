/**
 * Initial sync worker: runs (or resumes) one admin-triggered initial sync run. Thin: take the run →
 * initial sync service → report progress on the job and in the log. A rate limit delays the job by
 * the server's hint without using up an attempt (the run resumes from its cursor); a request the
 * CRM refuses as a whole, or the last failed attempt, marks the run failed with the reason.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { runInitialSync, type InitialSyncProgress } from '../src/sync/initial-sync.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { failBackfillJob, syncContextFor, waitWhileHeld } from './job-support.ts';

export interface InitialSyncDeps {
  db: Queryable;
  /** Only the runtime lookup is needed (a benchmark passes one with its own pacing). */
  clients: Pick<InstallationClients, 'forInstallation'>;
  ledger: ValueLedger;
  log: Logger;
}

/** The initial sync processor for the worker pool. */
export function initialSyncProcessors(deps: InitialSyncDeps): ProcessorsOf<'initialSync'> {
  return {
    initialSync: async (payload, job: Job, token) => {
      const { installationId, runId } = payload;
      const report = async (progress: InitialSyncProgress): Promise<void> => {
        const { done, total, ratePerS, etaS, linked, stagesAligned, unmatched, failed } = progress;
        await job.updateProgress({ done, total, ratePerS, etaS, linked, stagesAligned, unmatched, failed });
        deps.log.info(
          {
            installationId,
            runId,
            phase: progress.phase,
            done,
            total,
            ratePerS,
            etaS,
            linked,
            stagesAligned,
            unmatched,
            failed,
            stampedContacts: progress.stampedContacts,
            stampedLeads: progress.stampedLeads,
          },
          progress.status === 'completed'
            ? `initial sync completed: ${done} records, ${linked} linked, ${stagesAligned} stages aligned, ${unmatched} historical records left unmatched on purpose (no Lead or contact created, no SLA clock), ${failed} failed`
            : `initial sync: ${done}${total === null ? '' : ` of ${total}`} records`,
        );
      };
      await waitWhileHeld(deps.db, job, token, installationId);
      try {
        const runtime = await deps.clients.forInstallation(installationId);
        await runInitialSync(syncContextFor(deps, runtime, { queue: 'initial-sync', id: job.id ?? '' }), runId, report);
      } catch (error) {
        await failBackfillJob(error, { job, token, db: deps.db, log: deps.log, installationId, runId, what: 'initial sync' });
      }
    },
  };
}

/**
 * Attribution backfill worker: runs (or resumes) one admin-triggered backfill run. Thin: take the
 * run → backfill service → report progress on the job and in the log. A rate limit delays the job
 * by the server's hint without using up an attempt; a request the CRM refuses as a whole, or the
 * last failed attempt, marks the run failed with the reason for the admin.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CrmRateLimitedError, CrmRejectedError } from '../src/crm/errors.ts';
import type { Logger } from '../src/log.ts';
import type { Processors } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { failAttributionBackfill, runAttributionBackfill, type BackfillProgress } from '../src/sync/attribution-backfill.ts';
import type { SyncContext } from '../src/sync/context.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';

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
      try {
        const runtime = await deps.clients.forInstallation(installationId);
        const ctx: SyncContext = {
          installationId,
          db: deps.db,
          hubspot: runtime.hubspot,
          salesforce: runtime.salesforce,
          dictionary: runtime.dictionary,
          fieldMappings: runtime.fieldMappings,
          attribution: runtime.attribution,
          ledger: deps.ledger,
          now: () => new Date(),
          job: { queue: 'attribution-backfill', id: job.id ?? '' },
        };
        const final = await runAttributionBackfill(ctx, runId, report);
        deps.log.info({ installationId, runId, status: final.status, done: final.done, failed: final.failed }, 'attribution backfill finished');
      } catch (error) {
        if (error instanceof CrmRateLimitedError) {
          deps.log.warn({ installationId, runId, retryAfterMs: error.retryAfterMs }, `${error.system} rate limit: the attribution backfill waits, then resumes from its cursor`);
          await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
          throw new DelayedError();
        }
        const message = error instanceof Error ? error.message : String(error);
        const refused = error instanceof CrmRejectedError;
        if (refused || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await failAttributionBackfill(deps.db, runId, message);
          deps.log.error({ installationId, runId, error: message }, 'attribution backfill failed');
          if (refused) throw new UnrecoverableError(message);
        }
        throw error;
      }
    },
  };
}

/**
 * The marketing commitments check, repeated per installation by a job scheduler: paces the
 * commitments and sends the alert of each one at risk or behind once per period, to the alert
 * target SLA breaches use. Thin: parse → check (src/sync/commitment-check.ts) → retry what failed.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { writeSyncLog } from '../src/store/sync-log.ts';
import { checkCommitments } from '../src/sync/commitment-check.ts';
import type { OutboundPolicy } from '../src/sync/outbound-http.ts';

export interface CommitmentCheckWorkerDeps {
  db: Queryable;
  clients: InstallationClients;
  log: Logger;
  outbound: OutboundPolicy;
}

async function runCommitmentCheck(deps: CommitmentCheckWorkerDeps, payload: JobPayload<'commitmentChecks'>, job: Job): Promise<void> {
  const { installationId } = payload;
  const outcome = await checkCommitments(
    {
      db: deps.db,
      outbound: deps.outbound,
      alertTarget: async (id) => {
        const { alert, alertProblem } = (await deps.clients.forInstallation(id)).sales;
        return { target: alert, problem: alertProblem };
      },
    },
    installationId,
  );
  if (outcome.retry.length === 0) return;
  if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
    // The record stays raised and undelivered: the next scheduled check tries again.
    await writeSyncLog(deps.db, [
      {
        installationId,
        recordRef: `installation:${installationId}`,
        level: 'error',
        action: 'commitment_alert_failed',
        reason: `Marketing commitment alert not delivered after ${job.attemptsMade + 1} attempts: ${outcome.retry[0] ?? ''}`,
        jobQueue: job.queueName,
        jobId: job.id ?? '',
      },
    ]);
  }
  deps.log.warn({ installationId, reasons: outcome.retry }, 'marketing commitment alert to retry');
  throw new Error(outcome.retry[0]);
}

/** The commitments check processor for the worker pool. */
export function commitmentCheckProcessors(deps: CommitmentCheckWorkerDeps): ProcessorsOf<'commitmentChecks'> {
  return { commitmentChecks: async (payload, job) => runCommitmentCheck(deps, payload, job) };
}

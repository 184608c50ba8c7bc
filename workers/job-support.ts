/**
 * What the workers share: the sync context of a job (every sync and backfill worker) and, for the
 * backfill runs (attribution backfill, initial sync), what a run's failure means for its job. A
 * rate limit delays the job by the server's hint without using up an attempt (the run resumes
 * from its cursor); a request the CRM refuses as a whole, or the last failed attempt, marks the
 * run failed with the reason for the admin.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { InstallationClients, InstallationRuntime } from '../src/runtime/installation-clients.ts';
import { failBackfillRun } from '../src/store/backfill-runs.ts';
import type { Queryable } from '../src/store/db.ts';
import { anySyncHold } from '../src/store/sync-controls.ts';
import type { SyncContext } from '../src/sync/context.ts';
import type { ClockContext } from '../src/sync/sla-context.ts';
import type { SlaScheduler } from '../src/sync/sla-scheduler.ts';
import { refusalTolerantPorts } from '../src/sync/mapped-fields.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { crmRetryDecision, settleCrmFailure } from './crm-retry-policy.ts';

/**
 * How often a job that writes to both CRMs looks again while an admin holds its installation
 * (a direction paused, or a side disconnected): no event tells a delayed job of a resume, and a
 * minute late is well inside an SLA and unnoticeable in a backfill.
 */
const HELD_RECHECK_MS = 60_000;

/**
 * Delays the job while an admin holds the installation, without using up an attempt: SLA clock
 * jobs and backfill runs write to both CRMs, so they wait for either direction's pause or a
 * disconnected side (their cursors and clocks are in Postgres: nothing is lost).
 */
export async function waitWhileHeld(db: Queryable, job: Job, token: string | undefined, installationId: string): Promise<void> {
  if (!(await anySyncHold(db, installationId))) return;
  await job.moveToDelayed(Date.now() + HELD_RECHECK_MS, token);
  throw new DelayedError();
}

/** The sync context of one installation's runtime, its log lines pointing at this job. */
export function syncContextFor(
  deps: { db: Queryable; ledger: ValueLedger },
  runtime: InstallationRuntime,
  job: { queue: string; id: string },
): SyncContext {
  // A mapped value the other side refuses is logged and left out; the rest of the record is written.
  const ports = refusalTolerantPorts(
    { db: deps.db, installationId: runtime.installationId, fieldMappings: runtime.fieldMappings, job },
    runtime,
  );
  return {
    installationId: runtime.installationId,
    db: deps.db,
    hubspot: ports.hubspot,
    salesforce: ports.salesforce,
    dictionary: runtime.dictionary,
    fieldMappings: runtime.fieldMappings,
    attribution: runtime.attribution,
    ledger: deps.ledger,
    now: () => new Date(),
    job,
  };
}

/** The SLA clock's context for a job: the sync worker starts and stops clocks, the SLA worker runs them. */
export function clockContextFor(
  deps: { db: Queryable; ledger: ValueLedger; now?: (() => Date) | undefined },
  runtime: InstallationRuntime,
  scheduler: SlaScheduler,
  job: { queue: string; id: string },
): ClockContext {
  return {
    installationId: runtime.installationId,
    db: deps.db,
    hubspot: runtime.hubspot,
    salesforce: runtime.salesforce,
    ledger: deps.ledger,
    policy: runtime.sales.slaPolicy,
    integrationUserId: runtime.salesforceIntegrationUserId,
    feedbackTaxonomy: runtime.sales.feedbackTaxonomy,
    dictionary: runtime.dictionary,
    scheduler,
    alerts: runtime.sales.alert !== null,
    now: deps.now ?? (() => new Date()),
    job,
  };
}

/** Handles the error a run threw: always throws (DelayedError, UnrecoverableError or the error itself). */
export async function failBackfillJob(
  error: unknown,
  context: { job: Job; token: string | undefined; db: Queryable; log: Logger; installationId: string; runId: string; what: string },
): Promise<never> {
  const { job, token, log, installationId, runId, what } = context;
  const decision = crmRetryDecision(error);
  if (decision.kind === 'delay') {
    log.warn(
      { installationId, runId, retryAfterMs: decision.ms },
      `${decision.system} rate limit: the ${what} waits, then resumes from its cursor`,
    );
    return settleCrmFailure(error, decision, job, token);
  }
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (decision.kind === 'give-up' || lastAttempt) {
    const message = error instanceof Error ? error.message : String(error);
    await failBackfillRun(context.db, runId, message);
    log.error({ installationId, runId, error: message }, `${what} failed`);
  }
  return settleCrmFailure(error, decision, job, token);
}

/** What a backfill worker's job needs (a benchmark passes a runtime lookup with its own pacing). */
export interface BackfillJobDeps {
  db: Queryable;
  clients: Pick<InstallationClients, 'forInstallation'>;
  ledger: ValueLedger;
  log: Logger;
}

/** Progress a backfill run reports after each step. */
interface RunProgress {
  done: number;
  total: number | null;
  ratePerS: number;
  etaS: number | null;
}

/**
 * One backfill run's job (attribution backfill, field fill): waits while the installation is held,
 * runs the service on the installation's sync context, puts each step's progress on the job and in
 * the log (`counts` adds the run's own counters), logs its end, and fails it as `failBackfillJob` says.
 */
export async function runBackfillJob<P extends RunProgress>(
  deps: BackfillJobDeps,
  job: Job,
  token: string | undefined,
  spec: {
    installationId: string;
    runId: string;
    queue: string;
    /** Its name in log lines and failures (`attribution backfill`) and what it counts (`records`). */
    what: string;
    unit: string;
    counts(progress: P): Record<string, unknown>;
    run(ctx: SyncContext, report: (progress: P) => Promise<void>): Promise<{ status: string; done: number; failed: number }>;
  },
): Promise<void> {
  const { installationId, runId, what } = spec;
  const report = async (progress: P): Promise<void> => {
    const { done, total, ratePerS, etaS } = progress;
    await job.updateProgress({ done, total, ratePerS, etaS });
    deps.log.info(
      { installationId, runId, done, total, ratePerS, etaS, ...spec.counts(progress) },
      `${what}: ${done}${total === null ? '' : ` of ${total}`} ${spec.unit}`,
    );
  };
  await waitWhileHeld(deps.db, job, token, installationId);
  try {
    const runtime = await deps.clients.forInstallation(installationId);
    const final = await spec.run(syncContextFor(deps, runtime, { queue: spec.queue, id: job.id ?? '' }), report);
    deps.log.info({ installationId, runId, status: final.status, done: final.done, failed: final.failed }, `${what} finished`);
  } catch (error) {
    await failBackfillJob(error, { job, token, db: deps.db, log: deps.log, installationId, runId, what });
  }
}

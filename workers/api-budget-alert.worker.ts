/**
 * The Salesforce API budget alert: a signed POST to the installation's alert target (the one SLA
 * breaches use), once per budget period. Thin: parse → build the alert → send → record.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { alertThreshold, API_BUDGET_ALERT_SHARE } from '../src/domain/api-budget.ts';
import { assertNever } from '../src/domain/result.ts';
import type { Logger } from '../src/log.ts';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { Producer } from '../src/queue/producer.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { writeSyncLog } from '../src/store/sync-log.ts';
import { buildApiBudgetAlert, sendAlert } from '../src/sync/alerts.ts';
import type { OutboundPolicy } from '../src/sync/outbound-http.ts';

export interface ApiBudgetAlertDeps {
  db: Queryable;
  clients: InstallationClients;
  log: Logger;
  /** Where alerts may be posted (public addresses, plus the ranges OUTBOUND_ALLOW_PRIVATE allows). */
  outbound: OutboundPolicy;
}

/** Queues the alert of one budget period: the period starts when the threshold was crossed, so retries and repeats share the job id. */
export async function queueApiBudgetAlert(
  producer: Producer,
  installationId: string,
  usage: { used: number; limit: number },
  at = Date.now(),
): Promise<void> {
  await producer.enqueue('apiBudgetAlerts', [
    { jobId: `api-budget-${installationId}-${at}`, payload: { v: 1, installationId, used: usage.used, budget: usage.limit, at } },
  ]);
}

async function runApiBudgetAlert(deps: ApiBudgetAlertDeps, payload: JobPayload<'apiBudgetAlerts'>, job: Job): Promise<void> {
  const { installationId } = payload;
  const entry = { installationId, recordRef: `installation:${installationId}`, jobQueue: job.queueName, jobId: job.id ?? '' };
  const reason = `the app has made ${payload.used} of its ${payload.budget} Salesforce calls in the last 24 h (alert at ${alertThreshold(payload.budget)})`;
  const { alert: target, alertProblem } = (await deps.clients.forInstallation(installationId)).sales;
  if (target === null && alertProblem !== null) {
    await writeSyncLog(deps.db, [
      {
        ...entry,
        level: 'error',
        action: 'api_budget_alert_failed',
        reason: `Salesforce API budget 80 % used: ${reason}; alert not sent: ${alertProblem}`,
      },
    ]);
    throw new UnrecoverableError('the alert target cannot be read');
  }
  if (target === null) {
    // No target: the warning in the sync log is what the admin sees (health page, recent warnings).
    await writeSyncLog(deps.db, [
      { ...entry, level: 'warn', action: 'api_budget_80', reason: `Salesforce API budget 80 % used: ${reason}; no alert target is set` },
    ]);
    return;
  }
  const alert = buildApiBudgetAlert({
    installationId,
    used: payload.used,
    budget: payload.budget,
    threshold: API_BUDGET_ALERT_SHARE,
    at: new Date(payload.at),
    periodId: `${installationId}-${payload.at}`,
  });
  const delivery = await sendAlert(target, alert, { policy: deps.outbound });
  switch (delivery.kind) {
    case 'delivered':
      await writeSyncLog(deps.db, [
        { ...entry, level: 'warn', action: 'api_budget_80', reason: `Salesforce API budget 80 % used: ${reason}; alert delivered` },
      ]);
      return;
    case 'refused':
      await writeSyncLog(deps.db, [
        {
          ...entry,
          level: 'error',
          action: 'api_budget_alert_failed',
          reason: `Salesforce API budget alert refused, not retried: ${delivery.reason}`,
        },
      ]);
      throw new UnrecoverableError(delivery.reason);
    case 'retry':
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await writeSyncLog(deps.db, [
          {
            ...entry,
            level: 'error',
            action: 'api_budget_alert_failed',
            reason: `Salesforce API budget alert not delivered after ${job.attemptsMade + 1} attempts: ${delivery.reason}`,
          },
        ]);
      }
      throw new Error(delivery.reason);
    default:
      assertNever(delivery);
  }
}

/** The budget alert processor for the worker pool. */
export function apiBudgetAlertProcessors(deps: ApiBudgetAlertDeps): ProcessorsOf<'apiBudgetAlerts'> {
  return { apiBudgetAlerts: async (payload, job) => runApiBudgetAlert(deps, payload, job) };
}

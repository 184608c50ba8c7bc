/**
 * SLA workers. `sla-clocks`: a clock's due check, delayed to its due time (deterministic id per
 * clock schedule), or the rescheduling of an installation's clocks after a policy change or a
 * restart. `sla-alerts`: the signed alert of an escalation, retried with backoff. Thin: parse →
 * src/sync/sla-escalation.ts, sla-reschedule.ts, sla-followup.ts or alerts.ts → record the outcome.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CrmAuthError } from '../src/crm/errors.ts';
import { assertNever } from '../src/domain/result.ts';
import type { Logger } from '../src/log.ts';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { Producer } from '../src/queue/producer.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients, InstallationRuntime } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { escalationById, markEscalationStep } from '../src/store/sla.ts';
import { writeSyncLog, type SyncLogEntry } from '../src/store/sync-log.ts';
import { buildBreachAlert, sendAlert } from '../src/sync/alerts.ts';
import type { OutboundPolicy } from '../src/sync/outbound-http.ts';
import { salesforceRef } from '../src/sync/context.ts';
import type { ClockContext } from '../src/sync/sla-context.ts';
import { rescheduleClocks } from '../src/sync/sla-reschedule.ts';
import { SlaScheduler } from '../src/sync/sla-scheduler.ts';
import { checkClockDue } from '../src/sync/sla-escalation.ts';
import { checkFollowUpDue, rescheduleFollowUps } from '../src/sync/sla-followup.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { crmRetryDecision, settleCrmFailure } from './crm-retry-policy.ts';
import { clockContextFor, waitWhileHeld } from './job-support.ts';

/** What the SLA workers need. */
export interface SlaWorkerDeps {
  db: Queryable;
  clients: InstallationClients;
  producer: Producer;
  ledger: ValueLedger;
  log: Logger;
  /** The clock due checks judge by and due-check delays count from (the wall clock unless given: tests move it forward). */
  now?: () => Date;
  /** Where alerts may be posted (public addresses, plus the ranges OUTBOUND_ALLOW_PRIVATE allows). */
  outbound: OutboundPolicy;
}

function jobIdOf(job: Job): string {
  if (!job.id) throw new Error('SLA jobs always carry their deterministic id');
  return job.id;
}

function clockContext(deps: SlaWorkerDeps, scheduler: SlaScheduler, runtime: InstallationRuntime, job: Job): ClockContext {
  return clockContextFor(deps, runtime, scheduler, { queue: job.queueName, id: jobIdOf(job) });
}

/**
 * Delays a check that ran early until the SLA clock reads `dueAt` (BullMQ counts delays on the wall
 * clock; the two are the same unless a clock was injected).
 */
async function waitUntilDue(deps: SlaWorkerDeps, job: Job, token: string | undefined, dueAt: Date): Promise<never> {
  const wallClockDueAt = deps.now === undefined ? dueAt.getTime() : Date.now() + (dueAt.getTime() - deps.now().getTime());
  await job.moveToDelayed(wallClockDueAt + 1, token);
  throw new DelayedError();
}

/** Rate limits delay the job by the CRM's hint without using up an attempt; a refused request is not retried. */
async function withCrmRetryPolicy(
  deps: SlaWorkerDeps,
  job: Job,
  token: string | undefined,
  entry: Omit<SyncLogEntry, 'level' | 'action' | 'reason'>,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const decision = crmRetryDecision(error);
    if (decision.kind === 'give-up')
      await writeSyncLog(deps.db, [
        {
          ...entry,
          level: 'error',
          action: 'sla_check_refused',
          reason: `${decision.system} refused a request of the SLA check: ${decision.code} ${decision.reason}`,
        },
      ]);
    await settleCrmFailure(error, decision, job, token);
  }
}

async function runClockJob(
  deps: SlaWorkerDeps,
  scheduler: SlaScheduler,
  payload: JobPayload<'slaClocks'>,
  job: Job,
  token: string | undefined,
): Promise<void> {
  const { installationId } = payload;
  // While an admin holds either direction, clock jobs wait: a due check writes Tasks and stamps to
  // both CRMs, and with Salesforce → HubSpot held a rep's first touch is not seen yet, so a breach
  // decided now could be wrong.
  await waitWhileHeld(deps.db, job, token, installationId);
  if (payload.kind === 'reschedule') {
    // The policy may have changed: build the runtime again from the stored settings. An
    // installation that is not connected has no clocks to move.
    deps.clients.invalidate(installationId);
    let runtime: InstallationRuntime;
    try {
      runtime = await deps.clients.forInstallation(installationId);
    } catch (error) {
      if (!(error instanceof CrmAuthError)) throw error;
      deps.log.info({ installationId, reason: error.message }, 'SLA clocks not checked: the installation is not connected');
      return;
    }
    const ctx = clockContext(deps, scheduler, runtime, job);
    await withCrmRetryPolicy(
      deps,
      job,
      token,
      { installationId, recordRef: `installation:${installationId}`, jobQueue: job.queueName, jobId: jobIdOf(job) },
      async () => {
        const result = await rescheduleClocks(ctx);
        const followUps = await rescheduleFollowUps(ctx);
        deps.log.info({ installationId, ...result, followUps }, 'SLA clocks checked against the current policy');
      },
    );
    return;
  }
  if (payload.kind === 'followUp') {
    const ctx = clockContext(deps, scheduler, await deps.clients.forInstallation(installationId), job);
    await withCrmRetryPolicy(
      deps,
      job,
      token,
      { installationId, recordRef: `sla-clock:${payload.clockId}`, jobQueue: job.queueName, jobId: jobIdOf(job) },
      async () => {
        const result = await checkFollowUpDue(ctx, { clockId: payload.clockId, rule: payload.rule });
        switch (result.kind) {
          case 'not_due':
            return waitUntilDue(deps, job, token, result.dueAt);
          case 'gone':
          case 'off':
          case 'decided':
            deps.log.debug(
              { installationId, clock: payload.clockId, rule: payload.rule, ...result },
              'SLA follow-up check: already decided',
            );
            return;
          case 'judged':
            deps.log.info(
              { installationId, clock: payload.clockId, rule: payload.rule, status: result.status },
              'SLA follow-up rule decided',
            );
            return;
          default:
            return assertNever(result);
        }
      },
    );
    return;
  }
  const ctx = clockContext(deps, scheduler, await deps.clients.forInstallation(installationId), job);
  await withCrmRetryPolicy(
    deps,
    job,
    token,
    { installationId, recordRef: `sla-clock:${payload.clockId}`, jobQueue: job.queueName, jobId: jobIdOf(job) },
    async () => {
      const result = await checkClockDue(ctx, { clockId: payload.clockId, scheduleN: payload.scheduleN, jobId: jobIdOf(job) });
      switch (result.kind) {
        case 'not_due':
          // Early (a clock skew between processes): wait for the due time itself.
          return waitUntilDue(deps, job, token, result.dueAt);
        case 'gone':
        case 'stale':
        case 'touched':
        case 'lead_missing':
        case 'escalated_elsewhere':
          deps.log.debug({ installationId, clock: payload.clockId, ...result }, 'SLA due check: nothing to escalate');
          return;
        case 'escalated':
          deps.log.info(
            {
              installationId,
              clock: payload.clockId,
              escalation: result.escalationId,
              tasks: result.taskIds.length,
              resumed: result.resumed,
            },
            'SLA breached: escalated',
          );
          return;
        default:
          return assertNever(result);
      }
    },
  );
}

async function runAlertJob(deps: SlaWorkerDeps, payload: JobPayload<'slaAlerts'>, job: Job): Promise<void> {
  const { installationId, escalationId } = payload;
  const found = await escalationById(deps.db, installationId, escalationId);
  if (!found) {
    deps.log.warn({ installationId, escalation: escalationId }, 'SLA alert: the escalation no longer exists');
    return;
  }
  const { escalation, clock } = found;
  if (escalation.alertDeliveredAt !== null) return;
  const entry = { installationId, recordRef: salesforceRef('Lead', clock.leadId), jobQueue: job.queueName, jobId: jobIdOf(job) };
  const { alert: target, alertProblem } = (await deps.clients.forInstallation(installationId)).sales;
  if (target === null && alertProblem !== null) {
    // Failed, not skipped: replayable once the admin has saved the target again.
    await writeSyncLog(deps.db, [
      {
        ...entry,
        level: 'error',
        action: 'sla_alert_failed',
        reason: `SLA alert not sent: ${alertProblem}`,
        details: { escalation: escalation.id },
      },
    ]);
    throw new UnrecoverableError('the SLA alert target cannot be read');
  }
  if (target === null) {
    await writeSyncLog(deps.db, [
      {
        ...entry,
        level: 'warn',
        action: 'sla_alert_skipped',
        reason: 'the alert target was removed from the settings before the alert was sent',
      },
    ]);
    return;
  }
  const delivery = await sendAlert(target, buildBreachAlert(escalation, clock), { policy: deps.outbound });
  switch (delivery.kind) {
    case 'delivered':
      await markEscalationStep(deps.db, escalation.id, 'alert_delivered');
      await writeSyncLog(deps.db, [
        {
          ...entry,
          level: 'info',
          action: 'sla_alert_delivered',
          reason: 'SLA alert delivered',
          details: { escalation: escalation.id, attempt: job.attemptsMade + 1 },
        },
      ]);
      return;
    case 'refused':
      await writeSyncLog(deps.db, [
        {
          ...entry,
          level: 'error',
          action: 'sla_alert_failed',
          reason: `SLA alert refused, not retried: ${delivery.reason}`,
          details: { escalation: escalation.id },
        },
      ]);
      throw new UnrecoverableError(delivery.reason);
    case 'retry': {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) {
        await writeSyncLog(deps.db, [
          {
            ...entry,
            level: 'error',
            action: 'sla_alert_failed',
            reason: `SLA alert not delivered after ${job.attemptsMade + 1} attempts: ${delivery.reason}`,
            details: { escalation: escalation.id },
          },
        ]);
      }
      throw new Error(delivery.reason);
    }
    default:
      assertNever(delivery);
  }
}

/** The SLA processors for the worker pool. */
export function slaProcessors(deps: SlaWorkerDeps): ProcessorsOf<'slaClocks' | 'slaAlerts'> {
  const { now } = deps;
  const scheduler = new SlaScheduler(deps.producer, now === undefined ? Date.now : () => now().getTime());
  return {
    slaClocks: async (payload, job, token) => runClockJob(deps, scheduler, payload, job, token),
    slaAlerts: async (payload, job) => runAlertJob(deps, payload, job),
  };
}

/** Asks each installation's clocks to be checked against its policy (at boot: recovers lost jobs, applies changed rules). */
export async function requestSlaReschedules(producer: Producer, installationIds: readonly string[]): Promise<void> {
  await new SlaScheduler(producer).requestReschedules(installationIds);
}

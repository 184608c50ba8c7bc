/**
 * Drain workers: sync-to-salesforce (HubSpot contacts → Leads) and sync-to-hubspot (Leads and
 * Opportunities → contacts). Thin: take the pending batch → sync service → settle. Rate limits
 * delay the job by the server's hint without using up an attempt; a request the CRM refuses as a
 * whole is written to the sync log for every record in the batch and not retried.
 */
import { DelayedError, type Job } from 'bullmq';
import type { RedisConnection } from '../src/queue/redis.ts';
import type { Logger } from '../src/log.ts';
import type { Producer } from '../src/queue/producer.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { syncHold } from '../src/store/sync-controls.ts';
import { writeSyncLog } from '../src/store/sync-log.ts';
import { contactRef, type SyncContext } from '../src/sync/context.ts';
import { DRAIN_LOCK_TTL_MS, drainPending } from '../src/sync/drain.ts';
import { syncContactsToSalesforce } from '../src/sync/handoff.ts';
import type { Direction, PendingSet } from '../src/sync/pending-set.ts';
import { syncSalesforceToHubSpot } from '../src/sync/sales-progress.ts';
import { afterLockJobId, type SyncScheduler } from '../src/sync/scheduler.ts';
import { stopClocksOnFirstTouch } from '../src/sync/sla-first-touch.ts';
import { SlaScheduler } from '../src/sync/sla-scheduler.ts';
import { writeHandedOverStamps, type HubSpotWrite } from '../src/sync/sla-stamps.ts';
import { handoffDueAt, startClocks } from '../src/sync/sla-start.ts';
import { evaluateFollowUpsOnSync, startFollowUps } from '../src/sync/sla-followup.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { clockContextFor, syncContextFor } from './job-support.ts';
import { crmRetryDecision, settleCrmFailure } from './crm-retry-policy.ts';

export interface SyncWorkerDeps {
  db: Queryable;
  redis: RedisConnection;
  prefix: string;
  pending: PendingSet;
  scheduler: SyncScheduler;
  clients: InstallationClients;
  ledger: ValueLedger;
  log: Logger;
  /** Schedules the SLA clocks' due checks. */
  producer: Producer;
  batchSize?: number;
}

/** Handoff batches in flight at once in one installation's drain (to Salesforce). */
const PARALLEL_HANDOFF_BATCHES = 12;

/** A check for a dead holder runs this long after its lock would expire. */
const LOCK_EXPIRY_MARGIN_MS = 250;

async function drainJob(
  deps: SyncWorkerDeps,
  installationId: string,
  direction: Direction,
  job: Job,
  token: string | undefined,
): Promise<void> {
  const queue = direction === 'to-salesforce' ? 'sync-to-salesforce' : 'sync-to-hubspot';
  // A held direction (paused by an admin) does nothing: its records stay pending, in the order they
  // arrived, and resuming schedules the drain that takes them up.
  const hold = await syncHold(deps.db, installationId, direction);
  if (hold) {
    deps.log.debug({ installationId, direction, hold }, 'sync held: records wait until it is resumed');
    return;
  }
  try {
    const result = await drainPending(
      {
        redis: deps.redis,
        prefix: deps.prefix,
        pending: deps.pending,
        // To Salesforce: 200 contacts per batch (two HubSpot reads of 100, one Collections call of
        // 200). To HubSpot: 100 records per batch, HubSpot's batch limit.
        batchSize: deps.batchSize ?? (direction === 'to-salesforce' ? 200 : 100),
        // To Salesforce, up to twelve batches of distinct contacts in flight: enough that the
        // limiters, not the answers' latency, bound a bulk handoff (a batch waits ~3 s on its calls;
        // a Professional portal takes ~4 batches a second); to HubSpot one at a time (see
        // DrainDeps.parallelBatches).
        parallelBatches: direction === 'to-salesforce' ? PARALLEL_HANDOFF_BATCHES : 1,
        maxBatches: direction === 'to-salesforce' ? 4 * PARALLEL_HANDOFF_BATCHES : 20,
        // Kept alive by the drain while it works, so short: a dead holder's lock frees within 15 s.
        lockTtlMs: DRAIN_LOCK_TTL_MS,
        fillWaitMs: 50,
        held: async () => (await syncHold(deps.db, installationId, direction)) !== null,
        syncBatch: async (id, dir, keys) => {
          const runtime = await deps.clients.forInstallation(id);
          const ctx: SyncContext = {
            ...syncContextFor(deps, runtime, { queue, id: job.id ?? '' }),
            feedback: { taxonomy: runtime.sales.feedbackTaxonomy, integrationUserId: runtime.salesforceIntegrationUserId },
            slaDueAt: (at) => handoffDueAt(runtime.sales.slaPolicy, at),
          };
          const clocks = clockContextFor({ ...deps, now: ctx.now }, runtime, new SlaScheduler(deps.producer), { queue, id: job.id ?? '' });
          try {
            // SLA: each handoff starts its Lead's clock; a synced Lead (or a Task/Event on it) may
            // show the first touch, whose HubSpot stamp rides on the sales-progress update.
            if (dir === 'to-salesforce') {
              const summary = await syncContactsToSalesforce(ctx, keys);
              const started = await startClocks(clocks, summary.handoffs);
              const clocksStarted = started.length;
              const followUpsStarted = await startFollowUps(clocks, started);
              deps.log.info(
                { installationId: id, direction: dir, records: keys.length, ...summary, clocksStarted, followUpsStarted },
                'synced a batch',
              );
            } else {
              const slaStamps: HubSpotWrite[] = [];
              const clocksStopped = await stopClocksOnFirstTouch(clocks, keys, slaStamps);
              let summary;
              try {
                summary = await syncSalesforceToHubSpot({ ...ctx, hubspotWrites: slaStamps }, keys);
              } catch (error) {
                // The clocks stopped already; their stamps go out alone before the batch is retried.
                await writeHandedOverStamps(clocks, slaStamps);
                throw error;
              }
              // Cadence and disposition: decided early when the batch shows K touches or a disposition
              // (after the sync, so this batch's feedback is recorded first).
              const followUpsDecided = await evaluateFollowUpsOnSync(clocks, keys);
              deps.log.info(
                { installationId: id, direction: dir, records: keys.length, ...summary, clocksStopped, followUpsDecided },
                'synced a batch',
              );
            }
          } catch (error) {
            const decision = crmRetryDecision(error);
            if (decision.kind !== 'give-up') throw error;
            await writeSyncLog(
              deps.db,
              keys.map((key) => ({
                installationId: id,
                recordRef: dir === 'to-salesforce' ? contactRef(key) : `salesforce:${key}`,
                level: 'error' as const,
                action: 'batch_refused',
                reason: `${decision.system} refused the batch request: ${decision.code} ${decision.reason}`,
                jobQueue: queue,
                jobId: job.id ?? '',
              })),
            );
          }
        },
      },
      installationId,
      direction,
    );
    if (result.kind === 'busy') {
      // The holder runs again when it lets go (it saw our mark). Only if it died holding the lock
      // must someone else: one check per holder, when its lock expires — however many jobs find
      // it busy meanwhile (a 429 storm used to keep hundreds of them polling). That check, finding
      // the holder still at work, looks again when the extended lock would expire.
      const retryAt = Date.now() + result.lockExpiresInMs + LOCK_EXPIRY_MARGIN_MS;
      if (job.id !== afterLockJobId(installationId, direction, result.holder)) {
        await deps.scheduler.afterLock(installationId, direction, result.holder, retryAt - Date.now());
        return;
      }
      await job.moveToDelayed(retryAt, token);
      throw new DelayedError();
    }
    if ((result.remaining > 0 || result.rerunWanted) && !(await syncHold(deps.db, installationId, direction)))
      await deps.scheduler.schedule(installationId, direction, Date.now(), true, result.remaining > 0);
  } catch (error) {
    // A refused batch is logged above; here only a rate limit delays the job, the rest is retried.
    const decision = crmRetryDecision(error);
    if (decision.kind !== 'delay') throw error;
    deps.log.warn({ installationId, direction, retryAfterMs: decision.ms }, `${decision.system} rate limit: waiting before the next batch`);
    await settleCrmFailure(error, decision, job, token);
  }
}

/** The drain processors for the worker pool. */
export function syncProcessors(deps: SyncWorkerDeps): ProcessorsOf<'syncToSalesforce' | 'syncToHubSpot'> {
  return {
    syncToSalesforce: async (payload, job, token) => drainJob(deps, payload.installationId, 'to-salesforce', job, token),
    syncToHubSpot: async (payload, job, token) => drainJob(deps, payload.installationId, 'to-hubspot', job, token),
  };
}

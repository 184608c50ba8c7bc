/**
 * The worker pool's processors, one per catalog queue. The return types make the type system
 * require every queue's processor: a queue added to the catalog without one fails to compile here.
 */
import type { RedisConnection } from '../queue/redis.ts';
import type { Logger } from '../log.ts';
import type { Producer } from '../queue/producer.ts';
import type { Processors } from '../queue/worker-runner.ts';
import type { Db } from '../store/db.ts';
import type { ReviewSource } from '../sync/digest.ts';
import type { MailSender } from '../sync/mail.ts';
import type { OutboundPolicy } from '../sync/outbound-http.ts';
import type { PendingSet } from '../sync/pending-set.ts';
import type { SyncScheduler } from '../sync/scheduler.ts';
import type { ValueLedger } from '../sync/value-ledger.ts';
import { apiBudgetAlertProcessors } from '../../workers/api-budget-alert.worker.ts';
import { attributionBackfillProcessors } from '../../workers/attribution-backfill.worker.ts';
import { commitmentCheckProcessors } from '../../workers/commitment-check.worker.ts';
import { fieldFillProcessors } from '../../workers/field-fill.worker.ts';
import { initialSyncProcessors } from '../../workers/initial-sync.worker.ts';
import { intakeProcessors, type IntakeDeps } from '../../workers/intake.worker.ts';
import { privacyProcessors } from '../../workers/privacy.worker.ts';
import { reconcileProcessors } from '../../workers/reconcile.worker.ts';
import { alertTargetFrom, reviewDigestProcessors } from '../../workers/review-digest.worker.ts';
import { slaProcessors } from '../../workers/sla.worker.ts';
import { syncProcessors } from '../../workers/sync.worker.ts';
import type { InstallationClients } from '../runtime/installation-clients.ts';
import type { Metrics } from '../metrics.ts';

/** The queues that run without a CRM: webhooks are still recorded, an erasure still erases the app's copy. */
type CrmFreeQueue = 'webhookDeliveries' | 'hubspotEvents' | 'salesforceEvents' | 'privacyErasures';

/** What the processors need; `clients` only when a CRM can be reached. */
export interface WorkerProcessorDeps {
  db: Db;
  producer: Producer;
  redis: RedisConnection;
  prefix: string;
  pending: PendingSet;
  scheduler: SyncScheduler;
  ledger: ValueLedger;
  log: Logger;
  metrics: Metrics;
  sync: IntakeDeps['sync'];
  clients: InstallationClients | undefined;
  outbound: OutboundPolicy;
  reconcileLookbackMs: number;
  mail: MailSender | undefined;
  review: ReviewSource;
  publicUrl: () => string;
  /** The clock of the SLA due checks (the wall clock unless given). */
  slaClock?: (() => number) | undefined;
}

/** Every queue's processor when a CRM is connected; only the CRM-free queues' otherwise. */
export function workerProcessors(deps: WorkerProcessorDeps): Partial<Processors> {
  const { db, producer, ledger, log, clients } = deps;
  const crmFree: Pick<Processors, CrmFreeQueue> = {
    ...intakeProcessors({ db, producer, log, ...(deps.sync ? { sync: deps.sync } : {}) }),
    ...privacyProcessors({ db, ledger, log, ...(clients ? { clients } : {}) }),
  };
  return clients ? { ...crmFree, ...crmProcessors(deps, clients) } : crmFree;
}

function crmProcessors(deps: WorkerProcessorDeps, clients: InstallationClients): Omit<Processors, CrmFreeQueue> {
  const { db, producer, ledger, log, outbound, scheduler, slaClock } = deps;
  return {
    ...syncProcessors({ db, redis: deps.redis, prefix: deps.prefix, pending: deps.pending, scheduler, clients, ledger, log, producer }),
    ...attributionBackfillProcessors({ db, clients, ledger, log }),
    ...fieldFillProcessors({ db, clients, ledger, log }),
    ...initialSyncProcessors({ db, clients, ledger, log }),
    ...slaProcessors({ db, clients, producer, ledger, log, outbound, ...(slaClock ? { now: () => new Date(slaClock()) } : {}) }),
    ...apiBudgetAlertProcessors({ db, clients, log, outbound }),
    ...commitmentCheckProcessors({ db, clients, log, outbound }),
    ...reviewDigestProcessors({
      db,
      alertTarget: alertTargetFrom(clients),
      log,
      outbound,
      mail: deps.mail,
      review: deps.review,
      publicUrl: deps.publicUrl,
    }),
    ...reconcileProcessors({ db, clients, scheduler, metrics: deps.metrics, log, lookbackMs: deps.reconcileLookbackMs, ledger }),
  };
}

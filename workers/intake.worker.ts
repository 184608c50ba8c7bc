/**
 * Intake workers: split each acknowledged delivery into one job per event (deterministic ids, so a
 * redelivered event is dropped here), then take each event off its queue, record it in the inbound
 * ledger (once, whatever the redelivery count), drop the app's own writes coming back (echoes),
 * and mark the record pending for the sync drains.
 */
import { DelayedError, type Job } from 'bullmq';
import type { RedisConnection } from '../src/queue/redis.ts';
import type { Logger } from '../src/log.ts';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { Producer } from '../src/queue/producer.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients, InstallationRuntime } from '../src/runtime/installation-clients.ts';
import type { Db } from '../src/store/db.ts';
import { recordInboundEvent } from '../src/store/inbound-events.ts';
import { runningClocksForLeads } from '../src/store/sla.ts';
import type { SyncLogEntry } from '../src/store/sync-log.ts';
import { salesforceRef, stageValues } from '../src/sync/context.ts';
import type { SyncScheduler } from '../src/sync/scheduler.ts';
import type { ValueLedger } from '../src/sync/value-ledger.ts';
import { relinkRestoredContact, unlinkDeletedContact } from '../src/sync/deletions.ts';
import { applyHubSpotMerge, type IdentityContext } from '../src/sync/merges.ts';
import { watchedContactProperties } from '../src/sync/mapped-fields.ts';
import { underDrainLock } from '../src/sync/drain.ts';
import { crmRetryDecision } from './crm-retry-policy.ts';
import { sameSalesforceId } from '../src/domain/salesforce-id.ts';

export interface IntakeDeps {
  db: Db;
  producer: Producer;
  /** Absent when no CRM is connected: events are recorded, nothing is synced. */
  sync?: { clients: InstallationClients; scheduler: SyncScheduler; ledger: ValueLedger; redis: RedisConnection; prefix: string };
  log: Logger;
}

/** Lead and Opportunity move the stage; a converted person's Contact carries the mapped fields and the opt-out. */
const SYNCED_SOBJECTS = new Set(['Lead', 'Opportunity', 'Contact']);
/** Activities: one a rep logs on a Lead is a first sales touch (it stops the Lead's SLA clock). */
const ACTIVITY_SOBJECTS = new Set(['Task', 'Event']);
/** The Salesforce objects whose changes the intake routes (the change feed follows exactly these). */
export const ROUTED_SALESFORCE_OBJECTS: readonly string[] = [...SYNCED_SOBJECTS, ...ACTIVITY_SOBJECTS];
const LEAD_ID = /^00Q[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/;

/**
 * The installation's runtime, or null when it cannot be built now: a side cannot be reached with
 * credentials (an admin disconnected it) or the Salesforce API budget is spent (building reads the
 * integration user). The event is then routed without the echo check, because the drains of that
 * installation wait anyway and read both sides' current state when they run (an echo synced again
 * writes nothing), while failing here would lose the change after the retries.
 */
async function runtimeOrNull(sync: NonNullable<IntakeDeps['sync']>, installationId: string): Promise<InstallationRuntime | null> {
  try {
    return await sync.clients.forInstallation(installationId);
  } catch (error) {
    const decision = crmRetryDecision(error);
    if (decision.kind === 'disconnected' || decision.kind === 'delay') return null;
    throw error;
  }
}

function dedupeKey(job: Job): string {
  if (!job.id) throw new Error('intake jobs always carry their deterministic id');
  return job.id;
}

/** Records a HubSpot webhook event (`ownWrite`: the app's own write coming back); true when it was new. */
async function takeInHubSpotEvent(db: Db, payload: JobPayload<'hubspotEvents'>, job: Job, ownWrite: boolean): Promise<boolean> {
  const { event } = payload;
  return recordInboundEvent(db, {
    dedupeKey: dedupeKey(job),
    installationId: payload.installationId,
    source: 'hubspot',
    objectType: event.subscriptionType.split('.')[0] ?? event.subscriptionType,
    objectId: event.objectId,
    occurredAt: new Date(event.occurredAt),
    receivedAt: new Date(payload.receivedAt),
    payload: event,
    ownWrite,
  });
}

/** Records a Salesforce Outbound Message notification (`ownWrite`: the app's own write coming back); true when it was new. */
async function takeInSalesforceNotification(
  db: Db,
  payload: JobPayload<'salesforceEvents'>,
  job: Job,
  ownWrite: boolean,
): Promise<boolean> {
  const { notification } = payload;
  const modified = notification.fields.SystemModstamp ?? notification.fields.LastModifiedDate;
  const recordId = notification.fields.Id ?? notification.id;
  const log: SyncLogEntry[] = ownWrite
    ? [
        {
          installationId: payload.installationId,
          recordRef: salesforceRef(notification.sObjectType, recordId),
          level: 'info',
          action: 'skip_echo',
          reason: "last modified by the integration user with the stage the app knows: the app's own write, not synced back",
        },
      ]
    : [];
  return recordInboundEvent(
    db,
    {
      dedupeKey: dedupeKey(job),
      installationId: payload.installationId,
      source: 'salesforce',
      objectType: notification.sObjectType,
      objectId: recordId,
      occurredAt: modified ? new Date(modified) : new Date(payload.receivedAt),
      receivedAt: new Date(payload.receivedAt),
      payload: notification,
      ownWrite,
    },
    log,
  );
}

/** An identity event waits for the running handoff batch of its installation. */
class DrainBusy extends Error {
  constructor(readonly lockExpiresInMs: number) {
    super('a handoff batch of this installation is running');
  }
}

/** Merges, deletions and restores of contacts change the links (src/sync/merges.ts, deletions.ts). */
const IDENTITY_EVENTS = new Set(['contact.merge', 'contact.deletion', 'contact.restore']);

async function applyIdentityEvent(
  deps: IntakeDeps,
  sync: NonNullable<IntakeDeps['sync']>,
  payload: JobPayload<'hubspotEvents'>,
): Promise<void> {
  const { event, installationId } = payload;
  const runtime = await sync.clients.forInstallation(installationId);
  const identity: IdentityContext = {
    installationId,
    db: deps.db,
    hubspot: runtime.hubspot,
    salesforce: runtime.salesforce,
    ledger: sync.ledger,
    markPending: (direction, keys) => sync.scheduler.markAndSchedule(installationId, direction, keys),
  };
  if (event.subscriptionType === 'contact.merge') await applyHubSpotMerge(identity, event);
  else if (event.subscriptionType === 'contact.deletion') await unlinkDeletedContact(identity, event.objectId);
  else await relinkRestoredContact(identity, event.objectId);
}

/** Routes a HubSpot event; resolves true when it was the app's own write coming back (an echo). */
async function routeHubSpotEvent(deps: IntakeDeps, payload: JobPayload<'hubspotEvents'>): Promise<boolean> {
  const { event, installationId } = payload;
  const sync = deps.sync;
  // A GDPR deletion erases the person's data (src/sync/privacy.ts), connected CRMs or not.
  if (event.subscriptionType === 'contact.privacyDeletion') {
    await deps.producer.enqueue('privacyErasures', [
      {
        jobId: `privacy-${installationId}-${event.objectId}`,
        payload: { v: 1, installationId, hubspotContactId: event.objectId, requestedAt: event.occurredAt },
      },
    ]);
    return false;
  }
  if (!sync || !event.subscriptionType.startsWith('contact.')) return false;
  if (IDENTITY_EVENTS.has(event.subscriptionType)) {
    // Never in the middle of a handoff batch, which may have read the contact before the merge or
    // deletion and would link it after.
    // Nor in the middle of a batch to HubSpot, which could see a Lead the merge let go of before its
    // link is set aside, and make it a contact of its own.
    const applied = await underDrainLock(sync, installationId, 'to-salesforce', async () => {
      const inner = await underDrainLock(sync, installationId, 'to-hubspot', () => applyIdentityEvent(deps, sync, payload));
      if (inner.kind === 'busy') throw new DrainBusy(inner.lockExpiresInMs);
    });
    if (applied.kind === 'busy') throw new DrainBusy(applied.lockExpiresInMs);
    return false;
  }
  if (event.subscriptionType !== 'contact.creation' && event.subscriptionType !== 'contact.propertyChange') return false;
  const runtime = await runtimeOrNull(sync, installationId);
  // Only a change to a property the sync reads moves it: the app's own and the installation's mapped
  // ones (the only ones the app subscribes to).
  if (
    event.subscriptionType === 'contact.propertyChange' &&
    runtime !== null &&
    !watchedContactProperties(runtime.fieldMappings).includes(event.propertyName ?? '')
  )
    return false;
  const ownApp =
    event.changeSource === 'INTEGRATION' && runtime !== null && runtime.hubspotAppId !== null && event.sourceId === runtime.hubspotAppId;
  const ownValue =
    event.propertyName !== undefined &&
    event.propertyValue !== undefined &&
    (await sync.ledger.wroteIt(installationId, 'hubspot', event.objectId, event.propertyName, event.propertyValue));
  if (ownApp || ownValue) {
    deps.log.debug({ installationId, contact: event.objectId, property: event.propertyName }, 'own write came back: not synced again');
    return true;
  }
  await sync.scheduler.markAndSchedule(installationId, 'to-salesforce', [event.objectId]);
  return false;
}

/** Routes a Salesforce notification; resolves true when it was the app's own write coming back (an echo). */
async function routeSalesforceNotification(deps: IntakeDeps, payload: JobPayload<'salesforceEvents'>): Promise<boolean> {
  const { notification, installationId } = payload;
  const sync = deps.sync;
  const activity = ACTIVITY_SOBJECTS.has(notification.sObjectType);
  if (!sync || (!SYNCED_SOBJECTS.has(notification.sObjectType) && !activity)) return false;
  const recordId = notification.fields.Id;
  if (!recordId) return false;
  // A Task/Event matters on a Lead with a running SLA clock only (WhoId 00Q…): that Lead is synced
  // and its clock checked for the first touch. (The due check looks for activities itself too.)
  const whoId = notification.fields.WhoId ?? '';
  if (activity && (!LEAD_ID.test(whoId) || (await runningClocksForLeads(deps.db, installationId, [whoId])).size === 0)) return false;
  const runtime = await runtimeOrNull(sync, installationId);
  // Modified by the integration user: the app's own write — unless the record's stage is not what
  // the app knows, which means someone else changed it in between (a notification for that change
  // may have been lost), so it is synced.
  const byIntegrationUser = runtime !== null && sameSalesforceId(notification.fields.LastModifiedById, runtime.salesforceIntegrationUserId);
  const type = notification.sObjectType;
  const staged = type === 'Lead' || type === 'Opportunity';
  const stage = staged ? stageValues(type, notification.fields) : {};
  const hubspotId = type === 'Lead' ? notification.fields.HubSpot_Contact_Id__c : null;
  const stageKnown =
    (await sync.ledger.matches(installationId, 'salesforce', recordId, stage)) ||
    (hubspotId ? await sync.ledger.matches(installationId, 'salesforce', `hs:${hubspotId}`, stage) : false);
  // A record with no stage (a Contact, a Task or Event) changed by the integration user is the app's own write.
  if (byIntegrationUser && (!staged || stageKnown)) {
    // Its skip_echo line is written with the event (takeInSalesforceNotification).
    return true;
  }
  await sync.scheduler.markAndSchedule(installationId, 'to-hubspot', [
    activity ? `Lead:${whoId}` : `${notification.sObjectType}:${recordId}`,
  ]);
  return false;
}

/** The intake processors for the worker pool. */
export function intakeProcessors(deps: IntakeDeps): ProcessorsOf<'webhookDeliveries' | 'hubspotEvents' | 'salesforceEvents'> {
  return {
    // Adding an event whose job id exists keeps the existing job: a retried split, or a delivery
    // sent again with other events around it, adds each event once.
    webhookDeliveries: async (delivery) => {
      // In line with every installation's events up to its fair share, behind them past it.
      if (delivery.source === 'hubspot') await deps.producer.enqueueFairly('hubspotEvents', delivery.installationId, delivery.events);
      else await deps.producer.enqueueFairly('salesforceEvents', delivery.installationId, delivery.events);
    },
    // Route first, then record: a failure in between retries the job and routes again, which
    // only marks the record pending once more (marking is idempotent until it is synced).
    hubspotEvents: async (payload, job, token) => {
      let ownWrite: boolean;
      try {
        ownWrite = await routeHubSpotEvent(deps, payload);
      } catch (error) {
        if (!(error instanceof DrainBusy)) throw error;
        // Looked at again shortly (batches take seconds), without using up an attempt.
        await job.moveToDelayed(Date.now() + Math.min(Math.max(error.lockExpiresInMs, 250), 1_000), token);
        throw new DelayedError();
      }
      await takeInHubSpotEvent(deps.db, payload, job, ownWrite);
    },
    salesforceEvents: async (payload, job) => {
      const ownWrite = await routeSalesforceNotification(deps, payload);
      await takeInSalesforceNotification(deps.db, payload, job, ownWrite);
    },
  };
}

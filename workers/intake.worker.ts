/**
 * Intake workers: take each acknowledged webhook event off its queue and record it in the
 * inbound-event ledger (once, whatever the redelivery count). The sync workers read from here.
 */
import type { Job } from 'bullmq';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { Processors } from '../src/queue/worker-runner.ts';
import type { Db } from '../src/store/db.ts';
import { recordInboundEvent } from '../src/store/inbound-events.ts';

function dedupeKey(job: Job): string {
  if (!job.id) throw new Error('intake jobs always carry their deterministic id');
  return job.id;
}

/** Records a HubSpot webhook event. */
export async function takeInHubSpotEvent(db: Db, payload: JobPayload<'hubspotEvents'>, job: Job): Promise<boolean> {
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
  });
}

/** Records a Salesforce Outbound Message notification. */
export async function takeInSalesforceNotification(db: Db, payload: JobPayload<'salesforceEvents'>, job: Job): Promise<boolean> {
  const { notification } = payload;
  const modified = notification.fields.SystemModstamp ?? notification.fields.LastModifiedDate;
  return recordInboundEvent(db, {
    dedupeKey: dedupeKey(job),
    installationId: payload.installationId,
    source: 'salesforce',
    objectType: notification.sObjectType,
    objectId: notification.fields.Id ?? notification.id,
    occurredAt: modified ? new Date(modified) : new Date(payload.receivedAt),
    receivedAt: new Date(payload.receivedAt),
    payload: notification,
  });
}

/** The intake processors for the worker pool. */
export function intakeProcessors(db: Db): Processors {
  return {
    hubspotEvents: async (payload, job) => {
      await takeInHubSpotEvent(db, payload, job);
    },
    salesforceEvents: async (payload, job) => {
      await takeInSalesforceNotification(db, payload, job);
    },
  };
}

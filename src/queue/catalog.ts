/**
 * The one job catalog: queue name → versioned zod payload → job options → concurrency.
 * Producers and workers both import it, so a job is checked the same way on both ends.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/** A queue's contract. Bump `v` in the schema when the payload changes shape. */
export interface QueueDefinition<S extends z.ZodType> {
  readonly name: string;
  readonly schema: S;
  readonly jobOptions: JobsOptions;
  readonly concurrency: number;
}

function defineQueue<S extends z.ZodType>(definition: QueueDefinition<S>): QueueDefinition<S> {
  return definition;
}

// Completed jobs stay a day so a sender's retry of the same event (HubSpot and Salesforce both
// retry for ~24 h) meets its deterministic job id and is dropped as a duplicate.
const DEDUPE_WINDOW_S = 25 * 60 * 60;
const retried: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: DEDUPE_WINDOW_S, count: 200_000 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

// Flush jobs carry no events (the records wait in Redis sets), so nothing is lost when one is
// removed; they retry long enough to ride out a CRM outage or rate-limit storm.
const flushJobs: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 60 * 60, count: 10_000 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

const epochMs = z.number().int().nonnegative();

/** A HubSpot webhook event, as accepted by the receiver (ids kept as strings: they exceed 2^31). */
export const HubSpotEventSchema = z.object({
  eventId: z.string(),
  subscriptionId: z.string(),
  portalId: z.string(),
  appId: z.string().optional(),
  occurredAt: epochMs,
  subscriptionType: z.string(),
  attemptNumber: z.number().int().nonnegative(),
  objectId: z.string(),
  objectTypeId: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  changeFlag: z.string().optional(),
});
export type HubSpotEvent = z.infer<typeof HubSpotEventSchema>;

/** One Salesforce Outbound Message notification: the record's state when it was sent. */
export const SalesforceNotificationSchema = z.object({
  id: z.string(),
  sObjectType: z.string(),
  fields: z.record(z.string(), z.string().nullable()),
});
export type SalesforceNotification = z.infer<typeof SalesforceNotificationSchema>;

export const queues = {
  hubspotEvents: defineQueue({
    name: 'hubspot-events',
    schema: z.object({
      v: z.literal(1),
      installationId: z.string(),
      receivedAt: epochMs,
      event: HubSpotEventSchema,
    }),
    jobOptions: retried,
    concurrency: 16,
  }),
  salesforceEvents: defineQueue({
    name: 'salesforce-events',
    schema: z.object({
      v: z.literal(1),
      installationId: z.string(),
      receivedAt: epochMs,
      organizationId: z.string(),
      actionId: z.string(),
      notification: SalesforceNotificationSchema,
    }),
    jobOptions: retried,
    concurrency: 16,
  }),
  /** Drains an installation's HubSpot contacts waiting to be synced to Salesforce. */
  syncToSalesforce: defineQueue({
    name: 'sync-to-salesforce',
    schema: z.object({ v: z.literal(1), installationId: z.string() }),
    jobOptions: flushJobs,
    concurrency: 4,
  }),
  /** Drains an installation's Salesforce records waiting to be synced to HubSpot. */
  syncToHubSpot: defineQueue({
    name: 'sync-to-hubspot',
    schema: z.object({ v: z.literal(1), installationId: z.string() }),
    jobOptions: flushJobs,
    concurrency: 4,
  }),
} as const;

export type QueueKey = keyof typeof queues;
export type JobPayload<K extends QueueKey> = z.infer<(typeof queues)[K]['schema']>;

/** Every queue key, for the metrics collector, bull-board and shutdown. */
export const queueKeys = Object.keys(queues) as QueueKey[];

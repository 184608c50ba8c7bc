/**
 * The one job catalog: queue name → versioned zod payload → job options → concurrency.
 * Producers and workers both import it, so a job is checked the same way on both ends.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { MappingPairSchema } from '../domain/field-values.ts';

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

// A delivery is only a carrier: once split, its events are jobs of their own (kept for the dedupe
// window above), so a completed delivery is not kept for a day — a delivery of 100 events is ~30 KB,
// and a redelivery finds its events' jobs anyway. The last thousand stay for inspection.
const deliveryJobs: JobsOptions = {
  ...retried,
  removeOnComplete: { count: 1_000 },
};

// Flush jobs carry no events (the records wait in Redis sets), so nothing is lost when one is
// removed; they retry long enough to ride out a CRM outage or rate-limit storm.
const flushJobs: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 60 * 60, count: 10_000 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

// A clock's due check waits hours in Redis; once done it stays a week, so the same check
// enqueued again (a reschedule after a restart) meets its id and is not run twice.
const slaClockJobs: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 60 * 60, count: 100_000 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

// An alert is retried with doubling waits from 2 s, about 18 hours in all, before it fails and
// shows in the failed-job list.
const slaAlertJobs: JobsOptions = {
  attempts: 16,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: DEDUPE_WINDOW_S, count: 100_000 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

// An admin-triggered run (initial sync, attribution backfill, field fill) keeps its cursor in
// Postgres (`backfill_runs`), so a retried, delayed or stalled job resumes there; its job stays a week.
const runJobs: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 7 * 24 * 60 * 60 },
  removeOnFail: { age: 14 * 24 * 60 * 60 },
};

/** The payload of a run's job: the run (its cursor and progress are in Postgres). */
const RunPayloadSchema = z.object({ v: z.literal(1), installationId: z.string(), runId: z.string() });

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
  /** Merge events: the records merged and the record the merge made. */
  primaryObjectId: z.string().optional(),
  mergedObjectIds: z.array(z.string()).optional(),
  newObjectId: z.string().optional(),
});
export type HubSpotEvent = z.infer<typeof HubSpotEventSchema>;

/** One Salesforce Outbound Message notification: the record's state when it was sent. */
export const SalesforceNotificationSchema = z.object({
  id: z.string(),
  sObjectType: z.string(),
  fields: z.record(z.string(), z.string().nullable()),
});

/** One HubSpot event, once the intake worker has taken it out of its delivery. */
const HubSpotEventJobSchema = z.object({
  v: z.literal(1),
  installationId: z.string(),
  receivedAt: epochMs,
  event: HubSpotEventSchema,
});

/** One Salesforce notification, once the intake worker has taken it out of its Outbound Message. */
const SalesforceEventJobSchema = z.object({
  v: z.literal(1),
  installationId: z.string(),
  receivedAt: epochMs,
  organizationId: z.string(),
  actionId: z.string(),
  notification: SalesforceNotificationSchema,
});

/** The most events one delivery carries (HubSpot batches and Outbound Messages both stop at 100). */
export const MAX_EVENTS_PER_DELIVERY = 100;

const eventJobs = <S extends z.ZodType>(payload: S) =>
  z
    .array(z.object({ jobId: z.string().min(1), payload }))
    .min(1)
    .max(MAX_EVENTS_PER_DELIVERY);

export const queues = {
  /**
   * One acknowledged webhook delivery (its events of one installation), kept whole: the receiver
   * makes it durable with a single Redis write, and the intake worker splits it into one job per
   * event under the event's deterministic id (where a redelivered event meets its existing job and
   * is dropped).
   */
  webhookDeliveries: defineQueue({
    name: 'webhook-deliveries',
    schema: z.discriminatedUnion('source', [
      z.object({ v: z.literal(1), source: z.literal('hubspot'), installationId: z.string(), events: eventJobs(HubSpotEventJobSchema) }),
      z.object({
        v: z.literal(1),
        source: z.literal('salesforce'),
        installationId: z.string(),
        events: eventJobs(SalesforceEventJobSchema),
      }),
    ]),
    jobOptions: deliveryJobs,
    concurrency: 8,
  }),
  hubspotEvents: defineQueue({
    name: 'hubspot-events',
    schema: HubSpotEventJobSchema,
    jobOptions: retried,
    concurrency: 16,
  }),
  salesforceEvents: defineQueue({
    name: 'salesforce-events',
    schema: SalesforceEventJobSchema,
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
  /**
   * Stamps attribution on the contacts and Leads that predate the installation (admin-triggered).
   * The run's cursor lives in Postgres (`backfill_runs`), so a retried or stalled job resumes there.
   */
  attributionBackfill: defineQueue({
    name: 'attribution-backfill',
    schema: RunPayloadSchema,
    jobOptions: runJobs,
    concurrency: 1,
  }),
  /**
   * Fills the existing linked records after field mappings start syncing or change rule
   * (admin-triggered); `pairs` names the mappings it writes (absent: every syncing mapping). The
   * cursor lives in Postgres (`backfill_runs`, kind `field-fill`), so a retried or stalled job resumes there.
   */
  fieldFill: defineQueue({
    name: 'field-fill',
    schema: RunPayloadSchema.extend({ pairs: z.array(MappingPairSchema).optional() }),
    jobOptions: runJobs,
    concurrency: 1,
  }),
  /**
   * The initial sync of an installation (admin-triggered): links what existed before the install and
   * brings stages and attribution into agreement. The cursor lives in Postgres (`backfill_runs`,
   * kind `initial`), so a retried, delayed or stalled job resumes there.
   */
  initialSync: defineQueue({
    name: 'initial-sync',
    schema: RunPayloadSchema,
    jobOptions: runJobs,
    concurrency: 1,
  }),
  /** An SLA clock's due check (delayed to its due time), or the rescheduling of an installation's clocks after a policy change. */
  slaClocks: defineQueue({
    name: 'sla-clocks',
    schema: z.discriminatedUnion('kind', [
      z.object({
        v: z.literal(1),
        kind: z.literal('due'),
        installationId: z.string(),
        clockId: z.number().int().positive(),
        scheduleN: z.number().int().positive(),
      }),
      z.object({ v: z.literal(1), kind: z.literal('reschedule'), installationId: z.string() }),
      // The check of a follow-up rule (cadence or disposition) at its due instant.
      z.object({
        v: z.literal(1),
        kind: z.literal('followUp'),
        installationId: z.string(),
        clockId: z.number().int().positive(),
        rule: z.enum(['cadence', 'disposition']),
      }),
    ]),
    jobOptions: slaClockJobs,
    concurrency: 4,
  }),
  /** The signed alert of one SLA escalation (the URL and secret are read from the settings when sent). */
  slaAlerts: defineQueue({
    name: 'sla-alerts',
    schema: z.object({ v: z.literal(1), installationId: z.string(), escalationId: z.number().int().positive() }),
    jobOptions: slaAlertJobs,
    concurrency: 4,
  }),
  /**
   * The signed alert that an installation's Salesforce API budget is 80 % used: one per budget
   * period (the job id names the period), retried like the SLA alerts.
   */
  apiBudgetAlerts: defineQueue({
    name: 'api-budget-alerts',
    schema: z.object({
      v: z.literal(1),
      installationId: z.string(),
      used: z.number().int().nonnegative(),
      budget: z.number().int().positive(),
      at: epochMs,
    }),
    jobOptions: slaAlertJobs,
    concurrency: 2,
  }),
  /**
   * The check of an installation's marketing commitments (a job scheduler repeats it): paces them
   * and sends the alert of each one at risk or behind, once per period (commitment_alerts).
   */
  commitmentChecks: defineQueue({
    name: 'commitment-checks',
    schema: z.object({ v: z.literal(1), installationId: z.string() }),
    jobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 1_000 },
    },
    concurrency: 2,
  }),
  /**
   * The review digest: a `tick` (one job scheduler for the deployment) sends each installation's
   * digest whose slot is due, once per slot (review_digests); a `test` is the settings page's
   * "Send now". A channel to retry does not fail the tick: the next tick, minutes later, takes it up.
   */
  reviewDigests: defineQueue({
    name: 'review-digests',
    schema: z.discriminatedUnion('kind', [
      z.object({ v: z.literal(1), kind: z.literal('tick') }),
      z.object({ v: z.literal(1), kind: z.literal('test'), installationId: z.string(), requestId: z.string().min(1) }),
    ]),
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 1_000 },
    },
    concurrency: 1,
  }),
  /**
   * The GDPR erasure of one HubSpot contact (`contact.privacyDeletion`, src/sync/privacy.ts), under
   * the job id `privacy-<installation>-<contact>`: a repeated event meets its job. Retried for about
   * a day (Salesforce or the database down); each step is idempotent, so a retry redoes no harm.
   */
  privacyErasures: defineQueue({
    name: 'privacy-erasures',
    schema: z.object({ v: z.literal(1), installationId: z.string(), hubspotContactId: z.string().regex(/^\d+$/), requestedAt: epochMs }),
    jobOptions: {
      attempts: 17,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 7 * 24 * 60 * 60 },
      removeOnFail: false,
    },
    concurrency: 2,
  }),
  /** One reconciliation pass per installation (a job scheduler repeats it). */
  reconcile: defineQueue({
    name: 'reconcile',
    schema: z.object({ v: z.literal(1), installationId: z.string() }),
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 1_000 },
    },
    concurrency: 2,
  }),
} as const;

export type QueueKey = keyof typeof queues;
export type JobPayload<K extends QueueKey> = z.infer<(typeof queues)[K]['schema']>;

/** Every queue key, for the metrics collector, bull-board and shutdown. */
export const queueKeys = Object.keys(queues) as QueueKey[];

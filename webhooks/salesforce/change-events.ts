/**
 * The pull edge of the Salesforce intake: change data capture events (Pub/Sub API) become the same
 * `salesforceEvents` jobs an Outbound Message becomes (webhooks/salesforce/receiver.ts), stored
 * durably through the same delivery queue, so the intake worker routes both alike.
 *
 * - One job per changed record, under `sf-<installation>-cdc-<record>-<transactionKey>-<sequence>`:
 *   the commit and the event's place in it name one change, so an event handed over again (a restart
 *   between the enqueue and the stored position) meets its job and is dropped.
 * - The app's own writes (`changeOrigin` names its client) are dropped here, with a `skip_echo` line.
 * - A gap event names records whose change could not be described: each is routed like a change
 *   without field data, so the drain reads it afresh. A deletion, an undeletion or an overflow (too
 *   many changes in one transaction to list) asks for a reconciler pass instead, which reads the
 *   recycle bin and everything changed since its watermark.
 * - Push and pull together (mode `both`): an Outbound Message and a change event for the same change
 *   are two jobs, each marking the record pending; the marks coalesce into one drain when they
 *   arrive within the coalescing window, and a later drain finds both sides already agreeing (the
 *   drains compare values before writing), so either way the change is written once.
 */
import { hash } from 'node:crypto';
import type { ChangeEventMessage, RecordChange } from '../../src/crm/salesforce/pubsub/change-events.ts';
import type { NewJob, Producer } from '../../src/queue/producer.ts';
import type { Queryable } from '../../src/store/db.ts';
import { writeSyncLog, type SyncLogEntry } from '../../src/store/sync-log.ts';
import { byInstallation, enqueueDurably } from '../intake.ts';
import { salesforceJobId } from './receiver.ts';

const RECORD_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Where a batch of change events came from. */
export interface ChangeFeedSource {
  installationId: string;
  organizationId: string;
  /** The channel, e.g. `/data/LeadChangeEvent`. */
  channel: string;
}

/** What a batch of change events asks of the app. */
export interface ChangeEventPlan {
  jobs: NewJob<'salesforceEvents'>[];
  /** The app's own writes coming back: not synced again. */
  echoes: RecordChange[];
  /** Why a reconciler pass is needed, when one is. */
  reconcile: string[];
}

/** The job id of one record's change in one event. */
export function changeEventJobId(installationId: string, recordId: string, event: ChangeEventMessage): string {
  return salesforceJobId(installationId, `cdc-${recordId}-${event.transactionKey}-${event.sequenceNumber}`);
}

/** A change event's field values as an Outbound Message carries them: text, or null. */
function notificationFields(event: ChangeEventMessage, recordId: string): Record<string, string | null> {
  const fields: Record<string, string | null> = {};
  if (event.kind === 'change') {
    for (const [name, value] of Object.entries(event.fields)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[name] = String(value);
    }
    for (const name of event.nulledFields) fields[name] = null;
  }
  // The header says who committed and when; audit fields travel as epoch numbers in the event body,
  // so these two are taken from the header in the form an Outbound Message gives them.
  fields.Id = recordId;
  fields.LastModifiedById = event.commitUser;
  fields.LastModifiedDate = new Date(event.commitTimestamp).toISOString();
  delete fields.SystemModstamp;
  return fields;
}

/** Sorts a batch into intake jobs, echoes and reconciler requests. Pure. */
export function planChangeEvents(source: ChangeFeedSource, events: readonly ChangeEventMessage[], receivedAt: number): ChangeEventPlan {
  const plan: ChangeEventPlan = { jobs: [], echoes: [], reconcile: [] };
  for (const event of events) {
    if (event.kind === 'change' && event.echo) {
      plan.echoes.push(event);
      continue;
    }
    const needsReconciler =
      event.changeType === 'DELETE' ||
      event.changeType === 'UNDELETE' ||
      event.changeType === 'GAP_DELETE' ||
      event.changeType === 'GAP_UNDELETE' ||
      event.changeType === 'GAP_OVERFLOW' ||
      event.recordIds.some((id) => !RECORD_ID.test(id));
    if (needsReconciler) {
      plan.reconcile.push(`${event.changeType} of ${event.entityName}`);
      continue;
    }
    for (const recordId of event.recordIds) {
      plan.jobs.push({
        jobId: changeEventJobId(source.installationId, recordId, event),
        payload: {
          v: 1,
          installationId: source.installationId,
          receivedAt,
          organizationId: source.organizationId,
          actionId: source.channel,
          notification: { id: event.eventId, sObjectType: event.entityName, fields: notificationFields(event, recordId) },
        },
      });
    }
  }
  return plan;
}

/** Thrown when the queue did not take a batch: its position is not stored, so it comes again. */
export class ChangeEventsNotTaken extends Error {}

export interface ChangeEventIntakeDeps {
  producer: Producer;
  db: Queryable;
  budgetMs: number;
}

const deliveryChunk = 100;

/**
 * Takes a batch for good: its jobs stored durably (as deliveries of at most 100 events, like an
 * Outbound Message), a reconciler pass requested when the batch needs one, and the sync log told.
 * Throws ChangeEventsNotTaken when the queue is unavailable.
 */
export async function takeChangeEvents(
  deps: ChangeEventIntakeDeps,
  source: ChangeFeedSource,
  events: readonly ChangeEventMessage[],
  receivedAt: number,
): Promise<ChangeEventPlan> {
  const plan = planChangeEvents(source, events, receivedAt);
  for (let start = 0; start < plan.jobs.length; start += deliveryChunk) {
    const chunk = plan.jobs.slice(start, start + deliveryChunk);
    const result = await enqueueDurably(
      deps,
      byInstallation(chunk).map(([installationId, jobs]) => ({ v: 1, source: 'salesforce', installationId, events: jobs })),
      0,
    );
    if (result.kind !== 'accepted') throw new ChangeEventsNotTaken(result.kind === 'unavailable' ? result.message : result.reason);
  }
  const lines: SyncLogEntry[] = plan.echoes.flatMap((event) =>
    event.recordIds.map((recordId) => ({
      installationId: source.installationId,
      recordRef: `salesforce:${event.entityName}:${recordId}`,
      level: 'info' as const,
      action: 'skip_echo',
      reason: "change event written by the app itself (changeOrigin names its client): the app's own write, not synced back",
    })),
  );
  if (plan.reconcile.length > 0) {
    const first = events.find((event) => plan.reconcile.includes(`${event.changeType} of ${event.entityName}`));
    await requestReconcilePass(deps.producer, source, first ? first.replayId : Buffer.alloc(0));
    lines.push({
      installationId: source.installationId,
      recordRef: feedRecordRef(source.channel),
      level: 'info',
      action: 'feed_reconcile',
      reason: `${[...new Set(plan.reconcile)].join(', ')}: a reconciler pass reads what the change feed cannot say`,
    });
  }
  await writeSyncLog(deps.db, lines);
  return plan;
}

/** The sync log's name for a channel of the installation's change feed. */
export function feedRecordRef(channel: string): string {
  return `salesforce:feed:${channel}`;
}

/**
 * Queues one reconciler pass for the installation, under an id named after what asked for it (the
 * same batch handed over again asks once).
 */
export async function requestReconcilePass(producer: Producer, source: ChangeFeedSource, cause: Buffer | string): Promise<void> {
  const digest = hash('sha256', `${source.channel}\n${typeof cause === 'string' ? cause : cause.toString('hex')}`).slice(0, 24);
  await producer.enqueue('reconcile', [
    {
      jobId: `feed-reconcile-${source.installationId.replace(/[^A-Za-z0-9_-]/g, '_')}-${digest}`,
      payload: { v: 1, installationId: source.installationId },
    },
  ]);
}

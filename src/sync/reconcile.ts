/**
 * The reconciler closes the gaps webhooks leave: per installation it asks both CRMs for records
 * modified since a watermark (minus a lookback window), compares each modification time with the
 * newest event the app received for that record, and marks pending what no event covered. A lost
 * webhook becomes a delay, not a loss.
 */
import type { HubSpotContact, HubSpotPort, SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import type { Queryable } from '../store/db.ts';
import { recordInboundEvent } from '../store/inbound-events.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, salesforceRef } from './context.ts';
import type { Direction } from './pending-set.ts';

export interface ReconcileDeps {
  db: Queryable;
  installationId: string;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  /** Marks records pending and schedules their drain. */
  markPending(direction: Direction, keys: string[]): Promise<void>;
  now: () => Date;
  /** How far behind the watermark each pass looks again (clock skew, late commits). */
  lookbackMs: number;
  /** Records read per stream and pass. */
  pageLimit: number;
}

export interface ReconcileResult {
  stream: string;
  compared: number;
  caught: number;
}

interface Watermark {
  at: Date;
  lastId: string;
}

async function loadWatermark(db: Queryable, installationId: string, stream: string): Promise<Watermark | null> {
  const rows = await db.query<{ watermark: Date; last_id: string }>('SELECT watermark, last_id FROM reconcile_watermarks WHERE installation_id = $1 AND stream = $2', [installationId, stream]);
  const row = rows[0];
  return row ? { at: row.watermark, lastId: row.last_id } : null;
}

async function saveWatermark(db: Queryable, installationId: string, stream: string, mark: Watermark, caught: number): Promise<void> {
  await db.query(
    `INSERT INTO reconcile_watermarks (installation_id, stream, watermark, last_id, caught) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (installation_id, stream) DO UPDATE SET watermark = EXCLUDED.watermark, last_id = EXCLUDED.last_id,
       caught = reconcile_watermarks.caught + EXCLUDED.caught, updated_at = now()`,
    [installationId, stream, mark.at, mark.lastId, caught],
  );
}

/** The newest event time the app received per record id. */
async function newestEvents(db: Queryable, installationId: string, source: 'hubspot' | 'salesforce', ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ object_id: string; newest: Date }>(
    "SELECT object_id, max(occurred_at) AS newest FROM inbound_events WHERE installation_id = $1 AND source IN ($2, 'reconciler') AND object_id = ANY($3) GROUP BY object_id",
    [installationId, source, ids],
  );
  return new Map(rows.map((r) => [r.object_id, r.newest.getTime()]));
}

/** Records the catch as an event of its own, so the next pass's lookback does not catch it again. */
async function recordCatches(db: Queryable, installationId: string, objectType: string, caught: readonly { id: string; at: number }[]): Promise<void> {
  for (const { id, at } of caught) {
    await recordInboundEvent(db, { dedupeKey: `rc-${objectType}-${id}-${at}`, installationId, source: 'reconciler', objectType, objectId: id, occurredAt: new Date(at), receivedAt: new Date(), payload: { caughtBy: 'reconciler' } });
  }
}

/** Records whose modification no received event covers. */
function uncovered<T>(records: readonly T[], idOf: (r: T) => string, modifiedOf: (r: T) => number, newest: Map<string, number>): T[] {
  return records.filter((record) => {
    const seen = newest.get(idOf(record));
    return seen === undefined || seen < modifiedOf(record);
  });
}

/** One pass over HubSpot contacts. */
export async function reconcileHubSpot(deps: ReconcileDeps): Promise<ReconcileResult> {
  const stream = 'hubspot:contacts';
  const mark = await loadWatermark(deps.db, deps.installationId, stream);
  const since = new Date((mark?.at.getTime() ?? deps.now().getTime() - deps.lookbackMs) - deps.lookbackMs);
  const contacts: HubSpotContact[] = [];
  let after: string | undefined;
  do {
    const page = await deps.hubspot.findContactsChangedSince(since, ['lastmodifieddate'], after);
    contacts.push(...page.contacts);
    after = page.after;
  } while (after !== undefined && contacts.length < deps.pageLimit);
  const modified = (c: HubSpotContact) => Date.parse(c.properties.lastmodifieddate ?? c.updatedAt);
  const newest = await newestEvents(deps.db, deps.installationId, 'hubspot', contacts.map((c) => c.id));
  const missed = uncovered(contacts, (c) => c.id, modified, newest);
  if (missed.length > 0) {
    await deps.markPending('to-salesforce', missed.map((c) => c.id));
    await recordCatches(deps.db, deps.installationId, 'contact', missed.map((c) => ({ id: c.id, at: modified(c) })));
    await writeSyncLog(deps.db, missed.map((c) => ({ installationId: deps.installationId, recordRef: contactRef(c.id), level: 'warn' as const, action: 'reconcile_caught', reason: `modified at ${new Date(modified(c)).toISOString()} with no webhook received for it: synced by the reconciler` })));
  }
  const last = contacts.at(-1);
  const next: Watermark = last ? { at: new Date(Math.max(modified(last), mark?.at.getTime() ?? 0)), lastId: last.id } : (mark ?? { at: since, lastId: '' });
  await saveWatermark(deps.db, deps.installationId, stream, next, missed.length);
  return { stream, compared: contacts.length, caught: missed.length };
}

/** One pass over a Salesforce object (Lead or Opportunity), paged by (SystemModstamp, Id). */
export async function reconcileSalesforce(deps: ReconcileDeps, type: 'Lead' | 'Opportunity'): Promise<ReconcileResult> {
  const stream = `salesforce:${type}`;
  const mark = await loadWatermark(deps.db, deps.installationId, stream);
  const since = new Date((mark?.at.getTime() ?? deps.now().getTime() - deps.lookbackMs) - deps.lookbackMs);
  const records = await deps.salesforce.findChangedSince(type, ['Id', 'SystemModstamp', 'LastModifiedById'], since, deps.pageLimit);
  const modified = (r: SalesforceRecord) => Date.parse(String(r.SystemModstamp).replace(/\+0000$/, 'Z'));
  const newest = await newestEvents(deps.db, deps.installationId, 'salesforce', records.map((r) => r.Id));
  const missed = uncovered(records, (r) => r.Id, modified, newest);
  if (missed.length > 0) {
    await deps.markPending('to-hubspot', missed.map((r) => `${type}:${r.Id}`));
    await recordCatches(deps.db, deps.installationId, type, missed.map((r) => ({ id: r.Id, at: modified(r) })));
    await writeSyncLog(deps.db, missed.map((r) => ({ installationId: deps.installationId, recordRef: salesforceRef(type, r.Id), level: 'warn' as const, action: 'reconcile_caught', reason: `modified at ${new Date(modified(r)).toISOString()} with no Outbound Message received for it: synced by the reconciler` })));
  }
  const last = records.at(-1);
  const next: Watermark = last ? { at: new Date(Math.max(modified(last), mark?.at.getTime() ?? 0)), lastId: last.Id } : (mark ?? { at: since, lastId: '' });
  await saveWatermark(deps.db, deps.installationId, stream, next, missed.length);
  return { stream, compared: records.length, caught: missed.length };
}

/**
 * The ledger of inbound events the workers took in; its primary key (installation, dedupe key)
 * makes a redelivery a no-op within one installation and never across two.
 */
import type { Queryable } from './db.ts';
import { SYNC_LOG_COLUMNS, syncLogRows, type SyncLogEntry } from './sync-log.ts';

export interface InboundEvent {
  dedupeKey: string;
  installationId: string;
  source: 'hubspot' | 'salesforce' | 'reconciler' | 'backfill';
  objectType: string;
  objectId: string;
  occurredAt: Date;
  receivedAt: Date;
  payload: unknown;
  /** The app's own write coming back (an echo): recorded, but news of no one's change. */
  ownWrite?: boolean;
}

/**
 * Records an event; resolves false when the installation already recorded it (same dedupe key).
 * `log`: sync log entries about it, written in the same statement and only with a new event (a
 * redelivery logs nothing twice; one round trip per event under a burst of echoes).
 */
export async function recordInboundEvent(db: Queryable, event: InboundEvent, log: readonly SyncLogEntry[] = []): Promise<boolean> {
  const values = [
    event.dedupeKey,
    event.installationId,
    event.source,
    event.objectType,
    event.objectId,
    event.occurredAt,
    event.receivedAt,
    JSON.stringify(event.payload),
    event.ownWrite === true,
  ];
  const insert = `INSERT INTO inbound_events (dedupe_key, installation_id, source, object_type, object_id, occurred_at, received_at, payload, own_write)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (installation_id, dedupe_key) DO NOTHING RETURNING dedupe_key`;
  if (log.length === 0) return (await db.query(insert, values)).length === 1;
  const entries = syncLogRows(log, values.length + 1);
  const rows = await db.query<{ n: number }>(
    `WITH event AS (${insert}),
          logged AS (INSERT INTO sync_log (${SYNC_LOG_COLUMNS}) SELECT * FROM (VALUES ${entries.rows}) AS entry WHERE EXISTS (SELECT 1 FROM event))
     SELECT count(*)::int AS n FROM event`,
    [...values, ...entries.values],
  );
  return rows[0]?.n === 1;
}

/** The newest Salesforce notification's fields per record (what the last Outbound Message said). */
export async function lastNotifiedFields(
  db: Queryable,
  installationId: string,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ object_id: string; payload: { fields?: Record<string, unknown> } }>(
    "SELECT DISTINCT ON (object_id) object_id, payload FROM inbound_events WHERE installation_id = $1 AND source = 'salesforce' AND object_id = ANY($2) ORDER BY object_id, occurred_at DESC",
    [installationId, ids],
  );
  return new Map(rows.map((r) => [r.object_id, r.payload.fields ?? {}]));
}

/**
 * The newest event time the app received per record id: `news` of changes (the reconciler's own
 * catches included), and apart from it `ownWrites`, the newest of the app's own writes coming back.
 */
export async function newestEvents(
  db: Queryable,
  installationId: string,
  source: 'hubspot' | 'salesforce',
  ids: readonly string[],
): Promise<{ news: Map<string, number>; ownWrites: Map<string, number> }> {
  if (ids.length === 0) return { news: new Map(), ownWrites: new Map() };
  const rows = await db.query<{ object_id: string; own_write: boolean; newest: Date }>(
    "SELECT object_id, own_write, max(occurred_at) AS newest FROM inbound_events WHERE installation_id = $1 AND source IN ($2, 'reconciler') AND object_id = ANY($3) GROUP BY object_id, own_write",
    [installationId, source, ids],
  );
  const pick = (own: boolean) => new Map(rows.filter((r) => r.own_write === own).map((r) => [r.object_id, r.newest.getTime()]));
  return { news: pick(false), ownWrites: pick(true) };
}

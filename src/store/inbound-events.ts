/**
 * The ledger of inbound events the workers took in; its primary key (installation, dedupe key)
 * makes a redelivery a no-op within one installation and never across two.
 */
import type { Queryable } from './db.ts';

export interface InboundEvent {
  dedupeKey: string;
  installationId: string;
  source: 'hubspot' | 'salesforce' | 'reconciler' | 'backfill';
  objectType: string;
  objectId: string;
  occurredAt: Date;
  receivedAt: Date;
  payload: unknown;
}

/** Records an event; resolves false when the installation already recorded it (same dedupe key). */
export async function recordInboundEvent(db: Queryable, event: InboundEvent): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO inbound_events (dedupe_key, installation_id, source, object_type, object_id, occurred_at, received_at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (installation_id, dedupe_key) DO NOTHING RETURNING dedupe_key`,
    [
      event.dedupeKey,
      event.installationId,
      event.source,
      event.objectType,
      event.objectId,
      event.occurredAt,
      event.receivedAt,
      JSON.stringify(event.payload),
    ],
  );
  return rows.length === 1;
}

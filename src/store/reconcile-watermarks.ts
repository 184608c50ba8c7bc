/** Where each reconciler stream got to: the newest modification time it has compared, per installation. */
import type { Queryable } from './db.ts';

/** A stream's position: the newest modification time compared, and the id compared last at that time. */
export interface Watermark {
  at: Date;
  lastId: string;
}

/** The stream's stored position, or null before its first pass. */
export async function loadWatermark(db: Queryable, installationId: string, stream: string): Promise<Watermark | null> {
  const rows = await db.query<{ watermark: Date; last_id: string }>(
    'SELECT watermark, last_id FROM reconcile_watermarks WHERE installation_id = $1 AND stream = $2',
    [installationId, stream],
  );
  const row = rows[0];
  return row ? { at: row.watermark, lastId: row.last_id } : null;
}

/** Stores the stream's position and adds the records the pass caught to its count. */
export async function saveWatermark(db: Queryable, installationId: string, stream: string, mark: Watermark, caught: number): Promise<void> {
  await db.query(
    `INSERT INTO reconcile_watermarks (installation_id, stream, watermark, last_id, caught) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (installation_id, stream) DO UPDATE SET watermark = EXCLUDED.watermark, last_id = EXCLUDED.last_id,
       caught = reconcile_watermarks.caught + EXCLUDED.caught, updated_at = now()`,
    [installationId, stream, mark.at, mark.lastId, caught],
  );
}

/**
 * The admin's controls over an installation's sync, kept in Postgres so they survive restarts:
 * pauses per direction, and a side disconnected on its own. A held direction's drains wait; its
 * records stay pending in Redis.
 */
import type { Queryable } from './db.ts';

/** A direction of the sync, as the pending sets and drains name it. */
export type SyncDirection = 'to-salesforce' | 'to-hubspot';

/** Both directions, in the order the dashboard shows them. */
export const SYNC_DIRECTIONS: readonly SyncDirection[] = ['to-salesforce', 'to-hubspot'];

export interface SyncPause {
  direction: SyncDirection;
  pausedAt: Date;
  /** Who paused it: `dashboard` (a signed-in session) or `api` (the bearer token). */
  pausedBy: string;
}

/** A CRM side of an installation. */
export type CrmSide = 'hubspot' | 'salesforce';

/** Why a direction's drains wait, or null when they may run. A disconnected side holds both directions: each reads both CRMs. */
export type SyncHold = { kind: 'paused'; since: Date; by: string } | { kind: 'disconnected'; side: CrmSide; since: Date };

interface PauseRow extends Record<string, unknown> {
  direction: SyncDirection;
  paused_at: Date | string;
  paused_by: string;
}

const fromRow = (row: PauseRow): SyncPause => ({ direction: row.direction, pausedAt: new Date(row.paused_at), pausedBy: row.paused_by });

/** Pauses directions; returns the ones that were not paused before (a repeated pause keeps its first time). */
export async function pauseSync(
  db: Queryable,
  installationId: string,
  directions: readonly SyncDirection[],
  by: string,
  at: Date,
): Promise<SyncDirection[]> {
  const paused: SyncDirection[] = [];
  for (const direction of directions) {
    const rows = await db.query<{ direction: SyncDirection }>(
      'INSERT INTO sync_pauses (installation_id, direction, paused_at, paused_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING direction',
      [installationId, direction, at, by],
    );
    if (rows[0]) paused.push(rows[0].direction);
  }
  return paused;
}

/** Resumes directions; returns the ones that were paused. */
export async function resumeSync(db: Queryable, installationId: string, directions: readonly SyncDirection[]): Promise<SyncDirection[]> {
  const rows = await db.query<{ direction: SyncDirection }>(
    'DELETE FROM sync_pauses WHERE installation_id = $1 AND direction = ANY($2::text[]) RETURNING direction',
    [installationId, [...directions]],
  );
  return SYNC_DIRECTIONS.filter((direction) => rows.some((row) => row.direction === direction));
}

/** The paused directions of an installation. */
export async function syncPauses(db: Queryable, installationId: string): Promise<SyncPause[]> {
  const rows = await db.query<PauseRow>(
    'SELECT direction, paused_at, paused_by FROM sync_pauses WHERE installation_id = $1 ORDER BY direction DESC',
    [installationId],
  );
  return rows.map(fromRow);
}

interface HoldRow extends Record<string, unknown> {
  paused_at: Date | string | null;
  paused_by: string | null;
  hubspot_disconnected_at: Date | string | null;
  salesforce_disconnected_at: Date | string | null;
}

/** Why the drains of a direction wait now, or null (one query: drains ask before each round). */
export async function syncHold(db: Queryable, installationId: string, direction: SyncDirection): Promise<SyncHold | null> {
  const rows = await db.query<HoldRow>(
    `SELECT p.paused_at, p.paused_by, i.hubspot_disconnected_at, i.salesforce_disconnected_at
     FROM installations i LEFT JOIN sync_pauses p ON p.installation_id = i.id AND p.direction = $2 WHERE i.id = $1`,
    [installationId, direction],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.hubspot_disconnected_at !== null) return { kind: 'disconnected', side: 'hubspot', since: new Date(row.hubspot_disconnected_at) };
  if (row.salesforce_disconnected_at !== null)
    return { kind: 'disconnected', side: 'salesforce', since: new Date(row.salesforce_disconnected_at) };
  return row.paused_at !== null ? { kind: 'paused', since: new Date(row.paused_at), by: row.paused_by ?? '' } : null;
}

/** Whether any direction of an installation is held (SLA due checks wait then: see workers/sla.worker.ts). */
export async function anySyncHold(db: Queryable, installationId: string): Promise<boolean> {
  const rows = await db.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM sync_pauses WHERE installation_id = $1)
       OR EXISTS (SELECT 1 FROM installations WHERE id = $1 AND (hubspot_disconnected_at IS NOT NULL OR salesforce_disconnected_at IS NOT NULL)) AS held`,
    [installationId],
  );
  return rows[0]?.held === true;
}

/** When each side was disconnected by an admin (null: it was not). */
export async function disconnectedSides(db: Queryable, installationId: string): Promise<Record<CrmSide, Date | null>> {
  const rows = await db.query<HoldRow>('SELECT hubspot_disconnected_at, salesforce_disconnected_at FROM installations WHERE id = $1', [
    installationId,
  ]);
  const row = rows[0];
  const at = (value: Date | string | null | undefined) => (value === null || value === undefined ? null : new Date(value));
  return { hubspot: at(row?.hubspot_disconnected_at), salesforce: at(row?.salesforce_disconnected_at) };
}

const DISCONNECTED_COLUMNS: Readonly<Record<CrmSide, string>> = {
  hubspot: 'hubspot_disconnected_at',
  salesforce: 'salesforce_disconnected_at',
};

/** Records that an admin disconnected one side (its sealed grant is cleared by the vault). */
export async function markDisconnected(db: Queryable, installationId: string, side: CrmSide, at: Date): Promise<void> {
  await db.query(`UPDATE installations SET ${DISCONNECTED_COLUMNS[side]} = $2, updated_at = now() WHERE id = $1`, [installationId, at]);
}

/** The side is connected again: the sync it held may run. */
export async function clearDisconnected(db: Queryable, installationId: string, side: CrmSide): Promise<void> {
  await db.query(`UPDATE installations SET ${DISCONNECTED_COLUMNS[side]} = NULL, updated_at = now() WHERE id = $1`, [installationId]);
}

/**
 * The admin's controls over an installation's sync, kept in Postgres so they survive restarts:
 * pauses per direction. A held direction's drains wait; its records stay pending in Redis.
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

/** Why a direction's drains wait, or null when they may run. */
export type SyncHold = { kind: 'paused'; since: Date; by: string };

interface PauseRow extends Record<string, unknown> {
  direction: SyncDirection;
  paused_at: Date | string;
  paused_by: string;
}

const fromRow = (row: PauseRow): SyncPause => ({ direction: row.direction, pausedAt: new Date(row.paused_at), pausedBy: row.paused_by });

/** Pauses directions; returns the ones that were not paused before (a repeated pause keeps its first time). */
export async function pauseSync(db: Queryable, installationId: string, directions: readonly SyncDirection[], by: string, at: Date): Promise<SyncDirection[]> {
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
  const rows = await db.query<{ direction: SyncDirection }>('DELETE FROM sync_pauses WHERE installation_id = $1 AND direction = ANY($2::text[]) RETURNING direction', [installationId, [...directions]]);
  return SYNC_DIRECTIONS.filter((direction) => rows.some((row) => row.direction === direction));
}

/** The paused directions of an installation. */
export async function syncPauses(db: Queryable, installationId: string): Promise<SyncPause[]> {
  const rows = await db.query<PauseRow>('SELECT direction, paused_at, paused_by FROM sync_pauses WHERE installation_id = $1 ORDER BY direction DESC', [installationId]);
  return rows.map(fromRow);
}

/** Why the drains of a direction wait now, or null (one query: drains ask before each round). */
export async function syncHold(db: Queryable, installationId: string, direction: SyncDirection): Promise<SyncHold | null> {
  const rows = await db.query<PauseRow>('SELECT direction, paused_at, paused_by FROM sync_pauses WHERE installation_id = $1 AND direction = $2', [installationId, direction]);
  const pause = rows[0];
  return pause ? { kind: 'paused', since: new Date(pause.paused_at), by: pause.paused_by } : null;
}

/** Whether any direction of an installation is held (SLA due checks wait then: see workers/sla.worker.ts). */
export async function anySyncHold(db: Queryable, installationId: string): Promise<boolean> {
  const rows = await db.query<{ held: boolean }>('SELECT EXISTS (SELECT 1 FROM sync_pauses WHERE installation_id = $1) AS held', [installationId]);
  return rows[0]?.held === true;
}

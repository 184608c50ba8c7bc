/**
 * `backfill_runs`: the resumable admin-triggered runs (attribution backfill, initial sync). One
 * active run per installation and kind; progress is counted per step with the working time, so
 * rate and ETA leave out waits for rate limits and restarts.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './db.ts';

/** A run's row: the shared cursor and counters, and the counters only the initial sync uses (0 otherwise). */
export interface BackfillRunRow extends Record<string, unknown> {
  id: string;
  installation_id: string;
  kind: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  phase: 'contacts' | 'leads' | 'revenue' | 'done';
  cursor: string | null;
  done: number;
  total: number | null;
  linked: number;
  stages_aligned: number;
  unmatched: number;
  stamped_contacts: number;
  stamped_leads: number;
  failed: number;
  active_ms: number;
  error: string | null;
}

/** The columns of `BackfillRunRow`, for RETURNING and SELECT. */
export const BACKFILL_RUN_COLUMNS =
  'id, installation_id, kind, status, phase, cursor, done, total, linked, stages_aligned, unmatched, stamped_contacts, stamped_leads, failed, active_ms, error';

/** A run by id, or undefined. */
export async function loadBackfillRun(db: Queryable, runId: string): Promise<BackfillRunRow | undefined> {
  return (await db.query<BackfillRunRow>(`SELECT ${BACKFILL_RUN_COLUMNS} FROM backfill_runs WHERE id = $1`, [runId]))[0];
}

/** Creates a run of a kind for an installation, or returns the one already queued or running (one at a time). */
export async function createBackfillRun(db: Queryable, installationId: string, kind: string, firstPhase: string): Promise<string> {
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO backfill_runs (id, installation_id, kind, status, phase) VALUES ($1, $2, $3, 'queued', $4)
     ON CONFLICT (installation_id, kind) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id`,
    [randomUUID(), installationId, kind, firstPhase],
  );
  const runId =
    inserted[0]?.id ??
    (
      await db.query<{ id: string }>(
        "SELECT id FROM backfill_runs WHERE installation_id = $1 AND kind = $2 AND status IN ('queued', 'running')",
        [installationId, kind],
      )
    )[0]?.id;
  if (runId === undefined) throw new Error(`could not start a ${kind} run for installation ${installationId}`);
  return runId;
}

/** Marks a run failed with the reason (after its last attempt, or a refusal retrying cannot fix). */
export async function failBackfillRun(db: Queryable, runId: string, reason: string): Promise<void> {
  await db.query(
    "UPDATE backfill_runs SET status = 'failed', error = $2, updated_at = now(), finished_at = now() WHERE id = $1 AND status IN ('queued', 'running')",
    [runId, reason.slice(0, 2000)],
  );
}

/** Records per second of working time and the seconds left at that rate (pure; null while unknown). */
export function rateAndEta(run: { status: string; done: number | string; total: number | string | null; active_ms: number | string }): {
  done: number;
  total: number | null;
  ratePerS: number;
  etaS: number | null;
} {
  const done = Number(run.done);
  const total = run.total === null ? null : Number(run.total);
  const seconds = Number(run.active_ms) / 1000;
  const ratePerS = seconds > 0 ? Math.round((done / seconds) * 100) / 100 : 0;
  const left = total === null ? null : Math.max(0, total - done);
  const etaS = run.status === 'completed' ? 0 : left === null || ratePerS <= 0 ? null : Math.ceil(left / ratePerS);
  return { done, total, ratePerS, etaS };
}

/** Marks a run as running (a worker took it, or took it again after a restart). */
export async function markBackfillRunRunning(db: Queryable, runId: string): Promise<void> {
  await db.query("UPDATE backfill_runs SET status = 'running', updated_at = now() WHERE id = $1", [runId]);
}

/** Sets a run's total once it is counted. */
export async function setBackfillRunTotal(db: Queryable, runId: string, total: number): Promise<void> {
  await db.query('UPDATE backfill_runs SET total = $2, updated_at = now() WHERE id = $1', [runId, total]);
}

/** What one step did, added to its run's counters with the cursor. */
export interface StepCounts {
  processed: number;
  linked?: number;
  stagesAligned?: number;
  unmatched?: number;
  stampedContacts: number;
  stampedLeads: number;
  failed: number;
}

/** What one step of a run did, and where the next step starts. */
interface BackfillStep extends StepCounts {
  phase: string;
  cursor: string | null;
  activeMs: number;
  /** A recount of the total, when the step made one. */
  total?: number | null;
}

/** Adds one step's counts to its run and moves the run's cursor; returns the run as saved. */
export async function advanceBackfillRun(db: Queryable, runId: string, step: BackfillStep): Promise<BackfillRunRow | undefined> {
  const rows = await db.query<BackfillRunRow>(
    `UPDATE backfill_runs SET phase = $2, cursor = $3, done = done + $4, linked = linked + $5, stages_aligned = stages_aligned + $6, unmatched = unmatched + $7,
       stamped_contacts = stamped_contacts + $8, stamped_leads = stamped_leads + $9, failed = failed + $10, active_ms = active_ms + $11,
       total = COALESCE($12, total), updated_at = now()
     WHERE id = $1 RETURNING ${BACKFILL_RUN_COLUMNS}`,
    [
      runId,
      step.phase,
      step.cursor,
      step.processed,
      step.linked ?? 0,
      step.stagesAligned ?? 0,
      step.unmatched ?? 0,
      step.stampedContacts,
      step.stampedLeads,
      step.failed,
      step.activeMs,
      step.total ?? null,
    ],
  );
  return rows[0];
}

/** Completes a run: its total becomes what it did (records made or linked meanwhile make counts approximate). */
export async function completeBackfillRun(db: Queryable, runId: string): Promise<BackfillRunRow | undefined> {
  const rows = await db.query<BackfillRunRow>(
    `UPDATE backfill_runs SET status = 'completed', total = done, cursor = NULL, updated_at = now(), finished_at = now() WHERE id = $1 RETURNING ${BACKFILL_RUN_COLUMNS}`,
    [runId],
  );
  return rows[0];
}

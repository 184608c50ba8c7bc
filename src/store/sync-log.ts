/** The per-record sync log (what happened and why) and the shared-stage history. */
import type { Queryable } from './db.ts';

export interface SyncLogEntry {
  installationId: string;
  /** e.g. `hubspot:contact:101` or `salesforce:Lead:00Q…`. */
  recordRef: string;
  level: 'info' | 'warn' | 'error';
  /** What the app did: `handoff`, `link_existing`, `update_hubspot`, `skip_echo`, `refused`, … */
  action: string;
  /** Why: the rule, the values, the call. */
  reason: string;
  details?: Record<string, unknown>;
  jobQueue?: string;
  jobId?: string;
}

/** Appends entries to the sync log in one statement. */
export async function writeSyncLog(db: Queryable, entries: readonly SyncLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values: unknown[] = [];
  const rows = entries.map((e, i) => {
    values.push(
      e.installationId,
      e.recordRef,
      e.level,
      e.action,
      e.reason,
      JSON.stringify(e.details ?? {}),
      e.jobQueue ?? null,
      e.jobId ?? null,
    );
    const o = i * 8;
    return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::jsonb, $${o + 7}, $${o + 8})`;
  });
  await db.query(
    `INSERT INTO sync_log (installation_id, record_ref, level, action, reason, details, job_queue, job_id) VALUES ${rows.join(', ')}`,
    values,
  );
}

export interface StageChange {
  installationId: string;
  hubspotContactId: string;
  stage: string;
  source: 'hubspot' | 'salesforce';
  occurredAt: Date;
  details?: Record<string, unknown>;
}

/** Records stage changes, skipping one that repeats the contact's latest stage. */
export async function recordStageChanges(db: Queryable, changes: readonly StageChange[]): Promise<void> {
  for (const change of changes) {
    await db.query(
      `INSERT INTO stage_history (installation_id, hubspot_contact_id, stage, source, occurred_at, details)
       SELECT $1, $2, $3, $4, $5, $6::jsonb
       WHERE NOT EXISTS (
         SELECT 1 FROM (SELECT stage FROM stage_history WHERE installation_id = $1 AND hubspot_contact_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT 1) latest
         WHERE latest.stage = $3)`,
      [
        change.installationId,
        change.hubspotContactId,
        change.stage,
        change.source,
        change.occurredAt,
        JSON.stringify(change.details ?? {}),
      ],
    );
  }
}

/** The latest recorded stage of each given contact (contacts without history are left out). */
export async function latestStages(db: Queryable, installationId: string, contactIds: readonly string[]): Promise<Map<string, string>> {
  if (contactIds.length === 0) return new Map();
  const rows = await db.query<{ hubspot_contact_id: string; stage: string }>(
    'SELECT DISTINCT ON (hubspot_contact_id) hubspot_contact_id, stage FROM stage_history WHERE installation_id = $1 AND hubspot_contact_id = ANY($2) ORDER BY hubspot_contact_id, occurred_at DESC, id DESC',
    [installationId, contactIds],
  );
  return new Map(rows.map((r) => [r.hubspot_contact_id, r.stage]));
}

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

/** The sync log's columns, and the VALUES rows of `entries` with their parameters numbered from `first`. */
export const SYNC_LOG_COLUMNS = 'installation_id, record_ref, level, action, reason, details, job_queue, job_id';
export function syncLogRows(entries: readonly SyncLogEntry[], first = 1): { rows: string; values: unknown[] } {
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
    const o = first - 1 + i * 8;
    return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::jsonb, $${o + 7}, $${o + 8})`;
  });
  return { rows: rows.join(', '), values };
}

/** Appends entries to the sync log in one statement. */
export async function writeSyncLog(db: Queryable, entries: readonly SyncLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const { rows, values } = syncLogRows(entries);
  await db.query(`INSERT INTO sync_log (${SYNC_LOG_COLUMNS}) VALUES ${rows}`, values);
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
  // A contact with one change in the list: all of them in one statement. A contact with several:
  // one at a time, each checked against the one before.
  const perContact = new Map<string, number>();
  for (const change of changes) perContact.set(change.hubspotContactId, (perContact.get(change.hubspotContactId) ?? 0) + 1);
  const single = changes.filter((change) => perContact.get(change.hubspotContactId) === 1);
  if (single.length > 0) await insertStageChanges(db, single);
  for (const change of changes.filter((c) => (perContact.get(c.hubspotContactId) ?? 0) > 1)) await insertStageChanges(db, [change]);
}

/** Inserts stage changes of distinct contacts, each unless it repeats its contact's latest stage. */
async function insertStageChanges(db: Queryable, changes: readonly StageChange[]): Promise<void> {
  await db.query(
    `INSERT INTO stage_history (installation_id, hubspot_contact_id, stage, source, occurred_at, details)
     SELECT c.installation_id, c.contact, c.stage, c.source, c.occurred_at, c.details::jsonb
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) WITH ORDINALITY
       AS c(installation_id, contact, stage, source, occurred_at, details, n)
     WHERE NOT EXISTS (
       SELECT 1 FROM (SELECT stage FROM stage_history WHERE installation_id = c.installation_id AND hubspot_contact_id = c.contact
                      ORDER BY occurred_at DESC, id DESC LIMIT 1) latest
       WHERE latest.stage = c.stage)
     ORDER BY c.n`,
    [
      changes.map((change) => change.installationId),
      changes.map((change) => change.hubspotContactId),
      changes.map((change) => change.stage),
      changes.map((change) => change.source),
      changes.map((change) => change.occurredAt),
      changes.map((change) => JSON.stringify(change.details ?? {})),
    ],
  );
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

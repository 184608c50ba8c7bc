/**
 * The counts a settings preview reads from the app's own tables: contacts by their latest recorded
 * stage, linked records, stamped touches by channel, feedback events by reason label and running
 * SLA clocks. Nothing here reads a CRM.
 */
import type { Queryable } from './db.ts';

async function countsBy(db: Queryable, sql: string, installationId: string): Promise<Map<string, number>> {
  const rows = await db.query<{ key: string | null; n: number | string }>(sql, [installationId]);
  return new Map(rows.filter((row) => row.key !== null).map((row) => [row.key as string, Number(row.n)]));
}

/** Contacts by the stage of their latest stage-history row. */
export function contactsByStage(db: Queryable, installationId: string): Promise<Map<string, number>> {
  return countsBy(
    db,
    `SELECT stage AS key, count(*) AS n FROM (
       SELECT DISTINCT ON (hubspot_contact_id) stage FROM stage_history WHERE installation_id = $1
       ORDER BY hubspot_contact_id, occurred_at DESC, id DESC
     ) latest GROUP BY stage`,
    installationId,
  );
}

/** HubSpot contacts linked to a Salesforce record. */
export async function linkedRecordCount(db: Queryable, installationId: string): Promise<number> {
  const rows = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM record_links WHERE installation_id = $1', [
    installationId,
  ]);
  return Number(rows[0]?.n ?? 0);
}

/** Stamped touches by the channel they were given. */
export function touchesByChannel(db: Queryable, installationId: string): Promise<Map<string, number>> {
  return countsBy(
    db,
    'SELECT channel AS key, count(*) AS n FROM attribution_touches WHERE installation_id = $1 GROUP BY channel',
    installationId,
  );
}

/** Recorded feedback events by their Salesforce reason label. */
export function feedbackByReasonLabel(db: Queryable, installationId: string): Promise<Map<string, number>> {
  return countsBy(
    db,
    'SELECT reason_label AS key, count(*) AS n FROM feedback_events WHERE installation_id = $1 AND reason_label IS NOT NULL GROUP BY reason_label',
    installationId,
  );
}

/** SLA clocks still waiting for the first touch. */
export async function runningClockCount(db: Queryable, installationId: string): Promise<number> {
  const rows = await db.query<{ n: number | string }>(
    'SELECT count(*) AS n FROM sla_clocks WHERE installation_id = $1 AND first_touch_at IS NULL AND closed_at IS NULL',
    [installationId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Won deals and customer accounts (accounts with a won deal): what a revenue policy change regroups. */
export async function customerCounts(db: Queryable, installationId: string): Promise<{ wonDeals: number; customers: number }> {
  const rows = await db.query<{ won: number | string; customers: number | string }>(
    "SELECT count(*) AS won, count(DISTINCT salesforce_account_id) AS customers FROM deals WHERE installation_id = $1 AND status = 'won'",
    [installationId],
  );
  return { wonDeals: Number(rows[0]?.won ?? 0), customers: Number(rows[0]?.customers ?? 0) };
}

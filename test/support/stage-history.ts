/** Stage history rows for the report tests, written as the Salesforce side of the sync records them. */
import type { Queryable } from '../../src/store/db.ts';

/** Inserts one `stage_history` row (source `salesforce`) per `[contact, stage, when]`. */
export async function insertStageHistory(
  db: Queryable,
  installationId: string,
  rows: readonly (readonly [contact: string, stage: string, when: Date])[],
): Promise<void> {
  for (const [contact, stage, when] of rows) {
    await db.query(
      "INSERT INTO stage_history (installation_id, hubspot_contact_id, stage, source, occurred_at) VALUES ($1, $2, $3, 'salesforce', $4)",
      [installationId, contact, stage, when],
    );
  }
}

/** The sealed slots of all installations, read for key rotation and seal upgrades at boot. */
import type { Queryable } from './db.ts';

/** An installation's sealed slots as stored (null: the slot is empty). */
export interface SealedSlotsRow {
  id: string;
  hubspot_credentials: Uint8Array | null;
  salesforce_credentials: Uint8Array | null;
  alert_target: Uint8Array | null;
}

/** Every installation with at least one sealed slot. */
export async function installationsWithSealedSlots(db: Queryable): Promise<SealedSlotsRow[]> {
  return db.query<SealedSlotsRow & Record<string, unknown>>(
    `SELECT id, hubspot_credentials, salesforce_credentials, alert_target FROM installations
     WHERE hubspot_credentials IS NOT NULL OR salesforce_credentials IS NOT NULL OR alert_target IS NOT NULL`,
  );
}

/** Alert targets still saved in the settings jsonb, from before they were sealed. */
export async function legacyAlertTargets(db: Queryable): Promise<{ id: string; alert: unknown }[]> {
  return db.query<{ id: string; alert: unknown }>("SELECT id, settings -> 'alert' AS alert FROM installations WHERE settings ? 'alert'");
}

/** Removes the legacy alert target from an installation's settings. */
export async function dropLegacyAlertTarget(db: Queryable, installationId: string): Promise<void> {
  await db.query("UPDATE installations SET settings = settings - 'alert', updated_at = now() WHERE id = $1", [installationId]);
}

/**
 * What the admin dashboard reads and changes on installations: status, the portal and org each is
 * bound to (one portal + one org per installation, never shared), the admin's settings (jsonb
 * keys) and uninstalling. Credentials stay sealed; this module only says whether they exist.
 */
import type { Result } from '../domain/result.ts';
import type { Queryable } from './db.ts';
import { INSTALLATION_COLUMNS, installationFromRow, type Installation, type InstallationRow } from './installations.ts';

export interface InstallationDetails extends Installation {
  hasHubSpotCredentials: boolean;
  hasSalesforceCredentials: boolean;
  createdAt: Date;
  uninstalledAt: Date | null;
}

interface DetailsRow extends InstallationRow {
  has_hubspot: boolean;
  has_salesforce: boolean;
  created_at: Date | string;
  uninstalled_at: Date | string | null;
}

const COLUMNS = `${INSTALLATION_COLUMNS},
  hubspot_credentials IS NOT NULL AS has_hubspot, salesforce_credentials IS NOT NULL AS has_salesforce, created_at, uninstalled_at`;

function fromRow(row: DetailsRow): InstallationDetails {
  return {
    ...installationFromRow(row),
    hasHubSpotCredentials: row.has_hubspot,
    hasSalesforceCredentials: row.has_salesforce,
    createdAt: new Date(row.created_at),
    uninstalledAt: row.uninstalled_at === null ? null : new Date(row.uninstalled_at),
  };
}

/** Every installation, active first, then by creation. */
export async function listInstallationDetails(db: Queryable): Promise<InstallationDetails[]> {
  const rows = await db.query<DetailsRow>(`SELECT ${COLUMNS} FROM installations ORDER BY status = 'active' DESC, created_at`);
  return rows.map(fromRow);
}

/** One installation, or null. */
export async function getInstallationDetails(db: Queryable, id: string): Promise<InstallationDetails | null> {
  const rows = await db.query<DetailsRow>(`SELECT ${COLUMNS} FROM installations WHERE id = $1`, [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** The installation bound to a HubSpot portal, or null. */
export async function findInstallationByPortal(db: Queryable, portalId: string): Promise<InstallationDetails | null> {
  const rows = await db.query<DetailsRow>(`SELECT ${COLUMNS} FROM installations WHERE hubspot_portal_id = $1`, [portalId]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** The installation bound to a Salesforce org (15- or 18-character id), or null. */
export async function findInstallationByOrg(db: Queryable, orgId: string): Promise<InstallationDetails | null> {
  const rows = await db.query<DetailsRow>(`SELECT ${COLUMNS} FROM installations WHERE left(salesforce_org_id, 15) = left($1, 15)`, [orgId]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Binds a HubSpot portal to an installation that has none (or the same one). */
export async function bindPortal(db: Queryable, id: string, portalId: string): Promise<void> {
  await db.query(
    'UPDATE installations SET hubspot_portal_id = $2, updated_at = now() WHERE id = $1 AND (hubspot_portal_id IS NULL OR hubspot_portal_id = $2)',
    [id, portalId],
  );
}

/** Binds a Salesforce org to an installation that has none (or the same one). */
export async function bindOrg(db: Queryable, id: string, orgId: string): Promise<void> {
  await db.query(
    'UPDATE installations SET salesforce_org_id = $2, updated_at = now() WHERE id = $1 AND (salesforce_org_id IS NULL OR left(salesforce_org_id, 15) = left($2, 15))',
    [id, orgId],
  );
}

/** Makes an uninstalled installation active again (a reinstall keeps its history). */
export async function reactivateInstallation(db: Queryable, id: string): Promise<void> {
  await db.query("UPDATE installations SET status = 'active', uninstalled_at = NULL, updated_at = now() WHERE id = $1", [id]);
}

/** Marks an installation uninstalled and forgets its credentials. */
export async function markUninstalled(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(
    "UPDATE installations SET status = 'uninstalled', uninstalled_at = $2, hubspot_credentials = NULL, salesforce_credentials = NULL, updated_at = now() WHERE id = $1",
    [id, at],
  );
}

/** The installation's settings object (admin rules under their keys). */
export async function readSettings(db: Queryable, id: string): Promise<Record<string, unknown>> {
  const rows = await db.query<{ settings: Record<string, unknown> | null }>('SELECT settings FROM installations WHERE id = $1', [id]);
  return rows[0]?.settings ?? {};
}

/**
 * One setting in effect: the stored value when it still validates, else the default (a value
 * saved under older rules falls back instead of failing the reader).
 */
export async function settingInEffect<T>(
  db: Queryable,
  id: string,
  key: string,
  validate: (input: unknown) => Result<T, string[]>,
  defaults: T,
): Promise<T> {
  return settingOrDefault((await readSettings(db, id))[key], validate, defaults);
}

/** A stored setting's value when it validates; the default when it is unset or invalid. */
export function settingOrDefault<T>(stored: unknown, validate: (input: unknown) => Result<T, string[]>, defaults: T): T {
  if (stored === undefined) return defaults;
  const checked = validate(stored);
  return checked.ok ? checked.value : defaults;
}

/** Sets one settings key (the value is already validated). */
export async function writeSetting(db: Queryable, id: string, key: string, value: unknown): Promise<void> {
  await db.query(
    'UPDATE installations SET settings = settings || jsonb_build_object($2::text, $3::jsonb), updated_at = now() WHERE id = $1',
    [id, key, JSON.stringify(value)],
  );
}

/** Removes one settings key, so the default applies again. */
export async function deleteSetting(db: Queryable, id: string, key: string): Promise<void> {
  await db.query('UPDATE installations SET settings = settings - $2::text, updated_at = now() WHERE id = $1', [id, key]);
}

/** The id of an installation's latest backfill run of a kind, or null. */
export async function latestBackfillRunId(db: Queryable, installationId: string, kind: string): Promise<string | null> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM backfill_runs WHERE installation_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1',
    [installationId, kind],
  );
  return rows[0]?.id ?? null;
}

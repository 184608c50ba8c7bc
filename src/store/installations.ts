/** Installations: one HubSpot portal + one Salesforce org, with credentials sealed at rest. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from './db.ts';

export interface Installation {
  id: string;
  name: string;
  hubspotPortalId: string | null;
  salesforceOrgId: string | null;
  salesforceWebhookToken: string;
  status: 'active' | 'uninstalled';
}

/** An `installations` row as read with `INSTALLATION_COLUMNS`. */
export interface InstallationRow extends Record<string, unknown> {
  id: string;
  name: string;
  hubspot_portal_id: number | string | null;
  salesforce_org_id: string | null;
  salesforce_webhook_token: string;
  status: 'active' | 'uninstalled';
}

/** An installation as the app knows it, from its row. */
export function installationFromRow(row: InstallationRow): Installation {
  return {
    id: row.id,
    name: row.name,
    hubspotPortalId: row.hubspot_portal_id === null ? null : String(row.hubspot_portal_id),
    salesforceOrgId: row.salesforce_org_id,
    salesforceWebhookToken: row.salesforce_webhook_token,
    status: row.status,
  };
}

/** The columns `installationFromRow` reads. */
export const INSTALLATION_COLUMNS = 'id, name, hubspot_portal_id, salesforce_org_id, salesforce_webhook_token, status';

/** An unguessable token for the per-installation Outbound Message endpoint path. */
export function newWebhookToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Creates the installation for a portal/org pair, or returns the one that already exists. */
export async function upsertInstallation(
  db: Queryable,
  input: { name: string; hubspotPortalId: string | null; salesforceOrgId: string | null },
): Promise<Installation> {
  const existing = await db.query<InstallationRow>(
    `SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE hubspot_portal_id = $1 OR salesforce_org_id = $2 ORDER BY created_at LIMIT 1`,
    [input.hubspotPortalId, input.salesforceOrgId],
  );
  if (existing[0]) return installationFromRow(existing[0]);
  const rows = await db.query<InstallationRow>(
    `INSERT INTO installations (id, name, hubspot_portal_id, salesforce_org_id, salesforce_webhook_token)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${INSTALLATION_COLUMNS}`,
    [randomUUID(), input.name, input.hubspotPortalId, input.salesforceOrgId, newWebhookToken()],
  );
  return installationFromRow(rows[0] as InstallationRow);
}

/** Every active installation (the receivers keep them in memory to route without a query). */
export async function listActiveInstallations(db: Queryable): Promise<Installation[]> {
  const rows = await db.query<InstallationRow>(
    `SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE status = 'active' ORDER BY created_at`,
  );
  return rows.map(installationFromRow);
}

/** Every active installation with one settings key as stored (undefined: not set), in one query. */
export async function listActiveInstallationsWithSetting(
  db: Queryable,
  key: string,
): Promise<{ installation: Installation; stored: unknown }[]> {
  const rows = await db.query<InstallationRow & { stored: unknown }>(
    `SELECT ${INSTALLATION_COLUMNS}, settings -> $1::text AS stored FROM installations WHERE status = 'active' ORDER BY created_at`,
    [key],
  );
  return rows.map((row) => ({ installation: installationFromRow(row), stored: row.stored ?? undefined }));
}

/** What is sealed per installation: the OAuth grant of each side, and the SLA alert target. */
export type SealedSlot = 'hubspot' | 'salesforce' | 'alert';

const SLOT_COLUMNS: Readonly<Record<SealedSlot, string>> = {
  hubspot: 'hubspot_credentials',
  salesforce: 'salesforce_credentials',
  alert: 'alert_target',
};

/** Stores a sealed document in its slot (null empties it). */
export async function saveCredentials(db: Queryable, installationId: string, side: SealedSlot, sealed: Buffer | null): Promise<void> {
  await db.query(`UPDATE installations SET ${SLOT_COLUMNS[side]} = $2, updated_at = now() WHERE id = $1`, [installationId, sealed]);
}

/** Reads the sealed document of a slot, or null when none is stored. */
export async function loadCredentials(db: Queryable, installationId: string, side: SealedSlot): Promise<Buffer | null> {
  const rows = await db.query<{ sealed: Buffer | Uint8Array | null }>(
    `SELECT ${SLOT_COLUMNS[side]} AS sealed FROM installations WHERE id = $1`,
    [installationId],
  );
  const sealed = rows[0]?.sealed;
  return sealed ? Buffer.from(sealed) : null;
}

/** An installation's stored settings document (each part validated where it is read) and status. */
export interface InstallationSettingsRow extends Record<string, unknown> {
  settings: {
    stageDictionary?: unknown;
    fieldMappings?: unknown;
    channelRules?: unknown;
    attribution?: unknown;
    feedbackTaxonomy?: unknown;
    slaPolicy?: unknown;
    alert?: unknown;
  } | null;
  status: string;
}

/** The settings and status of an installation; undefined when there is no such installation. */
export async function installationSettings(db: Queryable, installationId: string): Promise<InstallationSettingsRow | undefined> {
  const rows = await db.query<InstallationSettingsRow>('SELECT settings, status FROM installations WHERE id = $1', [installationId]);
  return rows[0];
}

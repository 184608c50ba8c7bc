/** A contact's first touch: the channel and campaign the report groups it (and its deals) under. */
import { UNATTRIBUTED_CAMPAIGN } from '../domain/attribution-credit.ts';
import type { Queryable } from './db.ts';

/** The channel of a contact with no touch at all. */
export const UNASSIGNED_CHANNEL = 'Unassigned';

// A contact's first touch gives its channel and campaign (is_first, else the earliest touch).
export const FIRST_TOUCHES = `
  SELECT DISTINCT ON (hubspot_contact_id) hubspot_contact_id AS contact, channel,
    COALESCE(NULLIF(btrim(campaign), ''), '${UNATTRIBUTED_CAMPAIGN}') AS campaign
  FROM attribution_touches WHERE installation_id = $1
  ORDER BY hubspot_contact_id, is_first DESC, occurred_at`;

/** Group keys (first-touch channel and campaign) of the given contacts. */
export async function groupsOf(
  db: Queryable,
  installationId: string,
  contacts: readonly string[],
): Promise<Map<string, { channel: string; campaign: string }>> {
  const wanted = [...new Set(contacts)];
  if (wanted.length === 0) return new Map();
  const rows = await db.query<{ contact: string; channel: string; campaign: string }>(
    `SELECT * FROM (${FIRST_TOUCHES}) firsts WHERE contact = ANY($2)`,
    [installationId, wanted],
  );
  return new Map(rows.map((row) => [row.contact, { channel: row.channel, campaign: row.campaign }]));
}

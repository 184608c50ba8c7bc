/** HubSpot contact ↔ Salesforce Lead / Contact / Opportunity, per installation. */
import type { Queryable } from './db.ts';

export interface RecordLink {
  hubspotContactId: string;
  email: string | null;
  salesforceLeadId: string | null;
  salesforceContactId: string | null;
  salesforceOpportunityId: string | null;
}

interface LinkRow extends Record<string, unknown> {
  hubspot_contact_id: string;
  email: string | null;
  salesforce_lead_id: string | null;
  salesforce_contact_id: string | null;
  salesforce_opportunity_id: string | null;
}

const COLUMNS = 'hubspot_contact_id, email, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id';

function fromRow(row: LinkRow): RecordLink {
  return {
    hubspotContactId: row.hubspot_contact_id,
    email: row.email,
    salesforceLeadId: row.salesforce_lead_id,
    salesforceContactId: row.salesforce_contact_id,
    salesforceOpportunityId: row.salesforce_opportunity_id,
  };
}

/** Links of the given HubSpot contacts, keyed by contact id. */
export async function linksByHubSpotIds(db: Queryable, installationId: string, ids: readonly string[]): Promise<Map<string, RecordLink>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<LinkRow>(`SELECT ${COLUMNS} FROM record_links WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)`, [
    installationId,
    ids,
  ]);
  return new Map(rows.map((row) => [row.hubspot_contact_id, fromRow(row)]));
}

/** Links whose Lead, Contact or Opportunity is one of `salesforceIds`, keyed by each matching id. */
export async function linksBySalesforceIds(
  db: Queryable,
  installationId: string,
  salesforceIds: readonly string[],
): Promise<Map<string, RecordLink>> {
  if (salesforceIds.length === 0) return new Map();
  const rows = await db.query<LinkRow>(
    `SELECT ${COLUMNS} FROM record_links WHERE installation_id = $1
       AND (salesforce_lead_id = ANY($2) OR salesforce_contact_id = ANY($2) OR salesforce_opportunity_id = ANY($2))`,
    [installationId, salesforceIds],
  );
  const wanted = new Set(salesforceIds);
  const byId = new Map<string, RecordLink>();
  for (const row of rows) {
    for (const id of [row.salesforce_lead_id, row.salesforce_contact_id, row.salesforce_opportunity_id]) {
      if (id && wanted.has(id)) byId.set(id, fromRow(row));
    }
  }
  return byId;
}

/** Creates or updates links, in one statement; a null field keeps the stored value (a later link of the same contact wins). */
export async function saveLinks(db: Queryable, installationId: string, links: readonly RecordLink[]): Promise<void> {
  if (links.length === 0) return;
  const byContact = new Map<string, RecordLink>();
  for (const link of links) {
    const earlier = byContact.get(link.hubspotContactId);
    byContact.set(
      link.hubspotContactId,
      earlier === undefined
        ? link
        : {
            hubspotContactId: link.hubspotContactId,
            email: link.email ?? earlier.email,
            salesforceLeadId: link.salesforceLeadId ?? earlier.salesforceLeadId,
            salesforceContactId: link.salesforceContactId ?? earlier.salesforceContactId,
            salesforceOpportunityId: link.salesforceOpportunityId ?? earlier.salesforceOpportunityId,
          },
    );
  }
  const merged = [...byContact.values()];
  await db.query(
    `INSERT INTO record_links (installation_id, hubspot_contact_id, email, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id)
     SELECT $1, c.contact, c.email, c.lead, c.sf_contact, c.opportunity
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS c(contact, email, lead, sf_contact, opportunity)
     ON CONFLICT (installation_id, hubspot_contact_id) DO UPDATE SET
       email = COALESCE(EXCLUDED.email, record_links.email),
       salesforce_lead_id = COALESCE(EXCLUDED.salesforce_lead_id, record_links.salesforce_lead_id),
       salesforce_contact_id = COALESCE(EXCLUDED.salesforce_contact_id, record_links.salesforce_contact_id),
       salesforce_opportunity_id = COALESCE(EXCLUDED.salesforce_opportunity_id, record_links.salesforce_opportunity_id),
       updated_at = now()`,
    [
      installationId,
      merged.map((link) => link.hubspotContactId),
      merged.map((link) => link.email?.toLowerCase() ?? null),
      merged.map((link) => link.salesforceLeadId),
      merged.map((link) => link.salesforceContactId),
      merged.map((link) => link.salesforceOpportunityId),
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// Record identity: links set aside by a deletion or a merge, merges re-pointed to the survivor.

export type RecordSide = 'hubspot' | 'salesforce';

/** A link set aside: which side's record went, and why. */
export interface SetAsideLink extends RecordLink {
  deletedSide: RecordSide;
  deletedId: string;
  reason: 'deleted' | 'merged';
}

/** Removes the given links from record_links and keeps them in record_unlinks (idempotent). */
export async function setLinksAside(db: Queryable, installationId: string, links: readonly SetAsideLink[]): Promise<void> {
  for (const link of links) {
    await db.query(
      `INSERT INTO record_unlinks (installation_id, hubspot_contact_id, email, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id, deleted_side, deleted_id, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (installation_id, deleted_side, deleted_id) DO UPDATE SET hubspot_contact_id = EXCLUDED.hubspot_contact_id, email = EXCLUDED.email,
         salesforce_lead_id = EXCLUDED.salesforce_lead_id, salesforce_contact_id = EXCLUDED.salesforce_contact_id,
         salesforce_opportunity_id = EXCLUDED.salesforce_opportunity_id, reason = EXCLUDED.reason, unlinked_at = now()`,
      [
        installationId,
        link.hubspotContactId,
        link.email,
        link.salesforceLeadId,
        link.salesforceContactId,
        link.salesforceOpportunityId,
        link.deletedSide,
        link.deletedId,
        link.reason,
      ],
    );
    await db.query('DELETE FROM record_links WHERE installation_id = $1 AND hubspot_contact_id = $2', [
      installationId,
      link.hubspotContactId,
    ]);
  }
}

/**
 * Of the given HubSpot contact ids or Salesforce Lead/Contact ids, the ones whose link is set aside.
 * A contact a live link holds is not: a merge's survivor can have its own duplicate set aside and
 * still be linked through the kept link.
 */
export async function setAsideIds(db: Queryable, installationId: string, side: RecordSide, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows =
    side === 'hubspot'
      ? await db.query<{ id: string }>(
          `SELECT u.hubspot_contact_id AS id FROM record_unlinks u WHERE u.installation_id = $1 AND u.hubspot_contact_id = ANY($2)
             AND NOT EXISTS (SELECT 1 FROM record_links l WHERE l.installation_id = u.installation_id AND l.hubspot_contact_id = u.hubspot_contact_id)`,
          [installationId, ids],
        )
      : await db.query<{ id: string }>(
          `SELECT unnest(ARRAY[salesforce_lead_id, salesforce_contact_id]) AS id FROM record_unlinks
        WHERE installation_id = $1 AND (salesforce_lead_id = ANY($2) OR salesforce_contact_id = ANY($2))`,
          [installationId, ids],
        );
  const wanted = new Set(ids);
  return new Set(rows.map((r) => r.id).filter((id) => wanted.has(id)));
}

/**
 * Puts back the link set aside when `deletedId` on `side` was deleted, unless either record is
 * linked again meanwhile; returns it, or null when there was none to put back.
 */
export async function restoreSetAsideLink(
  db: Queryable,
  installationId: string,
  side: RecordSide,
  deletedId: string,
): Promise<RecordLink | null> {
  const rows = await db.query<LinkRow>(
    `DELETE FROM record_unlinks WHERE installation_id = $1 AND deleted_side = $2 AND deleted_id = $3 AND reason = 'deleted' RETURNING ${COLUMNS}`,
    [installationId, side, deletedId],
  );
  const row = rows[0];
  if (!row) return null;
  const link = fromRow(row);
  const taken = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM record_links WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_lead_id = $3)',
    [installationId, link.hubspotContactId, link.salesforceLeadId ?? ''],
  );
  if ((taken[0]?.n ?? 0) > 0) return null;
  await saveLinks(db, installationId, [link]);
  return link;
}

/**
 * Moves everything the app keys by a HubSpot contact id from the merged-away ids to the survivor:
 * stage history, touches (the survivor keeps the earliest first touch), feedback, deals
 * and SLA clocks. Each statement is idempotent, so a retried merge converges.
 */
export async function repointHubSpotContact(
  db: Queryable,
  installationId: string,
  mergedIds: readonly string[],
  survivorId: string,
): Promise<void> {
  const from = mergedIds.filter((id) => id !== survivorId);
  if (from.length === 0) return;
  const args = [installationId, from, survivorId];
  for (const table of ['stage_history', 'feedback_events', 'deals', 'sla_clocks']) {
    await db.query(`UPDATE ${table} SET hubspot_contact_id = $3 WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)`, args);
  }
  // Touches: a moment both records saw stays once; then only the earliest first touch stays first.
  await db.query(
    `INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, source, medium, campaign, content, term, landing_page, page_url, form, recorded_at)
     SELECT installation_id, $3::text, occurred_at, is_first, channel, source, medium, campaign, content, term, landing_page, page_url, form, recorded_at
       FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)
     ON CONFLICT (installation_id, hubspot_contact_id, occurred_at) DO UPDATE SET is_first = attribution_touches.is_first OR EXCLUDED.is_first`,
    args,
  );
  await db.query('DELETE FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)', [installationId, from]);
  await db.query(
    `UPDATE attribution_touches SET is_first = false WHERE installation_id = $1 AND hubspot_contact_id = $2 AND is_first
       AND occurred_at > (SELECT min(occurred_at) FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = $2 AND is_first)`,
    [installationId, survivorId],
  );
  await recordMerges(db, installationId, 'hubspot', from, survivorId);
}

/**
 * Moves what the app keys by a Salesforce Lead id from merged-away Leads to the master: SLA clocks
 * (a loser's running clock closes when the master has one running: one clock per Lead).
 */
export async function repointSalesforceLead(
  db: Queryable,
  installationId: string,
  mergedIds: readonly string[],
  masterId: string,
): Promise<void> {
  const from = mergedIds.filter((id) => id !== masterId);
  if (from.length === 0) return;
  await db.query(
    `UPDATE sla_clocks SET closed_at = now(), updated_at = now() WHERE installation_id = $1 AND salesforce_lead_id = ANY($2)
       AND first_touch_at IS NULL AND closed_at IS NULL
       AND EXISTS (SELECT 1 FROM sla_clocks m WHERE m.installation_id = $1 AND m.salesforce_lead_id = $3 AND m.first_touch_at IS NULL AND m.closed_at IS NULL)`,
    [installationId, from, masterId],
  );
  // schedule_n restarts per Lead: moved clocks take numbers after the master's own.
  await db.query(
    `UPDATE sla_clocks c SET salesforce_lead_id = $3, updated_at = now(),
       schedule_n = c.schedule_n + 1000000 + coalesce((SELECT max(m.schedule_n) FROM sla_clocks m WHERE m.installation_id = $1 AND m.salesforce_lead_id = $3), 0)
     WHERE c.installation_id = $1 AND c.salesforce_lead_id = ANY($2)`,
    [installationId, from, masterId],
  );
  await recordMerges(db, installationId, 'salesforce', from, masterId);
}

async function recordMerges(
  db: Queryable,
  installationId: string,
  side: RecordSide,
  mergedIds: readonly string[],
  survivorId: string,
): Promise<void> {
  for (const id of mergedIds) {
    await db.query(
      'INSERT INTO record_merges (installation_id, side, merged_id, survivor_id) VALUES ($1, $2, $3, $4) ON CONFLICT (installation_id, side, merged_id) DO UPDATE SET survivor_id = EXCLUDED.survivor_id',
      [installationId, side, id, survivorId],
    );
  }
}

/** Of the given ids, the ones a merge the app applied took away, with the record each lives on in. */
export async function mergedInto(
  db: Queryable,
  installationId: string,
  side: RecordSide,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ merged_id: string; survivor_id: string }>(
    'SELECT merged_id, survivor_id FROM record_merges WHERE installation_id = $1 AND side = $2 AND merged_id = ANY($3)',
    [installationId, side, [...ids]],
  );
  return new Map(rows.map((r) => [r.merged_id, r.survivor_id]));
}

/** Replaces a link's HubSpot contact (the merge survivor takes the link), keeping its Salesforce ids. */
export async function moveLink(db: Queryable, installationId: string, fromContactId: string, toContactId: string): Promise<void> {
  if (fromContactId === toContactId) return;
  await db.query('DELETE FROM record_links WHERE installation_id = $1 AND hubspot_contact_id = $2', [installationId, toContactId]);
  await db.query(
    'UPDATE record_links SET hubspot_contact_id = $3, updated_at = now() WHERE installation_id = $1 AND hubspot_contact_id = $2',
    [installationId, fromContactId, toContactId],
  );
}

/** Replaces a link's Lead or Contact (the merge master takes the link). */
export async function moveLinkRecord(
  db: Queryable,
  installationId: string,
  hubspotContactId: string,
  type: 'Lead' | 'Contact',
  id: string,
): Promise<void> {
  const column = type === 'Lead' ? 'salesforce_lead_id' : 'salesforce_contact_id';
  await db.query(`UPDATE record_links SET ${column} = $3, updated_at = now() WHERE installation_id = $1 AND hubspot_contact_id = $2`, [
    installationId,
    hubspotContactId,
    id,
  ]);
}

/** Sets the email each link's record on one side was last seen with (lower-cased). */
export async function updateLinkEmails(
  db: Queryable,
  installationId: string,
  side: RecordSide,
  emails: readonly { hubspotContactId: string; email: string }[],
): Promise<void> {
  const column = side === 'hubspot' ? 'email' : 'salesforce_email';
  for (const { hubspotContactId, email } of emails) {
    await db.query(
      `UPDATE record_links SET ${column} = $3, updated_at = now() WHERE installation_id = $1 AND hubspot_contact_id = $2 AND ${column} IS DISTINCT FROM $3`,
      [installationId, hubspotContactId, email.toLowerCase()],
    );
  }
}

/**
 * Linked records that share an email with another link — the contact's or the Lead's, as each side
 * last showed it: reported, never merged by the app.
 */
export async function sharedEmails(
  db: Queryable,
  installationId: string,
  emails?: readonly string[],
): Promise<{ email: string; links: RecordLink[] }[]> {
  const rows = await db.query<LinkRow & { shared_email: string }>(
    `WITH seen AS (
       SELECT hubspot_contact_id, lower(email) AS e FROM record_links WHERE installation_id = $1 AND email IS NOT NULL
       UNION
       SELECT hubspot_contact_id, lower(salesforce_email) FROM record_links WHERE installation_id = $1 AND salesforce_email IS NOT NULL
     ), shared AS (
       SELECT e FROM seen GROUP BY e HAVING count(DISTINCT hubspot_contact_id) > 1
     )
     SELECT s.e AS shared_email, ${COLUMNS.split(', ')
       .map((c) => `l.${c}`)
       .join(', ')}
       FROM seen s JOIN shared USING (e) JOIN record_links l ON l.installation_id = $1 AND l.hubspot_contact_id = s.hubspot_contact_id
      ${emails === undefined ? '' : 'WHERE s.e = ANY($2)'}
      ORDER BY s.e, l.hubspot_contact_id`,
    emails === undefined ? [installationId] : [installationId, emails.map((e) => e.toLowerCase())],
  );
  const groups = new Map<string, RecordLink[]>();
  for (const row of rows) groups.set(row.shared_email, [...(groups.get(row.shared_email) ?? []), fromRow(row)]);
  return [...groups].map(([email, links]) => ({ email, links }));
}

/** The installation's stored deletion policy setting (`settings.deletionPolicy`), unparsed. */
export async function storedDeletionPolicy(db: Queryable, installationId: string): Promise<unknown> {
  const rows = await db.query<{ policy: unknown }>("SELECT settings->'deletionPolicy' AS policy FROM installations WHERE id = $1", [
    installationId,
  ]);
  return rows[0]?.policy ?? undefined;
}

/** A link of a contact to a Lead, as the field fill walks them. */
export interface LeadLink {
  hubspotContactId: string;
  salesforceLeadId: string;
}

/**
 * The installation's contacts linked to a Lead, after `afterContactId` in contact id order (a
 * keyset page), leaving out Leads whose link is set aside (record_unlinks).
 */
export async function leadLinksAfter(
  db: Queryable,
  installationId: string,
  afterContactId: string | null,
  limit: number,
): Promise<LeadLink[]> {
  const rows = await db.query<{ hubspot_contact_id: string; salesforce_lead_id: string }>(
    `SELECT l.hubspot_contact_id, l.salesforce_lead_id FROM record_links l
      WHERE l.installation_id = $1 AND l.salesforce_lead_id IS NOT NULL AND ($2::text IS NULL OR l.hubspot_contact_id > $2)
        AND NOT EXISTS (SELECT 1 FROM record_unlinks u WHERE u.installation_id = l.installation_id AND u.salesforce_lead_id = l.salesforce_lead_id)
      ORDER BY l.hubspot_contact_id ASC LIMIT $3`,
    [installationId, afterContactId, limit],
  );
  return rows.map((row) => ({ hubspotContactId: row.hubspot_contact_id, salesforceLeadId: row.salesforce_lead_id }));
}

/** How many of the installation's contacts are linked to a Lead that is not set aside. */
export async function countLeadLinks(db: Queryable, installationId: string): Promise<number> {
  const rows = await db.query<{ n: string | number }>(
    `SELECT COUNT(*) AS n FROM record_links l
      WHERE l.installation_id = $1 AND l.salesforce_lead_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM record_unlinks u WHERE u.installation_id = l.installation_id AND u.salesforce_lead_id = l.salesforce_lead_id)`,
    [installationId],
  );
  return Number(rows[0]?.n ?? 0);
}

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
  const rows = await db.query<LinkRow>(`SELECT ${COLUMNS} FROM record_links WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)`, [installationId, ids]);
  return new Map(rows.map((row) => [row.hubspot_contact_id, fromRow(row)]));
}

/** Links whose Lead, Contact or Opportunity is one of `salesforceIds`, keyed by each matching id. */
export async function linksBySalesforceIds(db: Queryable, installationId: string, salesforceIds: readonly string[]): Promise<Map<string, RecordLink>> {
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

/** Creates or updates links; a null field keeps the stored value. */
export async function saveLinks(db: Queryable, installationId: string, links: readonly RecordLink[]): Promise<void> {
  for (const link of links) {
    await db.query(
      `INSERT INTO record_links (installation_id, hubspot_contact_id, email, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (installation_id, hubspot_contact_id) DO UPDATE SET
         email = COALESCE(EXCLUDED.email, record_links.email),
         salesforce_lead_id = COALESCE(EXCLUDED.salesforce_lead_id, record_links.salesforce_lead_id),
         salesforce_contact_id = COALESCE(EXCLUDED.salesforce_contact_id, record_links.salesforce_contact_id),
         salesforce_opportunity_id = COALESCE(EXCLUDED.salesforce_opportunity_id, record_links.salesforce_opportunity_id),
         updated_at = now()`,
      [installationId, link.hubspotContactId, link.email?.toLowerCase() ?? null, link.salesforceLeadId, link.salesforceContactId, link.salesforceOpportunityId],
    );
  }
}

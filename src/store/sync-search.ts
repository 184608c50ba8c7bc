/**
 * Sync health lookups for the admin: find a person by email or by any of their ids (HubSpot
 * contact, Salesforce Lead / Contact / Opportunity) and read what the sync did with each of their
 * records, and why; plus the latest warnings and errors of an installation.
 */
import type { Queryable } from './db.ts';

export interface LinkedRecord {
  hubspotContactId: string;
  email: string | null;
  salesforceLeadId: string | null;
  salesforceContactId: string | null;
  salesforceOpportunityId: string | null;
}

export interface LogLine {
  id: number;
  recordRef: string | null;
  level: 'info' | 'warn' | 'error';
  action: string;
  reason: string;
  details: Record<string, unknown>;
  jobQueue: string | null;
  jobId: string | null;
  at: Date;
}

export interface RecordSearchResult {
  query: string;
  links: LinkedRecord[];
  /** Every record reference searched (`hubspot:contact:101`, `salesforce:Lead:00Q…`). */
  refs: string[];
  entries: LogLine[];
}

interface LogRow extends Record<string, unknown> {
  id: number;
  record_ref: string | null;
  level: LogLine['level'];
  action: string;
  reason: string;
  details: Record<string, unknown>;
  job_queue: string | null;
  job_id: string | null;
  created_at: Date | string;
}

const LOG_COLUMNS = 'id, record_ref, level, action, reason, details, job_queue, job_id, created_at';

function lineOf(row: LogRow): LogLine {
  return {
    id: Number(row.id),
    recordRef: row.record_ref,
    level: row.level,
    action: row.action,
    reason: row.reason,
    details: row.details,
    jobQueue: row.job_queue,
    jobId: row.job_id,
    at: new Date(row.created_at),
  };
}

/** Every record reference of a linked person. */
export function refsOf(link: LinkedRecord): string[] {
  return [
    `hubspot:contact:${link.hubspotContactId}`,
    ...(link.salesforceLeadId ? [`salesforce:Lead:${link.salesforceLeadId}`] : []),
    ...(link.salesforceContactId ? [`salesforce:Contact:${link.salesforceContactId}`] : []),
    ...(link.salesforceOpportunityId ? [`salesforce:Opportunity:${link.salesforceOpportunityId}`] : []),
  ];
}

/**
 * Searches by email (case-insensitive), HubSpot contact id, Salesforce id (15 or 18 characters)
 * or a full record reference; returns the linked records and their log, newest first.
 */
export async function searchRecordLog(db: Queryable, installationId: string, rawQuery: string, limit = 200): Promise<RecordSearchResult> {
  const query = rawQuery.trim();
  const links = (
    await db.query<{
      hubspot_contact_id: string;
      email: string | null;
      salesforce_lead_id: string | null;
      salesforce_contact_id: string | null;
      salesforce_opportunity_id: string | null;
    }>(
      `SELECT hubspot_contact_id, email, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id FROM record_links
       WHERE installation_id = $1 AND (
         lower(email) = lower($2) OR lower(salesforce_email) = lower($2) OR hubspot_contact_id = $2
         OR left(salesforce_lead_id, 15) = left($2, 15) AND length($2) IN (15, 18)
         OR left(salesforce_contact_id, 15) = left($2, 15) AND length($2) IN (15, 18)
         OR left(salesforce_opportunity_id, 15) = left($2, 15) AND length($2) IN (15, 18))
       ORDER BY updated_at DESC LIMIT 20`,
      [installationId, query],
    )
  ).map((row) => ({
    hubspotContactId: row.hubspot_contact_id,
    email: row.email,
    salesforceLeadId: row.salesforce_lead_id,
    salesforceContactId: row.salesforce_contact_id,
    salesforceOpportunityId: row.salesforce_opportunity_id,
  }));
  const refs = new Set(links.flatMap(refsOf));
  // A record the sync never linked (refused, unlinked Opportunity) is still found by its own id.
  const suffixes = /^[A-Za-z0-9]{1,18}$/.test(query)
    ? [`hubspot:contact:${query}`, `salesforce:Lead:${query}`, `salesforce:Contact:${query}`, `salesforce:Opportunity:${query}`]
    : [];
  if (/^(hubspot|salesforce):[A-Za-z]+:[A-Za-z0-9]+$/.test(query)) suffixes.push(query);
  for (const ref of suffixes) refs.add(ref);
  const rows =
    refs.size === 0
      ? []
      : await db.query<LogRow>(
          `SELECT ${LOG_COLUMNS} FROM sync_log WHERE installation_id = $1 AND record_ref = ANY($2) ORDER BY id DESC LIMIT $3`,
          [installationId, [...refs], limit],
        );
  const entries = rows.map(lineOf);
  // Only list references that have links or log lines, not every guess.
  const seen = new Set([...links.flatMap(refsOf), ...entries.map((e) => e.recordRef).filter((r): r is string => r !== null)]);
  return { query, links, refs: [...refs].filter((ref) => seen.has(ref)), entries };
}

/** The latest warnings and errors of an installation, newest first. */
export async function recentProblems(db: Queryable, installationId: string, limit = 20): Promise<LogLine[]> {
  const rows = await db.query<LogRow>(
    `SELECT ${LOG_COLUMNS} FROM sync_log WHERE installation_id = $1 AND level IN ('warn', 'error') ORDER BY id DESC LIMIT $2`,
    [installationId, limit],
  );
  return rows.map(lineOf);
}

/**
 * The warnings and errors of an installation since a time, newest first: what the health page
 * groups by cause. Capped, so a flood of one failure cannot make the page slow.
 */
export async function problemsSince(db: Queryable, installationId: string, since: Date, limit = 5_000): Promise<LogLine[]> {
  const rows = await db.query<LogRow>(
    `SELECT ${LOG_COLUMNS} FROM sync_log WHERE installation_id = $1 AND level IN ('warn', 'error') AND created_at >= $2 ORDER BY id DESC LIMIT $3`,
    [installationId, since, limit],
  );
  return rows.map(lineOf);
}

/**
 * The reads the sync asks of Salesforce, named for what it needs: each builds its SOQL here (names
 * validated, values escaped by `soqlString`), splits long id lists into queries of a safe size and
 * returns the rows. The adapter composes these into `SalesforcePort`.
 */
import type { CampaignMemberRow, CampaignRow, MemberStatusRow, SalesforceActivity, SalesforcePort, SalesforceRecord } from '../ports.ts';
import { isSalesforceId } from '../../domain/salesforce-id.ts';
import { HUBSPOT_ID_FIELD, IDS_PER_QUERY, selectList, soqlString, stringValue } from './mapper.ts';

/** Runs SOQL and returns every row (errors name the operation `query`, as the sync log has always shown). */
type RunQuery = (soql: string) => Promise<SalesforceRecord[]>;
/** Runs a SOQL `SELECT COUNT()` and returns the count. */
type RunCount = (soql: string) => Promise<number>;

/** Campaign names or ids in one query (names can be long: fewer per query). */
const NAMES_PER_QUERY = 100;

/** Unconverted Leads that name no HubSpot contact: what a backfill links. */
const UNLINKED_LEADS = `IsConverted = false AND ${HUBSPOT_ID_FIELD} = null`;

export type SyncReads = Pick<
  SalesforcePort,
  | 'countUnlinkedLeads'
  | 'unlinkedLeadsAfter'
  | 'opportunitiesAfter'
  | 'leadsConvertedInto'
  | 'leadsByIdOrHubSpotId'
  | 'everyoneByEmail'
  | 'unconvertedLeadsNaming'
  | 'recordsNamingContact'
  | 'activitiesByOthers'
  | 'tasksCreatedBy'
  | 'campaignsNamed'
  | 'campaignMembers'
  | 'campaignMemberStatuses'
>;

function list(values: readonly string[]): string {
  return values.map(soqlString).join(', ');
}

/** Runs one query per part of `values` (`size` per part) and concatenates the rows in order. */
async function inParts(
  values: readonly string[],
  size: number,
  read: (part: readonly string[]) => Promise<SalesforceRecord[]>,
): Promise<SalesforceRecord[]> {
  const rows: SalesforceRecord[] = [];
  for (let start = 0; start < values.length; start += size) rows.push(...(await read(values.slice(start, start + size))));
  return rows;
}

/** ` AND Id > '…'` after a record id; nothing when the cursor is absent or not an id. */
function afterId(id: string | null, keyword: 'WHERE' | 'AND'): string {
  return id !== null && isSalesforceId(id) ? ` ${keyword} Id > ${soqlString(id)}` : '';
}

function backfillReads(
  run: RunQuery,
  count: RunCount,
): Pick<SyncReads, 'countUnlinkedLeads' | 'unlinkedLeadsAfter' | 'opportunitiesAfter'> {
  return {
    countUnlinkedLeads: () => count(`SELECT COUNT() FROM Lead WHERE ${UNLINKED_LEADS}`),
    unlinkedLeadsAfter: (after, fields, limit) =>
      run(`SELECT ${selectList(fields)} FROM Lead WHERE ${UNLINKED_LEADS}${afterId(after, 'AND')} ORDER BY Id ASC LIMIT ${limit}`),
    opportunitiesAfter: (after, fields, limit) =>
      run(`SELECT ${selectList(fields)} FROM Opportunity${afterId(after, 'WHERE')} ORDER BY Id ASC LIMIT ${limit}`),
  };
}

function identityReads(
  run: RunQuery,
): Pick<SyncReads, 'leadsConvertedInto' | 'leadsByIdOrHubSpotId' | 'everyoneByEmail' | 'unconvertedLeadsNaming' | 'recordsNamingContact'> {
  return {
    async leadsConvertedInto(opportunityIds) {
      const ids = opportunityIds.map((id) => id.replace(/[^A-Za-z0-9]/g, ''));
      if (ids.length === 0) return [];
      return run(
        `SELECT Id, Email, ${HUBSPOT_ID_FIELD}, ConvertedContactId, ConvertedOpportunityId FROM Lead WHERE ConvertedOpportunityId IN (${list(ids)})`,
      );
    },
    async leadsByIdOrHubSpotId(leadIds, hubspotContactIds, fields) {
      const ids = [...new Set(leadIds)].filter(isSalesforceId);
      const conditions = [
        ids.length > 0 ? `Id IN (${list(ids)})` : '',
        hubspotContactIds.length > 0 ? `${HUBSPOT_ID_FIELD} IN (${list(hubspotContactIds)})` : '',
      ].filter(Boolean);
      if (conditions.length === 0) return [];
      return run(`SELECT ${selectList(fields)} FROM Lead WHERE ${conditions.join(' OR ')}`);
    },
    async everyoneByEmail(emails, leadFields) {
      if (emails.length === 0) return { leads: [], contacts: [] };
      const [leads, contacts] = await Promise.all([
        run(`SELECT ${selectList(leadFields)} FROM Lead WHERE Email IN (${list(emails)}) ORDER BY Id ASC`),
        run(`SELECT Id, Email FROM Contact WHERE Email IN (${list(emails)}) ORDER BY Id ASC`),
      ]);
      return { leads, contacts };
    },
    async unconvertedLeadsNaming(hubspotContactIds) {
      if (hubspotContactIds.length === 0) return [];
      return run(
        `SELECT Id, Email, ${HUBSPOT_ID_FIELD} FROM Lead WHERE ${HUBSPOT_ID_FIELD} IN (${list(hubspotContactIds)}) AND IsConverted = false ORDER BY CreatedDate`,
      );
    },
    recordsNamingContact: (type, hubspotContactId, fields) =>
      run(`SELECT ${selectList(fields)} FROM ${type} WHERE ${HUBSPOT_ID_FIELD} = ${soqlString(hubspotContactId)}`),
  };
}

function activityReads(run: RunQuery): Pick<SyncReads, 'activitiesByOthers' | 'tasksCreatedBy'> {
  return {
    async activitiesByOthers(type, whoIds, userId) {
      const rows = await inParts(whoIds, IDS_PER_QUERY, (part) =>
        run(
          `SELECT Id, WhoId, CreatedDate FROM ${type} WHERE WhoId IN (${list(part)}) AND CreatedById != ${soqlString(userId)} ORDER BY CreatedDate ASC`,
        ),
      );
      return rows.map((row): SalesforceActivity => ({
        id: row.Id,
        whoId: stringValue(row.WhoId),
        createdDate: stringValue(row.CreatedDate),
      }));
    },
    async tasksCreatedBy(whoId, userId) {
      const rows = await run(`SELECT Id, Description FROM Task WHERE WhoId = ${soqlString(whoId)} AND CreatedById = ${soqlString(userId)}`);
      return rows.map((row) => ({ id: row.Id, description: stringValue(row.Description) }));
    },
  };
}

function campaignReads(run: RunQuery): Pick<SyncReads, 'campaignsNamed' | 'campaignMembers' | 'campaignMemberStatuses'> {
  return {
    async campaignsNamed(names) {
      const rows = await inParts(names, NAMES_PER_QUERY, (part) =>
        run(`SELECT Id, Name, IsActive FROM Campaign WHERE Name IN (${list(part)}) ORDER BY CreatedDate ASC, Id ASC`),
      );
      return rows.map((row): CampaignRow => ({ id: row.Id, name: stringValue(row.Name), active: row.IsActive === true }));
    },
    async campaignMembers(campaignIds, person, personIds) {
      if (campaignIds.length === 0) return [];
      const rows = await inParts(personIds, IDS_PER_QUERY, (part) =>
        run(
          `SELECT Id, CampaignId, LeadId, ContactId FROM CampaignMember WHERE CampaignId IN (${list(campaignIds)}) AND ${person} IN (${list(part)})`,
        ),
      );
      return rows.map((row): CampaignMemberRow => ({
        campaignId: stringValue(row.CampaignId),
        leadId: stringValue(row.LeadId),
        contactId: stringValue(row.ContactId),
      }));
    },
    async campaignMemberStatuses(campaignIds) {
      const rows = await inParts(campaignIds, NAMES_PER_QUERY, (part) =>
        run(`SELECT Id, CampaignId, Label, HasResponded, SortOrder FROM CampaignMemberStatus WHERE CampaignId IN (${list(part)})`),
      );
      return rows.map((row): MemberStatusRow => ({
        campaignId: String(row.CampaignId),
        label: stringValue(row.Label),
        responded: row.HasResponded === true,
        sortOrder: typeof row.SortOrder === 'number' ? row.SortOrder : null,
      }));
    },
  };
}

/** The sync's named reads over one query runner. */
export function createSyncReads(run: RunQuery, count: RunCount): SyncReads {
  return { ...backfillReads(run, count), ...identityReads(run), ...activityReads(run), ...campaignReads(run) };
}

/** What a sync run works with: one installation's CRM ports, rules, state and clock. */
import type { HubSpotPort, SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import type { FeedbackTaxonomy } from '../domain/feedback.ts';
import type { FieldMapping, StageDictionary } from '../domain/stages.ts';
import type { Queryable } from '../store/db.ts';
import type { SyncLogEntry } from '../store/sync-log.ts';
import { ATTRIBUTION_CONTACT_PROPERTIES, SALESFORCE_STAMP_FIELDS, type AttributionSettings } from './attribution-settings.ts';
import type { ValueLedger } from './value-ledger.ts';

export interface SyncContext {
  installationId: string;
  db: Queryable;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  dictionary: StageDictionary;
  fieldMappings: readonly FieldMapping[];
  ledger: ValueLedger;
  now: () => Date;
  /** Where the log lines of this run point (queue and job), for the admin's sync log. */
  job?: { queue: string; id: string };
  /** Channel rules and Campaign handling (src/sync/attribution.ts, src/sync/campaign-membership.ts); absent, the defaults. */
  attribution?: AttributionSettings;
  /** Sales feedback back to marketing (src/sync/feedback.ts); absent, only the lifecycle syncs. */
  feedback?: { taxonomy: FeedbackTaxonomy; integrationUserId: string };
  /**
   * The SLA due time of a handoff at this instant when it is known before the Lead exists (a
   * policy without overrides), else null: the `pending` stamp then rides on the handoff's own writes.
   */
  slaDueAt?: (handoffAt: Date) => Date | null;
  /** Contact updates another step of this batch prepared (SLA first-touch stamps), sent with the sync's own. */
  hubspotWrites?: readonly { id: string; properties: Record<string, string> }[];
}

/** The HubSpot contact properties every sync reads. */
export const CONTACT_SYNC_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'company',
  'phone',
  'jobtitle',
  'lifecyclestage',
  'hs_lead_status',
  'sales_feedback_status',
  'salesforce_lead_id',
  'salesforce_contact_id',
  'lastmodifieddate',
  ...ATTRIBUTION_CONTACT_PROPERTIES,
  // Owners (src/sync/owners.ts).
  'hubspot_owner_id',
  'sales_owner_name',
  'sales_owner_email',
  // Email consent (src/sync/consent.ts).
  'hs_email_optout',
  // Merges found before their event (src/sync/merges.ts).
  'hs_merged_object_ids',
] as const;

/** The Lead fields every sync reads. */
export const LEAD_SYNC_FIELDS = [
  'Id',
  'Email',
  'FirstName',
  'LastName',
  'Company',
  'Phone',
  'Title',
  'Status',
  'IsConverted',
  'ConvertedContactId',
  'ConvertedOpportunityId',
  'HubSpot_Contact_Id__c',
  'Feedback_Reason__c',
  'LastModifiedById',
  'SystemModstamp',
  'OwnerId',
  'LeadSource',
  'CreatedDate',
  ...SALESFORCE_STAMP_FIELDS,
  'Feedback_Notes__c',
  'LastModifiedDate',
  'Marketing_Owner__c',
  // Email consent (src/sync/consent.ts).
  'HasOptedOutOfEmail',
] as const;

/** The Opportunity fields every sync reads. */
export const OPPORTUNITY_SYNC_FIELDS = [
  'Id',
  'StageName',
  'IsWon',
  'IsClosed',
  'Amount',
  'CloseDate',
  'LastModifiedById',
  'SystemModstamp',
  'Loss_Reason__c',
  'Win_Reason__c',
  'OwnerId',
  'LastModifiedDate',
] as const;

/**
 * A text field of a Salesforce record, as written; null when absent, not text, or blank (a value
 * of only whitespace says nothing). The sync's one reader of record fields.
 */
export function recordText(record: SalesforceRecord | undefined, field: string): string | null {
  const value = record?.[field];
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** A text field of a Salesforce record, trimmed (for names and labels shown in messages); null when blank. */
export function trimmedText(record: SalesforceRecord | undefined, field: string): string | null {
  return recordText(record, field)?.trim() ?? null;
}

/** `hubspot:contact:101` — the sync log's record reference for a contact. */
export function contactRef(id: string): string {
  return `hubspot:contact:${id}`;
}

/** `salesforce:Lead:00Q…` — the sync log's record reference for a Salesforce record. */
export function salesforceRef(type: string, id: string): string {
  return `salesforce:${type}:${id}`;
}

/**
 * Where a record waits to be synced: a HubSpot contact goes to Salesforce (its id is the pending
 * key), a Lead or Opportunity to HubSpot (`Lead:00Q…`, `Opportunity:006…`). Takes a record
 * reference (`hubspot:contact:101`, `salesforce:Lead:00Q…`) or a bare id (digits: a HubSpot
 * contact; `00Q…` / `006…`: a Lead / an Opportunity). Null for anything the drains do not sync.
 */
export function pendingEntryOf(record: string): { direction: 'to-salesforce' | 'to-hubspot'; key: string } | null {
  const text = record.trim();
  const contact = /^(?:hubspot:contact:)?(\d{1,20})$/.exec(text)?.[1];
  if (contact) return { direction: 'to-salesforce', key: contact };
  const salesforce = /^(?:salesforce:(Lead|Opportunity):)?((00Q|006)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)$/.exec(text);
  if (!salesforce?.[2]) return null;
  const type = salesforce[2].startsWith('00Q') ? 'Lead' : 'Opportunity';
  if (salesforce[1] !== undefined && salesforce[1] !== type) return null;
  return { direction: 'to-hubspot', key: `${type}:${salesforce[2]}` };
}

/**
 * The Salesforce fields that carry a record's stage. The app remembers their values whenever it
 * writes or reads a Lead/Opportunity; a change by the integration user that leaves them as the
 * app knows them is its own write coming back (an echo).
 */
export const STAGE_FIELDS: Readonly<Record<'Lead' | 'Opportunity', readonly string[]>> = {
  Lead: ['Status', 'IsConverted'],
  Opportunity: ['StageName', 'IsClosed', 'IsWon'],
};

/** The stage fields of a record, as strings (Salesforce sends booleans as "true"/"false"). */
export function stageValues(type: 'Lead' | 'Opportunity', record: Record<string, unknown>): Record<string, string> {
  return fieldValues(STAGE_FIELDS[type], record);
}

/** Some fields of a record, as strings (Salesforce sends booleans as "true"/"false"); blanks left out. */
export function fieldValues(fields: readonly string[], record: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of fields) {
    const value = record[field];
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') values[field] = String(value);
  }
  return values;
}

/** Adds a line to a batch's sync log. */
export type LogLine = (
  recordRef: string,
  level: SyncLogEntry['level'],
  action: string,
  reason: string,
  details?: Record<string, unknown>,
) => void;

/**
 * A batch's sync log, written in one go when the batch ends: `entry` adds a line for the
 * installation, naming the job the batch runs in (when it runs in one) and, for a long run's step,
 * the run (`tag`, e.g. `{ backfillRun }`) in every line's details.
 */
export function syncLogLines(
  ctx: Pick<SyncContext, 'installationId' | 'job'>,
  tag?: Record<string, unknown>,
): { log: SyncLogEntry[]; entry: LogLine } {
  const log: SyncLogEntry[] = [];
  const entry: LogLine = (recordRef, level, action, reason, details) => {
    const tagged = tag ? { ...details, ...tag } : details;
    log.push({
      installationId: ctx.installationId,
      recordRef,
      level,
      action,
      reason,
      ...(tagged ? { details: tagged } : {}),
      ...(ctx.job ? { jobQueue: ctx.job.queue, jobId: ctx.job.id } : {}),
    });
  };
  return { log, entry };
}

/** What a sync run works with: one installation's CRM ports, rules, state and clock. */
import type { HubSpotPort, SalesforcePort } from '../crm/ports.ts';
import type { FieldMapping, StageDictionary } from '../domain/stages.ts';
import type { Queryable } from '../store/db.ts';
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
}

/** The HubSpot contact properties every sync reads. */
export const CONTACT_SYNC_PROPERTIES = [
  'email', 'firstname', 'lastname', 'company', 'phone', 'jobtitle', 'lifecyclestage', 'hs_lead_status',
  'sales_feedback_status', 'salesforce_lead_id', 'salesforce_contact_id', 'lastmodifieddate',
] as const;

/** The Lead fields every sync reads. */
export const LEAD_SYNC_FIELDS = [
  'Id', 'Email', 'FirstName', 'LastName', 'Company', 'Phone', 'Title', 'Status', 'IsConverted', 'ConvertedContactId',
  'ConvertedOpportunityId', 'HubSpot_Contact_Id__c', 'Feedback_Reason__c', 'LastModifiedById', 'SystemModstamp', 'OwnerId', 'LeadSource',
] as const;

/** The Opportunity fields every sync reads. */
export const OPPORTUNITY_SYNC_FIELDS = ['Id', 'StageName', 'IsWon', 'IsClosed', 'Amount', 'CloseDate', 'LastModifiedById', 'SystemModstamp', 'Loss_Reason__c'] as const;

/** `hubspot:contact:101` — the sync log's record reference for a contact. */
export function contactRef(id: string): string {
  return `hubspot:contact:${id}`;
}

/** `salesforce:Lead:00Q…` — the sync log's record reference for a Salesforce record. */
export function salesforceRef(type: string, id: string): string {
  return `salesforce:${type}:${id}`;
}

/**
 * What the domain needs from each CRM, in the domain's words. The HubSpot adapter (over
 * @hubspot/api-client) and the Salesforce adapter (over jsforce) implement these; workers use
 * nothing else. Batch methods take any number of records and split them at the API's limit.
 * Per-record failures come back as values; whole-request failures throw the errors of errors.ts.
 */
import type { UpcomingCampaign } from '../domain/review.ts';
import type { HubSpotOwner, SalesforceUser } from '../domain/owners.ts';
import type { CurrencyRates } from '../domain/revenue.ts';
import type { Result } from '../domain/result.ts';

/** The outcome of writing one record in a batch. */
export type WriteOutcome = { ok: true; id: string; created: boolean } | { ok: false; code: string; message: string; fields?: string[] };

/** What the sync log says of a write the CRM did not take: its code and message, or that no answer named the record. */
export function refusalOf(outcome: WriteOutcome | undefined): string {
  return outcome === undefined || outcome.ok ? 'no result' : `${outcome.code} ${outcome.message}`;
}

/** API calls used against one of the account's limits (shown to the admin). */
export interface ApiLimitUsage {
  /** e.g. `Daily API requests`, `Requests per 10 s window`. */
  name: string;
  used: number;
  max: number;
}

export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
  /** ISO timestamp of the last modification (HubSpot `updatedAt`). */
  updatedAt: string;
  archived: boolean;
}

/** A HubSpot company with the properties read. */
export interface HubSpotCompany {
  id: string;
  properties: Record<string, string | null>;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'number' | 'datetime' | 'date' | 'enumeration';
  fieldType: 'text' | 'textarea' | 'number' | 'date' | 'select';
  options?: { label: string; value: string }[];
  description?: string;
}

/** A contact property as the portal defines it (properties API), for checking the admin's rules. */
export interface ContactPropertyInfo {
  name: string;
  label: string;
  /** The property's `type` (string, number, date, datetime, enumeration, bool) and `fieldType` (how it is edited). */
  type: string;
  fieldType: string | null;
  /** Internal option values of an enumeration; null for a property of another type. */
  options: string[] | null;
  /** HubSpot computes the value and refuses writes (`modificationMetadata.readOnlyValue`). */
  readOnly: boolean;
}

/** A marketing campaign with its schedule (Salesforce Campaign or HubSpot marketing campaign); dates `YYYY-MM-DD`. */
export type ScheduledCampaign = Omit<UpcomingCampaign, 'source'>;

export interface HubSpotPort {
  readonly system: 'hubspot';
  /**
   * Marketing campaigns starting on a UTC day in [from, until) (Marketing campaigns API v3, every
   * page). A portal without them (Marketing Hub below Professional) or a token without the
   * `marketing.campaigns.read` scope is an expected answer: an error value with HubSpot's reason.
   */
  campaignsStartingBetween(from: Date, until: Date): Promise<Result<ScheduledCampaign[], string>>;
  /** Reads contacts by id with the given properties (batch read, 100 per call); unknown ids are left out. */
  readContacts(ids: readonly string[], properties: readonly string[]): Promise<HubSpotContact[]>;
  /** Updates contacts (batch update, 100 per call); keyed by contact id. */
  updateContacts(updates: readonly { id: string; properties: Record<string, string> }[]): Promise<Map<string, WriteOutcome>>;
  /** Creates or updates contacts by email (batch upsert, 100 per call); keyed by lower-cased email. */
  upsertContactsByEmail(inputs: readonly { email: string; properties: Record<string, string> }[]): Promise<Map<string, WriteOutcome>>;
  /** Adds a note associated with the contact; returns the note id. */
  addTimelineNote(contactId: string, html: string, at: Date): Promise<string>;
  /**
   * Adds notes associated with contacts (batch create, 100 per call); one outcome per note, in
   * input order. A batch HubSpot refuses as a whole goes again one note at a time, so a bad note
   * (its contact deleted) fails alone.
   */
  addTimelineNotes(notes: readonly { contactId: string; html: string; at: Date }[]): Promise<WriteOutcome[]>;
  /**
   * When each given property of each contact last changed (batch read with property history, 50
   * per call), as epoch milliseconds; a property that never had a value is left out.
   */
  readPropertyChangeTimes(ids: readonly string[], properties: readonly string[]): Promise<Map<string, Record<string, number>>>;
  /** Contacts modified at or after `since` (search on lastmodifieddate, oldest first), one page. */
  findContactsChangedSince(
    since: Date,
    properties: readonly string[],
    after?: string,
  ): Promise<{ contacts: HubSpotContact[]; after?: string }>;
  /** Reads contacts by email (batch read by the `email` id property, 100 per call); unknown emails are left out. */
  readContactsByEmail(emails: readonly string[], properties: readonly string[]): Promise<HubSpotContact[]>;
  /** One page of every contact in id order (list API, 100 per page; no 10,000-result cap as in search). */
  listContacts(properties: readonly string[], after?: string): Promise<{ contacts: HubSpotContact[]; after?: string }>;
  /** How many contacts the portal holds (the search API's total). */
  countContacts(): Promise<number>;
  /** Creates the property group and the properties that do not exist yet; never changes existing ones. */
  ensureContactProperties(
    group: { name: string; label: string },
    definitions: readonly PropertyDefinition[],
    dryRun: boolean,
  ): Promise<{ missing: string[]; created: string[] }>;
  /** Every contact property of the portal with its options (properties API, archived ones left out). */
  readContactProperties(): Promise<ContactPropertyInfo[]>;
  /** Creates the company properties that do not exist yet (same rules as contacts). */
  ensureCompanyProperties(
    group: { name: string; label: string },
    definitions: readonly PropertyDefinition[],
    dryRun: boolean,
  ): Promise<{ missing: string[]; created: string[] }>;
  /** Reads companies by id with the given properties (batch read, 100 per call); unknown ids are left out. */
  readCompanies(ids: readonly string[], properties: readonly string[]): Promise<HubSpotCompany[]>;
  /** Updates companies by id (batch, 100 per call); keyed by company id, like `updateContacts`. */
  updateCompanies(updates: readonly { id: string; properties: Record<string, string> }[]): Promise<Map<string, WriteOutcome>>;
  /** The companies each contact is associated with, its primary company first (v4 associations). */
  companiesOfContacts(contactIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Usage against the account's limits, from the rate-limit headers of one cheap read. */
  apiUsage(): Promise<ApiLimitUsage[]>;
  /**
   * Every owner of the portal, active and archived (owners API, every page of both lists). A token
   * without `crm.objects.owners.read` is an expected answer: an error value with HubSpot's reason.
   */
  listOwners(): Promise<Result<HubSpotOwner[], string>>;
  /**
   * Unsubscribes each email address from all email (subscription preferences API, one call per
   * address: `hs_email_optout` cannot be written through the CRM). Keyed by lower-cased email; an
   * address already unsubscribed is a success. There is deliberately no way back: the app never
   * resubscribes anyone.
   */
  unsubscribeFromAllEmail(emails: readonly string[]): Promise<Map<string, WriteOutcome>>;
  /** Deletes (archives) contacts by id (batch archive, 100 per call); restorable in HubSpot for 90 days. */
  archiveContacts(ids: readonly string[]): Promise<void>;
}

export interface SalesforceRecord {
  Id: string;
  [field: string]: unknown;
}

/** A Task or Event logged on a person (`WhoId`: a Lead or Contact). */
export interface SalesforceActivity {
  id: string;
  whoId: string | null;
  /** ISO 8601. */
  createdDate: string | null;
}

/** A Campaign as the attribution finds it by name. */
export interface CampaignRow {
  id: string;
  name: string | null;
  active: boolean;
}

/** A person's membership of a Campaign (one of `leadId`, `contactId`). */
export interface CampaignMemberRow {
  campaignId: string | null;
  leadId: string | null;
  contactId: string | null;
}

/** A member status a Campaign offers (`CampaignMemberStatus`). */
export interface MemberStatusRow {
  campaignId: string;
  label: string | null;
  responded: boolean;
  sortOrder: number | null;
}

export interface CustomFieldDefinition {
  object: 'Lead' | 'Contact' | 'Opportunity';
  /** API name with the __c suffix, e.g. First_Touch_Channel__c. */
  name: string;
  label: string;
  type: 'Text' | 'LongTextArea' | 'DateTime' | 'Picklist' | 'Currency' | 'Number';
  length?: number;
  externalId?: boolean;
  unique?: boolean;
  picklistValues?: string[];
  /** What the sales users' permission set grants on it; absent: read. The integration user edits every field. */
  salesAccess?: 'read' | 'edit';
}

/** Access a permission set grants on a field: `read`, or `edit` (which includes read). */
export type FieldAccess = 'read' | 'edit';

/** Object permissions of a permission set (Salesforce `ObjectPermissions`). */
export interface ObjectAccess {
  object: string;
  read: boolean;
  create: boolean;
  edit: boolean;
}

/** A permission set the app needs in the org (src/crm/field-catalog.ts holds the app's two). */
export interface PermissionSetSpec {
  /** API name (`PermissionSet.Name`). */
  name: string;
  label: string;
  description: string;
  /** System permissions (`PermissionSet.Permissions<Name>`, `<userPermissions>` in metadata). */
  userPermissions: readonly string[];
  objects: readonly ObjectAccess[];
  fields: readonly { object: string; field: string; access: FieldAccess }[];
}

/** What a permission set lacked when `ensurePermissionSet` looked (before any change it made). */
export interface PermissionSetState {
  /** Its id, when it exists (after the call, when it was created). */
  id: string | null;
  existed: boolean;
  /** `Object.Field` the set does not grant at the access the spec asks. */
  missingFields: string[];
  /** Objects whose permissions the set lacks or grants less than the spec asks. */
  missingObjects: string[];
  /** System permissions not enabled on the set. */
  missingUserPermissions: string[];
  /** Of the assignees asked for, the ones not assigned. */
  unassigned: string[];
  /** How many users hold the set. */
  assignees: number;
}

/** What the connected user may do, by describe: its view of the objects and their fields. */
export interface DescribedAccess {
  /** Objects the user can describe, with its object-level rights. */
  objects: Map<string, { createable: boolean; updateable: boolean }>;
  /** `Object.Field` → access, for every field describe shows the user. */
  fields: Map<string, FieldAccess>;
}

/** A field of an object as describe shows it to the connected user, for checking the admin's rules. */
export interface DescribedField {
  name: string;
  label: string;
  /** The describe `type` (string, picklist, double, date…) and, for text, the most characters it holds (0 otherwise). */
  type: string;
  length: number;
  /** The user may set it on create or update (field-level security and the field's own nature). */
  writable: boolean;
  /** Active values of a picklist (API names); null for a field of another type. */
  picklistValues: string[] | null;
}

export interface SalesforcePort {
  readonly system: 'salesforce';
  /** Campaigns whose StartDate is a UTC day in [from, until), soonest first. */
  campaignsStartingBetween(from: Date, until: Date): Promise<ScheduledCampaign[]>;
  /** The id of the user the app writes as (LastModifiedById of its own writes). */
  integrationUserId(): Promise<string>;
  /**
   * Upserts Leads by HubSpot_Contact_Id__c (sObject Collections, 200 per call, allOrNone false,
   * `Sforce-Auto-Assign: TRUE` so assignment rules pick the owner); keyed by HubSpot contact id.
   * Leads that carry an `OwnerId` go in their own calls with `Sforce-Auto-Assign: FALSE`, so the
   * owner the app chose is kept.
   */
  upsertLeadsByHubSpotId(
    leads: readonly (Record<string, unknown> & { HubSpot_Contact_Id__c: string })[],
  ): Promise<Map<string, WriteOutcome>>;
  /** Updates records of one type by Id (sObject Collections, 200 per call); keyed by record id. */
  updateRecords(type: string, records: readonly SalesforceRecord[]): Promise<Map<string, WriteOutcome>>;
  /** Creates records of one type (sObject Collections, 200 per call); outcomes in input order. */
  createRecords(type: string, records: readonly Record<string, unknown>[]): Promise<WriteOutcome[]>;
  /** Reads records of one type by id with the given fields (SOQL `Id IN (…)`, chunked). */
  readRecords(type: string, ids: readonly string[], fields: readonly string[]): Promise<SalesforceRecord[]>;
  /** The Contacts of the given Accounts (Id, AccountId). */
  contactsOfAccounts(accountIds: readonly string[]): Promise<{ id: string; accountId: string }[]>;
  /** Unconverted Leads and Contacts whose Email is one of `emails` (case-insensitive). */
  findByEmail(
    emails: readonly string[],
    /** Also the unconverted Leads naming one of these HubSpot contacts (`HubSpot_Contact_Id__c`), with these fields on every Lead. */
    also?: { hubspotContactIds: readonly string[]; leadFields: readonly string[] },
  ): Promise<{ leads: SalesforceRecord[]; contacts: SalesforceRecord[] }>;
  /**
   * When each of the fields last changed on each record, from the object's field history
   * (`LeadHistory` / `ContactHistory`): only fields the org tracks have a time; the rest are absent.
   */
  fieldChangeTimes(
    type: 'Lead' | 'Contact',
    ids: readonly string[],
    fields: readonly string[],
  ): Promise<Map<string, Record<string, number>>>;
  /** Records of `type` with SystemModstamp ≥ since, ordered by (SystemModstamp, Id), one page. */
  findChangedSince(type: string, fields: readonly string[], since: Date, limit: number): Promise<SalesforceRecord[]>;
  /** How many unconverted Leads name no HubSpot contact (what a backfill's Lead phase links). */
  countUnlinkedLeads(): Promise<number>;
  /** Unconverted Leads naming no HubSpot contact, by Id after `afterId` (null or not an id: from the first), at most `limit`. */
  unlinkedLeadsAfter(afterId: string | null, fields: readonly string[], limit: number): Promise<SalesforceRecord[]>;
  /** Opportunities by Id after `afterId` (null or not an id: from the first), at most `limit`. */
  opportunitiesAfter(afterId: string | null, fields: readonly string[], limit: number): Promise<SalesforceRecord[]>;
  /** The Leads converted into one of these Opportunities (Id, Email, HubSpot contact id, ConvertedContactId, ConvertedOpportunityId). */
  leadsConvertedInto(opportunityIds: readonly string[]): Promise<SalesforceRecord[]>;
  /** Leads, converted or not, with one of `leadIds` (ids only; anything else left out) or naming one of `hubspotContactIds`. */
  leadsByIdOrHubSpotId(
    leadIds: readonly string[],
    hubspotContactIds: readonly string[],
    fields: readonly string[],
  ): Promise<SalesforceRecord[]>;
  /** Leads (converted or not, with `leadFields`) and Contacts (Id, Email) whose Email is one of `emails`, by Id. */
  everyoneByEmail(
    emails: readonly string[],
    leadFields: readonly string[],
  ): Promise<{ leads: SalesforceRecord[]; contacts: SalesforceRecord[] }>;
  /** Unconverted Leads naming one of these HubSpot contacts (Id, Email, HubSpot contact id), oldest first. */
  unconvertedLeadsNaming(hubspotContactIds: readonly string[]): Promise<SalesforceRecord[]>;
  /** The Leads or Contacts naming this HubSpot contact (`HubSpot_Contact_Id__c`), with `fields`. */
  recordsNamingContact(type: 'Lead' | 'Contact', hubspotContactId: string, fields: readonly string[]): Promise<SalesforceRecord[]>;
  /** Tasks or Events on these people that `userId` did not create, oldest first (INVALID_TYPE: the org hides the object). */
  activitiesByOthers(type: 'Task' | 'Event', whoIds: readonly string[], userId: string): Promise<SalesforceActivity[]>;
  /** The Tasks on a person that `userId` created. */
  tasksCreatedBy(whoId: string, userId: string): Promise<{ id: string; description: string | null }[]>;
  /** Campaigns with one of these names, oldest first. */
  campaignsNamed(names: readonly string[]): Promise<CampaignRow[]>;
  /** The memberships of these Campaigns held by one of these Leads (`LeadId`) or Contacts (`ContactId`). */
  campaignMembers(
    campaignIds: readonly string[],
    person: 'LeadId' | 'ContactId',
    personIds: readonly string[],
  ): Promise<CampaignMemberRow[]>;
  /** The member statuses these Campaigns offer. */
  campaignMemberStatuses(campaignIds: readonly string[]): Promise<MemberStatusRow[]>;
  /** Whether the connected user can query `object` (false when the org hides or lacks it: INVALID_TYPE). */
  canQuery(object: string): Promise<boolean>;
  /** Creates the custom fields that do not exist yet (Tooling API); never changes existing ones. */
  ensureCustomFields(definitions: readonly CustomFieldDefinition[], dryRun: boolean): Promise<{ missing: string[]; created: string[] }>;
  /**
   * Creates the permission set when missing and adds what it lacks (field and object permissions,
   * system permissions, assignments to `assigneeIds`); never removes or lowers anything. Returns
   * what was missing before. `dryRun` changes nothing.
   */
  ensurePermissionSet(spec: PermissionSetSpec, assigneeIds: readonly string[], dryRun: boolean): Promise<PermissionSetState>;
  /** The fields of `object` the connected user sees, by describe; null when it cannot see the object. */
  describeFields(object: string): Promise<DescribedField[] | null>;
  /** The connected user's access to `objects` and their fields, by describe (what its API calls can use). */
  describeAccess(objects: readonly string[]): Promise<DescribedAccess>;
  /**
   * Whether the user has the Marketing User flag (needed to create Campaigns); with `enable`, turns
   * it on when off. `changed` says it was turned on now.
   */
  marketingUser(userId: string, enable: boolean): Promise<{ enabled: boolean; changed: boolean }>;
  /** Converts a Lead (SOAP convertLead). */
  convertLead(
    leadId: string,
    convertedStatus: string,
    createOpportunity: boolean,
  ): Promise<{ contactId: string; accountId: string; opportunityId: string | null }>;
  /**
   * The org's currencies: in a multi-currency org the corporate currency and each active currency's
   * rate against it (`CurrencyType`); in a single-currency org (no `CurrencyType`) its one currency
   * (SOAP getUserInfo `orgDefaultCurrencyIsoCode`); null when neither can be read.
   */
  currencyRates(): Promise<CurrencyRates | null>;
  /** The web address of a record in this org (links in timeline notes and alerts). */
  recordUrl(type: string, id: string): string;
  /** Usage against the org's limits (`/limits`: daily API requests). */
  apiUsage(): Promise<ApiLimitUsage[]>;
  /** Every user of the org, active or not (SOQL on User: Id, Username, Email, Name, IsActive, UserType). */
  listUsers(): Promise<SalesforceUser[]>;
  /**
   * Records of `type` in the recycle bin (`queryAll`, `IsDeleted = true`) with SystemModstamp ≥
   * since, ordered by (SystemModstamp, Id), one page; `MasterRecordId` says a merge deleted them.
   */
  findDeletedSince(type: 'Lead' | 'Contact', since: Date, limit: number): Promise<SalesforceRecord[]>;
  /** Deletes records of one type by Id (sObject Collections, 200 per call); keyed by record id. */
  deleteRecords(type: string, ids: readonly string[]): Promise<Map<string, WriteOutcome>>;
}

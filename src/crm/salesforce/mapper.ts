/**
 * Salesforce wire shapes ⇄ the port's types: zod checks of jsforce's answers, SOQL built from
 * validated identifiers and escaped literals, collection results as `WriteOutcome`s, and custom
 * field definitions as Tooling API metadata.
 */
import { z } from 'zod';
import type { CustomFieldDefinition, SalesforceRecord, WriteOutcome } from '../ports.ts';

/** Records per sObject Collections request (docs/reference/salesforce-api.md §3.1). */
export const COLLECTION_LIMIT = 200;
/** Ids per `Id IN (…)` query: 200 × ~21 characters keeps the URL far below the 16 KB limit. */
export const IDS_PER_QUERY = 200;
/** Emails per `Email IN (…)` query: one drain batch (200); ~40 encoded characters each stays under 16 KB. */
export const EMAILS_PER_QUERY = 200;
/** The external id field the Lead upsert goes through (docs/architecture.md §7). */
export const HUBSPOT_ID_FIELD = 'HubSpot_Contact_Id__c';

/** Fields `findByEmail` returns for Leads (with the HubSpot id, so a match shows its link). */
export const LEAD_MATCH_FIELDS = [
  'Id',
  'Email',
  'FirstName',
  'LastName',
  'Company',
  'Status',
  'OwnerId',
  'LeadSource',
  HUBSPOT_ID_FIELD,
  'LastModifiedById',
  'SystemModstamp',
] as const;
/** Fields `findByEmail` returns for Contacts (standard fields only). */
export const CONTACT_MATCH_FIELDS = [
  'Id',
  'Email',
  'FirstName',
  'LastName',
  'AccountId',
  'OwnerId',
  'LeadSource',
  'LastModifiedById',
  'SystemModstamp',
] as const;

const recordError = z.looseObject({
  statusCode: z.string().optional(),
  errorCode: z.string().optional(),
  message: z.string().optional(),
  fields: z.array(z.string()).optional(),
});

/** One entry of a collection answer (`created` only on upserts). */
export const saveResultSchema = z.looseObject({
  id: z.string().nullable().optional(),
  success: z.boolean(),
  created: z.boolean().optional(),
  errors: z.array(recordError).default([]),
});
/** A whole collection answer, one entry per record in request order. */
export const saveResultsSchema = z.array(saveResultSchema);

/** A query page. */
export const queryResultSchema = z.looseObject({
  done: z.boolean(),
  nextRecordsUrl: z.string().optional(),
  records: z.array(z.looseObject({ Id: z.string().optional() })),
});

/** A `SELECT COUNT() …` answer: the count is `totalSize`, with no rows. */
export const countResultSchema = z.looseObject({ totalSize: z.number().int().nonnegative() });

/** The REST resource root names the identity URL `…/id/<orgId>/<userId>`. */
export const resourcesSchema = z.looseObject({ identity: z.string().min(1) });

/** `SELECT Id, DeveloperName, TableEnumOrId FROM CustomField` rows of the Tooling API. */
export const customFieldRowsSchema = z.array(z.looseObject({ DeveloperName: z.string(), TableEnumOrId: z.string() }));

/** The convertLead SOAP result (nil elements come back as null or are absent). */
export const convertResultSchema = z.looseObject({
  success: z.boolean(),
  contactId: z.string().nullable().optional(),
  accountId: z.string().nullable().optional(),
  opportunityId: z.string().nullable().optional(),
  errors: z
    .union([z.array(recordError), recordError])
    .nullable()
    .optional(),
});

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
const SOBJECT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** An sObject type name, or a RangeError (it is spliced into SOQL and URLs). */
export function sobjectName(type: string): string {
  if (!SOBJECT.test(type)) throw new RangeError(`not an sObject name: ${JSON.stringify(type)}`);
  return type;
}

/** A field list for SELECT: validated names (relationship paths allowed), Id first, no duplicates. */
export function selectList(fields: readonly string[]): string {
  const names = new Map<string, string>([['id', 'Id']]);
  for (const field of fields) {
    if (!IDENTIFIER.test(field)) throw new RangeError(`not a field name: ${JSON.stringify(field)}`);
    if (!names.has(field.toLowerCase())) names.set(field.toLowerCase(), field);
  }
  return [...names.values()].join(', ');
}

/** A SOQL string literal: quotes, backslashes and control characters escaped. */
export function soqlString(value: string): string {
  const escaped = value.replace(
    /[\\'"\n\r\t\b\f]/g,
    (ch) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' })[ch] ?? ch,
  );
  return `'${escaped}'`;
}

/** A SOQL date literal (`2026-12-01`) of the UTC day of `at`. */
export function soqlDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Campaigns starting on a UTC day in [from, until), soonest first (Campaign: StartDate is a date field). */
export function campaignsStartingQuery(from: Date, until: Date): string {
  return `SELECT Id, Name, Type, Status, StartDate, EndDate FROM Campaign WHERE StartDate >= ${soqlDate(from)} AND StartDate < ${soqlDate(until)} ORDER BY StartDate, Name`;
}

/** A SOQL datetime literal in UTC, whole seconds (rounded down, so `>=` never misses a record). */
export function soqlDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** A text value of a record field; null when absent, not a string or empty. */
export function stringValue(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `SELECT … FROM type WHERE Id IN (…)`. */
export function byIdsQuery(type: string, ids: readonly string[], fields: readonly string[]): string {
  return `SELECT ${selectList(fields)} FROM ${sobjectName(type)} WHERE Id IN (${ids.map(soqlString).join(', ')})`;
}

/**
 * Unconverted Leads (or Contacts) with one of the emails (SOQL `=` and `IN` ignore case on text);
 * for Leads also those naming one of `hubspotContactIds`, with `fields` beyond the match fields.
 */
export function byEmailQuery(
  type: 'Lead' | 'Contact',
  emails: readonly string[],
  hubspotContactIds: readonly string[] = [],
  fields: readonly string[] = [],
): string {
  const select = type === 'Lead' ? [...new Set([...LEAD_MATCH_FIELDS, ...fields])] : CONTACT_MATCH_FIELDS;
  const unconverted = type === 'Lead' ? 'IsConverted = false AND ' : '';
  const conditions = [
    ...(emails.length > 0 ? [`Email IN (${emails.map(soqlString).join(', ')})`] : []),
    ...(type === 'Lead' && hubspotContactIds.length > 0
      ? [`${HUBSPOT_ID_FIELD} IN (${hubspotContactIds.map(soqlString).join(', ')})`]
      : []),
  ];
  const where = conditions.length === 1 ? conditions[0] : `(${conditions.join(' OR ')})`;
  return `SELECT ${selectList(select)} FROM ${type} WHERE ${unconverted}${where}`;
}

/** Records changed at or after `since`, oldest first with Id as the tie-breaker. */
export function changedSinceQuery(type: string, fields: readonly string[], since: Date, limit: number): string {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const select = selectList([...fields, 'SystemModstamp']);
  return `SELECT ${select} FROM ${sobjectName(type)} WHERE SystemModstamp >= ${soqlDateTime(since)} ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`;
}

/** Custom fields of the given objects (the Tooling API's CustomField; TableEnumOrId is the object name for standard objects). */
export function customFieldsQuery(objects: readonly string[]): string {
  return `SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId IN (${objects.map((object) => soqlString(sobjectName(object))).join(', ')})`;
}

/** A value with jsforce's `attributes` removed from every nested record. */
function withoutAttributes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAttributes);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (key !== 'attributes') copy[key] = withoutAttributes(inner);
  return copy;
}

/** A queried row as a record: `attributes` removed (also on relationship records); the row must have its Id. */
export function toSalesforceRecord(raw: Record<string, unknown>): SalesforceRecord {
  const record = withoutAttributes(raw) as Record<string, unknown>;
  if (typeof record.Id !== 'string') throw new RangeError('a queried row has no Id: select Id in every query');
  return record as SalesforceRecord;
}

/** A collection result as a write outcome. */
export function toWriteOutcome(result: z.output<typeof saveResultSchema>, createdByDefault: boolean): WriteOutcome {
  if (result.success && typeof result.id === 'string') return { ok: true, id: result.id, created: result.created ?? createdByDefault };
  const first = result.errors[0];
  const fields = [...new Set(result.errors.flatMap((error) => error.fields ?? []))];
  return {
    ok: false,
    code: first?.statusCode ?? first?.errorCode ?? 'UNKNOWN_ERROR',
    message:
      result.errors
        .map((error) => error.message ?? '')
        .filter((message) => message !== '')
        .join('; ') || 'the record was not saved',
    ...(fields.length > 0 ? { fields } : {}),
  };
}

/** The full name of a custom field, `Lead.First_Touch_Channel__c`. */
export function fullNameOf(definition: Pick<CustomFieldDefinition, 'object' | 'name'>): string {
  return `${definition.object}.${definition.name}`;
}

/** The developer name of a custom field (without `__c`), or a RangeError for a name that is not a custom field. */
export function developerNameOf(name: string): string {
  const match = /^([A-Za-z][A-Za-z0-9_]*)__c$/.exec(name);
  if (match?.[1] === undefined) throw new RangeError(`not a custom field name (expected …__c): ${JSON.stringify(name)}`);
  return match[1];
}

/** The Tooling API `Metadata` of a custom field. */
export function toFieldMetadata(definition: CustomFieldDefinition): Record<string, unknown> {
  const base = { label: definition.label.slice(0, 40), description: 'Managed by Smarketing Sync' };
  switch (definition.type) {
    case 'Text':
      return {
        ...base,
        type: 'Text',
        length: definition.length ?? 255,
        externalId: definition.externalId ?? false,
        unique: definition.unique ?? false,
        ...(definition.unique === true ? { caseSensitive: false } : {}),
      };
    case 'LongTextArea':
      return { ...base, type: 'LongTextArea', length: definition.length ?? 32_768, visibleLines: 5 };
    case 'DateTime':
      return { ...base, type: 'DateTime' };
    case 'Picklist':
      return {
        ...base,
        type: 'Picklist',
        valueSet: {
          restricted: false,
          valueSetDefinition: {
            sorted: false,
            value: (definition.picklistValues ?? []).map((value) => ({ fullName: value, label: value, default: false })),
          },
        },
      };
    case 'Currency':
      return { ...base, type: 'Currency', precision: 18, scale: 2 };
    case 'Number':
      return {
        ...base,
        type: 'Number',
        precision: 18,
        scale: 0,
        externalId: definition.externalId ?? false,
        unique: definition.unique ?? false,
      };
  }
}

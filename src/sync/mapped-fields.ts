/**
 * The admin's field mappings driving the sync (docs/architecture.md §19): what each run reads and
 * what the intake and the reconciler watch derive from them, values cross under each mapping's
 * rule in the kinds of both ends, and a value the other side refuses is logged with its field and
 * value while the rest of the record's write goes through.
 */
import type { HubSpotContact, HubSpotPort, SalesforcePort, SalesforceRecord, WriteOutcome } from '../crm/ports.ts';
import { WATCHED_PROPERTIES } from '../crm/field-catalog.ts';
import {
  defaultKinds,
  hubspotCanonical,
  hubspotKindOf,
  hubspotValueOf,
  salesforceCanonical,
  salesforceKindOf,
  salesforceValueOf,
  type TypedMapping,
} from '../domain/field-values.ts';
import { contactFieldOf, DEFAULT_FIELD_MAPPINGS, resolveFieldValue, type FieldMapping } from '../domain/stages.ts';
import type { Queryable } from '../store/db.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { CONTACT_SYNC_PROPERTIES, LEAD_SYNC_FIELDS, contactRef, recordText, salesforceRef, syncLogLines } from './context.ts';
import { sameSalesforceId } from '../domain/salesforce-id.ts';
import { SALESFORCE_OPT_OUT_FIELD } from './consent.ts';
import { salesforceTime } from '../domain/salesforce-time.ts';

/** The pairs that sync (dont_sync pairs are neither read nor watched). */
function syncing(mappings: readonly FieldMapping[]): FieldMapping[] {
  return mappings.filter((m) => m.rule !== 'dont_sync');
}

/** The contact properties a sync reads: the app's own and every mapped one. */
export function contactReadProperties(mappings: readonly FieldMapping[]): string[] {
  return [...new Set<string>([...CONTACT_SYNC_PROPERTIES, ...syncing(mappings).map((m) => m.hubspotProperty)])];
}

/** The Lead fields a sync reads (and the Lead Outbound Message sends): the app's own and every mapped one. */
export function leadReadFields(mappings: readonly FieldMapping[]): string[] {
  return [...new Set<string>([...LEAD_SYNC_FIELDS, ...syncing(mappings).map((m) => m.salesforceField)])];
}

/** The mapped Contact fields: what the mappings follow once a Lead is converted. */
export function mappedContactFields(mappings: readonly FieldMapping[]): string[] {
  return [...new Set(syncing(mappings).flatMap((m) => contactFieldOf(m) ?? []))];
}

/** The fields of a converted person's Salesforce Contact whose change moves the sync: the email opt-out and the mapped ones. */
export function watchedContactRecordFields(mappings: readonly FieldMapping[]): string[] {
  return [...new Set([SALESFORCE_OPT_OUT_FIELD, ...mappedContactFields(mappings)])];
}

/** The Contact fields a sync reads (and the Contact Outbound Message sends): the watched ones and their change's author and time. */
export function contactRecordReadFields(mappings: readonly FieldMapping[]): string[] {
  return ['Id', 'SystemModstamp', 'LastModifiedById', ...watchedContactRecordFields(mappings)];
}

/** The contact properties whose change moves the sync: the webhook subscriptions, the intake's filter, the reconciler's check. */
export function watchedContactProperties(mappings: readonly FieldMapping[]): string[] {
  return [...new Set<string>([...WATCHED_PROPERTIES, ...syncing(mappings).map((m) => m.hubspotProperty)])];
}

const typedCache = new WeakMap<readonly FieldMapping[], Promise<readonly TypedMapping[]>>();

/**
 * The syncing mappings with the kinds of both ends. The defaults are text on both sides; any other
 * pair's kinds come from the Lead describe and the contact properties, read once per set of
 * mappings (a settings change makes a new set) and again after a failed read.
 */
export function typedMappings(ctx: {
  fieldMappings: readonly FieldMapping[];
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
}): Promise<readonly TypedMapping[]> {
  const cached = typedCache.get(ctx.fieldMappings);
  if (cached) return cached;
  const mappings = syncing(ctx.fieldMappings);
  const known = mappings.map((m) => defaultKinds(m, DEFAULT_FIELD_MAPPINGS));
  const typed = known.every((k) => k !== null) ? Promise.resolve(known.filter((k) => k !== null)) : readKinds(ctx, mappings);
  typedCache.set(ctx.fieldMappings, typed);
  typed.catch(() => typedCache.delete(ctx.fieldMappings));
  return typed;
}

async function readKinds(
  ports: { hubspot: HubSpotPort; salesforce: SalesforcePort },
  mappings: readonly FieldMapping[],
): Promise<TypedMapping[]> {
  const [fields, contactFields, properties] = await Promise.all([
    ports.salesforce.describeFields('Lead'),
    mappings.some((m) => contactFieldOf(m) !== null) ? ports.salesforce.describeFields('Contact') : null,
    ports.hubspot.readContactProperties(),
  ]);
  const fieldTypes = new Map((fields ?? []).map((f) => [f.name, f.type]));
  const contactFieldTypes = new Map((contactFields ?? []).map((f) => [f.name, f.type]));
  const propertyTypes = new Map(properties.map((p) => [p.name, p]));
  return mappings.map((mapping) => {
    const property = propertyTypes.get(mapping.hubspotProperty);
    const fieldType = fieldTypes.get(mapping.salesforceField);
    const contactField = contactFieldOf(mapping);
    const contactFieldType = contactField === null ? undefined : contactFieldTypes.get(contactField);
    // A pair the metadata no longer shows (removed since it was saved) syncs as text: the CRM's refusal is logged.
    const salesforceKind = (fieldType ? salesforceKindOf(fieldType) : null) ?? 'text';
    return {
      ...mapping,
      hubspotKind: (property ? hubspotKindOf(property.type, property.fieldType) : null) ?? 'text',
      salesforceKind,
      contactField,
      contactKind: (contactFieldType ? salesforceKindOf(contactFieldType) : null) ?? salesforceKind,
    };
  });
}

/**
 * What a new Lead gets in a field Salesforce requires (LastName, Company) when the contact has no
 * value: a blank on both sides as far as the mappings go, so the contact's later value fills it and
 * the filler never reaches HubSpot.
 */
export const REQUIRED_PLACEHOLDER = '[not provided]';

/** A Lead's (or Contact's) value of a mapped field in the canonical text; the app's filler reads as blank (conversion copies it to the Contact). */
function leadCanonical(mapping: TypedMapping, lead: SalesforceRecord | undefined): string | null {
  const raw = lead?.[mapping.salesforceField];
  return raw === REQUIRED_PLACEHOLDER ? null : salesforceCanonical(mapping, raw);
}

function salesforceAt(lead: SalesforceRecord | undefined): number | null {
  return salesforceTime(lead?.SystemModstamp);
}

/** When a record's mapped field last changed: its own history time where the org tracks it, else the record's. */
function salesforceFieldAt(
  mapping: TypedMapping,
  lead: SalesforceRecord | undefined,
  times: Record<string, number> | undefined,
): number | null {
  return times?.[mapping.salesforceField] ?? salesforceAt(lead);
}

/** The `two_way` mappings whose two sides' change times decide (the email has its own path). */
function timedMappings(mappings: readonly TypedMapping[]): TypedMapping[] {
  return mappings.filter((m) => m.rule === 'two_way' && m.hubspotProperty !== 'email');
}

/** The pairs whose values differ under the timed mappings: only there does the rule weigh the times. */
function differingPairs<P extends { contact: HubSpotContact; lead: SalesforceRecord | undefined }>(
  timed: readonly TypedMapping[],
  pairs: readonly P[],
): (P & { lead: SalesforceRecord })[] {
  const differ = (contact: HubSpotContact, lead: SalesforceRecord) =>
    timed.some((m) => (hubspotCanonical(m, contact.properties[m.hubspotProperty]) ?? null) !== (leadCanonical(m, lead) ?? null));
  return pairs.filter((p): p is P & { lead: SalesforceRecord } => p.lead !== undefined && differ(p.contact, p.lead));
}

/**
 * When each `two_way` mapped field last changed in Salesforce, from the object's field history, for
 * the records whose value differs from their contact's. Only the fields the org tracks have a time;
 * the others fall back to the record's SystemModstamp, which every change to the record moves (a
 * rep's edit of another field would make a stale value look newer than the marketer's).
 */
async function salesforceChangeTimes(
  salesforce: Pick<SalesforcePort, 'fieldChangeTimes'>,
  mappings: readonly TypedMapping[],
  pairs: readonly { contact: HubSpotContact; lead: SalesforceRecord | undefined }[],
  object: 'Lead' | 'Contact',
): Promise<ReadonlyMap<string, Record<string, number>>> {
  const timed = timedMappings(mappings);
  if (timed.length === 0) return new Map();
  const ids = differingPairs(timed, pairs).map((p) => p.lead.Id);
  if (ids.length === 0) return new Map();
  return salesforce.fieldChangeTimes(
    object,
    ids,
    timed.map((m) => m.salesforceField),
  );
}

/**
 * When each `two_way` mapped property last changed in HubSpot (its newest history version), for
 * the contacts whose value differs from their Lead's: only there does the rule weigh the times. A
 * contact's own modification time moves with every write to it, the app's stamps too, so a rep's
 * change made before the app's last stamp on the contact would read as older than the contact's
 * value and be lost (and overwritten the other way). `prefer_salesforce_unless_blank` keeps the
 * contact's time: with Salesforce's side a record time as well (a field the org does not track has
 * no time of its own), a property's older own time would take a Lead the app stamped since for one
 * a rep cleared (chaos suite).
 */
async function hubspotChangeTimes(
  hubspot: Pick<HubSpotPort, 'readPropertyChangeTimes'>,
  mappings: readonly TypedMapping[],
  pairs: readonly { contact: HubSpotContact; lead: SalesforceRecord | undefined }[],
): Promise<ReadonlyMap<string, Record<string, number>>> {
  const timed = timedMappings(mappings);
  if (timed.length === 0) return new Map();
  const ids = differingPairs(timed, pairs).map((p) => p.contact.id);
  if (ids.length === 0) return new Map();
  return hubspot.readPropertyChangeTimes(
    ids,
    timed.map((m) => m.hubspotProperty),
  );
}

/** When the timed mapped fields of each pair last changed on both sides (see the two functions above). */
export interface MappedChangeTimes {
  /** By HubSpot contact id. */
  hubspot: ReadonlyMap<string, Record<string, number>>;
  /** By Salesforce record id. */
  salesforce: ReadonlyMap<string, Record<string, number>>;
}

/** Both sides' change times of the pairs whose values differ, read at once. */
export async function mappedChangeTimes(
  ports: { hubspot: Pick<HubSpotPort, 'readPropertyChangeTimes'>; salesforce: Pick<SalesforcePort, 'fieldChangeTimes'> },
  mappings: readonly TypedMapping[],
  pairs: readonly { contact: HubSpotContact; lead: SalesforceRecord | undefined }[],
  object: 'Lead' | 'Contact',
): Promise<MappedChangeTimes> {
  const [hubspot, salesforce] = await Promise.all([
    hubspotChangeTimes(ports.hubspot, mappings, pairs),
    salesforceChangeTimes(ports.salesforce, mappings, pairs, object),
  ]);
  return { hubspot, salesforce };
}

/** When a contact's mapped property last changed: its own history time where read, else the contact's. */
function hubspotAt(contact: HubSpotContact, property: string, changeTimes: Record<string, number> | undefined): number {
  return changeTimes?.[property] ?? Date.parse(contact.updatedAt);
}

/**
 * True when the property changed after the contact was read (its history, read after the contact,
 * is newer than the contact): the value read is stale and its time is another value's, so nothing
 * is decided on it — the change's own event syncs the field again.
 */
function changedSinceRead(contact: HubSpotContact, property: string, changeTimes: Record<string, number> | undefined): boolean {
  const at = changeTimes?.[property];
  return at !== undefined && at > Date.parse(contact.updatedAt);
}

/** The same for a Salesforce field: its history, read after the record, is newer than the record. */
function fieldChangedSinceRead(
  mapping: TypedMapping,
  lead: SalesforceRecord | undefined,
  times: Record<string, number> | undefined,
): boolean {
  const at = times?.[mapping.salesforceField];
  const read = salesforceAt(lead);
  return at !== undefined && read !== null && at > read;
}

/**
 * The mapped Lead fields to write for a contact (all of them for a new Lead), by each mapping's rule;
 * with the mappings `mappingsOn` a Contact, the converted Contact's fields.
 * `integrationUserId`: a Lead the app itself changed last was not blanked by anyone since, so under
 * prefer_salesforce_unless_blank its blank is filled (its modification time says nothing of the
 * field: a stamp the app wrote after the marketer's edit would otherwise read as a rep's clearing —
 * chaos suite).
 */
export function leadValuesFor(
  mappings: readonly TypedMapping[],
  contact: HubSpotContact,
  lead: SalesforceRecord | undefined,
  integrationUserId?: string,
  changeTimes?: Record<string, number>,
  salesforceTimes?: Record<string, number>,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const lastByApp = integrationUserId !== undefined && sameSalesforceId(recordText(lead, 'LastModifiedById') ?? '', integrationUserId);
  for (const mapping of mappings) {
    if (changedSinceRead(contact, mapping.hubspotProperty, changeTimes) || fieldChangedSinceRead(mapping, lead, salesforceTimes)) continue;
    const resolution = resolveFieldValue(
      mapping.rule,
      {
        value: hubspotCanonical(mapping, contact.properties[mapping.hubspotProperty]),
        at: hubspotAt(contact, mapping.hubspotProperty, changeTimes),
      },
      {
        value: leadCanonical(mapping, lead),
        at: lastByApp && mapping.rule === 'prefer_salesforce_unless_blank' ? null : salesforceFieldAt(mapping, lead, salesforceTimes),
      },
      'hubspot_to_salesforce',
    );
    // A new Lead gets no blanks; a linked one is cleared only by a rule that says so.
    if (resolution.write && (resolution.value !== null || lead !== undefined))
      fields[mapping.salesforceField] = salesforceValueOf(mapping, resolution.value);
  }
  return fields;
}

/**
 * The mapped contact properties to write for a linked Lead (or, with the mappings `mappingsOn` a
 * Contact, a converted Contact), by each mapping's rule. The email has its own path
 * (src/sync/email-identity.ts: an email another contact holds is never written).
 */
export function contactValuesFor(
  mappings: readonly TypedMapping[],
  lead: SalesforceRecord,
  contact: HubSpotContact,
  changeTimes?: Record<string, number>,
  salesforceTimes?: Record<string, number>,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const mapping of mappings) {
    if (
      mapping.hubspotProperty === 'email' ||
      changedSinceRead(contact, mapping.hubspotProperty, changeTimes) ||
      fieldChangedSinceRead(mapping, lead, salesforceTimes)
    )
      continue;
    const resolution = resolveFieldValue(
      mapping.rule,
      {
        value: hubspotCanonical(mapping, contact.properties[mapping.hubspotProperty]),
        at: hubspotAt(contact, mapping.hubspotProperty, changeTimes),
      },
      { value: leadCanonical(mapping, lead), at: salesforceFieldAt(mapping, lead, salesforceTimes) },
      'salesforce_to_hubspot',
    );
    if (resolution.write) properties[mapping.hubspotProperty] = hubspotValueOf(resolution.value);
  }
  return properties;
}

/** The mapped contact properties of a contact made from a Lead: every value the Lead has. */
export function newContactValues(mappings: readonly TypedMapping[], lead: SalesforceRecord): Record<string, string> {
  return Object.fromEntries(
    mappings.flatMap((m): [string, string][] => {
      const value = leadCanonical(m, lead);
      return value === null ? [] : [[m.hubspotProperty, hubspotValueOf(value)]];
    }),
  );
}

/** A refused mapped value, as the sync log shows it. */
interface Refusal {
  system: 'HubSpot' | 'Salesforce';
  recordRef: string;
  field: string;
  value: unknown;
  code: string;
  message: string;
}

/** A record's values without some fields. */
function without<V>(values: Record<string, V>, fields: readonly string[]): Record<string, V> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !fields.includes(key)));
}

/** How one kind of write is sent, keyed, and taken apart (see `sendKeepingTheRest`). */
interface WriteShape<R> {
  send(records: readonly R[]): Promise<Map<string, WriteOutcome>>;
  keyOf(record: R): string;
  valuesOf(record: R): Record<string, unknown>;
  without(record: R, fields: readonly string[]): R;
  refOf(record: R): string;
  /** The CRM that refuses. */
  system: 'HubSpot' | 'Salesforce';
}

/**
 * Sends records; a record refused for mapped fields only is sent once more without them, and each
 * refused value is noted with its field (so one bad value never holds back a stage or a stamp).
 * `mapped` are the mapped names on the written side.
 */
async function sendKeepingTheRest<R>(
  records: readonly R[],
  shape: WriteShape<R>,
  mapped: ReadonlySet<string>,
  refusals: Refusal[],
): Promise<Map<string, WriteOutcome>> {
  const outcomes = await shape.send(records);
  const retry: R[] = [];
  for (const record of records) {
    const outcome = outcomes.get(shape.keyOf(record));
    if (!outcome || outcome.ok || !outcome.fields?.length) continue;
    const values = shape.valuesOf(record);
    const fields = outcome.fields.filter((f) => f in values);
    if (fields.length === 0 || !fields.every((f) => mapped.has(f))) continue;
    for (const field of fields)
      refusals.push({
        system: shape.system,
        recordRef: shape.refOf(record),
        field,
        value: values[field],
        code: outcome.code,
        message: outcome.message,
      });
    retry.push(shape.without(record, fields));
  }
  if (retry.length === 0) return outcomes;
  for (const [key, outcome] of await shape.send(retry)) outcomes.set(key, outcome);
  return outcomes;
}

/** Runs a write with its refused mapped values collected and set aside, then logs them. */
type RefusalLoggingWrite = <R>(
  records: readonly R[],
  shape: WriteShape<R>,
  mapped: ReadonlySet<string>,
) => Promise<Map<string, WriteOutcome>>;

/**
 * The ports a sync run writes through, with refused mapped values set aside and logged
 * (`mapped_value_refused`, warn) instead of failing the whole record.
 */
export function refusalTolerantPorts(
  ctx: { db: Queryable; installationId: string; fieldMappings: readonly FieldMapping[]; job?: { queue: string; id: string } },
  ports: { hubspot: HubSpotPort; salesforce: SalesforcePort },
): { hubspot: HubSpotPort; salesforce: SalesforcePort } {
  const logged: RefusalLoggingWrite = async (records, shape, mapped) => {
    const refusals: Refusal[] = [];
    const outcomes = await sendKeepingTheRest(records, shape, mapped, refusals);
    const { log, entry } = syncLogLines(ctx);
    for (const r of refusals)
      entry(
        r.recordRef,
        'warn',
        'mapped_value_refused',
        `${r.system} refused ${r.field} = ${JSON.stringify(r.value)}: ${r.code} ${r.message}; the rest of the record was written`,
        { field: r.field, value: r.value, code: r.code },
      );
    await writeSyncLog(ctx.db, log);
    return outcomes;
  };
  return {
    hubspot: refusalTolerantHubSpot(ports.hubspot, logged, new Set(syncing(ctx.fieldMappings).map((m) => m.hubspotProperty))),
    salesforce: refusalTolerantSalesforce(ports.salesforce, logged, {
      Lead: new Set(syncing(ctx.fieldMappings).map((m) => m.salesforceField)),
      Contact: new Set(mappedContactFields(ctx.fieldMappings)),
    }),
  };
}

/** The HubSpot port with its contact writes tolerant of refused mapped properties. */
function refusalTolerantHubSpot(hubspot: HubSpotPort, logged: RefusalLoggingWrite, mappedProperties: ReadonlySet<string>): HubSpotPort {
  type ContactWrite = { id: string; properties: Record<string, string> };
  type ContactCreate = { email: string; properties: Record<string, string> };
  return {
    ...hubspot,
    updateContacts: (updates) =>
      logged<ContactWrite>(
        updates,
        {
          send: (r) => hubspot.updateContacts(r),
          keyOf: (r) => r.id,
          valuesOf: (r) => r.properties,
          without: (r, f) => ({ id: r.id, properties: without(r.properties, f) }),
          refOf: (r) => contactRef(r.id),
          system: 'HubSpot',
        },
        mappedProperties,
      ),
    upsertContactsByEmail: (inputs) =>
      logged<ContactCreate>(
        inputs,
        {
          send: (r) => hubspot.upsertContactsByEmail(r),
          keyOf: (r) => r.email.toLowerCase(),
          valuesOf: (r) => r.properties,
          without: (r, f) => ({ email: r.email, properties: without(r.properties, f) }),
          system: 'HubSpot',
          // The contact may not exist yet: the line goes on the Lead it is made from.
          refOf: (r) => (r.properties.salesforce_lead_id ? salesforceRef('Lead', r.properties.salesforce_lead_id) : contactRef('new')),
        },
        mappedProperties,
      ),
  };
}

/** The Salesforce port with its Lead and Contact writes tolerant of refused mapped fields. */
function refusalTolerantSalesforce(
  salesforce: SalesforcePort,
  logged: RefusalLoggingWrite,
  mappedFields: Readonly<Record<'Lead' | 'Contact', ReadonlySet<string>>>,
): SalesforcePort {
  type LeadUpsert = Parameters<SalesforcePort['upsertLeadsByHubSpotId']>[0][number];
  return {
    ...salesforce,
    updateRecords: (type, records) =>
      type !== 'Lead' && type !== 'Contact'
        ? salesforce.updateRecords(type, records)
        : logged<SalesforceRecord>(
            records,
            {
              send: (r) => salesforce.updateRecords(type, r),
              keyOf: (r) => r.Id,
              valuesOf: (r) => r,
              without: (r, f) => ({ ...without(r, f), Id: r.Id }),
              refOf: (r) => salesforceRef(type, r.Id),
              system: 'Salesforce',
            },
            mappedFields[type],
          ),
    upsertLeadsByHubSpotId: (leads) =>
      logged<LeadUpsert>(
        leads,
        {
          send: (r) => salesforce.upsertLeadsByHubSpotId(r),
          keyOf: (r) => r.HubSpot_Contact_Id__c,
          valuesOf: (r) => r,
          without: (r, f) => ({ ...without(r, f), HubSpot_Contact_Id__c: r.HubSpot_Contact_Id__c }),
          refOf: (r) => contactRef(r.HubSpot_Contact_Id__c),
          system: 'Salesforce',
        },
        mappedFields.Lead,
      ),
  };
}

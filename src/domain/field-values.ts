/**
 * What a mapped field's values are on each side, and how one side's value reads on the other
 * (docs/architecture.md §19). Each HubSpot property type and Salesforce field type falls into one
 * kind; a mapping pairs kinds that carry the same values (text with a picklist too: the picklist
 * side refuses what it does not list, and the refusal is logged). Values are compared in one
 * canonical text, with picklist values in HubSpot's words (a value map translates them), so the
 * sync rules (`resolveFieldValue`) decide on text either way.
 *
 * Sources: HubSpot property types and field types
 * (https://developers.hubspot.com/docs/api-reference/latest/crm/properties/guide: `type` string,
 * number, date, datetime, enumeration, bool; `fieldType` checkbox is a multi-select, booleancheckbox
 * a single on/off checkbox; multi-select values are joined with `;`; a date is midnight UTC,
 * written as `YYYY-MM-DD`); Salesforce describe field types (SOAP API Developer Guide,
 * "Field Types": string, textarea, email, phone, url, picklist, multipicklist, combobox, boolean,
 * int, double, currency, percent, long, date, datetime; a multipicklist value is joined with `;`).
 */
import { z } from 'zod';
import { contactFieldOf, type FieldMapping } from './stages.ts';

/** The kinds of value a mapped field can carry. */
export const FIELD_KINDS = ['text', 'number', 'date', 'datetime', 'boolean', 'picklist', 'multipicklist'] as const;
/** A kind of value. */
export type FieldKind = (typeof FIELD_KINDS)[number];

/** The kind of a HubSpot property by its `type` and `fieldType`; null for one no mapping may use (a file). */
export function hubspotKindOf(type: string, fieldType: string | null | undefined): FieldKind | null {
  if (fieldType === 'file') return null;
  switch (type) {
    case 'bool':
      return 'boolean';
    case 'enumeration':
      if (fieldType === 'booleancheckbox') return 'boolean';
      return fieldType === 'checkbox' ? 'multipicklist' : 'picklist';
    case 'number':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'string':
    case 'phone_number':
      return 'text';
    default:
      return null;
  }
}

const SALESFORCE_KINDS: Readonly<Record<string, FieldKind>> = {
  string: 'text',
  textarea: 'text',
  email: 'text',
  phone: 'text',
  url: 'text',
  combobox: 'text',
  encryptedstring: 'text',
  picklist: 'picklist',
  multipicklist: 'multipicklist',
  boolean: 'boolean',
  int: 'number',
  double: 'number',
  currency: 'number',
  percent: 'number',
  long: 'number',
  date: 'date',
  datetime: 'datetime',
};

/** The kind of a Salesforce field by its describe `type`; null for one no mapping may use (ids, references, addresses…). */
export function salesforceKindOf(type: string): FieldKind | null {
  return SALESFORCE_KINDS[type] ?? null;
}

/** Whether two kinds can be mapped to each other. */
export function kindsMatch(hubspot: FieldKind, salesforce: FieldKind): boolean {
  if (hubspot === salesforce) return true;
  const pair = new Set([hubspot, salesforce]);
  return pair.has('text') && pair.has('picklist');
}

/** Whether a value map means anything for the pair (a picklist on either side). */
export function takesValueMap(hubspot: FieldKind, salesforce: FieldKind): boolean {
  return [hubspot, salesforce].some((kind) => kind === 'picklist' || kind === 'multipicklist');
}

/** A mapping with the kinds of its two ends, as the sync converts values with it. */
export interface TypedMapping extends FieldMapping {
  readonly hubspotKind: FieldKind;
  readonly salesforceKind: FieldKind;
  /** The Contact field it follows once the Lead is converted (`contactFieldOf`), null when none can be. */
  readonly contactField: string | null;
  /** That Contact field's kind. */
  readonly contactKind: FieldKind;
}

/**
 * The mappings that follow a Salesforce person record, each with that record's field and kind as
 * its Salesforce end: every mapping on the Lead, those with a Contact field on the Contact.
 */
export function mappingsOn(mappings: readonly TypedMapping[], object: 'Lead' | 'Contact'): TypedMapping[] {
  if (object === 'Lead') return [...mappings];
  return mappings.flatMap((m) =>
    m.contactField === null ? [] : [{ ...m, salesforceField: m.contactField, salesforceKind: m.contactKind }],
  );
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function multiValues(text: string): string[] {
  return [
    ...new Set(
      text
        .split(';')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    ),
  ].sort();
}

function canonicalText(kind: FieldKind, text: string): string | null {
  switch (kind) {
    case 'text':
    case 'picklist':
      return text;
    case 'multipicklist': {
      const values = multiValues(text);
      return values.length === 0 ? null : values.join(';');
    }
    case 'number': {
      const value = Number(text);
      return Number.isFinite(value) ? String(value) : text;
    }
    case 'boolean':
      return text.toLowerCase() === 'true' ? 'true' : text.toLowerCase() === 'false' ? 'false' : text;
    case 'date': {
      if (DATE_ONLY.test(text)) return text;
      // HubSpot's older shape: midnight UTC in epoch milliseconds.
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
      return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : text;
    }
    case 'datetime': {
      // Salesforce writes the offset without a colon (`+0000`); epoch milliseconds are HubSpot's older shape.
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      return Number.isFinite(ms) ? new Date(ms).toISOString() : text;
    }
  }
}

function translated(mapping: TypedMapping, value: string, from: 'hubspot' | 'salesforce'): string {
  const to = from === 'hubspot' ? 'salesforce' : 'hubspot';
  const each = (v: string) => mapping.valueMap?.find((entry) => entry[from] === v)?.[to] ?? v;
  const multi = mapping.hubspotKind === 'multipicklist' || mapping.salesforceKind === 'multipicklist';
  return multi ? multiValues(value).map(each).sort().join(';') : each(value);
}

/** A HubSpot value in the canonical text (null when blank). */
export function hubspotCanonical(mapping: TypedMapping, raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  return canonicalText(mapping.hubspotKind, raw.trim());
}

/** A Salesforce value (as the REST API answers it) in the canonical text, in HubSpot's words (null when blank). */
export function salesforceCanonical(mapping: TypedMapping, raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
  if (text === null || text === '') return null;
  const canonical = canonicalText(mapping.salesforceKind, text);
  return canonical === null ? null : translated(mapping, canonical, 'salesforce');
}

/** The value to write to HubSpot for a canonical value (`''` clears the property). */
export function hubspotValueOf(canonical: string | null): string {
  return canonical ?? '';
}

/** The value to write to Salesforce for a canonical value (null clears the field; a boolean is never blank). */
export function salesforceValueOf(mapping: TypedMapping, canonical: string | null): string | number | boolean | null {
  if (canonical === null) return mapping.salesforceKind === 'boolean' ? false : null;
  const value = translated(mapping, canonical, 'hubspot');
  switch (mapping.salesforceKind) {
    case 'number': {
      const number = Number(value);
      return Number.isFinite(number) ? number : value;
    }
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    default:
      return value;
  }
}

/** The kinds of the default mappings' fields (all text), known without reading the CRMs' metadata. */
export function defaultKinds(mapping: FieldMapping, defaults: readonly FieldMapping[]): TypedMapping | null {
  // A Contact field named by the admin is read from the metadata like any other.
  const isDefault =
    (mapping.salesforceContactField === undefined || mapping.salesforceContactField === null) &&
    defaults.some((d) => d.hubspotProperty === mapping.hubspotProperty && d.salesforceField === mapping.salesforceField);
  return isDefault
    ? { ...mapping, hubspotKind: 'text', salesforceKind: 'text', contactField: contactFieldOf(mapping), contactKind: 'text' }
    : null;
}

/** One mapping's pair of fields, as a fill of existing records names the mappings it writes. */
export const MappingPairSchema = z.object({ hubspotProperty: z.string().min(1), salesforceField: z.string().min(1) }).strict();
/** A mapping's pair of fields. */
export type MappingPair = z.output<typeof MappingPairSchema>;

/** Whether a mapping is one of the pairs (every mapping when no pairs are named). */
export function isOneOfPairs(mapping: MappingPair, pairs: readonly MappingPair[] | undefined): boolean {
  return (
    pairs === undefined || pairs.some((p) => p.hubspotProperty === mapping.hubspotProperty && p.salesforceField === mapping.salesforceField)
  );
}

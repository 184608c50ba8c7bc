import type { ObjectTypeName } from './model.ts';

/** What differs between the CRM object types the sandbox serves. */
export interface ObjectTypeInfo {
  name: ObjectTypeName;
  singular: string;
  typeId: string;
  /** Upper-case label used in error messages ("Could not get some CONTACT objects"). */
  label: string;
  createdProperty: string;
  modifiedProperty: string;
  /** Returned when the request names no properties. */
  defaultProperties: readonly string[];
  /** Searched by the free-text `query` of the search API. */
  queryProperties: readonly string[];
  /** Properties that must be present on create. */
  requiredOnCreate: readonly string[];
  /** Webhook event types exist for this object (`contact.creation`…). */
  webhooks: boolean;
}

export const OBJECT_TYPES: Record<ObjectTypeName, ObjectTypeInfo> = {
  contacts: {
    name: 'contacts',
    singular: 'contact',
    typeId: '0-1',
    label: 'CONTACT',
    createdProperty: 'createdate',
    modifiedProperty: 'lastmodifieddate',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
    queryProperties: ['firstname', 'lastname', 'email', 'phone', 'company', 'website'],
    requiredOnCreate: [],
    webhooks: true,
  },
  companies: {
    name: 'companies',
    singular: 'company',
    typeId: '0-2',
    label: 'COMPANY',
    createdProperty: 'createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    queryProperties: ['name', 'domain', 'website', 'phone'],
    requiredOnCreate: [],
    webhooks: true,
  },
  deals: {
    name: 'deals',
    singular: 'deal',
    typeId: '0-3',
    label: 'DEAL',
    createdProperty: 'createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
    queryProperties: ['dealname'],
    requiredOnCreate: [],
    webhooks: true,
  },
  notes: {
    name: 'notes',
    singular: 'note',
    typeId: '0-46',
    label: 'NOTE',
    createdProperty: 'hs_createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
    queryProperties: ['hs_note_body'],
    requiredOnCreate: ['hs_timestamp'],
    webhooks: false,
  },
};

export const OBJECT_TYPE_NAMES = Object.keys(OBJECT_TYPES) as ObjectTypeName[];

/** Accepts `contacts`, `contact`, `CONTACT`, `0-1` (as the real API does) and returns the canonical name. */
export function resolveObjectType(raw: string): ObjectTypeName | undefined {
  const lower = raw.toLowerCase();
  for (const info of Object.values(OBJECT_TYPES)) {
    if (lower === info.name || lower === info.singular || lower === info.typeId) return info.name;
  }
  return undefined;
}

/** One HubSpot-defined association type between two object types. */
export interface AssociationTypeInfo {
  id: number;
  from: ObjectTypeName;
  to: ObjectTypeName;
  inverse: number;
  /** The v3 `associations` type string, e.g. `contact_to_company_unlabeled`. */
  name: string;
  label: string | null;
  /** The type `associate/default` creates. */
  isDefault: boolean;
}

function pair(
  from: ObjectTypeName,
  to: ObjectTypeName,
  id: number,
  inverse: number,
  names: [string, string],
  options: { label?: string; isDefault?: boolean } = {},
): AssociationTypeInfo[] {
  const label = options.label ?? null;
  const isDefault = options.isDefault ?? true;
  return [
    { id, from, to, inverse, name: names[0], label, isDefault },
    { id: inverse, from: to, to: from, inverse: id, name: names[1], label, isDefault },
  ];
}

/** The ids of `AssociationTypes` in @hubspot/api-client (noteToContact = 202, contactToCompany = 279…). */
export const ASSOCIATION_TYPES: readonly AssociationTypeInfo[] = [
  ...pair('contacts', 'companies', 279, 280, ['contact_to_company_unlabeled', 'company_to_contact_unlabeled']),
  ...pair('contacts', 'companies', 1, 2, ['contact_to_company', 'company_to_contact'], { label: 'Primary', isDefault: false }),
  ...pair('deals', 'contacts', 3, 4, ['deal_to_contact', 'contact_to_deal']),
  ...pair('deals', 'companies', 341, 342, ['deal_to_company_unlabeled', 'company_to_deal_unlabeled']),
  ...pair('deals', 'companies', 5, 6, ['deal_to_company', 'company_to_deal'], { label: 'Primary', isDefault: false }),
  ...pair('notes', 'contacts', 202, 201, ['note_to_contact', 'contact_to_note']),
  ...pair('notes', 'deals', 214, 213, ['note_to_deal', 'deal_to_note']),
  ...pair('notes', 'companies', 190, 189, ['note_to_company', 'company_to_note']),
];

const TYPES_BY_ID = new Map(ASSOCIATION_TYPES.map((type) => [type.id, type]));

/** Looks an association type up by id. */
export function associationType(id: number): AssociationTypeInfo | undefined {
  return TYPES_BY_ID.get(id);
}

/** The type `associate/default` uses between two object types, if they can be associated. */
export function defaultAssociationType(from: ObjectTypeName, to: ObjectTypeName): AssociationTypeInfo | undefined {
  return ASSOCIATION_TYPES.find((type) => type.from === from && type.to === to && type.isDefault);
}

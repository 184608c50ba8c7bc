/** Small constructors for field metadata, so object definitions read like a describe summary. */
import { KEY_PREFIXES } from './ids.ts';
import type { FieldDef, FieldType, ObjectDef, PicklistValue } from './types.ts';

type Extra = Partial<FieldDef>;

function base(name: string, label: string, type: FieldType, extra: Extra = {}): FieldDef {
  return {
    name,
    label,
    type,
    length: 0,
    precision: 0,
    scale: 0,
    nillable: true,
    createable: true,
    updateable: true,
    defaultedOnCreate: false,
    defaultValue: null,
    externalId: false,
    unique: false,
    caseSensitive: false,
    custom: false,
    calculated: false,
    nameField: false,
    picklistValues: [],
    restrictedPicklist: false,
    referenceTo: [],
    relationshipName: null,
    description: null,
    inlineHelpText: null,
    ...extra,
  };
}

const readOnly: Extra = { createable: false, updateable: false };

export function picklistValues(values: readonly string[], defaultValue?: string): PicklistValue[] {
  return values.map((value) => ({ value, label: value, active: true, defaultValue: value === defaultValue }));
}

export const fields = {
  id: (): FieldDef => base('Id', 'Record ID', 'id', { ...readOnly, nillable: false, defaultedOnCreate: true, length: 18 }),
  text: (name: string, label: string, length = 255, extra: Extra = {}): FieldDef => base(name, label, 'string', { length, ...extra }),
  required: (name: string, label: string, length = 255, extra: Extra = {}): FieldDef =>
    base(name, label, 'string', { length, nillable: false, ...extra }),
  textarea: (name: string, label: string, length = 32_000): FieldDef => base(name, label, 'textarea', { length }),
  email: (name: string, label: string): FieldDef => base(name, label, 'email', { length: 80 }),
  phone: (name: string, label: string): FieldDef => base(name, label, 'phone', { length: 40 }),
  url: (name: string, label: string): FieldDef => base(name, label, 'url', { length: 255 }),
  boolean: (name: string, label: string, defaultValue = false, extra: Extra = {}): FieldDef =>
    base(name, label, 'boolean', { nillable: false, defaultedOnCreate: true, defaultValue, ...extra }),
  date: (name: string, label: string, extra: Extra = {}): FieldDef => base(name, label, 'date', extra),
  datetime: (name: string, label: string, extra: Extra = {}): FieldDef => base(name, label, 'datetime', extra),
  currency: (name: string, label: string, extra: Extra = {}): FieldDef =>
    base(name, label, 'currency', { precision: 18, scale: 2, ...extra }),
  percent: (name: string, label: string, extra: Extra = {}): FieldDef => base(name, label, 'percent', { precision: 3, scale: 0, ...extra }),
  int: (name: string, label: string): FieldDef => base(name, label, 'int', { precision: 8 }),
  picklist: (name: string, label: string, values: readonly string[], extra: Extra & { defaultValue?: string } = {}): FieldDef =>
    base(name, label, 'picklist', {
      length: 255,
      picklistValues: picklistValues(values, typeof extra.defaultValue === 'string' ? extra.defaultValue : undefined),
      defaultedOnCreate: extra.defaultValue !== undefined && extra.defaultValue !== null,
      ...extra,
    }),
  reference: (name: string, label: string, referenceTo: string[], relationshipName: string, extra: Extra = {}): FieldDef =>
    base(name, label, 'reference', { length: 18, referenceTo, relationshipName, ...extra }),
  /** The compound Name of person objects, computed from FirstName + LastName. */
  personName: (): FieldDef => base('Name', 'Full Name', 'string', { ...readOnly, length: 121, calculated: false, nameField: true }),
  readOnly: (field: FieldDef): FieldDef => ({ ...field, ...readOnly }),
  derived: (field: FieldDef): FieldDef => ({ ...field, ...readOnly, calculated: true }),
  custom: base,
};

/** System audit fields every object has, plus ownership where the object has an owner. */
export function systemFields(options: { owner: boolean }): FieldDef[] {
  const list: FieldDef[] = [
    fields.boolean('IsDeleted', 'Deleted', false, readOnly),
    fields.datetime('CreatedDate', 'Created Date', { ...readOnly, nillable: false, defaultedOnCreate: true }),
    fields.reference('CreatedById', 'Created By ID', ['User'], 'CreatedBy', { ...readOnly, nillable: false, defaultedOnCreate: true }),
    fields.datetime('LastModifiedDate', 'Last Modified Date', { ...readOnly, nillable: false, defaultedOnCreate: true }),
    fields.reference('LastModifiedById', 'Last Modified By ID', ['User'], 'LastModifiedBy', {
      ...readOnly,
      nillable: false,
      defaultedOnCreate: true,
    }),
    fields.datetime('SystemModstamp', 'System Modstamp', { ...readOnly, nillable: false, defaultedOnCreate: true }),
  ];
  if (options.owner) {
    list.push(fields.reference('OwnerId', 'Owner ID', ['User'], 'Owner', { nillable: false, defaultedOnCreate: true }));
  }
  return list;
}

/** An object's definition: createable, updateable, deletable and queryable with no child relationships, unless `extra` says otherwise. */
export function objectDef(
  name: keyof typeof KEY_PREFIXES,
  label: string,
  labelPlural: string,
  defs: ObjectDef['fields'],
  extra: Partial<ObjectDef> = {},
): ObjectDef {
  return {
    name,
    label,
    labelPlural,
    keyPrefix: KEY_PREFIXES[name],
    fields: defs,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    childRelationships: [],
    ...extra,
  };
}

/** The fields of an object with no owner (setup and metadata rows): Id, its own fields, the system fields. */
export function ownerlessFields(defs: ObjectDef['fields']): FieldDef[] {
  return [fields.id(), ...defs, ...systemFields({ owner: false })];
}

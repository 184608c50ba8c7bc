/** Shapes shared across the sandbox org: object/field metadata, records, errors, change events. */

export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'double'
  | 'currency'
  | 'percent'
  | 'int'
  | 'reference';

export interface PicklistValue {
  value: string;
  label: string;
  active: boolean;
  defaultValue: boolean;
}

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  precision: number;
  scale: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  /** The server fills a value on create when none is given (defaults, system fields). */
  defaultedOnCreate: boolean;
  defaultValue: string | number | boolean | null;
  externalId: boolean;
  unique: boolean;
  caseSensitive: boolean;
  custom: boolean;
  calculated: boolean;
  nameField: boolean;
  picklistValues: PicklistValue[];
  restrictedPicklist: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  description: string | null;
  inlineHelpText: string | null;
}

export interface ChildRelationship {
  relationshipName: string;
  childSObject: string;
  field: string;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDef[];
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  queryable: boolean;
  childRelationships: ChildRelationship[];
}

export type FieldValue = string | number | boolean | null;
export type SfRecord = Record<string, FieldValue>;

/** One element of Salesforce's JSON error array. */
export interface SfError {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** A committed change, as automation (outbound messages) sees it. */
export interface ChangeEvent {
  kind: 'create' | 'update' | 'delete';
  type: string;
  id: string;
  changedFields: string[];
  userId: string;
}

/**
 * Custom fields created through the Tooling API (`POST /tooling/sobjects/CustomField`), validated
 * the way Setup validates them, and turned into field metadata that describe, SOQL and DML use.
 */
import { z } from 'zod';
import { sfError } from './errors.ts';
import { fields, picklistValues } from './field-builders.ts';
import { CUSTOMIZABLE_OBJECTS } from './standard-objects.ts';
import type { FieldDef, FieldType, SfError } from './types.ts';

const valueSetSchema = z.looseObject({
  restricted: z.boolean().optional(),
  valueSetDefinition: z.looseObject({
    sorted: z.boolean().optional(),
    value: z.array(z.looseObject({ fullName: z.string().min(1), label: z.string().optional(), default: z.boolean().optional() })).min(1),
  }),
});

/** The `Metadata` of a CustomField, as the Tooling API accepts it (unknown keys are kept and ignored). */
export const customFieldMetadataSchema = z.looseObject({
  type: z.enum([
    'Text',
    'TextArea',
    'LongTextArea',
    'Email',
    'Phone',
    'Url',
    'Number',
    'Currency',
    'Percent',
    'Checkbox',
    'Date',
    'DateTime',
    'Picklist',
    'MultiselectPicklist',
  ]),
  label: z.string().min(1).max(40),
  length: z.number().int().optional(),
  precision: z.number().int().optional(),
  scale: z.number().int().optional(),
  visibleLines: z.number().int().optional(),
  externalId: z.boolean().optional(),
  unique: z.boolean().optional(),
  caseSensitive: z.boolean().optional(),
  required: z.boolean().optional(),
  defaultValue: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  inlineHelpText: z.string().nullable().optional(),
  valueSet: valueSetSchema.optional(),
});

export type CustomFieldMetadata = z.infer<typeof customFieldMetadataSchema>;

/** A custom field as the org stores it. */
export interface CustomFieldState {
  id: string;
  object: string;
  developerName: string;
  metadata: CustomFieldMetadata;
  createdDate: string;
  createdById: string;
  lastModifiedDate: string;
  lastModifiedById: string;
}

export const customFieldStateSchema = z.object({
  id: z.string(),
  object: z.string(),
  developerName: z.string(),
  metadata: customFieldMetadataSchema,
  createdDate: z.string(),
  createdById: z.string(),
  lastModifiedDate: z.string(),
  lastModifiedById: z.string(),
});

const TYPE_MAP: Record<CustomFieldMetadata['type'], FieldType> = {
  Text: 'string',
  TextArea: 'textarea',
  LongTextArea: 'textarea',
  Email: 'email',
  Phone: 'phone',
  Url: 'url',
  Number: 'double',
  Currency: 'currency',
  Percent: 'percent',
  Checkbox: 'boolean',
  Date: 'date',
  DateTime: 'datetime',
  Picklist: 'picklist',
  MultiselectPicklist: 'multipicklist',
};

const integrity = (message: string): SfError => sfError('FIELD_INTEGRITY_EXCEPTION', message, []);

/** Splits `Lead.First_Touch_Channel__c` into object and developer name, or explains the problem. */
export function parseFullName(fullName: string): { object: string; developerName: string } | SfError {
  const m = /^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z0-9_]+)__c$/.exec(fullName);
  if (!m) return integrity(`Invalid FullName '${fullName}': expected <Object>.<Name>__c`);
  const object = CUSTOMIZABLE_OBJECTS.find((o) => o.toLowerCase() === m[1]?.toLowerCase());
  if (!object) return sfError('INVALID_TYPE', `Cannot add custom fields to '${m[1] ?? ''}' in the sandbox org`, []);
  const developerName = m[2] ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/.test(developerName) || developerName.length > 40) {
    return integrity(
      'The Custom Field Name can only contain underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.',
    );
  }
  return { object, developerName };
}

/** Checks what Setup checks for each field type; returns the errors (empty when valid). */
export function validateMetadata(metadata: CustomFieldMetadata): SfError[] {
  const { type } = metadata;
  if ((type === 'Text' || type === 'LongTextArea') && metadata.length === undefined) return [integrity('Length: You must enter a value')];
  if (type === 'Text' && (metadata.length ?? 0) > 255) return [integrity('Length: Text fields can hold at most 255 characters')];
  if (type === 'LongTextArea' && ((metadata.length ?? 0) < 256 || (metadata.length ?? 0) > 131_072)) {
    return [integrity('Length: Long text area length must be between 256 and 131,072')];
  }
  if ((metadata.length ?? 1) < 1) return [integrity('Length: must be at least 1')];
  if ((metadata.externalId || metadata.unique) && !['Text', 'Number', 'Email'].includes(type)) {
    return [integrity(`External ID and Unique are only allowed on Text, Number and Email fields, not ${type}`)];
  }
  if ((type === 'Picklist' || type === 'MultiselectPicklist') && !metadata.valueSet)
    return [integrity('Values: You must enter at least one value')];
  if (
    type === 'Checkbox' &&
    metadata.defaultValue !== undefined &&
    metadata.defaultValue !== null &&
    !/^(true|false)$/i.test(metadata.defaultValue)
  ) {
    return [integrity('Default Value: a checkbox default must be true or false')];
  }
  if (type === 'Checkbox' && metadata.required) return [integrity('Checkbox fields cannot be required')];
  return [];
}

/** Field metadata of a custom field, as describe shows it. */
export function toFieldDef(state: CustomFieldState): FieldDef {
  const m = state.metadata;
  const type = TYPE_MAP[m.type];
  const values = m.valueSet?.valueSetDefinition.value ?? [];
  const defaultPick = values.find((v) => v.default)?.fullName;
  const checkboxDefault = m.type === 'Checkbox' ? /^true$/i.test(m.defaultValue ?? 'false') : null;
  return fields.custom(`${state.developerName}__c`, m.label, type, {
    custom: true,
    length: m.type === 'TextArea' ? 255 : (m.length ?? (type === 'email' ? 80 : type === 'phone' ? 40 : type === 'url' ? 255 : 0)),
    precision: m.precision ?? (['double', 'currency', 'percent'].includes(type) ? 18 : 0),
    scale: m.scale ?? 0,
    nillable: type === 'boolean' ? false : !m.required,
    defaultedOnCreate: type === 'boolean' || defaultPick !== undefined,
    defaultValue: type === 'boolean' ? checkboxDefault : (defaultPick ?? null),
    externalId: m.externalId ?? false,
    unique: m.unique ?? false,
    caseSensitive: m.caseSensitive ?? false,
    picklistValues:
      values.length > 0
        ? picklistValues(
            values.map((v) => v.fullName),
            defaultPick,
          ).map((p, i) => ({ ...p, label: values[i]?.label ?? p.value }))
        : [],
    restrictedPicklist: m.valueSet?.restricted ?? false,
    description: m.description ?? null,
    inlineHelpText: m.inlineHelpText ?? null,
  });
}

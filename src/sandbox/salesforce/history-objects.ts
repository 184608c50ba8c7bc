/** The history objects of field history tracking (field-history.ts): their describe, without the org's state. */
import { fields, systemFields } from './field-builders.ts';
import { KEY_PREFIXES } from './ids.ts';
import type { ObjectDef } from './types.ts';

/** The objects with history tracking here, their history object and its parent reference. */
export const HISTORY_OBJECTS = {
  Lead: { history: 'LeadHistory', parentField: 'LeadId' },
  Contact: { history: 'ContactHistory', parentField: 'ContactId' },
} as const satisfies Record<string, { history: keyof typeof KEY_PREFIXES; parentField: string }>;

/** An object whose field history can be tracked. */
export type TrackedObject = keyof typeof HISTORY_OBJECTS;

/** Fields tracked per object at most. */
export const MAX_TRACKED_FIELDS = 20;

/** The history objects' describe: read-only, no modification stamps (only CreatedDate/CreatedById). */
export const HISTORY_OBJECT_DEFS: readonly ObjectDef[] = Object.entries(HISTORY_OBJECTS).map(([parent, { history, parentField }]) => ({
  name: history,
  label: `${parent} History`,
  labelPlural: `${parent} History`,
  keyPrefix: KEY_PREFIXES[history],
  fields: [
    fields.id(),
    fields.readOnly(fields.reference(parentField, `${parent} ID`, [parent], parent, { nillable: false })),
    fields.readOnly(fields.picklist('Field', 'Changed Field', [], { nillable: false })),
    fields.readOnly(fields.picklist('DataType', 'Data Type', [])),
    fields.readOnly(fields.text('OldValue', 'Old Value')),
    fields.readOnly(fields.text('NewValue', 'New Value')),
    ...systemFields({ owner: false }).filter((f) => ['IsDeleted', 'CreatedDate', 'CreatedById'].includes(f.name)),
  ],
  createable: false,
  updateable: false,
  deletable: false,
  queryable: true,
  childRelationships: [],
}));

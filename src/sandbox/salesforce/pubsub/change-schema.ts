/**
 * Avro schemas of the org's change events, shaped like Salesforce's (`<Object>ChangeEvent` in
 * namespace `com.sforce.eventbus`: `ChangeEventHeader` first, then every field but Id as an
 * optional value), and the encoding of one event. Date-times travel as epoch milliseconds and dates
 * as days since the epoch, as in the real schemas; the schema id is a digest of the schema, so a
 * new custom field gives a new id, as it does in an org.
 */
import { createHash } from 'node:crypto';
import avro from 'avsc';
import type { FieldDef, FieldValue, ObjectDef } from '../types.ts';
import { parseDate, parseDateTime } from '../sf-time.ts';

/** `ChangeEventHeader` fields: Change Data Capture Developer Guide, "Change Event Header Fields". */
const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

const HEADER_SCHEMA = {
  type: 'record',
  name: 'ChangeEventHeader',
  fields: [
    { name: 'entityName', type: 'string' },
    { name: 'recordIds', type: { type: 'array', items: 'string' } },
    { name: 'changeType', type: { type: 'enum', name: 'ChangeType', symbols: [...CHANGE_TYPES] } },
    { name: 'changeOrigin', type: 'string' },
    { name: 'transactionKey', type: 'string' },
    { name: 'sequenceNumber', type: 'int' },
    { name: 'commitTimestamp', type: 'long' },
    { name: 'commitNumber', type: 'long' },
    { name: 'commitUser', type: 'string' },
    { name: 'nulledFields', type: { type: 'array', items: 'string' } },
    { name: 'diffFields', type: { type: 'array', items: 'string' } },
    { name: 'changedFields', type: { type: 'array', items: 'string' } },
  ],
};

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: ChangeType;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  nulledFields: string[];
  diffFields: string[];
  changedFields: string[];
}

function avroValueType(field: FieldDef): unknown {
  switch (field.type) {
    case 'boolean':
      return 'boolean';
    case 'double':
    case 'currency':
    case 'percent':
      return 'double';
    case 'int':
      return 'int';
    case 'datetime':
      return { type: 'long', logicalType: 'timestamp-millis' };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    default:
      return 'string';
  }
}

/** One entity's change event schema: its JSON (what GetSchema answers), id, type and field order. */
export interface ChangeSchema {
  id: string;
  json: string;
  type: avro.Type;
  /** Top-level field names in schema order: the positions of the header's field bitmaps. */
  fieldNames: string[];
  fields: FieldDef[];
}

/**
 * The change event schema of an entity as its fields are now. A schema already in `known` (by its
 * id, a hash of its JSON) is returned as it is: building the Avro type is the costly part.
 */
export function changeSchemaFor(
  entityName: string,
  obj: ObjectDef | undefined,
  known: ReadonlyMap<string, ChangeSchema> = new Map(),
): ChangeSchema {
  const fields = (obj?.fields ?? []).filter((f) => f.name !== 'Id');
  const schema = {
    type: 'record',
    name: `${entityName}ChangeEvent`,
    namespace: 'com.sforce.eventbus',
    fields: [
      { name: 'ChangeEventHeader', type: HEADER_SCHEMA },
      ...fields.map((f) => ({ name: f.name, type: ['null', avroValueType(f)], default: null })),
    ],
  };
  const json = JSON.stringify(schema);
  const id = createHash('sha256').update(json).digest('base64url').slice(0, 22);
  const cached = known.get(id);
  if (cached) return cached;
  return {
    id,
    json,
    type: avro.Type.forSchema(schema as avro.Schema),
    fieldNames: schema.fields.map((f) => f.name),
    fields,
  };
}

function avroValue(field: FieldDef, value: FieldValue | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (field.type === 'datetime') return typeof value === 'string' ? parseDateTime(value) : null;
  if (field.type === 'date') {
    const ms = typeof value === 'string' ? parseDate(value) : null;
    return ms === null ? null : Math.floor(ms / 86_400_000);
  }
  if (field.type === 'int') return Math.trunc(Number(value));
  if (field.type === 'double' || field.type === 'currency' || field.type === 'percent') return Number(value);
  if (field.type === 'boolean') return value === true || value === 'true';
  return String(value);
}

/** The Avro payload of one event: the header and the given fields' values (all others null). */
export function encodeChangeEvent(schema: ChangeSchema, header: ChangeEventHeader, values: Record<string, FieldValue>): Buffer {
  const body: Record<string, unknown> = { ChangeEventHeader: header };
  for (const field of schema.fields) body[field.name] = field.name in values ? avroValue(field, values[field.name]) : null;
  return schema.type.toBuffer(body);
}

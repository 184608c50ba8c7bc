/**
 * Record DML with Salesforce's validation order and error arrays: unknown fields, read-only fields,
 * value types, required fields, references, uniqueness; plus system fields, derived fields, lead
 * assignment and change events. Every operation runs inside a savepoint of the caller's `Txn`, so
 * a failed record leaves nothing behind.
 */
import { auditFields } from './audit-fields.ts';
import { applyCampaignSaveEffects, marketingUserRefusal } from './campaign-rules.ts';
import { applyCurrencyDefault, currencyTypeRefusal, currencyTypeUpdateInput } from './currency-admin.ts';
import { sfError } from './errors.ts';
import { coerceValue, sameValue } from './field-values.ts';
import { toId18 } from './ids.ts';
import { applyDerivedFields, assignLeadOwner, checkObjectConstraints } from './record-rules.ts';
import { recordFieldHistory } from './field-history.ts';
import { formatDateTime } from './sf-time.ts';
import type { Txn } from './state-store.ts';
import type { FieldDef, ObjectDef, SfError, SfRecord } from './types.ts';

export interface WriteContext {
  userId: string;
  now: number;
  /** Sforce-Auto-Assign: apply the active lead assignment rule on create and update. */
  autoAssign: boolean;
  /**
   * The platform writes on the user's behalf (lead conversion's field mapping): the user's
   * field-level security does not filter which fields are written.
   */
  systemMode?: boolean;
  /** Injected record-level refusal (fault injection), checked after the platform's own checks, as validation rules run. */
  recordFault?: (type: string) => SfError | undefined;
}

export type WriteResult = { ok: true; id: string; created: boolean } | { ok: false; errors: SfError[] };

type Input = Record<string, unknown>;

const SYSTEM_STAMPS = new Set(['LastModifiedDate', 'LastModifiedById', 'SystemModstamp']);
const failed = (...errors: SfError[]): WriteResult => ({ ok: false, errors });

function readOnlyError(names: string[]): SfError {
  return sfError(
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    names,
  );
}

/**
 * Resolves input keys to fields as the writing user sees them (field-level security: a field the
 * user cannot read does not exist, one they cannot edit is read-only) and coerces values; `mode`
 * picks createable vs updateable.
 */
function resolveInput(
  txn: Txn,
  obj: ObjectDef,
  input: Input,
  mode: 'create' | 'update',
  ctx: WriteContext,
): { ok: true; values: Map<FieldDef, unknown> } | { ok: false; errors: SfError[] } {
  const values = new Map<FieldDef, unknown>();
  const readOnly: string[] = [];
  const schema = ctx.systemMode === true ? txn.store.schema : txn.store.schemaFor(ctx.userId);
  for (const [key, raw] of Object.entries(input)) {
    if (key === 'attributes') continue;
    const field = schema.field(obj.name, key);
    if (!field) return { ok: false, errors: [sfError('INVALID_FIELD', `No such column '${key}' on sobject of type ${obj.name}`)] };
    if (mode === 'create' ? !field.createable : !field.updateable) readOnly.push(field.name);
    values.set(field, raw);
  }
  if (readOnly.length > 0) return { ok: false, errors: [readOnlyError(readOnly)] };
  const coercedValues = new Map<FieldDef, unknown>();
  for (const [field, raw] of values) {
    const coerced = coerceValue(txn.store, field, raw);
    if (!coerced.ok) return { ok: false, errors: [coerced.error] };
    coercedValues.set(field, coerced.value);
  }
  return { ok: true, values: coercedValues };
}

function checkRequired(obj: ObjectDef, record: SfRecord): SfError | undefined {
  const missing = obj.fields
    .filter(
      (f) =>
        !f.nillable && f.type !== 'boolean' && (f.createable || f.updateable) && (record[f.name] === null || record[f.name] === undefined),
    )
    .map((f) => f.name);
  return missing.length > 0
    ? sfError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing)
    : undefined;
}

function checkUnique(txn: Txn, obj: ObjectDef, record: SfRecord): SfError | undefined {
  for (const field of obj.fields.filter((f) => f.unique)) {
    const value = record[field.name] ?? null;
    if (value === null) continue;
    const clash = txn.store
      .recordsWithValue(obj.name, field.name, field.caseSensitive === true, value)
      .find((other) => other.Id !== record.Id && !other.IsDeleted && sameValue(field, other[field.name] ?? null, value));
    if (clash) {
      return sfError('DUPLICATE_VALUE', `duplicate value found: ${field.name} duplicates value on record with id: ${String(clash.Id)}`, [
        field.name,
      ]);
    }
  }
  return undefined;
}

function checkOwner(txn: Txn, obj: ObjectDef, record: SfRecord): SfError | undefined {
  if (!obj.fields.some((f) => f.name === 'OwnerId') || typeof record.OwnerId !== 'string') return undefined;
  const owner = txn.store.get('User', record.OwnerId);
  if (owner && owner.IsActive !== true) {
    return sfError(
      'INACTIVE_OWNER_OR_USER',
      `operation performed with inactive user [${record.OwnerId}] as owner of ${obj.label.toLowerCase()}`,
      [],
    );
  }
  return undefined;
}

/** Steps shared by create and update once the candidate record is assembled. */
function finishWrite(
  txn: Txn,
  obj: ObjectDef,
  record: SfRecord,
  previous: SfRecord | undefined,
  touched: Set<string>,
  ctx: WriteContext,
): SfError | undefined {
  if (obj.name === 'Lead' && ctx.autoAssign) assignLeadOwner(txn, record);
  applyDerivedFields(txn.store, obj.name, record, previous, ctx.now, touched);
  const error =
    checkRequired(obj, record) ??
    checkObjectConstraints(txn.store, obj.name, record, previous)[0] ??
    checkOwner(txn, obj, record) ??
    checkUnique(txn, obj, record);
  if (error) return error;
  const injected = ctx.recordFault?.(obj.name);
  if (injected) return injected;
  txn.put(obj.name, record);
  applyCampaignSaveEffects(txn, obj.name, record, previous, ctx);
  return undefined;
}

function objectFor(txn: Txn, type: string, operation: 'inserted' | 'updated' | 'deleted', userId: string): ObjectDef | SfError {
  const obj = txn.store.schema.object(type);
  if (!obj) return sfError('NOT_FOUND', 'The requested resource does not exist');
  const allowed = operation === 'inserted' ? obj.createable : operation === 'updated' ? obj.updateable : obj.deletable;
  if (!allowed) return sfError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be ${operation}: ${obj.label}`);
  return marketingUserRefusal(txn.store, obj, operation, userId) ?? currencyTypeRefusal(txn.store, obj, operation, userId) ?? obj;
}

/** Inserts a record. */
export function createRecord(txn: Txn, type: string, input: Input, ctx: WriteContext): WriteResult {
  const obj = objectFor(txn, type, 'inserted', ctx.userId);
  if ('errorCode' in obj) return failed(obj);
  if (Object.keys(input).some((k) => k.toLowerCase() === 'id')) {
    return failed(sfError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']));
  }
  const resolved = resolveInput(txn, obj, input, 'create', ctx);
  if (!resolved.ok) return failed(...resolved.errors);
  const point = txn.savepoint();
  const record: SfRecord = {};
  for (const field of obj.fields) record[field.name] = field.defaultedOnCreate ? field.defaultValue : null;
  const hasOwner = obj.fields.some((f) => f.name === 'OwnerId');
  Object.assign(record, {
    Id: txn.store.newRecordId(obj.name),
    ...auditFields(ctx.userId, ctx.now),
    ...(hasOwner ? { OwnerId: ctx.userId } : {}),
  });
  if (!obj.fields.some((f) => f.name === 'IsDeleted')) delete record.IsDeleted;
  const touched = new Set<string>();
  for (const [field, value] of resolved.values) {
    record[field.name] = value as SfRecord[string];
    touched.add(field.name);
  }
  applyCurrencyDefault(txn.store, obj, record, ctx.userId);
  const error = finishWrite(txn, obj, record, undefined, touched, ctx);
  if (error) {
    txn.rollbackTo(point);
    return failed(error);
  }
  const changedFields = Object.keys(record).filter((k) => record[k] !== null && record[k] !== false);
  txn.emit({ kind: 'create', type: obj.name, id: String(record.Id), changedFields, userId: ctx.userId });
  return { ok: true, id: String(record.Id), created: true };
}

/** Looks up a live record for update/delete, with Salesforce's errors for bad, missing and deleted ids. */
export function liveRecord(txn: Txn, obj: ObjectDef, rawId: string): { ok: true; record: SfRecord } | { ok: false; errors: SfError[] } {
  const id = toId18(rawId);
  if (id === null) return { ok: false, errors: [sfError('MALFORMED_ID', `${obj.label} ID: id value of incorrect type: ${rawId}`, ['Id'])] };
  const record = txn.store.get(obj.name, id);
  if (!record) return { ok: false, errors: [sfError('NOT_FOUND', 'The requested resource does not exist')] };
  if (record.IsDeleted === true) return { ok: false, errors: [sfError('ENTITY_IS_DELETED', 'entity is deleted', [])] };
  return { ok: true, record };
}

/** Updates a record by id. */
export function updateRecord(txn: Txn, type: string, rawId: string, input: Input, ctx: WriteContext): WriteResult {
  const obj = objectFor(txn, type, 'updated', ctx.userId);
  if ('errorCode' in obj) return failed(obj);
  const found = liveRecord(txn, obj, rawId);
  if (!found.ok) return failed(...found.errors);
  const previous = found.record;
  if (obj.name === 'Lead' && previous.IsConverted === true)
    return failed(sfError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', []));
  const { Id: bodyId, id: bodyLowerId, ...rest } = input;
  const givenId = bodyId ?? bodyLowerId;
  if (givenId !== undefined && (typeof givenId !== 'string' || toId18(givenId) !== previous.Id)) {
    return failed(sfError('INVALID_FIELD_FOR_INSERT_UPDATE', 'Id in the request body does not match the record being updated', ['Id']));
  }
  const resolved = resolveInput(txn, obj, currencyTypeUpdateInput(obj, rest), 'update', ctx);
  if (!resolved.ok) return failed(...resolved.errors);
  const point = txn.savepoint();
  const stamp = formatDateTime(ctx.now);
  const record: SfRecord = { ...previous, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp };
  const touched = new Set<string>();
  for (const [field, value] of resolved.values) {
    record[field.name] = value as SfRecord[string];
    touched.add(field.name);
  }
  const error = finishWrite(txn, obj, record, previous, touched, ctx);
  if (error) {
    txn.rollbackTo(point);
    return failed(error);
  }
  recordFieldHistory(txn, obj.name, record, previous, ctx.userId, ctx.now);
  const changedFields = Object.keys(record).filter((k) => !SYSTEM_STAMPS.has(k) && record[k] !== previous[k]);
  txn.emit({ kind: 'update', type: obj.name, id: String(record.Id), changedFields, userId: ctx.userId });
  return { ok: true, id: String(record.Id), created: false };
}

/** Children removed with their parent (the platform's cascade delete for these relationships). */
const CASCADES: Record<string, Array<{ type: string; field: string }>> = {
  Account: [
    { type: 'Contact', field: 'AccountId' },
    { type: 'Opportunity', field: 'AccountId' },
  ],
  Lead: [{ type: 'CampaignMember', field: 'LeadId' }],
  Contact: [{ type: 'CampaignMember', field: 'ContactId' }],
  Campaign: [
    { type: 'CampaignMember', field: 'CampaignId' },
    { type: 'CampaignMemberStatus', field: 'CampaignId' },
  ],
};

function softDelete(txn: Txn, type: string, record: SfRecord, ctx: WriteContext): void {
  const stamp = formatDateTime(ctx.now);
  txn.put(type, { ...record, IsDeleted: true, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp });
  txn.emit({ kind: 'delete', type, id: String(record.Id), changedFields: ['IsDeleted'], userId: ctx.userId });
  for (const child of CASCADES[type] ?? []) {
    for (const row of Object.values(txn.store.table(child.type))) {
      if (!row.IsDeleted && row[child.field] === record.Id) softDelete(txn, child.type, row, ctx);
    }
  }
}

/** Moves a record (and cascaded children) to the recycle bin: IsDeleted = true, visible to queryAll. */
export function deleteRecord(txn: Txn, type: string, rawId: string, ctx: WriteContext): WriteResult {
  const obj = objectFor(txn, type, 'deleted', ctx.userId);
  if ('errorCode' in obj) return failed(obj);
  const found = liveRecord(txn, obj, rawId);
  if (!found.ok) return failed(...found.errors);
  softDelete(txn, obj.name, found.record, ctx);
  return { ok: true, id: String(found.record.Id), created: false };
}

export type UpsertResult = WriteResult | { ok: false; multiple: string[] };

/** Upserts by an external id field: creates when no record matches, updates when exactly one does. */
export function upsertRecord(txn: Txn, type: string, fieldName: string, value: string, input: Input, ctx: WriteContext): UpsertResult {
  const obj = txn.store.schema.object(type);
  if (!obj) return failed(sfError('NOT_FOUND', 'The requested resource does not exist'));
  const field = txn.store.schemaFor(ctx.userId).field(obj.name, fieldName);
  if (!field || !(field.externalId || field.name === 'Id')) {
    return failed(sfError('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`));
  }
  const { [field.name]: bodyValue, ...rest } = Object.fromEntries(
    Object.entries(input).map(([k, v]) => [k.toLowerCase() === field.name.toLowerCase() ? field.name : k, v]),
  );
  const shown = typeof bodyValue === 'string' || typeof bodyValue === 'number' ? String(bodyValue) : JSON.stringify(bodyValue);
  if (bodyValue !== undefined && shown !== value) {
    return failed(
      sfError(
        'INVALID_FIELD',
        `The value of the external ID field in the request body (${shown}) must match the value in the URL (${value})`,
        [field.name],
      ),
    );
  }
  const matches = txn.store
    .recordsWithValue(obj.name, field.name, field.caseSensitive === true, value)
    .filter((r) => !r.IsDeleted && sameValue(field, r[field.name] ?? null, value));
  if (matches.length > 1) return { ok: false, multiple: matches.map((r) => String(r.Id)) };
  const match = matches[0];
  if (match) return updateRecord(txn, obj.name, String(match.Id), rest, ctx);
  if (field.name === 'Id') return failed(sfError('NOT_FOUND', 'The requested resource does not exist'));
  return createRecord(txn, obj.name, { ...rest, [field.name]: value }, ctx);
}

/**
 * Turning JSON input into stored field values, with Salesforce's error codes and messages for
 * each way a value can be wrong.
 */
import { sfError } from './errors.ts';
import { objectForId, toId18 } from './ids.ts';
import { formatDate, formatDateTime, parseDate, parseDateTime } from './sf-time.ts';
import type { OrgStore } from './state-store.ts';
import type { FieldDef, FieldValue, SfError } from './types.ts';

export type Coerced = { ok: true; value: FieldValue } | { ok: false; error: SfError };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const fail = (error: SfError): Coerced => ({ ok: false, error });

function deserializeError(field: FieldDef, raw: unknown, target: string): Coerced {
  const shown = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : JSON.stringify(raw);
  return fail(
    sfError(
      'JSON_PARSER_ERROR',
      `Cannot deserialize instance of ${target} from VALUE_STRING value ${shown} or request may be missing a required field`,
      [field.name],
    ),
  );
}

function coerceText(field: FieldDef, raw: unknown): Coerced {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return deserializeError(field, raw, 'string');
  const value = String(raw);
  if (value === '') return { ok: true, value: null };
  if (field.length > 0 && value.length > field.length) {
    return fail(
      sfError('STRING_TOO_LONG', `${field.label}: data value too large: ${value.slice(0, 80)} (max length=${field.length})`, [field.name]),
    );
  }
  if (field.type === 'email' && !EMAIL.test(value)) {
    return fail(sfError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${value}`, [field.name]));
  }
  if (field.type === 'picklist' && field.restrictedPicklist && !field.picklistValues.some((p) => p.active && p.value === value)) {
    return fail(
      sfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${value}`, [field.name]),
    );
  }
  if (field.type === 'multipicklist' && field.restrictedPicklist) {
    const bad = value.split(';').find((v) => !field.picklistValues.some((p) => p.active && p.value === v));
    if (bad !== undefined) {
      return fail(
        sfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label}: bad value for restricted picklist field: ${bad}`, [field.name]),
      );
    }
  }
  return { ok: true, value };
}

function coerceNumber(field: FieldDef, raw: unknown): Coerced {
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) return deserializeError(field, raw, field.type === 'int' ? 'int' : 'double');
  if (field.type === 'int' && !Number.isInteger(value)) return deserializeError(field, raw, 'int');
  const integerDigits = Math.max(1, field.precision - field.scale);
  if (field.precision > 0 && Math.abs(Math.trunc(value)).toString().length > integerDigits) {
    return fail(
      sfError('NUMBER_OUTSIDE_VALID_RANGE', `${field.label}: value outside of valid range on numeric field: ${value}`, [field.name]),
    );
  }
  return { ok: true, value };
}

function coerceTemporal(field: FieldDef, raw: unknown): Coerced {
  if (typeof raw !== 'string') return deserializeError(field, raw, field.type === 'date' ? 'date' : 'datetime');
  if (field.type === 'date') {
    const ms = parseDate(raw) ?? parseDateTime(raw);
    return ms === null ? deserializeError(field, raw, 'date') : { ok: true, value: formatDate(ms) };
  }
  const ms = parseDateTime(raw) ?? parseDate(raw);
  return ms === null ? deserializeError(field, raw, 'datetime') : { ok: true, value: formatDateTime(ms) };
}

/** Checks that a reference points at an existing, live record of an allowed type. */
export function checkReference(store: OrgStore, field: FieldDef, raw: string): Coerced {
  const id = toId18(raw);
  if (id === null) return fail(sfError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${raw}`, [field.name]));
  const type = objectForId(id, field.referenceTo);
  if (!type) return fail(sfError('FIELD_INTEGRITY_EXCEPTION', `${field.label}: id value of incorrect type: ${raw}`, [field.name]));
  const target = store.get(type, id);
  if (!target) return fail(sfError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [field.name]));
  if (target.IsDeleted === true) return fail(sfError('ENTITY_IS_DELETED', `entity is deleted`, [field.name]));
  return { ok: true, value: id };
}

/** Coerces one input value for a field; references are checked against the store. */
export function coerceValue(store: OrgStore, field: FieldDef, raw: unknown): Coerced {
  if (raw === null || raw === undefined) return { ok: true, value: field.type === 'boolean' ? false : null };
  switch (field.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return deserializeError(field, raw, 'boolean');
    case 'double':
    case 'currency':
    case 'percent':
    case 'int':
      return coerceNumber(field, raw);
    case 'date':
    case 'datetime':
      return coerceTemporal(field, raw);
    case 'id':
    case 'reference':
      if (typeof raw !== 'string') return deserializeError(field, raw, 'id');
      return raw === '' ? { ok: true, value: null } : checkReference(store, field, raw);
    case 'string':
    case 'textarea':
    case 'email':
    case 'phone':
    case 'url':
    case 'picklist':
    case 'multipicklist':
      return coerceText(field, raw);
    default: {
      const unreachable: never = field.type;
      return unreachable;
    }
  }
}

/** Equality used for unique and external-id matching (case-insensitive unless the field says otherwise). */
export function sameValue(field: FieldDef, a: FieldValue, b: FieldValue): boolean {
  if (a === null || b === null) return false;
  if (typeof a === 'string' && typeof b === 'string' && !field.caseSensitive) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

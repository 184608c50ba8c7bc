/**
 * Field history tracking: an admin picks up to 20 fields of an object (Setup → Object Manager →
 * Fields & Relationships → Set History Tracking), and each later change to one of them adds a row
 * to the object's history object — `LeadHistory` (`LeadId`), `ContactHistory` (`ContactId`) — with
 * the field's API name in `Field`, the values before and after, who changed it and when
 * (`CreatedDate`). History objects are read-only: query() and retrieve() only (Object Reference,
 * "LeadHistory", "StandardObjectNameHistory"; the 20-field limit: Salesforce Help, "Field History
 * Tracking"). Records created with a value get no field row (the platform writes a `created` row,
 * which this sandbox leaves out), so a field's first history row is its first change.
 */
import { httpError } from './errors.ts';
import { HISTORY_OBJECTS, MAX_TRACKED_FIELDS, type TrackedObject } from './history-objects.ts';
import { formatDateTime } from './sf-time.ts';
import type { OrgStore, Txn } from './state-store.ts';
import type { SfRecord } from './types.ts';

function isTracked(type: string): type is TrackedObject {
  return Object.hasOwn(HISTORY_OBJECTS, type);
}

/** The fields of an object whose changes are kept. */
export function trackedFields(store: OrgStore, type: string): readonly string[] {
  return isTracked(type) ? (store.state.fieldHistory[type] ?? []) : [];
}

/** Sets the tracked fields of an object, as the admin's Set History Tracking page does. */
export function setTrackedFields(store: OrgStore, type: string, names: readonly string[]): string[] {
  if (!isTracked(type)) throw httpError(400, 'INVALID_TYPE', `field history is not tracked for ${type} here: track Lead or Contact`);
  const unique = [...new Set(names)];
  if (unique.length > MAX_TRACKED_FIELDS)
    throw httpError(400, 'LIMIT_EXCEEDED', `at most ${MAX_TRACKED_FIELDS} fields of an object can be tracked (${unique.length} given)`);
  const known = new Set(store.schema.object(type)?.fields.map((f) => f.name) ?? []);
  const unknown = unique.filter((name) => !known.has(name));
  if (unknown.length > 0) throw httpError(400, 'INVALID_FIELD', `no such ${type} field: ${unknown.join(', ')}`);
  store.state.fieldHistory = { ...store.state.fieldHistory, [type]: unique };
  store.markDirty();
  return unique;
}

function historyValue(value: SfRecord[string] | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Adds a history row for each tracked field an update changed. */
export function recordFieldHistory(txn: Txn, type: string, record: SfRecord, previous: SfRecord, userId: string, now: number): void {
  if (!isTracked(type)) return;
  const { history, parentField } = HISTORY_OBJECTS[type];
  const stamp = formatDateTime(now);
  for (const name of trackedFields(txn.store, type)) {
    if (record[name] === previous[name]) continue;
    txn.put(history, {
      Id: txn.store.newRecordId(history),
      IsDeleted: false,
      [parentField]: String(record.Id),
      Field: name,
      DataType: txn.store.schema.field(type, name)?.type ?? null,
      OldValue: historyValue(previous[name]),
      NewValue: historyValue(record[name]),
      CreatedById: userId,
      CreatedDate: stamp,
    });
  }
}

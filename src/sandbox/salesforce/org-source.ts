/** The org's records as a SOQL source, with the metadata `userId` may see (field-level security). */
import type { SoqlSource } from './soql-paths.ts';
import type { OrgStore } from './state-store.ts';

export function orgSource(store: OrgStore, userId: string): SoqlSource {
  const schema = store.schemaFor(userId);
  return {
    object: (name) => schema.object(name),
    field: (objectName, fieldName) => schema.field(objectName, fieldName),
    relationship: (objectName, relationshipName) => schema.relationship(objectName, relationshipName),
    child: (objectName, relationshipName) => schema.child(objectName, relationshipName),
    rows: (type) => Object.values(store.state.records[type] ?? {}),
    // Text compares case-insensitively in SOQL: the index is looked up the same way (a superset for case-sensitive fields).
    rowsWithValue: (type, field, value) => {
      if (field === 'Id') {
        const row = store.get(type, value);
        return row ? [row] : [];
      }
      return store.recordsWithValue(type, field, false, value);
    },
    byId: (types, id) => {
      const found = store.find(id, types);
      return found ? { type: found.type, row: found.record } : undefined;
    },
  };
}

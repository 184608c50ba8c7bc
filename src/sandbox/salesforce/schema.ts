/**
 * The org's effective metadata: standard objects plus the custom fields created so far. API names
 * are case-insensitive in Salesforce, so every lookup here is too; callers get canonical names back.
 */
import { CURRENCY_TYPE_OBJECT, withCurrencyFields } from './currency.ts';
import { toFieldDef, type CustomFieldState } from './custom-fields.ts';
import { PERMISSION_SET_OBJECTS, type FieldAccess } from './permission-objects.ts';
import { STANDARD_OBJECTS } from './standard-objects.ts';
import { HISTORY_OBJECT_DEFS } from './history-objects.ts';
import type { ChildRelationship, FieldDef, ObjectDef } from './types.ts';

interface IndexedObject {
  def: ObjectDef;
  fields: Map<string, FieldDef>;
  relationships: Map<string, FieldDef>;
  children: Map<string, ChildRelationship>;
}

export class OrgSchema {
  private readonly objects = new Map<string, IndexedObject>();

  /**
   * `access`, when given, is one user's field-level security on custom fields (see permissions.ts):
   * a field without access is left out, a read-only one is neither createable nor updateable.
   */
  /**
   * `currencyCodes`, in a multi-currency org, are its active currencies: the objects that carry a
   * currency gain `CurrencyIsoCode` and CurrencyType exists (currency.ts).
   */
  constructor(
    customFields: readonly CustomFieldState[],
    access?: (object: string, field: string) => FieldAccess,
    currencyCodes?: readonly string[],
  ) {
    const objects =
      currencyCodes === undefined
        ? [...STANDARD_OBJECTS, ...PERMISSION_SET_OBJECTS, ...HISTORY_OBJECT_DEFS]
        : [
            ...STANDARD_OBJECTS.map((o) => withCurrencyFields(o, currencyCodes)),
            ...PERMISSION_SET_OBJECTS,
            ...HISTORY_OBJECT_DEFS,
            CURRENCY_TYPE_OBJECT,
          ];
    for (const standard of objects) {
      const extra = customFields
        .filter((c) => c.object === standard.name)
        .map(toFieldDef)
        .flatMap((field) => {
          const granted = access ? access(standard.name, field.name) : 'edit';
          if (granted === 'none') return [];
          return granted === 'read' ? [{ ...field, createable: false, updateable: false }] : [field];
        });
      const def: ObjectDef = { ...standard, fields: [...standard.fields, ...extra] };
      this.objects.set(def.name.toLowerCase(), {
        def,
        fields: new Map(def.fields.map((f) => [f.name.toLowerCase(), f])),
        relationships: new Map(def.fields.filter((f) => f.relationshipName).map((f) => [(f.relationshipName ?? '').toLowerCase(), f])),
        children: new Map(def.childRelationships.map((c) => [c.relationshipName.toLowerCase(), c])),
      });
    }
  }

  /** Every object, in describeGlobal order. */
  list(): ObjectDef[] {
    return [...this.objects.values()].map((o) => o.def);
  }

  object(name: string): ObjectDef | undefined {
    return this.objects.get(name.toLowerCase())?.def;
  }

  field(objectName: string, fieldName: string): FieldDef | undefined {
    return this.objects.get(objectName.toLowerCase())?.fields.get(fieldName.toLowerCase());
  }

  /** The reference field behind a relationship name (`Owner` → `OwnerId`). */
  relationship(objectName: string, relationshipName: string): FieldDef | undefined {
    return this.objects.get(objectName.toLowerCase())?.relationships.get(relationshipName.toLowerCase());
  }

  child(objectName: string, relationshipName: string): ChildRelationship | undefined {
    return this.objects.get(objectName.toLowerCase())?.children.get(relationshipName.toLowerCase());
  }
}

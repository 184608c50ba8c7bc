/**
 * Field-level security of the sandbox org, as a real org enforces it for API users.
 *
 * - Access to a custom field comes only from `FieldPermissions` rows of the permission sets a user
 *   is assigned (`PermissionSetAssignment`). A field created through the Tooling API is granted to
 *   no one, not even an administrator, until a permission set (or profile) grants it ("After
 *   creating a CustomField … you must explicitly configure field permissions", and "Even the System
 *   Administrator profile may not have access to custom … fields by default": Salesforce
 *   StackExchange q. 208307, Salesforce Help on field-level security). Standard fields stay
 *   visible: a fresh org's profiles grant them.
 * - A field a user cannot read does not exist for that user's API calls: describe leaves it out,
 *   SOQL and `?fields=` answer `INVALID_FIELD` ("No such column"), writes answer `INVALID_FIELD`,
 *   an upsert by it answers `NOT_FOUND` ("Provided external ID field does not exist or is not
 *   accessible"). A field a user can read but not edit is `createable/updateable: false` in describe
 *   and a write to it answers `INVALID_FIELD_FOR_INSERT_UPDATE`.
 * - `PermissionSet`, `FieldPermissions`, `ObjectPermissions` and `PermissionSetAssignment` are
 *   ordinary sObjects created and queried through REST and SOQL, with the rules of the object
 *   reference (FieldPermissions: `Field` is `<SobjectType>.<Field>`, "PermissionsEdit requires
 *   PermissionsRead for the same field to be true"; one row per permission set and field; one
 *   assignment per user and permission set).
 * Object permissions are recorded and returned as in a real org; the sandbox does not restrict
 * objects by them (the seeded users' profiles grant the standard objects).
 */
import { sfError } from './errors.ts';
import type { OrgStore } from './state-store.ts';
import type { SfError, SfRecord } from './types.ts';

const live = (store: OrgStore, type: string): SfRecord[] => Object.values(store.table(type)).filter((r) => r.IsDeleted !== true);

/**
 * Objects that take object permissions. Activities (Task, Event) are governed by the "Edit Tasks" /
 * "Edit Events" system permissions and campaign members by Campaign access, so they are not
 * values of `ObjectPermissions.SobjectType` (profile Object Settings list neither).
 */
const OBJECTS_WITH_PERMISSIONS: ReadonlySet<string> = new Set(['Lead', 'Contact', 'Account', 'Opportunity', 'Campaign']);

const duplicate = (message: string, fieldNames: string[]): SfError => sfError('DUPLICATE_VALUE', message, fieldNames);
// `Field` and `SobjectType` are restricted picklists in a real org: a name that is not a
// permissionable field of the org is refused as a bad picklist value (FieldPermissions reference).
const badPicklist = (field: string, value: unknown): SfError =>
  sfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field}: bad value for restricted picklist field: ${String(value)}`, [field]);

const sameText = (a: unknown, b: unknown): boolean => String(a).toLowerCase() === String(b).toLowerCase();

/** A FieldPermissions row: a permissionable field, Edit only with Read, one row per field and parent. */
function checkFieldPermissions(store: OrgStore, record: SfRecord, others: () => SfRecord[]): SfError[] {
  const object = store.schema.object(String(record.SobjectType));
  if (!object) return [badPicklist('SobjectType', record.SobjectType)];
  record.SobjectType = object.name;
  const [prefix, fieldName] = String(record.Field).split('.');
  const field =
    prefix?.toLowerCase() === object.name.toLowerCase() && fieldName !== undefined ? store.schema.field(object.name, fieldName) : undefined;
  // describe's `permissionable`: required, calculated and system fields take no field-level security.
  if (!field || !(field.nillable && !field.calculated && field.createable)) return [badPicklist('Field', record.Field)];
  record.Field = `${object.name}.${field.name}`;
  if (record.PermissionsEdit === true && record.PermissionsRead !== true) {
    return [
      sfError('FIELD_INTEGRITY_EXCEPTION', `Permission Edit on ${String(record.Field)} depends on permission(s): Read`, [
        'PermissionsEdit',
      ]),
    ];
  }
  if (others().some((r) => r.ParentId === record.ParentId && sameText(r.Field, record.Field))) {
    return [duplicate(`duplicate value found: Field duplicates value on record with id: ${String(record.ParentId)}`, ['Field'])];
  }
  return [];
}

/** An ObjectPermissions row: an object that takes permissions, the rest only with Read, one row per object and parent. */
function checkObjectPermissions(store: OrgStore, record: SfRecord, others: () => SfRecord[]): SfError[] {
  const object = store.schema.object(String(record.SobjectType));
  if (!object || !OBJECTS_WITH_PERMISSIONS.has(object.name)) return [badPicklist('SobjectType', record.SobjectType)];
  record.SobjectType = object.name;
  const needsRead = [
    'PermissionsCreate',
    'PermissionsEdit',
    'PermissionsDelete',
    'PermissionsViewAllRecords',
    'PermissionsModifyAllRecords',
  ].filter((f) => record[f] === true);
  if (needsRead.length > 0 && record.PermissionsRead !== true) {
    return [
      sfError(
        'FIELD_INTEGRITY_EXCEPTION',
        `Permission ${needsRead.join(', ')} on ${object.name} depends on permission(s): Read`,
        needsRead,
      ),
    ];
  }
  if (others().some((r) => r.ParentId === record.ParentId && r.SobjectType === record.SobjectType)) {
    return [
      duplicate(`duplicate value found: SobjectType duplicates value on record with id: ${String(record.ParentId)}`, ['SobjectType']),
    ];
  }
  return [];
}

/** Rules of the permission objects beyond field metadata; empty when the row can be saved. */
export function checkPermissionRow(store: OrgStore, type: string, record: SfRecord): SfError[] {
  const others = (): SfRecord[] => live(store, type).filter((r) => r.Id !== record.Id);
  switch (type) {
    case 'PermissionSet': {
      const name = String(record.Name ?? '');
      if (!/^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/.test(name)) {
        return [
          sfError(
            'FIELD_INTEGRITY_EXCEPTION',
            'The API Name can only contain underscores and alphanumeric characters. It must begin with a letter, not end with an underscore, and not contain two consecutive underscores.',
            ['Name'],
          ),
        ];
      }
      return [];
    }
    case 'FieldPermissions':
      return checkFieldPermissions(store, record, others);
    case 'ObjectPermissions':
      return checkObjectPermissions(store, record, others);
    case 'PermissionSetAssignment': {
      const set = store.get('PermissionSet', String(record.PermissionSetId));
      if (!set || set.IsDeleted === true)
        return [sfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['PermissionSetId'])];
      const user = store.get('User', String(record.AssigneeId));
      if (!user) return [sfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['AssigneeId'])];
      if (others().some((r) => r.AssigneeId === record.AssigneeId && r.PermissionSetId === record.PermissionSetId)) {
        return [duplicate(`Duplicate PermissionSetAssignment: ${String(record.AssigneeId)} is already assigned ${String(set.Name)}`, [])];
      }
      return [];
    }
    default:
      return [];
  }
}

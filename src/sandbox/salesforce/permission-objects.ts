/**
 * The permission objects of the sandbox org (`PermissionSet`, `FieldPermissions`,
 * `ObjectPermissions`, `PermissionSetAssignment`) and the field access they give a user; the rules
 * on saving them and what the access means for the API are in permissions.ts.
 */
import { fields, objectDef, ownerlessFields } from './field-builders.ts';
import type { KEY_PREFIXES } from './ids.ts';
import type { ObjectDef, SfRecord } from './types.ts';

export type FieldAccess = 'none' | 'read' | 'edit';

/** The objects whose rows change who sees what; a write to one of them drops the cached per-user schemas. */
export const PERMISSION_OBJECTS: ReadonlySet<string> = new Set([
  'PermissionSet',
  'FieldPermissions',
  'ObjectPermissions',
  'PermissionSetAssignment',
]);

function setupObject(
  name: keyof typeof KEY_PREFIXES,
  label: string,
  labelPlural: string,
  defs: ObjectDef['fields'],
  updateable = true,
): ObjectDef {
  return objectDef(name, label, labelPlural, ownerlessFields(defs), { updateable });
}

const permissionFlag = (name: string, label: string) => fields.boolean(name, label, false, { defaultedOnCreate: true });

export const PERMISSION_SET_OBJECTS: readonly ObjectDef[] = [
  {
    ...setupObject('PermissionSet', 'Permission Set', 'Permission Sets', [
      fields.required('Name', 'Name', 80, { unique: true }),
      fields.required('Label', 'Label', 80, { nameField: true }),
      fields.text('Description', 'Description', 255),
      fields.readOnly(fields.boolean('IsOwnedByProfile', 'Is Owned By Profile')),
      fields.readOnly(fields.text('NamespacePrefix', 'Namespace Prefix', 15)),
      // A few of the system permissions (one boolean field each in a real org).
      permissionFlag('PermissionsApiEnabled', 'API Enabled'),
      permissionFlag('PermissionsEditTask', 'Edit Tasks'),
      permissionFlag('PermissionsEditEvent', 'Edit Events'),
      // "Customize Application": needed to edit CurrencyType rows (currency.ts).
      permissionFlag('PermissionsCustomizeApplication', 'Customize Application'),
    ]),
    childRelationships: [
      { relationshipName: 'FieldPerms', childSObject: 'FieldPermissions', field: 'ParentId' },
      { relationshipName: 'ObjectPerms', childSObject: 'ObjectPermissions', field: 'ParentId' },
      { relationshipName: 'Assignments', childSObject: 'PermissionSetAssignment', field: 'PermissionSetId' },
    ],
  },
  setupObject('FieldPermissions', 'Field Permissions', 'Field Permissions', [
    fields.reference('ParentId', 'Parent ID', ['PermissionSet'], 'Parent', { nillable: false, updateable: false }),
    fields.required('SobjectType', 'Sobject Type Name', 40, { updateable: false }),
    fields.required('Field', 'Field Name', 255, { updateable: false }),
    permissionFlag('PermissionsRead', 'Read Access'),
    permissionFlag('PermissionsEdit', 'Edit Access'),
  ]),
  setupObject('ObjectPermissions', 'Object Permissions', 'Object Permissions', [
    fields.reference('ParentId', 'Parent ID', ['PermissionSet'], 'Parent', { nillable: false, updateable: false }),
    fields.required('SobjectType', 'Sobject Type Name', 40, { updateable: false }),
    permissionFlag('PermissionsRead', 'Read Access'),
    permissionFlag('PermissionsCreate', 'Create Access'),
    permissionFlag('PermissionsEdit', 'Edit Access'),
    permissionFlag('PermissionsDelete', 'Delete Access'),
    permissionFlag('PermissionsViewAllRecords', 'View All Records'),
    permissionFlag('PermissionsModifyAllRecords', 'Modify All Records'),
  ]),
  setupObject(
    'PermissionSetAssignment',
    'Permission Set Assignment',
    'Permission Set Assignments',
    [
      fields.reference('AssigneeId', 'Assignee ID', ['User'], 'Assignee', { nillable: false, updateable: false }),
      fields.reference('PermissionSetId', 'Permission Set ID', ['PermissionSet'], 'PermissionSet', { nillable: false, updateable: false }),
    ],
    false,
  ),
];

/** The org's live rows of a type. */
export type RowsOf = (type: string) => readonly SfRecord[];

/** `Lead.First_Touch_Channel__c` → access, for every custom field `userId` may see (lower-case keys). */
export function customFieldAccess(rowsOf: RowsOf, userId: string): Map<string, Exclude<FieldAccess, 'none'>> {
  const sets = new Set(
    rowsOf('PermissionSetAssignment')
      .filter((a) => a.AssigneeId === userId)
      .map((a) => String(a.PermissionSetId)),
  );
  const access = new Map<string, Exclude<FieldAccess, 'none'>>();
  for (const row of rowsOf('FieldPermissions')) {
    if (!sets.has(String(row.ParentId)) || row.PermissionsRead !== true) continue;
    const key = String(row.Field).toLowerCase();
    if (row.PermissionsEdit === true) access.set(key, 'edit');
    else if (!access.has(key)) access.set(key, 'read');
  }
  return access;
}

/**
 * Field-level security in tests, granted the way an admin grants it in a real org: a permission set
 * with FieldPermissions rows, assigned to the user, all through the REST API.
 */
import type { Connection } from 'jsforce';

let sequence = 0;

/** The id of the user a connection acts as. */
export async function userIdOf(conn: Connection): Promise<string> {
  return (await conn.identity()).user_id;
}

/**
 * Grants `access` on each field (`Lead.First_Touch_Channel__c`) to `userId` (default: the
 * connection's own user) through a new permission set; returns the permission set's id.
 */
export async function grantFieldAccess(
  conn: Connection,
  fields: readonly string[],
  options: { userId?: string; access?: 'read' | 'edit' } = {},
): Promise<string> {
  sequence += 1;
  const set = await conn
    .sobject('PermissionSet')
    .create({ Name: `Test_Field_Access_${process.pid}_${sequence}`, Label: `Test field access ${sequence}` });
  if (!set.success) throw new Error(`permission set not created: ${JSON.stringify(set)}`);
  const edit = (options.access ?? 'edit') === 'edit';
  const rows = fields.map((field) => ({
    ParentId: set.id,
    SobjectType: field.split('.')[0],
    Field: field,
    PermissionsRead: true,
    PermissionsEdit: edit,
  }));
  const results = await conn.sobject('FieldPermissions').create(rows, { allOrNone: true });
  const failed = results.filter((r) => !r.success);
  if (failed.length > 0) throw new Error(`field permissions not created: ${JSON.stringify(failed)}`);
  const assigned = await conn
    .sobject('PermissionSetAssignment')
    .create({ AssigneeId: options.userId ?? (await userIdOf(conn)), PermissionSetId: set.id });
  if (!assigned.success) throw new Error(`permission set not assigned: ${JSON.stringify(assigned)}`);
  return set.id;
}

/** Takes a field out of a permission set, as an admin unticks it in Setup (deletes its FieldPermissions row). */
export async function revokeFieldAccess(conn: Connection, permissionSetName: string, field: string): Promise<void> {
  const rows = await conn.query<{ Id: string }>(
    `SELECT Id FROM FieldPermissions WHERE Parent.Name = '${permissionSetName}' AND Field = '${field}'`,
  );
  const id = rows.records[0]?.Id;
  if (id === undefined) throw new Error(`${permissionSetName} grants nothing on ${field}`);
  await conn.sobject('FieldPermissions').destroy(id);
}

/** Assigns a permission set by API name to a user, as an admin does under Manage Assignments. */
export async function assignPermissionSet(conn: Connection, permissionSetName: string, userId: string): Promise<void> {
  const set = (await conn.query<{ Id: string }>(`SELECT Id FROM PermissionSet WHERE Name = '${permissionSetName}'`)).records[0];
  if (set === undefined) throw new Error(`no permission set ${permissionSetName}`);
  await conn.sobject('PermissionSetAssignment').create({ AssigneeId: userId, PermissionSetId: set.Id });
}

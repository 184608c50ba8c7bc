/**
 * Field-level security in the sandbox org, through the real jsforce client: a custom field created
 * through the Tooling API exists for no API user until a permission set grants it, and the
 * permission objects are created and queried through REST and SOQL as in a real org.
 */
import type { Connection } from 'jsforce';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { grantFieldAccess } from '../support/salesforce-access.ts';
import { sandboxOrgPerTest, sessionAs } from '../support/salesforce-org.ts';

let sandbox: SalesforceSandbox;
/** The integration user (the connected app's password login). */
let conn: Connection;
/** A sales rep. */
let rep: Connection;
/** The org's administrator. */
let admin: Connection;

const asUser = (userId: string): Connection => sessionAs(sandbox, userId);

async function describedField(c: Connection, object: string, name: string) {
  return (await c.describe(object)).fields.find((f) => f.name === name);
}

sandboxOrgPerTest((org) => {
  ({ sandbox, integration: conn, admin } = org);
  rep = asUser(sandbox.salesRepIds[0] ?? '');
});

beforeEach(async () => {
  await conn.tooling.sobject('CustomField').create({
    FullName: 'Lead.HubSpot_Contact_Id__c',
    Metadata: { type: 'Text', label: 'HubSpot Contact ID', length: 40, externalId: true, unique: true },
  });
  await conn.tooling
    .sobject('CustomField')
    .create({ FullName: 'Lead.Feedback_Notes__c', Metadata: { type: 'LongTextArea', label: 'Feedback Notes', length: 32000 } });
});

describe('a custom field nobody was granted', () => {
  it('is left out of describe for every user, the administrator included', async () => {
    for (const c of [conn, rep, admin]) expect(await describedField(c, 'Lead', 'HubSpot_Contact_Id__c')).toBeUndefined();
  });

  it('answers INVALID_FIELD to a query naming it', async () => {
    await expect(conn.query('SELECT Id, HubSpot_Contact_Id__c FROM Lead')).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
    await expect(conn.query("SELECT Id FROM Lead WHERE HubSpot_Contact_Id__c = 'x'")).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
  });

  it('answers INVALID_FIELD to a write and NOT_FOUND to an upsert by it, in REST and in Collections', async () => {
    await expect(conn.sobject('Lead').create({ LastName: 'A', Company: 'B', HubSpot_Contact_Id__c: '1' })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(
      conn.sobject('Lead').upsert({ HubSpot_Contact_Id__c: '1', LastName: 'A', Company: 'B' }, 'HubSpot_Contact_Id__c'),
    ).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
      message: 'Provided external ID field does not exist or is not accessible: HubSpot_Contact_Id__c',
    });
    const [result] = await conn.sobject('Lead').create([{ LastName: 'A', Company: 'B', Feedback_Notes__c: 'x' }], { allOrNone: false });
    expect(result).toMatchObject({ success: false, errors: [expect.objectContaining({ statusCode: 'INVALID_FIELD' })] });
    const lead = await conn.sobject('Lead').create({ LastName: 'A', Company: 'B' });
    await expect(conn.sobject('Lead').retrieve(lead.id ?? '', { fields: ['Id', 'Feedback_Notes__c'] })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    expect(Object.keys(await conn.sobject('Lead').retrieve(lead.id ?? ''))).not.toContain('Feedback_Notes__c');
  });
});

describe('a permission set', () => {
  it('makes a field readable but not writable with read access, and writable with edit', async () => {
    await grantFieldAccess(conn, ['Lead.HubSpot_Contact_Id__c', 'Lead.Feedback_Notes__c'], { access: 'read' });
    expect(await describedField(conn, 'Lead', 'Feedback_Notes__c')).toMatchObject({ createable: false, updateable: false });
    expect((await conn.query('SELECT Id, Feedback_Notes__c FROM Lead')).totalSize).toBe(0);
    await expect(conn.sobject('Lead').create({ LastName: 'A', Company: 'B', Feedback_Notes__c: 'x' })).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    });

    await grantFieldAccess(conn, ['Lead.HubSpot_Contact_Id__c', 'Lead.Feedback_Notes__c'], { access: 'edit' });
    expect(await describedField(conn, 'Lead', 'Feedback_Notes__c')).toMatchObject({ createable: true, updateable: true });
    const upserted = await conn
      .sobject('Lead')
      .upsert({ HubSpot_Contact_Id__c: '77', LastName: 'A', Company: 'B', Feedback_Notes__c: 'ok' }, 'HubSpot_Contact_Id__c');
    expect(upserted).toMatchObject({ success: true, created: true });
    // Only the assigned user gains it.
    await expect(rep.query('SELECT Id, Feedback_Notes__c FROM Lead')).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
  });

  it('is granted to another user by an assignment, and taken back when the assignment is deleted', async () => {
    const repId = sandbox.salesRepIds[0] ?? '';
    const setId = await grantFieldAccess(conn, ['Lead.Feedback_Notes__c'], { userId: repId, access: 'edit' });
    expect(await describedField(rep, 'Lead', 'Feedback_Notes__c')).toMatchObject({ updateable: true });
    const assignment = await conn.query<{ Id: string }>(
      `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '${repId}' AND PermissionSetId = '${setId}'`,
    );
    await conn.sobject('PermissionSetAssignment').destroy(assignment.records[0]?.Id ?? '');
    expect(await describedField(rep, 'Lead', 'Feedback_Notes__c')).toBeUndefined();
  });

  it('is queried through SOQL with its field permissions and assignments, as an admin audits it', async () => {
    const setId = await grantFieldAccess(conn, ['Lead.Feedback_Notes__c'], { access: 'read' });
    const rows = await conn.query<{ Field: string; PermissionsRead: boolean; PermissionsEdit: boolean; Parent: { Name: string } }>(
      "SELECT SobjectType, Field, PermissionsRead, PermissionsEdit, Parent.Name FROM FieldPermissions WHERE SobjectType = 'Lead'",
    );
    expect(rows.records).toEqual([
      expect.objectContaining({
        Field: 'Lead.Feedback_Notes__c',
        PermissionsRead: true,
        PermissionsEdit: false,
        Parent: expect.objectContaining({ Name: expect.stringMatching(/^Test_Field_Access_/) }),
      }),
    ]);
    const assignments = await conn.query<{ AssigneeId: string }>(
      `SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = '${setId}'`,
    );
    expect(assignments.records.map((a) => a.AssigneeId)).toEqual([sandbox.integrationUserId]);
  });

  it('refuses edit without read, a field the object lacks, a second row for one field and a second assignment', async () => {
    const set = await conn.sobject('PermissionSet').create({ Name: 'Strict_Rules', Label: 'Strict rules' });
    const row = { ParentId: set.id, SobjectType: 'Lead', Field: 'Lead.Feedback_Notes__c', PermissionsRead: true, PermissionsEdit: true };
    await expect(conn.sobject('FieldPermissions').create({ ...row, PermissionsRead: false })).rejects.toMatchObject({
      errorCode: 'FIELD_INTEGRITY_EXCEPTION',
    });
    await expect(conn.sobject('FieldPermissions').create({ ...row, Field: 'Lead.Nope__c' })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });
    // A required field takes no field-level security (describe: permissionable false).
    await expect(conn.sobject('FieldPermissions').create({ ...row, Field: 'Lead.LastName' })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });
    await conn.sobject('FieldPermissions').create(row);
    await expect(conn.sobject('FieldPermissions').create(row)).rejects.toMatchObject({ errorCode: 'DUPLICATE_VALUE' });
    await expect(conn.sobject('PermissionSet').create({ Name: 'Strict_Rules', Label: 'Again' })).rejects.toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
    });
    await conn.sobject('PermissionSetAssignment').create({ AssigneeId: sandbox.integrationUserId, PermissionSetId: set.id });
    await expect(
      conn.sobject('PermissionSetAssignment').create({ AssigneeId: sandbox.integrationUserId, PermissionSetId: set.id }),
    ).rejects.toMatchObject({ errorCode: 'DUPLICATE_VALUE' });
  });

  it('records object permissions and refuses create or edit without read', async () => {
    const set = await conn.sobject('PermissionSet').create({ Name: 'Objects_Only', Label: 'Objects only' });
    await expect(
      conn.sobject('ObjectPermissions').create({ ParentId: set.id, SobjectType: 'Lead', PermissionsEdit: true }),
    ).rejects.toMatchObject({ errorCode: 'FIELD_INTEGRITY_EXCEPTION' });
    await conn
      .sobject('ObjectPermissions')
      .create({ ParentId: set.id, SobjectType: 'Lead', PermissionsRead: true, PermissionsCreate: true, PermissionsEdit: true });
    const rows = await conn.query<{ SobjectType: string; PermissionsCreate: boolean; PermissionsDelete: boolean }>(
      `SELECT SobjectType, PermissionsCreate, PermissionsDelete FROM ObjectPermissions WHERE ParentId = '${set.id ?? ''}'`,
    );
    expect(rows.records).toEqual([expect.objectContaining({ SobjectType: 'Lead', PermissionsCreate: true, PermissionsDelete: false })]);
  });
});

/**
 * Permission sets through the REST API, as an admin keeps them in Setup: `PermissionSet` (system
 * permissions are boolean fields `Permissions<Name>`), `FieldPermissions` (`Field` is
 * `<Object>.<Field>`, edit requires read), `ObjectPermissions` and `PermissionSetAssignment`
 * (Salesforce Object Reference: FieldPermissions, ObjectPermissions, PermissionSetAssignment). A
 * fixed number of calls whatever the set's size: one query per object, one Collections write per
 * kind of row.
 */
import { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import type { PermissionSetSpec, PermissionSetState, SalesforceRecord, WriteOutcome } from '../ports.ts';
import { soqlString } from './mapper.ts';
import { salesforceId15 } from '../../domain/salesforce-id.ts';

/** What the adapter lends this module: SOQL and Collections writes, with its limiter and errors. */
export interface PermissionSetIo {
  query(soql: string): Promise<SalesforceRecord[]>;
  create(type: string, records: readonly Record<string, unknown>[]): Promise<WriteOutcome[]>;
  update(type: string, records: readonly SalesforceRecord[]): Promise<Map<string, WriteOutcome>>;
}

const fieldRowSchema = z.looseObject({ Id: z.string(), Field: z.string(), PermissionsRead: z.boolean(), PermissionsEdit: z.boolean() });
const objectRowSchema = z.looseObject({
  Id: z.string(),
  SobjectType: z.string(),
  PermissionsRead: z.boolean(),
  PermissionsCreate: z.boolean(),
  PermissionsEdit: z.boolean(),
});
const assignmentRowSchema = z.looseObject({ AssigneeId: z.string() });

function rows<S extends z.ZodType>(schema: S, records: SalesforceRecord[], what: string): z.output<S>[] {
  return records.map((record) => {
    const parsed = schema.safeParse(record);
    if (!parsed.success)
      throw new CrmRejectedError(
        'salesforce',
        'UNEXPECTED_RESPONSE',
        `Salesforce ${what}: unexpected row: ${parsed.error.issues[0]?.message ?? 'shape mismatch'}`,
      );
    return parsed.data;
  });
}

/** Throws the first refusal of a write, naming what was written (e.g. INSUFFICIENT_ACCESS for a user who may not manage permission sets). */
function checkOutcomes(outcomes: Iterable<WriteOutcome>, what: string): void {
  for (const outcome of outcomes) {
    if (!outcome.ok) throw new CrmRejectedError('salesforce', outcome.code, `Salesforce ${what}: ${outcome.code}: ${outcome.message}`);
  }
}

const permissionField = (name: string): string => `Permissions${name}`;

/** See `SalesforcePort.ensurePermissionSet`. */
export async function ensurePermissionSet(
  io: PermissionSetIo,
  spec: PermissionSetSpec,
  assigneeIds: readonly string[],
  dryRun: boolean,
): Promise<PermissionSetState> {
  const systemFields = spec.userPermissions.map(permissionField);
  const found = await io.query(
    `SELECT Id${systemFields.map((f) => `, ${f}`).join('')} FROM PermissionSet WHERE Name = ${soqlString(spec.name)}`,
  );
  const existing = found[0];
  const state: PermissionSetState = {
    id: existing?.Id ?? null,
    existed: existing !== undefined,
    missingFields: [],
    missingObjects: [],
    missingUserPermissions: spec.userPermissions.filter((name) => existing?.[permissionField(name)] !== true),
    unassigned: [],
    assignees: 0,
  };

  const fieldRows = new Map<string, z.output<typeof fieldRowSchema>>();
  const objectRows = new Map<string, z.output<typeof objectRowSchema>>();
  const assigned = new Set<string>();
  if (existing) {
    const id = soqlString(existing.Id);
    for (const row of rows(
      fieldRowSchema,
      await io.query(`SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId = ${id}`),
      'read field permissions',
    )) {
      fieldRows.set(row.Field.toLowerCase(), row);
    }
    for (const row of rows(
      objectRowSchema,
      await io.query(
        `SELECT Id, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit FROM ObjectPermissions WHERE ParentId = ${id}`,
      ),
      'read object permissions',
    )) {
      objectRows.set(row.SobjectType.toLowerCase(), row);
    }
    const assignments = rows(
      assignmentRowSchema,
      await io.query(`SELECT Id, AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = ${id}`),
      'read assignments',
    );
    for (const row of assignments) assigned.add(row.AssigneeId);
  }
  state.assignees = assigned.size;
  // Ids compare on their 15-character case-sensitive form (an 18-character id adds a checksum).
  const assignedShort = new Set([...assigned].map(salesforceId15));
  state.unassigned = [...new Set(assigneeIds)].filter((id) => !assignedShort.has(salesforceId15(id)));

  const fieldCreates: Record<string, unknown>[] = [];
  const fieldUpdates: SalesforceRecord[] = [];
  for (const wanted of spec.fields) {
    const name = `${wanted.object}.${wanted.field}`;
    const row = fieldRows.get(name.toLowerCase());
    const edit = wanted.access === 'edit';
    if (row?.PermissionsRead === true && (!edit || row.PermissionsEdit)) continue;
    state.missingFields.push(name);
    if (row) fieldUpdates.push({ Id: row.Id, PermissionsRead: true, PermissionsEdit: edit || row.PermissionsEdit });
    else fieldCreates.push({ SobjectType: wanted.object, Field: name, PermissionsRead: true, PermissionsEdit: edit });
  }
  const objectCreates: Record<string, unknown>[] = [];
  const objectUpdates: SalesforceRecord[] = [];
  for (const wanted of spec.objects) {
    const row = objectRows.get(wanted.object.toLowerCase());
    if (row && row.PermissionsRead && (!wanted.create || row.PermissionsCreate) && (!wanted.edit || row.PermissionsEdit)) continue;
    state.missingObjects.push(wanted.object);
    const flags = {
      PermissionsRead: true,
      PermissionsCreate: wanted.create || (row?.PermissionsCreate ?? false),
      PermissionsEdit: wanted.edit || (row?.PermissionsEdit ?? false),
    };
    if (row) objectUpdates.push({ Id: row.Id, ...flags });
    else objectCreates.push({ SobjectType: wanted.object, ...flags });
  }
  if (dryRun) return state;

  // 1. The set itself, or the system permissions it lacks.
  const systemOn = Object.fromEntries(state.missingUserPermissions.map((name) => [permissionField(name), true]));
  if (existing === undefined) {
    const [outcome] = await io.create('PermissionSet', [
      { Name: spec.name, Label: spec.label, Description: spec.description, ...systemOn },
    ]);
    if (outcome === undefined || !outcome.ok) checkOutcomes(outcome ? [outcome] : [], `create permission set ${spec.name}`);
    state.id = outcome?.ok === true ? outcome.id : null;
  } else if (state.missingUserPermissions.length > 0) {
    checkOutcomes((await io.update('PermissionSet', [{ Id: existing.Id, ...systemOn }])).values(), `update permission set ${spec.name}`);
  }
  const parentId = state.id;
  if (parentId === null)
    throw new CrmRejectedError('salesforce', 'UNEXPECTED_RESPONSE', `Salesforce create permission set ${spec.name}: no id returned`);

  // 2. Object permissions before field permissions: a field grant on an object the set cannot read is useless.
  if (objectCreates.length > 0)
    checkOutcomes(
      await io.create(
        'ObjectPermissions',
        objectCreates.map((row) => ({ ParentId: parentId, ...row })),
      ),
      `grant objects in ${spec.name}`,
    );
  if (objectUpdates.length > 0)
    checkOutcomes((await io.update('ObjectPermissions', objectUpdates)).values(), `raise object access in ${spec.name}`);
  if (fieldCreates.length > 0)
    checkOutcomes(
      await io.create(
        'FieldPermissions',
        fieldCreates.map((row) => ({ ParentId: parentId, ...row })),
      ),
      `grant fields in ${spec.name}`,
    );
  if (fieldUpdates.length > 0)
    checkOutcomes((await io.update('FieldPermissions', fieldUpdates)).values(), `raise field access in ${spec.name}`);

  // 3. Assignments.
  if (state.unassigned.length > 0) {
    const outcomes = await io.create(
      'PermissionSetAssignment',
      state.unassigned.map((AssigneeId) => ({ AssigneeId, PermissionSetId: parentId })),
    );
    // Assigned meanwhile (a concurrent provisioning run) is what we wanted.
    checkOutcomes(
      outcomes.filter((o) => o.ok || o.code !== 'DUPLICATE_VALUE'),
      `assign ${spec.name}`,
    );
  }
  return state;
}

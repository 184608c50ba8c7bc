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

type FieldRow = z.output<typeof fieldRowSchema>;
type ObjectRow = z.output<typeof objectRowSchema>;

/** What an existing set grants: its field and object permissions (by lower-case name) and its assignees. */
async function readGrants(
  io: PermissionSetIo,
  setId: string,
): Promise<{ fieldRows: Map<string, FieldRow>; objectRows: Map<string, ObjectRow>; assigned: Set<string> }> {
  const id = soqlString(setId);
  const fieldRows = new Map<string, FieldRow>();
  const objectRows = new Map<string, ObjectRow>();
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
  return { fieldRows, objectRows, assigned: new Set(assignments.map((row) => row.AssigneeId)) };
}

/** The permission rows to create and raise so the set grants what the spec asks. */
interface GrantPlan {
  fieldCreates: Record<string, unknown>[];
  fieldUpdates: SalesforceRecord[];
  objectCreates: Record<string, unknown>[];
  objectUpdates: SalesforceRecord[];
}

/** Plans the missing grants and records them in `state` (missingFields, missingObjects). */
function planGrants(
  spec: PermissionSetSpec,
  fieldRows: ReadonlyMap<string, FieldRow>,
  objectRows: ReadonlyMap<string, ObjectRow>,
  state: PermissionSetState,
): GrantPlan {
  const plan: GrantPlan = { fieldCreates: [], fieldUpdates: [], objectCreates: [], objectUpdates: [] };
  for (const wanted of spec.fields) {
    const name = `${wanted.object}.${wanted.field}`;
    const row = fieldRows.get(name.toLowerCase());
    const edit = wanted.access === 'edit';
    if (row?.PermissionsRead === true && (!edit || row.PermissionsEdit)) continue;
    state.missingFields.push(name);
    if (row) plan.fieldUpdates.push({ Id: row.Id, PermissionsRead: true, PermissionsEdit: edit || row.PermissionsEdit });
    else plan.fieldCreates.push({ SobjectType: wanted.object, Field: name, PermissionsRead: true, PermissionsEdit: edit });
  }
  for (const wanted of spec.objects) {
    const row = objectRows.get(wanted.object.toLowerCase());
    if (row && row.PermissionsRead && (!wanted.create || row.PermissionsCreate) && (!wanted.edit || row.PermissionsEdit)) continue;
    state.missingObjects.push(wanted.object);
    const flags = {
      PermissionsRead: true,
      PermissionsCreate: wanted.create || (row?.PermissionsCreate ?? false),
      PermissionsEdit: wanted.edit || (row?.PermissionsEdit ?? false),
    };
    if (row) plan.objectUpdates.push({ Id: row.Id, ...flags });
    else plan.objectCreates.push({ SobjectType: wanted.object, ...flags });
  }
  return plan;
}

/** Creates the set, or turns on the system permissions it lacks; returns its id. */
async function ensureSet(
  io: PermissionSetIo,
  spec: PermissionSetSpec,
  existingId: string | null,
  state: PermissionSetState,
): Promise<string> {
  const systemOn = Object.fromEntries(state.missingUserPermissions.map((name) => [permissionField(name), true]));
  if (existingId === null) {
    const [outcome] = await io.create('PermissionSet', [
      { Name: spec.name, Label: spec.label, Description: spec.description, ...systemOn },
    ]);
    if (outcome === undefined || !outcome.ok) checkOutcomes(outcome ? [outcome] : [], `create permission set ${spec.name}`);
    state.id = outcome?.ok === true ? outcome.id : null;
  } else if (state.missingUserPermissions.length > 0) {
    checkOutcomes((await io.update('PermissionSet', [{ Id: existingId, ...systemOn }])).values(), `update permission set ${spec.name}`);
  }
  if (state.id === null)
    throw new CrmRejectedError('salesforce', 'UNEXPECTED_RESPONSE', `Salesforce create permission set ${spec.name}: no id returned`);
  return state.id;
}

/** Writes the planned grants (objects before fields: a field grant on an object the set cannot read is useless), then the assignments. */
async function applyGrants(
  io: PermissionSetIo,
  spec: PermissionSetSpec,
  parentId: string,
  plan: GrantPlan,
  unassigned: readonly string[],
): Promise<void> {
  if (plan.objectCreates.length > 0)
    checkOutcomes(
      await io.create(
        'ObjectPermissions',
        plan.objectCreates.map((row) => ({ ParentId: parentId, ...row })),
      ),
      `grant objects in ${spec.name}`,
    );
  if (plan.objectUpdates.length > 0)
    checkOutcomes((await io.update('ObjectPermissions', plan.objectUpdates)).values(), `raise object access in ${spec.name}`);
  if (plan.fieldCreates.length > 0)
    checkOutcomes(
      await io.create(
        'FieldPermissions',
        plan.fieldCreates.map((row) => ({ ParentId: parentId, ...row })),
      ),
      `grant fields in ${spec.name}`,
    );
  if (plan.fieldUpdates.length > 0)
    checkOutcomes((await io.update('FieldPermissions', plan.fieldUpdates)).values(), `raise field access in ${spec.name}`);
  if (unassigned.length > 0) {
    const outcomes = await io.create(
      'PermissionSetAssignment',
      unassigned.map((AssigneeId) => ({ AssigneeId, PermissionSetId: parentId })),
    );
    // Assigned meanwhile (a concurrent provisioning run) is what we wanted.
    checkOutcomes(
      outcomes.filter((o) => o.ok || o.code !== 'DUPLICATE_VALUE'),
      `assign ${spec.name}`,
    );
  }
}

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
  const { fieldRows, objectRows, assigned } = existing
    ? await readGrants(io, existing.Id)
    : { fieldRows: new Map<string, FieldRow>(), objectRows: new Map<string, ObjectRow>(), assigned: new Set<string>() };
  state.assignees = assigned.size;
  // Ids compare on their 15-character case-sensitive form (an 18-character id adds a checksum).
  const assignedShort = new Set([...assigned].map(salesforceId15));
  state.unassigned = [...new Set(assigneeIds)].filter((id) => !assignedShort.has(salesforceId15(id)));
  const plan = planGrants(spec, fieldRows, objectRows, state);
  if (dryRun) return state;
  const parentId = await ensureSet(io, spec, existing?.Id ?? null, state);
  await applyGrants(io, spec, parentId, plan, state.unassigned);
  return state;
}

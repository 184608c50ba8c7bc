/**
 * The integration user's access in the org, provisioned and then proven. In a real org a field
 * created through the Tooling API does not exist for the API until field-level security grants it,
 * and Campaigns can be created only by a Marketing User (docs/architecture.md §11). So provisioning creates
 * and assigns the app's permission set (and the sales users' one), turns on Marketing User, and
 * then checks, by describe as the integration user, that every field is visible and updateable:
 * the installation is ready only then. Each item that is not in place names its fix in Setup.
 */
import { CrmRejectedError } from '../crm/errors.ts';
import { INTEGRATION_PERMISSION_SET, SALES_PERMISSION_SET } from '../crm/field-catalog.ts';
import type { PermissionSetSpec, PermissionSetState, SalesforcePort } from '../crm/ports.ts';

/** exists / missing (dry run) / created / manual: provisioning could not do it, a person must. */
export type AccessStatus = 'exists' | 'missing' | 'created' | 'manual';

export interface AccessItem {
  kind: 'permission-set' | 'assignment' | 'system-permission' | 'object' | 'field' | 'user-flag';
  /** What it is about: `Lead.HubSpot_Contact_Id__c`, `Lead`, `Marketing User`, a permission set name. */
  name: string;
  /** The access needed, in Setup's words. */
  needs: string;
  status: AccessStatus;
  /** Where to set it by hand; null when it is in place. */
  fix: string | null;
}

export interface SalesforceAccessReport {
  /** Every item in place: every field readable and updateable by the integration user. */
  ready: boolean;
  integrationUserId: string;
  items: AccessItem[];
  /** The sales users' permission set: whether it exists and how many users hold it. */
  sales: { name: string; label: string; status: AccessStatus; assignees: number; fix: string };
  /** Why a step could not run (e.g. the user may not manage permission sets), for the admin. */
  errors: string[];
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const setupPath = (spec: PermissionSetSpec) => `Setup → Permission Sets → ${spec.label}`;

function objectNeeds(object: PermissionSetSpec['objects'][number]): string {
  return ['Read', ...(object.create ? ['Create'] : []), ...(object.edit ? ['Edit'] : [])].join(', ');
}

/** What each step of the access check shares: the port, the mode, the errors met so far. */
interface AccessCheck {
  salesforce: SalesforcePort;
  dryRun: boolean;
  errors: string[];
  /** An item's status from whether it was missing: created, or still missing in a dry run. */
  changed(missing: boolean): AccessStatus;
  /** The status of an item whose state could not be set or read. */
  failed: AccessStatus;
}

/**
 * Provisions (unless `dryRun`) and checks the integration user's access. `salesUserIds` are
 * assigned the sales permission set (empty: the set is created, the admin assigns it).
 */
export async function ensureSalesforceAccess(
  salesforce: SalesforcePort,
  options: { dryRun: boolean; salesUserIds?: readonly string[] },
): Promise<SalesforceAccessReport> {
  const { dryRun } = options;
  const ctx: AccessCheck = {
    salesforce,
    dryRun,
    errors: [],
    changed: (missing) => (!missing ? 'exists' : dryRun ? 'missing' : 'created'),
    failed: dryRun ? 'missing' : 'manual',
  };
  const userId = await salesforce.integrationUserId();
  // 1. The app's permission set, assigned to the integration user.
  const { integration, items } = await integrationPermissionSet(ctx, userId);
  // 2. Marketing User: without it the user cannot create Campaigns (attribution creates missing ones).
  items.push(await marketingUserFlag(ctx, userId));
  // 3. Proof: what describe shows the integration user, after the changes above.
  items.push(...(await describedAccess(ctx, integration)));
  // 4. The sales users' permission set (reps see the source and SLA, and give feedback).
  const sales = await salesPermissionSet(ctx, options.salesUserIds ?? []);
  // A fix is shown only for what is not in place.
  for (const item of items) if (item.status === 'exists' || item.status === 'created') item.fix = null;
  const ready = items.every((item) => item.fix === null);
  return { ready, integrationUserId: userId, items, sales, errors: ctx.errors };
}

async function integrationPermissionSet(
  ctx: AccessCheck,
  userId: string,
): Promise<{ integration: PermissionSetState | undefined; items: AccessItem[] }> {
  const spec = INTEGRATION_PERMISSION_SET;
  const items: AccessItem[] = [];
  let integration: PermissionSetState | undefined;
  try {
    integration = await ctx.salesforce.ensurePermissionSet(spec, [userId], ctx.dryRun);
  } catch (error) {
    if (!(error instanceof CrmRejectedError)) throw error;
    ctx.errors.push(`Permission set ${spec.name}: ${messageOf(error)}`);
  }
  items.push({
    kind: 'permission-set',
    name: spec.name,
    needs: spec.label,
    status: integration ? ctx.changed(!integration.existed) : ctx.failed,
    fix: `Deploy platform/salesforce (sf project deploy start), or Setup → Permission Sets → New: API name ${spec.name}`,
  });
  items.push({
    kind: 'assignment',
    name: `${spec.name} → integration user`,
    needs: 'Assigned',
    status: integration ? ctx.changed(integration.unassigned.length > 0) : ctx.failed,
    fix: `${setupPath(spec)} → Manage Assignments → Add Assignment: the integration user (${userId})`,
  });
  for (const name of spec.userPermissions) {
    const missing = integration?.missingUserPermissions.includes(name) ?? true;
    items.push({
      kind: 'system-permission',
      name,
      needs: 'Enabled',
      status: integration ? ctx.changed(missing) : ctx.failed,
      fix: `${setupPath(spec)} → System Permissions → Edit: tick ${name}`,
    });
  }

  return { integration, items };
}

async function marketingUserFlag(ctx: AccessCheck, userId: string): Promise<AccessItem> {
  try {
    const flag = await ctx.salesforce.marketingUser(userId, !ctx.dryRun);
    return {
      kind: 'user-flag',
      name: 'Marketing User',
      needs: 'Ticked on the integration user',
      status: flag.changed ? 'created' : flag.enabled ? 'exists' : ctx.dryRun ? 'missing' : 'manual',
      fix: 'Setup → Users → the integration user → Edit: tick Marketing User',
    };
  } catch (error) {
    if (!(error instanceof CrmRejectedError)) throw error;
    ctx.errors.push(`Marketing User: ${messageOf(error)}`);
    return {
      kind: 'user-flag',
      name: 'Marketing User',
      needs: 'Ticked on the integration user',
      status: ctx.failed,
      fix: 'Setup → Users → the integration user → Edit: tick Marketing User',
    };
  }
}

async function describedAccess(ctx: AccessCheck, integration: PermissionSetState | undefined): Promise<AccessItem[]> {
  const spec = INTEGRATION_PERMISSION_SET;
  const items: AccessItem[] = [];
  const objects = [...new Set([...spec.objects.map((o) => o.object), ...spec.fields.map((f) => f.object)])];
  const described = await ctx.salesforce.describeAccess(objects);
  for (const object of spec.objects) {
    const seen = described.objects.get(object.object);
    const inPlace = seen !== undefined && (!object.create || seen.createable) && (!object.edit || seen.updateable);
    const granted = integration !== undefined && !integration.missingObjects.includes(object.object);
    items.push({
      kind: 'object',
      name: object.object,
      needs: objectNeeds(object),
      status: inPlace ? (granted ? 'exists' : ctx.changed(true)) : ctx.failed,
      fix: `${setupPath(spec)} → Object Settings → ${object.object} → Edit: tick ${objectNeeds(object)}`,
    });
  }
  for (const field of spec.fields) {
    const name = `${field.object}.${field.field}`;
    const inPlace = described.fields.get(name) === field.access || described.fields.get(name) === 'edit';
    const granted = integration !== undefined && !integration.missingFields.includes(name);
    items.push({
      kind: 'field',
      name,
      needs: field.access === 'edit' ? 'Read and Edit' : 'Read',
      status: inPlace ? (granted ? 'exists' : ctx.changed(true)) : ctx.failed,
      fix: `${setupPath(spec)} → Object Settings → ${field.object} → Edit: Field Permissions, tick Read Access and Edit Access on ${field.field}`,
    });
  }

  return items;
}

async function salesPermissionSet(ctx: AccessCheck, salesUserIds: readonly string[]): Promise<SalesforceAccessReport['sales']> {
  const salesSpec = SALES_PERMISSION_SET;
  let sales: SalesforceAccessReport['sales'] = {
    name: salesSpec.name,
    label: salesSpec.label,
    status: ctx.failed,
    assignees: 0,
    fix: `Deploy platform/salesforce, then ${setupPath(salesSpec)} → Manage Assignments: add your sales users`,
  };
  try {
    const state = await ctx.salesforce.ensurePermissionSet(salesSpec, salesUserIds, ctx.dryRun);
    const incomplete = !state.existed || state.missingFields.length > 0 || state.missingObjects.length > 0;
    sales = {
      ...sales,
      status: ctx.changed(incomplete),
      assignees: ctx.dryRun ? state.assignees : state.assignees + state.unassigned.length,
      fix: `${setupPath(salesSpec)} → Manage Assignments: add your sales reps and managers`,
    };
  } catch (error) {
    if (!(error instanceof CrmRejectedError)) throw error;
    ctx.errors.push(`Permission set ${salesSpec.name}: ${messageOf(error)}`);
  }

  return sales;
}

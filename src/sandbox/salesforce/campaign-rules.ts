/**
 * Campaigns as a real org has them: the Marketing User checkbox, member statuses per campaign, and
 * campaign members whose status (and so whether they responded) comes from their campaign.
 *
 * - Creating, editing and deleting a Campaign needs `User.UserPermissionsMarketingUser`; without it
 *   a user can still read campaigns ("To create Campaign – Create on Campaign + Marketing User
 *   checkbox checked. To change Campaign – Edit on Campaign + Marketing User checkbox checked":
 *   sudipta-deb.in/2015/01/campaign-in-salesforce-and-security-involved.html; salesforceben.com,
 *   "Grant Access Permissions to Salesforce Campaigns: The Marketing User Checkbox"). Describe shows
 *   such a user Campaign as not createable (texei/texei-sfdx-plugin#121: the plugin skips Campaign
 *   because describe says it is not createable; "Could you add 'Marketing User' option to your
 *   user?"). A write is refused like any write to an object the user cannot create, update or
 *   delete: `INVALID_TYPE_FOR_OPERATION`, "entity type cannot be inserted: Campaign" (the same
 *   answer records.ts gives for objects nobody may write).
 * - CampaignMemberStatus: "To create, edit, or delete campaign member statuses: Read and Edit on
 *   campaigns AND Marketing User selected in User Detail" (Salesforce Help, Campaign Member
 *   Statuses). The object reference published from a describe without Marketing User lists its
 *   fields without Create/Update, so describe shows them read-only to such a user too.
 * - A new campaign starts with the member statuses "Sent" (the default) and "Responded" (counted as
 *   responded) (simplysfdc.com/2016/05/campaign-member-status-responded.html; x2od/campaign-member-
 *   status README: "the two default statuses of Sent and Responded"). Their SortOrder values 1 and 2
 *   follow NPSP's CON_AddToCampaign, which numbers statuses it adds from 4.
 * - CampaignMember.Status: "Each predefined value implies a HasResponded flag value … You can't
 *   directly set the HasResponded flag" (CampaignMember object reference); a member added without a
 *   status gets the campaign's default; "Modifying the Responded checkbox … existing campaign
 *   members whose status is 'Attended' will then be counted as responses" (simplysfdc, above).
 *   A status that is not one of the campaign's is refused the way a picklist refuses a value outside
 *   its list (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, "Status: bad value for restricted picklist
 *   field: …"). The public reference does not spell this error out; the legacy API 2.0 guide, quoted
 *   on the developer forums, described assigning the default status instead.
 * - A status label added to any campaign joins the org-wide CampaignMember.Status picklist that
 *   describe lists ("if the Status doesn't exist in field Status in setup, system will auto add the
 *   new values": simplysfdc, above).
 * Not modelled: the API 39.0+ rules that every campaign keeps a default and a responded status, and
 * that a default or used status cannot be deleted.
 */
import { auditFields } from './audit-fields.ts';
import { sfError } from './errors.ts';
import { formatDate, formatDateTime } from './sf-time.ts';
import type { OrgStore, Txn } from './state-store.ts';
import type { FieldDef, ObjectDef, SfError, SfRecord } from './types.ts';

/** Objects only a Marketing User may create, edit or delete. */
const MARKETING_OBJECTS: ReadonlySet<string> = new Set(['Campaign', 'CampaignMemberStatus']);

/** The statuses every new campaign starts with. */
const DEFAULT_MEMBER_STATUSES = [
  { Label: 'Sent', HasResponded: false, IsDefault: true, SortOrder: 1 },
  { Label: 'Responded', HasResponded: true, IsDefault: false, SortOrder: 2 },
] as const;

/** Who writes and when (the part of records.ts' write context these rules need). */
export interface CampaignWriteContext {
  userId: string;
  now: number;
}

export function isMarketingUser(store: OrgStore, userId: string): boolean {
  return store.get('User', userId)?.UserPermissionsMarketingUser === true;
}

/** The refusal of a Campaign or CampaignMemberStatus write by a user without Marketing User. */
export function marketingUserRefusal(
  store: OrgStore,
  obj: ObjectDef,
  operation: 'inserted' | 'updated' | 'deleted',
  userId: string,
): SfError | undefined {
  if (!MARKETING_OBJECTS.has(obj.name) || isMarketingUser(store, userId)) return undefined;
  return sfError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be ${operation}: ${obj.label}`);
}

const live = (rows: SfRecord[], field: string, id: string): SfRecord[] => rows.filter((r) => r.IsDeleted !== true && r[field] === id);

/** The live member statuses of a campaign, in SortOrder. */
export function memberStatusesOf(store: OrgStore, campaignId: string): SfRecord[] {
  const rows = live(store.recordsWithValue('CampaignMemberStatus', 'CampaignId', true, campaignId), 'CampaignId', campaignId);
  return rows.sort((a, b) => Number(a.SortOrder ?? Number.MAX_SAFE_INTEGER) - Number(b.SortOrder ?? Number.MAX_SAFE_INTEGER));
}

function membersOf(store: OrgStore, campaignId: string): SfRecord[] {
  return live(store.recordsWithValue('CampaignMember', 'CampaignId', true, campaignId), 'CampaignId', campaignId);
}

/** Describe as `userId` sees it: marketing objects read-only without Marketing User; member Status lists every label in use. */
export function describedFor(store: OrgStore, userId: string, obj: ObjectDef): ObjectDef {
  if (MARKETING_OBJECTS.has(obj.name) && !isMarketingUser(store, userId)) {
    const readOnly = (f: FieldDef): FieldDef => ({ ...f, createable: false, updateable: false });
    return { ...obj, createable: false, updateable: false, deletable: false, fields: obj.fields.map(readOnly) };
  }
  if (obj.name === 'CampaignMember') {
    const labels = new Set<string>();
    for (const field of obj.fields) if (field.name === 'Status') for (const p of field.picklistValues) labels.add(p.value);
    for (const row of Object.values(store.table('CampaignMemberStatus')))
      if (row.IsDeleted !== true && typeof row.Label === 'string') labels.add(row.Label);
    const status = (f: FieldDef): FieldDef =>
      f.name === 'Status'
        ? { ...f, picklistValues: [...labels].map((value) => ({ value, label: value, active: true, defaultValue: false })) }
        : f;
    return { ...obj, fields: obj.fields.map(status) };
  }
  return obj;
}

/** Sets a new member's default status and the response flags that follow from its status. */
export function applyMemberStatus(store: OrgStore, record: SfRecord, previous: SfRecord | undefined, now: number): void {
  const statuses = memberStatusesOf(store, String(record.CampaignId ?? ''));
  if (previous === undefined && (record.Status === null || record.Status === undefined)) {
    record.Status = statuses.find((s) => s.IsDefault === true)?.Label ?? null;
  }
  record.HasResponded = statuses.some((s) => s.Label === record.Status && s.HasResponded === true);
  if (record.HasResponded && !record.FirstRespondedDate) record.FirstRespondedDate = formatDate(now);
}

/** A member's status must be one of its campaign's statuses (checked when it is set or changed). */
export function checkMemberStatus(store: OrgStore, record: SfRecord, previous: SfRecord | undefined): SfError | undefined {
  if (record.Status === null || record.Status === undefined || previous?.Status === record.Status) return undefined;
  if (memberStatusesOf(store, String(record.CampaignId ?? '')).some((s) => s.Label === record.Status)) return undefined;
  return sfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `Status: bad value for restricted picklist field: ${String(record.Status)}`, [
    'Status',
  ]);
}

/** A campaign's statuses have distinct labels and distinct sort orders. */
export function checkMemberStatusRow(store: OrgStore, record: SfRecord): SfError[] {
  const others = memberStatusesOf(store, String(record.CampaignId ?? '')).filter((s) => s.Id !== record.Id);
  const sameLabel = others.find((s) => String(s.Label).toLowerCase() === String(record.Label ?? '').toLowerCase());
  if (sameLabel)
    return [
      sfError('DUPLICATE_VALUE', `duplicate value found: Label duplicates value on record with id: ${String(sameLabel.Id)}`, ['Label']),
    ];
  const sameOrder =
    record.SortOrder === null || record.SortOrder === undefined ? undefined : others.find((s) => s.SortOrder === record.SortOrder);
  if (sameOrder)
    return [
      sfError('DUPLICATE_VALUE', `duplicate value found: SortOrder duplicates value on record with id: ${String(sameOrder.Id)}`, [
        'SortOrder',
      ]),
    ];
  return [];
}

function stamped(row: SfRecord, ctx: CampaignWriteContext): SfRecord {
  const stamp = formatDateTime(ctx.now);
  return { ...row, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp };
}

function putUpdate(txn: Txn, type: string, row: SfRecord, previous: SfRecord, ctx: CampaignWriteContext): void {
  txn.put(type, row);
  const changedFields = Object.keys(row).filter(
    (k) => row[k] !== previous[k] && !['LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(k),
  );
  txn.emit({ kind: 'update', type, id: String(row.Id), changedFields, userId: ctx.userId });
}

/**
 * What the platform does after a campaign or member status is saved: a new campaign gets its
 * default statuses; a status made default takes over from the previous default; a status whose
 * Responded flag changed recounts the campaign's members holding it.
 */
export function applyCampaignSaveEffects(
  txn: Txn,
  type: string,
  record: SfRecord,
  previous: SfRecord | undefined,
  ctx: CampaignWriteContext,
): void {
  if (type === 'Campaign' && previous === undefined) {
    for (const status of DEFAULT_MEMBER_STATUSES) {
      const row: SfRecord = {
        Id: txn.store.newRecordId('CampaignMemberStatus'),
        CampaignId: String(record.Id),
        ...status,
        ...auditFields(ctx.userId, ctx.now),
      };
      txn.put('CampaignMemberStatus', row);
      txn.emit({ kind: 'create', type: 'CampaignMemberStatus', id: String(row.Id), changedFields: Object.keys(row), userId: ctx.userId });
    }
    return;
  }
  if (type !== 'CampaignMemberStatus') return;
  const campaignId = String(record.CampaignId);
  if (record.IsDefault === true && previous?.IsDefault !== true) {
    for (const other of memberStatusesOf(txn.store, campaignId)) {
      if (other.Id !== record.Id && other.IsDefault === true)
        putUpdate(txn, 'CampaignMemberStatus', stamped({ ...other, IsDefault: false }, ctx), other, ctx);
    }
  }
  if (previous !== undefined && previous.HasResponded !== record.HasResponded) {
    for (const member of membersOf(txn.store, campaignId)) {
      if (member.Status !== record.Label) continue;
      const next = stamped({ ...member, HasResponded: record.HasResponded === true }, ctx);
      if (next.HasResponded === true && !next.FirstRespondedDate) next.FirstRespondedDate = formatDate(ctx.now);
      putUpdate(txn, 'CampaignMember', next, member, ctx);
    }
  }
}

/**
 * SOAP `merge` and `undelete`, as the SOAP API reference describes them
 * (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_merge.htm,
 * .../sforce_api_calls_undelete.htm): a merge names a master record (whose given fields are
 * updated) and one or two records of the same type to merge into it; the losing records go to the
 * recycle bin with `MasterRecordId` set to the master (visible to `queryAll` with
 * `IsDeleted = true`), and their related records (Tasks, Events, campaign memberships) move to the
 * master. Lead, Contact and Account merge. Deleting fires no Outbound Message (record-triggered
 * automation sees an update of the master only). `undelete` takes records out of the recycle bin
 * (a merged-away record cannot be undeleted) and, like any save, stamps SystemModstamp.
 */
import { sfError } from './errors.ts';
import { toId18 } from './ids.ts';
import { deleteRecord, liveRecord, updateRecord, type WriteContext } from './records.ts';
import { formatDateTime } from './sf-time.ts';
import type { Txn } from './state-store.ts';
import type { SfError, SfRecord } from './types.ts';

const MERGEABLE = new Set(['Lead', 'Contact', 'Account']);
/** The records related to a merged record that move to the master (child field per type). */
const RELATED: Record<string, { type: string; field: string }[]> = {
  Lead: [
    { type: 'Task', field: 'WhoId' },
    { type: 'Event', field: 'WhoId' },
    { type: 'CampaignMember', field: 'LeadId' },
  ],
  Contact: [
    { type: 'Task', field: 'WhoId' },
    { type: 'Event', field: 'WhoId' },
    { type: 'CampaignMember', field: 'ContactId' },
  ],
  Account: [
    { type: 'Contact', field: 'AccountId' },
    { type: 'Opportunity', field: 'AccountId' },
  ],
};

export interface MergeInput {
  type: string;
  masterFields: Record<string, unknown>;
  masterId: string;
  recordToMergeIds: string[];
}

export type MergeOutcome =
  | { success: true; id: string; mergedRecordIds: string[]; updatedRelatedIds: string[] }
  | { success: false; id: string | null; errors: SfError[] };

/** Merges one request inside the caller's transaction; a failure leaves nothing behind. */
export function mergeRecords(txn: Txn, input: MergeInput, ctx: WriteContext): MergeOutcome {
  const fail = (...errors: SfError[]): MergeOutcome => ({ success: false, id: toId18(input.masterId), errors });
  if (!MERGEABLE.has(input.type)) return fail(sfError('INVALID_TYPE_FOR_OPERATION', 'entity type does not support merge'));
  if (input.recordToMergeIds.length < 1 || input.recordToMergeIds.length > 2) {
    return fail(sfError('INVALID_OPERATION', 'between one and two records to merge are allowed with the master record'));
  }
  const obj = txn.store.schema.object(input.type);
  if (!obj) return fail(sfError('INVALID_TYPE', `sObject type '${input.type}' is not supported.`));
  const master = liveRecord(txn, obj, input.masterId);
  if (!master.ok) return fail(...master.errors);
  const losers: SfRecord[] = [];
  for (const raw of input.recordToMergeIds) {
    const found = liveRecord(txn, obj, raw);
    if (!found.ok) return fail(...found.errors);
    if (found.record.Id === master.record.Id)
      return fail(sfError('INVALID_ID_FIELD', 'The master record id cannot be one of the records to merge', ['Id']));
    losers.push(found.record);
  }
  if (input.type === 'Lead' && [master.record, ...losers].some((r) => r.IsConverted === true)) {
    return fail(sfError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead'));
  }
  const point = txn.savepoint();
  const masterId = String(master.record.Id);
  if (Object.keys(input.masterFields).length > 0) {
    const updated = updateRecord(txn, obj.name, masterId, input.masterFields, ctx);
    if (!updated.ok) {
      txn.rollbackTo(point);
      return fail(...updated.errors);
    }
  }
  const updatedRelatedIds: string[] = [];
  const stamp = formatDateTime(ctx.now);
  for (const loser of losers) {
    for (const related of RELATED[obj.name] ?? []) {
      for (const row of Object.values(txn.store.table(related.type))) {
        if (row.IsDeleted === true || row[related.field] !== loser.Id) continue;
        txn.put(related.type, {
          ...row,
          [related.field]: masterId,
          LastModifiedDate: stamp,
          LastModifiedById: ctx.userId,
          SystemModstamp: stamp,
        });
        txn.emit({ kind: 'update', type: related.type, id: String(row.Id), changedFields: [related.field], userId: ctx.userId });
        updatedRelatedIds.push(String(row.Id));
      }
    }
    const deleted = deleteRecord(txn, obj.name, String(loser.Id), ctx);
    if (!deleted.ok) {
      txn.rollbackTo(point);
      return fail(...deleted.errors);
    }
    const row = txn.store.get(obj.name, String(loser.Id));
    if (row) txn.put(obj.name, { ...row, MasterRecordId: masterId });
  }
  return { success: true, id: masterId, mergedRecordIds: losers.map((r) => String(r.Id)), updatedRelatedIds };
}

/** Takes one record out of the recycle bin. */
export function undeleteRecord(
  txn: Txn,
  rawId: string,
  ctx: WriteContext,
): { success: true; id: string } | { success: false; id: string | null; errors: SfError[] } {
  const id = toId18(rawId);
  if (id === null) return { success: false, id: null, errors: [sfError('MALFORMED_ID', `invalid id: ${rawId}`, ['Id'])] };
  for (const type of objectTypes(txn)) {
    const row = txn.store.get(type, id);
    if (!row) continue;
    if (row.IsDeleted !== true) return { success: false, id, errors: [sfError('UNDELETE_FAILED', 'Entity is not in the recycle bin')] };
    if (typeof row.MasterRecordId === 'string' && row.MasterRecordId !== '')
      return { success: false, id, errors: [sfError('UNDELETE_FAILED', 'Entity was merged into another record and cannot be undeleted')] };
    const stamp = formatDateTime(ctx.now);
    txn.put(type, { ...row, IsDeleted: false, SystemModstamp: stamp });
    return { success: true, id };
  }
  return { success: false, id, errors: [sfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')] };
}

/** Every object type of the org (undelete takes ids of any type). */
function objectTypes(txn: Txn): string[] {
  return txn.store.schema.list().map((o) => o.name);
}

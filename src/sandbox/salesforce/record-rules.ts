/**
 * Object-specific behaviour the platform applies on save: computed names, Opportunity stage
 * flags, campaign-member response flags, task closure, and lead assignment rules.
 */
import { applyMemberStatus, checkMemberStatus, checkMemberStatusRow } from './campaign-rules.ts';
import { PERMISSION_OBJECTS } from './permission-objects.ts';
import { checkPermissionRow } from './permissions.ts';
import { sfError } from './errors.ts';
import { formatDateTime } from './sf-time.ts';
import { OPPORTUNITY_STAGES } from './standard-objects.ts';
import type { OrgStore, Txn } from './state-store.ts';
import type { SfError, SfRecord } from './types.ts';

const PERSON_OBJECTS = new Set(['Lead', 'Contact', 'User']);

/** Recomputes read-only fields that follow from others (`previous` is undefined on create). */
export function applyDerivedFields(
  store: OrgStore,
  type: string,
  record: SfRecord,
  previous: SfRecord | undefined,
  now: number,
  touched: Set<string>,
): void {
  if (PERSON_OBJECTS.has(type)) {
    record.Name = [record.FirstName, record.LastName].filter((v) => typeof v === 'string' && v !== '').join(' ');
  }
  if (type === 'Opportunity') {
    const stage = OPPORTUNITY_STAGES.find((s) => s.ApiName === record.StageName);
    record.IsClosed = stage?.IsClosed ?? false;
    record.IsWon = stage?.IsWon ?? false;
    record.ForecastCategoryName = stage?.ForecastCategoryName ?? null;
    const stageChanged = previous === undefined || previous.StageName !== record.StageName;
    if (stage && stageChanged && !touched.has('Probability')) record.Probability = stage.DefaultProbability;
    // Null on a new opportunity and stamped when a later save changes the stage (an opportunity
    // read through the v53.0 REST API right after creation answers "LastStageChangeDate": null:
    // prismatic.io/docs/example-payloads/salesforce/actions/listOpportunities.json).
    if (previous !== undefined && stageChanged) record.LastStageChangeDate = formatDateTime(now);
    Object.assign(record, fiscalPeriod(record.CloseDate));
  }
  if (type === 'CampaignMember') applyMemberStatus(store, record, previous, now);
  if (type === 'Task') record.IsClosed = record.Status === 'Completed';
}

/**
 * Fiscal, FiscalQuarter and FiscalYear of a close date in the default fiscal year, which starts in
 * January ("Fiscal": "2022 4" beside "FiscalQuarter": 4, "FiscalYear": 2022 in the sample above).
 * Custom fiscal years are not modelled.
 */
function fiscalPeriod(closeDate: unknown): Pick<SfRecord, 'Fiscal' | 'FiscalQuarter' | 'FiscalYear'> {
  const m = typeof closeDate === 'string' ? /^(\d{4})-(\d{2})-\d{2}$/.exec(closeDate) : null;
  if (!m) return { Fiscal: null, FiscalQuarter: null, FiscalYear: null };
  const year = Number(m[1]);
  const quarter = Math.floor((Number(m[2]) - 1) / 3) + 1;
  return { Fiscal: `${year} ${quarter}`, FiscalQuarter: quarter, FiscalYear: year };
}

/** Platform constraints beyond field metadata; returns errors when the record cannot be saved. */
export function checkObjectConstraints(store: OrgStore, type: string, record: SfRecord, previous: SfRecord | undefined): SfError[] {
  if (PERMISSION_OBJECTS.has(type)) return checkPermissionRow(store, type, record);
  if (type === 'CampaignMemberStatus') return checkMemberStatusRow(store, record);
  if (type === 'CampaignMember' && previous === undefined) {
    if (!record.LeadId && !record.ContactId)
      return [sfError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ContactId, LeadId]', ['ContactId', 'LeadId'])];
    // A member names a Lead or a Contact; with both, Salesforce keeps the Contact.
    if (record.LeadId && record.ContactId) record.LeadId = null;
    const personField = record.ContactId ? 'ContactId' : 'LeadId';
    const duplicate = Object.values(store.table('CampaignMember')).some(
      (m) => !m.IsDeleted && m.CampaignId === record.CampaignId && m[personField] === record[personField],
    );
    if (duplicate) return [sfError('DUPLICATE_VALUE', 'Already a campaign member.', [])];
  }
  if (type === 'CampaignMember') {
    const badStatus = checkMemberStatus(store, record, previous);
    if (badStatus) return [badStatus];
  }
  return [];
}

/** Round-robin lead assignment over the configured active users (the org's active assignment rule). */
export function assignLeadOwner(txn: Txn, record: SfRecord): void {
  const { assignment } = txn.store.state;
  if (!assignment.active) return;
  const users = txn.store.table('User');
  const pool = (assignment.userIds ?? Object.keys(users)).filter((id) => users[id]?.IsActive === true);
  if (pool.length === 0) return;
  const before = assignment.nextIndex;
  record.OwnerId = pool[before % pool.length] ?? record.OwnerId ?? null;
  assignment.nextIndex = before + 1;
  txn.onRollback(() => {
    assignment.nextIndex = before;
  });
}

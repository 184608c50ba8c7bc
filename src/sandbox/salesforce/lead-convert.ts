/**
 * Lead conversion (SOAP `convertLead`): Account, Contact and optionally Opportunity from the Lead
 * (or merged into given records, filling only empty fields), custom fields copied by API name,
 * campaign memberships moved to the Contact, the Opportunity's primary campaign set from the most
 * recent membership, activities re-parented, and the Lead locked as converted.
 */
import { sfError } from './errors.ts';
import { createRecord, liveRecord, updateRecord, type WriteContext } from './records.ts';
import { formatDate, formatDateTime, startOfQuarter, addMonths, addDays } from './sf-time.ts';
import { LEAD_STATUSES, OPPORTUNITY_STAGES } from './standard-objects.ts';
import type { Txn } from './state-store.ts';
import type { SfError, SfRecord } from './types.ts';

export interface LeadConvertInput {
  leadId: string;
  convertedStatus: string;
  accountId: string | null;
  contactId: string | null;
  opportunityId: string | null;
  doNotCreateOpportunity: boolean;
  opportunityName: string | null;
  overwriteLeadSource: boolean;
  ownerId: string | null;
}

export type LeadConvertOutcome =
  | { success: true; leadId: string; accountId: string; contactId: string; opportunityId: string | null }
  | { success: false; leadId: string | null; errors: SfError[] };

const ACCOUNT_MAP: Record<string, string> = {
  Company: 'Name',
  Street: 'BillingStreet',
  City: 'BillingCity',
  State: 'BillingState',
  PostalCode: 'BillingPostalCode',
  Country: 'BillingCountry',
  Phone: 'Phone',
  Website: 'Website',
  Industry: 'Industry',
  AnnualRevenue: 'AnnualRevenue',
  NumberOfEmployees: 'NumberOfEmployees',
  LeadSource: 'AccountSource',
};

const CONTACT_MAP: Record<string, string> = {
  FirstName: 'FirstName',
  LastName: 'LastName',
  Salutation: 'Salutation',
  Title: 'Title',
  Email: 'Email',
  Phone: 'Phone',
  MobilePhone: 'MobilePhone',
  Street: 'MailingStreet',
  City: 'MailingCity',
  State: 'MailingState',
  PostalCode: 'MailingPostalCode',
  Country: 'MailingCountry',
  LeadSource: 'LeadSource',
  Description: 'Description',
  HasOptedOutOfEmail: 'HasOptedOutOfEmail',
};

class ConvertFailure extends Error {
  constructor(readonly errors: SfError[]) {
    super(errors[0]?.message ?? 'convertLead failed');
  }
}

/** Standard mapping plus Lead custom fields that exist, with the same type, on the target object. */
function mappedValues(txn: Txn, lead: SfRecord, target: string, map: Record<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(map)) if (lead[from] !== null && lead[from] !== undefined) values[to] = lead[from];
  const schema = txn.store.schema;
  for (const field of schema.object('Lead')?.fields ?? []) {
    const twin = field.custom ? schema.field(target, field.name) : undefined;
    const value = lead[field.name];
    if (twin && twin.type === field.type && twin.createable && value !== null && value !== undefined) values[twin.name] = value;
  }
  return values;
}

function must<T>(result: { ok: true; id: string } | { ok: false; errors: SfError[] }, then: (id: string) => T): T {
  if (!result.ok) throw new ConvertFailure(result.errors);
  return then(result.id);
}

/** Uses an existing record (filling its empty fields) or creates one. */
function useOrCreate(
  txn: Txn,
  type: string,
  existingId: string | null,
  values: Record<string, unknown>,
  ctx: WriteContext,
  check?: (r: SfRecord) => SfError | undefined,
): string {
  if (existingId === null) return must(createRecord(txn, type, values, ctx), (id) => id);
  const obj = txn.store.schema.object(type);
  const found = obj ? liveRecord(txn, obj, existingId) : undefined;
  if (!found?.ok) throw new ConvertFailure([sfError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${existingId}`, [])]);
  const problem = check?.(found.record);
  if (problem) throw new ConvertFailure([problem]);
  const fill = Object.fromEntries(
    Object.entries(values).filter(([k]) => k !== 'OwnerId' && (found.record[k] === null || found.record[k] === undefined)),
  );
  return must(updateRecord(txn, type, String(found.record.Id), fill, ctx), (id) => id);
}

function lastDayOfQuarter(now: number): string {
  return formatDate(addDays(addMonths(startOfQuarter(now), 3), -1));
}

/** Moves the lead's campaign memberships to the contact and returns the most recent campaign. */
function moveMemberships(txn: Txn, leadId: string, contactId: string, ctx: WriteContext): string | null {
  const members = Object.values(txn.store.table('CampaignMember')).filter((m) => !m.IsDeleted && m.LeadId === leadId);
  const stamp = formatDateTime(ctx.now);
  for (const member of members) {
    const alreadyMember = Object.values(txn.store.table('CampaignMember')).some(
      (m) => !m.IsDeleted && m.CampaignId === member.CampaignId && m.ContactId === contactId,
    );
    if (alreadyMember) continue;
    txn.put('CampaignMember', {
      ...member,
      ContactId: contactId,
      LastModifiedDate: stamp,
      LastModifiedById: ctx.userId,
      SystemModstamp: stamp,
    });
    txn.emit({ kind: 'update', type: 'CampaignMember', id: String(member.Id), changedFields: ['ContactId'], userId: ctx.userId });
  }
  const latest = [...members].sort(
    (a, b) => String(b.CreatedDate).localeCompare(String(a.CreatedDate)) || String(b.Id).localeCompare(String(a.Id)),
  )[0];
  return latest ? String(latest.CampaignId) : null;
}

function moveActivities(txn: Txn, leadId: string, contactId: string, whatId: string, ctx: WriteContext): void {
  const stamp = formatDateTime(ctx.now);
  for (const task of Object.values(txn.store.table('Task'))) {
    if (task.IsDeleted || task.WhoId !== leadId) continue;
    txn.put('Task', {
      ...task,
      WhoId: contactId,
      WhatId: task.WhatId ?? whatId,
      LastModifiedDate: stamp,
      LastModifiedById: ctx.userId,
      SystemModstamp: stamp,
    });
    txn.emit({ kind: 'update', type: 'Task', id: String(task.Id), changedFields: ['WhoId', 'WhatId'], userId: ctx.userId });
  }
}

function convertOne(txn: Txn, input: LeadConvertInput, ctx: WriteContext): LeadConvertOutcome {
  const leadObj = txn.store.schema.object('Lead');
  const found = leadObj ? liveRecord(txn, leadObj, input.leadId) : undefined;
  if (!found?.ok)
    return { success: false, leadId: null, errors: [sfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [])] };
  const lead = found.record;
  const leadId = String(lead.Id);
  if (lead.IsConverted === true)
    return { success: false, leadId, errors: [sfError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', [])] };
  if (!LEAD_STATUSES.some((s) => s.IsConverted && s.ApiName === input.convertedStatus)) {
    return { success: false, leadId, errors: [sfError('INVALID_STATUS', `invalid convertedStatus: ${input.convertedStatus}`, [])] };
  }
  const ownerId = input.ownerId ?? String(lead.OwnerId);
  const owner = txn.store.get('User', ownerId);
  if (!owner || owner.IsActive !== true)
    return { success: false, leadId, errors: [sfError('INVALID_CROSS_REFERENCE_KEY', `invalid owner: ${ownerId}`, ['OwnerId'])] };

  const accountId = useOrCreate(
    txn,
    'Account',
    input.accountId,
    { ...mappedValues(txn, lead, 'Account', ACCOUNT_MAP), OwnerId: ownerId },
    ctx,
  );
  const contactValues = { ...mappedValues(txn, lead, 'Contact', CONTACT_MAP), AccountId: accountId, OwnerId: ownerId };
  const contactId = useOrCreate(txn, 'Contact', input.contactId, contactValues, ctx, (c) =>
    c.AccountId === accountId
      ? undefined
      : sfError('INVALID_CROSS_REFERENCE_KEY', 'The contact is not associated with the account', ['ContactId']),
  );
  if (input.contactId !== null && input.overwriteLeadSource && lead.LeadSource) {
    must(updateRecord(txn, 'Contact', contactId, { LeadSource: lead.LeadSource }, ctx), (id) => id);
  }
  const campaignId = moveMemberships(txn, leadId, contactId, ctx);
  let opportunityId: string | null = null;
  if (!input.doNotCreateOpportunity) {
    const firstOpenStage = [...OPPORTUNITY_STAGES].filter((s) => !s.IsClosed).sort((a, b) => a.SortOrder - b.SortOrder)[0];
    const opportunityValues = {
      ...mappedValues(txn, lead, 'Opportunity', { LeadSource: 'LeadSource' }),
      Name: (input.opportunityName ?? `${String(lead.Company)}-`).slice(0, 120),
      AccountId: accountId,
      StageName: firstOpenStage?.ApiName ?? 'Prospecting',
      CloseDate: lastDayOfQuarter(ctx.now),
      CampaignId: campaignId,
      OwnerId: ownerId,
    };
    opportunityId = useOrCreate(txn, 'Opportunity', input.opportunityId, opportunityValues, ctx, (o) =>
      o.AccountId === accountId
        ? undefined
        : sfError('INVALID_CROSS_REFERENCE_KEY', 'The opportunity is not associated with the account', ['OpportunityId']),
    );
  }
  moveActivities(txn, leadId, contactId, opportunityId ?? accountId, ctx);

  const stamp = formatDateTime(ctx.now);
  const converted: SfRecord = {
    ...lead,
    IsConverted: true,
    Status: input.convertedStatus,
    ConvertedDate: formatDate(ctx.now),
    ConvertedAccountId: accountId,
    ConvertedContactId: contactId,
    ConvertedOpportunityId: opportunityId,
    LastModifiedDate: stamp,
    LastModifiedById: ctx.userId,
    SystemModstamp: stamp,
  };
  txn.put('Lead', converted);
  const changedFields = ['IsConverted', 'Status', 'ConvertedDate', 'ConvertedAccountId', 'ConvertedContactId', 'ConvertedOpportunityId'];
  txn.emit({ kind: 'update', type: 'Lead', id: leadId, changedFields, userId: ctx.userId });
  return { success: true, leadId, accountId, contactId, opportunityId };
}

/** Converts one lead inside the caller's transaction; a failure leaves nothing behind. */
export function convertLead(txn: Txn, input: LeadConvertInput, ctx: WriteContext): LeadConvertOutcome {
  const point = txn.savepoint();
  try {
    // The lead field mapping is applied by the platform: mapped custom fields reach the Contact,
    // Account and Opportunity whatever the converting user's field-level security on them
    // (Salesforce Help, "Map Custom Lead Fields for Lead Conversion"); the records stay the user's.
    const outcome = convertOne(txn, input, { ...ctx, systemMode: true });
    if (!outcome.success) txn.rollbackTo(point);
    return outcome;
  } catch (error) {
    txn.rollbackTo(point);
    if (error instanceof ConvertFailure) return { success: false, leadId: input.leadId, errors: error.errors };
    throw error;
  }
}

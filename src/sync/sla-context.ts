/**
 * What the SLA's steps share (docs/architecture.md §5): the clock context of one installation
 * (ports, policy, state, scheduler and clock), the Lead and User fields they read, the owner and
 * routing context of a Lead, which CRM failures they retry or log, and the sync log lines of one
 * run. Starting clocks is `./sla-start.ts`, the first touch `./sla-first-touch.ts`, the stamps
 * on both records `./sla-stamps.ts`, a policy change `./sla-reschedule.ts`, the due check and
 * escalation `./sla-escalation.ts`, the follow-up rules `./sla-followup.ts`.
 */
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../crm/errors.ts';
import type { HubSpotPort, SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import type { FeedbackTaxonomy } from '../domain/feedback.ts';
import { salesforceId15 } from '../domain/salesforce-id.ts';
import type { SlaPolicy } from '../domain/sla.ts';
import type { StageDictionary } from '../domain/stages.ts';
import type { Queryable } from '../store/db.ts';
import type { SlaClockContext } from '../store/sla.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { trimmedText } from './context.ts';
import type { SlaScheduler } from './sla-scheduler.ts';
import type { ValueLedger } from './value-ledger.ts';

/** What the SLA clock works with: one installation's ports, policy, state and clock. */
export interface ClockContext {
  installationId: string;
  db: Queryable;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  ledger: ValueLedger;
  policy: SlaPolicy;
  /** The user the app writes as: activities it created are never a sales touch. */
  integrationUserId: string;
  /** The reasons the disposition deadline judges feedback by. */
  feedbackTaxonomy: FeedbackTaxonomy;
  /** What a Lead Status means (untouched, accepted, closed…): the first touch and the disposition deadline ask it. */
  dictionary: StageDictionary;
  scheduler: SlaScheduler;
  /** True when the installation has an alert target (settings `alert`). */
  alerts: boolean;
  now: () => Date;
  /** Where the log lines of this run point (queue and job). */
  job?: { queue: string; id: string };
}

export const LEAD_FIELDS = [
  'Id',
  'Status',
  'IsConverted',
  'ConvertedContactId',
  'OwnerId',
  'LeadSource',
  'First_Touch_Channel__c',
  'First_Touch_Campaign__c',
  'FirstName',
  'LastName',
  'Company',
  'LastModifiedDate',
  'LastModifiedById',
] as const;
export const USER_FIELDS = ['Id', 'Name', 'Department', 'ManagerId', 'IsActive'] as const;

/** True for a CRM failure the caller retries or logs (rate limit, outage, refusal, auth). */
export function isCrmFailure(error: unknown): error is CrmRateLimitedError | CrmTransientError | CrmRejectedError | CrmAuthError {
  return (
    error instanceof CrmRateLimitedError ||
    error instanceof CrmTransientError ||
    error instanceof CrmRejectedError ||
    error instanceof CrmAuthError
  );
}

/** A Lead's display name (first and last), or null. */
export function leadName(lead: SalesforceRecord | undefined): string | null {
  const name = [trimmedText(lead, 'FirstName'), trimmedText(lead, 'LastName')].filter((part) => part !== null).join(' ');
  return name === '' ? null : name;
}

/** Owner, team, Lead Source, channel and campaign of a Lead and its owner, as far as known. */
export function contextOf(lead: SalesforceRecord | undefined, owner: SalesforceRecord | undefined): SlaClockContext {
  const leadSource = trimmedText(lead, 'LeadSource');
  return {
    ownerId: trimmedText(lead, 'OwnerId'),
    ownerName: trimmedText(owner, 'Name'),
    managerId: trimmedText(owner, 'ManagerId'),
    team: trimmedText(owner, 'Department'),
    leadSource,
    channel: trimmedText(lead, 'First_Touch_Channel__c') ?? leadSource,
    campaign: trimmedText(lead, 'First_Touch_Campaign__c'),
  };
}

/** These Leads (`fields` of each), keyed by 15-character id; one query. */
export async function readLeads(
  ctx: ClockContext,
  ids: readonly string[],
  fields: readonly string[] = LEAD_FIELDS,
): Promise<Map<string, SalesforceRecord>> {
  return new Map((await ctx.salesforce.readRecords('Lead', ids, fields)).map((lead) => [salesforceId15(lead.Id), lead]));
}

/** The owners (Users, not queues) of these Leads, keyed by 15-character id; one query. */
export async function readOwners(
  ctx: ClockContext,
  leads: readonly (SalesforceRecord | undefined)[],
): Promise<Map<string, SalesforceRecord>> {
  const ids = [
    ...new Set(leads.map((lead) => trimmedText(lead, 'OwnerId')).filter((id): id is string => id !== null && id.startsWith('005'))),
  ];
  if (ids.length === 0) return new Map();
  return new Map((await ctx.salesforce.readRecords('User', ids, USER_FIELDS)).map((user) => [salesforceId15(user.Id), user]));
}

export function ownerOf(owners: ReadonlyMap<string, SalesforceRecord>, lead: SalesforceRecord | undefined): SalesforceRecord | undefined {
  const ownerId = trimmedText(lead, 'OwnerId');
  return ownerId === null ? undefined : owners.get(salesforceId15(ownerId));
}

/** Sync log lines of one run, written together. */
export class Log {
  private readonly entries: SyncLogEntry[] = [];
  constructor(private readonly ctx: ClockContext) {}
  /** A line for this run, not yet queued for writing. */
  line(recordRef: string, level: SyncLogEntry['level'], action: string, reason: string, details?: Record<string, unknown>): SyncLogEntry {
    return {
      installationId: this.ctx.installationId,
      recordRef,
      level,
      action,
      reason,
      ...(details ? { details } : {}),
      ...(this.ctx.job ? { jobQueue: this.ctx.job.queue, jobId: this.ctx.job.id } : {}),
    };
  }
  add(recordRef: string, level: SyncLogEntry['level'], action: string, reason: string, details?: Record<string, unknown>): void {
    this.entries.push(this.line(recordRef, level, action, reason, details));
  }
  async flush(): Promise<void> {
    await writeSyncLog(this.ctx.db, this.entries.splice(0));
  }
}

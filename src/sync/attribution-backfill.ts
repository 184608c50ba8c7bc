/**
 * Backfill of attribution stamps on records that predate the installation (admin-triggered), step
 * by step through backfill-phases.ts:
 * 1. every HubSpot contact with its linked Lead (or Contact after conversion) — HubSpot batch
 *    updates of 100, Lead Collections of 200;
 * 2. every unconverted Salesforce Lead that no HubSpot contact is linked to, matched to HubSpot by
 *    email (sales-sourced unless a marketing history or its LeadSource says otherwise);
 * 3. the won revenue of linked Opportunities, for the revenue credit.
 * Writes compare with current values, so a repeated step changes nothing.
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import type { Producer } from '../queue/producer.ts';
import { createBackfillRun, loadBackfillRun, rateAndEta, type BackfillRunRow } from '../store/backfill-runs.ts';
import type { Queryable } from '../store/db.ts';
import { linksByHubSpotIds } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { AttributionBatch } from './attribution.ts';
import { LEAD_SYNC_FIELDS, contactRef, salesforceRef, stageValues, type SyncContext, type LogLine, syncLogLines } from './context.ts';
import { runPhases, type StepCounts } from './backfill-phases.ts';
import { rememberStages } from './handoff.ts';

/** The `backfill_runs.kind` of attribution backfills. */
export const ATTRIBUTION_BACKFILL = 'attribution';

/** Where a backfill run stands. */
export interface BackfillProgress {
  runId: string;
  status: BackfillRunRow['status'];
  phase: BackfillRunRow['phase'];
  done: number;
  /** Contacts plus unlinked Leads counted when the run started; null until counted. */
  total: number | null;
  /** Records per second of working time (waits for rate limits and restarts excluded). */
  ratePerS: number;
  /** Seconds left at the current rate; null while unknown. */
  etaS: number | null;
  stampedContacts: number;
  stampedLeads: number;
  failed: number;
  error: string | null;
}

/** Progress of a run from its counters (pure): rate over working time, ETA from what is left. */
export function progressOf(
  row: Pick<
    BackfillRunRow,
    'id' | 'status' | 'phase' | 'done' | 'total' | 'stamped_contacts' | 'stamped_leads' | 'failed' | 'active_ms' | 'error'
  >,
): BackfillProgress {
  const { done, total, ratePerS, etaS } = rateAndEta(row);
  return {
    runId: row.id,
    status: row.status,
    phase: row.phase,
    done,
    total,
    ratePerS,
    etaS,
    stampedContacts: Number(row.stamped_contacts),
    stampedLeads: Number(row.stamped_leads),
    failed: Number(row.failed),
    error: row.error,
  };
}

/** Creates a backfill run for an installation, or returns the one already queued or running (one at a time). */
export async function createAttributionBackfillRun(db: Queryable, installationId: string): Promise<string> {
  return createBackfillRun(db, installationId, ATTRIBUTION_BACKFILL, 'contacts');
}

/**
 * Starts an attribution backfill for an installation (or joins the one already queued or running)
 * and enqueues its job; the admin API reads its progress with `backfillProgress`.
 */
export async function startAttributionBackfill(
  deps: { db: Queryable; producer: Producer },
  installationId: string,
): Promise<{ runId: string }> {
  const runId = await createAttributionBackfillRun(deps.db, installationId);
  // The same run enqueued again is the same job: an admin clicking twice runs it once.
  await deps.producer.enqueue('attributionBackfill', [
    { jobId: `attribution-backfill-${runId}`, payload: { v: 1, installationId, runId } },
  ]);
  return { runId };
}

/** The progress of a backfill run (`{status, done, total, ratePerS, etaS}` and counters), or null for an unknown run. */
export async function backfillProgress(db: Queryable, runId: string): Promise<BackfillProgress | null> {
  const row = await loadBackfillRun(db, runId);
  return row === undefined ? null : progressOf(row);
}

/**
 * Runs (or resumes) a backfill until it is complete, saving the cursor after every step and
 * reporting progress through `onProgress`. Errors leave the run resumable; the caller decides
 * whether to retry or give up (`failBackfillRun`).
 */
export async function runAttributionBackfill(
  ctx: SyncContext,
  runId: string,
  onProgress: (progress: BackfillProgress) => Promise<void>,
): Promise<BackfillProgress> {
  return runPhases(
    ctx,
    runId,
    {
      kind: ATTRIBUTION_BACKFILL,
      name: 'backfill run',
      leadFields: LEAD_SYNC_FIELDS,
      contactStep: (contacts) => stampContacts(ctx, runId, contacts),
      leadStep: (leads) => stampLeads(ctx, runId, leads),
      progressOf,
    },
    onProgress,
  );
}

/** Writes attribution stamps to HubSpot contacts (remembered first, so their echo is known), counting each outcome. */
async function writeHubSpotStamps(
  ctx: SyncContext,
  hubspotWrites: readonly { id: string; properties: Record<string, string> }[],
  result: StepCounts,
  entry: LogLine,
): Promise<void> {
  if (hubspotWrites.length === 0) return;
  await ctx.ledger.remember(
    ctx.installationId,
    'hubspot',
    hubspotWrites.map((w) => ({ recordId: w.id, values: w.properties })),
  );
  for (const [id, outcome] of await ctx.hubspot.updateContacts(hubspotWrites)) {
    if (outcome.ok) result.stampedContacts += 1;
    else {
      result.failed += 1;
      entry(contactRef(id), 'error', 'stamp_failed', `HubSpot refused the attribution stamp: ${refusalOf(outcome)}`);
    }
  }
}

/** A Lead stamp to write: the batch's key of the person, the Lead as read, and the fields to update. */
interface LeadStampWrite {
  readonly key: string;
  readonly lead: SalesforceRecord;
  readonly record: SalesforceRecord;
}

/**
 * Writes attribution stamps to Leads in one Collections update, counting each outcome. The stamp
 * comes back as an Outbound Message from the integration user: with the Lead's stage remembered
 * first it is the app's own write, not a sales-sourced Lead for the live sync to copy to HubSpot.
 */
async function writeLeadStamps(
  ctx: SyncContext,
  batch: AttributionBatch,
  writes: readonly LeadStampWrite[],
  result: StepCounts,
  entry: LogLine,
): Promise<void> {
  const written = new Map(writes.map(({ lead }) => [lead.Id, lead]));
  await rememberStages(
    ctx,
    [...written.values()].map((lead) => ({ recordId: lead.Id, values: stageValues('Lead', lead) })),
  );
  const outcomes = await ctx.salesforce.updateRecords(
    'Lead',
    writes.map((w) => w.record),
  );
  for (const { key, record } of writes) {
    const outcome = outcomes.get(record.Id);
    if (outcome?.ok) {
      result.stampedLeads += 1;
      batch.leadWritten(key, record.Id, record, false);
    } else {
      result.failed += 1;
      entry(salesforceRef('Lead', record.Id), 'error', 'stamp_failed', `Salesforce refused the attribution stamp: ${refusalOf(outcome)}`);
    }
  }
}

/** Writes the contacts' attribution stamps to HubSpot: only what changed, in batch updates of 100. */
async function writeContactStamps(
  ctx: SyncContext,
  contacts: readonly HubSpotContact[],
  batch: AttributionBatch,
  result: StepCounts,
  entry: LogLine,
): Promise<void> {
  const hubspotWrites = contacts
    .map((c) => ({ id: c.id, properties: batch.hubspotChanges(c.id) }))
    .filter((w) => Object.keys(w.properties).length > 0);
  await writeHubSpotStamps(ctx, hubspotWrites, result, entry);
}

/** Stamps one step of HubSpot contacts and their linked Lead / Contact (the initial sync reuses it). */
export async function stampContacts(ctx: SyncContext, runId: string, contacts: readonly HubSpotContact[]): Promise<StepCounts> {
  const result: StepCounts = { processed: contacts.length, stampedContacts: 0, stampedLeads: 0, failed: 0 };
  if (contacts.length === 0) return result;
  const { log, entry } = syncLogLines(ctx, { backfillRun: runId });
  const links = await linksByHubSpotIds(
    ctx.db,
    ctx.installationId,
    contacts.map((c) => c.id),
  );
  const leadIdOf = (contact: HubSpotContact): string | null =>
    links.get(contact.id)?.salesforceLeadId ?? contact.properties.salesforce_lead_id ?? null;
  const leadIds = contacts.map(leadIdOf).filter((id): id is string => id !== null);
  const leads = new Map((await ctx.salesforce.readRecords('Lead', leadIds, LEAD_SYNC_FIELDS)).map((lead) => [lead.Id, lead]));
  const leadOf = (contact: HubSpotContact): SalesforceRecord | undefined => leads.get(leadIdOf(contact) ?? '');
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const batch = await AttributionBatch.forContacts(ctx, contacts, (id) => {
    const contact = byId.get(id);
    return contact === undefined ? undefined : leadOf(contact);
  });

  await writeContactStamps(ctx, contacts, batch, result, entry);

  // Linked Leads not converted yet: one Collections update of up to 200.
  const leadWrites: LeadStampWrite[] = [];
  for (const contact of contacts) {
    const lead = leadOf(contact);
    if (lead === undefined || lead.IsConverted === true) continue;
    const fields = batch.leadFields(contact.id, lead);
    if (Object.keys(fields).length > 0) leadWrites.push({ key: contact.id, lead, record: { Id: lead.Id, ...fields } });
  }
  await writeLeadStamps(ctx, batch, leadWrites, result, entry);

  // Converted Leads: their Contact carries the stamp.
  const salesforceContacts = new Map<string, string>();
  for (const contact of contacts) {
    const contactId =
      links.get(contact.id)?.salesforceContactId ??
      (typeof leadOf(contact)?.ConvertedContactId === 'string' ? String(leadOf(contact)?.ConvertedContactId) : null);
    if (contactId !== null) salesforceContacts.set(contact.id, contactId);
  }
  await batch.complete(entry, salesforceContacts);
  await writeSyncLog(ctx.db, log);
  return result;
}

/** Stamps one step of Salesforce Leads that no HubSpot contact is linked to (the initial sync reuses it). */
export async function stampLeads(ctx: SyncContext, runId: string, leads: readonly SalesforceRecord[]): Promise<StepCounts> {
  const result: StepCounts = { processed: leads.length, stampedContacts: 0, stampedLeads: 0, failed: 0 };
  if (leads.length === 0) return result;
  const { log, entry } = syncLogLines(ctx, { backfillRun: runId });
  const batch = await AttributionBatch.forSalesforceLeads(ctx, leads);

  // The HubSpot contact with the same email, when there is one, gets the same stamp.
  const hubspotWrites = leads.flatMap((lead) => {
    const contactId = batch.contactIdOf(lead.Id);
    const properties = contactId === null ? {} : batch.hubspotChanges(lead.Id);
    return contactId === null || Object.keys(properties).length === 0 ? [] : [{ id: contactId, properties }];
  });
  await writeHubSpotStamps(ctx, hubspotWrites, result, entry);

  const leadWrites = leads
    .map((lead) => ({ key: lead.Id, lead, record: { Id: lead.Id, ...batch.leadFields(lead.Id, lead) } }))
    .filter((write) => Object.keys(write.record).length > 1);
  await writeLeadStamps(ctx, batch, leadWrites, result, entry);
  await batch.complete(entry);
  await writeSyncLog(ctx.db, log);
  return result;
}

/**
 * Filling existing records after a field mapping starts syncing or changes rule (admin-triggered,
 * docs/architecture.md "Filling existing records"). Without it a newly mapped value crosses only
 * at the record's next change. The run walks the installation's contacts linked to a Lead (not set
 * aside), 100 per step by contact id, and writes each pair's value the way the live sync would
 * (`leadValuesFor`, `contactValuesFor`), so a repeated step changes nothing. Its cursor and counts
 * live in `backfill_runs` (kind `field-fill`): a crashed, delayed or rate-limited run resumes where
 * it stopped. Converted Leads are left alone (Salesforce refuses updates to them; their Contact is
 * not a mapped record).
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import { isOneOfPairs, type MappingPair } from '../domain/field-values.ts';
import type { Producer } from '../queue/producer.ts';
import {
  advanceBackfillRun,
  completeBackfillRun,
  createBackfillRun,
  loadBackfillRun,
  markBackfillRunRunning,
  rateAndEta,
  setBackfillRunTotal,
  type BackfillRunRow,
} from '../store/backfill-runs.ts';
import type { Queryable } from '../store/db.ts';
import { countLeadLinks, leadLinksAfter, type LeadLink } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, salesforceRef, stageValues, type LogLine, type SyncContext, syncLogLines } from './context.ts';
import { rememberStages } from './handoff.ts';
import {
  contactReadProperties,
  contactValuesFor,
  leadReadFields,
  leadValuesFor,
  mappedChangeTimes,
  typedMappings,
} from './mapped-fields.ts';

/** The `backfill_runs.kind` of field fills. */
export const FIELD_FILL = 'field-fill';
/** Linked records per step: one HubSpot batch read and update (100 each), one Lead read and Collections update. */
const LINKS_PER_STEP = 100;

/** Where a field fill stands. */
export interface FieldFillProgress {
  runId: string;
  status: BackfillRunRow['status'];
  /** Linked records walked. */
  done: number;
  /** Linked records counted when the run started; null until counted. */
  total: number | null;
  /** Records per second of working time (waits for rate limits and restarts excluded). */
  ratePerS: number;
  /** Seconds left at the current rate; null while unknown. */
  etaS: number | null;
  /** Contacts and Leads that got a value. */
  filledContacts: number;
  filledLeads: number;
  failed: number;
  error: string | null;
}

/** Progress of a fill from its row (pure). The fill counts its written contacts and Leads in the stamped columns. */
export function fieldFillProgressOf(
  row: Pick<BackfillRunRow, 'id' | 'status' | 'done' | 'total' | 'stamped_contacts' | 'stamped_leads' | 'failed' | 'active_ms' | 'error'>,
): FieldFillProgress {
  const { done, total, ratePerS, etaS } = rateAndEta(row);
  return {
    runId: row.id,
    status: row.status,
    done,
    total,
    ratePerS,
    etaS,
    filledContacts: Number(row.stamped_contacts),
    filledLeads: Number(row.stamped_leads),
    failed: Number(row.failed),
    error: row.error,
  };
}

/**
 * Starts a fill of the existing records for the given mapping pairs (every syncing mapping when
 * none are named), or joins the one already queued or running (one at a time per installation:
 * the running one keeps its own pairs).
 */
export async function startFieldFill(
  deps: { db: Queryable; producer: Producer },
  installationId: string,
  pairs?: readonly MappingPair[],
): Promise<{ runId: string }> {
  const runId = await createBackfillRun(deps.db, installationId, FIELD_FILL, 'links');
  // The same run enqueued again is the same job: an admin clicking twice runs it once.
  await deps.producer.enqueue('fieldFill', [
    { jobId: `field-fill-${runId}`, payload: { v: 1, installationId, runId, ...(pairs ? { pairs: [...pairs] } : {}) } },
  ]);
  return { runId };
}

/** The progress of a fill, or null for an unknown run (or a run of another kind). */
export async function fieldFillProgress(db: Queryable, runId: string): Promise<FieldFillProgress | null> {
  const row = await loadBackfillRun(db, runId);
  return row === undefined || row.kind !== FIELD_FILL ? null : fieldFillProgressOf(row);
}

/** What one step wrote. */
interface FillCounts {
  filledContacts: number;
  filledLeads: number;
  failed: number;
}

/**
 * Runs (or resumes) a fill until it is complete, saving the cursor after every step and reporting
 * progress through `onProgress`. Errors leave the run resumable; the caller decides whether to
 * retry or give up (`failBackfillRun`).
 */
export async function runFieldFill(
  ctx: SyncContext,
  runId: string,
  pairs: readonly MappingPair[] | undefined,
  onProgress: (progress: FieldFillProgress) => Promise<void>,
): Promise<FieldFillProgress> {
  let run = await loadBackfillRun(ctx.db, runId);
  if (run === undefined || run.kind !== FIELD_FILL) throw new Error(`field fill ${runId} does not exist`);
  if (run.installation_id !== ctx.installationId) throw new Error(`field fill ${runId} belongs to another installation`);
  if (run.status === 'completed' || run.status === 'failed') return fieldFillProgressOf(run);
  await markBackfillRunRunning(ctx.db, runId);
  if (run.total === null) await setBackfillRunTotal(ctx.db, runId, await countLeadLinks(ctx.db, ctx.installationId));

  for (;;) {
    run = await loadBackfillRun(ctx.db, runId);
    if (run === undefined) throw new Error(`field fill ${runId} disappeared`);
    if (run.phase === 'done') break;
    const started = Date.now();
    const links = await leadLinksAfter(ctx.db, ctx.installationId, run.cursor, LINKS_PER_STEP);
    const counts = await fillLinks(ctx, runId, links, pairs);
    const last = links.at(-1)?.hubspotContactId;
    const next = links.length < LINKS_PER_STEP || last === undefined ? { phase: 'done', cursor: null } : { phase: 'links', cursor: last };
    const saved = await advanceBackfillRun(ctx.db, runId, {
      phase: next.phase,
      cursor: next.cursor,
      processed: links.length,
      stampedContacts: counts.filledContacts,
      stampedLeads: counts.filledLeads,
      failed: counts.failed,
      activeMs: Date.now() - started,
    });
    if (saved !== undefined && links.length > 0) await onProgress(fieldFillProgressOf(saved));
  }

  // Records linked or set aside meanwhile make the total approximate: the finished run says what it did.
  const final = await completeBackfillRun(ctx.db, runId);
  if (final === undefined) throw new Error(`field fill ${runId} disappeared`);
  const progress = fieldFillProgressOf(final);
  await onProgress(progress);
  return progress;
}

/** Fills one step of linked records: reads both sides, writes each pair's value by its rule. */
async function fillLinks(
  ctx: SyncContext,
  runId: string,
  links: readonly LeadLink[],
  pairs: readonly MappingPair[] | undefined,
): Promise<FillCounts> {
  const counts: FillCounts = { filledContacts: 0, filledLeads: 0, failed: 0 };
  const mappings = (await typedMappings(ctx)).filter((m) => isOneOfPairs(m, pairs));
  if (links.length === 0 || mappings.length === 0) return counts;
  const [contactList, leadList] = await Promise.all([
    ctx.hubspot.readContacts(
      links.map((l) => l.hubspotContactId),
      contactReadProperties(ctx.fieldMappings),
    ),
    ctx.salesforce.readRecords(
      'Lead',
      links.map((l) => l.salesforceLeadId),
      leadReadFields(ctx.fieldMappings),
    ),
  ]);
  const contacts = new Map<string, HubSpotContact>(contactList.map((c) => [c.id, c]));
  const leads = new Map<string, SalesforceRecord>(leadList.map((lead) => [lead.Id, lead]));
  const lines = syncLogLines(ctx, { backfillRun: runId });
  const entry = lines.entry;

  const contactWrites: ContactFill[] = [];
  const leadWrites: LeadFill[] = [];
  // A record gone on either side is the deletion flow's to handle; a converted Lead takes no updates.
  const linked = links.flatMap((link) => {
    const contact = contacts.get(link.hubspotContactId);
    const lead = leads.get(link.salesforceLeadId);
    return contact === undefined || lead === undefined || lead.IsConverted === true ? [] : [{ contact, lead }];
  });
  const changeTimes = await mappedChangeTimes(ctx, mappings, linked, 'Lead');
  for (const { contact, lead } of linked) {
    const times = [changeTimes.hubspot.get(contact.id), changeTimes.salesforce.get(lead.Id)] as const;
    const leadFields = leadValuesFor(mappings, contact, lead, undefined, ...times);
    if (Object.keys(leadFields).length > 0) leadWrites.push({ contactId: contact.id, lead, record: { Id: lead.Id, ...leadFields } });
    const properties = contactValuesFor(mappings, lead, contact, ...times);
    if (Object.keys(properties).length > 0) contactWrites.push({ id: contact.id, properties });
  }
  await fillContacts(ctx, contactWrites, counts, entry);
  await fillLeads(ctx, leadWrites, counts, entry);
  await writeSyncLog(ctx.db, lines.log);
  return counts;
}

interface ContactFill {
  id: string;
  properties: Record<string, string>;
}
interface LeadFill {
  contactId: string;
  lead: SalesforceRecord;
  record: SalesforceRecord;
}

/** Writes the filled contact values, remembered first so their webhooks read as the app's own writes. */
async function fillContacts(ctx: SyncContext, contactWrites: readonly ContactFill[], counts: FillCounts, entry: LogLine): Promise<void> {
  if (contactWrites.length === 0) return;
  await ctx.ledger.remember(
    ctx.installationId,
    'hubspot',
    contactWrites.map((w) => ({ recordId: w.id, values: w.properties })),
  );
  const outcomes = await ctx.hubspot.updateContacts(contactWrites);
  for (const write of contactWrites) {
    const outcome = outcomes.get(write.id);
    if (outcome?.ok) {
      counts.filledContacts += 1;
      entry(contactRef(write.id), 'info', 'fill_mapped_fields', `existing contact filled: ${Object.keys(write.properties).join(', ')}`, {
        fields: Object.keys(write.properties),
      });
    } else {
      counts.failed += 1;
      entry(contactRef(write.id), 'error', 'fill_failed', `HubSpot refused the filled values: ${refusalOf(outcome)}`, {
        fields: Object.keys(write.properties),
      });
    }
  }
}

/** Writes the filled Lead values, the Leads' stages remembered first so their Outbound Messages read as the app's own writes. */
async function fillLeads(ctx: SyncContext, leadWrites: readonly LeadFill[], counts: FillCounts, entry: LogLine): Promise<void> {
  if (leadWrites.length === 0) return;
  await rememberStages(
    ctx,
    leadWrites.map((w) => ({ recordId: w.lead.Id, values: stageValues('Lead', w.lead) })),
  );
  const outcomes = await ctx.salesforce.updateRecords(
    'Lead',
    leadWrites.map((w) => w.record),
  );
  for (const { contactId, record } of leadWrites) {
    const outcome = outcomes.get(record.Id);
    const fields = Object.keys(record).filter((f) => f !== 'Id');
    if (outcome?.ok) {
      counts.filledLeads += 1;
      entry(
        salesforceRef('Lead', record.Id),
        'info',
        'fill_mapped_fields',
        `existing Lead filled from contact ${contactId}: ${fields.join(', ')}`,
        {
          fields,
        },
      );
    } else {
      counts.failed += 1;
      entry(salesforceRef('Lead', record.Id), 'error', 'fill_failed', `Salesforce refused the filled values: ${refusalOf(outcome)}`, {
        fields,
      });
    }
  }
}

/**
 * The step driver both admin-triggered runs share (attribution backfill, initial sync): every
 * HubSpot contact, 200 per step (two list pages of 100), then every unconverted Lead no contact is
 * linked to, 200 per step by `Id >` cursor, then every Opportunity as a deal (src/sync/revenue.ts). Each step
 * saves its cursor and counters in `backfill_runs` (store/backfill-runs.ts), so a crashed,
 * stalled or rate-limited run resumes where it stopped, never holding more than one step.
 */
import type { HubSpotContact, SalesforceRecord } from '../crm/ports.ts';
import {
  advanceBackfillRun,
  completeBackfillRun,
  loadBackfillRun,
  markBackfillRunRunning,
  setBackfillRunTotal,
  type BackfillRunRow,
  type StepCounts,
} from '../store/backfill-runs.ts';
import { CONTACT_SYNC_PROPERTIES, type SyncContext } from './context.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { linkedContacts, opportunityReadFields, recordDeals } from './revenue.ts';

/** HubSpot list pages (100 contacts each) per step: one Lead Collections update of up to 200 per step. */
const CONTACT_PAGES_PER_STEP = 2;
/** Salesforce Leads per step (one query, one Collections update). */
const LEADS_PER_STEP = 200;
/** Opportunities per step of the revenue phase (one query). */
const OPPORTUNITIES_PER_STEP = 200;

export type { StepCounts } from '../store/backfill-runs.ts';

/** What a kind of run does at each step. */
export interface PhasedRun<P> {
  kind: string;
  /** For error messages: `backfill run`, `initial sync run`. */
  name: string;
  leadFields: readonly string[];
  contactStep(contacts: readonly HubSpotContact[]): Promise<StepCounts>;
  leadStep(leads: readonly SalesforceRecord[]): Promise<StepCounts>;
  /** Counts the unlinked Leads again when the contact phase ends (it links some of them). */
  recountAfterContacts?: boolean;
  progressOf(row: BackfillRunRow): P;
  /** Once, when this call completes the run. */
  onCompleted?(progress: P): Promise<void>;
}

/** The contacts of one step of the contact phase (a few pages) and the cursor after them, none at the end. */
async function contactPages(
  ctx: SyncContext,
  cursor: string | undefined,
): Promise<{ contacts: HubSpotContact[]; after: string | undefined }> {
  const contacts: HubSpotContact[] = [];
  let after = cursor;
  for (let page = 0; page < CONTACT_PAGES_PER_STEP; page++) {
    const listed: { contacts: HubSpotContact[]; after?: string } = await ctx.hubspot.listContacts(CONTACT_SYNC_PROPERTIES, after);
    contacts.push(...listed.contacts);
    after = listed.after;
    if (after === undefined) break;
  }
  return { contacts, after };
}

/**
 * One step of the revenue phase: every Opportunity, 200 per step by Id, becomes a deal of the
 * revenue loop (the live sync records changes from now on; this records the deals closed before the
 * app was there). Returns where the next step starts.
 */
async function revenueStep(ctx: SyncContext, cursor: string | null): Promise<{ phase: BackfillRunRow['phase']; cursor: string | null }> {
  const { fields, rates } = await opportunityReadFields(ctx.salesforce);
  const opportunities = await ctx.salesforce.opportunitiesAfter(cursor, fields, OPPORTUNITIES_PER_STEP);
  const log: SyncLogEntry[] = [];
  await recordDeals(
    ctx,
    opportunities,
    rates,
    await linkedContacts(
      ctx,
      opportunities.map((o) => o.Id),
    ),
    (recordRef, level, action, reason, details) => {
      // The backfill logs what needs the admin (unknown currencies, refused writes), not every deal it records.
      if (level !== 'info')
        log.push({ installationId: ctx.installationId, recordRef, level, action, reason, ...(details ? { details } : {}) });
    },
  );
  await writeSyncLog(ctx.db, log);
  const last = opportunities.at(-1)?.Id;
  return opportunities.length < OPPORTUNITIES_PER_STEP || last === undefined
    ? { phase: 'done', cursor: null }
    : { phase: 'revenue', cursor: last };
}

/**
 * Runs (or resumes) a run until it is complete, reporting progress after every step that did
 * something. Errors leave the run resumable; the caller decides whether to retry or give up.
 */
export async function runPhases<P>(
  ctx: SyncContext,
  runId: string,
  kind: PhasedRun<P>,
  onProgress: (progress: P) => Promise<void>,
): Promise<P> {
  let run = await loadBackfillRun(ctx.db, runId);
  if (run === undefined || run.kind !== kind.kind) throw new Error(`${kind.name} ${runId} does not exist`);
  if (run.installation_id !== ctx.installationId) throw new Error(`${kind.name} ${runId} belongs to another installation`);
  if (run.status === 'completed' || run.status === 'failed') return kind.progressOf(run);
  await markBackfillRunRunning(ctx.db, runId);
  const unlinkedLeads = () => ctx.salesforce.countUnlinkedLeads();
  if (run.total === null) {
    const [contacts, leads] = await Promise.all([ctx.hubspot.countContacts(), unlinkedLeads()]);
    await setBackfillRunTotal(ctx.db, runId, contacts + leads);
  }

  for (;;) {
    run = await loadBackfillRun(ctx.db, runId);
    if (run === undefined) throw new Error(`${kind.name} ${runId} disappeared`);
    if (run.phase === 'done') break;
    const started = Date.now();
    let next: { phase: BackfillRunRow['phase']; cursor: string | null };
    let counts: StepCounts = { processed: 0, stampedContacts: 0, stampedLeads: 0, failed: 0 };
    let total: number | null = null;
    if (run.phase === 'contacts') {
      const { contacts, after } = await contactPages(ctx, run.cursor ?? undefined);
      counts = await kind.contactStep(contacts);
      next = after === undefined ? { phase: 'leads', cursor: null } : { phase: 'contacts', cursor: after };
      // What is left unlinked is what the Lead phase walks.
      if (after === undefined && kind.recountAfterContacts) total = Number(run.done) + counts.processed + (await unlinkedLeads());
    } else if (run.phase === 'leads') {
      const leads = await ctx.salesforce.unlinkedLeadsAfter(run.cursor, kind.leadFields, LEADS_PER_STEP);
      counts = await kind.leadStep(leads);
      const last = leads.at(-1)?.Id;
      next = leads.length < LEADS_PER_STEP || last === undefined ? { phase: 'revenue', cursor: null } : { phase: 'leads', cursor: last };
    } else {
      next = await revenueStep(ctx, run.cursor);
    }
    const saved = await advanceBackfillRun(ctx.db, runId, {
      phase: next.phase,
      cursor: next.cursor,
      ...counts,
      activeMs: Date.now() - started,
      total,
    });
    if (saved !== undefined && counts.processed > 0) await onProgress(kind.progressOf(saved));
  }

  // Records created or linked meanwhile make the counts approximate: the finished run says what it did.
  const final = await completeBackfillRun(ctx.db, runId);
  if (final === undefined) throw new Error(`${kind.name} ${runId} disappeared`);
  const progress = kind.progressOf(final);
  await kind.onCompleted?.(progress);
  await onProgress(progress);
  return progress;
}

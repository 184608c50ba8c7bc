/**
 * The initial sync (admin-triggered, once per installation or whenever an admin wants it again):
 * brings what existed in both CRMs before the app was installed into agreement, streaming, never
 * holding more than one step in memory (the steps of backfill-phases.ts).
 * 1. every HubSpot contact: link it to its Salesforce record
 *    (external id first, then email), bring the two stages into agreement — the side that is
 *    behind moves forward, never backwards — and stamp attribution (attribution-backfill.ts);
 * 2. every unconverted Lead that no contact is linked to: stamped, counted as unmatched;
 * 3. the won revenue of linked Opportunities, for the revenue credit.
 * Historical records are not new handoffs: no Lead is created for an unlinked MQL, no contact for
 * an unmatched Lead, no SLA clock starts; they are counted (`unmatched`) and logged. Every write
 * compares with the current value, so a repeated step writes nothing new.
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import { isSalesforceId } from '../domain/salesforce-id.ts';
import { decideStageAgreement, hubspotFunnelRank, type StageAgreement } from '../domain/stage-agreement.ts';
import { assertNever } from '../domain/result.ts';
import { compareStageRank } from '../domain/stages.ts';
import type { Producer } from '../queue/producer.ts';
import { createBackfillRun, loadBackfillRun, rateAndEta, type BackfillRunRow } from '../store/backfill-runs.ts';
import type { Queryable } from '../store/db.ts';
import { linksByHubSpotIds, linksBySalesforceIds, saveLinks, type RecordLink } from '../store/record-links.ts';
import { recordStageChanges, writeSyncLog, type StageChange } from '../store/sync-log.ts';
import { FIELD_FILL, fieldFillProgressOf, type FieldFillProgress } from './field-fill.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress, stampContacts, stampLeads, type BackfillProgress } from './attribution-backfill.ts';
import { runPhases, type StepCounts } from './backfill-phases.ts';
import {
  LEAD_SYNC_FIELDS,
  OPPORTUNITY_SYNC_FIELDS,
  contactRef,
  recordText,
  salesforceRef,
  stageValues,
  type LogLine,
  type SyncContext,
  syncLogLines,
} from './context.ts';
import { mergeWrites, rememberStages } from './handoff.ts';

/** The `backfill_runs.kind` of initial syncs. */
export const INITIAL_SYNC = 'initial';

/** The Lead fields the initial sync reads (the sync's fields plus the stage mirror it writes). */
const LEAD_FIELDS = [...LEAD_SYNC_FIELDS, 'Lifecycle_Stage__c'] as const;

/** Where an initial sync run stands. */
export interface InitialSyncProgress {
  kind: typeof INITIAL_SYNC;
  runId: string;
  status: BackfillRunRow['status'];
  phase: BackfillRunRow['phase'];
  done: number;
  /** Contacts plus unlinked Leads (recounted when the Lead phase starts); null until counted. */
  total: number | null;
  /** Records per second of working time (waits for rate limits and restarts excluded). */
  ratePerS: number;
  /** Seconds left at the current rate; null while unknown. */
  etaS: number | null;
  /** Contacts linked to a Salesforce Lead or Contact by this run. */
  linked: number;
  /** Linked pairs whose stages this run brought into agreement. */
  stagesAligned: number;
  /** Historical records left unmatched on purpose: MQLs (or later) with no Salesforce record, Leads with no contact. */
  unmatched: number;
  stampedContacts: number;
  stampedLeads: number;
  failed: number;
  error: string | null;
}

/** Progress of a run from its counters (pure): rate over working time, ETA from what is left. */
export function initialSyncProgressOf(
  row: Pick<
    BackfillRunRow,
    | 'id'
    | 'status'
    | 'phase'
    | 'done'
    | 'total'
    | 'linked'
    | 'stages_aligned'
    | 'unmatched'
    | 'stamped_contacts'
    | 'stamped_leads'
    | 'failed'
    | 'active_ms'
    | 'error'
  >,
): InitialSyncProgress {
  const { done, total, ratePerS, etaS } = rateAndEta(row);
  return {
    kind: INITIAL_SYNC,
    runId: row.id,
    status: row.status,
    phase: row.phase,
    done,
    total,
    ratePerS,
    etaS,
    linked: Number(row.linked),
    stagesAligned: Number(row.stages_aligned),
    unmatched: Number(row.unmatched),
    stampedContacts: Number(row.stamped_contacts),
    stampedLeads: Number(row.stamped_leads),
    failed: Number(row.failed),
    error: row.error,
  };
}

/** Creates an initial sync run for an installation, or returns the one already queued or running (one at a time). */
export async function createInitialSyncRun(db: Queryable, installationId: string): Promise<string> {
  return createBackfillRun(db, installationId, INITIAL_SYNC, 'contacts');
}

/** The job id of a run: the same run enqueued again is the same job (an admin clicking twice runs it once). */
export function initialSyncJobId(runId: string): string {
  return `initial-sync-${runId}`;
}

/** Starts an initial sync for an installation (or joins the one already queued or running) and enqueues its job. */
export async function startInitialSync(deps: { db: Queryable; producer: Producer }, installationId: string): Promise<{ runId: string }> {
  const runId = await createInitialSyncRun(deps.db, installationId);
  await deps.producer.enqueue('initialSync', [{ jobId: initialSyncJobId(runId), payload: { v: 1, installationId, runId } }]);
  return { runId };
}

/** The progress of an initial sync run, or null for an unknown run (or a run of another kind). */
export async function initialSyncProgress(db: Queryable, runId: string): Promise<InitialSyncProgress | null> {
  const row = await loadBackfillRun(db, runId);
  return row === undefined || row.kind !== INITIAL_SYNC ? null : initialSyncProgressOf(row);
}

/** The progress of any backfill run by id (initial sync, attribution backfill or field fill), with its kind; null when unknown. */
export async function anyRunProgress(
  db: Queryable,
  runId: string,
): Promise<InitialSyncProgress | (BackfillProgress & { kind: string }) | (FieldFillProgress & { kind: typeof FIELD_FILL }) | null> {
  const row = await loadBackfillRun(db, runId);
  if (row === undefined) return null;
  if (row.kind === INITIAL_SYNC) return initialSyncProgressOf(row);
  if (row.kind === FIELD_FILL) return { kind: FIELD_FILL, ...fieldFillProgressOf(row) };
  const progress = await backfillProgress(db, runId);
  return progress === null ? null : { kind: row.kind === ATTRIBUTION_BACKFILL ? ATTRIBUTION_BACKFILL : row.kind, ...progress };
}

const emptyStep = (processed = 0): Required<StepCounts> => ({
  processed,
  linked: 0,
  stagesAligned: 0,
  unmatched: 0,
  stampedContacts: 0,
  stampedLeads: 0,
  failed: 0,
});

/**
 * Runs (or resumes) an initial sync until it is complete, saving the cursor and counters after
 * every step and reporting progress through `onProgress`. Errors leave the run resumable; the
 * caller decides whether to retry or give up (`failBackfillRun`).
 */
export async function runInitialSync(
  ctx: SyncContext,
  runId: string,
  onProgress: (progress: InitialSyncProgress) => Promise<void>,
): Promise<InitialSyncProgress> {
  return runPhases(
    ctx,
    runId,
    {
      kind: INITIAL_SYNC,
      name: 'initial sync run',
      leadFields: LEAD_FIELDS,
      contactStep: (contacts) => syncContactStep(ctx, runId, contacts),
      leadStep: (leads) => syncLeadStep(ctx, runId, leads),
      recountAfterContacts: true,
      progressOf: initialSyncProgressOf,
      onCompleted: async (progress) => {
        await writeSyncLog(ctx.db, [
          {
            installationId: ctx.installationId,
            recordRef: 'initial-sync',
            level: progress.unmatched > 0 ? 'warn' : 'info',
            action: 'initial_sync_completed',
            reason:
              `initial sync done: ${progress.done} records, ${progress.linked} linked, ${progress.stagesAligned} stages brought into agreement, ${progress.failed} failed; ` +
              `${progress.unmatched} historical records left unmatched on purpose (no Lead created for an MQL without one, no HubSpot contact for a Lead without one, no SLA clock started)`,
            details: { initialSyncRun: runId },
            ...(ctx.job ? { jobQueue: ctx.job.queue, jobId: ctx.job.id } : {}),
          },
        ]);
      },
    },
    onProgress,
  );
}

/** How a contact was matched, for the sync log. */
type MatchedBy =
  'link' | 'lead_external_id' | 'lead_id_property' | 'contact_id_property' | 'email_lead' | 'email_converted_lead' | 'email_contact';

const MATCH_REASONS: Record<Exclude<MatchedBy, 'link'>, string> = {
  lead_external_id: 'matched by external id: Lead.HubSpot_Contact_Id__c is this contact',
  lead_id_property: "matched by external id: the contact's salesforce_lead_id names the Lead",
  contact_id_property: "matched by external id: the contact's salesforce_contact_id names the Contact",
  email_lead: 'matched by email to an unconverted Lead',
  email_converted_lead: 'matched by email to a converted Lead: linked to its Contact and Opportunity',
  email_contact: 'matched by email to a Salesforce Contact (no Lead)',
};

interface Pair {
  contact: HubSpotContact;
  link: RecordLink;
  lead: SalesforceRecord | undefined;
  matchedBy: MatchedBy;
}

/** One contact step's decided writes, stage rows and counts, filled pair by pair. */
interface ContactStep {
  ctx: SyncContext;
  runId: string;
  at: Date;
  result: Required<StepCounts>;
  entry: LogLine;
  hubspotWrites: { id: string; properties: Record<string, string> }[];
  leadWrites: Map<string, SalesforceRecord>;
  stages: StageChange[];
  linkUpdates: RecordLink[];
  /** Salesforce stage values the app knows (read, or about to write), remembered for echo detection. */
  leadStages: { recordId: string; values: Record<string, string> }[];
  /** Contacts whose stages this step brought into agreement. */
  aligned: Set<string>;
}

/**
 * One step of HubSpot contacts: link each to its Salesforce record, bring linked pairs' stages
 * into agreement, count unmatched MQLs, then stamp attribution (which reads the links saved here).
 */
async function syncContactStep(ctx: SyncContext, runId: string, contacts: readonly HubSpotContact[]): Promise<Required<StepCounts>> {
  const result = emptyStep(contacts.length);
  if (contacts.length === 0) return result;
  const lines = syncLogLines(ctx, { initialSyncRun: runId });
  const entry = lines.entry;

  // 1. Links: stored ones, then external ids (HubSpot_Contact_Id__c on the Lead, the Salesforce ids on the contact), then email.
  const pairs = await pairContacts(ctx, contacts);

  // 2. Opportunities of converted Leads: their stage is the Salesforce side's after conversion.
  const opportunityIds = pairs
    .map((p) => p.link.salesforceOpportunityId ?? recordText(p.lead, 'ConvertedOpportunityId'))
    .filter((id): id is string => id !== null);
  const opportunities = new Map(
    (await ctx.salesforce.readRecords('Opportunity', opportunityIds, OPPORTUNITY_SYNC_FIELDS)).map((o) => [o.Id, o]),
  );

  // 3. Decide per pair: link writes (ids on both sides) and stage moves (the side behind moves forward).
  const step: ContactStep = {
    ctx,
    runId,
    at: ctx.now(),
    result,
    entry,
    hubspotWrites: [],
    leadWrites: new Map(),
    stages: [],
    linkUpdates: [],
    leadStages: [],
    aligned: new Set(),
  };
  for (const pair of pairs) {
    planLinkWrites(step, pair);
    alignStages(step, pair, opportunities.get(pair.link.salesforceOpportunityId ?? recordText(pair.lead, 'ConvertedOpportunityId') ?? ''));
  }

  // 4. Unlinked contacts at or after the handoff stage: historical, not new handoffs (no Lead, no SLA clock).
  countUnmatchedHandoffs(step, contacts, new Set(pairs.map((p) => p.contact.id)));

  // 5. Writes: Salesforce first (the contact then carries ids that exist), HubSpot in batches of 100.
  const failedContacts = await writeLeadUpdates(step, pairs);
  await writeContactUpdates(step, failedContacts);
  result.stagesAligned = [...step.aligned].filter((id) => !failedContacts.has(id)).length;
  // Links are saved even when a write failed: the next run (or the live sync) finds the pair by them.
  await saveLinks(ctx.db, ctx.installationId, step.linkUpdates);
  await recordStageChanges(
    ctx.db,
    step.stages.filter((s) => !failedContacts.has(s.hubspotContactId)),
  );
  await writeSyncLog(ctx.db, lines.log);

  // 6. Attribution, through the backfill's own stamping (it reads the links saved above).
  const stamped = await stampContacts(ctx, runId, contacts);
  result.stampedContacts = stamped.stampedContacts;
  result.stampedLeads = stamped.stampedLeads;
  result.failed += stamped.failed;
  return result;
}

/** Pairs each contact with its Salesforce record: stored link, external ids, then email. */
async function pairContacts(ctx: SyncContext, contacts: readonly HubSpotContact[]): Promise<Pair[]> {
  const links = await linksByHubSpotIds(
    ctx.db,
    ctx.installationId,
    contacts.map((c) => c.id),
  );
  const unlinked = contacts.filter((c) => !links.has(c.id));
  const knownLeadIds = [...[...links.values()].map((l) => l.salesforceLeadId), ...unlinked.map(leadIdProperty)].filter(
    (id): id is string => id !== null && isSalesforceId(id),
  );
  const leadRows = await ctx.salesforce.leadsByIdOrHubSpotId(
    knownLeadIds,
    unlinked.map((c) => c.id),
    LEAD_FIELDS,
  );
  // A Salesforce record links to one contact: the first claim in this step wins, later ones fall back to email.
  const claimed = new Set<string>();
  const { pairs, byContactId, byEmail } = pairByLeadIds(contacts, links, leadRows, claimed);
  pairs.push(...(await pairByContactIdProperty(ctx, byContactId, claimed, byEmail)));
  if (byEmail.length > 0) pairs.push(...(await matchByEmail(ctx, byEmail, claimed)));
  return pairs;
}

/** The Lead id a contact's salesforce_lead_id property names, if any. */
function leadIdProperty(contact: HubSpotContact): string | null {
  return contact.properties.salesforce_lead_id ?? null;
}

/**
 * Pairs by stored link, then by a Lead's HubSpot_Contact_Id__c or the contact's salesforce_lead_id;
 * the rest go on to the contact's salesforce_contact_id or to email.
 */
function pairByLeadIds(
  contacts: readonly HubSpotContact[],
  links: ReadonlyMap<string, RecordLink>,
  leadRows: readonly SalesforceRecord[],
  claimed: Set<string>,
): { pairs: Pair[]; byContactId: { contact: HubSpotContact; id: string }[]; byEmail: HubSpotContact[] } {
  const leadsById = new Map(leadRows.map((lead) => [lead.Id, lead]));
  const leadByHubSpotId = new Map(
    leadRows.flatMap((lead) =>
      recordText(lead, 'HubSpot_Contact_Id__c') ? [[recordText(lead, 'HubSpot_Contact_Id__c') as string, lead] as const] : [],
    ),
  );
  const pairs: Pair[] = [];
  const byEmail: HubSpotContact[] = [];
  const byContactId: { contact: HubSpotContact; id: string }[] = [];
  for (const contact of contacts) {
    const link = links.get(contact.id);
    if (link) {
      pairs.push({ contact, link, lead: link.salesforceLeadId ? leadsById.get(link.salesforceLeadId) : undefined, matchedBy: 'link' });
      for (const id of [link.salesforceLeadId, link.salesforceContactId]) if (id) claimed.add(id);
      continue;
    }
    const external = leadByHubSpotId.get(contact.id);
    const named = leadsById.get(leadIdProperty(contact) ?? '');
    const lead =
      external ??
      (named && (recordText(named, 'HubSpot_Contact_Id__c') ?? contact.id) === contact.id && !claimed.has(named.Id) ? named : undefined);
    if (lead) {
      claimed.add(lead.Id);
      pairs.push({ contact, link: linkTo(contact, lead), lead, matchedBy: external ? 'lead_external_id' : 'lead_id_property' });
      continue;
    }
    const contactId = contact.properties.salesforce_contact_id;
    if (contactId && isSalesforceId(contactId)) byContactId.push({ contact, id: contactId });
    else if (contact.properties.email) byEmail.push(contact);
  }
  return { pairs, byContactId, byEmail };
}

/** A Contact named by the contact's salesforce_contact_id must exist; otherwise email decides (added to `byEmail`). */
async function pairByContactIdProperty(
  ctx: SyncContext,
  candidates: readonly { contact: HubSpotContact; id: string }[],
  claimed: Set<string>,
  byEmail: HubSpotContact[],
): Promise<Pair[]> {
  if (candidates.length === 0) return [];
  const existing = new Set(
    (
      await ctx.salesforce.readRecords(
        'Contact',
        candidates.map((c) => c.id),
        ['Id'],
      )
    ).map((r) => r.Id),
  );
  const pairs: Pair[] = [];
  for (const { contact, id } of candidates) {
    if (!existing.has(id) || claimed.has(id)) {
      if (contact.properties.email) byEmail.push(contact);
      continue;
    }
    claimed.add(id);
    pairs.push({
      contact,
      link: {
        hubspotContactId: contact.id,
        email: contact.properties.email ?? null,
        salesforceLeadId: null,
        salesforceContactId: id,
        salesforceOpportunityId: null,
      },
      lead: undefined,
      matchedBy: 'contact_id_property',
    });
  }
  return pairs;
}

/** A pair's link to save (new, or following a conversion) and the ids each side should carry of the other. */
function planLinkWrites(step: ContactStep, pair: Pair): void {
  const { contact, link, lead } = pair;
  if (pair.matchedBy !== 'link') {
    step.linkUpdates.push(link);
    step.result.linked += 1;
    step.entry(contactRef(contact.id), 'info', 'link_initial', `${MATCH_REASONS[pair.matchedBy]}: ${describeLink(link)}`, {
      matchedBy: pair.matchedBy,
      lead: link.salesforceLeadId,
      contact: link.salesforceContactId,
      opportunity: link.salesforceOpportunityId,
    });
  } else if (
    lead?.IsConverted === true &&
    (!link.salesforceContactId || !link.salesforceOpportunityId) &&
    (recordText(lead, 'ConvertedContactId') || recordText(lead, 'ConvertedOpportunityId'))
  ) {
    // Converted since the link was saved: the link follows to the Contact and Opportunity.
    step.linkUpdates.push({
      hubspotContactId: contact.id,
      email: null,
      salesforceLeadId: lead.Id,
      salesforceContactId: recordText(lead, 'ConvertedContactId'),
      salesforceOpportunityId: recordText(lead, 'ConvertedOpportunityId'),
    });
  }
  const ids: Record<string, string> = {};
  const leadId = link.salesforceLeadId ?? lead?.Id ?? null;
  const salesforceContactId = link.salesforceContactId ?? recordText(lead, 'ConvertedContactId');
  if (leadId && contact.properties.salesforce_lead_id !== leadId) ids.salesforce_lead_id = leadId;
  if (salesforceContactId && contact.properties.salesforce_contact_id !== salesforceContactId)
    ids.salesforce_contact_id = salesforceContactId;
  if (Object.keys(ids).length > 0) step.hubspotWrites.push({ id: contact.id, properties: ids });
  if (lead && lead.IsConverted !== true && recordText(lead, 'HubSpot_Contact_Id__c') !== contact.id)
    step.leadWrites.set(lead.Id, { Id: lead.Id, HubSpot_Contact_Id__c: contact.id });
}

/** Brings a pair's stages into agreement: the side that is behind moves forward. */
function alignStages(step: ContactStep, pair: Pair, opportunity: SalesforceRecord | undefined): void {
  const { contact, lead } = pair;
  const decision: StageAgreement = decideStageAgreement(step.ctx.dictionary, contact.properties, {
    lead: lead
      ? {
          object: 'Lead',
          Status: recordText(lead, 'Status') ?? '',
          IsConverted: lead.IsConverted === true,
          Feedback_Reason__c: recordText(lead, 'Feedback_Reason__c'),
          Lifecycle_Stage__c: recordText(lead, 'Lifecycle_Stage__c'),
        }
      : null,
    opportunity: opportunity
      ? {
          object: 'Opportunity',
          StageName: recordText(opportunity, 'StageName') ?? '',
          IsWon: opportunity.IsWon === true,
          IsClosed: opportunity.IsClosed === true,
        }
      : null,
  });
  if (lead) step.leadStages.push({ recordId: lead.Id, values: stageValues('Lead', lead) });
  if (opportunity) step.leadStages.push({ recordId: opportunity.Id, values: stageValues('Opportunity', opportunity) });
  switch (decision.action) {
    case 'none':
      break;
    case 'move_hubspot':
      step.hubspotWrites.push({ id: contact.id, properties: { ...decision.properties } });
      recordAlignment(step, contact.id, decision.stage, 'salesforce');
      step.entry(contactRef(contact.id), 'info', 'align_stage_hubspot', decision.reason, {
        properties: decision.properties,
        record: lead ? salesforceRef('Lead', lead.Id) : null,
      });
      break;
    case 'move_salesforce': {
      if (!lead) break;
      step.leadWrites.set(lead.Id, { ...(step.leadWrites.get(lead.Id) ?? { Id: lead.Id }), ...decision.fields });
      recordAlignment(step, contact.id, decision.stage, 'hubspot');
      step.entry(salesforceRef('Lead', lead.Id), 'info', 'align_stage_salesforce', decision.reason, {
        fields: decision.fields,
        contact: contact.id,
      });
      // The Lead's stage values after the write, remembered so its Outbound Message is known as the app's own.
      if (decision.fields.Status !== undefined)
        step.leadStages.push({ recordId: lead.Id, values: { Status: decision.fields.Status, IsConverted: 'false' } });
      break;
    }
    default:
      assertNever(decision);
  }
}

/** A stage row for an aligned pair, from the side whose stage the other took. */
function recordAlignment(step: ContactStep, contactId: string, stage: StageChange['stage'], source: StageChange['source']): void {
  step.stages.push({
    installationId: step.ctx.installationId,
    hubspotContactId: contactId,
    stage,
    source,
    occurredAt: step.at,
    details: { initialSyncRun: step.runId },
  });
  step.aligned.add(contactId);
}

/** Counts and logs the unlinked contacts at or past the handoff stage: historical, so no Lead and no SLA clock. */
function countUnmatchedHandoffs(step: ContactStep, contacts: readonly HubSpotContact[], linkedIds: ReadonlySet<string>): void {
  const handoffRank = compareStageRank(step.ctx.dictionary, step.ctx.dictionary.handoffStage, 'lead');
  for (const contact of contacts) {
    if (linkedIds.has(contact.id)) continue;
    const rank = hubspotFunnelRank(step.ctx.dictionary, contact.properties);
    if (rank === null || rank < handoffRank) continue;
    step.result.unmatched += 1;
    step.entry(
      contactRef(contact.id),
      'warn',
      'unmatched_initial',
      `lifecyclestage "${contact.properties.lifecyclestage ?? ''}" but no Salesforce Lead or Contact has this contact's id or email: historical, so no Lead is created and no SLA clock starts (a new handoff would)`,
    );
  }
}

/** Writes the Lead updates (stages remembered first); returns the contacts whose Lead refused its write. */
async function writeLeadUpdates(step: ContactStep, pairs: readonly Pair[]): Promise<Set<string>> {
  const leadRecords = [...step.leadWrites.values()];
  await rememberStages(step.ctx, step.leadStages);
  const leadOutcomes = await step.ctx.salesforce.updateRecords('Lead', leadRecords);
  const failedContacts = new Set<string>();
  for (const record of leadRecords) {
    const outcome = leadOutcomes.get(record.Id);
    if (outcome?.ok) continue;
    step.result.failed += 1;
    const owner = pairs.find((p) => p.lead?.Id === record.Id)?.contact.id;
    if (owner) failedContacts.add(owner);
    step.entry(
      salesforceRef('Lead', record.Id),
      'error',
      'initial_sync_failed',
      `Salesforce refused the Lead update: ${refusalOf(outcome)}`,
      { fields: Object.keys(record).filter((f) => f !== 'Id') },
    );
  }
  return failedContacts;
}

/** Writes the contact updates (remembered first as the app's own), adding the contacts that refused to `failedContacts`. */
async function writeContactUpdates(step: ContactStep, failedContacts: Set<string>): Promise<void> {
  const contactWrites = mergeWrites(step.hubspotWrites);
  if (contactWrites.length === 0) return;
  await step.ctx.ledger.remember(
    step.ctx.installationId,
    'hubspot',
    contactWrites.map((w) => ({ recordId: w.id, values: w.properties })),
  );
  for (const [id, outcome] of await step.ctx.hubspot.updateContacts(contactWrites)) {
    if (outcome.ok) continue;
    step.result.failed += 1;
    failedContacts.add(id);
    step.entry(contactRef(id), 'error', 'initial_sync_failed', `HubSpot did not take the update: ${refusalOf(outcome)}`, {
      code: outcome.code,
      fields: outcome.fields ?? [],
    });
  }
}

function linkTo(contact: HubSpotContact, lead: SalesforceRecord): RecordLink {
  const converted = lead.IsConverted === true;
  return {
    hubspotContactId: contact.id,
    email: contact.properties.email ?? recordText(lead, 'Email'),
    salesforceLeadId: lead.Id,
    salesforceContactId: converted ? recordText(lead, 'ConvertedContactId') : null,
    salesforceOpportunityId: converted ? recordText(lead, 'ConvertedOpportunityId') : null,
  };
}

function describeLink(link: RecordLink): string {
  return [
    link.salesforceLeadId ? `Lead ${link.salesforceLeadId}` : '',
    link.salesforceContactId ? `Contact ${link.salesforceContactId}` : '',
    link.salesforceOpportunityId ? `Opportunity ${link.salesforceOpportunityId}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * Matches contacts by email: an unconverted Lead first (one not claimed by another contact), then
 * a converted Lead (its Contact and Opportunity), then a Contact. Two queries per step.
 */
async function matchByEmail(ctx: SyncContext, contacts: readonly HubSpotContact[], claimed: Set<string>): Promise<Pair[]> {
  const emails = [...new Set(contacts.map((c) => (c.properties.email ?? '').trim().toLowerCase()).filter((e) => e !== ''))];
  if (emails.length === 0) return [];
  const { leads, contacts: salesforceContacts } = await ctx.salesforce.everyoneByEmail(emails, LEAD_FIELDS);
  // A Lead or Contact already linked to another contact is not taken again.
  const taken = await linksBySalesforceIds(ctx.db, ctx.installationId, [...leads.map((l) => l.Id), ...salesforceContacts.map((c) => c.Id)]);
  const emailOf = (record: SalesforceRecord) => (recordText(record, 'Email') ?? '').toLowerCase();
  const pairs: Pair[] = [];
  for (const contact of contacts) {
    const email = (contact.properties.email ?? '').trim().toLowerCase();
    const free = (record: SalesforceRecord) => {
      const owner = taken.get(record.Id)?.hubspotContactId ?? recordText(record, 'HubSpot_Contact_Id__c');
      return emailOf(record) === email && !claimed.has(record.Id) && (owner === null || owner === contact.id);
    };
    const open = leads.find((lead) => lead.IsConverted !== true && free(lead));
    const converted = open ? undefined : leads.find((lead) => lead.IsConverted === true && free(lead));
    if (open || converted) {
      const lead = (open ?? converted) as SalesforceRecord;
      claimed.add(lead.Id);
      pairs.push({ contact, link: linkTo(contact, lead), lead, matchedBy: open ? 'email_lead' : 'email_converted_lead' });
      continue;
    }
    const person = salesforceContacts.find(free);
    if (!person) continue;
    claimed.add(person.Id);
    pairs.push({
      contact,
      link: { hubspotContactId: contact.id, email, salesforceLeadId: null, salesforceContactId: person.Id, salesforceOpportunityId: null },
      lead: undefined,
      matchedBy: 'email_contact',
    });
  }
  return pairs;
}

/** One step of unconverted Leads no contact is linked to: counted unmatched (no contact created), stamped. */
async function syncLeadStep(ctx: SyncContext, runId: string, leads: readonly SalesforceRecord[]): Promise<Required<StepCounts>> {
  const result = emptyStep(leads.length);
  if (leads.length === 0) return result;
  const linked = await linksBySalesforceIds(
    ctx.db,
    ctx.installationId,
    leads.map((l) => l.Id),
  );
  const unmatched = leads.filter((lead) => !linked.has(lead.Id));
  result.unmatched = unmatched.length;
  await writeSyncLog(
    ctx.db,
    unmatched.map((lead) => ({
      installationId: ctx.installationId,
      recordRef: salesforceRef('Lead', lead.Id),
      level: 'info' as const,
      action: 'unmatched_initial',
      reason: `no HubSpot contact has this Lead's id or email${recordText(lead, 'Email') ? '' : ' (the Lead has no Email)'}: historical, so no HubSpot contact is created (HubSpot bills marketing contacts)`,
      details: { initialSyncRun: runId, status: recordText(lead, 'Status') },
      ...(ctx.job ? { jobQueue: ctx.job.queue, jobId: ctx.job.id } : {}),
    })),
  );
  // The attribution stamp remembers each Lead's stage, so its Outbound Message is the app's own.
  const stamped = await stampLeads(ctx, runId, unmatched);
  result.stampedContacts = stamped.stampedContacts;
  result.stampedLeads = stamped.stampedLeads;
  result.failed += stamped.failed;
  return result;
}

/**
 * Salesforce → HubSpot: Lead status, conversion and Opportunity stage move the HubSpot contact
 * through lifecyclestage / hs_lead_status per the stage dictionary, never backwards except by an
 * explicit rejected/recycled rule (cleared first, as HubSpot requires). Leads created in
 * Salesforce become HubSpot contacts. The current state is read from both CRMs at sync time, so
 * late or reordered notifications converge on the newest state.
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import { decideSalesforceToHubSpot, type SalesforceSnapshot } from '../domain/stages.ts';
import { linksBySalesforceIds, saveLinks, setAsideIds, type RecordLink } from '../store/record-links.ts';
import { recordStageChanges, writeSyncLog, type StageChange } from '../store/sync-log.ts';
import { leadEmailWrites, noteLinkEmails } from './email-identity.ts';
import { AttributionBatch } from './attribution.ts';
import {
  OPPORTUNITY_SYNC_FIELDS,
  contactRef,
  recordText,
  salesforceRef,
  stageValues,
  type LogLine,
  type SyncContext,
  syncLogLines,
} from './context.ts';
import { carryConsent } from './consent.ts';
import { prepareFeedback, type FeedbackBatch } from './feedback.ts';
import { opportunityReadFields, recordDeals } from './revenue.ts';
import { mergeWrites, rememberStages } from './handoff.ts';
import type { CurrencyRates } from '../domain/revenue.ts';
import { mappingsOn, type TypedMapping } from '../domain/field-values.ts';
import { isNoRuleMatch, SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { salesOwnerWrites } from './owners.ts';
import {
  contactReadProperties,
  contactRecordReadFields,
  contactValuesFor,
  leadReadFields,
  mappedChangeTimes,
  newContactValues,
  typedMappings,
} from './mapped-fields.ts';

export interface ProgressSummary {
  read: number;
  contactsUpdated: number;
  contactsCreated: number;
  refused: number;
  unchanged: number;
  failed: number;
}

/** `Lead:00Q…` / `Opportunity:006…` / `Contact:003…` keys of the pending set. */
export function parseRecordKey(key: string): { type: 'Lead' | 'Opportunity' | 'Contact'; id: string } | null {
  const [type, id] = key.split(':');
  return (type === 'Lead' || type === 'Opportunity' || type === 'Contact') && id ? { type, id } : null;
}

function snapshotOf(type: 'Lead' | 'Opportunity', record: SalesforceRecord): SalesforceSnapshot {
  return type === 'Lead'
    ? {
        object: 'Lead',
        Status: recordText(record, 'Status') ?? '',
        IsConverted: record.IsConverted === true,
        Feedback_Reason__c: recordText(record, 'Feedback_Reason__c'),
      }
    : {
        object: 'Opportunity',
        StageName: recordText(record, 'StageName') ?? '',
        IsWon: record.IsWon === true,
        IsClosed: record.IsClosed === true,
        Amount: typeof record.Amount === 'number' ? record.Amount : null,
        Loss_Reason__c: recordText(record, 'Loss_Reason__c'),
      };
}

/** A Salesforce record and the HubSpot contact it moves. */
interface Move {
  type: 'Lead' | 'Opportunity';
  record: SalesforceRecord;
  contactId: string;
}
interface ContactWrite {
  id: string;
  properties: Record<string, string>;
}

/** One run's Salesforce records, their links, and what it has decided and logged so far. */
interface ProgressRun {
  ctx: SyncContext;
  at: Date;
  summary: ProgressSummary;
  entry: LogLine;
  mappings: readonly TypedMapping[];
  leads: SalesforceRecord[];
  opportunities: SalesforceRecord[];
  /** Converted people's Salesforce Contacts, each with its link to a HubSpot contact. */
  personContacts: { record: SalesforceRecord; contactId: string; link: RecordLink }[];
  rates: CurrencyRates | null;
  /** Links by Salesforce id (Lead, Opportunity or Contact), extended as the run links more records. */
  links: Map<string, RecordLink>;
  linkUpdates: RecordLink[];
  stages: StageChange[];
}

/** Syncs the given Salesforce records (`Lead:id` / `Opportunity:id` / `Contact:id`) to HubSpot. */
export async function syncSalesforceToHubSpot(ctx: SyncContext, keys: readonly string[]): Promise<ProgressSummary> {
  const at = ctx.now();
  const { log, entry } = syncLogLines(ctx);
  // 1. Current Salesforce state, one query per type.
  const run = await readSalesforceState(ctx, at, keys, entry);
  // 2. Leads created in Salesforce become HubSpot contacts (sales-sourced), matched by email.
  await createContactsForNewLeads(run, await creatableLeads(run));
  // 3. Which contact each record moves; conversions extend the link to Contact and Opportunity.
  const moves = [...leadMoves(run), ...(await opportunityMoves(run))];
  // 4. Decide against the contact's current HubSpot state, Lead before Opportunity.
  const contacts = new Map(
    (
      await ctx.hubspot.readContacts(
        [...new Set([...moves.map((m) => m.contactId), ...run.personContacts.map((p) => p.contactId)])],
        contactReadProperties(ctx.fieldMappings),
      )
    ).map((c) => [c.id, c]),
  );
  const feedback = await prepareFeedback(ctx, moves, contacts);
  const { firstSteps, secondSteps, view } = decideMoves(run, moves, contacts, feedback);
  firstSteps.push(...(await recordValueWrites(run, moves, contacts)), ...(await personContactWrites(run, contacts)));
  // Prepared elsewhere in this batch (SLA first-touch stamps): they go out with the values.
  for (const write of ctx.hubspotWrites ?? [])
    (secondSteps.some((step) => step.id === write.id) ? secondSteps : firstSteps).push({
      id: write.id,
      properties: { ...write.properties },
    });
  // 5. Write in order: clears, then values (HubSpot applies a batch's inputs in no set order).
  const failedContacts = await writeContactSteps(run, [mergeWrites(firstSteps), mergeWrites(secondSteps)]);
  // A contact whose write failed (refused, or answered but not kept: WRITE_IGNORED) did not move.
  run.summary.contactsUpdated = [...view.keys()].filter((id) => !failedContacts.has(id)).length;
  await saveLinks(ctx.db, ctx.installationId, run.linkUpdates);
  await recordStageChanges(
    ctx.db,
    run.stages.filter((change) => !failedContacts.has(change.hubspotContactId)),
  );
  // 6. Every Opportunity read is a deal of the revenue loop, linked or not (renewals of a customer's Account).
  const contactOfOpportunity = new Map(
    run.opportunities.flatMap((o) => {
      const contact = run.links.get(o.Id)?.hubspotContactId;
      return contact === undefined ? [] : [[o.Id, contact] as const];
    }),
  );
  await recordDeals(ctx, run.opportunities, run.rates, contactOfOpportunity, entry);
  await writeSyncLog(ctx.db, log);
  await feedback.finish(failedContacts);
  // Email consent both ways (src/sync/consent.ts), on the records read above.
  await carryConsent(
    ctx,
    [...contacts.values()],
    [...run.links.values(), ...run.linkUpdates],
    new Map([...run.leads, ...run.personContacts.map((p) => p.record)].map((record) => [record.Id, record])),
  );
  return run.summary;
}

/** Reads the records behind the keys (and the Opportunities of converted Leads), remembers their stages, reads their links. */
async function readSalesforceState(ctx: SyncContext, at: Date, keys: readonly string[], entry: LogLine): Promise<ProgressRun> {
  const parsed = keys.map(parseRecordKey).filter((k): k is NonNullable<typeof k> => k !== null);
  // A Lead whose link a deletion or merge set aside (src/sync/deletions.ts) is left alone until a restore.
  const setAside = await setAsideIds(
    ctx.db,
    ctx.installationId,
    'salesforce',
    parsed.filter((k) => k.type === 'Lead').map((k) => k.id),
  );
  for (const id of setAside)
    entry(
      salesforceRef('Lead', id),
      'info',
      'skip_unlinked',
      'its link was set aside by a deletion or merge: not synced until the record is restored',
    );
  const leadIds = parsed.filter((k) => k.type === 'Lead' && !setAside.has(k.id)).map((k) => k.id);
  const opportunityIds = parsed.filter((k) => k.type === 'Opportunity').map((k) => k.id);
  const mappings = await typedMappings(ctx);
  const leads = await ctx.salesforce.readRecords('Lead', leadIds, leadReadFields(ctx.fieldMappings));
  // A converted Lead brings its Opportunity along: its current state is synced with the conversion,
  // so an Opportunity change that arrived before the conversion was linked is not left behind.
  const convertedInto = leads.flatMap((lead) => {
    const id = lead.IsConverted === true ? recordText(lead, 'ConvertedOpportunityId') : null;
    return id !== null && !opportunityIds.includes(id) ? [id] : [];
  });
  const wantedOpportunities = [...new Set([...opportunityIds, ...convertedInto])];
  const opportunityRead =
    wantedOpportunities.length === 0 ? { fields: [...OPPORTUNITY_SYNC_FIELDS], rates: null } : await opportunityReadFields(ctx.salesforce);
  const opportunities = await ctx.salesforce.readRecords('Opportunity', wantedOpportunities, opportunityRead.fields);
  const personContacts = await readPersonContacts(
    ctx,
    parsed.filter((k) => k.type === 'Contact').map((k) => k.id),
  );
  await rememberStages(ctx, [
    ...leads.map((lead) => ({ recordId: lead.Id, values: stageValues('Lead', lead) })),
    ...opportunities.map((opportunity) => ({ recordId: opportunity.Id, values: stageValues('Opportunity', opportunity) })),
  ]);
  const links = await linksBySalesforceIds(ctx.db, ctx.installationId, [...leads.map((l) => l.Id), ...opportunities.map((o) => o.Id)]);
  for (const { record, link } of personContacts) links.set(record.Id, link);
  await noteLinkEmails(
    ctx,
    'salesforce',
    leads.flatMap((lead) => {
      const link = links.get(lead.Id);
      return link && link.salesforceLeadId === lead.Id
        ? [{ hubspotContactId: link.hubspotContactId, email: recordText(lead, 'Email') }]
        : [];
    }),
  );
  const summary = {
    read: leads.length + opportunities.length + personContacts.length,
    contactsUpdated: 0,
    contactsCreated: 0,
    refused: 0,
    unchanged: 0,
    failed: 0,
  };
  return {
    ctx,
    at,
    summary,
    entry,
    mappings,
    leads,
    opportunities,
    personContacts,
    rates: opportunityRead.rates,
    links,
    linkUpdates: [],
    stages: [],
  };
}

/**
 * The Salesforce Contacts behind `Contact:` keys that carry a linked person (a converted Lead's, or
 * one a handoff linked by email), with their HubSpot contact. Any other Contact of the org is not
 * the app's: it is read no further.
 */
async function readPersonContacts(ctx: SyncContext, ids: readonly string[]): Promise<ProgressRun['personContacts']> {
  if (ids.length === 0) return [];
  const links = await linksBySalesforceIds(ctx.db, ctx.installationId, ids);
  const linked = ids.filter((id) => links.get(id)?.salesforceContactId === id);
  if (linked.length === 0) return [];
  const records = await ctx.salesforce.readRecords('Contact', linked, contactRecordReadFields(ctx.fieldMappings));
  return records.flatMap((record) => {
    const link = links.get(record.Id);
    return link === undefined ? [] : [{ record, contactId: link.hubspotContactId, link }];
  });
}

/** The contact values a converted person's Salesforce Contact carries: the mapped fields that follow it, by each mapping's rule. */
async function personContactWrites(run: ProgressRun, contacts: ReadonlyMap<string, HubSpotContact>): Promise<ContactWrite[]> {
  const onContact = mappingsOn(run.mappings, 'Contact');
  const pairs = run.personContacts.flatMap(({ record, contactId }) => {
    const contact = contacts.get(contactId);
    return contact === undefined ? [] : [{ contact, lead: record }];
  });
  if (onContact.length === 0 || pairs.length === 0) return [];
  const changeTimes = await mappedChangeTimes(run.ctx, onContact, pairs, 'Contact');
  // A rep's new Email on the Contact reaches the contact too, never as a second record.
  const emails = onContact.some((m) => m.hubspotProperty === 'email') ? await leadEmailWrites(run.ctx, pairs) : [];
  return [
    ...emails,
    ...pairs.flatMap(({ contact, lead: record }) => {
      const properties = contactValuesFor(
        onContact,
        record,
        contact,
        changeTimes.hubspot.get(contact.id),
        changeTimes.salesforce.get(record.Id),
      );
      if (Object.keys(properties).length === 0) return [];
      run.entry(
        contactRef(contact.id),
        'info',
        'update_mapped_fields',
        `mapped fields of Salesforce Contact ${record.Id}: ${Object.keys(properties).join(', ')}`,
        { record: salesforceRef('Contact', record.Id), fields: Object.keys(properties) },
      );
      return [{ id: contact.id, properties }];
    }),
  ];
}

/** The unlinked Leads that can become HubSpot contacts; one without an email waits for one. */
async function creatableLeads(run: ProgressRun): Promise<SalesforceRecord[]> {
  // Set aside again after the links were read: a merge clears a duplicate Lead's HubSpot id in
  // Salesforce, then sets its link aside; a Lead read between the two looked linked above and
  // unlinked here, and would come back as a new contact (chaos suite).
  const withoutLink = run.leads.filter((lead) => !run.links.get(lead.Id) && !recordText(lead, 'HubSpot_Contact_Id__c'));
  const setAsideSince = await setAsideIds(
    run.ctx.db,
    run.ctx.installationId,
    'salesforce',
    withoutLink.map((lead) => lead.Id),
  );
  const unlinked = withoutLink.filter((lead) => !setAsideSince.has(lead.Id));
  for (const lead of unlinked.filter((l) => !recordText(l, 'Email'))) {
    run.entry(
      salesforceRef('Lead', lead.Id),
      'warn',
      'skip_no_email',
      'Lead has no Email: HubSpot contacts are keyed by email, so it is not synced until it has one',
    );
  }
  return unlinked.filter((lead) => recordText(lead, 'Email'));
}

/** Creates (or matches by email) a HubSpot contact per Lead, links them and stamps the contact's id back on each Lead. */
async function createContactsForNewLeads(run: ProgressRun, creatable: readonly SalesforceRecord[]): Promise<void> {
  if (creatable.length === 0) return;
  // Attribution: sales-sourced unless the same email has a marketing history (or LeadSource names a channel).
  const attribution = await AttributionBatch.forSalesforceLeads(run.ctx, creatable);
  const outcomes = await run.ctx.hubspot.upsertContactsByEmail(
    creatable.map((lead) => ({
      email: recordText(lead, 'Email') ?? '',
      properties: Object.fromEntries([
        ...Object.entries(newContactValues(run.mappings, lead)),
        ['salesforce_lead_id', lead.Id],
        ...Object.entries(attribution.hubspotStamp(lead.Id)),
      ]),
    })),
  );
  const backfill: SalesforceRecord[] = [];
  for (const lead of creatable) {
    const outcome = outcomes.get((recordText(lead, 'Email') ?? '').toLowerCase());
    if (!outcome?.ok) {
      run.summary.failed += 1;
      run.entry(salesforceRef('Lead', lead.Id), 'error', 'create_contact_failed', `HubSpot refused the contact: ${refusalOf(outcome)}`);
      continue;
    }
    if (outcome.created) run.summary.contactsCreated += 1;
    const link: RecordLink = {
      hubspotContactId: outcome.id,
      email: recordText(lead, 'Email'),
      salesforceLeadId: lead.Id,
      salesforceContactId: null,
      salesforceOpportunityId: null,
    };
    run.links.set(lead.Id, link);
    run.linkUpdates.push(link);
    attribution.linkContact(lead.Id, outcome.id);
    backfill.push({ ...attribution.leadFields(lead.Id, lead), Id: lead.Id, HubSpot_Contact_Id__c: outcome.id });
    run.entry(
      salesforceRef('Lead', lead.Id),
      'info',
      outcome.created ? 'create_contact' : 'link_contact',
      `Lead created in Salesforce: ${outcome.created ? 'created' : 'matched by email to'} HubSpot contact ${outcome.id}`,
    );
  }
  const stamped = await run.ctx.salesforce.updateRecords('Lead', backfill);
  for (const [id, outcome] of stamped)
    if (!outcome.ok)
      run.entry(salesforceRef('Lead', id), 'error', 'stamp_failed', `Salesforce refused HubSpot_Contact_Id__c: ${refusalOf(outcome)}`);
  for (const record of backfill) if (stamped.get(record.Id)?.ok) attribution.leadWritten(record.Id, record.Id, record, true);
  await attribution.complete(run.entry);
}

/** The Leads that move a linked contact; a conversion extends the link to its Contact and Opportunity. */
function leadMoves(run: ProgressRun): Move[] {
  const moves: Move[] = [];
  for (const lead of run.leads) {
    const contactId = run.links.get(lead.Id)?.hubspotContactId ?? recordText(lead, 'HubSpot_Contact_Id__c');
    if (!contactId) continue;
    if (lead.IsConverted === true) {
      const converted: RecordLink = {
        hubspotContactId: contactId,
        email: null,
        salesforceLeadId: lead.Id,
        salesforceContactId: recordText(lead, 'ConvertedContactId'),
        salesforceOpportunityId: recordText(lead, 'ConvertedOpportunityId'),
      };
      run.linkUpdates.push(converted);
      if (converted.salesforceOpportunityId !== null && !run.links.has(converted.salesforceOpportunityId))
        run.links.set(converted.salesforceOpportunityId, converted);
    } else if (!run.links.get(lead.Id)) {
      run.linkUpdates.push({
        hubspotContactId: contactId,
        email: recordText(lead, 'Email'),
        salesforceLeadId: lead.Id,
        salesforceContactId: null,
        salesforceOpportunityId: null,
      });
    }
    moves.push({ type: 'Lead', record: lead, contactId });
  }
  return moves;
}

/**
 * Links each unlinked Opportunity to the contact of the Lead converted into it. An Opportunity can
 * arrive before the conversion of its Lead was synced (deliveries are not ordered): one query for the batch.
 */
async function linkOpportunitiesToConvertedLeads(run: ProgressRun): Promise<void> {
  const unlinkedOpportunities = run.opportunities.filter((o) => !run.links.get(o.Id)).map((o) => o.Id);
  const convertedFrom = await run.ctx.salesforce.leadsConvertedInto(unlinkedOpportunities);
  // Their Leads' links (a Lead converted before the app could stamp its HubSpot id has only the link).
  const convertedLinks = await linksBySalesforceIds(
    run.ctx.db,
    run.ctx.installationId,
    convertedFrom.map((lead) => lead.Id).filter((id) => !run.links.has(id)),
  );
  for (const lead of convertedFrom) {
    const opportunityId = recordText(lead, 'ConvertedOpportunityId');
    const contactId =
      run.links.get(lead.Id)?.hubspotContactId ??
      convertedLinks.get(lead.Id)?.hubspotContactId ??
      recordText(lead, 'HubSpot_Contact_Id__c');
    if (!opportunityId || !contactId) continue;
    const link: RecordLink = {
      hubspotContactId: contactId,
      email: recordText(lead, 'Email'),
      salesforceLeadId: lead.Id,
      salesforceContactId: recordText(lead, 'ConvertedContactId'),
      salesforceOpportunityId: opportunityId,
    };
    run.links.set(opportunityId, link);
    run.linkUpdates.push(link);
  }
}

/** The Opportunities that move a linked contact; an unlinked one moves none. */
async function opportunityMoves(run: ProgressRun): Promise<Move[]> {
  await linkOpportunitiesToConvertedLeads(run);
  const moves: Move[] = [];
  for (const opportunity of run.opportunities) {
    const contactId = run.links.get(opportunity.Id)?.hubspotContactId;
    if (!contactId) {
      run.entry(
        salesforceRef('Opportunity', opportunity.Id),
        'info',
        'skip_unlinked',
        'Opportunity is not linked to a synced contact (not converted from a synced Lead): it moves no contact stage (its deal is still recorded)',
      );
      continue;
    }
    moves.push({ type: 'Opportunity', record: opportunity, contactId });
  }
  return moves;
}

/**
 * The lifecycle (and feedback) writes of each move, Lead before Opportunity, each decided on the
 * contact as the earlier moves of the batch leave it (`view`).
 */
function decideMoves(
  run: ProgressRun,
  moves: Move[],
  contacts: ReadonlyMap<string, HubSpotContact>,
  feedback: FeedbackBatch,
): { firstSteps: ContactWrite[]; secondSteps: ContactWrite[]; view: Map<string, Record<string, string | null>> } {
  const firstSteps: ContactWrite[] = [];
  const secondSteps: ContactWrite[] = [];
  const view = new Map<string, Record<string, string | null>>();
  for (const move of moves.sort((a, b) => (a.type === b.type ? 0 : a.type === 'Lead' ? -1 : 1))) {
    const contact = contacts.get(move.contactId);
    const ref = salesforceRef(move.type, move.record.Id);
    if (!contact) {
      run.summary.failed += 1;
      run.entry(ref, 'warn', 'contact_missing', `HubSpot contact ${move.contactId} no longer exists`);
      continue;
    }
    const state = view.get(contact.id) ?? { ...contact.properties };
    const decision = decideSalesforceToHubSpot(run.ctx.dictionary, state, snapshotOf(move.type, move.record));
    // The sales feedback of the record rides on the same writes (two steps: clear, then set).
    const steps = feedback.stepsFor(move, decision, state);
    if (decision.action === 'none') logNoMove(run, ref, contact.id, decision.reason);
    if (decision.action === 'none' && steps.length === 0) continue;
    const [first, second] = steps;
    if (first) firstSteps.push({ id: contact.id, properties: { ...first } });
    if (first && second) secondSteps.push({ id: contact.id, properties: { ...second } });
    view.set(contact.id, { ...state, ...(second ?? first) });
    if (decision.action === 'none') continue;
    run.stages.push({
      installationId: run.ctx.installationId,
      hubspotContactId: contact.id,
      stage: decision.stage,
      source: 'salesforce',
      occurredAt: run.at,
      details: { record: ref },
    });
    run.entry(contactRef(contact.id), 'info', 'update_hubspot', decision.reason, { record: ref, steps: decision.steps });
  }
  return { firstSteps, secondSteps, view };
}

/** Counts and logs a record that moves no stage: refused, unchanged, or a state no stage row covers. */
function logNoMove(run: ProgressRun, ref: string, contactId: string, reason: string): void {
  const refused = reason.startsWith('refused');
  if (refused) run.summary.refused += 1;
  else run.summary.unchanged += 1;
  // A Salesforce state no stage row covers stops the record's stage sync: a warning the health page groups.
  const stop = isNoRuleMatch(reason);
  run.entry(ref, stop || refused ? 'warn' : 'info', stop ? SILENT_STOP_ACTIONS.noRuleMatches : refused ? 'refused' : 'no_change', reason, {
    contact: contactId,
  });
}

/** The contact values the records carry besides their stage: mapped fields, Email, Salesforce ids and owners. */
async function recordValueWrites(
  run: ProgressRun,
  moves: readonly Move[],
  contacts: ReadonlyMap<string, HubSpotContact>,
): Promise<ContactWrite[]> {
  const writes: ContactWrite[] = [];
  // A linked Lead's mapped fields go to its contact by each mapping's rule; its changed Email too,
  // never as a second record.
  const linkedLeads = moves.flatMap((m) => {
    const contact = contacts.get(m.contactId);
    return m.type === 'Lead' && m.record.IsConverted !== true && contact ? [{ lead: m.record, contact }] : [];
  });
  const changeTimes = await mappedChangeTimes(run.ctx, run.mappings, linkedLeads, 'Lead');
  for (const { lead, contact } of linkedLeads) {
    const values = contactValuesFor(run.mappings, lead, contact, changeTimes.hubspot.get(contact.id), changeTimes.salesforce.get(lead.Id));
    if (Object.keys(values).length === 0) continue;
    writes.push({ id: contact.id, properties: values });
    run.entry(
      contactRef(contact.id),
      'info',
      'update_mapped_fields',
      `mapped fields of Lead ${lead.Id}: ${Object.keys(values).join(', ')}`,
      {
        record: salesforceRef('Lead', lead.Id),
        fields: Object.keys(values),
      },
    );
  }
  writes.push(...(await leadEmailWrites(run.ctx, linkedLeads)));
  for (const link of run.linkUpdates) {
    const ids: Record<string, string> = {};
    if (link.salesforceContactId) ids.salesforce_contact_id = link.salesforceContactId;
    if (link.salesforceLeadId && contacts.get(link.hubspotContactId)?.properties.salesforce_lead_id !== link.salesforceLeadId)
      ids.salesforce_lead_id = link.salesforceLeadId;
    if (Object.keys(ids).length > 0 && contacts.has(link.hubspotContactId)) writes.push({ id: link.hubspotContactId, properties: ids });
  }
  // Owners (src/sync/owners.ts): each record's Salesforce owner, shown to marketing on the contact.
  const owned = moves.filter((move) => contacts.has(move.contactId));
  writes.push(
    ...(await salesOwnerWrites(
      run.ctx,
      owned.map((move) => ({
        contactId: move.contactId,
        recordRef: salesforceRef(move.type, move.record.Id),
        ownerId: recordText(move.record, 'OwnerId'),
        current: contacts.get(move.contactId)?.properties ?? {},
      })),
      run.entry,
    )),
  );
  return writes;
}

/** Writes the batches in order, each remembered first as the app's own values; returns the contacts a write failed for. */
async function writeContactSteps(run: ProgressRun, batches: readonly ContactWrite[][]): Promise<Set<string>> {
  const failedContacts = new Set<string>();
  for (const batch of batches) {
    if (batch.length === 0) continue;
    await run.ctx.ledger.remember(
      run.ctx.installationId,
      'hubspot',
      batch.map((w) => ({ recordId: w.id, values: w.properties })),
    );
    const outcomes = await run.ctx.hubspot.updateContacts(batch);
    for (const [id, outcome] of outcomes) {
      if (outcome.ok) continue;
      run.summary.failed += 1;
      failedContacts.add(id);
      run.entry(contactRef(id), 'error', 'update_hubspot_failed', `HubSpot did not take the update: ${refusalOf(outcome)}`, {
        code: outcome.code,
        fields: outcome.fields ?? [],
      });
    }
  }
  return failedContacts;
}

/**
 * HubSpot → Salesforce: contacts whose stage says "hand off to sales" become Salesforce Leads,
 * upserted by HubSpot_Contact_Id__c (so racing events never make two), linked to an existing Lead
 * or Contact with the same email instead of duplicating it, and stamped back on the contact.
 * Reads and writes go out in batches: one HubSpot read per 100 contacts, one Collections call
 * per 200 Leads.
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord, type WriteOutcome } from '../crm/ports.ts';
import { BACKWARD_RULE_STAGES, decideHubSpotToSalesforce, findStageForSalesforce, type SalesforceDecision } from '../domain/stages.ts';
import { linksByHubSpotIds, saveLinks, setAsideIds, type RecordLink } from '../store/record-links.ts';
import { latestStages, recordStageChanges, writeSyncLog, type StageChange } from '../store/sync-log.ts';
import { AttributionBatch } from './attribution.ts';
import { carryConsent } from './consent.ts';
import { noteLinkEmails } from './email-identity.ts';
import { contactRef, recordText, type LogLine, type SyncContext, syncLogLines } from './context.ts';
import {
  REQUIRED_PLACEHOLDER,
  contactReadProperties,
  contactRecordReadFields,
  leadReadFields,
  leadValuesFor,
  mappedChangeTimes,
  type MappedChangeTimes,
  typedMappings,
} from './mapped-fields.ts';
import { mappingsOn, type TypedMapping } from '../domain/field-values.ts';
import { isNoRuleMatch, SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { HandoffOwners } from './owners.ts';
import { applyMergesFoundInSync, settleLateLinksOfMergedContacts } from './merges.ts';

export interface HandoffSummary {
  /** Contacts handed to sales in this run, with the SLA due time already stamped on both sides, if it was. */
  handoffs: { contactId: string; leadId: string; at: Date; stampedDueAt?: Date }[];
  read: number;
  created: number;
  updated: number;
  linked: number;
  unchanged: number;
  failed: number;
}

/** A Lead to upsert or update for a contact, keyed by the contact's HubSpot id. */
type LeadUpsert = Record<string, unknown> & { HubSpot_Contact_Id__c: string };
type LeadDecision = Extract<SalesforceDecision, { action: 'upsert_lead' }>;
/** A linked Lead to bring up to date; `decision` null: its mapped fields only, not its stage. */
interface LeadUpdatePlan {
  contact: HubSpotContact;
  leadId: string;
  decision: LeadDecision | null;
}
interface HubSpotWrite {
  id: string;
  properties: Record<string, string>;
}

/** One run's records on both sides and what it has decided and logged so far. */
interface HandoffRun {
  ctx: SyncContext;
  at: Date;
  summary: HandoffSummary;
  entry: LogLine;
  mappings: readonly TypedMapping[];
  contactProperties: string[];
  contacts: HubSpotContact[];
  links: Map<string, RecordLink>;
  leads: Map<string, SalesforceRecord>;
  /** The Salesforce Contacts of converted (or Contact-linked) contacts, by Salesforce id, when a mapping follows the Contact. */
  salesforceContacts: Map<string, SalesforceRecord>;
  /** When the timed mapped fields of a contact whose values differ from its (unconverted) Lead's last changed on each side. */
  changeTimes: MappedChangeTimes;
  /** The latest recorded stage of each contact whose Lead sales closed. */
  latestStage: Map<string, string>;
  attribution: AttributionBatch;
  owners: HandoffOwners;
  linkUpdates: RecordLink[];
  stages: StageChange[];
  hubspotWrites: HubSpotWrite[];
  /** Contacts whose upsert is their handoff to sales (not a Lead sales already works). */
  handedOff: Set<string>;
}

/** Syncs the given HubSpot contacts to Salesforce. */
export async function syncContactsToSalesforce(ctx: SyncContext, contactIds: readonly string[]): Promise<HandoffSummary> {
  const at = ctx.now();
  const { log, entry } = syncLogLines(ctx);
  // 1. Current state on both sides, in batches.
  const run = await readHandoffRun(ctx, at, contactIds, entry);
  // 2. Decide per contact; a reopening of a Lead sales closed is confirmed by a fresh read.
  const { toCreate, toUpdate } = decideContacts(run);
  await confirmReopenings(run, toUpdate);
  // 3. New Leads, or links to the records that already have the contact's email.
  const upserts = planCreates(run, toCreate, await findExistingForCreates(run, toCreate));
  // 4. Writes: new Leads by upsert (assignment rules pick the owner); linked Leads by Id.
  const creates = upserts.filter((u) => typeof u.Id !== 'string');
  const updates: SalesforceRecord[] = [
    ...upserts.filter((u) => typeof u.Id === 'string').map(({ Id, ...rest }) => ({ Id: String(Id), ...rest })),
    ...leadUpdates(run, toUpdate),
  ];
  const { createOutcomes, updateOutcomes } = await writeLeads(run, creates, updates);
  // 5. Outcomes: links, stage history, failures in the sync log.
  const createdLeads = recordCreateOutcomes(run, creates, createOutcomes);
  recordUpdateOutcomes(run, updates, updateOutcomes);
  await writeConvertedContactFields(run);
  for (const link of run.linkUpdates) {
    if (link.salesforceContactId)
      run.hubspotWrites.push({ id: link.hubspotContactId, properties: { salesforce_contact_id: link.salesforceContactId } });
  }
  for (const contact of run.contacts) run.hubspotWrites.push({ id: contact.id, properties: run.attribution.hubspotChanges(contact.id) });
  run.hubspotWrites.push(...(await run.owners.salesOwnerStamps(createdLeads, entry)));
  // 6. Stamp the Salesforce ids back on the contacts (one batch), remembering our own values.
  await stampContacts(run);
  const salesforceContacts = [...run.links.values(), ...run.linkUpdates].flatMap((l) =>
    l.salesforceContactId ? [[l.hubspotContactId, l.salesforceContactId] as const] : [],
  );
  await run.attribution.complete(entry, new Map(salesforceContacts));
  await saveLinks(ctx.db, ctx.installationId, run.linkUpdates);
  await settleLateLinksOfMergedContacts(
    { ...ctx, markPending: async () => undefined },
    run.linkUpdates.map((l) => l.hubspotContactId),
  );
  await recordStageChanges(ctx.db, run.stages);
  await writeSyncLog(ctx.db, log);
  // Email consent both ways (src/sync/consent.ts), on the records read above.
  await carryConsent(ctx, run.contacts, [...run.links.values(), ...run.linkUpdates], new Map([...run.leads, ...run.salesforceContacts]));
  return run.summary;
}

/**
 * The contacts to sync, read in batches. A contact whose link a deletion or merge set aside
 * (src/sync/deletions.ts) is left alone until a restore: no second Lead for it.
 */
async function readHandoffContacts(
  ctx: SyncContext,
  contactIds: readonly string[],
  contactProperties: string[],
  entry: LogLine,
): Promise<HubSpotContact[]> {
  const setAside = await setAsideIds(ctx.db, ctx.installationId, 'hubspot', contactIds);
  for (const id of setAside)
    entry(
      contactRef(id),
      'info',
      'skip_unlinked',
      'its link was set aside by a deletion or merge: not synced until the record is restored',
    );
  const read = await ctx.hubspot.readContacts(
    contactIds.filter((id) => !setAside.has(id)),
    contactProperties,
  );
  // A merged-away id reads the merge's survivor under the survivor's id: each contact once.
  const contacts = read.filter((c, i) => !setAside.has(c.id) && read.findIndex((o) => o.id === c.id) === i);
  // A merge's survivor read before its merge event was applied: the merge goes first, so the
  // survivor takes the merged contacts' Lead instead of getting a second one.
  await applyMergesFoundInSync(
    { ...ctx, markPending: async () => undefined },
    contacts.filter((c) => c.properties.hs_merged_object_ids),
  );
  return contacts;
}

/** Reads the contacts, their links and linked Leads, and what rides on the writes (attribution, owners). */
async function readHandoffRun(ctx: SyncContext, at: Date, contactIds: readonly string[], entry: LogLine): Promise<HandoffRun> {
  const mappings = await typedMappings(ctx);
  const contactProperties = contactReadProperties(ctx.fieldMappings);
  const contacts = await readHandoffContacts(ctx, contactIds, contactProperties, entry);
  const links = await linksByHubSpotIds(
    ctx.db,
    ctx.installationId,
    contacts.map((c) => c.id),
  );
  await noteLinkEmails(
    ctx,
    'hubspot',
    contacts.filter((c) => links.has(c.id)).map((c) => ({ hubspotContactId: c.id, email: c.properties.email ?? null })),
  );
  const linkedLeadIds = [...links.values()].map((l) => l.salesforceLeadId).filter((id): id is string => id !== null);
  const leads = new Map(
    (await ctx.salesforce.readRecords('Lead', linkedLeadIds, leadReadFields(ctx.fieldMappings))).map((lead) => [lead.Id, lead]),
  );
  // The person's Contact once the Lead is converted: the mappings that follow it are written there.
  const personContactIds = contacts.flatMap((c) => personContactId(links.get(c.id), leads) ?? []);
  const salesforceContacts = new Map(
    mappingsOn(mappings, 'Contact').length === 0
      ? []
      : (await ctx.salesforce.readRecords('Contact', personContactIds, contactRecordReadFields(ctx.fieldMappings))).map((r) => [r.Id, r]),
  );
  // (The stages read here are not remembered: this run does not bring them to HubSpot, so a rep's
  // change riding along with the app's next write to the Lead must not look like an echo — chaos suite.)
  // Attribution stamps (src/sync/attribution.ts) ride on the writes below.
  const attribution = await AttributionBatch.forContacts(ctx, contacts, (id) => leads.get(links.get(id)?.salesforceLeadId ?? ''));
  // Owners (src/sync/owners.ts): the new Lead's owner and the marketing owner ride on the writes below.
  const owners = await HandoffOwners.forContacts(ctx, contacts);
  const latestStage = await latestStages(
    ctx.db,
    ctx.installationId,
    contacts.filter((c) => closedBySales(ctx, leads.get(links.get(c.id)?.salesforceLeadId ?? ''))).map((c) => c.id),
  );
  // A converted Lead takes no writes: its mapped fields are weighed on its Contact (writeConvertedContactFields).
  const pairs = contacts.flatMap((contact) => {
    const lead = leads.get(links.get(contact.id)?.salesforceLeadId ?? '');
    return lead?.IsConverted === true ? [] : [{ contact, lead }];
  });
  const changeTimes = await mappedChangeTimes(ctx, mappings, pairs, 'Lead');
  return {
    ctx,
    at,
    summary: { handoffs: [], read: contacts.length, created: 0, updated: 0, linked: 0, unchanged: 0, failed: 0 },
    entry,
    mappings,
    contactProperties,
    contacts,
    links,
    leads,
    salesforceContacts,
    changeTimes,
    latestStage,
    attribution,
    owners,
    linkUpdates: [],
    stages: [],
    hubspotWrites: [],
    handedOff: new Set(),
  };
}

/** The Salesforce Contact that carries a linked person: the linked one, or the one its Lead was converted into. */
function personContactId(link: RecordLink | undefined, leads: ReadonlyMap<string, SalesforceRecord>): string | null {
  if (link?.salesforceContactId) return link.salesforceContactId;
  const lead = link?.salesforceLeadId ? leads.get(link.salesforceLeadId) : undefined;
  return lead?.IsConverted === true ? recordText(lead, 'ConvertedContactId') : null;
}

/**
 * The mapped fields of the converted people's Salesforce Contacts, by each mapping's rule (a
 * converted Lead is read-only to the API, so the Contact carries the person's values from then on).
 */
async function writeConvertedContactFields(run: HandoffRun): Promise<void> {
  const onContact = mappingsOn(run.mappings, 'Contact');
  const pairs = run.contacts.flatMap((contact) => {
    const id = personContactId(run.links.get(contact.id), run.leads);
    const record = id === null ? undefined : run.salesforceContacts.get(id);
    return record === undefined ? [] : [{ contact, lead: record }];
  });
  if (onContact.length === 0 || pairs.length === 0) return;
  const changeTimes = await mappedChangeTimes(run.ctx, onContact, pairs, 'Contact');
  const writes = pairs.flatMap(({ contact, lead: record }) => {
    const values = leadValuesFor(
      onContact,
      contact,
      record,
      run.ctx.feedback?.integrationUserId,
      changeTimes.hubspot.get(contact.id),
      changeTimes.salesforce.get(record.Id),
    );
    return Object.keys(values).length === 0 ? [] : [{ contactId: contact.id, record: { Id: record.Id, ...values } }];
  });
  if (writes.length === 0) return;
  const outcomes = await run.ctx.salesforce.updateRecords(
    'Contact',
    writes.map((w) => w.record),
  );
  for (const { contactId, record } of writes) {
    const outcome = outcomes.get(record.Id);
    const fields = Object.keys(record).filter((f) => f !== 'Id');
    if (outcome?.ok)
      run.entry(
        contactRef(contactId),
        'info',
        'update_contact_record',
        `mapped fields of Salesforce Contact ${record.Id}: ${fields.join(', ')}`,
        {
          fields,
        },
      );
    else
      run.entry(
        contactRef(contactId),
        'error',
        'update_contact_record_failed',
        `Salesforce refused the Contact ${record.Id}: ${refusalOf(outcome)}`,
        {
          fields,
        },
      );
  }
}

/** Whether sales closed the (unconverted) Lead: its status maps to a stage that moves the contact back. */
function closedBySales(ctx: SyncContext, lead: SalesforceRecord | undefined): boolean {
  const stage =
    lead && lead.IsConverted !== true
      ? findStageForSalesforce(ctx.dictionary, {
          object: 'Lead',
          Status: recordText(lead, 'Status') ?? '',
          IsConverted: false,
          Feedback_Reason__c: recordText(lead, 'Feedback_Reason__c'),
        })
      : null;
  return stage !== null && BACKWARD_RULE_STAGES.includes(stage);
}

/** The linked Lead of a contact, as read at the start of the run. */
function linkedLead(run: HandoffRun, contactId: string): SalesforceRecord | undefined {
  const link = run.links.get(contactId);
  return link?.salesforceLeadId ? run.leads.get(link.salesforceLeadId) : undefined;
}

/** What the contact's stage asks of Salesforce, given its link and linked Lead. */
function decideContact(run: HandoffRun, contact: HubSpotContact): SalesforceDecision {
  const link = run.links.get(contact.id);
  const lead = linkedLead(run, contact.id);
  return decideHubSpotToSalesforce(run.ctx.dictionary, contact.properties, {
    leadId: link?.salesforceLeadId ?? null,
    contactId: link?.salesforceContactId ?? recordText(lead, 'ConvertedContactId'),
    leadStatus: recordText(lead, 'Status'),
    leadFeedbackReason: recordText(lead, 'Feedback_Reason__c'),
  });
}

/** Sorts the contacts into Leads to create and linked Leads to update; the rest are logged unchanged. */
function decideContacts(run: HandoffRun): { toCreate: HubSpotContact[]; toUpdate: LeadUpdatePlan[] } {
  const toCreate: HubSpotContact[] = [];
  const toUpdate: LeadUpdatePlan[] = [];
  for (const contact of run.contacts) {
    const link = run.links.get(contact.id);
    const lead = linkedLead(run, contact.id);
    if (lead && lead.IsConverted === true && !link?.salesforceContactId) {
      run.linkUpdates.push({
        hubspotContactId: contact.id,
        email: null,
        salesforceLeadId: lead.Id,
        salesforceContactId: recordText(lead, 'ConvertedContactId'),
        salesforceOpportunityId: recordText(lead, 'ConvertedOpportunityId'),
      });
    }
    const decision = decideContact(run, contact);
    if (decision.action === 'upsert_lead' && decision.leadId === null) toCreate.push(contact);
    else if (link?.salesforceLeadId && lead && lead.IsConverted !== true)
      toUpdate.push(planLeadUpdate(run, contact, link.salesforceLeadId, decision));
    else {
      run.summary.unchanged += 1;
      run.entry(contactRef(contact.id), 'info', 'no_change', decision.reason);
    }
  }
  return { toCreate, toUpdate };
}

/** The update of a linked, unconverted Lead: its stage only when the contact's stage is newer news than sales' close. */
function planLeadUpdate(run: HandoffRun, contact: HubSpotContact, leadId: string, decision: SalesforceDecision): LeadUpdatePlan {
  // Sales closed the Lead (rejected/recycled) and HubSpot has not heard of it yet (the contact's latest
  // stage is still an earlier one, or none was recorded: the handoff run that made the Lead stopped
  // before it could): the contact's stage is older news and does not reopen it. Marketing
  // re-qualifying a recycled contact comes after the recycle's own stage row (chaos suite).
  const latest = run.latestStage.get(contact.id);
  const stale = closedBySales(run.ctx, run.leads.get(leadId)) && !(latest !== undefined && BACKWARD_RULE_STAGES.includes(latest));
  // A linked Lead whose contact no stage row covers stops following it: a warning, not a quiet no-op.
  if (decision.action === 'none')
    run.entry(
      contactRef(contact.id),
      isNoRuleMatch(decision.reason) ? 'warn' : 'info',
      isNoRuleMatch(decision.reason) ? SILENT_STOP_ACTIONS.noRuleMatches : 'no_stage_change',
      decision.reason,
    );
  else if (stale) {
    run.entry(
      contactRef(contact.id),
      'info',
      'no_stage_change',
      `${decision.reason}: not applied, sales closed the Lead after the contact's ${latest === undefined ? 'handoff' : `stage "${latest}"`} and HubSpot has not heard of it yet`,
    );
  }
  return { contact, leadId, decision: decision.action === 'upsert_lead' && !stale ? decision : null };
}

/**
 * Reopening a Lead sales closed is confirmed by a fresh read first. The contact was read before
 * the recycle's stage row was looked up; an answer that arrived late can predate the app's own
 * write of that recycle to HubSpot, and its old MQL would look like marketing re-qualifying the
 * contact after it. A read issued now comes after that write (chaos suite).
 */
async function confirmReopenings(run: HandoffRun, toUpdate: LeadUpdatePlan[]): Promise<void> {
  const reopening = toUpdate.filter((u) => u.decision !== null && closedBySales(run.ctx, run.leads.get(u.leadId)));
  if (reopening.length === 0) return;
  const fresh = new Map(
    (
      await run.ctx.hubspot.readContacts(
        reopening.map((u) => u.contact.id),
        run.contactProperties,
      )
    ).map((c) => [c.id, c]),
  );
  for (const update of reopening) {
    const now = fresh.get(update.contact.id);
    const again = now ? decideContact(run, now) : null;
    if (now && again?.action === 'upsert_lead' && again.status === update.decision?.status) {
      update.contact = now;
      continue;
    }
    update.decision = null;
    run.entry(
      contactRef(update.contact.id),
      'info',
      'no_stage_change',
      `read again before reopening the Lead sales closed, the contact is at "${now?.properties.lifecyclestage ?? 'unknown'}": the first answer predated the recycle, the Lead stays closed`,
    );
  }
}

/** Salesforce records that already have a new handoff's email, or were made for the contact by an earlier run. */
interface ExistingRecords {
  leadByEmail: Map<string, SalesforceRecord>;
  contactByEmail: Map<string, SalesforceRecord>;
  ownByHubSpotId: Map<string, SalesforceRecord>;
}

/**
 * A handoff whose email already exists in Salesforce links to that record instead of duplicating it.
 * A Lead an earlier run made for the contact and stopped before linking is found by the contact's
 * id, in the same query (its email may have changed since, so the email alone misses it — chaos suite).
 */
async function findExistingForCreates(run: HandoffRun, toCreate: readonly HubSpotContact[]): Promise<ExistingRecords> {
  const createEmails = toCreate.map((c) => c.properties.email?.toLowerCase()).filter((e): e is string => Boolean(e));
  const existing =
    toCreate.length > 0
      ? await run.ctx.salesforce.findByEmail(createEmails, {
          hubspotContactIds: toCreate.map((c) => c.id),
          leadFields: leadReadFields(run.ctx.fieldMappings),
        })
      : { leads: [], contacts: [] };
  return {
    leadByEmail: new Map(
      existing.leads.filter((l) => recordText(l, 'Email')).map((l) => [(recordText(l, 'Email') ?? '').toLowerCase(), l]),
    ),
    contactByEmail: new Map(existing.contacts.map((c) => [(recordText(c, 'Email') ?? '').toLowerCase(), c])),
    ownByHubSpotId: new Map(
      existing.leads.flatMap((lead) => {
        const named = recordText(lead, 'HubSpot_Contact_Id__c');
        return named === null ? [] : [[named, lead] as const];
      }),
    ),
  };
}

/** The Lead writes for contacts with no linked Lead: links to same-email records, or new (or own) Leads. */
function planCreates(run: HandoffRun, toCreate: readonly HubSpotContact[], existing: ExistingRecords): LeadUpsert[] {
  const upserts: LeadUpsert[] = [];
  for (const contact of toCreate) {
    const decision = decideHubSpotToSalesforce(run.ctx.dictionary, contact.properties, {});
    if (decision.action !== 'upsert_lead') continue;
    const email = contact.properties.email?.toLowerCase() ?? '';
    const sameEmailContact = email ? existing.contactByEmail.get(email) : undefined;
    const sameEmailLead = email ? existing.leadByEmail.get(email) : undefined;
    // Already this contact's Lead: an earlier run created it and stopped before saving the link.
    const own = existing.ownByHubSpotId.get(contact.id);
    if (sameEmailContact && !own) linkToSameEmailContact(run, contact.id, email, sameEmailContact, decision);
    else if (sameEmailLead && !own) upserts.push(linkToSameEmailLead(run, contact.id, email, sameEmailLead, decision));
    else upserts.push(planOwnLead(run, contact, email, own, decision));
  }
  return upserts;
}

/** Links the contact to the Salesforce Contact that has its email: no Lead is created. */
function linkToSameEmailContact(
  run: HandoffRun,
  contactId: string,
  email: string,
  sameEmailContact: SalesforceRecord,
  decision: LeadDecision,
): void {
  run.linkUpdates.push({
    hubspotContactId: contactId,
    email,
    salesforceLeadId: null,
    salesforceContactId: sameEmailContact.Id,
    salesforceOpportunityId: null,
  });
  run.summary.linked += 1;
  run.entry(
    contactRef(contactId),
    'info',
    'link_existing_contact',
    `${decision.reason}; Salesforce Contact ${sameEmailContact.Id} already has ${email}: linked to it, no Lead created`,
  );
}

/** Links the contact to the Lead that has its email, stamping its stage and attribution on it. */
function linkToSameEmailLead(
  run: HandoffRun,
  contactId: string,
  email: string,
  sameEmailLead: SalesforceRecord,
  decision: LeadDecision,
): LeadUpsert {
  run.linkUpdates.push({
    hubspotContactId: contactId,
    email,
    salesforceLeadId: sameEmailLead.Id,
    salesforceContactId: null,
    salesforceOpportunityId: null,
  });
  run.summary.linked += 1;
  run.entry(
    contactRef(contactId),
    'info',
    'link_existing_lead',
    `${decision.reason}; Salesforce Lead ${sameEmailLead.Id} already has ${email}: linked to it instead of creating a second Lead`,
  );
  return {
    ...run.attribution.leadFields(contactId, sameEmailLead),
    Id: sameEmailLead.Id,
    HubSpot_Contact_Id__c: contactId,
    Lifecycle_Stage__c: decision.stage,
  };
}

/** A new Lead for the contact, or the update of the Lead an earlier run made for it (`own`). */
function planOwnLead(
  run: HandoffRun,
  contact: HubSpotContact,
  email: string,
  own: SalesforceRecord | undefined,
  decision: LeadDecision,
): LeadUpsert {
  // The own Lead has its Status already, and a rep may set another one between our read and our
  // write: the update never sends Status then, and its mapped fields follow their rules. Still
  // untouched, the handoff counts (stage row, SLA clock); worked by sales since, it does not.
  const fields = leadValuesFor(
    run.mappings,
    contact,
    own,
    run.ctx.feedback?.integrationUserId,
    run.changeTimes.hubspot.get(contact.id),
    own ? run.changeTimes.salesforce.get(own.Id) : undefined,
  );
  if (!own || recordText(own, 'Status') === decision.status) run.handedOff.add(contact.id);
  if (own)
    run.linkUpdates.push({
      hubspotContactId: contact.id,
      email,
      salesforceLeadId: own.Id,
      salesforceContactId: null,
      salesforceOpportunityId: null,
    });
  const upsert: LeadUpsert = {
    ...fields,
    ...(own ? run.owners.marketingOwnerChange(contact, own) : run.owners.newLeadFields(contact, run.entry)),
    ...run.attribution.leadFields(contact.id, own),
    // The app's own Lead is updated by Id, not upserted: an upsert would run the assignment rules
    // again and take the Lead from the rep it was given to.
    ...(own ? { Id: own.Id } : {}),
    HubSpot_Contact_Id__c: contact.id,
    // Salesforce requires both on a new Lead; the own Lead has them.
    ...(own ? {} : { LastName: fields.LastName ?? REQUIRED_PLACEHOLDER, Company: fields.Company ?? REQUIRED_PLACEHOLDER }),
    Lifecycle_Stage__c: decision.stage,
    ...(own ? {} : { Status: decision.status }),
    ...(run.handedOff.has(contact.id) ? slaStamp(run, decision.stage) : {}),
  };
  run.entry(contactRef(contact.id), 'info', decision.handoff ? 'handoff' : 'create_lead', decision.reason, { fields: Object.keys(fields) });
  return upsert;
}

/** The SLA `pending` stamp rides on the handoff's own writes when its due time is known up front. */
function slaStamp(run: HandoffRun, stage: string): Record<string, string> {
  const dueAt = run.ctx.slaDueAt?.(run.at) ?? null;
  return dueAt !== null && stage === run.ctx.dictionary.handoffStage
    ? { SLA_Status__c: 'pending', SLA_Due_At__c: dueAt.toISOString() }
    : {};
}

/** The changes to send to each linked Lead; a Lead with none counts as unchanged. */
function leadUpdates(run: HandoffRun, toUpdate: readonly LeadUpdatePlan[]): SalesforceRecord[] {
  return toUpdate.flatMap(({ contact, leadId, decision }) => {
    const lead = run.leads.get(leadId);
    // Mapped values come compared already (in the kinds of both ends); the app's own fields are compared here.
    const own = {
      ...run.owners.marketingOwnerChange(contact, lead),
      ...(decision ? { Status: decision.status, Lifecycle_Stage__c: decision.stage } : {}),
    };
    const changes = {
      ...leadValuesFor(
        run.mappings,
        contact,
        lead,
        run.ctx.feedback?.integrationUserId,
        run.changeTimes.hubspot.get(contact.id),
        run.changeTimes.salesforce.get(leadId),
      ),
      ...Object.fromEntries(Object.entries(own).filter(([field, value]) => recordText(lead, field) !== value)),
    };
    const stamp = run.attribution.leadFields(contact.id, lead);
    if (Object.keys(changes).length === 0 && Object.keys(stamp).length === 0) {
      run.summary.unchanged += 1;
      return [];
    }
    if (Object.keys(changes).length > 0)
      run.entry(
        contactRef(contact.id),
        'info',
        'update_lead',
        decision?.reason ?? `mapped fields changed: ${Object.keys(changes).join(', ')}`,
        {
          fields: Object.keys(changes),
        },
      );
    return [{ Id: leadId, ...changes, ...stamp }];
  });
}

/** Sends the Lead writes, each preceded by the stages it carries (their echoes can come back before the call returns). */
async function writeLeads(
  run: HandoffRun,
  creates: LeadUpsert[],
  updates: SalesforceRecord[],
): Promise<{ createOutcomes: Map<string, WriteOutcome>; updateOutcomes: Map<string, WriteOutcome> }> {
  // New Leads are remembered by their HubSpot id, the only key known before the upsert.
  await rememberStages(
    run.ctx,
    creates
      .filter((lead) => typeof lead.Status === 'string')
      .map((lead) => ({ recordId: `hs:${lead.HubSpot_Contact_Id__c}`, values: { Status: String(lead.Status), IsConverted: 'false' } })),
  );
  const createOutcomes = await run.ctx.salesforce.upsertLeadsByHubSpotId(creates);
  await rememberStages(
    run.ctx,
    updates.filter((u) => typeof u.Status === 'string').map((u) => ({ recordId: u.Id, values: { Status: String(u.Status) } })),
  );
  const updateOutcomes = await run.ctx.salesforce.updateRecords('Lead', updates);
  return { createOutcomes, updateOutcomes };
}

/** A written handoff: its stage row, its SLA clock (with the due time stamped in the write) and the contact's stamp. */
function recordHandoff(run: HandoffRun, contactId: string, leadId: string, written: Record<string, unknown>): void {
  run.stages.push({
    installationId: run.ctx.installationId,
    hubspotContactId: contactId,
    stage: String(written.Lifecycle_Stage__c),
    source: 'hubspot',
    occurredAt: run.at,
  });
  const stampedDueAt = typeof written.SLA_Due_At__c === 'string' ? new Date(written.SLA_Due_At__c) : undefined;
  if (written.Lifecycle_Stage__c === run.ctx.dictionary.handoffStage)
    run.summary.handoffs.push({ contactId, leadId, at: run.at, ...(stampedDueAt ? { stampedDueAt } : {}) });
  if (stampedDueAt)
    run.hubspotWrites.push({ id: contactId, properties: { sales_sla_status: 'pending', sales_sla_due_at: stampedDueAt.toISOString() } });
}

/** Counts and links the upserted Leads, logs the refused ones; returns the Leads Salesforce created. */
function recordCreateOutcomes(
  run: HandoffRun,
  creates: readonly LeadUpsert[],
  outcomes: Map<string, WriteOutcome>,
): { contactId: string; leadId: string; ownerId: string | null }[] {
  const createdLeads: { contactId: string; leadId: string; ownerId: string | null }[] = [];
  for (const lead of creates) {
    const id = lead.HubSpot_Contact_Id__c;
    const outcome = outcomes.get(id);
    if (!outcome?.ok) {
      run.summary.failed += 1;
      run.entry(contactRef(id), 'error', 'handoff_failed', `Salesforce refused the Lead: ${refusalOf(outcome)}`, {
        fields: outcome && !outcome.ok ? (outcome.fields ?? []) : [],
      });
      continue;
    }
    if (outcome.created) run.summary.created += 1;
    else run.summary.updated += 1;
    run.attribution.leadWritten(id, outcome.id, lead, outcome.created);
    if (outcome.created)
      createdLeads.push({ contactId: id, leadId: outcome.id, ownerId: typeof lead.OwnerId === 'string' ? lead.OwnerId : null });
    if (run.handedOff.has(id)) recordHandoff(run, id, outcome.id, lead);
    run.linkUpdates.push({
      hubspotContactId: id,
      email: typeof lead.Email === 'string' ? lead.Email : null,
      salesforceLeadId: outcome.id,
      salesforceContactId: null,
      salesforceOpportunityId: null,
    });
    run.hubspotWrites.push({ id, properties: { salesforce_lead_id: outcome.id } });
  }
  return createdLeads;
}

/** Counts the updated Leads and records their stages, logs the refused ones. */
function recordUpdateOutcomes(run: HandoffRun, updates: readonly SalesforceRecord[], outcomes: Map<string, WriteOutcome>): void {
  for (const update of updates) {
    const outcome = outcomes.get(update.Id);
    const linkedByApp = typeof update.HubSpot_Contact_Id__c === 'string';
    const hubspotId = linkedByApp
      ? String(update.HubSpot_Contact_Id__c)
      : [...run.links.values()].find((l) => l.salesforceLeadId === update.Id)?.hubspotContactId;
    if (!outcome?.ok) {
      run.summary.failed += 1;
      if (hubspotId)
        run.entry(
          contactRef(hubspotId),
          'error',
          'update_lead_failed',
          `Salesforce refused the update of Lead ${update.Id}: ${refusalOf(outcome)}`,
        );
      continue;
    }
    run.summary.updated += 1;
    if (!hubspotId) continue;
    run.attribution.leadWritten(hubspotId, update.Id, update, linkedByApp);
    if (linkedByApp) run.hubspotWrites.push({ id: hubspotId, properties: { salesforce_lead_id: update.Id } });
    // The app's own Lead from a run that stopped early, still untouched: this run is its handoff.
    if (run.handedOff.has(hubspotId)) recordHandoff(run, hubspotId, update.Id, update);
    if (typeof update.Lifecycle_Stage__c === 'string' && typeof update.Status === 'string') {
      run.stages.push({
        installationId: run.ctx.installationId,
        hubspotContactId: hubspotId,
        stage: update.Lifecycle_Stage__c,
        source: 'hubspot',
        occurredAt: run.at,
      });
    }
  }
}

/** Writes the run's HubSpot stamps that change something, in one batch, remembering them as the app's own. */
async function stampContacts(run: HandoffRun): Promise<void> {
  const current = new Map(run.contacts.map((c) => [c.id, c]));
  const stamps = mergeWrites(run.hubspotWrites).filter((w) =>
    Object.entries(w.properties).some(([k, v]) => current.get(w.id)?.properties[k] !== v),
  );
  if (stamps.length === 0) return;
  await run.ctx.ledger.remember(
    run.ctx.installationId,
    'hubspot',
    stamps.map((w) => ({ recordId: w.id, values: w.properties })),
  );
  const outcomes = await run.ctx.hubspot.updateContacts(stamps);
  for (const [id, outcome] of outcomes) {
    if (!outcome.ok) run.entry(contactRef(id), 'error', 'stamp_failed', `HubSpot refused the Salesforce ids: ${refusalOf(outcome)}`);
  }
}

/** Remembers the Salesforce stage values the app knows, for echo detection at intake. */
export async function rememberStages(
  ctx: SyncContext,
  known: readonly { recordId: string; values: Record<string, string> }[],
): Promise<void> {
  await ctx.ledger.remember(
    ctx.installationId,
    'salesforce',
    known.filter((k) => Object.keys(k.values).length > 0),
  );
}

/** Merges several property writes to the same contact into one. */
export function mergeWrites(
  writes: readonly { id: string; properties: Record<string, string> }[],
): { id: string; properties: Record<string, string> }[] {
  const merged = new Map<string, Record<string, string>>();
  for (const write of writes) merged.set(write.id, { ...(merged.get(write.id) ?? {}), ...write.properties });
  return [...merged].map(([id, properties]) => ({ id, properties }));
}

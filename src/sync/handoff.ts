/**
 * HubSpot → Salesforce: contacts whose stage says "hand off to sales" become Salesforce Leads,
 * upserted by HubSpot_Contact_Id__c (so racing events never make two), linked to an existing Lead
 * or Contact with the same email instead of duplicating it, and stamped back on the contact.
 * Reads and writes go out in batches: one HubSpot read per 100 contacts, one Collections call
 * per 200 Leads.
 */
import type { HubSpotContact, SalesforceRecord, WriteOutcome } from '../crm/ports.ts';
import { BACKWARD_RULE_STAGES, decideHubSpotToSalesforce, findStageForSalesforce, type SalesforceDecision } from '../domain/stages.ts';
import { linksByHubSpotIds, saveLinks, setAsideIds, type RecordLink } from '../store/record-links.ts';
import { latestStages, recordStageChanges, writeSyncLog, type StageChange } from '../store/sync-log.ts';
import { AttributionBatch } from './attribution.ts';
import { carryConsent } from './consent.ts';
import { noteLinkEmails } from './email-identity.ts';
import { contactRef, recordText, type SyncContext, syncLogLines } from './context.ts';
import { REQUIRED_PLACEHOLDER, contactReadProperties, leadReadFields, leadValuesFor, typedMappings } from './mapped-fields.ts';
import { isNoRuleMatch, SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { HandoffOwners } from './owners.ts';
import { applyMergesFoundInSync } from './merges.ts';

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

/** Syncs the given HubSpot contacts to Salesforce. */
export async function syncContactsToSalesforce(ctx: SyncContext, contactIds: readonly string[]): Promise<HandoffSummary> {
  const summary: HandoffSummary = { handoffs: [], read: 0, created: 0, updated: 0, linked: 0, unchanged: 0, failed: 0 };
  const stages: StageChange[] = [];
  const at = ctx.now();
  const { log, entry } = syncLogLines(ctx);

  // 1. Current state on both sides, in batches. A contact whose link a deletion or merge set aside
  // (src/sync/deletions.ts) is left alone until a restore: no second Lead for it.
  const setAside = await setAsideIds(ctx.db, ctx.installationId, 'hubspot', contactIds);
  for (const id of setAside)
    entry(
      contactRef(id),
      'info',
      'skip_unlinked',
      'its link was set aside by a deletion or merge: not synced until the record is restored',
    );
  const mappings = await typedMappings(ctx);
  const contactProperties = contactReadProperties(ctx.fieldMappings);
  const read = await ctx.hubspot.readContacts(
    contactIds.filter((id) => !setAside.has(id)),
    contactProperties,
  );
  // A merged-away id reads the merge's survivor under the survivor's id: each contact once.
  const contacts = read.filter((c, i) => !setAside.has(c.id) && read.findIndex((o) => o.id === c.id) === i);
  summary.read = contacts.length;
  // A merge's survivor read before its merge event was applied: the merge goes first, so the
  // survivor takes the merged contacts' Lead instead of getting a second one.
  await applyMergesFoundInSync(
    { ...ctx, markPending: async () => undefined },
    contacts.filter((c) => c.properties.hs_merged_object_ids),
  );
  const links = await linksByHubSpotIds(
    ctx.db,
    ctx.installationId,
    contacts.map((c) => c.id),
  );
  await noteLinkEmails(
    ctx,
    contacts.filter((c) => links.has(c.id)).map((c) => ({ hubspotContactId: c.id, email: c.properties.email ?? null })),
  );
  const linkedLeadIds = [...links.values()].map((l) => l.salesforceLeadId).filter((id): id is string => id !== null);
  const leads = new Map(
    (await ctx.salesforce.readRecords('Lead', linkedLeadIds, leadReadFields(ctx.fieldMappings))).map((lead) => [lead.Id, lead]),
  );
  // (The stages read here are not remembered: this run does not bring them to HubSpot, so a rep's
  // change riding along with the app's next write to the Lead must not look like an echo — chaos suite.)
  // Attribution stamps (src/sync/attribution.ts) ride on the writes below.
  const attribution = await AttributionBatch.forContacts(ctx, contacts, (id) => leads.get(links.get(id)?.salesforceLeadId ?? ''));
  // Owners (src/sync/owners.ts): the new Lead's owner and the marketing owner ride on the writes below.
  const owners = await HandoffOwners.forContacts(ctx, contacts);

  const closedBySales = (lead: SalesforceRecord | undefined): boolean => {
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
  };
  const latestStage = await latestStages(
    ctx.db,
    ctx.installationId,
    contacts.filter((c) => closedBySales(leads.get(links.get(c.id)?.salesforceLeadId ?? ''))).map((c) => c.id),
  );

  // 2. Decide per contact.
  const toCreate: HubSpotContact[] = [];
  const toUpdate: { contact: HubSpotContact; leadId: string; decision: Extract<SalesforceDecision, { action: 'upsert_lead' }> | null }[] =
    [];
  const linkUpdates: RecordLink[] = [];
  const decide = (contact: HubSpotContact): SalesforceDecision => {
    const link = links.get(contact.id);
    const lead = link?.salesforceLeadId ? leads.get(link.salesforceLeadId) : undefined;
    return decideHubSpotToSalesforce(ctx.dictionary, contact.properties, {
      leadId: link?.salesforceLeadId ?? null,
      contactId: link?.salesforceContactId ?? recordText(lead, 'ConvertedContactId'),
      leadStatus: recordText(lead, 'Status'),
      leadFeedbackReason: recordText(lead, 'Feedback_Reason__c'),
    });
  };
  for (const contact of contacts) {
    const link = links.get(contact.id);
    const lead = link?.salesforceLeadId ? leads.get(link.salesforceLeadId) : undefined;
    if (lead && lead.IsConverted === true && !link?.salesforceContactId) {
      linkUpdates.push({
        hubspotContactId: contact.id,
        email: null,
        salesforceLeadId: lead.Id,
        salesforceContactId: recordText(lead, 'ConvertedContactId'),
        salesforceOpportunityId: recordText(lead, 'ConvertedOpportunityId'),
      });
    }
    const decision = decide(contact);
    if (decision.action === 'upsert_lead' && decision.leadId === null) {
      toCreate.push(contact);
      continue;
    }
    if (link?.salesforceLeadId && lead && lead.IsConverted !== true) {
      // Sales closed the Lead (rejected/recycled) and HubSpot has not heard of it yet (the contact's latest
      // stage is still an earlier one, or none was recorded: the handoff run that made the Lead stopped
      // before it could): the contact's stage is older news and does not reopen it. Marketing
      // re-qualifying a recycled contact comes after the recycle's own stage row (chaos suite).
      const latest = latestStage.get(contact.id);
      const stale = closedBySales(lead) && !(latest !== undefined && BACKWARD_RULE_STAGES.includes(latest));
      toUpdate.push({ contact, leadId: link.salesforceLeadId, decision: decision.action === 'upsert_lead' && !stale ? decision : null });
      // A linked Lead whose contact no stage row covers stops following it: a warning, not a quiet no-op.
      if (decision.action === 'none')
        entry(
          contactRef(contact.id),
          isNoRuleMatch(decision.reason) ? 'warn' : 'info',
          isNoRuleMatch(decision.reason) ? SILENT_STOP_ACTIONS.noRuleMatches : 'no_stage_change',
          decision.reason,
        );
      else if (stale) {
        entry(
          contactRef(contact.id),
          'info',
          'no_stage_change',
          `${decision.reason}: not applied, sales closed the Lead after the contact's ${latest === undefined ? 'handoff' : `stage "${latest}"`} and HubSpot has not heard of it yet`,
        );
      }
      continue;
    }
    summary.unchanged += 1;
    entry(contactRef(contact.id), 'info', 'no_change', decision.reason);
  }

  // Reopening a Lead sales closed is confirmed by a fresh read first. The contact was read before
  // the recycle's stage row was looked up; an answer that arrived late can predate the app's own
  // write of that recycle to HubSpot, and its old MQL would look like marketing re-qualifying the
  // contact after it. A read issued now comes after that write (chaos suite).
  const reopening = toUpdate.filter((u) => u.decision !== null && closedBySales(leads.get(u.leadId)));
  if (reopening.length > 0) {
    const fresh = new Map(
      (
        await ctx.hubspot.readContacts(
          reopening.map((u) => u.contact.id),
          contactProperties,
        )
      ).map((c) => [c.id, c]),
    );
    for (const update of reopening) {
      const now = fresh.get(update.contact.id);
      const again = now ? decide(now) : null;
      if (now && again?.action === 'upsert_lead' && again.status === update.decision?.status) {
        update.contact = now;
        continue;
      }
      update.decision = null;
      entry(
        contactRef(update.contact.id),
        'info',
        'no_stage_change',
        `read again before reopening the Lead sales closed, the contact is at "${now?.properties.lifecyclestage ?? 'unknown'}": the first answer predated the recycle, the Lead stays closed`,
      );
    }
  }

  // The SLA `pending` stamp rides on the handoff's own writes when its due time is known up front.
  const dueAt = ctx.slaDueAt?.(at) ?? null;
  const slaStamp = (stage: string): Record<string, string> =>
    dueAt !== null && stage === ctx.dictionary.handoffStage ? { SLA_Status__c: 'pending', SLA_Due_At__c: dueAt.toISOString() } : {};

  // 3. A handoff whose email already exists in Salesforce links to that record instead of duplicating it.
  // A Lead an earlier run made for the contact and stopped before linking is found by the contact's
  // id, in the same query (its email may have changed since, so the email alone misses it — chaos suite).
  const createEmails = toCreate.map((c) => c.properties.email?.toLowerCase()).filter((e): e is string => Boolean(e));
  const existing =
    toCreate.length > 0
      ? await ctx.salesforce.findByEmail(createEmails, {
          hubspotContactIds: toCreate.map((c) => c.id),
          leadFields: leadReadFields(ctx.fieldMappings),
        })
      : { leads: [], contacts: [] };
  const leadByEmail = new Map(
    existing.leads.filter((l) => recordText(l, 'Email')).map((l) => [(recordText(l, 'Email') ?? '').toLowerCase(), l]),
  );
  const contactByEmail = new Map(existing.contacts.map((c) => [(recordText(c, 'Email') ?? '').toLowerCase(), c]));
  const ownByHubSpotId = new Map(
    existing.leads.flatMap((lead) => {
      const named = recordText(lead, 'HubSpot_Contact_Id__c');
      return named === null ? [] : [[named, lead] as const];
    }),
  );
  const upserts: (Record<string, unknown> & { HubSpot_Contact_Id__c: string })[] = [];
  /** Contacts whose upsert is their handoff to sales (not a Lead sales already works). */
  const handedOff = new Set<string>();
  for (const contact of toCreate) {
    const decision = decideHubSpotToSalesforce(ctx.dictionary, contact.properties, {});
    if (decision.action !== 'upsert_lead') continue;
    const email = contact.properties.email?.toLowerCase() ?? '';
    const sameEmailContact = email ? contactByEmail.get(email) : undefined;
    const sameEmailLead = email ? leadByEmail.get(email) : undefined;
    // Already this contact's Lead: an earlier run created it and stopped before saving the link.
    const own = ownByHubSpotId.get(contact.id);
    if (sameEmailContact && !own) {
      linkUpdates.push({
        hubspotContactId: contact.id,
        email,
        salesforceLeadId: null,
        salesforceContactId: sameEmailContact.Id,
        salesforceOpportunityId: null,
      });
      summary.linked += 1;
      entry(
        contactRef(contact.id),
        'info',
        'link_existing_contact',
        `${decision.reason}; Salesforce Contact ${sameEmailContact.Id} already has ${email}: linked to it, no Lead created`,
      );
      continue;
    }
    if (sameEmailLead && !own) {
      upserts.push({
        ...attribution.leadFields(contact.id, sameEmailLead),
        Id: sameEmailLead.Id,
        HubSpot_Contact_Id__c: contact.id,
        Lifecycle_Stage__c: decision.stage,
      });
      linkUpdates.push({
        hubspotContactId: contact.id,
        email,
        salesforceLeadId: sameEmailLead.Id,
        salesforceContactId: null,
        salesforceOpportunityId: null,
      });
      summary.linked += 1;
      entry(
        contactRef(contact.id),
        'info',
        'link_existing_lead',
        `${decision.reason}; Salesforce Lead ${sameEmailLead.Id} already has ${email}: linked to it instead of creating a second Lead`,
      );
      continue;
    }
    // The own Lead has its Status already, and a rep may set another one between our read and our
    // write: the update never sends Status then, and its mapped fields follow their rules. Still
    // untouched, the handoff counts (stage row, SLA clock); worked by sales since, it does not.
    const fields = leadValuesFor(mappings, contact, own, ctx.feedback?.integrationUserId);
    if (!own || recordText(own, 'Status') === decision.status) handedOff.add(contact.id);
    upserts.push({
      ...fields,
      ...(own ? owners.marketingOwnerChange(contact, own) : owners.newLeadFields(contact, entry)),
      ...attribution.leadFields(contact.id, own),
      // The app's own Lead is updated by Id, not upserted: an upsert would run the assignment rules
      // again and take the Lead from the rep it was given to.
      ...(own ? { Id: own.Id } : {}),
      HubSpot_Contact_Id__c: contact.id,
      // Salesforce requires both on a new Lead; the own Lead has them.
      ...(own ? {} : { LastName: fields.LastName ?? REQUIRED_PLACEHOLDER, Company: fields.Company ?? REQUIRED_PLACEHOLDER }),
      Lifecycle_Stage__c: decision.stage,
      ...(own ? {} : { Status: decision.status }),
      ...(handedOff.has(contact.id) ? slaStamp(decision.stage) : {}),
    });
    if (own)
      linkUpdates.push({
        hubspotContactId: contact.id,
        email,
        salesforceLeadId: own.Id,
        salesforceContactId: null,
        salesforceOpportunityId: null,
      });
    entry(contactRef(contact.id), 'info', decision.handoff ? 'handoff' : 'create_lead', decision.reason, { fields: Object.keys(fields) });
  }

  // 4. Writes: new Leads by upsert (assignment rules pick the owner); linked Leads by Id.
  const linkedExisting = upserts.filter((u) => typeof u.Id === 'string');
  const creates = upserts.filter((u) => typeof u.Id !== 'string');
  // The stages the app is about to write, remembered first: their echoes can arrive before the
  // calls return (new Leads by their HubSpot id, the only key known before the upsert).
  await rememberStages(
    ctx,
    creates
      .filter((lead) => typeof lead.Status === 'string')
      .map((lead) => ({ recordId: `hs:${lead.HubSpot_Contact_Id__c}`, values: { Status: String(lead.Status), IsConverted: 'false' } })),
  );
  const createOutcomes = await ctx.salesforce.upsertLeadsByHubSpotId(creates);
  const updates: SalesforceRecord[] = [
    ...linkedExisting.map(({ Id, ...rest }) => ({ Id: String(Id), ...rest })),
    ...toUpdate.flatMap(({ contact, leadId, decision }) => {
      // Mapped values come compared already (in the kinds of both ends); the app's own fields are compared here.
      const own = {
        ...owners.marketingOwnerChange(contact, leads.get(leadId)),
        ...(decision ? { Status: decision.status, Lifecycle_Stage__c: decision.stage } : {}),
      };
      const changes = {
        ...leadValuesFor(mappings, contact, leads.get(leadId), ctx.feedback?.integrationUserId),
        ...Object.fromEntries(Object.entries(own).filter(([field, value]) => recordText(leads.get(leadId), field) !== value)),
      };
      const stamp = attribution.leadFields(contact.id, leads.get(leadId));
      if (Object.keys(changes).length === 0 && Object.keys(stamp).length === 0) {
        summary.unchanged += 1;
        return [];
      }
      if (Object.keys(changes).length > 0)
        entry(
          contactRef(contact.id),
          'info',
          'update_lead',
          decision?.reason ?? `mapped fields changed: ${Object.keys(changes).join(', ')}`,
          { fields: Object.keys(changes) },
        );
      return [{ Id: leadId, ...changes, ...stamp }];
    }),
  ];
  await rememberStages(
    ctx,
    updates.filter((u) => typeof u.Status === 'string').map((u) => ({ recordId: u.Id, values: { Status: String(u.Status) } })),
  );
  const updateOutcomes = await ctx.salesforce.updateRecords('Lead', updates);

  // 5. Outcomes: links, stage history, failures in the sync log.
  const hubspotWrites: { id: string; properties: Record<string, string> }[] = [];
  /** A written handoff: its stage row, its SLA clock (with the due time stamped in the write) and the contact's stamp. */
  const recordHandoff = (contactId: string, leadId: string, written: Record<string, unknown>): void => {
    stages.push({
      installationId: ctx.installationId,
      hubspotContactId: contactId,
      stage: String(written.Lifecycle_Stage__c),
      source: 'hubspot',
      occurredAt: at,
    });
    const stampedDueAt = typeof written.SLA_Due_At__c === 'string' ? new Date(written.SLA_Due_At__c) : undefined;
    if (written.Lifecycle_Stage__c === ctx.dictionary.handoffStage)
      summary.handoffs.push({ contactId, leadId, at, ...(stampedDueAt ? { stampedDueAt } : {}) });
    if (stampedDueAt)
      hubspotWrites.push({ id: contactId, properties: { sales_sla_status: 'pending', sales_sla_due_at: stampedDueAt.toISOString() } });
  };
  const createdLeads: { contactId: string; leadId: string; ownerId: string | null }[] = [];
  for (const lead of creates) {
    const outcome: WriteOutcome | undefined = createOutcomes.get(lead.HubSpot_Contact_Id__c);
    const id = lead.HubSpot_Contact_Id__c;
    if (!outcome?.ok) {
      summary.failed += 1;
      entry(
        contactRef(id),
        'error',
        'handoff_failed',
        `Salesforce refused the Lead: ${outcome ? `${outcome.code} ${outcome.message}` : 'no result'}`,
        { fields: outcome && !outcome.ok ? (outcome.fields ?? []) : [] },
      );
      continue;
    }
    if (outcome.created) summary.created += 1;
    else summary.updated += 1;
    attribution.leadWritten(id, outcome.id, lead, outcome.created);
    if (outcome.created)
      createdLeads.push({ contactId: id, leadId: outcome.id, ownerId: typeof lead.OwnerId === 'string' ? lead.OwnerId : null });
    if (handedOff.has(id)) recordHandoff(id, outcome.id, lead);
    linkUpdates.push({
      hubspotContactId: id,
      email: typeof lead.Email === 'string' ? lead.Email : null,
      salesforceLeadId: outcome.id,
      salesforceContactId: null,
      salesforceOpportunityId: null,
    });
    hubspotWrites.push({ id, properties: { salesforce_lead_id: outcome.id } });
  }
  for (const update of updates) {
    const outcome = updateOutcomes.get(update.Id);
    const hubspotId =
      typeof update.HubSpot_Contact_Id__c === 'string'
        ? update.HubSpot_Contact_Id__c
        : [...links.values()].find((l) => l.salesforceLeadId === update.Id)?.hubspotContactId;
    if (!outcome?.ok) {
      summary.failed += 1;
      if (hubspotId)
        entry(
          contactRef(hubspotId),
          'error',
          'update_lead_failed',
          `Salesforce refused the update of Lead ${update.Id}: ${outcome ? `${outcome.code} ${outcome.message}` : 'no result'}`,
        );
      continue;
    }
    summary.updated += 1;
    if (hubspotId) attribution.leadWritten(hubspotId, update.Id, update, typeof update.HubSpot_Contact_Id__c === 'string');
    if (hubspotId && typeof update.HubSpot_Contact_Id__c === 'string')
      hubspotWrites.push({ id: hubspotId, properties: { salesforce_lead_id: update.Id } });
    // The app's own Lead from a run that stopped early, still untouched: this run is its handoff.
    if (hubspotId && handedOff.has(hubspotId)) recordHandoff(hubspotId, update.Id, update);
    if (hubspotId && typeof update.Lifecycle_Stage__c === 'string' && typeof update.Status === 'string') {
      stages.push({
        installationId: ctx.installationId,
        hubspotContactId: hubspotId,
        stage: update.Lifecycle_Stage__c,
        source: 'hubspot',
        occurredAt: at,
      });
    }
  }
  for (const link of linkUpdates) {
    if (link.salesforceContactId)
      hubspotWrites.push({ id: link.hubspotContactId, properties: { salesforce_contact_id: link.salesforceContactId } });
  }
  for (const contact of contacts) hubspotWrites.push({ id: contact.id, properties: attribution.hubspotChanges(contact.id) });
  hubspotWrites.push(...(await owners.salesOwnerStamps(createdLeads, entry)));

  // 6. Stamp the Salesforce ids back on the contacts (one batch), remembering our own values.
  const current = new Map(contacts.map((c) => [c.id, c]));
  const stamps = mergeWrites(hubspotWrites).filter((w) =>
    Object.entries(w.properties).some(([k, v]) => current.get(w.id)?.properties[k] !== v),
  );
  if (stamps.length > 0) {
    await ctx.ledger.remember(
      ctx.installationId,
      'hubspot',
      stamps.map((w) => ({ recordId: w.id, values: w.properties })),
    );
    const outcomes = await ctx.hubspot.updateContacts(stamps);
    for (const [id, outcome] of outcomes) {
      if (!outcome.ok)
        entry(contactRef(id), 'error', 'stamp_failed', `HubSpot refused the Salesforce ids: ${outcome.code} ${outcome.message}`);
    }
  }
  const salesforceContacts = [...links.values(), ...linkUpdates].flatMap((l) =>
    l.salesforceContactId ? [[l.hubspotContactId, l.salesforceContactId] as const] : [],
  );
  await attribution.complete(entry, new Map(salesforceContacts));
  await saveLinks(ctx.db, ctx.installationId, linkUpdates);
  await recordStageChanges(ctx.db, stages);
  await writeSyncLog(ctx.db, log);
  // Email consent both ways (src/sync/consent.ts), on the records read above.
  await carryConsent(ctx, contacts, [...links.values(), ...linkUpdates], leads);
  return summary;
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

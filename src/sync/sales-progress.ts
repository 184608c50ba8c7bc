/**
 * Salesforce → HubSpot: Lead status, conversion and Opportunity stage move the HubSpot contact
 * through lifecyclestage / hs_lead_status per the stage dictionary, never backwards except by an
 * explicit rejected/recycled rule (cleared first, as HubSpot requires). Leads created in
 * Salesforce become HubSpot contacts. The current state is read from both CRMs at sync time, so
 * late or reordered notifications converge on the newest state.
 */
import type { HubSpotContact, SalesforceRecord } from '../crm/ports.ts';
import { decideSalesforceToHubSpot, type SalesforceSnapshot } from '../domain/stages.ts';
import { linksBySalesforceIds, saveLinks, setAsideIds, type RecordLink } from '../store/record-links.ts';
import { recordStageChanges, writeSyncLog, type StageChange } from '../store/sync-log.ts';
import { leadEmailWrites, noteLinkEmails } from './email-identity.ts';
import { AttributionBatch } from './attribution.ts';
import { OPPORTUNITY_SYNC_FIELDS, contactRef, recordText, salesforceRef, stageValues, type SyncContext, syncLogLines } from './context.ts';
import { carryConsent } from './consent.ts';
import { prepareFeedback } from './feedback.ts';
import { opportunityReadFields, recordDeals } from './revenue.ts';
import { mergeWrites, rememberStages } from './handoff.ts';
import { isNoRuleMatch, SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { salesOwnerWrites } from './owners.ts';
import { contactReadProperties, contactValuesFor, leadReadFields, newContactValues, typedMappings } from './mapped-fields.ts';

export interface ProgressSummary {
  read: number;
  contactsUpdated: number;
  contactsCreated: number;
  refused: number;
  unchanged: number;
  failed: number;
}

/** `Lead:00Q…` / `Opportunity:006…` keys of the pending set. */
export function parseRecordKey(key: string): { type: 'Lead' | 'Opportunity'; id: string } | null {
  const [type, id] = key.split(':');
  return (type === 'Lead' || type === 'Opportunity') && id ? { type, id } : null;
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

/** Syncs the given Salesforce records (`Lead:id` / `Opportunity:id`) to HubSpot. */
export async function syncSalesforceToHubSpot(ctx: SyncContext, keys: readonly string[]): Promise<ProgressSummary> {
  const summary: ProgressSummary = { read: 0, contactsUpdated: 0, contactsCreated: 0, refused: 0, unchanged: 0, failed: 0 };
  const stages: StageChange[] = [];
  const at = ctx.now();
  const { log, entry } = syncLogLines(ctx);

  // 1. Current Salesforce state, one query per type.
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
  summary.read = leads.length + opportunities.length;
  await rememberStages(ctx, [
    ...leads.map((lead) => ({ recordId: lead.Id, values: stageValues('Lead', lead) })),
    ...opportunities.map((opportunity) => ({ recordId: opportunity.Id, values: stageValues('Opportunity', opportunity) })),
  ]);
  const links = await linksBySalesforceIds(ctx.db, ctx.installationId, [...leads.map((l) => l.Id), ...opportunities.map((o) => o.Id)]);
  await noteLinkEmails(
    ctx,
    leads.flatMap((lead) => {
      const link = links.get(lead.Id);
      return link && link.salesforceLeadId === lead.Id
        ? [{ hubspotContactId: link.hubspotContactId, email: recordText(lead, 'Email') }]
        : [];
    }),
  );

  // 2. Leads created in Salesforce become HubSpot contacts (sales-sourced), matched by email.
  const linkUpdates: RecordLink[] = [];
  // Set aside again after the links were read: a merge clears a duplicate Lead's HubSpot id in
  // Salesforce, then sets its link aside; a Lead read between the two looked linked above and
  // unlinked here, and would come back as a new contact (chaos suite).
  const withoutLink = leads.filter((lead) => !links.get(lead.Id) && !recordText(lead, 'HubSpot_Contact_Id__c'));
  const setAsideSince = await setAsideIds(
    ctx.db,
    ctx.installationId,
    'salesforce',
    withoutLink.map((lead) => lead.Id),
  );
  const unlinked = withoutLink.filter((lead) => !setAsideSince.has(lead.Id));
  const creatable = unlinked.filter((lead) => recordText(lead, 'Email'));
  for (const lead of unlinked.filter((l) => !recordText(l, 'Email'))) {
    entry(
      salesforceRef('Lead', lead.Id),
      'warn',
      'skip_no_email',
      'Lead has no Email: HubSpot contacts are keyed by email, so it is not synced until it has one',
    );
  }
  if (creatable.length > 0) {
    // Attribution: sales-sourced unless the same email has a marketing history (or LeadSource names a channel).
    const attribution = await AttributionBatch.forSalesforceLeads(ctx, creatable);
    const outcomes = await ctx.hubspot.upsertContactsByEmail(
      creatable.map((lead) => ({
        email: recordText(lead, 'Email') ?? '',
        properties: Object.fromEntries([
          ...Object.entries(newContactValues(mappings, lead)),
          ['salesforce_lead_id', lead.Id],
          ...Object.entries(attribution.hubspotStamp(lead.Id)),
        ]),
      })),
    );
    const backfill: SalesforceRecord[] = [];
    for (const lead of creatable) {
      const outcome = outcomes.get((recordText(lead, 'Email') ?? '').toLowerCase());
      if (!outcome?.ok) {
        summary.failed += 1;
        entry(
          salesforceRef('Lead', lead.Id),
          'error',
          'create_contact_failed',
          `HubSpot refused the contact: ${outcome ? `${outcome.code} ${outcome.message}` : 'no result'}`,
        );
        continue;
      }
      if (outcome.created) summary.contactsCreated += 1;
      const link: RecordLink = {
        hubspotContactId: outcome.id,
        email: recordText(lead, 'Email'),
        salesforceLeadId: lead.Id,
        salesforceContactId: null,
        salesforceOpportunityId: null,
      };
      links.set(lead.Id, link);
      linkUpdates.push(link);
      attribution.linkContact(lead.Id, outcome.id);
      backfill.push({ ...attribution.leadFields(lead.Id, lead), Id: lead.Id, HubSpot_Contact_Id__c: outcome.id });
      entry(
        salesforceRef('Lead', lead.Id),
        'info',
        outcome.created ? 'create_contact' : 'link_contact',
        `Lead created in Salesforce: ${outcome.created ? 'created' : 'matched by email to'} HubSpot contact ${outcome.id}`,
      );
    }
    const stamped = await ctx.salesforce.updateRecords('Lead', backfill);
    for (const [id, outcome] of stamped)
      if (!outcome.ok)
        entry(
          salesforceRef('Lead', id),
          'error',
          'stamp_failed',
          `Salesforce refused HubSpot_Contact_Id__c: ${outcome.code} ${outcome.message}`,
        );
    for (const record of backfill) if (stamped.get(record.Id)?.ok) attribution.leadWritten(record.Id, record.Id, record, true);
    await attribution.complete(entry);
  }

  // 3. Which contact each record moves; conversions extend the link to Contact and Opportunity.
  const moves: { type: 'Lead' | 'Opportunity'; record: SalesforceRecord; contactId: string }[] = [];
  for (const lead of leads) {
    const contactId = links.get(lead.Id)?.hubspotContactId ?? recordText(lead, 'HubSpot_Contact_Id__c');
    if (!contactId) continue;
    if (lead.IsConverted === true) {
      const converted: RecordLink = {
        hubspotContactId: contactId,
        email: null,
        salesforceLeadId: lead.Id,
        salesforceContactId: recordText(lead, 'ConvertedContactId'),
        salesforceOpportunityId: recordText(lead, 'ConvertedOpportunityId'),
      };
      linkUpdates.push(converted);
      if (converted.salesforceOpportunityId !== null && !links.has(converted.salesforceOpportunityId))
        links.set(converted.salesforceOpportunityId, converted);
    } else if (!links.get(lead.Id)) {
      linkUpdates.push({
        hubspotContactId: contactId,
        email: recordText(lead, 'Email'),
        salesforceLeadId: lead.Id,
        salesforceContactId: null,
        salesforceOpportunityId: null,
      });
    }
    moves.push({ type: 'Lead', record: lead, contactId });
  }
  // An Opportunity can arrive before the conversion of its Lead was synced (deliveries are not
  // ordered): find the converted Lead of each unlinked Opportunity, one query for the batch.
  const unlinkedOpportunities = opportunities.filter((o) => !links.get(o.Id)).map((o) => o.Id);
  const convertedFrom = await ctx.salesforce.leadsConvertedInto(unlinkedOpportunities);
  // Their Leads' links (a Lead converted before the app could stamp its HubSpot id has only the link).
  const convertedLinks = await linksBySalesforceIds(
    ctx.db,
    ctx.installationId,
    convertedFrom.map((lead) => lead.Id).filter((id) => !links.has(id)),
  );
  for (const lead of convertedFrom) {
    const opportunityId = recordText(lead, 'ConvertedOpportunityId');
    const contactId =
      links.get(lead.Id)?.hubspotContactId ?? convertedLinks.get(lead.Id)?.hubspotContactId ?? recordText(lead, 'HubSpot_Contact_Id__c');
    if (!opportunityId || !contactId) continue;
    const link: RecordLink = {
      hubspotContactId: contactId,
      email: recordText(lead, 'Email'),
      salesforceLeadId: lead.Id,
      salesforceContactId: recordText(lead, 'ConvertedContactId'),
      salesforceOpportunityId: opportunityId,
    };
    links.set(opportunityId, link);
    linkUpdates.push(link);
  }
  for (const opportunity of opportunities) {
    const contactId = links.get(opportunity.Id)?.hubspotContactId;
    if (!contactId) {
      entry(
        salesforceRef('Opportunity', opportunity.Id),
        'info',
        'skip_unlinked',
        'Opportunity is not linked to a synced contact (not converted from a synced Lead): it moves no contact stage (its deal is still recorded)',
      );
      continue;
    }
    moves.push({ type: 'Opportunity', record: opportunity, contactId });
  }

  // 4. Decide against the contact's current HubSpot state, Lead before Opportunity.
  const contacts = new Map(
    (await ctx.hubspot.readContacts([...new Set(moves.map((m) => m.contactId))], contactReadProperties(ctx.fieldMappings))).map((c) => [
      c.id,
      c,
    ]),
  );
  const feedback = await prepareFeedback(ctx, moves, contacts);
  const firstSteps: { id: string; properties: Record<string, string> }[] = [];
  const secondSteps: { id: string; properties: Record<string, string> }[] = [];
  const view = new Map<string, Record<string, string | null>>();
  for (const move of moves.sort((a, b) => (a.type === b.type ? 0 : a.type === 'Lead' ? -1 : 1))) {
    const contact: HubSpotContact | undefined = contacts.get(move.contactId);
    const ref = salesforceRef(move.type, move.record.Id);
    if (!contact) {
      summary.failed += 1;
      entry(ref, 'warn', 'contact_missing', `HubSpot contact ${move.contactId} no longer exists`);
      continue;
    }
    const state = view.get(contact.id) ?? { ...contact.properties };
    const decision = decideSalesforceToHubSpot(ctx.dictionary, state, snapshotOf(move.type, move.record));
    // The sales feedback of the record rides on the same writes (two steps: clear, then set).
    const steps = feedback.stepsFor(move, decision, state);
    if (decision.action === 'none') {
      if (decision.reason.startsWith('refused')) summary.refused += 1;
      else summary.unchanged += 1;
      // A Salesforce state no stage row covers stops the record's stage sync: a warning the health page groups.
      const stop = isNoRuleMatch(decision.reason);
      const refused = decision.reason.startsWith('refused');
      entry(
        ref,
        stop || refused ? 'warn' : 'info',
        stop ? SILENT_STOP_ACTIONS.noRuleMatches : refused ? 'refused' : 'no_change',
        decision.reason,
        { contact: contact.id },
      );
      if (steps.length === 0) continue;
    }
    const [first, second] = steps;
    if (first && second) {
      firstSteps.push({ id: contact.id, properties: { ...first } });
      secondSteps.push({ id: contact.id, properties: { ...second } });
    } else if (first) {
      firstSteps.push({ id: contact.id, properties: { ...first } });
    }
    view.set(contact.id, { ...state, ...(second ?? first) });
    if (decision.action === 'none') continue;
    stages.push({
      installationId: ctx.installationId,
      hubspotContactId: contact.id,
      stage: decision.stage,
      source: 'salesforce',
      occurredAt: at,
      details: { record: ref },
    });
    entry(contactRef(contact.id), 'info', 'update_hubspot', decision.reason, { record: ref, steps: decision.steps });
  }
  // A linked Lead's mapped fields go to its contact by each mapping's rule; its changed Email too,
  // never as a second record.
  const linkedLeads = moves.flatMap((m) => {
    const contact = contacts.get(m.contactId);
    return m.type === 'Lead' && m.record.IsConverted !== true && contact ? [{ lead: m.record, contact }] : [];
  });
  for (const { lead, contact } of linkedLeads) {
    const values = contactValuesFor(mappings, lead, contact);
    if (Object.keys(values).length === 0) continue;
    firstSteps.push({ id: contact.id, properties: values });
    entry(contactRef(contact.id), 'info', 'update_mapped_fields', `mapped fields of Lead ${lead.Id}: ${Object.keys(values).join(', ')}`, {
      record: salesforceRef('Lead', lead.Id),
      fields: Object.keys(values),
    });
  }
  firstSteps.push(...(await leadEmailWrites(ctx, linkedLeads)));
  for (const link of linkUpdates) {
    const ids: Record<string, string> = {};
    if (link.salesforceContactId) ids.salesforce_contact_id = link.salesforceContactId;
    if (link.salesforceLeadId && contacts.get(link.hubspotContactId)?.properties.salesforce_lead_id !== link.salesforceLeadId)
      ids.salesforce_lead_id = link.salesforceLeadId;
    if (Object.keys(ids).length > 0 && contacts.has(link.hubspotContactId)) firstSteps.push({ id: link.hubspotContactId, properties: ids });
  }
  // Owners (src/sync/owners.ts): each record's Salesforce owner, shown to marketing on the contact.
  const owned = moves.filter((move) => contacts.has(move.contactId));
  firstSteps.push(
    ...(await salesOwnerWrites(
      ctx,
      owned.map((move) => ({
        contactId: move.contactId,
        recordRef: salesforceRef(move.type, move.record.Id),
        ownerId: recordText(move.record, 'OwnerId'),
        current: contacts.get(move.contactId)?.properties ?? {},
      })),
      entry,
    )),
  );

  // Prepared elsewhere in this batch (SLA first-touch stamps): they go out with the values.
  for (const write of ctx.hubspotWrites ?? [])
    (secondSteps.some((step) => step.id === write.id) ? secondSteps : firstSteps).push({
      id: write.id,
      properties: { ...write.properties },
    });

  // 5. Write in order: clears, then values (HubSpot applies a batch's inputs in no set order).
  const failedContacts = new Set<string>();
  for (const batch of [mergeWrites(firstSteps), mergeWrites(secondSteps)]) {
    if (batch.length === 0) continue;
    await ctx.ledger.remember(
      ctx.installationId,
      'hubspot',
      batch.map((w) => ({ recordId: w.id, values: w.properties })),
    );
    const outcomes = await ctx.hubspot.updateContacts(batch);
    for (const [id, outcome] of outcomes) {
      if (outcome.ok) continue;
      summary.failed += 1;
      failedContacts.add(id);
      entry(contactRef(id), 'error', 'update_hubspot_failed', `HubSpot did not take the update: ${outcome.code} ${outcome.message}`, {
        code: outcome.code,
        fields: outcome.fields ?? [],
      });
    }
  }
  // A contact whose write failed (refused, or answered but not kept: WRITE_IGNORED) did not move.
  summary.contactsUpdated = [...view.keys()].filter((id) => !failedContacts.has(id)).length;
  await saveLinks(ctx.db, ctx.installationId, linkUpdates);
  await recordStageChanges(
    ctx.db,
    stages.filter((change) => !failedContacts.has(change.hubspotContactId)),
  );
  // 6. Every Opportunity read is a deal of the revenue loop, linked or not (renewals of a customer's Account).
  const contactOfOpportunity = new Map(
    opportunities.flatMap((o) => {
      const contact = links.get(o.Id)?.hubspotContactId;
      return contact === undefined ? [] : [[o.Id, contact] as const];
    }),
  );
  await recordDeals(ctx, opportunities, opportunityRead.rates, contactOfOpportunity, entry);
  await writeSyncLog(ctx.db, log);
  await feedback.finish(failedContacts);
  // Email consent both ways (src/sync/consent.ts), on the records read above.
  await carryConsent(ctx, [...contacts.values()], [...links.values(), ...linkUpdates], new Map(leads.map((lead) => [lead.Id, lead])));
  return summary;
}

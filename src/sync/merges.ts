/**
 * Merges (docs/architecture.md §18). A HubSpot contact merge (the `contact.merge` event) and a
 * Salesforce Lead or Contact merge (found by the reconciler: the losing records sit in the
 * recycle bin with `MasterRecordId`) re-point the app's links and everything it keys by the
 * losing ids to the survivor: one link per person, no orphan link, the earlier first touch and the
 * stage history follow the survivor. A second link the merge makes redundant is set aside and
 * reported, never merged across systems by the app.
 *
 * Order: the CRM stamps first (each idempotent), then the app's tables (each statement
 * idempotent), so a retry after any failure converges on the same state.
 */
import { CrmTransientError, isTransientRecordFailure } from '../crm/errors.ts';
import { refusalOf, type HubSpotPort, type SalesforcePort, type SalesforceRecord, type WriteOutcome } from '../crm/ports.ts';
import { chooseSurvivingLink, earliestFirstTouch, hubspotMergeIds, type HubSpotMergeEvent } from '../domain/record-identity.ts';
import { inTransaction, type Queryable } from '../store/db.ts';
import {
  linksByHubSpotIds,
  linksBySalesforceIds,
  mergedInto,
  moveLink,
  moveLinkRecord,
  repointHubSpotContact,
  repointSalesforceLead,
  saveLinks,
  setLinksAside,
  type RecordLink,
} from '../store/record-links.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { touchesOf } from '../store/touches.ts';
import { contactRef, salesforceRef, type LogLine } from './context.ts';
import type { Direction } from './pending-set.ts';
import type { ValueLedger } from './value-ledger.ts';

/** What merge and deletion handling needs of an installation. */
export interface IdentityContext {
  installationId: string;
  db: Queryable;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  ledger: ValueLedger;
  /** Marks records pending and schedules their drain. */
  markPending(direction: Direction, keys: string[]): Promise<void>;
}

const FIRST_TOUCH_FIELDS = [
  ['channel', 'attribution_first_channel', 'First_Touch_Channel__c'],
  ['source', 'attribution_first_source', 'First_Touch_Source__c'],
  ['medium', 'attribution_first_medium', 'First_Touch_Medium__c'],
  ['campaign', 'attribution_first_campaign', 'First_Touch_Campaign__c'],
  ['content', 'attribution_first_content', 'First_Touch_Content__c'],
  ['term', 'attribution_first_term', 'First_Touch_Term__c'],
] as const;

/** Applies a HubSpot contact merge to the links; returns the survivor's id. */
export async function applyHubSpotMerge(ctx: IdentityContext, event: HubSpotMergeEvent): Promise<string> {
  const { survivorId, primaryId, mergedIds } = hubspotMergeIds(event);
  const log: SyncLogEntry[] = [];
  const entry: LogLine = (recordRef, level, action, reason, details) =>
    log.push({ installationId: ctx.installationId, recordRef, level, action, reason, ...(details ? { details } : {}) });
  const ids = [primaryId, ...mergedIds.filter((id) => id !== primaryId), survivorId];
  const links = await mergedContactLinks(ctx, ids);
  // The first time, the merged contacts' links go before the survivor's own: a survivor handed off
  // before the merge reached the app got a Lead of its own, which is the duplicate. A merge applied
  // again (its event redelivered, or found again by a sync) keeps what the first time chose, which
  // the survivor holds: a link a late write gave a merged-away id since is the duplicate then (chaos suite).
  const applied = await mergedInto(ctx.db, ctx.installationId, 'hubspot', mergedIds);
  const again = mergedIds.every((id) => applied.get(id) === survivorId);
  const order = again ? [survivorId, primaryId, ...mergedIds] : [primaryId, ...mergedIds, survivorId];
  const ordered = order.flatMap((id) => links.get(id) ?? []).filter((l, i, all) => all.indexOf(l) === i);
  const { keep, duplicates } = chooseSurvivingLink(ordered, again ? survivorId : primaryId);

  // 1. The Salesforce records name the survivor; a duplicate Lead lets go of its merged-away contact.
  // A stamp Salesforce could not take for now (a row lock) fails the merge, which is retried whole.
  const stampFailures = await stampSalesforceRecords(ctx, survivorId, keep, duplicates, entry);
  const passing = stampFailures.filter(isTransientRecordFailure);
  if (passing.length > 0) {
    await writeSyncLog(ctx.db, log);
    throw new CrmTransientError(
      'salesforce',
      `a merge stamp was not taken for now (${passing.map((f) => (f.ok ? '' : f.code)).join(', ')}): the merge is retried`,
    );
  }
  await stampSurvivor(ctx, survivorId, keep, entry);

  // 2. The app's tables follow the survivor; its first touch is the earliest of the merged records'.
  // Duplicates are set aside before the kept link moves: a survivor handed off before its merge
  // was applied holds a duplicate under its own id, and setting that aside afterwards would take
  // the kept link with it (chaos suite).
  await inTransaction(ctx.db, async (tx) => {
    await repointHubSpotContact(tx, ctx.installationId, mergedIds, survivorId);
    await setLinksAside(
      tx,
      ctx.installationId,
      duplicates.map((d) => ({ ...d, deletedSide: 'hubspot' as const, deletedId: d.hubspotContactId, reason: 'merged' as const })),
    );
    if (keep && keep.hubspotContactId !== survivorId) await moveLink(tx, ctx.installationId, keep.hubspotContactId, survivorId);
  });
  await stampEarliestFirstTouch(ctx, survivorId, keep, entry);

  entry(
    contactRef(survivorId),
    'info',
    'merge_contacts',
    `HubSpot merged contact${mergedIds.length > 1 ? 's' : ''} ${mergedIds.join(', ')} into ${survivorId}: ${keep?.salesforceLeadId ? `linked to Lead ${keep.salesforceLeadId}` : 'no Salesforce record linked'}; stage history and touches follow ${survivorId}`,
    { mergedIds, primaryId },
  );
  for (const duplicate of duplicates) {
    if (duplicate.salesforceLeadId === null && duplicate.salesforceContactId === null) continue;
    entry(
      salesforceRef(duplicate.salesforceLeadId ? 'Lead' : 'Contact', duplicate.salesforceLeadId ?? duplicate.salesforceContactId ?? ''),
      'warn',
      'merge_duplicate_unlinked',
      `was linked to contact ${duplicate.hubspotContactId}, merged into ${survivorId} whose link is ${keep?.salesforceLeadId ?? keep?.salesforceContactId ?? 'none'}: unlinked, not deleted; merge the duplicate in Salesforce if it is the same person`,
    );
  }
  await writeSyncLog(ctx.db, log);
  await ctx.markPending('to-salesforce', [survivorId]);
  return survivorId;
}

/**
 * The links of the merge's contacts. A Lead the app made for one of them whose link was never saved
 * (the handoff stopped between the two writes) counts as its link, saved now: it names the contact,
 * and left alone it would keep naming a merged-away id (chaos suite).
 */
async function mergedContactLinks(ctx: IdentityContext, ids: readonly string[]): Promise<Map<string, RecordLink>> {
  const links = await linksByHubSpotIds(ctx.db, ctx.installationId, ids);
  for (const lead of await unlinkedLeadsNaming(
    ctx,
    ids.filter((id) => !links.has(id)),
  )) {
    const contactId = String(lead.HubSpot_Contact_Id__c);
    if (links.has(contactId)) continue;
    const link: RecordLink = {
      hubspotContactId: contactId,
      email: typeof lead.Email === 'string' ? lead.Email : null,
      salesforceLeadId: lead.Id,
      salesforceContactId: null,
      salesforceOpportunityId: null,
    };
    await saveLinks(ctx.db, ctx.installationId, [link]);
    links.set(contactId, link);
  }
  return links;
}

/** Stamps the survivor's id on the kept link's Lead and Contact and clears it from the duplicates' Leads. */
async function stampSalesforceRecords(
  ctx: IdentityContext,
  survivorId: string,
  keep: RecordLink | null,
  duplicates: readonly RecordLink[],
  entry: LogLine,
): Promise<WriteOutcome[]> {
  const failures: WriteOutcome[] = [];
  const stamps = [
    ...(keep?.salesforceLeadId ? [{ type: 'Lead', id: keep.salesforceLeadId, value: survivorId }] : []),
    ...(keep?.salesforceContactId ? [{ type: 'Contact', id: keep.salesforceContactId, value: survivorId }] : []),
    ...duplicates.flatMap((d) => (d.salesforceLeadId ? [{ type: 'Lead', id: d.salesforceLeadId, value: null }] : [])),
  ];
  // Clears before stamps: HubSpot_Contact_Id__c is unique, and a duplicate may still name the survivor.
  for (const [type, clearing] of [
    ['Lead', true],
    ['Lead', false],
    ['Contact', false],
  ] as const) {
    const records = stamps
      .filter((s) => s.type === type && (s.value === null) === clearing)
      .map((s) => ({ Id: s.id, HubSpot_Contact_Id__c: s.value }));
    if (records.length === 0) continue;
    const outcomes = await ctx.salesforce.updateRecords(type, records);
    for (const [id, outcome] of outcomes) {
      if (outcome.ok) continue;
      failures.push(outcome);
      entry(
        salesforceRef(type, id),
        'error',
        'merge_stamp_failed',
        `Salesforce refused HubSpot_Contact_Id__c after the merge into contact ${survivorId}: ${refusalOf(outcome)}`,
      );
    }
  }
  return failures;
}

/**
 * The survivor names the kept link's records (it inherited the merged contacts' values, which
 * may name a duplicate's Lead).
 */
async function stampSurvivor(ctx: IdentityContext, survivorId: string, keep: RecordLink | null, entry: LogLine): Promise<void> {
  const stampIds: Record<string, string> = {
    ...(keep?.salesforceLeadId ? { salesforce_lead_id: keep.salesforceLeadId } : {}),
    ...(keep?.salesforceContactId ? { salesforce_contact_id: keep.salesforceContactId } : {}),
  };
  if (Object.keys(stampIds).length === 0) return;
  await ctx.ledger.remember(ctx.installationId, 'hubspot', [{ recordId: survivorId, values: stampIds }]);
  const outcome = (await ctx.hubspot.updateContacts([{ id: survivorId, properties: stampIds }])).get(survivorId);
  if (outcome && !outcome.ok)
    entry(
      contactRef(survivorId),
      'error',
      'merge_stamp_failed',
      `HubSpot refused the Salesforce ids after the merge: ${refusalOf(outcome)}`,
    );
}

/** Unconverted Leads naming one of the contacts that no link holds. */
async function unlinkedLeadsNaming(ctx: IdentityContext, contactIds: readonly string[]): Promise<SalesforceRecord[]> {
  const ids = contactIds.filter((id) => /^\d+$/.test(id));
  if (ids.length === 0) return [];
  const leads = await ctx.salesforce.unconvertedLeadsNaming(ids);
  const held = await linksBySalesforceIds(
    ctx.db,
    ctx.installationId,
    leads.map((lead) => lead.Id),
  );
  return leads.filter((lead) => !held.has(lead.Id));
}

/**
 * Merges a sync finds before their event: a contact read with `hs_merged_object_ids` naming
 * linked contacts is a merge's survivor whose `contact.merge` has not been applied yet (the event
 * is late, or lost). Left alone, the survivor looks like a new person and gets a second Lead; so the merge
 * is applied first (the first merged id as the primary, as HubSpot lists it), and the event, when
 * it comes, finds it done. Returns the survivors it merged into.
 */
export async function applyMergesFoundInSync(
  ctx: IdentityContext,
  contacts: readonly { id: string; properties: Record<string, string | null | undefined> }[],
): Promise<string[]> {
  const merged = contacts.flatMap((c) => {
    const ids = (c.properties.hs_merged_object_ids ?? '')
      .split(';')
      .map((id) => id.trim())
      .filter((id) => id !== '' && id !== c.id);
    return ids.length > 0 ? [{ survivorId: c.id, mergedIds: ids }] : [];
  });
  if (merged.length === 0) return [];
  // Due: a merged id still linked, or named by a Lead without a link (a handoff stopped between its
  // writes) while no merge took it away yet: left alone, the survivor would get a Lead of its own.
  const allIds = merged.flatMap((m) => m.mergedIds);
  const linked = await linksByHubSpotIds(ctx.db, ctx.installationId, allIds);
  const applied = await mergedInto(ctx.db, ctx.installationId, 'hubspot', allIds);
  const unnamed = allIds.filter((id) => !linked.has(id) && !applied.has(id));
  const named = new Set((await unlinkedLeadsNaming(ctx, unnamed)).map((lead) => String(lead.HubSpot_Contact_Id__c)));
  const due = merged.filter((m) => m.mergedIds.some((id) => linked.has(id) || named.has(id)));
  for (const { survivorId, mergedIds } of due) {
    await applyHubSpotMerge(ctx, {
      objectId: survivorId,
      primaryObjectId: mergedIds[0],
      mergedObjectIds: mergedIds,
      newObjectId: survivorId,
    });
  }
  return due.map((m) => m.survivorId);
}

/**
 * Links just saved for contacts a merge already took away: a write that read its contact before the
 * merge and finished after it (its drain lock lost in a Redis restart — chaos suite). The merge is
 * applied again for each survivor, which keeps what it chose the first time and lets the late
 * link's Lead go as a duplicate.
 */
export async function settleLateLinksOfMergedContacts(ctx: IdentityContext, contactIds: readonly string[]): Promise<void> {
  const applied = await mergedInto(ctx.db, ctx.installationId, 'hubspot', [...new Set(contactIds)]);
  const bySurvivor = new Map<string, string[]>();
  for (const [mergedId, survivorId] of applied) bySurvivor.set(survivorId, [...(bySurvivor.get(survivorId) ?? []), mergedId]);
  for (const [survivorId, mergedIds] of bySurvivor)
    await applyHubSpotMerge(ctx, {
      objectId: survivorId,
      primaryObjectId: survivorId,
      mergedObjectIds: mergedIds,
      newObjectId: survivorId,
    });
}

/** Writes the survivor's earliest stored first touch on the contact and its linked Lead, where they say otherwise. */
async function stampEarliestFirstTouch(
  ctx: IdentityContext,
  survivorId: string,
  link: RecordLink | null,
  entry: (ref: string, level: SyncLogEntry['level'], action: string, reason: string) => void,
): Promise<void> {
  const first = earliestFirstTouch((await touchesOf(ctx.db, ctx.installationId, [survivorId])).filter((t) => t.isFirst));
  if (first === null) return;
  const at = first.occurredAt.toISOString();
  const hubspot: Record<string, string> = { attribution_first_at: at };
  const lead: Record<string, unknown> = { First_Touch_At__c: at };
  for (const [key, property, field] of FIRST_TOUCH_FIELDS) {
    const value = first[key];
    hubspot[property] = value ?? '';
    lead[field] = value;
  }
  const [current] = await ctx.hubspot.readContacts([survivorId], Object.keys(hubspot));
  const changed = Object.fromEntries(
    Object.entries(hubspot).filter(
      ([name, value]) =>
        (current?.properties[name] ?? '') !== value &&
        !(
          name === 'attribution_first_at' &&
          current?.properties[name] &&
          Date.parse(current.properties[name] ?? '') === first.occurredAt.getTime()
        ),
    ),
  );
  if (Object.keys(changed).length > 0) {
    await ctx.ledger.remember(ctx.installationId, 'hubspot', [{ recordId: survivorId, values: changed }]);
    const outcome = (await ctx.hubspot.updateContacts([{ id: survivorId, properties: changed }])).get(survivorId);
    if (outcome && !outcome.ok)
      entry(
        contactRef(survivorId),
        'error',
        'stamp_failed',
        `HubSpot refused the earlier first touch after the merge: ${refusalOf(outcome)}`,
      );
  }
  if (link?.salesforceLeadId) {
    const outcome = (await ctx.salesforce.updateRecords('Lead', [{ Id: link.salesforceLeadId, ...lead }])).get(link.salesforceLeadId);
    if (outcome && !outcome.ok && outcome.code !== 'CANNOT_UPDATE_CONVERTED_LEAD')
      entry(
        salesforceRef('Lead', link.salesforceLeadId),
        'error',
        'stamp_failed',
        `Salesforce refused the earlier first touch after the merge: ${refusalOf(outcome)}`,
      );
  }
}

/**
 * Applies Salesforce merges of one type: each merged-away record (`MasterRecordId` set) hands its
 * link to the master. When the master has a link of its own, two HubSpot contacts now name one
 * record: the merged-away one's link is set aside and reported.
 */
export async function applySalesforceMerges(
  ctx: IdentityContext,
  type: 'Lead' | 'Contact',
  merged: readonly { id: string; masterId: string }[],
): Promise<void> {
  if (merged.length === 0) return;
  const log: SyncLogEntry[] = [];
  const links = await linksBySalesforceIds(
    ctx.db,
    ctx.installationId,
    merged.flatMap((m) => [m.id, m.masterId]),
  );
  for (const { id, masterId } of merged) {
    const loser = links.get(id);
    const master = links.get(masterId);
    if (type === 'Lead') await repointSalesforceLead(ctx.db, ctx.installationId, [id], masterId);
    if (!loser) continue;
    const ref = salesforceRef(type, masterId);
    if (master && master.hubspotContactId !== loser.hubspotContactId) {
      await setLinksAside(ctx.db, ctx.installationId, [{ ...loser, deletedSide: 'salesforce', deletedId: id, reason: 'merged' }]);
      log.push({
        installationId: ctx.installationId,
        recordRef: contactRef(loser.hubspotContactId),
        level: 'warn',
        action: 'merge_duplicate_unlinked',
        reason: `${type} ${id} was merged into ${masterId}, which is linked to contact ${master.hubspotContactId}: this contact is unlinked, not deleted; merge the two contacts in HubSpot if they are the same person`,
      });
      continue;
    }
    // CRM stamps first, then the link: a failure in between retries with the loser still linked,
    // so the master is stamped again (the other order left it unstamped for good — chaos suite).
    const stamp = type === 'Lead' ? { salesforce_lead_id: masterId } : { salesforce_contact_id: masterId };
    await ctx.ledger.remember(ctx.installationId, 'hubspot', [{ recordId: loser.hubspotContactId, values: stamp }]);
    const outcome = (await ctx.hubspot.updateContacts([{ id: loser.hubspotContactId, properties: stamp }])).get(loser.hubspotContactId);
    const written = await ctx.salesforce.updateRecords(type, [{ Id: masterId, HubSpot_Contact_Id__c: loser.hubspotContactId }]);
    const refused = [outcome, written.get(masterId)].find((o) => o !== undefined && !o.ok);
    await moveLinkRecord(ctx.db, ctx.installationId, loser.hubspotContactId, type, masterId);
    log.push({
      installationId: ctx.installationId,
      recordRef: ref,
      level: refused ? 'error' : 'info',
      action: 'merge_records',
      reason: `Salesforce merged ${type} ${id} into ${masterId}: contact ${loser.hubspotContactId} now linked to ${masterId}${refused && !refused.ok ? ` (a stamp was refused: ${refused.code} ${refused.message})` : ''}`,
    });
    await ctx.markPending('to-hubspot', [`${type}:${masterId}`]);
  }
  await writeSyncLog(ctx.db, log);
}

/**
 * Email consent both ways (the rule: src/domain/consent.ts). Both drains call `carryConsent` with
 * the contacts and Salesforce records they already read: an opt-out made in HubSpot is ticked on
 * the Lead (or, once converted, the Contact) and one made in Salesforce unsubscribes the address
 * in HubSpot through the subscription preferences API (`hs_email_optout` cannot be written).
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import { decideConsent, optedOutValue, sameMemory, type ConsentMemory } from '../domain/consent.ts';
import { consentMemories, rememberConsent } from '../store/privacy.ts';
import type { RecordLink } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, salesforceRef, stageValues, type LogLine, type SyncContext, syncLogLines } from './context.ts';

/** The HubSpot contact property that says "unsubscribed from all email" (calculated, read-only). */
export const HUBSPOT_OPT_OUT_PROPERTY = 'hs_email_optout';
/** The Salesforce checkbox on Lead and Contact. */
export const SALESFORCE_OPT_OUT_FIELD = 'HasOptedOutOfEmail';

interface Pair {
  contact: HubSpotContact;
  type: 'Lead' | 'Contact';
  recordId: string;
}

/** The Salesforce record that carries the person: the Contact once the Lead is converted, else the Lead. */
function personRecord(link: RecordLink): { type: 'Lead' | 'Contact'; id: string } | null {
  if (link.salesforceContactId) return { type: 'Contact', id: link.salesforceContactId };
  if (link.salesforceLeadId) return { type: 'Lead', id: link.salesforceLeadId };
  return null;
}

/** What the consent run decided: memories to save, opt-outs to write on each side. */
interface ConsentPlan {
  remember: { contactId: string; memory: ConsentMemory }[];
  salesforceOptOuts: Pair[];
  hubspotOptOuts: { pair: Pair; email: string; memory: ConsentMemory }[];
  /** The memory of each Salesforce opt-out, saved once Salesforce took it. */
  pendingMemory: Map<string, ConsentMemory>;
}

/**
 * Brings the opt-outs of the given linked contacts across (see the rule). `known` holds Salesforce
 * records the caller read already (with `HasOptedOutOfEmail`); others are read here only where
 * the answer could matter (the contact is opted out, or the app has seen an opt-out before).
 */
export async function carryConsent(
  ctx: SyncContext,
  contacts: readonly HubSpotContact[],
  links: readonly RecordLink[],
  known: ReadonlyMap<string, SalesforceRecord>,
): Promise<void> {
  // 1. One pair per linked contact (later links of the run win: a conversion adds the Contact).
  const pairs = consentPairs(contacts, links);
  if (pairs.length === 0) return;
  const memories = await consentMemories(
    ctx.db,
    ctx.installationId,
    pairs.map((p) => p.contact.id),
  );
  // 2. The Salesforce side, read where the caller did not and the answer can change something.
  const records = await readPersonRecords(ctx, pairs, memories, known);
  // 3. Decide per contact.
  const { log, entry } = syncLogLines(ctx);
  const plan = decideOptOuts(pairs, records, memories, entry);
  // 4. Writes. The app's own values are remembered first: their echoes can arrive before the calls return.
  await writeSalesforceOptOuts(ctx, plan, records, entry);
  await writeHubSpotOptOuts(ctx, plan, entry);
  await rememberConsent(ctx.db, ctx.installationId, plan.remember);
  await writeSyncLog(ctx.db, log);
}

/** One pair per linked contact, on its merged link (later links of the run win: a conversion adds the Contact). */
function consentPairs(contacts: readonly HubSpotContact[], links: readonly RecordLink[]): Pair[] {
  const linkOf = new Map<string, RecordLink>();
  for (const link of links) {
    const before = linkOf.get(link.hubspotContactId);
    linkOf.set(
      link.hubspotContactId,
      before ? { ...before, ...Object.fromEntries(Object.entries(link).filter(([, v]) => v !== null)) } : link,
    );
  }
  return contacts.flatMap((contact) => {
    const link = linkOf.get(contact.id);
    const record = link ? personRecord(link) : null;
    return record ? [{ contact, type: record.type, recordId: record.id }] : [];
  });
}

/** The pairs' Salesforce records: the caller's, plus those read here where the answer can change something. */
async function readPersonRecords(
  ctx: SyncContext,
  pairs: readonly Pair[],
  memories: ReadonlyMap<string, ConsentMemory>,
  known: ReadonlyMap<string, SalesforceRecord>,
): Promise<Map<string, SalesforceRecord>> {
  const records = new Map(known);
  for (const type of ['Lead', 'Contact'] as const) {
    const missing = pairs
      .filter((p) => p.type === type && !(records.get(p.recordId) && SALESFORCE_OPT_OUT_FIELD in (records.get(p.recordId) ?? {})))
      .filter(
        (p) => optedOutValue(p.contact.properties[HUBSPOT_OPT_OUT_PROPERTY]) === true || memories.has(p.contact.id) || type === 'Contact',
      )
      .map((p) => p.recordId);
    if (missing.length === 0) continue;
    for (const record of await ctx.salesforce.readRecords(
      type,
      [...new Set(missing)],
      type === 'Lead' ? ['Id', SALESFORCE_OPT_OUT_FIELD, 'Status', 'IsConverted'] : ['Id', SALESFORCE_OPT_OUT_FIELD],
    ))
      records.set(record.Id, record);
  }
  return records;
}

/** Decides each pair's consent: an opt-out to carry to one side, a held opt-in, or a memory to update. */
function decideOptOuts(
  pairs: readonly Pair[],
  records: ReadonlyMap<string, SalesforceRecord>,
  memories: ReadonlyMap<string, ConsentMemory>,
  entry: LogLine,
): ConsentPlan {
  const plan: ConsentPlan = { remember: [], salesforceOptOuts: [], hubspotOptOuts: [], pendingMemory: new Map() };
  for (const pair of pairs) {
    const record = records.get(pair.recordId);
    const before = memories.get(pair.contact.id) ?? null;
    // HubSpot leaves `hs_email_optout` unset (null) until the address is unsubscribed: unset is subscribed.
    const decision = decideConsent(
      {
        hubspot: optedOutValue(pair.contact.properties[HUBSPOT_OPT_OUT_PROPERTY]) ?? false,
        salesforce: record ? optedOutValue(record[SALESFORCE_OPT_OUT_FIELD]) : null,
      },
      before,
    );
    const ref = contactRef(pair.contact.id);
    if (decision.optOut === 'salesforce') {
      // A converted Lead is read-only in Salesforce: its Contact carries the person.
      plan.salesforceOptOuts.push(pair);
      plan.pendingMemory.set(pair.contact.id, decision.remember);
      entry(ref, 'info', 'consent_opt_out', decision.reason, { record: salesforceRef(pair.type, pair.recordId) });
      continue;
    }
    if (decision.optOut === 'hubspot') {
      const email = pair.contact.properties.email?.trim().toLowerCase() ?? '';
      if (email === '') {
        entry(ref, 'error', 'consent_opt_out_failed', `${decision.reason}, but the contact has no email address to unsubscribe`);
        continue;
      }
      plan.hubspotOptOuts.push({ pair, email, memory: decision.remember });
      entry(ref, 'info', 'consent_opt_out', decision.reason, { record: salesforceRef(pair.type, pair.recordId) });
      continue;
    }
    if (decision.optInHeld !== null)
      entry(ref, 'warn', 'consent_opt_in_held', decision.reason, {
        record: salesforceRef(pair.type, pair.recordId),
        side: decision.optInHeld,
      });
    if (!sameMemory(before, decision.remember)) plan.remember.push({ contactId: pair.contact.id, memory: decision.remember });
  }
  return plan;
}

/** Ticks the opt-out checkbox on the Leads and Contacts; a refused one is not remembered, so the next sync tries again. */
async function writeSalesforceOptOuts(
  ctx: SyncContext,
  plan: ConsentPlan,
  records: ReadonlyMap<string, SalesforceRecord>,
  entry: LogLine,
): Promise<void> {
  for (const type of ['Lead', 'Contact'] as const) {
    const batch = plan.salesforceOptOuts.filter((p) => p.type === type);
    if (batch.length === 0) continue;
    if (type === 'Lead') {
      await ctx.ledger.remember(
        ctx.installationId,
        'salesforce',
        batch.flatMap((p) => {
          const record = records.get(p.recordId);
          return record ? [{ recordId: p.recordId, values: stageValues('Lead', record) }] : [];
        }),
      );
    }
    const outcomes = await ctx.salesforce.updateRecords(
      type,
      batch.map((p) => ({ Id: p.recordId, [SALESFORCE_OPT_OUT_FIELD]: true })),
    );
    for (const pair of batch) {
      const outcome = outcomes.get(pair.recordId);
      const memory = plan.pendingMemory.get(pair.contact.id);
      // Not remembered when refused: the next sync of the contact tries again.
      if (outcome?.ok && memory) plan.remember.push({ contactId: pair.contact.id, memory });
      else
        entry(
          contactRef(pair.contact.id),
          'error',
          'consent_opt_out_failed',
          `Salesforce refused ${SALESFORCE_OPT_OUT_FIELD} on ${pair.type} ${pair.recordId}: ${refusalOf(outcome)}`,
        );
    }
  }
}

/** Unsubscribes the addresses in HubSpot; a refused one is not remembered, so the next sync tries again. */
async function writeHubSpotOptOuts(ctx: SyncContext, plan: ConsentPlan, entry: LogLine): Promise<void> {
  if (plan.hubspotOptOuts.length === 0) return;
  await ctx.ledger.remember(
    ctx.installationId,
    'hubspot',
    plan.hubspotOptOuts.map((o) => ({ recordId: o.pair.contact.id, values: { [HUBSPOT_OPT_OUT_PROPERTY]: 'true' } })),
  );
  const outcomes = await ctx.hubspot.unsubscribeFromAllEmail(plan.hubspotOptOuts.map((o) => o.email));
  for (const { pair, email, memory } of plan.hubspotOptOuts) {
    const outcome = outcomes.get(email);
    if (outcome?.ok) plan.remember.push({ contactId: pair.contact.id, memory });
    else
      entry(
        contactRef(pair.contact.id),
        'error',
        'consent_opt_out_failed',
        `HubSpot did not unsubscribe the contact's address: ${refusalOf(outcome)}`,
      );
  }
}

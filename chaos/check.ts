/**
 * After the workload: wait until the app has caught up (queues idle, pending sets empty, no
 * deliveries left in either sandbox, no CRM writes for a while; in pull mode also every change
 * event channel connected and the HubSpot journal read to its end after the quiet began), watch a
 * quiet window for echo writes, then compare both CRMs with what every journey expects.
 */
import { Queue } from 'bullmq';
import type jsforce from 'jsforce';
import type { RedisConnection } from '../src/queue/redis.ts';
import { compareStageRank, DEFAULT_STAGE_DICTIONARY, SHARED_STAGES, type SharedStage } from '../src/domain/stages.ts';
import { queueKeys, queues, type QueueKey } from '../src/queue/catalog.ts';
import type { Queryable } from '../src/store/db.ts';
import { readJournalPosition } from '../src/store/journal-offsets.ts';
import { feedChannels } from '../src/store/salesforce-feeds.ts';
import {
  propertyHistories,
  queryAll,
  readAllContacts,
  type ContactState,
  type HubSpotSandboxClient,
  type HubSpotStats,
  type LeadState,
  type SalesforceSandboxClient,
  type SalesforceStats,
} from './crm.ts';
import type { Journey } from './journeys.ts';

const INTAKE_QUEUES: QueueKey[] = ['webhookDeliveries', 'hubspotEvents', 'salesforceEvents'];
const DRAIN_QUEUES: QueueKey[] = ['syncToSalesforce', 'syncToHubSpot'];
const BUSY_STATES = ['waiting', 'active', 'prioritized', 'waiting-children'] as const;

/** HubSpot calls that change data (reads, searches and batch reads excluded). */
export function hubspotWrites(stats: HubSpotStats): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats.endpoints).filter(
      ([key]) => /^(POST|PUT|PATCH|DELETE) /.test(key) && !/\/(batch\/read|search)$/.test(key) && !key.startsWith('POST /oauth'),
    ),
  );
}

/** Salesforce calls that change data (queries, describes, logins excluded). */
export function salesforceWrites(stats: SalesforceStats): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats.calls).filter(([key]) => /^(POST|PATCH|PUT|DELETE) /.test(key) && !/oauth2|\/query|Soap\/u/.test(key)),
  );
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) if (value - (before[key] ?? 0) > 0) out[key] = value - (before[key] ?? 0);
  return out;
}

export interface CheckDeps {
  redis: RedisConnection;
  prefix: string;
  installationId: string;
  hubspot: HubSpotSandboxClient;
  salesforce: SalesforceSandboxClient;
  db: Queryable;
  reader: jsforce.Connection;
  hubspotToken: string;
  /** Both sides in pull mode: changes arrive from the HubSpot journal and Salesforce change events. */
  pull: boolean;
}

/** BullMQ queues of the catalog, opened on the runner's connection. */
export function openQueues(redis: RedisConnection, prefix: string): Map<QueueKey, Queue> {
  return new Map(
    queueKeys.map((key) => {
      const queue = new Queue(queues[key].name, { connection: redis, prefix });
      // While Redis is being restarted the commands fail; the next sample tries again.
      queue.on('error', () => undefined);
      return [key, queue];
    }),
  );
}

interface Activity {
  busy: string[];
  writes: number;
  /** In pull mode: when the HubSpot journal feed last found no entry after its stored offset (0: never). */
  journalCaughtUpAt?: number;
}

async function activity(deps: CheckDeps, open: Map<QueueKey, Queue>): Promise<Activity> {
  const busy: string[] = [];
  const pending = await Promise.all(
    ['to-salesforce', 'to-hubspot'].map((d) => deps.redis.zcard(`${deps.prefix}:pending:${deps.installationId}:${d}`)),
  );
  const pendingTotal = pending.reduce((a, b) => a + b, 0);
  if (pendingTotal > 0) busy.push(`${pendingTotal} records pending`);
  for (const [key, queue] of open) {
    const counts = await queue.getJobCounts(...BUSY_STATES, 'delayed');
    const running = BUSY_STATES.reduce((n, state) => n + (counts[state] ?? 0), 0);
    if (running > 0) busy.push(`${queues[key].name}: ${running} waiting/active`);
    if (INTAKE_QUEUES.includes(key) && (counts.delayed ?? 0) > 0) busy.push(`${queues[key].name}: ${counts.delayed} delayed`);
  }
  const [hsStats, sfStats, webhooks] = await Promise.all([
    deps.hubspot.stats(),
    deps.salesforce.stats(),
    deps.hubspot.undeliveredWebhooks(),
  ]);
  if (webhooks > 0) busy.push(`${webhooks} HubSpot webhook requests undelivered`);
  if (sfStats.outbound.pending > 0) busy.push(`${sfStats.outbound.pending} Outbound Messages undelivered`);
  const writes = sum(hubspotWrites(hsStats)) + sum(salesforceWrites(sfStats));
  if (!deps.pull) return { busy, writes };
  const [journal, channels] = await Promise.all([
    readJournalPosition(deps.db, deps.installationId),
    feedChannels(deps.db, deps.installationId),
  ]);
  for (const channel of channels) if (channel.state !== 'connected') busy.push(`Salesforce ${channel.channel} ${channel.state}`);
  if (channels.length === 0) busy.push('no Salesforce change event channel followed');
  return { busy, writes, journalCaughtUpAt: journal?.caughtUpAt?.getTime() ?? 0 };
}

export interface Convergence {
  converged: boolean;
  /** From the end of the workload (faults cleared) to the start of the quiet period. */
  ms: number;
  /** What was still going on when the wait gave up. */
  stillBusy: string[];
}

/** Waits until nothing is left to do and no CRM write happened for `quietMs`. */
export async function waitForConvergence(
  deps: CheckDeps,
  open: Map<QueueKey, Queue>,
  since: number,
  quietMs: number,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<Convergence> {
  let quietSince: number | undefined;
  let lastWrites = -1;
  let lastReport = 0;
  let last: Activity = { busy: ['not sampled yet'], writes: 0 };
  while (Date.now() - since < timeoutMs) {
    const now = Date.now();
    try {
      last = await activity(deps, open);
    } catch (error) {
      last = { busy: [`sampling failed: ${error instanceof Error ? error.message : String(error)}`], writes: -2 };
    }
    const idle = last.busy.length === 0 && last.writes === lastWrites;
    lastWrites = last.writes;
    if (idle) {
      quietSince ??= now;
      // In pull mode a change may still wait in the journal: it was read to its end since the quiet began.
      const journalRead = last.journalCaughtUpAt === undefined || last.journalCaughtUpAt >= quietSince;
      if (journalRead && Date.now() - quietSince >= quietMs) return { converged: true, ms: quietSince - since, stillBusy: [] };
    } else {
      quietSince = undefined;
      if (now - lastReport > 10_000) {
        lastReport = now;
        progress(`converging (${Math.round((now - since) / 1000)} s): ${last.busy.join('; ') || 'CRM writes still happening'}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { converged: false, ms: Date.now() - since, stillBusy: last.busy.length > 0 ? last.busy : ['CRM writes still happening'] };
}

/** Write calls each CRM received during `windowMs` of quiet (the app echoing its own writes). */
export async function echoWindow(deps: CheckDeps, windowMs: number): Promise<{ writes: number; endpoints: Record<string, number> }> {
  const [hs0, sf0] = await Promise.all([deps.hubspot.stats(), deps.salesforce.stats()]);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const [hs1, sf1] = await Promise.all([deps.hubspot.stats(), deps.salesforce.stats()]);
  const endpoints = {
    ...prefixKeys('HubSpot ', diff(hubspotWrites(hs1), hubspotWrites(hs0))),
    ...prefixKeys('Salesforce ', diff(salesforceWrites(sf1), salesforceWrites(sf0))),
  };
  return { writes: sum(endpoints), endpoints };
}

function prefixKeys(prefix: string, record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [`${prefix}${k}`, v]));
}

export interface Findings {
  lost: { journey: number; kind: string; problem: string; refs: string[]; trail?: string[] }[];
  /** Two live records with one email, two Leads naming one contact, or a second record of a journey's person under another of its emails. */
  duplicates: string[];
  regressions: string[];
  orphans: string[];
  /** `record_links` rows naming a record that is not live in its CRM (deleted, merged away, never made). */
  orphanLinks: string[];
  /** Jobs still delayed in the drain queues with nothing pending (they will find nothing to do). */
  idleDelayedDrains: number;
  contacts: number;
  leads: number;
}

const empty = (value: string | null | undefined): boolean => value === null || value === undefined || value === '';
const same = (actual: string | null | undefined, wanted: string | null | undefined) => (empty(wanted) ? empty(actual) : actual === wanted);

/** Compares both CRMs, the app's links and stage history, and the queues with what the journeys expect. */
export async function checkFinalState(
  deps: CheckDeps,
  open: Map<QueueKey, Queue>,
  journeys: readonly Journey[],
  excluded: ReadonlySet<number>,
): Promise<Findings> {
  const contacts = await readAllContacts(deps.hubspot.url, deps.hubspotToken);
  const leads = await queryAll<LeadState & Record<string, unknown>>(
    deps.reader,
    'SELECT Id, Email, Phone, Status, IsConverted, ConvertedContactId, ConvertedOpportunityId, HubSpot_Contact_Id__c, HasOptedOutOfEmail FROM Lead',
  );
  const linkRows = await deps.db.query<{
    hubspot_contact_id: string;
    salesforce_lead_id: string | null;
    salesforce_contact_id: string | null;
    salesforce_opportunity_id: string | null;
  }>(
    'SELECT hubspot_contact_id, salesforce_lead_id, salesforce_contact_id, salesforce_opportunity_id FROM record_links WHERE installation_id = $1',
    [deps.installationId],
  );
  const links = new Map(linkRows.map((r) => [r.hubspot_contact_id, r]));
  const linkedLeads = new Set(linkRows.flatMap((r) => (r.salesforce_lead_id ? [r.salesforce_lead_id] : [])));
  const contactById = new Map(contacts.map((c) => [c.id, c]));
  const contactsByEmail = groupBy(contacts, (c) => c.properties.email?.toLowerCase() ?? '');
  const leadsByContact = groupBy(leads, (l) => l.HubSpot_Contact_Id__c ?? '');
  const leadsByEmail = groupBy(leads, (l) => l.Email?.toLowerCase() ?? '');
  const leadById = new Map(leads.map((l) => [l.Id, l]));

  // 1. Changes lost: each journey's final state.
  const lost: Findings['lost'] = [];
  /** Contacts of opt-out journeys → journey index. */
  const optedOut = new Map<string, number>();
  for (const journey of journeys) {
    if (excluded.has(journey.index)) continue;
    const problems: string[] = [];
    const sameEmail = contactsByEmail.get(journey.email) ?? [];
    const contact: ContactState | undefined =
      journey.state.contactId !== undefined ? contactById.get(journey.state.contactId) : sameEmail[0];
    const expected = journey.expected;
    if (!contact) {
      problems.push('no HubSpot contact');
    } else {
      const p = contact.properties;
      if (!same(p.lifecyclestage, expected.hubspot.lifecyclestage))
        problems.push(`lifecyclestage ${p.lifecyclestage ?? '∅'} ≠ ${expected.hubspot.lifecyclestage ?? '∅'}`);
      if (expected.hubspot.hs_lead_status !== undefined && !same(p.hs_lead_status, expected.hubspot.hs_lead_status))
        problems.push(`hs_lead_status ${p.hs_lead_status ?? '∅'} ≠ ${expected.hubspot.hs_lead_status ?? '∅'}`);
      if (expected.hubspot.sales_feedback_status !== undefined && !same(p.sales_feedback_status, expected.hubspot.sales_feedback_status))
        problems.push(`sales_feedback_status ${p.sales_feedback_status ?? '∅'} ≠ ${expected.hubspot.sales_feedback_status ?? '∅'}`);
      if (expected.hubspot.phone !== undefined && !same(p.phone, expected.hubspot.phone))
        problems.push(`contact phone ${p.phone ?? '∅'} ≠ ${expected.hubspot.phone}`);
      if (expected.hubspot.email !== undefined && p.email?.toLowerCase() !== expected.hubspot.email)
        problems.push(`contact email ${p.email ?? '∅'} ≠ ${expected.hubspot.email}`);
    }
    const byContact = contact ? (leadsByContact.get(contact.id) ?? []) : [];
    if (expected.lead === null) {
      const stray = [...byContact, ...(leadsByEmail.get(journey.email) ?? [])];
      if (stray.length > 0) problems.push(`a Lead exists (${stray[0]?.Id ?? ''}) though the contact never became an MQL`);
    } else {
      const lead =
        (journey.state.leadId !== undefined ? leadById.get(journey.state.leadId) : undefined) ??
        byContact[0] ??
        (leadsByEmail.get(journey.email) ?? [])[0];
      if (!lead) {
        problems.push('no Salesforce Lead');
      } else {
        if (lead.Status !== expected.lead.Status) problems.push(`Lead Status ${lead.Status} ≠ ${expected.lead.Status}`);
        if (lead.IsConverted !== expected.lead.IsConverted)
          problems.push(`Lead IsConverted ${String(lead.IsConverted)} ≠ ${String(expected.lead.IsConverted)}`);
        if (expected.lead.Phone !== undefined && lead.Phone !== expected.lead.Phone)
          problems.push(`Lead Phone ${lead.Phone ?? '∅'} ≠ ${expected.lead.Phone}`);
        if (expected.lead.Email !== undefined && lead.Email?.toLowerCase() !== expected.lead.Email)
          problems.push(`Lead Email ${lead.Email ?? '∅'} ≠ ${expected.lead.Email}`);
        if (contact) {
          // A Lead converted before the app first saw it is read-only in Salesforce: the app cannot stamp it
          // then; the link lives on the contact and in record_links (both checked below).
          const unstampable = lead.IsConverted && lead.HubSpot_Contact_Id__c === null;
          if (lead.HubSpot_Contact_Id__c !== contact.id && !unstampable)
            problems.push(`Lead HubSpot_Contact_Id__c ${lead.HubSpot_Contact_Id__c ?? '∅'} ≠ contact ${contact.id}`);
          if (contact.properties.salesforce_lead_id !== lead.Id)
            problems.push(`contact salesforce_lead_id ${contact.properties.salesforce_lead_id ?? '∅'} ≠ Lead ${lead.Id}`);
          const link = links.get(contact.id);
          if (link?.salesforce_lead_id !== lead.Id) problems.push(`record_links Lead ${link?.salesforce_lead_id ?? '∅'} ≠ ${lead.Id}`);
          if (lead.IsConverted) {
            if (contact.properties.salesforce_contact_id !== lead.ConvertedContactId)
              problems.push(
                `contact salesforce_contact_id ${contact.properties.salesforce_contact_id ?? '∅'} ≠ ${lead.ConvertedContactId ?? '∅'}`,
              );
            if (link?.salesforce_contact_id !== lead.ConvertedContactId)
              problems.push(`record_links Contact ${link?.salesforce_contact_id ?? '∅'} ≠ ${lead.ConvertedContactId ?? '∅'}`);
          }
        }
      }
    }
    problems.push(...identityProblems(journey, { contact, contactById, leadById, leadsByContact, links, linkedLeads }));
    if (expected.optedOut && contact) {
      const lead = journey.state.leadId !== undefined ? leadById.get(journey.state.leadId) : byContact[0];
      if (contact.properties.hs_email_optout !== 'true')
        problems.push(`contact hs_email_optout ${contact.properties.hs_email_optout ?? '∅'} ≠ true`);
      if (lead && lead.HasOptedOutOfEmail !== true) problems.push(`Lead HasOptedOutOfEmail ${String(lead.HasOptedOutOfEmail)} ≠ true`);
      optedOut.set(contact.id, journey.index);
    }
    const state = journey.state;
    const refs = [contact?.id, state.partnerContactId, ...(state.mergedContactIds ?? [])]
      .filter((id): id is string => id !== undefined)
      .map((id) => `hubspot:contact:${id}`);
    refs.push(
      ...[state.leadId, state.partnerLeadId, state.unlinkedLeadId, state.duplicateLeadId, state.mergedLeadId]
        .filter((id): id is string => id !== undefined)
        .map((id) => `salesforce:Lead:${id}`),
    );
    if (problems.length > 0)
      lost.push({ journey: journey.index, kind: journey.kind, problem: problems.join('; '), refs: [...new Set(refs)] });
  }
  // Opt-outs held: HubSpot never subscribed an opted-out contact again (its property history, oldest first).
  const histories = await propertyHistories(deps.hubspot.url, deps.hubspotToken, [...optedOut.keys()], 'hs_email_optout');
  for (const [contactId, index] of optedOut) {
    const values = histories.get(contactId) ?? [];
    const first = values.indexOf('true');
    if (first >= 0 && values.slice(first).some((v) => v !== 'true')) {
      const journey = journeys[index];
      lost.push({
        journey: index,
        kind: journey?.kind ?? '?',
        problem: `contact re-subscribed after the opt-out: hs_email_optout ${values.map((v) => v || '∅').join(' → ')}`,
        refs: [`hubspot:contact:${contactId}`],
      });
    }
  }
  // The sync log of the first few, so a failing run explains itself.
  const explained = [...new Map(lost.map((l) => [l.kind, l])).values()].slice(0, 6);
  for (const entry of explained) {
    const rows = await deps.db.query<{ record_ref: string; action: string; reason: string; created_at: Date }>(
      'SELECT record_ref, action, reason, created_at FROM sync_log WHERE installation_id = $1 AND record_ref = ANY($2) ORDER BY id',
      [deps.installationId, entry.refs],
    );
    entry.trail = rows.map(
      (r) =>
        `${r.created_at.toISOString().slice(11, 23)} ${r.record_ref.split(':').slice(0, 2).join(':')} ${r.action}: ${r.reason.slice(0, 160)}`,
    );
  }

  // 2. Duplicate records.
  const duplicates: string[] = [];
  for (const [contactId, group] of leadsByContact)
    if (contactId !== '' && group.length > 1)
      duplicates.push(`${group.length} Leads with HubSpot_Contact_Id__c ${contactId}: ${group.map((l) => l.Id).join(', ')}`);
  for (const [email, group] of leadsByEmail)
    if (email !== '' && group.length > 1) duplicates.push(`${group.length} Leads with email ${email}`);
  for (const [email, group] of contactsByEmail)
    if (email !== '' && group.length > 1) duplicates.push(`${group.length} HubSpot contacts with email ${email}`);
  // A person's second record under another of the journey's emails (an old one after a change, a merged-away one).
  for (const journey of journeys) {
    if (excluded.has(journey.index)) continue;
    const { state } = journey;
    const contact = state.contactId ?? contactsByEmail.get(journey.email)?.[0]?.id;
    // A journey that may have no Lead reports a stray one under changes lost already.
    if (journey.expected.lead === null) continue;
    const ownLeads = new Set(
      [state.leadId, state.unlinkedLeadId, contact ? leadsByContact.get(contact)?.[0]?.Id : undefined].filter((id) => id !== undefined),
    );
    for (const email of new Set([journey.email, journey.newEmail, journey.partner?.email].filter((e): e is string => e !== undefined))) {
      for (const other of contactsByEmail.get(email) ?? [])
        if (other.id !== contact)
          duplicates.push(
            `journey ${journey.index} (${journey.kind}): contact ${other.id} with ${email} besides the journey's contact ${contact ?? '∅'}`,
          );
      for (const lead of leadsByEmail.get(email) ?? [])
        if (!ownLeads.has(lead.Id))
          duplicates.push(
            `journey ${journey.index} (${journey.kind}): Lead ${lead.Id} with ${email} besides the journey's Lead${ownLeads.size > 1 ? 's' : ''} ${[...ownLeads].join(', ') || '∅'}`,
          );
    }
  }

  // 3. Stage regressions: the funnel never goes back except through a rejected/recycled row.
  const regressions: string[] = [];
  const history = await deps.db.query<{ hubspot_contact_id: string; stage: string }>(
    'SELECT hubspot_contact_id, stage FROM stage_history WHERE installation_id = $1 ORDER BY hubspot_contact_id, occurred_at, id',
    [deps.installationId],
  );
  const byContactHistory = groupBy(history, (r) => r.hubspot_contact_id);
  for (const [contactId, rows] of byContactHistory) {
    const regression = findRegression(rows.map((r) => r.stage));
    if (regression !== null) regressions.push(`contact ${contactId}: ${rows.map((r) => r.stage).join(' → ')} (${regression})`);
  }

  // 4. Orphan jobs: failed anywhere, or still waiting/active when all is quiet.
  const orphans: string[] = [];
  let idleDelayedDrains = 0;
  for (const [key, queue] of open) {
    const counts = await queue.getJobCounts('failed', ...BUSY_STATES, 'delayed');
    const name = queues[key].name;
    if ((counts.failed ?? 0) > 0) {
      const failed = await queue.getFailed(0, 2);
      orphans.push(
        `${name}: ${counts.failed} failed (${failed
          .map((j) => `${j.id ?? '?'}: ${j.failedReason}`)
          .join(' | ')
          .slice(0, 300)})`,
      );
    }
    // A scheduled job (a reconcile pass) may be running right now: stuck is still there 15 s later.
    let running = BUSY_STATES.reduce((n, state) => n + (counts[state] ?? 0), 0);
    for (let waited = 0; running > 0 && waited < 15_000; waited += 500) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const again = await queue.getJobCounts(...BUSY_STATES);
      running = BUSY_STATES.reduce((n, state) => n + (again[state] ?? 0), 0);
    }
    if (running > 0) orphans.push(`${name}: ${running} stuck waiting/active`);
    if (INTAKE_QUEUES.includes(key) && (counts.delayed ?? 0) > 0) orphans.push(`${name}: ${counts.delayed} stuck delayed`);
    if (DRAIN_QUEUES.includes(key)) idleDelayedDrains += counts.delayed ?? 0;
  }
  const pendingKeys = await deps.redis.keys(`${deps.prefix}:pending:*`);
  for (const key of pendingKeys.filter((k) => !k.endsWith(':v'))) {
    const size = await deps.redis.zcard(key);
    if (size > 0) orphans.push(`${key}: ${size} records still pending`);
  }
  // 5. Orphan links: every link names live records on both sides.
  const liveContacts = new Set((await queryAll<{ Id: string }>(deps.reader, 'SELECT Id FROM Contact')).map((r) => r.Id));
  const liveOpportunities = new Set((await queryAll<{ Id: string }>(deps.reader, 'SELECT Id FROM Opportunity')).map((r) => r.Id));
  const orphanLinks: string[] = [];
  for (const link of linkRows) {
    const dead = [
      contactById.has(link.hubspot_contact_id) ? null : `HubSpot contact ${link.hubspot_contact_id}`,
      link.salesforce_lead_id === null || leadById.has(link.salesforce_lead_id) ? null : `Lead ${link.salesforce_lead_id}`,
      link.salesforce_contact_id === null || liveContacts.has(link.salesforce_contact_id) ? null : `Contact ${link.salesforce_contact_id}`,
      link.salesforce_opportunity_id === null || liveOpportunities.has(link.salesforce_opportunity_id)
        ? null
        : `Opportunity ${link.salesforce_opportunity_id}`,
    ].filter((d) => d !== null);
    if (dead.length > 0)
      orphanLinks.push(
        `link of contact ${link.hubspot_contact_id} ↔ Lead ${link.salesforce_lead_id ?? '∅'} / Contact ${link.salesforce_contact_id ?? '∅'}: ${dead.join(', ')} not live`,
      );
  }
  return { lost, duplicates, regressions, orphans, orphanLinks, idleDelayedDrains, contacts: contacts.length, leads: leads.length };
}

interface IdentityView {
  contact: ContactState | undefined;
  contactById: ReadonlyMap<string, ContactState>;
  leadById: ReadonlyMap<string, LeadState>;
  leadsByContact: ReadonlyMap<string, LeadState[]>;
  links: ReadonlyMap<string, { salesforce_lead_id: string | null }>;
  linkedLeads: ReadonlySet<string>;
}

/** What a merge must leave (docs/architecture.md §18): the merged-away records gone and named by nothing, a second Lead kept but let go. */
function identityProblems(journey: Journey, view: IdentityView): string[] {
  const problems: string[] = [];
  const { state, expected } = journey;
  if (expected.merge) {
    for (const id of state.mergedContactIds ?? []) {
      if (view.contactById.has(id)) problems.push(`merged-away contact ${id} still live`);
      if (view.links.has(id)) problems.push(`merged-away contact ${id} still linked`);
      for (const lead of view.leadsByContact.get(id) ?? []) problems.push(`Lead ${lead.Id} names merged-away contact ${id}`);
    }
    if (expected.merge.unlinkedLead) {
      const id = state.unlinkedLeadId;
      const lead = id !== undefined ? view.leadById.get(id) : undefined;
      if (id === undefined) problems.push('no second Lead to let go of its contact');
      else if (!lead) problems.push(`the second Lead ${id} is gone (a merge unlinks it, never deletes it)`);
      else {
        if (lead.HubSpot_Contact_Id__c !== null) problems.push(`the second Lead ${id} still names contact ${lead.HubSpot_Contact_Id__c}`);
        if (view.linkedLeads.has(id)) problems.push(`the second Lead ${id} is still linked`);
      }
    }
  }
  if (expected.leadMerge) {
    const id = state.mergedLeadId;
    if (id === undefined) problems.push('no merged-away Lead recorded');
    else {
      if (view.leadById.has(id)) problems.push(`merged-away Lead ${id} still live`);
      if (view.linkedLeads.has(id)) problems.push(`merged-away Lead ${id} still linked`);
    }
  }
  return problems;
}

/** The first backward move in a stage sequence, or null. */
export function findRegression(stages: readonly string[]): string | null {
  const known = new Set<string>(SHARED_STAGES);
  let floor: SharedStage | null = null;
  for (const raw of stages) {
    if (!known.has(raw)) return `unknown stage ${raw}`;
    const stage: SharedStage = raw;
    if (stage === 'rejected' || stage === 'recycled') {
      floor = stage;
      continue;
    }
    if (stage === 'lost') continue;
    if (floor !== null && compareStageRank(DEFAULT_STAGE_DICTIONARY, stage, floor) < 0) return `${stage} after ${floor}`;
    if (floor === null || compareStageRank(DEFAULT_STAGE_DICTIONARY, stage, floor) > 0) floor = stage;
  }
  return null;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}

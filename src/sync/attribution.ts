/**
 * Attribution stamps for a batch of people (docs/architecture.md §3): first and last touch from HubSpot
 * analytics, UTMs and Salesforce `LeadSource`, written to the HubSpot contact (`attribution_*`),
 * the Salesforce Lead (`First_/Last_Touch_*__c`, `LeadSource` only when empty) and, once converted
 * or linked, the Salesforce Contact; the record joins the Salesforce Campaign named like its UTM
 * campaign. The stamps ride on the caller's batch writes; what this module calls itself (Contact
 * read and update, Campaign and CampaignMember queries and creates) is per batch, never per lead.
 */
import { SALESFORCE_CUSTOM_FIELDS } from '../crm/field-catalog.ts';
import { CrmRejectedError } from '../crm/errors.ts';
import type { HubSpotContact, SalesforcePort, SalesforceRecord, WriteOutcome } from '../crm/ports.ts';
import { buildTouches, fillLeadSource, stampFields, type AttributionStamp, type Touch, type Touches } from '../domain/attribution.ts';
import { chooseMemberStatus, type MemberStatusOption } from '../domain/campaign-member-status.ts';
import { assertNever } from '../domain/result.ts';
import { parseTimestamp, presentOrNull } from '../domain/validation.ts';
import { originsByEmail, recordOrigins, recordTouches, type ContactOrigin, type StoredTouch } from '../store/touches.ts';
import {
  ATTRIBUTION_CONTACT_PROPERTIES,
  ATTRIBUTION_LEAD_FIELDS,
  DEFAULT_ATTRIBUTION_SETTINGS,
  HUBSPOT_STAMP_PROPERTIES,
  SALESFORCE_STAMP_FIELDS,
  type AttributionSettings,
  type CampaignSettings,
} from './attribution-settings.ts';
import { contactRef, salesforceRef, type SyncContext, type LogLine } from './context.ts';
import { SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';

/** The settings of a run: the installation's, or the defaults. */
export function attributionSettingsOf(ctx: Pick<SyncContext, 'attribution'>): AttributionSettings {
  return ctx.attribution ?? DEFAULT_ATTRIBUTION_SETTINGS;
}

// ---------------------------------------------------------------------------------------------
// Values and diffs

/** Salesforce text lengths of the stamp fields (field-catalog.ts), so a long UTM never fails a save. */
const SALESFORCE_TEXT_LENGTHS: ReadonlyMap<string, number> = new Map(
  SALESFORCE_CUSTOM_FIELDS.filter((field) => field.object === 'Lead' && field.type === 'Text').map((field) => [
    field.name,
    field.length ?? 255,
  ]),
);
/** Campaign.Name holds at most 80 characters. */
const CAMPAIGN_NAME_LENGTH = 80;
const CAMPAIGN_FIELDS = new Set(['First_Touch_Campaign__c', 'Last_Touch_Campaign__c']);

function isTimeField(field: string): boolean {
  return field.endsWith('_at') || field.endsWith('_At__c');
}

function textOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? presentOrNull(value) : null;
}

/** Whether a stored value already says what the stamp says (times compare as instants, blanks as absent). */
export function sameStampValue(field: string, current: unknown, next: string | null): boolean {
  const a = textOf(current);
  const b = next === null ? null : presentOrNull(next);
  if (a === null || b === null) return a === b;
  if (isTimeField(field)) {
    const at = parseTimestamp(a);
    return at !== null && at === parseTimestamp(b);
  }
  return a === b;
}

/** A stamp value cut to the Salesforce field's length. */
function salesforceValue(field: string, value: string | null): string | null {
  const length = SALESFORCE_TEXT_LENGTHS.get(field);
  return value === null || length === undefined ? value : value.slice(0, length);
}

/** The HubSpot properties of a stamp that differ from the contact's current values. */
export function hubspotStampChanges(
  stamp: AttributionStamp,
  current: Readonly<Record<string, string | null | undefined>>,
): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const property of HUBSPOT_STAMP_PROPERTIES) {
    const next = stamp.hubspot[property];
    if (!sameStampValue(property, current[property], next)) changes[property] = next;
  }
  return changes;
}

/**
 * The Salesforce fields of a stamp that differ from the record's (all non-blank ones for a record
 * not created yet), plus `LeadSource` when the record has none — an existing value is never replaced.
 */
export function salesforceStampChanges(
  stamp: AttributionStamp,
  record: Readonly<Record<string, unknown>> | undefined,
  firstChannel: string,
  leadSourceByChannel: Readonly<Record<string, string>>,
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const field of SALESFORCE_STAMP_FIELDS) {
    const next = salesforceValue(field, stamp.salesforce[field]);
    if (record === undefined) {
      if (next !== null) changes[field] = next;
    } else if (!sameStampValue(field, record[field], next)) {
      changes[field] = next;
    }
  }
  const leadSource = fillLeadSource(textOf(record?.LeadSource), firstChannel, leadSourceByChannel);
  if (leadSource !== null) changes.LeadSource = leadSource;
  return changes;
}

function describeTouch(touch: Touch): string {
  const parts = [touch.source, touch.medium, touch.campaign].filter((part): part is string => part !== null);
  return parts.length === 0 ? touch.channel : `${touch.channel} (${parts.join(' / ')})`;
}

/** The UTM campaigns a stamp names (first and last touch), as Campaign names. */
export function campaignsOf(touches: Touches): string[] {
  const names = new Map<string, string>();
  for (const touch of [touches.first, touches.last]) {
    const name = touch.campaign === null ? null : presentOrNull(touch.campaign.slice(0, CAMPAIGN_NAME_LENGTH));
    if (name !== null && !names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  }
  return [...names.values()];
}

// ---------------------------------------------------------------------------------------------
// One batch

interface Person {
  readonly key: string;
  contactId: string | null;
  readonly leadId: string | null;
  readonly touches: Touches;
  readonly stamp: AttributionStamp;
  /** The contact's current HubSpot properties; null when it has no HubSpot contact (yet). */
  readonly hubspot: Readonly<Record<string, string | null>> | null;
  readonly origin: ContactOrigin['origin'] | null;
  hubspotWrites: string[];
  salesforceWrites: { type: 'Lead' | 'Contact'; id: string; fields: string[] }[];
  leadSource: { value: string; filled: boolean } | null;
  memberships: { leadId?: string; contactId?: string }[];
}

/**
 * The stamps of one batch of people and what was written. The caller asks for the HubSpot and
 * Lead changes, puts them into its own batch writes, reports which Lead writes succeeded, then
 * calls `complete` once: Contact stamps, Campaign memberships, touches kept in Postgres, sync log.
 */
export class AttributionBatch {
  private constructor(
    private readonly ctx: SyncContext,
    private readonly settings: AttributionSettings,
    private readonly people: Map<string, Person>,
  ) {}

  /**
   * The stamps of HubSpot contacts (keyed by contact id). `leadOf` names the contact's linked Lead,
   * whose `LeadSource` is a signal too; origins recorded by email tell sales-sourced people apart.
   */
  static async forContacts(
    ctx: SyncContext,
    contacts: readonly HubSpotContact[],
    leadOf: (contactId: string) => SalesforceRecord | undefined = () => undefined,
  ): Promise<AttributionBatch> {
    const settings = attributionSettingsOf(ctx);
    const origins = await originsByEmail(
      ctx.db,
      ctx.installationId,
      contacts.map((c) => c.properties.email ?? ''),
    );
    const people = new Map<string, Person>();
    for (const contact of contacts) {
      const lead = leadOf(contact.id);
      const origin = origins.get((contact.properties.email ?? '').trim().toLowerCase());
      const salesforceOrigin = origin?.origin === 'salesforce';
      const touches = buildTouches(
        {
          hubspot: contact.properties,
          salesforce: {
            LeadSource: textOf(lead?.LeadSource),
            // A sales-sourced person's first touch is when the rep created the Lead.
            CreatedDate: salesforceOrigin ? (origin.enteredAt?.getTime() ?? textOf(lead?.CreatedDate)) : null,
          },
          origin: origin?.origin ?? null,
        },
        settings.channelRules,
      );
      people.set(contact.id, newPerson(contact.id, contact.id, lead?.Id ?? null, touches, contact.properties, origin?.origin ?? null));
    }
    return new AttributionBatch(ctx, settings, people);
  }

  /**
   * The stamps of Leads created in Salesforce (keyed by Lead id): the HubSpot contact with the
   * same email, when there is one, brings its marketing history; otherwise the Lead is
   * sales-sourced unless its `LeadSource` names a channel. Records the origin before the caller
   * creates HubSpot contacts, so the contact's own sync finds it.
   */
  static async forSalesforceLeads(ctx: SyncContext, leads: readonly SalesforceRecord[]): Promise<AttributionBatch> {
    const settings = attributionSettingsOf(ctx);
    const emailOf = (lead: SalesforceRecord) => (textOf(lead.Email) ?? '').toLowerCase();
    const emails = leads.map(emailOf).filter((email) => email !== '');
    const existing = emails.length > 0 ? await ctx.hubspot.readContactsByEmail(emails, ATTRIBUTION_CONTACT_PROPERTIES) : [];
    const contactByEmail = new Map(existing.map((contact) => [(contact.properties.email ?? '').toLowerCase(), contact]));
    await recordOrigins(
      ctx.db,
      ctx.installationId,
      leads.map((lead) => ({
        email: emailOf(lead),
        origin: 'salesforce' as const,
        salesforceLeadId: lead.Id,
        enteredAt: dateOf(lead.CreatedDate),
      })),
    );
    const origins = await originsByEmail(ctx.db, ctx.installationId, emails);
    const people = new Map<string, Person>();
    for (const lead of leads) {
      const contact = contactByEmail.get(emailOf(lead));
      const origin = origins.get(emailOf(lead));
      const touches = buildTouches(
        {
          hubspot: contact?.properties ?? null,
          salesforce: { LeadSource: textOf(lead.LeadSource), CreatedDate: origin?.enteredAt?.getTime() ?? textOf(lead.CreatedDate) },
          origin: 'salesforce',
        },
        settings.channelRules,
      );
      people.set(lead.Id, newPerson(lead.Id, contact?.id ?? null, lead.Id, touches, contact?.properties ?? null, 'salesforce'));
    }
    return new AttributionBatch(ctx, settings, people);
  }

  /** The HubSpot contact of a person, when known. */
  contactIdOf(key: string): string | null {
    return this.people.get(key)?.contactId ?? null;
  }

  /** Names the HubSpot contact of a person once the caller created or matched it. */
  linkContact(key: string, contactId: string): void {
    const person = this.people.get(key);
    if (person) person.contactId = contactId;
  }

  /** The full HubSpot stamp of a person (for a contact the caller creates). */
  hubspotStamp(key: string): Record<string, string> {
    const person = this.people.get(key);
    if (!person) return {};
    const stamp = person.hubspot === null ? { ...person.stamp.hubspot } : hubspotStampChanges(person.stamp, person.hubspot);
    person.hubspotWrites = Object.keys(stamp);
    return stamp;
  }

  /** The HubSpot properties to write for a person (only what changed); the caller writes them. */
  hubspotChanges(key: string): Record<string, string> {
    const person = this.people.get(key);
    if (!person) return {};
    const changes = hubspotStampChanges(person.stamp, person.hubspot ?? {});
    person.hubspotWrites = Object.keys(changes);
    return changes;
  }

  /** The Lead fields to write: every stamp field for a Lead not created yet (`lead` undefined), else what changed; LeadSource only when empty. */
  leadFields(key: string, lead: Readonly<Record<string, unknown>> | undefined): Record<string, string | null> {
    const person = this.people.get(key);
    if (!person) return {};
    const fields = salesforceStampChanges(person.stamp, lead, person.touches.first.channel, this.settings.leadSourceByChannel);
    const existing = textOf(lead?.LeadSource);
    person.leadSource = fields.LeadSource
      ? { value: fields.LeadSource, filled: true }
      : existing === null
        ? null
        : { value: existing, filled: false };
    return fields;
  }

  /** Reports a Lead write that succeeded with the given fields; a new Lead or a changed campaign makes it a member. */
  leadWritten(key: string, leadId: string, written: Readonly<Record<string, unknown>>, created: boolean): void {
    const person = this.people.get(key);
    if (!person) return;
    const fields = Object.keys(written).filter((field) => SALESFORCE_STAMP_FIELDS.includes(field as never) || field === 'LeadSource');
    if (fields.length > 0) person.salesforceWrites.push({ type: 'Lead', id: leadId, fields });
    if (created || fields.some((field) => CAMPAIGN_FIELDS.has(field))) person.memberships.push({ leadId });
  }

  /**
   * Finishes the batch: stamps linked Salesforce Contacts (converted Leads, or a Contact linked at
   * handoff) in one read and one Collections update, adds Campaign memberships, keeps the touches
   * in Postgres and logs every stamp decision through `entry`.
   */
  async complete(entry: LogLine, salesforceContacts: ReadonlyMap<string, string> = new Map()): Promise<void> {
    await this.stampSalesforceContacts(entry, salesforceContacts);
    await this.addMemberships(entry);
    await recordTouches(this.ctx.db, this.ctx.installationId, this.storedTouches());
    for (const person of this.people.values()) {
      if (person.hubspotWrites.length === 0 && person.salesforceWrites.length === 0) continue;
      const { first, last } = person.touches;
      const leadSource =
        person.leadSource === null
          ? ''
          : person.leadSource.filled
            ? `; LeadSource was empty: filled "${person.leadSource.value}"`
            : `; LeadSource "${person.leadSource.value}" kept (never overwritten)`;
      const origin = person.origin === 'salesforce' ? '; created in Salesforce' : '';
      entry(
        refOf(person),
        'info',
        'stamp_attribution',
        `first touch ${describeTouch(first)}, last touch ${describeTouch(last)}${origin}${leadSource}`,
        { hubspot: person.hubspotWrites, salesforce: person.salesforceWrites, firstChannel: first.channel, lastChannel: last.channel },
      );
    }
  }

  private async stampSalesforceContacts(entry: LogLine, salesforceContacts: ReadonlyMap<string, string>): Promise<void> {
    const wanted = [...salesforceContacts].filter(([key]) => this.people.has(key));
    if (wanted.length === 0) return;
    const { salesforce } = this.ctx;
    let records: SalesforceRecord[];
    try {
      records = await salesforce.readRecords(
        'Contact',
        wanted.map(([, id]) => id),
        ['Id', ...ATTRIBUTION_LEAD_FIELDS],
      );
    } catch (error) {
      if (!(error instanceof CrmRejectedError)) throw error;
      for (const [key] of wanted)
        entry(
          refOf(this.people.get(key)),
          'error',
          'stamp_contact_failed',
          `Salesforce refused reading the Contact: ${error.code} ${error.message}`,
        );
      return;
    }
    const byId = new Map(records.map((record) => [record.Id, record]));
    const updates: { key: string; record: SalesforceRecord }[] = [];
    for (const [key, contactId] of wanted) {
      const person = this.people.get(key);
      const current = byId.get(contactId);
      if (!person || !current) continue;
      const fields = salesforceStampChanges(person.stamp, current, person.touches.first.channel, this.settings.leadSourceByChannel);
      if (Object.keys(fields).length > 0) updates.push({ key, record: { Id: contactId, ...fields } });
    }
    if (updates.length === 0) return;
    const outcomes = await salesforce.updateRecords(
      'Contact',
      updates.map((u) => u.record),
    );
    for (const { key, record } of updates) {
      const person = this.people.get(key);
      const outcome = outcomes.get(record.Id);
      if (!person) continue;
      if (!outcome?.ok) {
        entry(
          refOf(person),
          'error',
          'stamp_contact_failed',
          `Salesforce refused the stamp on Contact ${record.Id}: ${outcome ? `${outcome.code} ${outcome.message}` : 'no result'}`,
        );
        continue;
      }
      const fields = Object.keys(record).filter((field) => field !== 'Id');
      person.salesforceWrites.push({ type: 'Contact', id: record.Id, fields });
      if (fields.some((field) => CAMPAIGN_FIELDS.has(field))) person.memberships.push({ contactId: record.Id });
    }
  }

  private async addMemberships(entry: LogLine): Promise<void> {
    const requests: MembershipRequest[] = [];
    for (const person of this.people.values()) {
      const campaigns = campaignsOf(person.touches);
      if (campaigns.length === 0) continue;
      for (const member of person.memberships) requests.push({ key: person.key, ...member, campaigns });
    }
    if (requests.length === 0) return;
    let results: Map<string, MembershipResult>;
    try {
      results = await ensureCampaignMemberships(this.ctx.salesforce, this.settings.campaigns, requests);
    } catch (error) {
      if (!(error instanceof CrmRejectedError)) throw error;
      for (const request of requests)
        entry(
          refOf(this.people.get(request.key)),
          'error',
          'campaign_membership_failed',
          `Salesforce refused the Campaign request: ${error.code} ${error.message}`,
        );
      return;
    }
    for (const [key, result] of results) {
      const ref = refOf(this.people.get(key));
      if (result.added.length > 0) {
        const joined = result.added.map(({ campaign, status }) => `"${campaign}" as ${status}`).join(', ');
        entry(ref, 'info', 'add_campaign_member', `added to Campaign ${joined}`, {
          created: result.createdCampaigns,
          statuses: Object.fromEntries(result.added.map((a) => [a.campaign, a.status])),
        });
      }
      if (result.missing.length > 0)
        entry(
          ref,
          'warn',
          'campaign_missing',
          `no Salesforce Campaign named ${result.missing.map((c) => `"${c}"`).join(', ')} and creating Campaigns is off`,
        );
      for (const campaign of result.noRespondedStatus) {
        entry(
          ref,
          'warn',
          SILENT_STOP_ACTIONS.campaignNoRespondedStatus,
          `not added to Campaign "${campaign}": none of its member statuses counts as responded, and the app adds people only with a responded status. In Salesforce, open the Campaign, and under Campaign Member Statuses tick Responded on the status that means this person responded (or add one, e.g. "${this.settings.campaigns.memberStatus}"). The app uses it for the people it adds afterwards; add this person to the Campaign yourself.`,
          { campaign },
        );
      }
      for (const failure of result.failed)
        entry(ref, 'error', 'campaign_membership_failed', `Campaign "${failure.campaign}": ${failure.reason}`);
    }
  }

  private storedTouches(): StoredTouch[] {
    const touches: StoredTouch[] = [];
    for (const person of this.people.values()) {
      if (person.contactId === null) continue;
      const props = person.hubspot ?? {};
      const { first, last } = person.touches;
      const add = (touch: Touch, isFirst: boolean, pageUrl: string | null) => {
        if (touch.at === null) return;
        touches.push({
          hubspotContactId: person.contactId as string,
          occurredAt: new Date(touch.at),
          isFirst,
          channel: touch.channel,
          source: touch.source,
          medium: touch.medium,
          campaign: touch.campaign,
          content: touch.content,
          term: touch.term,
          landingPage: touch.landingPage,
          pageUrl,
          form: touch.form,
        });
      };
      add(first, true, presentOrNull(props.hs_analytics_first_url));
      add(last, false, presentOrNull(props.hs_analytics_last_url) ?? presentOrNull(props.hs_analytics_first_url));
    }
    return touches;
  }
}

function newPerson(
  key: string,
  contactId: string | null,
  leadId: string | null,
  touches: Touches,
  hubspot: Person['hubspot'],
  origin: Person['origin'],
): Person {
  return {
    key,
    contactId,
    leadId,
    touches,
    stamp: stampFields(touches),
    hubspot,
    origin,
    hubspotWrites: [],
    salesforceWrites: [],
    leadSource: null,
    memberships: [],
  };
}

function refOf(person: Person | undefined): string {
  if (person?.contactId) return contactRef(person.contactId);
  return person?.leadId ? salesforceRef('Lead', person.leadId) : 'attribution';
}

function dateOf(value: unknown): Date | null {
  const at = parseTimestamp(textOf(value));
  return at === null ? null : new Date(at);
}

// ---------------------------------------------------------------------------------------------
// Campaign membership

/** A Lead or Contact that should be a member of the named Campaigns. */
export interface MembershipRequest {
  /** The caller's key for the result. */
  readonly key: string;
  readonly leadId?: string | undefined;
  readonly contactId?: string | undefined;
  readonly campaigns: readonly string[];
}

/** What happened to one request's memberships. */
export interface MembershipResult {
  /** Campaigns joined, with the member status written (one of that campaign's responded statuses). */
  added: { campaign: string; status: string }[];
  already: string[];
  /** Campaigns that do not exist and were not created (creating is off). */
  missing: string[];
  /** Campaigns that count none of their member statuses as responded: the person was not added. */
  noRespondedStatus: string[];
  failed: { campaign: string; reason: string }[];
  /** Campaigns this call created. */
  createdCampaigns: string[];
}

/** Refusals that mean the integration user may not create Campaigns (no Marketing User, no Create). */
const CAMPAIGN_ACCESS_CODES = new Set(['INVALID_TYPE_FOR_OPERATION', 'INSUFFICIENT_ACCESS_OR_READONLY', 'INSUFFICIENT_ACCESS']);

/** A campaign's member status for new members, or why there is none. */
type CampaignStatus = { readonly status: string } | { readonly noResponded: true } | { readonly failed: string };

/** A membership to have: the person of a request in one of its Campaigns, with the status new members get. */
interface WantedMembership {
  request: MembershipRequest;
  campaign: string;
  campaignId: string;
  status: string;
}

/**
 * Makes each Lead / Contact a member of its Campaigns, in a fixed number of calls per batch: one
 * Campaign query by name (`Name IN (…)`, oldest first so duplicates converge on one), one
 * Collections create of the missing Campaigns (active), one CampaignMemberStatus query, one
 * Collections create of the configured status on the app's new Campaigns that lack it, one
 * CampaignMember query, one Collections create of the missing memberships. Each member gets a
 * responded status its campaign has (domain/campaign-member-status.ts); existing memberships are kept.
 */
export async function ensureCampaignMemberships(
  salesforce: SalesforcePort,
  settings: CampaignSettings,
  requests: readonly MembershipRequest[],
): Promise<Map<string, MembershipResult>> {
  const results = new Map<string, MembershipResult>();
  const names = new Map<string, string>();
  for (const request of requests)
    for (const name of request.campaigns) if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  if (names.size === 0) return results;

  // 1. Campaigns by name (SOQL `=`/`IN` on text ignore case), preferring an active one.
  const campaignIds = await findCampaigns(salesforce, [...names.values()]);
  // 2. Missing Campaigns: created (active) in one call, or reported.
  const missing = [...names].filter(([key]) => !campaignIds.has(key)).map(([, name]) => name);
  const { created, createFailures } = settings.createMissing
    ? await createCampaigns(salesforce, missing, campaignIds)
    : { created: new Set<string>(), createFailures: new Map<string, string>() };
  // 3. The member status each Campaign gives new members.
  const statusOf = await memberStatuses(salesforce, settings.memberStatus, [...campaignIds.values()], created);
  // 4. Memberships that exist already.
  const wanted = wantedMemberships(requests, campaignIds, created, createFailures, statusOf, results);
  if (wanted.length === 0) return results;
  const existing = await existingMemberships(salesforce, wanted);
  // 5. The missing memberships, in one Collections create.
  await addMemberships(salesforce, wanted, existing, results);
  return results;
}

/** The result of a request's key, made empty on first use. */
function membershipResultOf(results: Map<string, MembershipResult>, key: string): MembershipResult {
  let result = results.get(key);
  if (!result) {
    result = { added: [], already: [], missing: [], noRespondedStatus: [], failed: [], createdCampaigns: [] };
    results.set(key, result);
  }
  return result;
}

/** Creates the missing Campaigns (active) in one call, adding their ids to `campaignIds`; returns the created ids and the failures by lower-case name. */
async function createCampaigns(
  salesforce: SalesforcePort,
  missing: readonly string[],
  campaignIds: Map<string, string>,
): Promise<{ created: Set<string>; createFailures: Map<string, string> }> {
  const createFailures = new Map<string, string>();
  const created = new Set<string>();
  if (missing.length === 0) return { created, createFailures };
  const outcomes = await salesforce.createRecords(
    'Campaign',
    missing.map((name) => ({
      Name: name,
      IsActive: true,
      Status: 'In Progress',
      Description: `Created by Smarketing Sync for utm_campaign "${name}"`,
    })),
  );
  missing.forEach((name, index) => {
    const outcome = outcomes[index];
    if (outcome?.ok) {
      campaignIds.set(name.toLowerCase(), outcome.id);
      created.add(outcome.id);
    } else {
      createFailures.set(name.toLowerCase(), campaignCreateFailure(outcome));
    }
  });
  return { created, createFailures };
}

/** The memberships the requests ask for, each with its status; a missing Campaign or one without a responded status is reported instead. */
function wantedMemberships(
  requests: readonly MembershipRequest[],
  campaignIds: ReadonlyMap<string, string>,
  created: ReadonlySet<string>,
  createFailures: ReadonlyMap<string, string>,
  statusOf: ReadonlyMap<string, CampaignStatus>,
  results: Map<string, MembershipResult>,
): WantedMembership[] {
  const wanted: WantedMembership[] = [];
  for (const request of requests) {
    const result = membershipResultOf(results, request.key);
    for (const campaign of request.campaigns) {
      const key = campaign.toLowerCase();
      const campaignId = campaignIds.get(key);
      if (campaignId === undefined) {
        const failure = createFailures.get(key);
        if (failure === undefined) result.missing.push(campaign);
        else result.failed.push({ campaign, reason: failure });
        continue;
      }
      if (created.has(campaignId) && !result.createdCampaigns.includes(campaign)) result.createdCampaigns.push(campaign);
      if (request.leadId === undefined && request.contactId === undefined) continue;
      const choice = statusOf.get(campaignId) ?? { noResponded: true };
      if ('failed' in choice) result.failed.push({ campaign, reason: choice.failed });
      else if ('noResponded' in choice) result.noRespondedStatus.push(campaign);
      else wanted.push({ request, campaign, campaignId, status: choice.status });
    }
  }
  return wanted;
}

/** A membership's key: Campaign and person. */
function memberKey(campaignId: string, personId: string): string {
  return `${campaignId}:${personId}`;
}

/** The keys of the wanted memberships that exist already, one CampaignMember query per person type. */
async function existingMemberships(salesforce: SalesforcePort, wanted: readonly WantedMembership[]): Promise<Set<string>> {
  const existing = new Set<string>();
  const leadIds = [...new Set(wanted.flatMap((w) => (w.request.leadId === undefined ? [] : [w.request.leadId])))];
  const contactIds = [...new Set(wanted.flatMap((w) => (w.request.contactId === undefined ? [] : [w.request.contactId])))];
  const ids = [...new Set(wanted.map((w) => w.campaignId))];
  for (const [field, people] of [
    ['LeadId', leadIds],
    ['ContactId', contactIds],
  ] as const) {
    for (const row of await salesforce.campaignMembers(ids, field, people)) {
      const campaignId = presentOrNull(row.campaignId);
      const personId = presentOrNull(field === 'LeadId' ? row.leadId : row.contactId);
      if (campaignId !== null && personId !== null) existing.add(memberKey(campaignId, personId));
    }
  }
  return existing;
}

/** Creates the memberships that do not exist yet (each once), in one Collections create, and reports each. */
async function addMemberships(
  salesforce: SalesforcePort,
  wanted: readonly WantedMembership[],
  existing: ReadonlySet<string>,
  results: Map<string, MembershipResult>,
): Promise<void> {
  const creates: { request: MembershipRequest; campaign: string; status: string; record: Record<string, unknown> }[] = [];
  const queued = new Set<string>();
  for (const { request, campaign, campaignId, status } of wanted) {
    const personId = request.contactId ?? request.leadId ?? '';
    const key = memberKey(campaignId, personId);
    if (existing.has(key) || queued.has(key)) {
      membershipResultOf(results, request.key).already.push(campaign);
      continue;
    }
    queued.add(key);
    const person = request.contactId !== undefined ? { ContactId: request.contactId } : { LeadId: request.leadId };
    creates.push({ request, campaign, status, record: { CampaignId: campaignId, ...person, Status: status } });
  }
  if (creates.length === 0) return;
  const outcomes = await salesforce.createRecords(
    'CampaignMember',
    creates.map((c) => c.record),
  );
  creates.forEach(({ request, campaign, status }, index) => {
    const outcome = outcomes[index];
    const result = membershipResultOf(results, request.key);
    if (outcome?.ok) result.added.push({ campaign, status });
    else if (outcome?.code === 'DUPLICATE_VALUE') result.already.push(campaign);
    else result.failed.push({ campaign, reason: outcome ? `${outcome.code} ${outcome.message}` : 'no result' });
  });
}

/** Campaign ids by lower-case name, an active Campaign preferred, then the oldest. */
async function findCampaigns(salesforce: SalesforcePort, names: readonly string[]): Promise<Map<string, string>> {
  const found = await salesforce.campaignsNamed(names);
  const campaignIds = new Map<string, string>();
  for (const active of [true, false]) {
    for (const campaign of found) {
      const key = (presentOrNull(campaign.name) ?? '').toLowerCase();
      if (campaign.active === active && !campaignIds.has(key)) campaignIds.set(key, campaign.id);
    }
  }
  return campaignIds;
}

function campaignCreateFailure(outcome: WriteOutcome | undefined): string {
  if (!outcome || outcome.ok) return 'could not create the Campaign';
  // Creating a Campaign needs the Marketing User checkbox on the integration user (docs/architecture.md §11).
  const hint = CAMPAIGN_ACCESS_CODES.has(outcome.code)
    ? ' (creating Campaigns needs Marketing User ticked on the integration user: Setup → Users → Edit)'
    : '';
  return `could not create the Campaign: ${outcome.code} ${outcome.message}${hint}`;
}

/**
 * The member status each Campaign gives new members: its statuses read in one query, and the
 * configured status created (counted as responded) in one Collections call on the Campaigns this
 * batch created that lack it. Keyed by Campaign id.
 */
async function memberStatuses(
  salesforce: SalesforcePort,
  configured: string,
  campaignIds: readonly string[],
  created: ReadonlySet<string>,
): Promise<Map<string, CampaignStatus>> {
  const byCampaign = new Map<string, MemberStatusOption[]>(campaignIds.map((id) => [id, []]));
  for (const row of await salesforce.campaignMemberStatuses(campaignIds)) {
    const label = presentOrNull(row.label);
    if (label !== null) byCampaign.get(row.campaignId)?.push({ label, responded: row.responded, sortOrder: row.sortOrder });
  }
  const statusOf = new Map<string, CampaignStatus>();
  const additions: { campaignId: string; label: string; sortOrder: number }[] = [];
  for (const [campaignId, statuses] of byCampaign) {
    const choice = chooseMemberStatus(statuses, configured, created.has(campaignId));
    switch (choice.kind) {
      case 'use':
        statusOf.set(campaignId, { status: choice.label });
        break;
      case 'add':
        additions.push({ campaignId, label: choice.label, sortOrder: choice.sortOrder });
        break;
      case 'none':
        statusOf.set(campaignId, { noResponded: true });
        break;
      default:
        assertNever(choice);
    }
  }
  if (additions.length === 0) return statusOf;
  const outcomes = await salesforce.createRecords(
    'CampaignMemberStatus',
    additions.map((a) => ({ CampaignId: a.campaignId, Label: a.label, HasResponded: true, SortOrder: a.sortOrder })),
  );
  additions.forEach(({ campaignId, label }, index) => {
    const outcome = outcomes[index];
    statusOf.set(
      campaignId,
      outcome?.ok
        ? { status: label }
        : {
            failed: `could not add the member status "${label}" to the Campaign: ${outcome ? `${outcome.code} ${outcome.message}` : 'no result'}`,
          },
    );
  });
  return statusOf;
}

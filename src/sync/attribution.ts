/**
 * Attribution stamps for a batch of people (docs/architecture.md §3): first and last touch from HubSpot
 * analytics, UTMs and Salesforce `LeadSource`, written to the HubSpot contact (`attribution_*`),
 * the Salesforce Lead (`First_/Last_Touch_*__c`, `LeadSource` only when empty) and, once converted
 * or linked, the Salesforce Contact; the record joins the Salesforce Campaign named like its UTM
 * campaign. The stamps ride on the caller's batch writes; what this module calls itself (Contact
 * read and update, Campaign and CampaignMember queries and creates) is per batch, never per lead.
 * What a stamp changes is `attribution-changes.ts`; Campaign membership is `campaign-membership.ts`.
 */
import { CrmRejectedError } from '../crm/errors.ts';
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import { buildTouches, type Touch, type Touches } from '../domain/attribution.ts';
import { stampFields, type AttributionStamp } from '../domain/attribution-stamp.ts';
import { parseTimestamp, presentOrNull } from '../domain/validation.ts';
import { originsByEmail, recordOrigins, recordTouches, type ContactOrigin, type StoredTouch } from '../store/touches.ts';
import { CAMPAIGN_FIELDS, campaignsOf, hubspotStampChanges, salesforceStampChanges, textOf } from './attribution-changes.ts';
import {
  ATTRIBUTION_CONTACT_PROPERTIES,
  ATTRIBUTION_LEAD_FIELDS,
  DEFAULT_ATTRIBUTION_SETTINGS,
  SALESFORCE_STAMP_FIELDS,
  type AttributionSettings,
} from './attribution-settings.ts';
import { ensureCampaignMemberships, reportMembershipResult, type MembershipRequest, type MembershipResult } from './campaign-membership.ts';
import { contactRef, salesforceRef, type SyncContext, type LogLine } from './context.ts';

/** The settings of a run: the installation's, or the defaults. */
export function attributionSettingsOf(ctx: Pick<SyncContext, 'attribution'>): AttributionSettings {
  return ctx.attribution ?? DEFAULT_ATTRIBUTION_SETTINGS;
}

function describeTouch(touch: Touch): string {
  const parts = [touch.source, touch.medium, touch.campaign].filter((part): part is string => part !== null);
  return parts.length === 0 ? touch.channel : `${touch.channel} (${parts.join(' / ')})`;
}

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
          `Salesforce refused the stamp on Contact ${record.Id}: ${refusalOf(outcome)}`,
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
    for (const [key, result] of results)
      reportMembershipResult(entry, refOf(this.people.get(key)), result, this.settings.campaigns.memberStatus);
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

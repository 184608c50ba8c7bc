/**
 * Owners across the two CRMs (docs/architecture.md §16). The directory of each installation (HubSpot
 * owners, Salesforce users) is read once and kept in the process for OWNER_DIRECTORY_TTL_MS, read
 * again early when a batch names an owner or user it does not know (at most once a minute), never per
 * record. The admin's overrides (setting `ownerMatching`) are read with each batch, so a saved change
 * applies to the next one. The rules themselves are pure: src/domain/owners.ts.
 */
import type { HubSpotContact, SalesforceRecord } from '../crm/ports.ts';
import {
  DEFAULT_OWNER_MATCHING,
  marketingOwnerText,
  salesOwnerFor,
  salesOwnerProperties,
  shownSalesOwner,
  validateOwnerMatching,
  type OwnerDirectory,
  type OwnerMatching,
} from '../domain/owners.ts';
import { settingInEffect } from '../store/installation-admin.ts';
import { contactRef, recordText, salesforceRef, type SyncContext, type LogLine } from './context.ts';
import { sameSalesforceId } from '../domain/salesforce-id.ts';

/** How long a directory is used before it is read again. */
export const OWNER_DIRECTORY_TTL_MS = 15 * 60_000;
/** A batch naming an unknown owner or user reads the directory again, at most this often. */
const MISS_REFRESH_MS = 60_000;

interface CachedDirectory {
  directory: OwnerDirectory;
  readAt: number;
  /** Why HubSpot's owners could not be read (a missing scope), or null. */
  ownersProblem: string | null;
}

const directories = new Map<string, Promise<CachedDirectory>>();

async function readDirectory(ctx: SyncContext): Promise<CachedDirectory> {
  const [owners, users] = await Promise.all([ctx.hubspot.listOwners(), ctx.salesforce.listUsers()]);
  return {
    directory: { owners: owners.ok ? owners.value : [], users },
    readAt: ctx.now().getTime(),
    ownersProblem: owners.ok ? null : owners.error,
  };
}

/** The installation's directory, read again when stale or when it lacks a wanted owner or user. */
async function directoryFor(ctx: SyncContext, ownerIds: readonly string[], userIds: readonly string[]): Promise<CachedDirectory> {
  const now = ctx.now().getTime();
  const cached = directories.get(ctx.installationId);
  let current = cached ? await cached.catch(() => undefined) : undefined;
  const knows = (found: CachedDirectory): boolean =>
    ownerIds.every((id) => found.directory.owners.some((owner) => owner.id === id)) &&
    userIds.every((id) => found.directory.users.some((user) => sameSalesforceId(user.id, id)));
  const stale =
    current === undefined || now - current.readAt >= OWNER_DIRECTORY_TTL_MS || (!knows(current) && now - current.readAt >= MISS_REFRESH_MS);
  if (stale) {
    const reading = readDirectory(ctx);
    directories.set(ctx.installationId, reading);
    try {
      current = await reading;
    } catch (error) {
      directories.delete(ctx.installationId);
      throw error;
    }
  }
  return current as CachedDirectory;
}

/**
 * Owners for one HubSpot → Salesforce batch: who owns each new Lead, what the Lead says of the
 * marketing owner, and the sales owner to show on each contact once its Lead exists.
 */
export class HandoffOwners {
  private constructor(
    private readonly ctx: SyncContext,
    private readonly cached: CachedDirectory,
    private readonly matching: OwnerMatching,
  ) {}

  static async forContacts(ctx: SyncContext, contacts: readonly HubSpotContact[]): Promise<HandoffOwners> {
    const ownerIds = [...new Set(contacts.map((c) => c.properties.hubspot_owner_id ?? '').filter((id) => id !== ''))];
    const matching = await settingInEffect(ctx.db, ctx.installationId, 'ownerMatching', validateOwnerMatching, DEFAULT_OWNER_MATCHING);
    return new HandoffOwners(ctx, await directoryFor(ctx, ownerIds, []), matching);
  }

  /** `Marketing_Owner__c` as the contact's owner says it; empty when it has none HubSpot lists. */
  private marketingOwner(contact: HubSpotContact): string {
    const id = contact.properties.hubspot_owner_id ?? '';
    const owner = this.cached.directory.owners.find((candidate) => candidate.id === id);
    return owner === undefined ? '' : marketingOwnerText(owner);
  }

  /**
   * Fields of a new Lead: the matched owner (`OwnerId`, sent without assignment rules) and the
   * marketing owner. Without a match the Lead goes to the org's assignment rules and the reason is
   * logged; the integration user is never chosen.
   */
  newLeadFields(contact: HubSpotContact, entry: LogLine): Record<string, string> {
    const match = salesOwnerFor(contact.properties.hubspot_owner_id ?? null, this.cached.directory, this.matching);
    const marketing = this.marketingOwner(contact);
    const fields: Record<string, string> = marketing === '' ? {} : { Marketing_Owner__c: marketing };
    if (match.ok) return { ...fields, OwnerId: match.user.id };
    const scope = this.cached.ownersProblem === null ? '' : ` (HubSpot's owners could not be read: ${this.cached.ownersProblem})`;
    entry(
      contactRef(contact.id),
      match.reason === 'no_owner' ? 'info' : 'warn',
      'owner_unassigned',
      `${match.detail}${scope}: the Lead goes to the org's lead assignment rules`,
      { reason: match.reason },
    );
    return fields;
  }

  /** `Marketing_Owner__c` of a linked Lead when the contact's owner says otherwise. */
  marketingOwnerChange(contact: HubSpotContact, lead: SalesforceRecord | undefined): Record<string, string> {
    const wanted = this.marketingOwner(contact);
    if (lead === undefined || wanted === (recordText(lead, 'Marketing_Owner__c') ?? '')) return {};
    // A contact whose owner is gone from HubSpot's list keeps the last name sales saw.
    return wanted === '' && (contact.properties.hubspot_owner_id ?? '') !== '' ? {} : { Marketing_Owner__c: wanted };
  }

  /**
   * The sales owner of each new Lead for its contact: the user the app chose, else the owner the
   * assignment rules gave (one read for the batch). Queues, the integration user and inactive users
   * are logged, never shown.
   */
  async salesOwnerStamps(
    created: readonly { contactId: string; leadId: string; ownerId: string | null }[],
    entry: LogLine,
  ): Promise<{ id: string; properties: Record<string, string> }[]> {
    const unknown = created.filter((c) => c.ownerId === null).map((c) => c.leadId);
    const read = unknown.length === 0 ? [] : await this.ctx.salesforce.readRecords('Lead', unknown, ['Id', 'OwnerId']);
    const ownerOf = new Map(read.map((lead) => [lead.Id, recordText(lead, 'OwnerId')]));
    const owners = created.map((c) => ({ ...c, ownerId: c.ownerId ?? ownerOf.get(c.leadId) ?? null }));
    return salesOwnerWrites(
      this.ctx,
      owners.map((c) => ({ contactId: c.contactId, recordRef: salesforceRef('Lead', c.leadId), ownerId: c.ownerId, current: {} })),
      entry,
    );
  }
}

/**
 * The contact writes that show each record's Salesforce owner to marketing (`sales_owner_name`,
 * `sales_owner_email`), only where they change. An owner the app may not show (integration user,
 * queue, inactive or unknown user) changes nothing and is logged.
 */
export async function salesOwnerWrites(
  ctx: SyncContext,
  records: readonly { contactId: string; recordRef: string; ownerId: string | null; current: Record<string, string | null> }[],
  entry: LogLine,
): Promise<{ id: string; properties: Record<string, string> }[]> {
  if (records.length === 0) return [];
  const userIds = [...new Set(records.flatMap((r) => (r.ownerId !== null && r.ownerId.startsWith('005') ? [r.ownerId] : [])))];
  const [cached, integrationUserId] = await Promise.all([directoryFor(ctx, [], userIds), ctx.salesforce.integrationUserId()]);
  const writes: { id: string; properties: Record<string, string> }[] = [];
  for (const record of records) {
    const shown = shownSalesOwner(record.ownerId, cached.directory, integrationUserId);
    if (!shown.ok) {
      entry(record.recordRef, 'warn', 'sales_owner_not_shown', `${shown.error}: the contact's sales owner is left as it is`, {
        contact: record.contactId,
      });
      continue;
    }
    const properties = salesOwnerProperties(shown.value);
    const changed = Object.fromEntries(Object.entries(properties).filter(([name, value]) => (record.current[name] ?? '') !== value));
    if (Object.keys(changed).length > 0) writes.push({ id: record.contactId, properties: changed });
  }
  return writes;
}

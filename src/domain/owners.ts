/**
 * Owners (docs/architecture.md §16): a HubSpot owner is the same person as the Salesforce user with
 * the same email (case-insensitive), unless the admin's override pairs them otherwise. A Lead the
 * app creates is owned by that user when the user is active; otherwise the org's assignment rules
 * decide, never the integration user by default, and the reason is logged. Pure rules: the
 * directory (owners and users) is read by src/sync/owners.ts.
 */
import { z } from 'zod';
import type { Result } from './result.ts';
import { uniqueRows, validatorOf } from './validation.ts';
import { sameSalesforceId } from './salesforce-id.ts';

/** A HubSpot owner as the owners API lists it (`GET /crm/v3/owners`). */
export interface HubSpotOwner {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  /** Deactivated in HubSpot (listed with `archived=true` only). */
  archived: boolean;
}

/** A Salesforce user (`User`: Id, Username, Email, Name, IsActive, UserType). */
export interface SalesforceUser {
  id: string;
  username: string;
  email: string | null;
  name: string;
  active: boolean;
  userType: string | null;
}

/** The people of both CRMs, as last read. */
export interface OwnerDirectory {
  owners: readonly HubSpotOwner[];
  users: readonly SalesforceUser[];
}

const OWNER_ID = /^\d{1,20}$/;
const USER_ID = /^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;
const EMAIL = z.email();

/** One pair the admin sets by hand: a HubSpot owner (id or email) ↔ a Salesforce user (id or username). */
const OwnerOverrideSchema = z.strictObject({
  hubspotOwner: z
    .string()
    .trim()
    .refine((value) => OWNER_ID.test(value) || EMAIL.safeParse(value).success, "write the HubSpot owner id (digits) or the owner's email"),
  salesforceUser: z
    .string()
    .trim()
    .refine(
      (value) => USER_ID.test(value) || EMAIL.safeParse(value).success,
      'write the Salesforce user id (005…) or the username (it looks like an email)',
    ),
});
export type OwnerOverride = z.output<typeof OwnerOverrideSchema>;

export const OwnerMatchingSchema = z.strictObject({
  overrides: z
    .array(OwnerOverrideSchema)
    .max(1000)
    .superRefine(
      uniqueRows(
        (row) => row.hubspotOwner.toLowerCase(),
        (row) => `HubSpot owner ${row.hubspotOwner}`,
        'hubspotOwner',
      ),
    ),
});
/** The setting `ownerMatching`: the overrides of the email match. */
export type OwnerMatching = z.output<typeof OwnerMatchingSchema>;
export const DEFAULT_OWNER_MATCHING: OwnerMatching = { overrides: [] };
export const validateOwnerMatching: (input: unknown) => Result<OwnerMatching, string[]> = validatorOf(OwnerMatchingSchema);

/** Why a Lead is left to the org's assignment rules instead of a matched owner. */
export type UnassignedReason = 'no_owner' | 'unknown_owner' | 'archived' | 'unmatched' | 'inactive';

export type SalesOwnerMatch =
  { ok: true; user: SalesforceUser; by: 'override' | 'email' } | { ok: false; reason: UnassignedReason; detail: string };

const lower = (text: string | null): string => (text ?? '').trim().toLowerCase();

function findOwner(directory: OwnerDirectory, key: string): HubSpotOwner | undefined {
  return OWNER_ID.test(key)
    ? directory.owners.find((owner) => owner.id === key)
    : directory.owners.find((owner) => lower(owner.email) === lower(key));
}

function findUser(directory: OwnerDirectory, key: string): SalesforceUser | undefined {
  return USER_ID.test(key)
    ? directory.users.find((user) => sameSalesforceId(user.id, key))
    : directory.users.find((user) => lower(user.username) === lower(key));
}

/** The override that names this owner (by id or by email), if any. */
function overrideOf(owner: HubSpotOwner, matching: OwnerMatching): OwnerOverride | undefined {
  return matching.overrides.find(
    (row) => row.hubspotOwner === owner.id || (owner.email !== null && lower(row.hubspotOwner) === lower(owner.email)),
  );
}

/** The owner's name as people read it: `First Last`, else the email, else the id. */
export function ownerName(owner: HubSpotOwner): string {
  const name = [owner.firstName, owner.lastName]
    .filter((part) => part !== null && part.trim() !== '')
    .join(' ')
    .trim();
  return name !== '' ? name : (owner.email ?? `owner ${owner.id}`);
}

/** What the Lead's `Marketing_Owner__c` says: `Name <email>` (text, 255 at most). */
export function marketingOwnerText(owner: HubSpotOwner): string {
  const name = ownerName(owner);
  const text = owner.email !== null && owner.email !== name ? `${name} <${owner.email}>` : name;
  return text.slice(0, 255);
}

/**
 * The Salesforce user who owns the Lead of a contact owned by `ownerId`: the override's user, else
 * the active user with the owner's email. Anything else (no owner, an owner HubSpot does not list,
 * an archived owner, no such user, an inactive user) leaves the Lead to the org's assignment rules.
 */
export function salesOwnerFor(ownerId: string | null, directory: OwnerDirectory, matching: OwnerMatching): SalesOwnerMatch {
  if (ownerId === null || ownerId.trim() === '') return { ok: false, reason: 'no_owner', detail: 'the contact has no HubSpot owner' };
  const owner = directory.owners.find((candidate) => candidate.id === ownerId);
  if (owner === undefined)
    return { ok: false, reason: 'unknown_owner', detail: `HubSpot owner ${ownerId} is not in the portal's owner list` };
  if (owner.archived)
    return { ok: false, reason: 'archived', detail: `HubSpot owner ${ownerId} (${ownerName(owner)}) is archived in HubSpot` };
  const override = overrideOf(owner, matching);
  if (override !== undefined) {
    const user = findUser(directory, override.salesforceUser);
    if (user === undefined)
      return {
        ok: false,
        reason: 'unmatched',
        detail: `the override pairs HubSpot owner ${ownerId} with ${override.salesforceUser}, which is not a Salesforce user of the org`,
      };
    if (!user.active)
      return {
        ok: false,
        reason: 'inactive',
        detail: `the override pairs HubSpot owner ${ownerId} with Salesforce user ${user.id} (${user.name}), who is inactive`,
      };
    return { ok: true, user, by: 'override' };
  }
  const email = lower(owner.email);
  const sameEmail = email === '' ? [] : directory.users.filter((user) => lower(user.email) === email);
  const active = sameEmail.find((user) => user.active);
  if (active !== undefined) return { ok: true, user: active, by: 'email' };
  if (sameEmail.length > 0)
    return {
      ok: false,
      reason: 'inactive',
      detail: `the Salesforce user with HubSpot owner ${ownerId}'s email (${sameEmail[0]?.id ?? ''}) is inactive`,
    };
  return {
    ok: false,
    reason: 'unmatched',
    detail: `no Salesforce user has HubSpot owner ${ownerId}'s email and no override names the owner`,
  };
}

/** The contact properties that show the sales owner to marketing, for an owner the app may show. */
export function salesOwnerProperties(user: SalesforceUser): { sales_owner_name: string; sales_owner_email: string } {
  return { sales_owner_name: user.name, sales_owner_email: user.email ?? '' };
}

/**
 * Whether a Lead's owner is shown on the contact: an active user other than the integration user.
 * A queue (`00G…`), an unknown or inactive user, or the integration user never replaces the value
 * marketing sees; the caller logs why.
 */
export function shownSalesOwner(
  ownerId: string | null,
  directory: OwnerDirectory,
  integrationUserId: string,
): Result<SalesforceUser, string> {
  if (ownerId === null) return { ok: false, error: 'the record has no owner' };
  if (sameSalesforceId(ownerId, integrationUserId))
    return { ok: false, error: `owned by the integration user ${ownerId}: no assignment rule or rep took it yet` };
  if (ownerId.startsWith('00G')) return { ok: false, error: `owned by the queue ${ownerId}: no rep owns it yet` };
  const user = findUser(directory, ownerId);
  if (user === undefined) return { ok: false, error: `owner ${ownerId} is not a Salesforce user the app can read` };
  if (!user.active) return { ok: false, error: `owner ${ownerId} (${user.name}) is inactive` };
  return { ok: true, value: user };
}

/** Problems of overrides against the CRMs' people: each side must exist, the user must be active. */
export function checkOwnerMatching(matching: OwnerMatching, directory: OwnerDirectory): string[] {
  const problems: string[] = [];
  matching.overrides.forEach((row, index) => {
    const owner = findOwner(directory, row.hubspotOwner);
    if (owner === undefined) problems.push(`overrides[${index}].hubspotOwner: "${row.hubspotOwner}" is not a HubSpot owner of the portal`);
    else if (owner.archived)
      problems.push(`overrides[${index}].hubspotOwner: "${row.hubspotOwner}" (${ownerName(owner)}) is archived in HubSpot`);
    const user = findUser(directory, row.salesforceUser);
    if (user === undefined)
      problems.push(`overrides[${index}].salesforceUser: "${row.salesforceUser}" is not a Salesforce user of the org`);
    else if (!user.active)
      problems.push(`overrides[${index}].salesforceUser: "${row.salesforceUser}" (${user.name}) is inactive in Salesforce`);
  });
  return problems;
}

/** What saving other overrides changes: the owner of Leads created from then on (existing Leads keep theirs). */
export function previewOwnerMatching(
  current: OwnerMatching,
  next: OwnerMatching,
): { changed: boolean; lines: { level: 'info' | 'warn'; count: number; text: string }[]; restampOffered: boolean } {
  if (JSON.stringify(current) === JSON.stringify(next)) return { changed: false, lines: [], restampOffered: false };
  const count = next.overrides.length;
  return {
    changed: true,
    lines: [
      {
        level: 'info',
        count,
        text: `${count} override${count === 1 ? '' : 's'} of the email match would decide the owner of Leads created from now on; existing Leads keep their owner`,
      },
    ],
    restampOffered: false,
  };
}

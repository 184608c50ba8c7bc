/**
 * Record identity rules (docs/architecture.md §18): which ids a merge leaves, which link the
 * survivor keeps, and what a deletion does by the admin's policy. Pure: the callers read links and
 * events and apply the plan.
 */
import { z } from 'zod';
import { err, ok, type Result } from './result.ts';

/** A link as these rules see it: one HubSpot contact and its Salesforce records. */
export interface IdentityLink {
  hubspotContactId: string;
  salesforceLeadId: string | null;
  salesforceContactId: string | null;
}

/** The ids a HubSpot merge event names (`contact.merge`: primaryObjectId, mergedObjectIds, newObjectId). */
export interface HubSpotMergeEvent {
  objectId: string;
  primaryObjectId?: string | undefined;
  mergedObjectIds?: readonly string[] | undefined;
  newObjectId?: string | undefined;
}

/**
 * The survivor of a HubSpot merge and the ids merged away. Since HubSpot's merge change a merge
 * makes a new record (`newObjectId`) and both old ids are merged away; before it, the primary kept
 * its id (https://developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies).
 * Both shapes give the same answer here.
 */
export function hubspotMergeIds(event: HubSpotMergeEvent): { survivorId: string; primaryId: string; mergedIds: string[] } {
  const survivorId = event.newObjectId ?? event.primaryObjectId ?? event.objectId;
  const primaryId = event.primaryObjectId ?? survivorId;
  const all = [primaryId, ...(event.mergedObjectIds ?? []), event.objectId];
  return { survivorId, primaryId, mergedIds: [...new Set(all)].filter((id) => id !== survivorId) };
}

/**
 * Which link the survivor of a merge keeps: the primary's when it has a Salesforce record, else the
 * first that has one (in the order given), else the primary's. The others are duplicates: set aside,
 * never two links for one person.
 */
export function chooseSurvivingLink<L extends IdentityLink>(links: readonly L[], primaryId: string): { keep: L | null; duplicates: L[] } {
  const linked = (l: L) => l.salesforceLeadId !== null || l.salesforceContactId !== null;
  const keep =
    links.find((l) => l.hubspotContactId === primaryId && linked(l)) ??
    links.find(linked) ??
    links.find((l) => l.hubspotContactId === primaryId) ??
    links[0] ??
    null;
  return { keep, duplicates: links.filter((l) => l !== keep) };
}

/** What the app does when a record is deleted on one side. */
export const DELETION_ACTIONS = ['unlink', 'delete'] as const;
export type DeletionAction = (typeof DELETION_ACTIONS)[number];

/**
 * The admin's deletion policy, per side: a contact deleted in HubSpot, and a Lead or Contact
 * deleted in Salesforce, either only unlink (the default: never delete across systems) or also
 * delete the linked record on the other side.
 */
export const DeletionPolicySchema = z
  .object({
    hubspotContactDeleted: z.enum(DELETION_ACTIONS).default('unlink'),
    salesforceRecordDeleted: z.enum(DELETION_ACTIONS).default('unlink'),
  })
  .strict();
export type DeletionPolicy = z.infer<typeof DeletionPolicySchema>;

export const DEFAULT_DELETION_POLICY: DeletionPolicy = { hubspotContactDeleted: 'unlink', salesforceRecordDeleted: 'unlink' };

/** Validates an admin-supplied deletion policy, listing every problem. */
export function validateDeletionPolicy(input: unknown): Result<DeletionPolicy, string[]> {
  const parsed = DeletionPolicySchema.safeParse(input);
  return parsed.success
    ? ok(parsed.data)
    : err(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'deletionPolicy'}: ${issue.message}`));
}

/** What saving `next` over `current` changes, in words for the preview. */
export function describeDeletionPolicyChange(current: DeletionPolicy, next: DeletionPolicy): string[] {
  const side = (action: DeletionAction, deleted: string, other: string) =>
    action === 'delete' ? `a ${deleted} deleted also deletes the linked ${other}` : `a ${deleted} deleted only unlinks the ${other}`;
  return [
    ...(current.hubspotContactDeleted === next.hubspotContactDeleted
      ? []
      : [side(next.hubspotContactDeleted, 'HubSpot contact', 'Salesforce Lead or Contact')]),
    ...(current.salesforceRecordDeleted === next.salesforceRecordDeleted
      ? []
      : [side(next.salesforceRecordDeleted, 'Salesforce Lead or Contact', 'HubSpot contact')]),
  ];
}

/** One first touch, as stored. */
export interface FirstTouch {
  occurredAt: Date;
}

/** The earliest of several first touches (the survivor of a merge keeps it); null for none. */
export function earliestFirstTouch<T extends FirstTouch>(touches: readonly T[]): T | null {
  return touches.reduce<T | null>((best, t) => (best === null || t.occurredAt.getTime() < best.occurredAt.getTime() ? t : best), null);
}

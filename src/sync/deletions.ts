/**
 * Deletions and restores (docs/architecture.md §18), by the admin's policy per side (default:
 * never delete across systems). A contact deleted in HubSpot (`contact.deletion`) unlinks its
 * Lead; a Lead or Contact deleted in Salesforce (found by the reconciler in the recycle bin: no
 * Outbound Message fires on delete) unlinks its contact; the link is set aside, so a restore
 * (`contact.restore`, a Salesforce undelete) links the two again. With the policy at `delete`, the
 * other side's record is deleted too, and that delete finds no link when it comes back (no echo).
 */
import { refusalOf } from '../crm/ports.ts';
import { DEFAULT_DELETION_POLICY, DeletionPolicySchema, type DeletionPolicy } from '../domain/record-identity.ts';
import {
  linksByHubSpotIds,
  linksBySalesforceIds,
  restoreSetAsideLink,
  setAsideIds,
  setLinksAside,
  storedDeletionPolicy,
} from '../store/record-links.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { contactRef, salesforceRef } from './context.ts';
import { applySalesforceMerges, type IdentityContext } from './merges.ts';

/** The installation's deletion policy; a stored value that no longer parses reads as the default (never delete). */
export async function deletionPolicyOf(ctx: Pick<IdentityContext, 'db' | 'installationId'>): Promise<DeletionPolicy> {
  const parsed = DeletionPolicySchema.safeParse((await storedDeletionPolicy(ctx.db, ctx.installationId)) ?? {});
  return parsed.success ? parsed.data : DEFAULT_DELETION_POLICY;
}

const line = (ctx: IdentityContext, recordRef: string, level: SyncLogEntry['level'], action: string, reason: string): SyncLogEntry => ({
  installationId: ctx.installationId,
  recordRef,
  level,
  action,
  reason,
});

/** A contact deleted in HubSpot: its link is set aside, and by policy its Lead is deleted. */
export async function unlinkDeletedContact(ctx: IdentityContext, contactId: string): Promise<void> {
  const link = (await linksByHubSpotIds(ctx.db, ctx.installationId, [contactId])).get(contactId);
  if (!link) return;
  const policy = await deletionPolicyOf(ctx);
  const log: SyncLogEntry[] = [];
  const other = link.salesforceContactId
    ? `Contact ${link.salesforceContactId}`
    : link.salesforceLeadId
      ? `Lead ${link.salesforceLeadId}`
      : 'no Salesforce record';
  if (policy.hubspotContactDeleted === 'delete') {
    const targets = [
      ...(link.salesforceLeadId && !link.salesforceContactId ? [['Lead', link.salesforceLeadId] as const] : []),
      ...(link.salesforceContactId ? [['Contact', link.salesforceContactId] as const] : []),
    ];
    for (const [type, id] of targets) {
      const outcome = (await ctx.salesforce.deleteRecords(type, [id])).get(id);
      log.push(
        outcome?.ok === false && outcome.code !== 'ENTITY_IS_DELETED'
          ? line(
              ctx,
              salesforceRef(type, id),
              'error',
              'delete_failed',
              `contact ${contactId} was deleted in HubSpot, but Salesforce refused to delete ${type} ${id}: ${refusalOf(outcome)}`,
            )
          : line(
              ctx,
              salesforceRef(type, id),
              'info',
              'delete_linked',
              `contact ${contactId} was deleted in HubSpot: ${type} ${id} deleted too (deletion policy: delete)`,
            ),
      );
    }
  }
  await setLinksAside(ctx.db, ctx.installationId, [{ ...link, deletedSide: 'hubspot', deletedId: contactId, reason: 'deleted' }]);
  log.push(
    line(
      ctx,
      contactRef(contactId),
      'info',
      'unlink_deleted',
      `contact deleted in HubSpot: ${other} unlinked${policy.hubspotContactDeleted === 'unlink' ? ' and kept (deletion policy: never delete across systems)' : ''}; a restore links them again`,
    ),
  );
  await writeSyncLog(ctx.db, log);
}

/** A contact restored in HubSpot: the link its deletion set aside is back, and the contact is synced. */
export async function relinkRestoredContact(ctx: IdentityContext, contactId: string): Promise<void> {
  const link = await restoreSetAsideLink(ctx.db, ctx.installationId, 'hubspot', contactId);
  if (!link) return;
  await writeSyncLog(ctx.db, [
    line(
      ctx,
      contactRef(contactId),
      'info',
      'relink_restored',
      `contact restored in HubSpot: linked again to ${link.salesforceContactId ? `Contact ${link.salesforceContactId}` : `Lead ${link.salesforceLeadId ?? ''}`}`,
    ),
  ]);
  await ctx.markPending('to-salesforce', [contactId]);
}

/**
 * Records the reconciler found in Salesforce's recycle bin: merged-away ones (MasterRecordId) hand
 * their link to the master; deleted ones unlink their contact, and by policy delete it.
 */
export async function applySalesforceDeletions(
  ctx: IdentityContext,
  type: 'Lead' | 'Contact',
  deleted: readonly { id: string; masterId: string | null }[],
): Promise<void> {
  await applySalesforceMerges(
    ctx,
    type,
    deleted.flatMap((d) => (d.masterId ? [{ id: d.id, masterId: d.masterId }] : [])),
  );
  const gone = deleted.filter((d) => !d.masterId).map((d) => d.id);
  const links = await linksBySalesforceIds(ctx.db, ctx.installationId, gone);
  if (links.size === 0) return;
  const policy = await deletionPolicyOf(ctx);
  const log: SyncLogEntry[] = [];
  for (const id of gone) {
    const link = links.get(id);
    // A converted Lead's link lives on through its Contact; only the record the link stands on counts.
    if (!link || (type === 'Lead' && link.salesforceContactId !== null)) continue;
    if (policy.salesforceRecordDeleted === 'delete') await ctx.hubspot.archiveContacts([link.hubspotContactId]);
    await setLinksAside(ctx.db, ctx.installationId, [{ ...link, deletedSide: 'salesforce', deletedId: id, reason: 'deleted' }]);
    log.push(
      line(
        ctx,
        salesforceRef(type, id),
        'info',
        'unlink_deleted',
        `${type} deleted in Salesforce: contact ${link.hubspotContactId} unlinked${policy.salesforceRecordDeleted === 'delete' ? ' and deleted in HubSpot (deletion policy: delete)' : ' and kept (deletion policy: never delete across systems)'}; an undelete links them again`,
      ),
    );
  }
  await writeSyncLog(ctx.db, log);
}

/** Live Salesforce records the reconciler saw whose deletion had set their link aside: undeleted, so linked again. */
export async function relinkUndeletedRecords(ctx: IdentityContext, type: 'Lead' | 'Contact', liveIds: readonly string[]): Promise<void> {
  const restored = await setAsideIds(ctx.db, ctx.installationId, 'salesforce', liveIds);
  const log: SyncLogEntry[] = [];
  for (const id of restored) {
    const link = await restoreSetAsideLink(ctx.db, ctx.installationId, 'salesforce', id);
    if (!link) continue;
    log.push(
      line(
        ctx,
        salesforceRef(type, id),
        'info',
        'relink_restored',
        `${type} undeleted in Salesforce: linked again to contact ${link.hubspotContactId}`,
      ),
    );
    await ctx.markPending('to-hubspot', [`${type}:${id}`]);
  }
  await writeSyncLog(ctx.db, log);
}

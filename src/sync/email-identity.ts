/**
 * Email changes (docs/architecture.md §18). Records are linked by id, so a changed email is a field
 * update like any other, never a reason to create a second record. The links keep the email last
 * seen, and two links that end up sharing one are reported (sync log, `GET
 * /api/installations/{id}/shared-emails`), never merged by the app: only a person can tell whether
 * they are one.
 */
import type { HubSpotContact, SalesforceRecord } from '../crm/ports.ts';
import { resolveFieldValue } from '../domain/stages.ts';
import type { Queryable } from '../store/db.ts';
import { sharedEmails, updateLinkEmails, type RecordSide } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, recordText, type SyncContext } from './context.ts';
import { salesforceTime } from '../domain/salesforce-time.ts';

/** Records the emails one side's linked records now have and reports each email another link shares. */
export async function noteLinkEmails(
  ctx: { db: Queryable; installationId: string },
  side: RecordSide,
  seen: readonly { hubspotContactId: string; email: string | null }[],
): Promise<void> {
  const known = seen.flatMap((s) => (s.email ? [{ hubspotContactId: s.hubspotContactId, email: s.email.toLowerCase() }] : []));
  if (known.length === 0) return;
  await updateLinkEmails(ctx.db, ctx.installationId, side, known);
  const shared = await sharedEmails(
    ctx.db,
    ctx.installationId,
    known.map((k) => k.email),
  );
  const mine = new Set(known.map((k) => k.hubspotContactId));
  await writeSyncLog(
    ctx.db,
    shared.flatMap(({ email, links }) =>
      links
        .filter((l) => mine.has(l.hubspotContactId))
        .map((link) => ({
          installationId: ctx.installationId,
          recordRef: contactRef(link.hubspotContactId),
          level: 'warn' as const,
          action: 'shared_email',
          reason: `${email} is also the email of contact${links.length > 2 ? 's' : ''} ${links
            .filter((l) => l !== link)
            .map((l) => l.hubspotContactId)
            .join(', ')}: linked records are never merged by the app; merge them in the CRMs if they are one person`,
          details: { email, contacts: links.map((l) => l.hubspotContactId) },
        })),
    ),
  );
}

/**
 * The contact writes that bring a linked Lead's (or converted person's Contact's) changed Email to its contact, under the email
 * field mapping's rule. An email another contact already holds is not written (HubSpot keeps
 * emails unique and would refuse the whole batch): it is reported as shared instead.
 */
export async function leadEmailWrites(
  ctx: Pick<SyncContext, 'db' | 'installationId' | 'hubspot' | 'fieldMappings'>,
  leads: readonly { lead: SalesforceRecord; contact: HubSpotContact }[],
): Promise<{ id: string; properties: Record<string, string> }[]> {
  const mapping = ctx.fieldMappings.find((m) => m.hubspotProperty === 'email' && m.salesforceField === 'Email');
  if (!mapping) return [];
  const wanted = leads.flatMap(({ lead, contact }) => {
    const resolution = resolveFieldValue(
      mapping.rule,
      { value: contact.properties.email ?? null, at: Date.parse(contact.updatedAt) },
      { value: recordText(lead, 'Email'), at: salesforceTime(lead.SystemModstamp) },
      'salesforce_to_hubspot',
    );
    return resolution.write &&
      resolution.value !== null &&
      resolution.value.toLowerCase() !== (contact.properties.email ?? '').toLowerCase()
      ? [{ id: contact.id, email: resolution.value }]
      : [];
  });
  if (wanted.length === 0) return [];
  const holders = new Map(
    (
      await ctx.hubspot.readContactsByEmail(
        wanted.map((w) => w.email),
        ['email'],
      )
    ).map((c) => [(c.properties.email ?? '').toLowerCase(), c.id]),
  );
  const taken = wanted.filter((w) => (holders.get(w.email.toLowerCase()) ?? w.id) !== w.id);
  await writeSyncLog(
    ctx.db,
    taken.map((w) => ({
      installationId: ctx.installationId,
      recordRef: contactRef(w.id),
      level: 'warn' as const,
      action: 'shared_email',
      reason: `the Salesforce record's new email ${w.email} belongs to contact ${holders.get(w.email.toLowerCase()) ?? ''} already: not written, and nothing merged`,
      details: { email: w.email.toLowerCase(), contacts: [w.id, holders.get(w.email.toLowerCase())] },
    })),
  );
  return wanted.filter((w) => !taken.includes(w)).map((w) => ({ id: w.id, properties: { email: w.email } }));
}

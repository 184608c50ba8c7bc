/**
 * Email changes (docs/architecture.md §16). Records are linked by id, so a changed email is a field
 * update like any other, never a reason to create a second record. The links keep the email last
 * seen, and two links that end up sharing one are reported (sync log, `GET
 * /api/installations/{id}/shared-emails`), never merged by the app: only a person can tell whether
 * they are one.
 */
import type { Queryable } from '../store/db.ts';
import { sharedEmails, updateLinkEmails } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef } from './context.ts';

/** Records the emails linked records now have and reports each email another link shares. */
export async function noteLinkEmails(ctx: { db: Queryable; installationId: string }, seen: readonly { hubspotContactId: string; email: string | null }[]): Promise<void> {
  const known = seen.flatMap((s) => (s.email ? [{ hubspotContactId: s.hubspotContactId, email: s.email.toLowerCase() }] : []));
  if (known.length === 0) return;
  await updateLinkEmails(ctx.db, ctx.installationId, known);
  const shared = await sharedEmails(ctx.db, ctx.installationId, known.map((k) => k.email));
  const mine = new Set(known.map((k) => k.hubspotContactId));
  await writeSyncLog(ctx.db, shared.flatMap(({ email, links }) => links.filter((l) => mine.has(l.hubspotContactId)).map((link) => ({
    installationId: ctx.installationId, recordRef: contactRef(link.hubspotContactId), level: 'warn' as const, action: 'shared_email',
    reason: `${email} is also the email of contact${links.length > 2 ? 's' : ''} ${links.filter((l) => l !== link).map((l) => l.hubspotContactId).join(', ')}: linked records are never merged by the app; merge them in the CRMs if they are one person`,
    details: { email, contacts: links.map((l) => l.hubspotContactId) },
  }))));
}

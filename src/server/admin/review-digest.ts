/**
 * The review digest on the settings page: when the next one goes out, the last one sent (per
 * channel: when, to whom, or why not) and the last test; "Send now" queues a test digest (audited)
 * that the workers send like a scheduled one but in a row of its own, so no slot is consumed.
 */
import { describeSendTime, nextSlot } from '../../domain/digest.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { latestDigest, type DigestRecord } from '../../store/digests.ts';
import { requestTestDigest, reviewDigestOf } from '../../sync/digest.ts';
import type { AdminContext } from './context.ts';

/** What the settings page shows of the digest. */
export interface DigestStatusView {
  enabled: boolean;
  /** The next send, as the admin reads it in the digest's time zone; null while off. */
  nextSend: { slotId: string; at: string; text: string } | null;
  emailConfigured: boolean;
  last: DigestRecord | null;
  lastTest: DigestRecord | null;
  timeZone: string;
}

/** The digest's status for the settings page. */
export async function digestStatusView(
  ctx: Pick<AdminContext, 'db' | 'config' | 'now'>,
  installationId: string,
): Promise<DigestStatusView> {
  const setting = await reviewDigestOf(ctx.db, installationId);
  const next = setting.enabled ? nextSlot(setting, new Date(ctx.now())) : null;
  return {
    enabled: setting.enabled,
    nextSend:
      next === null ? null : { slotId: next.id, at: next.dueAt.toISOString(), text: describeSendTime(next.dueAt, setting.timeZone) },
    emailConfigured: ctx.config.smtp !== undefined,
    last: await latestDigest(ctx.db, installationId, 'scheduled'),
    lastTest: await latestDigest(ctx.db, installationId, 'test'),
    timeZone: setting.timeZone,
  };
}

/** Queues a test digest of an installation, in the audit trail. */
export async function sendTestDigestNow(ctx: Pick<AdminContext, 'db' | 'producer'>, installationId: string): Promise<void> {
  const requestId = await requestTestDigest(ctx.producer, installationId);
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'review_digest_test',
    summary: 'Test review digest requested',
    details: { requestId },
  });
}

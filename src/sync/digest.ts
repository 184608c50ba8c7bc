/**
 * The scheduled digest of the pipeline review: for an installation whose digest is on and whose
 * current slot is due (src/domain/digest.ts), the slot's row comes first (review_digests), then a
 * claim on it, then each channel still pending — the email through SMTP, the chat text to the
 * signed alert target — each stamped as soon as it went out. A restart, a second worker or the next
 * tick finds the slot claimed or done and sends nothing again; a channel that failed in a way worth
 * retrying stays pending for the next tick, and the channel that went out is not repeated.
 */
import { randomUUID } from 'node:crypto';
import { parsePeriod, type CommitmentPeriod } from '../domain/commitments.ts';
import { DEFAULT_REVIEW_DIGEST, digestPeriod, dueSlot, validateReviewDigest, type ReviewDigest } from '../domain/digest.ts';
import { renderDigest, type DigestMessage } from '../domain/digest-message.ts';
import { assertNever } from '../domain/result.ts';
import type { PipelineReview } from '../domain/review.ts';
import type { Producer } from '../queue/producer.ts';
import type { Queryable } from '../store/db.ts';
import {
  claimDigest,
  noteDigestRetry,
  planDigest,
  releaseDigest,
  stampDigestChannel,
  type DigestChannel,
  type DigestRecord,
} from '../store/digests.ts';
import { settingInEffect } from '../store/installation-admin.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { buildReviewDigestAlert, sendAlert, type AlertTarget } from './alerts.ts';
import type { MailSender } from './mail.ts';
import type { OutboundPolicy } from './outbound-http.ts';

/** The pipeline review of an installation and period, as of `now` (src/sync/review.ts in production). */
export type ReviewSource = (installationId: string, period: CommitmentPeriod, now: Date) => Promise<PipelineReview>;

/** How often the scheduler looks for due digests (one scheduler for the deployment, however many workers). */
export const DIGEST_TICK_EVERY_MS = 5 * 60_000;
/** How long a sender holds a digest while it sends it: well past the SMTP and alert timeouts. */
const CLAIM_LEASE_MS = 5 * 60_000;
/** Attempts at a slot (one per tick) before its pending channels are given up: about an hour. */
export const DIGEST_MAX_ATTEMPTS = 12;

/** Creates or updates the deployment's digest scheduler. */
export async function scheduleReviewDigests(producer: Producer, everyMs = DIGEST_TICK_EVERY_MS): Promise<void> {
  await producer
    .queue('reviewDigests')
    .upsertJobScheduler('review-digests', { every: everyMs }, { name: 'review-digest-tick', data: { v: 1, kind: 'tick' } });
}

/** Queues a test digest of an installation (the settings page's "Send now"); it consumes no slot. */
export async function requestTestDigest(producer: Producer, installationId: string): Promise<string> {
  const requestId = randomUUID();
  await producer
    .queue('reviewDigests')
    .add('review-digest-test', { v: 1, kind: 'test', installationId, requestId }, { jobId: `review-digest-test-${requestId}` });
  return requestId;
}

/** The installation's digest setting in effect (off when none is stored or it no longer validates). */
export async function reviewDigestOf(db: Queryable, installationId: string): Promise<ReviewDigest> {
  return settingInEffect(db, installationId, 'reviewDigest', validateReviewDigest, DEFAULT_REVIEW_DIGEST);
}

export interface DigestDeps {
  db: Queryable;
  review: ReviewSource;
  /** Undefined when the deployment has no SMTP server (SMTP_HOST). */
  mail: MailSender | undefined;
  /** The installation's alert target (null: none set) or why it cannot be read. */
  alertTarget(installationId: string): Promise<{ target: AlertTarget | null; problem: string | null }>;
  outbound: OutboundPolicy;
  /** The app's public URL, for the link to the review page. */
  publicUrl: string;
  now?: () => Date;
}

/** The installation a digest is for. */
export interface DigestInstallation {
  id: string;
  name: string;
}

/** What one attempt did: the slot, channels sent and given up, and reasons to try again. */
export interface DigestOutcome {
  slotId: string | null;
  /** False when nothing was to do: no due slot, or it is done or held by another sender. */
  claimed: boolean;
  sent: DigestChannel[];
  failed: DigestChannel[];
  retry: string[];
}

const nothing = (slotId: string | null): DigestOutcome => ({ slotId, claimed: false, sent: [], failed: [], retry: [] });

/** Sends the installation's digest of the current slot when it is due and not sent yet. */
export async function sendDueDigest(deps: DigestDeps, installation: DigestInstallation): Promise<DigestOutcome> {
  const now = deps.now?.() ?? new Date();
  const setting = await reviewDigestOf(deps.db, installation.id);
  if (!setting.enabled) return nothing(null);
  const slot = dueSlot(setting, now);
  if (slot === null) return nothing(null);
  const period = digestPeriod(setting, slot.dueAt);
  await planDigest(
    deps.db,
    {
      installationId: installation.id,
      slotId: slot.id,
      kind: 'scheduled',
      periodId: period.id,
      dueAt: slot.dueAt,
      emailTo: setting.emailTo,
      toChat: setting.toAlertTarget,
    },
    now,
  );
  return deliverDigest(deps, installation, slot.id, now);
}

/** Sends a test digest of the current period to the digest's recipients, in a row of its own; a failure is final (the admin sees it at once). */
export async function sendTestDigest(deps: DigestDeps, installation: DigestInstallation, requestId: string): Promise<DigestOutcome> {
  const now = deps.now?.() ?? new Date();
  const setting = await reviewDigestOf(deps.db, installation.id);
  const slotId = `test:${requestId}`;
  await planDigest(
    deps.db,
    {
      installationId: installation.id,
      slotId,
      kind: 'test',
      periodId: digestPeriod(setting, now).id,
      dueAt: now,
      emailTo: setting.emailTo,
      toChat: setting.toAlertTarget,
    },
    now,
  );
  return deliverDigest(deps, installation, slotId, now);
}

/** One claimed digest being delivered: its record, the claim's token and what happened so far. */
interface Delivery {
  deps: DigestDeps;
  installation: DigestInstallation;
  slotId: string;
  token: string;
  now: Date;
  record: DigestRecord;
  outcome: DigestOutcome;
  pending: DigestChannel[];
  log: (
    level: SyncLogEntry['level'],
    action: 'review_digest_sent' | 'review_digest_failed',
    channel: DigestChannel | null,
    reason: string,
  ) => Promise<void>;
}

/** Claims a planned digest and sends each channel still pending. */
async function deliverDigest(deps: DigestDeps, installation: DigestInstallation, slotId: string, now: Date): Promise<DigestOutcome> {
  const token = randomUUID();
  const record = await claimDigest(deps.db, installation.id, slotId, token, now, CLAIM_LEASE_MS);
  if (record === null) return nothing(slotId);
  const test = record.kind === 'test';
  const what = `${test ? 'Test digest' : 'Review digest'} ${slotId} (${record.periodId})`;
  const delivery: Delivery = {
    deps,
    installation,
    slotId,
    token,
    now,
    record,
    outcome: { slotId, claimed: true, sent: [], failed: [], retry: [] },
    pending: (['email', 'chat'] as const).filter((channel) => record[channel].state === 'pending'),
    log: (level, action, channel, reason) =>
      writeSyncLog(deps.db, [
        {
          installationId: installation.id,
          recordRef: `installation:${installation.id}`,
          level,
          action,
          reason: `${what}: ${reason}`,
          details: { slot: slotId, period: record.periodId, channel, test },
        },
      ]),
  };
  // 1. A slot tried too often gives up what is still pending.
  if (record.attempts > DIGEST_MAX_ATTEMPTS) await giveUpDigest(delivery);
  else {
    // 2. The review, rendered once for both channels.
    const reviewUrl = `${deps.publicUrl}/admin/review?installation=${encodeURIComponent(installation.id)}&period=${encodeURIComponent(record.periodId)}`;
    const message = await renderOrDefer(delivery, reviewUrl);
    if (message === null) return delivery.outcome;
    // 3. Each pending channel, stamped as soon as it went out.
    for (const channel of delivery.pending) if (!(await sendChannel(delivery, channel, message, reviewUrl))) return delivery.outcome;
  }
  await releaseDigest(deps.db, installation.id, slotId, token, now);
  return delivery.outcome;
}

/** Marks every pending channel of a slot tried too often as failed. */
async function giveUpDigest(d: Delivery): Promise<void> {
  for (const channel of d.pending) {
    const reason = `given up after ${DIGEST_MAX_ATTEMPTS} attempts: ${d.record[channel].detail ?? 'no reason recorded'}`;
    await stampDigestChannel(d.deps.db, d.installation.id, d.slotId, d.token, channel, { state: 'failed', at: d.now, detail: reason });
    await d.log('error', 'review_digest_failed', channel, `${channel} ${reason}`);
    d.outcome.failed.push(channel);
  }
}

/**
 * The review rendered for both channels, or null when it could not be built: a test fails its
 * channels at once, a scheduled digest is tried again at the next check (the claim is released).
 */
async function renderOrDefer(d: Delivery, reviewUrl: string): Promise<DigestMessage | null> {
  const test = d.record.kind === 'test';
  const period = parsePeriod(d.record.periodId);
  try {
    if (period === null) throw new Error(`not a period: ${d.record.periodId}`);
    return renderDigest(await d.deps.review(d.installation.id, period, d.now), { installationName: d.installation.name, reviewUrl, test });
  } catch (error) {
    const reason = `the review could not be built: ${error instanceof Error ? error.message : String(error)}`;
    for (const channel of d.pending) {
      if (test)
        await stampDigestChannel(d.deps.db, d.installation.id, d.slotId, d.token, channel, { state: 'failed', at: d.now, detail: reason });
      else await noteDigestRetry(d.deps.db, d.installation.id, d.slotId, d.token, channel, reason);
    }
    await releaseDigest(d.deps.db, d.installation.id, d.slotId, d.token, d.now);
    if (test) {
      d.outcome.failed.push(...d.pending);
      await d.log('error', 'review_digest_failed', null, reason);
    } else {
      d.outcome.retry.push(reason);
      await d.log('warn', 'review_digest_failed', null, `${reason}; tried again at the next check`);
    }
    return null;
  }
}

/** Sends one channel and stamps its result; false when the claim was lost meanwhile (the delivery stops there). */
async function sendChannel(d: Delivery, channel: DigestChannel, message: DigestMessage, reviewUrl: string): Promise<boolean> {
  const sent =
    channel === 'email'
      ? await sendEmail(d.deps, d.installation, d.record, message)
      : await sendChat(d.deps, d.installation, d.record, message, reviewUrl);
  // A test answers the admin now: what would be retried is reported as failed at once.
  const result: ChannelResult = d.record.kind === 'test' && sent.kind === 'retry' ? { kind: 'failed', reason: sent.reason } : sent;
  if (result.kind === 'retry') {
    await noteDigestRetry(d.deps.db, d.installation.id, d.slotId, d.token, channel, result.reason);
    await d.log('warn', 'review_digest_failed', channel, `${channel} not sent yet, tried again at the next check: ${result.reason}`);
    d.outcome.retry.push(result.reason);
    return true;
  }
  // Sent, or failed for good: stamped on the slot first (false: the slot is no longer ours).
  const settled =
    result.kind === 'sent'
      ? ({
          state: 'sent',
          detail: result.detail,
          level: 'info',
          action: 'review_digest_sent',
          line: `${channel} sent ${result.detail}`,
        } as const)
      : ({
          state: 'failed',
          detail: result.reason,
          level: 'error',
          action: 'review_digest_failed',
          line: `${channel} not sent, not retried: ${result.reason}`,
        } as const);
  if (
    !(await stampDigestChannel(d.deps.db, d.installation.id, d.slotId, d.token, channel, {
      state: settled.state,
      at: d.now,
      detail: settled.detail,
    }))
  )
    return false;
  await d.log(settled.level, settled.action, channel, settled.line);
  d.outcome[settled.state].push(channel);
  return true;
}

type ChannelResult = { kind: 'sent'; detail: string } | { kind: 'failed'; reason: string } | { kind: 'retry'; reason: string };

async function sendEmail(
  deps: DigestDeps,
  installation: DigestInstallation,
  record: DigestRecord,
  message: DigestMessage,
): Promise<ChannelResult> {
  if (deps.mail === undefined) return { kind: 'failed', reason: 'email is not configured on this deployment (SMTP_HOST, SMTP_FROM)' };
  const host = new URL(deps.publicUrl).hostname || 'smarketing-sync';
  const local = `review-digest.${installation.id}.${record.slotId}`.replace(/[^A-Za-z0-9._-]/g, '-');
  const sent = await deps.mail.send({
    to: record.email.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${local}@${host}>`,
  });
  if (sent.kind === 'sent') return { kind: 'sent', detail: `to ${sent.accepted.join(', ')}` };
  return sent.retry ? { kind: 'retry', reason: sent.reason } : { kind: 'failed', reason: sent.reason };
}

async function sendChat(
  deps: DigestDeps,
  installation: DigestInstallation,
  record: DigestRecord,
  message: DigestMessage,
  reviewUrl: string,
): Promise<ChannelResult> {
  const { target, problem } = await deps.alertTarget(installation.id);
  if (target === null)
    return { kind: 'failed', reason: problem === null ? 'no alert target is set' : `the alert target cannot be read: ${problem}` };
  const alert = buildReviewDigestAlert({
    installationId: installation.id,
    slotId: record.slotId,
    periodId: record.periodId,
    text: message.chat,
    url: reviewUrl,
    test: record.kind === 'test',
  });
  const delivery = await sendAlert(target, alert, { policy: deps.outbound });
  switch (delivery.kind) {
    case 'delivered':
      return { kind: 'sent', detail: 'to the alert target' };
    case 'refused':
      return { kind: 'failed', reason: delivery.reason };
    case 'retry':
      return { kind: 'retry', reason: delivery.reason };
    default:
      return assertNever(delivery);
  }
}

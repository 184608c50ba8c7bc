/**
 * The outgoing SLA alert: a JSON POST to the installation's configured URL (a chat webhook, an
 * incident tool), signed with HMAC-SHA256 of the exact body bytes under the configured secret.
 * Delivery is retried by the `slaAlerts` queue; the receiver dedupes retries by the delivery id.
 * The URL is never logged (chat webhook URLs carry their own token), nor is the secret. The POST
 * goes only to a public address (src/sync/outbound-http.ts); what a failure says names no status
 * code or port, so the sync log cannot be used to tell which ports of a host are open.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertNever } from '../domain/result.ts';
import { z } from 'zod';
import type { SlaClockRecord, SlaEscalationRecord } from '../store/sla.ts';
import { postToPublicUrl, type OutboundPolicy } from './outbound-http.ts';

/** `sha256=<hex>`: HMAC-SHA256 of the raw request body with the shared secret. */
const ALERT_SIGNATURE_HEADER = 'x-smarketing-signature';
/** The same for every retry of one alert: receivers drop repeats by it. */
const ALERT_DELIVERY_HEADER = 'x-smarketing-delivery';
/** What happened, e.g. `sla.breached`. */
const ALERT_EVENT_HEADER = 'x-smarketing-event';

/** Where alerts go (installation settings `alert`). */
export const AlertTargetSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    secret: z.string().min(16, 'must be at least 16 characters'),
  })
  .strict();
/** An alert target. */
export type AlertTarget = z.output<typeof AlertTargetSchema>;

/** The signature header value of a body. */
export function signAlertBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `signature` is the body's signature under `secret` (constant-time comparison). */
export function verifyAlertSignature(body: string | Buffer, secret: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const expected = Buffer.from(signAlertBody(body, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The body of an SLA breach alert; `text` reads well in a chat channel on its own. */
export interface SlaBreachAlert {
  event: 'sla.breached';
  deliveryId: string;
  installationId: string;
  text: string;
  lead: { id: string; name: string | null; url: string | null };
  hubspotContactId: string | null;
  owner: { id: string | null; name: string | null };
  manager: { name: string | null };
  team: string | null;
  channel: string | null;
  campaign: string | null;
  handoffAt: string;
  dueAt: string;
  breachedAt: string;
  salesforceTaskIds: string[];
}

/** The alert of one escalation; the same escalation always gives the same body. */
export function buildBreachAlert(escalation: SlaEscalationRecord, clock: SlaClockRecord): SlaBreachAlert {
  const { details } = escalation;
  const who = details.leadName ?? `Lead ${clock.leadId}`;
  const owner = details.ownerName ?? clock.ownerName;
  return {
    event: 'sla.breached',
    deliveryId: `sla-escalation-${escalation.id}`,
    installationId: escalation.installationId,
    text: `SLA breached: ${who} was handed to sales at ${clock.handoffAt.toISOString()} and had no first touch by ${clock.dueAt.toISOString()}${owner === null ? '' : ` (owner ${owner})`}.${details.leadUrl === null ? '' : ` ${details.leadUrl}`}`,
    lead: { id: clock.leadId, name: details.leadName, url: details.leadUrl },
    hubspotContactId: clock.contactId,
    owner: { id: clock.ownerId, name: owner },
    manager: { name: details.managerName },
    team: clock.team,
    channel: clock.channel,
    campaign: clock.campaign,
    handoffAt: clock.handoffAt.toISOString(),
    dueAt: clock.dueAt.toISOString(),
    breachedAt: escalation.breachedAt.toISOString(),
    salesforceTaskIds: escalation.taskIds,
  };
}

/** The body of the Salesforce API budget alert: the app's calls reached 80 % of its budget. */
export interface ApiBudgetAlert {
  event: 'salesforce.api_budget';
  deliveryId: string;
  installationId: string;
  text: string;
  used: number;
  budget: number;
  /** The share of the budget at which this alert goes out (0.8). */
  threshold: number;
  at: string;
}

/** The budget alert of one budget period (`periodId`: one per installation and period, the same on retries). */
export function buildApiBudgetAlert(input: {
  installationId: string;
  used: number;
  budget: number;
  threshold: number;
  at: Date;
  periodId: string;
}): ApiBudgetAlert {
  const percent = Math.round((input.used / input.budget) * 100);
  return {
    event: 'salesforce.api_budget',
    deliveryId: `api-budget-${input.periodId}`,
    installationId: input.installationId,
    text: `Salesforce API budget: the app has made ${input.used} of its ${input.budget} calls in the last 24 hours (${percent} %). At the budget its syncs wait until calls are available again; raise the budget on the installation page if that is too soon.`,
    used: input.used,
    budget: input.budget,
    threshold: input.threshold,
    at: input.at.toISOString(),
  };
}

/** The body of a marketing commitment alert: a commitment fell to at risk or behind in its period. */
export interface CommitmentAlert {
  event: 'marketing.commitment';
  deliveryId: string;
  installationId: string;
  text: string;
  period: string;
  metric: string;
  /** Null: all channels. */
  channel: string | null;
  status: 'at_risk' | 'behind';
  target: number;
  delivered: number;
  expectedToDate: number;
  forecast: number;
  raisedAt: string;
}

const METRIC_NAMES: Readonly<Record<string, string>> = {
  mqls_delivered: 'MQLs delivered',
  sqls_accepted: 'SQLs accepted by sales',
  pipeline_created: 'pipeline created',
};

/** The alert of one commitment in one period (the same delivery id on every retry and every check). */
export function buildCommitmentAlert(input: {
  installationId: string;
  periodId: string;
  key: string;
  metric: string;
  channel: string | null;
  status: 'at_risk' | 'behind';
  target: number;
  delivered: number;
  expectedToDate: number;
  forecast: number;
  raisedAt: Date;
}): CommitmentAlert {
  const what = `${METRIC_NAMES[input.metric] ?? input.metric}${input.channel === null ? '' : ` (${input.channel})`}`;
  const figure = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return {
    event: 'marketing.commitment',
    deliveryId: `commitment-${input.installationId}-${input.periodId}-${input.key}`,
    installationId: input.installationId,
    text: `Marketing commitment ${input.status === 'behind' ? 'behind' : 'at risk'} for ${input.periodId}: ${what} is ${figure(input.delivered)} against ${figure(input.expectedToDate)} expected by now; on this pace the period ends at ${figure(input.forecast)} of the ${figure(input.target)} committed.`,
    period: input.periodId,
    metric: input.metric,
    channel: input.channel,
    status: input.status,
    target: input.target,
    delivered: input.delivered,
    expectedToDate: input.expectedToDate,
    forecast: input.forecast,
    raisedAt: input.raisedAt.toISOString(),
  };
}

/** The body of a review digest: the chat-ready summary of the pipeline review, once per slot. */
export interface ReviewDigestAlert {
  event: 'review.digest';
  deliveryId: string;
  installationId: string;
  /** Slack-style mrkdwn, short (src/domain/digest-message.ts). */
  text: string;
  /** `2026-W49`, or `test:<request>` for a test digest. */
  slot: string;
  period: string;
  url: string;
  test: boolean;
}

/** The digest alert of one slot (the same delivery id on every retry of that slot). */
export function buildReviewDigestAlert(input: {
  installationId: string;
  slotId: string;
  periodId: string;
  text: string;
  url: string;
  test: boolean;
}): ReviewDigestAlert {
  return {
    event: 'review.digest',
    deliveryId: `review-digest-${input.installationId}-${input.slotId}`,
    installationId: input.installationId,
    text: input.text,
    slot: input.slotId,
    period: input.periodId,
    url: input.url,
    test: input.test,
  };
}

/** What one delivery attempt came to; a reason never carries a status code, a port or the URL. */
export type AlertDelivery = { kind: 'delivered' } | { kind: 'retry'; reason: string } | { kind: 'refused'; reason: string };

/** Statuses worth another attempt: timeouts, rate limits and server errors. */
function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Posts one signed alert (an SLA breach, the API budget's, a marketing commitment's or a review digest); never throws for the receiver's answers or network failures. */
export async function sendAlert(
  target: AlertTarget,
  alert: SlaBreachAlert | ApiBudgetAlert | CommitmentAlert | ReviewDigestAlert,
  options: { policy: OutboundPolicy; timeoutMs?: number },
): Promise<AlertDelivery> {
  const body = JSON.stringify(alert);
  const answer = await postToPublicUrl(
    target.url,
    {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'smarketing-sync',
        [ALERT_SIGNATURE_HEADER]: signAlertBody(body, target.secret),
        [ALERT_DELIVERY_HEADER]: alert.deliveryId,
        [ALERT_EVENT_HEADER]: alert.event,
      },
      body,
      timeoutMs: options.timeoutMs ?? 10_000,
    },
    options.policy,
  );
  switch (answer.kind) {
    case 'answered':
      if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered' };
      return retryable(answer.status)
        ? { kind: 'retry', reason: 'delivery failed: rejected by receiver' }
        : { kind: 'refused', reason: 'delivery failed: rejected by receiver' };
    case 'refused_by_policy':
      // A setting to fix, not a network hiccup: not retried.
      return { kind: 'refused', reason: `delivery failed: refused by policy (${answer.message})` };
    case 'unreachable':
      return { kind: 'retry', reason: 'delivery failed: unreachable' };
    default:
      return assertNever(answer);
  }
}

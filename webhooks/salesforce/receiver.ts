/**
 * POST /webhooks/salesforce/{token} — Outbound Messages: check the content type and the path
 * token (before a byte of the body is read) → read and parse the SOAP envelope → check the
 * OrganizationId → store the message durably (the intake worker splits it into one
 * job per notification, under the installation and the notification's Id) → answer the Ack envelope. Anything but Ack
 * makes Salesforce retry, so Ack is sent only once the message is in Redis.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../src/log.ts';
import type { NewJob, Producer } from '../../src/queue/producer.ts';
import type { Metrics } from '../../src/metrics.ts';
import type { InstallationDirectory } from '../../src/store/installation-directory.ts';
import { answerWebhook, byInstallation, enqueueDurably, readWebhookBody, type IntakeResult } from '../intake.ts';
import { ackEnvelope, faultEnvelope, parseOutboundMessage } from './envelope.ts';
import { sameOrg } from './verify.ts';

export interface SalesforceReceiverDeps {
  producer: Producer;
  directory: InstallationDirectory;
  now: () => number;
  log: Logger;
  metrics: Metrics;
  budgetMs: number;
  maxBodyBytes: number;
}

const XML_TYPES = ['text/xml', 'application/xml', 'application/soap+xml'];

/**
 * The largest Outbound Message the app's rules can make Salesforce send. "A single SOAP message
 * can include up to 100 notifications"
 * (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm).
 * The largest notification is a Lead: Feedback_Notes__c (Long Text Area, 32,000 characters, at
 * most 3 bytes each in UTF-8: 96,000 bytes) and about 35 other fields of at most 255 characters
 * (under 27,000 bytes) with their tags: under 128 KiB. 100 × 128 KiB = 12.5 MiB. Only a request
 * that named an installation's endpoint token is read at all.
 */
export const MAX_OUTBOUND_MESSAGE_BYTES = 100 * 128 * 1024;

/**
 * The notification's job id: notification ids are kept across Salesforce's retries, but are only
 * unique within one org, so the id is scoped by the installation (another installation's
 * notification with the same Id is its own event, never a duplicate of this one).
 */
export function salesforceJobId(installationId: string, notificationId: string): string {
  const safe = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '_');
  return `sf-${safe(installationId)}-${safe(notificationId)}`;
}

async function receive(deps: SalesforceReceiverDeps, req: Request, res: Response, token: string | undefined): Promise<IntakeResult> {
  // The cheap checks first: nothing of the body is read for a request that fails them.
  if (!req.is(XML_TYPES)) return { kind: 'refused', status: 415, reason: 'content_type', message: 'Content-Type must be text/xml' };
  const installation = token ? await deps.directory.forSalesforceToken(token) : undefined;
  if (!installation)
    return {
      kind: 'refused',
      status: 404,
      reason: 'unknown_token',
      message: 'No installation listens on this endpoint: copy the endpoint URL from the admin page into the Outbound Message',
    };

  const read = await readWebhookBody(req, res, deps.maxBodyBytes, 'invalid_envelope');
  if (!read.ok) return read.refusal;
  const parsed = parseOutboundMessage(read.body);
  if (!parsed.ok) return { kind: 'refused', status: 400, reason: 'invalid_envelope', message: parsed.error };
  const message = parsed.value;
  if (!installation.salesforceOrgId || !sameOrg(installation.salesforceOrgId, message.organizationId)) {
    return {
      kind: 'refused',
      status: 403,
      reason: 'wrong_org',
      message: 'OrganizationId does not match the org connected to this installation',
    };
  }

  const receivedAt = deps.now();
  const jobs: NewJob<'salesforceEvents'>[] = message.notifications.map((notification) => ({
    jobId: salesforceJobId(installation.id, notification.id),
    payload: {
      v: 1,
      installationId: installation.id,
      receivedAt,
      organizationId: message.organizationId,
      actionId: message.actionId,
      notification,
    },
  }));
  const result = await enqueueDurably(
    deps,
    byInstallation(jobs).map(([installationId, events]) => ({ v: 1, source: 'salesforce', installationId, events })),
    0,
  );
  if (result.kind === 'accepted') deps.metrics.webhookAccepted.inc({ source: 'salesforce', installation: installation.id }, jobs.length);
  return result;
}

function respond(deps: SalesforceReceiverDeps, res: Response, result: IntakeResult): void {
  res.type('text/xml; charset=utf-8');
  switch (result.kind) {
    case 'accepted':
      res.status(200).send(ackEnvelope(true));
      return;
    case 'refused':
      deps.metrics.webhookRefused.inc({ source: 'salesforce', reason: result.reason });
      deps.log.warn({ source: 'salesforce', reason: result.reason, detail: result.message }, 'outbound message refused');
      res.status(result.status).send(faultEnvelope(result.message, 'soapenv:Client'));
      return;
    case 'unavailable':
      deps.metrics.webhookRefused.inc({ source: 'salesforce', reason: 'unavailable' });
      deps.log.error(
        { source: 'salesforce', detail: result.message },
        'outbound message not accepted: queue unavailable (Salesforce will retry)',
      );
      res.status(503).send(faultEnvelope('Temporarily unavailable; retry later', 'soapenv:Server'));
      return;
    default: {
      const unreachable: never = result;
      throw new Error(`unhandled intake result ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The router mounted at /webhooks/salesforce. */
export function salesforceWebhookRouter(deps: SalesforceReceiverDeps): Router {
  const router = express.Router();
  router.post('/', (req, res, next) => {
    answerWebhook(
      req,
      res,
      next,
      () => receive(deps, req, res, undefined),
      (result) => respond(deps, res, result),
    );
  });
  router.post('/:token', (req, res, next) => {
    answerWebhook(
      req,
      res,
      next,
      () => receive(deps, req, res, req.params.token),
      (result) => respond(deps, res, result),
    );
  });
  return router;
}

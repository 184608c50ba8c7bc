/**
 * POST /webhooks/hubspot — check content type, signature headers and timestamp (before the body
 * is read) → verify (v3 signature over raw bytes) → validate → route by portal →
 * store the delivery durably (split into one job per event, deterministic ids, by the intake
 * worker) → acknowledge. No CRM call and no database write on this path.
 */
import { hash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../src/log.ts';
import type { HubSpotEvent } from '../../src/queue/catalog.ts';
import type { NewJob, Producer } from '../../src/queue/producer.ts';
import type { Metrics } from '../../src/metrics.ts';
import type { InstallationDirectory } from '../../src/store/installation-directory.ts';
import { answerWebhook, byInstallation, enqueueDurably, readWebhookBody, type IntakeResult } from '../intake.ts';
import { isHandledSubscription, parseHubSpotBody } from './schema.ts';
import { checkSignatureHeaders, verifyHubSpotSignature } from './verify.ts';

export interface HubSpotReceiverDeps {
  producer: Producer;
  directory: InstallationDirectory;
  /** The app's client secret; without one every delivery is refused. */
  signingSecret: string | undefined;
  /** Public origin HubSpot calls (PUBLIC_URL): the signed URI is rebuilt from it. */
  publicUrl: () => string;
  now: () => number;
  log: Logger;
  metrics: Metrics;
  budgetMs: number;
  maxBodyBytes: number;
}

/**
 * The largest body read. "The batch size can vary, but will be under 100 notifications"
 * (https://developers.hubspot.com/docs/api/webhooks, Webhooks API: payloads). An event is about
 * 400 bytes of JSON plus the property value; the app subscribes to names, email, phone, company,
 * job title, stages and a date, so 100 events fit in well under 1 MiB (10 KiB per event). The
 * signature can only be checked once the body is read, so this limit is also what a request with
 * forged but well-formed headers can make the receiver hold.
 */
export const MAX_HUBSPOT_BATCH_BYTES = 1024 * 1024;

/**
 * The dedupe key: installation + portal + object + property + value + occurredAt (+ type). The
 * installation scopes it like every other job id, so no installation's event can stand in for
 * another's.
 */
export function hubspotJobId(installationId: string, event: HubSpotEvent): string {
  const key = [
    installationId,
    event.portalId,
    event.subscriptionType,
    event.objectId,
    event.propertyName ?? '',
    event.propertyValue ?? '',
    event.occurredAt,
  ].join('\u001f');
  return `hs-${hash('sha256', key).slice(0, 40)}`;
}

async function receive(deps: HubSpotReceiverDeps, req: Request, res: Response): Promise<IntakeResult> {
  // The cheap checks first: nothing of the body is read for a request that fails them.
  if (!req.is('application/json'))
    return { kind: 'refused', status: 415, reason: 'content_type', message: 'Content-Type must be application/json' };
  if (!deps.signingSecret)
    return { kind: 'refused', status: 401, reason: 'not_configured', message: 'HubSpot webhooks are not configured (no client secret)' };
  const headers = checkSignatureHeaders(req.headers, deps.now());
  if (!headers.ok) return { kind: 'refused', status: 401, reason: headers.reason, message: headers.message };

  const read = await readWebhookBody(req, res, deps.maxBodyBytes, 'invalid_body');
  if (!read.ok) return read.refusal;
  const rawBody = read.body;
  const check = verifyHubSpotSignature(
    { method: req.method, uri: `${deps.publicUrl()}${req.originalUrl}`, rawBody, headers: req.headers },
    deps.signingSecret,
    deps.now(),
  );
  if (!check.ok) return { kind: 'refused', status: 401, reason: check.reason, message: check.message };

  const body = parseHubSpotBody(rawBody);
  if (!body.ok) return { kind: 'refused', status: 400, reason: 'invalid_body', message: body.message };

  const receivedAt = deps.now();
  const jobs: NewJob<'hubspotEvents'>[] = [];
  let ignored = 0;
  const installations = new Map<string, string>();
  for (const event of body.events) {
    let installationId = installations.get(event.portalId);
    if (!installationId) {
      const installation = await deps.directory.forPortal(event.portalId);
      if (!installation)
        return { kind: 'refused', status: 403, reason: 'unknown_portal', message: `portal ${event.portalId} has no installation here` };
      installationId = installation.id;
      installations.set(event.portalId, installationId);
    }
    if (!isHandledSubscription(event.subscriptionType)) {
      ignored += 1;
      continue;
    }
    jobs.push({ jobId: hubspotJobId(installationId, event), payload: { v: 1, installationId, receivedAt, event } });
  }
  const groups = byInstallation(jobs);
  const result = await enqueueDurably(
    deps,
    groups.map(([installationId, events]) => ({ v: 1, source: 'hubspot', installationId, events })),
    ignored,
  );
  if (result.kind === 'accepted') {
    for (const [installation, events] of groups) deps.metrics.webhookAccepted.inc({ source: 'hubspot', installation }, events.length);
  }
  return result;
}

function respond(deps: HubSpotReceiverDeps, res: Response, result: IntakeResult): void {
  switch (result.kind) {
    case 'accepted':
      res.status(200).json({ status: 'accepted', enqueued: result.enqueued, ignored: result.ignored });
      return;
    case 'refused':
      deps.metrics.webhookRefused.inc({ source: 'hubspot', reason: result.reason });
      deps.log.warn({ source: 'hubspot', reason: result.reason, detail: result.message }, 'webhook refused');
      res.status(result.status).json({ status: 'refused', reason: result.reason, message: result.message });
      return;
    case 'unavailable':
      deps.metrics.webhookRefused.inc({ source: 'hubspot', reason: 'unavailable' });
      deps.log.error({ source: 'hubspot', detail: result.message }, 'webhook not accepted: queue unavailable (sender will retry)');
      res.status(503).set('Retry-After', '5').json({ status: 'unavailable', message: 'Try again later' });
      return;
    default: {
      const unreachable: never = result;
      throw new Error(`unhandled intake result ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The router mounted at /webhooks/hubspot. */
export function hubspotWebhookRouter(deps: HubSpotReceiverDeps): Router {
  const router = express.Router();
  router.post('/', (req, res, next) => {
    answerWebhook(
      req,
      res,
      next,
      () => receive(deps, req, res),
      (result) => respond(deps, res, result),
    );
  });
  return router;
}

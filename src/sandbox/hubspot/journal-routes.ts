/**
 * The webhooks journal API (2026-03) and its subscription API, with client credentials tokens, and
 * the entry files at pre-signed URLs. Paths, shapes and answers: docs/reference/hubspot-webhooks-journal.md.
 */
import { Router } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import {
  HubSpotError,
  errorBody,
  invalidAuthentication,
  expiredAuthentication,
  missingScopes,
  resourceNotFound,
  validationError,
} from './errors.ts';
import type { FaultController } from './faults.ts';
import { param, parseBody, queryString } from './http-kit.ts';
import type { RateLimiter } from './rate-limit.ts';
import { ACTIONS, JOURNAL_SCOPES, SUBSCRIPTION_TYPES, type Journal, type JournalEntry, type JournalSubscription } from './journal.ts';
import type { SandboxConfig } from './sandbox-config.ts';

const VERSION = '2026-03';

const subscriptionBody = z
  .object({
    subscriptionType: z.enum(SUBSCRIPTION_TYPES),
    portalId: z.number().int().positive(),
    actions: z.array(z.enum(ACTIONS)).min(1),
    objectTypeId: z
      .string()
      .regex(/^\d+-\d+$/)
      .optional(),
    objectIds: z.array(z.number().int().positive()).optional(),
    properties: z.array(z.string().min(1)).optional(),
  })
  .refine((s) => s.subscriptionType !== 'OBJECT' || s.objectTypeId !== undefined, {
    message: 'objectTypeId is required for OBJECT subscriptions',
  });

function subscriptionView(subscription: JournalSubscription): Record<string, unknown> {
  return {
    id: subscription.id,
    appId: subscription.appId,
    subscriptionType: subscription.subscriptionType,
    portalId: subscription.portalId,
    actions: subscription.actions,
    objectTypeId: subscription.objectTypeId ?? null,
    properties: subscription.properties ?? null,
    objectIds: subscription.objectIds ?? null,
    associatedObjectTypeIds: null,
    createdBy: subscription.appId,
    createdAt: new Date(subscription.createdAt).toISOString(),
    updatedAt: new Date(subscription.updatedAt).toISOString(),
    deletedAt: null,
  };
}

/** Bearer authentication with a client credentials token holding `scope`. */
function clientCredentials(journal: Journal, config: SandboxConfig, scope: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? '');
    const grant = match?.[1] === undefined ? undefined : journal.grant(match[1].trim());
    if (grant === undefined) throw invalidAuthentication();
    const now = config.now();
    if (grant.expiresAt <= now) throw expiredAuthentication(grant.expiresAt, now);
    if (!grant.scopes.includes(scope)) throw missingScopes(scope);
    next();
  };
}

/** The optional `installPortalId` query parameter (an integer). */
function installPortalId(req: Request): number | undefined {
  const raw = queryString(req, 'installPortalId');
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw validationError(`installPortalId must be an integer, got ${raw}`);
  return value;
}

/** Holds the answer when the slow-feed fault is set. */
function journalDelay(faults: FaultController): RequestHandler {
  return (_req: Request, _res: Response, next: NextFunction) => {
    const delay = faults.journalDelayMs();
    if (delay > 0) setTimeout(next, delay);
    else next();
  };
}

function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

export function journalRouter(journal: Journal, faults: FaultController, config: SandboxConfig, limiter: RateLimiter): Router {
  const router = Router();
  router.use(['/webhooks-journal', '/__journal-files'], journalDelay(faults));
  router.use('/webhooks-journal', limiter.journalMiddleware());
  registerJournalRoutes(router, journal, faults, config);
  registerSubscriptionRoutes(router, journal, config);
  registerFileRoute(router, journal, faults);
  return router;
}

/** earliest / latest / offset/{offset}/next, global and local; 204 when there is no entry. */
function registerJournalRoutes(router: Router, journal: Journal, faults: FaultController, config: SandboxConfig): void {
  const read = clientCredentials(journal, config, JOURNAL_SCOPES.read);
  const answer = (req: Request, res: Response, entry: JournalEntry | undefined) => {
    if (entry === undefined) res.status(204).end();
    else res.json(journal.fetchResponse(baseUrl(req), entry));
  };
  for (const variant of ['journal', 'journal-local']) {
    const base = `/webhooks-journal/${variant}/${VERSION}`;
    // The global journal spans every installed portal; the local one the portal asked for (or all).
    const portal = (req: Request) => (variant === 'journal' ? undefined : installPortalId(req));
    router.get(`${base}/earliest`, read, (req: Request, res: Response) => {
      journal.flush();
      answer(req, res, journal.earliest(portal(req)));
    });
    router.get(`${base}/latest`, read, (req: Request, res: Response) => {
      journal.flush();
      answer(req, res, journal.latest(portal(req)));
    });
    router.get(`${base}/offset/:offset/next`, read, (req: Request, res: Response) => {
      journal.flush();
      const offset = param(req, 'offset');
      if (faults.rollJournal('expireOffset')) journal.expireThrough(offset);
      const next = journal.next(offset, portal(req));
      if (next.kind === 'expired') throw resourceNotFound(`Offset ${offset} was not found or has expired`);
      answer(req, res, next.kind === 'entry' ? next.entry : undefined);
    });
  }
}

/** Create, list and delete journal subscriptions. */
function registerSubscriptionRoutes(router: Router, journal: Journal, config: SandboxConfig): void {
  const base = `/webhooks-journal/subscriptions/${VERSION}`;
  const read = clientCredentials(journal, config, JOURNAL_SCOPES.subscriptionsRead);
  const write = clientCredentials(journal, config, JOURNAL_SCOPES.subscriptionsWrite);

  router.get(base, read, (_req: Request, res: Response) => {
    res.json({ results: [...journal.subscriptions.values()].map(subscriptionView) });
  });

  router.post(base, write, (req: Request, res: Response) => {
    const input = parseBody(subscriptionBody, req.body);
    if (!journal.hasPortal(input.portalId)) throw validationError(`The app is not installed in portal ${input.portalId}`);
    const subscription = journal.newSubscription({
      subscriptionType: input.subscriptionType,
      portalId: input.portalId,
      actions: input.actions,
      ...(input.objectTypeId === undefined ? {} : { objectTypeId: input.objectTypeId }),
      ...(input.properties === undefined ? {} : { properties: input.properties }),
      ...(input.objectIds === undefined ? {} : { objectIds: input.objectIds }),
    });
    res.status(201).json(subscriptionView(subscription));
  });

  router.delete(`${base}/portals/:portalId`, write, (req: Request, res: Response) => {
    const portalId = Number(param(req, 'portalId'));
    for (const [id, subscription] of journal.subscriptions) if (subscription.portalId === portalId) journal.subscriptions.delete(id);
    res.status(204).end();
  });

  router.delete(`${base}/:subscriptionId`, write, (req: Request, res: Response) => {
    const id = Number(param(req, 'subscriptionId'));
    if (!journal.subscriptions.delete(id)) throw resourceNotFound(`Subscription ${param(req, 'subscriptionId')} was not found`);
    res.status(204).end();
  });
}

/**
 * An entry's JSON file at its pre-signed URL: no Authorization header, refused (403) once the URL
 * expired or when its signature is not the journal's; the drop-stream fault cuts it off halfway.
 */
function registerFileRoute(router: Router, journal: Journal, faults: FaultController): void {
  router.get('/__journal-files/:file', (req: Request, res: Response) => {
    const offset = param(req, 'file').replace(/\.json$/, '');
    if (!journal.validFileUrl(offset, Number(queryString(req, 'expires')), queryString(req, 'signature') ?? '')) {
      throw new HubSpotError(403, errorBody('FORBIDDEN', 'Request has expired or the signature does not match'));
    }
    const entry = journal.entry(offset);
    if (entry === undefined) throw resourceNotFound('The specified key does not exist.');
    const body = JSON.stringify({
      offset: entry.offset,
      publishedAt: new Date(entry.publishedAt).toISOString(),
      journalEvents: entry.events,
    });
    if (faults.rollJournal('dropStream')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.type('application/json').send(body);
  });
}

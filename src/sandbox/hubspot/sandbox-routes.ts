import { Router, json } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { MARKETING_HUB_TIERS } from './campaigns.ts';
import { HubSpotError, errorBody } from './errors.ts';
import { param, parseBody, queryString } from './http-kit.ts';
import { propertyValues } from './schemas.ts';
import { MAX_SEED_CONTACTS, type FaultConfigInput, type SandboxControl } from './sandbox-control.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const resetBody = z.object({ keep: z.array(z.enum(['webhooks', 'oauth'])).optional() }).strict();
const uiWriteBody = z.object({ properties: propertyValues, userId: z.number().int().positive().optional() }).strict();
const privateAppBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const seedBody = z
  .object({
    contacts: z
      .array(z.object({ properties: propertyValues }).strict())
      .min(1)
      .max(MAX_SEED_CONTACTS),
  })
  .strict();
const formBody = z
  .object({ guid: z.string().min(1), name: z.string().min(1), inlineMessage: z.string().optional(), redirectUri: z.url().optional() })
  .strict();

/** Refuses `/__sandbox/*` to anything but loopback clients. */
function loopbackOnly(req: Request, _res: Response, next: NextFunction): void {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
    throw new HubSpotError(403, errorBody('FORBIDDEN', 'The sandbox control endpoints only answer loopback clients'));
  }
  next();
}

/**
 * Sandbox-only endpoints (no auth, loopback only):
 * stats, reset, fault knobs, webhook delivery log, journal expiry, simulated HubSpot UI edits and form registry.
 */
export function sandboxRouter(control: SandboxControl): Router {
  const router = Router();
  router.use(loopbackOnly);
  // A bulk import: up to 10,000 contacts per request (the body limit allows it), no webhooks, no rate limit.
  router.post('/seed/contacts', json({ limit: '50mb' }), (req: Request, res: Response) => {
    const input = parseBody(seedBody, req.body);
    res.status(201).json(control.seedContacts(input.contacts));
  });

  router.use(json());
  registerStateRoutes(router, control);
  registerUiRoutes(router, control);
  return router;
}

/** The optional `?userId=` of a simulated UI action. */
function userIdQuery(req: Request): number | undefined {
  const userId = queryString(req, 'userId');
  return userId === undefined ? undefined : Number(userId);
}

/** Stats, reset, fault knobs and the webhook delivery log. */
function registerStateRoutes(router: Router, control: SandboxControl): void {
  router.get('/stats', (_req: Request, res: Response) => {
    res.json(control.stats());
  });

  router.post('/stats/reset', (_req: Request, res: Response) => {
    control.resetStats();
    res.status(204).end();
  });

  router.post('/reset', async (req: Request, res: Response) => {
    const input = parseBody(resetBody, req.body);
    await control.reset(input.keep === undefined ? {} : { keep: input.keep });
    res.status(204).end();
  });

  router.get('/faults', (_req: Request, res: Response) => {
    res.json(control.faults());
  });

  router.post('/faults', (req: Request, res: Response) => {
    try {
      // setFaults validates with the zod schema of the fault knobs.
      control.setFaults((req.body ?? {}) as FaultConfigInput);
    } catch (error) {
      if (error instanceof z.ZodError) {
        throw new HubSpotError(
          400,
          errorBody('VALIDATION_ERROR', `Invalid fault configuration: ${z.prettifyError(error)}`, {
            errors: error.issues.map((issue) => ({ message: issue.message, code: 'INVALID_INPUT', in: issue.path.map(String).join('.') })),
          }),
        );
      }
      throw error;
    }
    res.json(control.faults());
  });

  router.delete('/faults', (_req: Request, res: Response) => {
    control.clearFaults();
    res.status(204).end();
  });

  router.post('/private-apps', (req: Request, res: Response) => {
    const input = parseBody(privateAppBody, req.body);
    res.status(201).json(control.createPrivateApp(input.name));
  });

  router.post('/journal/expire', (_req: Request, res: Response) => {
    control.expireJournal();
    res.status(204).end();
  });

  router.get('/deliveries', (req: Request, res: Response) => {
    const state = queryString(req, 'state');
    const results = control.deliveries().filter((delivery) => state === undefined || delivery.state === state);
    res.json({ results });
  });
}

/** Simulated HubSpot UI actions, the portal's tier and the form registry. */
function registerUiRoutes(router: Router, control: SandboxControl): void {
  router.post('/ui/:objectType', (req: Request, res: Response) => {
    const input = parseBody(uiWriteBody, req.body);
    res.status(201).json(control.createInUi(param(req, 'objectType'), input.properties, input.userId));
  });

  router.patch('/ui/:objectType/:objectId', (req: Request, res: Response) => {
    const input = parseBody(uiWriteBody, req.body);
    res.json(control.editInUi(param(req, 'objectType'), param(req, 'objectId'), input.properties, input.userId));
  });

  router.delete('/ui/:objectType/:objectId', (req: Request, res: Response) => {
    control.archiveInUi(param(req, 'objectType'), param(req, 'objectId'), userIdQuery(req));
    res.status(204).end();
  });

  // The recipient unsubscribes from all email (a marketing email's footer link): changeSource EMAIL.
  router.post('/ui/contacts/:objectId/unsubscribe', (req: Request, res: Response) => {
    control.unsubscribeRecipient(param(req, 'objectId'));
    res.status(204).end();
  });

  router.post('/ui/:objectType/:objectId/restore', (req: Request, res: Response) => {
    control.restoreInUi(param(req, 'objectType'), param(req, 'objectId'), userIdQuery(req));
    res.status(204).end();
  });

  router.post('/portal', (req: Request, res: Response) => {
    const input = parseBody(z.object({ marketingHubTier: z.enum(MARKETING_HUB_TIERS) }).strict(), req.body);
    control.setMarketingHubTier(input.marketingHubTier);
    res.status(204).end();
  });

  router.post('/forms', (req: Request, res: Response) => {
    const input = parseBody(formBody, req.body);
    const form = {
      guid: input.guid,
      name: input.name,
      ...(input.inlineMessage === undefined ? {} : { inlineMessage: input.inlineMessage }),
      ...(input.redirectUri === undefined ? {} : { redirectUri: input.redirectUri }),
    };
    control.registerForm(form);
    res.status(201).json(form);
  });
}

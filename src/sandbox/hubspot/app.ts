import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { associationsRouter } from './associations-routes.ts';
import { campaignsRouter } from './campaigns-routes.ts';
import { communicationPreferencesRouter } from './communication-preferences-routes.ts';
import { bearerAuth, developerKeyAuth, type PrivateApps } from './auth.ts';
import type { CrmService } from './crm-service.ts';
import { HubSpotError, errorBody, rateLimited, resourceNotFound, serverError } from './errors.ts';
import type { FaultController } from './faults.ts';
import { formsRouter } from './forms-routes.ts';
import type { Journal } from './journal.ts';
import { journalRouter } from './journal-routes.ts';
import { objectsRouter } from './objects-routes.ts';
import { oauthRouter } from './oauth-routes.ts';
import { ownersRouter, SANDBOX_OWNERS } from './owners.ts';
import type { StatePersistence } from './persistence.ts';
import { propertiesRouter } from './properties-routes.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxControl } from './sandbox-control.ts';
import { sandboxRouter } from './sandbox-routes.ts';
import { searchRouter } from './search.ts';
import { endpointPath } from './stats.ts';
import type { CallStats } from './stats.ts';
import type { SandboxStore } from './store.ts';
import { webhooksRouter } from './webhooks-routes.ts';

export interface AppDeps {
  config: SandboxConfig;
  store: SandboxStore;
  crm: CrmService;
  faults: FaultController;
  journal: Journal;
  limiter: RateLimiter;
  stats: CallStats;
  control: SandboxControl;
  privateApps: PrivateApps;
  persistence: StatePersistence | undefined;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Counts calls, logs them (never tokens: paths are normalized), marks state dirty after writes. */
function bookkeeping(deps: AppDeps) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = Date.now();
    // Read before routing: a router mounted at /__sandbox strips its prefix from req.path while it
    // answers, and the control calls were counted as API calls (chaos suite).
    const path = req.path;
    res.setHeader('X-HubSpot-Correlation-Id', randomUUID());
    res.on('finish', () => {
      if (path.startsWith('/__sandbox')) return;
      const faultInjected = (res.locals as { faultInjected?: boolean }).faultInjected === true;
      deps.stats.record(req.method, path, res.statusCode, faultInjected);
      if (MUTATING.has(req.method) && res.statusCode < 400) deps.persistence?.markDirty();
      deps.config.logger.debug(
        { method: req.method, endpoint: endpointPath(path), status: res.statusCode, ms: Date.now() - started },
        'hubspot sandbox request',
      );
    });
    next();
  };
}

/** Injects the configured 429/5xx faults and delays before anything else answers. */
function injectFaults(faults: FaultController) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const fault = faults.matchHttp(req.method, req.path);
    if (fault === undefined) {
      next();
      return;
    }
    const answer = (): void => {
      if (fault.status === undefined) {
        next();
        return;
      }
      (res.locals as { faultInjected?: boolean }).faultInjected = true;
      const policy = fault.policyName ?? (req.method === 'POST' && req.path.endsWith('/search') ? 'SECONDLY' : 'TEN_SECONDLY_ROLLING');
      next(fault.status === 429 ? rateLimited(policy, 'sandbox:fault-injection') : serverError(fault.status));
    };
    if (fault.delayMs === undefined) answer();
    else setTimeout(answer, fault.delayMs);
  };
}

function toHubSpotError(error: unknown, deps: AppDeps): HubSpotError {
  if (error instanceof HubSpotError) return error;
  const parseFailure = error as { type?: string; message?: string };
  if (parseFailure.type === 'entity.parse.failed') {
    return new HubSpotError(
      400,
      errorBody('VALIDATION_ERROR', `Invalid input JSON on line 1: ${parseFailure.message ?? 'malformed JSON'}`),
    );
  }
  const clientError = error as { expose?: boolean; status?: number; message?: string };
  if (clientError.expose === true && typeof clientError.status === 'number' && clientError.status >= 400 && clientError.status < 500) {
    // Other body-parser refusals (too large, unsupported charset…): keep their status, HubSpot's body shape.
    return new HubSpotError(clientError.status, errorBody('VALIDATION_ERROR', clientError.message ?? 'invalid request body'));
  }
  deps.config.logger.error({ err: error }, 'hubspot sandbox: unexpected error');
  return new HubSpotError(500, errorBody('INTERNAL_ERROR', 'internal error'));
}

/** The Express app: public endpoints, developer-key endpoints, bearer-token CRM endpoints, sandbox controls. */
export function buildApp(deps: AppDeps): Express {
  const { config, store, crm, faults, journal, limiter, control, privateApps } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(bookkeeping(deps));
  app.use('/__sandbox', sandboxRouter(control));
  app.use(injectFaults(faults));
  app.use(express.json({ limit: '25mb' }));

  const withToken = [bearerAuth(store, config, privateApps), limiter.middleware()];
  app.use(oauthRouter(store, config, journal));
  app.use(journalRouter(journal, faults, config, limiter));
  app.use(formsRouter(store, crm, config, withToken));
  app.use('/webhooks', developerKeyAuth(config), limiter.middleware());
  app.use(webhooksRouter(store, config));
  app.use('/marketing', ...withToken);
  app.use(campaignsRouter(store.campaignBook, config.now));
  app.use('/communication-preferences', ...withToken);
  app.use(communicationPreferencesRouter(crm, config.now));
  app.use('/crm', ...withToken);
  app.use(ownersRouter(() => SANDBOX_OWNERS));
  app.use(searchRouter(store, crm));
  app.use(associationsRouter(store, crm, config.now));
  app.use(propertiesRouter(store, config.now));
  app.use(objectsRouter(store, crm, config.now));

  app.use((req: Request) => {
    throw resourceNotFound(`No route for ${req.method} ${endpointPath(req.path)}`);
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const answer = toHubSpotError(error, deps);
    res.status(answer.httpStatus).set(answer.headers);
    if (typeof answer.body.correlationId === 'string') res.setHeader('X-HubSpot-Correlation-Id', answer.body.correlationId);
    res.json(answer.body);
  });
  return app;
}

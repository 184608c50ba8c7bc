/**
 * The admin JSON API (`/api/*`): everything the dashboard does. Sign-in with the admin session
 * (plus the CSRF header for changes) or `Authorization: Bearer <ADMIN_TOKEN>`; every route states
 * which role it needs (`access.ts`) and is judged before its body is read. Inputs are checked
 * with zod; failures are 4xx `{error, message, issues?}`. Documented in `/api/openapi.json`.
 * Each area registers its routes from `routes/`; this file composes them.
 */
import express, { type Request, type Response, type Router } from 'express';
import { access, guardedRouter, type Refusals } from '../admin/access.ts';
import type { AdminContext } from '../admin/context.ts';
import { sendError } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { syncControlRoutes } from './routes/controls.ts';
import { callerRoutes, installationRoutes, provisioningRoutes } from './routes/installations.ts';
import { installationJobRoutes, operatorRoutes } from './routes/jobs.ts';
import { apiRoutesFor } from './routes/kit.ts';
import { agreementRoutes, reportRoutes, salesRoutes } from './routes/reports.ts';
import { runProgressRoutes, runStartRoutes } from './routes/runs.ts';
import { alertRoutes, settingsRoutes } from './routes/settings.ts';
import { userRoutes } from './routes/users.ts';

const refusals: Refusals = {
  unauthenticated: (_req, res) =>
    sendError(res, 401, 'unauthorized', 'Sign in at /admin/login, or send the admin token as "Authorization: Bearer <ADMIN_TOKEN>"'),
  locked: (_req, res, retryAfter) => {
    res.set('Retry-After', String(retryAfter));
    sendError(res, 429, 'too_many_failures', `Too many wrong tokens from this address: try again in ${retryAfter} s`);
  },
  forbidden: (_req, res) => sendError(res, 403, 'forbidden', 'Your role does not include this route'),
  hidden: (_req, res, installationId) => sendError(res, 404, 'not_found', `No installation ${installationId}`),
};

/** Body parser failures (malformed JSON, too large) are the client's: 4xx with the reason. */
function bodyErrors(error: unknown, _req: Request, res: Response, next: (error?: unknown) => void): void {
  const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
  if (status >= 500) return next(error);
  sendError(
    res,
    status,
    status === 413 ? 'too_large' : 'invalid_request',
    status === 413 ? 'The request body is too large' : 'The request body is not valid JSON',
  );
}

/** The API router (mounted at `/api`). */
export function apiRouter(ctx: AdminContext): Router {
  const r = guardedRouter({ auth: ctx.auth, surface: 'api', refusals, parseBody: express.json({ limit: '512kb' }) });
  r.router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  r.get('/openapi.json', access.signedIn, (_req, res) => {
    res.json(openApiDocument());
  });
  const routes = apiRoutesFor(ctx, r);
  callerRoutes(routes);
  userRoutes(routes);
  installationRoutes(routes);
  agreementRoutes(routes);
  provisioningRoutes(routes);
  syncControlRoutes(routes);
  settingsRoutes(routes);
  alertRoutes(routes);
  operatorRoutes(routes);
  runStartRoutes(routes);
  runProgressRoutes(routes);
  installationJobRoutes(routes);
  reportRoutes(routes);
  salesRoutes(routes);

  r.mount('/', access.signedIn, (_req, res) => sendError(res, 404, 'not_found', 'No such API route: see /api/openapi.json'));
  r.router.use(bodyErrors);
  return r.router;
}

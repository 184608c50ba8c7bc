/**
 * The admin dashboard (`/admin`): sign-in, server-rendered pages, their form posts (CSRF token in
 * every form), static assets (no build step: plain CSS and small scripts, Chart.js from its
 * package), and bull-board at `/admin/queues` behind the same sign-in. Pages carry a strict
 * Content-Security-Policy: scripts only from this origin, nothing inline. Each area registers its
 * routes from `routes/`; this file composes them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type Router } from 'express';
import { queueKeys } from '../../queue/catalog.ts';
import { access, guardedRouter, type GuardedRouter } from './access.ts';
import type { AdminContext } from './context.ts';
import { healthRoutes, jobRoutes } from './routes/health.ts';
import { installationRoutes, overviewRoutes, syncControlRoutes } from './routes/installation.ts';
import { notFound, pageRefusals, pagesFor } from './routes/pages.ts';
import { reportRoutes } from './routes/report.ts';
import { runRoutes } from './routes/runs.ts';
import { settingsActionRoutes, settingsRoutes } from './routes/settings.ts';
import { invitationLinkRoutes, signInRoutes } from './routes/sign-in.ts';
import { userRoutes } from './routes/users.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** The static files, and bull-board at `/queues` for the operator. */
function assetRoutes(ctx: AdminContext, r: GuardedRouter): void {
  r.mount('/static', access.anyone, express.static(PUBLIC_DIR, { index: false, maxAge: '1h' }));
  r.get('/static/vendor/chart.umd.js', access.anyone, (_req, res) => {
    res.sendFile(CHART_JS, { maxAge: '1d' });
  });

  // bull-board, behind the same sign-in; its own API cannot send our CSRF token, so its changes
  // must come from this origin (the session cookie is SameSite=Strict as well).
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: queueKeys.map((key) => new BullMQAdapter(ctx.producer.queue(key))),
    // @bull-board/express 9.10.1 ships its own copy of @bull-board/api 9.10.1; the adapter contract is the same.
    serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Smarketing Sync' } },
  });
  r.mount('/queues', access.operator, board.getRouter() as Router, { parseBody: express.json(), csrf: 'same-origin' });
}

/** The admin router (mounted at `/admin`). */
export function adminRouter(ctx: AdminContext): Router {
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  // Public forms (sign-in, invitation) carry a token at most: their bodies are read before any credential.
  const smallForm = express.urlencoded({ extended: false, limit: '8kb' });
  const r = guardedRouter({ auth: ctx.auth, surface: 'page', refusals: pageRefusals, parseBody: form });
  assetRoutes(ctx, r);

  // Headers for every page below (not a route: it answers nothing itself).
  r.router.use((_req, res, next) => {
    res.set('Content-Security-Policy', PAGE_CSP).set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  const pages = pagesFor(ctx, r);
  signInRoutes(pages, smallForm);
  invitationLinkRoutes(pages);
  overviewRoutes(pages);
  installationRoutes(pages);
  syncControlRoutes(pages);
  settingsRoutes(pages);
  runRoutes(pages);
  settingsActionRoutes(pages);
  healthRoutes(pages);
  jobRoutes(pages);
  userRoutes(pages);
  reportRoutes(pages);

  r.mount('/', access.signedIn, (_req, res) => notFound(res, 'There is no such page.'));
  return r.router;
}

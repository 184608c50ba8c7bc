/**
 * What every dashboard route uses: the guarded router, page rendering for the signed-in caller,
 * the 404 page, and the installation of `:id` looked up once for the route's handler.
 */
import type { Request, RequestHandler, Response } from 'express';
import { getInstallationDetails, type InstallationDetails } from '../../../store/installation-admin.ts';
import { z } from 'zod';
import { browserSignInRefusals, type GuardedRouter, type Refusals } from '../access.ts';
import { identityOf } from '../auth.ts';
import { NOTICES } from '../components.ts';
import type { AdminContext } from '../context.ts';
import { html, type Html } from '../html.ts';
import { layout, type LayoutInput } from '../layout.ts';

/** What a route hands the page frame: everything but what comes from the caller. */
type PageInput = Omit<LayoutInput, 'csrfToken' | 'who'>;

/** A route's handler once its installation is known. */
type InstallationHandler = (req: Request, res: Response, installation: InstallationDetails) => Promise<void> | void;

/** The dashboard's shared route kit, handed to each area's routes. */
export interface Pages {
  ctx: AdminContext;
  r: GuardedRouter;
  /** A handler that runs with the installation of `:id`; an unknown one gets the 404 page. */
  withInstallation: (handler: InstallationHandler) => RequestHandler;
  /** As `withInstallation`, and an uninstalled installation answers 409 before the handler runs. */
  withActiveInstallation: (handler: InstallationHandler) => RequestHandler;
}

const idParam = z.object({ id: z.string().min(1).max(100) });

/** Renders a full page for the signed-in caller (their navigation, their CSRF token). */
export function render(res: Response, input: PageInput, status = 200): void {
  const identity = identityOf(res);
  res
    .status(status)
    .type('html')
    .send(layout({ ...input, csrfToken: identity.csrfToken, who: { role: identity.role, name: identity.name } }));
}

/** The 404 page with its reason. */
export function notFound(res: Response, what: string): void {
  render(res, { title: 'Not found', section: 'overview', body: notFoundBody(what) }, 404);
}

function notFoundBody(message: string): Html {
  return html`<section class="card"><p class="empty">${message}</p><p><a href="/admin">Back to the installations</a></p></section>`;
}

/** How the dashboard answers callers the access rules refuse. */
export const pageRefusals: Refusals = {
  ...browserSignInRefusals,
  forbidden: (_req, res) =>
    render(res, { title: 'Not for your role', section: 'overview', body: notFoundBody('Your role does not include this page.') }, 403),
  hidden: (_req, res) => notFound(res, 'That installation does not exist.'),
};

/** The notice named by `?notice=`, if it is one the dashboard knows. */
export function noticeOf(req: Request): LayoutInput['notice'] {
  const code = typeof req.query.notice === 'string' ? req.query.notice : undefined;
  return code ? NOTICES[code] : undefined;
}

/** The installation as the page's tabs show it. */
export const tabInfo = (i: InstallationDetails) => ({ id: i.id, name: i.name, status: i.status });

/** The dashboard path of an installation. */
export const basePath = (i: InstallationDetails) => `/admin/installations/${encodeURIComponent(i.id)}`;

/** Answers 409 for an uninstalled installation; true when it is active. */
function stillInstalled(res: Response, installation: InstallationDetails): boolean {
  if (installation.status === 'active') return true;
  res.status(409).type('text/plain').send('The installation is uninstalled');
  return false;
}

/** Builds the kit for one router. */
export function pagesFor(ctx: AdminContext, r: GuardedRouter): Pages {
  const installationFrom = async (req: Request, res: Response): Promise<InstallationDetails | undefined> => {
    const params = idParam.safeParse(req.params);
    const installation = params.success ? await getInstallationDetails(ctx.db, params.data.id) : null;
    if (!installation) notFound(res, 'That installation does not exist.');
    return installation ?? undefined;
  };
  const withInstallation =
    (handler: InstallationHandler): RequestHandler =>
    async (req, res) => {
      const installation = await installationFrom(req, res);
      if (installation) await handler(req, res, installation);
    };
  return {
    ctx,
    r,
    withInstallation,
    withActiveInstallation: (handler) =>
      withInstallation(async (req, res, installation) => {
        if (stillInstalled(res, installation)) await handler(req, res, installation);
      }),
  };
}

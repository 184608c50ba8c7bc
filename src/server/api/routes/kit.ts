/**
 * What every API route uses: the guarded router, the installation of `:id` (or 404), and the
 * refusals that recur across areas (an uninstalled installation, a body that is not JSON), each
 * answered in one place as `{error, message}`.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { getInstallationDetails, type InstallationDetails } from '../../../store/installation-admin.ts';
import type { GuardedRouter } from '../../admin/access.ts';
import type { AdminContext } from '../../admin/context.ts';
import type { SyncControlsView } from '../../admin/sync-controls.ts';
import { parseInput, sendError } from '../errors.ts';

/** The API's shared route kit, handed to each area's routes. */
export interface ApiRoutes {
  ctx: AdminContext;
  r: GuardedRouter;
  /** Loads the installation named by `:id`, or answers 404. */
  installationFrom: (req: Request, res: Response) => Promise<InstallationDetails | undefined>;
}

export const idParam = z.object({ id: z.string().min(1).max(100) });

/** Builds the kit for one router. */
export function apiRoutesFor(ctx: AdminContext, r: GuardedRouter): ApiRoutes {
  return {
    ctx,
    r,
    installationFrom: async (req, res) => {
      const params = parseInput(idParam, req.params, res, 'path');
      if (!params) return undefined;
      const installation = await getInstallationDetails(ctx.db, params.id);
      if (!installation) sendError(res, 404, 'not_found', `No installation ${params.id}`);
      return installation ?? undefined;
    },
  };
}

/** Answers 409 for an uninstalled installation; true when it is active. */
export function stillInstalled(res: Response, installation: InstallationDetails, message = 'The installation is uninstalled'): boolean {
  if (installation.status === 'active') return true;
  sendError(res, 409, 'uninstalled', message);
  return false;
}

/** Answers 415 unless the body is JSON; true when it is. */
export function sentAsJson(req: Request, res: Response, what: string): boolean {
  if (req.is('application/json')) return true;
  sendError(res, 415, 'unsupported_media_type', `Send the ${what} as application/json`);
  return false;
}

/** The operator controls as the API shows them. */
export function controlsJson(view: SyncControlsView) {
  return {
    paused: view.paused.map((pause) => ({ direction: pause.direction, pausedAt: pause.pausedAt.toISOString(), pausedBy: pause.pausedBy })),
    salesforceBudget: view.salesforceBudget,
  };
}

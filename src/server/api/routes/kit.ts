/**
 * What every API route uses: the guarded router, the installation of `:id` (or 404), and the
 * refusals that recur across routes (an uninstalled installation, an unknown queue or setting, a
 * body that is not JSON), each answered in one place as `{error, message}`.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { queueKeys, type QueueKey } from '../../../queue/catalog.ts';
import { getInstallationDetails, type InstallationDetails } from '../../../store/installation-admin.ts';
import type { GuardedRouter } from '../../admin/access.ts';
import type { AdminContext } from '../../admin/context.ts';
import { queueKeyOf } from '../../admin/jobs.ts';
import { isSettingKey, SETTING_KEYS, type RefusedSetting, type SettingKey } from '../../admin/settings.ts';
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

/** The queue named by a catalog key or BullMQ name, or a 404 listing the queues. */
export function queueNamed(res: Response, name: string): QueueKey | undefined {
  const queue = queueKeyOf(name);
  if (!queue) sendError(res, 404, 'not_found', `No queue "${name}": one of ${queueKeys.join(', ')}`);
  return queue;
}

/** The setting named by `key`, or a 404 listing the settings. */
export function settingNamed(res: Response, key: string): SettingKey | undefined {
  if (isSettingKey(key)) return key;
  sendError(res, 404, 'not_found', `No setting "${key}": one of ${SETTING_KEYS.join(', ')}`);
  return undefined;
}

/** Answers 415 unless the body is JSON; true when it is. */
export function sentAsJson(req: Request, res: Response, what: string): boolean {
  if (req.is('application/json')) return true;
  sendError(res, 415, 'unsupported_media_type', `Send the ${what} as application/json`);
  return false;
}

/** A refused setting: 422 with every problem, or 503 when the CRMs could not be asked. */
export function refuseSetting(res: Response, key: string, what: 'saved' | 'accepted', refused: RefusedSetting): void {
  const summary = `The ${key} was not ${what}: ${refused.issues.length} problem(s): ${refused.issues[0] ?? ''}`;
  if (refused.status === 503) sendError(res, 503, 'crm_unavailable', summary, refused.issues);
  else sendError(res, 422, 'invalid_settings', summary, refused.issues);
}

/** The operator controls as the API shows them. */
export function controlsJson(view: SyncControlsView) {
  return {
    paused: view.paused.map((pause) => ({ direction: pause.direction, pausedAt: pause.pausedAt.toISOString(), pausedBy: pause.pausedBy })),
    salesforceBudget: view.salesforceBudget,
  };
}

/** The installation as the API shows it (no webhook token: it is part of a secret URL). */
export function installationJson(installation: InstallationDetails) {
  return {
    id: installation.id,
    name: installation.name,
    hubspotPortalId: installation.hubspotPortalId,
    salesforceOrgId: installation.salesforceOrgId,
    status: installation.status,
    hasHubSpotCredentials: installation.hasHubSpotCredentials,
    hasSalesforceCredentials: installation.hasSalesforceCredentials,
    createdAt: installation.createdAt.toISOString(),
    uninstalledAt: installation.uninstalledAt?.toISOString() ?? null,
  };
}

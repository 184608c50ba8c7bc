/** The operator controls of an installation: pause, resume, disconnect a side, sync a record now, the Salesforce budget. */
import { z } from 'zod';
import { access } from '../../admin/access.ts';
import { identityOf } from '../../admin/auth.ts';
import { connectionStatus, disconnectSide } from '../../admin/installations.ts';
import {
  directionsOf,
  pauseInstallationSync,
  resumeInstallationSync,
  setSalesforceBudget,
  syncRecordNow,
} from '../../admin/sync-controls.ts';
import { parseInput, sendError } from '../errors.ts';
import { controlsJson, idParam, sentAsJson, stillInstalled, type ApiRoutes } from './kit.ts';

/** Pause and resume name one direction, or both when it is absent. */
const directionBody = z.object({ direction: z.enum(['to-salesforce', 'to-hubspot']).optional() }).strict();
const syncNowBody = z.object({ record: z.string().trim().min(1, 'give the record to sync').max(200) }).strict();
const sideParams = idParam.extend({ side: z.enum(['hubspot', 'salesforce']) });

/** `/installations/:id/{pause,resume,connections/:side/disconnect,sync-now,salesforce-budget}`. */
export function syncControlRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  for (const [path, change] of [
    ['/installations/:id/pause', pauseInstallationSync],
    ['/installations/:id/resume', resumeInstallationSync],
  ] as const) {
    r.post(path, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const body = parseInput(directionBody, req.body ?? {}, res, 'body');
      if (!body || !stillInstalled(res, installation)) return;
      res.json({ controls: controlsJson(await change(ctx, installation.id, directionsOf(body.direction), identityOf(res).via)) });
    });
  }

  r.post('/installations/:id/connections/:side/disconnect', access.manageInstallation, async (req, res) => {
    const params = parseInput(sideParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation || !stillInstalled(res, installation)) return;
    const result = await disconnectSide(ctx, installation.id, params.side, identityOf(res).via === 'session' ? 'dashboard' : 'api');
    res.json({ ...result, connections: await connectionStatus(ctx, installation) });
  });

  r.post('/installations/:id/sync-now', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(syncNowBody, req.body ?? {}, res, 'body');
    if (!body || !stillInstalled(res, installation)) return;
    const result = await syncRecordNow(ctx, installation.id, body.record, identityOf(res).via);
    if (!result.ok) return sendError(res, 422, 'not_syncable', result.error);
    const { direction, key, hold } = result.value;
    res.status(202).json({ direction, key, held: hold !== null });
  });

  r.put('/installations/:id/salesforce-budget', access.manageInstallation, async (req, res) => {
    if (!sentAsJson(req, res, 'budget')) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await setSalesforceBudget(ctx, installation.id, req.body, identityOf(res).via);
    if (!result.ok) return sendError(res, 422, 'invalid_budget', `The budget was not saved: ${result.error[0] ?? ''}`, result.error);
    res.json({ controls: controlsJson(result.value) });
  });

  r.delete('/installations/:id/salesforce-budget', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await setSalesforceBudget(ctx, installation.id, null, identityOf(res).via);
    if (result.ok) res.json({ controls: controlsJson(result.value) });
  });
}

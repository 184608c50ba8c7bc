/** An installation's settings (read, save, preview, reset) and its SLA alert target. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { access } from '../../admin/access.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from '../../admin/alert-target.ts';
import {
  checkSetting,
  isSettingKey,
  readAllSettings,
  resetSetting,
  saveSetting,
  SETTING_KEYS,
  type RefusedSetting,
  type SettingKey,
} from '../../admin/settings.ts';
import { parseInput, sendError } from '../errors.ts';
import { idParam, sentAsJson, type ApiRoutes } from './kit.ts';

const settingParams = idParam.extend({ key: z.string() });

/** The setting named by `key`, or a 404 listing the settings. */
function settingNamed(res: Response, key: string): SettingKey | undefined {
  if (isSettingKey(key)) return key;
  sendError(res, 404, 'not_found', `No setting "${key}": one of ${SETTING_KEYS.join(', ')}`);
  return undefined;
}

/** A refused setting: 422 with every problem, or 503 when the CRMs could not be asked. */
function refuseSetting(res: Response, key: string, what: 'saved' | 'accepted', refused: RefusedSetting): void {
  const summary = `The ${key} was not ${what}: ${refused.issues.length} problem(s): ${refused.issues[0] ?? ''}`;
  if (refused.status === 503) sendError(res, 503, 'crm_unavailable', summary, refused.issues);
  else sendError(res, 422, 'invalid_settings', summary, refused.issues);
}

/** `/installations/:id/settings` and `/installations/:id/settings/:key`. */
export function settingsRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.get('/installations/:id/settings', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ settings: await readAllSettings(ctx.db, installation.id) });
  });

  r.get('/installations/:id/settings/:key', access.manageInstallation, async (req, res) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    if (!params || !settingNamed(res, params.key)) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json((await readAllSettings(ctx.db, installation.id)).find((view) => view.key === params.key));
  });

  /** A settings write (`save`) or its preview (`check`): the key, a JSON body, the installation, then the domain and CRM checks. */
  const settingRoute = (mode: 'save' | 'check') => async (req: Request, res: Response) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    const key = params && settingNamed(res, params.key);
    if (!key || !sentAsJson(req, res, 'setting')) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result =
      mode === 'save' ? await saveSetting(ctx, installation.id, key, req.body) : await checkSetting(ctx, installation.id, key, req.body);
    if (!result.ok) return refuseSetting(res, key, mode === 'save' ? 'saved' : 'accepted', result.error);
    res.json({ key, value: result.value.value, crmCheck: result.value.crmCheck, preview: result.value.preview });
  };

  r.put('/installations/:id/settings/:key', access.manageInstallation, settingRoute('save'));
  r.post('/installations/:id/settings/:key/preview', access.manageInstallation, settingRoute('check'));

  r.delete('/installations/:id/settings/:key', access.manageInstallation, async (req, res) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    const key = params && settingNamed(res, params.key);
    if (!key) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await resetSetting(ctx, installation.id, key);
    res.status(204).end();
  });
}

/** `/installations/:id/alert`: where SLA alerts are posted. */
export function alertRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.get('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await alertTargetView(ctx, installation.id));
  });

  r.put('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    if (!sentAsJson(req, res, 'alert target')) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await saveAlertTarget(ctx, installation.id, req.body);
    if (!result.ok)
      return sendError(
        res,
        422,
        'invalid_alert_target',
        `The alert target was not saved: ${result.error.length} problem(s): ${result.error[0] ?? ''}`,
        result.error,
      );
    res.json(result.value);
  });

  r.delete('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await removeAlertTarget(ctx, installation.id);
    res.status(204).end();
  });
}

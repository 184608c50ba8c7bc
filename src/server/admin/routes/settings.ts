/** An installation's settings pages: each editor (form or JSON), its preview, save and reset, and the alert target. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { latestBackfillRunId, type InstallationDetails } from '../../../store/installation-admin.ts';
import type { SettingPreview } from '../../../domain/settings-preview.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress } from '../../../sync/attribution-backfill.ts';
import { FIELD_FILL, fieldFillProgress } from '../../../sync/field-fill.ts';
import { access } from '../access.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from '../alert-target.ts';
import { identityOf } from '../auth.ts';
import type { AdminContext } from '../context.ts';
import { settingsBody } from '../pages/settings.ts';
import { digestStatusView, sendTestDigestNow } from '../review-digest.ts';
import { field, pairsFrom, pairsText, valueFromFields, type FormFields } from '../settings-forms.ts';
import {
  checkSetting,
  isSettingKey,
  readAllSettings,
  resetSetting,
  saveSetting,
  SETTING_KEYS,
  type CrmCheck,
  type SettingKey,
} from '../settings.ts';
import { basePath, noticeOf, notFound, render, tabInfo, type Pages } from './pages.ts';

const settingsForm = z.object({ value: z.string().max(512 * 1024) });
const fillQuery = z.object({ fill: z.string().max(20_000).optional() });
const alertForm = z.object({ url: z.string().trim().max(2048), secret: z.string().max(1024) });

/** A settings edit shown again: the form or JSON as sent, its problems (and their status), or its preview. */
interface SettingsEdit {
  fields?: FormFields;
  jsonText?: string;
  issues: string[];
  status?: 422 | 503;
  preview?: { preview: SettingPreview; crmCheck: CrmCheck };
}

/** An alert target form refused: the URL as sent (never the secret) and its problems. */
interface AlertEdit {
  url: string;
  issues: string[];
}

/** The settings page with `selected` open; a refused edit comes back with its problems (422, or 503). */
async function settingsPage(
  ctx: AdminContext,
  req: Request,
  res: Response,
  installation: InstallationDetails,
  selected: SettingKey,
  edit?: SettingsEdit,
  alertEdit?: AlertEdit,
): Promise<void> {
  const restampRunId = selected === 'channelRules' ? await latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL) : null;
  const fillRunId = selected === 'fieldMappings' ? await latestBackfillRunId(ctx.db, installation.id, FIELD_FILL) : null;
  // After a save that turned pairs on, the fill button fills those pairs (the query carries them).
  const query = fillQuery.safeParse(req.query);
  const fillPairs = selected === 'fieldMappings' && query.success ? pairsFrom(query.data.fill ?? '') : undefined;
  const refused = (edit?.issues.length ?? 0) > 0 || alertEdit !== undefined;
  render(
    res,
    {
      title: 'Settings',
      section: 'settings',
      installation: tabInfo(installation),
      notice: edit || alertEdit ? undefined : noticeOf(req),
      scripts: selected === 'channelRules' || selected === 'fieldMappings' ? ['settings.js', 'health.js'] : ['settings.js'],
      body: settingsBody({
        installation,
        views: await readAllSettings(ctx.db, installation.id),
        selected,
        csrfToken: identityOf(res).csrfToken,
        alert: await alertTargetView(ctx, installation.id),
        ...(edit
          ? {
              issues: edit.issues,
              ...(edit.fields ? { fields: edit.fields } : {}),
              ...(edit.jsonText === undefined ? {} : { jsonText: edit.jsonText }),
              ...(edit.preview ? { preview: edit.preview } : {}),
            }
          : {}),
        ...(alertEdit ? { alertEdit } : {}),
        ...(restampRunId ? { restampRun: await backfillProgress(ctx.db, restampRunId) } : {}),
        ...(fillRunId ? { fillRun: await fieldFillProgress(ctx.db, fillRunId) } : {}),
        ...(fillPairs ? { fillPairs } : {}),
        ...(selected === 'reviewDigest' ? { digest: await digestStatusView(ctx, installation.id) } : {}),
      }),
    },
    refused ? (edit?.status ?? 422) : 200,
  );
}

/** The setting's editor as sent: the JSON text, or the form's fields. */
type AsSent = Pick<SettingsEdit, 'fields' | 'jsonText'>;

/** The value of a settings post: the JSON editor sends `value`, the form its fields. */
function valueOfPost(
  key: SettingKey,
  body: FormFields,
): { asSent: AsSent } & ({ ok: true; value: unknown } | { ok: false; issues: string[] }) {
  const parsed = settingsForm.safeParse(body);
  if (!parsed.success) {
    const read = valueFromFields(key, body);
    const asSent = { fields: body };
    return read.problems.length > 0 ? { asSent, ok: false, issues: read.problems } : { asSent, ok: true, value: read.value };
  }
  const asSent = { jsonText: parsed.data.value };
  try {
    return { asSent, ok: true, value: JSON.parse(parsed.data.value) };
  } catch (error) {
    return { asSent, ok: false, issues: [`(root): not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`] };
  }
}

/** `/installations/:id/settings`: the page, and a post that previews or saves one setting. */
export function settingsRoutes({ ctx, r, withInstallation }: Pages): void {
  r.get(
    '/installations/:id/settings',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const key = typeof req.query.key === 'string' && isSettingKey(req.query.key) ? req.query.key : SETTING_KEYS[0];
      await settingsPage(ctx, req, res, installation, key);
    }),
  );

  r.post(
    '/installations/:id/settings/:key',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const key = req.params.key;
      if (typeof key !== 'string' || !isSettingKey(key)) return notFound(res, 'No such setting.');
      // Either editor's post comes back as sent when refused.
      const body = (req.body ?? {}) as FormFields;
      const posted = valueOfPost(key, body);
      if (!posted.ok) return settingsPage(ctx, req, res, installation, key, { ...posted.asSent, issues: posted.issues });
      const { asSent } = posted;
      const previewOnly = field(body, 'intent') === 'preview';
      const result = previewOnly
        ? await checkSetting(ctx, installation.id, key, posted.value)
        : await saveSetting(ctx, installation.id, key, posted.value);
      if (!result.ok)
        return settingsPage(ctx, req, res, installation, key, { ...asSent, issues: result.error.issues, status: result.error.status });
      if (previewOnly)
        return settingsPage(ctx, req, res, installation, key, {
          ...asSent,
          issues: [],
          preview: { preview: result.value.preview, crmCheck: result.value.crmCheck },
        });
      const { restampOffered, fillPairs } = result.value.preview;
      const fill = fillPairs ? `&fill=${encodeURIComponent(pairsText(fillPairs))}#fill` : '';
      res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_saved${restampOffered ? '#restamp' : fill}`);
    }),
  );
}

/** Resetting a setting, the SLA alert target, and the review digest's test send. */
export function settingsActionRoutes({ ctx, r, withInstallation, withActiveInstallation }: Pages): void {
  r.post(
    '/installations/:id/settings/:key/reset',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const key = req.params.key;
      if (typeof key !== 'string' || !isSettingKey(key)) return notFound(res, 'No such setting.');
      await resetSetting(ctx, installation.id, key);
      res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_reset`);
    }),
  );

  r.post(
    '/installations/:id/alert',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const parsed = alertForm.safeParse(req.body);
      const input = parsed.success ? parsed.data : { url: '', secret: '' };
      const result = await saveAlertTarget(ctx, installation.id, input);
      // A refused form comes back with the URL kept and the secret field empty (never echoed).
      if (!result.ok) return settingsPage(ctx, req, res, installation, 'slaPolicy', undefined, { url: input.url, issues: result.error });
      res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_saved`);
    }),
  );

  r.post(
    '/installations/:id/alert/remove',
    access.manageInstallation,
    withInstallation(async (_req, res, installation) => {
      await removeAlertTarget(ctx, installation.id);
      res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_removed`);
    }),
  );

  r.post(
    '/installations/:id/review-digest/test',
    access.manageInstallation,
    withActiveInstallation(async (_req, res, installation) => {
      await sendTestDigestNow(ctx, installation.id);
      res.redirect(303, `${basePath(installation)}/settings?key=reviewDigest&notice=digest_test_queued#review-digest`);
    }),
  );
}

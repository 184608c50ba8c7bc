/**
 * The admin dashboard (`/admin`): sign-in, server-rendered pages, their form posts (CSRF token in
 * every form), static assets (no build step: plain CSS and small scripts, Chart.js from its
 * package), and bull-board at `/admin/queues` behind the same sign-in. Pages carry a strict
 * Content-Security-Policy: scripts only from this origin, nothing inline.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { queueKeys, queues } from '../../queue/catalog.ts';
import { recentAdminActions, recordAdminAction } from '../../store/admin-sessions.ts';
import { getInstallationDetails, latestBackfillRunId, listInstallationDetails, type InstallationDetails } from '../../store/installation-admin.ts';
import { funnelReport } from '../../store/report.ts';
import { problemsSince, recentProblems, searchRecordLog } from '../../store/sync-search.ts';
import { groupFailures } from '../../domain/sync-failures.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress, startAttributionBackfill } from '../../sync/attribution-backfill.ts';
import { INITIAL_SYNC, initialSyncProgress, startInitialSync } from '../../sync/initial-sync.ts';
import { identityOf } from './auth.ts';
import { html, type Html } from './html.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from './alert-target.ts';
import { NOTICES } from './components.ts';
import type { AdminContext } from './context.ts';
import { connectionStatus, disconnectSide, runtimeOf, uninstall } from './installations.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailed, replayJob } from './jobs.ts';
import { layout, loginPage, type LayoutInput } from './layout.ts';
import { healthBody } from './pages/health.ts';
import { installationBody, provisioningBody } from './pages/installation.ts';
import { overviewBody } from './pages/overview.ts';
import { reportBody } from './pages/report.ts';
import { settingsBody } from './pages/settings.ts';
import type { SettingPreview } from '../../domain/settings-preview.ts';
import { outboundRulesFor, provision } from './provisioning.ts';
import { periodOf, ReportQuerySchema } from './report-export.ts';
import { field, valueFromFields, type FormFields } from './settings-forms.ts';
import { checkSetting, isSettingKey, readAllSettings, resetSetting, saveSetting, SETTING_KEYS, type CrmCheck, type SettingKey } from './settings.ts';
import { directionsOf, pauseInstallationSync, resumeInstallationSync, setSalesforceBudget, syncControlsView, syncRecordNow } from './sync-controls.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const loginForm = z.object({ token: z.string().max(1_000).default(''), next: z.string().max(2_000).optional() });
const idParam = z.object({ id: z.string().min(1).max(100) });
const provisioningForm = z.object({ mode: z.enum(['dry-run', 'provision']) });
const uninstallForm = z.object({ confirm: z.literal('yes') });
/** Pause and resume: one direction, or both when the field is empty or absent. */
const directionForm = z.object({ direction: z.enum(['to-salesforce', 'to-hubspot', '']).optional() });
/** The budget form: a number with its unit, or `none` to remove the budget. */
const budgetForm = z.object({ kind: z.enum(['calls', 'percent', 'none']), value: z.string().max(20).optional() });
const syncNowForm = z.object({ record: z.string().trim().max(200) });
const sideParam = z.enum(['hubspot', 'salesforce']);
const settingsForm = z.object({ value: z.string().max(512 * 1024) });

/** A settings edit shown again: the form or JSON as sent, its problems (and their status), or its preview. */
interface SettingsEdit {
  fields?: FormFields;
  jsonText?: string;
  issues: string[];
  status?: 422 | 503;
  preview?: { preview: SettingPreview; crmCheck: CrmCheck };
}
const alertForm = z.object({ url: z.string().trim().max(2048), secret: z.string().max(1024) });
const jobForm = z.object({ installation: z.string().max(100).optional() });
/** How far back the health page groups problems by cause. */
const HEALTH_WINDOW_MS = 7 * 24 * 3600 * 1000;
const healthQuery = z.object({ q: z.string().max(320).optional(), notice: z.string().max(40).optional() });

/** Only same-app paths are followed after sign-in (no open redirect). */
function safeNext(next: string | undefined): string {
  return next && /^\/(admin|oauth)(\/|\?|$)/.test(next) && !next.startsWith('//') ? next : '/admin';
}

function noticeOf(req: Request): LayoutInput['notice'] {
  const code = typeof req.query.notice === 'string' ? req.query.notice : undefined;
  return code ? NOTICES[code] : undefined;
}

/** The admin router (mounted at `/admin`). */
export function adminRouter(ctx: AdminContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  const guard = ctx.auth.guard('page');

  router.use('/static', express.static(PUBLIC_DIR, { index: false, maxAge: '1h' }));
  router.get('/static/vendor/chart.umd.js', (_req, res) => {
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
  router.use('/queues', express.json(), ctx.auth.guard('page', 'same-origin'), board.getRouter() as Router);

  router.use((_req, res, next) => {
    res.set('Content-Security-Policy', PAGE_CSP).set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  router.get('/login', async (req, res) => {
    const next = safeNext(typeof req.query.next === 'string' ? req.query.next : undefined);
    if (await ctx.auth.identify(req)) return res.redirect(303, next);
    res.type('html').send(loginPage({ next }));
  });

  router.post('/login', form, async (req, res) => {
    const parsed = loginForm.safeParse(req.body);
    const next = safeNext(parsed.success ? parsed.data.next : undefined);
    const address = req.ip ?? 'unknown';
    if (!ctx.auth.mayAttempt(address)) {
      res.status(429).type('html').send(loginPage({ next, error: 'Too many wrong tokens from this address: wait 15 minutes and try again.' }));
      return;
    }
    if (!parsed.success || !ctx.auth.checkToken(address, parsed.data.token)) {
      res.status(401).type('html').send(loginPage({ next, error: 'That is not the admin token.' }));
      return;
    }
    await ctx.auth.signIn(res);
    res.redirect(303, next);
  });

  router.post('/logout', form, guard, async (req, res) => {
    await ctx.auth.signOut(req, res);
    res.redirect(303, '/admin/login');
  });

  // Forms are parsed before the guard, which reads their CSRF field.
  router.use(form, guard);

  const render = (res: Response, input: Omit<LayoutInput, 'csrfToken'>, status = 200) => {
    res.status(status).type('html').send(layout({ ...input, csrfToken: identityOf(res).csrfToken }));
  };
  const notFound = (res: Response, what: string) =>
    render(res, { title: 'Not found', section: 'overview', body: layoutNotFound(what) }, 404);

  /** The installation of `:id`, or a 404 page. */
  async function installationFrom(req: Request, res: Response): Promise<InstallationDetails | undefined> {
    const params = idParam.safeParse(req.params);
    const installation = params.success ? await getInstallationDetails(ctx.db, params.data.id) : null;
    if (!installation) notFound(res, 'That installation does not exist.');
    return installation ?? undefined;
  }
  const tabInfo = (i: InstallationDetails) => ({ id: i.id, name: i.name, status: i.status });
  const basePath = (i: InstallationDetails) => `/admin/installations/${encodeURIComponent(i.id)}`;

  router.get('/', async (req, res) => {
    const [installations, depths, actions] = await Promise.all([listInstallationDetails(ctx.db), queueDepths(ctx.producer), recentAdminActions(ctx.db, null, 10)]);
    const mode = (side: 'hubspot' | 'salesforce') => (ctx.config[side].mode === 'sandbox' ? 'sandbox' : ctx.apps[side] ? 'OAuth app configured' : 'environment token');
    render(res, {
      title: 'Installations',
      section: 'overview',
      notice: noticeOf(req),
      body: overviewBody({ installations, depths, actions, canAddInstallation: ctx.apps.hubspot !== undefined, mode: { hubspot: mode('hubspot'), salesforce: mode('salesforce') } }),
    });
  });

  router.get('/installations/:id', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const [connections, actions, controls, alert] = await Promise.all([connectionStatus(ctx, installation), recentAdminActions(ctx.db, installation.id, 10), syncControlsView(ctx, installation.id), alertTargetView(ctx, installation.id)]);
    render(res, {
      title: installation.name,
      section: 'installation',
      installation: tabInfo(installation),
      notice: noticeOf(req),
      body: installationBody({
        installation,
        connections,
        actions,
        controls,
        csrfToken: identityOf(res).csrfToken,
        hubspotWebhookUrl: `${ctx.publicUrl()}/webhooks/hubspot`,
        salesforceEndpointUrl: outboundRulesFor(ctx.publicUrl(), installation)[0]?.endpointUrl ?? '',
        alert,
      }),
    });
  });

  router.post('/installations/:id/provisioning', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = provisioningForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).type('text/plain').send('mode must be dry-run or provision');
      return;
    }
    const dryRun = parsed.data.mode === 'dry-run';
    const plan = await provision({ installation, runtime: await runtimeOf(ctx, installation.id), publicUrl: ctx.publicUrl(), environment: ctx.provisioning, dryRun });
    if (!dryRun) {
      await recordAdminAction(ctx.db, { installationId: installation.id, action: 'provisioned', summary: `Provisioned: ${plan.counts.created} item(s) created`, details: { counts: plan.counts } });
      ctx.log.info({ installationId: installation.id, created: plan.counts.created }, 'installation provisioned');
    }
    render(res, {
      title: dryRun ? 'Provisioning dry run' : 'Provisioning',
      section: 'installation',
      installation: tabInfo(installation),
      body: provisioningBody(plan, installation, identityOf(res).csrfToken),
    });
  });

  router.post('/installations/:id/uninstall', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!uninstallForm.safeParse(req.body).success) {
      res.status(400).type('text/plain').send('Confirm the uninstall');
      return;
    }
    await uninstall(ctx, installation.id);
    res.redirect(303, `${basePath(installation)}?notice=uninstalled`);
  });

  for (const [action, change] of [['pause', pauseInstallationSync], ['resume', resumeInstallationSync]] as const) {
    router.post(`/installations/:id/${action}`, form, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const parsed = directionForm.safeParse(req.body);
      if (!parsed.success || installation.status !== 'active') {
        res.status(parsed.success ? 409 : 400).type('text/plain').send(parsed.success ? 'The installation is uninstalled' : 'direction must be to-salesforce or to-hubspot');
        return;
      }
      await change(ctx, installation.id, directionsOf(parsed.data.direction || undefined), identityOf(res).via);
      res.redirect(303, `${basePath(installation)}?notice=${action === 'pause' ? 'sync_paused' : 'sync_resumed'}`);
    });
  }

  router.post('/installations/:id/connections/:side/disconnect', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const side = sideParam.safeParse(req.params.side);
    if (!side.success || installation.status !== 'active') {
      res.status(side.success ? 409 : 404).type('text/plain').send(side.success ? 'The installation is uninstalled' : 'No such side: hubspot or salesforce');
      return;
    }
    await disconnectSide(ctx, installation.id, side.data, identityOf(res).via === 'session' ? 'dashboard' : 'api');
    res.redirect(303, `${basePath(installation)}?notice=${side.data}_disconnected`);
  });

  router.post('/installations/:id/sync-now', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = syncNowForm.safeParse(req.body);
    const record = parsed.success ? parsed.data.record : '';
    const result = installation.status === 'active' ? await syncRecordNow(ctx, installation.id, record, identityOf(res).via) : null;
    const notice = result === null || !result.ok ? 'sync_now_refused' : result.value.hold ? 'sync_now_held' : 'sync_now_started';
    res.redirect(303, `${basePath(installation)}/health?q=${encodeURIComponent(record)}&notice=${notice}`);
  });

  router.post('/installations/:id/salesforce-budget', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = budgetForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).type('text/plain').send('kind must be calls, percent or none');
      return;
    }
    const { kind, value } = parsed.data;
    const result = await setSalesforceBudget(ctx, installation.id, kind === 'none' ? null : { [kind]: Number(value) }, identityOf(res).via);
    res.redirect(303, `${basePath(installation)}?notice=${result.ok ? 'budget_saved' : 'budget_refused'}`);
  });

  async function settingsPage(
    req: Request,
    res: Response,
    installation: InstallationDetails,
    selected: SettingKey,
    edit?: SettingsEdit,
    alertEdit?: { url: string; issues: string[] },
  ): Promise<void> {
    const restampRunId = selected === 'channelRules' ? await latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL) : null;
    const refused = (edit?.issues.length ?? 0) > 0 || alertEdit !== undefined;
    render(
      res,
      {
        title: 'Settings',
        section: 'settings',
        installation: tabInfo(installation),
        notice: edit || alertEdit ? undefined : noticeOf(req),
        scripts: selected === 'channelRules' ? ['settings.js', 'health.js'] : ['settings.js'],
        body: settingsBody({
          installation,
          views: await readAllSettings(ctx.db, installation.id),
          selected,
          csrfToken: identityOf(res).csrfToken,
          alert: await alertTargetView(ctx, installation.id),
          ...(edit ? { issues: edit.issues, ...(edit.fields ? { fields: edit.fields } : {}), ...(edit.jsonText === undefined ? {} : { jsonText: edit.jsonText }), ...(edit.preview ? { preview: edit.preview } : {}) } : {}),
          ...(alertEdit ? { alertEdit } : {}),
          ...(restampRunId ? { restampRun: await backfillProgress(ctx.db, restampRunId) } : {}),
        }),
      },
      refused ? (edit?.status ?? 422) : 200,
    );
  }

  router.get('/installations/:id/settings', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const key = typeof req.query.key === 'string' && isSettingKey(req.query.key) ? req.query.key : SETTING_KEYS[0];
    await settingsPage(req, res, installation, key);
  });

  router.post('/installations/:id/settings/:key', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const key = req.params.key;
    if (typeof key !== 'string' || !isSettingKey(key)) return notFound(res, 'No such setting.');
    // The JSON editor sends `value`; the form sends its fields. Either comes back as sent when refused.
    const body = (req.body ?? {}) as FormFields;
    const parsed = settingsForm.safeParse(req.body);
    const asSent: Pick<SettingsEdit, 'fields' | 'jsonText'> = parsed.success ? { jsonText: parsed.data.value } : { fields: body };
    let value: unknown;
    if (parsed.success) {
      try {
        value = JSON.parse(parsed.data.value);
      } catch (error) {
        return settingsPage(req, res, installation, key, { ...asSent, issues: [`(root): not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`] });
      }
    } else {
      const read = valueFromFields(key, body);
      if (read.problems.length > 0) return settingsPage(req, res, installation, key, { ...asSent, issues: read.problems });
      value = read.value;
    }
    const previewOnly = field(body, 'intent') === 'preview';
    const result = previewOnly ? await checkSetting(ctx, installation.id, key, value) : await saveSetting(ctx, installation.id, key, value);
    if (!result.ok) return settingsPage(req, res, installation, key, { ...asSent, issues: result.error.issues, status: result.error.status });
    if (previewOnly) return settingsPage(req, res, installation, key, { ...asSent, issues: [], preview: { preview: result.value.preview, crmCheck: result.value.crmCheck } });
    res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_saved${result.value.preview.restampOffered ? '#restamp' : ''}`);
  });

  /** Starts the attribution backfill from a dashboard form and goes back to `returnTo` (under the installation). */
  const backfillRoute = (summary: string, returnTo: string) => async (req: Request, res: Response) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') {
      res.status(409).type('text/plain').send('The installation is uninstalled');
      return;
    }
    const { runId } = await startAttributionBackfill({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, { installationId: installation.id, action: 'backfill_started', summary, details: { runId } });
    res.redirect(303, `${basePath(installation)}/${returnTo}`);
  };

  router.post('/installations/:id/settings/channelRules/restamp', form, backfillRoute('History re-stamped with the channel rules (attribution backfill)', 'settings?key=channelRules&notice=backfill_started#restamp'));

  router.post('/installations/:id/settings/:key/reset', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const key = req.params.key;
    if (typeof key !== 'string' || !isSettingKey(key)) return notFound(res, 'No such setting.');
    await resetSetting(ctx, installation.id, key);
    res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_reset`);
  });

  router.post('/installations/:id/alert', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = alertForm.safeParse(req.body);
    const input = parsed.success ? parsed.data : { url: '', secret: '' };
    const result = await saveAlertTarget(ctx, installation.id, input);
    // A refused form comes back with the URL kept and the secret field empty (never echoed).
    if (!result.ok) return settingsPage(req, res, installation, 'slaPolicy', undefined, { url: input.url, issues: result.error });
    res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_saved`);
  });

  router.post('/installations/:id/alert/remove', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await removeAlertTarget(ctx, installation.id);
    res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_removed`);
  });

  router.get('/installations/:id/health', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = healthQuery.safeParse(req.query);
    const q = query.success ? (query.data.q ?? '').trim() : '';
    const [runId, initialRunId] = await Promise.all([latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL), latestBackfillRunId(ctx.db, installation.id, INITIAL_SYNC)]);
    const [search, problems, lastWeek, failed, depths, backfill, initialSync] = await Promise.all([
      q === '' ? Promise.resolve(null) : searchRecordLog(ctx.db, installation.id, q),
      recentProblems(ctx.db, installation.id),
      problemsSince(ctx.db, installation.id, new Date(ctx.now() - HEALTH_WINDOW_MS)),
      listFailedJobs(ctx.producer, { installationId: installation.id, limit: 100 }),
      queueDepths(ctx.producer),
      runId ? backfillProgress(ctx.db, runId) : Promise.resolve(null),
      initialRunId ? initialSyncProgress(ctx.db, initialRunId) : Promise.resolve(null),
    ]);
    render(res, {
      title: 'Sync health',
      section: 'health',
      installation: tabInfo(installation),
      notice: noticeOf(req),
      scripts: ['health.js'],
      body: healthBody({ installation, query: q, search, problems, causes: groupFailures(lastWeek), failed, depths, backfill, initialSync, csrfToken: identityOf(res).csrfToken }),
    });
  });

  router.post('/installations/:id/backfill', form, backfillRoute('Attribution backfill started', 'health?notice=backfill_started'));

  router.post('/installations/:id/initial-sync', form, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') {
      res.status(409).type('text/plain').send('The installation is uninstalled');
      return;
    }
    const { runId } = await startInitialSync({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, { installationId: installation.id, action: 'initial_sync_started', summary: 'Initial sync started', details: { runId } });
    res.redirect(303, `${basePath(installation)}/health?notice=initial_sync_started`);
  });

  const backTo = (installationId: string | undefined, notice: string) =>
    installationId ? `/admin/installations/${encodeURIComponent(installationId)}/health?notice=${notice}` : `/admin?notice=${notice}`;

  router.post('/jobs/:queue/:jobId/replay', form, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    const result = await replayJob(ctx.producer, queue, String(req.params.jobId));
    if (result.ok) {
      ctx.log.info({ queue, jobId: result.job.id }, 'failed job replayed by an admin');
      await recordAdminAction(ctx.db, { installationId: result.job.installationId, action: 'job_replayed', summary: `Replayed failed job ${result.job.id} of ${queues[queue].name}` });
    }
    res.redirect(303, backTo(installationId, result.ok ? 'replayed' : 'replay_missing'));
  });

  router.post('/jobs/:queue/replay-failed', form, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    const replayed = await replayAllFailed(ctx.producer, queue, installationId);
    ctx.log.info({ queue, replayed, installationId }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, { installationId: installationId ?? null, action: 'jobs_replayed', summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}` });
    res.redirect(303, backTo(installationId, 'replayed_all'));
  });

  router.get('/report', async (req, res) => {
    const installations = await listInstallationDetails(ctx.db);
    const parsed = ReportQuerySchema.safeParse(req.query);
    const raw = parsed.success ? parsed.data : {};
    const period = periodOf(parsed.success ? parsed.data : {}, ctx.now());
    const installation = installations.find((i) => i.id === ('installation' in raw ? raw.installation : undefined)) ?? installations[0] ?? null;
    const problems = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)), ...(period.ok ? [] : period.issues)];
    const fromText = period.ok ? period.period.fromText : typeof req.query.from === 'string' ? req.query.from : '';
    const toText = period.ok ? period.period.toText : typeof req.query.to === 'string' ? req.query.to : '';
    const report = installation && period.ok && problems.length === 0 ? await funnelReport(ctx.db, { installationId: installation.id, from: period.period.from, to: period.period.to, now: new Date(ctx.now()) }) : null;
    render(res, {
      title: 'Funnel report',
      section: 'report',
      installation: installation && req.query.installation ? tabInfo(installation) : undefined,
      scripts: ['vendor/chart.umd.js', 'report.js'],
      body: reportBody({ installations, installation, from: fromText, to: toText, report, problems }),
    }, problems.length > 0 ? 400 : 200);
  });

  router.use((_req, res) => notFound(res, 'There is no such page.'));
  return router;
}

function layoutNotFound(message: string): Html {
  return html`<section class="card"><p class="empty">${message}</p><p><a href="/admin">Back to the installations</a></p></section>`;
}

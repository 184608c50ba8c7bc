/**
 * The admin JSON API (`/api/*`): everything the dashboard does. Sign-in with the admin session
 * (plus the CSRF header for changes) or `Authorization: Bearer <ADMIN_TOKEN>`. Inputs are checked
 * with zod; failures are 4xx `{error, message, issues?}`. Documented in `/api/openapi.json`.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { queueKeys, queues } from '../../queue/catalog.ts';
import { recentAdminActions, recordAdminAction } from '../../store/admin-sessions.ts';
import { getInstallationDetails, latestBackfillRunId, listInstallationDetails, type InstallationDetails } from '../../store/installation-admin.ts';
import { funnelReport } from '../../store/report.ts';
import { searchRecordLog } from '../../store/sync-search.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress, startAttributionBackfill } from '../../sync/attribution-backfill.ts';
import { anyRunProgress, INITIAL_SYNC, initialSyncProgress, startInitialSync } from '../../sync/initial-sync.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from '../admin/alert-target.ts';
import { identityOf } from '../admin/auth.ts';
import type { AdminContext } from '../admin/context.ts';
import { connectionStatus, disconnectSide, runtimeOf, uninstall } from '../admin/installations.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailed, replayJob } from '../admin/jobs.ts';
import { provision, outboundRulesFor } from '../admin/provisioning.ts';
import { periodOf, ReportQuerySchema, reportCsv } from '../admin/report-export.ts';
import { checkSetting, isSettingKey, readAllSettings, resetSetting, saveSetting, SETTING_KEYS, type RefusedSetting } from '../admin/settings.ts';
import { directionsOf, pauseInstallationSync, resumeInstallationSync, setSalesforceBudget, syncControlsView, syncRecordNow, type SyncControlsView } from '../admin/sync-controls.ts';
import { parseInput, sendError } from './errors.ts';
import { openApiDocument } from './openapi.ts';

const idParam = z.object({ id: z.string().min(1).max(100) });
const settingParams = idParam.extend({ key: z.string() });
const jobParams = z.object({ queue: z.string().min(1).max(100), jobId: z.string().min(1).max(500) });
const queueParam = z.object({ queue: z.string().min(1).max(100) });
const failedQuery = z.object({ queue: z.string().max(100).optional(), installation: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();
const replayAllBody = z.object({ installationId: z.string().min(1).max(100).optional() }).strict();
const searchQuery = z.object({ q: z.string().trim().min(1, 'give an email or a record id').max(320), limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict();
const uninstallBody = z.object({ confirm: z.literal(true, 'send {"confirm": true} to uninstall') }).strict();
const runParam = z.object({ runId: z.string().uuid('must be a backfill run id') });
/** Starting an initial sync takes no options; anything sent is refused rather than ignored. */
const initialSyncBody = z.object({}).strict();
/** Pause and resume name one direction, or both when it is absent. */
const directionBody = z.object({ direction: z.enum(['to-salesforce', 'to-hubspot']).optional() }).strict();
const syncNowBody = z.object({ record: z.string().trim().min(1, 'give the record to sync').max(200) }).strict();
const sideParams = idParam.extend({ side: z.enum(['hubspot', 'salesforce']) });

/** The operator controls as the API shows them. */
function controlsJson(view: SyncControlsView) {
  return {
    paused: view.paused.map((pause) => ({ direction: pause.direction, pausedAt: pause.pausedAt.toISOString(), pausedBy: pause.pausedBy })),
    salesforceBudget: view.salesforceBudget,
  };
}

/** The installation as the API shows it (no webhook token: it is part of a secret URL). */
function installationJson(installation: InstallationDetails) {
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

/** A refused setting: 422 with every problem, or 503 when the CRMs could not be asked. */
function refuseSetting(res: Response, key: string, what: 'saved' | 'accepted', refused: RefusedSetting): void {
  const summary = `The ${key} was not ${what}: ${refused.issues.length} problem(s): ${refused.issues[0] ?? ''}`;
  if (refused.status === 503) sendError(res, 503, 'crm_unavailable', summary, refused.issues);
  else sendError(res, 422, 'invalid_settings', summary, refused.issues);
}

/** The API router (mounted at `/api`). */
export function apiRouter(ctx: AdminContext): Router {
  const router = Router();
  router.use(express.json({ limit: '512kb' }));
  router.use(ctx.auth.guard('api'));
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  /** Loads the installation named by `:id`, or answers 404. */
  async function installationFrom(req: Request, res: Response): Promise<InstallationDetails | undefined> {
    const params = parseInput(idParam, req.params, res, 'path');
    if (!params) return undefined;
    const installation = await getInstallationDetails(ctx.db, params.id);
    if (!installation) sendError(res, 404, 'not_found', `No installation ${params.id}`);
    return installation ?? undefined;
  }

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  router.get('/installations', async (_req, res) => {
    res.json({ installations: (await listInstallationDetails(ctx.db)).map(installationJson) });
  });

  router.get('/installations/:id', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({
      installation: installationJson(installation),
      controls: controlsJson(await syncControlsView(ctx, installation.id)),
      alert: await alertTargetView(ctx, installation.id),
      endpoints: { hubspotWebhookUrl: `${ctx.publicUrl()}/webhooks/hubspot`, salesforceOutboundMessageUrl: outboundRulesFor(ctx.publicUrl(), installation)[0]?.endpointUrl ?? null },
    });
  });

  router.get('/installations/:id/connections', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await connectionStatus(ctx, installation));
  });

  for (const [path, dryRun] of [['/installations/:id/provisioning/dry-run', true], ['/installations/:id/provisioning', false]] as const) {
    router.post(path, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled: connect HubSpot again to reinstall');
      const plan = await provision({ installation, runtime: await runtimeOf(ctx, installation.id), publicUrl: ctx.publicUrl(), environment: ctx.provisioning, dryRun });
      if (!dryRun) {
        await recordAdminAction(ctx.db, { installationId: installation.id, action: 'provisioned', summary: `Provisioned: ${plan.counts.created} item(s) created`, details: { counts: plan.counts } });
      }
      res.json(plan);
    });
  }

  router.post('/installations/:id/uninstall', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(uninstallBody, req.body, res, 'body')) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is already uninstalled');
    res.json(await uninstall(ctx, installation.id));
  });

  for (const [path, change] of [['/installations/:id/pause', pauseInstallationSync], ['/installations/:id/resume', resumeInstallationSync]] as const) {
    router.post(path, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const body = parseInput(directionBody, req.body ?? {}, res, 'body');
      if (!body) return;
      if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
      res.json({ controls: controlsJson(await change(ctx, installation.id, directionsOf(body.direction), identityOf(res).via)) });
    });
  }

  router.post('/installations/:id/connections/:side/disconnect', async (req, res) => {
    const params = parseInput(sideParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const result = await disconnectSide(ctx, installation.id, params.side, identityOf(res).via === 'session' ? 'dashboard' : 'api');
    res.json({ ...result, connections: await connectionStatus(ctx, installation) });
  });

  router.post('/installations/:id/sync-now', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(syncNowBody, req.body ?? {}, res, 'body');
    if (!body) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const result = await syncRecordNow(ctx, installation.id, body.record, identityOf(res).via);
    if (!result.ok) return sendError(res, 422, 'not_syncable', result.error);
    const { direction, key, hold } = result.value;
    res.status(202).json({ direction, key, held: hold !== null });
  });

  router.put('/installations/:id/salesforce-budget', async (req, res) => {
    if (!req.is('application/json')) return sendError(res, 415, 'unsupported_media_type', 'Send the budget as application/json');
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await setSalesforceBudget(ctx, installation.id, req.body, identityOf(res).via);
    if (!result.ok) return sendError(res, 422, 'invalid_budget', `The budget was not saved: ${result.error[0] ?? ''}`, result.error);
    res.json({ controls: controlsJson(result.value) });
  });

  router.delete('/installations/:id/salesforce-budget', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await setSalesforceBudget(ctx, installation.id, null, identityOf(res).via);
    if (result.ok) res.json({ controls: controlsJson(result.value) });
  });

  router.get('/installations/:id/settings', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ settings: await readAllSettings(ctx.db, installation.id) });
  });

  router.get('/installations/:id/settings/:key', async (req, res) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    if (!params) return;
    if (!isSettingKey(params.key)) return sendError(res, 404, 'not_found', `No setting "${params.key}": one of ${SETTING_KEYS.join(', ')}`);
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json((await readAllSettings(ctx.db, installation.id)).find((view) => view.key === params.key));
  });

  /** A settings write (`save`) or its preview (`check`): the key, a JSON body, the installation, then the domain and CRM checks. */
  const settingRoute = (mode: 'save' | 'check') => async (req: Request, res: Response) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    if (!params) return;
    if (!isSettingKey(params.key)) return sendError(res, 404, 'not_found', `No setting "${params.key}": one of ${SETTING_KEYS.join(', ')}`);
    if (!req.is('application/json')) return sendError(res, 415, 'unsupported_media_type', 'Send the setting as application/json');
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = mode === 'save' ? await saveSetting(ctx, installation.id, params.key, req.body) : await checkSetting(ctx, installation.id, params.key, req.body);
    if (!result.ok) return refuseSetting(res, params.key, mode === 'save' ? 'saved' : 'accepted', result.error);
    res.json({ key: params.key, value: result.value.value, crmCheck: result.value.crmCheck, preview: result.value.preview });
  };

  router.put('/installations/:id/settings/:key', settingRoute('save'));
  router.post('/installations/:id/settings/:key/preview', settingRoute('check'));

  router.delete('/installations/:id/settings/:key', async (req, res) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    if (!params) return;
    if (!isSettingKey(params.key)) return sendError(res, 404, 'not_found', `No setting "${params.key}": one of ${SETTING_KEYS.join(', ')}`);
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await resetSetting(ctx, installation.id, params.key);
    res.status(204).end();
  });

  router.get('/installations/:id/alert', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await alertTargetView(ctx, installation.id));
  });

  router.put('/installations/:id/alert', async (req, res) => {
    if (!req.is('application/json')) return sendError(res, 415, 'unsupported_media_type', 'Send the alert target as application/json');
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const result = await saveAlertTarget(ctx, installation.id, req.body);
    if (!result.ok) return sendError(res, 422, 'invalid_alert_target', `The alert target was not saved: ${result.error.length} problem(s): ${result.error[0] ?? ''}`, result.error);
    res.json(result.value);
  });

  router.delete('/installations/:id/alert', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await removeAlertTarget(ctx, installation.id);
    res.status(204).end();
  });

  router.get('/installations/:id/sync-log', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = parseInput(searchQuery, req.query, res, 'query');
    if (!query) return;
    res.json(await searchRecordLog(ctx.db, installation.id, query.q, query.limit));
  });

  router.get('/installations/:id/activity', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ actions: await recentAdminActions(ctx.db, installation.id, 50) });
  });

  router.post('/credentials/reseal', async (_req, res) => {
    const resealed = await ctx.vault.resealAll();
    await recordAdminAction(ctx.db, { installationId: null, action: 'credentials_resealed', summary: `${resealed} stored grant(s) sealed again with the current ENCRYPTION_KEY` });
    ctx.log.info({ resealed }, 'stored credentials re-sealed with the current key');
    res.json({ resealed });
  });

  router.get('/queues', async (_req, res) => {
    res.json({ queues: await queueDepths(ctx.producer) });
  });

  router.get('/jobs/failed', async (req, res) => {
    const query = parseInput(failedQuery, req.query, res, 'query');
    if (!query) return;
    const queue = query.queue === undefined ? undefined : queueKeyOf(query.queue);
    if (query.queue !== undefined && !queue) return sendError(res, 404, 'not_found', `No queue "${query.queue}": one of ${queueKeys.join(', ')}`);
    res.json({ jobs: await listFailedJobs(ctx.producer, { queue, installationId: query.installation, limit: query.limit }) });
  });

  router.post('/jobs/:queue/:jobId/replay', async (req, res) => {
    const params = parseInput(jobParams, req.params, res, 'path');
    if (!params) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const result = await replayJob(ctx.producer, queue, params.jobId);
    if (!result.ok) return sendError(res, result.status, result.status === 404 ? 'not_found' : 'not_failed', result.message);
    ctx.log.info({ queue, jobId: params.jobId }, 'failed job replayed by an admin');
    await recordAdminAction(ctx.db, { installationId: result.job.installationId, action: 'job_replayed', summary: `Replayed failed job ${params.jobId} of ${queues[queue].name}` });
    res.json({ replayed: 1, job: result.job });
  });

  router.post('/jobs/:queue/replay-failed', async (req, res) => {
    const params = parseInput(queueParam, req.params, res, 'path');
    if (!params) return;
    const body = parseInput(replayAllBody, req.body ?? {}, res, 'body');
    if (!body) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const replayed = await replayAllFailed(ctx.producer, queue, body.installationId);
    ctx.log.info({ queue, replayed, installationId: body.installationId }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, { installationId: body.installationId ?? null, action: 'jobs_replayed', summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}` });
    res.json({ replayed });
  });

  router.post('/installations/:id/backfill', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const { runId } = await startAttributionBackfill({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, { installationId: installation.id, action: 'backfill_started', summary: 'Attribution backfill started', details: { runId } });
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });

  router.get('/installations/:id/backfill', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const runId = await latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL);
    res.json({ run: runId ? await backfillProgress(ctx.db, runId) : null });
  });

  router.post('/installations/:id/initial-sync', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(initialSyncBody, req.body ?? {}, res, 'body')) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const { runId } = await startInitialSync({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, { installationId: installation.id, action: 'initial_sync_started', summary: 'Initial sync started', details: { runId } });
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });

  router.get('/installations/:id/initial-sync', async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const runId = await latestBackfillRunId(ctx.db, installation.id, INITIAL_SYNC);
    res.json({ run: runId ? await initialSyncProgress(ctx.db, runId) : null });
  });

  router.get('/backfill/:runId', async (req, res) => {
    const params = parseInput(runParam, req.params, res, 'path');
    if (!params) return;
    const progress = await anyRunProgress(ctx.db, params.runId);
    if (!progress) return sendError(res, 404, 'not_found', `No backfill run ${params.runId}`);
    res.json(progress);
  });

  router.get('/report', async (req, res) => {
    const query = parseInput(ReportQuerySchema, req.query, res, 'query');
    if (!query) return;
    const period = periodOf(query, ctx.now());
    if (!period.ok) return sendError(res, 400, 'invalid_request', `Invalid query: ${period.issues[0] ?? ''}`, period.issues);
    const installationId = query.installation ?? (await listInstallationDetails(ctx.db))[0]?.id;
    if (!installationId) return sendError(res, 404, 'not_found', 'No installation yet');
    if (!(await getInstallationDetails(ctx.db, installationId))) return sendError(res, 404, 'not_found', `No installation ${installationId}`);
    const report = await funnelReport(ctx.db, { installationId, from: period.period.from, to: period.period.to, now: new Date(ctx.now()) });
    if (query.format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .attachment(`funnel-${query.table}-${period.period.fromText}-to-${period.period.toText}.csv`)
        .send(reportCsv(report, query.table));
      return;
    }
    res.json(report);
  });

  router.use((_req, res) => sendError(res, 404, 'not_found', 'No such API route: see /api/openapi.json'));
  // Body parser failures (malformed JSON, too large) are the client's: 4xx with the reason.
  router.use((error: unknown, _req: Request, res: Response, next: (error?: unknown) => void) => {
    const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 500) return next(error);
    sendError(res, status, status === 413 ? 'too_large' : 'invalid_request', status === 413 ? 'The request body is too large' : 'The request body is not valid JSON');
  });
  return router;
}

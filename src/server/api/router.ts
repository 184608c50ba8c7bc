/**
 * The admin JSON API (`/api/*`): everything the dashboard does. Sign-in with the admin session
 * (plus the CSRF header for changes) or `Authorization: Bearer <ADMIN_TOKEN>`; every route states
 * which role it needs (`access.ts`) and is judged before its body is read. Inputs are checked
 * with zod; failures are 4xx `{error, message, issues?}`. Documented in `/api/openapi.json`.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { queueKeys, queues } from '../../queue/catalog.ts';
import { sharedEmails } from '../../store/record-links.ts';
import { recentAdminActions, recordAdminAction } from '../../store/admin-sessions.ts';
import {
  getInstallationDetails,
  latestBackfillRunId,
  listInstallationDetails,
  type InstallationDetails,
} from '../../store/installation-admin.ts';
import { funnelReport } from '../../store/report.ts';
import { commitmentsReport, goalsReport, marketingCommitmentsOf, sharedGoalsOf } from '../../store/commitments.ts';
import { parsePeriod, periodContaining } from '../../domain/commitments.ts';
import { searchRecordLog } from '../../store/sync-search.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress, startAttributionBackfill } from '../../sync/attribution-backfill.ts';
import { anyRunProgress, INITIAL_SYNC, initialSyncProgress, startInitialSync } from '../../sync/initial-sync.ts';
import { FIELD_FILL, fieldFillProgress, startFieldFill } from '../../sync/field-fill.ts';
import { MappingPairSchema } from '../../domain/field-values.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from '../admin/alert-target.ts';
import { access, canManage, canSee, guardedRouter, type Access, type Refusals } from '../admin/access.ts';
import { identityOf } from '../admin/auth.ts';
import { loadBackfillRun } from '../../store/backfill-runs.ts';
import {
  cancelInstallationInvitation,
  invitationJson,
  InvitationInput,
  inviteToInstallation,
  peopleOf,
  revokeInstallationUser,
  userJson,
} from '../admin/users.ts';
import type { AdminContext } from '../admin/context.ts';
import { connectionStatus, disconnectSide, runtimeOf, uninstall } from '../admin/installations.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailed, replayJob } from '../admin/jobs.ts';
import { provision, outboundRulesFor } from '../admin/provisioning.ts';
import { periodOf, ReportQuerySchema, reportCsv } from '../admin/report-export.ts';
import {
  checkSetting,
  isSettingKey,
  readAllSettings,
  resetSetting,
  saveSetting,
  SETTING_KEYS,
  type RefusedSetting,
} from '../admin/settings.ts';
import {
  directionsOf,
  pauseInstallationSync,
  resumeInstallationSync,
  setSalesforceBudget,
  syncControlsView,
  syncRecordNow,
  type SyncControlsView,
} from '../admin/sync-controls.ts';
import { parseInput, sendError } from './errors.ts';
import { revenuePolicyOf } from '../../store/deals.ts';
import { openApiDocument } from './openapi.ts';
import { ComplianceQuerySchema, complianceView, ViolationsQuerySchema, violationsView } from '../admin/sla-compliance.ts';
import { reviewOf } from '../admin/review.ts';

const idParam = z.object({ id: z.string().min(1).max(100) });
const settingParams = idParam.extend({ key: z.string() });
const jobParams = z.object({ queue: z.string().min(1).max(100), jobId: z.string().min(1).max(500) });
const queueParam = z.object({ queue: z.string().min(1).max(100) });
const failedQuery = z
  .object({
    queue: z.string().max(100).optional(),
    installation: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
const replayAllBody = z.object({ installationId: z.string().min(1).max(100).optional() }).strict();
const searchQuery = z
  .object({
    q: z.string().trim().min(1, 'give an email or a record id').max(320),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
const uninstallBody = z.object({ confirm: z.literal(true, 'send {"confirm": true} to uninstall') }).strict();
const runParam = z.object({ runId: z.string().uuid('must be a backfill run id') });
/** Starting an initial sync takes no options; anything sent is refused rather than ignored. */
const initialSyncBody = z.object({}).strict();
const fieldFillBody = z
  .object({
    pairs: z
      .array(MappingPairSchema)
      .min(1, 'name at least one pair, or leave pairs out to fill every syncing mapping')
      .max(500)
      .optional(),
  })
  .strict();
/** Pause and resume name one direction, or both when it is absent. */
const directionBody = z.object({ direction: z.enum(['to-salesforce', 'to-hubspot']).optional() }).strict();
const syncNowBody = z.object({ record: z.string().trim().min(1, 'give the record to sync').max(200) }).strict();
const sideParams = idParam.extend({ side: z.enum(['hubspot', 'salesforce']) });
const scopedJobParams = idParam.extend({ queue: z.string().min(1).max(100), jobId: z.string().min(1).max(500) });
const scopedQueueParams = idParam.extend({ queue: z.string().min(1).max(100) });
const scopedFailedQuery = z
  .object({ queue: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) })
  .strict();
const userParams = idParam.extend({ userId: z.string().min(1).max(100) });
const invitationParams = idParam.extend({ invitationId: z.string().min(1).max(100) });
/** `?period=` of the commitments: a month `YYYY-MM` or a quarter `YYYY-Qn`; absent, the current one. */
const commitmentsQuery = z
  .object({
    period: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$/, 'must be a month YYYY-MM or a quarter YYYY-Qn')
      .optional(),
  })
  .strict();
/** `?quarter=` of the goal table; absent, the current one. */
const goalsQuery = z
  .object({
    quarter: z
      .string()
      .regex(/^\d{4}-Q[1-4]$/, 'must be a quarter YYYY-Qn, e.g. 2026-Q4')
      .optional(),
  })
  .strict();
/** The report names its installation in the query; without one it is the first the caller may see. */
const reportAccess: Access = { who: 'installation', role: 'viewer', in: 'query', whenAbsent: 'signed-in' };

/** `GET /api/review`: the installation (required) and a month or quarter. */
const reviewQuery = z
  .object({ installation: z.string({ error: 'is required' }).min(1, 'is required').max(100), period: commitmentsQuery.shape.period })
  .strict();
const reviewAccess: Access = { who: 'installation', role: 'viewer', in: 'query', whenAbsent: 'signed-in' };

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
  const r = guardedRouter({ auth: ctx.auth, surface: 'api', refusals, parseBody: express.json({ limit: '512kb' }) });
  const router = r.router;
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

  r.get('/openapi.json', access.signedIn, (_req, res) => {
    res.json(openApiDocument());
  });

  r.get('/me', access.signedIn, (_req, res) => {
    const identity = identityOf(res);
    res.json({ role: identity.role, name: identity.name, installationId: identity.installationId, via: identity.via });
  });

  r.post('/sessions/sign-out-everywhere', access.signedIn, async (_req, res) => {
    res.json({ ended: await ctx.auth.signOutEverywhere(identityOf(res), res) });
  });

  r.get('/installations', access.signedIn, async (_req, res) => {
    const identity = identityOf(res);
    res.json({ installations: (await listInstallationDetails(ctx.db)).filter((i) => canSee(identity, i.id)).map(installationJson) });
  });

  r.get('/installations/:id/users', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const { users, invitations } = await peopleOf(ctx, installation.id);
    res.json({ users: users.map(userJson), invitations: invitations.map(invitationJson) });
  });

  r.post('/installations/:id/invitations', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(InvitationInput.strict(), req.body ?? {}, res, 'body');
    if (!body) return;
    const { invitation, url } = await inviteToInstallation(ctx, identityOf(res), installation.id, body);
    res.status(201).json({ invitation: invitationJson(invitation), url });
  });

  r.delete('/installations/:id/invitations/:invitationId', access.manageInstallation, async (req, res) => {
    const params = parseInput(invitationParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!(await cancelInstallationInvitation(ctx, identityOf(res), installation.id, params.invitationId)))
      return sendError(res, 404, 'not_found', `No pending invitation ${params.invitationId}`);
    res.status(204).end();
  });

  r.delete('/installations/:id/users/:userId', access.manageInstallation, async (req, res) => {
    const params = parseInput(userParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!(await revokeInstallationUser(ctx, identityOf(res), installation.id, params.userId)))
      return sendError(res, 404, 'not_found', `No user ${params.userId}`);
    res.status(204).end();
  });

  r.get('/installations/:id', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({
      installation: installationJson(installation),
      controls: controlsJson(await syncControlsView(ctx, installation.id)),
      alert: await alertTargetView(ctx, installation.id),
      endpoints: {
        hubspotWebhookUrl: `${ctx.publicUrl()}/webhooks/hubspot`,
        salesforceOutboundMessageUrl: outboundRulesFor(ctx.publicUrl(), installation)[0]?.endpointUrl ?? null,
      },
    });
  });

  r.get('/installations/:id/commitments', access.viewInstallation, async (req, res) => {
    const query = parseInput(commitmentsQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const commitments = await marketingCommitmentsOf(ctx.db, installation.id);
    const period = query.period === undefined ? undefined : parsePeriod(query.period);
    if (period === null)
      return sendError(res, 400, 'invalid_request', `Invalid query: period: ${query.period ?? ''} is not a month or a quarter`);
    if (period !== undefined && period.kind !== commitments.period) {
      return sendError(
        res,
        400,
        'invalid_request',
        `Invalid query: period: the commitments are per ${commitments.period}: give a ${commitments.period === 'month' ? 'month YYYY-MM' : 'quarter YYYY-Qn'}`,
      );
    }
    const report = await commitmentsReport(ctx.db, {
      installationId: installation.id,
      commitments,
      now: new Date(ctx.now()),
      ...(period ? { period } : {}),
    });
    res.json(report);
  });

  r.get('/installations/:id/goals', access.viewInstallation, async (req, res) => {
    const query = parseInput(goalsQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const now = new Date(ctx.now());
    const quarter = query.quarter ?? periodContaining('quarter', now).id;
    res.json(
      await goalsReport(ctx.db, {
        installationId: installation.id,
        goals: await sharedGoalsOf(ctx.db, installation.id),
        quarter,
        now,
        revenue: await revenuePolicyOf(ctx.db, installation.id),
      }),
    );
  });

  // Linked records that share an email (src/sync/email-identity.ts): reported, never merged by the app; it lists addresses, so installation admins only.
  r.get('/installations/:id/shared-emails', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({
      sharedEmails: (await sharedEmails(ctx.db, installation.id)).map(({ email, links }) => ({
        email,
        records: links.map((l) => ({
          hubspotContactId: l.hubspotContactId,
          salesforceLeadId: l.salesforceLeadId,
          salesforceContactId: l.salesforceContactId,
        })),
      })),
    });
  });

  r.get('/installations/:id/connections', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await connectionStatus(ctx, installation));
  });

  for (const [path, dryRun] of [
    ['/installations/:id/provisioning/dry-run', true],
    ['/installations/:id/provisioning', false],
  ] as const) {
    r.post(path, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      if (installation.status !== 'active')
        return sendError(res, 409, 'uninstalled', 'The installation is uninstalled: connect HubSpot again to reinstall');
      const plan = await provision({
        installation,
        runtime: await runtimeOf(ctx, installation.id),
        publicUrl: ctx.publicUrl(),
        environment: ctx.provisioning,
        dryRun,
      });
      if (!dryRun) {
        await recordAdminAction(ctx.db, {
          installationId: installation.id,
          action: 'provisioned',
          summary: `Provisioned: ${plan.counts.created} item(s) created`,
          details: { counts: plan.counts },
        });
      }
      res.json(plan);
    });
  }

  r.post('/installations/:id/uninstall', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(uninstallBody, req.body, res, 'body')) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is already uninstalled');
    res.json(await uninstall(ctx, installation.id));
  });

  for (const [path, change] of [
    ['/installations/:id/pause', pauseInstallationSync],
    ['/installations/:id/resume', resumeInstallationSync],
  ] as const) {
    r.post(path, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const body = parseInput(directionBody, req.body ?? {}, res, 'body');
      if (!body) return;
      if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
      res.json({ controls: controlsJson(await change(ctx, installation.id, directionsOf(body.direction), identityOf(res).via)) });
    });
  }

  r.post('/installations/:id/connections/:side/disconnect', access.manageInstallation, async (req, res) => {
    const params = parseInput(sideParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const result = await disconnectSide(ctx, installation.id, params.side, identityOf(res).via === 'session' ? 'dashboard' : 'api');
    res.json({ ...result, connections: await connectionStatus(ctx, installation) });
  });

  r.post('/installations/:id/sync-now', access.manageInstallation, async (req, res) => {
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

  r.put('/installations/:id/salesforce-budget', access.manageInstallation, async (req, res) => {
    if (!req.is('application/json')) return sendError(res, 415, 'unsupported_media_type', 'Send the budget as application/json');
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

  r.get('/installations/:id/settings', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ settings: await readAllSettings(ctx.db, installation.id) });
  });

  r.get('/installations/:id/settings/:key', access.manageInstallation, async (req, res) => {
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
    const result =
      mode === 'save'
        ? await saveSetting(ctx, installation.id, params.key, req.body)
        : await checkSetting(ctx, installation.id, params.key, req.body);
    if (!result.ok) return refuseSetting(res, params.key, mode === 'save' ? 'saved' : 'accepted', result.error);
    res.json({ key: params.key, value: result.value.value, crmCheck: result.value.crmCheck, preview: result.value.preview });
  };

  r.put('/installations/:id/settings/:key', access.manageInstallation, settingRoute('save'));
  r.post('/installations/:id/settings/:key/preview', access.manageInstallation, settingRoute('check'));

  r.delete('/installations/:id/settings/:key', access.manageInstallation, async (req, res) => {
    const params = parseInput(settingParams, req.params, res, 'path');
    if (!params) return;
    if (!isSettingKey(params.key)) return sendError(res, 404, 'not_found', `No setting "${params.key}": one of ${SETTING_KEYS.join(', ')}`);
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await resetSetting(ctx, installation.id, params.key);
    res.status(204).end();
  });

  r.get('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await alertTargetView(ctx, installation.id));
  });

  r.put('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    if (!req.is('application/json')) return sendError(res, 415, 'unsupported_media_type', 'Send the alert target as application/json');
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

  r.get('/installations/:id/sync-log', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = parseInput(searchQuery, req.query, res, 'query');
    if (!query) return;
    res.json(await searchRecordLog(ctx.db, installation.id, query.q, query.limit));
  });

  r.get('/installations/:id/activity', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ actions: await recentAdminActions(ctx.db, installation.id, 50) });
  });

  r.post('/credentials/reseal', access.operator, async (_req, res) => {
    const resealed = await ctx.vault.resealAll();
    await recordAdminAction(ctx.db, {
      installationId: null,
      action: 'credentials_resealed',
      summary: `${resealed} stored grant(s) sealed again with the current ENCRYPTION_KEY`,
    });
    ctx.log.info({ resealed }, 'stored credentials re-sealed with the current key');
    res.json({ resealed });
  });

  r.get('/queues', access.operator, async (_req, res) => {
    res.json({ queues: await queueDepths(ctx.producer) });
  });

  r.get('/jobs/failed', access.operator, async (req, res) => {
    const query = parseInput(failedQuery, req.query, res, 'query');
    if (!query) return;
    const queue = query.queue === undefined ? undefined : queueKeyOf(query.queue);
    if (query.queue !== undefined && !queue)
      return sendError(res, 404, 'not_found', `No queue "${query.queue}": one of ${queueKeys.join(', ')}`);
    res.json({ jobs: await listFailedJobs(ctx.producer, { queue, installationId: query.installation, limit: query.limit }) });
  });

  r.post('/jobs/:queue/:jobId/replay', access.operator, async (req, res) => {
    const params = parseInput(jobParams, req.params, res, 'path');
    if (!params) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const result = await replayJob(ctx.producer, queue, params.jobId);
    if (!result.ok) return sendError(res, result.status, result.status === 404 ? 'not_found' : 'not_failed', result.message);
    ctx.log.info({ queue, jobId: params.jobId }, 'failed job replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: result.job.installationId,
      action: 'job_replayed',
      summary: `Replayed failed job ${params.jobId} of ${queues[queue].name}`,
    });
    res.json({ replayed: 1, job: result.job });
  });

  r.post('/jobs/:queue/replay-failed', access.operator, async (req, res) => {
    const params = parseInput(queueParam, req.params, res, 'path');
    if (!params) return;
    const body = parseInput(replayAllBody, req.body ?? {}, res, 'body');
    if (!body) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const replayed = await replayAllFailed(ctx.producer, queue, body.installationId);
    ctx.log.info({ queue, replayed, installationId: body.installationId }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: body.installationId ?? null,
      action: 'jobs_replayed',
      summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}`,
    });
    res.json({ replayed });
  });

  r.post('/installations/:id/backfill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const { runId } = await startAttributionBackfill({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'backfill_started',
      summary: 'Attribution backfill started',
      details: { runId },
    });
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });

  r.get('/installations/:id/backfill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const runId = await latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL);
    res.json({ run: runId ? await backfillProgress(ctx.db, runId) : null });
  });

  r.post('/installations/:id/field-fill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(fieldFillBody, req.body ?? {}, res, 'body');
    if (!body) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const { runId } = await startFieldFill({ db: ctx.db, producer: ctx.producer }, installation.id, body.pairs);
    const which = body.pairs ? body.pairs.map((p) => `${p.hubspotProperty} ↔ ${p.salesforceField}`).join(', ') : 'every syncing mapping';
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'field_fill_started',
      summary: `Filling existing records started for ${which}`,
      details: { runId, ...(body.pairs ? { pairs: body.pairs } : {}) },
    });
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}`, run: await fieldFillProgress(ctx.db, runId) });
  });

  r.get('/installations/:id/field-fill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const runId = await latestBackfillRunId(ctx.db, installation.id, FIELD_FILL);
    res.json({ run: runId ? await fieldFillProgress(ctx.db, runId) : null });
  });

  r.post('/installations/:id/initial-sync', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(initialSyncBody, req.body ?? {}, res, 'body')) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is uninstalled');
    const { runId } = await startInitialSync({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'initial_sync_started',
      summary: 'Initial sync started',
      details: { runId },
    });
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });

  r.get('/installations/:id/initial-sync', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const runId = await latestBackfillRunId(ctx.db, installation.id, INITIAL_SYNC);
    res.json({ run: runId ? await initialSyncProgress(ctx.db, runId) : null });
  });

  r.get('/installations/:id/jobs/failed', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = parseInput(scopedFailedQuery, req.query, res, 'query');
    if (!query) return;
    const queue = query.queue === undefined ? undefined : queueKeyOf(query.queue);
    if (query.queue !== undefined && !queue)
      return sendError(res, 404, 'not_found', `No queue "${query.queue}": one of ${queueKeys.join(', ')}`);
    res.json({ jobs: await listFailedJobs(ctx.producer, { queue, installationId: installation.id, limit: query.limit }) });
  });

  r.post('/installations/:id/jobs/:queue/:jobId/replay', access.manageInstallation, async (req, res) => {
    const params = parseInput(scopedJobParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const result = await replayJob(ctx.producer, queue, params.jobId, installation.id);
    if (!result.ok) return sendError(res, result.status, result.status === 404 ? 'not_found' : 'not_failed', result.message);
    ctx.log.info({ queue, jobId: params.jobId, installationId: installation.id }, 'failed job replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'job_replayed',
      summary: `Replayed failed job ${params.jobId} of ${queues[queue].name}`,
    });
    res.json({ replayed: 1, job: result.job });
  });

  r.post('/installations/:id/jobs/:queue/replay-failed', access.manageInstallation, async (req, res) => {
    const params = parseInput(scopedQueueParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const queue = queueKeyOf(params.queue);
    if (!queue) return sendError(res, 404, 'not_found', `No queue "${params.queue}": one of ${queueKeys.join(', ')}`);
    const replayed = await replayAllFailed(ctx.producer, queue, installation.id);
    ctx.log.info({ queue, replayed, installationId: installation.id }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'jobs_replayed',
      summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}`,
    });
    res.json({ replayed });
  });

  // A run belongs to an installation: a caller who may not manage it is told it does not exist.
  r.get('/backfill/:runId', access.signedIn, async (req, res) => {
    const params = parseInput(runParam, req.params, res, 'path');
    if (!params) return;
    const run = await loadBackfillRun(ctx.db, params.runId);
    const progress = run && canManage(identityOf(res), run.installation_id) ? await anyRunProgress(ctx.db, params.runId) : null;
    if (!progress) return sendError(res, 404, 'not_found', `No backfill run ${params.runId}`);
    res.json(progress);
  });

  r.get('/report', reportAccess, async (req, res) => {
    const query = parseInput(ReportQuerySchema, req.query, res, 'query');
    if (!query) return;
    const period = periodOf(query, ctx.now());
    if (!period.ok) return sendError(res, 400, 'invalid_request', `Invalid query: ${period.issues[0] ?? ''}`, period.issues);
    const identity = identityOf(res);
    const installationId = query.installation ?? (await listInstallationDetails(ctx.db)).find((i) => canSee(identity, i.id))?.id;
    if (!installationId) return sendError(res, 404, 'not_found', 'No installation yet');
    if (!(await getInstallationDetails(ctx.db, installationId)))
      return sendError(res, 404, 'not_found', `No installation ${installationId}`);
    const report = await funnelReport(ctx.db, {
      installationId,
      from: period.period.from,
      to: period.period.to,
      now: new Date(ctx.now()),
      revenue: await revenuePolicyOf(ctx.db, installationId),
    });
    if (query.format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .attachment(`funnel-${query.table}-${period.period.fromText}-to-${period.period.toText}.csv`)
        .send(reportCsv(report, query.table));
      return;
    }
    res.json(report);
  });

  // The sales side of the SLA: compliance per rule and group, and the handoffs that broke a rule (viewers may read).
  r.get('/installations/:id/sla/compliance', access.viewInstallation, async (req, res) => {
    const query = parseInput(ComplianceQuerySchema, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await complianceView(ctx, installation, query));
  });

  r.get('/installations/:id/sla/violations', access.viewInstallation, async (req, res) => {
    const query = parseInput(ViolationsQuerySchema, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await violationsView(ctx, installation, query));
  });

  // The pipeline review: viewers of the installation may read it; a missing installation is a 400.
  r.get('/review', reviewAccess, async (req, res) => {
    const query = parseInput(reviewQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await getInstallationDetails(ctx.db, query.installation);
    if (!installation) return sendError(res, 404, 'not_found', `No installation ${query.installation}`);
    const now = new Date(ctx.now());
    const period = query.period === undefined ? periodContaining('quarter', now) : parsePeriod(query.period);
    if (period === null)
      return sendError(res, 400, 'invalid_request', `Invalid query: period: ${query.period ?? ''} is not a month or a quarter`);
    res.json(await reviewOf(ctx, installation.id, period, now));
  });

  r.mount('/', access.signedIn, (_req, res) => sendError(res, 404, 'not_found', 'No such API route: see /api/openapi.json'));
  // Body parser failures (malformed JSON, too large) are the client's: 4xx with the reason.
  router.use((error: unknown, _req: Request, res: Response, next: (error?: unknown) => void) => {
    const status =
      typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 500) return next(error);
    sendError(
      res,
      status,
      status === 413 ? 'too_large' : 'invalid_request',
      status === 413 ? 'The request body is too large' : 'The request body is not valid JSON',
    );
  });
  return router;
}

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
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { queueKeys, queues } from '../../queue/catalog.ts';
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
import { problemsSince, recentProblems, searchRecordLog } from '../../store/sync-search.ts';
import { groupFailures } from '../../domain/sync-failures.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress, startAttributionBackfill } from '../../sync/attribution-backfill.ts';
import { INITIAL_SYNC, initialSyncProgress, startInitialSync } from '../../sync/initial-sync.ts';
import { FIELD_FILL, fieldFillProgress, startFieldFill } from '../../sync/field-fill.ts';
import { access, canManage, canSee, guardedRouter, type Access, type Refusals } from './access.ts';
import { clientAddress, identityOf, sha256 } from './auth.ts';
import { html, type Html } from './html.ts';
import { alertTargetView, removeAlertTarget, saveAlertTarget } from './alert-target.ts';
import { NOTICES } from './components.ts';
import type { AdminContext } from './context.ts';
import { connectionStatus, disconnectSide, runtimeOf, uninstall } from './installations.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailed, replayJob } from './jobs.ts';
import { invitationPage, layout, loginPage, type LayoutInput } from './layout.ts';
import { healthBody } from './pages/health.ts';
import { installationBody, provisioningBody } from './pages/installation.ts';
import { overviewBody } from './pages/overview.ts';
import { reportBody } from './pages/report.ts';
import { revenuePolicyOf } from '../../store/deals.ts';
import { slaComplianceBody } from './pages/sla-compliance.ts';
import { ComplianceQuerySchema, complianceView, ViolationsQuerySchema, violationsView } from './sla-compliance.ts';
import { reviewBody } from './pages/review.ts';
import { reviewOf } from './review.ts';
import type { AgreementData } from './pages/agreement.ts';
import { settingsBody } from './pages/settings.ts';
import { digestStatusView, sendTestDigestNow } from './review-digest.ts';
import { usersBody, type UsersPageData } from './pages/users.ts';
import { findUsableInvitation } from '../../store/admin-users.ts';
import {
  acceptInvitationLink,
  cancelInstallationInvitation,
  InvitationInput,
  inviteToInstallation,
  peopleOf,
  revokeInstallationUser,
  ROLE_LABELS,
} from './users.ts';
import type { SettingPreview } from '../../domain/settings-preview.ts';
import { outboundRulesFor, provision } from './provisioning.ts';
import { periodOf, ReportQuerySchema } from './report-export.ts';
import { field, pairsFrom, pairsText, valueFromFields, type FormFields } from './settings-forms.ts';
import {
  checkSetting,
  isSettingKey,
  readAllSettings,
  resetSetting,
  saveSetting,
  SETTING_KEYS,
  type CrmCheck,
  type SettingKey,
} from './settings.ts';
import {
  directionsOf,
  pauseInstallationSync,
  resumeInstallationSync,
  setSalesforceBudget,
  syncControlsView,
  syncRecordNow,
} from './sync-controls.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
/** `/admin/review?installation=&period=`: a month YYYY-MM or a quarter YYYY-Qn. */
const ReviewPageQuery = z.object({ installation: z.string().min(1).max(100).optional(), period: z.string().max(20).optional() }).strict();

const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** The report names its installation in the query; without one it shows the first the caller may see. */
const reportAccess: Access = { who: 'installation', role: 'viewer', in: 'query', whenAbsent: 'signed-in' };
const invitationParam = z.object({
  token: z
    .string()
    .min(20)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
});
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
/** The fill button's pairs (`property:Field,…`; absent: every syncing mapping). */
const fillForm = z.object({ pairs: z.string().max(20_000).optional() });
const fillQuery = z.object({ fill: z.string().max(20_000).optional() });

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

const INVALID_INVITATION =
  'This invitation link does not work: it was already used, cancelled or has expired. Ask whoever invited you for a new one.';

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
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  // Public forms (sign-in, invitation) carry a token at most: their bodies are read before any credential.
  const smallForm = express.urlencoded({ extended: false, limit: '8kb' });

  const render = (res: Response, input: Omit<LayoutInput, 'csrfToken' | 'who'>, status = 200) => {
    const identity = identityOf(res);
    res
      .status(status)
      .type('html')
      .send(layout({ ...input, csrfToken: identity.csrfToken, who: { role: identity.role, name: identity.name } }));
  };
  const notFound = (res: Response, what: string) =>
    render(res, { title: 'Not found', section: 'overview', body: layoutNotFound(what) }, 404);
  const refusals: Refusals = {
    unauthenticated: (req, res) => res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`),
    locked: (_req, res, retryAfter) => {
      res
        .status(429)
        .set('Retry-After', String(retryAfter))
        .type('text/plain')
        .send(`Too many wrong tokens from this address: try again in ${Math.ceil(retryAfter / 60)} minute(s).`);
    },
    forbidden: (_req, res) =>
      render(res, { title: 'Not for your role', section: 'overview', body: layoutNotFound('Your role does not include this page.') }, 403),
    hidden: (_req, res) => notFound(res, 'That installation does not exist.'),
  };
  const r = guardedRouter({ auth: ctx.auth, surface: 'page', refusals, parseBody: form });
  const router = r.router;

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

  // Headers for every page below (not a route: it answers nothing itself).
  router.use((_req, res, next) => {
    res.set('Content-Security-Policy', PAGE_CSP).set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  r.get('/login', access.anyone, async (req, res) => {
    const next = safeNext(typeof req.query.next === 'string' ? req.query.next : undefined);
    // A cookie session only: a bearer here would be a token presentation to count, not a visit.
    if (!req.headers.authorization && (await ctx.auth.identify(req)).kind === 'signed-in') return res.redirect(303, next);
    res.type('html').send(loginPage({ next }));
  });

  r.post('/login', access.anyone, smallForm, async (req, res) => {
    const parsed = loginForm.safeParse(req.body);
    const next = safeNext(parsed.success ? parsed.data.next : undefined);
    const check = await ctx.auth.checkToken(clientAddress(req), parsed.success ? parsed.data.token : '', 'form');
    if (check.kind === 'locked') {
      res
        .status(429)
        .set('Retry-After', String(check.retryAfterSeconds))
        .type('html')
        .send(
          loginPage({
            next,
            error: `Too many wrong tokens from this address: try again in ${Math.ceil(check.retryAfterSeconds / 60)} minute(s).`,
          }),
        );
      return;
    }
    if (check.kind === 'refused') {
      res
        .status(401)
        .type('html')
        .send(loginPage({ next, error: 'That is not the admin token.' }));
      return;
    }
    await ctx.auth.signIn(res, { kind: 'operator' });
    res.redirect(303, next);
  });

  r.post('/logout', access.signedIn, async (req, res) => {
    await ctx.auth.signOut(req, res);
    res.redirect(303, '/admin/login');
  });

  r.post('/sign-out-everywhere', access.signedIn, async (_req, res) => {
    await ctx.auth.signOutEverywhere(identityOf(res), res);
    res.redirect(303, '/admin/login');
  });

  // An invitation link: GET shows it (link previews and scanners may open it), POST accepts it once.
  r.get('/invitations/:token', access.anyone, async (req, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    const params = invitationParam.safeParse(req.params);
    const invitation = params.success ? await findUsableInvitation(ctx.db, sha256(params.data.token), new Date(ctx.now())) : null;
    const installation = invitation ? await getInstallationDetails(ctx.db, invitation.installationId) : null;
    if (!params.success || !invitation || !installation) {
      res
        .status(404)
        .type('html')
        .send(invitationPage({ error: INVALID_INVITATION }));
      return;
    }
    res.type('html').send(
      invitationPage({
        token: params.data.token,
        installationName: installation.name,
        role: ROLE_LABELS[invitation.role].toLowerCase(),
        name: invitation.name,
      }),
    );
  });

  r.post('/invitations/:token', access.anyone, async (req, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    const address = clientAddress(req);
    const wait = await ctx.auth.lockedFor(address);
    if (wait > 0) {
      res
        .status(429)
        .set('Retry-After', String(wait))
        .type('html')
        .send(
          invitationPage({
            error: `Too many unknown links or wrong tokens from this address: try again in ${Math.ceil(wait / 60)} minute(s).`,
          }),
        );
      return;
    }
    const params = invitationParam.safeParse(req.params);
    const user = params.success ? await acceptInvitationLink(ctx, params.data.token) : null;
    if (!user) {
      await ctx.auth.recordFailure(address, 'invitation');
      res
        .status(404)
        .type('html')
        .send(invitationPage({ error: INVALID_INVITATION }));
      return;
    }
    await ctx.auth.signIn(res, { kind: 'user', userId: user.id });
    res.redirect(
      303,
      user.role === 'viewer'
        ? `/admin/report?installation=${encodeURIComponent(user.installationId)}`
        : `/admin/installations/${encodeURIComponent(user.installationId)}`,
    );
  });

  /** The installation of `:id`, or a 404 page. */
  async function installationFrom(req: Request, res: Response): Promise<InstallationDetails | undefined> {
    const params = idParam.safeParse(req.params);
    const installation = params.success ? await getInstallationDetails(ctx.db, params.data.id) : null;
    if (!installation) notFound(res, 'That installation does not exist.');
    return installation ?? undefined;
  }
  const tabInfo = (i: InstallationDetails) => ({ id: i.id, name: i.name, status: i.status });
  const basePath = (i: InstallationDetails) => `/admin/installations/${encodeURIComponent(i.id)}`;

  r.get('/', access.signedIn, async (req, res) => {
    const identity = identityOf(res);
    const operator = identity.role === 'operator';
    const [all, depths, actions] = await Promise.all([
      listInstallationDetails(ctx.db),
      operator ? queueDepths(ctx.producer) : Promise.resolve([]),
      operator ? recentAdminActions(ctx.db, null, 10) : Promise.resolve([]),
    ]);
    const mode = (side: 'hubspot' | 'salesforce') =>
      ctx.config[side].mode === 'sandbox' ? 'sandbox' : ctx.apps[side] ? 'OAuth app configured' : 'environment token';
    render(res, {
      title: 'Installations',
      section: 'overview',
      notice: noticeOf(req),
      body: overviewBody({
        installations: all.filter((i) => canSee(identity, i.id)),
        depths,
        actions,
        role: identity.role,
        canAddInstallation: operator && ctx.apps.hubspot !== undefined,
        mode: { hubspot: mode('hubspot'), salesforce: mode('salesforce') },
      }),
    });
  });

  r.get('/installations/:id', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const [connections, actions, controls, alert] = await Promise.all([
      connectionStatus(ctx, installation),
      recentAdminActions(ctx.db, installation.id, 10),
      syncControlsView(ctx, installation.id),
      alertTargetView(ctx, installation.id),
    ]);
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

  r.post('/installations/:id/provisioning', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = provisioningForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).type('text/plain').send('mode must be dry-run or provision');
      return;
    }
    const dryRun = parsed.data.mode === 'dry-run';
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
      ctx.log.info({ installationId: installation.id, created: plan.counts.created }, 'installation provisioned');
    }
    render(res, {
      title: dryRun ? 'Provisioning dry run' : 'Provisioning',
      section: 'installation',
      installation: tabInfo(installation),
      body: provisioningBody(plan, installation, identityOf(res).csrfToken),
    });
  });

  r.post('/installations/:id/uninstall', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!uninstallForm.safeParse(req.body).success) {
      res.status(400).type('text/plain').send('Confirm the uninstall');
      return;
    }
    await uninstall(ctx, installation.id);
    res.redirect(303, `${basePath(installation)}?notice=uninstalled`);
  });

  for (const [action, change] of [
    ['pause', pauseInstallationSync],
    ['resume', resumeInstallationSync],
  ] as const) {
    r.post(`/installations/:id/${action}`, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const parsed = directionForm.safeParse(req.body);
      if (!parsed.success || installation.status !== 'active') {
        res
          .status(parsed.success ? 409 : 400)
          .type('text/plain')
          .send(parsed.success ? 'The installation is uninstalled' : 'direction must be to-salesforce or to-hubspot');
        return;
      }
      await change(ctx, installation.id, directionsOf(parsed.data.direction || undefined), identityOf(res).via);
      res.redirect(303, `${basePath(installation)}?notice=${action === 'pause' ? 'sync_paused' : 'sync_resumed'}`);
    });
  }

  r.post('/installations/:id/connections/:side/disconnect', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const side = sideParam.safeParse(req.params.side);
    if (!side.success || installation.status !== 'active') {
      res
        .status(side.success ? 409 : 404)
        .type('text/plain')
        .send(side.success ? 'The installation is uninstalled' : 'No such side: hubspot or salesforce');
      return;
    }
    await disconnectSide(ctx, installation.id, side.data, identityOf(res).via === 'session' ? 'dashboard' : 'api');
    res.redirect(303, `${basePath(installation)}?notice=${side.data}_disconnected`);
  });

  r.post('/installations/:id/sync-now', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = syncNowForm.safeParse(req.body);
    const record = parsed.success ? parsed.data.record : '';
    const result = installation.status === 'active' ? await syncRecordNow(ctx, installation.id, record, identityOf(res).via) : null;
    const notice = result === null || !result.ok ? 'sync_now_refused' : result.value.hold ? 'sync_now_held' : 'sync_now_started';
    res.redirect(303, `${basePath(installation)}/health?q=${encodeURIComponent(record)}&notice=${notice}`);
  });

  r.post('/installations/:id/salesforce-budget', access.manageInstallation, async (req, res) => {
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

  r.get('/installations/:id/settings', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const key = typeof req.query.key === 'string' && isSettingKey(req.query.key) ? req.query.key : SETTING_KEYS[0];
    await settingsPage(req, res, installation, key);
  });

  r.post('/installations/:id/settings/:key', access.manageInstallation, async (req, res) => {
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
        return settingsPage(req, res, installation, key, {
          ...asSent,
          issues: [`(root): not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`],
        });
      }
    } else {
      const read = valueFromFields(key, body);
      if (read.problems.length > 0) return settingsPage(req, res, installation, key, { ...asSent, issues: read.problems });
      value = read.value;
    }
    const previewOnly = field(body, 'intent') === 'preview';
    const result = previewOnly ? await checkSetting(ctx, installation.id, key, value) : await saveSetting(ctx, installation.id, key, value);
    if (!result.ok)
      return settingsPage(req, res, installation, key, { ...asSent, issues: result.error.issues, status: result.error.status });
    if (previewOnly)
      return settingsPage(req, res, installation, key, {
        ...asSent,
        issues: [],
        preview: { preview: result.value.preview, crmCheck: result.value.crmCheck },
      });
    const { restampOffered, fillPairs } = result.value.preview;
    const fill = fillPairs ? `&fill=${encodeURIComponent(pairsText(fillPairs))}#fill` : '';
    res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_saved${restampOffered ? '#restamp' : fill}`);
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

  /** Starts a fill of the existing records from a form (the pairs it names, or every syncing mapping) and goes back to `returnTo`. */
  const fillRoute = (returnTo: string) => async (req: Request, res: Response) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') {
      res.status(409).type('text/plain').send('The installation is uninstalled');
      return;
    }
    const parsed = fillForm.safeParse(req.body);
    const pairs = pairsFrom(parsed.success ? (parsed.data.pairs ?? '') : '');
    const { runId } = await startFieldFill({ db: ctx.db, producer: ctx.producer }, installation.id, pairs);
    const which = pairs ? pairs.map((p) => `${p.hubspotProperty} ↔ ${p.salesforceField}`).join(', ') : 'every syncing mapping';
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'field_fill_started',
      summary: `Filling existing records started for ${which}`,
      details: { runId, ...(pairs ? { pairs } : {}) },
    });
    res.redirect(303, `${basePath(installation)}/${returnTo}`);
  };

  r.post(
    '/installations/:id/settings/fieldMappings/fill',
    access.manageInstallation,
    fillRoute('settings?key=fieldMappings&notice=field_fill_started#fill'),
  );
  r.post('/installations/:id/field-fill', access.manageInstallation, fillRoute('health?notice=field_fill_started'));

  r.post(
    '/installations/:id/settings/channelRules/restamp',
    access.manageInstallation,
    backfillRoute(
      'History re-stamped with the channel rules (attribution backfill)',
      'settings?key=channelRules&notice=backfill_started#restamp',
    ),
  );

  r.post('/installations/:id/settings/:key/reset', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const key = req.params.key;
    if (typeof key !== 'string' || !isSettingKey(key)) return notFound(res, 'No such setting.');
    await resetSetting(ctx, installation.id, key);
    res.redirect(303, `${basePath(installation)}/settings?key=${key}&notice=settings_reset`);
  });

  r.post('/installations/:id/alert', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = alertForm.safeParse(req.body);
    const input = parsed.success ? parsed.data : { url: '', secret: '' };
    const result = await saveAlertTarget(ctx, installation.id, input);
    // A refused form comes back with the URL kept and the secret field empty (never echoed).
    if (!result.ok) return settingsPage(req, res, installation, 'slaPolicy', undefined, { url: input.url, issues: result.error });
    res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_saved`);
  });

  r.post('/installations/:id/alert/remove', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    await removeAlertTarget(ctx, installation.id);
    res.redirect(303, `${basePath(installation)}/settings?key=slaPolicy&notice=alert_removed`);
  });

  r.post('/installations/:id/review-digest/test', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') {
      res.status(409).type('text/plain').send('The installation is uninstalled');
      return;
    }
    await sendTestDigestNow(ctx, installation.id);
    res.redirect(303, `${basePath(installation)}/settings?key=reviewDigest&notice=digest_test_queued#review-digest`);
  });

  r.get('/installations/:id/health', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = healthQuery.safeParse(req.query);
    const q = query.success ? (query.data.q ?? '').trim() : '';
    const [runId, initialRunId, fillRunId] = await Promise.all([
      latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL),
      latestBackfillRunId(ctx.db, installation.id, INITIAL_SYNC),
      latestBackfillRunId(ctx.db, installation.id, FIELD_FILL),
    ]);
    const [search, problems, lastWeek, failed, depths, backfill, initialSync, fieldFill] = await Promise.all([
      q === '' ? Promise.resolve(null) : searchRecordLog(ctx.db, installation.id, q),
      recentProblems(ctx.db, installation.id),
      problemsSince(ctx.db, installation.id, new Date(ctx.now() - HEALTH_WINDOW_MS)),
      listFailedJobs(ctx.producer, { installationId: installation.id, limit: 100 }),
      queueDepths(ctx.producer),
      runId ? backfillProgress(ctx.db, runId) : Promise.resolve(null),
      initialRunId ? initialSyncProgress(ctx.db, initialRunId) : Promise.resolve(null),
      fillRunId ? fieldFillProgress(ctx.db, fillRunId) : Promise.resolve(null),
    ]);
    render(res, {
      title: 'Sync health',
      section: 'health',
      installation: tabInfo(installation),
      notice: noticeOf(req),
      scripts: ['health.js'],
      body: healthBody({
        installation,
        query: q,
        search,
        problems,
        causes: groupFailures(lastWeek),
        failed,
        depths,
        backfill,
        initialSync,
        fieldFill,
        csrfToken: identityOf(res).csrfToken,
      }),
    });
  });

  r.post(
    '/installations/:id/backfill',
    access.manageInstallation,
    backfillRoute('Attribution backfill started', 'health?notice=backfill_started'),
  );

  r.post('/installations/:id/initial-sync', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (installation.status !== 'active') {
      res.status(409).type('text/plain').send('The installation is uninstalled');
      return;
    }
    const { runId } = await startInitialSync({ db: ctx.db, producer: ctx.producer }, installation.id);
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'initial_sync_started',
      summary: 'Initial sync started',
      details: { runId },
    });
    res.redirect(303, `${basePath(installation)}/health?notice=initial_sync_started`);
  });

  const backTo = (installationId: string | undefined, notice: string) =>
    installationId ? `/admin/installations/${encodeURIComponent(installationId)}/health?notice=${notice}` : `/admin?notice=${notice}`;

  // Jobs of every installation: the operator's. The health page posts to the installation's own routes below.
  r.post('/jobs/:queue/:jobId/replay', access.operator, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    const result = await replayJob(ctx.producer, queue, String(req.params.jobId));
    if (result.ok) {
      ctx.log.info({ queue, jobId: result.job.id }, 'failed job replayed by an admin');
      await recordAdminAction(ctx.db, {
        installationId: result.job.installationId,
        action: 'job_replayed',
        summary: `Replayed failed job ${result.job.id} of ${queues[queue].name}`,
      });
    }
    res.redirect(303, backTo(installationId, result.ok ? 'replayed' : 'replay_missing'));
  });

  r.post('/jobs/:queue/replay-failed', access.operator, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    const replayed = await replayAllFailed(ctx.producer, queue, installationId);
    ctx.log.info({ queue, replayed, installationId }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: installationId ?? null,
      action: 'jobs_replayed',
      summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}`,
    });
    res.redirect(303, backTo(installationId, 'replayed_all'));
  });

  r.post('/installations/:id/jobs/:queue/:jobId/replay', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const queue = queueKeyOf(String(req.params.queue));
    if (!queue) return notFound(res, 'No such queue.');
    const result = await replayJob(ctx.producer, queue, String(req.params.jobId), installation.id);
    if (result.ok) {
      ctx.log.info({ queue, jobId: result.job.id, installationId: installation.id }, 'failed job replayed by an admin');
      await recordAdminAction(ctx.db, {
        installationId: installation.id,
        action: 'job_replayed',
        summary: `Replayed failed job ${result.job.id} of ${queues[queue].name}`,
      });
    }
    res.redirect(303, backTo(installation.id, result.ok ? 'replayed' : 'replay_missing'));
  });

  r.post('/installations/:id/jobs/:queue/replay-failed', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const queue = queueKeyOf(String(req.params.queue));
    if (!queue) return notFound(res, 'No such queue.');
    const replayed = await replayAllFailed(ctx.producer, queue, installation.id);
    ctx.log.info({ queue, replayed, installationId: installation.id }, 'failed jobs replayed by an admin');
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'jobs_replayed',
      summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}`,
    });
    res.redirect(303, backTo(installation.id, 'replayed_all'));
  });

  const usersPage = async (
    res: Response,
    installation: InstallationDetails,
    extra: Pick<UsersPageData, 'created' | 'refused'> = {},
    status = 200,
  ) => {
    const people = await peopleOf(ctx, installation.id);
    render(
      res,
      {
        title: 'People',
        section: 'users',
        installation: tabInfo(installation),
        notice: extra.created || extra.refused ? undefined : noticeOf(res.req),
        body: usersBody({ installationId: installation.id, ...people, csrfToken: identityOf(res).csrfToken, ...extra }),
      },
      status,
    );
  };

  r.get('/installations/:id/users', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (installation) await usersPage(res, installation);
  });

  r.post('/installations/:id/invitations', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const parsed = InvitationInput.safeParse(req.body);
    if (!parsed.success) {
      const typed = (req.body as { name?: unknown } | undefined)?.name;
      return usersPage(
        res,
        installation,
        { refused: { issues: parsed.error.issues.map((i) => i.message), name: typeof typed === 'string' ? typed : '' } },
        422,
      );
    }
    const { invitation, url } = await inviteToInstallation(ctx, identityOf(res), installation.id, parsed.data);
    await usersPage(res, installation, { created: { name: invitation.name, url, expiresAt: invitation.expiresAt } });
  });

  r.post('/installations/:id/invitations/:invitationId/cancel', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const cancelled = await cancelInstallationInvitation(ctx, identityOf(res), installation.id, String(req.params.invitationId));
    res.redirect(303, `${basePath(installation)}/users?notice=${cancelled ? 'invitation_cancelled' : 'user_missing'}`);
  });

  r.post('/installations/:id/users/:userId/revoke', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const revoked = await revokeInstallationUser(ctx, identityOf(res), installation.id, String(req.params.userId));
    res.redirect(303, `${basePath(installation)}/users?notice=${revoked ? 'user_revoked' : 'user_missing'}`);
  });

  /** The report's commitments (current period) and goals (current quarter) of an installation. */
  async function agreementOf(installationId: string, canEdit: boolean): Promise<AgreementData> {
    const now = new Date(ctx.now());
    const commitments = await marketingCommitmentsOf(ctx.db, installationId);
    return {
      installationId,
      commitments: await commitmentsReport(ctx.db, { installationId, commitments, now }),
      goals: await goalsReport(ctx.db, {
        installationId,
        goals: await sharedGoalsOf(ctx.db, installationId),
        quarter: periodContaining('quarter', now).id,
        now,
        revenue: await revenuePolicyOf(ctx.db, installationId),
      }),
      canEdit,
    };
  }

  r.get('/report', reportAccess, async (req, res) => {
    const identity = identityOf(res);
    const installations = (await listInstallationDetails(ctx.db)).filter((i) => canSee(identity, i.id));
    const parsed = ReportQuerySchema.safeParse(req.query);
    const raw = parsed.success ? parsed.data : {};
    const period = periodOf(parsed.success ? parsed.data : {}, ctx.now());
    const installation =
      installations.find((i) => i.id === ('installation' in raw ? raw.installation : undefined)) ?? installations[0] ?? null;
    const problems = [
      ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
      ...(period.ok ? [] : period.issues),
    ];
    const fromText = period.ok ? period.period.fromText : typeof req.query.from === 'string' ? req.query.from : '';
    const toText = period.ok ? period.period.toText : typeof req.query.to === 'string' ? req.query.to : '';
    const report =
      installation && period.ok && problems.length === 0
        ? await funnelReport(ctx.db, {
            installationId: installation.id,
            from: period.period.from,
            to: period.period.to,
            now: new Date(ctx.now()),
            revenue: await revenuePolicyOf(ctx.db, installation.id),
          })
        : null;
    render(
      res,
      {
        title: 'Funnel report',
        section: 'report',
        installation: installation && req.query.installation ? tabInfo(installation) : undefined,
        scripts: ['vendor/chart.umd.js', 'report.js'],
        body: reportBody({
          installations,
          installation,
          from: fromText,
          to: toText,
          report,
          problems,
          agreement: installation && report ? await agreementOf(installation.id, canManage(identity, installation.id)) : null,
        }),
      },
      problems.length > 0 ? 400 : 200,
    );
  });

  // The sales side of the SLA: compliance per grouping, each broken count a link to those leads (viewers may read).
  r.get('/installations/:id/sla', access.viewInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const wantsList = req.query.rule !== undefined;
    const listQuery = wantsList ? ViolationsQuerySchema.safeParse(req.query) : null;
    const pageQuery = wantsList ? null : ComplianceQuerySchema.safeParse(req.query);
    const error = listQuery?.error ?? pageQuery?.error;
    const problems = error ? error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`) : [];
    const query = listQuery?.data ?? pageQuery?.data ?? ComplianceQuerySchema.parse({});
    const compliance = await complianceView(ctx, installation, query);
    const list = listQuery?.data ? await violationsView(ctx, installation, listQuery.data) : null;
    render(
      res,
      {
        title: 'Sales SLA compliance',
        section: 'report',
        installation: tabInfo(installation),
        body: slaComplianceBody({
          basePath: basePath(installation),
          from: compliance.from,
          to: compliance.to,
          groupBy: query.groupBy,
          sales: compliance.sales,
          problems,
          violations: list === null || !listQuery?.data ? null : { rule: listQuery.data.rule, group: list.group, rows: list.violations },
        }),
      },
      problems.length > 0 ? 400 : 200,
    );
  });

  // The pipeline review: like the report, viewers of the installation read it; the period defaults to the current quarter.
  r.get('/review', reportAccess, async (req, res) => {
    const identity = identityOf(res);
    const installations = (await listInstallationDetails(ctx.db)).filter((i) => canSee(identity, i.id));
    const parsed = ReviewPageQuery.safeParse(req.query);
    const now = new Date(ctx.now());
    const wanted = parsed.success ? parsed.data : {};
    const periodText = wanted.period ?? (typeof req.query.period === 'string' ? req.query.period : periodContaining('quarter', now).id);
    const period = parsed.success ? parsePeriod(periodText) : null;
    const installation = installations.find((i) => i.id === wanted.installation) ?? installations[0] ?? null;
    const problems = parsed.success
      ? period === null
        ? [`Period: ${periodText} is not a month YYYY-MM or a quarter YYYY-Qn`]
        : []
      : parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
    const review = installation && period && problems.length === 0 ? await reviewOf(ctx, installation.id, period, now) : null;
    render(
      res,
      {
        title: 'Pipeline review',
        section: 'review',
        installation: installation && req.query.installation ? tabInfo(installation) : undefined,
        scripts: ['vendor/chart.umd.js', 'review.js'],
        body: reviewBody({
          installations,
          installation,
          periodText,
          review,
          problems,
          canManage: installation !== null && canManage(identity, installation.id),
        }),
      },
      problems.length > 0 ? 400 : 200,
    );
  });

  r.mount('/', access.signedIn, (_req, res) => notFound(res, 'There is no such page.'));
  return router;
}

function layoutNotFound(message: string): Html {
  return html`<section class="card"><p class="empty">${message}</p><p><a href="/admin">Back to the installations</a></p></section>`;
}

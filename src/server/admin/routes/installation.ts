/** The installations overview, an installation's own page, and what its forms change. */
import { z } from 'zod';
import { recentAdminActions } from '../../../store/admin-sessions.ts';
import { listInstallationDetails } from '../../../store/installation-admin.ts';
import { access, canSee } from '../access.ts';
import { alertTargetView } from '../alert-target.ts';
import { identityOf } from '../auth.ts';
import { connectionStatus, disconnectSide, uninstall } from '../installations.ts';
import { queueDepths } from '../jobs.ts';
import { installationBody, provisioningBody } from '../pages/installation.ts';
import { overviewBody } from '../pages/overview.ts';
import { outboundRulesFor } from '../provisioning.ts';
import { salesforceFeedView } from '../change-feed.ts';
import { provisionAsAdmin } from '../runs.ts';
import {
  directionsOf,
  pauseInstallationSync,
  resumeInstallationSync,
  setSalesforceBudget,
  syncControlsView,
  syncRecordNow,
} from '../sync-controls.ts';
import { basePath, noticeOf, render, tabInfo, type Pages } from './pages.ts';

const provisioningForm = z.object({ mode: z.enum(['dry-run', 'provision']) });
const uninstallForm = z.object({ confirm: z.literal('yes') });
/** Pause and resume: one direction, or both when the field is empty or absent. */
const directionForm = z.object({ direction: z.enum(['to-salesforce', 'to-hubspot', '']).optional() });
/** The budget form: a number with its unit, or `none` to remove the budget. */
const budgetForm = z.object({ kind: z.enum(['calls', 'percent', 'none']), value: z.string().max(20).optional() });
const syncNowForm = z.object({ record: z.string().trim().max(200) });
const sideParam = z.enum(['hubspot', 'salesforce']);

/** `/`: the installations the caller may see (the operator also sees the queues and recent actions). */
export function overviewRoutes({ ctx, r }: Pages): void {
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
}

/** `/installations/:id` with its provisioning and uninstall. */
export function installationRoutes({ ctx, r, withInstallation }: Pages): void {
  r.get(
    '/installations/:id',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
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
          feed: await salesforceFeedView(ctx.db, installation.id),
        }),
      });
    }),
  );

  r.post(
    '/installations/:id/provisioning',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const parsed = provisioningForm.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).type('text/plain').send('mode must be dry-run or provision');
        return;
      }
      const dryRun = parsed.data.mode === 'dry-run';
      const plan = await provisionAsAdmin(ctx, installation, dryRun);
      render(res, {
        title: dryRun ? 'Provisioning dry run' : 'Provisioning',
        section: 'installation',
        installation: tabInfo(installation),
        body: provisioningBody(plan, installation, identityOf(res).csrfToken),
      });
    }),
  );

  r.post(
    '/installations/:id/uninstall',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      if (!uninstallForm.safeParse(req.body).success) {
        res.status(400).type('text/plain').send('Confirm the uninstall');
        return;
      }
      await uninstall(ctx, installation.id);
      res.redirect(303, `${basePath(installation)}?notice=uninstalled`);
    }),
  );
}

/** The operator controls of an installation: pause, resume, disconnect a side, sync a record now, the Salesforce budget. */
export function syncControlRoutes({ ctx, r, withInstallation }: Pages): void {
  for (const [action, change] of [
    ['pause', pauseInstallationSync],
    ['resume', resumeInstallationSync],
  ] as const) {
    r.post(
      `/installations/:id/${action}`,
      access.manageInstallation,
      withInstallation(async (req, res, installation) => {
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
      }),
    );
  }

  r.post(
    '/installations/:id/connections/:side/disconnect',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
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
    }),
  );

  r.post(
    '/installations/:id/sync-now',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const parsed = syncNowForm.safeParse(req.body);
      const record = parsed.success ? parsed.data.record : '';
      const result = installation.status === 'active' ? await syncRecordNow(ctx, installation.id, record, identityOf(res).via) : null;
      const notice = result === null || !result.ok ? 'sync_now_refused' : result.value.hold ? 'sync_now_held' : 'sync_now_started';
      res.redirect(303, `${basePath(installation)}/health?q=${encodeURIComponent(record)}&notice=${notice}`);
    }),
  );

  r.post(
    '/installations/:id/salesforce-budget',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const parsed = budgetForm.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).type('text/plain').send('kind must be calls, percent or none');
        return;
      }
      const { kind, value } = parsed.data;
      const result = await setSalesforceBudget(
        ctx,
        installation.id,
        kind === 'none' ? null : { [kind]: Number(value) },
        identityOf(res).via,
      );
      res.redirect(303, `${basePath(installation)}?notice=${result.ok ? 'budget_saved' : 'budget_refused'}`);
    }),
  );
}

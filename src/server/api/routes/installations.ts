/** The caller, the installations they may see, one installation's details, connections, provisioning and uninstall. */
import { z } from 'zod';
import { recentAdminActions } from '../../../store/admin-sessions.ts';
import { listInstallationDetails, type InstallationDetails } from '../../../store/installation-admin.ts';
import { sharedEmails } from '../../../store/record-links.ts';
import { access, canSee } from '../../admin/access.ts';
import { alertTargetView } from '../../admin/alert-target.ts';
import { identityOf } from '../../admin/auth.ts';
import { connectionStatus, uninstall } from '../../admin/installations.ts';
import { outboundRulesFor } from '../../admin/provisioning.ts';
import { salesforceFeedJson, salesforceFeedView } from '../../admin/change-feed.ts';
import { provisionAsAdmin } from '../../admin/runs.ts';
import { syncControlsView } from '../../admin/sync-controls.ts';
import { parseInput, sendError } from '../errors.ts';
import { controlsJson, stillInstalled, type ApiRoutes } from './kit.ts';

const uninstallBody = z.object({ confirm: z.literal(true, 'send {"confirm": true} to uninstall') }).strict();

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

/** `/me`, signing out everywhere, and the installations the caller may see. */
export function callerRoutes({ ctx, r }: ApiRoutes): void {
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
}

/** `/installations/:id` and what reads it: its shared emails, its connections, its activity. */
export function installationRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
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

  r.get('/installations/:id/salesforce-feed', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(salesforceFeedJson(await salesforceFeedView(ctx.db, installation.id)));
  });

  r.get('/installations/:id/activity', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json({ actions: await recentAdminActions(ctx.db, installation.id, 50) });
  });
}

/** Provisioning (or its dry run) and uninstalling an installation. */
export function provisioningRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  for (const [path, dryRun] of [
    ['/installations/:id/provisioning/dry-run', true],
    ['/installations/:id/provisioning', false],
  ] as const) {
    r.post(path, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      if (!stillInstalled(res, installation, 'The installation is uninstalled: connect HubSpot again to reinstall')) return;
      res.json(await provisionAsAdmin(ctx, installation, dryRun));
    });
  }

  r.post('/installations/:id/uninstall', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(uninstallBody, req.body, res, 'body')) return;
    if (installation.status !== 'active') return sendError(res, 409, 'uninstalled', 'The installation is already uninstalled');
    res.json(await uninstall(ctx, installation.id));
  });
}

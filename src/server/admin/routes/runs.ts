/** Starting the background runs from dashboard forms: the attribution backfill, a field fill, the initial sync. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { access } from '../access.ts';
import { startBackfillAsAdmin, startFieldFillAsAdmin, startInitialSyncAsAdmin } from '../runs.ts';
import { pairsFrom } from '../settings-forms.ts';
import { basePath, type Pages } from './pages.ts';

/** The fill button's pairs (`property:Field,…`; absent: every syncing mapping). */
const fillForm = z.object({ pairs: z.string().max(20_000).optional() });

/** The run-starting routes; each goes back to the page under the installation that posted it. */
export function runRoutes({ ctx, r, withActiveInstallation }: Pages): void {
  /** Starts the attribution backfill and goes back to `returnTo`. */
  const backfillRoute = (summary: string, returnTo: string): RequestHandler =>
    withActiveInstallation(async (_req, res, installation) => {
      await startBackfillAsAdmin(ctx, installation.id, summary);
      res.redirect(303, `${basePath(installation)}/${returnTo}`);
    });

  /** Starts a fill of the existing records (the pairs the form names, or every syncing mapping) and goes back to `returnTo`. */
  const fillRoute = (returnTo: string): RequestHandler =>
    withActiveInstallation(async (req, res, installation) => {
      const parsed = fillForm.safeParse(req.body);
      const pairs = pairsFrom(parsed.success ? (parsed.data.pairs ?? '') : '');
      await startFieldFillAsAdmin(ctx, installation.id, pairs);
      res.redirect(303, `${basePath(installation)}/${returnTo}`);
    });

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
  r.post(
    '/installations/:id/backfill',
    access.manageInstallation,
    backfillRoute('Attribution backfill started', 'health?notice=backfill_started'),
  );

  r.post(
    '/installations/:id/initial-sync',
    access.manageInstallation,
    withActiveInstallation(async (_req, res, installation) => {
      await startInitialSyncAsAdmin(ctx, installation.id);
      res.redirect(303, `${basePath(installation)}/health?notice=initial_sync_started`);
    }),
  );
}

/** An installation's sync health page, and replaying failed jobs (the operator's for every installation, an admin's for their own). */
import { z } from 'zod';
import { latestBackfillRunId } from '../../../store/installation-admin.ts';
import { problemsSince, recentProblems, searchRecordLog } from '../../../store/sync-search.ts';
import { groupFailures } from '../../../domain/sync-failures.ts';
import { feedStatus } from '../../../domain/change-feed.ts';
import { hubspotChangeFeedOf } from '../../../runtime/hubspot-journal-feed.ts';
import { readJournalPosition } from '../../../store/journal-offsets.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress } from '../../../sync/attribution-backfill.ts';
import { FIELD_FILL, fieldFillProgress } from '../../../sync/field-fill.ts';
import { INITIAL_SYNC, initialSyncProgress } from '../../../sync/initial-sync.ts';
import { access } from '../access.ts';
import { identityOf } from '../auth.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailedAsAdmin, replayJobAsAdmin } from '../jobs.ts';
import { healthBody } from '../pages/health.ts';
import { noticeOf, notFound, render, tabInfo, type Pages } from './pages.ts';

/** How far back the health page groups problems by cause. */
const HEALTH_WINDOW_MS = 7 * 24 * 3600 * 1000;
const healthQuery = z.object({ q: z.string().max(320).optional(), notice: z.string().max(40).optional() });
const jobForm = z.object({ installation: z.string().max(100).optional() });

/** `/installations/:id/health`: record search, recent problems by cause, failed jobs, queues and the latest runs. */
export function healthRoutes({ ctx, r, withInstallation }: Pages): void {
  r.get(
    '/installations/:id/health',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const query = healthQuery.safeParse(req.query);
      const q = query.success ? (query.data.q ?? '').trim() : '';
      const [runId, initialRunId, fillRunId] = await Promise.all([
        latestBackfillRunId(ctx.db, installation.id, ATTRIBUTION_BACKFILL),
        latestBackfillRunId(ctx.db, installation.id, INITIAL_SYNC),
        latestBackfillRunId(ctx.db, installation.id, FIELD_FILL),
      ]);
      const [search, problems, lastWeek, failed, depths, backfill, initialSync, fieldFill, feedMode, feedRecord] = await Promise.all([
        q === '' ? Promise.resolve(null) : searchRecordLog(ctx.db, installation.id, q),
        recentProblems(ctx.db, installation.id),
        problemsSince(ctx.db, installation.id, new Date(ctx.now() - HEALTH_WINDOW_MS)),
        listFailedJobs(ctx.producer, { installationId: installation.id, limit: 100 }),
        queueDepths(ctx.producer),
        runId ? backfillProgress(ctx.db, runId) : Promise.resolve(null),
        initialRunId ? initialSyncProgress(ctx.db, initialRunId) : Promise.resolve(null),
        fillRunId ? fieldFillProgress(ctx.db, fillRunId) : Promise.resolve(null),
        hubspotChangeFeedOf(ctx.db, installation.id),
        readJournalPosition(ctx.db, installation.id),
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
          hubspotFeed: feedStatus(feedMode, feedRecord, new Date(ctx.now())),
          csrfToken: identityOf(res).csrfToken,
        }),
      });
    }),
  );
}

/** Where a replay form goes back to: the installation's health page, or the overview. */
const backTo = (installationId: string | undefined, notice: string) =>
  installationId ? `/admin/installations/${encodeURIComponent(installationId)}/health?notice=${notice}` : `/admin?notice=${notice}`;

/** The replay buttons: the operator's across installations (`/jobs/…`), an installation's own (`/installations/:id/jobs/…`). */
export function jobRoutes({ ctx, r, withInstallation }: Pages): void {
  r.post('/jobs/:queue/:jobId/replay', access.operator, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    const result = await replayJobAsAdmin(ctx, queue, String(req.params.jobId));
    res.redirect(303, backTo(installationId, result.ok ? 'replayed' : 'replay_missing'));
  });

  r.post('/jobs/:queue/replay-failed', access.operator, async (req, res) => {
    const queue = queueKeyOf(String(req.params.queue));
    const body = jobForm.safeParse(req.body);
    const installationId = body.success ? body.data.installation : undefined;
    if (!queue) return notFound(res, 'No such queue.');
    await replayAllFailedAsAdmin(ctx, queue, installationId);
    res.redirect(303, backTo(installationId, 'replayed_all'));
  });

  r.post(
    '/installations/:id/jobs/:queue/:jobId/replay',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const queue = queueKeyOf(String(req.params.queue));
      if (!queue) return notFound(res, 'No such queue.');
      const result = await replayJobAsAdmin(ctx, queue, String(req.params.jobId), installation.id);
      res.redirect(303, backTo(installation.id, result.ok ? 'replayed' : 'replay_missing'));
    }),
  );

  r.post(
    '/installations/:id/jobs/:queue/replay-failed',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const queue = queueKeyOf(String(req.params.queue));
      if (!queue) return notFound(res, 'No such queue.');
      await replayAllFailedAsAdmin(ctx, queue, installation.id);
      res.redirect(303, backTo(installation.id, 'replayed_all'));
    }),
  );
}

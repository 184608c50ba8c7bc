/** The background runs of an installation: the attribution backfill, a field fill, the initial sync, and any run's progress. */
import { z } from 'zod';
import { MappingPairSchema } from '../../../domain/field-values.ts';
import { loadBackfillRun } from '../../../store/backfill-runs.ts';
import { latestBackfillRunId } from '../../../store/installation-admin.ts';
import { ATTRIBUTION_BACKFILL, backfillProgress } from '../../../sync/attribution-backfill.ts';
import { FIELD_FILL, fieldFillProgress } from '../../../sync/field-fill.ts';
import { anyRunProgress, INITIAL_SYNC, initialSyncProgress } from '../../../sync/initial-sync.ts';
import { access, canManage } from '../../admin/access.ts';
import { identityOf } from '../../admin/auth.ts';
import { startBackfillAsAdmin, startFieldFillAsAdmin, startInitialSyncAsAdmin } from '../../admin/runs.ts';
import { parseInput, sendError } from '../errors.ts';
import { stillInstalled, type ApiRoutes } from './kit.ts';

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

/** The latest run of each kind: `GET /installations/:id/{backfill,field-fill,initial-sync}`, and any run by id. */
export function runProgressRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  for (const [path, kind, progress] of [
    ['/installations/:id/backfill', ATTRIBUTION_BACKFILL, backfillProgress],
    ['/installations/:id/field-fill', FIELD_FILL, fieldFillProgress],
    ['/installations/:id/initial-sync', INITIAL_SYNC, initialSyncProgress],
  ] as const) {
    r.get(path, access.manageInstallation, async (req, res) => {
      const installation = await installationFrom(req, res);
      if (!installation) return;
      const runId = await latestBackfillRunId(ctx.db, installation.id, kind);
      res.json({ run: runId ? await progress(ctx.db, runId) : null });
    });
  }

  // A run belongs to an installation: a caller who may not manage it is told it does not exist.
  r.get('/backfill/:runId', access.signedIn, async (req, res) => {
    const params = parseInput(runParam, req.params, res, 'path');
    if (!params) return;
    const run = await loadBackfillRun(ctx.db, params.runId);
    const progress = run && canManage(identityOf(res), run.installation_id) ? await anyRunProgress(ctx.db, params.runId) : null;
    if (!progress) return sendError(res, 404, 'not_found', `No backfill run ${params.runId}`);
    res.json(progress);
  });
}

/** `POST /installations/:id/{backfill,field-fill,initial-sync}`: 202 with the run's progress URL. */
export function runStartRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.post('/installations/:id/backfill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation || !stillInstalled(res, installation)) return;
    const runId = await startBackfillAsAdmin(ctx, installation.id, 'Attribution backfill started');
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });

  r.post('/installations/:id/field-fill', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(fieldFillBody, req.body ?? {}, res, 'body');
    if (!body || !stillInstalled(res, installation)) return;
    const runId = await startFieldFillAsAdmin(ctx, installation.id, body.pairs);
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}`, run: await fieldFillProgress(ctx.db, runId) });
  });

  r.post('/installations/:id/initial-sync', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!parseInput(initialSyncBody, req.body ?? {}, res, 'body') || !stillInstalled(res, installation)) return;
    const runId = await startInitialSyncAsAdmin(ctx, installation.id);
    res.status(202).json({ runId, progressUrl: `/api/backfill/${runId}` });
  });
}

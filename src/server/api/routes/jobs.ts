/** Queues and failed jobs: the operator's across installations (`/jobs/…`), an installation's own (`/installations/:id/jobs/…`). */
import type { Response } from 'express';
import { z } from 'zod';
import { queueKeys, type QueueKey } from '../../../queue/catalog.ts';
import { recordAdminAction } from '../../../store/admin-sessions.ts';
import { access } from '../../admin/access.ts';
import { listFailedJobs, queueDepths, queueKeyOf, replayAllFailedAsAdmin, replayJobAsAdmin } from '../../admin/jobs.ts';
import { parseInput, sendError } from '../errors.ts';
import { idParam, type ApiRoutes } from './kit.ts';

const queueParam = z.object({ queue: z.string().min(1).max(100) });
const jobParams = queueParam.extend({ jobId: z.string().min(1).max(500) });
const failedQuery = z
  .object({
    queue: z.string().max(100).optional(),
    installation: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
const replayAllBody = z.object({ installationId: z.string().min(1).max(100).optional() }).strict();
const scopedJobParams = idParam.extend(jobParams.shape);
const scopedQueueParams = idParam.extend(queueParam.shape);
const scopedFailedQuery = failedQuery.omit({ installation: true });

/** The queue named by a catalog key or BullMQ name, or a 404 listing the queues. */
function queueNamed(res: Response, name: string): QueueKey | undefined {
  const queue = queueKeyOf(name);
  if (!queue) sendError(res, 404, 'not_found', `No queue "${name}": one of ${queueKeys.join(', ')}`);
  return queue;
}

/** Re-sealing the stored grants, queue depths, and the operator's failed jobs and replays. */
export function operatorRoutes({ ctx, r }: ApiRoutes): void {
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
    const queue = query.queue === undefined ? undefined : queueNamed(res, query.queue);
    if (query.queue !== undefined && !queue) return;
    res.json({ jobs: await listFailedJobs(ctx.producer, { queue, installationId: query.installation, limit: query.limit }) });
  });

  r.post('/jobs/:queue/:jobId/replay', access.operator, async (req, res) => {
    const params = parseInput(jobParams, req.params, res, 'path');
    const queue = params && queueNamed(res, params.queue);
    if (!params || !queue) return;
    const result = await replayJobAsAdmin(ctx, queue, params.jobId);
    if (!result.ok) return sendError(res, result.status, result.status === 404 ? 'not_found' : 'not_failed', result.message);
    res.json({ replayed: 1, job: result.job });
  });

  r.post('/jobs/:queue/replay-failed', access.operator, async (req, res) => {
    const params = parseInput(queueParam, req.params, res, 'path');
    if (!params) return;
    const body = parseInput(replayAllBody, req.body ?? {}, res, 'body');
    const queue = body && queueNamed(res, params.queue);
    if (!body || !queue) return;
    res.json({ replayed: await replayAllFailedAsAdmin(ctx, queue, body.installationId) });
  });
}

/** An installation's failed jobs and their replays. */
export function installationJobRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.get('/installations/:id/jobs/failed', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = parseInput(scopedFailedQuery, req.query, res, 'query');
    if (!query) return;
    const queue = query.queue === undefined ? undefined : queueNamed(res, query.queue);
    if (query.queue !== undefined && !queue) return;
    res.json({ jobs: await listFailedJobs(ctx.producer, { queue, installationId: installation.id, limit: query.limit }) });
  });

  r.post('/installations/:id/jobs/:queue/:jobId/replay', access.manageInstallation, async (req, res) => {
    const params = parseInput(scopedJobParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    const queue = installation && queueNamed(res, params.queue);
    if (!installation || !queue) return;
    const result = await replayJobAsAdmin(ctx, queue, params.jobId, installation.id);
    if (!result.ok) return sendError(res, result.status, result.status === 404 ? 'not_found' : 'not_failed', result.message);
    res.json({ replayed: 1, job: result.job });
  });

  r.post('/installations/:id/jobs/:queue/replay-failed', access.manageInstallation, async (req, res) => {
    const params = parseInput(scopedQueueParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    const queue = installation && queueNamed(res, params.queue);
    if (!installation || !queue) return;
    res.json({ replayed: await replayAllFailedAsAdmin(ctx, queue, installation.id) });
  });
}

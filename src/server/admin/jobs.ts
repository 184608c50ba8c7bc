/**
 * Jobs as the admin sees them: queue depths, failed jobs with their error, replay of one job or of
 * every failed job of a queue (BullMQ `job.retry()` with the attempt counter reset, so a replayed
 * job gets its full retry budget again), and removal of an installation's jobs on uninstall.
 */
import type { Job } from 'bullmq';
import { queueKeys, queues, type QueueKey } from '../../queue/catalog.ts';
import type { Producer } from '../../queue/producer.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import type { AdminContext } from './context.ts';

export interface QueueDepth {
  key: QueueKey;
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export interface FailedJob {
  queue: QueueKey;
  queueName: string;
  id: string;
  installationId: string | null;
  /** The last error, as the worker recorded it. */
  error: string;
  attemptsMade: number;
  attempts: number;
  failedAt: Date | null;
  createdAt: Date;
}

/** Resolves a queue by catalog key or BullMQ name (`syncToSalesforce` or `sync-to-salesforce`). */
export function queueKeyOf(name: string): QueueKey | undefined {
  return queueKeys.find((key) => key === name || queues[key].name === name);
}

const installationOf = (job: Job): string | null => {
  const data: unknown = job.data;
  return typeof data === 'object' && data !== null && 'installationId' in data && typeof data.installationId === 'string'
    ? data.installationId
    : null;
};

/** Jobs per state for every catalog queue. */
export async function queueDepths(producer: Producer): Promise<QueueDepth[]> {
  return Promise.all(
    queueKeys.map(async (key) => {
      const counts = await producer.queue(key).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
      return {
        key,
        name: queues[key].name,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
      };
    }),
  );
}

function toFailedJob(key: QueueKey, job: Job): FailedJob {
  return {
    queue: key,
    queueName: queues[key].name,
    id: job.id ?? '',
    installationId: installationOf(job),
    error: job.failedReason || job.stacktrace?.at(-1)?.split('\n')[0] || 'failed without an error message',
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
    createdAt: new Date(job.timestamp),
  };
}

/** The newest failed jobs (of one queue and/or installation), newest first. */
export async function listFailedJobs(
  producer: Producer,
  filter: { queue?: QueueKey | undefined; installationId?: string | undefined; limit?: number | undefined } = {},
): Promise<FailedJob[]> {
  const limit = filter.limit ?? 100;
  const keys = filter.queue ? [filter.queue] : queueKeys;
  const found: FailedJob[] = [];
  for (const key of keys) {
    // Read past other installations' jobs, up to a bound, so a filtered list still fills.
    for (let start = 0; start < 5_000 && found.length < limit * keys.length; start += 200) {
      const jobs = await producer.queue(key).getJobs(['failed'], start, start + 199, false);
      if (jobs.length === 0) break;
      for (const job of jobs) {
        if (filter.installationId && installationOf(job) !== filter.installationId) continue;
        found.push(toFailedJob(key, job));
      }
      if (jobs.length < 200) break;
    }
  }
  return found.sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0)).slice(0, limit);
}

export type ReplayResult =
  { ok: true; job: { queue: QueueKey; id: string; installationId: string | null } } | { ok: false; status: 404 | 409; message: string };

/** Replays one failed job (of one installation when given: another installation's job is not found). */
async function replayJob(producer: Producer, key: QueueKey, jobId: string, installationId?: string): Promise<ReplayResult> {
  const job = await producer.queue(key).getJob(jobId);
  if (!job || (installationId !== undefined && installationOf(job) !== installationId))
    return { ok: false, status: 404, message: `No job ${jobId} in queue ${queues[key].name}` };
  const state = await job.getState();
  if (state !== 'failed')
    return { ok: false, status: 409, message: `Job ${jobId} is ${state}, not failed: only failed jobs can be replayed` };
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return { ok: true, job: { queue: key, id: jobId, installationId: installationOf(job) } };
}

/** Replays every failed job of a queue (of one installation when given), each once; returns how many. */
async function replayAllFailed(producer: Producer, key: QueueKey, installationId?: string): Promise<number> {
  const queue = producer.queue(key);
  // The list is taken first: a replayed job that fails again meanwhile is not replayed twice.
  const targets: Job[] = [];
  for (let start = 0; ; start += 500) {
    const jobs = await queue.getJobs(['failed'], start, start + 499, true);
    targets.push(...jobs.filter((job) => !installationId || installationOf(job) === installationId));
    if (jobs.length < 500) break;
  }
  let replayed = 0;
  for (const job of targets) {
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      replayed += 1;
    } catch {
      // Replayed or removed by someone else since the list was read.
    }
  }
  return replayed;
}

/**
 * Removes every waiting, delayed and failed job of an installation, and the job schedulers that
 * would make more (active jobs finish and find it uninstalled).
 */
export async function removeInstallationJobs(producer: Producer, installationId: string): Promise<number> {
  let removed = 0;
  for (const key of queueKeys) {
    const queue = producer.queue(key);
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const data: unknown = scheduler.template?.data;
      if (typeof data === 'object' && data !== null && 'installationId' in data && data.installationId === installationId) {
        await queue.removeJobScheduler(scheduler.key);
      }
    }
    for (const state of ['waiting', 'prioritized', 'delayed', 'failed'] as const) {
      // Removed jobs leave the list, so each page starts after the ones kept.
      let kept = 0;
      for (;;) {
        const jobs = await queue.getJobs([state], kept, kept + 499, true);
        if (jobs.length === 0) break;
        for (const job of jobs) {
          if (installationOf(job) === installationId) {
            await job.remove().catch(() => undefined);
            removed += 1;
          } else {
            kept += 1;
          }
        }
        if (jobs.length < 500) break;
      }
    }
  }
  return removed;
}

/** Where an admin's replay is logged and recorded. */
type ReplayContext = Pick<AdminContext, 'producer' | 'db' | 'log'>;

/** An admin replays one failed job (of `installationId` when given); a replay that happened is logged and recorded. */
export async function replayJobAsAdmin(ctx: ReplayContext, queue: QueueKey, jobId: string, installationId?: string): Promise<ReplayResult> {
  const result = await replayJob(ctx.producer, queue, jobId, installationId);
  if (!result.ok) return result;
  ctx.log.info({ queue, jobId, ...(installationId === undefined ? {} : { installationId }) }, 'failed job replayed by an admin');
  await recordAdminAction(ctx.db, {
    installationId: installationId ?? result.job.installationId,
    action: 'job_replayed',
    summary: `Replayed failed job ${jobId} of ${queues[queue].name}`,
  });
  return result;
}

/** An admin replays every failed job of a queue (of `installationId` when given), logged and recorded; returns how many. */
export async function replayAllFailedAsAdmin(ctx: ReplayContext, queue: QueueKey, installationId: string | undefined): Promise<number> {
  const replayed = await replayAllFailed(ctx.producer, queue, installationId);
  ctx.log.info({ queue, replayed, installationId }, 'failed jobs replayed by an admin');
  await recordAdminAction(ctx.db, {
    installationId: installationId ?? null,
    action: 'jobs_replayed',
    summary: `Replayed ${replayed} failed job(s) of ${queues[queue].name}`,
  });
  return replayed;
}

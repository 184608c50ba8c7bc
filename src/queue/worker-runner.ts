/**
 * Runs the processors for catalog queues. Each job's payload is parsed with the catalog schema
 * first: one that no longer parses fails as unrecoverable with a clear log line, never retried.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisConnection } from './redis.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { queues, type JobPayload, type QueueKey } from './catalog.ts';

export type Processor<K extends QueueKey> = (payload: JobPayload<K>, job: Job, token?: string) => Promise<void>;
/** One processor per catalog queue: a queue left without one fails to compile where the pool is assembled. */
export type Processors = { [K in QueueKey]: Processor<K> };
/** The processors of some queues: one worker module's share. */
export type ProcessorsOf<K extends QueueKey> = Pick<Processors, K>;

export interface WorkerPool {
  /** Lets active jobs finish for up to `graceMs`, then closes by force (their locks expire and they run again). */
  close(graceMs?: number): Promise<void>;
  workers: Worker[];
}

/** Starts one BullMQ worker per queue that has a processor. */
export function startWorkers(
  processors: Partial<Processors>,
  deps: { connection: RedisConnection; prefix: string; log: Logger; metrics: Metrics; concurrencyOverride?: number },
): WorkerPool {
  const workers: Worker[] = [];
  for (const key of Object.keys(processors) as QueueKey[]) {
    const processor = processors[key] as Processor<QueueKey> | undefined;
    if (!processor) continue;
    const definition = queues[key];
    const worker = new Worker(
      definition.name,
      async (job: Job, token?: string) => {
        const started = process.hrtime.bigint();
        let outcome = 'completed';
        try {
          const parsed = definition.schema.safeParse(job.data);
          if (!parsed.success) {
            outcome = 'invalid';
            deps.log.error(
              { queue: definition.name, jobId: job.id, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
              'job payload does not match the catalog schema; not retried',
            );
            throw new UnrecoverableError(`payload does not match ${definition.name} schema v${String((job.data as { v?: unknown }).v)}`);
          }
          await processor(parsed.data, job, token);
        } catch (error) {
          if (outcome === 'completed') outcome = error instanceof DelayedError ? 'delayed' : 'failed';
          throw error;
        } finally {
          deps.metrics.jobDuration.observe({ queue: definition.name, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      },
      { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrencyOverride ?? definition.concurrency },
    );
    worker.on('failed', (job, error) => {
      deps.log.warn({ queue: definition.name, jobId: job?.id, attempt: job?.attemptsMade, error: error.message }, 'job failed');
    });
    worker.on('error', (error) => deps.log.error({ queue: definition.name, error: error.message }, 'worker error'));
    workers.push(worker);
  }
  return {
    workers,
    async close(graceMs = 10_000) {
      const graceful = Promise.all(workers.map((worker) => worker.close())).then(() => true);
      const finished = await Promise.race([graceful, delay(graceMs).then(() => false)]);
      if (finished) return;
      deps.log.warn({ graceMs }, 'workers did not finish in time (is Redis reachable?): closing by force');
      await Promise.race([Promise.all(workers.map((worker) => worker.close(true))), delay(2_000)]);
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

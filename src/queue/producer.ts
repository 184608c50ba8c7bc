/** Typed producers: every payload is checked against the catalog before it reaches Redis. */
import { Queue } from 'bullmq';
import type { RedisConnection } from './redis.ts';
import { queues, type JobPayload, type QueueKey } from './catalog.ts';
import { intakePriority } from './fair-share.ts';

export interface NewJob<K extends QueueKey> {
  /** Deterministic id: the same event enqueued twice is one job. Must not contain ':'. */
  jobId: string;
  payload: JobPayload<K>;
  delayMs?: number;
  /** BullMQ priority: 0 (default) before any prioritized job, then rising numbers (src/queue/fair-share.ts). */
  priority?: number;
}

export class Producer {
  private readonly open = new Map<QueueKey, Queue>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  /** The BullMQ queue behind a catalog entry (created on first use). */
  queue(key: QueueKey): Queue {
    let queue = this.open.get(key);
    if (!queue) {
      const definition = queues[key];
      queue = new Queue(definition.name, {
        connection: this.connection,
        prefix: this.prefix,
        defaultJobOptions: definition.jobOptions,
        // BullMQ would read the server's version (INFO) as the queue is made and keep a failure of
        // that read for good: every enqueue of the queue in this process then fails with it (a
        // worker started just before a Redis restart refused deliveries for minutes — chaos suite).
        // The version is the deployment's to meet (Redis 6.2 or later, README), not each queue's to check.
        skipVersionCheck: true,
      });
      queue.on('error', () => undefined);
      this.open.set(key, queue);
    }
    return queue;
  }

  /** Adds jobs in one round trip; jobs whose id already exists are kept as they are (deduplicated). */
  async enqueue<K extends QueueKey>(key: K, jobs: readonly NewJob<K>[]): Promise<void> {
    if (jobs.length === 0) return;
    const definition = queues[key];
    const bulk = jobs.map((job) => ({
      name: definition.name,
      data: definition.schema.parse(job.payload),
      opts: {
        jobId: job.jobId,
        ...(job.delayMs === undefined ? {} : { delay: job.delayMs }),
        ...(job.priority === undefined || job.priority === 0 ? {} : { priority: job.priority }),
      },
    }));
    await this.queue(key).addBulk(bulk);
  }

  /**
   * Adds one installation's events at their fair-share priority: within the installation's share of
   * the window they go in line with everyone's, past it behind (src/queue/fair-share.ts).
   */
  async enqueueFairly<K extends QueueKey>(key: K, installationId: string, jobs: readonly NewJob<K>[]): Promise<void> {
    if (jobs.length === 0) return;
    const priority = await intakePriority(this.connection, this.prefix, installationId, jobs.length);
    await this.enqueue(
      key,
      jobs.map((job) => ({ ...job, priority })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((queue) => queue.close()));
    this.open.clear();
  }
}

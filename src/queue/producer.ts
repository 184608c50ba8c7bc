/** Typed producers: every payload is checked against the catalog before it reaches Redis. */
import { Queue } from 'bullmq';
import type { RedisConnection } from './redis.ts';
import { queues, type JobPayload, type QueueKey } from './catalog.ts';

export interface NewJob<K extends QueueKey> {
  /** Deterministic id: the same event enqueued twice is one job. Must not contain ':'. */
  jobId: string;
  payload: JobPayload<K>;
  delayMs?: number;
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
      });
      queue.on('error', () => undefined);
      this.open.set(key, queue);
      // BullMQ reads the server's version once, when the queue is made; if Redis goes away during
      // that read, the queue stays failed for good (every add rejects with that first error). A
      // queue that fails so is dropped, and the next enqueue makes a new one on the same connection.
      const made = queue;
      made.waitUntilReady().catch(() => {
        if (this.open.get(key) === made) this.open.delete(key);
        void made.close().catch(() => undefined);
      });
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
      opts: { jobId: job.jobId, ...(job.delayMs === undefined ? {} : { delay: job.delayMs }) },
    }));
    await this.queue(key).addBulk(bulk);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((queue) => queue.close()));
    this.open.clear();
  }
}

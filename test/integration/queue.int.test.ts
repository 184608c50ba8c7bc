import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { FAIR_SHARE_EVENTS } from '../../src/queue/fair-share.ts';
import type { PendingSet } from '../../src/sync/pending-set.ts';
import { SyncScheduler } from '../../src/sync/scheduler.ts';
import { Producer } from '../../src/queue/producer.ts';
import { producerConnection, untilReady, workerConnection, type RedisConnection, type RedisTarget } from '../../src/queue/redis.ts';
import { startWorkers, type WorkerPool } from '../../src/queue/worker-runner.ts';
import { createMetrics } from '../../src/metrics.ts';
import { eventually, eventuallyValue } from '../support/app-process.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';

const event = (objectId: string) => ({
  v: 1 as const,
  installationId: 'inst-1',
  receivedAt: 1_700_000_000_000,
  event: {
    eventId: '1',
    subscriptionId: '2',
    portalId: '1000001',
    occurredAt: 1_700_000_000_000,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId,
    propertyName: 'lifecyclestage',
    propertyValue: 'marketingqualifiedlead',
  },
});

// The same tests on one Redis and on a three-master Redis Cluster (every key under the prefix's hash tag).
const REDIS: [string, () => RedisTarget][] = [
  ['one Redis', () => ({ url: inject('redisUrl') })],
  ['a Redis Cluster', () => ({ url: inject('redisClusterUrl'), cluster: true })],
];

describe.each(REDIS)('job catalog on %s', (_name, redisTarget) => {
  let prefix: string;
  let producerRedis: RedisConnection;
  let workerRedis: RedisConnection;
  let producer: Producer;
  let pool: WorkerPool | undefined;

  beforeEach(async () => {
    prefix = uniquePrefix();
    producerRedis = producerConnection(redisTarget());
    workerRedis = workerConnection(redisTarget());
    producer = new Producer(producerRedis, prefix);
    await untilReady(producerRedis);
  });

  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    await producer.close();
    producerRedis.disconnect();
    workerRedis.disconnect();
    await dropPrefix(prefix, redisTarget());
  });

  it('keeps one job when the same event is enqueued twice', async () => {
    await producer.enqueue('hubspotEvents', [{ jobId: 'hs-same', payload: event('1') }]);
    await producer.enqueue('hubspotEvents', [
      { jobId: 'hs-same', payload: event('1') },
      { jobId: 'hs-other', payload: event('2') },
    ]);
    expect(await producer.queue('hubspotEvents').getJobCountByTypes('waiting')).toBe(2);
  });

  it('refuses to enqueue a payload that does not match the catalog', async () => {
    const bad = { ...event('1'), v: 2 } as unknown as ReturnType<typeof event>;
    await expect(producer.enqueue('hubspotEvents', [{ jobId: 'hs-bad', payload: bad }])).rejects.toThrow();
    expect(await producer.queue('hubspotEvents').count()).toBe(0);
  });

  it('hands each payload, parsed, to its processor', async () => {
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      pool = startWorkers(
        {
          hubspotEvents: async (payload) => {
            seen.push(payload.event.objectId);
            if (seen.length === 3) resolve();
          },
        },
        { connection: workerRedis, prefix, log: createLogger('silent'), metrics: createMetrics({ defaultMetrics: false }) },
      );
    });
    await producer.enqueue(
      'hubspotEvents',
      ['a', 'b', 'c'].map((id) => ({ jobId: `hs-${id}`, payload: event(id) })),
    );
    await done;
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
  });

  it("takes a quiet installation's event ahead of another installation's burst past its fair share", async () => {
    const order: string[] = [];
    // Three shares, added well within one window: the import's deliveries (100 events each) are all in line before the quiet installation's one change.
    const noisy = 3 * FAIR_SHARE_EVENTS;
    for (let delivery = 0; delivery < noisy / 100; delivery++) {
      const ids = Array.from({ length: 100 }, (_, i) => String(delivery * 100 + i));
      await producer.enqueueFairly(
        'hubspotEvents',
        'noisy',
        ids.map((id) => ({ jobId: `hs-noisy-${id}`, payload: { ...event(id), installationId: 'noisy' } })),
      );
    }
    await producer.enqueueFairly('hubspotEvents', 'quiet', [{ jobId: 'hs-quiet-1', payload: { ...event('1'), installationId: 'quiet' } }]);
    pool = startWorkers(
      {
        hubspotEvents: async (payload) => {
          order.push(`${payload.installationId}:${payload.event.objectId}`);
        },
      },
      {
        connection: workerRedis,
        prefix,
        log: createLogger('silent'),
        metrics: createMetrics({ defaultMetrics: false }),
        concurrencyOverride: 1,
      },
    );
    await eventually(async () => order.length === noisy + 1, 60_000, 'every event taken');
    // The burst's first share was in line before it; the rest waits behind it, in order.
    expect(order.indexOf('quiet:1')).toBe(FAIR_SHARE_EVENTS);
    const burst = order.filter((entry) => entry.startsWith('noisy:')).map((entry) => Number(entry.slice('noisy:'.length)));
    expect(burst).toEqual(Array.from({ length: noisy }, (_, i) => i));
  });

  it("runs a waiting installation's drain before the next turn of a drain that used its whole turn", async () => {
    const scheduler = new SyncScheduler({} as PendingSet, producer, 250, () => Date.now());
    // The noisy installation's drain ended its turn with records left; then two others' drains came in.
    await scheduler.schedule('noisy', 'to-salesforce', Date.now(), true, true);
    await scheduler.schedule('quiet-1', 'to-salesforce', Date.now(), true);
    await scheduler.schedule('quiet-2', 'to-salesforce', Date.now(), true);
    const order: string[] = [];
    pool = startWorkers(
      { syncToSalesforce: async (payload) => void order.push(payload.installationId) },
      {
        connection: workerRedis,
        prefix,
        log: createLogger('silent'),
        metrics: createMetrics({ defaultMetrics: false }),
        concurrencyOverride: 1,
      },
    );
    await eventually(async () => order.length === 3, 20_000, 'the three drains');
    expect(order).toEqual(['quiet-1', 'quiet-2', 'noisy']);
  });

  it('fails a job whose stored payload no longer parses without retrying it', async () => {
    const queue = producer.queue('hubspotEvents');
    await queue.add('hubspot-events', { v: 0, legacy: true }, { jobId: 'hs-legacy', attempts: 5 });
    let calls = 0;
    pool = startWorkers(
      {
        hubspotEvents: async () => {
          calls += 1;
        },
      },
      { connection: workerRedis, prefix, log: createLogger('silent'), metrics: createMetrics({ defaultMetrics: false }) },
    );
    // Read from the job itself: a QueueEvents listener may start reading after the failure was published.
    const job = await eventuallyValue(
      async () => {
        const found = await queue.getJob('hs-legacy');
        return (await found?.isFailed()) ? found : undefined;
      },
      20_000,
      'the legacy job failed',
    );
    expect(job.failedReason).toContain('does not match hubspot-events schema');
    expect(job.attemptsMade).toBe(1);
    expect(calls).toBe(0);
  });
});

describe('a producer on a Redis that does not answer INFO', () => {
  it('enqueues all the same: making a queue reads nothing a Redis restart could leave failed for good', async () => {
    // BullMQ reads the server's version (INFO) as a queue is made, and would keep a failure of that
    // read for good. A user that may not run INFO makes the read fail every time.
    const admin = new Redis(inject('redisUrl'));
    const user = `producer-${randomBytes(4).toString('hex')}`;
    const prefix = uniquePrefix();
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-info');
    const url = new URL(inject('redisUrl'));
    url.username = user;
    url.password = 'secret';
    const connection = producerConnection(url.toString(), { enableReadyCheck: false });
    const producer = new Producer(connection, prefix);
    try {
      await untilReady(connection);
      await producer.enqueue('reconcile', [{ jobId: 'r-1', payload: { v: 1, installationId: 'inst-1' } }]);
      expect(await producer.queue('reconcile').getJob('r-1')).toBeDefined();
    } finally {
      await producer.close().catch(() => undefined);
      connection.disconnect();
      await admin.call('ACL', 'DELUSER', user);
      admin.disconnect();
      await dropPrefix(prefix);
    }
  });
});

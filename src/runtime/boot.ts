/**
 * Starts the app's parts in order — Redis, database and migrations, CRM connections, HTTP,
 * workers — and stops them in reverse, once. `src/main.ts` calls it; integration tests too.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { queueKeys, queues } from '../queue/catalog.ts';
import { Producer } from '../queue/producer.ts';
import { DEFAULT_QUEUE_PREFIX, producerConnection, untilReady, workerConnection } from '../queue/redis.ts';
import { startWorkers, type WorkerPool } from '../queue/worker-runner.ts';
import { createApp } from '../server/app.ts';
import { connectPostgres, openPglite, type Db } from '../store/db.ts';
import { InstallationDirectory } from '../store/installation-directory.ts';
import { upsertInstallation } from '../store/installations.ts';
import { migrate, pendingMigrations } from '../store/migrate.ts';
import { hubspotWebhookRouter } from '../../webhooks/hubspot/receiver.ts';
import { DEFAULT_ENQUEUE_BUDGET_MS } from '../../webhooks/intake.ts';
import { salesforceWebhookRouter } from '../../webhooks/salesforce/receiver.ts';
import { intakeProcessors } from '../../workers/intake.worker.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts';

export type Role = 'all' | 'web' | 'worker';

export interface RunningApp {
  config: AppConfig;
  db: Db;
  redisUrl: string;
  producer: Producer;
  metrics: Metrics;
  directory: InstallationDirectory;
  /** The HTTP address, when this process serves HTTP. */
  url: string | undefined;
  close(): Promise<void>;
}

export class BootError extends Error {}

export interface BootOptions {
  role: Role;
  log: Logger;
  queuePrefix?: string;
  /** How long shutdown waits for active jobs before closing workers by force. */
  shutdownGraceMs?: number;
  /** How long a receiver waits for Redis before answering 503. */
  enqueueBudgetMs?: number;
  /** Set false to serve HTTP without consuming jobs in this process (benchmarks of the intake path). */
  withWorkers?: boolean;
}

/** Boots the app for a role; throws BootError with an instruction when a dependency is missing. */
export async function boot(config: AppConfig, options: BootOptions): Promise<RunningApp> {
  const { role, log } = options;
  const prefix = options.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((error: unknown) => log.warn({ error: error instanceof Error ? error.message : String(error) }, 'error while shutting down'));
    }
    closers.length = 0;
  };

  try {
    mkdirSync(config.dataDir, { recursive: true });
    if (role !== 'all' && (!config.redisUrl || !config.databaseUrl)) {
      throw new BootError(`running the ${role} role apart needs a shared REDIS_URL and DATABASE_URL (the embedded ones belong to one process); use 'npm start' for a single process`);
    }

    // 1. Redis: the configured one, or a private redis-server with AOF.
    let privateRedis: PrivateRedis | undefined;
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      privateRedis = await startPrivateRedis(path.join(config.dataDir, 'redis'), log);
      redisUrl = privateRedis.url;
      const owned = privateRedis;
      closers.push(() => owned.stop());
    } else {
      log.info('using Redis from REDIS_URL');
    }

    // 2. Database and migrations.
    const db = config.databaseUrl ? connectPostgres(config.databaseUrl) : await openPglite(path.join(config.dataDir, 'pg'));
    closers.push(() => db.close());
    const applied = await migrate(db);
    log.info({ backend: db.kind, applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');

    // 3. Queues.
    const producerRedis = producerConnection(redisUrl);
    closers.push(async () => {
      producerRedis.disconnect();
    });
    await untilReady(producerRedis).catch(() => {
      throw new BootError('Redis is not reachable at REDIS_URL (is it running?)');
    });
    const producer = new Producer(producerRedis, prefix);
    closers.push(() => producer.close());
    const metrics = createMetrics();

    // 4. Workers.
    let pool: WorkerPool | undefined;
    let workerRedis: Redis | undefined;
    if (role !== 'web' && options.withWorkers !== false) {
      workerRedis = workerConnection(redisUrl);
      workerRedis.on('error', () => undefined);
      const connection = workerRedis;
      closers.push(async () => {
        connection.disconnect();
      });
      pool = startWorkers({ ...intakeProcessors(db) }, { connection, prefix, log, metrics });
      const started = pool;
      closers.push(() => started.close(options.shutdownGraceMs));
      log.info({ queues: started.workers.map((w) => w.name) }, 'workers started');
    }

    // 5. Installations: in sandbox mode the app installs itself on the sandbox portal and org.
    if (config.hubspot.mode === 'sandbox' || config.salesforce.mode === 'sandbox') {
      const installation = await upsertInstallation(db, {
        name: 'Sandbox',
        hubspotPortalId: config.hubspot.mode === 'sandbox' ? String(config.sandbox.hubspot.portalId) : null,
        salesforceOrgId: config.salesforce.mode === 'sandbox' ? config.sandbox.salesforce.orgId : null,
      });
      log.info({ installation: installation.id }, 'sandbox installation ready');
    }
    const directory = new InstallationDirectory(db);
    await directory.reload();

    // 6. HTTP.
    let url: string | undefined;
    if (role !== 'worker') {
      const intake = { producer, directory, now: Date.now, log, metrics, budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS };
      const app = createApp({
        routes: [
          {
            path: '/webhooks/hubspot',
            router: hubspotWebhookRouter({
              ...intake,
              signingSecret: config.hubspot.clientSecret ?? (config.hubspot.mode === 'sandbox' ? config.sandbox.hubspot.clientSecret : undefined),
              publicUrl: config.publicUrl,
              maxBodyBytes: 1024 * 1024,
            }),
          },
          { path: '/webhooks/salesforce', router: salesforceWebhookRouter({ ...intake, maxBodyBytes: 4 * 1024 * 1024 }) },
        ],
        log,
        metrics,
        readiness: [
          { name: 'redis', check: async () => ((await producerRedis.ping()) === 'PONG' ? null : 'no PONG') },
          {
            name: 'database',
            check: async () => {
              const pending = await pendingMigrations(db);
              return pending.length === 0 ? null : `migrations not applied: ${pending.join(', ')}`;
            },
          },
        ],
        collectMetrics: async () => {
          await Promise.all(
            queueKeys.map(async (key) => {
              const definition = queues[key];
              const queue = producer.queue(key);
              const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
              for (const [state, count] of Object.entries(counts)) metrics.queueJobs.set({ queue: definition.name, state }, count);
            }),
          );
        },
      });
      const server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(config.port, () => resolve(s));
        s.once('error', reject);
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://127.0.0.1:${port}`;
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      );
      log.info({ url, publicUrl: config.publicUrl }, 'HTTP server listening');
    }

    if (config.hubspot.mode === 'sandbox' || config.salesforce.mode === 'sandbox') {
      log.warn('no CRM credentials configured: running with no CRM connected (sandbox CRMs are not part of this build yet)');
    }

    let closed: Promise<void> | undefined;
    return {
      config,
      db,
      redisUrl,
      producer,
      metrics,
      directory,
      url,
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

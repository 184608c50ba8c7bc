/**
 * Installations on one deployment, for the benchmarks that run many (tenants, installations): each
 * installation's sandbox CRMs, the CRM calls they counted, the Redis keys that name each one, and
 * installing more of them the way an admin does (test/support/tenants.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../src/log.ts';
import { producerConnection, type RedisConnection } from '../src/queue/redis.ts';
import type { SandboxControl } from '../src/sandbox/hubspot/server.ts';
import type { SalesforceSandbox } from '../src/sandbox/salesforce/server.ts';
import type { RunningApp } from '../src/startup/boot.ts';
import { startPrivateRedis } from '../src/startup/redis-server.ts';
import { AdminClient } from '../test/support/admin-client.ts';
import { createDatabase, startTestPostgres } from '../test/support/services.ts';
import { addTenant } from '../test/support/tenants.ts';
import { bootBenchWeb, sandboxPortsEnv, spawnWorker, stopWorker, tempDir, type Calls } from './support.ts';

export interface Installation {
  id: string;
  hubspot: SandboxControl;
  /** HubSpot requests per second the account allows. */
  hubspotPerSecond: number;
  org: SalesforceSandbox;
}

/** What Redis holds per installation (the keys naming it) and shared. */
export interface RedisCost {
  perInstallation: { keys: number; bytes: number }[];
  sharedKeys: number;
  sharedBytes: number;
  usedMemory: number;
  /** The key shapes (ids replaced) with the most keys. */
  largest: { shape: string; keys: number; bytes: number }[];
}

/** Every installation's CRM calls, 429s and calls per endpoint. */
export function allCalls(installations: readonly Installation[]): Calls {
  const total: Calls = { hubspot: 0, salesforce: 0, limited: 0, endpoints: {} };
  for (const [i, one] of installations.entries()) {
    const hs = one.hubspot.stats();
    const sf = one.org.stats();
    total.hubspot += hs.totals.calls;
    total.salesforce += sf.totalCalls;
    total.limited += hs.totals.rateLimited;
    for (const [k, n] of Object.entries({ ...hs.endpoints, ...sf.calls })) total.endpoints[`${i}:${k}`] = n;
  }
  return total;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Keys and bytes (MEMORY USAGE) of the keys that name each installation; the rest is shared. */
export async function redisCost(redis: RedisConnection, installations: readonly Installation[]): Promise<RedisCost> {
  const per = installations.map(() => ({ keys: 0, bytes: 0 }));
  const index = new Map(installations.map((one, i) => [one.id, i]));
  let sharedKeys = 0;
  let sharedBytes = 0;
  const shapes = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = nextCursor;
    for (const key of keys) {
      const bytes = Number((await redis.call('MEMORY', 'USAGE', key)) ?? 0);
      const ids = key.match(UUID) ?? [];
      const shape = key
        .replace(UUID, (id) => (index.has(id) ? '<installation>' : '<uuid>'))
        .replace(/\b[0-9a-zA-Z]{15,18}\b/g, '<sfid>')
        .replace(/\d+/g, '<n>');
      const counted = shapes.get(shape) ?? { keys: 0, bytes: 0 };
      counted.keys += 1;
      counted.bytes += bytes;
      shapes.set(shape, counted);
      const owner = ids.map((id) => index.get(id)).find((i) => i !== undefined);
      const slot = owner === undefined ? undefined : per[owner];
      if (slot) {
        slot.keys += 1;
        slot.bytes += bytes;
      } else {
        sharedKeys += 1;
        sharedBytes += bytes;
      }
    }
  } while (cursor !== '0');
  const info = await redis.info('memory');
  const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  const largest = [...shapes]
    .map(([shape, n]) => ({ shape, ...n }))
    .sort((a, b) => b.keys - a.keys)
    .slice(0, 10);
  return { perInstallation: per, sharedKeys, sharedBytes, usedMemory, largest };
}

/** The sandbox's own installation (its HubSpot account allows `burstLimit` requests per 10 s). */
export async function sandboxInstallation(app: RunningApp): Promise<Installation> {
  const hubspot = app.sandboxes?.hubspot;
  const org = app.sandboxes?.salesforce;
  const id = (await app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id;
  if (!hubspot || !org || !id) throw new Error('the app started without its sandbox installation');
  return { id, hubspot, hubspotPerSecond: app.config.sandbox.hubspot.burstLimit / 10, org };
}

/**
 * Installs installations number `from`…`to` (n ≥ 2) through the admin, `concurrency` at a time,
 * each a HubSpot account of its own (a burst limit of 100 requests per 10 s) and a Salesforce org
 * of its own; `closers` collects what stops their orgs.
 */
export async function installMore(
  app: RunningApp,
  env: { ADMIN_TOKEN: string; ENCRYPTION_KEY: string },
  range: { from: number; to: number; concurrency: number },
  closers: { close(): Promise<void> }[],
  progress?: (done: number) => void,
): Promise<Installation[]> {
  const url = app.url;
  if (!url) throw new Error('the app runs without HTTP');
  const installed: Installation[] = [];
  let next = range.from;
  // One admin session per install at a time: a session follows one OAuth install (its state) at once.
  const one = async () => {
    const admin = new AdminClient(url);
    await admin.signIn(env.ADMIN_TOKEN);
    while (next <= range.to) {
      const n = next;
      next += 1;
      const tenant = await addTenant(app, {
        n,
        encryptionKey: Buffer.from(env.ENCRYPTION_KEY, 'hex'),
        prefix: '{smarketing}',
        admin,
        adminToken: env.ADMIN_TOKEN,
      });
      closers.push(tenant);
      installed.push({ id: tenant.installationId, hubspot: tenant.portal, hubspotPerSecond: 100 / 10, org: tenant.org });
      progress?.(installed.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, range.concurrency) }, one));
  return installed;
}

/** The environment every process of a bench deployment shares. */
export type DeploymentEnv = Record<string, string> & { ADMIN_TOKEN: string; ENCRYPTION_KEY: string };

/** One deployment of many installations: the web process here (with the sandbox CRMs), worker processes, one Redis, one PostgreSQL. */
export interface BenchDeployment {
  app: RunningApp;
  env: DeploymentEnv;
  dir: string;
  redis: RedisConnection;
  workers: ChildProcess[];
  /** What stops the added installations' orgs. */
  closers: { close(): Promise<void> }[];
  /** Starts `count` worker processes and waits until they take jobs. */
  startWorkers(count: number): Promise<void>;
  /** Stops everything; the logs of a run that did not finish, or with BENCH_LOG_LEVEL set, are kept. */
  stop(finished: boolean): Promise<void>;
}

/** Starts a bench deployment named `name` (its temp directory and database), `env` added to the shared environment. */
export async function startBenchDeployment(name: string, env: Record<string, string> = {}): Promise<BenchDeployment> {
  const postgres = await startTestPostgres();
  const dir = tempDir(`smk-bench-${name}-`);
  const redisServer = await startPrivateRedis(path.join(dir, 'redis'), createLogger('silent'));
  const shared: DeploymentEnv = {
    REDIS_URL: redisServer.url,
    DATABASE_URL: createDatabase(postgres.url, `${name}_${Date.now().toString(36)}`),
    SANDBOX_DEMO: 'false',
    // Records in memory only: writing the sandboxes' state to disk would take the CPU a real CRM never takes from the deployment.
    SANDBOX_PERSIST: 'false',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...(await sandboxPortsEnv()),
    // Every process opens the credentials the admin's installs sealed.
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: randomBytes(32).toString('hex'),
    ...env,
  };
  const { app } = await bootBenchWeb(dir, shared);
  const redis = producerConnection(redisServer.url);
  const workers: ChildProcess[] = [];
  const closers: { close(): Promise<void> }[] = [];
  return {
    app,
    env: shared,
    dir,
    redis,
    workers,
    closers,
    async startWorkers(count) {
      const last = workers.length + count;
      for (let i = workers.length + 1; i <= last; i += 1)
        workers.push(spawnWorker({ ...shared, PORT: '0', DATA_DIR: path.join(dir, `worker-${i}`) }, path.join(dir, `worker-${i}.log`)));
      const deadline = Date.now() + 90_000;
      while ((await app.producer.queue('syncToSalesforce').getWorkersCount()) < workers.length) {
        if (Date.now() > deadline || workers.some((c) => c.exitCode !== null)) throw new Error(`the workers did not start (see ${dir})`);
        await sleep(200);
      }
    },
    async stop(finished) {
      await Promise.all(workers.map(stopWorker));
      redis.disconnect();
      await app.close();
      for (const closer of closers) await closer.close();
      await redisServer.stop();
      await postgres.stop();
      if (finished && process.env.BENCH_LOG_LEVEL === undefined) rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`${name}: worker logs kept in ${dir}\n`);
    },
  };
}

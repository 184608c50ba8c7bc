import { rmSync } from 'node:fs';
import { Cluster } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/startup/boot.ts';
import { startTestRedis } from '../support/services.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';
import { appDataDir } from '../support/data-dir.ts';

function configFor(env: Record<string, string>): AppConfig {
  const result = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe('the running app', () => {
  let app: RunningApp | undefined;
  let dataDir: string | undefined;
  let prefix: string | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (prefix) await dropPrefix(prefix);
  });

  it('answers /healthz, /readyz and /metrics with queue gauges and HTTP latency', async () => {
    dataDir = appDataDir('smk-app-');
    prefix = uniquePrefix();
    app = await boot(configFor({ DATA_DIR: dataDir, REDIS_URL: inject('redisUrl') }), {
      role: 'all',
      sandboxes: false,
      log: createLogger('silent'),
      queuePrefix: prefix,
    });
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', database: 'ok' } });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('queue_jobs{queue="hubspot-events",state="waiting"} 0');
    expect(metrics).toContain('queue_jobs{queue="salesforce-events",state="failed"} 0');
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/readyz",status="200"\} 1/);
  });

  it('runs on a Redis Cluster: ready, and its queues read through the cluster', async () => {
    dataDir = appDataDir('smk-app-');
    prefix = uniquePrefix();
    app = await boot(configFor({ DATA_DIR: dataDir, REDIS_URL: inject('redisClusterUrl'), REDIS_CLUSTER: 'true' }), {
      role: 'all',
      sandboxes: false,
      withWorkers: false,
      log: createLogger('silent'),
      queuePrefix: prefix,
    });
    expect(await (await fetch(`${app.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { redis: 'ok', database: 'ok' } });
    await app.producer.enqueue('reconcile', [{ jobId: 'cluster-reconcile', payload: { v: 1, installationId: 'no-such-installation' } }]);
    expect(await app.producer.queue('reconcile').getJob('cluster-reconcile')).toBeDefined();
    // The job is in the cluster, read by a client of its own.
    const cluster = new Cluster([inject('redisClusterUrl')]);
    try {
      const stored = await cluster.hget(`${prefix}:${app.producer.queue('reconcile').name}:cluster-reconcile`, 'data');
      expect(JSON.parse(stored ?? '{}')).toEqual({ v: 1, installationId: 'no-such-installation' });
    } finally {
      cluster.disconnect();
    }
    const clusterPrefix = prefix;
    prefix = '';
    await app.close();
    app = undefined;
    await dropPrefix(clusterPrefix, { url: inject('redisClusterUrl'), cluster: true });
  });

  it('sends a visitor of / to the dashboard', async () => {
    dataDir = appDataDir('smk-app-');
    prefix = uniquePrefix();
    app = await boot(configFor({ DATA_DIR: dataDir, REDIS_URL: inject('redisUrl') }), {
      role: 'all',
      sandboxes: false,
      log: createLogger('silent'),
      queuePrefix: prefix,
    });
    const response = await fetch(`${app.url}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/admin');
    const followed = await fetch(`${app.url}/`);
    expect(followed.url).toMatch(/\/admin/);
    expect(followed.status).toBe(200);
  });

  it('answers 503 on /readyz naming Redis when Redis is stopped', async () => {
    dataDir = appDataDir('smk-app-');
    const redis = await startTestRedis();
    app = await boot(configFor({ DATA_DIR: dataDir, REDIS_URL: redis.url }), {
      role: 'all',
      sandboxes: false,
      log: createLogger('silent'),
      shutdownGraceMs: 500,
    }).catch(async (error: unknown) => {
      await redis.stop();
      throw error;
    });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await redis.stop();
    const response = await fetch(`${app.url}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { failing: string[]; checks: Record<string, string> };
    expect(body.failing).toEqual(['redis']);
    expect(body.checks.database).toBe('ok');
  });
});

/**
 * Starts one Redis, one three-master Redis Cluster (for the queue and drain tests that run on
 * both) and one PostgreSQL for the whole integration run (tests isolate by prefix/database), and creates the migrated PGlite template each app's DATA_DIR copies
 * (./data-dir.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { openPglite } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { startTestPostgres, startTestRedis, startTestRedisCluster } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A node of the test Redis Cluster. */
    redisClusterUrl: string;
    postgresUrl: string;
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = process.env.TEST_REDIS_URL ? undefined : await startTestRedis();
  const postgres = process.env.TEST_DATABASE_URL ? undefined : await startTestPostgres();
  const cluster = process.env.TEST_REDIS_CLUSTER_URL ? undefined : await startTestRedisCluster();
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? (redis as { url: string }).url);
  project.provide('redisClusterUrl', process.env.TEST_REDIS_CLUSTER_URL ?? (cluster as { url: string }).url);
  project.provide('postgresUrl', process.env.TEST_DATABASE_URL ?? (postgres as { url: string }).url);
  const templateDir = mkdtempSync(path.join(os.tmpdir(), 'smk-pglite-template-'));
  const template = await openPglite(path.join(templateDir, 'pg'));
  await migrate(template);
  await template.close();
  project.provide('pgliteTemplate', path.join(templateDir, 'pg'));
  return async () => {
    await redis?.stop();
    await cluster?.stop();
    await postgres?.stop();
    rmSync(templateDir, { recursive: true, force: true });
  };
}

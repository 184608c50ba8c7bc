/** Starts one Redis and one PostgreSQL for the whole integration run; tests isolate by prefix/database. */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startTestPostgres, startTestRedis } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = process.env.TEST_REDIS_URL ? undefined : await startTestRedis();
  const postgres = process.env.TEST_DATABASE_URL ? undefined : await startTestPostgres();
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? (redis as { url: string }).url);
  project.provide('postgresUrl', process.env.TEST_DATABASE_URL ?? (postgres as { url: string }).url);
  return async () => {
    await redis?.stop();
    await postgres?.stop();
  };
}

/** Per-test queue isolation: a unique hash-tagged prefix on the shared test Redis, removed after. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';

export function uniquePrefix(): string {
  return `{t${randomBytes(5).toString('hex')}}`;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(prefix: string, url = inject('redisUrl')): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/**
 * One client of the test Redis for a file and a fresh prefix per test (its keys dropped after);
 * `use` receives both before each test.
 */
export function redisPerTest(use: (redis: Redis, prefix: string) => void): void {
  let redis: Redis | undefined;
  let prefix = '';
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis?.quit();
  });
  beforeEach(() => {
    prefix = uniquePrefix();
    if (redis !== undefined) use(redis, prefix);
  });
  afterEach(async () => {
    await dropPrefix(prefix);
  });
}

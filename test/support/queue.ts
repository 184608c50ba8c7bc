/** Per-test queue isolation: a unique hash-tagged prefix on the shared test Redis, removed after. */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { untilReady, type RedisTarget } from '../../src/queue/redis.ts';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';

export function uniquePrefix(): string {
  return `{t${randomBytes(5).toString('hex')}}`;
}

/** Deletes every key under a prefix, on one Redis or on every master of a cluster. */
export async function dropPrefix(prefix: string, target: string | RedisTarget = inject('redisUrl')): Promise<void> {
  const { url, cluster } = typeof target === 'string' ? { url: target, cluster: false } : target;
  const client = cluster ? new Cluster([url]) : new Redis(url);
  try {
    await untilReady(client);
    for (const node of client instanceof Cluster ? client.nodes('master') : [client]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One key at a time: on a cluster a DEL of several keys must stay in one slot.
        for (const key of keys) await node.del(key);
      } while (cursor !== '0');
    }
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

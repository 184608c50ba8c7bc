/** Per-test queue isolation: a unique hash-tagged prefix on the shared test Redis, removed after. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

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

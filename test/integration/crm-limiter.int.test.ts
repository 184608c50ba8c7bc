/** The Redis sliding-window limiter on the integration run's real Redis, one unique prefix per test. */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createNoopLimiter, createRedisLimiter } from '../../src/crm/limiter.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  await dropPrefix(prefix);
});

describe('Redis sliding-window limiter', () => {
  it('spreads 12 acquires from two limiter instances over at least two windows of 5 per second', async () => {
    const other = new Redis(inject('redisUrl'));
    try {
      const policy = { limit: 5, windowMs: 1000 };
      const limiters = [createRedisLimiter(redis, policy, prefix), createRedisLimiter(other, policy, prefix)];
      const started = Date.now();
      const admittedAt = await Promise.all(
        Array.from({ length: 12 }, async (_, index) => {
          await limiters[index % 2]?.acquire('hubspot:1000001');
          return Date.now() - started;
        }),
      );
      const elapsed = Date.now() - started;
      // 5 now, 5 after one window, 2 after the second: never more than 5 inside any one second.
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThan(6000);
      const sorted = [...admittedAt].sort((a, b) => a - b);
      for (let i = 5; i < sorted.length; i++) expect((sorted[i] ?? 0) - (sorted[i - 5] ?? 0)).toBeGreaterThanOrEqual(700);
    } finally {
      other.disconnect();
    }
  });

  it('keeps keys independent: one exhausted key does not hold back another', async () => {
    const limiter = createRedisLimiter(redis, { limit: 3, windowMs: 1000 }, prefix);
    for (let i = 0; i < 3; i++) await limiter.acquire('salesforce:00D000000000001AAA');
    const started = Date.now();
    await limiter.acquire('salesforce:00D000000000002AAA');
    expect(Date.now() - started).toBeLessThan(300);
    await limiter.acquire('salesforce:00D000000000001AAA');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });

  it('keeps its state under the given prefix and expires it after the window', async () => {
    const limiter = createRedisLimiter(redis, { limit: 2, windowMs: 5_000 }, prefix);
    await limiter.acquire('hubspot:42');
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys).toEqual([`${prefix}:limiter:hubspot:42`]);
    const ttl = await redis.pttl(keys[0] ?? '');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });
});

describe('no-op limiter', () => {
  it('admits at once', async () => {
    const limiter = createNoopLimiter();
    const started = Date.now();
    for (let i = 0; i < 100; i++) await limiter.acquire('any');
    expect(Date.now() - started).toBeLessThan(200);
  });
});

/** The Redis sliding-window limiter on the integration run's real Redis, one unique prefix per test. */
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createHubSpotAdapter } from '../../src/crm/hubspot/client.ts';
import {
  createNoopLimiter,
  createRedisLimiter,
  HUBSPOT_LIMITER_POLICY,
  LEARNED_LIMIT_TTL_MS,
  learnedLimit,
  type RequestLimiter,
} from '../../src/crm/limiter.ts';
import { startHubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { eventually } from '../support/app-process.ts';
import { redisPerTest } from '../support/queue.ts';

/**
 * Acquires `count` times at once through a limiter on `connection`; once `expected` are admitted and
 * Redis has answered every acquire's first step, resolves how many are admitted (the rest wait for
 * the window). The acquires still waiting are left to finish on their own.
 */
async function admittedAtOnce(limiter: RequestLimiter, connection: Redis, key: string, count: number, expected: number): Promise<number> {
  let admitted = 0;
  const all = Promise.all(
    Array.from({ length: count }, async () => {
      await limiter.acquire(key);
      admitted += 1;
    }),
  );
  all.catch(() => undefined);
  await eventually(async () => admitted >= expected, 10_000, `${expected} admitted`, 5);
  // One connection's replies come in order: once this one is in, so is every acquire's answer
  // (their scripts went out first); one turn of the event loop lets the admitted ones count.
  await connection.ping();
  await new Promise((resolve) => setImmediate(resolve));
  return admitted;
}

let redis: Redis;
let prefix: string;
redisPerTest((client, unique) => {
  redis = client;
  prefix = unique;
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

describe('limits learned from the CRM', () => {
  it('paces at 90 % of the limit HubSpot reports for the tier, scaled to the 10-second window', () => {
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: 100, intervalMs: 10_000 })).toBe(90);
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: 190, intervalMs: 10_000 })).toBe(171);
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: 250, intervalMs: 10_000 })).toBe(225);
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: 19, intervalMs: 1_000 })).toBe(171);
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: 0, intervalMs: 10_000 })).toBeNull();
    expect(learnedLimit(HUBSPOT_LIMITER_POLICY, { max: Number.NaN, intervalMs: 10_000 })).toBeNull();
    expect(learnedLimit({ limit: 25, windowMs: 1_000 }, { max: 100, intervalMs: 1_000 })).toBeNull();
  });

  it('applies a learned limit in every process sharing the Redis, until it expires', async () => {
    const other = new Redis(inject('redisUrl'));
    try {
      const policy = { limit: 3, windowMs: 10_000, share: 0.5 };
      const teacher = createRedisLimiter(redis, policy, prefix);
      expect(await teacher.learn?.('hubspot:1', { max: 16, intervalMs: 10_000 })).toBe(8);
      // Another process's limiter admits 8 now (not the policy's 3), and holds the 9th for the window.
      const elsewhere = createRedisLimiter(other, policy, prefix);
      expect(await admittedAtOnce(elsewhere, other, 'hubspot:1', 9, 8)).toBe(8);
      const ttl = await redis.pttl(`${prefix}:limiter:hubspot:1:learned-limit`);
      expect(ttl).toBeGreaterThan(LEARNED_LIMIT_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(LEARNED_LIMIT_TTL_MS);
      // A key nothing was learned for keeps the policy's limit.
      expect(await admittedAtOnce(elsewhere, other, 'hubspot:2', 4, 3)).toBe(3);
    } finally {
      other.disconnect();
    }
  });

  it("learns a Professional portal's 190 per 10 s from the HubSpot adapter's usage read", async () => {
    const sandbox = await startHubSpotSandbox({
      port: 0,
      portalId: 1_000_001,
      privateAppToken: 'pat-limit-test',
      clientId: 'client',
      clientSecret: 'secret',
      appId: 2_000_001,
      developerKey: 'dev',
      rateLimit: { requests: 190, windowMs: 10_000, searchPerSecond: 5 },
    });
    try {
      const limiter = createRedisLimiter(redis, HUBSPOT_LIMITER_POLICY, prefix);
      const hubspot = createHubSpotAdapter({ accessToken: 'pat-limit-test', basePath: sandbox.url, portalId: '1000001', limiter });
      expect(await hubspot.apiUsage()).toContainEqual({ name: 'Requests per 10 s window', used: 1, max: 190 });
      // 171 = 90 % of 190 pass in the window (one went to the usage read itself); the next waits.
      expect(await admittedAtOnce(limiter, redis, 'hubspot:1000001', 171, 170)).toBe(170);
    } finally {
      await sandbox.close();
    }
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

/** The Salesforce API budget's counter (a rolling 24 h in one-minute buckets) on the integration run's real Redis. */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CrmRateLimitedError } from '../../src/crm/errors.ts';
import { CallBudget, withCallBudget, type RequestLimiter } from '../../src/crm/limiter.ts';
import { redisPerTest } from '../support/queue.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

let redis: Redis;
let prefix: string;
redisPerTest((client, unique) => {
  redis = client;
  prefix = unique;
});

describe('CallBudget', () => {
  it('counts calls up to the limit, then refuses with the wait until the oldest minute leaves the 24 h window', async () => {
    const budget = new CallBudget(redis, `${prefix}:budget`);
    for (let i = 1; i <= 3; i += 1) await expect(budget.take(3, null)).resolves.toMatchObject({ admitted: true, used: i });
    const refused = await budget.take(3, null);
    expect(refused.admitted).toBe(false);
    if (refused.admitted) return;
    expect(refused.used).toBe(3);
    expect(refused.retryAfterMs).toBeGreaterThan(DAY_MS - 61_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(DAY_MS);
    await expect(budget.used()).resolves.toBe(3);
  });

  it('counts without refusing when there is no limit', async () => {
    const budget = new CallBudget(redis, `${prefix}:budget`);
    for (let i = 0; i < 5; i += 1) await budget.take(null, null);
    await expect(budget.used()).resolves.toBe(5);
  });

  it('forgets the calls of a minute older than 24 h', async () => {
    const budget = new CallBudget(redis, `${prefix}:budget`);
    await budget.take(null, null);
    const [seconds] = await redis.time();
    const old = Math.floor((Number(seconds) * 1000) / 60_000) - 1441;
    await redis.hset(`${prefix}:budget`, String(old), '7');
    await redis.hincrby(`${prefix}:budget`, 'total', 7);
    await redis.zadd(`${prefix}:budget:minutes`, old, String(old));
    await expect(budget.used()).resolves.toBe(1);
    await expect(budget.take(2, null)).resolves.toMatchObject({ admitted: true, used: 2 });
  });

  it('reports the alert threshold crossed once, by the call that reached it', async () => {
    const budget = new CallBudget(redis, `${prefix}:budget`);
    const crossed: number[] = [];
    for (let i = 1; i <= 10; i += 1) {
      const step = await budget.take(10, 8);
      if (step.admitted && step.crossedAlert) crossed.push(step.used);
    }
    expect(crossed).toEqual([8]);
  });
});

describe('withCallBudget', () => {
  it('refuses a call over the budget as a rate limit that asks again within a minute, before the pacing limiter sees it', async () => {
    let paced = 0;
    const inner: RequestLimiter = {
      acquire: async () => {
        paced += 1;
      },
    };
    const alerts: { used: number; limit: number }[] = [];
    const limiter = withCallBudget(inner, {
      budget: new CallBudget(redis, `${prefix}:budget`),
      system: 'salesforce',
      limit: async () => ({ limit: 2, alertAt: 2 }),
      onAlert: (usage) => alerts.push(usage),
    });
    await limiter.acquire('salesforce:00D000000000001');
    await limiter.acquire('salesforce:00D000000000001');
    const refusal = await limiter.acquire('salesforce:00D000000000001').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CrmRateLimitedError);
    expect((refusal as CrmRateLimitedError).retryAfterMs).toBe(60_000);
    expect(paced).toBe(2);
    expect(alerts).toEqual([{ used: 2, limit: 2 }]);
  });
});

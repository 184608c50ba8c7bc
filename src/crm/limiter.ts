/**
 * Request pacing shared by every process that talks to one CRM account. The adapters call
 * `acquire(key)` before each HTTP request, keyed per HubSpot portal / Salesforce org, so all
 * workers together stay under the account's limit (e.g. 90 per 10 s for HubSpot's 100 / 10 s).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Waits until one more request to `key` fits under the limit. */
export interface RequestLimiter {
  acquire(key: string): Promise<void>;
}

/** How many requests a key may make in any rolling window of `windowMs`. */
export interface LimiterPolicy {
  limit: number;
  windowMs: number;
}

/**
 * One sliding-window step, atomic on the Redis server. Redis's own clock (`TIME`) is the only clock,
 * so processes on hosts with skewed clocks still share one window. Returns 0 when the request was
 * admitted (and recorded), otherwise how many milliseconds until the oldest admitted request leaves
 * the window.
 */
const SLIDING_WINDOW_SCRIPT = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local member = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
`;

const SCRIPT_SHA = createHash('sha1').update(SLIDING_WINDOW_SCRIPT).digest('hex');

/** Upper bound of the random spread added to each wait, so waiting processes do not retry in lockstep. */
const JITTER_MS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function checkPolicy(policy: LimiterPolicy): void {
  if (!Number.isInteger(policy.limit) || policy.limit < 1) throw new RangeError(`limiter limit must be a positive integer, got ${policy.limit}`);
  if (!Number.isInteger(policy.windowMs) || policy.windowMs < 1) throw new RangeError(`limiter windowMs must be a positive integer, got ${policy.windowMs}`);
}

/** Runs the script by its SHA, loading it once per Redis server (NOSCRIPT after a restart or failover). */
async function slidingWindowStep(redis: Redis, key: string, policy: LimiterPolicy): Promise<number> {
  const args = [key, String(policy.windowMs), String(policy.limit), randomUUID()] as const;
  let reply: unknown;
  try {
    reply = await redis.evalsha(SCRIPT_SHA, 1, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await redis.eval(SLIDING_WINDOW_SCRIPT, 1, ...args);
  }
  if (typeof reply !== 'number' || !Number.isFinite(reply)) throw new Error(`limiter script returned ${String(reply)}`);
  return reply;
}

/**
 * A sliding-window limiter on Redis (one sorted set per key under `prefix`), shared by every process
 * using the same Redis and prefix. `acquire` sleeps until the request fits, then records it.
 */
export function createRedisLimiter(redis: Redis, policy: LimiterPolicy, prefix: string): RequestLimiter {
  checkPolicy(policy);
  return {
    async acquire(key: string): Promise<void> {
      const redisKey = `${prefix}:limiter:${key}`;
      for (;;) {
        const waitMs = await slidingWindowStep(redis, redisKey, policy);
        if (waitMs === 0) return;
        await sleep(waitMs + Math.floor(Math.random() * JITTER_MS));
      }
    },
  };
}

/** A limiter that never waits: for tests and single-shot tools where the server's 429 is enough. */
export function createNoopLimiter(): RequestLimiter {
  return { acquire: async () => undefined };
}

/** HubSpot's burst limit is 100 requests per 10 s per app and account; 90 leaves room for other tools. */
export const HUBSPOT_LIMITER_POLICY: LimiterPolicy = { limit: 90, windowMs: 10_000 };

/**
 * Salesforce has no burst limit for short requests, only the org's rolling 24 h allowance; 25 per
 * second keeps a busy sync from spending a day's allowance in minutes.
 */
export const SALESFORCE_LIMITER_POLICY: LimiterPolicy = { limit: 25, windowMs: 1_000 };

/**
 * Request pacing shared by every process that talks to one CRM account. The adapters call
 * `acquire(key)` before each HTTP request, keyed per HubSpot portal / Salesforce org, so all
 * workers together stay under the account's limit (e.g. 90 per 10 s for HubSpot's 100 / 10 s).
 * An account whose limit is known from the CRM itself (HubSpot's `X-HubSpot-RateLimit-Max`: 100,
 * 190 or 250 per 10 s by tier) is paced at the policy's share of that limit instead (`learn`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../queue/redis.ts';
import { CrmRateLimitedError } from './errors.ts';

/** Waits until one more request to `key` fits under the limit. */
export interface RequestLimiter {
  acquire(key: string): Promise<void>;
  /**
   * Tells the limiter the account's own limit, as the CRM reported it (`max` requests per
   * `intervalMs`): `key` is then paced at the policy's share of it, by every process, until the
   * lesson expires. Returns the limit now applied per window.
   */
  learn?(key: string, reported: { max: number; intervalMs: number }): Promise<number>;
}

/** How many requests a key may make in any rolling window of `windowMs`. */
export interface LimiterPolicy {
  limit: number;
  windowMs: number;
  /** Share of a reported account limit the app uses (0–1]; without it, `limit` is fixed. */
  share?: number;
}

/** How long a learned limit holds before the policy's default applies again (a new lesson renews it). */
export const LEARNED_LIMIT_TTL_MS = 6 * 60 * 60 * 1000;

/**
 * One sliding-window step, atomic on the Redis server. Redis's own clock (`TIME`) is the only clock,
 * so processes on hosts with skewed clocks still share one window. A limit learned for the key
 * (`KEYS[2]`) replaces the policy's. Returns 0 when the request was
 * admitted (and recorded), otherwise how many milliseconds until the oldest admitted request leaves
 * the window.
 */
const SLIDING_WINDOW_SCRIPT = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local member = ARGV[3]
local learned = tonumber(redis.call('GET', KEYS[2]) or '')
if learned and learned >= 1 then limit = learned end
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
  if (!Number.isInteger(policy.limit) || policy.limit < 1)
    throw new RangeError(`limiter limit must be a positive integer, got ${policy.limit}`);
  if (!Number.isInteger(policy.windowMs) || policy.windowMs < 1)
    throw new RangeError(`limiter windowMs must be a positive integer, got ${policy.windowMs}`);
}

/** Where the limit learned for a window key lives (next to it: same hash slot under a hash-tagged prefix). */
const learnedKey = (windowKey: string): string => `${windowKey}:learned-limit`;

/** Runs the script by its SHA, loading it once per Redis server (NOSCRIPT after a restart or failover). */
async function slidingWindowStep(redis: RedisConnection, key: string, policy: LimiterPolicy): Promise<number> {
  const args = [key, learnedKey(key), String(policy.windowMs), String(policy.limit), randomUUID()] as const;
  let reply: unknown;
  try {
    reply = await redis.evalsha(SCRIPT_SHA, 2, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await redis.eval(SLIDING_WINDOW_SCRIPT, 2, ...args);
  }
  if (typeof reply !== 'number' || !Number.isFinite(reply)) throw new Error(`limiter script returned ${String(reply)}`);
  return reply;
}

/**
 * A sliding-window limiter on Redis (one sorted set per key under `prefix`), shared by every process
 * using the same Redis and prefix. `acquire` sleeps until the request fits, then records it.
 */
export function createRedisLimiter(redis: RedisConnection, policy: LimiterPolicy, prefix: string): RequestLimiter {
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
    async learn(key: string, reported: { max: number; intervalMs: number }): Promise<number> {
      const limit = learnedLimit(policy, reported);
      if (limit === null) return policy.limit;
      await redis.set(learnedKey(`${prefix}:limiter:${key}`), String(limit), 'PX', LEARNED_LIMIT_TTL_MS);
      return limit;
    },
  };
}

/**
 * The limit per policy window for an account that reported `max` requests per `intervalMs`: the
 * policy's share of it, scaled to the policy's window. Null when the policy does not learn or the
 * report is not usable (then the policy's own limit stays).
 */
export function learnedLimit(policy: LimiterPolicy, reported: { max: number; intervalMs: number }): number | null {
  if (
    policy.share === undefined ||
    !Number.isFinite(reported.max) ||
    !Number.isFinite(reported.intervalMs) ||
    reported.max < 1 ||
    reported.intervalMs < 1
  )
    return null;
  const limit = Math.floor(reported.max * policy.share * (policy.windowMs / reported.intervalMs));
  return limit >= 1 ? limit : null;
}

/** A limiter that never waits: for tests and single-shot tools where the server's 429 is enough. */
export function createNoopLimiter(): RequestLimiter {
  return { acquire: async () => undefined };
}

/**
 * HubSpot's burst limit is per app and account: 100 requests per 10 s on Free/Starter, 190 on
 * Professional/Enterprise, 250 with the API limit pack. Until the account's own limit is known
 * (`X-HubSpot-RateLimit-Max`), the lowest applies; the app uses 90 % of it — the pace of the
 * official client's default limiter (9 per second) — so requests that reach HubSpot bunched by the
 * network do not tip its window over.
 */
export const HUBSPOT_LIMITER_POLICY: LimiterPolicy = { limit: 90, windowMs: 10_000, share: 0.9 };

/**
 * Salesforce has no burst limit for short requests, only the org's rolling 24 h allowance; 25 per
 * second keeps a busy sync from spending a day's allowance in minutes.
 */
export const SALESFORCE_LIMITER_POLICY: LimiterPolicy = { limit: 25, windowMs: 1_000 };

/**
 * A cap on the calls made in any rolling 24 h, counted in one-minute buckets (a day of single
 * requests in a sorted set would hold an entry per call: up to millions for a large org). Atomic on
 * the Redis server with its clock. KEYS: bucket counts (hash, with the running `total`), bucket
 * minutes (sorted set), the alert mark. ARGV: limit (-1: none, only counted), alert threshold (-1:
 * none), alert mark TTL, mode (`take` counts one call, `read` only reports). Returns {admitted,
 * used, wait ms or 1 when this call crossed the alert threshold first in the period}.
 */
const CALL_BUDGET_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local minute = math.floor(now / 60000)
local first = minute - 1439
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', first - 1)
for _, m in ipairs(expired) do
  redis.call('HINCRBY', KEYS[1], 'total', -tonumber(redis.call('HGET', KEYS[1], m) or '0'))
  redis.call('HDEL', KEYS[1], m)
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', first - 1) end
local used = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
if ARGV[4] == 'read' then return {1, used, 0} end
local limit = tonumber(ARGV[1])
if limit >= 0 and used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  local wait = 60000
  if oldest then wait = (tonumber(oldest) + 1440) * 60000 - now end
  if wait < 1 then wait = 1 end
  return {0, used, wait}
end
redis.call('HINCRBY', KEYS[1], tostring(minute), 1)
redis.call('ZADD', KEYS[2], minute, tostring(minute))
used = redis.call('HINCRBY', KEYS[1], 'total', 1)
redis.call('PEXPIRE', KEYS[1], 86460000)
redis.call('PEXPIRE', KEYS[2], 86460000)
local alertAt = tonumber(ARGV[2])
local crossed = 0
if alertAt > 0 and used >= alertAt and redis.call('SET', KEYS[3], tostring(now), 'PX', ARGV[3], 'NX') then crossed = 1 end
return {1, used, crossed}
`;

/** What one budget step came to. */
export type BudgetStep = { admitted: true; used: number; crossedAlert: boolean } | { admitted: false; used: number; retryAfterMs: number };

/** Calls counted per rolling 24 h under one Redis key, shared by every process. */
export class CallBudget {
  constructor(
    private readonly redis: RedisConnection,
    /** The Redis key the counts live under (one per account). */
    readonly key: string,
  ) {}

  private async run(limit: number | null, alertAt: number | null, mode: 'take' | 'read'): Promise<[number, number, number]> {
    const reply = await this.redis.eval(
      CALL_BUDGET_SCRIPT,
      3,
      this.key,
      `${this.key}:minutes`,
      `${this.key}:alerted`,
      String(limit ?? -1),
      String(alertAt ?? -1),
      String(24 * 60 * 60 * 1000),
      mode,
    );
    if (!Array.isArray(reply) || reply.length !== 3) throw new Error(`call budget script returned ${String(reply)}`);
    return reply.map(Number) as [number, number, number];
  }

  /** Counts one call when it fits under `limit` (null: counted, never refused). */
  async take(limit: number | null, alertAt: number | null): Promise<BudgetStep> {
    const [admitted, used, third] = await this.run(limit, alertAt, 'take');
    return admitted === 1 ? { admitted: true, used, crossedAlert: third === 1 } : { admitted: false, used, retryAfterMs: third };
  }

  /** The calls counted in the last 24 h. */
  async used(): Promise<number> {
    return (await this.run(null, null, 'read'))[1];
  }
}

/** The longest a call refused by the budget is told to wait before asking again. */
const BUDGET_RECHECK_MS = 60_000;

/** What `withCallBudget` needs to know at each call. */
export interface CallBudgetPolicy {
  budget: CallBudget;
  system: 'hubspot' | 'salesforce';
  /** The cap now (null: none) and the count at which to alert; read at each call, so a change applies at once. */
  limit(): Promise<{ limit: number | null; alertAt: number | null }>;
  /** Called once per budget period, by the call that reached the alert threshold. */
  onAlert(usage: { used: number; limit: number }): void;
}

/**
 * A limiter that also keeps a daily call budget: every call is counted; once the budget is spent
 * the call is refused with a rate-limit error carrying the wait until calls are available again,
 * so a drain is delayed (not failed) and its records stay pending. Pacing applies after the budget.
 */
export function withCallBudget(inner: RequestLimiter, policy: CallBudgetPolicy): RequestLimiter {
  return {
    async acquire(key: string): Promise<void> {
      const { limit, alertAt } = await policy.limit();
      const step = await policy.budget.take(limit, alertAt);
      if (!step.admitted) {
        // Waits at most a minute before asking again: a budget raised meanwhile (by an admin, read by
        // each process within seconds) is then used without waiting for the oldest calls to age out.
        throw new CrmRateLimitedError(
          policy.system,
          Math.min(step.retryAfterMs, BUDGET_RECHECK_MS),
          `the app's ${policy.system} API budget is spent (${step.used} of ${limit ?? '?'} calls in the last 24 h): waiting until calls are available again`,
        );
      }
      if (step.crossedAlert && limit !== null) policy.onAlert({ used: step.used, limit });
      await inner.acquire(key);
    },
    ...(inner.learn ? { learn: inner.learn.bind(inner) } : {}),
  };
}

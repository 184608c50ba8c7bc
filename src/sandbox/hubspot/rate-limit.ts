import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { callerOf } from './auth.ts';
import { rateLimited } from './errors.ts';
import type { SandboxConfig } from './sandbox-config.ts';

/** Timestamps of accepted requests inside a rolling window. */
class RollingWindow {
  private readonly hits: number[] = [];

  constructor(private readonly windowMs: number) {}

  count(now: number): number {
    while (this.hits.length > 0 && (this.hits[0] ?? 0) <= now - this.windowMs) this.hits.shift();
    return this.hits.length;
  }

  add(now: number): void {
    this.hits.push(now);
  }

  /** Hits in the last second (for the deprecated `Secondly-Remaining` header). */
  lastSecond(now: number): number {
    let count = 0;
    for (let i = this.hits.length - 1; i >= 0 && (this.hits[i] ?? 0) > now - 1000; i--) count++;
    return count;
  }
}

interface Bucket {
  burst: RollingWindow;
  search: RollingWindow;
}

interface DailyCount {
  day: string;
  count: number;
}

export const JOURNAL_REQUESTS_PER_SECOND = 100;
export const JOURNAL_SUBSCRIPTION_REQUESTS_PER_SECOND = 50;

const isSearch = (req: Request): boolean => req.method === 'POST' && /\/search\/?$/.test(req.path);

/**
 * Limits as HubSpot applies them: per app a rolling burst window (default 100 / 10 s →
 * `TEN_SECONDLY_ROLLING`), the search API's per-second limit (`SECONDLY`, "You have reached your
 * secondly limit." — the message the client's RetryDecorator looks for) and a daily cap (`DAILY`,
 * not retried by the client) per account. Refused requests do not count against the window.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly daily = new Map<string, DailyCount>();
  private journal = new RollingWindow(1000);
  private journalSubscriptions = new RollingWindow(1000);

  constructor(private readonly config: SandboxConfig) {}

  reset(): void {
    this.buckets.clear();
    this.daily.clear();
    this.journal = new RollingWindow(1000);
    this.journalSubscriptions = new RollingWindow(1000);
  }

  /**
   * The webhooks journal's limits, per app: 100 requests/s for the journal, 50/s for its
   * subscriptions (docs/reference/hubspot-webhooks-journal.md §2, a secondary source). Refused
   * with HubSpot's 429 body under the `SECONDLY` policy (the policy name is inferred); refused
   * calls do not count.
   */
  journalMiddleware(): RequestHandler {
    return (req: Request, _res: Response, next: NextFunction) => {
      const isSubscriptionCall = req.originalUrl.startsWith('/webhooks-journal/subscriptions/');
      const window = isSubscriptionCall ? this.journalSubscriptions : this.journal;
      const now = this.config.now();
      if (window.count(now) >= (isSubscriptionCall ? JOURNAL_SUBSCRIPTION_REQUESTS_PER_SECOND : JOURNAL_REQUESTS_PER_SECOND))
        throw rateLimited('SECONDLY', `sandbox:webhooks-journal:${this.config.portalId}`);
      window.add(now);
      next();
    };
  }

  /** Middleware placed after authentication. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const caller = callerOf(res);
      const headers = this.admit(caller.rateKey, caller.dailyKey, isSearch(req));
      res.set(headers.headers);
      if (headers.refused !== undefined)
        throw rateLimited(headers.refused, `sandbox:${caller.kind}:${this.config.portalId}`, headers.headers);
      next();
    };
  }

  /** Admits a call against its burst bucket and, for callers with a daily limit, its daily count. */
  private admit(
    key: string,
    dailyKey: string | undefined,
    search: boolean,
  ): { headers: Record<string, string>; refused?: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY' } {
    const { requests, windowMs, searchPerSecond, daily } = this.config.rateLimit;
    const now = this.config.now();
    const bucket = this.bucket(key);
    const today = dailyKey === undefined ? undefined : this.dailyCount(dailyKey, now);
    const used = bucket.burst.count(now);
    const searchUsed = bucket.search.count(now);
    let refused: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY' | undefined;
    if (today !== undefined && today.count >= daily) refused = 'DAILY';
    else if (used >= requests) refused = 'TEN_SECONDLY_ROLLING';
    else if (search && searchUsed >= searchPerSecond) refused = 'SECONDLY';
    if (refused === undefined) {
      bucket.burst.add(now);
      if (search) bucket.search.add(now);
      if (today !== undefined) today.count += 1;
    }
    const secondly = Math.max(1, Math.ceil(requests / Math.max(1, windowMs / 1000)));
    const headers: Record<string, string> = {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(windowMs),
      'X-HubSpot-RateLimit-Max': String(requests),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, requests - bucket.burst.count(now))),
      'X-HubSpot-RateLimit-Secondly': String(secondly),
      'X-HubSpot-RateLimit-Secondly-Remaining': String(Math.max(0, secondly - bucket.burst.lastSecond(now))),
    };
    // Daily headers are not sent for OAuth-authorised requests (docs/reference/hubspot-api.md §4.2).
    if (today !== undefined) {
      headers['X-HubSpot-RateLimit-Daily'] = String(daily);
      headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(Math.max(0, daily - today.count));
    }
    return refused === undefined ? { headers } : { headers, refused };
  }

  private bucket(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { burst: new RollingWindow(this.config.rateLimit.windowMs), search: new RollingWindow(1000) };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private dailyCount(key: string, now: number): DailyCount {
    const day = new Date(now).toISOString().slice(0, 10);
    let count = this.daily.get(key);
    if (count === undefined || count.day !== day) {
      count = { day, count: 0 };
      this.daily.set(key, count);
    }
    return count;
  }
}

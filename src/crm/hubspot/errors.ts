/**
 * Turns what `@hubspot/api-client` throws into the retry-deciding classes of `../errors.ts`.
 * The client throws an `ApiException` (`code` = HTTP status, `body` = parsed error, `headers`) for
 * every non-2xx answer; a network failure is Node's fetch `TypeError('fetch failed')` with the socket
 * error as its `cause` (client 14; 13 threw node-fetch's `FetchError`).
 */
import { z } from 'zod';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError, isNetworkFailure } from '../errors.ts';

/** The fields of a HubSpot error body we read; every one is optional (docs/reference/hubspot-api.md §4.2). */
const errorBodySchema = z.looseObject({
  message: z.string().optional(),
  category: z.string().optional(),
  policyName: z.string().optional(),
  errorType: z.string().optional(),
});

/** What an `ApiException` carries (each generated API module has its own class, so match by shape). */
interface ApiFailure {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Wait hints when HubSpot sends no `Retry-After` (docs/reference/hubspot-api.md §4.2, §5.3). */
export const RETRY_AFTER_MS = {
  /** The burst window is a rolling 10 s; after one full window every earlier request has left it. */
  TEN_SECONDLY_ROLLING: 10_000,
  /** The search API's per-second limit. */
  SECONDLY: 1_000,
  /**
   * The daily limit resets at midnight in the account's time zone, which the API does not tell us;
   * checking again hourly costs one refused call per hour instead of guessing the reset.
   */
  DAILY: 3_600_000,
} as const;

/** Statuses HubSpot documents as "try again later" besides 5xx: 423 Locked (record locked), 477 (account migration). */
const TRANSIENT_4XX = new Set([408, 423, 477]);

function isApiFailure(error: unknown): error is ApiFailure {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown; headers?: unknown };
  return typeof candidate.code === 'number' && candidate.code >= 100 && typeof candidate.headers === 'object' && candidate.headers !== null;
}

/** Removes bearer tokens and the given secrets from a message before it can reach a log or the sync log. */
export function redact(message: string, secrets: readonly string[] = []): string {
  let text = message;
  for (const secret of secrets) if (secret.length >= 6) text = text.split(secret).join('[redacted]');
  return text
    .replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]')
    .replace(/\b(access_token|refresh_token|hapikey|code)=[^&\s"']+/gi, '$1=[redacted]')
    .replace(/\bpat-[a-z0-9]{2,}-[A-Za-z0-9-]+/g, '[redacted]');
}

/** Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** How long to wait after a 429: the server's `Retry-After`, else the hint of the limit that was hit. */
export function retryAfterFor(body: unknown, headers: Record<string, string>, now: number): number {
  const fromHeader = parseRetryAfter(headers['retry-after'], now);
  if (fromHeader !== undefined && fromHeader > 0) return fromHeader;
  const parsed = errorBodySchema.safeParse(body);
  const policy = parsed.success ? parsed.data.policyName : undefined;
  const message = parsed.success ? (parsed.data.message ?? '') : '';
  if (policy === 'DAILY') return RETRY_AFTER_MS.DAILY;
  // The search API's 429 has no policyName, only the "secondly" message (docs/reference/hubspot-api.md §4.2).
  if (policy === 'SECONDLY' || /secondly limit/i.test(message)) return RETRY_AFTER_MS.SECONDLY;
  const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  return Number.isFinite(interval) && interval > 0 ? interval : RETRY_AFTER_MS.TEN_SECONDLY_ROLLING;
}

/** The error body as `{category, message}` with defaults. */
export function describeBody(body: unknown, status: number): { category: string; message: string } {
  const parsed = errorBodySchema.safeParse(body);
  const category = (parsed.success ? (parsed.data.category ?? parsed.data.errorType) : undefined) ?? `HTTP_${status}`;
  const message =
    (parsed.success ? parsed.data.message : undefined) ?? (typeof body === 'string' && body !== '' ? body.slice(0, 500) : `HTTP ${status}`);
  return { category, message };
}

/**
 * Maps a failure of a client call to a CRM error class; `what` names the operation for the message.
 * Anything that is neither an HTTP answer nor a network failure is returned unchanged (a bug).
 */
export function toHubSpotError(error: unknown, what: string, secrets: readonly string[] = [], now: number = Date.now()): unknown {
  if (isApiFailure(error)) {
    const status = error.code;
    const { category, message } = describeBody(error.body, status);
    const text = redact(`HubSpot ${what}: ${status} ${category}: ${message}`, secrets);
    if (status === 429) return new CrmRateLimitedError('hubspot', retryAfterFor(error.body, error.headers, now), text);
    if (status >= 500 || TRANSIENT_4XX.has(status)) return new CrmTransientError('hubspot', text, status);
    // An expired access token is not a lost grant: the token source hands out a fresh one on the retry.
    if (status === 401 && category === 'EXPIRED_AUTHENTICATION') return new CrmTransientError('hubspot', text, status);
    if (status === 401) return new CrmAuthError('hubspot', text);
    return new CrmRejectedError('hubspot', category, text, status);
  }
  if (isNetworkFailure(error)) {
    return new CrmTransientError('hubspot', redact(`HubSpot ${what}: network failure: ${(error as Error).message}`, secrets));
  }
  // A gateway page instead of JSON makes the generated deserializer give up; HubSpot will answer again.
  if (error instanceof Error && /mediaType .* is not supported|Unexpected token .* JSON|invalid json/i.test(error.message)) {
    return new CrmTransientError('hubspot', redact(`HubSpot ${what}: unreadable answer: ${error.message}`, secrets));
  }
  return error;
}

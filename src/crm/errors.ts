/**
 * The retry decision, encoded in the error's class. Adapters translate their client's failures
 * into these; workers only look at the class.
 */
import type { WriteOutcome } from './ports.ts';

/** The CRM asked us to slow down (HTTP 429, REQUEST_LIMIT_EXCEEDED). Wait `retryAfterMs`, then retry. */
export class CrmRateLimitedError extends Error {
  override readonly name = 'CrmRateLimitedError';
  constructor(
    readonly system: 'hubspot' | 'salesforce',
    readonly retryAfterMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** A 5xx, timeout or network failure: retry with backoff. */
export class CrmTransientError extends Error {
  override readonly name = 'CrmTransientError';
  constructor(
    readonly system: 'hubspot' | 'salesforce',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The CRM refused the request itself (4xx validation, missing field, bad id): retrying will not help. */
export class CrmRejectedError extends Error {
  override readonly name = 'CrmRejectedError';
  constructor(
    readonly system: 'hubspot' | 'salesforce',
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The credentials no longer work (revoked, expired refresh token): the admin must reconnect. */
export class CrmAuthError extends Error {
  override readonly name = 'CrmAuthError';
  constructor(
    readonly system: 'hubspot' | 'salesforce',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Record-level codes of a write's result that pass (the record itself is fine): Salesforce's row
 * lock and server hiccups inside a Collections answer (docs/reference/salesforce-api.md §3.4).
 */
const TRANSIENT_RECORD_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION']);

/** Whether a failed write outcome is a passing condition (row lock, server hiccup) rather than bad data. */
export function isTransientRecordFailure(outcome: WriteOutcome): boolean {
  return !outcome.ok && TRANSIENT_RECORD_CODES.has(outcome.code);
}

/**
 * Socket and DNS error codes of a request that got no answer at all (Node's `error.code`); the
 * same for either CRM, whichever HTTP client reached it.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
]);

/** Whether an error is a network failure of an HTTP client (no answer from the CRM at all). */
export function isNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // node-fetch (jsforce) throws a `FetchError`; an aborted request is an `AbortError`.
  if (error.name === 'FetchError' || error.name === 'AbortError') return true;
  // Node's own fetch (undici, behind @hubspot/api-client 14): a failure without an answer is a
  // `TypeError('fetch failed')` whose `cause` carries the socket error.
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  if (error.cause !== undefined && isNetworkFailure(error.cause)) return true;
  return /socket hang up|network timeout|ECONNRESET|ECONNREFUSED|ETIMEDOUT/i.test(error.message);
}

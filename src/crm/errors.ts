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

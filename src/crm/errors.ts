/**
 * The retry decision, encoded in the error's class. Adapters translate their client's failures
 * into these; workers only look at the class.
 */

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

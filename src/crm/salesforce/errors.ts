/**
 * Turns what `jsforce` throws into the retry-deciding classes of `../errors.ts`. jsforce throws an
 * `HttpApiError` whose `errorCode` is Salesforce's (or `ERROR_HTTP_<status>` for a body that is not
 * a Salesforce error, `MULTIPLE_API_ERRORS` with all of them in `data`); SOAP faults carry the
 * fault code (`sf:INVALID_SESSION_ID`); a failed session refresh is a plain
 * `Error('Unable to refresh session due to: …')`; OAuth failures are errors named after the OAuth
 * error (`invalid_grant`). See docs/reference/salesforce-api.md §3.4 and §4.6.
 */
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError, isNetworkFailure } from '../errors.ts';

/**
 * Wait hints for `REQUEST_LIMIT_EXCEEDED`. The daily allowance is a rolling 24 h window: calls made
 * a day ago drop out continually, so capacity returns in small steps; probing every five minutes
 * spends a handful of refused calls per hour. The concurrent long-request limit frees within seconds.
 */
export const REQUEST_LIMIT_RETRY_MS = { daily: 5 * 60_000, concurrent: 10_000 } as const;

/** Codes that mean "the same request will work later". */
const TRANSIENT_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
  'TXN_SECURITY_UNKNOWN_ERROR',
]);

/** Codes of a session that no longer works once jsforce's own refresh (if any) is behind us. */
const AUTH_CODES = new Set([
  'INVALID_SESSION_ID',
  'INVALID_AUTH_HEADER',
  'INVALID_GRANT',
  'INVALID_CLIENT',
  'INVALID_CLIENT_ID',
  'INACTIVE_OWNER_OR_USER',
  'INVALID_LOGIN',
  'BAD_OAUTH_TOKEN',
  'ERROR_HTTP_401',
]);

/** Removes tokens from a message: known secrets, bearer headers, `oauth_token=` and Salesforce session ids. */
export function redact(message: string, secrets: readonly (string | null | undefined)[] = []): string {
  let text = message;
  for (const secret of secrets) if (typeof secret === 'string' && secret.length >= 6) text = text.split(secret).join('[redacted]');
  return text
    .replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]')
    .replace(/\b(oauth_token|access_token|refresh_token|sessionId|code|password|client_secret)=[^&\s"']+/gi, '$1=[redacted]')
    .replace(/<sessionId>[^<]*<\/sessionId>/gi, '<sessionId>[redacted]</sessionId>')
    .replace(/\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+/g, '[redacted]');
}

/** The Salesforce code of a failure, without a SOAP namespace prefix, upper-cased. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { errorCode?: unknown; name?: unknown; data?: unknown };
  let code = typeof candidate.errorCode === 'string' ? candidate.errorCode : undefined;
  if (code === 'MULTIPLE_API_ERRORS' && Array.isArray(candidate.data)) {
    const first = candidate.data[0] as { errorCode?: unknown } | undefined;
    if (typeof first?.errorCode === 'string') code = first.errorCode;
  }
  // OAuth failures name the error after the OAuth code (`invalid_grant`), with no errorCode.
  if (code === undefined && typeof candidate.name === 'string' && /^[a-z_]+$/.test(candidate.name) && candidate.name.includes('_'))
    code = candidate.name;
  return code?.replace(/^[A-Za-z]+:/, '').toUpperCase();
}

/**
 * Maps a failure of a jsforce call to a CRM error class; `what` names the operation for the message.
 * Anything that is not a Salesforce, OAuth or network failure is returned unchanged (a bug).
 */
export function toSalesforceError(error: unknown, what: string, secrets: readonly (string | null | undefined)[] = []): unknown {
  if (!(error instanceof Error)) return error;
  if (
    error instanceof CrmRateLimitedError ||
    error instanceof CrmTransientError ||
    error instanceof CrmRejectedError ||
    error instanceof CrmAuthError
  )
    return error;
  const code = errorCodeOf(error);
  const text = (label: string) => redact(`Salesforce ${what}: ${label}: ${error.message}`, secrets);
  if (error.message.startsWith('Unable to refresh session')) return new CrmAuthError('salesforce', text('session refresh failed'));
  if (code === undefined) {
    if (isNetworkFailure(error)) return new CrmTransientError('salesforce', text('network failure'));
    return error;
  }
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    const concurrent = /concurrent/i.test(error.message);
    return new CrmRateLimitedError('salesforce', concurrent ? REQUEST_LIMIT_RETRY_MS.concurrent : REQUEST_LIMIT_RETRY_MS.daily, text(code));
  }
  const http = /^ERROR_HTTP_(\d{3})$/.exec(code);
  const status = http?.[1] === undefined ? undefined : Number(http[1]);
  if (status === 429 || status === 420) return new CrmRateLimitedError('salesforce', REQUEST_LIMIT_RETRY_MS.concurrent, text(code));
  if (TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500)) return new CrmTransientError('salesforce', text(code), status);
  if (AUTH_CODES.has(code)) return new CrmAuthError('salesforce', text(code));
  return new CrmRejectedError('salesforce', code, text(code), status);
}

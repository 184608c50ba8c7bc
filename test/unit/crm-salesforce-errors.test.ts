/**
 * Mapping of jsforce failures to the CRM error classes. jsforce's `HttpApiError` (not exported) has
 * `name` = `errorCode` = Salesforce's code and `data` = the parsed body (docs/reference/salesforce-api.md §4.6); the bodies
 * are Salesforce's error arrays (docs/reference/salesforce-api.md §3.4).
 */
import { describe, expect, it } from 'vitest';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError, isTransientRecordFailure } from '../../src/crm/errors.ts';
import { redact, REQUEST_LIMIT_RETRY_MS, toSalesforceError } from '../../src/crm/salesforce/errors.ts';

function httpApiError(errorCode: string, message: string, data: unknown = { errorCode, message }): Error {
  return Object.assign(new Error(message), { name: errorCode, errorCode, data });
}

function mapped(error: unknown): unknown {
  return toSalesforceError(error, 'upsert leads');
}

describe('Salesforce error mapping', () => {
  it('maps the spent daily allowance to a rate limit of five minutes', () => {
    const error = mapped(httpApiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(REQUEST_LIMIT_RETRY_MS.daily);
  });

  it('maps the concurrent long-request limit to a short rate limit', () => {
    const error = mapped(httpApiError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'));
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(REQUEST_LIMIT_RETRY_MS.concurrent);
  });

  it('maps a SOAP fault code with its namespace prefix', () => {
    expect(mapped(httpApiError('sf:REQUEST_LIMIT_EXCEEDED', 'REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.'))).toBeInstanceOf(
      CrmRateLimitedError,
    );
    expect(mapped(httpApiError('sf:UNKNOWN_EXCEPTION', 'UNKNOWN_EXCEPTION: An unexpected error occurred.'))).toBeInstanceOf(
      CrmTransientError,
    );
  });

  it('maps row locks, unavailable servers and non-JSON 5xx answers to transient errors', () => {
    for (const code of ['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'ERROR_HTTP_502', 'ERROR_HTTP_503']) {
      expect(mapped(httpApiError(code, 'try later'))).toBeInstanceOf(CrmTransientError);
    }
    expect((mapped(httpApiError('ERROR_HTTP_503', '<html>down</html>')) as CrmTransientError).status).toBe(503);
  });

  it('classifies MULTIPLE_API_ERRORS by the first error', () => {
    const data = [
      { errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' },
      { errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' },
    ];
    expect(mapped(httpApiError('MULTIPLE_API_ERRORS', 'Multiple errors returned.', data))).toBeInstanceOf(CrmTransientError);
  });

  it('maps an invalid session (no refresh possible) and a failed refresh to auth errors', () => {
    expect(mapped(httpApiError('INVALID_SESSION_ID', 'Session expired or invalid'))).toBeInstanceOf(CrmAuthError);
    expect(mapped(new Error('Unable to refresh session due to: expired access/refresh token'))).toBeInstanceOf(CrmAuthError);
    const oauth = Object.assign(new Error('authentication failure'), { name: 'invalid_grant' });
    expect(mapped(oauth)).toBeInstanceOf(CrmAuthError);
  });

  it('maps other Salesforce codes to rejections carrying the code', () => {
    const error = mapped(httpApiError('MALFORMED_QUERY', "unexpected token: 'SELEC'"));
    expect(error).toBeInstanceOf(CrmRejectedError);
    expect((error as CrmRejectedError).code).toBe('MALFORMED_QUERY');
  });

  it('maps network failures to transient errors and returns programming errors unchanged', () => {
    const refused = Object.assign(new Error('request to http://127.0.0.1:9/services/data failed, reason: connect ECONNREFUSED'), {
      name: 'FetchError',
      code: 'ECONNREFUSED',
    });
    expect(mapped(refused)).toBeInstanceOf(CrmTransientError);
    const bug = new TypeError('x is not a function');
    expect(mapped(bug)).toBe(bug);
  });

  it("maps a failed fetch whose cause is a socket error to a transient error, as HubSpot's client failures are", () => {
    const failed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ENETDOWN'), { code: 'ENETDOWN' }) });
    expect(mapped(failed)).toBeInstanceOf(CrmTransientError);
  });

  it('keeps session ids and tokens out of messages', () => {
    const session = '00D000000000001!AQ0AQHx9ObVt7Qq1uD3cC8gW6sK2';
    const error = toSalesforceError(
      Object.assign(new Error(`request to http://x/id/00D/005?format=json&oauth_token=${session} failed, reason: socket hang up`), {
        name: 'FetchError',
      }),
      'identity',
      [session],
    );
    expect((error as Error).message).not.toContain(session);
    expect(redact(`<sessionId>${session}</sessionId> Bearer ${session}`)).not.toContain(session);
  });
});

describe('record failures', () => {
  it('treats a row lock on one record as transient and bad data as permanent', () => {
    expect(isTransientRecordFailure({ ok: false, code: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access' })).toBe(true);
    expect(isTransientRecordFailure({ ok: false, code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Company]' })).toBe(
      false,
    );
    expect(isTransientRecordFailure({ ok: true, id: '00Q', created: true })).toBe(false);
  });
});

/**
 * Mapping of `@hubspot/api-client` failures to the CRM error classes. Bodies are the shapes of
 * docs/reference/hubspot-api.md §4.2; an `ApiException` carries `code`, `body` and lower-cased `headers`.
 */
import { describe, expect, it } from 'vitest';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../../src/crm/errors.ts';
import { parseRetryAfter, redact, RETRY_AFTER_MS, toHubSpotError } from '../../src/crm/hubspot/errors.ts';

const NOW = Date.parse('2026-04-01T08:00:00.000Z');

function apiException(code: number, body: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body, headers });
}

/** Reference §4.2, the documented 429 body. */
const TEN_SECONDLY = {
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  correlationId: 'c0ffee00-0000-4000-8000-000000000001',
  policyName: 'TEN_SECONDLY_ROLLING',
  requestId: 'r-1',
};

function mapped(error: unknown): unknown {
  return toHubSpotError(error, 'batch read contacts', [], NOW);
}

describe('HubSpot error mapping', () => {
  it('maps a TEN_SECONDLY_ROLLING 429 to a rate limit of one window', () => {
    const error = mapped(apiException(429, TEN_SECONDLY, { 'x-hubspot-ratelimit-interval-milliseconds': '10000' }));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(10_000);
  });

  it('waits one window of 10 s when the 429 has no interval header', () => {
    expect((mapped(apiException(429, TEN_SECONDLY)) as CrmRateLimitedError).retryAfterMs).toBe(RETRY_AFTER_MS.TEN_SECONDLY_ROLLING);
  });

  it('waits one second after the search API secondly limit, which has no policyName', () => {
    const error = mapped(apiException(429, { status: 'error', message: 'You have reached your secondly limit.' }));
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(1_000);
  });

  it('waits an hour after the DAILY limit', () => {
    const error = mapped(apiException(429, { ...TEN_SECONDLY, policyName: 'DAILY', message: 'You have reached your daily limit.' }));
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(3_600_000);
  });

  it('prefers the Retry-After header, in seconds or as a date', () => {
    expect((mapped(apiException(429, TEN_SECONDLY, { 'retry-after': '3' })) as CrmRateLimitedError).retryAfterMs).toBe(3_000);
    const at = new Date(NOW + 7_000).toUTCString();
    expect((mapped(apiException(429, TEN_SECONDLY, { 'retry-after': at })) as CrmRateLimitedError).retryAfterMs).toBe(7_000);
  });

  it('maps 5xx, 423 Locked and 477 to transient errors with the status', () => {
    for (const status of [500, 502, 503, 504, 423, 477]) {
      const error = mapped(apiException(status, { status: 'error', message: 'try later', category: 'INTERNAL_ERROR' }));
      expect(error).toBeInstanceOf(CrmTransientError);
      expect((error as CrmTransientError).status).toBe(status);
    }
  });

  it('maps a 401 for missing or revoked credentials to an auth error', () => {
    expect(
      mapped(apiException(401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' })),
    ).toBeInstanceOf(CrmAuthError);
  });

  it('maps a 401 for an expired access token to a transient error (the next attempt gets a fresh token)', () => {
    const body = {
      status: 'error',
      message: 'The OAuth token used to make this call expired 75 second(s) ago.',
      category: 'EXPIRED_AUTHENTICATION',
    };
    expect(mapped(apiException(401, body))).toBeInstanceOf(CrmTransientError);
  });

  it("maps other 4xx to a rejection carrying HubSpot's category and message", () => {
    const error = mapped(apiException(400, { status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR' }));
    expect(error).toBeInstanceOf(CrmRejectedError);
    expect((error as CrmRejectedError).code).toBe('VALIDATION_ERROR');
    expect((error as CrmRejectedError).status).toBe(400);
    expect((error as Error).message).toContain('Property values were not valid');
  });

  it('maps refused connections, timeouts and hang-ups to transient errors', () => {
    const refused = Object.assign(new Error('request to http://127.0.0.1:9/crm failed, reason: connect ECONNREFUSED'), {
      name: 'FetchError',
      code: 'ECONNREFUSED',
    });
    const timeout = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' });
    const hangUp = new Error('socket hang up');
    for (const error of [refused, timeout, hangUp]) expect(mapped(error)).toBeInstanceOf(CrmTransientError);
  });

  it("maps a network that is down to a transient error, as Salesforce's client failures are", () => {
    const down = Object.assign(new Error('connect EHOSTDOWN 10.0.0.1:443'), { code: 'EHOSTDOWN' });
    expect(mapped(down)).toBeInstanceOf(CrmTransientError);
  });

  it('returns a programming error unchanged', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(mapped(bug)).toBe(bug);
  });

  it('keeps tokens out of messages', () => {
    const token = 'CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4';
    const error = toHubSpotError(
      apiException(400, { message: `bad token ${token} in Authorization: Bearer ${token}`, category: 'VALIDATION_ERROR' }),
      'read',
      [token],
      NOW,
    );
    expect((error as Error).message).not.toContain(token);
  });
});

describe('redaction and Retry-After', () => {
  it('removes bearer tokens, private-app tokens and token query parameters', () => {
    const text = redact('Authorization: Bearer abc.def, pat-na1-1234abcd-0000-1111-2222-333344445555, ?refresh_token=xyz&x=1');
    expect(text).not.toMatch(/abc\.def|pat-na1-1234abcd|xyz/);
  });

  it('ignores an empty or unreadable Retry-After', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

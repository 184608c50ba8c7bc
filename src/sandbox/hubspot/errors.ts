import { randomUUID } from 'node:crypto';

/**
 * HubSpot-shaped error bodies. Shapes follow the real API (see docs/reference/hubspot-api.md §4):
 * `{status:"error", message, correlationId, category, errors?, context?}`; rate limits carry
 * `errorType`/`policyName` instead of a category.
 */
export type ErrorBody = Record<string, unknown> & { status: string; message: string; correlationId: string };

/** An HTTP answer the sandbox sends as-is: thrown by handlers, rendered by the error middleware. */
export class HubSpotError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = 'HubSpotError';
  }
}

/** One entry of `errors[]` (the generated `ErrorDetail` model). */
export interface ErrorDetail {
  message: string;
  code?: string;
  in?: string;
  context?: Record<string, string[]>;
  subCategory?: string;
}

/** Builds the common CRM error body. */
export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

/** One entry of a batch answer's `errors[]` (the generated `StandardError` model). */
export function batchError(
  category: string,
  message: string,
  context: Record<string, string[]>,
  subCategory?: string,
): Record<string, unknown> {
  return { status: 'error', category, ...(subCategory === undefined ? {} : { subCategory }), message, context, errors: [], links: {} };
}

/** 400 VALIDATION_ERROR with optional details. */
export function validationError(message: string, details: ErrorDetail[] = [], extra: Record<string, unknown> = {}): HubSpotError {
  const body = errorBody('VALIDATION_ERROR', message, details.length > 0 ? { errors: details, ...extra } : extra);
  return new HubSpotError(400, body);
}

/** 404 OBJECT_NOT_FOUND as the CRM object endpoints send it. */
export function objectNotFound(id: string): HubSpotError {
  return new HubSpotError(
    404,
    errorBody('OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', { context: { id: [id] } }),
  );
}

/** 404 for a route or resource that does not exist. */
export function resourceNotFound(message = 'resource not found'): HubSpotError {
  return new HubSpotError(404, errorBody('OBJECT_NOT_FOUND', message));
}

/** 409 CONFLICT (duplicate unique value, e.g. a contact email). */
export function conflict(message: string, extra: Record<string, unknown> = {}): HubSpotError {
  return new HubSpotError(409, errorBody('CONFLICT', message, extra));
}

/** 401 for a missing or unknown credential (real body of api.hubapi.com). */
export function invalidAuthentication(): HubSpotError {
  return new HubSpotError(
    401,
    errorBody(
      'INVALID_AUTHENTICATION',
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    ),
  );
}

/** 401 for an unknown developer API key (`?hapikey=`). */
export function invalidApiKey(): HubSpotError {
  return new HubSpotError(
    401,
    errorBody(
      'INVALID_AUTHENTICATION',
      'The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/',
      { context: {} },
    ),
  );
}

/** 401 EXPIRED_AUTHENTICATION, e.g. "The OAuth token used to make this call expired 75 second(s) ago." */
export function expiredAuthentication(expiredAt: number, now: number): HubSpotError {
  const message = `The OAuth token used to make this call expired ${describeAge(now - expiredAt)} ago.`;
  return new HubSpotError(
    401,
    errorBody('EXPIRED_AUTHENTICATION', message, { context: { 'expire time': [new Date(expiredAt).toISOString()] } }),
  );
}

function describeAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} second(s)`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} minute(s)`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} hour(s)`;
  return `${Math.floor(seconds / 86_400)} day(s)`;
}

/** Which limit a 429 reports; the client retries TEN_SECONDLY_ROLLING and the search "secondly" message. */
export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

const RATE_LIMIT_MESSAGES: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

/** The real 429 body: `errorType: "RATE_LIMIT"`, `policyName`, correlationId, requestId. */
export function rateLimited(policy: RateLimitPolicy, groupName: string, headers: Record<string, string> = {}): HubSpotError {
  return new HubSpotError(
    429,
    {
      status: 'error',
      message: RATE_LIMIT_MESSAGES[policy],
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: policy,
      groupName,
      requestId: randomUUID(),
    },
    headers,
  );
}

/** A 5xx as HubSpot's edge answers when a backend fails. */
export function serverError(status: number): HubSpotError {
  const message = status === 503 ? 'Service Unavailable' : status === 502 ? 'Bad Gateway' : 'internal error';
  return new HubSpotError(status, errorBody('INTERNAL_ERROR', message));
}

/** 403 MISSING_SCOPES as api.hubapi.com sends it. */
export function missingScopes(scope: string): HubSpotError {
  return new HubSpotError(
    403,
    errorBody(
      'MISSING_SCOPES',
      "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
      {
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [scope] } }],
        links: { scopes: 'https://developers.hubspot.com/scopes' },
      },
    ),
  );
}

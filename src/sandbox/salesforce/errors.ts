/** Salesforce-shaped failures: REST answers a JSON array of `{message, errorCode, fields?}`. */
import type { SfError } from './types.ts';

/** A failure that maps to one HTTP status and a Salesforce error array. */
export class SfHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SfError[],
  ) {
    super(errors[0]?.message ?? `HTTP ${status}`);
    this.name = 'SfHttpError';
  }
}

export function sfError(errorCode: string, message: string, fields?: string[]): SfError {
  return fields === undefined ? { message, errorCode } : { message, errorCode, fields };
}

export function httpError(status: number, errorCode: string, message: string, fields?: string[]): SfHttpError {
  return new SfHttpError(status, [sfError(errorCode, message, fields)]);
}

export const notFound = (): SfHttpError => httpError(404, 'NOT_FOUND', 'The requested resource does not exist');

export const malformedQuery = (message: string): SfHttpError => httpError(400, 'MALFORMED_QUERY', message);

export const invalidField = (message: string): SfHttpError => httpError(400, 'INVALID_FIELD', message);

export const invalidSession = (): SfHttpError => httpError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');

export const requestLimitExceeded = (): SfHttpError => httpError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');

/** A status for a record-level error when it is the only error of a single-record request. */
export function statusForRecordErrors(errors: SfError[]): number {
  const code = errors[0]?.errorCode;
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED') return 404;
  return 400;
}

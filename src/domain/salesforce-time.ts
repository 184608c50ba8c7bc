/**
 * Salesforce's datetimes as the REST API writes them: `2026-12-05T02:01:32.922+0000` (the offset
 * without a colon, which ISO 8601 parsers do not all take).
 */

/** A Salesforce datetime in epoch ms; null for anything that is not one. */
export function salesforceTime(value: unknown): number | null {
  if (typeof value !== 'string' || value === '') return null;
  const at = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(at) ? at : null;
}

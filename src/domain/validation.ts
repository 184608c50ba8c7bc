import type { z } from 'zod';
import { err, ok, type Result } from './result.ts';

/** Renders a zod path such as `rows[2].direction`, or `(root)` for the whole input. */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let rendered = '';
  for (const segment of path) {
    if (typeof segment === 'number') rendered += `[${segment}]`;
    else rendered += rendered === '' ? String(segment) : `.${String(segment)}`;
  }
  return rendered === '' ? '(root)' : rendered;
}

/** Lists every zod issue as one line `path: message`, so an admin sees all problems at once. */
export function zodIssueMessages(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
}

/** A validator from a zod schema: the value, or every problem as a `path: message` line. */
export function validatorOf<S extends z.ZodType>(schema: S): (input: unknown) => Result<z.output<S>, string[]> {
  return (input) => {
    const parsed = schema.safeParse(input);
    return parsed.success ? ok(parsed.data) : err(zodIssueMessages(parsed.error));
  };
}

/**
 * A zod refinement of a list whose rows must be unique by `keyOf`: each repeat is an issue at the
 * row's `field`, saying which row (`describe`) is listed twice.
 */
export function uniqueRows<T>(
  keyOf: (row: T) => string,
  describe: (row: T) => string,
  field: string,
): (rows: readonly T[], context: z.RefinementCtx) => void {
  return (rows, context) => {
    const seen = new Set<string>();
    rows.forEach((row, index) => {
      const key = keyOf(row);
      if (seen.has(key)) context.addIssue({ code: 'custom', message: `${describe(row)} is listed twice`, path: [index, field] });
      seen.add(key);
    });
  };
}

/** Compares two system values the way both CRMs compare picklist values: trimmed, case-insensitive. */
export function sameValue(a: string, b: string): boolean {
  return normalizeValue(a) === normalizeValue(b);
}

/** Normalizes a system value for comparison: trimmed and lower-cased. */
export function normalizeValue(value: string): string {
  return value.trim().toLowerCase();
}

/** True when a value carries no information: absent, null or only whitespace. */
export function isBlank(value: string | null | undefined): boolean {
  return value === null || value === undefined || value.trim() === '';
}

/** The trimmed value, or null when it is blank. */
export function presentOrNull(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Reads a CRM timestamp (epoch milliseconds as number or digits, or an ISO 8601 string). */
export function parseTimestamp(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = value.trim();
  if (text === '') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

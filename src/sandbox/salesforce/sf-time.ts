/** Salesforce's wire formats for time: datetimes `2024-01-01T00:00:00.000+0000` (UTC), dates `2024-01-01`. */

const DAY_MS = 86_400_000;

/** Formats epoch milliseconds the way REST returns datetime fields. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Formats epoch milliseconds as a date (UTC; the sandbox org's time zone is GMT). */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Parses an ISO-8601 datetime with an offset (`Z`, `+0000`, `+00:00`); null when invalid. */
export function parseDateTime(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (!m) return null;
  const offset = m[8] ?? 'Z';
  const normalizedOffset = offset === 'Z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
  const fraction = (m[7] ?? '.000').slice(0, 4).padEnd(4, '0');
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${fraction}${normalizedOffset}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** Parses `YYYY-MM-DD` to the epoch milliseconds of its UTC midnight; null when invalid. */
export function parseDate(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatDate(ms) === value ? ms : null;
}

/** UTC midnight of the day holding `ms`. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function addDays(ms: number, days: number): number {
  return ms + days * DAY_MS;
}

/** Adds calendar months to a UTC midnight that is the first of a month. */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
}

export function startOfMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function startOfQuarter(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / 3) * 3, 1);
}

export function startOfYear(ms: number): number {
  return Date.UTC(new Date(ms).getUTCFullYear(), 0, 1);
}

/** Sunday-based week start, as Salesforce's default (en_US) locale counts weeks. */
export function startOfWeek(ms: number): number {
  const day = startOfDay(ms);
  return day - new Date(day).getUTCDay() * DAY_MS;
}

export { DAY_MS };

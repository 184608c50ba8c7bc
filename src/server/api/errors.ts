/** The admin API's error answers: `{error, message, issues?}` with a 4xx status, one place. */
import type { Response } from 'express';
import type { z } from 'zod';
import { zodIssueMessages } from '../../domain/validation.ts';

/** Sends an error answer. */
export function sendError(res: Response, status: number, error: string, message: string, issues?: readonly string[]): void {
  res.status(status).json({ error, message, ...(issues && issues.length > 0 ? { issues } : {}) });
}

/** Parses request input; on failure answers 400 with every issue and returns undefined. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, res: Response, what: string): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = zodIssueMessages(parsed.error).map((issue) => `${what}.${issue}`.replace(`${what}.(root)`, what));
  sendError(res, 400, 'invalid_request', `Invalid ${what}: ${issues[0] ?? 'malformed'}`, issues);
  return undefined;
}

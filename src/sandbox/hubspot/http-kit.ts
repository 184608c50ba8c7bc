import type { Request } from 'express';
import type { z } from 'zod';
import { validationError } from './errors.ts';

/** Parses a request body with zod; a mismatch becomes HubSpot's 400 VALIDATION_ERROR with one detail per issue. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    message: issue.message,
    code: 'INVALID_INPUT',
    in: issue.path.map(String).join('.') || 'body',
  }));
  const summary = details.map((detail) => `${detail.in}: ${detail.message}`).join('; ');
  throw validationError(`Invalid input JSON: ${summary}`, details);
}

/** A query parameter given once or repeated, and/or comma-separated (`properties=a,b&properties=c`). */
export function queryList(req: Request, name: string): string[] | undefined {
  const raw: unknown = req.query[name];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).filter((value): value is string => typeof value === 'string');
  const list = values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  return list;
}

/** A single string query parameter (the first one when repeated). */
export function queryString(req: Request, name: string): string | undefined {
  const raw: unknown = req.query[name];
  const value: unknown = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value : undefined;
}

/** `true`/`false` query parameter, default false. */
export function queryBool(req: Request, name: string): boolean {
  return queryString(req, name)?.toLowerCase() === 'true';
}

/** An integer query parameter in a range, or the default; anything else is a 400. */
export function queryInt(req: Request, name: string, fallback: number, min: number, max: number): number {
  const raw = queryString(req, name);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw validationError(`${name} must be an integer between ${min} and ${max}`, [
      { message: `invalid ${name}: ${raw}`, code: 'INVALID_INTEGER', in: name },
    ]);
  }
  return value;
}

/** A path parameter (Express 5 types them as string). */
export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

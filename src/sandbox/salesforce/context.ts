/**
 * What every route module of the sandbox shares, and the gate in front of the REST API:
 * version check → injected faults → session → daily allowance → `Sforce-Limit-Info`.
 */
import type { NextFunction, Request, Response } from 'express';
import { httpError, invalidSession, notFound, requestLimitExceeded, SfHttpError } from './errors.ts';
import { INJECTED_RESPONSES, type FaultInjector } from './faults.ts';
import type { ApiUsage, CallStats } from './limits.ts';
import type { QueryCursors } from './query-cursors.ts';
import type { WriteContext } from './records.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { OrgStore } from './state-store.ts';
import type { TokenService } from './tokens.ts';

export interface SandboxContext {
  config: SandboxConfig;
  store: OrgStore;
  tokens: TokenService;
  usage: ApiUsage;
  faults: FaultInjector;
  stats: CallStats;
  cursors: QueryCursors;
  /** Base URL of the running server (login URL and instance URL). */
  url(): string;
}

export interface Session {
  userId: string;
  token: string;
  channel: 'api' | 'ui';
}

export const MIN_API_VERSION = 20;
export const MAX_API_VERSION = 66;

/** `v60.0` → `60.0`, or undefined when the version is not one the org serves. */
export function parseVersion(raw: string | undefined): string | undefined {
  const m = /^v(\d{2})\.0$/.exec(raw ?? '');
  const major = Number(m?.[1]);
  return m && major >= MIN_API_VERSION && major <= MAX_API_VERSION ? `${major}.0` : undefined;
}

export function sessionOf(res: Response): Session {
  const session = res.locals.session as Session | undefined;
  if (!session) throw invalidSession();
  return session;
}

export function versionOf(req: Request): string {
  return parseVersion(req.params.version as string | undefined) ?? '60.0';
}

/**
 * The write context of a REST request: its user, the clock, and the Sforce-Auto-Assign header.
 * For API sessions an absent header means TRUE (Assignment Rule Header docs; an AssignmentRule id
 * also applies the rules). A rep's UI session (sandbox rep token) assigns only when asked, like the
 * unchecked "Assign using active assignment rule" box on the edit page.
 */
export function writeContext(ctx: SandboxContext, req: Request, res: Response): WriteContext {
  const header = req.get('sforce-auto-assign')?.trim().toUpperCase();
  const session = sessionOf(res);
  const autoAssign = header === undefined ? session.channel === 'api' : header !== 'FALSE';
  const recordFault = (type: string) => {
    const injected = ctx.faults.forRecord(type);
    if (injected) ctx.stats.faultsInjected++;
    return injected;
  };
  return { userId: session.userId, now: ctx.config.now(), autoAssign, recordFault };
}

/** A query-string parameter as text (repeated or nested parameters are refused as absent). */
export function queryParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** Text of a JSON scalar (objects and arrays as JSON). */
export function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

export function bearerToken(req: Request): string | undefined {
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

/**
 * Error injection for every API surface (REST, SOAP, OAuth), answered in that surface's format.
 * Runs before authentication, as a failing Salesforce front end would.
 */
export function faultGate(ctx: SandboxContext, soapFault: (res: Response, code: string, message: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const injected = req.path.startsWith('/__sandbox') ? undefined : ctx.faults.forRequest(req.method, req.path);
    if (!injected) {
      next();
      return;
    }
    ctx.stats.faultsInjected++;
    const { status, error } = INJECTED_RESPONSES[injected];
    if (req.path.startsWith('/services/Soap/')) soapFault(res, `sf:${error.errorCode}`, error.message);
    else if (req.path.startsWith('/services/oauth2/'))
      res.status(status).json({ error: error.errorCode.toLowerCase(), error_description: error.message });
    else res.status(status).json([error]);
  };
}

/** Gate for `/services/data/:version/*`. */
export function restApiGate(ctx: SandboxContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!parseVersion(req.params.version as string | undefined)) throw notFound();
    const token = bearerToken(req);
    const session = token === undefined ? undefined : ctx.tokens.session(token);
    if (!session) throw invalidSession();
    if (ctx.usage.exhausted()) {
      res.set('Sforce-Limit-Info', ctx.usage.header());
      throw requestLimitExceeded();
    }
    ctx.usage.record();
    res.set('Sforce-Limit-Info', ctx.usage.header());
    res.locals.session = { userId: session.userId, token: session.token, channel: session.channel } satisfies Session;
    next();
  };
}

/** Express error handler: Salesforce error arrays for known failures, UNKNOWN_EXCEPTION otherwise. */
export function restErrorHandler(ctx: SandboxContext) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof SfHttpError) {
      res.status(error.status).json(error.errors);
      return;
    }
    const parseFailure = error as { type?: string; message?: string };
    if (parseFailure.type === 'entity.parse.failed') {
      res.status(400).json(httpError(400, 'JSON_PARSER_ERROR', parseFailure.message ?? 'Malformed JSON').errors);
      return;
    }
    ctx.config.logger.error({ err: error, path: req.path }, 'salesforce sandbox: unexpected error');
    res.status(500).json(httpError(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred in the sandbox org').errors);
  };
}

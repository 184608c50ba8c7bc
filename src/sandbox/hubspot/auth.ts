import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { expiredAuthentication, invalidApiKey, invalidAuthentication } from './errors.ts';
import type { ChangeOrigin } from './model.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';
import { queryString } from './http-kit.ts';

/** Who is calling: decides rate-limit bucket, headers and the `changeSource` of writes. */
export interface Caller {
  kind: 'private-app' | 'oauth' | 'developer-key';
  /** Rate-limit bucket (per token). */
  rateKey: string;
  origin: ChangeOrigin;
  /** Scopes of an OAuth grant; the private-app token holds every scope the portal offers. */
  scopes?: readonly string[];
}

/** The caller set by one of the auth middlewares. */
export function callerOf(res: Response): Caller {
  const caller = (res.locals as { caller?: Caller }).caller;
  if (caller === undefined) throw new Error('route reached without authentication middleware');
  return caller;
}

/** Origin of a write made by the caller (API writes with an app token are INTEGRATION, sourceId = app id). */
export function originOf(res: Response): ChangeOrigin {
  return callerOf(res).origin;
}

function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

/**
 * Bearer authentication for the CRM APIs: the private-app token or an OAuth access token this
 * sandbox issued and that has not expired. Missing or unknown → 401 INVALID_AUTHENTICATION,
 * expired → 401 EXPIRED_AUTHENTICATION ("expired N minute(s) ago").
 */
export function bearerAuth(store: SandboxStore, config: SandboxConfig): RequestHandler {
  const integration: ChangeOrigin = { changeSource: 'INTEGRATION', sourceId: String(config.appId) };
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (token === undefined) throw invalidAuthentication();
    if (token === config.privateAppToken) {
      (res.locals as { caller?: Caller }).caller = { kind: 'private-app', rateKey: `pat:${token}`, origin: integration };
      next();
      return;
    }
    const grant = store.accessTokens.get(token);
    if (grant === undefined) throw invalidAuthentication();
    const now = config.now();
    if (grant.expiresAt <= now) throw expiredAuthentication(grant.expiresAt, now);
    (res.locals as { caller?: Caller }).caller = {
      kind: 'oauth',
      rateKey: `oauth:${grant.hubId}:${token}`,
      origin: integration,
      scopes: grant.scopes,
    };
    next();
  };
}

/** Developer API key (`?hapikey=`) authentication of the Webhooks v3 management API. */
export function developerKeyAuth(config: SandboxConfig): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = queryString(req, 'hapikey');
    if (key === undefined || key !== config.developerKey) throw invalidApiKey();
    (res.locals as { caller?: Caller }).caller = {
      kind: 'developer-key',
      rateKey: `hapikey:${key}`,
      origin: { changeSource: 'INTEGRATION', sourceId: String(config.appId) },
    };
    next();
  };
}

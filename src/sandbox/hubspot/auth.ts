import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { expiredAuthentication, invalidApiKey, invalidAuthentication } from './errors.ts';
import type { ChangeOrigin } from './model.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';
import { queryString } from './http-kit.ts';

/** Who is calling: decides rate-limit bucket, headers and the `changeSource` of writes. */
export interface Caller {
  kind: 'private-app' | 'oauth' | 'developer-key';
  /** Burst-limit bucket: per private app, per OAuth token. */
  rateKey: string;
  /** Daily-limit bucket: one per account for its private apps; none for OAuth (docs/reference/hubspot-api.md §4.1). */
  dailyKey?: string;
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

/**
 * The portal's private apps: the app's own (`privateAppToken`, the configured app id) and any other
 * an admin created in Settings → Integrations → Private apps (a script, a marketing tool). Each
 * has its own token and its own burst limit; the daily limit is the account's, shared by all of
 * them (docs/reference/hubspot-api.md §4.1). Writes made with one carry `changeSource:
 * "INTEGRATION"` and that app's id.
 */
export class PrivateApps {
  private readonly apps = new Map<string, { appId: number; name: string }>();
  private nextAppId: number;

  constructor(private readonly config: SandboxConfig) {
    this.apps.set(config.privateAppToken, { appId: config.appId, name: 'app' });
    this.nextAppId = config.appId + 1;
  }

  /** Creates another private app in the portal and returns its access token. */
  create(name: string): { token: string; appId: number } {
    const appId = this.nextAppId++;
    const token = `pat-${this.config.portalId}-${appId}-${randomBytes(12).toString('hex')}`;
    this.apps.set(token, { appId, name });
    return { token, appId };
  }

  appOf(token: string): number | undefined {
    return this.apps.get(token)?.appId;
  }
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
export function bearerAuth(store: SandboxStore, config: SandboxConfig, privateApps: PrivateApps): RequestHandler {
  const integration: ChangeOrigin = { changeSource: 'INTEGRATION', sourceId: String(config.appId) };
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (token === undefined) throw invalidAuthentication();
    const privateAppId = privateApps.appOf(token);
    if (privateAppId !== undefined) {
      (res.locals as { caller?: Caller }).caller = {
        kind: 'private-app',
        rateKey: `pat:${privateAppId}`,
        dailyKey: `account:${config.portalId}`,
        origin: { changeSource: 'INTEGRATION', sourceId: String(privateAppId) },
      };
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
      dailyKey: `hapikey:${key}`,
      origin: { changeSource: 'INTEGRATION', sourceId: String(config.appId) },
    };
    next();
  };
}

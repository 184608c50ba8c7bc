/**
 * Admin sign-in: ADMIN_TOKEN compared in constant time, then an httpOnly, SameSite=Strict cookie
 * holding a random session id whose SHA-256 alone is stored. API clients may send the token as a
 * bearer instead. Cookie-authenticated state changes carry the session's CSRF token (form field
 * `_csrf` or header `X-CSRF-Token`). Nothing here logs a token, a session id or a CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../log.ts';
import type { Queryable } from '../../store/db.ts';
import { createAdminSession, deleteAdminSession, findAdminSession, touchAdminSession } from '../../store/admin-sessions.ts';

export const SESSION_COOKIE = 'smk_admin';
const SESSION_TTL_MS = 12 * 60 * 60_000;
const TOUCH_AFTER_MS = 60_000;
const LOGIN_WINDOW_MS = 15 * 60_000;
const LOGIN_MAX_FAILURES = 10;

/** Who is signed in for this request. */
export interface AdminIdentity {
  via: 'session' | 'bearer';
  /** The CSRF token of the session (empty for bearer requests, which need none). */
  csrfToken: string;
}

/** SHA-256, hex: how session ids, OAuth states and browser nonces are stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two secrets in constant time (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Reads one cookie from the request. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Whether the browser says the request comes from this origin (Fetch Metadata, else Origin vs Host). */
function isSameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/** The identity stored on the response by the auth middleware. */
export function identityOf(res: Response): AdminIdentity {
  const identity = (res.locals as { admin?: AdminIdentity }).admin;
  if (!identity) throw new Error('admin route reached without authentication');
  return identity;
}

export interface AdminAuthDeps {
  db: Queryable;
  adminToken: string;
  /** Sets the cookie's Secure flag (PUBLIC_URL is https). */
  secureCookies: boolean;
  log: Logger;
  now?: () => number;
}

/** The sign-in, session and CSRF machinery. */
export class AdminAuth {
  private readonly now: () => number;
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly deps: AdminAuthDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether this client may try to sign in now (10 failures per 15 minutes per address). */
  mayAttempt(address: string): boolean {
    const recent = (this.failures.get(address) ?? []).filter((at) => at > this.now() - LOGIN_WINDOW_MS);
    this.failures.set(address, recent);
    return recent.length < LOGIN_MAX_FAILURES;
  }

  /** Checks a submitted token; a failure counts against the address. */
  checkToken(address: string, candidate: string): boolean {
    const ok = secretsEqual(candidate, this.deps.adminToken);
    if (ok) this.failures.delete(address);
    else {
      this.failures.set(address, [...(this.failures.get(address) ?? []), this.now()]);
      this.deps.log.warn({ address }, 'admin sign-in refused: wrong token');
    }
    return ok;
  }

  /** Starts a session and sets its cookie. */
  async signIn(res: Response): Promise<void> {
    const id = randomBytes(32).toString('base64url');
    await createAdminSession(this.deps.db, { idHash: sha256(id), csrfToken: randomBytes(24).toString('base64url'), expiresAt: new Date(this.now() + SESSION_TTL_MS) });
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: this.deps.secureCookies, path: '/', maxAge: SESSION_TTL_MS });
    this.deps.log.info('admin signed in');
  }

  /** Ends the session of this request, if any, and clears its cookie. */
  async signOut(req: Request, res: Response): Promise<void> {
    const id = readCookie(req, SESSION_COOKIE);
    if (id) await deleteAdminSession(this.deps.db, sha256(id));
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: this.deps.secureCookies, path: '/' });
  }

  /** Who this request is: a live session, the admin token as a bearer, or nobody. */
  async identify(req: Request): Promise<AdminIdentity | null> {
    const authorization = req.headers.authorization;
    if (authorization) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
      return match?.[1] && secretsEqual(match[1].trim(), this.deps.adminToken) ? { via: 'bearer', csrfToken: '' } : null;
    }
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return null;
    const idHash = sha256(id);
    const now = this.now();
    const session = await findAdminSession(this.deps.db, idHash, new Date(now));
    if (!session) return null;
    if (now - session.lastSeenAt.getTime() > TOUCH_AFTER_MS) await touchAdminSession(this.deps.db, idHash, new Date(now), new Date(now + SESSION_TTL_MS));
    return { via: 'session', csrfToken: session.csrfToken };
  }

  /**
   * Guards a router: pages redirect to the sign-in page, the API answers 401. Unsafe requests of a
   * cookie session need the CSRF token, or (`csrf: 'same-origin'`, for the bundled queue dashboard,
   * which cannot send it) the browser's word that they come from this origin.
   */
  guard(kind: 'page' | 'api', csrf: 'token' | 'same-origin' = 'token'): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const identity = await this.identify(req);
      if (!identity) {
        if (kind === 'api') {
          res.status(401).json({ error: 'unauthorized', message: 'Sign in at /admin/login, or send the admin token as "Authorization: Bearer <ADMIN_TOKEN>"' });
        } else {
          res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
        }
        return;
      }
      if (identity.via === 'session' && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
        const header = req.get('x-csrf-token');
        const field = (req.body as Record<string, unknown> | undefined)?._csrf;
        const sent = header ?? (typeof field === 'string' ? field : undefined);
        const allowed = csrf === 'same-origin' ? isSameOrigin(req) : Boolean(sent && secretsEqual(sent, identity.csrfToken));
        if (!allowed) {
          res.status(403);
          if (kind === 'api' || req.accepts(['json', 'html']) === 'json') {
            res.json({ error: 'csrf_failed', message: 'Missing or wrong CSRF token: reload the page and try again' });
          } else {
            res.type('text/plain').send('Missing or wrong CSRF token: reload the page and try again.');
          }
          return;
        }
      }
      (res.locals as { admin?: AdminIdentity }).admin = identity;
      next();
    };
  }
}

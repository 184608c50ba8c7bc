/**
 * Admin sign-in: who is calling, and since when. Three kinds of caller: the operator, holding
 * ADMIN_TOKEN (a bearer on /api and /admin, or the sign-in form, which starts a session); and the
 * users invited to one installation (installation admins and viewers), who only ever have
 * sessions, started by accepting their invitation link.
 *
 * Sessions: an httpOnly, SameSite=Strict cookie holding a random id whose SHA-256 alone is stored,
 * bound to the credential that created it (an operator session carries an HMAC of ADMIN_TOKEN, so
 * rotating the token and restarting ends it; a user's session ends when the user is revoked), idle
 * for at most 12 hours and alive for at most 7 days whatever its use. Every presentation of the
 * admin token goes through the shared failure counter (`sign-in-limiter.ts`). Cookie-authenticated
 * state changes carry the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`).
 * Nothing here logs a token, a session id or a CSRF token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../log.ts';
import type { Queryable } from '../../store/db.ts';
import {
  createAdminSession,
  deleteAdminSession,
  deleteSessionsOf,
  findAdminSession,
  touchAdminSession,
  type SessionOwner,
} from '../../store/admin-sessions.ts';
import type { InstallationRole } from '../../store/admin-users.ts';
import type { SignInLimiter } from './sign-in-limiter.ts';

export const SESSION_COOKIE = 'smk_admin';
/** A session unused for this long ends. */
export const SESSION_IDLE_MS = 12 * 60 * 60_000;
/** A session ends this long after sign-in, however much it is used. */
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60_000;
const TOUCH_AFTER_MS = 60_000;

export type AdminRole = 'operator' | InstallationRole;

/** Who is signed in for this request. */
export interface AdminIdentity {
  via: 'session' | 'bearer';
  role: AdminRole;
  /** The one installation an invited user belongs to; null for the operator (all of them). */
  installationId: string | null;
  /** The invited user's id; null for the operator. */
  userId: string | null;
  /** Shown in the audit trail and the page header: "operator" or the user's name. */
  name: string;
  /** The CSRF token of the session (empty for bearer requests, which need none). */
  csrfToken: string;
}

/** How a request's credentials were judged. */
export type Identification =
  | { kind: 'signed-in'; identity: AdminIdentity }
  | { kind: 'anonymous' }
  | { kind: 'refused' }
  | { kind: 'locked'; retryAfterSeconds: number };

/** How a presented admin token was judged. */
export type TokenCheck =
  { kind: 'accepted' } | { kind: 'refused'; lockedForSeconds: number } | { kind: 'locked'; retryAfterSeconds: number };

/** SHA-256, hex: how session ids, OAuth states, invitation tokens and browser nonces are stored. */
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

/** The client address: the socket's peer, or X-Forwarded-For through the proxies TRUST_PROXY names. */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

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
  limiter: SignInLimiter;
  log: Logger;
  now?: () => number;
}

/** The sign-in, session and CSRF machinery. */
export class AdminAuth {
  private readonly now: () => number;
  /** What operator sessions are bound to: an HMAC of ADMIN_TOKEN, which does not reveal it. */
  private readonly operatorCredential: string;

  constructor(private readonly deps: AdminAuthDeps) {
    this.now = deps.now ?? Date.now;
    this.operatorCredential = `operator:${createHmac('sha256', deps.adminToken).update('smarketing-sync admin session').digest('hex')}`;
  }

  /**
   * Judges a presented admin token (bearer or sign-in form): refused without a look while the
   * address is locked out; a wrong one counts as a failure and is logged without its value.
   */
  async checkToken(address: string, candidate: string, via: 'bearer' | 'form'): Promise<TokenCheck> {
    const wait = await this.deps.limiter.waitBefore(address);
    if (wait > 0) {
      this.deps.log.warn(
        { address, via, retryAfterSeconds: seconds(wait) },
        'admin sign-in refused: too many wrong tokens from this address',
      );
      return { kind: 'locked', retryAfterSeconds: seconds(wait) };
    }
    if (secretsEqual(candidate, this.deps.adminToken)) {
      await this.deps.limiter.recordSuccess(address);
      return { kind: 'accepted' };
    }
    const locked = await this.deps.limiter.recordFailure(address);
    this.deps.log.warn(
      { address, via, ...(locked > 0 ? { lockedForSeconds: seconds(locked) } : {}) },
      'admin sign-in refused: wrong token',
    );
    return { kind: 'refused', lockedForSeconds: locked > 0 ? seconds(locked) : 0 };
  }

  /** Whether an address may present a credential now, as the seconds it must still wait (0: it may). */
  async lockedFor(address: string): Promise<number> {
    const wait = await this.deps.limiter.waitBefore(address);
    return wait > 0 ? seconds(wait) : 0;
  }

  /** Counts a credential that opened nothing (an unknown invitation link) against the address. */
  async recordFailure(address: string, via: 'invitation'): Promise<void> {
    const locked = await this.deps.limiter.recordFailure(address);
    this.deps.log.warn(
      { address, via, ...(locked > 0 ? { lockedForSeconds: seconds(locked) } : {}) },
      'admin sign-in refused: unknown invitation',
    );
  }

  /** Starts a session for the operator or an invited user and sets its cookie. */
  async signIn(res: Response, owner: { kind: 'operator' } | { kind: 'user'; userId: string }): Promise<void> {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const bound: SessionOwner = owner.kind === 'operator' ? { kind: 'operator', credential: this.operatorCredential } : owner;
    await createAdminSession(this.deps.db, {
      idHash: sha256(id),
      csrfToken: randomBytes(24).toString('base64url'),
      owner: bound,
      expiresAt: new Date(now + SESSION_IDLE_MS),
      absoluteExpiresAt: new Date(now + SESSION_ABSOLUTE_MS),
    });
    res.cookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.deps.secureCookies,
      path: '/',
      maxAge: SESSION_ABSOLUTE_MS,
    });
    this.deps.log.info({ who: owner.kind === 'operator' ? 'operator' : owner.userId }, 'admin signed in');
  }

  /** Ends the session of this request, if any, and clears its cookie. */
  async signOut(req: Request, res: Response): Promise<void> {
    const id = readCookie(req, SESSION_COOKIE);
    if (id) await deleteAdminSession(this.deps.db, sha256(id));
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: this.deps.secureCookies, path: '/' });
  }

  /** Ends every session of the caller: all operator sessions, or all of one user's. Returns how many ended. */
  async signOutEverywhere(identity: AdminIdentity, res: Response): Promise<number> {
    const ended = await deleteSessionsOf(
      this.deps.db,
      identity.userId === null ? { kind: 'operator' } : { kind: 'user', userId: identity.userId },
    );
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: this.deps.secureCookies, path: '/' });
    this.deps.log.info({ who: identity.userId ?? 'operator', ended }, 'admin signed out everywhere');
    return ended;
  }

  /** Who this request is: the admin token as a bearer, a live session, or nobody. */
  async identify(req: Request): Promise<Identification> {
    const authorization = req.headers.authorization;
    if (authorization) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
      const check = await this.checkToken(clientAddress(req), match?.[1]?.trim() ?? '', 'bearer');
      if (check.kind === 'locked') return check;
      if (check.kind === 'refused') return { kind: 'refused' };
      return {
        kind: 'signed-in',
        identity: { via: 'bearer', role: 'operator', installationId: null, userId: null, name: 'operator', csrfToken: '' },
      };
    }
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return { kind: 'anonymous' };
    const idHash = sha256(id);
    const now = this.now();
    const session = await findAdminSession(this.deps.db, idHash, new Date(now));
    // An operator session made with another ADMIN_TOKEN (rotated since) is no session.
    if (!session || (session.user === null && !secretsEqual(session.credential, this.operatorCredential))) return { kind: 'anonymous' };
    if (now - session.lastSeenAt.getTime() > TOUCH_AFTER_MS)
      await touchAdminSession(this.deps.db, idHash, new Date(now), new Date(now + SESSION_IDLE_MS));
    const { user } = session;
    return {
      kind: 'signed-in',
      identity: user
        ? {
            via: 'session',
            role: user.role,
            installationId: user.installationId,
            userId: user.id,
            name: user.name,
            csrfToken: session.csrfToken,
          }
        : { via: 'session', role: 'operator', installationId: null, userId: null, name: 'operator', csrfToken: session.csrfToken },
    };
  }

  /**
   * Checks the CSRF token of a cookie session's unsafe request (after the body is parsed, since
   * forms send it as `_csrf`). `same-origin`, for the bundled queue dashboard, which cannot send
   * it, takes the browser's word that the request comes from this origin instead.
   */
  csrfCheck(surface: 'page' | 'api', csrf: 'token' | 'same-origin' = 'token'): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const identity = identityOf(res);
      if (identity.via === 'session' && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
        const header = req.get('x-csrf-token');
        const field = (req.body as Record<string, unknown> | undefined)?._csrf;
        const sent = header ?? (typeof field === 'string' ? field : undefined);
        const allowed = csrf === 'same-origin' ? isSameOrigin(req) : Boolean(sent && secretsEqual(sent, identity.csrfToken));
        if (!allowed) {
          res.status(403);
          if (surface === 'api' || req.accepts(['json', 'html']) === 'json') {
            res.json({ error: 'csrf_failed', message: 'Missing or wrong CSRF token: reload the page and try again' });
          } else {
            res.type('text/plain').send('Missing or wrong CSRF token: reload the page and try again.');
          }
          return;
        }
      }
      next();
    };
  }
}

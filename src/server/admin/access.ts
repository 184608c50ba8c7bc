/**
 * Who may reach which route, declared where the route is registered. `/admin`, `/api` and `/oauth`
 * register routes only through a `GuardedRouter`, whose methods take the route's `Access` as a
 * required argument; the first handler of every route carries that access (`routeAccess`), which
 * is how the route-walk test proves that no route is left unclassified.
 *
 * Order per route: identify the caller from headers alone → decide the access → only then parse
 * the body → check the CSRF token (it may be a form field) → the route's handlers. A caller
 * without credentials is answered before a byte of the body is read.
 *
 * Roles: the operator (ADMIN_TOKEN) reaches everything; an installation admin reaches the routes
 * of their own installation; a viewer reaches only what reads their installation's report. A user
 * naming another installation gets the same 404 as for an installation that does not exist (its
 * id is not confirmed); a route the role does not cover answers 403.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { AdminAuth, AdminIdentity } from './auth.ts';

/** What a route requires of its caller. */
export type Access =
  /** Anyone: the sign-in page, invitation links, OAuth callbacks (their state authorises them). */
  | { who: 'anyone' }
  /** Any signed-in caller; the handler shows only what the caller may see. */
  | { who: 'signed-in' }
  /** The operator only: deployment-wide things (queues, all jobs, keys, new installations). */
  | { who: 'operator' }
  /**
   * The installation named by the path's `:id` (`in: 'path'`) or the `installation` query
   * parameter (`in: 'query'`; when it is absent the route needs `whenAbsent`), with at least `role`.
   */
  | { who: 'installation'; role: 'viewer' | 'installation_admin'; in: 'path' }
  | { who: 'installation'; role: 'viewer' | 'installation_admin'; in: 'query'; whenAbsent: 'signed-in' | 'operator' };

/** The accesses the routers use, by name. */
export const access = {
  anyone: { who: 'anyone' },
  signedIn: { who: 'signed-in' },
  operator: { who: 'operator' },
  /** Read the installation of `:id` (viewers included). */
  viewInstallation: { who: 'installation', role: 'viewer', in: 'path' },
  /** Change the installation of `:id` (installation admins and the operator). */
  manageInstallation: { who: 'installation', role: 'installation_admin', in: 'path' },
  /** Read the installation named by `?installation=` (the report, the review); without one, any signed-in caller. */
  viewNamedInstallation: { who: 'installation', role: 'viewer', in: 'query', whenAbsent: 'signed-in' },
} as const satisfies Record<string, Access>;

/** The decision for one caller and one route. */
export type Decision = 'allow' | 'forbid' | 'hide';

/** Whether a caller may see an installation at all. */
export function canSee(identity: AdminIdentity, installationId: string): boolean {
  return identity.role === 'operator' || identity.installationId === installationId;
}

/** Whether a caller may change an installation. */
export function canManage(identity: AdminIdentity, installationId: string): boolean {
  return identity.role === 'operator' || (identity.role === 'installation_admin' && identity.installationId === installationId);
}

/** Decides a signed-in caller's access to a route; `installationId` is the one the request names, if any. */
export function decide(rule: Access, identity: AdminIdentity, installationId: string | undefined): Decision {
  switch (rule.who) {
    case 'anyone':
    case 'signed-in':
      return 'allow';
    case 'operator':
      return identity.role === 'operator' ? 'allow' : 'forbid';
    case 'installation': {
      if (installationId === undefined) {
        if (rule.in === 'query' && rule.whenAbsent === 'signed-in') return 'allow';
        return identity.role === 'operator' ? 'allow' : 'forbid';
      }
      if (!canSee(identity, installationId)) return 'hide';
      return rule.role === 'viewer' || canManage(identity, installationId) ? 'allow' : 'forbid';
    }
    default: {
      const unreachable: never = rule;
      throw new Error(`unknown access ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The property under which a route's first handler carries its access. */
export const ROUTE_ACCESS = Symbol.for('smarketing-sync.route-access');

/** The access a route handler was registered with, if it is a guarded route's first handler. */
export function routeAccess(handler: unknown): Access | undefined {
  return typeof handler === 'function' ? (handler as { [ROUTE_ACCESS]?: Access })[ROUTE_ACCESS] : undefined;
}

/** How one router answers callers it refuses; each surface speaks its own format. */
export interface Refusals {
  /** No credentials, or wrong ones. */
  unauthenticated(req: Request, res: Response): void;
  /** The address is locked out after too many wrong tokens. */
  locked(req: Request, res: Response, retryAfterSeconds: number): void;
  /** Signed in, but the role does not cover this route. */
  forbidden(req: Request, res: Response): void;
  /** The installation is not the caller's: answered exactly as an installation that does not exist. */
  hidden(req: Request, res: Response, installationId: string): void;
}

/** How pages a browser opens answer a caller not signed in, or locked out: to the sign-in page, or a plain 429. */
export const browserSignInRefusals: Pick<Refusals, 'unauthenticated' | 'locked'> = {
  unauthenticated: (req, res) => res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`),
  locked: (_req, res, retryAfter) => {
    res
      .status(429)
      .set('Retry-After', String(retryAfter))
      .type('text/plain')
      .send(`Too many wrong tokens from this address: try again in ${Math.ceil(retryAfter / 60)} minute(s).`);
  },
};

export interface GuardedRouterOptions {
  auth: AdminAuth;
  surface: 'page' | 'api';
  refusals: Refusals;
  /** Parses the body of a guarded request, after the access decision. */
  parseBody: RequestHandler;
  /** How unsafe cookie-session requests prove they come from our pages (default: the CSRF token). */
  csrf?: 'token' | 'same-origin';
}

type Method = 'get' | 'post' | 'put' | 'delete';

/** A router whose every route states its access. */
export interface GuardedRouter {
  readonly router: Router;
  get(path: string, rule: Access, ...handlers: RequestHandler[]): void;
  post(path: string, rule: Access, ...handlers: RequestHandler[]): void;
  put(path: string, rule: Access, ...handlers: RequestHandler[]): void;
  delete(path: string, rule: Access, ...handlers: RequestHandler[]): void;
  /** Mounts a whole sub-application (a prefix) behind one access, e.g. the queue dashboard. */
  mount(
    path: string,
    rule: Access,
    app: RequestHandler | Router,
    options?: Partial<Pick<GuardedRouterOptions, 'parseBody' | 'csrf'>>,
  ): void;
}

function installationNamed(rule: Access, req: Request): string | undefined {
  if (rule.who !== 'installation') return undefined;
  const value: unknown = rule.in === 'path' ? req.params.id : req.query.installation;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The identify-and-decide middleware for one rule, tagged with the rule. */
function authorize(rule: Access, options: GuardedRouterOptions): RequestHandler {
  const { auth, refusals } = options;
  const handler = async (req: Request, res: Response, next: NextFunction) => {
    if (rule.who === 'anyone') return next();
    const who = await auth.identify(req);
    if (who.kind === 'locked') return refusals.locked(req, res, who.retryAfterSeconds);
    if (who.kind !== 'signed-in') return refusals.unauthenticated(req, res);
    // Refusal pages are rendered for the caller (their navigation, their sign-out form).
    (res.locals as { admin?: AdminIdentity }).admin = who.identity;
    const installationId = installationNamed(rule, req);
    const decision = decide(rule, who.identity, installationId);
    if (decision === 'hide' && installationId !== undefined) return refusals.hidden(req, res, installationId);
    if (decision !== 'allow') return refusals.forbidden(req, res);
    next();
  };
  Object.defineProperty(handler, ROUTE_ACCESS, { value: rule });
  return handler;
}

/** Builds a router whose routes are registered with their access (see the module comment). */
export function guardedRouter(options: GuardedRouterOptions): GuardedRouter {
  const router = Router();
  const csrf = options.auth.csrfCheck(options.surface, options.csrf ?? 'token');
  const chain = (rule: Access, handlers: RequestHandler[]): RequestHandler[] =>
    rule.who === 'anyone' ? [authorize(rule, options), ...handlers] : [authorize(rule, options), options.parseBody, csrf, ...handlers];
  const add =
    (method: Method) =>
    (path: string, rule: Access, ...handlers: RequestHandler[]) => {
      router[method](path, ...chain(rule, handlers));
    };
  return {
    router,
    get: add('get'),
    post: add('post'),
    put: add('put'),
    delete: add('delete'),
    mount(path, rule, app, overrides = {}) {
      const inner = { ...options, ...overrides };
      if (rule.who === 'anyone') router.use(path, authorize(rule, inner), app);
      else router.use(path, authorize(rule, inner), inner.parseBody, options.auth.csrfCheck(options.surface, inner.csrf ?? 'token'), app);
    },
  };
}

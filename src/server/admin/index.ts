/**
 * Everything an admin uses, assembled for the composition root: the dashboard (`/admin`), the
 * admin API (`/api`) and the OAuth install flows (`/oauth`), sharing one sign-in, the credential
 * vault and the OAuth apps.
 */
import type { Router } from 'express';
import type { RedisConnection } from '../../queue/redis.ts';
import { pruneAdminState } from '../../store/admin-sessions.ts';
import { apiRouter } from '../api/router.ts';
import { oauthRouter } from '../oauth/router.ts';
import { AdminAuth } from './auth.ts';
import { SignInLimiter } from './sign-in-limiter.ts';
import type { AdminContext } from './context.ts';
import { adminRouter } from './router.ts';

/** What the admin context holds, less what is built here (the sign-in), plus what the sign-in needs. */
export interface AdminRoutesDeps extends Omit<AdminContext, 'auth' | 'now'> {
  adminToken: string;
  /** Where failed sign-ins are counted, shared by every web process (and the key prefix there). */
  redis: RedisConnection;
  prefix: string;
  now?: () => number;
}

/** The admin routers with their mount paths, and a stop function for the housekeeping timer. */
export function createAdminRoutes(deps: AdminRoutesDeps): { routes: { path: string; router: Router }[]; stop(): void } {
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ component: 'admin' });
  const ctx: AdminContext = {
    config: deps.config,
    db: deps.db,
    producer: deps.producer,
    log,
    directory: deps.directory,
    clients: deps.clients,
    vault: deps.vault,
    apps: deps.apps,
    auth: new AdminAuth({
      db: deps.db,
      adminToken: deps.adminToken,
      secureCookies: deps.config.publicUrl.startsWith('https:'),
      limiter: new SignInLimiter(deps.redis, deps.prefix, now),
      log,
      now,
    }),
    publicUrl: deps.publicUrl,
    provisioning: deps.provisioning,
    scheduler: deps.scheduler,
    now,
  };
  // Expired sessions and abandoned OAuth states are removed hourly.
  const timer = setInterval(() => {
    pruneAdminState(deps.db, new Date(now())).catch((error: unknown) =>
      log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not prune admin sessions'),
    );
  }, 60 * 60_000);
  timer.unref();
  return {
    routes: [
      { path: '/admin', router: adminRouter(ctx) },
      { path: '/api', router: apiRouter(ctx) },
      { path: '/oauth', router: oauthRouter(ctx) },
    ],
    stop: () => clearInterval(timer),
  };
}

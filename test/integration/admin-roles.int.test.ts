/**
 * Per-installation users and roles: invitation links (single use, expiring), what a viewer, an
 * installation admin and the operator reach — proven by walking every route the Express app has
 * registered — and revocation.
 */
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../src/queue/catalog.ts';
import { routeAccess, type Access } from '../../src/server/admin/access.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';

const ADMIN_TOKEN = 'roles-admin-token-for-tests-0123456789-abcdefgh';
const HOUR = 3_600_000;

type Who = 'viewer' | 'installation_admin' | 'operator';
type Outcome = 'allow' | 'forbid' | 'hide';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle: unknown;
  rawPath?: unknown;
}

interface WalkedRoute {
  method: string;
  path: string;
  access: Access | undefined;
  /** A sub-application mounted under a prefix (its own routes are not ours to list). */
  mount: boolean;
}

const stackOf = (handle: unknown): Layer[] | undefined => {
  const stack = typeof handle === 'function' ? (handle as unknown as { stack?: unknown }).stack : undefined;
  return Array.isArray(stack) ? (stack as Layer[]) : undefined;
};
const join = (base: string, path: unknown) => `${base}${path === '/' ? '' : String(path)}`;

/** Every route of a router stack, with the access its first handler carries; fails on what it cannot classify. */
function walkRouter(stack: readonly Layer[], base: string, found: WalkedRoute[], problems: string[]): void {
  let mountPath: unknown;
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods))
        found.push({
          method: method.toUpperCase(),
          path: join(base, layer.route.path),
          access: routeAccess(layer.route.stack[0]?.handle),
          mount: false,
        });
      mountPath = undefined;
      continue;
    }
    const access = routeAccess(layer.handle);
    if (access) {
      found.push({ method: 'ALL', path: join(base, layer.rawPath), access, mount: true });
      mountPath = layer.rawPath;
    } else if (mountPath !== undefined && layer.rawPath === mountPath) {
      // The body parser and CSRF check of the mount just recorded, or the app mounted behind them.
    } else if (layer.rawPath !== '/' && layer.rawPath !== undefined) {
      problems.push(`${join(base, layer.rawPath)}: mounted without an access`);
    }
    // An untagged middleware at the router's root only sets headers or handles errors; a nested
    // router is walked below only when it is ours (the mounted apps above are not).
  }
}

/** Every route of the app under /admin, /api and /oauth, and what else the app serves. */
function walkApp(app: Express): { routes: WalkedRoute[]; other: string[]; problems: string[] } {
  const routes: WalkedRoute[] = [];
  const other: string[] = [];
  const problems: string[] = [];
  for (const layer of (app as unknown as { router: { stack: Layer[] } }).router.stack) {
    if (layer.route) {
      other.push(...Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route?.path ?? ''}`));
      continue;
    }
    const inner = stackOf(layer.handle);
    const path = String(layer.rawPath);
    if (!inner || path === '/') continue;
    if (['/admin', '/api', '/oauth'].includes(path)) walkRouter(inner, path, routes, problems);
    else other.push(`USE ${path}`);
  }
  return { routes, other, problems };
}

/** What a role may do, written from the product's rules (not read from the routes' declarations). */
function expected(who: Who, route: WalkedRoute, installation: 'own' | 'other' | 'none'): Outcome {
  if (who === 'operator') return 'allow';
  const { method, path } = route;
  const everyone = [
    'GET /admin',
    'POST /admin/logout',
    'POST /admin/sign-out-everywhere',
    'GET /api/me',
    'GET /api/openapi.json',
    'GET /api/installations',
    'POST /api/sessions/sign-out-everywhere',
    'GET /api/backfill/:runId',
    'ALL /admin',
    'ALL /api',
  ];
  if (everyone.includes(`${method} ${path}`)) return 'allow';
  // The report and the pipeline review are for viewers too (marketing and sales leads).
  if (['/admin/report', '/api/report', '/admin/review', '/api/review'].includes(path)) return installation === 'other' ? 'hide' : 'allow';
  // Viewers read their installation's commitments and goals (the report's figures) and change nothing.
  if (method === 'GET' && (path === '/api/installations/:id/commitments' || path === '/api/installations/:id/goals'))
    return installation === 'other' ? 'hide' : 'allow';
  // Viewers read their installation's sales SLA compliance and the leads that broke a rule.
  if (
    method === 'GET' &&
    ['/api/installations/:id/sla/compliance', '/api/installations/:id/sla/violations', '/admin/installations/:id/sla'].includes(path)
  )
    return installation === 'other' ? 'hide' : 'allow';
  if (path.startsWith('/oauth/') && path.endsWith('/install')) {
    if (installation === 'other') return 'hide';
    return installation === 'own' && who === 'installation_admin' ? 'allow' : 'forbid';
  }
  if (path.includes('/installations/:id')) {
    if (installation === 'other') return 'hide';
    return who === 'installation_admin' ? 'allow' : 'forbid';
  }
  return 'forbid';
}

describe('users and roles', () => {
  let admin: AdminApp;
  let own: string;
  let other: string;
  let skew = 0;
  const clock = () => Date.now() + skew;
  const operator = () => new AdminClient(admin.url);
  const clients = {} as Record<Who, AdminClient>;

  /** Creates an invitation as the operator (bearer); returns its link's path. */
  async function invite(installationId: string, role: 'viewer' | 'installation_admin', name: string): Promise<string> {
    const answer = await fetch(`${admin.url}/api/installations/${installationId}/invitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, role }),
    });
    expect(answer.status).toBe(201);
    const body = (await answer.json()) as { url: string };
    return new URL(body.url).pathname;
  }

  /** Accepts an invitation link in a fresh browser; returns the client and the answer. */
  async function accept(link: string): Promise<{ client: AdminClient; status: number; location: string | null }> {
    const client = new AdminClient(admin.url);
    const answer = await client.request('POST', link);
    return { client, status: answer.status, location: answer.headers.get('location') };
  }

  beforeAll(async () => {
    admin = await startAdminApp({ ADMIN_TOKEN }, { sandboxes: false, adminClock: clock });
    own = (await admin.app.db.query<{ id: string }>('SELECT id FROM installations LIMIT 1'))[0]?.id ?? '';
    other = (await upsertInstallation(admin.app.db, { name: 'Other company', hubspotPortalId: '7000007', salesforceOrgId: null })).id;
    clients.operator = operator();
    await clients.operator.signIn(ADMIN_TOKEN);
    for (const role of ['viewer', 'installation_admin'] as const) {
      const accepted = await accept(await invite(own, role, `Test ${role}`));
      expect(accepted.status).toBe(303);
      clients[role] = accepted.client;
    }
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
  });

  it('accepts an invitation link once, signing its user in to their installation', async () => {
    const link = await invite(own, 'viewer', 'Dana from sales');
    const page = await new AdminClient(admin.url).page(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Dana from sales');
    // Opening the link (a preview, a scanner) does not use it up.
    const first = await accept(link);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`/admin/report?installation=${encodeURIComponent(own)}`);
    expect((await first.client.api('GET', '/api/me')).json).toMatchObject({ role: 'viewer', name: 'Dana from sales', installationId: own });
    const second = await accept(link);
    expect(second.status).toBe(404);
    expect((await second.client.api('GET', '/api/me')).status).toBe(401);
    const stored = await admin.app.db.query<{ token_hash: string }>('SELECT token_hash FROM admin_invitations');
    expect(JSON.stringify(stored)).not.toContain(link.split('/').pop());
  });

  it('refuses an invitation link after 72 hours', async () => {
    const link = await invite(own, 'installation_admin', 'Late Larry');
    skew += 72 * HOUR + 60_000;
    try {
      const late = await accept(link);
      expect(late.status).toBe(404);
      expect((await late.client.api('GET', '/api/me')).status).toBe(401);
    } finally {
      skew -= 72 * HOUR + 60_000;
    }
  });

  it('classifies every route of /admin, /api and /oauth, and serves nothing else unguarded but health, metrics and webhooks', () => {
    const { routes, other: rest, problems } = walkApp(admin.app.http as Express);
    expect(problems).toEqual([]);
    expect(routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(routes.length).toBeGreaterThan(60);
    const anyone = routes
      .filter((r) => r.access?.who === 'anyone')
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(anyone).toEqual(
      [
        'ALL /admin/static',
        'GET /admin/invitations/:token',
        'GET /admin/login',
        'GET /admin/static/vendor/chart.umd.js',
        'GET /oauth/hubspot/callback',
        'GET /oauth/salesforce/callback',
        'POST /admin/invitations/:token',
        'POST /admin/login',
      ].sort(),
    );
    expect(rest.sort()).toEqual(
      ['GET /', 'GET /healthz', 'GET /metrics', 'GET /readyz', 'USE /webhooks/hubspot', 'USE /webhooks/salesforce'].sort(),
    );
  });

  it('documents every API route in openapi.json', async () => {
    const { routes } = walkApp(admin.app.http as Express);
    const doc = (await clients.operator.api('GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const undocumented = routes
      .filter((r) => r.path.startsWith('/api/') && !r.mount)
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.slice('/api'.length).replace(/:(\w+)/g, '{$1}') }))
      .filter((r) => doc.paths[r.path]?.[r.method] === undefined)
      .map((r) => `${r.method} ${r.path}`);
    expect(undocumented).toEqual([]);
  });

  it('lets a viewer, an installation admin and the operator reach only what their role allows', async () => {
    const { routes } = walkApp(admin.app.http as Express);
    const fill = (path: string, installationId: string) =>
      path
        .replace(':id', encodeURIComponent(installationId))
        .replace(':key', 'slaPolicy')
        .replace(':side', 'hubspot')
        .replace(':queue', queueKeys[0] ?? 'none')
        .replace(':jobId', 'no-such-job')
        .replace(':runId', randomUUID())
        .replace(':userId', 'no-such-user')
        .replace(':invitationId', 'no-such-invitation');
    const mismatches: string[] = [];
    let checked = 0;
    for (const route of routes) {
      if (route.access?.who === 'anyone') continue;
      const scoped =
        route.path.includes(':id') || route.path.endsWith('/report') || route.path.endsWith('/review') || route.path.endsWith('/install');
      for (const installation of scoped ? (['own', 'other'] as const) : (['none'] as const)) {
        const installationId = installation === 'other' ? other : own;
        let target = route.mount ? `${route.path}/walk-${randomUUID()}` : fill(route.path, installationId);
        if (installation !== 'none' && !route.path.includes(':id')) target += `?installation=${encodeURIComponent(installationId)}`;
        const method = route.method === 'ALL' ? 'GET' : route.method;
        for (const who of ['viewer', 'installation_admin', 'operator'] as const) {
          const want = expected(who, route, installation);
          // Unsafe requests go without the CSRF token: past the access check they stop at it, so no handler runs.
          const api = target.startsWith('/api/');
          const response = await clients[who].request(method, target, {
            ...(method === 'GET'
              ? {}
              : {
                  body: api ? '{}' : '',
                  headers: {
                    'content-type': api ? 'application/json' : 'application/x-www-form-urlencoded',
                    accept: api ? 'application/json' : 'text/html',
                  },
                }),
          });
          const text = await response.text();
          let got: Outcome = 'allow';
          if (response.status === 403 && /"error":"forbidden"|Not for your role/.test(text)) got = 'forbid';
          else if (
            response.status === 404 &&
            (text.includes(`No installation ${installationId}`) ||
              text.includes('That installation does not exist') ||
              text.includes('Unknown installation'))
          )
            got = 'hide';
          else if (response.status === 401 || (response.status === 303 && response.headers.get('location')?.startsWith('/admin/login')))
            got = 'forbid';
          if (got === 'allow' && method !== 'GET' && !text.includes('CSRF token') && !(who === 'operator' && route.mount))
            mismatches.push(`${who} ${method} ${target}: passed the access check but not stopped by CSRF (${response.status})`);
          if (got !== want) mismatches.push(`${who} ${method} ${target}: expected ${want}, got ${got} (${response.status})`);
          checked += 1;
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  }, 120_000);

  it('lists only the caller’s installation and hides the others as if they did not exist', async () => {
    for (const who of ['viewer', 'installation_admin'] as const) {
      const listed = await clients[who].api('GET', '/api/installations');
      expect(listed.json.installations.map((i: { id: string }) => i.id)).toEqual([own]);
      const overview = await clients[who].page('/admin');
      expect(overview.html).not.toContain('Other company');
      expect(overview.html).not.toContain('Open the queue dashboard');
      const report = await clients[who].page('/admin/report');
      expect(report.html).not.toContain('Other company');
    }
    const hidden = await clients.installation_admin.api('GET', `/api/installations/${other}`);
    const missing = await clients.installation_admin.api('GET', '/api/installations/no-such-installation');
    expect(hidden.status).toBe(404);
    expect(hidden.json.error).toBe(missing.json.error);
    expect((await clients.operator.api('GET', '/api/installations')).json.installations.map((i: { id: string }) => i.id).sort()).toEqual(
      [own, other].sort(),
    );
  });

  it('lets an installation admin invite and revoke people of their installation; revoking ends the sessions at once', async () => {
    const adminClient = clients.installation_admin;
    await adminClient.page(`/admin/installations/${own}/users`);
    const created = await adminClient.form(`/admin/installations/${own}/invitations`, { name: 'Riley, marketing', role: 'viewer' });
    expect(created.status).toBe(200);
    const link = /value="(http[^"]+\/admin\/invitations\/[^"]+)"/.exec(await created.text())?.[1] ?? '';
    expect(link).not.toBe('');
    const riley = await accept(new URL(link).pathname);
    expect(riley.status).toBe(303);
    expect((await riley.client.api('GET', '/api/report')).status).toBe(200);

    const people = await adminClient.api('GET', `/api/installations/${own}/users`);
    const rileyUser = people.json.users.find((u: { name: string }) => u.name === 'Riley, marketing');
    expect(rileyUser).toMatchObject({ role: 'viewer' });
    const elsewhere = await adminClient.api('DELETE', `/api/installations/${other}/users/${rileyUser.id}`);
    expect(elsewhere.status).toBe(404);
    const revoked = await adminClient.api('DELETE', `/api/installations/${own}/users/${rileyUser.id}`);
    expect(revoked.status).toBe(204);
    expect((await riley.client.api('GET', '/api/report')).status).toBe(401);
    expect((await adminClient.api('GET', `/api/installations/${own}/users`)).json.users.map((u: { name: string }) => u.name)).not.toContain(
      'Riley, marketing',
    );
  });
});

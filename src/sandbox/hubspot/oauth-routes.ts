import { randomBytes, randomUUID } from 'node:crypto';
import { Router, urlencoded } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { grantableScopes } from './campaigns.ts';
import { HubSpotError, expiredAuthentication, resourceNotFound } from './errors.ts';
import { param, parseBody } from './http-kit.ts';
import type { Journal } from './journal.ts';
import type { AccessTokenRecord } from './model.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';

const CODE_TTL_MS = 10 * 60_000;
const SANDBOX_USER = 'sandbox-admin@sandbox.example.com';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

/** OAuth v1 error body (`status` carries the code: BAD_AUTH_CODE, BAD_REFRESH_TOKEN, …). */
function oauthError(status: string, message: string): HubSpotError {
  return new HubSpotError(400, { status, message, correlationId: randomUUID(), requestId: randomUUID() });
}

const authorizeQuery = z.object({
  client_id: z.string().min(1),
  redirect_uri: z.url(),
  scope: z.string().min(1),
  optional_scope: z.string().optional(),
  state: z.string().optional(),
});

const tokenBody = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    client_id: z.string(),
    client_secret: z.string(),
    redirect_uri: z.string(),
    code: z.string(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    client_id: z.string(),
    client_secret: z.string(),
    refresh_token: z.string(),
    redirect_uri: z.string().optional(),
  }),
]);

function consentPage(config: SandboxConfig, query: z.output<typeof authorizeQuery>): string {
  const scopes = [...query.scope.split(/[\s+]+/), ...(query.optional_scope?.split(/[\s+]+/) ?? [])].filter((s) => s !== '');
  const hidden = Object.entries({ ...query, portal_id: String(config.portalId) })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Connect app — HubSpot sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;color:#33475b}button{font-size:1rem;padding:.6rem 1.4rem;margin-right:.5rem;border-radius:3px;border:1px solid #cbd6e2;cursor:pointer}button[value=approve]{background:#ff7a59;color:#fff;border-color:#ff7a59}</style>
</head>
<body>
  <h1>Connect app ${escapeHtml(query.client_id)} to HubSpot account ${config.portalId}</h1>
  <p>Signed in as ${SANDBOX_USER} (sandbox portal ${config.portalId}). The app asks for access to:</p>
  <ul>${scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>
  <form method="post" action="/oauth/authorize">
      ${hidden}
      <button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="deny">Cancel</button>
  </form>
</body>
</html>`;
}

/** OAuth 2.0 of the public app: consent page, authorization codes, tokens and token metadata. */
export function oauthRouter(store: SandboxStore, config: SandboxConfig, journal: Journal): Router {
  const router = Router();
  const form = urlencoded({ extended: false });
  registerConsentRoutes(router, form, store, config);
  registerClientCredentialsRoute(router, form, config, journal);
  registerTokenRoute(router, form, store, config);
  registerTokenInfoRoutes(router, store, config);
  return router;
}

type FormParser = ReturnType<typeof urlencoded>;

/** The consent page and the decision it posts, which redirects with a code or `access_denied`. */
function registerConsentRoutes(router: Router, form: FormParser, store: SandboxStore, config: SandboxConfig): void {
  const showConsent = (req: Request, res: Response) => {
    const parsed = authorizeQuery.safeParse(req.query);
    if (!parsed.success) {
      res
        .status(400)
        .type('html')
        .send(
          `<!doctype html><title>Invalid request</title><p>Invalid authorization request: ${escapeHtml(z.prettifyError(parsed.error))}</p>`,
        );
      return;
    }
    if (parsed.data.client_id !== config.clientId) {
      res.status(400).type('html').send('<!doctype html><title>Invalid request</title><p>Unknown client_id: this app does not exist.</p>');
      return;
    }
    res.type('html').send(consentPage(config, parsed.data));
  };
  router.get('/oauth/authorize', showConsent);
  router.get('/oauth/:portalId/authorize', showConsent);

  router.post('/oauth/authorize', form, (req: Request, res: Response) => {
    const input = parseBody(authorizeQuery.extend({ decision: z.enum(['approve', 'deny']) }).loose(), req.body);
    if (input.client_id !== config.clientId) throw oauthError('BAD_CLIENT_ID', 'missing or invalid client id');
    const target = new URL(input.redirect_uri);
    if (input.decision === 'approve') {
      const code = randomUUID();
      // Required scopes as asked; optional ones only where the portal's tier offers them.
      const optional = grantableScopes(store.campaignBook.tier, input.optional_scope?.split(/[\s+]+/) ?? []);
      const scopes = [...input.scope.split(/[\s+]+/), ...optional].filter((scope) => scope !== '');
      store.codes.set(code, { code, redirectUri: input.redirect_uri, scopes, expiresAt: config.now() + CODE_TTL_MS });
      target.searchParams.set('code', code);
    } else {
      target.searchParams.set('error', 'access_denied');
    }
    if (input.state !== undefined) target.searchParams.set('state', input.state);
    res.redirect(302, target.toString());
  });
}

/** The refresh token and scopes a token request's grant carries; an authorization code is spent. */
function redeemGrant(
  store: SandboxStore,
  config: SandboxConfig,
  input: z.output<typeof tokenBody>,
  now: number,
): { refreshToken: string; scopes: string[] } {
  if (input.grant_type === 'authorization_code') {
    const grant = store.codes.get(input.code);
    if (grant === undefined || grant.expiresAt <= now) throw oauthError('BAD_AUTH_CODE', 'missing or unknown auth code');
    if (grant.redirectUri !== input.redirect_uri)
      throw oauthError('BAD_REDIRECT_URI', 'redirect_uri does not match the one used to authorize');
    store.codes.delete(input.code);
    const refreshToken = randomUUID();
    const scopes = grant.scopes;
    store.refreshTokens.set(refreshToken, {
      token: refreshToken,
      hubId: config.portalId,
      userId: config.uiUserId,
      clientId: config.clientId,
      scopes,
    });
    return { refreshToken, scopes };
  }
  const grant = store.refreshTokens.get(input.refresh_token);
  if (grant === undefined) throw oauthError('BAD_REFRESH_TOKEN', 'missing or invalid refresh token');
  return { refreshToken: grant.token, scopes: grant.scopes };
}

const clientCredentialsBody = z.object({
  grant_type: z.literal('client_credentials'),
  client_id: z.string(),
  client_secret: z.string(),
  scope: z.string().min(1),
});

/**
 * The client credentials grant: a token of the app itself (no portal, no user) for the webhooks
 * journal API (docs/reference/hubspot-webhooks-journal.md §1). It does not open the CRM APIs.
 */
function registerClientCredentialsRoute(router: Router, form: FormParser, config: SandboxConfig, journal: Journal): void {
  router.post('/oauth/v1/token', form, (req: Request, res: Response, next) => {
    if ((req.body as Record<string, unknown> | undefined)?.grant_type !== 'client_credentials') {
      next();
      return;
    }
    const input = parseBody(clientCredentialsBody, req.body);
    if (input.client_id !== config.clientId) throw oauthError('BAD_CLIENT_ID', 'missing or invalid client id');
    if (input.client_secret !== config.clientSecret) throw oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
    const scopes = input.scope.split(/[\s+]+/).filter((scope) => scope !== '');
    const issued = journal.issueToken(scopes);
    res.json({ token_type: 'bearer', access_token: issued.token, expires_in: issued.expiresIn, scope: scopes.join(' ') });
  });
}

/** The token endpoint: an authorization code or a refresh token for a new access token. */
function registerTokenRoute(router: Router, form: FormParser, store: SandboxStore, config: SandboxConfig): void {
  router.post('/oauth/v1/token', form, (req: Request, res: Response) => {
    const grantType: unknown = (req.body as Record<string, unknown> | undefined)?.grant_type;
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw oauthError('BAD_GRANT_TYPE', 'missing or invalid grant type');
    }
    const input = parseBody(tokenBody, req.body);
    if (input.client_id !== config.clientId) throw oauthError('BAD_CLIENT_ID', 'missing or invalid client id');
    if (input.client_secret !== config.clientSecret) throw oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
    const now = config.now();
    const { refreshToken, scopes } = redeemGrant(store, config, input, now);
    const accessToken = `CN${randomBytes(48).toString('base64url')}`;
    const record: AccessTokenRecord = {
      token: accessToken,
      refreshToken,
      hubId: config.portalId,
      appId: config.appId,
      userId: config.uiUserId,
      scopes,
      expiresAt: now + config.accessTokenTtlMs,
    };
    for (const [token, old] of store.accessTokens) if (old.expiresAt < now - 86_400_000) store.accessTokens.delete(token);
    store.accessTokens.set(accessToken, record);
    res.json({
      token_type: 'bearer',
      refresh_token: refreshToken,
      access_token: accessToken,
      expires_in: Math.floor(config.accessTokenTtlMs / 1000),
      hub_id: config.portalId,
      scopes,
    });
  });
}

/** What both token metadata answers say of a grant: the token, the user and the portal, and the scopes. */
function grantInfo(grant: { token: string; hubId: number; scopes: readonly string[] }) {
  return {
    token: grant.token,
    user: SANDBOX_USER,
    hub_domain: `sandbox-${grant.hubId}.hubspot.example`,
    scopes: grant.scopes,
    hub_id: grant.hubId,
  };
}

/** Token metadata lookups and refresh-token revocation. */
function registerTokenInfoRoutes(router: Router, store: SandboxStore, config: SandboxConfig): void {
  router.get('/oauth/v1/access-tokens/:token', (req: Request, res: Response) => {
    const grant = store.accessTokens.get(param(req, 'token'));
    if (grant === undefined) throw resourceNotFound('Access token not found');
    const now = config.now();
    if (grant.expiresAt <= now) throw expiredAuthentication(grant.expiresAt, now);
    res.json({
      ...grantInfo(grant),
      app_id: grant.appId,
      expires_in: Math.floor((grant.expiresAt - now) / 1000),
      user_id: grant.userId,
      token_type: 'access',
    });
  });

  router.get('/oauth/v1/refresh-tokens/:token', (req: Request, res: Response) => {
    const grant = store.refreshTokens.get(param(req, 'token'));
    if (grant === undefined) throw resourceNotFound('Refresh token not found');
    res.json({
      ...grantInfo(grant),
      client_id: grant.clientId,
      user_id: grant.userId,
      token_type: 'refresh',
    });
  });

  router.delete('/oauth/v1/refresh-tokens/:token', (req: Request, res: Response) => {
    store.refreshTokens.delete(param(req, 'token'));
    res.status(204).end();
  });
}

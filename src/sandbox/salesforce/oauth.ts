/**
 * OAuth 2.0 of the sandbox org: the authorize page (consent with Allow/Deny), the token endpoint
 * (authorization_code with optional PKCE, refresh_token, password), revoke, userinfo and the
 * identity URL. Tokens issued to the connected app run as the org's integration user, so its
 * writes carry that user's id in LastModifiedById.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { bearerToken, type SandboxContext } from './context.ts';
import { INTEGRATION_USER_ID } from './seed.ts';
import type { SfRecord } from './types.ts';

const CODE_TTL_MS = 15 * 60_000;
const DEFAULT_SCOPE = 'api refresh_token';

interface AuthCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string | null;
  expiresAt: number;
}

const authorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string().min(1),
  redirect_uri: z.url({ protocol: /^https?$/ }),
  state: z.string().optional(),
  scope: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  prompt: z.string().optional(),
  login_hint: z.string().optional(),
});

const tokenForm = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('password'),
    username: z.string(),
    password: z.string(),
    client_id: z.string(),
    client_secret: z.string(),
    code_verifier: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: z.string(),
    client_id: z.string(),
    client_secret: z.string().optional(),
    code_verifier: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string(),
    client_id: z.string(),
    client_secret: z.string().optional(),
    redirect_uri: z.string(),
    code_verifier: z.string().optional(),
  }),
]);

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description });
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function consentPage(params: Record<string, string>, username: string): string {
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Allow Access? | Salesforce Sandbox</title>
  <style>body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}main{max-width:420px;margin:60px auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 8px #0002}button{padding:8px 20px;margin-right:8px;border-radius:4px;border:1px solid #0176d3;font-size:15px}button[value=allow]{background:#0176d3;color:#fff}</style></head>
  <body>
    <main>
      <h1>Allow Access?</h1>
      <p>The connected app <strong>${escapeHtml(params.client_id ?? '')}</strong> is asking to access your Salesforce data (scope: ${escapeHtml(params.scope ?? DEFAULT_SCOPE)}).</p>
      <p>Logged in as <strong>${escapeHtml(username)}</strong>.</p>
      <form method="post" action="/services/oauth2/authorize">
      ${hidden}
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button>
      </form>
    </main>
  </body>
</html>`;
}

/** Identity (`/id/<org>/<user>`) and userinfo bodies for a user. */
function identityBody(ctx: SandboxContext, user: SfRecord, format: 'identity' | 'userinfo'): Record<string, unknown> {
  const id = ctx.tokens.identityUrl(String(user.Id));
  const base = ctx.url();
  const urls = {
    enterprise: `${base}/services/Soap/c/{version}/${ctx.config.orgId.slice(0, 15)}`,
    partner: `${base}/services/Soap/u/{version}/${ctx.config.orgId.slice(0, 15)}`,
    rest: `${base}/services/data/v{version}/`,
    sobjects: `${base}/services/data/v{version}/sobjects/`,
    query: `${base}/services/data/v{version}/query/`,
    tooling_rest: `${base}/services/data/v{version}/tooling/`,
    profile: `${base}/${String(user.Id)}`,
    custom_domain: base,
  };
  if (format === 'userinfo') {
    return {
      sub: id,
      user_id: user.Id,
      organization_id: ctx.config.orgId,
      preferred_username: user.Username,
      nickname: user.Alias,
      name: user.Name,
      email: user.Email,
      email_verified: true,
      given_name: user.FirstName,
      family_name: user.LastName,
      zoneinfo: user.TimeZoneSidKey,
      active: user.IsActive,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      updated_at: user.LastModifiedDate,
      urls,
    };
  }
  return {
    id,
    asserted_user: true,
    user_id: user.Id,
    organization_id: ctx.config.orgId,
    username: user.Username,
    nick_name: user.Alias,
    display_name: user.Name,
    email: user.Email,
    email_verified: true,
    first_name: user.FirstName,
    last_name: user.LastName,
    timezone: user.TimeZoneSidKey,
    active: user.IsActive,
    user_type: 'STANDARD',
    language: 'en_US',
    locale: 'en_US',
    utcOffset: 0,
    last_modified_date: user.LastModifiedDate,
    is_app_installed: true,
    urls,
  };
}

type FormParser = ReturnType<typeof express.urlencoded>;

/** The OAuth endpoints: authorize (web server flow), token, revoke, userinfo and the identity URL. */
export function registerOAuthRoutes(app: Express, ctx: SandboxContext): void {
  const codes = new Map<string, AuthCode>();
  const form = express.urlencoded({ extended: false });
  registerAuthorizeRoutes(app, ctx, form, codes);
  registerTokenRoute(app, ctx, form, codes);
  registerIdentityRoutes(app, ctx, form);
}

/** The consent page and its decision, which redirects with a code or `access_denied`. */
function registerAuthorizeRoutes(app: Express, ctx: SandboxContext, form: FormParser, codes: Map<string, AuthCode>): void {
  app.get('/services/oauth2/authorize', (req, res) => {
    const parsed = authorizeQuery.safeParse(req.query);
    if (!parsed.success) {
      res
        .status(400)
        .type('html')
        .send(`<p>error=invalid_request: ${escapeHtml(parsed.error.issues[0]?.message ?? 'bad request')}</p>`);
      return;
    }
    if (!safeEqual(parsed.data.client_id, ctx.config.clientId)) {
      res.status(400).type('html').send('<p>error=invalid_client_id: client identifier invalid</p>');
      return;
    }
    const params = Object.fromEntries(
      Object.entries(parsed.data).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    res.type('html').send(consentPage(params, ctx.config.username));
  });

  app.post('/services/oauth2/authorize', form, (req, res) => {
    const parsed = authorizeQuery.extend({ decision: z.enum(['allow', 'deny']) }).safeParse(req.body);
    if (!parsed.success || !safeEqual(parsed.data.client_id, ctx.config.clientId)) {
      res.status(400).type('html').send('<p>error=invalid_request</p>');
      return;
    }
    const { redirect_uri: redirectUri, state, decision } = parsed.data;
    const target = new URL(redirectUri);
    if (decision === 'deny') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'end-user denied authorization');
    } else {
      const code = `aPrx${randomBytes(32).toString('base64url')}`;
      codes.set(code, {
        clientId: parsed.data.client_id,
        redirectUri,
        scope: parsed.data.scope ?? DEFAULT_SCOPE,
        codeChallenge: parsed.data.code_challenge ?? null,
        expiresAt: ctx.config.now() + CODE_TTL_MS,
      });
      target.searchParams.set('code', code);
    }
    if (state !== undefined) target.searchParams.set('state', state);
    res.redirect(302, target.toString());
  });
}

/** The token endpoint: password, refresh token and authorization code grants. */
function registerTokenRoute(app: Express, ctx: SandboxContext, form: FormParser, codes: Map<string, AuthCode>): void {
  app.post('/services/oauth2/token', form, (req, res) => {
    const parsed = tokenForm.safeParse(req.body);
    if (!parsed.success) {
      const grant = (req.body as Record<string, unknown> | undefined)?.grant_type;
      if (typeof grant === 'string' && !['password', 'refresh_token', 'authorization_code'].includes(grant)) {
        oauthError(res, 400, 'unsupported_grant_type', 'grant type not supported');
      } else oauthError(res, 400, 'invalid_request', parsed.error.issues[0]?.message ?? 'invalid request');
      return;
    }
    const body = parsed.data;
    if (!safeEqual(body.client_id, ctx.config.clientId)) return oauthError(res, 400, 'invalid_client_id', 'client identifier invalid');
    answerGrant(ctx, codes, body, res);
  });
}

/** Checks a token request's grant and answers with the token or the OAuth error. */
function answerGrant(ctx: SandboxContext, codes: Map<string, AuthCode>, body: z.output<typeof tokenForm>, res: Response): void {
  const clientMatches = (id: string, secret: string | undefined, required: boolean) =>
    safeEqual(id, ctx.config.clientId) && (secret === undefined ? !required : safeEqual(secret, ctx.config.clientSecret));
  switch (body.grant_type) {
    case 'password': {
      if (!clientMatches(body.client_id, body.client_secret, true))
        return oauthError(res, 400, 'invalid_client', 'invalid client credentials');
      if (body.username !== ctx.config.username || !safeEqual(body.password, ctx.config.password))
        return oauthError(res, 400, 'invalid_grant', 'authentication failure');
      res.json(ctx.tokens.issue(INTEGRATION_USER_ID, { withRefreshToken: false, scope: 'api' }));
      return;
    }
    case 'refresh_token': {
      if (!clientMatches(body.client_id, body.client_secret, false))
        return oauthError(res, 400, 'invalid_client', 'invalid client credentials');
      const grant = ctx.tokens.refresh(body.refresh_token);
      if (!grant) return oauthError(res, 400, 'invalid_grant', 'expired access/refresh token');
      res.json(ctx.tokens.issue(grant.userId, { withRefreshToken: false, scope: grant.scope, refreshToken: body.refresh_token }));
      return;
    }
    case 'authorization_code': {
      if (!clientMatches(body.client_id, body.client_secret, false))
        return oauthError(res, 400, 'invalid_client', 'invalid client credentials');
      const code = codes.get(body.code);
      codes.delete(body.code);
      if (!code || code.expiresAt <= ctx.config.now() || code.redirectUri !== body.redirect_uri) {
        return oauthError(res, 400, 'invalid_grant', 'invalid authorization code');
      }
      if (code.codeChallenge !== null) {
        const expected = body.code_verifier === undefined ? '' : createHash('sha256').update(body.code_verifier).digest('base64url');
        if (!safeEqual(expected, code.codeChallenge)) return oauthError(res, 400, 'invalid_grant', 'invalid code verifier');
      }
      const offline = /\b(refresh_token|offline_access|full)\b/.test(code.scope);
      res.json(ctx.tokens.issue(INTEGRATION_USER_ID, { withRefreshToken: offline, scope: code.scope }));
      return;
    }
    default: {
      const unreachable: never = body;
      return unreachable;
    }
  }
}

/** Token revocation, userinfo and the identity URL. */
function registerIdentityRoutes(app: Express, ctx: SandboxContext, form: FormParser): void {
  const revoke = (req: Request, res: Response) => {
    const token = (req.body as Record<string, unknown> | undefined)?.token ?? req.query.token;
    if (typeof token !== 'string' || !ctx.tokens.revoke(token))
      return oauthError(res, 400, 'unsupported_token_type', 'this token type is not supported');
    res.status(200).end();
  };
  app.post('/services/oauth2/revoke', form, revoke);
  app.get('/services/oauth2/revoke', revoke);

  const userOf = (req: Request) => {
    const token = bearerToken(req) ?? (typeof req.query.oauth_token === 'string' ? req.query.oauth_token : undefined);
    const session = token === undefined ? undefined : ctx.tokens.session(token);
    return session ? ctx.store.get('User', session.userId) : undefined;
  };
  const userinfo = (req: Request, res: Response) => {
    const user = userOf(req);
    if (!user) {
      res.status(403).type('text/plain').send('Bad_OAuth_Token');
      return;
    }
    res.json(identityBody(ctx, user, 'userinfo'));
  };
  app.get('/services/oauth2/userinfo', userinfo);
  app.post('/services/oauth2/userinfo', userinfo);

  app.get('/id/:orgId/:userId', (req, res) => {
    const user = userOf(req);
    if (!user || req.params.orgId !== ctx.config.orgId) {
      res.status(403).type('text/plain').send('Bad_OAuth_Token');
      return;
    }
    const subject = ctx.store.get('User', String(req.params.userId));
    if (!subject) {
      res.status(404).type('text/plain').send('Bad_Id');
      return;
    }
    res.json(identityBody(ctx, subject, 'identity'));
  });
}

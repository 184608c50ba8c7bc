/**
 * `/oauth/hubspot/*` and `/oauth/salesforce/*`: the install flows. `install` (signed-in admin
 * only) stores a random `state` (hashed, 10 minutes, single use) bound to this browser by a
 * SameSite=Lax nonce cookie and redirects to the consent page; `callback` takes the state back,
 * checks the browser, exchanges the code and stores the grant sealed. The callback may arrive
 * without the admin's SameSite=Strict session cookie (a cross-site redirect), so the state itself
 * authorises it; the result page then continues to the dashboard with a same-site navigation.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import {
  bindOrg,
  bindPortal,
  findInstallationByOrg,
  findInstallationByPortal,
  getInstallationDetails,
  reactivateInstallation,
} from '../../store/installation-admin.ts';
import { upsertInstallation } from '../../store/installations.ts';
import { createOAuthState, recordAdminAction, takeOAuthState, type OAuthProvider } from '../../store/admin-sessions.ts';
import { access, browserSignInRefusals, guardedRouter, type Access, type Refusals } from '../admin/access.ts';
import { readCookie, secretsEqual, sha256 } from '../admin/auth.ts';
import { installationChanged, type AdminContext } from '../admin/context.ts';
import { sideReconnected } from '../admin/installations.ts';
import { cardPage } from '../admin/layout.ts';
import { html } from '../admin/html.ts';
import { exchangeHubSpotCode, hubspotAuthorizeUrl } from './hubspot.ts';
import { exchangeSalesforceCode, salesforceAuthorizeUrl } from './salesforce.ts';

const STATE_TTL_MS = 10 * 60_000;
const NONCE_COOKIE = 'smk_oauth';

const installQuery = z.object({ installation: z.string().min(1).max(100).optional() });
const callbackQuery = z.object({
  code: z.string().min(1).max(2_000).optional(),
  state: z.string().min(1).max(200).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1_000).optional(),
});

const PROVIDER_NAMES: Record<OAuthProvider, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

/** A small standalone page (the session cookie may be absent on a callback). */
function resultPage(res: Response, status: number, input: { title: string; message: string; continueTo: string; refresh: boolean }): void {
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .set(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
    .send(
      cardPage({
        title: input.title,
        head: input.refresh ? html`<meta http-equiv="refresh" content="1;url=${input.continueTo}">` : html``,
        body: html`<h1>${input.title}</h1>
    <p>${input.message}</p>
    <p><a class="button primary" href="${input.continueTo}">Continue to the dashboard</a></p>`,
      }),
    );
}

/**
 * Starting an install: reconnecting an installation (`?installation=`) is its admins' business;
 * adding a new installation (no installation named) is the operator's.
 */
const installAccess: Access = { who: 'installation', role: 'installation_admin', in: 'query', whenAbsent: 'operator' };

/** The install pages' refusals: sign-in, lockout, role and unknown installation. */
const installRefusals: Refusals = {
  ...browserSignInRefusals,
  forbidden: (_req, res) =>
    resultPage(res, 403, {
      title: 'Not for your role',
      message: 'Adding an installation is for the operator; an installation admin reconnects their own installation from its page.',
      continueTo: '/admin',
      refresh: false,
    }),
  hidden: (_req, res) =>
    resultPage(res, 404, {
      title: 'Unknown installation',
      message: 'That installation does not exist.',
      continueTo: '/admin',
      refresh: false,
    }),
};

/** What the install flows share: the admin context, whether cookies are secure, the callback address. */
interface FlowContext {
  ctx: AdminContext;
  secure: boolean;
  redirectUri: (provider: OAuthProvider) => string;
}

/** Ends a callback with a refusal page (logged, without secrets). */
type Fail = (status: number, message: string, continueTo?: string) => void;

/** A verified callback: its stored flow, the authorization code, and the page to go back to. */
interface VerifiedCallback {
  flow: NonNullable<Awaited<ReturnType<typeof takeOAuthState>>>;
  code: string;
  back: string;
}

/** The OAuth routes (mounted at `/oauth`). */
export function oauthRouter(ctx: AdminContext): Router {
  const r = guardedRouter({
    auth: ctx.auth,
    surface: 'page',
    // The install routes take no body; nothing is parsed.
    parseBody: (_req, _res, next) => next(),
    refusals: installRefusals,
  });
  const fc: FlowContext = {
    ctx,
    secure: ctx.config.publicUrl.startsWith('https:'),
    redirectUri: (provider) => `${ctx.publicUrl()}/oauth/${provider}/callback`,
  };
  r.get('/hubspot/install', installAccess, (req, res) => startFlow(fc, 'hubspot', req, res));
  r.get('/salesforce/install', installAccess, (req, res) => startFlow(fc, 'salesforce', req, res));
  // The state authorises a callback (see above); its own checks refuse anything else.
  r.get('/hubspot/callback', access.anyone, (req, res) => finishFlow(fc, 'hubspot', req, res));
  r.get('/salesforce/callback', access.anyone, (req, res) => finishFlow(fc, 'salesforce', req, res));
  return r.router;
}

/** Why an install cannot start (no app configured, unknown installation, Salesforce first), as a page; null when it can. */
async function installRefusal(
  ctx: AdminContext,
  provider: OAuthProvider,
  installationId: string | null,
  back: string,
): Promise<{ status: number; title: string; message: string; continueTo: string } | null> {
  const app = provider === 'hubspot' ? ctx.apps.hubspot : ctx.apps.salesforce;
  if (!app) {
    const vars =
      provider === 'hubspot' ? 'HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET' : 'SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET';
    return {
      status: 409,
      title: `No ${PROVIDER_NAMES[provider]} app configured`,
      message: `Set ${vars} to install through OAuth.`,
      continueTo: back,
    };
  }
  if (installationId && !(await getInstallationDetails(ctx.db, installationId)))
    return { status: 404, title: 'Unknown installation', message: 'That installation does not exist.', continueTo: '/admin' };
  if (provider === 'salesforce' && !installationId)
    return {
      status: 400,
      title: 'Connect HubSpot first',
      message: 'An installation starts with its HubSpot portal; connect Salesforce from the installation page.',
      continueTo: '/admin',
    };
  return null;
}

/** Starts an install: a one-time state bound to this browser by a nonce cookie, then the provider's consent page. */
async function startFlow(fc: FlowContext, provider: OAuthProvider, req: Request, res: Response): Promise<void> {
  const { ctx } = fc;
  const parsed = installQuery.safeParse(req.query);
  if (!parsed.success) {
    res.status(400).type('text/plain').send('Invalid install request: installation must be an installation id');
    return;
  }
  const installationId = parsed.data.installation ?? null;
  const back = installationId ? `/admin/installations/${encodeURIComponent(installationId)}` : '/admin';
  const refusal = await installRefusal(ctx, provider, installationId, back);
  if (refusal) {
    const { status, ...page } = refusal;
    resultPage(res, status, { ...page, refresh: false });
    return;
  }
  const state = randomBytes(32).toString('base64url');
  const nonce = randomBytes(24).toString('base64url');
  let url: string;
  let codeVerifier: Buffer | null = null;
  if (provider === 'hubspot' && ctx.apps.hubspot) {
    url = hubspotAuthorizeUrl(ctx.apps.hubspot, fc.redirectUri('hubspot'), state);
  } else if (ctx.apps.salesforce) {
    const built = salesforceAuthorizeUrl(ctx.apps.salesforce, fc.redirectUri('salesforce'), state);
    url = built.url;
    codeVerifier = ctx.vault.sealText(built.codeVerifier);
  } else {
    throw new Error('unreachable: the app was checked above');
  }
  await createOAuthState(ctx.db, sha256(state), {
    provider,
    installationId,
    browserHash: sha256(nonce),
    codeVerifier,
    expiresAt: new Date(ctx.now() + STATE_TTL_MS),
  });
  res.cookie(NONCE_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: fc.secure, path: '/oauth', maxAge: STATE_TTL_MS });
  ctx.log.info({ provider, installationId }, 'OAuth install started');
  res.redirect(302, url);
}

/** Finishes an install: the callback is verified, then the provider's side of the installation is connected. */
async function finishFlow(fc: FlowContext, provider: OAuthProvider, req: Request, res: Response): Promise<void> {
  const name = PROVIDER_NAMES[provider];
  const fail: Fail = (status, message, continueTo = '/admin') => {
    fc.ctx.log.warn({ provider, reason: message }, 'OAuth install refused');
    resultPage(res, status, { title: `${name} was not connected`, message, continueTo, refresh: false });
  };
  const callback = await verifyCallback(fc, provider, req, res, fail);
  if (callback === null) return;
  if (provider === 'hubspot') return connectHubSpot(fc, callback, res, fail);
  return connectSalesforce(fc, callback, res, fail);
}

/**
 * Checks a callback: a known, unused, unexpired state of this provider, bound to this browser, and a
 * code rather than an error. The state is used up either way. Null after a refusal page.
 */
async function verifyCallback(
  fc: FlowContext,
  provider: OAuthProvider,
  req: Request,
  res: Response,
  fail: Fail,
): Promise<VerifiedCallback | null> {
  const { ctx } = fc;
  const name = PROVIDER_NAMES[provider];
  const parsed = callbackQuery.safeParse(req.query);
  if (!parsed.success || !parsed.data.state) {
    fail(400, `The callback has no valid state parameter: start the install again from the dashboard.`);
    return null;
  }
  const flow = await takeOAuthState(ctx.db, sha256(parsed.data.state));
  res.clearCookie(NONCE_COOKIE, { httpOnly: true, sameSite: 'lax', secure: fc.secure, path: '/oauth' });
  if (!flow || flow.provider !== provider) {
    fail(400, 'This install link is unknown or was already used (state mismatch): start the install again from the dashboard.');
    return null;
  }
  const back = flow.installationId ? `/admin/installations/${encodeURIComponent(flow.installationId)}` : '/admin';
  const nonce = readCookie(req, NONCE_COOKIE);
  const refusal =
    flow.expiresAt.getTime() <= ctx.now()
      ? 'This install link expired (10 minutes): start the install again.'
      : !nonce || !secretsEqual(sha256(nonce), flow.browserHash)
        ? 'This install was started in another browser session (state not bound to this browser): start it again here.'
        : parsed.data.error
          ? `${name} says: ${parsed.data.error}${parsed.data.error_description ? ` (${parsed.data.error_description})` : ''}.`
          : null;
  if (refusal !== null) {
    fail(400, refusal, back);
    return null;
  }
  if (!parsed.data.code) {
    fail(400, `${name} sent no authorization code.`, back);
    return null;
  }
  return { flow, code: parsed.data.code, back };
}

/** Connects the approved HubSpot portal: to the installation named, or to a new (or its existing) installation. */
async function connectHubSpot(fc: FlowContext, { flow, code, back }: VerifiedCallback, res: Response, fail: Fail): Promise<void> {
  const { ctx } = fc;
  const app = ctx.apps.hubspot;
  if (!app) return fail(409, 'No HubSpot app is configured any more.', back);
  const exchange = await exchangeHubSpotCode(app, code, fc.redirectUri('hubspot'), ctx.now());
  if (!exchange.ok) return fail(502, exchange.message, back);
  const { hubId } = exchange.credentials;
  const owner = await findInstallationByPortal(ctx.db, hubId);
  let installationId = flow.installationId;
  if (installationId) {
    const target = await getInstallationDetails(ctx.db, installationId);
    if (!target) return fail(404, 'The installation no longer exists.');
    if (target.hubspotPortalId && target.hubspotPortalId !== hubId) {
      return fail(
        409,
        `This installation is connected to HubSpot portal ${target.hubspotPortalId}, but portal ${hubId} was approved. One installation is one portal: approve portal ${target.hubspotPortalId}, or add a new installation.`,
        back,
      );
    }
    if (owner && owner.id !== installationId)
      return fail(409, `HubSpot portal ${hubId} is already connected to installation "${owner.name}".`, back);
  } else {
    installationId =
      owner?.id ??
      (await upsertInstallation(ctx.db, { name: `HubSpot portal ${hubId}`, hubspotPortalId: hubId, salesforceOrgId: null })).id;
  }
  await bindPortal(ctx.db, installationId, hubId);
  await ctx.vault.write(installationId, 'hubspot', exchange.credentials);
  await reactivateInstallation(ctx.db, installationId);
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'hubspot_connected',
    summary: `HubSpot portal ${hubId} connected (OAuth)`,
    details: { scopes: exchange.credentials.scopes },
  });
  await installationChanged(ctx, installationId);
  await sideReconnected(ctx, installationId, 'hubspot');
  ctx.log.info({ installationId, portalId: hubId }, 'HubSpot connected');
  return resultPage(res, 200, {
    title: 'HubSpot connected',
    message: `Portal ${hubId} is connected. Next: connect Salesforce, then run the provisioning dry run.`,
    continueTo: `/admin/installations/${encodeURIComponent(installationId)}?notice=hubspot_connected`,
    refresh: true,
  });
}

/** Connects the approved Salesforce org to the installation the install started from. */
async function connectSalesforce(fc: FlowContext, { flow, code, back }: VerifiedCallback, res: Response, fail: Fail): Promise<void> {
  const { ctx } = fc;
  const app = ctx.apps.salesforce;
  if (!app) return fail(409, 'No Salesforce connected app is configured any more.', back);
  if (!flow.installationId || !flow.codeVerifier) return fail(400, 'This Salesforce install was not started from an installation.');
  let verifier: string;
  try {
    verifier = ctx.vault.openText(flow.codeVerifier);
  } catch {
    return fail(400, 'The install state cannot be read (was the encryption key changed?): start the install again.', back);
  }
  const exchange = await exchangeSalesforceCode(app, code, verifier, fc.redirectUri('salesforce'), ctx.now());
  if (!exchange.ok) return fail(502, exchange.message, back);
  const { orgId } = exchange.credentials;
  const target = await getInstallationDetails(ctx.db, flow.installationId);
  if (!target) return fail(404, 'The installation no longer exists.');
  if (target.salesforceOrgId && target.salesforceOrgId.slice(0, 15) !== orgId.slice(0, 15)) {
    return fail(
      409,
      `This installation is connected to Salesforce org ${target.salesforceOrgId}, but org ${orgId} was approved. One installation is one org: sign in to org ${target.salesforceOrgId}, or add a new installation.`,
      back,
    );
  }
  const owner = await findInstallationByOrg(ctx.db, orgId);
  if (owner && owner.id !== target.id)
    return fail(409, `Salesforce org ${orgId} is already connected to installation "${owner.name}".`, back);
  await bindOrg(ctx.db, target.id, orgId);
  await ctx.vault.write(target.id, 'salesforce', exchange.credentials);
  await reactivateInstallation(ctx.db, target.id);
  await recordAdminAction(ctx.db, {
    installationId: target.id,
    action: 'salesforce_connected',
    summary: `Salesforce org ${orgId} connected (OAuth web server flow)`,
    details: { scope: exchange.credentials.scope },
  });
  await installationChanged(ctx, target.id);
  await sideReconnected(ctx, target.id, 'salesforce');
  ctx.log.info({ installationId: target.id, orgId }, 'Salesforce connected');
  return resultPage(res, 200, {
    title: 'Salesforce connected',
    message: `Org ${orgId} is connected. Next: run the provisioning dry run.`,
    continueTo: `/admin/installations/${encodeURIComponent(target.id)}?notice=salesforce_connected`,
    refresh: true,
  });
}

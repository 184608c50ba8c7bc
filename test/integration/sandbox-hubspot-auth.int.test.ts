import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@hubspot/api-client';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import {
  APP_ID,
  CLIENT_ID,
  CLIENT_SECRET,
  PORTAL_ID,
  clientFor,
  consentForm,
  failureOf,
  refreshGrant,
  startSandbox,
} from './support-hubspot/sandbox.ts';

const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/hubspot/callback';
const SCOPES = 'oauth crm.objects.contacts.read crm.objects.contacts.write';
const TTL_MS = 60_000;
let clock = Date.parse('2026-05-01T12:00:00.000Z');
let sandbox: HubSpotSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => clock, accessTokenTtlMs: TTL_MS });
});
afterAll(async () => {
  await sandbox.close();
});

/** The client's authorize URL, pointed at the sandbox instead of app.hubspot.com. */
function authorizeUrl(state: string): string {
  const url = new URL(new Client().oauth.getAuthorizationUrl(CLIENT_ID, REDIRECT_URI, SCOPES, undefined, state));
  return `${sandbox.url}${url.pathname}${url.search}`;
}

/** Opens the consent page, submits its form with the chosen button and returns the redirect. */
async function consent(decision: 'approve' | 'deny', state: string): Promise<URL> {
  const form = consentForm(await (await fetch(authorizeUrl(state))).text(), decision);
  const response = await fetch(`${sandbox.url}/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

async function install(): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
  const redirect = await consent('approve', 'install-1');
  const tokens = await new Client({ basePath: sandbox.url }).oauth.tokensApi.create(
    'authorization_code',
    redirect.searchParams.get('code') ?? '',
    REDIRECT_URI,
    CLIENT_ID,
    CLIENT_SECRET,
  );
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn };
}

describe('HubSpot sandbox authentication', () => {
  it('refuses a request without a token with the real 401 body', async () => {
    const failure = await failureOf(new Client({ basePath: sandbox.url }).crm.contacts.basicApi.getPage());
    expect(failure.code).toBe(401);
    expect(failure.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(failure.body.message).toMatch(/^Authentication credentials not found/);
    expect(failure.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an unknown token with the same 401', async () => {
    const failure = await failureOf(clientFor(sandbox, { accessToken: 'pat-na1-not-a-token' }).crm.contacts.basicApi.getPage());
    expect(failure.code).toBe(401);
    expect(failure.body.category).toBe('INVALID_AUTHENTICATION');
  });

  it('accepts the private app token', async () => {
    const page = await clientFor(sandbox).crm.contacts.basicApi.getPage();
    expect(page.results).toEqual([]);
  });

  it('shows a consent page with an Approve button and no portal picker', async () => {
    const response = await fetch(authorizeUrl('xyz'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toMatch(/<form method="post" action="\/oauth\/authorize">/);
    expect(html).toMatch(/<button type="submit" name="decision" value="approve">Approve<\/button>/);
    expect(html).toContain('crm.objects.contacts.write');
    expect(html).not.toMatch(/<select/);
  });

  it('redirects back with a code and the state after approval', async () => {
    const redirect = await consent('approve', 'state-123');
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    expect(redirect.searchParams.get('state')).toBe('state-123');
    expect(redirect.searchParams.get('code')).toMatch(/\S{20,}/);
  });

  it('redirects back with access_denied when the user cancels', async () => {
    const redirect = await consent('deny', 'state-9');
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('state-9');
  });

  it('exchanges the code for tokens that call the CRM and describe themselves', async () => {
    const tokens = await install();
    expect(tokens.expiresIn).toBe(TTL_MS / 1000);
    const page = await clientFor(sandbox, { accessToken: tokens.accessToken }).crm.contacts.basicApi.getPage();
    expect(page.results).toEqual([]);
    const info = await new Client({ basePath: sandbox.url }).oauth.accessTokensApi.get(tokens.accessToken);
    expect(info).toMatchObject({ hubId: PORTAL_ID, appId: APP_ID, scopes: SCOPES.split(' '), expiresIn: TTL_MS / 1000 });
    const refreshInfo = await new Client({ basePath: sandbox.url }).oauth.refreshTokensApi.get(tokens.refreshToken);
    expect(refreshInfo).toMatchObject({ hubId: PORTAL_ID, clientId: CLIENT_ID });
  });

  it('refuses to exchange the same code twice', async () => {
    const redirect = await consent('approve', 'once');
    const code = redirect.searchParams.get('code') ?? '';
    const oauth = new Client({ basePath: sandbox.url }).oauth.tokensApi;
    await oauth.create('authorization_code', code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET);
    const failure = await failureOf(oauth.create('authorization_code', code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET));
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({ status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code' });
  });

  it('refuses a token request with the wrong client secret', async () => {
    const failure = await failureOf(
      new Client({ basePath: sandbox.url }).oauth.tokensApi.create('refresh_token', undefined, undefined, CLIENT_ID, 'nope', 'whatever'),
    );
    expect(failure.body.status).toBe('BAD_CLIENT_SECRET');
  });

  it('answers an expired access token with EXPIRED_AUTHENTICATION and refreshes it', async () => {
    const tokens = await install();
    clock += TTL_MS + 3 * 60_000;
    const failure = await failureOf(clientFor(sandbox, { accessToken: tokens.accessToken }).crm.contacts.basicApi.getPage());
    expect(failure.code).toBe(401);
    expect(failure.body).toMatchObject({
      status: 'error',
      category: 'EXPIRED_AUTHENTICATION',
      message: 'The OAuth token used to make this call expired 3 minute(s) ago.',
      context: { 'expire time': [new Date(clock - 3 * 60_000).toISOString()] },
    });
    const refreshed = await refreshGrant(sandbox, tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    const page = await clientFor(sandbox, { accessToken: refreshed.accessToken }).crm.contacts.basicApi.getPage();
    expect(page.results).toEqual([]);
  });

  it('refuses the webhooks management API without the developer key', async () => {
    const failure = await failureOf(
      new Client({ developerApiKey: 'wrong', basePath: sandbox.url }).webhooks.subscriptionsApi.getAll(APP_ID),
    );
    expect(failure.code).toBe(401);
    expect(failure.body.category).toBe('INVALID_AUTHENTICATION');
  });
});

/**
 * HubSpot OAuth through `@hubspot/api-client`: the authorize URL, the code exchange
 * (`oauth.tokensApi.create`), token metadata (hub id, app id), refresh before expiry and revoke.
 * Error messages name the HubSpot status, never a token or code.
 */
import { Client } from '@hubspot/api-client';
import { CrmAuthError } from '../../crm/errors.ts';
import { toHubSpotError } from '../../crm/hubspot/errors.ts';
import type { Logger } from '../../log.ts';
import { HUBSPOT_OPTIONAL_SCOPES, HUBSPOT_SCOPES, type HubSpotOAuthApp } from './apps.ts';
import type { CredentialVault, HubSpotCredentials } from './credentials.ts';

/** Refresh when the access token has less than this left (HubSpot: "refresh based on TTL"). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

function oauthClient(app: HubSpotOAuthApp): Client {
  return new Client({ basePath: app.apiBaseUrl, numberOfApiCallRetries: 0 });
}

/** The consent page URL with the app's scopes and the flow's `state`. */
export function hubspotAuthorizeUrl(app: HubSpotOAuthApp, redirectUri: string, state: string): string {
  // The SDK builds the query (client_id, redirect_uri, scope, state); the host is the configured one.
  const built = new URL(
    oauthClient(app).oauth.getAuthorizationUrl(
      app.clientId,
      redirectUri,
      HUBSPOT_SCOPES.join(' '),
      HUBSPOT_OPTIONAL_SCOPES.join(' '),
      state,
    ),
  );
  return `${app.authorizeUrl}${built.search}`;
}

/** What a failed OAuth call says, without secrets: `400 BAD_AUTH_CODE: missing or unknown auth code`. */
function describeOAuthFailure(error: unknown, secrets: readonly string[]): string {
  const mapped = toHubSpotError(error, 'OAuth', secrets);
  if (mapped instanceof Error) return mapped.message;
  const body = (error as { body?: { status?: unknown; message?: unknown } } | null)?.body;
  return typeof body?.message === 'string'
    ? `HubSpot OAuth: ${typeof body.status === 'string' ? `${body.status} ` : ''}${body.message}`
    : 'HubSpot OAuth: unexpected failure';
}

/** The result of a code exchange: credentials, or why not. */
export type HubSpotExchange = { ok: true; credentials: HubSpotCredentials } | { ok: false; message: string };

/** Exchanges an authorization code for tokens and reads which portal and app they belong to. */
export async function exchangeHubSpotCode(app: HubSpotOAuthApp, code: string, redirectUri: string, now: number): Promise<HubSpotExchange> {
  const client = oauthClient(app);
  let tokens;
  try {
    tokens = await client.oauth.tokensApi.create('authorization_code', code, redirectUri, app.clientId, app.clientSecret);
  } catch (error) {
    return { ok: false, message: describeOAuthFailure(error, [code, app.clientSecret]) };
  }
  try {
    const info = await client.oauth.accessTokensApi.get(tokens.accessToken);
    return {
      ok: true,
      credentials: {
        kind: 'oauth',
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: now + tokens.expiresIn * 1000,
        scopes: info.scopes,
        hubId: String(info.hubId),
        appId: info.appId ? String(info.appId) : null,
        connectedAt: now,
      },
    };
  } catch (error) {
    return { ok: false, message: describeOAuthFailure(error, [tokens.accessToken, tokens.refreshToken]) };
  }
}

/** Trades the refresh token for a new access token; a refused grant is a CrmAuthError (reconnect). */
export async function refreshHubSpotToken(app: HubSpotOAuthApp, credentials: HubSpotCredentials, now: number): Promise<HubSpotCredentials> {
  try {
    const tokens = await oauthClient(app).oauth.tokensApi.create(
      'refresh_token',
      undefined,
      undefined,
      app.clientId,
      app.clientSecret,
      credentials.refreshToken,
    );
    return {
      ...credentials,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken || credentials.refreshToken,
      expiresAt: now + tokens.expiresIn * 1000,
    };
  } catch (error) {
    const status = (error as { code?: unknown } | null)?.code;
    if (status === 400 || status === 401) {
      throw new CrmAuthError(
        'hubspot',
        `${describeOAuthFailure(error, [credentials.refreshToken, credentials.accessToken, app.clientSecret])}: reconnect HubSpot in the admin dashboard`,
      );
    }
    throw toHubSpotError(error, 'refresh access token', [credentials.refreshToken, credentials.accessToken, app.clientSecret]);
  }
}

/** Revokes the refresh token (and with it the grant); false when HubSpot did not confirm. */
export async function revokeHubSpot(app: HubSpotOAuthApp, credentials: HubSpotCredentials): Promise<boolean> {
  try {
    await oauthClient(app).oauth.refreshTokensApi.archive(credentials.refreshToken);
    return true;
  } catch {
    return false;
  }
}

/**
 * An access-token function for the HubSpot adapter: hands out the stored token and refreshes it
 * (once, however many requests wait) when it has less than REFRESH_MARGIN_MS left, persisting the
 * new grant sealed.
 */
export function hubspotTokenSource(deps: {
  app: HubSpotOAuthApp;
  vault: CredentialVault;
  installationId: string;
  initial: HubSpotCredentials;
  log: Logger;
  now?: () => number;
}): () => Promise<string> {
  const now = deps.now ?? Date.now;
  let current = deps.initial;
  let refreshing: Promise<HubSpotCredentials> | undefined;
  return async () => {
    if (current.expiresAt - now() > REFRESH_MARGIN_MS) return current.accessToken;
    refreshing ??= (async () => {
      try {
        const next = await refreshHubSpotToken(deps.app, current, now());
        await deps.vault.write(deps.installationId, 'hubspot', next);
        deps.log.info(
          { installationId: deps.installationId, expiresAt: new Date(next.expiresAt).toISOString() },
          'HubSpot access token refreshed',
        );
        current = next;
        return next;
      } finally {
        refreshing = undefined;
      }
    })();
    return (await refreshing).accessToken;
  };
}

/**
 * Salesforce OAuth 2.0 web server flow through jsforce `OAuth2`: the authorize URL with PKCE,
 * the code exchange (`requestToken` with the verifier), the org and user of the grant (identity
 * URL), and revoke. Refreshes happen inside jsforce connections; `persistSalesforceRefresh`
 * stores each new access token from the connection's `refresh` event.
 */
import jsforce from 'jsforce';
import type { Logger } from '../../log.ts';
import { SALESFORCE_SCOPE, type SalesforceOAuthApp } from './apps.ts';
import type { CredentialVault, SalesforceCredentials } from './credentials.ts';

function oauth2(app: SalesforceOAuthApp, redirectUri: string, useVerifier: boolean): jsforce.OAuth2 {
  return new jsforce.OAuth2({ loginUrl: app.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri, useVerifier });
}

/** The consent page URL and the PKCE verifier to keep (sealed) until the callback. */
export function salesforceAuthorizeUrl(app: SalesforceOAuthApp, redirectUri: string, state: string): { url: string; codeVerifier: string } {
  const client = oauth2(app, redirectUri, true);
  const url = client.getAuthorizationUrl({ scope: SALESFORCE_SCOPE, state });
  if (!client.codeVerifier) throw new Error('jsforce did not create a PKCE code verifier');
  return { url, codeVerifier: client.codeVerifier };
}

/** The org and user of an identity URL `…/id/<orgId>/<userId>`. */
export function parseIdentityUrl(url: string): { orgId: string; userId: string } | undefined {
  const match = /\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?$/.exec(url);
  return match?.[1] && match[2] ? { orgId: match[1], userId: match[2] } : undefined;
}

/** Removes secrets from a message before it reaches a page or a log. */
function scrub(message: string, secrets: readonly string[]): string {
  let text = message;
  for (const secret of secrets) if (secret.length >= 6) text = text.split(secret).join('[redacted]');
  return text.replace(/\b(code|access_token|refresh_token|client_secret|code_verifier)=[^&\s"']+/gi, '$1=[redacted]');
}

export type SalesforceExchange = { ok: true; credentials: SalesforceCredentials } | { ok: false; message: string };

/** Exchanges the authorization code (with the PKCE verifier) for a session and refresh token. */
export async function exchangeSalesforceCode(
  app: SalesforceOAuthApp,
  code: string,
  codeVerifier: string,
  redirectUri: string,
  now: number,
): Promise<SalesforceExchange> {
  try {
    const grant = await oauth2(app, redirectUri, false).requestToken(code, { code_verifier: codeVerifier });
    const identity = parseIdentityUrl(grant.id);
    if (!identity) return { ok: false, message: 'Salesforce answered without an identity URL naming the org and user' };
    return {
      ok: true,
      credentials: {
        kind: 'oauth',
        accessToken: grant.access_token,
        refreshToken: grant.refresh_token ?? null,
        instanceUrl: grant.instance_url,
        orgId: identity.orgId,
        userId: identity.userId,
        scope: grant.scope,
        issuedAt: Number(grant.issued_at) || now,
        connectedAt: now,
      },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `Salesforce token request failed: ${scrub(message, [code, codeVerifier, app.clientSecret])}` };
  }
}

/** Revokes the refresh token (its access tokens die with it), else the access token. */
export async function revokeSalesforce(app: SalesforceOAuthApp, credentials: SalesforceCredentials): Promise<boolean> {
  try {
    await oauth2(app, `${app.loginUrl}/services/oauth2/success`, false).revokeToken(credentials.refreshToken ?? credentials.accessToken);
    return true;
  } catch {
    return false;
  }
}

/**
 * The listener for a jsforce connection's `refresh` event: stores the new access token (sealed),
 * keeping the refresh token. Errors are logged, never thrown into the request that refreshed.
 */
export function persistSalesforceRefresh(deps: {
  vault: CredentialVault;
  installationId: string;
  log: Logger;
  now?: () => number;
}): (accessToken: string, instanceUrl: string) => void {
  const now = deps.now ?? Date.now;
  let chain: Promise<void> = Promise.resolve();
  return (accessToken, instanceUrl) => {
    // Writes are chained so two quick refreshes land in order.
    chain = chain.then(async () => {
      try {
        const stored = await deps.vault.read(deps.installationId, 'salesforce');
        if (!stored) return;
        await deps.vault.write(deps.installationId, 'salesforce', { ...stored, accessToken, instanceUrl, issuedAt: now() });
        deps.log.info({ installationId: deps.installationId }, 'Salesforce session refreshed and stored');
      } catch (error) {
        deps.log.warn(
          { installationId: deps.installationId, error: error instanceof Error ? error.message : String(error) },
          'could not store the refreshed Salesforce session',
        );
      }
    });
  };
}

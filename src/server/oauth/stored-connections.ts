/**
 * Builds CRM access from an installation's stored OAuth credentials for `InstallationClients`:
 * a HubSpot token function that refreshes before expiry, and Salesforce connection options whose
 * `refresh` events are persisted. An installation without stored credentials resolves null, so the
 * env/sandbox endpoints apply. Also the sealed SLA alert target. Stored credentials that cannot
 * be opened are an authentication failure of their side (the installation waits, its page says
 * why and how to fix it), never a crash.
 */
import type { Logger } from '../../log.ts';
import type { StoredConnections } from '../../runtime/installation-clients.ts';
import type { OAuthApps } from './apps.ts';
import { CrmAuthError } from '../../crm/errors.ts';
import { UnreadableCredentialsError, type CredentialVault } from './credentials.ts';
import { hubspotTokenSource } from './hubspot.ts';
import { persistSalesforceRefresh } from './salesforce.ts';

/** Stored-credential access for every installation of this deployment. */
export function createStoredConnections(deps: {
  vault: CredentialVault;
  apps: OAuthApps;
  log: Logger;
  now?: () => number;
}): StoredConnections {
  const now = deps.now ?? Date.now;
  const readSide = async <S extends 'hubspot' | 'salesforce'>(installationId: string, side: S) => {
    try {
      return await deps.vault.read(installationId, side);
    } catch (error) {
      if (error instanceof UnreadableCredentialsError) throw new CrmAuthError(side, error.message);
      throw error;
    }
  };
  return {
    async alert(installationId) {
      return deps.vault.read(installationId, 'alert');
    },
    async hubspot(installationId) {
      const credentials = await readSide(installationId, 'hubspot');
      const app = deps.apps.hubspot;
      if (!credentials || !app) return null;
      return {
        basePath: app.apiBaseUrl,
        appId: credentials.appId,
        accessToken: hubspotTokenSource({ app, vault: deps.vault, installationId, initial: credentials, log: deps.log, now }),
      };
    },
    async salesforce(installationId) {
      const credentials = await readSide(installationId, 'salesforce');
      const app = deps.apps.salesforce;
      if (!credentials || !app) return null;
      return {
        loginUrl: app.loginUrl,
        apiVersion: app.apiVersion,
        instanceUrl: credentials.instanceUrl,
        accessToken: credentials.accessToken,
        ...(credentials.refreshToken ? { refreshToken: credentials.refreshToken } : {}),
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        onRefresh: persistSalesforceRefresh({ vault: deps.vault, installationId, log: deps.log, now }),
      };
    },
  };
}

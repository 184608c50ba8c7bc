/**
 * The OAuth apps the admin installs with: the HubSpot public app and the Salesforce connected app,
 * from the configuration (live) or the sandbox CRMs' built-in apps (sandbox mode).
 */
import type { AppConfig } from '../../config.ts';

/**
 * Scopes the HubSpot app asks for (hubspot-api.md §4.3): contacts and notes, contact properties, and
 * unsubscribing an address from all email (`subscriptions-status-write`, src/sync/consent.ts).
 */
export const HUBSPOT_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
  'subscriptions-status-write',
] as const;
/**
 * Scopes asked as optional: a portal that cannot grant them still installs the app. The pipeline
 * review lists HubSpot's marketing campaigns with `marketing.campaigns.read`, which only portals
 * with Marketing Hub Professional or Enterprise have. Owners (`crm.objects.owners.read`) match
 * HubSpot owners to Salesforce users; without them the org's assignment rules own every Lead.
 */
export const HUBSPOT_OPTIONAL_SCOPES = ['marketing.campaigns.read', 'crm.objects.owners.read'] as const;

/** Scopes of the Salesforce connected app: the REST API, and a refresh token for offline syncing. */
export const SALESFORCE_SCOPE = 'api refresh_token';

export interface HubSpotOAuthApp {
  clientId: string;
  clientSecret: string;
  /** The consent page, e.g. `https://app.hubspot.com/oauth/authorize`. */
  authorizeUrl: string;
  /** API root for the token endpoints (`/oauth/v1/token`). */
  apiBaseUrl: string;
}

export interface SalesforceOAuthApp {
  clientId: string;
  clientSecret: string;
  /** Login host: `https://login.salesforce.com`, `https://test.salesforce.com`, a My Domain, or the sandbox. */
  loginUrl: string;
  apiVersion: string;
}

export interface OAuthApps {
  hubspot: HubSpotOAuthApp | undefined;
  salesforce: SalesforceOAuthApp | undefined;
}

/** The OAuth apps of this deployment; a side without one can still run on an env token. */
export function resolveOAuthApps(
  config: AppConfig,
  sandboxUrls: { hubspot?: string | undefined; salesforce?: string | undefined },
): OAuthApps {
  let hubspot: HubSpotOAuthApp | undefined;
  if (config.hubspot.mode === 'sandbox') {
    const base = sandboxUrls.hubspot;
    if (base)
      hubspot = {
        clientId: config.sandbox.hubspot.clientId,
        clientSecret: config.sandbox.hubspot.clientSecret,
        authorizeUrl: `${base}/oauth/authorize`,
        apiBaseUrl: base,
      };
  } else if (config.hubspot.clientId && config.hubspot.clientSecret) {
    hubspot = {
      clientId: config.hubspot.clientId,
      clientSecret: config.hubspot.clientSecret,
      authorizeUrl: config.hubspot.authorizeUrl,
      apiBaseUrl: config.hubspot.apiBaseUrl,
    };
  }
  let salesforce: SalesforceOAuthApp | undefined;
  if (config.salesforce.mode === 'sandbox') {
    const base = sandboxUrls.salesforce;
    if (base)
      salesforce = {
        clientId: config.sandbox.salesforce.clientId,
        clientSecret: config.sandbox.salesforce.clientSecret,
        loginUrl: base,
        apiVersion: config.salesforce.apiVersion,
      };
  } else if (config.salesforce.clientId && config.salesforce.clientSecret) {
    salesforce = {
      clientId: config.salesforce.clientId,
      clientSecret: config.salesforce.clientSecret,
      loginUrl: config.salesforce.loginUrl,
      apiVersion: config.salesforce.apiVersion,
    };
  }
  return { hubspot, salesforce };
}

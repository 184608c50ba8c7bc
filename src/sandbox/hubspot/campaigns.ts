/**
 * HubSpot marketing campaigns in the sandbox portal (Marketing campaigns API v3,
 * developers.hubspot.com/docs/api-reference/legacy/marketing/campaigns):
 *
 * - `GET /marketing/v3/campaigns` ("Campaign search"): query `sort` (`hs_name`, `createdAt`,
 *   `updatedAt`, `-` for descending; default `hs_name`), `after` (cursor), `limit` (1–100, default
 *   50), `name` (substring), `properties` (comma list). Answer `{ total, results, paging? }`; each
 *   result `{ id, properties, createdAt, updatedAt, businessUnits }` carries only the properties asked
 *   for that have a value (none asked: an empty map).
 * - `POST /marketing/v3/campaigns` `{ properties }` creates one (201); `hs_name` is required and
 *   unique in the portal.
 * - Access: the campaigns tool is part of Marketing Hub Professional and Enterprise; the API needs
 *   `marketing.campaigns.read` (writes: `.write`). A portal below Professional cannot grant the scope,
 *   so every call there, and every call with an OAuth token whose grant lacks the scope, answers 403
 *   `MISSING_SCOPES` with HubSpot's body (`errors[0].context.requiredGranularScopes`). The
 *   private-app token holds every scope the portal offers.
 * Campaigns live in memory (not in the state file) and go with a reset. Routes: campaigns-routes.ts.
 */

/** Marketing Hub editions; the campaigns API needs Professional or Enterprise. */
export const MARKETING_HUB_TIERS = ['free', 'starter', 'professional', 'enterprise'] as const;
export type MarketingHubTier = (typeof MARKETING_HUB_TIERS)[number];

export const CAMPAIGNS_READ_SCOPE = 'marketing.campaigns.read';
export const CAMPAIGNS_WRITE_SCOPE = 'marketing.campaigns.write';
const CAMPAIGN_SCOPES = new Set([CAMPAIGNS_READ_SCOPE, CAMPAIGNS_WRITE_SCOPE, 'marketing.campaigns.revenue.read']);

/** Whether a portal of this tier has the campaigns tool (and can grant its scopes). */
export function tierHasCampaigns(tier: MarketingHubTier): boolean {
  return tier === 'professional' || tier === 'enterprise';
}

/** Scopes a portal of this tier can grant out of those asked (the campaigns scopes need the tool). */
export function grantableScopes(tier: MarketingHubTier, scopes: readonly string[]): string[] {
  return scopes.filter((scope) => tierHasCampaigns(tier) || !CAMPAIGN_SCOPES.has(scope));
}

export interface SandboxCampaign {
  id: string;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/** The portal's campaigns and its Marketing Hub edition. */
export class CampaignBook {
  readonly campaigns = new Map<string, SandboxCampaign>();
  tier: MarketingHubTier = 'professional';

  reset(): void {
    this.campaigns.clear();
    this.tier = 'professional';
  }
}

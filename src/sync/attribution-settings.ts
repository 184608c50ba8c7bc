/**
 * What attribution reads from each CRM and the admin's attribution settings (channel rules,
 * LeadSource map, Campaign handling), validated with zod. Kept apart from `attribution.ts` so the
 * sync context can name these without an import cycle.
 */
import { z } from 'zod';
import { buildTouches } from '../domain/attribution.ts';
import { DEFAULT_LEAD_SOURCE_BY_CHANNEL, stampFields } from '../domain/attribution-stamp.ts';
import { DEFAULT_CHANNEL_RULES, validateChannelRules, type ChannelRules } from '../domain/channels.ts';
import { err, ok, type Result } from '../domain/result.ts';
import { zodIssueMessages } from '../domain/validation.ts';

const emptyStamp = stampFields(buildTouches({}));

/** The HubSpot contact properties of the stamp (`attribution_first_*`, `attribution_last_*`, docs/architecture.md §7). */
export const HUBSPOT_STAMP_PROPERTIES = Object.keys(emptyStamp.hubspot) as (keyof typeof emptyStamp.hubspot)[];

/** The Salesforce Lead / Contact fields of the stamp (`First_Touch_*__c`, `Last_Touch_*__c`, docs/architecture.md §7). */
export const SALESFORCE_STAMP_FIELDS = Object.keys(emptyStamp.salesforce) as (keyof typeof emptyStamp.salesforce)[];

/**
 * HubSpot contact properties attribution reads: original and latest source with drill-downs,
 * first/last page and referrer, conversions, custom `utm_*` properties (absent in most portals:
 * HubSpot answers null for them), the creation date, and the current stamp (to write only changes).
 */
export const ATTRIBUTION_CONTACT_PROPERTIES = [
  'hs_analytics_source',
  'hs_analytics_source_data_1',
  'hs_analytics_source_data_2',
  'hs_analytics_first_url',
  'hs_analytics_first_referrer',
  'hs_analytics_first_timestamp',
  'hs_analytics_first_visit_timestamp',
  'hs_latest_source',
  'hs_latest_source_data_1',
  'hs_latest_source_data_2',
  'hs_latest_source_timestamp',
  'hs_analytics_last_url',
  'hs_analytics_last_referrer',
  'hs_analytics_last_visit_timestamp',
  'hs_analytics_last_timestamp',
  'first_conversion_event_name',
  'first_conversion_date',
  'recent_conversion_event_name',
  'recent_conversion_date',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'createdate',
  ...HUBSPOT_STAMP_PROPERTIES,
] as const;

/** Lead fields attribution reads: the stamp (to write only changes), LeadSource and the creation date. */
export const ATTRIBUTION_LEAD_FIELDS = ['LeadSource', 'CreatedDate', ...SALESFORCE_STAMP_FIELDS] as const;

/** How the app treats Salesforce Campaigns named by a UTM campaign. */
export interface CampaignSettings {
  /** Create a missing Campaign (active) with the UTM campaign's name; otherwise log and skip. */
  readonly createMissing: boolean;
  /**
   * The member status preferred for new CampaignMembers: written when the Campaign has it as a
   * responded status, and added (responded) to Campaigns the app creates; on other Campaigns the
   * Campaign's first responded status is written instead (statuses belong to each Campaign).
   */
  readonly memberStatus: string;
}

/** The attribution settings of one installation. */
export interface AttributionSettings {
  readonly channelRules: ChannelRules;
  /** Channel → Salesforce `LeadSource` picklist value, used only when a record's LeadSource is empty. */
  readonly leadSourceByChannel: Readonly<Record<string, string>>;
  readonly campaigns: CampaignSettings;
}

/** The defaults: GA4-style channel rules, the standard LeadSource values, missing Campaigns created. */
export const DEFAULT_ATTRIBUTION_SETTINGS: AttributionSettings = {
  channelRules: DEFAULT_CHANNEL_RULES,
  leadSourceByChannel: DEFAULT_LEAD_SOURCE_BY_CHANNEL,
  campaigns: { createMissing: true, memberStatus: 'Responded' },
};

const nonBlank = z.string().trim().min(1);

/** `installations.settings.attribution`: every key optional, defaults fill the rest. */
export const AttributionOptionsSchema = z
  .object({
    leadSourceByChannel: z.record(nonBlank, nonBlank.max(255)).optional(),
    createMissingCampaigns: z.boolean().optional(),
    campaignMemberStatus: nonBlank.max(40).optional(),
  })
  .strict();

/**
 * Reads the admin's settings: `channelRules` (see channels.ts) and `attribution` options, each
 * optional; lists every problem when either is invalid.
 */
export function attributionSettingsFrom(settings: {
  channelRules?: unknown;
  attribution?: unknown;
}): Result<AttributionSettings, string[]> {
  const problems: string[] = [];
  let channelRules = DEFAULT_CHANNEL_RULES;
  if (settings.channelRules !== undefined) {
    const rules = validateChannelRules(settings.channelRules);
    if (rules.ok) channelRules = rules.value;
    else problems.push(...rules.error.map((problem) => `channelRules.${problem}`));
  }
  const options = AttributionOptionsSchema.safeParse(settings.attribution ?? {});
  if (!options.success) problems.push(...zodIssueMessages(options.error).map((problem) => `attribution.${problem}`));
  if (problems.length > 0 || !options.success) return err(problems);
  return ok({
    channelRules,
    leadSourceByChannel: { ...DEFAULT_LEAD_SOURCE_BY_CHANNEL, ...options.data.leadSourceByChannel },
    campaigns: {
      createMissing: options.data.createMissingCampaigns ?? DEFAULT_ATTRIBUTION_SETTINGS.campaigns.createMissing,
      memberStatus: options.data.campaignMemberStatus ?? DEFAULT_ATTRIBUTION_SETTINGS.campaigns.memberStatus,
    },
  });
}

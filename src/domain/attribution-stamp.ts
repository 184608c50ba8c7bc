/**
 * The attribution stamp (docs/architecture.md §3, §7): first and last touch as the HubSpot contact
 * properties and the Salesforce Lead/Contact fields, and the `LeadSource` filled in from the first
 * touch's channel when sales left it empty.
 */
import type { Touches } from './attribution.ts';
import type { ChannelName } from './channels.ts';
import { presentOrNull } from './validation.ts';

/** The HubSpot contact properties of the attribution stamp (docs/architecture.md §7). */
export type HubSpotAttributionProperty =
  | 'attribution_first_channel'
  | 'attribution_first_source'
  | 'attribution_first_medium'
  | 'attribution_first_campaign'
  | 'attribution_first_content'
  | 'attribution_first_term'
  | 'attribution_first_at'
  | 'attribution_last_channel'
  | 'attribution_last_source'
  | 'attribution_last_medium'
  | 'attribution_last_campaign'
  | 'attribution_last_at';

/** The Salesforce Lead/Contact fields of the attribution stamp (docs/architecture.md §7). */
export type SalesforceAttributionField =
  | 'First_Touch_Channel__c'
  | 'First_Touch_Source__c'
  | 'First_Touch_Medium__c'
  | 'First_Touch_Campaign__c'
  | 'First_Touch_Content__c'
  | 'First_Touch_Term__c'
  | 'First_Touch_At__c'
  | 'Last_Touch_Channel__c'
  | 'Last_Touch_Source__c'
  | 'Last_Touch_Medium__c'
  | 'Last_Touch_Campaign__c'
  | 'Last_Touch_At__c';

/** The stamp for both CRMs: HubSpot clears with `""`, Salesforce with null; times are ISO 8601 UTC. */
export interface AttributionStamp {
  readonly hubspot: Readonly<Record<HubSpotAttributionProperty, string>>;
  readonly salesforce: Readonly<Record<SalesforceAttributionField, string | null>>;
}

/** Maps first and last touch to the HubSpot property map and the Salesforce field map. */
export function stampFields(touches: Touches): AttributionStamp {
  const { first, last } = touches;
  const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());
  const salesforce: Record<SalesforceAttributionField, string | null> = {
    First_Touch_Channel__c: first.channel,
    First_Touch_Source__c: first.source,
    First_Touch_Medium__c: first.medium,
    First_Touch_Campaign__c: first.campaign,
    First_Touch_Content__c: first.content,
    First_Touch_Term__c: first.term,
    First_Touch_At__c: iso(first.at),
    Last_Touch_Channel__c: last.channel,
    Last_Touch_Source__c: last.source,
    Last_Touch_Medium__c: last.medium,
    Last_Touch_Campaign__c: last.campaign,
    Last_Touch_At__c: iso(last.at),
  };
  const hubspot: Record<HubSpotAttributionProperty, string> = {
    attribution_first_channel: first.channel,
    attribution_first_source: first.source ?? '',
    attribution_first_medium: first.medium ?? '',
    attribution_first_campaign: first.campaign ?? '',
    attribution_first_content: first.content ?? '',
    attribution_first_term: first.term ?? '',
    attribution_first_at: iso(first.at) ?? '',
    attribution_last_channel: last.channel,
    attribution_last_source: last.source ?? '',
    attribution_last_medium: last.medium ?? '',
    attribution_last_campaign: last.campaign ?? '',
    attribution_last_at: iso(last.at) ?? '',
  };
  return { hubspot, salesforce };
}

/** Default channel → Salesforce `LeadSource`, using the picklist values every org has. */
export const DEFAULT_LEAD_SOURCE_BY_CHANNEL: Readonly<Record<string, string>> = {
  'Paid Search': 'Web',
  'Organic Search': 'Web',
  'Paid Social': 'Web',
  'Organic Social': 'Web',
  Email: 'Web',
  Referral: 'Web',
  Display: 'Web',
  'Paid Video': 'Web',
  'Organic Video': 'Web',
  SMS: 'Web',
  Direct: 'Web',
  Affiliates: 'Partner Referral',
  Events: 'Other',
  'Sales-sourced': 'Other',
  Unassigned: 'Other',
};

/** The `LeadSource` picklist value for a channel (`Other` for a channel the map does not know). */
export function leadSourceFor(channel: ChannelName, map: Readonly<Record<string, string>> = DEFAULT_LEAD_SOURCE_BY_CHANNEL): string {
  return map[channel] ?? 'Other';
}

/** The `LeadSource` to write: a value only when the existing one is empty (sales' entry wins). */
export function fillLeadSource(
  existing: string | null | undefined,
  channel: ChannelName,
  map: Readonly<Record<string, string>> = DEFAULT_LEAD_SOURCE_BY_CHANNEL,
): string | null {
  return presentOrNull(existing) === null ? leadSourceFor(channel, map) : null;
}

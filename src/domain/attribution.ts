/**
 * Attribution (docs/architecture.md §3): first and last touch from HubSpot analytics, UTMs and Salesforce
 * `LeadSource`; the stamp written to both CRMs; `LeadSource` fill-in; revenue credit per campaign.
 * Invariant 5: every lead carries a stamp — the channel is never blank.
 */
import {
  classifyChannel,
  DEFAULT_CHANNEL_RULES,
  hostOf,
  isOnSiteList,
  type ChannelName,
  type ChannelRules,
  type TouchSignals,
} from './channels.ts';
import { assertCents } from './money.ts';
import { assertNever } from './result.ts';
import { normalizeValue, parseTimestamp, presentOrNull } from './validation.ts';

// ---------------------------------------------------------------------------------------------
// UTM parsing

/** Click-id parameters that identify an ad network when UTMs are missing, in priority order. */
export const CLICK_ID_SOURCES: Readonly<Record<string, { readonly source: string; readonly medium: string | null }>> = {
  gclid: { source: 'google', medium: 'cpc' },
  gbraid: { source: 'google', medium: 'cpc' },
  wbraid: { source: 'google', medium: 'cpc' },
  dclid: { source: 'google', medium: 'display' },
  msclkid: { source: 'bing', medium: 'cpc' },
  li_fat_id: { source: 'linkedin', medium: 'paid' },
  ttclid: { source: 'tiktok', medium: 'paid' },
  twclid: { source: 'twitter', medium: 'paid' },
  // Facebook adds fbclid to organic shares too, so it names the network but not the medium.
  fbclid: { source: 'facebook', medium: null },
  // HubSpot marketing emails tag their links with _hsenc.
  _hsenc: { source: 'hubspot', medium: 'email' },
};

/** The campaign parameters of a URL; absent or blank values are null. */
export interface UtmParameters {
  readonly source: string | null;
  readonly medium: string | null;
  readonly campaign: string | null;
  readonly content: string | null;
  readonly term: string | null;
  readonly id: string | null;
  /** The first ad click id found (see CLICK_ID_SOURCES), or null. */
  readonly clickId: string | null;
}

const EMPTY_UTM: UtmParameters = { source: null, medium: null, campaign: null, content: null, term: null, id: null, clickId: null };

/**
 * Reads `utm_*` parameters (and ad click ids) from a URL, never throwing: keys are
 * case-insensitive, `+` is a space, bad percent-escapes are kept as written, the first non-blank
 * value of a key wins, query parameters win over ones after `#`, and relative or scheme-less
 * URLs work.
 */
export function parseUtm(url: string | null | undefined): UtmParameters {
  if (url === null || url === undefined) return EMPTY_UTM;
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt + 1);
  const queryAt = beforeHash.indexOf('?');
  const query = queryAt === -1 ? '' : beforeHash.slice(queryAt + 1);
  const fragmentQueryAt = fragment.indexOf('?');
  const fragmentQuery = fragmentQueryAt === -1 ? fragment : fragment.slice(fragmentQueryAt + 1);

  const found = new Map<string, string>();
  for (const part of [query, fragmentQuery]) {
    for (const pair of part.split(/[&;]/)) {
      const equalsAt = pair.indexOf('=');
      if (equalsAt <= 0) continue;
      const key = decodeComponent(pair.slice(0, equalsAt)).trim().toLowerCase();
      const value = decodeComponent(pair.slice(equalsAt + 1)).trim();
      if (key === '' || value === '' || found.has(key)) continue;
      found.set(key, value);
    }
  }
  const clickId = Object.keys(CLICK_ID_SOURCES).find((param) => found.has(param)) ?? null;
  return {
    source: found.get('utm_source') ?? null,
    medium: found.get('utm_medium') ?? null,
    campaign: found.get('utm_campaign') ?? null,
    content: found.get('utm_content') ?? null,
    term: found.get('utm_term') ?? null,
    id: found.get('utm_id') ?? null,
    clickId,
  };
}

function decodeComponent(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Decode the well-formed runs and keep the broken escapes as written.
    return spaced.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** The page a URL points at, without query or fragment; null for a blank URL. */
export function landingPageOf(url: string | null | undefined): string | null {
  const present = presentOrNull(url);
  if (present === null) return null;
  const end = present.search(/[?#]/);
  const page = end === -1 ? present : present.slice(0, end);
  return page === '' ? null : page;
}

// ---------------------------------------------------------------------------------------------
// Touches

/** One attributed touch as stamped on both CRMs. */
export interface Touch {
  readonly channel: ChannelName;
  readonly source: string | null;
  readonly medium: string | null;
  readonly campaign: string | null;
  readonly content: string | null;
  readonly term: string | null;
  /** Epoch ms. */
  readonly at: number | null;
  readonly landingPage: string | null;
  /** The converting form or event name. */
  readonly form: string | null;
}

/** The first and last touch of a lead. */
export interface Touches {
  readonly first: Touch;
  readonly last: Touch;
}

/** A contact's properties as HubSpot returns them (all values are strings). */
export type HubSpotProperties = Readonly<Record<string, string | null | undefined>>;

/** Everything attribution reads about a lead. */
export interface AttributionInput {
  /** HubSpot contact properties: `hs_analytics_*`, `hs_latest_source*`, conversions, custom `utm_*`. */
  readonly hubspot?: HubSpotProperties | null | undefined;
  readonly salesforce?:
    | {
        readonly LeadSource?: string | null | undefined;
        readonly CreatedDate?: string | number | null | undefined;
      }
    | null
    | undefined;
  /** Which system created the record; `salesforce` makes a lead with no other source sales-sourced. */
  readonly origin?: 'hubspot' | 'salesforce' | null | undefined;
}

/** Custom contact properties that carry UTMs captured by forms; they win over parsed URLs (first touch). */
export const CUSTOM_UTM_PROPERTIES = {
  source: 'utm_source',
  medium: 'utm_medium',
  campaign: 'utm_campaign',
  content: 'utm_content',
  term: 'utm_term',
} as const;

interface TouchEvidence {
  readonly url: string | null;
  readonly referrer: string | null;
  readonly bucket: string | null;
  readonly bucketData1: string | null;
  readonly bucketData2: string | null;
  readonly custom: Partial<Record<keyof typeof CUSTOM_UTM_PROPERTIES, string | null>>;
  readonly at: number | null;
  readonly form: string | null;
}

/** Builds the first and last touch of a lead; the channel comes from `rules` and is never blank. */
export function buildTouches(input: AttributionInput, rules: ChannelRules = DEFAULT_CHANNEL_RULES): Touches {
  const properties = input.hubspot ?? {};
  const read = (name: string): string | null => presentOrNull(properties[name]);
  const readTime = (...names: string[]): number | null => {
    for (const name of names) {
      const time = parseTimestamp(properties[name]);
      if (time !== null) return time;
    }
    return null;
  };
  const leadSource = presentOrNull(input.salesforce?.LeadSource);
  const origin = input.origin ?? null;
  const context = { leadSource, origin, rules };

  const first = touchFrom(
    {
      url: read('hs_analytics_first_url'),
      referrer: read('hs_analytics_first_referrer'),
      bucket: read('hs_analytics_source'),
      bucketData1: read('hs_analytics_source_data_1'),
      bucketData2: read('hs_analytics_source_data_2'),
      custom: {
        source: read(CUSTOM_UTM_PROPERTIES.source),
        medium: read(CUSTOM_UTM_PROPERTIES.medium),
        campaign: read(CUSTOM_UTM_PROPERTIES.campaign),
        content: read(CUSTOM_UTM_PROPERTIES.content),
        term: read(CUSTOM_UTM_PROPERTIES.term),
      },
      at:
        readTime('hs_analytics_first_timestamp', 'hs_analytics_first_visit_timestamp', 'first_conversion_date') ??
        parseTimestamp(input.salesforce?.CreatedDate) ??
        readTime('createdate'),
      form: read('first_conversion_event_name'),
    },
    context,
  );

  const lastEvidence: TouchEvidence = {
    url: read('hs_analytics_last_url'),
    referrer: read('hs_analytics_last_referrer'),
    bucket: read('hs_latest_source'),
    bucketData1: read('hs_latest_source_data_1'),
    bucketData2: read('hs_latest_source_data_2'),
    custom: {},
    at: readTime(
      'hs_latest_source_timestamp',
      'hs_analytics_last_visit_timestamp',
      'recent_conversion_date',
      'hs_analytics_last_timestamp',
    ),
    form: read('recent_conversion_event_name'),
  };
  const hasLastTouch = lastEvidence.url !== null || lastEvidence.referrer !== null || lastEvidence.bucket !== null;
  // A lead seen once has one touch: the last touch is the first, at the latest known time.
  const last = hasLastTouch
    ? touchFrom(lastEvidence, context)
    : { ...first, at: lastEvidence.at ?? first.at, form: lastEvidence.form ?? first.form };
  return { first, last };
}

interface TouchContext {
  readonly leadSource: string | null;
  readonly origin: string | null;
  readonly rules: ChannelRules;
}

function touchFrom(evidence: TouchEvidence, context: TouchContext): Touch {
  const utm = parseUtm(evidence.url);
  const clickSource = utm.clickId === null ? undefined : CLICK_ID_SOURCES[utm.clickId];
  const drillDown = bucketDrillDown(evidence, context.rules);
  const referrerHost = evidence.referrer === null ? null : presentOrNull(hostOf(evidence.referrer));

  const taggedSource = evidence.custom.source ?? utm.source ?? clickSource?.source ?? null;
  const taggedMedium = evidence.custom.medium ?? utm.medium ?? clickSource?.medium ?? null;
  const source = taggedSource ?? referrerHost ?? drillDown.source;
  const campaign = evidence.custom.campaign ?? utm.campaign ?? drillDown.campaign;
  const landingPage = landingPageOf(evidence.url);

  const signals: TouchSignals = {
    source,
    medium: taggedMedium,
    campaign,
    referrer: evidence.referrer,
    landingPage,
    hubspotSource: evidence.bucket,
    hubspotSourceData1: evidence.bucketData1,
    hubspotSourceData2: evidence.bucketData2,
    leadSource: context.leadSource,
    origin: context.origin,
  };
  const channel = classifyChannel(context.rules, signals);

  // Name the medium of untagged visits the way GA4 reports them.
  let medium = taggedMedium;
  let shownSource = source;
  if (medium === null && taggedSource === null && referrerHost !== null) {
    medium = channel === 'Organic Search' ? 'organic' : 'referral';
  }
  if (channel === 'Direct' && shownSource === null) {
    shownSource = '(direct)';
    medium ??= '(none)';
  }
  return {
    channel,
    source: shownSource,
    medium,
    campaign,
    content: evidence.custom.content ?? utm.content,
    term: evidence.custom.term ?? utm.term ?? drillDown.term,
    at: evidence.at,
    landingPage,
    form: evidence.form,
  };
}

interface DrillDown {
  readonly source: string | null;
  readonly campaign: string | null;
  readonly term: string | null;
}

/**
 * What HubSpot's read-only source drill-downs add (per its source-properties article): social →
 * network / campaign, email and paid search → campaign, referrals → domain, organic search →
 * search term and engine (whichever drill-down names a search site is the engine).
 */
function bucketDrillDown(evidence: TouchEvidence, rules: ChannelRules): DrillDown {
  const { bucketData1: data1, bucketData2: data2 } = evidence;
  const none: DrillDown = { source: null, campaign: null, term: null };
  const bucket = evidence.bucket === null ? null : evidence.bucket.toUpperCase();
  switch (bucket) {
    case 'SOCIAL_MEDIA':
    case 'PAID_SOCIAL':
      return { source: data1 === null ? null : normalizeValue(data1), campaign: data2, term: null };
    case 'EMAIL_MARKETING':
    case 'PAID_SEARCH':
      return { ...none, campaign: data1 };
    case 'REFERRALS':
    case 'AI_REFERRALS':
      return { ...none, source: data1 === null ? null : hostOf(data1) };
    case 'ORGANIC_SEARCH': {
      const searchSites = rules.siteLists['search'] ?? [];
      const engine = [data1, data2].find((value) => value !== null && isOnSiteList(value, searchSites)) ?? null;
      const term = [data1, data2].find((value) => value !== null && value !== engine && !/unknown keywords/i.test(value)) ?? null;
      return { source: engine === null ? null : normalizeValue(engine), campaign: null, term };
    }
    default:
      return none;
  }
}

// ---------------------------------------------------------------------------------------------
// Stamps

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

// ---------------------------------------------------------------------------------------------
// Revenue credit

/** Multi-touch revenue credit models. */
export const CREDIT_MODELS = ['first_touch', 'last_touch', 'linear', 'position_based'] as const;
/** A credit model. */
export type CreditModel = (typeof CREDIT_MODELS)[number];

/** One campaign touch on the way to a won deal. */
export interface CreditTouchpoint {
  readonly campaign: string;
  /** Epoch ms; touches are credited in time order (ties keep input order). */
  readonly at: number;
}

/** Revenue credited to one campaign, in integer cents. */
export interface CampaignCredit {
  readonly campaign: string;
  readonly amountCents: number;
}

/** The campaign that receives revenue when a deal has no touchpoints (or a touch has no campaign). */
export const UNATTRIBUTED_CAMPAIGN = '(unattributed)';

/**
 * Splits a won amount (integer cents) across campaigns: first/last touch, linear, or position
 * based (40/20/40; one touch 100 %, two touches 50/50). Exact rational shares are floored and
 * the leftover cents go to the largest remainders, ties to the earliest campaign, so the credits
 * always sum to the won amount. Campaigns appear in order of their first touch.
 */
export function creditRevenue(model: CreditModel, touchpoints: readonly CreditTouchpoint[], wonAmountCents: number): CampaignCredit[] {
  assertCents(wonAmountCents);
  if (touchpoints.length === 0) return [{ campaign: UNATTRIBUTED_CAMPAIGN, amountCents: wonAmountCents }];

  const ordered = touchpoints
    .map((touch, index) => ({ campaign: presentOrNull(touch.campaign) ?? UNATTRIBUTED_CAMPAIGN, at: touch.at, index }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index));
  const { numerators, denominator } = creditWeights(model, ordered.length);

  const weightByCampaign = new Map<string, bigint>();
  ordered.forEach((touch, position) => {
    const weight = numerators[position] ?? 0n;
    weightByCampaign.set(touch.campaign, (weightByCampaign.get(touch.campaign) ?? 0n) + weight);
  });
  const shares = [...weightByCampaign].filter(([, weight]) => weight > 0n);

  const total = BigInt(Math.abs(wonAmountCents));
  const floored = shares.map(([campaign, weight], order) => ({
    campaign,
    order,
    cents: (total * weight) / denominator,
    remainder: (total * weight) % denominator,
  }));
  let leftover = total - floored.reduce((sum, share) => sum + share.cents, 0n);
  const byRemainder = [...floored].sort((a, b) => (a.remainder === b.remainder ? a.order - b.order : a.remainder > b.remainder ? -1 : 1));
  for (const share of byRemainder) {
    if (leftover === 0n) break;
    share.cents += 1n;
    leftover -= 1n;
  }
  const sign = wonAmountCents < 0 ? -1 : 1;
  return floored.map((share) => ({ campaign: share.campaign, amountCents: sign * Number(share.cents) || 0 }));
}

/** One won deal and the touches that may share its credit. */
export interface CreditedDeal {
  readonly amountCents: number;
  /** Epoch ms: touches after the win get no credit. */
  readonly wonAt: number;
  readonly touchpoints: readonly CreditTouchpoint[];
}

/** The revenue one campaign (or channel) is credited with, in cents, under each model. */
export interface CreditRow {
  campaign: string;
  credit: Record<CreditModel, number>;
}

/**
 * Credits every won deal under each model from its touches up to the win (docs/architecture.md §3)
 * and adds the credit up per campaign: each model's column sums to the deals' revenue, to the cent.
 * A deal with no touch before its win credits `unattributed`. Rows are ordered by linear credit,
 * largest first, then by name. The touches' `campaign` is whatever is credited: a campaign, or a
 * channel for credit per channel.
 */
export function creditWonDeals(deals: readonly CreditedDeal[], unattributed: string = UNATTRIBUTED_CAMPAIGN): CreditRow[] {
  const rows = new Map<string, CreditRow>();
  for (const deal of deals) {
    const before = deal.touchpoints.filter((touch) => touch.at <= deal.wonAt);
    for (const model of CREDIT_MODELS) {
      for (const share of creditRevenue(model, before, deal.amountCents)) {
        const campaign = share.campaign === UNATTRIBUTED_CAMPAIGN ? unattributed : share.campaign;
        const row = rows.get(campaign) ?? { campaign, credit: { first_touch: 0, last_touch: 0, linear: 0, position_based: 0 } };
        row.credit[model] += share.amountCents;
        rows.set(campaign, row);
      }
    }
  }
  return [...rows.values()].sort((a, b) => b.credit.linear - a.credit.linear || a.campaign.localeCompare(b.campaign));
}

/** Integer weights per touch position over a common denominator (exact, no floats). */
function creditWeights(model: CreditModel, count: number): { numerators: bigint[]; denominator: bigint } {
  const zeros = (): bigint[] => Array.from({ length: count }, () => 0n);
  switch (model) {
    case 'first_touch': {
      const numerators = zeros();
      numerators[0] = 1n;
      return { numerators, denominator: 1n };
    }
    case 'last_touch': {
      const numerators = zeros();
      numerators[count - 1] = 1n;
      return { numerators, denominator: 1n };
    }
    case 'linear':
      return { numerators: Array.from({ length: count }, () => 1n), denominator: BigInt(count) };
    case 'position_based': {
      if (count <= 2) return { numerators: Array.from({ length: count }, () => 1n), denominator: BigInt(count) };
      // First and last 40 % each = 2(n−2)/5(n−2); each middle touch 20 %/(n−2) = 1/5(n−2).
      const middle = BigInt(count - 2);
      const numerators = Array.from({ length: count }, () => 1n);
      numerators[0] = 2n * middle;
      numerators[count - 1] = 2n * middle;
      return { numerators, denominator: 5n * middle };
    }
    default:
      return assertNever(model);
  }
}

/**
 * Attribution's touch model (docs/architecture.md §3): the first and last touch of a lead from HubSpot
 * analytics, UTMs and Salesforce `LeadSource`, each named a channel by the channel rules; a lead
 * seen once has one touch. Invariant 5: every lead carries a stamp — the channel is never blank.
 * The stamp written to both CRMs is `attribution-stamp.ts`, revenue credit `attribution-credit.ts`.
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
import { CLICK_ID_SOURCES, landingPageOf, parseUtm } from './attribution-utm.ts';
import { normalizeValue, parseTimestamp, presentOrNull } from './validation.ts';

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

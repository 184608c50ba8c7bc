/**
 * How HubSpot buckets a visit into an original/latest source (docs/reference/hubspot-api.md §3.3): UTM parameters of
 * the page URL first, then the referrer, else direct traffic. Pure: URL strings in, buckets out.
 */

export type TrafficSource =
  | 'ORGANIC_SEARCH'
  | 'PAID_SEARCH'
  | 'EMAIL_MARKETING'
  | 'SOCIAL_MEDIA'
  | 'REFERRALS'
  | 'OTHER_CAMPAIGNS'
  | 'DIRECT_TRAFFIC'
  | 'PAID_SOCIAL';

export interface SourceClassification {
  source: TrafficSource;
  /** Drill-down 1 (`hs_analytics_source_data_1` / `hs_latest_source_data_1`). */
  data1: string;
  /** Drill-down 2. */
  data2: string;
}

const SEARCH_ENGINES: Record<string, string> = {
  google: 'google',
  bing: 'bing',
  yahoo: 'yahoo',
  duckduckgo: 'duckduckgo',
  baidu: 'baidu',
  yandex: 'yandex',
  ecosia: 'ecosia',
  ask: 'ask',
  aol: 'aol',
};

const SOCIAL_NETWORKS: Record<string, string> = {
  facebook: 'Facebook',
  fb: 'Facebook',
  instagram: 'Instagram',
  twitter: 'Twitter',
  x: 'Twitter',
  't.co': 'Twitter',
  linkedin: 'LinkedIn',
  'lnkd.in': 'LinkedIn',
  youtube: 'YouTube',
  pinterest: 'Pinterest',
  reddit: 'Reddit',
  tiktok: 'TikTok',
};

const PAID_MEDIUM = /^(cpc|ppc|paid.*|cpm|cpv|cpa|display|retargeting|sem)$/i;
const EMAIL_MEDIUM = /^(e[-_ ]?mail|newsletter)$/i;
const SOCIAL_MEDIUM = /^(social|social[-_ ]?media|social[-_ ]?network|sm)$/i;

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return undefined;
  }
}

/** Matches a source name or a host (`google`, `www.google.co.uk`, `t.co`) against a table. */
function lookup(table: Record<string, string>, nameOrHost: string | undefined): string | undefined {
  if (nameOrHost === undefined || nameOrHost === '') return undefined;
  const lower = nameOrHost.toLowerCase();
  if (table[lower] !== undefined) return table[lower];
  const labels = lower.split('.');
  for (const [key, value] of Object.entries(table)) {
    if (key.includes('.') ? lower === key || lower.endsWith(`.${key}`) : labels.slice(0, -1).includes(key)) return value;
  }
  return undefined;
}

/** Classifies one visit from its landing page URL (with UTM parameters) and referrer. */
export function classifyTrafficSource(pageUri: string | undefined, referrer: string | undefined): SourceClassification {
  let params = new URLSearchParams();
  try {
    if (pageUri !== undefined && pageUri !== '') params = new URL(pageUri).searchParams;
  } catch {
    params = new URLSearchParams();
  }
  const utm = (name: string) => params.get(`utm_${name}`)?.trim() ?? '';
  const source = utm('source');
  const medium = utm('medium');
  const campaign = utm('campaign');
  const term = utm('term');
  const referrerHost = hostOf(referrer);
  const engine = lookup(SEARCH_ENGINES, source) ?? lookup(SEARCH_ENGINES, referrerHost);
  const network = lookup(SOCIAL_NETWORKS, source) ?? lookup(SOCIAL_NETWORKS, referrerHost);

  if (source !== '' || medium !== '' || campaign !== '') {
    if (PAID_MEDIUM.test(medium) && engine !== undefined) return { source: 'PAID_SEARCH', data1: campaign, data2: term };
    if (PAID_MEDIUM.test(medium) && network !== undefined) return { source: 'PAID_SOCIAL', data1: network, data2: campaign };
    if (EMAIL_MEDIUM.test(medium)) return { source: 'EMAIL_MARKETING', data1: campaign, data2: source };
    if (network !== undefined && (SOCIAL_MEDIUM.test(medium) || medium === ''))
      return { source: 'SOCIAL_MEDIA', data1: network, data2: campaign };
    return {
      source: 'OTHER_CAMPAIGNS',
      data1: campaign !== '' ? campaign : source,
      data2: source !== '' ? `${source}${medium !== '' ? ` / ${medium}` : ''}` : medium,
    };
  }
  if (params.has('gclid') || params.has('msclkid')) {
    return { source: 'PAID_SEARCH', data1: 'auto-tagged', data2: params.has('gclid') ? 'google' : 'bing' };
  }
  if (referrerHost !== undefined) {
    if (engine !== undefined) return { source: 'ORGANIC_SEARCH', data1: 'Unknown keywords (SSL)', data2: engine };
    if (network !== undefined) return { source: 'SOCIAL_MEDIA', data1: network, data2: referrer ?? '' };
    return { source: 'REFERRALS', data1: referrerHost, data2: referrer ?? '' };
  }
  return { source: 'DIRECT_TRAFFIC', data1: hostOf(pageUri) ?? '', data2: pageUri?.split('?')[0] ?? '' };
}

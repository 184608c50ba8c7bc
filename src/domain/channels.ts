/**
 * One channel taxonomy for marketing and sales (docs/architecture.md §3), as ordered data rules: the first
 * rule whose conditions hold names the channel. The default rules follow GA4's default channel
 * group (https://support.google.com/analytics/answer/9756891) and its evaluation order, then add
 * what a B2B funnel needs: HubSpot source buckets, Salesforce `LeadSource` and sales-sourced leads.
 */
import { z } from 'zod';
import { assertNever, err, ok, type Result } from './result.ts';
import { normalizeValue, presentOrNull, zodIssueMessages } from './validation.ts';

/** The default channel names (docs/architecture.md §10); admins may add their own. */
export const DEFAULT_CHANNELS = [
  'Paid Search',
  'Organic Search',
  'Paid Social',
  'Organic Social',
  'Email',
  'Referral',
  'Display',
  'Affiliates',
  'Paid Video',
  'Organic Video',
  'SMS',
  'Events',
  'Direct',
  'Sales-sourced',
  'Unassigned',
] as const;
/** A default channel name. */
export type DefaultChannel = (typeof DEFAULT_CHANNELS)[number];
/** A channel name: a default one or one an admin added. */
export type ChannelName = string;

/** The touch fields a channel rule can test. */
export const TOUCH_FIELDS = [
  'source',
  'medium',
  'campaign',
  /** The referrer's host name (www. stripped). */
  'referrer',
  'landingPage',
  /** HubSpot `hs_analytics_source` / `hs_latest_source` bucket. */
  'hubspotSource',
  'hubspotSourceData1',
  'hubspotSourceData2',
  /** Salesforce `LeadSource`. */
  'leadSource',
  /** Which system created the record: `hubspot` or `salesforce`. */
  'origin',
] as const;
/** A touch field name. */
export type TouchField = (typeof TOUCH_FIELDS)[number];

/** What is known about one touch, before classification. Blank values count as absent. */
export type TouchSignals = { readonly [field in TouchField]?: string | null | undefined };

/** HubSpot's source buckets (`hs_analytics_source` internal values). */
export const HUBSPOT_SOURCE_BUCKETS = [
  'PAID_SEARCH',
  'ORGANIC_SEARCH',
  'SOCIAL_MEDIA',
  'PAID_SOCIAL',
  'EMAIL_MARKETING',
  'REFERRALS',
  'OTHER_CAMPAIGNS',
  'DIRECT_TRAFFIC',
  'OFFLINE',
  'AI_REFERRALS',
] as const;
/** A HubSpot source bucket. */
export type HubSpotSourceBucket = (typeof HUBSPOT_SOURCE_BUCKETS)[number];

/**
 * HubSpot bucket → channel. Null: the bucket alone says nothing about the channel (other
 * campaigns carry unrecognized UTMs; offline sources are imports, API, CRM and integrations).
 */
export const HUBSPOT_SOURCE_CHANNELS: Readonly<Record<HubSpotSourceBucket, DefaultChannel | null>> = {
  PAID_SEARCH: 'Paid Search',
  ORGANIC_SEARCH: 'Organic Search',
  SOCIAL_MEDIA: 'Organic Social',
  PAID_SOCIAL: 'Paid Social',
  EMAIL_MARKETING: 'Email',
  REFERRALS: 'Referral',
  AI_REFERRALS: 'Referral',
  DIRECT_TRAFFIC: 'Direct',
  OTHER_CAMPAIGNS: null,
  OFFLINE: null,
};

/**
 * Salesforce `LeadSource` → channel. Null: the value names no channel (`Web` says only "the
 * website", `Other` nothing, a purchased list no marketing touch); such leads fall through to
 * the later rules (sales-sourced when created in Salesforce with no other source, else Unassigned).
 */
export const LEAD_SOURCE_CHANNELS: Readonly<Record<string, DefaultChannel | null>> = {
  Web: null,
  'Phone Inquiry': 'Direct',
  'Partner Referral': 'Referral',
  Partner: 'Referral',
  'Employee Referral': 'Referral',
  'External Referral': 'Referral',
  'Word of mouth': 'Referral',
  'Public Relations': 'Referral',
  Advertisement: 'Display',
  'Trade Show': 'Events',
  'Seminar - Partner': 'Events',
  'Seminar - Internal': 'Events',
  Webinar: 'Events',
  Email: 'Email',
  'Purchased List': null,
  Other: null,
};

const nonBlankText = z.string().trim().min(1, 'must not be blank');

const validRegex = nonBlankText.refine((pattern) => compileRegex(pattern) !== null, {
  message: 'is not a valid regular expression',
});

const conditionBase = {
  field: z.enum(TOUCH_FIELDS),
  /** Inverts the condition ("medium does not exist"). */
  negate: z.boolean().optional(),
};

/**
 * One condition on a touch field; comparisons are trimmed and case-insensitive, and for `equals`
 * and `in` the empty string stands for "blank".
 */
export const ChannelConditionSchema = z.discriminatedUnion('operator', [
  z.object({ ...conditionBase, operator: z.literal('equals'), value: z.string() }).strict(),
  z.object({ ...conditionBase, operator: z.literal('in'), values: z.array(z.string()).min(1) }).strict(),
  z.object({ ...conditionBase, operator: z.literal('regex'), pattern: validRegex }).strict(),
  z.object({ ...conditionBase, operator: z.literal('exists') }).strict(),
  z.object({ ...conditionBase, operator: z.literal('in_site_list'), list: nonBlankText }).strict(),
]);
/** A channel rule condition. */
export type ChannelCondition = z.output<typeof ChannelConditionSchema>;

/** A channel rule: it matches when every condition of any one group holds. */
export const ChannelRuleSchema = z
  .object({
    channel: nonBlankText,
    anyOf: z.array(z.array(ChannelConditionSchema).min(1)).min(1),
  })
  .strict();
/** A channel rule. */
export type ChannelRule = z.output<typeof ChannelRuleSchema>;

/** The admin-editable channel rules: site lists, ordered rules and the channel when none match. */
export const ChannelRulesSchema = z
  .object({
    siteLists: z.record(nonBlankText, z.array(nonBlankText)),
    rules: z.array(ChannelRuleSchema),
    fallbackChannel: nonBlankText.default('Unassigned'),
  })
  .strict()
  .superRefine((rules, context) => {
    rules.rules.forEach((rule, ruleIndex) => {
      rule.anyOf.forEach((group, groupIndex) => {
        group.forEach((condition, conditionIndex) => {
          if (condition.operator === 'in_site_list' && rules.siteLists[condition.list] === undefined) {
            context.addIssue({
              code: 'custom',
              path: ['rules', ruleIndex, 'anyOf', groupIndex, conditionIndex, 'list'],
              message: `rule for "${rule.channel}" uses site list "${condition.list}", which siteLists does not define`,
            });
          }
        });
      });
    });
  });
/** Validated channel rules. */
export type ChannelRules = z.output<typeof ChannelRulesSchema>;

/** Validates admin-supplied channel rules, listing every problem. */
export function validateChannelRules(input: unknown): Result<ChannelRules, string[]> {
  const parsed = ChannelRulesSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(zodIssueMessages(parsed.error));
}

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * Source site lists, after GA4's internal lists. An entry without a dot matches that exact source
 * or a host that starts with it (`google` → `google.com`, `www.google.co.uk`); an entry with a dot
 * matches that host and its subdomains (`facebook.com` → `l.facebook.com`). Bare names are not
 * suffix-matched on purpose: `mail.google.com` is webmail, not search.
 */
export const DEFAULT_SITE_LISTS: Readonly<Record<'search' | 'social' | 'video', readonly string[]>> = {
  search: [
    'google',
    'bing',
    'bing.com',
    'yahoo',
    'search.yahoo.com',
    'duckduckgo',
    'baidu',
    'baidu.com',
    'yandex',
    'yandex.ru',
    'ecosia',
    'ask',
    'aol',
    'search.aol.com',
    'naver',
    'search.naver.com',
    'seznam',
    'startpage',
    'qwant',
    'search.brave.com',
    'sogou',
    'so.com',
    'daum',
    'search.daum.net',
    'msn',
    'search.msn.com',
  ],
  social: [
    'facebook',
    'facebook.com',
    'fb',
    'fb.me',
    'instagram',
    'instagram.com',
    'ig',
    'linkedin',
    'linkedin.com',
    'lnkd.in',
    'twitter',
    'twitter.com',
    't.co',
    'x',
    'x.com',
    'pinterest',
    'pinterest.com',
    'pin.it',
    'reddit',
    'reddit.com',
    'tiktok',
    'tiktok.com',
    'snapchat',
    'snapchat.com',
    'quora',
    'quora.com',
    'threads.net',
    'threads.com',
    'xing',
    'xing.com',
    'bsky.app',
    'mastodon.social',
    'tumblr',
    'tumblr.com',
    'whatsapp',
    'whatsapp.com',
    'messenger.com',
    'meta',
    'vk.com',
    'weibo',
    'weibo.com',
    'discord',
    'discord.com',
  ],
  video: [
    'youtube',
    'youtube.com',
    'youtu.be',
    'vimeo',
    'vimeo.com',
    'twitch',
    'twitch.tv',
    'dailymotion',
    'dailymotion.com',
    'wistia',
    'wistia.com',
    'ted.com',
  ],
};

/** GA4's paid-medium pattern. */
const PAID_MEDIUM = '^(.*cp.*|ppc|retargeting|paid.*)$';
const EMAIL_VALUES = ['email', 'e-mail', 'e_mail', 'e mail'];

type Condition = ChannelCondition;
const equals = (field: TouchField, value: string): Condition => ({ field, operator: 'equals', value });
const isIn = (field: TouchField, values: string[]): Condition => ({ field, operator: 'in', values });
const matches = (field: TouchField, pattern: string): Condition => ({ field, operator: 'regex', pattern });
const exists = (field: TouchField): Condition => ({ field, operator: 'exists' });
const blank = (field: TouchField): Condition => ({ field, operator: 'exists', negate: true });
const onSiteList = (list: string): Condition => ({ field: 'source', operator: 'in_site_list', list });

function channelMapRules(field: TouchField, map: Readonly<Record<string, DefaultChannel | null>>): ChannelRule[] {
  const byChannel = new Map<DefaultChannel, string[]>();
  for (const [value, channel] of Object.entries(map)) {
    if (channel === null) continue;
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), value]);
  }
  return [...byChannel].map(([channel, values]) => ({ channel, anyOf: [[isIn(field, values)]] }));
}

/** No web touch at all: no UTM, referrer, landing page or web source bucket. */
const NO_WEB_TOUCH: Condition[] = [
  blank('source'),
  blank('medium'),
  blank('campaign'),
  blank('referrer'),
  blank('landingPage'),
  isIn('hubspotSource', ['', 'OFFLINE']),
  isIn('leadSource', ['', 'Other']),
];

/** The default rules, in evaluation order. */
export const DEFAULT_CHANNEL_RULES: ChannelRules = {
  siteLists: { search: [...DEFAULT_SITE_LISTS.search], social: [...DEFAULT_SITE_LISTS.social], video: [...DEFAULT_SITE_LISTS.video] },
  fallbackChannel: 'Unassigned',
  rules: [
    // 1. GA4, in GA4's order.
    {
      channel: 'Direct',
      anyOf: [[equals('source', '(direct)'), isIn('medium', ['(none)', '(not set)', ''])]],
    },
    { channel: 'Paid Search', anyOf: [[onSiteList('search'), matches('medium', PAID_MEDIUM)]] },
    { channel: 'Paid Social', anyOf: [[onSiteList('social'), matches('medium', PAID_MEDIUM)]] },
    { channel: 'Paid Video', anyOf: [[onSiteList('video'), matches('medium', PAID_MEDIUM)]] },
    { channel: 'Display', anyOf: [[isIn('medium', ['display', 'banner', 'expandable', 'interstitial', 'cpm'])]] },
    // GA4's "Paid Other" slot: this taxonomy has no such channel, so paid mediums that name their
    // network type are placed by that name (cpc/ppc from an unlisted source is search, as in GA's
    // older definition); other paid mediums from unlisted sources stay unassigned.
    { channel: 'Paid Search', anyOf: [[matches('medium', '^(cpc|ppc|paid[-_ ]?search|paidsearch|sem)$')]] },
    { channel: 'Paid Social', anyOf: [[matches('medium', '^(paid[-_ ]?social|social[-_ ]?paid)$')]] },
    { channel: 'Paid Video', anyOf: [[matches('medium', '^(paid[-_ ]?video|video[-_ ]?paid|cpv)$')]] },
    { channel: 'Display', anyOf: [[matches('medium', '^(retargeting|remarketing|paid[-_ ]?display)$')]] },
    {
      channel: 'Organic Social',
      anyOf: [
        [onSiteList('social')],
        [isIn('medium', ['social', 'social-network', 'social-media', 'sm', 'social network', 'social media'])],
      ],
    },
    { channel: 'Organic Video', anyOf: [[onSiteList('video')], [matches('medium', '^(.*video.*)$')]] },
    { channel: 'Organic Search', anyOf: [[onSiteList('search')], [equals('medium', 'organic')]] },
    { channel: 'Email', anyOf: [[isIn('source', EMAIL_VALUES)], [isIn('medium', EMAIL_VALUES)]] },
    { channel: 'Affiliates', anyOf: [[isIn('medium', ['affiliate', 'affiliates'])]] },
    { channel: 'Referral', anyOf: [[isIn('medium', ['referral', 'app', 'link'])]] },
    { channel: 'SMS', anyOf: [[equals('source', 'sms')], [equals('medium', 'sms')]] },
    // 2. Offline marketing, tagged by medium.
    {
      channel: 'Events',
      anyOf: [[matches('medium', '^(events?|trade[-_ ]?shows?|conferences?|webinars?|seminars?|field[-_ ]?events?|meetups?|offline)$')]],
    },
    // 3. HubSpot's own source bucket, when UTMs and referrer did not decide.
    ...channelMapRules('hubspotSource', HUBSPOT_SOURCE_CHANNELS),
    // 4. Any other referrer, when no UTM medium says otherwise.
    { channel: 'Referral', anyOf: [[exists('referrer'), blank('medium')]] },
    // 5. Salesforce LeadSource.
    ...channelMapRules('leadSource', LEAD_SOURCE_CHANNELS),
    // 6. Created in Salesforce with no marketing history (directly, or seen by HubSpot as an
    //    offline source from the Salesforce integration).
    {
      channel: 'Sales-sourced',
      anyOf: [
        [equals('origin', 'salesforce'), ...NO_WEB_TOUCH],
        [equals('hubspotSource', 'OFFLINE'), matches('hubspotSourceData1', 'salesforce'), ...NO_WEB_TOUCH],
        [equals('hubspotSource', 'OFFLINE'), matches('hubspotSourceData2', 'salesforce'), ...NO_WEB_TOUCH],
      ],
    },
    // 7. A landing page with no referrer and no campaign tags is a direct visit.
    {
      channel: 'Direct',
      anyOf: [[exists('landingPage'), blank('source'), blank('medium'), blank('referrer'), blank('hubspotSource')]],
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Classification

/** The channel a touch falls into and which rule decided (null: the fallback). */
export interface ChannelMatch {
  readonly channel: ChannelName;
  readonly ruleIndex: number | null;
}

/** Classifies a touch into a channel; never blank (the fallback is `Unassigned` by default). */
export function classifyChannel(rules: ChannelRules, touch: TouchSignals): ChannelName {
  return matchChannelRule(rules, touch).channel;
}

/** Classifies a touch and says which rule decided, for the admin's "why this channel". */
export function matchChannelRule(rules: ChannelRules, touch: TouchSignals): ChannelMatch {
  const values = normalizeTouch(touch);
  const ruleIndex = rules.rules.findIndex((rule) =>
    rule.anyOf.some((group) => group.every((condition) => conditionHolds(condition, values, rules.siteLists))),
  );
  const rule = rules.rules[ruleIndex];
  return rule === undefined ? { channel: rules.fallbackChannel, ruleIndex: null } : { channel: rule.channel, ruleIndex };
}

type NormalizedTouch = Readonly<Record<TouchField, string | null>>;

function normalizeTouch(touch: TouchSignals): NormalizedTouch {
  const value = (field: TouchField): string | null => {
    const present = presentOrNull(touch[field]);
    return present === null ? null : normalizeValue(present);
  };
  const referrerValue = value('referrer');
  const referrer = referrerValue === null ? null : hostOf(referrerValue);
  return {
    // Like GA4, an untagged visit takes its source from the referrer.
    source: value('source') ?? referrer,
    medium: value('medium'),
    campaign: value('campaign'),
    referrer,
    landingPage: value('landingPage'),
    hubspotSource: value('hubspotSource'),
    hubspotSourceData1: value('hubspotSourceData1'),
    hubspotSourceData2: value('hubspotSourceData2'),
    leadSource: value('leadSource'),
    origin: value('origin'),
  };
}

function conditionHolds(condition: Condition, touch: NormalizedTouch, siteLists: ChannelRules['siteLists']): boolean {
  const actual = touch[condition.field];
  const holds = ((): boolean => {
    switch (condition.operator) {
      case 'equals':
        return equalsOrBlank(actual, condition.value);
      case 'in':
        return condition.values.some((candidate) => equalsOrBlank(actual, candidate));
      case 'regex':
        return actual !== null && (compileRegex(condition.pattern)?.test(actual) ?? false);
      case 'exists':
        return actual !== null;
      case 'in_site_list':
        return actual !== null && isOnSiteList(actual, siteLists[condition.list] ?? []);
      default:
        return assertNever(condition);
    }
  })();
  return condition.negate === true ? !holds : holds;
}

function equalsOrBlank(actual: string | null, expected: string): boolean {
  const wanted = normalizeValue(expected);
  return wanted === '' ? actual === null : actual === wanted;
}

/** True when a source or host is on a site list (see DEFAULT_SITE_LISTS for the matching rule). */
export function isOnSiteList(source: string, entries: readonly string[]): boolean {
  const host = hostOf(normalizeValue(source));
  if (host === '') return false;
  return entries.some((rawEntry) => {
    const entry = normalizeValue(rawEntry);
    if (entry === '') return false;
    if (host === entry) return true;
    return entry.includes('.') ? host.endsWith(`.${entry}`) : host.startsWith(`${entry}.`);
  });
}

/** The lower-case host of a URL or bare host name, without `www.`; the input itself if it has none. */
export function hostOf(urlOrHost: string): string {
  let rest = urlOrHost.trim().toLowerCase();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//.exec(rest);
  if (scheme !== null) rest = rest.slice(scheme[0].length);
  else if (rest.startsWith('//')) rest = rest.slice(2);
  const end = rest.search(/[/?#]/);
  if (end !== -1) rest = rest.slice(0, end);
  const at = rest.lastIndexOf('@');
  if (at !== -1) rest = rest.slice(at + 1);
  rest = rest.replace(/:\d*$/, '').replace(/\.$/, '');
  return rest.startsWith('www.') ? rest.slice(4) : rest;
}

const regexCache = new Map<string, RegExp | null>();

/** Compiles a rule pattern case-insensitively (GA4's definitions ignore case), memoized. */
function compileRegex(pattern: string): RegExp | null {
  const cached = regexCache.get(pattern);
  if (cached !== undefined) return cached;
  let compiled: RegExp | null;
  try {
    compiled = new RegExp(pattern, 'i');
  } catch {
    compiled = null;
  }
  regexCache.set(pattern, compiled);
  return compiled;
}

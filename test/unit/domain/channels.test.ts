import { describe, expect, it } from 'vitest';
import {
  classifyChannel,
  DEFAULT_CHANNEL_RULES,
  DEFAULT_CHANNELS,
  HUBSPOT_SOURCE_BUCKETS,
  hostOf,
  isOnSiteList,
  LEAD_SOURCE_CHANNELS,
  matchChannelRule,
  validateChannelRules,
  type ChannelRules,
  type TouchSignals,
} from '../../../src/domain/channels.ts';

const R = DEFAULT_CHANNEL_RULES;

describe('validateChannelRules', () => {
  it('accepts the default rules', () => {
    expect(validateChannelRules(R).ok).toBe(true);
  });

  it('uses only the default channel names', () => {
    for (const rule of R.rules) expect(DEFAULT_CHANNELS).toContain(rule.channel);
    expect(R.fallbackChannel).toBe('Unassigned');
  });

  it('refuses rules with a bad regex, an unknown site list, an unknown field and a blank channel, all at once', () => {
    const result = validateChannelRules({
      siteLists: { search: ['google'] },
      rules: [
        { channel: 'Paid Search', anyOf: [[{ field: 'medium', operator: 'regex', pattern: '^(cpc' }]] },
        { channel: 'Organic Social', anyOf: [[{ field: 'source', operator: 'in_site_list', list: 'social' }]] },
        { channel: 'Email', anyOf: [[{ field: 'utm_medium', operator: 'exists' }]] },
        { channel: ' ', anyOf: [[{ field: 'source', operator: 'exists' }]] },
      ],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual([
        'rules[0].anyOf[0][0].pattern: is not a valid regular expression',
        expect.stringMatching(/^rules\[2\]\.anyOf\[0\]\[0\]\.field: /),
        'rules[3].channel: must not be blank',
      ]);
    }
  });

  it('refuses a rule that names a missing site list', () => {
    const result = validateChannelRules({
      siteLists: { search: ['google'] },
      rules: [{ channel: 'Organic Social', anyOf: [[{ field: 'source', operator: 'in_site_list', list: 'social' }]] }],
    });
    expect(result).toEqual({
      ok: false,
      error: ['rules[0].anyOf[0][0].list: rule for "Organic Social" uses site list "social", which siteLists does not define'],
    });
  });
});

describe('classifyChannel after GA4 default channel groups', () => {
  it.each<{ name: string; touch: TouchSignals; channel: string }>([
    // Direct
    { name: '(direct) / (none) as Direct', touch: { source: '(direct)', medium: '(none)' }, channel: 'Direct' },
    { name: '(direct) / (not set) as Direct', touch: { source: '(direct)', medium: '(not set)' }, channel: 'Direct' },
    { name: '(direct) with no medium as Direct', touch: { source: '(direct)' }, channel: 'Direct' },
    // Paid Search
    { name: 'google / cpc as Paid Search', touch: { source: 'google', medium: 'cpc' }, channel: 'Paid Search' },
    { name: 'Google / CPC (mixed case) as Paid Search', touch: { source: 'Google', medium: 'CPC' }, channel: 'Paid Search' },
    { name: 'bing / ppc as Paid Search', touch: { source: 'bing', medium: 'ppc' }, channel: 'Paid Search' },
    { name: 'google / paid as Paid Search', touch: { source: 'google', medium: 'paid' }, channel: 'Paid Search' },
    { name: 'google / paidsearch as Paid Search', touch: { source: 'google', medium: 'paidsearch' }, channel: 'Paid Search' },
    { name: 'duckduckgo / retargeting as Paid Search', touch: { source: 'duckduckgo', medium: 'retargeting' }, channel: 'Paid Search' },
    { name: 'www.google.co.uk / cpc as Paid Search', touch: { source: 'www.google.co.uk', medium: 'cpc' }, channel: 'Paid Search' },
    {
      name: 'google / cpm as Paid Search (GA4 checks the paid pattern before Display)',
      touch: { source: 'google', medium: 'cpm' },
      channel: 'Paid Search',
    },
    { name: 'an unlisted source with medium cpc as Paid Search', touch: { source: 'capterra', medium: 'cpc' }, channel: 'Paid Search' },
    { name: 'an unlisted source with medium ppc as Paid Search', touch: { source: 'adnet', medium: 'PPC' }, channel: 'Paid Search' },
    // Paid Social
    { name: 'facebook / cpc as Paid Social', touch: { source: 'facebook', medium: 'cpc' }, channel: 'Paid Social' },
    { name: 'linkedin / paid_social as Paid Social', touch: { source: 'linkedin', medium: 'paid_social' }, channel: 'Paid Social' },
    { name: 'LinkedIn.com / Paid as Paid Social', touch: { source: 'LinkedIn.com', medium: 'Paid' }, channel: 'Paid Social' },
    { name: 'instagram / ppc as Paid Social', touch: { source: 'instagram', medium: 'ppc' }, channel: 'Paid Social' },
    {
      name: 'an unlisted source with medium paid-social as Paid Social',
      touch: { source: 'partner', medium: 'paid-social' },
      channel: 'Paid Social',
    },
    // Paid Video
    { name: 'youtube / cpv as Paid Video', touch: { source: 'youtube', medium: 'cpv' }, channel: 'Paid Video' },
    { name: 'vimeo / paid as Paid Video', touch: { source: 'vimeo', medium: 'paid' }, channel: 'Paid Video' },
    // Display
    { name: 'any source / display as Display', touch: { source: 'dv360', medium: 'display' }, channel: 'Display' },
    { name: 'any source / banner as Display', touch: { source: 'adroll', medium: 'Banner' }, channel: 'Display' },
    { name: 'any source / interstitial as Display', touch: { source: 'x', medium: 'interstitial' }, channel: 'Display' },
    { name: 'an unlisted source / cpm as Display', touch: { source: 'adroll', medium: 'cpm' }, channel: 'Display' },
    { name: 'an unlisted source / retargeting as Display', touch: { source: 'adroll', medium: 'retargeting' }, channel: 'Display' },
    // Organic Social
    { name: 'facebook / social as Organic Social', touch: { source: 'facebook', medium: 'social' }, channel: 'Organic Social' },
    {
      name: 'a referrer from l.facebook.com as Organic Social',
      touch: { referrer: 'https://l.facebook.com/l.php?u=x' },
      channel: 'Organic Social',
    },
    { name: 'a referrer from m.facebook.com as Organic Social', touch: { referrer: 'https://m.facebook.com/' }, channel: 'Organic Social' },
    { name: 'a referrer from t.co as Organic Social', touch: { referrer: 'https://t.co/abc123' }, channel: 'Organic Social' },
    {
      name: 'a referrer from www.linkedin.com as Organic Social',
      touch: { referrer: 'https://www.linkedin.com/feed/' },
      channel: 'Organic Social',
    },
    { name: 'a referrer from lnkd.in as Organic Social', touch: { referrer: 'https://lnkd.in/abc' }, channel: 'Organic Social' },
    { name: 'a referrer from instagram.com as Organic Social', touch: { referrer: 'https://instagram.com/' }, channel: 'Organic Social' },
    {
      name: 'a referrer from l.instagram.com as Organic Social',
      touch: { referrer: 'https://l.instagram.com/?u=x' },
      channel: 'Organic Social',
    },
    {
      name: 'newsletter / social-network as Organic Social',
      touch: { source: 'newsletter', medium: 'social-network' },
      channel: 'Organic Social',
    },
    { name: 'an unlisted source / sm as Organic Social', touch: { source: 'forum', medium: 'sm' }, channel: 'Organic Social' },
    {
      name: 'an unlisted source / social media as Organic Social',
      touch: { source: 'forum', medium: 'Social Media' },
      channel: 'Organic Social',
    },
    // Organic Video
    { name: 'youtube / referral as Organic Video', touch: { source: 'youtube.com', medium: 'referral' }, channel: 'Organic Video' },
    { name: 'an unlisted source / video as Organic Video', touch: { source: 'webinar-host', medium: 'video' }, channel: 'Organic Video' },
    // Organic Search
    { name: 'google / organic as Organic Search', touch: { source: 'google', medium: 'organic' }, channel: 'Organic Search' },
    { name: 'a referrer from www.google.com as Organic Search', touch: { referrer: 'https://www.google.com/' }, channel: 'Organic Search' },
    {
      name: 'a referrer from www.bing.com as Organic Search',
      touch: { referrer: 'https://www.bing.com/search?q=crm' },
      channel: 'Organic Search',
    },
    { name: 'a referrer from duckduckgo.com as Organic Search', touch: { referrer: 'https://duckduckgo.com/' }, channel: 'Organic Search' },
    { name: 'an unlisted source / organic as Organic Search', touch: { source: 'kagi', medium: 'organic' }, channel: 'Organic Search' },
    // Email
    { name: 'newsletter / email as Email', touch: { source: 'newsletter', medium: 'email' }, channel: 'Email' },
    { name: 'hubspot / E-Mail as Email', touch: { source: 'hubspot', medium: 'E-Mail' }, channel: 'Email' },
    { name: 'e_mail as Email', touch: { source: 'crm', medium: 'e_mail' }, channel: 'Email' },
    { name: 'e mail as Email', touch: { source: 'crm', medium: 'e mail' }, channel: 'Email' },
    { name: 'source email with any medium as Email', touch: { source: 'email', medium: 'blast' }, channel: 'Email' },
    // Affiliates
    { name: 'medium affiliate as Affiliates', touch: { source: 'partnerstack', medium: 'affiliate' }, channel: 'Affiliates' },
    { name: 'medium affiliates as Affiliates', touch: { source: 'partnerstack', medium: 'Affiliates' }, channel: 'Affiliates' },
    // Referral
    { name: 'medium referral as Referral', touch: { source: 'g2.com', medium: 'referral' }, channel: 'Referral' },
    { name: 'medium app as Referral', touch: { source: 'slack', medium: 'app' }, channel: 'Referral' },
    { name: 'medium link as Referral', touch: { source: 'partner', medium: 'link' }, channel: 'Referral' },
    { name: 'any other referrer as Referral', touch: { referrer: 'https://blog.example.org/post' }, channel: 'Referral' },
    {
      name: 'a webmail referrer (mail.google.com) as Referral, not search',
      touch: { referrer: 'https://mail.google.com/mail/u/0/' },
      channel: 'Referral',
    },
    // SMS
    { name: 'source sms as SMS', touch: { source: 'SMS', medium: 'text' }, channel: 'SMS' },
    { name: 'medium sms as SMS', touch: { source: 'twilio', medium: 'sms' }, channel: 'SMS' },
    // Events
    { name: 'medium event as Events', touch: { source: 'saastr', medium: 'event' }, channel: 'Events' },
    { name: 'medium trade-show as Events', touch: { source: 'dreamforce', medium: 'trade-show' }, channel: 'Events' },
    { name: 'medium webinar as Events', touch: { source: 'zoom', medium: 'webinar' }, channel: 'Events' },
    // Tags beat the referrer
    {
      name: 'a tagged email click from a webmail referrer as Email',
      touch: { source: 'newsletter', medium: 'email', referrer: 'https://mail.google.com/' },
      channel: 'Email',
    },
    {
      name: 'an unknown UTM medium with a referrer as Unassigned, like GA4',
      touch: { source: 'foo', medium: 'bar', referrer: 'https://example.org/' },
      channel: 'Unassigned',
    },
    {
      name: 'an unknown paid medium from an unlisted source as Unassigned',
      touch: { source: 'adnet', medium: 'paid' },
      channel: 'Unassigned',
    },
    // Nothing
    { name: 'a touch with nothing at all as Unassigned', touch: {}, channel: 'Unassigned' },
    {
      name: 'a touch with only blanks as Unassigned',
      touch: { source: ' ', medium: '', campaign: null, referrer: undefined },
      channel: 'Unassigned',
    },
    { name: 'a campaign name alone as Unassigned', touch: { campaign: 'spring-launch' }, channel: 'Unassigned' },
    { name: 'a landing page with no referrer or tags as Direct', touch: { landingPage: 'https://example.com/pricing' }, channel: 'Direct' },
  ])('classifies $name', ({ touch, channel }) => {
    expect(classifyChannel(R, touch)).toBe(channel);
  });
});

describe('classifyChannel with HubSpot buckets, LeadSource and origin', () => {
  it.each<[string, string]>([
    ['PAID_SEARCH', 'Paid Search'],
    ['ORGANIC_SEARCH', 'Organic Search'],
    ['SOCIAL_MEDIA', 'Organic Social'],
    ['PAID_SOCIAL', 'Paid Social'],
    ['EMAIL_MARKETING', 'Email'],
    ['REFERRALS', 'Referral'],
    ['AI_REFERRALS', 'Referral'],
    ['DIRECT_TRAFFIC', 'Direct'],
    ['OTHER_CAMPAIGNS', 'Unassigned'],
    ['OFFLINE', 'Unassigned'],
    ['paid_search', 'Paid Search'],
  ])('maps the HubSpot source bucket %s to %s', (bucket, channel) => {
    expect(classifyChannel(R, { hubspotSource: bucket })).toBe(channel);
  });

  it('covers every HubSpot bucket', () => {
    for (const bucket of HUBSPOT_SOURCE_BUCKETS) expect(classifyChannel(R, { hubspotSource: bucket })).not.toBe('');
  });

  it('lets UTM tags win over the HubSpot bucket', () => {
    expect(classifyChannel(R, { source: 'linkedin', medium: 'paid_social', hubspotSource: 'OTHER_CAMPAIGNS' })).toBe('Paid Social');
  });

  it('lets the HubSpot bucket win over a bare webmail referrer', () => {
    expect(classifyChannel(R, { referrer: 'https://mail.google.com/', hubspotSource: 'EMAIL_MARKETING' })).toBe('Email');
  });

  it.each<[string, string]>([
    ['Web', 'Unassigned'],
    ['Phone Inquiry', 'Direct'],
    ['Partner Referral', 'Referral'],
    ['Purchased List', 'Unassigned'],
    ['Other', 'Unassigned'],
    ['Advertisement', 'Display'],
    ['Employee Referral', 'Referral'],
    ['External Referral', 'Referral'],
    ['Trade Show', 'Events'],
    ['Seminar - Partner', 'Events'],
    ['Seminar - Internal', 'Events'],
    ['Word of mouth', 'Referral'],
    ['trade show', 'Events'],
    ['Something Custom', 'Unassigned'],
  ])('maps Salesforce LeadSource %s to %s', (leadSource, channel) => {
    expect(classifyChannel(R, { leadSource })).toBe(channel);
  });

  it('covers every LeadSource in its map', () => {
    for (const [leadSource, channel] of Object.entries(LEAD_SOURCE_CHANNELS)) {
      expect(classifyChannel(R, { leadSource })).toBe(channel ?? 'Unassigned');
    }
  });

  it.each<{ name: string; touch: TouchSignals; channel: string }>([
    {
      name: 'a Salesforce-created lead with no marketing history as Sales-sourced',
      touch: { origin: 'salesforce' },
      channel: 'Sales-sourced',
    },
    {
      name: 'a Salesforce-created lead with LeadSource Other as Sales-sourced',
      touch: { origin: 'salesforce', leadSource: 'Other' },
      channel: 'Sales-sourced',
    },
    {
      name: 'a Salesforce-created lead from a trade show as Events',
      touch: { origin: 'salesforce', leadSource: 'Trade Show' },
      channel: 'Events',
    },
    {
      name: 'a Salesforce web-to-lead as Unassigned, not Sales-sourced',
      touch: { origin: 'salesforce', leadSource: 'Web' },
      channel: 'Unassigned',
    },
    {
      name: 'a Salesforce-created lead with a tracked visit by its source',
      touch: { origin: 'salesforce', source: 'google', medium: 'cpc' },
      channel: 'Paid Search',
    },
    {
      name: 'a HubSpot offline contact synced from Salesforce as Sales-sourced',
      touch: { hubspotSource: 'OFFLINE', hubspotSourceData1: 'INTEGRATION', hubspotSourceData2: 'Salesforce' },
      channel: 'Sales-sourced',
    },
    { name: 'a HubSpot import as Unassigned', touch: { hubspotSource: 'OFFLINE', hubspotSourceData1: 'IMPORT' }, channel: 'Unassigned' },
    { name: 'a HubSpot-created contact with no data as Unassigned', touch: { origin: 'hubspot' }, channel: 'Unassigned' },
  ])('classifies $name', ({ touch, channel }) => {
    expect(classifyChannel(R, touch)).toBe(channel);
  });

  it('never returns a blank channel, whatever the input', () => {
    const values = [undefined, null, '', 'google', 'cpc', 'email', '(direct)', 'OFFLINE', 'salesforce', 'https://t.co/x', 'Other'];
    const fields = ['source', 'medium', 'referrer', 'hubspotSource', 'leadSource', 'origin'] as const;
    let checked = 0;
    for (const a of values) {
      for (const b of values) {
        for (const field of fields) {
          const touch: TouchSignals = { [field]: a, medium: b };
          const channel = classifyChannel(R, touch);
          expect(DEFAULT_CHANNELS).toContain(channel);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(values.length * values.length * fields.length);
  });

  it('says which rule decided, and null for the fallback', () => {
    expect(matchChannelRule(R, { source: 'google', medium: 'cpc' })).toEqual({ channel: 'Paid Search', ruleIndex: 1 });
    expect(matchChannelRule(R, {})).toEqual({ channel: 'Unassigned', ruleIndex: null });
  });
});

describe('admin-edited channel rules', () => {
  it('lets the first matching rule win, so an admin rule placed first overrides GA4', () => {
    const custom: ChannelRules = {
      ...R,
      rules: [{ channel: 'Partner Marketplace', anyOf: [[{ field: 'source', operator: 'equals', value: 'AppExchange' }]] }, ...R.rules],
    };
    expect(validateChannelRules(custom).ok).toBe(true);
    expect(classifyChannel(custom, { source: 'appexchange', medium: 'cpc' })).toBe('Partner Marketplace');
    expect(classifyChannel(custom, { source: 'google', medium: 'cpc' })).toBe('Paid Search');
  });

  it('supports negated conditions and a custom fallback', () => {
    const custom: ChannelRules = {
      siteLists: {},
      fallbackChannel: 'Other',
      rules: [
        {
          channel: 'Tagged',
          anyOf: [
            [
              { field: 'campaign', operator: 'exists' },
              { field: 'medium', operator: 'in', values: ['cpc', 'ppc'], negate: true },
            ],
          ],
        },
      ],
    };
    expect(classifyChannel(custom, { campaign: 'x', medium: 'email' })).toBe('Tagged');
    expect(classifyChannel(custom, { campaign: 'x', medium: 'cpc' })).toBe('Other');
  });

  it('lets an admin extend a site list', () => {
    const custom: ChannelRules = { ...R, siteLists: { ...R.siteLists, search: [...(R.siteLists['search'] ?? []), 'kagi.com'] } };
    expect(classifyChannel(R, { referrer: 'https://kagi.com/search?q=x' })).toBe('Referral');
    expect(classifyChannel(custom, { referrer: 'https://kagi.com/search?q=x' })).toBe('Organic Search');
  });
});

describe('site matching', () => {
  it.each<[string, string]>([
    ['https://www.Google.com/search?q=x', 'google.com'],
    ['http://l.facebook.com:443/l.php', 'l.facebook.com'],
    ['//t.co/abc', 't.co'],
    ['linkedin.com/feed', 'linkedin.com'],
    ['https://user:pw@example.org./x', 'example.org'],
    ['google', 'google'],
  ])('reads the host of %s as %s', (url, host) => {
    expect(hostOf(url)).toBe(host);
  });

  it.each<[string, string, boolean]>([
    ['google', 'search', true],
    ['google.de', 'search', true],
    ['www.google.co.uk', 'search', true],
    ['mail.google.com', 'search', false],
    ['googleads.example.com', 'search', false],
    ['cn.bing.com', 'search', true],
    ['search.yahoo.com', 'search', true],
    ['l.facebook.com', 'social', true],
    ['lm.facebook.com', 'social', true],
    ['notfacebook.com', 'social', false],
    ['t.co', 'social', true],
    ['x.com', 'social', true],
    ['youtu.be', 'video', true],
    ['m.youtube.com', 'video', true],
  ])('treats %s as on the %s list: %s', (source, list, expected) => {
    expect(isOnSiteList(source, R.siteLists[list] ?? [])).toBe(expected);
  });
});

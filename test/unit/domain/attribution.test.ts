import { describe, expect, it } from 'vitest';
import { buildTouches, type AttributionInput, type Touch } from '../../../src/domain/attribution.ts';
import {
  CREDIT_MODELS,
  creditRevenue,
  UNATTRIBUTED_CAMPAIGN,
  type CreditModel,
  type CreditTouchpoint,
} from '../../../src/domain/attribution-credit.ts';
import { fillLeadSource, leadSourceFor, stampFields } from '../../../src/domain/attribution-stamp.ts';
import { landingPageOf, parseUtm, type UtmParameters } from '../../../src/domain/attribution-utm.ts';
import { DEFAULT_CHANNELS } from '../../../src/domain/channels.ts';
import { formatCents, toCents } from '../../../src/domain/money.ts';

const JAN_1 = Date.parse('2026-01-01T00:00:00.000Z');
const FEB_1 = Date.parse('2026-02-01T00:00:00.000Z');

describe('parseUtm', () => {
  it.each<{ name: string; url: string | null | undefined; expected: Partial<UtmParameters> }>([
    {
      name: 'reads all five parameters',
      url: 'https://example.com/p?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=ad1&utm_term=crm',
      expected: { source: 'google', medium: 'cpc', campaign: 'spring', content: 'ad1', term: 'crm' },
    },
    {
      name: 'reads mixed-case keys and keeps value case',
      url: 'https://example.com/?UTM_Source=LinkedIn&Utm_Medium=Paid_Social',
      expected: { source: 'LinkedIn', medium: 'Paid_Social' },
    },
    { name: 'reads + as a space', url: 'https://example.com/?utm_campaign=spring+sale+2026', expected: { campaign: 'spring sale 2026' } },
    {
      name: 'decodes percent escapes',
      url: 'https://example.com/?utm_campaign=M%C3%BCnchen%20Q1&utm_term=b2b%2Bcrm',
      expected: { campaign: 'München Q1', term: 'b2b+crm' },
    },
    {
      name: 'keeps broken percent escapes as written',
      url: 'https://example.com/?utm_campaign=100%25%20off%ZZ&utm_term=%E0%A4%A',
      expected: { campaign: '100% off%ZZ', term: '%E0%A4%A' },
    },
    {
      name: 'takes the first non-blank value of a repeated key',
      url: 'https://example.com/?utm_source=&utm_source=bing&utm_source=google',
      expected: { source: 'bing' },
    },
    { name: 'ignores blank values', url: 'https://example.com/?utm_source=%20&utm_medium=', expected: { source: null, medium: null } },
    {
      name: 'reads a URL without a scheme',
      url: 'example.com/landing?utm_source=newsletter&utm_medium=email',
      expected: { source: 'newsletter', medium: 'email' },
    },
    { name: 'reads a relative URL', url: '/pricing?utm_medium=social', expected: { medium: 'social' } },
    {
      name: 'reads parameters after the fragment when the query has none',
      url: 'https://example.com/#/signup?utm_source=twitter',
      expected: { source: 'twitter' },
    },
    { name: 'prefers the query over the fragment', url: 'https://example.com/?utm_source=a#utm_source=b', expected: { source: 'a' } },
    { name: 'accepts ; as a separator', url: 'https://example.com/?utm_source=a;utm_medium=b', expected: { source: 'a', medium: 'b' } },
    { name: 'reads utm_id', url: 'https://example.com/?utm_id=701000000000001', expected: { id: '701000000000001' } },
    { name: 'notes a Google Ads click id', url: 'https://example.com/?gclid=abc', expected: { clickId: 'gclid', source: null } },
    { name: 'notes a Microsoft Ads click id', url: 'https://example.com/?MSCLKID=abc', expected: { clickId: 'msclkid' } },
    { name: 'notes a HubSpot email link', url: 'https://example.com/?_hsenc=p2ANqtz&_hsmi=1', expected: { clickId: '_hsenc' } },
    {
      name: 'returns nothing for a URL without parameters',
      url: 'https://example.com/',
      expected: { source: null, medium: null, campaign: null, clickId: null },
    },
    { name: 'returns nothing for garbage', url: '%%%??&&==', expected: { source: null, medium: null } },
    { name: 'returns nothing for an empty string', url: '', expected: { source: null } },
    { name: 'returns nothing for null', url: null, expected: { source: null } },
    { name: 'returns nothing for undefined', url: undefined, expected: { source: null } },
  ])('$name', ({ url, expected }) => {
    expect(parseUtm(url)).toMatchObject(expected);
  });

  it.each<[string | null, string | null]>([
    ['https://example.com/pricing?utm_source=x#top', 'https://example.com/pricing'],
    ['https://example.com/', 'https://example.com/'],
    ['?utm_source=x', null],
    [' ', null],
    [null, null],
  ])('reads the landing page of %s as %s', (url, page) => {
    expect(landingPageOf(url)).toBe(page);
  });
});

describe('buildTouches', () => {
  it.each<{ name: string; input: AttributionInput; first: Partial<Touch>; last?: Partial<Touch> }>([
    {
      name: 'stamps a paid search visit from its first-page UTMs',
      input: {
        hubspot: {
          hs_analytics_source: 'PAID_SEARCH',
          hs_analytics_source_data_1: 'spring',
          hs_analytics_first_url:
            'https://example.com/demo?utm_source=google&utm_medium=cpc&utm_campaign=Spring+Launch&utm_content=ad-a&utm_term=crm+sync',
          hs_analytics_first_timestamp: String(JAN_1),
          first_conversion_event_name: 'Demo request',
        },
      },
      first: {
        channel: 'Paid Search',
        source: 'google',
        medium: 'cpc',
        campaign: 'Spring Launch',
        content: 'ad-a',
        term: 'crm sync',
        at: JAN_1,
        landingPage: 'https://example.com/demo',
        form: 'Demo request',
      },
    },
    {
      name: 'lets custom utm_* contact properties win over parsed URLs',
      input: {
        hubspot: {
          hs_analytics_first_url: 'https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=url',
          utm_source: 'linkedin',
          utm_medium: 'paid_social',
          utm_campaign: 'form-captured',
        },
      },
      first: { channel: 'Paid Social', source: 'linkedin', medium: 'paid_social', campaign: 'form-captured' },
    },
    {
      name: 'infers Google Ads from gclid when UTMs are missing',
      input: { hubspot: { hs_analytics_first_url: 'https://example.com/?gclid=Cj0', hs_analytics_source: 'PAID_SEARCH' } },
      first: { channel: 'Paid Search', source: 'google', medium: 'cpc' },
    },
    {
      name: 'names an untagged social referrer with medium referral',
      input: {
        hubspot: { hs_analytics_first_url: 'https://example.com/blog', hs_analytics_first_referrer: 'https://www.linkedin.com/feed/' },
      },
      first: { channel: 'Organic Social', source: 'linkedin.com', medium: 'referral', landingPage: 'https://example.com/blog' },
    },
    {
      name: 'names an untagged search referrer with medium organic',
      input: { hubspot: { hs_analytics_first_referrer: 'https://www.google.com/' } },
      first: { channel: 'Organic Search', source: 'google.com', medium: 'organic' },
    },
    {
      name: 'reads the engine and the term from organic search drill-downs',
      input: {
        hubspot: {
          hs_analytics_source: 'ORGANIC_SEARCH',
          hs_analytics_source_data_1: 'salesforce hubspot sync',
          hs_analytics_source_data_2: 'google',
        },
      },
      first: { channel: 'Organic Search', source: 'google', term: 'salesforce hubspot sync' },
    },
    {
      name: 'ignores the "unknown keywords" drill-down',
      input: {
        hubspot: {
          hs_analytics_source: 'ORGANIC_SEARCH',
          hs_analytics_source_data_1: 'bing',
          hs_analytics_source_data_2: 'Unknown keywords (SSL)',
        },
      },
      first: { channel: 'Organic Search', source: 'bing', term: null },
    },
    {
      name: 'reads the network and campaign from social drill-downs',
      input: {
        hubspot: {
          hs_analytics_source: 'SOCIAL_MEDIA',
          hs_analytics_source_data_1: 'LinkedIn',
          hs_analytics_source_data_2: 'q1-thought-leadership',
        },
      },
      first: { channel: 'Organic Social', source: 'linkedin', campaign: 'q1-thought-leadership' },
    },
    {
      name: 'reads the campaign from email drill-downs',
      input: { hubspot: { hs_analytics_source: 'EMAIL_MARKETING', hs_analytics_source_data_1: 'March newsletter' } },
      first: { channel: 'Email', campaign: 'March newsletter' },
    },
    {
      name: 'reads the referring domain from referral drill-downs',
      input: { hubspot: { hs_analytics_source: 'REFERRALS', hs_analytics_source_data_1: 'www.g2.com' } },
      first: { channel: 'Referral', source: 'g2.com' },
    },
    {
      name: 'stamps direct traffic as (direct) / (none)',
      input: { hubspot: { hs_analytics_source: 'DIRECT_TRAFFIC', hs_analytics_first_url: 'https://example.com/' } },
      first: { channel: 'Direct', source: '(direct)', medium: '(none)' },
    },
    {
      name: 'stamps a lead with no data at all as Unassigned',
      input: {},
      first: { channel: 'Unassigned', source: null, medium: null, campaign: null, at: null, landingPage: null, form: null },
    },
    {
      name: 'stamps a Salesforce-created lead with no marketing history as Sales-sourced',
      input: { origin: 'salesforce', salesforce: { LeadSource: null, CreatedDate: '2026-01-01T00:00:00.000Z' } },
      first: { channel: 'Sales-sourced', at: JAN_1 },
      last: { channel: 'Sales-sourced', at: JAN_1 },
    },
    {
      name: 'stamps a Salesforce-created trade show lead as Events',
      input: { origin: 'salesforce', salesforce: { LeadSource: 'Trade Show' } },
      first: { channel: 'Events' },
    },
    {
      name: 'takes the first-touch time from the first visit when the first timestamp is missing',
      input: { hubspot: { hs_analytics_first_visit_timestamp: '2026-01-01T00:00:00Z' } },
      first: { at: JAN_1 },
    },
    {
      name: 'builds a separate last touch from the latest source',
      input: {
        hubspot: {
          hs_analytics_source: 'ORGANIC_SEARCH',
          hs_analytics_first_referrer: 'https://www.google.com/',
          hs_analytics_first_timestamp: '2026-01-01T00:00:00.000Z',
          hs_latest_source: 'EMAIL_MARKETING',
          hs_latest_source_timestamp: String(FEB_1),
          hs_analytics_last_url: 'https://example.com/webinar?utm_source=hubspot&utm_medium=email&utm_campaign=webinar-invite',
          recent_conversion_event_name: 'Webinar signup',
        },
      },
      first: { channel: 'Organic Search', at: JAN_1 },
      last: {
        channel: 'Email',
        source: 'hubspot',
        medium: 'email',
        campaign: 'webinar-invite',
        at: FEB_1,
        form: 'Webinar signup',
        landingPage: 'https://example.com/webinar',
      },
    },
    {
      name: 'repeats the first touch as the last one when there is no later visit, at the latest conversion',
      input: {
        hubspot: {
          hs_analytics_first_url: 'https://example.com/?utm_source=newsletter&utm_medium=email',
          hs_analytics_first_timestamp: String(JAN_1),
          first_conversion_event_name: 'Ebook',
          recent_conversion_date: String(FEB_1),
          recent_conversion_event_name: 'Demo request',
        },
      },
      first: { channel: 'Email', at: JAN_1, form: 'Ebook' },
      last: { channel: 'Email', source: 'newsletter', at: FEB_1, form: 'Demo request' },
    },
  ])('$name', ({ input, first, last }) => {
    const touches = buildTouches(input);
    expect(touches.first).toMatchObject(first);
    if (last !== undefined) expect(touches.last).toMatchObject(last);
    expect(DEFAULT_CHANNELS).toContain(touches.first.channel);
    expect(DEFAULT_CHANNELS).toContain(touches.last.channel);
  });

  it('survives unreadable property values and stamps them Unassigned', () => {
    const touches = buildTouches({
      hubspot: { hs_analytics_first_url: 'ht!tp://%%%', hs_analytics_first_timestamp: 'yesterday', hs_analytics_source: 'NOT_A_BUCKET' },
    });
    expect(touches.first).toMatchObject({ channel: 'Unassigned', at: null, landingPage: 'ht!tp://%%%' });
  });
});

describe('stampFields', () => {
  const touches = buildTouches({
    hubspot: {
      hs_analytics_first_url: 'https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand',
      hs_analytics_first_timestamp: String(JAN_1),
    },
  });

  it('writes the twelve HubSpot properties, clearing missing values with ""', () => {
    expect(stampFields(touches).hubspot).toEqual({
      attribution_first_channel: 'Paid Search',
      attribution_first_source: 'google',
      attribution_first_medium: 'cpc',
      attribution_first_campaign: 'brand',
      attribution_first_content: '',
      attribution_first_term: '',
      attribution_first_at: '2026-01-01T00:00:00.000Z',
      attribution_last_channel: 'Paid Search',
      attribution_last_source: 'google',
      attribution_last_medium: 'cpc',
      attribution_last_campaign: 'brand',
      attribution_last_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('writes the twelve Salesforce fields, clearing missing values with null', () => {
    expect(stampFields(touches).salesforce).toEqual({
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Source__c: 'google',
      First_Touch_Medium__c: 'cpc',
      First_Touch_Campaign__c: 'brand',
      First_Touch_Content__c: null,
      First_Touch_Term__c: null,
      First_Touch_At__c: '2026-01-01T00:00:00.000Z',
      Last_Touch_Channel__c: 'Paid Search',
      Last_Touch_Source__c: 'google',
      Last_Touch_Medium__c: 'cpc',
      Last_Touch_Campaign__c: 'brand',
      Last_Touch_At__c: '2026-01-01T00:00:00.000Z',
    });
  });

  it('always stamps a channel, even with no data', () => {
    const stamp = stampFields(buildTouches({}));
    expect(stamp.hubspot.attribution_first_channel).toBe('Unassigned');
    expect(stamp.salesforce.Last_Touch_Channel__c).toBe('Unassigned');
    expect(stamp.hubspot.attribution_first_at).toBe('');
  });
});

describe('LeadSource', () => {
  it.each<[string, string]>([
    ['Paid Search', 'Web'],
    ['Organic Social', 'Web'],
    ['Direct', 'Web'],
    ['Affiliates', 'Partner Referral'],
    ['Events', 'Other'],
    ['Sales-sourced', 'Other'],
    ['Unassigned', 'Other'],
    ['Partner Marketplace', 'Other'],
  ])('fills LeadSource for %s with %s', (channel, leadSource) => {
    expect(leadSourceFor(channel)).toBe(leadSource);
  });

  it.each<[string | null | undefined, string, string | null]>([
    [null, 'Paid Search', 'Web'],
    [undefined, 'Events', 'Other'],
    ['  ', 'Email', 'Web'],
    ['Trade Show', 'Paid Search', null],
    ['Web', 'Affiliates', null],
  ])('with existing LeadSource %j and channel %s writes %j', (existing, channel, written) => {
    expect(fillLeadSource(existing, channel)).toBe(written);
  });

  it('uses an admin map when given one', () => {
    expect(leadSourceFor('Events', { Events: 'Trade Show' })).toBe('Trade Show');
  });
});

describe('creditRevenue', () => {
  const touch = (campaign: string, at: number): CreditTouchpoint => ({ campaign, at });
  const journey = [touch('search', 1), touch('webinar', 2), touch('ebook', 3), touch('demo', 4)];

  it.each<{ name: string; model: CreditModel; touchpoints: CreditTouchpoint[]; won: number; expected: Array<[string, number]> }>([
    {
      name: 'gives first touch everything to the first campaign',
      model: 'first_touch',
      touchpoints: journey,
      won: 100_000,
      expected: [['search', 100_000]],
    },
    {
      name: 'gives last touch everything to the last campaign',
      model: 'last_touch',
      touchpoints: journey,
      won: 100_000,
      expected: [['demo', 100_000]],
    },
    {
      name: 'splits linear evenly',
      model: 'linear',
      touchpoints: journey,
      won: 100_000,
      expected: [
        ['search', 25_000],
        ['webinar', 25_000],
        ['ebook', 25_000],
        ['demo', 25_000],
      ],
    },
    {
      name: 'splits linear odd cents to the earliest campaigns',
      model: 'linear',
      touchpoints: journey,
      won: 100_003,
      expected: [
        ['search', 25_001],
        ['webinar', 25_001],
        ['ebook', 25_001],
        ['demo', 25_000],
      ],
    },
    {
      name: 'splits position based 40/20/40',
      model: 'position_based',
      touchpoints: journey,
      won: 100_000,
      expected: [
        ['search', 40_000],
        ['webinar', 10_000],
        ['ebook', 10_000],
        ['demo', 40_000],
      ],
    },
    {
      name: 'gives position based one touch 100 %',
      model: 'position_based',
      touchpoints: [touch('only', 1)],
      won: 99_999,
      expected: [['only', 99_999]],
    },
    {
      name: 'splits position based two touches 50/50',
      model: 'position_based',
      touchpoints: [touch('a', 1), touch('b', 2)],
      won: 1_001,
      expected: [
        ['a', 501],
        ['b', 500],
      ],
    },
    {
      name: 'splits position based three touches 40/20/40',
      model: 'position_based',
      touchpoints: [touch('a', 1), touch('b', 2), touch('c', 3)],
      won: 1_000,
      expected: [
        ['a', 400],
        ['b', 200],
        ['c', 400],
      ],
    },
    {
      name: 'orders touches by time, not input order',
      model: 'first_touch',
      touchpoints: [touch('late', 9), touch('early', 1)],
      won: 500,
      expected: [['early', 500]],
    },
    {
      name: 'adds up repeated campaigns',
      model: 'linear',
      touchpoints: [touch('a', 1), touch('b', 2), touch('a', 3)],
      won: 300,
      expected: [
        ['a', 200],
        ['b', 100],
      ],
    },
    {
      name: 'credits a touch without a campaign as unattributed',
      model: 'linear',
      touchpoints: [touch(' ', 1), touch('b', 2)],
      won: 300,
      expected: [
        [UNATTRIBUTED_CAMPAIGN, 150],
        ['b', 150],
      ],
    },
    {
      name: 'credits a deal with no touches as unattributed',
      model: 'linear',
      touchpoints: [],
      won: 12_345,
      expected: [[UNATTRIBUTED_CAMPAIGN, 12_345]],
    },
    {
      name: 'credits zero as zero',
      model: 'position_based',
      touchpoints: journey,
      won: 0,
      expected: [
        ['search', 0],
        ['webinar', 0],
        ['ebook', 0],
        ['demo', 0],
      ],
    },
    {
      name: 'splits a negative amount (a refund) symmetrically',
      model: 'linear',
      touchpoints: [touch('a', 1), touch('b', 2), touch('c', 3)],
      won: -100,
      expected: [
        ['a', -34],
        ['b', -33],
        ['c', -33],
      ],
    },
    {
      name: 'gives the leftover cent to the largest remainder',
      model: 'position_based',
      touchpoints: [touch('a', 1), touch('b', 2), touch('c', 3), touch('d', 4)],
      won: 7,
      expected: [
        ['a', 3],
        ['b', 1],
        ['c', 0],
        ['d', 3],
      ],
    },
  ])('$name', ({ model, touchpoints, won, expected }) => {
    const credits = creditRevenue(model, touchpoints, won);
    expect(credits.map((credit) => [credit.campaign, credit.amountCents])).toEqual(expected);
  });

  const amounts = [1, 2, 3, 7, 99, 100, 101, 333, 1_001, 99_999, 100_003, 123_456_789, 9_007_199_254_740_991];
  const cases = CREDIT_MODELS.flatMap((model) =>
    amounts.flatMap((won) => Array.from({ length: 12 }, (_, index) => ({ model, won, count: index + 1 }))),
  );

  it.each(cases)('sums $model credits over $count touches to exactly $won cents', ({ model, won, count }) => {
    const touchpoints = Array.from({ length: count }, (_, index) => touch(`c${index % 5}`, index));
    const credits = creditRevenue(model, touchpoints, won);
    expect(credits.reduce((sum, credit) => sum + credit.amountCents, 0)).toBe(won);
    expect(credits.every((credit) => Number.isSafeInteger(credit.amountCents) && credit.amountCents >= 0)).toBe(true);
  });

  it('gives the same answer for the same input', () => {
    const touchpoints = [touch('b', 5), touch('a', 5), touch('c', 1)];
    expect(creditRevenue('position_based', touchpoints, 10_001)).toEqual(creditRevenue('position_based', touchpoints, 10_001));
  });

  it.each([0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses a won amount of %s, which is not integer cents', (won) => {
    expect(() => creditRevenue('linear', [touch('a', 1)], won)).toThrow(RangeError);
  });
});

describe('money', () => {
  it.each<[number | string, number]>([
    [0, 0],
    [12_500, 1_250_000],
    [1.005, 101],
    [0.1 + 0.2, 30],
    [19.99, 1_999],
    ['1234.5', 123_450],
    ['-2.675', -268],
    ['.5', 50],
    [1e-7, 0],
  ])('converts %s to %i cents', (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });

  it.each(['', 'abc', '1e400'])('refuses %j as an amount', (amount) => {
    expect(() => toCents(amount)).toThrow(RangeError);
  });

  it.each<[number, string]>([
    [0, '0.00'],
    [5, '0.05'],
    [123_456, '1234.56'],
    [-1_050, '-10.50'],
  ])('formats %i cents as %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });
});

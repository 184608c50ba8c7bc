import { describe, expect, it } from 'vitest';
import { buildTouches, type Touches } from '../../src/domain/attribution.ts';
import { stampFields } from '../../src/domain/attribution-stamp.ts';
import { DEFAULT_CHANNEL_RULES } from '../../src/domain/channels.ts';
import { progressOf } from '../../src/sync/attribution-backfill.ts';
import {
  attributionSettingsFrom,
  DEFAULT_ATTRIBUTION_SETTINGS,
  HUBSPOT_STAMP_PROPERTIES,
  SALESFORCE_STAMP_FIELDS,
} from '../../src/sync/attribution-settings.ts';
import { campaignsOf, hubspotStampChanges, salesforceStampChanges, sameStampValue } from '../../src/sync/attribution-changes.ts';

const SPRING = 'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring-launch';
const NEWSLETTER = 'https://www.example.com/webinar?utm_source=newsletter&utm_medium=email&utm_campaign=may-newsletter';

function touchesOf(properties: Record<string, string>): Touches {
  return buildTouches({ hubspot: properties });
}

const paidThenEmail = touchesOf({
  hs_analytics_first_url: SPRING,
  hs_analytics_first_timestamp: '2026-03-01T09:00:00.000Z',
  hs_analytics_last_url: NEWSLETTER,
  hs_latest_source: 'EMAIL_MARKETING',
  hs_latest_source_timestamp: '2026-04-01T09:00:00.000Z',
});
const stamp = stampFields(paidThenEmail);

describe('sameStampValue', () => {
  it.each<[string, string, unknown, string | null, boolean]>([
    [
      'compares a HubSpot time with a Salesforce time as the same instant',
      'First_Touch_At__c',
      '2026-03-01T09:00:00.000+0000',
      '2026-03-01T09:00:00.000Z',
      true,
    ],
    ['compares epoch milliseconds with ISO as the same instant', 'attribution_first_at', '1772355600000', '2026-03-01T09:00:00.000Z', true],
    ['tells two instants apart', 'Last_Touch_At__c', '2026-03-01T09:00:01.000Z', '2026-03-01T09:00:00.000Z', false],
    ['counts HubSpot blank and Salesforce null as the same absence', 'First_Touch_Source__c', '', null, true],
    ['counts a missing value and a blank one as the same absence', 'attribution_first_source', undefined, '', true],
    ['tells a value from its absence', 'First_Touch_Source__c', 'google', null, false],
    ['compares text exactly (case matters in a stamp)', 'First_Touch_Source__c', 'Google', 'google', false],
  ])('%s', (_name, field, current, next, same) => {
    expect(sameStampValue(field, current, next)).toBe(same);
  });
});

describe('hubspotStampChanges', () => {
  it('writes the whole stamp on a contact that has none', () => {
    expect(Object.keys(hubspotStampChanges(stamp, {})).sort()).toEqual(
      HUBSPOT_STAMP_PROPERTIES.filter((p) => stamp.hubspot[p] !== '').sort(),
    );
  });

  it('writes nothing when the contact already carries the stamp, times in another format included', () => {
    const current = { ...stamp.hubspot, attribution_first_at: String(Date.parse(stamp.hubspot.attribution_first_at)) };
    expect(hubspotStampChanges(stamp, current)).toEqual({});
  });

  it('writes only the last touch when a later visit changed it', () => {
    const before = stampFields(touchesOf({ hs_analytics_first_url: SPRING, hs_analytics_first_timestamp: '2026-03-01T09:00:00.000Z' }));
    expect(hubspotStampChanges(stamp, before.hubspot)).toEqual({
      attribution_last_channel: 'Email',
      attribution_last_source: 'newsletter',
      attribution_last_medium: 'email',
      attribution_last_campaign: 'may-newsletter',
      attribution_last_at: '2026-04-01T09:00:00.000Z',
    });
  });
});

describe('salesforceStampChanges', () => {
  it('sends every known value and fills LeadSource for a Lead not created yet', () => {
    const fields = salesforceStampChanges(stamp, undefined, paidThenEmail.first.channel, DEFAULT_ATTRIBUTION_SETTINGS.leadSourceByChannel);
    expect(fields).toMatchObject({
      First_Touch_Channel__c: 'Paid Search',
      First_Touch_Campaign__c: 'spring-launch',
      Last_Touch_Channel__c: 'Email',
      LeadSource: 'Web',
    });
    expect(Object.values(fields)).not.toContain(null);
  });

  it('never replaces a LeadSource the Lead already has', () => {
    const lead = { ...stamp.salesforce, LeadSource: 'Trade Show' };
    expect(salesforceStampChanges(stamp, lead, 'Paid Search', DEFAULT_ATTRIBUTION_SETTINGS.leadSourceByChannel)).toEqual({});
  });

  it('clears a value the new stamp no longer has', () => {
    const lead = { ...stamp.salesforce, First_Touch_Term__c: 'old term', LeadSource: 'Web' };
    expect(salesforceStampChanges(stamp, lead, 'Paid Search', DEFAULT_ATTRIBUTION_SETTINGS.leadSourceByChannel)).toEqual({
      First_Touch_Term__c: null,
    });
  });

  it('cuts values to the length of their Salesforce field', () => {
    const long = stampFields(
      touchesOf({
        hs_analytics_first_url: `https://x.example/?utm_source=${'s'.repeat(300)}&utm_medium=cpc&utm_campaign=${'c'.repeat(300)}`,
      }),
    );
    const fields = salesforceStampChanges(long, undefined, 'Unassigned', DEFAULT_ATTRIBUTION_SETTINGS.leadSourceByChannel);
    expect(fields.First_Touch_Source__c).toHaveLength(255);
    expect(fields.First_Touch_Campaign__c).toHaveLength(255);
  });

  it('uses the admin LeadSource map for the first-touch channel', () => {
    const fields = salesforceStampChanges(stamp, {}, 'Paid Search', { 'Paid Search': 'Advertisement' });
    expect(fields.LeadSource).toBe('Advertisement');
  });
});

describe('campaignsOf', () => {
  it('names the first and last campaign once each, ignoring case', () => {
    expect(campaignsOf(paidThenEmail)).toEqual(['spring-launch', 'may-newsletter']);
    const sameTwice = touchesOf({
      hs_analytics_first_url: `${SPRING}`,
      hs_analytics_last_url: SPRING.replace('spring-launch', 'Spring-Launch'),
      hs_latest_source: 'PAID_SEARCH',
    });
    expect(campaignsOf(sameTwice)).toEqual(['spring-launch']);
  });

  it('names no campaign for a touch without one, and cuts a name to the 80 characters of Campaign.Name', () => {
    expect(campaignsOf(touchesOf({}))).toEqual([]);
    const long = touchesOf({ hs_analytics_first_url: `https://x.example/?utm_campaign=${'n'.repeat(120)}` });
    expect(campaignsOf(long)).toEqual(['n'.repeat(80)]);
  });
});

describe('attributionSettingsFrom', () => {
  it('uses the defaults when the admin set nothing', () => {
    expect(attributionSettingsFrom({})).toEqual({ ok: true, value: DEFAULT_ATTRIBUTION_SETTINGS });
  });

  it('merges the admin LeadSource map over the defaults and reads the Campaign options', () => {
    const parsed = attributionSettingsFrom({
      attribution: { leadSourceByChannel: { Events: 'Trade Show' }, createMissingCampaigns: false, campaignMemberStatus: 'Form Submitted' },
    });
    expect(parsed.ok && parsed.value.leadSourceByChannel).toMatchObject({ Events: 'Trade Show', 'Paid Search': 'Web' });
    expect(parsed.ok && parsed.value.campaigns).toEqual({ createMissing: false, memberStatus: 'Form Submitted' });
  });

  it('takes the admin channel rules', () => {
    const rules = {
      siteLists: {},
      rules: [{ channel: 'Partner', anyOf: [[{ field: 'source', operator: 'equals', value: 'partnerco' }]] }],
    };
    const parsed = attributionSettingsFrom({ channelRules: rules });
    expect(parsed.ok && parsed.value.channelRules.rules[0]?.channel).toBe('Partner');
    expect(parsed.ok && parsed.value.channelRules).not.toBe(DEFAULT_CHANNEL_RULES);
  });

  it('lists every problem of invalid rules and options at once', () => {
    const parsed = attributionSettingsFrom({
      channelRules: { siteLists: {}, rules: [{ channel: '', anyOf: [[{ field: 'source', operator: 'regex', pattern: '(' }]] }] },
      attribution: { createMissingCampaigns: 'yes', surprise: 1 },
    });
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.error;
    expect(problems.some((p) => p.startsWith('channelRules.rules[0].channel'))).toBe(true);
    expect(problems.some((p) => p.includes('regular expression'))).toBe(true);
    expect(problems.some((p) => p.startsWith('attribution.createMissingCampaigns'))).toBe(true);
    expect(problems.some((p) => p.startsWith('attribution.') && p.includes('surprise'))).toBe(true);
  });
});

describe('stamp field lists', () => {
  it('match the twelve HubSpot properties and twelve Salesforce fields of docs/architecture.md §7', () => {
    expect(HUBSPOT_STAMP_PROPERTIES).toHaveLength(12);
    expect(SALESFORCE_STAMP_FIELDS).toHaveLength(12);
    expect(SALESFORCE_STAMP_FIELDS.every((field) => /^(First|Last)_Touch_[A-Za-z]+__c$/.test(field))).toBe(true);
  });
});

describe('progressOf', () => {
  const row = {
    id: 'run',
    status: 'running' as const,
    phase: 'contacts' as const,
    done: 500,
    total: 2_000,
    stamped_contacts: 480,
    stamped_leads: 90,
    failed: 2,
    active_ms: 10_000,
    error: null,
  };

  it('reports the rate over working time and the time left at that rate', () => {
    expect(progressOf(row)).toMatchObject({
      done: 500,
      total: 2_000,
      ratePerS: 50,
      etaS: 30,
      stampedContacts: 480,
      stampedLeads: 90,
      failed: 2,
    });
  });

  it('has no ETA before the total is counted or anything was done', () => {
    expect(progressOf({ ...row, total: null }).etaS).toBeNull();
    expect(progressOf({ ...row, done: 0, active_ms: 0 })).toMatchObject({ ratePerS: 0, etaS: null });
  });

  it('never reports a negative time left, and none once complete', () => {
    expect(progressOf({ ...row, done: 2_100 }).etaS).toBe(0);
    expect(progressOf({ ...row, status: 'completed', done: 2_000 }).etaS).toBe(0);
  });
});

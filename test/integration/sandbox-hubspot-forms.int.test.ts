import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { PORTAL_ID, clientFor, failureOf, rawJson, startSandbox } from './support-hubspot/sandbox.ts';

const FORM = '8f2b1c3a-1d2e-4f5a-9b8c-7d6e5f4a3b2c';
const ANALYTICS = [
  'hs_analytics_source',
  'hs_analytics_source_data_1',
  'hs_analytics_source_data_2',
  'hs_analytics_first_url',
  'hs_analytics_first_referrer',
  'hs_analytics_first_timestamp',
  'hs_latest_source',
  'hs_latest_source_data_1',
  'hs_latest_source_data_2',
  'hs_latest_source_timestamp',
  'hs_analytics_last_url',
  'first_conversion_event_name',
  'first_conversion_date',
  'recent_conversion_event_name',
  'recent_conversion_date',
  'num_conversion_events',
  'lifecyclestage',
];
let clock = Date.parse('2026-04-01T10:00:00.000Z');
let sandbox: HubSpotSandbox;
let hubspot: Client;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => clock });
  hubspot = clientFor(sandbox);
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.reset();
});

function submit(
  email: string,
  pageUri: string,
  extra: { referrer?: string; pageName?: string; fields?: Record<string, string>; form?: string } = {},
) {
  return rawJson(sandbox, 'POST', `/submissions/v3/integration/submit/${PORTAL_ID}/${extra.form ?? FORM}`, {
    fields: Object.entries({ email, ...extra.fields }).map(([name, value]) => ({ objectTypeId: '0-1', name, value })),
    context: {
      hutk: 'a1b2c3d4e5f6',
      pageUri,
      pageName: extra.pageName ?? 'Pricing',
      ...(extra.referrer === undefined ? {} : { sandboxReferrer: extra.referrer }),
    },
  });
}

async function analyticsOf(email: string): Promise<Record<string, string | null>> {
  const contact = await hubspot.crm.contacts.basicApi.getById(email, ANALYTICS, undefined, undefined, false, 'email');
  return contact.properties;
}

describe('HubSpot sandbox forms submissions', () => {
  it('creates a lead from a paid search click with the campaign and keyword as drill-downs', async () => {
    const response = await submit(
      'paid@example.com',
      'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch&utm_term=lead+routing',
      { fields: { firstname: 'Pat' } },
    );
    expect(response).toMatchObject({ status: 200, body: { inlineMessage: 'Thanks for submitting the form.' } });
    expect(await analyticsOf('paid@example.com')).toMatchObject({
      hs_analytics_source: 'PAID_SEARCH',
      hs_analytics_source_data_1: 'spring_launch',
      hs_analytics_source_data_2: 'lead routing',
      hs_analytics_first_url:
        'https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring_launch&utm_term=lead+routing',
      hs_analytics_first_timestamp: new Date(clock).toISOString(),
      hs_latest_source: 'PAID_SEARCH',
      first_conversion_event_name: `Pricing: Form ${FORM}`,
      recent_conversion_event_name: `Pricing: Form ${FORM}`,
      first_conversion_date: new Date(clock).toISOString(),
      num_conversion_events: '1',
      lifecyclestage: 'lead',
    });
  });

  it('sets first-touch properties once and latest-touch properties on every submission', async () => {
    await submit('twice@example.com', 'https://www.example.com/?utm_source=google&utm_medium=ppc&utm_campaign=brand');
    const first = new Date(clock).toISOString();
    clock += 86_400_000;
    sandbox.registerForm({ guid: 'demo-form', name: 'Demo request' });
    await submit('twice@example.com', 'https://www.example.com/demo', {
      referrer: 'https://www.linkedin.com/feed/',
      pageName: 'Demo',
      form: 'demo-form',
    });
    expect(await analyticsOf('twice@example.com')).toMatchObject({
      hs_analytics_source: 'PAID_SEARCH',
      hs_analytics_source_data_1: 'brand',
      hs_analytics_first_timestamp: first,
      hs_latest_source: 'SOCIAL_MEDIA',
      hs_latest_source_data_1: 'LinkedIn',
      hs_latest_source_timestamp: new Date(clock).toISOString(),
      hs_analytics_last_url: 'https://www.example.com/demo',
      first_conversion_event_name: `Pricing: Form ${FORM}`,
      first_conversion_date: first,
      recent_conversion_event_name: 'Demo: Demo request',
      recent_conversion_date: new Date(clock).toISOString(),
      num_conversion_events: '2',
    });
  });

  it.each([
    [
      'a paid social ad',
      'https://x.example/?utm_source=facebook&utm_medium=paid_social&utm_campaign=retarget',
      undefined,
      ['PAID_SOCIAL', 'Facebook', 'retarget'],
    ],
    [
      'an email campaign',
      'https://x.example/?utm_source=newsletter&utm_medium=email&utm_campaign=april',
      undefined,
      ['EMAIL_MARKETING', 'april', 'newsletter'],
    ],
    ['an organic social post', 'https://x.example/blog', 'https://t.co/abc', ['SOCIAL_MEDIA', 'Twitter', 'https://t.co/abc']],
    [
      'a referring site',
      'https://x.example/blog',
      'https://news.ycombinator.com/item?id=1',
      ['REFERRALS', 'news.ycombinator.com', 'https://news.ycombinator.com/item?id=1'],
    ],
    ['an organic search', 'https://x.example/', 'https://www.google.co.uk/', ['ORGANIC_SEARCH', 'Unknown keywords (SSL)', 'google']],
    [
      'an unknown campaign',
      'https://x.example/?utm_source=partner&utm_medium=banner&utm_campaign=coop',
      undefined,
      ['OTHER_CAMPAIGNS', 'coop', 'partner / banner'],
    ],
    ['a direct visit', 'https://x.example/contact?ref=none', undefined, ['DIRECT_TRAFFIC', 'x.example', 'https://x.example/contact']],
  ])('buckets %s like HubSpot', async (_name, pageUri, referrer, [source, data1, data2]) => {
    await submit('bucket@example.com', pageUri, referrer === undefined ? {} : { referrer });
    expect(await analyticsOf('bucket@example.com')).toMatchObject({
      hs_analytics_source: source,
      hs_analytics_source_data_1: data1,
      hs_analytics_source_data_2: data2,
    });
  });

  it('keeps the offline original source of a contact created through the API', async () => {
    await hubspot.crm.contacts.basicApi.create({ properties: { email: 'offline@example.com' }, associations: [] });
    await submit('offline@example.com', 'https://x.example/?utm_source=google&utm_medium=cpc&utm_campaign=c');
    expect(await analyticsOf('offline@example.com')).toMatchObject({
      hs_analytics_source: 'OFFLINE',
      hs_analytics_source_data_1: 'INTEGRATION',
      hs_latest_source: 'PAID_SEARCH',
    });
  });

  it('never moves lifecyclestage backwards from a form and records FORM as the change source', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'sql@example.com', lifecyclestage: 'salesqualifiedlead' },
      associations: [],
    });
    const response = await submit('sql@example.com', 'https://x.example/', { fields: { lifecyclestage: 'lead', jobtitle: 'VP Sales' } });
    expect(response.status).toBe(200);
    const read = await hubspot.crm.contacts.basicApi.getById(contact.id, ['lifecyclestage', 'jobtitle'], ['jobtitle']);
    expect(read.properties).toMatchObject({ lifecyclestage: 'salesqualifiedlead', jobtitle: 'VP Sales' });
    expect(read.propertiesWithHistory?.jobtitle?.[0]).toMatchObject({ sourceType: 'FORM', sourceId: FORM });
  });

  it('answers with the redirect of a form configured to redirect', async () => {
    sandbox.registerForm({ guid: 'redirecting', name: 'Webinar', redirectUri: 'https://www.example.com/thanks' });
    const response = await submit('webinar@example.com', 'https://x.example/', { form: 'redirecting' });
    expect(response.body).toEqual({ redirectUri: 'https://www.example.com/thanks' });
  });

  it('refuses a submission without email or with fields the form does not have', async () => {
    const response = await rawJson(sandbox, 'POST', `/submissions/v3/integration/submit/${PORTAL_ID}/${FORM}`, {
      fields: [
        { name: 'firstname', value: 'No Email' },
        { name: 'shoe_size', value: '42' },
        { name: 'hs_latest_source', value: 'DIRECT_TRAFFIC' },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 'error', message: 'The request is not valid' });
    expect(response.body.errors.map((error: { errorType: string }) => error.errorType)).toEqual([
      'FIELD_NOT_IN_FORM_DEFINITION',
      'FIELD_NOT_IN_FORM_DEFINITION',
      'REQUIRED_FIELD',
    ]);
    expect((await hubspot.crm.contacts.basicApi.getPage()).results).toEqual([]);
  });

  it('refuses context.referrer, which the real API does not have', async () => {
    const response = await rawJson(sandbox, 'POST', `/submissions/v3/integration/submit/${PORTAL_ID}/${FORM}`, {
      fields: [{ name: 'email', value: 'ref@example.com' }],
      context: { pageUri: 'https://x.example/', referrer: 'https://google.com' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toContain("'context'");
  });

  it('refuses an invalid email like the forms API', async () => {
    const response = await submit('not-an-email', 'https://x.example/');
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ errorType: 'INVALID_EMAIL' });
  });

  it('lets the API write hs_analytics_source, which clears its drill-downs', async () => {
    await submit('manual@example.com', 'https://x.example/?utm_source=google&utm_medium=cpc&utm_campaign=c');
    const contact = await hubspot.crm.contacts.basicApi.update(
      'manual@example.com',
      { properties: { hs_analytics_source: 'OFFLINE' } },
      'email',
    );
    expect(contact.properties.hs_analytics_source).toBe('OFFLINE');
    expect(await analyticsOf('manual@example.com')).toMatchObject({ hs_analytics_source_data_1: null, hs_analytics_source_data_2: null });
    const readOnly = await failureOf(hubspot.crm.contacts.basicApi.update(contact.id, { properties: { hs_latest_source: 'OFFLINE' } }));
    expect(readOnly.body.errors[0].code).toBe('READ_ONLY_VALUE');
  });
});

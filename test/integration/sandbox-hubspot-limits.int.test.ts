import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { APP_ID, clientFor, failureOf, installOauthApp, startSandbox } from './support-hubspot/sandbox.ts';

let clock = Date.parse('2026-06-01T08:00:00.000Z');
let sandbox: HubSpotSandbox | undefined;

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await sandbox?.close();
  sandbox = undefined;
});

async function limitedSandbox(requests: number, searchPerSecond = 5): Promise<HubSpotSandbox> {
  sandbox = await startSandbox({ now: () => clock, rateLimit: { requests, windowMs: 10_000, searchPerSecond } });
  return sandbox;
}

/** Waits without timers (they may be faked): yields to I/O until the check passes. */
async function untilIo(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('HubSpot sandbox rate limits', () => {
  it('sends the X-HubSpot-RateLimit headers with every authenticated answer', async () => {
    const hubspot = clientFor(await limitedSandbox(100));
    const response = await hubspot.apiRequest({ method: 'GET', path: '/crm/v3/objects/contacts' });
    expect(response.status).toBe(200);
    expect(Object.fromEntries([...response.headers.entries()].filter(([name]) => name.startsWith('x-hubspot-ratelimit')))).toEqual({
      'x-hubspot-ratelimit-daily': '250000',
      'x-hubspot-ratelimit-daily-remaining': '249999',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '99',
      'x-hubspot-ratelimit-secondly': '10',
      'x-hubspot-ratelimit-secondly-remaining': '9',
    });
  });

  it("gives another private app of the portal its own burst limit and the account's one daily limit", async () => {
    const box = await limitedSandbox(3);
    const app = clientFor(box);
    const other = box.createPrivateApp('Marketing operations');
    const script = clientFor(box, { accessToken: other.token });
    for (let i = 0; i < 3; i++) await app.crm.contacts.basicApi.getPage();
    expect((await failureOf(app.crm.contacts.basicApi.getPage())).code).toBe(429);

    const answer = await script.apiRequest({ method: 'GET', path: '/crm/v3/objects/contacts' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-hubspot-ratelimit-remaining')).toBe('2');
    // Three calls of the app and one of the script: the account's day counts all four.
    expect(answer.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('249996');

    // A write through the other app is an integration change of that app, not of ours.
    const created = await script.crm.contacts.basicApi.create({ properties: { email: 'ops@example.com' }, associations: [] });
    const history = await script.crm.contacts.basicApi.getById(created.id, undefined, ['email']);
    expect(history.propertiesWithHistory?.email?.[0]).toMatchObject({ sourceType: 'INTEGRATION', sourceId: String(other.appId) });
    expect(other.appId).not.toBe(APP_ID);

    // The same over HTTP, for tools outside the process; a body without a name changes nothing.
    const refused = await fetch(`${box.url}/__sandbox/private-apps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(400);
    const made = await fetch(`${box.url}/__sandbox/private-apps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Webinar tool' }),
    });
    expect(made.status).toBe(201);
    const { token } = (await made.json()) as { token: string };
    expect((await clientFor(box, { accessToken: token }).crm.contacts.basicApi.getPage()).results).toHaveLength(1);
  });

  it('answers the 101st request in ten seconds with the real TEN_SECONDLY_ROLLING 429', async () => {
    const hubspot = clientFor(await limitedSandbox(3));
    for (let i = 0; i < 3; i++) await hubspot.crm.contacts.basicApi.getPage();
    const failure = await failureOf(hubspot.crm.contacts.basicApi.getPage());
    expect(failure.code).toBe(429);
    expect(failure.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: expect.any(String),
      requestId: expect.any(String),
    });
    expect(failure.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    clock += 10_000;
    expect((await hubspot.crm.contacts.basicApi.getPage()).results).toEqual([]);
    expect(sandbox?.stats().totals.rateLimited).toBe(1);
  });

  it('lets the client retry a TEN_SECONDLY_ROLLING 429 with numberOfApiCallRetries until the window frees up', async () => {
    const box = await limitedSandbox(2);
    const hubspot = clientFor(box, { numberOfApiCallRetries: 2 });
    await hubspot.crm.contacts.basicApi.getPage();
    await hubspot.crm.contacts.basicApi.getPage();
    const retryLog = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // The RetryDecorator sleeps 10 s before its retry; fake only the timers so that sleep is instant.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const call = hubspot.crm.contacts.basicApi.getPage(5);
    await untilIo(() => retryLog.mock.calls.length === 1);
    expect(String(retryLog.mock.calls[0]?.[0])).toContain('[429], will retry [1] time in [10000] ms');
    clock += 10_000;
    await vi.advanceTimersByTimeAsync(10_000);
    vi.useRealTimers();
    expect((await call).results).toEqual([]);
    expect(box.stats().endpoints['GET /crm/v3/objects/contacts']).toBe(4);
  });

  it('limits search per second with the SECONDLY 429 that the client retries one second later', async () => {
    const box = await limitedSandbox(100, 1);
    const hubspot = clientFor(box);
    const request = { filterGroups: [], sorts: [], properties: ['email'], limit: 1 };
    await hubspot.crm.contacts.searchApi.doSearch(request);
    const failure = await failureOf(hubspot.crm.contacts.searchApi.doSearch(request));
    expect(failure.code).toBe(429);
    expect(failure.body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
      message: 'You have reached your secondly limit.',
    });

    const retrying = clientFor(box, { numberOfApiCallRetries: 2 });
    const retryLog = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const call = retrying.crm.contacts.searchApi.doSearch(request);
    await untilIo(() => retryLog.mock.calls.length === 1);
    expect(String(retryLog.mock.calls[0]?.[0])).toContain('time in [1000] ms');
    clock += 1000;
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    expect((await call).total).toBe(0);
  });

  it('keeps search inside the ten-second window too', async () => {
    const box = await limitedSandbox(2, 10);
    const hubspot = clientFor(box);
    await hubspot.crm.contacts.basicApi.getPage();
    await hubspot.crm.contacts.searchApi.doSearch({ filterGroups: [], sorts: [], properties: [], limit: 1 });
    const failure = await failureOf(hubspot.crm.contacts.searchApi.doSearch({ filterGroups: [], sorts: [], properties: [], limit: 1 }));
    expect(failure.body.policyName).toBe('TEN_SECONDLY_ROLLING');
  });

  it('omits the daily headers for OAuth-authorised requests and limits each token on its own', async () => {
    const box = await limitedSandbox(1);
    const { accessToken } = await installOauthApp(box);
    const oauthResponse = await clientFor(box, { accessToken }).apiRequest({ method: 'GET', path: '/crm/v3/objects/contacts' });
    expect(oauthResponse.status).toBe(200);
    expect(oauthResponse.headers.get('x-hubspot-ratelimit-daily')).toBeNull();
    expect(oauthResponse.headers.get('x-hubspot-ratelimit-max')).toBe('1');
    const privateApp = await clientFor(box).apiRequest({ method: 'GET', path: '/crm/v3/objects/contacts' });
    expect(privateApp.status).toBe(200);
  });
});

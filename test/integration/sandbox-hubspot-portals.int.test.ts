/**
 * Several accounts on one sandbox host, as real HubSpot serves every account on api.hubapi.com:
 * each account's records, OAuth grants and rate limits are its own; the public app's webhook
 * configuration is one for all accounts, and each account's events name their portal.
 */
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubSpotJournalClient } from '../../src/crm/hubspot/journal.ts';
import { wantedJournalSubscriptions } from '../../src/crm/hubspot/journal-events.ts';
import type { AddedPortal, HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import {
  APP_ID,
  CLIENT_ID,
  CLIENT_SECRET,
  PORTAL_ID,
  clientFor,
  developerClientFor,
  failureOf,
  consentForm,
  refreshGrant,
  startSandbox,
  waitFor,
} from './support-hubspot/sandbox.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support-hubspot/webhook-receiver.ts';

const OTHER_PORTAL = 1_000_002;
const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/hubspot/callback';

let sandbox: HubSpotSandbox;
let other: AddedPortal;
let receiver: WebhookReceiver;

beforeAll(async () => {
  sandbox = await startSandbox();
  other = sandbox.addPortal({ portalId: OTHER_PORTAL, burstLimit: 190 });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await sandbox.close();
});

/** Consents on the chosen account's page (`/oauth/{portalId}/authorize`) and exchanges the code. */
async function installOn(portalId: number): Promise<{ accessToken: string; refreshToken: string; hubId: number }> {
  const url = new URL(
    new Client().oauth.getAuthorizationUrl(CLIENT_ID, REDIRECT_URI, 'oauth crm.objects.contacts.read crm.objects.contacts.write'),
  );
  const page = await (await fetch(`${sandbox.url}/oauth/${portalId}/authorize${url.search}`)).text();
  expect(page).toContain(`HubSpot account ${portalId}`);
  const form = consentForm(page, 'approve');
  const approved = await fetch(`${sandbox.url}/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  const code = new URL(approved.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const oauth = new Client({ basePath: sandbox.url }).oauth;
  const tokens = await oauth.tokensApi.create('authorization_code', code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET);
  const info = await oauth.accessTokensApi.get(tokens.accessToken);
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, hubId: info.hubId };
}

describe('HubSpot sandbox: several accounts on one host', () => {
  it("keeps each account's records to itself: a token sees its own portal only", async () => {
    const mine = clientFor(sandbox, { accessToken: other.privateAppToken });
    const created = await mine.crm.contacts.basicApi.create({ properties: { email: 'only-here@portal2.example.com' }, associations: [] });
    expect((await mine.crm.contacts.basicApi.getById(created.id, ['email'])).properties.email).toBe('only-here@portal2.example.com');
    const elsewhere = await failureOf(
      clientFor(sandbox).crm.contacts.basicApi.getById('only-here@portal2.example.com', ['email'], undefined, undefined, false, 'email'),
    );
    expect(elsewhere.code).toBe(404);
    expect(other.stats().totals.calls).toBeGreaterThanOrEqual(2);
  });

  it('gives each account its own burst limit, announced in the rate-limit headers', async () => {
    const limitOf = async (token: string) => {
      const response = await fetch(`${sandbox.url}/crm/v3/objects/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      return response.headers.get('x-hubspot-ratelimit-max');
    };
    expect(await limitOf(other.privateAppToken)).toBe('190');
    expect(await limitOf('pat-sandbox-hubspot')).toBe('100');
  });

  it('installs the app on the account the user chose: the token, its refresh and its metadata belong to that portal', async () => {
    const install = await installOn(OTHER_PORTAL);
    expect(install.hubId).toBe(OTHER_PORTAL);
    const api = new Client({ accessToken: install.accessToken, basePath: sandbox.url });
    const page = await api.crm.contacts.basicApi.getPage(10, undefined, ['email']);
    expect(page.results.map((c) => c.properties.email)).toContain('only-here@portal2.example.com');
    const refreshed = await refreshGrant(sandbox, install.refreshToken);
    expect((await new Client({ basePath: sandbox.url }).oauth.accessTokensApi.get(refreshed.accessToken)).hubId).toBe(OTHER_PORTAL);
    expect((await installOn(PORTAL_ID)).hubId).toBe(PORTAL_ID);
  });

  it("sends every account's changes to the app's one webhook target, each event naming its portal", async () => {
    const developer = developerClientFor(sandbox);
    await developer.webhooks.settingsApi.configure(APP_ID, { targetUrl: receiver.url, throttling: { maxConcurrentRequests: 10 } });
    await developer.webhooks.subscriptionsApi.create(APP_ID, { eventType: 'contact.creation' as never, active: true });
    const here = await clientFor(sandbox).crm.contacts.basicApi.create({
      properties: { email: 'a@portal1.example.com' },
      associations: [],
    });
    const there = await clientFor(sandbox, { accessToken: other.privateAppToken }).crm.contacts.basicApi.create({
      properties: { email: 'b@portal2.example.com' },
      associations: [],
    });
    const events = await waitFor(() => {
      const created = receiver.events().filter((e) => e.subscriptionType === 'contact.creation');
      return created.length >= 2 && created;
    });
    expect(events.map((e) => [e.portalId, String(e.objectId)]).sort()).toEqual(
      [
        [PORTAL_ID, here.id],
        [OTHER_PORTAL, there.id],
      ].sort(),
    );
  });

  it("journals each account's changes in the app's one journal, as entries of that portal only", async () => {
    const journal = new HubSpotJournalClient({ basePath: sandbox.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    for (const portalId of [PORTAL_ID, OTHER_PORTAL])
      for (const subscription of wantedJournalSubscriptions(portalId, ['lifecyclestage', 'email'])) await journal.subscribe(subscription);
    const there = await clientFor(sandbox, { accessToken: other.privateAppToken }).crm.contacts.basicApi.create({
      properties: { email: 'journal@portal2.example.com' },
      associations: [],
    });
    const entry = await waitFor(async () => (await journal.earliest(String(OTHER_PORTAL))) ?? undefined, 5000, "the second portal's entry");
    const events = (await journal.read(entry)).journalEvents;
    expect(events.map((event) => [Number(event.portalId), String(event.objectId)])).toContainEqual([OTHER_PORTAL, there.id]);
    expect(events.every((event) => Number(event.portalId) === OTHER_PORTAL)).toBe(true);
    expect(await journal.earliest(String(PORTAL_ID))).toBeNull();
  });

  it('refuses a second account with the same portal id', () => {
    expect(() => sandbox.addPortal({ portalId: OTHER_PORTAL })).toThrow(/already exists/);
  });
});

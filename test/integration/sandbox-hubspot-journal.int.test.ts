/**
 * The sandbox's webhooks journal (2026-03) over HTTP, and the app's journal client against it:
 * client credentials tokens and scopes, subscriptions, earliest / next by offset, entry files at
 * pre-signed URLs, the 3-day retention, and the fault knobs (dropped stream, slow feed, expired offset).
 * Facts: docs/reference/hubspot-webhooks-journal.md.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import { CrmRateLimitedError } from '../../src/crm/errors.ts';
import { HubSpotJournalClient, JournalOffsetExpired } from '../../src/crm/hubspot/journal.ts';
import { wantedJournalSubscriptions, webhookEventsOf } from '../../src/crm/hubspot/journal-events.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { CLIENT_ID, CLIENT_SECRET, PORTAL_ID, clientFor, startSandbox, waitFor } from './support-hubspot/sandbox.ts';

let sandbox: HubSpotSandbox;
let hubspot: Client;
let journal: HubSpotJournalClient;
let clock = Date.now();

const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => clock });
  hubspot = clientFor(sandbox);
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  clock = Date.now();
  await sandbox.reset();
  journal = new HubSpotJournalClient({ basePath: sandbox.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: () => clock });
});

async function token(scope: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function subscribeToContacts(properties = ['lifecyclestage', 'email']): Promise<void> {
  for (const subscription of wantedJournalSubscriptions(PORTAL_ID, properties)) await journal.subscribe(subscription);
}

const createContact = async (properties: Record<string, string>) =>
  (await hubspot.crm.contacts.basicApi.create({ properties, associations: [] })).id;

/** Waits for the journal to publish an entry after `offset` (or a first one). */
async function nextEntry(offset: string | null) {
  return waitFor(
    async () => (await (offset === null ? journal.earliest(String(PORTAL_ID)) : journal.next(String(PORTAL_ID), offset))) ?? undefined,
    5000,
    'a journal entry',
  );
}

describe('HubSpot sandbox webhooks journal', () => {
  it('issues client credentials tokens and refuses a call without the scope it needs', async () => {
    const readOnly = await token('developer.webhooks_journal.read');
    const list = await fetch(`${sandbox.url}/webhooks-journal/subscriptions/2026-03`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(list.status).toBe(403);
    expect(((await list.json()) as { category: string }).category).toBe('MISSING_SCOPES');
    const none = await fetch(`${sandbox.url}/webhooks-journal/journal-local/2026-03/earliest`);
    expect(none.status).toBe(401);
    // The app's token is not a CRM token.
    const crm = await fetch(`${sandbox.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(crm.status).toBe(401);
    const earliest = await fetch(`${sandbox.url}/webhooks-journal/journal-local/2026-03/earliest?installPortalId=${PORTAL_ID}`, {
      headers: { Authorization: `Bearer ${readOnly}` },
    });
    expect(earliest.status).toBe(204);
  });

  it('creates and lists subscriptions with the real shape, and refuses an invalid one', async () => {
    await subscribeToContacts();
    const listed = await journal.subscriptions();
    expect(listed.map((s) => [s.subscriptionType, [...s.actions].sort()])).toEqual([
      ['OBJECT', ['CREATE', 'DELETE', 'MERGE', 'RESTORE', 'UPDATE']],
      ['GDPR_PRIVACY_DELETION', ['GDPR_DELETE']],
    ]);
    expect(listed[0]?.properties).toEqual(['lifecyclestage', 'email']);
    await expect(journal.subscribe({ subscriptionType: 'OBJECT', portalId: PORTAL_ID, actions: ['UPDATE'] })).rejects.toThrow(/400/);
  });

  it('journals subscribed changes in order by offset, files read without authorization', async () => {
    await subscribeToContacts();
    const id = await createContact({ email: 'journal1@example.com', lifecyclestage: 'lead' });
    const first = await nextEntry(null);
    const file = await journal.read(first);
    expect(file.offset).toBe(first.currentOffset);
    const actions = file.journalEvents.map((e) => e.action);
    expect(actions[0]).toBe('CREATE');
    // The creation's subscribed properties come as one update with both values.
    const update = file.journalEvents.find((e) => e.action === 'UPDATE');
    expect(update?.objectId).toBe(id);
    expect(update?.propertyChanges).toMatchObject({ email: 'journal1@example.com', lifecyclestage: 'lead' });

    await hubspot.crm.contacts.basicApi.update(id, {
      properties: { lifecyclestage: 'marketingqualifiedlead', firstname: 'Not subscribed' },
    });
    const second = await nextEntry(first.currentOffset);
    const events = (await journal.read(second)).journalEvents;
    expect(events).toHaveLength(1);
    expect(events[0]?.propertyChanges).toEqual({ lifecyclestage: 'marketingqualifiedlead' });
    // Translated, it is the push path's event for the same change.
    expect(webhookEventsOf(events[0]!, second.currentOffset, 0)).toMatchObject([
      { subscriptionType: 'contact.propertyChange', objectId: id, propertyName: 'lifecyclestage', propertyValue: 'marketingqualifiedlead' },
    ]);
    expect(await journal.next(String(PORTAL_ID), second.currentOffset)).toBeNull();

    // A file URL is pre-signed: another signature is refused.
    const forged = new URL(second.url);
    forged.searchParams.set('signature', 'x'.repeat(43));
    expect((await fetch(forged)).status).toBe(403);
  });

  it('keeps 3 days: an older offset has expired (404) and earliest moves on', async () => {
    await subscribeToContacts();
    await createContact({ email: 'old@example.com' });
    const old = await nextEntry(null);
    clock += 2 * DAY;
    await createContact({ email: 'newer@example.com' });
    const newer = await nextEntry(old.currentOffset);
    clock += 1.5 * DAY;
    await expect(journal.next(String(PORTAL_ID), old.currentOffset)).rejects.toBeInstanceOf(JournalOffsetExpired);
    expect((await journal.earliest(String(PORTAL_ID)))?.currentOffset).toBe(newer.currentOffset);
  });

  it('fault knobs: a file cut off mid-stream, an offset expired early, a slow feed', async () => {
    await subscribeToContacts();
    await createContact({ email: 'faults@example.com' });
    const first = await nextEntry(null);
    sandbox.setFaults({ journal: { dropStream: { next: 1 } } });
    await expect(journal.read(first)).rejects.toThrow();
    expect((await journal.read(first)).journalEvents.length).toBeGreaterThan(0);

    sandbox.setFaults({ journal: { delayMs: 300 } });
    const started = Date.now();
    await journal.next(String(PORTAL_ID), first.currentOffset);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);

    sandbox.setFaults({ journal: { expireOffset: { next: 1 } } });
    await expect(journal.next(String(PORTAL_ID), first.currentOffset)).rejects.toBeInstanceOf(JournalOffsetExpired);
    expect(sandbox.faults().counters).toMatchObject({ journalStreamsDropped: 1, journalOffsetsExpired: 1 });
  });

  it('holds the app to 100 journal calls a second: the next is refused (429 SECONDLY) until the second has passed', async () => {
    // The sandbox's clock stands still here, so every call falls in the same second.
    const calls = await Promise.all(
      Array.from({ length: 100 }, () =>
        journal.earliest(String(PORTAL_ID)).then(
          () => 'answered',
          (error: unknown) => error,
        ),
      ),
    );
    expect(calls.every((call) => call === 'answered')).toBe(true);
    const refused = await journal.earliest(String(PORTAL_ID)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(CrmRateLimitedError);
    expect(refused).toMatchObject({ retryAfterMs: 1000 });
    // Subscriptions have their own 50 a second.
    expect(await journal.subscriptions()).toEqual([]);
    clock += 1000;
    expect(await journal.earliest(String(PORTAL_ID))).toBeNull();
  });
});

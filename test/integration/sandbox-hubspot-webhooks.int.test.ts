import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Signature } from '@hubspot/api-client';
import type { Client } from '@hubspot/api-client';
import type { HubSpotSandbox, WebhookEvent } from '../../src/sandbox/hubspot/server.ts';
import { APP_ID, CLIENT_SECRET, PORTAL_ID, clientFor, developerClientFor, startSandbox, waitFor } from './support-hubspot/sandbox.ts';
import { startWebhookReceiver } from './support-hubspot/webhook-receiver.ts';
import type { ReceivedDelivery, WebhookReceiver } from './support-hubspot/webhook-receiver.ts';

/** Snowplow's published HubSpot event schemas; source in test/fixtures/SOURCE.txt. */
const FIXTURES = new URL('../fixtures/hubspot-webhook-jsonschema/', import.meta.url);

let sandbox: HubSpotSandbox;
let hubspot: Client;
let developer: Client;
let receiver: WebhookReceiver;

beforeAll(async () => {
  sandbox = await startSandbox({ webhookRetryDelaysMs: [40, 80], webhookTimeoutMs: 300 });
  hubspot = clientFor(sandbox);
  developer = developerClientFor(sandbox);
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.reset();
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await receiver.close();
});

async function subscribe(...subscriptions: { eventType: string; propertyName?: string }[]): Promise<void> {
  await developer.webhooks.settingsApi.configure(APP_ID, { targetUrl: receiver.url, throttling: { maxConcurrentRequests: 10 } });
  for (const subscription of subscriptions) {
    await developer.webhooks.subscriptionsApi.create(APP_ID, { ...subscription, eventType: subscription.eventType as never, active: true });
  }
}

const createContact = async (email: string, properties: Record<string, string> = {}) =>
  (await hubspot.crm.contacts.basicApi.create({ properties: { email, ...properties }, associations: [] })).id;

function isSignedByHubSpot(delivery: ReceivedDelivery): boolean {
  return Signature.isValid({
    signature: String(delivery.headers['x-hubspot-signature-v3']),
    clientSecret: CLIENT_SECRET,
    requestBody: delivery.rawBody,
    signatureVersion: 'v3',
    url: receiver.url,
    method: 'POST',
    timestamp: Number(delivery.headers['x-hubspot-request-timestamp']),
  });
}

describe('HubSpot sandbox webhook management', () => {
  it('manages settings and subscriptions through the Webhooks v3 API with the developer key', async () => {
    const settings = await developer.webhooks.settingsApi.configure(APP_ID, {
      targetUrl: receiver.url,
      throttling: { maxConcurrentRequests: 8 },
    });
    expect(settings).toMatchObject({ targetUrl: receiver.url, throttling: { maxConcurrentRequests: 8 } });
    expect((await developer.webhooks.settingsApi.getAll(APP_ID)).targetUrl).toBe(receiver.url);
    const created = await developer.webhooks.subscriptionsApi.create(APP_ID, {
      eventType: 'contact.propertyChange' as never,
      propertyName: 'lifecyclestage',
    });
    expect(created).toMatchObject({ eventType: 'contact.propertyChange', propertyName: 'lifecyclestage', active: false });
    const activated = await developer.webhooks.subscriptionsApi.update(Number(created.id), APP_ID, { active: true });
    expect(activated.active).toBe(true);
    expect((await developer.webhooks.subscriptionsApi.getAll(APP_ID)).results).toHaveLength(1);
    await developer.webhooks.subscriptionsApi.archive(Number(created.id), APP_ID);
    expect((await developer.webhooks.subscriptionsApi.getAll(APP_ID)).results).toEqual([]);
  });

  it('refuses a propertyChange subscription without a property name', async () => {
    await expect(developer.webhooks.subscriptionsApi.create(APP_ID, { eventType: 'deal.propertyChange' as never })).rejects.toMatchObject({
      code: 400,
    });
  });
});

describe('HubSpot sandbox webhook delivery', () => {
  it('delivers signed JSON arrays that the client’s Signature.isValid accepts', async () => {
    await subscribe({ eventType: 'contact.creation' });
    const contactId = await createContact('signed@example.com');
    const [delivery] = await receiver.waitForDeliveries(1);
    if (delivery === undefined) throw new Error('no delivery');
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['x-hubspot-signature-version']).toBe('v1');
    expect(isSignedByHubSpot(delivery)).toBe(true);
    expect(
      Signature.isValid({
        signature: String(delivery.headers['x-hubspot-signature']),
        clientSecret: CLIENT_SECRET,
        requestBody: delivery.rawBody,
      }),
    ).toBe(true);
    expect(
      Signature.isValid({
        signature: String(delivery.headers['x-hubspot-signature-v3']),
        clientSecret: 'wrong-secret',
        requestBody: delivery.rawBody,
        signatureVersion: 'v3',
        url: receiver.url,
        timestamp: Number(delivery.headers['x-hubspot-request-timestamp']),
      }),
    ).toBe(false);
    expect(delivery.events).toEqual([
      {
        eventId: expect.any(Number),
        subscriptionId: expect.any(Number),
        portalId: PORTAL_ID,
        appId: APP_ID,
        occurredAt: expect.any(Number),
        subscriptionType: 'contact.creation',
        attemptNumber: 0,
        objectId: Number(contactId),
        changeSource: 'INTEGRATION',
        sourceId: String(APP_ID),
        changeFlag: 'NEW',
      },
    ]);
  });

  it('batches the events of one write into one request with propertyName and propertyValue', async () => {
    await subscribe(
      { eventType: 'contact.creation' },
      { eventType: 'contact.propertyChange', propertyName: 'email' },
      { eventType: 'contact.propertyChange', propertyName: 'lifecyclestage' },
    );
    await hubspot.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'b1@example.com', lifecyclestage: 'lead' }, associations: [] },
        { properties: { email: 'b2@example.com', lifecyclestage: 'marketingqualifiedlead' }, associations: [] },
      ],
    });
    const [delivery] = await receiver.waitForDeliveries(1);
    expect(delivery?.events.map((event) => [event.subscriptionType, event.propertyName, event.propertyValue])).toEqual([
      ['contact.creation', undefined, undefined],
      ['contact.propertyChange', 'email', 'b1@example.com'],
      ['contact.propertyChange', 'lifecyclestage', 'lead'],
      ['contact.creation', undefined, undefined],
      ['contact.propertyChange', 'email', 'b2@example.com'],
      ['contact.propertyChange', 'lifecyclestage', 'marketingqualifiedlead'],
    ]);
    expect(new Set(delivery?.events.map((event) => event.eventId)).size).toBe(6);
  });

  it('sends no lifecyclestage event for a backward write it ignored, only the events of what changed', async () => {
    await subscribe(
      { eventType: 'contact.propertyChange', propertyName: 'lifecyclestage' },
      { eventType: 'contact.propertyChange', propertyName: 'jobtitle' },
    );
    const contactId = await createContact('later@example.com', { lifecyclestage: 'customer' });
    await receiver.waitForDeliveries(1);
    await hubspot.crm.contacts.batchApi.update({ inputs: [{ id: contactId, properties: { lifecyclestage: 'lead', jobtitle: 'CTO' } }] });
    const [, update] = await receiver.waitForDeliveries(2);
    expect(update?.events.map((event) => [event.propertyName, event.propertyValue])).toEqual([['jobtitle', 'CTO']]);
  });

  it('splits more than 100 events into requests of at most 100', async () => {
    await subscribe({ eventType: 'contact.creation' }, { eventType: 'contact.propertyChange', propertyName: 'email' });
    await hubspot.crm.contacts.batchApi.create({
      inputs: Array.from({ length: 60 }, (_, i) => ({ properties: { email: `many${i}@example.com` }, associations: [] })),
    });
    const deliveries = await receiver.waitForDeliveries(2);
    expect(deliveries.map((delivery) => delivery.events.length)).toEqual([100, 20]);
  });

  it('marks HubSpot UI edits CRM_UI with the user as sourceId, form submissions FORM', async () => {
    await subscribe({ eventType: 'contact.propertyChange', propertyName: 'jobtitle' });
    const contactId = await createContact('who@example.com');
    sandbox.editInUi('contacts', contactId, { jobtitle: 'Founder' }, 77);
    await receiver.waitForDeliveries(1);
    await fetch(`${sandbox.url}/submissions/v3/integration/submit/${PORTAL_ID}/form-1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        fields: [
          { name: 'email', value: 'who@example.com' },
          { name: 'jobtitle', value: 'CEO' },
        ],
      }),
    });
    await receiver.waitForDeliveries(2);
    expect(receiver.events().map((event) => [event.propertyValue, event.changeSource, event.sourceId])).toEqual([
      ['Founder', 'CRM_UI', 'userId:77'],
      ['CEO', 'FORM', 'form-1'],
    ]);
  });

  it('delivers deal creation, deal stage changes and contact deletions', async () => {
    await subscribe(
      { eventType: 'deal.creation' },
      { eventType: 'deal.propertyChange', propertyName: 'dealstage' },
      { eventType: 'contact.deletion' },
    );
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: { dealname: 'D', dealstage: 'appointmentscheduled' },
      associations: [],
    });
    await receiver.waitForDeliveries(1);
    await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    await receiver.waitForDeliveries(2);
    const contactId = await createContact('gone@example.com');
    await hubspot.crm.contacts.basicApi.archive(contactId);
    await receiver.waitForDeliveries(3);
    expect(receiver.events().map((event) => [event.subscriptionType, event.propertyValue ?? event.changeFlag])).toEqual([
      ['deal.creation', 'NEW'],
      ['deal.propertyChange', 'appointmentscheduled'],
      ['deal.propertyChange', 'closedwon'],
      ['contact.deletion', 'DELETED'],
    ]);
  });

  it('carries every field of the published event schemas', async () => {
    await subscribe(
      { eventType: 'contact.creation' },
      { eventType: 'contact.propertyChange', propertyName: 'firstname' },
      { eventType: 'contact.deletion' },
    );
    const contactId = await createContact('schema@example.com', { firstname: 'Sche' });
    await hubspot.crm.contacts.basicApi.archive(contactId);
    await waitFor(() => receiver.events().length >= 3 || undefined);
    const byType = new Map(receiver.events().map((event) => [event.subscriptionType, event]));
    for (const file of readdirSync(FIXTURES).filter((name) => name.startsWith('contact_'))) {
      const schema = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { properties: Record<string, { type: string }> };
      const kind = file.includes('change') ? 'contact.propertyChange' : file.includes('creation') ? 'contact.creation' : 'contact.deletion';
      const event = byType.get(kind) as Record<string, unknown> | undefined;
      for (const [field, spec] of Object.entries(schema.properties)) {
        expect(event, `${kind} carries ${field}`).toHaveProperty(field);
        // occurredAt is epoch milliseconds on the wire (the schema's date-time is Snowplow's own conversion).
        const expected = field === 'occurredAt' ? 'number' : spec.type === 'integer' ? 'number' : spec.type;
        expect(typeof event?.[field], `${kind}.${field}`).toBe(expected);
      }
    }
  });

  it('retries a failed delivery until the receiver answers 2xx, counting attemptNumber up', async () => {
    receiver.respondWith((index) => ({ status: index < 2 ? 500 : 200 }));
    await subscribe({ eventType: 'contact.creation' });
    await createContact('retry@example.com');
    const deliveries = await receiver.waitForDeliveries(3);
    expect(deliveries.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([0, 1, 2]);
    expect(new Set(deliveries.map((delivery) => delivery.events[0]?.eventId)).size).toBe(1);
    expect(deliveries.every(isSignedByHubSpot)).toBe(true);
    const [log] = await waitFor(() => {
      const entries = sandbox.deliveries();
      return entries[0]?.state === 'delivered' ? entries : undefined;
    });
    expect(log?.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 500, 200]);
  });

  it('treats an answer slower than the timeout as a failure and retries it', async () => {
    receiver.respondWith((index) => (index === 0 ? { status: 200, delayMs: 600 } : { status: 200 }));
    await subscribe({ eventType: 'contact.creation' });
    await createContact('slow@example.com');
    await receiver.waitForDeliveries(2);
    const log = await waitFor(() => sandbox.deliveries().find((entry) => entry.state === 'delivered'));
    expect(log.attempts[0]).toMatchObject({ attemptNumber: 0, statusCode: null, error: 'timeout' });
    expect(log.attempts[1]).toMatchObject({ attemptNumber: 1, statusCode: 200 });
  });

  it('gives up after the last scheduled retry and logs the delivery as failed', async () => {
    receiver.respondWith(() => ({ status: 503 }));
    await subscribe({ eventType: 'contact.creation' });
    await createContact('never@example.com');
    const failed = await waitFor(() => sandbox.deliveries().find((entry) => entry.state === 'failed'));
    expect(failed.attempts.map((attempt) => attempt.statusCode)).toEqual([503, 503, 503]);
    const viaHttp = (await (await fetch(`${sandbox.url}/__sandbox/deliveries?state=failed`)).json()) as { results: unknown[] };
    expect(viaHttp.results).toHaveLength(1);
  });
});

describe('HubSpot sandbox webhook fault knobs', () => {
  const eventIds = (events: WebhookEvent[]) => events.map((event) => event.eventId);

  it('duplicates the next delivery with the same event ids', async () => {
    await subscribe({ eventType: 'contact.creation' });
    sandbox.setFaults({ webhooks: { duplicate: { next: 1 } } });
    await createContact('dup@example.com');
    const [first, second] = await receiver.waitForDeliveries(2);
    expect(eventIds(second?.events ?? [])).toEqual(eventIds(first?.events ?? []));
    const [original, copy] = sandbox.deliveries();
    expect(original?.duplicateOf).toBeUndefined();
    expect(copy?.duplicateOf).toBe(original?.id);
  });

  it('drops the next event outright', async () => {
    await subscribe({ eventType: 'contact.creation' });
    sandbox.setFaults({ webhooks: { drop: { next: 1 } } });
    const dropped = await createContact('dropped@example.com');
    const kept = await createContact('kept@example.com');
    await receiver.waitForDeliveries(1);
    expect(receiver.events().map((event) => event.objectId)).toEqual([Number(kept)]);
    expect(
      sandbox
        .deliveries()
        .filter((entry) => entry.state === 'dropped')
        .map((entry) => entry.events[0]?.objectId),
    ).toEqual([Number(dropped)]);
    expect(sandbox.faults().counters.dropped).toBe(1);
  });

  it('reorders the events inside a request', async () => {
    await subscribe({ eventType: 'contact.creation' });
    sandbox.setFaults({ seed: 3, webhooks: { reorderWithin: { next: 1 } } });
    await hubspot.crm.contacts.batchApi.create({
      inputs: ['r1', 'r2', 'r3', 'r4'].map((name) => ({ properties: { email: `${name}@example.com` }, associations: [] })),
    });
    const [delivery] = await receiver.waitForDeliveries(1);
    const ids = eventIds(delivery?.events ?? []);
    expect(ids).toHaveLength(4);
    expect(ids).not.toEqual([...ids].sort((a, b) => a - b));
  });

  it('reorders requests so a later batch overtakes an earlier one', async () => {
    await subscribe({ eventType: 'contact.creation' });
    sandbox.setFaults({ webhooks: { reorderBetween: { next: 1 } } });
    const early = await createContact('early@example.com');
    await waitFor(() => sandbox.deliveries().some((entry) => entry.state === 'held') || undefined);
    const late = await createContact('late@example.com');
    await receiver.waitForDeliveries(2);
    expect(receiver.events().map((event) => event.objectId)).toEqual([Number(late), Number(early)]);
  });

  it('delays deliveries by the configured time', async () => {
    await subscribe({ eventType: 'contact.creation' });
    sandbox.setFaults({ webhooks: { delayMs: 250 } });
    const before = Date.now();
    await createContact('delayed@example.com');
    await receiver.waitForDeliveries(1);
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
  });

  it('replays the same chaos for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      await sandbox.reset({ keep: ['webhooks'] });
      sandbox.setFaults({ seed: 42, webhooks: { drop: { probability: 0.5 } } });
      await hubspot.crm.contacts.batchApi.create({
        inputs: Array.from({ length: 12 }, (_, i) => ({ properties: { email: `c${i}@example.com` }, associations: [] })),
      });
      const entries = await waitFor(() => {
        const log = sandbox.deliveries();
        const settled = log.filter((entry) => entry.state === 'dropped' || entry.state === 'delivered');
        return settled.reduce((sum, entry) => sum + entry.events.length, 0) === 12 ? log : undefined;
      });
      const base = Math.min(...entries.flatMap((entry) => entry.events.map((event) => event.eventId)));
      return entries.filter((entry) => entry.state === 'dropped').map((entry) => (entry.events[0]?.eventId ?? 0) - base);
    };
    await subscribe({ eventType: 'contact.creation' });
    const first = await run();
    const second = await run();
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(12);
    expect(second).toEqual(first);
  });

  it('refuses an invalid fault configuration with a 400', async () => {
    const response = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhooks: { drop: { probability: 2 } } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      errors: [{ in: 'webhooks.drop.probability' }],
    });
  });
});

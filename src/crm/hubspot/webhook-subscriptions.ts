/**
 * App-level webhook setup through the Webhooks v3 API (developer API key): the target URL and
 * the contact subscriptions the sync listens to. Existing subscriptions are kept; missing ones
 * are created active.
 */
import { Client } from '@hubspot/api-client';
import { SubscriptionCreateRequestEventTypeEnum } from '@hubspot/api-client/lib/codegen/webhooks/models/SubscriptionCreateRequest.js';

export interface WebhookSetup {
  basePath: string;
  developerApiKey: string;
  appId: number;
  targetUrl: string;
  /** Contact properties whose changes the app subscribes to. */
  contactProperties: readonly string[];
}

/** Points the app's webhooks at `targetUrl` and creates the missing subscriptions; returns what it created. */
export async function ensureWebhookSubscriptions(setup: WebhookSetup): Promise<string[]> {
  const client = new Client({ developerApiKey: setup.developerApiKey, basePath: setup.basePath });
  await client.webhooks.settingsApi.configure(setup.appId, { targetUrl: setup.targetUrl, throttling: { maxConcurrentRequests: 10 } });
  const existing = await client.webhooks.subscriptionsApi.getAll(setup.appId);
  const have = new Set(existing.results.map((s) => `${s.eventType}:${s.propertyName ?? ''}`));
  const wanted = [
    { eventType: SubscriptionCreateRequestEventTypeEnum.ContactCreation },
    ...setup.contactProperties.map((propertyName) => ({ eventType: SubscriptionCreateRequestEventTypeEnum.ContactPropertyChange, propertyName })),
  ];
  const created: string[] = [];
  for (const subscription of wanted) {
    const key = `${subscription.eventType}:${'propertyName' in subscription ? subscription.propertyName : ''}`;
    if (have.has(key)) continue;
    await client.webhooks.subscriptionsApi.create(setup.appId, { ...subscription, active: true });
    created.push(key);
  }
  return created;
}

/**
 * App-level webhook setup through the Webhooks v3 API (developer API key): the target URL and
 * the contact subscriptions the sync listens to. Existing subscriptions are kept; missing ones
 * are created active.
 */
import { Client } from '@hubspot/api-client';
import { SubscriptionCreateRequestEventTypeEnum } from '@hubspot/api-client/lib/codegen/webhooks/models/SubscriptionCreateRequest.js';

/**
 * Contact events beyond creation and property changes: a GDPR deletion (`contact.privacyDeletion`,
 * src/sync/privacy.ts). In a project it is a `hubEvents` subscription (platform/hubspot).
 */
export const PROPERTYLESS_EVENTS = [SubscriptionCreateRequestEventTypeEnum.ContactPrivacyDeletion] as const;
/** Merges, deletions and restores move the links (src/sync/merges.ts, src/sync/deletions.ts). */
export const IDENTITY_EVENT_TYPES = [
  SubscriptionCreateRequestEventTypeEnum.ContactMerge,
  SubscriptionCreateRequestEventTypeEnum.ContactDeletion,
  SubscriptionCreateRequestEventTypeEnum.ContactRestore,
] as const;

export interface WebhookSetup {
  basePath: string;
  developerApiKey: string;
  appId: number;
  targetUrl: string;
  /** Contact properties whose changes the app subscribes to. */
  contactProperties: readonly string[];
}

/** One subscription the sync needs: an event type, and the property of a propertyChange one. */
export interface WantedSubscription {
  eventType: SubscriptionCreateRequestEventTypeEnum;
  propertyName: string | null;
}

/**
 * The one list of contact events the sync listens to, whichever feed carries them: the Webhooks v3
 * subscriptions below and the webhooks journal's (src/crm/hubspot/journal-subscriptions.ts).
 */
export function wantedSubscriptions(contactProperties: readonly string[]): WantedSubscription[] {
  return [
    { eventType: SubscriptionCreateRequestEventTypeEnum.ContactCreation, propertyName: null },
    ...IDENTITY_EVENT_TYPES.map((eventType) => ({ eventType, propertyName: null })),
    ...contactProperties.map((propertyName) => ({ eventType: SubscriptionCreateRequestEventTypeEnum.ContactPropertyChange, propertyName })),
    ...PROPERTYLESS_EVENTS.map((eventType) => ({ eventType, propertyName: null })),
  ];
}

/** One subscription as `eventType:propertyName` (what tells a wanted one from an existing one). */
const subscriptionKey = (s: { eventType: string; propertyName?: string | null | undefined }) => `${s.eventType}:${s.propertyName ?? ''}`;

/**
 * The developer-key client of the app's webhook setup. Its calls count against one 10-second limit
 * for the whole app (429 with policyName TEN_SECONDLY_ROLLING), which provisioning many
 * installations at once reaches; the SDK's own retry (@hubspot/api-client RetryDecorator: 10 s,
 * then 20 s, on that policy; 200 ms steps on a 5xx) waits it out instead of failing the admin's run.
 */
function developerClient(setup: Pick<WebhookSetup, 'developerApiKey' | 'basePath'>): Client {
  return new Client({ developerApiKey: setup.developerApiKey, basePath: setup.basePath, numberOfApiCallRetries: 3 });
}

/** What `inspectWebhookSubscriptions` read: the app's target URL and which wanted subscriptions exist. */
export interface WebhookInspection {
  targetUrl: string | null;
  subscriptions: { eventType: string; propertyName: string | null; exists: boolean }[];
}

/**
 * Points the app's webhooks at `targetUrl` and creates the missing subscriptions; returns what it
 * created. With what an inspection just read, it writes only what differs (a second installation's
 * provisioning finds the app's webhooks set up and makes no call): every call counts against the
 * app's one 10-second limit.
 */
export async function ensureWebhookSubscriptions(setup: WebhookSetup, seen?: WebhookInspection): Promise<string[]> {
  const client = developerClient(setup);
  if (seen?.targetUrl !== setup.targetUrl)
    await client.webhooks.settingsApi.configure(setup.appId, { targetUrl: setup.targetUrl, throttling: { maxConcurrentRequests: 10 } });
  const have = new Set(
    seen
      ? seen.subscriptions.filter((s) => s.exists).map(subscriptionKey)
      : (await client.webhooks.subscriptionsApi.getAll(setup.appId)).results.map(subscriptionKey),
  );
  const created: string[] = [];
  for (const subscription of wantedSubscriptions(setup.contactProperties)) {
    const key = subscriptionKey(subscription);
    if (have.has(key)) continue;
    await client.webhooks.subscriptionsApi.create(setup.appId, {
      eventType: subscription.eventType,
      ...(subscription.propertyName === null ? {} : { propertyName: subscription.propertyName }),
      active: true,
    });
    created.push(key);
  }
  return created;
}

/** The app's webhook target URL and which of the wanted subscriptions exist (nothing is changed). */
export async function inspectWebhookSubscriptions(setup: WebhookSetup): Promise<WebhookInspection> {
  const client = developerClient(setup);
  let targetUrl: string | null = null;
  try {
    targetUrl = (await client.webhooks.settingsApi.getAll(setup.appId)).targetUrl;
  } catch (error) {
    // No settings yet is a 404; anything else is a real failure.
    if ((error as { code?: unknown } | null)?.code !== 404) throw error;
  }
  const existing = await client.webhooks.subscriptionsApi.getAll(setup.appId);
  const have = new Set(existing.results.map(subscriptionKey));
  return {
    targetUrl,
    subscriptions: wantedSubscriptions(setup.contactProperties).map((w) => ({
      ...w,
      exists: have.has(subscriptionKey(w)),
    })),
  };
}

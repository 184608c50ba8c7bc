import { afterEach, describe, expect, it } from 'vitest';
import { ensureWebhookSubscriptions } from '../../src/crm/hubspot/webhook-subscriptions.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { APP_ID, DEVELOPER_KEY, developerClientFor, startSandbox } from './support-hubspot/sandbox.ts';

let sandbox: HubSpotSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("the app's webhook setup (developer API key)", () => {
  it("waits out the app's 10-second limit instead of failing: many installations provisioned at once", async () => {
    sandbox = await startSandbox({ rateLimit: { requests: 10, windowMs: 10_000, searchPerSecond: 5 } });
    const developer = developerClientFor(sandbox);
    // Other installations' provisioning runs used the app's window up.
    for (let i = 0; i < 10; i += 1) await developer.webhooks.subscriptionsApi.getAll(APP_ID);
    await expect(developer.webhooks.subscriptionsApi.getAll(APP_ID)).rejects.toMatchObject({ code: 429 });

    const created = await ensureWebhookSubscriptions({
      basePath: sandbox.url,
      developerApiKey: DEVELOPER_KEY,
      appId: APP_ID,
      targetUrl: 'https://smarketing.example.com/webhooks/hubspot',
      contactProperties: ['lifecyclestage'],
    });
    expect(created).toContain('contact.propertyChange:lifecyclestage');
    const settings = await developer.webhooks.settingsApi.getAll(APP_ID);
    expect(settings.targetUrl).toBe('https://smarketing.example.com/webhooks/hubspot');
    expect(sandbox.stats().totals.rateLimited).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

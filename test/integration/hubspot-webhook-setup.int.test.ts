import { afterEach, describe, expect, it } from 'vitest';
import { ensureWebhookSubscriptions, inspectWebhookSubscriptions } from '../../src/crm/hubspot/webhook-subscriptions.ts';
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

  it("makes no call for a setup another installation's provisioning already made: the inspection it read is enough", async () => {
    sandbox = await startSandbox();
    const setup = {
      basePath: sandbox.url,
      developerApiKey: DEVELOPER_KEY,
      appId: APP_ID,
      targetUrl: 'https://smarketing.example.com/webhooks/hubspot',
      contactProperties: ['lifecyclestage', 'hs_lead_status'],
    };
    const first = await inspectWebhookSubscriptions(setup);
    expect(await ensureWebhookSubscriptions(setup, first)).toHaveLength(first.subscriptions.length);

    const calls = sandbox.stats().totals.calls;
    const second = await inspectWebhookSubscriptions(setup);
    expect(second.targetUrl).toBe(setup.targetUrl);
    expect(second.subscriptions.every((s) => s.exists)).toBe(true);
    expect(await ensureWebhookSubscriptions(setup, second)).toEqual([]);
    // The inspection's two reads, nothing more.
    expect(sandbox.stats().totals.calls - calls).toBe(2);

    // A property mapped since: only its subscription is made.
    const more = { ...setup, contactProperties: [...setup.contactProperties, 'jobtitle'] };
    expect(await ensureWebhookSubscriptions(more, await inspectWebhookSubscriptions(more))).toEqual(['contact.propertyChange:jobtitle']);
  });
});

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/startup/boot.ts';
import { upsertInstallation, type Installation } from '../../src/store/installations.ts';
import { signV3 } from '../../webhooks/hubspot/verify.ts';
import { eventually } from '../support/app-process.ts';
import { startTestRedis } from '../support/services.ts';
import { startIntakeApp } from '../support/intake-app.ts';

const SECRET = 'sandbox-hubspot-secret';
const PORTAL = '1000001';
const ORG = '00D000000000001AAA';
const REFERENCE = path.resolve(import.meta.dirname, '../fixtures/salesforce');

function hubspotEvents(count: number, objectBase = 500, occurredAt = 1_764_000_000_000) {
  return Array.from({ length: count }, (_, i) => ({
    eventId: 100 + i,
    subscriptionId: 7,
    portalId: Number(PORTAL),
    appId: 2000001,
    occurredAt: occurredAt + i,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: objectBase + i,
    propertyName: 'lifecyclestage',
    propertyValue: 'marketingqualifiedlead',
    changeSource: 'CRM_UI',
    sourceId: 'userId:42',
  }));
}

function leadEnvelope(organizationId: string, ids: string[]): string {
  const notifications = ids
    .map(
      (id, i) => `<Notification><Id>${id}</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
<sf:Id>00Q000000000${String(i).padStart(3, '0')}AAA</sf:Id><sf:Status>Working - Contacted</sf:Status><sf:Email xsi:nil="true"/>
<sf:SystemModstamp>2026-11-23T10:00:00.000Z</sf:SystemModstamp></sObject></Notification>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>${organizationId}</OrganizationId><ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/>
<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/00D000000000001</EnterpriseUrl>
<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/00D000000000001</PartnerUrl>
${notifications}
</notifications></soapenv:Body></soapenv:Envelope>`;
}

describe('webhook intake', () => {
  let app: RunningApp;
  let closeApp: () => Promise<void>;
  let installation: Installation;
  let referenceInstallation: Installation;
  let secondPortal: Installation;
  let now = Date.now();

  beforeAll(async () => {
    ({ app, close: closeApp } = await startIntakeApp('smk-intake-'));
    installation = await upsertInstallation(app.db, { name: 'Sandbox', hubspotPortalId: PORTAL, salesforceOrgId: ORG });
    // The reference envelopes come from an org whose id is masked as 0123456789ABCDENNN.
    referenceInstallation = await upsertInstallation(app.db, {
      name: 'Reference org',
      hubspotPortalId: null,
      salesforceOrgId: '0123456789ABCDENNN',
    });
    secondPortal = await upsertInstallation(app.db, { name: 'Second portal', hubspotPortalId: '1000002', salesforceOrgId: null });
    await app.directory.reload();
  });

  afterAll(async () => {
    await closeApp();
  });

  async function postHubSpot(body: string, options: { secret?: string; timestamp?: number; headers?: Record<string, string> } = {}) {
    now = Date.now();
    const timestamp = String(options.timestamp ?? now);
    const signature = signV3(options.secret ?? SECRET, 'POST', 'https://sync.example.com/webhooks/hubspot', body, timestamp);
    return fetch(`${app.url}/webhooks/hubspot`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signature,
        'x-hubspot-request-timestamp': timestamp,
        ...options.headers,
      },
      body,
    });
  }

  async function postSalesforce(body: string, token = installation.salesforceWebhookToken, contentType = 'text/xml; charset=utf-8') {
    return fetch(`${app.url}/webhooks/salesforce/${token}`, {
      method: 'POST',
      headers: { 'content-type': contentType, soapaction: '""' },
      body,
    });
  }

  async function allJobs(queue: 'webhookDeliveries' | 'hubspotEvents' | 'salesforceEvents'): Promise<number> {
    const counts = await app.producer.queue(queue).getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Deliveries stored and event jobs made from them, once the intake worker has split every delivery. */
  async function jobCount(queue: 'hubspotEvents' | 'salesforceEvents'): Promise<{ deliveries: number; events: number }> {
    await eventually(async () => {
      const open = await app.producer.queue('webhookDeliveries').getJobCounts('waiting', 'active', 'delayed');
      return Object.values(open).every((n) => n === 0);
    });
    return { deliveries: await allJobs('webhookDeliveries'), events: await allJobs(queue) };
  }

  async function ledgerCount(where = 'true'): Promise<number> {
    const rows = await app.db.query<{ n: number }>(`SELECT count(*) AS n FROM inbound_events WHERE ${where}`);
    return rows[0]?.n ?? 0;
  }

  describe('HubSpot', () => {
    it('acknowledges a signed batch of 100 events and processes each once', async () => {
      const response = await postHubSpot(JSON.stringify(hubspotEvents(100, 1000)));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'accepted', enqueued: 100, ignored: 0 });
      await eventually(async () => (await ledgerCount("source = 'hubspot' AND object_id::bigint BETWEEN 1000 AND 1099")) === 100);
    });

    it('keeps one job when the same batch is delivered again', async () => {
      const body = hubspotEvents(3, 2000);
      expect((await postHubSpot(JSON.stringify(body))).status).toBe(200);
      const before = await jobCount('hubspotEvents');
      const retry = await postHubSpot(JSON.stringify(body.map((e) => ({ ...e, attemptNumber: 1 }))));
      expect(retry.status).toBe(200);
      expect(await jobCount('hubspotEvents')).toEqual(before);
      await eventually(async () => (await ledgerCount('object_id::bigint BETWEEN 2000 AND 2002')) === 3);
    });

    it('keeps one job per event when events come again batched with others', async () => {
      const first = hubspotEvents(3, 2100);
      expect((await postHubSpot(JSON.stringify(first))).status).toBe(200);
      const before = await jobCount('hubspotEvents');
      const regrouped = [...first.slice(1), ...hubspotEvents(2, 2103)];
      expect(await (await postHubSpot(JSON.stringify(regrouped))).json()).toMatchObject({ status: 'accepted', enqueued: 4 });
      // A second delivery is stored; only the two new events become new jobs.
      expect(await jobCount('hubspotEvents')).toEqual({ deliveries: before.deliveries + 1, events: before.events + 2 });
      await eventually(async () => (await ledgerCount('object_id::bigint BETWEEN 2100 AND 2104')) === 5);
    });

    it.each([
      ['a signature made with the wrong secret', { secret: 'wrong-secret' }, 401, 'bad_signature'],
      ['a signature older than five minutes', { timestamp: Date.now() - 6 * 60 * 1000 }, 401, 'stale_timestamp'],
      ['a timestamp more than five minutes ahead', { timestamp: Date.now() + 10 * 60 * 1000 }, 401, 'future_timestamp'],
    ])('refuses %s and enqueues nothing', async (_name, options, status, reason) => {
      const before = await jobCount('hubspotEvents');
      const response = await postHubSpot(JSON.stringify(hubspotEvents(1, 3000)), options);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ status: 'refused', reason });
      expect(await jobCount('hubspotEvents')).toEqual(before);
    });

    it('refuses a tampered body', async () => {
      const body = JSON.stringify(hubspotEvents(1, 3100));
      const timestamp = String(Date.now());
      const signature = signV3(SECRET, 'POST', 'https://sync.example.com/webhooks/hubspot', body, timestamp);
      const response = await fetch(`${app.url}/webhooks/hubspot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
        body: body.replace('3100', '3101'),
      });
      expect(response.status).toBe(401);
    });

    it('refuses a request with no signature headers', async () => {
      const response = await fetch(`${app.url}/webhooks/hubspot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ reason: 'missing_signature' });
    });

    it('refuses a body that is not an array with 400', async () => {
      const response = await postHubSpot('{"objectId":1}');
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ reason: 'invalid_body', message: 'body must be a JSON array of events' });
    });

    it('refuses an oversized body with 413', async () => {
      const response = await postHubSpot(`[${' '.repeat(1024 * 1024 + 10)}]`);
      expect(response.status).toBe(413);
    });

    it('refuses a body that is not JSON by content type with 415', async () => {
      const response = await postHubSpot(JSON.stringify(hubspotEvents(1)), { headers: { 'content-type': 'text/plain' } });
      expect(response.status).toBe(415);
    });

    it('refuses events of a portal with no installation and never routes them to another', async () => {
      const events = hubspotEvents(1, 3200).map((e) => ({ ...e, portalId: 999 }));
      const response = await postHubSpot(JSON.stringify(events));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ reason: 'unknown_portal' });
      expect(await ledgerCount("object_id = '3200'")).toBe(0);
    });

    it("stores a batch carrying two portals' events as one delivery per installation", async () => {
      const events = [...hubspotEvents(2, 3400), ...hubspotEvents(1, 3402).map((e) => ({ ...e, portalId: 1000002 }))];
      const response = await postHubSpot(JSON.stringify(events));
      expect(await response.json()).toMatchObject({ status: 'accepted', enqueued: 3 });
      const stored = await app.producer.queue('webhookDeliveries').getJobs(['waiting', 'active', 'completed'], 0, -1);
      const mine = stored.filter((job) =>
        (job.data as { events: { payload: { event: { objectId: string } } }[] }).events.some(
          (e) => Number(e.payload.event.objectId) >= 3400 && Number(e.payload.event.objectId) <= 3402,
        ),
      );
      expect(
        mine
          .map((job) => [(job.data as { installationId: string }).installationId, (job.data as { events: unknown[] }).events.length])
          .sort(),
      ).toEqual(
        [
          [installation.id, 2],
          [secondPortal.id, 1],
        ].sort(),
      );
      await eventually(async () => (await ledgerCount(`object_id = '3402' AND installation_id = '${secondPortal.id}'`)) === 1);
      expect(await ledgerCount(`object_id IN ('3400', '3401') AND installation_id = '${installation.id}'`)).toBe(2);
    });

    it('accepts unknown subscription types and ignores them', async () => {
      const events = [{ ...hubspotEvents(1, 3300)[0], subscriptionType: 'conversation.newMessage' }];
      const response = await postHubSpot(JSON.stringify(events));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'accepted', enqueued: 0, ignored: 1 });
    });

    it('counts refusals by reason and accepted events by source in /metrics, naming no installation', async () => {
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain('webhook_requests_refused_total{source="hubspot",reason="bad_signature"}');
      expect(metrics).toContain('webhook_requests_refused_total{source="hubspot",reason="unknown_portal"} 1');
      expect(metrics).toMatch(/webhook_events_accepted_by_source_total\{source="hubspot"\} [1-9]\d*/);
      expect(metrics).not.toContain(installation.id);
    });
  });

  describe('Salesforce Outbound Messages', () => {
    it('acknowledges the reference envelope with three notifications and enqueues each', async () => {
      const body = readFileSync(path.join(REFERENCE, 'outbound-message-lead-3notifications.aspnet.xml'));
      const response = await postSalesforce(body.toString('utf8'), referenceInstallation.salesforceWebhookToken);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('<Ack>true</Ack>');
      expect(response.headers.get('content-type')).toContain('text/xml');
      await eventually(async () => (await ledgerCount(`installation_id = '${referenceInstallation.id}'`)) === 3);
    });

    it('acknowledges a message of 100 notifications', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `04l0000000${String(i).padStart(5, '0')}AAA`);
      const response = await postSalesforce(leadEnvelope(ORG, ids));
      expect(response.status).toBe(200);
      await eventually(async () => (await ledgerCount(`source = 'salesforce' AND installation_id = '${installation.id}'`)) === 100);
    });

    it('keeps one job per notification when Salesforce delivers again', async () => {
      const body = leadEnvelope('00D000000000001', ['04l00000000DUP1AAA', '04l00000000DUP2AAA']);
      expect((await postSalesforce(body)).status).toBe(200);
      const before = await jobCount('salesforceEvents');
      expect((await postSalesforce(body)).status).toBe(200);
      expect(await jobCount('salesforceEvents')).toEqual(before);
    });

    it('processes the same notification Id for each installation that receives it', async () => {
      const shared = '04l00000000SHR1AAA';
      expect((await postSalesforce(leadEnvelope(ORG, [shared]))).status).toBe(200);
      expect(
        (await postSalesforce(leadEnvelope('0123456789ABCDENNN', [shared]), referenceInstallation.salesforceWebhookToken)).status,
      ).toBe(200);
      await eventually(
        async () => (await ledgerCount(`payload ->> 'id' = '${shared}'`)) === 2,
        10_000,
        "both installations' events recorded",
      );
      const owners = await app.db.query<{ installation_id: string }>(
        `SELECT installation_id FROM inbound_events WHERE payload ->> 'id' = '${shared}' ORDER BY installation_id`,
      );
      expect(owners.map((row) => row.installation_id)).toEqual([installation.id, referenceInstallation.id].sort());
    });

    it('answers a SOAP fault and enqueues nothing for another org', async () => {
      const before = await jobCount('salesforceEvents');
      const response = await postSalesforce(leadEnvelope('00D000000000999AAA', ['04l00000000ORG1AAA']));
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<faultstring>OrganizationId does not match');
      expect(await jobCount('salesforceEvents')).toEqual(before);
    });

    it('answers a SOAP fault for an unknown endpoint token', async () => {
      const response = await postSalesforce(leadEnvelope(ORG, ['04l00000000TOK1AAA']), 'not-a-real-token');
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('<soapenv:Fault>');
    });

    it('answers 400 with a SOAP fault for malformed XML', async () => {
      const response = await postSalesforce('<soapenv:Envelope><notifications>');
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('<soapenv:Fault>');
    });

    it('answers 415 for a body that is not XML', async () => {
      const response = await postSalesforce('{}', installation.salesforceWebhookToken, 'application/json');
      expect(response.status).toBe(415);
    });

    it('counts wrong-org and wrong-token refusals', async () => {
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain('webhook_requests_refused_total{source="salesforce",reason="wrong_org"} 1');
      expect(metrics).toContain('webhook_requests_refused_total{source="salesforce",reason="unknown_token"} 1');
    });
  });
});

describe('webhook intake while Redis is down', () => {
  it('answers 503 and processes the retry once after Redis returns', async () => {
    const redis = await startTestRedis();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-intake-down-'));
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, REDIS_URL: redis.url, SANDBOX_DEMO: 'false' });
    if (!config.ok) throw new Error(config.error);
    const app = await boot(config.value, {
      role: 'all',
      sandboxes: false,
      log: createLogger('silent'),
      shutdownGraceMs: 500,
      enqueueBudgetMs: 500,
    });
    try {
      const send = async () => {
        const body = JSON.stringify(hubspotEvents(2, 4000));
        const timestamp = String(Date.now());
        return fetch(`${app.url}/webhooks/hubspot`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hubspot-signature-v3': signV3(SECRET, 'POST', `${app.url}/webhooks/hubspot`, body, timestamp),
            'x-hubspot-request-timestamp': timestamp,
          },
          body,
        });
      };
      await redis.pause();
      const refused = await send();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');

      await redis.resume();
      await eventually(async () => (await fetch(`${app.url}/readyz`)).status === 200, 15_000, 'Redis reconnect');
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      await eventually(async () => {
        const rows = await app.db.query<{ n: number }>("SELECT count(*) AS n FROM inbound_events WHERE object_id IN ('4000', '4001')");
        return rows[0]?.n === 2;
      });
      const jobs = await app.producer.queue('hubspotEvents').getJobCounts('completed', 'waiting', 'active', 'failed');
      expect(Object.values(jobs).reduce((a, b) => a + b, 0)).toBe(2);
    } finally {
      await app.close();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * What a receiver costs a sender who cannot prove who it is: nothing of the body is read before
 * the cheap checks (content type, the Outbound Message endpoint token, HubSpot's signature headers
 * and timestamp) pass, a declared length over the limit is refused unread, and malformed XML is a
 * 400 that Salesforce does not retry for a day.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/startup/boot.ts';
import { upsertInstallation, type Installation } from '../../src/store/installations.ts';
import { MAX_HUBSPOT_BATCH_BYTES } from '../../webhooks/hubspot/receiver.ts';
import { MAX_OUTBOUND_MESSAGE_BYTES } from '../../webhooks/salesforce/receiver.ts';
import { freePort } from '../../src/startup/redis-server.ts';
import { spawnApp, waitForOk, type AppProcess } from '../support/app-process.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { startIntakeApp } from '../support/intake-app.ts';
import { startTestRedis } from '../support/services.ts';

const ORG = '00D000000000001AAA';
const FOUR_MB = 4 * 1024 * 1024;
const xml = { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' };

interface Answer {
  status: number;
  body: string;
}

/**
 * Sends the headers and only the first `sendBytes` of a body declared `contentLength` long, and
 * resolves with the answer. A receiver that waited for the rest of the body would never answer.
 */
function sendPartial(url: string, headers: Record<string, string>, contentLength: number, sendBytes = 1024): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(contentLength) } });
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error('no answer while the body was still being sent: the receiver waits for the body'));
    }, 3_000);
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        clearTimeout(timer);
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    // The receiver closes the connection right after its answer (it does not read what is left);
    // the error that close raises comes after the answer, when the promise is already settled.
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.write(Buffer.alloc(sendBytes, 0x20));
  });
}

/**
 * Sends the whole body (the same buffer for every request: the test process holds it once) and
 * resolves when the exchange is over: answered, or cut off by the receiver after its answer.
 */
function sendWhole(url: string, headers: Record<string, string>, body: Buffer): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } });
    let status: number | 'closed' = 'closed';
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      response.resume();
      response.on('end', () => resolve(status));
    });
    request.on('error', () => resolve(status));
    request.on('close', () => resolve(status));
    request.end(body);
  });
}

function envelope(notification: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>${ORG}</OrganizationId><ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/>
<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/00D000000000001</EnterpriseUrl>
<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/00D000000000001</PartnerUrl>
<Notification><Id>04l00000000LIM1AAA</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
<sf:Id>00Q00000000LIM1AAA</sf:Id>${notification}</sObject></Notification>
</notifications></soapenv:Body></soapenv:Envelope>`;
}

describe('webhook body limits', () => {
  let app: RunningApp;
  let closeApp: () => Promise<void>;
  let installation: Installation;

  beforeAll(async () => {
    ({ app, close: closeApp } = await startIntakeApp('smk-limits-'));
    installation = await upsertInstallation(app.db, { name: 'Limits', hubspotPortalId: '1000001', salesforceOrgId: ORG });
    await app.directory.reload();
  });

  afterAll(async () => {
    await closeApp();
  });

  async function deliveriesStored(): Promise<number> {
    const counts = await app.producer.queue('webhookDeliveries').getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  it('answers an unknown Outbound Message token before the body is sent', async () => {
    const before = await deliveriesStored();
    const answer = await sendPartial(`${app.url}/webhooks/salesforce/made-up-token`, xml, FOUR_MB);
    expect(answer.status).toBe(404);
    expect(answer.body).toContain('<soapenv:Fault>');
    expect(await deliveriesStored()).toBe(before);
  });

  it('answers a body that is not XML by its content type before the body is sent', async () => {
    const answer = await sendPartial(
      `${app.url}/webhooks/salesforce/${installation.salesforceWebhookToken}`,
      { 'content-type': 'application/octet-stream' },
      FOUR_MB,
    );
    expect(answer.status).toBe(415);
  });

  it('refuses an Outbound Message declared larger than 100 notifications can be, unread', async () => {
    const answer = await sendPartial(
      `${app.url}/webhooks/salesforce/${installation.salesforceWebhookToken}`,
      xml,
      MAX_OUTBOUND_MESSAGE_BYTES + 1,
    );
    expect(answer.status).toBe(413);
  });

  it('answers a HubSpot request without signature headers before the body is sent', async () => {
    const answer = await sendPartial(`${app.url}/webhooks/hubspot`, { 'content-type': 'application/json' }, FOUR_MB);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'missing_signature' });
  });

  it('answers a HubSpot request signed more than 5 minutes ago before the body is sent', async () => {
    const headers = {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': 'c2lnbmF0dXJl',
      'x-hubspot-request-timestamp': String(Date.now() - 6 * 60 * 1000),
    };
    const answer = await sendPartial(`${app.url}/webhooks/hubspot`, headers, FOUR_MB);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'stale_timestamp' });
  });

  it('refuses a HubSpot batch declared larger than 100 events can be, unread', async () => {
    const headers = {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': 'c2lnbmF0dXJl',
      'x-hubspot-request-timestamp': String(Date.now()),
    };
    const answer = await sendPartial(`${app.url}/webhooks/hubspot`, headers, MAX_HUBSPOT_BATCH_BYTES + 1);
    expect(answer.status).toBe(413);
  });

  it('answers 400 for an envelope nested far deeper than an Outbound Message', async () => {
    const depth = 200_000;
    const response = await fetch(`${app.url}/webhooks/salesforce/${installation.salesforceWebhookToken}`, {
      method: 'POST',
      headers: xml,
      body: envelope(`${'<sf:X>'.repeat(depth)}${'</sf:X>'.repeat(depth)}`),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('nest deeper than 32 levels');
  });

  it('answers 400 for an envelope with an undeclared entity', async () => {
    const response = await fetch(`${app.url}/webhooks/salesforce/${installation.salesforceWebhookToken}`, {
      method: 'POST',
      headers: xml,
      body: envelope('<sf:Status>&undeclared;</sf:Status>'),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('undeclared entity');
  });

  it('still acknowledges a well-formed Outbound Message on the same endpoint', async () => {
    const response = await fetch(`${app.url}/webhooks/salesforce/${installation.salesforceWebhookToken}`, {
      method: 'POST',
      headers: xml,
      body: envelope('<sf:Status>Working &amp; Contacted</sf:Status>'),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<Ack>true</Ack>');
  });
});

/** The resident memory of a process, in bytes (Linux /proc). */
function residentBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

describe('webhook memory under made-up tokens', () => {
  // The receiver runs as its own process (as in production) so its memory is measured apart from
  // the test's own, which holds the one 4 MB body every request sends.
  let app: AppProcess;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let dataDir: string;
  let url: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-limits-proc-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    app = spawnApp(
      {
        DATA_DIR: dataDir,
        REDIS_URL: redis.url,
        DATABASE_URL: freshPostgresUrl(),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        SANDBOX_DEMO: 'false',
        SANDBOX_HUBSPOT_PORT: '0',
        SANDBOX_SALESFORCE_PORT: '0',
      },
      ['--role=web'],
    );
    await waitForOk(`${url}/readyz`, 60_000, app);
  });

  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(redis.dir, { recursive: true, force: true });
  });

  it("keeps the receiver's memory bounded when 100 bodies of 4 MB with made-up tokens arrive at once", async () => {
    const pid = app.child.pid ?? 0;
    const body = Buffer.alloc(FOUR_MB, 0x20);
    // A first round warms the receiver's code paths up, so the baseline includes them.
    await Promise.all(Array.from({ length: 10 }, (_, i) => sendWhole(`${url}/webhooks/salesforce/warm-up-${i}`, xml, body)));
    const baseline = residentBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(pid));
    }, 10);
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => sendWhole(`${url}/webhooks/salesforce/made-up-token-${i}`, xml, body)),
    );
    const elapsedMs = Date.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, residentBytes(pid));
    const growthMb = (peak - baseline) / (1024 * 1024);
    console.info(
      `100 concurrent 4 MB made-up-token requests: receiver RSS ${(baseline / 1048576).toFixed(0)} MB → peak ${(peak / 1048576).toFixed(0)} MB (+${growthMb.toFixed(1)} MB), ${elapsedMs} ms`,
    );

    // Every request was refused for its token: answered 404, or cut off right after that answer.
    expect(outcomes.every((outcome) => outcome === 404 || outcome === 'closed')).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('webhook_requests_refused_total{source="salesforce",reason="unknown_token"} 110');
    // Reading the bodies would hold up to 400 MB; refusing them unread holds a few socket buffers.
    expect(growthMb).toBeLessThan(64);
    expect(elapsedMs).toBeLessThan(5_000);
  });
});

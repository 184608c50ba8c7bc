/**
 * Outbound Messages from the sandbox Salesforce org to a local listener: SOAP shape (read with the
 * app's parser), retries on a compressed schedule, expiry, coalescing, rule filters, fault knobs.
 */
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundRuleInput, SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { ackEnvelope, faultEnvelope, parseOutboundMessage, type OutboundMessage } from '../../webhooks/salesforce/envelope.ts';
import { eventuallyValue } from '../support/app-process.ts';
import { SANDBOX_ORG, sandboxOrgPerTest, sessionAs } from '../support/salesforce-org.ts';

const RETRY_DELAYS_MS = [20, 40, 80];

interface Delivery {
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
  message: OutboundMessage;
}

type Reply = { status: number; body: string } | Promise<{ status: number; body: string }>;

let sandbox: SalesforceSandbox;
let conn: Connection;
let server: Server;
let endpointUrl: string;
let received: Delivery[] = [];
let reply: (attempt: number) => Reply = () => ({ status: 200, body: ackEnvelope() });

/** Polls `probe` every 5 ms (it reads local state only) until it returns a value; that value. */
const waitFor = <T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> =>
  eventuallyValue(probe, timeoutMs, 'the condition', 5);

function addRule(rule: Partial<OutboundRuleInput> = {}) {
  return sandbox.outbound.addRule({ object: 'Lead', fields: ['Status', 'Email', 'Title', 'LastModifiedById'], endpointUrl, ...rule });
}

async function createLead(fields: Record<string, unknown> = {}): Promise<string> {
  const result = await conn
    .sobject('Lead')
    .create({ LastName: 'Lee', Company: 'Acme', Email: 'lee@acme.test', ...fields }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
  return result.id ?? '';
}

const notifications = () => received.flatMap((d) => d.message.notifications);

beforeAll(async () => {
  const app = express();
  app.post('/salesforce/outbound', express.text({ type: () => true }), async (req, res) => {
    const body = String(req.body);
    const parsed = parseOutboundMessage(body);
    if (!parsed.ok) throw new Error(`listener could not parse the message: ${parsed.error}`);
    received.push({ body, headers: req.headers, at: Date.now(), message: parsed.value });
    const answer = await reply(received.length);
    res.status(answer.status).type('text/xml').send(answer.body);
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/salesforce/outbound`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

sandboxOrgPerTest(
  (org) => {
    ({ sandbox, integration: conn } = org);
  },
  { outboundRetryDelaysMs: RETRY_DELAYS_MS, apiVersion: '60.0' },
);

beforeEach(() => {
  received = [];
  reply = () => ({ status: 200, body: ackEnvelope() });
});

describe('delivery', () => {
  it('POSTs a SOAP notification for a new lead that parseOutboundMessage reads', async () => {
    const created = await fetch(`${sandbox.url}/__sandbox/outbound-messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'Lead', fields: ['Status', 'Email', 'Title', 'LastModifiedById'], endpointUrl }),
    });
    expect(created.status).toBe(201);
    const rule = (await created.json()) as { id: string };
    const leadId = await createLead();
    const delivery = await waitFor(() => received[0]);
    expect(delivery.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(delivery.headers.soapaction).toBe('""');
    expect(delivery.body).toContain('<sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">');
    expect(delivery.message).toMatchObject({
      organizationId: SANDBOX_ORG.orgId,
      actionId: rule.id,
      sessionId: null,
      enterpriseUrl: `${sandbox.url}/services/Soap/c/60.0/00D000000000001`,
      partnerUrl: `${sandbox.url}/services/Soap/u/60.0/00D000000000001`,
    });
    expect(rule.id).toMatch(/^04k/);
    expect(delivery.message.notifications).toEqual([
      {
        id: expect.stringMatching(/^04l/),
        sObjectType: 'Lead',
        fields: { Id: leadId, Status: 'Open - Not Contacted', Email: 'lee@acme.test', LastModifiedById: sandbox.integrationUserId },
      },
    ]);
    await waitFor(() => sandbox.outbound.deliveries().find((d) => d.outcome === 'acked'));
    expect(sandbox.outbound.pending()).toEqual([]);
  });

  it('retries on the backoff schedule until the listener acks', async () => {
    const replies = [
      { status: 200, body: 'OK' },
      { status: 500, body: faultEnvelope('busy', 'soapenv:Server') },
      { status: 200, body: ackEnvelope(false) },
    ];
    reply = (attempt) => replies[attempt - 1] ?? { status: 200, body: ackEnvelope() };
    addRule();
    await createLead();
    await waitFor(() => sandbox.outbound.deliveries().find((d) => d.outcome === 'acked'));
    expect(received).toHaveLength(4);
    expect(new Set(notifications().map((n) => n.id)).size).toBe(1);
    expect(sandbox.outbound.deliveries().map((d) => [d.attempt, d.outcome, d.status])).toEqual([
      [1, 'failed', 200],
      [2, 'failed', 500],
      [3, 'failed', 200],
      [4, 'acked', 200],
    ]);
    const gaps = received.slice(1).map((d, i) => d.at - (received[i]?.at ?? 0));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((RETRY_DELAYS_MS[i] ?? 0) - 5));
  });

  it('drops a notification once the retry schedule is used up', async () => {
    reply = () => ({ status: 503, body: 'unavailable' });
    addRule();
    await createLead();
    await waitFor(() => sandbox.outbound.deliveries().find((d) => d.outcome === 'expired'));
    expect(received).toHaveLength(RETRY_DELAYS_MS.length + 1);
    expect(sandbox.outbound.pending()).toEqual([]);
  });

  it('coalesces changes made while a notification waits and sends the state at send time', async () => {
    addRule();
    const answer = await conn.requestPost<{ compositeResponse: Array<{ httpStatusCode: number }> }>('/composite', {
      compositeRequest: [
        { method: 'POST', url: '/services/data/v60.0/sobjects/Lead', referenceId: 'lead', body: { LastName: 'Lee', Company: 'Acme' } },
        {
          method: 'PATCH',
          url: '/services/data/v60.0/sobjects/Lead/@{lead.id}',
          referenceId: 'working',
          body: { Status: 'Working - Contacted' },
        },
        { method: 'PATCH', url: '/services/data/v60.0/sobjects/Lead/@{lead.id}', referenceId: 'titled', body: { Title: 'VP Sales' } },
      ],
    });
    expect(answer.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 204, 204]);
    await waitFor(() => sandbox.outbound.deliveries().find((d) => d.outcome === 'acked'));
    expect(notifications()).toHaveLength(1);
    expect(notifications()[0]?.fields).toMatchObject({ Status: 'Working - Contacted', Title: 'VP Sales' });
  });

  it('notifies again for a change made while a delivery is in flight', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<{ status: number; body: string }>((resolve) => {
      release = () => resolve({ status: 200, body: ackEnvelope() });
    });
    reply = (attempt) => (attempt === 1 ? held : { status: 200, body: ackEnvelope() });
    addRule();
    const leadId = await createLead();
    await waitFor(() => received[0]);
    await conn.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    release();
    await waitFor(() => received[1]);
    expect(notifications().map((n) => n.fields.Id)).toEqual([leadId, leadId]);
    expect(notifications()[1]?.fields.Status).toBe('Working - Contacted');
    expect(notifications()[0]?.id).not.toBe(notifications()[1]?.id);
  });

  it('batches up to 100 notifications per message', async () => {
    addRule();
    await conn.sobject('Lead').create(Array.from({ length: 150 }, (_, i) => ({ LastName: `L${i}`, Company: 'Acme' })));
    await waitFor(() => notifications().length === 150);
    expect(received.map((d) => d.message.notifications.length).sort((a, b) => b - a)).toEqual([100, 50]);
  });

  it('sends a session id the listener can call the REST API with', async () => {
    addRule({ includeSessionId: true });
    const leadId = await createLead();
    const { message } = await waitFor(() => received[0]);
    const answer = await fetch(`${sandbox.url}/services/data/v60.0/sobjects/Lead/${leadId}`, {
      headers: { Authorization: `Bearer ${message.sessionId ?? ''}` },
    });
    expect(answer.status).toBe(200);
  });
});

describe('rules', () => {
  it('fires on update only when a listed field changes', async () => {
    addRule({ triggerOn: ['update'], whenFieldsChange: ['Status'] });
    const leadId = await createLead();
    await conn.sobject('Lead').update({ Id: leadId, Title: 'CTO' });
    expect(sandbox.outbound.pending()).toEqual([]);
    await conn.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    const { message } = await waitFor(() => received[0]);
    expect(message.notifications[0]?.fields).toMatchObject({ Id: leadId, Status: 'Working - Contacted', Title: 'CTO' });
  });

  it("skips the integration user's own changes when the rule says so", async () => {
    addRule({ fireOnIntegrationUserChanges: false });
    const leadId = await createLead();
    expect(sandbox.outbound.pending()).toEqual([]);
    const repId = sandbox.salesRepIds[0] ?? '';
    const rep = sessionAs(sandbox, repId);
    await rep.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    const { message } = await waitFor(() => received[0]);
    expect(message.notifications[0]?.fields).toMatchObject({ Id: leadId, LastModifiedById: repId });
  });

  it('refuses a rule naming a field the object lacks', async () => {
    const answer = await fetch(`${sandbox.url}/__sandbox/outbound-messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'Lead', fields: ['Nope__c'], endpointUrl }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual([{ errorCode: 'INVALID_FIELD', message: "No such column 'Nope__c' on sobject of type Lead" }]);
  });
});

describe('fault knobs', () => {
  it('duplicates the next delivery', async () => {
    sandbox.faults.set({ outbound: { duplicate: { next: 1 } } });
    addRule();
    await createLead();
    const [logged] = await waitFor(() => sandbox.outbound.deliveries().length > 0 && sandbox.outbound.deliveries());
    expect(received).toHaveLength(2);
    expect(received[1]?.body).toBe(received[0]?.body);
    expect(logged).toMatchObject({ outcome: 'acked', faults: ['duplicate'] });
  });

  it('drops the next notification without delivering it', async () => {
    sandbox.faults.set({ outbound: { drop: { next: 1 } } });
    addRule();
    await createLead({ LastName: 'Dropped' });
    const kept = await createLead({ LastName: 'Kept' });
    await waitFor(() => sandbox.outbound.deliveries().some((d) => d.outcome === 'acked'));
    expect(notifications().map((n) => n.fields.Id)).toEqual([kept]);
    expect(sandbox.outbound.deliveries().map((d) => d.outcome)).toEqual(['dropped-by-fault', 'acked']);
  });

  it('delays deliveries by the configured time', async () => {
    sandbox.faults.set({ outbound: { delayMs: 150 } });
    addRule();
    const before = Date.now();
    await createLead();
    const delivery = await waitFor(() => received[0]);
    expect(delivery.at - before).toBeGreaterThanOrEqual(150);
  });

  it('reorders the notifications of a message with a seeded shuffle', async () => {
    sandbox.faults.set({ seed: 3, outbound: { reorder: { next: 1 } } });
    addRule();
    const created = await conn.sobject('Lead').create(Array.from({ length: 6 }, (_, i) => ({ LastName: `L${i}`, Company: 'Acme' })));
    const [logged] = await waitFor(() => sandbox.outbound.deliveries().length > 0 && sandbox.outbound.deliveries());
    const sent = notifications().map((n) => n.fields.Id);
    const ids = created.map((r) => r.id);
    expect([...sent].sort()).toEqual([...ids].sort());
    expect(sent).not.toEqual(ids);
    expect(logged?.faults).toEqual(['reorder']);
  });
});

/**
 * Load generator for the intake benchmark, run as its own process so it does not share the
 * server's event loop. Every request carries new events (unique ids) and a fresh v3 signature.
 * Two modes: `connections` keeps that many requests in flight back to back (autocannon: the
 * saturation throughput), `ratePerS` sends requests on a fixed schedule whatever the answers
 * (open loop: the latency at a given load, measured from each request's scheduled start, so a
 * slow answer is not hidden by the requests it delayed).
 * Input: a JSON argument; output: one JSON line with counts and latency percentiles.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { signV3 } from '../webhooks/hubspot/verify.ts';

interface LoadSpec {
  url: string;
  kind: 'hubspot' | 'salesforce';
  batch: number;
  connections: number;
  /** Open loop: requests per second on a fixed schedule (instead of `connections` back to back). */
  ratePerS?: number;
  durationS: number;
  secret: string;
  publicUrl: string;
  portalId: number;
  token: string;
  orgId: string;
  runId: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
let sequence = 0;

function hubspotBody(): string {
  const base = sequence;
  sequence += spec.batch;
  const now = Date.now();
  return JSON.stringify(
    Array.from({ length: spec.batch }, (_, i) => ({
      eventId: base + i,
      subscriptionId: 11,
      portalId: spec.portalId,
      appId: 2000001,
      occurredAt: now,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: base + i + 1,
      propertyName: 'lifecyclestage',
      propertyValue: 'marketingqualifiedlead',
      changeSource: 'CRM_UI',
      sourceId: 'userId:1',
    })),
  );
}

function salesforceBody(): string {
  const base = sequence;
  sequence += spec.batch;
  const notifications = Array.from({ length: spec.batch }, (_, i) => {
    const n = String(base + i).padStart(9, '0');
    return `<Notification><Id>04l${spec.runId}${n}</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q${spec.runId}${n}</sf:Id><sf:Email>lead${n}@example.com</sf:Email><sf:Status>Working - Contacted</sf:Status><sf:LastModifiedDate>2026-11-23T10:00:00.000Z</sf:LastModifiedDate><sf:Company>Acme</sf:Company><sf:LastName>Lead ${n}</sf:LastName></sObject></Notification>`;
  }).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>${spec.orgId}</OrganizationId><ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/62.0</EnterpriseUrl><PartnerUrl>https://x.my.salesforce.com/services/Soap/u/62.0</PartnerUrl>${notifications}</notifications></soapenv:Body></soapenv:Envelope>`;
}

const path = spec.kind === 'hubspot' ? '/webhooks/hubspot' : `/webhooks/salesforce/${spec.token}`;

function nextRequest(): { body: string; headers: Record<string, string> } {
  if (spec.kind === 'salesforce')
    return { body: salesforceBody(), headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' } };
  const body = hubspotBody();
  const timestamp = String(Date.now());
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': timestamp,
      'x-hubspot-signature-v3': signV3(spec.secret, 'POST', `${spec.publicUrl}${path}`, body, timestamp),
    },
  };
}

interface Outcome {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  p50: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
}

async function closedLoop(): Promise<Outcome> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    requests: [{ method: 'POST', path, setupRequest: (request: autocannon.Request) => Object.assign(request, nextRequest()) }],
  });
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

async function openLoop(ratePerS: number): Promise<Outcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(path, spec.url);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const total = Math.round(ratePerS * spec.durationS);
  const intervalMs = 1000 / ratePerS;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const scheduled = started + i * intervalMs;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { body, headers } = nextRequest();
    inFlight.push(
      new Promise<void>((resolve) => {
        const request = http.request(
          target,
          { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
          (response) => {
            response.resume();
            response.on('end', () => {
              if ((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300) {
                ok += 1;
                latencies.push(performance.now() - scheduled);
              } else non2xx += 1;
              resolve();
            });
          },
        );
        request.on('error', () => {
          errors += 1;
          resolve();
        });
        request.end(body);
      }),
    );
  }
  await Promise.all(inFlight);
  const durationS = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: total,
    ok,
    non2xx,
    errors,
    durationS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
  };
}

const outcome = spec.ratePerS ? await openLoop(spec.ratePerS) : await closedLoop();
process.stdout.write(`${JSON.stringify(outcome)}\n`);

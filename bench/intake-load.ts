/**
 * Load generator for the intake benchmark, run as its own process so it does not share the
 * server's event loop. Every request carries new events (unique ids) and a fresh v3 signature.
 * Input: a JSON argument; output: one JSON line with counts and latency percentiles.
 */
import autocannon from 'autocannon';
import { signV3 } from '../webhooks/hubspot/verify.ts';

interface LoadSpec {
  url: string;
  kind: 'hubspot' | 'salesforce';
  batch: number;
  connections: number;
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
      eventId: base + i, subscriptionId: 11, portalId: spec.portalId, appId: 2000001, occurredAt: now, subscriptionType: 'contact.propertyChange',
      attemptNumber: 0, objectId: base + i + 1, propertyName: 'lifecyclestage', propertyValue: 'marketingqualifiedlead', changeSource: 'CRM_UI', sourceId: 'userId:1',
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
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationS,
  requests: [
    {
      method: 'POST',
      path,
      setupRequest: (request: autocannon.Request) => {
        if (spec.kind === 'hubspot') {
          const body = hubspotBody();
          const timestamp = String(Date.now());
          request.body = body;
          request.headers = {
            'content-type': 'application/json',
            'x-hubspot-request-timestamp': timestamp,
            'x-hubspot-signature-v3': signV3(spec.secret, 'POST', `${spec.publicUrl}${path}`, body, timestamp),
          };
        } else {
          request.body = salesforceBody();
          request.headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' };
        }
        return request;
      },
    },
  ],
});

process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  })}\n`,
);

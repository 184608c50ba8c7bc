/**
 * The Outbound Message parser against real envelopes. Fixtures (see test/fixtures/salesforce/SOURCE.txt):
 * - outbound-message-*.aspnet.xml: verbatim from github.com/aspnet/AspNetWebHooks @ d2ae8af8 (Apache-2.0)
 * - outbound-message-lead-single.derived.xml: written from captured messages (placeholder ids)
 * - salesforce-outbound/obm-catcher-sample.xml2js.json (test/fixtures/SOURCE.txt): jeffdonthemic/salesforce-obm-catcher
 *   test/sample.xml @ bf12123a, an xml2js rendering that is turned back into XML here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrgSchema } from '../../src/sandbox/salesforce/schema.ts';
import { buildNotificationsEnvelope } from '../../src/sandbox/salesforce/outbound-envelope.ts';
import { ackEnvelope, faultEnvelope, parseOutboundMessage, type ParseResult } from '../../webhooks/salesforce/envelope.ts';

const REFERENCE = path.resolve(import.meta.dirname, '../fixtures');
const reference = (name: string): Buffer => readFileSync(path.join(REFERENCE, 'salesforce', name));
const withoutBom = (buffer: Buffer): string => buffer.toString('utf8').replace(/^\uFEFF/, '');

function expectOk(result: ParseResult) {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.value;
}

function expectError(result: ParseResult, pattern: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(pattern);
}

function envelopeWith(count: number): string {
  const notification = (i: number) =>
    `<Notification><Id>04l00000000${String(i).padStart(4, '0')}AAA</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q00000000${String(i).padStart(4, '0')}AAA</sf:Id><sf:Status>Open - Not Contacted</sf:Status></sObject></Notification>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>00D000000000001AAA</OrganizationId><ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/>
<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D000000000001</EnterpriseUrl>
<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D000000000001</PartnerUrl>
${Array.from({ length: count }, (_, i) => notification(i)).join('\n')}
</notifications></soapenv:Body></soapenv:Envelope>`;
}

describe('parseOutboundMessage', () => {
  it('reads the three-notification ASP.NET sample, BOM included', () => {
    const raw = reference('outbound-message-lead-3notifications.aspnet.xml');
    expect(raw.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const message = expectOk(parseOutboundMessage(raw));
    expect(message.organizationId).toBe('0123456789ABCDENNN');
    expect(message.actionId).toBe('05h370200108OsUAAU');
    expect(message.sessionId).toMatch(/^0123456789ABCDE!/);
    expect(message.enterpriseUrl).toBe('https://na31.salesforce.com/services/Soap/c/34.0/0123456789ABCDE');
    expect(message.partnerUrl).toBe('https://na31.salesforce.com/services/Soap/u/34.0/0123456789ABCDE');
    expect(message.notifications.map((n) => n.id)).toEqual(['04l37000000L0E5AAK', '14l37000123L0E5AAK', '24l37123450L0E5AAK']);
    expect(message.notifications.map((n) => n.sObjectType)).toEqual(['Lead1', 'Lead2', 'Lead3']);
    expect(message.notifications[0]?.fields).toMatchObject({
      Id: '0123456789ABCDEEAE',
      City: 'Redmond',
      FirstName: 'Henrik',
      Status: 'Open - Not Contacted',
    });
  });

  it('reads the single-notification sample with a nil SessionId', () => {
    const message = expectOk(parseOutboundMessage(reference('outbound-message-lead-single.derived.xml')));
    expect(message.sessionId).toBeNull();
    expect(message.notifications).toEqual([
      {
        id: '04l000000000001AAA',
        sObjectType: 'Lead',
        fields: {
          Id: '00Q000000000001AAA',
          Company: 'Example Co',
          Email: 'pat@example.com',
          FirstName: 'Pat',
          IsConverted: 'false',
          LastModifiedDate: '2025-01-15T10:00:00.000Z',
          LastName: 'Lee',
          LeadSource: 'Web',
          Status: 'Working - Contacted',
          SystemModstamp: '2025-01-15T10:00:00.000Z',
        },
      },
    ]);
  });

  it('reads the obm-catcher Contact sample under other namespace prefixes', () => {
    const json = JSON.parse(readFileSync(path.join(REFERENCE, 'salesforce-outbound/obm-catcher-sample.xml2js.json'), 'utf8'));
    const n = json['soapenv:envelope']['soapenv:body'][0].notifications[0];
    const sObject = n.notification[0].sobject[0];
    const xml = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><S:Body>
      <out:notifications xmlns:out="http://soap.sforce.com/2005/09/outbound">
        <out:OrganizationId>${n.organizationid[0]}</out:OrganizationId><out:ActionId>${n.actionid[0]}</out:ActionId>
        <out:SessionId>${n.sessionid[0]}</out:SessionId><out:EnterpriseUrl>${n.enterpriseurl[0]}</out:EnterpriseUrl><out:PartnerUrl>${n.partnerurl[0]}</out:PartnerUrl>
        <out:Notification><out:Id>${n.notification[0].id[0]}</out:Id>
          <out:sObject i:type="${sObject.$['xsi:type'].replace('sf:', 'q:')}" xmlns:q="urn:sobject.enterprise.soap.sforce.com">
            <q:Id>${sObject['sf:id'][0]}</q:Id><q:MobilePhone>${sObject['sf:mobilephone'][0]}</q:MobilePhone><q:Email i:nil="true"/>
          </out:sObject></out:Notification></out:notifications></S:Body></S:Envelope>`;
    const message = expectOk(parseOutboundMessage(xml));
    expect(message.organizationId).toBe('00DG0000000glAcXXX');
    expect(message.notifications).toEqual([
      {
        id: '04lG000000SXaX6XXX',
        sObjectType: 'Contact',
        fields: { Id: '003G00000297TpXXXX', MobilePhone: '(111) 111-1111', Email: null },
      },
    ]);
  });

  it('parses the envelope the sandbox org sends, nil fields as null', () => {
    const body = buildNotificationsEnvelope(new OrgSchema([]), {
      orgId: '00D000000000001AAA',
      actionId: '04k000000000001AAA',
      sessionId: '00D000000000001!token',
      instanceUrl: 'http://127.0.0.1:4102',
      apiVersion: '60.0',
      nullFields: 'nil',
      notifications: [
        {
          id: '04l000000000009AAA',
          type: 'Lead',
          record: {
            Id: '00Q000000000009AAA',
            Status: 'Working - Contacted',
            Email: null,
            LastModifiedDate: '2025-01-15T10:00:00.000+0000',
          },
          fields: ['Status', 'Email', 'LastModifiedDate'],
        },
      ],
    });
    const message = expectOk(parseOutboundMessage(Buffer.from(body)));
    expect(message.sessionId).toBe('00D000000000001!token');
    expect(message.partnerUrl).toBe('http://127.0.0.1:4102/services/Soap/u/60.0/00D000000000001');
    expect(message.notifications[0]).toEqual({
      id: '04l000000000009AAA',
      sObjectType: 'Lead',
      fields: { Id: '00Q000000000009AAA', Status: 'Working - Contacted', Email: null, LastModifiedDate: '2025-01-15T10:00:00.000Z' },
    });
  });

  it('accepts 100 notifications in one message', () => {
    expect(expectOk(parseOutboundMessage(envelopeWith(100))).notifications).toHaveLength(100);
  });

  it('refuses 101 notifications', () => {
    expectError(parseOutboundMessage(envelopeWith(101)), /too many notifications: 101/);
  });

  it('refuses the empty notifications sample', () => {
    expectError(parseOutboundMessage(reference('outbound-message-empty.aspnet.xml')), /invalid Outbound Message: organizationId/);
  });

  it('refuses a message without any Notification', () => {
    expectError(parseOutboundMessage(envelopeWith(0)), /no Notification/);
  });

  it('refuses the Ack envelope as not an Outbound Message', () => {
    expectError(
      parseOutboundMessage(reference('outbound-message-ack.aspnet.xml')),
      /not an Outbound Message: expected .*notifications in Body, found .*notificationsResponse/,
    );
  });

  it('refuses the fault envelope as not an Outbound Message', () => {
    expectError(
      parseOutboundMessage(reference('outbound-message-fault.aspnet.xml')),
      /not an Outbound Message: .*found \{http:\/\/schemas.xmlsoap.org\/soap\/envelope\/\}Fault/,
    );
  });

  it('refuses malformed XML', () => {
    expectError(parseOutboundMessage('<soapenv:Envelope><soapenv:Body></soapenv:Envelope>'), /^malformed XML/);
  });

  it('refuses a document that is not a SOAP envelope', () => {
    expectError(parseOutboundMessage('<notifications xmlns="http://soap.sforce.com/2005/09/outbound"/>'), /not a SOAP 1.1 envelope/);
    expectError(parseOutboundMessage('{"notifications":[]}'), /^malformed XML/);
    expectError(parseOutboundMessage(''), /empty body/);
  });

  it('refuses notifications outside the outbound namespace', () => {
    expectError(
      parseOutboundMessage(envelopeWith(1).replace('http://soap.sforce.com/2005/09/outbound', 'urn:example')),
      /expected \{http:\/\/soap.sforce.com\/2005\/09\/outbound\}notifications/,
    );
  });

  it('refuses an OrganizationId that is not a Salesforce id', () => {
    expectError(
      parseOutboundMessage(envelopeWith(1).replace('00D000000000001AAA</OrganizationId>', 'not-an-org</OrganizationId>')),
      /organizationId must be a 15- or 18-character Salesforce id/,
    );
  });

  it('refuses a DOCTYPE (no entity expansion)', () => {
    expectError(
      parseOutboundMessage(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>${envelopeWith(1).replace(/^<\?xml[^>]*>/, '')}`),
      /DOCTYPE/,
    );
  });

  it('refuses elements nested 200,000 deep with a clear error instead of throwing', () => {
    const deep = envelopeWith(1).replace('<sf:Status>', `${'<x>'.repeat(200_000)}${'</x>'.repeat(200_000)}<sf:Status>`);
    expectError(parseOutboundMessage(deep), /nest deeper than 32 levels/);
  });

  it('accepts nesting up to 32 levels and refuses 33', () => {
    // The envelope's own field values sit 6 deep: 26 more levels inside a field's value element is 32.
    const nested = (extra: number) =>
      envelopeWith(1).replace(
        '<sf:Status>Open - Not Contacted</sf:Status>',
        `<sf:Status>${'<x>'.repeat(extra)}${'</x>'.repeat(extra)}</sf:Status>`,
      );
    expectError(parseOutboundMessage(nested(26)), /field Status holds nested elements/);
    expectError(parseOutboundMessage(nested(27)), /nest deeper than 32 levels/);
  });

  it('refuses an undeclared entity in a value', () => {
    expectError(
      parseOutboundMessage(envelopeWith(1).replace('Open - Not Contacted', 'Open &xxe; Contacted')),
      /undeclared entity reference at "&xxe;"/,
    );
  });

  it('refuses an undeclared entity in an attribute', () => {
    expectError(parseOutboundMessage(envelopeWith(1).replace('xsi:type="sf:Lead"', 'xsi:type="sf:Lead&xxe;"')), /undeclared entity/);
  });

  it('reads the predefined entities and character references as the characters they stand for', () => {
    const message = expectOk(
      parseOutboundMessage(envelopeWith(1).replace('Open - Not Contacted', 'A &amp; B &lt;&#62; &#x263A; &quot;q&apos;')),
    );
    expect(message.notifications[0]?.fields.Status).toBe('A & B <> \u263A "q\'');
  });
});

describe('ackEnvelope and faultEnvelope', () => {
  it('builds exactly the reference Ack envelope', () => {
    expect(ackEnvelope()).toBe(withoutBom(reference('outbound-message-ack.aspnet.xml')));
  });

  it('builds a negative Ack on request', () => {
    expect(ackEnvelope(false)).toContain('<Ack>false</Ack>');
  });

  it('builds the reference SOAP 1.1 fault with an escaped faultstring', () => {
    const template = withoutBom(reference('outbound-message-fault.aspnet.xml'));
    expect(faultEnvelope('Unknown organization')).toBe(template.replace('{0}', 'Unknown organization'));
    expect(faultEnvelope('a < b & c', 'soapenv:Server')).toContain(
      '<faultcode>soapenv:Server</faultcode>\n   <faultstring>a &lt; b &amp; c</faultstring>',
    );
  });
});

/**
 * The SOAP `notifications` request Salesforce POSTs for Outbound Messages (namespaces and element
 * order per the outbound WSDL and the captured samples in test/fixtures/salesforce/), and the
 * check of the listener's reply: only `notificationsResponse/Ack = true` counts as delivered.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { OrgSchema } from './schema.ts';
import type { SfRecord } from './types.ts';

export interface EnvelopeNotification {
  id: string;
  type: string;
  record: SfRecord;
  fields: readonly string[];
}

export interface EnvelopeInput {
  orgId: string;
  actionId: string;
  sessionId: string | null;
  instanceUrl: string;
  apiVersion: string;
  /** `omit` leaves null fields out (what Salesforce does); `nil` sends `xsi:nil="true"`. */
  nullFields: 'omit' | 'nil';
  notifications: readonly EnvelopeNotification[];
}

function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** SOAP renders datetimes in UTC with `Z` (REST uses `+0000`). */
function soapValue(value: string | number | boolean): string {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/.test(value)) return value.replace('+0000', 'Z');
  return String(value);
}

function sObjectXml(schema: OrgSchema, n: EnvelopeNotification, nullFields: 'omit' | 'nil'): string {
  const names = ['Id', ...n.fields.filter((f) => f.toLowerCase() !== 'id')];
  const parts: string[] = [];
  for (const name of names) {
    const field = schema.field(n.type, name);
    if (!field) continue;
    const value = n.record[field.name] ?? null;
    if (value === null) {
      if (nullFields === 'nil') parts.push(`     <sf:${field.name} xsi:nil="true"/>\n`);
      continue;
    }
    parts.push(`     <sf:${field.name}>${esc(soapValue(value))}</sf:${field.name}>\n`);
  }
  return `    <sObject xsi:type="sf:${n.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n${parts.join('')}    </sObject>\n`;
}

/** Builds one Outbound Message request (1–100 notifications). */
export function buildNotificationsEnvelope(schema: OrgSchema, input: EnvelopeInput): string {
  const org15 = input.orgId.slice(0, 15);
  const notifications = input.notifications
    .map((n) => `   <Notification>\n    <Id>${n.id}</Id>\n${sObjectXml(schema, n, input.nullFields)}   </Notification>\n`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
    ' <soapenv:Body>\n' +
    '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n' +
    `   <OrganizationId>${input.orgId}</OrganizationId>\n` +
    `   <ActionId>${input.actionId}</ActionId>\n` +
    (input.sessionId === null ? '   <SessionId xsi:nil="true"/>\n' : `   <SessionId>${esc(input.sessionId)}</SessionId>\n`) +
    `   <EnterpriseUrl>${input.instanceUrl}/services/Soap/c/${input.apiVersion}/${org15}</EnterpriseUrl>\n` +
    `   <PartnerUrl>${input.instanceUrl}/services/Soap/u/${input.apiVersion}/${org15}</PartnerUrl>\n` +
    notifications +
    '  </notifications>\n' +
    ' </soapenv:Body>\n' +
    '</soapenv:Envelope>\n'
  );
}

const replyParser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** Whether a listener's reply body is the Ack envelope with `Ack` = true. */
export function isAckReply(body: string): boolean {
  const text = body.replace(/^\uFEFF/, '');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) return false;
  const doc = replyParser.parse(text) as { Envelope?: { Body?: { notificationsResponse?: { Ack?: unknown } } } };
  const ack = doc.Envelope?.Body?.notificationsResponse?.Ack;
  return typeof ack === 'string' && ack.trim() === 'true';
}

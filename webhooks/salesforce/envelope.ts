/**
 * Salesforce Outbound Message envelopes: the one parser for the SOAP `notifications()` request and
 * the builders for the two replies a listener gives (Ack, SOAP 1.1 fault).
 *
 * Elements are matched on namespace + local name, never on prefixes: Salesforce declares `sf:` per
 * sObject and senders may pick any prefix for the SOAP envelope. Shape per the outbound WSDL
 * (targetNamespace http://soap.sforce.com/2005/09/outbound, Notification maxOccurs=100).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';

export interface OutboundNotification {
  id: string;
  sObjectType: string;
  fields: Record<string, string | null>;
}

export interface OutboundMessage {
  organizationId: string;
  actionId: string;
  sessionId: string | null;
  enterpriseUrl: string | null;
  partnerUrl: string | null;
  notifications: OutboundNotification[];
}

export type ParseResult = { ok: true; value: OutboundMessage } | { ok: false; error: string };

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const MAX_NOTIFICATIONS = 100;
/**
 * The deepest element nesting accepted. An Outbound Message nests six deep (Envelope › Body ›
 * notifications › Notification › sObject › field); anything far deeper is not one, and is refused
 * before a parser recurses into it.
 */
export const MAX_XML_DEPTH = 32;

/** An element with its namespace resolved from the in-scope xmlns declarations. */
interface XmlElement {
  ns: string | null;
  local: string;
  /** Attributes keyed `{namespace}local` (or plain `local` when unqualified). */
  attrs: ReadonlyMap<string, string>;
  /** Prefix → namespace map in scope at this element (to resolve QName values such as xsi:type). */
  scope: ReadonlyMap<string, string>;
  children: XmlElement[];
  text: string;
}

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  // A backstop only: checkStructure refuses deeper documents first, with a clear message.
  maxNestedTags: MAX_XML_DEPTH + 1,
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  // Decodes character references (&#13;, &#x263A;) too; named HTML entities never get here:
  // checkStructure lets only the five XML predefines through.
  htmlEntities: true,
});

const sfId = z.string().regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'must be a 15- or 18-character Salesforce id');

const messageSchema = z.object({
  organizationId: sfId,
  actionId: sfId,
  sessionId: z.string().min(1).nullable(),
  enterpriseUrl: z.url().nullable(),
  partnerUrl: z.url().nullable(),
  notifications: z
    .array(
      z.object({
        id: sfId,
        sObjectType: z.string().min(1),
        fields: z.record(z.string(), z.string().nullable()),
      }),
    )
    .min(1, 'the message carries no Notification')
    .max(MAX_NOTIFICATIONS, `a message carries at most ${MAX_NOTIFICATIONS} notifications`),
});

function splitQName(name: string): [string | null, string] {
  const i = name.indexOf(':');
  return i < 0 ? [null, name] : [name.slice(0, i), name.slice(i + 1)];
}

const NO_ATTRS: ReadonlyMap<string, string> = new Map();

function toElement(name: string, node: OrderedNode, parentScope: ReadonlyMap<string, string>): XmlElement {
  const rawAttrs = node[':@'] as Record<string, string> | undefined;
  let scope = parentScope;
  let attrs = NO_ATTRS;
  if (rawAttrs) {
    const entries = Object.entries(rawAttrs);
    // Most elements declare nothing: they share their parent's scope instead of a copy.
    if (entries.some(([key]) => key === 'xmlns' || key.startsWith('xmlns:'))) {
      const own = new Map(parentScope);
      for (const [key, value] of entries) {
        if (key === 'xmlns') own.set('', value);
        else if (key.startsWith('xmlns:')) own.set(key.slice(6), value);
      }
      scope = own;
    }
    const resolved = new Map<string, string>();
    for (const [key, value] of entries) {
      if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
      const [prefix, local] = splitQName(key);
      resolved.set(prefix === null ? local : `{${scope.get(prefix) ?? prefix}}${local}`, value);
    }
    attrs = resolved;
  }
  const [prefix, local] = splitQName(name);
  const element: XmlElement = { ns: scope.get(prefix ?? '') ?? null, local, attrs, scope, children: [], text: '' };
  for (const child of (node[name] ?? []) as OrderedNode[]) {
    if ('#text' in child) {
      element.text += String(child['#text']);
      continue;
    }
    const childName = Object.keys(child).find((k) => k !== ':@');
    if (childName !== undefined) element.children.push(toElement(childName, child, scope));
  }
  return element;
}

/** The entity references XML predefines, and character references; nothing else is declared without a DTD. */
const DECLARED_ENTITY = /^(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6})$/;

/** Checks the entity reference at `at` (an `&`); returns the index after it, or why it is refused. */
function entityEnd(text: string, at: number): number | string {
  const end = text.indexOf(';', at);
  const name = end < 0 || end - at > 12 ? null : text.slice(at + 1, end);
  if (name === null || !DECLARED_ENTITY.test(name)) {
    const shown = text.slice(at, name === null ? Math.min(text.length, at + 12) : end + 1).replace(/[^\x21-\x7e]/g, '?');
    return `malformed XML: undeclared entity reference at "${shown}" (only &lt; &gt; &amp; &quot; &apos; and character references are allowed)`;
  }
  return end + 1;
}

/**
 * One linear pass before any parser sees the text: refuses declarations (a DOCTYPE, hence any
 * entity definition), entity references XML does not predefine, and nesting deeper than
 * MAX_XML_DEPTH. Bounded work per byte and no recursion, whatever the input.
 */
function checkStructure(text: string): string | null {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x26 /* & */) {
      const next = entityEnd(text, i);
      if (typeof next === 'string') return next;
      i = next;
      continue;
    }
    if (c !== 0x3c /* < */) {
      i += 1;
      continue;
    }
    const skip = (open: string, close: string, what: string): number | string => {
      const end = text.indexOf(close, i + open.length);
      return end < 0 ? `malformed XML: unterminated ${what}` : end + close.length;
    };
    let next: number | string;
    if (text.startsWith('<!--', i)) next = skip('<!--', '-->', 'comment');
    else if (text.startsWith('<![CDATA[', i)) next = skip('<![CDATA[', ']]>', 'CDATA section');
    else if (text.startsWith('<?', i)) next = skip('<?', '?>', 'processing instruction');
    else if (text.startsWith('<!', i)) return 'malformed XML: a DOCTYPE or other declaration is not allowed in a SOAP message';
    else if (text.startsWith('</', i)) {
      depth -= 1;
      next = skip('</', '>', 'end tag');
    } else {
      // A start tag: find its `>` outside quoted attribute values, checking entities in them.
      let j = i + 1;
      let quote = 0;
      for (; j < text.length; j += 1) {
        const d = text.charCodeAt(j);
        if (quote !== 0) {
          if (d === quote) quote = 0;
          else if (d === 0x26) {
            const end = entityEnd(text, j);
            if (typeof end === 'string') return end;
            j = end - 1;
          }
        } else if (d === 0x22 || d === 0x27) quote = d;
        else if (d === 0x3e) break;
      }
      if (j >= text.length) return 'malformed XML: unterminated start tag';
      if (text.charCodeAt(j - 1) !== 0x2f /* / */) {
        depth += 1;
        if (depth > MAX_XML_DEPTH) return `malformed XML: elements nest deeper than ${MAX_XML_DEPTH} levels (an Outbound Message nests 6)`;
      }
      next = j + 1;
    }
    if (typeof next === 'string') return next;
    i = next;
  }
  return null;
}

/** Parses XML bytes into a namespace-resolved element tree, or explains why it cannot. */
function parseXmlTree(body: Buffer | string): { ok: true; root: XmlElement } | { ok: false; error: string } {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
  if (text.trim() === '') return { ok: false, error: 'empty body: expected a SOAP envelope' };
  // SOAP forbids DTDs; refusing them (and undeclared entities) rules out entity-expansion tricks.
  const refused = checkStructure(text);
  if (refused !== null) return { ok: false, error: refused };
  const valid = XMLValidator.validate(text);
  if (valid !== true) return { ok: false, error: `malformed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (error) {
    return { ok: false, error: `malformed XML: ${error instanceof Error ? error.message : 'the parser refused it'}` };
  }
  const top = nodes.find((n) => Object.keys(n).some((k) => k !== ':@' && k !== '#text'));
  const name = top && Object.keys(top).find((k) => k !== ':@' && k !== '#text');
  if (!top || name === undefined) return { ok: false, error: 'malformed XML: no root element' };
  return { ok: true, root: toElement(name, top, new Map()) };
}

function child(parent: XmlElement, ns: string, local: string): XmlElement | undefined {
  return parent.children.find((c) => c.ns === ns && c.local === local);
}

function isNil(element: XmlElement): boolean {
  const nil = element.attrs.get(`{${XSI_NS}}nil`);
  return nil === 'true' || nil === '1';
}

/** Text of an optional, nillable element: absent or xsi:nil → null. */
function optionalText(parent: XmlElement, local: string): string | null {
  const element = child(parent, OUTBOUND_NS, local);
  if (!element || isNil(element)) return null;
  const value = element.text.trim();
  return value === '' ? null : value;
}

function readNotification(element: XmlElement, index: number): OutboundNotification | string {
  const where = `Notification #${index + 1}`;
  const id = child(element, OUTBOUND_NS, 'Id')?.text.trim();
  if (!id) return `${where} has no Id`;
  const sObject = child(element, OUTBOUND_NS, 'sObject');
  if (!sObject) return `${where} has no sObject`;
  const xsiType = sObject.attrs.get(`{${XSI_NS}}type`);
  if (!xsiType) return `${where}: sObject has no xsi:type`;
  const [, sObjectType] = splitQName(xsiType);
  const fields: Record<string, string | null> = {};
  for (const field of sObject.children) {
    if (field.children.length > 0) return `${where}: field ${field.local} holds nested elements, expected a value`;
    fields[field.local] = isNil(field) ? null : field.text;
  }
  return { id, sObjectType, fields };
}

/** Parses a Salesforce Outbound Message (SOAP `notifications` request) into a typed message. */
export function parseOutboundMessage(body: Buffer | string): ParseResult {
  const tree = parseXmlTree(body);
  if (!tree.ok) return tree;
  const { root } = tree;
  if (root.ns !== SOAP_ENVELOPE_NS || root.local !== 'Envelope') {
    return { ok: false, error: `not a SOAP 1.1 envelope: root element is {${root.ns ?? ''}}${root.local}` };
  }
  const soapBody = child(root, SOAP_ENVELOPE_NS, 'Body');
  if (!soapBody) return { ok: false, error: 'not an Outbound Message: the envelope has no Body' };
  const notifications = child(soapBody, OUTBOUND_NS, 'notifications');
  if (!notifications) {
    const first = soapBody.children[0];
    const found = first ? `{${first.ns ?? ''}}${first.local}` : 'nothing';
    return { ok: false, error: `not an Outbound Message: expected {${OUTBOUND_NS}}notifications in Body, found ${found}` };
  }
  const items = notifications.children.filter((c) => c.ns === OUTBOUND_NS && c.local === 'Notification');
  if (items.length > MAX_NOTIFICATIONS) {
    return { ok: false, error: `too many notifications: ${items.length} (a message carries at most ${MAX_NOTIFICATIONS})` };
  }
  const parsed: OutboundNotification[] = [];
  for (const [index, item] of items.entries()) {
    const notification = readNotification(item, index);
    if (typeof notification === 'string') return { ok: false, error: notification };
    parsed.push(notification);
  }
  const candidate = {
    organizationId: optionalText(notifications, 'OrganizationId') ?? '',
    actionId: optionalText(notifications, 'ActionId') ?? '',
    sessionId: optionalText(notifications, 'SessionId'),
    enterpriseUrl: optionalText(notifications, 'EnterpriseUrl'),
    partnerUrl: optionalText(notifications, 'PartnerUrl'),
    notifications: parsed,
  };
  const checked = messageSchema.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    return { ok: false, error: `invalid Outbound Message: ${path ? `${path} ` : ''}${issue?.message ?? 'does not match the schema'}` };
  }
  return { ok: true, value: checked.data };
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NS}">\n`;

/** The acknowledgement Salesforce expects (HTTP 200, text/xml); anything else is a failed delivery. */
export function ackEnvelope(ack = true): string {
  return (
    ENVELOPE_OPEN +
    ' <soapenv:Body>\n' +
    `  <notificationsResponse xmlns="${OUTBOUND_NS}">\n` +
    `   <Ack>${ack ? 'true' : 'false'}</Ack>\n` +
    '  </notificationsResponse>\n' +
    ' </soapenv:Body>\n' +
    '</soapenv:Envelope>\n'
  );
}

/** A SOAP 1.1 fault (sent with HTTP 400/500); Salesforce counts it as a failed delivery and retries. */
export function faultEnvelope(faultString: string, faultCode = 'soapenv:Client'): string {
  return (
    ENVELOPE_OPEN +
    ' <soapenv:Body>\n' +
    '  <soapenv:Fault>\n' +
    `   <faultcode>${escapeXml(faultCode)}</faultcode>\n` +
    `   <faultstring>${escapeXml(faultString)}</faultstring>\n` +
    '   <detail />\n' +
    '  </soapenv:Fault>\n' +
    ' </soapenv:Body>\n' +
    '</soapenv:Envelope>\n'
  );
}

/**
 * The SOAP API endpoint jsforce's `conn.soap.*` posts to (`/services/Soap/u/<version>`, partner
 * namespace): `convertLead`, `merge`, `undelete`, `getUserInfo`, `getServerTimestamp`, and the
 * deprecated `login`.
 * Session and limit failures are SOAP faults with HTTP 500, as Salesforce sends them.
 */
import express, { type Express, type Request, type Response } from 'express';
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import type { SandboxContext } from './context.ts';
import { ADMIN_USER_ID, INTEGRATION_USER_ID } from './seed.ts';
import { convertLead, type LeadConvertInput } from './lead-convert.ts';
import { formatDateTime } from './sf-time.ts';
import { mergeRecords, undeleteRecord, type MergeInput } from './record-merge.ts';
import type { SfError } from './types.ts';
import { withSoapCallOptionsClient } from './pubsub/origin.ts';

const PARTNER_NS = 'urn:partner.soap.sforce.com';

/** Repeated elements of merge and undelete (jsforce names a merge request `mergeRequests`, the WSDL `request`). */
const ARRAY_PATHS = /^Envelope\.Body\.(merge\.(request|mergeRequests?)(\.recordToMergeIds)?|undelete\.ids)$/;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (_name, jpath) => jpath === 'Envelope.Body.convertLead.leadConverts' || ARRAY_PATHS.test(String(jpath)),
});

function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function envelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="${PARTNER_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:fault.partner.soap.sforce.com">` +
    (header ? `<soapenv:Header>${header}</soapenv:Header>` : '') +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

export function fault(res: Response, status: number, code: string, message: string): void {
  const detail = code.startsWith('sf:')
    ? `<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${esc(code.slice(3))}</sf:exceptionCode><sf:exceptionMessage>${esc(message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>`
    : '';
  res
    .status(status)
    .type('text/xml; charset=utf-8')
    .send(
      envelope(
        `<soapenv:Fault><faultcode>${esc(code)}</faultcode><faultstring>${esc(code.replace(/^\w+:/, ''))}: ${esc(message)}</faultstring>${detail}</soapenv:Fault>`,
      ),
    );
}

const element = (name: string, value: string | null): string =>
  value === null ? `<${name} xsi:nil="true"/>` : `<${name}>${esc(value)}</${name}>`;

function errorsXml(errors: SfError[]): string {
  return errors
    .map(
      (e) =>
        `<errors>${(e.fields ?? []).map((f) => element('fields', f)).join('')}${element('message', e.message)}${element('statusCode', e.errorCode)}</errors>`,
    )
    .join('');
}

/** Text of a parsed element; xsi:nil and empty elements read as null. */
function text(value: unknown): string | null {
  const raw = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)['#text'] : value;
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return null;
  const s = String(raw).trim();
  return s === '' ? null : s;
}

const xmlBoolean = z
  .enum(['true', 'false', '1', '0'])
  .nullable()
  .transform((v) => v === 'true' || v === '1');

/** One `<leadConverts>` element (partner WSDL LeadConvert), after reading each element's text. */
const leadConvertSchema = z.object({
  leadId: z.string({ error: 'is required' }),
  convertedStatus: z.string({ error: 'is required' }),
  accountId: z.string().nullable(),
  contactId: z.string().nullable(),
  opportunityId: z.string().nullable(),
  doNotCreateOpportunity: xmlBoolean,
  opportunityName: z.string().nullable(),
  overwriteLeadSource: xmlBoolean,
  ownerId: z.string().nullable(),
  sendNotificationEmail: xmlBoolean,
});

const convertLeadSchema = z.array(leadConvertSchema).min(1).max(100);

/** Reads the known LeadConvert elements as text (absent, empty and xsi:nil → null). */
function leadConvertTexts(raw: unknown): Record<string, string | null> {
  const element = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return Object.fromEntries(Object.keys(leadConvertSchema.shape).map((key) => [key, text(element[key])]));
}

function toConvertInput(item: z.infer<typeof leadConvertSchema>): LeadConvertInput {
  const {
    leadId,
    convertedStatus,
    accountId,
    contactId,
    opportunityId,
    doNotCreateOpportunity,
    opportunityName,
    overwriteLeadSource,
    ownerId,
  } = item;
  return {
    leadId,
    convertedStatus,
    accountId,
    contactId,
    opportunityId,
    doNotCreateOpportunity,
    opportunityName,
    overwriteLeadSource,
    ownerId,
  };
}

/** One MergeRequest: `masterRecord` (an sObject with its `type`, `Id` and fields to set) and the ids to merge into it. */
function mergeInputOf(raw: unknown): MergeInput | null {
  const request = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const master =
    request.masterRecord !== null && typeof request.masterRecord === 'object' ? (request.masterRecord as Record<string, unknown>) : null;
  const type = text(master?.type);
  const masterId = text(master?.Id);
  if (master === null || type === null || masterId === null) return null;
  const masterFields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(master))
    if (name !== 'type' && name !== 'Id' && !name.startsWith('@_')) masterFields[name] = text(value);
  const ids = (Array.isArray(request.recordToMergeIds) ? request.recordToMergeIds : []).map(text).filter((id): id is string => id !== null);
  return { type, masterId, masterFields, recordToMergeIds: ids };
}

/** One authenticated SOAP call: its arguments, the caller's session and how to answer it. */
interface SoapCall {
  ctx: SandboxContext;
  res: Response;
  args: unknown;
  session: { userId: string };
  reply: (body: string) => void;
}

const writeContextOf = ({ ctx, session }: SoapCall) => ({ userId: session.userId, now: ctx.config.now(), autoAssign: false });

function convertLeadOperation(call: SoapCall): void {
  const { ctx, res, args, reply } = call;
  const raw = (args as { leadConverts?: unknown[] } | undefined)?.leadConverts ?? [];
  const parsed = convertLeadSchema.safeParse(raw.map(leadConvertTexts));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fault(
      res,
      500,
      'soapenv:Client',
      `convertLead: leadConverts.${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'} (1 to 100 LeadConvert items)`,
    );
    return;
  }
  const items = parsed.data.map(toConvertInput);
  const wc = writeContextOf(call);
  const txn = ctx.store.txn();
  const results = items.map((item) => convertLead(txn, item, wc));
  txn.commit();
  const resultsXml = results
    .map((r) =>
      r.success
        ? `<result>${element('accountId', r.accountId)}${element('contactId', r.contactId)}${element('leadId', r.leadId)}${element('opportunityId', r.opportunityId)}<success>true</success></result>`
        : `<result>${element('accountId', null)}${element('contactId', null)}${errorsXml(r.errors)}${element('leadId', r.leadId)}${element('opportunityId', null)}<success>false</success></result>`,
    )
    .join('');
  reply(`<convertLeadResponse>${resultsXml}</convertLeadResponse>`);
}

function mergeOperation(call: SoapCall): void {
  const { ctx, res, args, reply } = call;
  const body = (args ?? {}) as Record<string, unknown>;
  const raw = (body.request ?? body.mergeRequests ?? body.mergeRequest ?? []) as unknown[];
  const requests = raw.map(mergeInputOf);
  if (requests.length === 0 || requests.length > 200 || requests.some((r) => r === null)) {
    fault(res, 500, 'soapenv:Client', 'merge: 1 to 200 MergeRequest items, each with a masterRecord (type and Id) and recordToMergeIds');
    return;
  }
  const wc = writeContextOf(call);
  const txn = ctx.store.txn();
  const results = requests.map((r) => mergeRecords(txn, r as MergeInput, wc));
  txn.commit();
  const many = (name: string, ids: readonly string[]) => ids.map((id) => element(name, id)).join('');
  const resultsXml = results
    .map((r) =>
      r.success
        ? `<result>${element('id', r.id)}${many('mergedRecordIds', r.mergedRecordIds)}<success>true</success>${many('updatedRelatedIds', r.updatedRelatedIds)}</result>`
        : `<result>${errorsXml(r.errors)}${element('id', r.id)}<success>false</success></result>`,
    )
    .join('');
  reply(`<mergeResponse>${resultsXml}</mergeResponse>`);
}

function undeleteOperation(call: SoapCall): void {
  const { ctx, res, args, reply } = call;
  const ids = ((args as { ids?: unknown[] } | undefined)?.ids ?? []).map(text).filter((id): id is string => id !== null);
  if (ids.length === 0 || ids.length > 200) {
    fault(res, 500, 'soapenv:Client', 'undelete: 1 to 200 ids');
    return;
  }
  const wc = writeContextOf(call);
  const txn = ctx.store.txn();
  const results = ids.map((id) => undeleteRecord(txn, id, wc));
  txn.commit();
  reply(
    `<undeleteResponse>${results.map((r) => `<result>${r.success ? '' : errorsXml(r.errors)}${element('id', r.id)}<success>${String(r.success)}</success></result>`).join('')}</undeleteResponse>`,
  );
}

function getUserInfoOperation({ ctx, session, reply }: SoapCall): void {
  const user = ctx.store.get('User', session.userId) ?? ctx.store.get('User', ADMIN_USER_ID) ?? {};
  // GetUserInfoResult (partner WSDL): orgDefaultCurrencyIsoCode only in a single-currency org,
  // userDefaultCurrencyIsoCode only in a multi-currency one (currency.ts).
  const multiCurrency = ctx.store.state.currency.multiCurrency;
  const currencyXml = `${element('orgDefaultCurrencyIsoCode', multiCurrency ? null : ctx.store.state.currency.corporateCurrency)}${element('organizationId', ctx.config.orgId)}${element('organizationMultiCurrency', String(multiCurrency))}`;
  const userCurrency = multiCurrency && typeof user.DefaultCurrencyIsoCode === 'string' ? user.DefaultCurrencyIsoCode : null;
  reply(
    `<getUserInfoResponse><result>${currencyXml}${element('userDefaultCurrencyIsoCode', userCurrency)}${element('userEmail', String(user.Email ?? ''))}${element('userFullName', String(user.Name ?? ''))}${element('userId', session.userId)}${element('userName', String(user.Username ?? ''))}${element('userTimeZone', 'GMT')}</result></getUserInfoResponse>`,
  );
}

/** The operations a session may call, by SOAP Body element name. */
const OPERATIONS: Record<string, (call: SoapCall) => void> = {
  convertLead: convertLeadOperation,
  merge: mergeOperation,
  undelete: undeleteOperation,
  getServerTimestamp: ({ ctx, reply }) =>
    reply(
      `<getServerTimestampResponse><result><timestamp>${formatDateTime(ctx.config.now()).replace('+0000', 'Z')}</timestamp></result></getServerTimestampResponse>`,
    ),
  getUserInfo: getUserInfoOperation,
};

/** `login` with the integration user's credentials: a session and the server URLs. */
function login(ctx: SandboxContext, res: Response, version: string, args: unknown): void {
  const a = (args ?? {}) as Record<string, unknown>;
  if (text(a.username) !== ctx.config.username || text(a.password) !== ctx.config.password) {
    fault(res, 500, 'sf:INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.');
    return;
  }
  const token = ctx.tokens.issue(INTEGRATION_USER_ID, { withRefreshToken: false, scope: 'api' });
  const org15 = ctx.config.orgId.slice(0, 15);
  res
    .type('text/xml; charset=utf-8')
    .send(
      envelope(
        `<loginResponse><result><metadataServerUrl>${ctx.url()}/services/Soap/m/${version}/${org15}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox><serverUrl>${ctx.url()}/services/Soap/u/${version}/${org15}</serverUrl><sessionId>${token.access_token}</sessionId><userId>${INTEGRATION_USER_ID}</userId><userInfo><organizationId>${ctx.config.orgId}</organizationId><userId>${INTEGRATION_USER_ID}</userId><userName>${esc(ctx.config.username)}</userName></userInfo></result></loginResponse>`,
      ),
    );
}

type SoapEnvelope =
  { Header?: { SessionHeader?: { sessionId?: unknown }; CallOptions?: { client?: unknown } }; Body?: Record<string, unknown> } | undefined;

/** Answers an authenticated operation: session check, API request limit, then the operation itself. */
function callOperation(ctx: SandboxContext, res: Response, env: SoapEnvelope, operation: string, args: unknown): void {
  const session = ctx.tokens.session(text(env?.Header?.SessionHeader?.sessionId) ?? '');
  if (!session) {
    fault(res, 500, 'sf:INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
    return;
  }
  if (ctx.usage.exhausted()) {
    res.set('Sforce-Limit-Info', ctx.usage.header());
    fault(res, 500, 'sf:REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    return;
  }
  ctx.usage.record();
  res.set('Sforce-Limit-Info', ctx.usage.header());
  const limitHeader = `<LimitInfoHeader><limitInfo><current>${ctx.usage.used()}</current><limit>${ctx.usage.limit()}</limit><type>API REQUESTS</type></limitInfo></LimitInfoHeader>`;
  const reply = (body: string) => res.type('text/xml; charset=utf-8').send(envelope(body, limitHeader));
  // The call counter names SOAP calls by operation (a read such as getUserInfo is a POST too).
  res.locals.soapOperation = operation;
  const handler = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (handler === undefined) {
    fault(res, 500, 'soapenv:Client', `No operation available for request {${PARTNER_NS}}${operation}`);
    return;
  }
  withSoapCallOptionsClient(text(env?.Header?.CallOptions?.client) ?? undefined, () => handler({ ctx, res, args, session, reply }));
}

/** The partner and enterprise SOAP endpoints (login, convertLead, merge, undelete, getServerTimestamp, getUserInfo). */
export function registerSoapRoutes(app: Express, ctx: SandboxContext): void {
  const paths = [
    '/services/Soap/u/:version',
    '/services/Soap/u/:version/:orgId',
    '/services/Soap/c/:version',
    '/services/Soap/c/:version/:orgId',
  ];
  app.post(paths, express.text({ type: () => true, limit: '5mb' }), (req: Request, res: Response) => {
    let doc: Record<string, unknown>;
    try {
      doc = parser.parse(typeof req.body === 'string' ? req.body : '') as Record<string, unknown>;
    } catch {
      fault(res, 500, 'soapenv:Client', 'The request is not well-formed XML');
      return;
    }
    const env = doc.Envelope as SoapEnvelope;
    const [operation, args] = Object.entries(env?.Body ?? {})[0] ?? [];
    if (!operation) {
      fault(res, 500, 'soapenv:Client', 'No SOAP Body operation found');
      return;
    }
    if (operation === 'login') login(ctx, res, String(req.params.version), args);
    else callOperation(ctx, res, env, operation, args);
  });
}

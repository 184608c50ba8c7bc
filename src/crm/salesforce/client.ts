/**
 * The Salesforce adapter: `SalesforcePort` over the real `jsforce` (sObject Collections, SOQL,
 * Tooling API, SOAP convertLead), and `connectSalesforce`, which logs in (password grant) or resumes
 * a session (access + refresh token) and reports every token refresh. Every HTTP call waits for the
 * shared limiter first; failures leave as the classes of `../errors.ts`.
 */
import jsforce from 'jsforce';
import type { Connection, DmlOptions } from 'jsforce';
import { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import { createNoopLimiter, type RequestLimiter } from '../limiter.ts';
import type { CurrencyRates } from '../../domain/revenue.ts';
import type { CustomFieldDefinition, DescribedAccess, SalesforcePort, SalesforceRecord, WriteOutcome } from '../ports.ts';
import { redact, toSalesforceError } from './errors.ts';
import { ensurePermissionSet } from './permission-sets.ts';
import { createSyncReads } from './sync-reads.ts';
import {
  COLLECTION_LIMIT,
  EMAILS_PER_QUERY,
  HUBSPOT_ID_FIELD,
  IDS_PER_QUERY,
  byEmailQuery,
  byIdsQuery,
  campaignsStartingQuery,
  changedSinceQuery,
  convertResultSchema,
  countResultSchema,
  customFieldRowsSchema,
  customFieldsQuery,
  developerNameOf,
  fullNameOf,
  queryResultSchema,
  resourcesSchema,
  saveResultSchema,
  saveResultsSchema,
  sobjectName,
  soqlString,
  stringValue,
  toFieldMetadata,
  toSalesforceRecord,
  toWriteOutcome,
} from './mapper.ts';
import { isSalesforceId, salesforceId15 } from '../../domain/salesforce-id.ts';

/** The part of `/limits` the admin sees: the rolling 24 h API allowance (docs/reference/salesforce-api.md §3.3). */
const limitsSchema = z.object({ DailyApiRequests: z.object({ Max: z.number(), Remaining: z.number() }) });

/** The part of a describe answer the access check reads. */
const describeSchema = z.looseObject({
  name: z.string(),
  createable: z.boolean(),
  updateable: z.boolean(),
  fields: z.array(z.looseObject({ name: z.string(), createable: z.boolean(), updateable: z.boolean() })),
});

/**
 * The part of a describe answer the settings check reads: each field's picklist values (the
 * DescribeSObjectResult's `fields[].picklistValues[]`, PicklistEntry `{active, value, label,
 * defaultValue, validFor}`; only active values may be written) and whether the user may create or
 * update it. docs/reference/salesforce-api.md §2: read picklists with describe, never hard-code them.
 */
const describeFieldsSchema = z.looseObject({
  name: z.string(),
  fields: z.array(
    z.looseObject({
      name: z.string(),
      label: z.string(),
      type: z.string(),
      length: z.number().optional(),
      createable: z.boolean(),
      updateable: z.boolean(),
      picklistValues: z.array(z.looseObject({ value: z.string(), active: z.boolean() })).optional(),
    }),
  ),
});

/** The User fields the owner directory reads (src/sync/owners.ts). */
const userRowsSchema = z.array(
  z.looseObject({
    Id: z.string(),
    Username: z.string(),
    Email: z.string().nullish(),
    Name: z.string(),
    IsActive: z.boolean(),
    UserType: z.string().nullish(),
  }),
);

/** The lowest API version with sObject Collections upsert by external id (docs/reference/salesforce-api.md §3.1). */
const MIN_API_VERSION = 46;
/** How long the org's currency rates are kept before they are read again. */
const CURRENCY_CACHE_MS = 15 * 60_000;

/** Options of `connectSalesforce`: a password login, or an existing session with its refresh token. */
export interface SalesforceConnectOptions {
  loginUrl: string;
  instanceUrl?: string;
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  apiVersion: string;
  /** Called with the new access token and instance URL after every refresh (persist them here). */
  onRefresh?: (accessToken: string, instanceUrl: string) => void;
}

/** Options of `createSalesforceAdapter`. */
export interface SalesforceAdapterOptions {
  connection: Connection;
  limiter?: RequestLimiter;
  /** e.g. `60.0`; at least 46.0. The connection is switched to it. */
  apiVersion: string;
}

function checkApiVersion(version: string): string {
  const match = /^(\d{2,3})\.0$/.exec(version);
  if (match?.[1] === undefined || Number(match[1]) < MIN_API_VERSION) {
    throw new RangeError(
      `Salesforce apiVersion must look like "60.0" and be at least ${MIN_API_VERSION}.0, got ${JSON.stringify(version)}`,
    );
  }
  return version;
}

/** The user and org of an identity URL `…/id/<orgId>/<userId>`. */
function parseIdentityUrl(url: string): { organizationId: string; userId: string } | undefined {
  const match = /\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?(?:\?|$)/.exec(url);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { organizationId: match[1], userId: match[2] };
}

/**
 * Connects to an org: password login when `username`/`password` are given (OAuth password grant with
 * the connected app, else SOAP login), otherwise the given session (access token and instance URL,
 * or a refresh token alone, which is exchanged now). jsforce refreshes an expired session by itself
 * (re-login, or the refresh token); `onRefresh` hears about each new token.
 */
export async function connectSalesforce(options: SalesforceConnectOptions): Promise<Connection> {
  const version = checkApiVersion(options.apiVersion);
  const secrets = [options.accessToken, options.refreshToken, options.password, options.clientSecret];
  const oauth2 =
    options.clientId === undefined
      ? undefined
      : {
          loginUrl: options.loginUrl,
          clientId: options.clientId,
          ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
          redirectUri: `${options.loginUrl.replace(/\/+$/, '')}/services/oauth2/success`,
        };
  const wire = (conn: Connection): Connection => {
    conn.on('refresh', (accessToken: string) => {
      try {
        options.onRefresh?.(accessToken, conn.instanceUrl);
      } catch {
        // The session is fine; a failing listener must not break the request that triggered the refresh.
      }
    });
    return conn;
  };

  try {
    if (options.username !== undefined && options.password !== undefined) {
      const conn = new jsforce.Connection({ loginUrl: options.loginUrl, version, ...(oauth2 === undefined ? {} : { oauth2 }) });
      await conn.login(options.username, options.password);
      return wire(conn);
    }
    if (options.refreshToken !== undefined && oauth2 === undefined) {
      throw new RangeError('Salesforce: a refresh token needs the connected app (clientId) to be usable');
    }
    if (options.accessToken !== undefined && options.instanceUrl !== undefined) {
      return wire(
        new jsforce.Connection({
          loginUrl: options.loginUrl,
          instanceUrl: options.instanceUrl,
          accessToken: options.accessToken,
          version,
          ...(options.refreshToken === undefined ? {} : { refreshToken: options.refreshToken }),
          ...(oauth2 === undefined ? {} : { oauth2 }),
        }),
      );
    }
    if (options.refreshToken !== undefined && oauth2 !== undefined) {
      // No usable session yet: without an instance URL the first request would go nowhere, so refresh now.
      const grant = await new jsforce.OAuth2(oauth2).refreshToken(options.refreshToken);
      const conn = wire(
        new jsforce.Connection({
          loginUrl: options.loginUrl,
          instanceUrl: grant.instance_url,
          accessToken: grant.access_token,
          refreshToken: options.refreshToken,
          version,
          oauth2,
        }),
      );
      options.onRefresh?.(grant.access_token, grant.instance_url);
      return conn;
    }
    throw new RangeError(
      'Salesforce: give username and password, or an access token with its instance URL, or a refresh token with the connected app',
    );
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw toSalesforceError(error, 'login', secrets);
  }
}

/** Creates the Salesforce port over a connected jsforce connection. */
export function createSalesforceAdapter(options: SalesforceAdapterOptions): SalesforcePort {
  const conn = options.connection;
  conn.version = checkApiVersion(options.apiVersion);
  const limiter = options.limiter ?? createNoopLimiter();
  let identity: Promise<{ organizationId: string; userId: string }> | undefined;

  /**
   * The limiter key names the org by its 15-character id: from the login's user info, else from the
   * session id, which starts with it (`00D…!…`); the instance URL only when neither says.
   */
  /** The org's currencies, read at most every CURRENCY_CACHE_MS (rates change rarely; a sync batch reads them once). */
  let currencies: { rates: CurrencyRates | null; until: number } | undefined;
  const limiterKey = () => {
    const org = conn.userInfo?.organizationId ?? /^(00D[A-Za-z0-9]{12})!/.exec(conn.accessToken ?? '')?.[1];
    return `salesforce:${org === undefined ? conn.instanceUrl : salesforceId15(org)}`;
  };
  const secrets = () => [conn.accessToken, conn.refreshToken];

  /** One HTTP call: wait for the limiter, run, translate failures. */
  async function call<T>(what: string, run: () => PromiseLike<T>): Promise<T> {
    await limiter.acquire(limiterKey());
    try {
      return await run();
    } catch (error) {
      throw toSalesforceError(error, what, secrets());
    }
  }

  function parseAnswer<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new CrmRejectedError(
        'salesforce',
        'UNEXPECTED_RESPONSE',
        redact(`Salesforce ${what}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'shape mismatch'}`, secrets()),
      );
    }
    return parsed.data;
  }

  /** Runs SOQL and follows `nextRecordsUrl` until done or `max` rows. */
  async function runQuery(
    soql: string,
    what: string,
    api: 'data' | 'tooling' = 'data',
    max = Number.POSITIVE_INFINITY,
    scanAll = false,
  ): Promise<SalesforceRecord[]> {
    const source = api === 'tooling' ? conn.tooling : conn;
    const records: SalesforceRecord[] = [];
    let page = parseAnswer(queryResultSchema, await call(what, () => source.query(soql, { scanAll }).execute({ autoFetch: false })), what);
    for (;;) {
      for (const raw of page.records) {
        if (records.length >= max) return records;
        records.push(toSalesforceRecord(raw));
      }
      const next = page.nextRecordsUrl;
      if (page.done || next === undefined || records.length >= max) return records;
      page = parseAnswer(queryResultSchema, await call(what, () => source.queryMore(next).execute({ autoFetch: false })), what);
    }
  }

  /** Writes records in collections of 200; `send` is one collection call; outcomes in input order. */
  async function inCollections<T>(
    what: string,
    records: readonly T[],
    send: (part: T[]) => Promise<unknown>,
    createdByDefault: boolean,
  ): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (let start = 0; start < records.length; start += COLLECTION_LIMIT) {
      const part = records.slice(start, start + COLLECTION_LIMIT);
      const results = parseAnswer(saveResultsSchema, await call(what, () => send(part)), what);
      if (results.length !== part.length) {
        throw new CrmRejectedError(
          'salesforce',
          'UNEXPECTED_RESPONSE',
          `Salesforce ${what}: ${results.length} results for ${part.length} records`,
        );
      }
      outcomes.push(...results.map((result) => toWriteOutcome(result, createdByDefault)));
    }
    return outcomes;
  }

  /** Merges records with the same key (later values win) so one collection never names a record twice. */
  function coalesce<T extends Record<string, unknown>>(records: readonly T[], keyOf: (record: T) => string): Map<string, T> {
    const merged = new Map<string, T>();
    for (const record of records) {
      const key = keyOf(record);
      const earlier = merged.get(key);
      merged.set(key, earlier === undefined ? { ...record } : { ...earlier, ...record });
    }
    return merged;
  }

  async function whoAmI(): Promise<{ organizationId: string; userId: string }> {
    const known = conn.userInfo;
    if (known?.id !== undefined && known.organizationId !== undefined) return { organizationId: known.organizationId, userId: known.id };
    // The REST root names the identity URL, which ends in the org and user ids: one call, no token in a URL.
    const root = parseAnswer(
      resourcesSchema,
      await call('identity', () => conn.request({ method: 'GET', url: conn._baseUrl() })),
      'identity',
    );
    const parsed = parseIdentityUrl(root.identity);
    if (parsed === undefined)
      throw new CrmRejectedError('salesforce', 'UNEXPECTED_RESPONSE', 'Salesforce identity: the identity URL names no user');
    return parsed;
  }

  const port: SalesforcePort = {
    system: 'salesforce',

    integrationUserId() {
      identity ??= whoAmI().catch((error: unknown) => {
        identity = undefined;
        throw error;
      });
      return identity.then((who) => who.userId);
    },

    async upsertLeadsByHubSpotId(leads) {
      const outcomes = new Map<string, WriteOutcome>();
      const merged = coalesce(leads, (lead) => String(lead[HUBSPOT_ID_FIELD]));
      const blank = merged.get('');
      if (blank !== undefined) {
        merged.delete('');
        outcomes.set('', {
          ok: false,
          code: 'REQUIRED_FIELD_MISSING',
          message: `${HUBSPOT_ID_FIELD} is empty`,
          fields: [HUBSPOT_ID_FIELD],
        });
      }
      // Assignment rules pick the owner (jsforce sends DmlOptions.headers). Salesforce applies them to
      // updated Leads as well, so an upsert of an existing Lead may move it to another owner. An
      // absent header means TRUE for the REST API, and the rules overwrite an OwnerId sent with the
      // record (REST API Developer Guide, "Assignment Rule Header"): a Lead the app gives an owner
      // goes with FALSE.
      const owned = [...merged].filter(([, lead]) => typeof lead.OwnerId === 'string' && lead.OwnerId !== '');
      const assigned = [...merged].filter(([, lead]) => !(typeof lead.OwnerId === 'string' && lead.OwnerId !== ''));
      for (const [group, autoAssign] of [
        [assigned, 'TRUE'],
        [owned, 'FALSE'],
      ] as const) {
        if (group.length === 0) continue;
        const dml: DmlOptions = { allOrNone: false, headers: { 'Sforce-Auto-Assign': autoAssign } };
        const results = await inCollections(
          'upsert leads',
          group.map(([, lead]) => lead),
          (part) => conn.upsert('Lead', part, HUBSPOT_ID_FIELD, dml),
          false,
        );
        group.forEach(([key], index) => {
          const outcome = results[index];
          if (outcome !== undefined) outcomes.set(key, outcome);
        });
      }
      return outcomes;
    },

    async updateRecords(type, records) {
      const name = sobjectName(type);
      const merged = coalesce(records, (record) => record.Id);
      const keys = [...merged.keys()];
      // Without this header Salesforce re-runs Lead assignment rules on every update and the
      // owner a rep already has would change; only new Leads are assigned (upsert sends TRUE).
      const dml: DmlOptions = { allOrNone: false, headers: { 'Sforce-Auto-Assign': 'FALSE' } };
      const results = await inCollections(`update ${name}`, [...merged.values()], (part) => conn.update(name, part, dml), false);
      return new Map(
        keys.flatMap((key, index) => {
          const outcome = results[index];
          return outcome === undefined ? [] : [[key, outcome] as const];
        }),
      );
    },

    async createRecords(type, records) {
      const name = sobjectName(type);
      return inCollections(`create ${name}`, records, (part) => conn.create(name, part, { allOrNone: false }), true);
    },

    async readRecords(type, ids, fields) {
      const name = sobjectName(type);
      const wanted = [...new Set(ids.filter(isSalesforceId))];
      const records: SalesforceRecord[] = [];
      for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
        records.push(...(await runQuery(byIdsQuery(name, wanted.slice(start, start + IDS_PER_QUERY), fields), `read ${name}`)));
      }
      return records;
    },

    async campaignsStartingBetween(from, until) {
      const text = (record: SalesforceRecord, field: string) => stringValue(record[field]);
      return (await runQuery(campaignsStartingQuery(from, until), 'read upcoming campaigns')).flatMap((record) => {
        const startDate = text(record, 'StartDate');
        return startDate === null
          ? []
          : [
              {
                id: record.Id,
                name: text(record, 'Name') ?? record.Id,
                startDate,
                endDate: text(record, 'EndDate'),
                type: text(record, 'Type'),
                status: text(record, 'Status'),
                url: port.recordUrl('Campaign', record.Id),
              },
            ];
      });
    },

    async contactsOfAccounts(accountIds) {
      const wanted = [...new Set(accountIds.filter(isSalesforceId))];
      const contacts: { id: string; accountId: string }[] = [];
      for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
        const part = wanted.slice(start, start + IDS_PER_QUERY);
        const records = await runQuery(
          `SELECT Id, AccountId FROM Contact WHERE AccountId IN (${part.map(soqlString).join(', ')})`,
          'read contacts of accounts',
        );
        for (const record of records)
          if (typeof record.AccountId === 'string') contacts.push({ id: record.Id, accountId: record.AccountId });
      }
      return contacts;
    },

    async findByEmail(emails, also) {
      const wanted = [...new Set(emails.map((email) => email.trim().toLowerCase()).filter((email) => email !== ''))];
      // The Leads naming the contacts ride on the first Lead query (one query either way).
      const ids = [...new Set(also?.hubspotContactIds ?? [])];
      const leads: SalesforceRecord[] = [];
      const contacts: SalesforceRecord[] = [];
      for (let start = 0; start < Math.max(wanted.length, ids.length > 0 ? 1 : 0); start += EMAILS_PER_QUERY) {
        const part = wanted.slice(start, start + EMAILS_PER_QUERY);
        leads.push(...(await runQuery(byEmailQuery('Lead', part, start === 0 ? ids : [], also?.leadFields ?? []), 'find leads by email')));
        if (part.length > 0) contacts.push(...(await runQuery(byEmailQuery('Contact', part), 'find contacts by email')));
      }
      return { leads, contacts };
    },

    async findChangedSince(type, fields, since, limit) {
      return runQuery(changedSinceQuery(type, fields, since, limit), `changed ${type}`, 'data', limit);
    },

    async findDeletedSince(type, since, limit) {
      // queryAll: the recycle bin keeps deleted records 15 days (merged-away ones with MasterRecordId).
      const soql = changedSinceQuery(type, ['Id', 'MasterRecordId', 'IsDeleted'], since, limit).replace(
        ' WHERE ',
        ' WHERE IsDeleted = true AND ',
      );
      return runQuery(soql, `deleted ${type}`, 'data', limit, true);
    },

    async deleteRecords(type, ids) {
      const name = sobjectName(type);
      const wanted = [...new Set(ids)];
      const results = await inCollections(`delete ${name}`, wanted, (part) => conn.destroy(name, part, { allOrNone: false }), false);
      return new Map(
        wanted.flatMap((id, index) => {
          const outcome = results[index];
          return outcome === undefined ? [] : [[id, outcome] as const];
        }),
      );
    },

    ...createSyncReads(
      (soql) => runQuery(soql, 'query'),
      async (soql) =>
        parseAnswer(countResultSchema, await call('count', () => conn.query(soql).execute({ autoFetch: false })), 'count').totalSize,
    ),

    async canQuery(object) {
      try {
        await runQuery(`SELECT Id FROM ${sobjectName(object)} LIMIT 1`, 'query');
        return true;
      } catch (error) {
        if (error instanceof CrmRejectedError && error.code === 'INVALID_TYPE') return false;
        throw error;
      }
    },

    async ensureCustomFields(definitions, dryRun) {
      // A malformed name is a bug in the caller's list: refuse before anything is created.
      for (const definition of definitions) developerNameOf(definition.name);
      const objects = [...new Set(definitions.map((definition) => definition.object))];
      const existing = new Set<string>();
      if (objects.length > 0) {
        const rows = parseAnswer(
          customFieldRowsSchema,
          await runQuery(customFieldsQuery(objects), 'list custom fields', 'tooling'),
          'list custom fields',
        );
        for (const row of rows) existing.add(`${row.TableEnumOrId}.${row.DeveloperName}__c`.toLowerCase());
      }
      const wanted = [...new Map(definitions.map((definition) => [fullNameOf(definition).toLowerCase(), definition])).values()];
      const missing = wanted.filter((definition) => !existing.has(fullNameOf(definition).toLowerCase()));
      const created: string[] = [];
      if (!dryRun) {
        for (const definition of missing) if (await createCustomField(definition)) created.push(fullNameOf(definition));
      }
      return { missing: missing.map(fullNameOf), created };
    },

    async ensurePermissionSet(spec, assigneeIds, dryRun) {
      return ensurePermissionSet(
        {
          query: (soql) => runQuery(soql, 'query'),
          create: (type, records) => port.createRecords(type, records),
          update: (type, records) => port.updateRecords(type, records),
        },
        spec,
        assigneeIds,
        dryRun,
      );
    },

    async describeFields(object) {
      const name = sobjectName(object);
      let described: z.output<typeof describeFieldsSchema>;
      try {
        described = parseAnswer(describeFieldsSchema, await call(`describe ${name}`, () => conn.describe(name)), `describe ${name}`);
      } catch (error) {
        if (error instanceof CrmRejectedError && (error.code === 'NOT_FOUND' || error.code === 'INVALID_TYPE')) return null;
        throw error;
      }
      return described.fields.map((field) => ({
        name: field.name,
        label: field.label,
        type: field.type,
        length: field.length ?? 0,
        writable: field.createable || field.updateable,
        picklistValues:
          field.type === 'picklist' || field.type === 'multipicklist'
            ? (field.picklistValues ?? []).filter((value) => value.active).map((value) => value.value)
            : null,
      }));
    },

    async describeAccess(objects) {
      const access: DescribedAccess = { objects: new Map(), fields: new Map() };
      for (const object of objects) {
        const name = sobjectName(object);
        let described: z.output<typeof describeSchema>;
        try {
          described = parseAnswer(describeSchema, await call(`describe ${name}`, () => conn.describe(name)), `describe ${name}`);
        } catch (error) {
          // An object the user cannot see answers NOT_FOUND / INVALID_TYPE: absent from the result.
          if (error instanceof CrmRejectedError && (error.code === 'NOT_FOUND' || error.code === 'INVALID_TYPE')) continue;
          throw error;
        }
        access.objects.set(described.name, { createable: described.createable, updateable: described.updateable });
        for (const field of described.fields)
          access.fields.set(`${described.name}.${field.name}`, field.updateable || field.createable ? 'edit' : 'read');
      }
      return access;
    },

    async marketingUser(userId, enable) {
      const [user] = await runQuery(
        `SELECT Id, UserPermissionsMarketingUser FROM User WHERE Id = ${soqlString(userId)}`,
        'read user permissions',
      );
      if (user === undefined) throw new CrmRejectedError('salesforce', 'NOT_FOUND', `Salesforce user ${userId} not found`);
      if (user.UserPermissionsMarketingUser === true || !enable)
        return { enabled: user.UserPermissionsMarketingUser === true, changed: false };
      const outcome = (await port.updateRecords('User', [{ Id: user.Id, UserPermissionsMarketingUser: true }])).get(user.Id);
      if (outcome?.ok !== true)
        throw new CrmRejectedError(
          'salesforce',
          outcome?.code ?? 'UNEXPECTED_RESPONSE',
          `Salesforce set Marketing User on ${userId}: ${outcome?.ok === false ? outcome.message : 'no result'}`,
        );
      return { enabled: true, changed: true };
    },

    async convertLead(leadId, convertedStatus, createOpportunity) {
      const answer = await call('convert lead', () =>
        conn.soap.convertLead({ leadId, convertedStatus, doNotCreateOpportunity: !createOpportunity, overwriteLeadSource: false }),
      );
      const result = parseAnswer(convertResultSchema, answer, 'convert lead');
      const errors =
        result.errors === undefined || result.errors === null ? [] : Array.isArray(result.errors) ? result.errors : [result.errors];
      if (!result.success || typeof result.contactId !== 'string' || typeof result.accountId !== 'string') {
        const first = errors[0];
        const code = first?.statusCode ?? first?.errorCode ?? 'CONVERT_FAILED';
        throw new CrmRejectedError('salesforce', code, `Salesforce convert lead ${leadId}: ${code}: ${first?.message ?? 'not converted'}`);
      }
      return {
        contactId: result.contactId,
        accountId: result.accountId,
        opportunityId: typeof result.opportunityId === 'string' ? result.opportunityId : null,
      };
    },

    recordUrl(type, id) {
      return `${conn.instanceUrl.replace(/\/+$/, '')}/lightning/r/${sobjectName(type)}/${encodeURIComponent(id)}/view`;
    },

    async currencyRates() {
      const now = Date.now();
      if (currencies !== undefined && currencies.until > now) return currencies.rates;
      let found: CurrencyRates | null;
      try {
        const records = await runQuery(
          'SELECT Id, IsoCode, ConversionRate, IsCorporate FROM CurrencyType WHERE IsActive = true',
          'read currency rates',
        );
        const corporate = records.find((record) => record.IsCorporate === true);
        const rates = new Map(
          records.flatMap((record) =>
            typeof record.IsoCode === 'string' && typeof record.ConversionRate === 'number'
              ? [[record.IsoCode, record.ConversionRate] as const]
              : [],
          ),
        );
        found = typeof corporate?.IsoCode === 'string' ? { corporate: corporate.IsoCode, multiCurrency: true, rates } : null;
      } catch (error) {
        // A single-currency org has no CurrencyType: "sObject type 'CurrencyType' is not supported"
        // (Object Reference, CurrencyType: "available only in orgs with multicurrency enabled").
        // Its one currency is getUserInfo's orgDefaultCurrencyIsoCode (SOAP API, GetUserInfoResult).
        if (!(error instanceof CrmRejectedError && error.code === 'INVALID_TYPE')) throw error;
        const info = await call('read user info', () => conn.soap.getUserInfo());
        const code = (info as { orgDefaultCurrencyIsoCode?: unknown }).orgDefaultCurrencyIsoCode;
        found = typeof code === 'string' && code !== '' ? { corporate: code, multiCurrency: false, rates: new Map() } : null;
      }
      currencies = { rates: found, until: now + CURRENCY_CACHE_MS };
      return found;
    },

    async listUsers() {
      const rows = parseAnswer(
        userRowsSchema,
        await runQuery('SELECT Id, Username, Email, Name, IsActive, UserType FROM User ORDER BY Id', 'read users'),
        'read users',
      );
      return rows.map((row) => ({
        id: row.Id,
        username: row.Username,
        email: row.Email ?? null,
        name: row.Name,
        active: row.IsActive,
        userType: row.UserType ?? null,
      }));
    },

    async apiUsage() {
      const limits = parseAnswer(limitsSchema, await call('read limits', () => conn.limits()), 'read limits');
      const daily = limits.DailyApiRequests;
      return [{ name: 'Daily API requests', used: daily.Max - daily.Remaining, max: daily.Max }];
    },
  };

  /** Creates one field through the Tooling API; false when it appeared meanwhile (a concurrent install). */
  async function createCustomField(definition: CustomFieldDefinition): Promise<boolean> {
    const body = { FullName: fullNameOf(definition), Metadata: toFieldMetadata(definition) };
    try {
      await limiter.acquire(limiterKey());
      const result = parseAnswer(saveResultSchema, await conn.tooling.create('CustomField', body), 'create custom field');
      const outcome = toWriteOutcome(result, true);
      if (!outcome.ok)
        throw new CrmRejectedError('salesforce', outcome.code, `Salesforce create custom field ${body.FullName}: ${outcome.message}`);
      return true;
    } catch (error) {
      const mapped = toSalesforceError(error, `create custom field ${body.FullName}`, secrets());
      if (mapped instanceof CrmRejectedError && mapped.code === 'DUPLICATE_DEVELOPER_NAME') return false;
      throw mapped;
    }
  }

  return port;
}

/** The Salesforce adapter's view of the org: its user, its users, its limits, its currencies, links to its records. */
import { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import type { CurrencyRates } from '../../domain/revenue.ts';
import type { SalesforcePort, SalesforceRecord } from '../ports.ts';
import { campaignsStartingQuery, resourcesSchema, sobjectName, stringValue } from './mapper.ts';
import type { SalesforceTransport } from './transport.ts';

/** The part of `/limits` the admin sees: the rolling 24 h API allowance (docs/reference/salesforce-api.md §3.3). */
const limitsSchema = z.object({ DailyApiRequests: z.object({ Max: z.number(), Remaining: z.number() }) });

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

/** How long the org's currency rates are kept before they are read again. */
const CURRENCY_CACHE_MS = 15 * 60_000;

/** The user and org of an identity URL `…/id/<orgId>/<userId>`. */
function parseIdentityUrl(url: string): { organizationId: string; userId: string } | undefined {
  const match = /\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?(?:\?|$)/.exec(url);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { organizationId: match[1], userId: match[2] };
}

async function whoAmI(t: SalesforceTransport): Promise<{ organizationId: string; userId: string }> {
  const known = t.conn.userInfo;
  if (known?.id !== undefined && known.organizationId !== undefined) return { organizationId: known.organizationId, userId: known.id };
  // The REST root names the identity URL, which ends in the org and user ids: one call, no token in a URL.
  const root = t.parseAnswer(
    resourcesSchema,
    await t.call('identity', () => t.conn.request({ method: 'GET', url: t.conn._baseUrl() })),
    'identity',
  );
  const parsed = parseIdentityUrl(root.identity);
  if (parsed === undefined)
    throw new CrmRejectedError('salesforce', 'UNEXPECTED_RESPONSE', 'Salesforce identity: the identity URL names no user');
  return parsed;
}

/** The integration user, the org's users and limits, its upcoming campaigns and record links. */
export function orgView(
  t: SalesforceTransport,
): Pick<SalesforcePort, 'integrationUserId' | 'recordUrl' | 'campaignsStartingBetween' | 'listUsers' | 'apiUsage'> {
  let identity: Promise<{ organizationId: string; userId: string }> | undefined;
  const recordUrl = (type: string, id: string) =>
    `${t.conn.instanceUrl.replace(/\/+$/, '')}/lightning/r/${sobjectName(type)}/${encodeURIComponent(id)}/view`;
  return {
    integrationUserId() {
      identity ??= whoAmI(t).catch((error: unknown) => {
        identity = undefined;
        throw error;
      });
      return identity.then((who) => who.userId);
    },

    recordUrl,

    async campaignsStartingBetween(from, until) {
      const text = (record: SalesforceRecord, field: string) => stringValue(record[field]);
      return (await t.runQuery(campaignsStartingQuery(from, until), 'read upcoming campaigns')).flatMap((record) => {
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
                url: recordUrl('Campaign', record.Id),
              },
            ];
      });
    },

    async listUsers() {
      const rows = t.parseAnswer(
        userRowsSchema,
        await t.runQuery('SELECT Id, Username, Email, Name, IsActive, UserType FROM User ORDER BY Id', 'read users'),
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
      const limits = t.parseAnswer(limitsSchema, await t.call('read limits', () => t.conn.limits()), 'read limits');
      const daily = limits.DailyApiRequests;
      return [{ name: 'Daily API requests', used: daily.Max - daily.Remaining, max: daily.Max }];
    },
  };
}

/** The org's currency rates, read at most every CURRENCY_CACHE_MS. */
export function orgCurrencies(t: SalesforceTransport): Pick<SalesforcePort, 'currencyRates'> {
  let currencies: { rates: CurrencyRates | null; until: number } | undefined;
  return {
    async currencyRates() {
      const now = Date.now();
      if (currencies !== undefined && currencies.until > now) return currencies.rates;
      let found: CurrencyRates | null;
      try {
        const records = await t.runQuery(
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
        const info = await t.call('read user info', () => t.conn.soap.getUserInfo());
        const code = (info as { orgDefaultCurrencyIsoCode?: unknown }).orgDefaultCurrencyIsoCode;
        found = typeof code === 'string' && code !== '' ? { corporate: code, multiCurrency: false, rates: new Map() } : null;
      }
      currencies = { rates: found, until: now + CURRENCY_CACHE_MS };
      return found;
    },
  };
}

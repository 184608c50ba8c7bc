/**
 * The Salesforce adapter: `SalesforcePort` over the real `jsforce` (sObject Collections, SOQL,
 * Tooling API, SOAP convertLead), and `connectSalesforce`, which logs in (password grant) or resumes
 * a session (access + refresh token) and reports every token refresh. Every HTTP call waits for the
 * shared limiter first; failures leave as the classes of `../errors.ts`. The port's methods are
 * written by area (writes.ts, reads.ts, sync-reads.ts, setup.ts, org.ts) over one transport.
 */
import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { createNoopLimiter, type RequestLimiter } from '../limiter.ts';
import type { SalesforcePort } from '../ports.ts';
import { toSalesforceError } from './errors.ts';
import { APP_CLIENT_NAME } from './pubsub/change-events.ts';
import { countResultSchema } from './mapper.ts';
import { orgCurrencies, orgView } from './org.ts';
import { fieldHistoryReads, recordReads } from './reads.ts';
import { orgSetup, userAccess } from './setup.ts';
import { createSyncReads } from './sync-reads.ts';
import { SalesforceTransport } from './transport.ts';
import { leadWrites, recordWrites } from './writes.ts';

/** The lowest API version with sObject Collections upsert by external id (docs/reference/salesforce-api.md §3.1). */
const MIN_API_VERSION = 46;

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
  // Every call names the app (`Sforce-Call-Options: client=…`, the SOAP `CallOptions` header), so
  // the change events of its own writes carry it in `changeOrigin` and are not synced back.
  const callOptions = { client: APP_CLIENT_NAME };
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
      const conn = new jsforce.Connection({
        loginUrl: options.loginUrl,
        version,
        callOptions,
        ...(oauth2 === undefined ? {} : { oauth2 }),
      });
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
          callOptions,
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
          callOptions,
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
  const t = new SalesforceTransport(conn, options.limiter ?? createNoopLimiter());
  const writes = recordWrites(t);
  return {
    system: 'salesforce',
    ...orgView(t),
    ...orgCurrencies(t),
    ...leadWrites(t),
    ...writes,
    ...recordReads(t),
    ...fieldHistoryReads(t),
    ...createSyncReads(
      (soql) => t.runQuery(soql, 'query'),
      async (soql) =>
        t.parseAnswer(countResultSchema, await t.call('count', () => conn.query(soql).execute({ autoFetch: false })), 'count').totalSize,
    ),
    ...orgSetup(t, writes),
    ...userAccess(t, writes),
  };
}

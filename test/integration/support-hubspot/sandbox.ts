/** Shared helpers of the HubSpot sandbox suites: a sandbox on an ephemeral port, clients, polling. */
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startHubSpotSandbox } from '../../../src/sandbox/hubspot/server.ts';
import type { HubSpotSandbox, HubSpotSandboxOptions } from '../../../src/sandbox/hubspot/server.ts';
import { eventuallyValue } from '../../support/app-process.ts';

export const PRIVATE_APP_TOKEN = 'pat-sandbox-hubspot';
export const CLIENT_ID = 'sandbox-hubspot-client';
export const CLIENT_SECRET = 'sandbox-hubspot-secret';
export const APP_ID = 2_000_001;
export const PORTAL_ID = 1_000_001;
export const DEVELOPER_KEY = 'SANDBOX_HUBSPOT_DEV_KEY';

/** Starts a sandbox on port 0 with the documented default credentials. */
export function startSandbox(overrides: Partial<HubSpotSandboxOptions> = {}): Promise<HubSpotSandbox> {
  return startHubSpotSandbox({
    port: 0,
    portalId: PORTAL_ID,
    privateAppToken: PRIVATE_APP_TOKEN,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    appId: APP_ID,
    developerKey: DEVELOPER_KEY,
    ...overrides,
  });
}

/** The real client pointed at the sandbox. */
export function clientFor(sandbox: HubSpotSandbox, options: { accessToken?: string; numberOfApiCallRetries?: number } = {}): Client {
  return new Client({
    accessToken: options.accessToken ?? PRIVATE_APP_TOKEN,
    basePath: sandbox.url,
    ...(options.numberOfApiCallRetries === undefined ? {} : { numberOfApiCallRetries: options.numberOfApiCallRetries }),
  });
}

/** The hidden fields of an OAuth consent page with the button the user pressed, as the browser posts them. */
export function consentForm(page: string, decision: 'approve' | 'deny'): URLSearchParams {
  const form = new URLSearchParams();
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1] ?? '', (match[2] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"'));
  }
  form.set('decision', decision);
  return form;
}

/** The app's refresh of an OAuth grant (its client id and secret). */
export function refreshGrant(sandbox: HubSpotSandbox, refreshToken: string) {
  return new Client({ basePath: sandbox.url }).oauth.tokensApi.create(
    'refresh_token',
    undefined,
    undefined,
    CLIENT_ID,
    CLIENT_SECRET,
    refreshToken,
  );
}

/** The client with the developer API key (Webhooks v3 management API). */
export function developerClientFor(sandbox: HubSpotSandbox): Client {
  return new Client({ developerApiKey: DEVELOPER_KEY, basePath: sandbox.url });
}

/** A response body as tests see it: shapes are checked by assertions, not by the type system. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are inspected with expect(), field by field
export type LooseJson = any;

/** What an `ApiException` from the client carries. */
export interface ApiFailure {
  code: number;
  body: LooseJson;
  headers: Record<string, string>;
}

/** Awaits a call that must fail and returns its HTTP status and parsed body. */
export async function failureOf(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call;
  } catch (error) {
    const failure = error as { code?: unknown; body?: unknown; headers?: unknown };
    if (typeof failure.code === 'number') {
      return { code: failure.code, body: (failure.body ?? {}) as LooseJson, headers: (failure.headers ?? {}) as Record<string, string> };
    }
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Polls (every 15 ms: the sandbox is local) until `check` returns something other than undefined/false, or fails after the timeout. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  return eventuallyValue(check, timeoutMs, what, 15);
}

/** Raw JSON call to the sandbox (for endpoints the client has no method for). */
export async function rawJson(
  sandbox: HubSpotSandbox,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: LooseJson; headers: Headers }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

/** Runs the OAuth install over HTTP (consent approved, code exchanged) and returns the tokens. */
export async function installOauthApp(
  sandbox: HubSpotSandbox,
  redirectUri = 'http://127.0.0.1:3000/oauth/hubspot/callback',
): Promise<{ accessToken: string; refreshToken: string }> {
  const approved = await fetch(`${sandbox.url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: redirectUri,
      scope: 'oauth crm.objects.contacts.read',
      decision: 'approve',
    }),
  });
  const code = new URL(approved.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const tokens = await new Client({ basePath: sandbox.url }).oauth.tokensApi.create(
    'authorization_code',
    code,
    redirectUri,
    CLIENT_ID,
    CLIENT_SECRET,
  );
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** A sandbox portal for one test file: started once and reset before each test; `use` receives it and its client. */
export function sandboxPortalPerTest(use: (sandbox: HubSpotSandbox, hubspot: Client) => void): void {
  let sandbox: HubSpotSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox();
    use(sandbox, clientFor(sandbox));
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  beforeEach(async () => {
    await sandbox?.reset();
  });
}

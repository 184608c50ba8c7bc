import jsforce, { type Connection } from 'jsforce';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from '../../src/sandbox/salesforce/server.ts';

/** The sandbox org's documented defaults (README, Sandbox CRMs): the org id, the admin login and the app's client. */
export const SANDBOX_ORG = {
  orgId: '00D000000000001AAA',
  username: 'admin@sandbox.example.com',
  password: 'sandbox',
  clientId: 'sandbox-salesforce-client',
  clientSecret: 'sandbox-salesforce-secret',
} as const;

/** A session acting as one of the sandbox org's users (its sandbox token), as that person would use the API. */
export function sessionAs(sandbox: SalesforceSandbox, userId: string): Connection {
  return new jsforce.Connection({ instanceUrl: sandbox.url, accessToken: sandbox.issueUserToken(userId).access_token, version: '62.0' });
}

/** The connected app's password login, which runs as the org's integration user (on API `version`). */
export async function loginAsIntegration(sandbox: SalesforceSandbox, version = '62.0'): Promise<Connection> {
  const conn = new jsforce.Connection({
    version,
    oauth2: {
      loginUrl: sandbox.url,
      clientId: SANDBOX_ORG.clientId,
      clientSecret: SANDBOX_ORG.clientSecret,
      redirectUri: 'http://localhost/cb',
    },
  });
  await conn.login(SANDBOX_ORG.username, SANDBOX_ORG.password);
  return conn;
}

/**
 * A sandbox org for one test file (with the sandbox `options` given, such as a clock `now`): started
 * once, reset before each test, when `use` receives it with a fresh integration session (on API
 * `apiVersion`, default 62.0) and a session of the org's administrator.
 */
export function sandboxOrgPerTest(
  use: (org: { sandbox: SalesforceSandbox; integration: Connection; admin: Connection }) => void,
  options: Omit<SalesforceSandboxOptions, 'port' | keyof typeof SANDBOX_ORG> & { apiVersion?: string } = {},
): void {
  const { apiVersion, ...sandboxOptions } = options;
  let sandbox: SalesforceSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ port: 0, ...SANDBOX_ORG, ...sandboxOptions });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  beforeEach(async () => {
    if (sandbox === undefined) throw new Error('the sandbox org did not start');
    await sandbox.reset();
    use({ sandbox, integration: await loginAsIntegration(sandbox, apiVersion), admin: sessionAs(sandbox, sandbox.adminUserId) });
  });
}

/** Creates one record and returns its id (throws with the answer when Salesforce refuses it). */
export async function createdId(conn: Connection, type: string, values: Record<string, unknown>): Promise<string> {
  const result = await conn.sobject(type).create(values);
  if (!result.success) throw new Error(`${type} not created: ${JSON.stringify(result)}`);
  return result.id;
}

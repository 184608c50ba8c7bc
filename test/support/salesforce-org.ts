import jsforce, { type Connection } from 'jsforce';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';

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

/** The connected app's password login, which runs as the org's integration user. */
export async function loginAsIntegration(sandbox: SalesforceSandbox): Promise<Connection> {
  const conn = new jsforce.Connection({
    version: '62.0',
    oauth2: { loginUrl: sandbox.url, clientId: SANDBOX_ORG.clientId, clientSecret: SANDBOX_ORG.clientSecret, redirectUri: 'http://localhost/cb' },
  });
  await conn.login(SANDBOX_ORG.username, SANDBOX_ORG.password);
  return conn;
}

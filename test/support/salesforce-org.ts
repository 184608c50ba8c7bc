/** The sandbox org's documented defaults (README, Sandbox CRMs): the org id, the admin login and the app's client. */
export const SANDBOX_ORG = {
  orgId: '00D000000000001AAA',
  username: 'admin@sandbox.example.com',
  password: 'sandbox',
  clientId: 'sandbox-salesforce-client',
  clientSecret: 'sandbox-salesforce-secret',
} as const;

import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('starts in sandbox mode with documented defaults when nothing is set', () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.port).toBe(3000);
    expect(result.value.hubspot.mode).toBe('sandbox');
    expect(result.value.salesforce.mode).toBe('sandbox');
    expect(result.value.hubspot.apiBaseUrl).toBe('https://api.hubapi.com');
    expect(result.value.salesforce.loginUrl).toBe('https://login.salesforce.com');
    expect(result.value.sandbox.hubspot).toMatchObject({ port: 4101, portalId: 1000001, privateAppToken: 'pat-sandbox-hubspot', clientId: 'sandbox-hubspot-client', clientSecret: 'sandbox-hubspot-secret', appId: 2000001 });
    expect(result.value.sandbox.salesforce).toMatchObject({ port: 4102, orgId: '00D000000000001AAA', username: 'admin@sandbox.example.com', password: 'sandbox' });
    expect(result.value.sandboxDemo).toBe(true);
    expect(result.value.dataDir).toMatch(/\/data$/);
  });

  it('lists every problem at once', () => {
    const result = loadConfig({ PORT: 'eighty', REDIS_URL: 'http://nope', SANDBOX_DEMO: 'maybe' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('3 problems');
    expect(result.error).toContain('PORT');
    expect(result.error).toContain('REDIS_URL');
    expect(result.error).toContain('SANDBOX_DEMO');
  });

  it('never echoes a secret value in its message', () => {
    const secret = 'super-secret-key-value';
    const result = loadConfig({ ENCRYPTION_KEY: secret, ADMIN_TOKEN: 'short', HUBSPOT_ACCESS_TOKEN: 'pat-live-token' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('ENCRYPTION_KEY');
    expect(result.error).toContain('ADMIN_TOKEN');
    expect(result.error).not.toContain(secret);
    expect(result.error).not.toContain('short');
    expect(result.error).not.toContain('pat-live-token');
  });

  it('requires an encryption key and admin token once a real CRM is connected', () => {
    const result = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-123' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('ENCRYPTION_KEY: required');
    expect(result.error).toContain('ADMIN_TOKEN: required');
  });

  it('connects the live side with credentials and keeps the other in the sandbox', () => {
    const result = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-123', ENCRYPTION_KEY: 'a'.repeat(64), ADMIN_TOKEN: 'k7Qp2vX9mL4sT8wB1nR6yH3cJ5fD0gZaE-uVoIiKlM_q' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.hubspot.mode).toBe('live');
    expect(result.value.salesforce.mode).toBe('sandbox');
    expect(result.value.encryptionKey?.length).toBe(32);
  });

  it('refuses SANDBOX=false without credentials for both sides', () => {
    const result = loadConfig({ SANDBOX: 'false' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('HUBSPOT_ACCESS_TOKEN');
    expect(result.error).toContain('SALESFORCE_ACCESS_TOKEN');
  });

  it('treats empty variables as unset', () => {
    const result = loadConfig({ REDIS_URL: '', PORT: '' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.redisUrl).toBeUndefined();
    expect(result.value.port).toBe(3000);
  });
});

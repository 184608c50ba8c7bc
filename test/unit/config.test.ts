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
    expect(result.value.sandbox.hubspot).toMatchObject({
      port: 4101,
      portalId: 1000001,
      privateAppToken: 'pat-sandbox-hubspot',
      clientId: 'sandbox-hubspot-client',
      clientSecret: 'sandbox-hubspot-secret',
      appId: 2000001,
    });
    expect(result.value.sandbox.salesforce).toMatchObject({
      port: 4102,
      orgId: '00D000000000001AAA',
      username: 'admin@sandbox.example.com',
      password: 'sandbox',
    });
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

  it('takes a Redis Cluster only with a node to reach it by', () => {
    const alone = loadConfig({ REDIS_CLUSTER: 'true' });
    expect(alone.ok).toBe(false);
    if (!alone.ok) expect(alone.error).toContain('REDIS_URL: required when REDIS_CLUSTER=true');
    const cluster = loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://10.0.0.5:7000' });
    expect(cluster.ok && cluster.value.redisCluster).toBe(true);
    const single = loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379' });
    expect(single.ok && single.value.redisCluster).toBe(false);
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
    const result = loadConfig({
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-123',
      ENCRYPTION_KEY: 'a'.repeat(64),
      ADMIN_TOKEN: 'k7Qp2vX9mL4sT8wB1nR6yH3cJ5fD0gZaE-uVoIiKlM_q',
    });
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

  it('refuses an ADMIN_TOKEN shorter than 32 random bytes, saying how to generate one', () => {
    for (const token of [
      'admin-token-for-tests-0123456789',
      'a'.repeat(64),
      '0123456789abcdef'.repeat(3),
      'correct horse battery staple correct horse battery',
    ]) {
      const result = loadConfig({ ADMIN_TOKEN: token });
      expect(result.ok, token).toBe(false);
      if (result.ok) continue;
      expect(result.error).toContain('ADMIN_TOKEN: must be at least 32 random bytes');
      expect(result.error).toContain('openssl rand -base64 32');
      expect(result.error).not.toContain(token);
    }
  });

  it('accepts an ADMIN_TOKEN made by openssl rand -base64 32 or -hex 32', () => {
    for (const token of [
      'q3J9mX2kP8vL5tR1wY7bN4cF6hD0sG2aZ/uE+oIiKlM=',
      '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    ]) {
      const result = loadConfig({ ADMIN_TOKEN: token });
      expect(result.ok, token).toBe(true);
    }
  });

  it('listens on loopback unless PUBLIC_URL or HOST says otherwise', () => {
    const local = loadConfig({});
    const published = loadConfig({ PUBLIC_URL: 'https://sync.example.com' });
    const chosen = loadConfig({ PUBLIC_URL: 'https://sync.example.com', HOST: '10.0.0.5' });
    expect(local.ok && local.value.host).toBe('127.0.0.1');
    expect(published.ok && published.value.host).toBe('0.0.0.0');
    expect(chosen.ok && chosen.value.host).toBe('10.0.0.5');
  });

  it('trusts no proxy by default and takes TRUST_PROXY as addresses and CIDRs', () => {
    const none = loadConfig({});
    expect(none.ok && none.value.trustProxy).toEqual([]);
    const some = loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8' });
    expect(some.ok && some.value.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
    const wrong = loadConfig({ TRUST_PROXY: '10.0.0.0/40,proxy.example' });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toContain('TRUST_PROXY');
  });
});

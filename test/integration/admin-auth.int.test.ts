/**
 * Admin sign-in: nothing under /admin, /api or the OAuth install starts without it; the session
 * cookie is httpOnly and SameSite=Strict and only its hash is stored; changes need the CSRF token;
 * the admin token works as an API bearer; sandbox mode generates the secrets it lacks.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789-abcdefghijklmn';

describe('admin sign-in', () => {
  let admin: AdminApp;
  let installationId: string;

  beforeAll(async () => {
    admin = await startAdminApp({ ADMIN_TOKEN }, { sandboxes: false });
    installationId = (await admin.app.db.query<{ id: string }>('SELECT id FROM installations LIMIT 1'))[0]?.id ?? '';
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
  });

  it('refuses every dashboard page, API route and OAuth install without sign-in', async () => {
    const client = new AdminClient(admin.url);
    for (const target of ['/admin', `/admin/installations/${installationId}`, `/admin/installations/${installationId}/settings`, `/admin/installations/${installationId}/health`, '/admin/report', '/admin/queues', '/admin/queues/api/queues', '/oauth/hubspot/install', '/oauth/salesforce/install']) {
      const response = await client.request('GET', target);
      expect(response.status, target).toBe(303);
      expect(response.headers.get('location'), target).toBe(`/admin/login?next=${encodeURIComponent(target)}`);
    }
    for (const [method, target] of [['GET', '/api/installations'], ['GET', '/api/openapi.json'], ['GET', '/api/report'], ['GET', '/api/jobs/failed'], ['POST', '/api/jobs/syncToSalesforce/replay-failed'], ['PUT', `/api/installations/${installationId}/settings/slaPolicy`]] as const) {
      const answer = await client.api(method, target, method === 'GET' ? undefined : {});
      expect(answer.status, target).toBe(401);
      expect(answer.json).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('Sign in') });
    }
  });

  it('signs in with the admin token: an httpOnly, SameSite=Strict cookie whose id is stored only hashed', async () => {
    const client = new AdminClient(admin.url);
    const response = await client.form('/admin/login', { token: ADMIN_TOKEN, next: '/admin/report' }, false);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/admin/report');
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('smk_admin=')) ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const sessionId = client.cookie('smk_admin') ?? '';
    expect(sessionId.length).toBeGreaterThanOrEqual(40);
    const rows = await admin.app.db.query<{ id_hash: string }>('SELECT id_hash FROM admin_sessions');
    expect(rows.map((r) => r.id_hash)).toContain(createHash('sha256').update(sessionId).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(sessionId);
    expect((await client.page('/admin')).status).toBe(200);
  });

  it('refuses a state-changing form or API call without the session CSRF token', async () => {
    const client = new AdminClient(admin.url);
    await client.signIn(ADMIN_TOKEN);
    expect(client.csrfToken.length).toBeGreaterThan(20);

    const form = await client.form(`/admin/installations/${installationId}/settings/slaPolicy`, { value: '{"hours": 8}' }, false);
    expect(form.status).toBe(403);
    const api = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, { body: '{"hours": 8}', headers: { 'content-type': 'application/json' } });
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: 'csrf_failed' });
    const wrongToken = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, { body: '{"hours": 8}', headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' } });
    expect(wrongToken.status).toBe(403);

    const saved = await client.api('PUT', `/api/installations/${installationId}/settings/slaPolicy`, { hours: 8 });
    expect(saved.status).toBe(200);
    expect(saved.json.value.hours).toBe(8);
    const viaForm = await client.form(`/admin/installations/${installationId}/settings/slaPolicy`, { value: '{"hours": 6}' });
    expect(viaForm.status).toBe(303);
  });

  it('accepts the admin token as a bearer on the API, without CSRF', async () => {
    const answer = await fetch(`${admin.url}/api/installations/${installationId}/settings/slaPolicy`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hours: 2 }),
    });
    expect(answer.status).toBe(200);
    const wrong = await fetch(`${admin.url}/api/installations`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
    expect(wrong.status).toBe(401);
  });

  it('follows only paths of this app after sign-in', async () => {
    for (const next of ['https://evil.example/admin', '//evil.example/admin', '/webhooks/hubspot', 'javascript:alert(1)']) {
      const client = new AdminClient(admin.url);
      const response = await client.form('/admin/login', { token: ADMIN_TOKEN, next }, false);
      expect(response.headers.get('location'), next).toBe('/admin');
    }
  });

  it('ends the session on sign-out', async () => {
    const client = new AdminClient(admin.url);
    await client.signIn(ADMIN_TOKEN);
    const sessionId = client.cookie('smk_admin') ?? '';
    const out = await client.form('/admin/logout', {});
    expect(out.status).toBe(303);
    const rows = await admin.app.db.query('SELECT 1 FROM admin_sessions WHERE id_hash = $1', [createHash('sha256').update(sessionId).digest('hex')]);
    expect(rows).toHaveLength(0);
    const again = await fetch(`${admin.url}/api/installations`, { headers: { cookie: `smk_admin=${sessionId}` } });
    expect(again.status).toBe(401);
  });

  // Last: it locks the test address out of sign-in for 15 minutes.
  it('refuses a wrong token, and an address after ten wrong tokens', async () => {
    const client = new AdminClient(admin.url);
    const wrong = await client.form('/admin/login', { token: 'not-the-token' }, false);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That is not the admin token.');
    for (let i = 0; i < 9; i++) await client.form('/admin/login', { token: `wrong-${i}` }, false);
    const limited = await client.form('/admin/login', { token: ADMIN_TOKEN }, false);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many wrong tokens');
    expect(admin.logs().filter((line) => line.includes('admin sign-in refused')).length).toBeGreaterThanOrEqual(10);
  });
});

describe('secrets in sandbox mode', () => {
  it('generates the admin token and encryption key once into DATA_DIR (0600) and logs only where they are', async () => {
    const admin = await startAdminApp({}, { sandboxes: false });
    try {
      const tokenFile = path.join(admin.dataDir, 'secrets', 'admin-token');
      const keyFile = path.join(admin.dataDir, 'secrets', 'encryption-key');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(admin.adminToken).toMatch(/^[0-9a-f]{64}$/);
      const logs = admin.logs().join('\n');
      expect(logs).toContain(tokenFile);
      expect(logs).toContain(keyFile);
      expect(logs).not.toContain(admin.adminToken);
      const client = new AdminClient(admin.url);
      await client.signIn(admin.adminToken);
      expect((await client.page('/admin')).html).toContain('Installations');
    } finally {
      await admin.close();
    }
  });
});

/**
 * Admin sign-in: nothing under /admin, /api or the OAuth install starts without it; the session
 * cookie is httpOnly and SameSite=Strict and only its hash is stored, bound to the token that made
 * it, with idle and absolute lifetimes; changes need the CSRF token; the admin token works as an
 * API bearer, and every way of presenting it shares one lockout; credentials are judged before a
 * body is read; sandbox mode generates the secrets it lacks.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, startAdminApp, type AdminApp } from '../support/admin-harness.ts';
import { freshPostgresUrl } from '../support/db.ts';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789-abcdefghijklmn';
const ROTATED_TOKEN = 'rotated-admin-token-for-tests-9876543210-zyxwvu';
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789-abcdefghijk';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Sends the headers of a request and the first KiB of a body `declared` bytes long, never the
 * rest; resolves with the status if the server answers anyway, or 'waiting' after `patienceMs`.
 */
function answerBeforeBody(url: string, headers: Record<string, string>, declared: number, patienceMs = 5_000): Promise<number | 'waiting'> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(declared) } });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('waiting');
    }, patienceMs);
    req.on('response', (response) => {
      clearTimeout(timer);
      response.resume();
      req.destroy();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.write(Buffer.alloc(1024, 0x61));
  });
}

describe('admin sign-in', () => {
  let admin: AdminApp;
  let installationId: string;
  let databaseUrl: string;
  // The sign-in clock: lockout windows and session lifetimes are tested by moving it.
  let skew = 0;
  const clock = () => Date.now() + skew;
  /** Moves the clock past every lockout window (the loopback address starts afresh). */
  const unlock = () => {
    skew += 16 * MINUTE;
  };

  beforeAll(async () => {
    databaseUrl = freshPostgresUrl();
    admin = await startAdminApp({ ADMIN_TOKEN, DATABASE_URL: databaseUrl, METRICS_TOKEN }, { sandboxes: false, adminClock: clock });
    installationId = (await admin.app.db.query<{ id: string }>('SELECT id FROM installations LIMIT 1'))[0]?.id ?? '';
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
  });

  it('refuses every dashboard page, API route and OAuth install without sign-in', async () => {
    const client = new AdminClient(admin.url);
    for (const target of [
      '/admin',
      `/admin/installations/${installationId}`,
      `/admin/installations/${installationId}/settings`,
      `/admin/installations/${installationId}/health`,
      '/admin/report',
      '/admin/queues',
      '/admin/queues/api/queues',
      '/oauth/hubspot/install',
      '/oauth/salesforce/install',
    ]) {
      const response = await client.request('GET', target);
      expect(response.status, target).toBe(303);
      expect(response.headers.get('location'), target).toBe(`/admin/login?next=${encodeURIComponent(target)}`);
    }
    for (const [method, target] of [
      ['GET', '/api/installations'],
      ['GET', '/api/openapi.json'],
      ['GET', '/api/report'],
      ['GET', '/api/jobs/failed'],
      ['POST', '/api/jobs/syncToSalesforce/replay-failed'],
      ['PUT', `/api/installations/${installationId}/settings/slaPolicy`],
    ] as const) {
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
    const api = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      body: '{"hours": 8}',
      headers: { 'content-type': 'application/json' },
    });
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: 'csrf_failed' });
    const wrongToken = await client.request('PUT', `/api/installations/${installationId}/settings/slaPolicy`, {
      body: '{"hours": 8}',
      headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' },
    });
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
    const rows = await admin.app.db.query('SELECT 1 FROM admin_sessions WHERE id_hash = $1', [
      createHash('sha256').update(sessionId).digest('hex'),
    ]);
    expect(rows).toHaveLength(0);
    const again = await fetch(`${admin.url}/api/installations`, { headers: { cookie: `smk_admin=${sessionId}` } });
    expect(again.status).toBe(401);
  });

  it('refuses a wrong token, and an address after ten wrong tokens', async () => {
    unlock();
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

  it('locks out bearer guessing on /api and /admin: 429 with Retry-After, the right token refused too, free again after the window', async () => {
    unlock();
    const guesses = [];
    for (let i = 0; i < 10; i++) {
      const target = i % 2 === 0 ? '/api/installations' : '/admin';
      guesses.push(
        (await fetch(`${admin.url}${target}`, { headers: { authorization: `Bearer guess-${i}-${'x'.repeat(40)}` }, redirect: 'manual' }))
          .status,
      );
    }
    expect(guesses.filter((status) => status === 401 || status === 303)).toHaveLength(10);

    const locked = await fetch(`${admin.url}/api/installations`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    expect(await locked.json()).toMatchObject({ error: 'too_many_failures' });
    // The sign-in form shares the count.
    const form = await new AdminClient(admin.url).form('/admin/login', { token: ADMIN_TOKEN }, false);
    expect(form.status).toBe(429);

    skew += 14 * MINUTE;
    expect((await fetch(`${admin.url}/api/installations`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(429);
    skew += 2 * MINUTE;
    expect((await fetch(`${admin.url}/api/installations`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);

    const logs = admin.logs().filter((line) => line.includes('admin sign-in refused'));
    expect(logs.some((line) => line.includes('"via":"bearer"'))).toBe(true);
    expect(logs.join('\n')).not.toContain('guess-');
    expect(logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('ignores X-Forwarded-For when no proxy is trusted: a spoofed address per guess is still one address', async () => {
    unlock();
    for (let i = 0; i < 10; i++) {
      const answer = await fetch(`${admin.url}/api/installations`, {
        headers: { authorization: 'Bearer wrong', 'x-forwarded-for': `198.51.100.${i + 1}` },
      });
      expect(answer.status).toBe(401);
    }
    const spoofed = await fetch(`${admin.url}/api/installations`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '203.0.113.77' },
    });
    expect(spoofed.status).toBe(429);
    const logged = admin
      .logs()
      .filter((line) => line.includes('admin sign-in refused'))
      .slice(-3)
      .join('\n');
    expect(logged).not.toContain('198.51.100.');
    expect(logged).toContain('127.0.0.1');
  });

  it('answers a request without credentials before reading its body', async () => {
    unlock();
    expect(
      await answerBeforeBody(
        `${admin.url}/api/installations/${installationId}/settings/slaPolicy`,
        { 'content-type': 'application/json' },
        400 * 1024,
      ),
    ).toBe(401);
    expect(
      await answerBeforeBody(
        `${admin.url}/admin/installations/${installationId}/settings/slaPolicy`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        900 * 1024,
      ),
    ).toBe(303);
    // A wrong bearer too: the token is judged from the headers alone.
    expect(
      await answerBeforeBody(
        `${admin.url}/api/jobs/syncToSalesforce/replay-failed`,
        { 'content-type': 'application/json', authorization: 'Bearer wrong' },
        400 * 1024,
      ),
    ).toBe(401);
  });

  it('ends a session after 12 hours without use, and after 7 days however much it is used', async () => {
    unlock();
    const idle = new AdminClient(admin.url);
    await idle.signIn(ADMIN_TOKEN);
    skew += 11 * HOUR;
    expect((await idle.api('GET', '/api/installations')).status).toBe(200);
    skew += 12 * HOUR + MINUTE;
    expect((await idle.api('GET', '/api/installations')).status).toBe(401);

    const busy = new AdminClient(admin.url);
    await busy.signIn(ADMIN_TOKEN);
    // Used every 11 h 59 min: never idle for 12 hours, 7 days less 14 minutes after sign-in.
    for (let step = 0; step < 14; step++) {
      skew += 12 * HOUR - MINUTE;
      expect((await busy.api('GET', '/api/installations')).status, `after ${step + 1} uses`).toBe(200);
    }
    skew += 16 * MINUTE;
    expect((await busy.api('GET', '/api/installations')).status).toBe(401);
  });

  it('signs out everywhere: every operator session ends, from the dashboard or the API', async () => {
    unlock();
    const laptop = new AdminClient(admin.url);
    const phone = new AdminClient(admin.url);
    await laptop.signIn(ADMIN_TOKEN);
    await phone.signIn(ADMIN_TOKEN);
    expect((await phone.page('/admin')).html).toContain('Sign out everywhere');
    const out = await laptop.form('/admin/sign-out-everywhere', {});
    expect(out.status).toBe(303);
    expect((await laptop.api('GET', '/api/installations')).status).toBe(401);
    expect((await phone.api('GET', '/api/installations')).status).toBe(401);

    await phone.signIn(ADMIN_TOKEN);
    const api = await fetch(`${admin.url}/api/sessions/sign-out-everywhere`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(await api.json()).toEqual({ ended: 1 });
    expect((await phone.api('GET', '/api/installations')).status).toBe(401);
  });

  it('serves /metrics only with METRICS_TOKEN once one is set, with the per-installation series', async () => {
    expect((await fetch(`${admin.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${admin.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
    const scraped = await fetch(`${admin.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(text).toContain('# TYPE webhook_events_accepted_total counter');
    expect(text).toContain('# TYPE webhook_events_accepted_by_source_total counter');
  });

  it('listens on loopback only when neither PUBLIC_URL nor HOST says otherwise', () => {
    expect(admin.app.listenAddress).toBe('127.0.0.1');
  });

  describe('after ADMIN_TOKEN is rotated and the app restarted', () => {
    let rotated: AdminApp;

    beforeAll(async () => {
      // The same database, the new token: what a restart with a rotated ADMIN_TOKEN sees.
      rotated = await startAdminApp(
        { ADMIN_TOKEN: ROTATED_TOKEN, DATABASE_URL: databaseUrl, HOST: '0.0.0.0', TRUST_PROXY: 'loopback' },
        { sandboxes: false, adminClock: clock },
      );
    }, 60_000);

    afterAll(async () => {
      await rotated?.close();
    });

    it('refuses the sessions made with the old token and accepts new ones', async () => {
      unlock();
      const client = new AdminClient(admin.url);
      await client.signIn(ADMIN_TOKEN);
      const cookie = `smk_admin=${client.cookie('smk_admin') ?? ''}`;
      expect((await fetch(`${admin.url}/api/installations`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${rotated.url}/api/installations`, { headers: { cookie } })).status).toBe(401);
      expect((await fetch(`${rotated.url}/api/installations`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
      const fresh = new AdminClient(rotated.url);
      await fresh.signIn(ROTATED_TOKEN);
      expect((await fresh.api('GET', '/api/installations')).status).toBe(200);
    });

    it('takes the client from X-Forwarded-For through TRUST_PROXY; the overall limit spares the addresses the operator signed in from', async () => {
      unlock();
      const bearer = (address: string, token: string) =>
        fetch(`${rotated.url}/api/installations`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });
      expect((await bearer('192.0.2.10', ROTATED_TOKEN)).status).toBe(200);
      // Ten addresses, ten wrong tokens each: every one locked on its own, and 100 failures in all.
      for (let host = 1; host <= 10; host++) {
        for (let i = 0; i < 10; i++) expect((await bearer(`198.51.100.${host}`, 'wrong')).status).toBe(401);
        expect((await bearer(`198.51.100.${host}`, ROTATED_TOKEN)).status).toBe(429);
      }
      const stranger = await bearer('203.0.113.50', ROTATED_TOKEN);
      expect(stranger.status).toBe(429);
      expect(Number(stranger.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
      expect((await bearer('192.0.2.10', ROTATED_TOKEN)).status).toBe(200);
      expect(rotated.logs().some((line) => line.includes('198.51.100.7'))).toBe(true);
      unlock();
      expect((await bearer('203.0.113.50', ROTATED_TOKEN)).status).toBe(200);
    });

    it('listens on every interface when HOST says so', () => {
      expect(rotated.app.listenAddress).toBe('0.0.0.0');
    });
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

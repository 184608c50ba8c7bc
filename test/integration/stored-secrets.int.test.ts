/**
 * Secrets at rest across restarts: a wrong ENCRYPTION_KEY, a damaged or moved value, and values
 * sealed by an earlier version. Nothing crashes, nothing an admin stored is lost, and what cannot
 * be read is a state with its fix on the pages and in the API.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/startup/boot.ts';
import { createSealer } from '../../src/runtime/secrets.ts';
import { CredentialVault } from '../../src/server/oauth/credentials.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { dropPrefix, uniquePrefix } from '../support/queue.ts';

const ADMIN_TOKEN = randomBytes(32).toString('hex');
const ALERT = { url: 'https://hooks.example.com/services/T0/B0/pathtoken42', secret: 'alert-signing-secret-0123456789' };

/** A value sealed the way earlier versions did (format 1: a 1-byte key id, no associated data). */
function sealLegacy(key: Buffer, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1, createHash('sha256').update(key).digest()[0] ?? 0]), iv, cipher.getAuthTag(), body]);
}

describe('stored secrets across restarts', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  let dataDir: string;
  let databaseUrl: string;
  let prefix: string;
  let app: RunningApp | undefined;
  let sandboxId: string;
  let otherId: string;

  async function start(key: Buffer): Promise<RunningApp> {
    const config = loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject('redisUrl'),
      SANDBOX_DEMO: 'false',
      SANDBOX_HUBSPOT_PORT: '0',
      SANDBOX_SALESFORCE_PORT: '0',
      ENCRYPTION_KEY: key.toString('hex'),
      ADMIN_TOKEN,
    });
    if (!config.ok) throw new Error(config.error);
    app = await boot(config.value, {
      role: 'all',
      log: createLogger('silent'),
      queuePrefix: prefix,
      coalesceMs: 50,
      reconcileIntervalMs: 3_600_000,
    });
    return app;
  }

  async function stop(): Promise<void> {
    await app?.close();
    app = undefined;
  }

  async function call(
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const response = await fetch(`${app?.url ?? ''}${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a page
    }
    return { status: response.status, json, text };
  }

  async function sealedAlert(installationId: string): Promise<Buffer | null> {
    const rows = await (app as RunningApp).db.query<{ sealed: Uint8Array | null }>(
      'SELECT alert_target AS sealed FROM installations WHERE id = $1',
      [installationId],
    );
    return rows[0]?.sealed ? Buffer.from(rows[0].sealed) : null;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-secrets-'));
    databaseUrl = freshPostgresUrl();
    prefix = uniquePrefix();
  });

  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
    await dropPrefix(prefix);
  });

  it('starts the sandbox after ENCRYPTION_KEY changed, and shows what it cannot read with the fix', async () => {
    const first = await start(keyA);
    sandboxId = (await first.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id ?? '';
    expect((await call('PUT', `/api/installations/${sandboxId}/alert`, ALERT)).status).toBe(200);
    // A HubSpot grant stored through the vault, as the OAuth install does.
    await new CredentialVault(first.db, createSealer(keyA)).write(sandboxId, 'hubspot', {
      kind: 'oauth',
      accessToken: 'access-token-a',
      refreshToken: 'refresh-token-a',
      expiresAt: Date.now() + 1_800_000,
      scopes: ['oauth'],
      hubId: '1000001',
      appId: '2000001',
      connectedAt: Date.now(),
    });
    await stop();

    await start(keyB);
    const alert = await call('GET', `/api/installations/${sandboxId}/alert`);
    expect(alert.status).toBe(200);
    expect(alert.json).toMatchObject({ configured: true, url: null, state: 'unreadable' });
    expect(String(alert.json.problem)).toMatch(/ENCRYPTION_KEY.*save the alert target again/);
    const connections = await call('GET', `/api/installations/${sandboxId}/connections`);
    expect(connections.status).toBe(200);
    expect(connections.json.hubspot).toMatchObject({ state: 'error' });
    expect(String((connections.json.hubspot as { error: string }).error)).toMatch(/cannot be decrypted.*reconnect HubSpot/);
    const page = await call('GET', `/admin/installations/${sandboxId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('The SLA alert target cannot be read');
    // Nothing was lost: the values sealed with the other key are still stored as they were.
    expect((await sealedAlert(sandboxId))?.[0]).toBe(2);
  });

  it('refuses a sealed value swapped from one installation into another', async () => {
    const running = app as RunningApp;
    otherId = (await upsertInstallation(running.db, { name: 'Second', hubspotPortalId: '1000009', salesforceOrgId: null })).id;
    await running.directory.reload();
    expect((await call('PUT', `/api/installations/${sandboxId}/alert`, ALERT)).json).toMatchObject({
      state: 'ok',
      url: 'https://hooks.example.com/…',
    });
    await running.db.query('UPDATE installations SET alert_target = (SELECT alert_target FROM installations WHERE id = $1) WHERE id = $2', [
      sandboxId,
      otherId,
    ]);
    const moved = await call('GET', `/api/installations/${otherId}/alert`);
    expect(moved.json).toMatchObject({ state: 'unreadable' });
    expect(String(moved.json.problem)).toContain('belongs to another installation or slot');
    expect((await call('GET', `/api/installations/${sandboxId}/alert`)).json).toMatchObject({ state: 'ok' });
  });

  it('shows a tampered alert target as a state: the pages answer 200 with it, the API with a clear field', async () => {
    const running = app as RunningApp;
    const sealed = await sealedAlert(sandboxId);
    if (!sealed) throw new Error('no alert target stored');
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 0xff;
    await running.db.query('UPDATE installations SET alert_target = $2 WHERE id = $1', [sandboxId, sealed]);

    const alert = await call('GET', `/api/installations/${sandboxId}/alert`);
    expect(alert.status).toBe(200);
    expect(alert.json).toMatchObject({ configured: true, url: null, state: 'unreadable' });
    expect((await call('GET', `/api/installations/${sandboxId}`)).json.alert).toMatchObject({ state: 'unreadable' });
    const settings = await call('GET', `/admin/installations/${sandboxId}/settings?key=slaPolicy`);
    expect(settings.status).toBe(200);
    expect(settings.text).toContain('data-alert-state="unreadable"');
    expect(settings.text).toContain('The stored alert target cannot be read: no alert is sent.');
    const installation = await call('GET', `/admin/installations/${sandboxId}`);
    expect(installation.status).toBe(200);
    expect(installation.text).toContain('data-unreadable="alert"');
    expect(installation.text).not.toContain('pathtoken42');
  });

  it('seals a value of the earlier format again at boot, losing nothing', async () => {
    const running = app as RunningApp;
    await running.db.query('UPDATE installations SET alert_target = $2 WHERE id = $1', [otherId, sealLegacy(keyB, JSON.stringify(ALERT))]);
    await stop();
    await start(keyB);
    const upgraded = await sealedAlert(otherId);
    expect(upgraded?.[0]).toBe(2);
    expect((await call('GET', `/api/installations/${otherId}/alert`)).json).toEqual({
      configured: true,
      url: 'https://hooks.example.com/…',
      state: 'ok',
      problem: null,
    });
  });
});

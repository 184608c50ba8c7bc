/**
 * A deployment of a web process and a worker process (as `npm run web` and `npm run worker`) in
 * sandbox mode: an installation installed through the admin is synced by the worker process with
 * its own account and org. (A worker process runs no sandbox: it must still reach them for the
 * OAuth installs, not fall back to the sandbox's own portal and org.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/startup/boot.ts';
import { freePort, startPrivateRedis } from '../../src/startup/redis-server.ts';
import { AdminClient } from '../support/admin-client.ts';
import { eventuallyValue, spawnApp, type AppProcess } from '../support/app-process.ts';
import { freshPostgresUrl } from '../support/db.ts';
import { addTenant, leadOf, promoteNewContact, type Tenant } from '../support/tenants.ts';

let dir: string;
let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
let web: RunningApp;
let worker: AppProcess;
let tenant: Tenant;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'smk-tenants-workers-'));
  redis = await startPrivateRedis(path.join(dir, 'redis'), createLogger('silent'));
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: freshPostgresUrl(),
    SANDBOX_DEMO: 'false',
    SANDBOX_HUBSPOT_PORT: String(await freePort()),
    SANDBOX_SALESFORCE_PORT: String(await freePort()),
    SANDBOX_SALESFORCE_PUBSUB_PORT: String(await freePort()),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: randomBytes(32).toString('hex'),
  };
  const config = loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: path.join(dir, 'web') });
  if (!config.ok) throw new Error(config.error);
  web = await boot(config.value, { role: 'web', log: createLogger('silent') });
  worker = spawnApp({ ...env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: path.join(dir, 'worker') }, ['--role=worker']);
  const admin = new AdminClient(web.url ?? '');
  await admin.signIn(env.ADMIN_TOKEN);
  tenant = await addTenant(web, {
    n: 2,
    encryptionKey: Buffer.from(env.ENCRYPTION_KEY, 'hex'),
    prefix: '{smarketing}',
    admin,
    adminToken: env.ADMIN_TOKEN,
  });
}, 120_000);

afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await tenant?.close();
  await web?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a worker process of the deployment', () => {
  it("hands off an MQL of an installation installed through the admin to that installation's org", async () => {
    const email = 'worker-process@example.com';
    const { contactId, rep } = promoteNewContact(tenant, email);
    const lead = await leadOf(rep, email, 40_000);
    expect(lead.Email).toBe(email);
    // The link is written once the batch has stamped the Lead id back on the contact.
    const link = await eventuallyValue(
      async () =>
        (
          await web.db.query<{ installation_id: string; salesforce_lead_id: string | null }>(
            'SELECT installation_id, salesforce_lead_id FROM record_links WHERE hubspot_contact_id = $1 AND salesforce_lead_id IS NOT NULL',
            [contactId],
          )
        )[0],
      20_000,
      "the contact's link",
    );
    expect(link).toEqual({ installation_id: tenant.installationId, salesforce_lead_id: lead.Id });
  }, 90_000);
});

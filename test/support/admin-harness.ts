/**
 * The app in-process for the admin tests, with every log line kept (the log-grep checks read
 * them), and an HTTP client that signs in like a browser: cookie jar, CSRF token from the page.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type BootOptions, type RunningApp } from '../../src/startup/boot.ts';
import { dropPrefix, uniquePrefix } from './queue.ts';
import { appDataDir } from './data-dir.ts';

export { AdminClient, runOAuthInstall } from './admin-client.ts';

export interface AdminApp {
  app: RunningApp;
  url: string;
  dataDir: string;
  prefix: string;
  /** The admin token (configured, or generated into DATA_DIR in sandbox mode). */
  adminToken: string;
  /** Every log line so far. */
  logs(): string[];
  close(): Promise<void>;
}

/** Boots the app with both sandbox CRMs on free ports (or without them: `sandboxes: false`). */
export async function startAdminApp(env: Record<string, string> = {}, options: Partial<BootOptions> = {}): Promise<AdminApp> {
  const dataDir = appDataDir('smk-admin-');
  const prefix = uniquePrefix();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'debug',
    DATA_DIR: dataDir,
    REDIS_URL: inject('redisUrl'),
    SANDBOX_DEMO: 'false',
    SANDBOX_HUBSPOT_PORT: '0',
    SANDBOX_SALESFORCE_PORT: '0',
    ...env,
  });
  if (!config.ok) throw new Error(config.error);
  const app = await boot(config.value, {
    role: 'all',
    log: createLogger('debug', sink),
    queuePrefix: prefix,
    coalesceMs: 50,
    reconcileIntervalMs: 3_600_000,
    ...options,
  });
  if (!app.url) throw new Error('no HTTP server');
  const adminToken = config.value.adminToken ?? readFileSync(path.join(dataDir, 'secrets', 'admin-token'), 'utf8').trim();
  return {
    app,
    url: app.url,
    dataDir,
    prefix,
    adminToken,
    logs: () => [...lines],
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropPrefix(prefix);
    },
  };
}

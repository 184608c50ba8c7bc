/** The app as the webhook intake tests meet it: no sandboxes, no demo data, its public URL https://sync.example.com. */
import { rmSync } from 'node:fs';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { boot, type RunningApp } from '../../src/startup/boot.ts';
import { appDataDir } from './data-dir.ts';
import { dropPrefix, uniquePrefix } from './queue.ts';

/** Boots the app on the run's Redis with a queue prefix of its own; `close` stops it and removes its data and queues. */
export async function startIntakeApp(dataDirPrefix: string): Promise<{ app: RunningApp; close: () => Promise<void> }> {
  const dataDir = appDataDir(dataDirPrefix);
  const prefix = uniquePrefix();
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    REDIS_URL: inject('redisUrl'),
    SANDBOX_DEMO: 'false',
    PUBLIC_URL: 'https://sync.example.com',
  });
  if (!config.ok) throw new Error(config.error);
  const app = await boot(config.value, { role: 'all', sandboxes: false, log: createLogger('silent'), queuePrefix: prefix });
  return {
    app,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropPrefix(prefix);
    },
  };
}

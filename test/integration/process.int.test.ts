import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../src/queue/producer.ts';
import { DEFAULT_QUEUE_PREFIX, producerConnection, untilReady } from '../../src/queue/redis.ts';
import { freePort } from '../../src/startup/redis-server.ts';
import { connectPostgres } from '../../src/store/db.ts';
import { upsertInstallation } from '../../src/store/installations.ts';
import { spawnApp, waitForOk, eventually, type AppProcess } from '../support/app-process.ts';
import { freshPostgresUrl } from '../support/db.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the app process', () => {
  const started: AppProcess[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const app of started) if (app.child.exitCode === null) app.child.kill('SIGKILL');
    for (const dir of dirs) {
      const state = path.join(dir, 'redis', 'server.json');
      if (existsSync(state)) {
        const { pid } = JSON.parse(readFileSync(state, 'utf8')) as { pid: number };
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    }
    started.length = 0;
    dirs.length = 0;
  });

  it('exits with code 2 and one message listing every bad variable, without their values', async () => {
    const app = spawnApp({ PORT: 'not-a-port', ENCRYPTION_KEY: 'my-very-secret-key', REDIS_URL: 'ftp://x' });
    started.push(app);
    const { code } = await app.exited;
    expect(code).toBe(2);
    const output = app.output();
    expect(output).toContain('Invalid configuration (3 problems)');
    expect(output).toMatch(/PORT/);
    expect(output).toMatch(/ENCRYPTION_KEY/);
    expect(output).toMatch(/REDIS_URL/);
    expect(output).not.toContain('my-very-secret-key');
  });

  it('ends its boot log with the dashboard address and where the sign-in token is, never the token', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-ready-'));
    dirs.push(dataDir);
    const port = await freePort();
    const app = spawnApp({
      DATA_DIR: dataDir,
      DATABASE_URL: freshPostgresUrl(),
      PORT: String(port),
      SANDBOX_DEMO: 'false',
      SANDBOX_HUBSPOT_PORT: '0',
      SANDBOX_SALESFORCE_PORT: '0',
    });
    started.push(app);
    await eventually(async () => app.output().includes('"msg":"ready: '), 60_000, 'the ready line').catch((error: unknown) => {
      throw new Error(`${String(error)}\n${app.output()}`);
    });
    // Piped stdout is not a terminal: every line is JSON.
    const messages = app
      .output()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    const ready = messages.findIndex((msg) => msg.startsWith('ready: '));
    expect(messages[ready]).toBe(
      `ready: open http://127.0.0.1:${port}/admin and sign in with the token in ${path.join(dataDir, 'secrets', 'admin-token')}`,
    );
    expect(messages.indexOf('HTTP server listening')).toBeLessThan(ready);
    expect(messages.indexOf('workers started')).toBeLessThan(ready);
    expect(app.output()).not.toContain(readFileSync(path.join(dataDir, 'secrets', 'admin-token'), 'utf8').trim());
    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
  }, 90_000);

  it('answers a busy port with one line naming PORT and exit code 1', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-busy-'));
    dirs.push(dataDir);
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, resolve));
    try {
      const app = spawnApp({
        LOG_FORMAT: 'pretty',
        DATA_DIR: dataDir,
        DATABASE_URL: freshPostgresUrl(),
        PORT: String(port),
        SANDBOX_DEMO: 'false',
        SANDBOX_HUBSPOT_PORT: '0',
        SANDBOX_SALESFORCE_PORT: '0',
      });
      started.push(app);
      expect((await app.exited).code).toBe(1);
      const lines = app.output().trim().split('\n');
      expect(lines.filter((line) => line.includes(`port ${port}`))).toEqual([
        `port ${port} is already in use (another copy of the app, or another program): stop it, or start with PORT=<a free port>`,
      ]);
      expect(app.output()).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 90_000);

  it('loses no queued job when the app and its Redis are killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smk-kill-'));
    dirs.push(dataDir);
    const databaseUrl = freshPostgresUrl();
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      SANDBOX_DEMO: 'false',
      SANDBOX_HUBSPOT_PORT: '0',
      SANDBOX_SALESFORCE_PORT: '0',
    };

    // 1. First run: boots, starts its private redis-server, migrates; then dies hard.
    const first = spawnApp(env);
    started.push(first);
    await waitForOk(`http://127.0.0.1:${port}/readyz`, 60_000, first);
    const redisState = JSON.parse(readFileSync(path.join(dataDir, 'redis', 'server.json'), 'utf8')) as { pid: number; port: number };
    first.child.kill('SIGKILL');
    await first.exited;

    // 2. While no worker runs, 300 events are queued; then Redis itself dies hard.
    const db = connectPostgres(databaseUrl, 2);
    const installation = await upsertInstallation(db, { name: 'Kill test', hubspotPortalId: '555', salesforceOrgId: null });
    const redis = producerConnection(`redis://127.0.0.1:${redisState.port}`);
    await untilReady(redis);
    const producer = new Producer(redis, DEFAULT_QUEUE_PREFIX);
    await producer.enqueue(
      'hubspotEvents',
      Array.from({ length: 300 }, (_, i) => ({
        jobId: `hs-kill-${i}`,
        payload: {
          v: 1 as const,
          installationId: installation.id,
          receivedAt: Date.now(),
          event: {
            eventId: String(i),
            subscriptionId: '1',
            portalId: '555',
            occurredAt: 1_700_000_000_000 + i,
            subscriptionType: 'contact.creation',
            attemptNumber: 0,
            objectId: String(1000 + i),
          },
        },
      })),
    );
    await producer.close();
    redis.disconnect();
    process.kill(redisState.pid, 'SIGKILL');
    await eventually(async () => !alive(redisState.pid), 5_000, 'redis-server to die');

    // 3. Restart: a new redis-server replays its AOF and the workers process every job exactly once.
    const second = spawnApp(env);
    started.push(second);
    await waitForOk(`http://127.0.0.1:${port}/readyz`, 60_000, second);
    await eventually(
      async () => {
        const rows = await db.query<{ n: number }>('SELECT count(*) AS n FROM inbound_events');
        return rows[0]?.n === 300;
      },
      90_000,
      'all 300 events processed',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${second.output().slice(-4000)}`);
    });
    const distinct = await db.query<{ n: number }>('SELECT count(DISTINCT object_id) AS n FROM inbound_events');
    expect(distinct[0]?.n).toBe(300);

    // 4. SIGTERM is a clean stop: exit 0, and the private redis-server goes with it.
    const restartedRedis = JSON.parse(readFileSync(path.join(dataDir, 'redis', 'server.json'), 'utf8')) as { pid: number };
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(alive(restartedRedis.pid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'redis', 'server.json'))).toBe(false);
    await db.close();
  }, 240_000);
});

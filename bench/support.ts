/** Shared helpers for benchmarks: temporary services, child processes, result files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConnection } from '../src/queue/redis.ts';
import { loadConfig, type AppConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { boot, type RunningApp } from '../src/startup/boot.ts';
import { freePort } from '../src/startup/redis-server.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs a TypeScript file in its own Node process and returns its last stdout line parsed as JSON. */
export async function runChild<T>(file: string, arg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(arg)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${file} printed no result: ${out}`));
      }
    });
  });
}

/** Writes a result file under bench/results (kept out of git). */
export function saveResult(name: string, data: unknown): string {
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...((data as object) ?? {}) }, null, 2)}\n`);
  return file;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** CRM calls the sandboxes counted: totals, 429s, and per endpoint (to say what still runs). */
export interface Calls {
  hubspot: number;
  salesforce: number;
  limited: number;
  endpoints: Record<string, number>;
}

/** Spawns a worker process (`src/main.ts --role=worker`) logging to `logFile`. */
export function spawnWorker(env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role=worker'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return child;
}

export async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Waits until no job waits or runs, nothing is pending for the installations, and no CRM call happened for 2 s. */
export async function untilIdle(
  app: RunningApp,
  redis: RedisConnection,
  /**
   * `calls`: also wait until the CRMs see no call for 2 s (leave it out where the reconciler's
   * repeating passes keep calling, as with hundreds of installations: then only the sync's queues,
   * not the reconciler's, must be empty).
   */
  watch: { installationIds: readonly string[]; calls?: () => Calls },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastEndpoints: Record<string, number> = {};
  let changed: string[] = [];
  let quietSince = Date.now();
  const keys = ['webhookDeliveries', 'hubspotEvents', 'salesforceEvents', 'syncToSalesforce', 'syncToHubSpot'] as const;
  for (;;) {
    const counts = await Promise.all([
      ...keys.map((k) => app.producer.queue(k).getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      ...(watch.calls ? [app.producer.queue('reconcile').getJobCounts('waiting', 'active')] : []),
    ]);
    let pending = 0;
    for (const id of watch.installationIds)
      pending +=
        (await redis.zcard(`{smarketing}:pending:${id}:to-salesforce`)) + (await redis.zcard(`{smarketing}:pending:${id}:to-hubspot`));
    const now = watch.calls?.() ?? { hubspot: 0, salesforce: 0, limited: 0, endpoints: {} };
    const busy = [
      pending > 0 ? `${pending} pending` : '',
      ...counts.map((c, i) => (Object.values(c).some((n) => n > 0) ? `${keys[i] ?? 'reconcile'} ${JSON.stringify(c)}` : '')),
    ].filter(Boolean);
    if (now.hubspot + now.salesforce !== last)
      changed = Object.entries(now.endpoints)
        .filter(([k, n]) => n !== lastEndpoints[k])
        .map(([k]) => k);
    if (busy.length > 0 || now.hubspot + now.salesforce !== last) quietSince = Date.now();
    last = now.hubspot + now.salesforce;
    lastEndpoints = now.endpoints;
    if (Date.now() - quietSince >= 2_000) return;
    if (Date.now() > deadline)
      throw new Error(`the app did not go idle: ${busy.join('; ') || `CRM calls still going on (${changed.join(', ')})`}`);
    await sleep(200);
  }
}

/**
 * The first portal's burst limit when SANDBOX_HUBSPOT_BURST_LIMIT is set (a Professional portal's 190
 * per 10 s instead of the default 100), for the bench's processes.
 */
export function burstLimitEnv(): Record<string, string> {
  const limit = process.env.SANDBOX_HUBSPOT_BURST_LIMIT;
  return limit ? { SANDBOX_HUBSPOT_BURST_LIMIT: limit } : {};
}

/** The bench's web process (receivers, admin and the sandbox CRMs) in this process, on the workers' `env`. */
export async function bootBenchWeb(dir: string, env: Record<string, string>): Promise<{ app: RunningApp; config: AppConfig }> {
  const config = loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: path.join(dir, 'web') });
  if (!config.ok) throw new Error(config.error);
  return { app: await boot(config.value, { role: 'web', log: createLogger('silent') }), config: config.value };
}

/** Free ports for the sandbox CRMs the web process runs (the Pub/Sub one too: its default, the next port, may be taken). */
export async function sandboxPortsEnv(): Promise<Record<string, string>> {
  return {
    SANDBOX_HUBSPOT_PORT: String(await freePort()),
    SANDBOX_SALESFORCE_PORT: String(await freePort()),
    SANDBOX_SALESFORCE_PUBSUB_PORT: String(await freePort()),
  };
}

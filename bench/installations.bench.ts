/**
 * Hundreds of installations on one deployment (`npm run bench installations`): installations are
 * added through the admin (test/support/tenants.ts: each its own HubSpot account on the sandbox
 * host and its own Salesforce org) in steps up to BENCH_INSTALLATIONS (default 500), on one Redis,
 * one PostgreSQL, one web process (here, with the sandboxes) and BENCH_INSTALLATIONS_WORKERS (2)
 * worker processes, the reconciler at its default interval (a pass per installation a minute).
 * At each step, with nothing to sync, after one reconcile interval of warm-up:
 * - what a minute costs: the worker processes' CPU seconds, Redis commands, PostgreSQL
 *   transactions and CRM calls (the reconciler's passes and the repeating checks);
 * - what is held: Redis keys and bytes per installation (MEMORY USAGE of the keys naming it), the
 *   workers' resident memory, the database's size;
 * - how long a new worker process takes from its start to its ready line.
 * Per installation, the difference between steps says what grows with the installations and what
 * stays flat.
 *
 * BENCH_INSTALLATIONS_STEPS (default 1,100,500), BENCH_INSTALLATIONS_WINDOW_MS (60,000: one
 * reconcile interval), BENCH_INSTALLATIONS_CONCURRENCY (installs at once, default 8).
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConnection } from '../src/queue/redis.ts';
import type { RunningApp } from '../src/startup/boot.ts';
import { fmt, saveResult, spawnWorker, stopWorker, untilIdle } from './support.ts';
import { allCalls, installMore, redisCost, sandboxInstallation, startBenchDeployment, type Installation } from './tenancy.ts';

const STEPS = (process.env.BENCH_INSTALLATIONS_STEPS ?? `1,100,${process.env.BENCH_INSTALLATIONS ?? 500}`)
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1)
  .sort((a, b) => a - b);
const WORKERS = Number(process.env.BENCH_INSTALLATIONS_WORKERS ?? 2);
const WINDOW_MS = Number(process.env.BENCH_INSTALLATIONS_WINDOW_MS ?? 60_000);
const CONCURRENCY = Number(process.env.BENCH_INSTALLATIONS_CONCURRENCY ?? 8);
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface InstallationsStep {
  installations: number;
  /** Seconds to install this step's new installations through the admin, and per installation. */
  installSeconds: number;
  installSecondsEach: number;
  /** Per minute with nothing to sync. */
  perMinute: {
    workerCpuSeconds: number;
    redisCommands: number;
    postgresTransactions: number;
    hubspotCalls: number;
    salesforceCalls: number;
  };
  /** The CRM endpoints called in the window, per minute, over all installations (most first). */
  endpointsPerMinute: Record<string, number>;
  redis: { keys: number; usedMemoryBytes: number; perInstallationKeys: number; perInstallationBytes: number; sharedKeys: number };
  workerRssMb: number;
  databaseBytes: number;
  /** A new worker process: start → its ready line. */
  workerBootMs: number;
}

export interface InstallationsBenchResult {
  workers: number;
  windowSeconds: number;
  steps: InstallationsStep[];
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

async function redisCommands(redis: RedisConnection): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
}

async function postgresTransactions(app: RunningApp): Promise<number> {
  const [row] = await app.db.query<{ n: number }>(
    'SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return row?.n ?? 0;
}

/** What a minute of nothing to sync costs, over one window. */
async function minuteCost(
  app: RunningApp,
  redis: RedisConnection,
  workers: readonly ChildProcess[],
  installations: readonly Installation[],
) {
  const pids = workers.map((w) => w.pid ?? 0);
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = { cpu: cpu(), redis: await redisCommands(redis), pg: await postgresTransactions(app), calls: allCalls(installations) };
  const started = Date.now();
  await sleep(WINDOW_MS);
  const minutes = (Date.now() - started) / 60_000;
  const calls = allCalls(installations);
  const endpoints = new Map<string, number>();
  for (const [key, n] of Object.entries(calls.endpoints)) {
    const name = key.slice(key.indexOf(':') + 1);
    endpoints.set(name, (endpoints.get(name) ?? 0) + (n - (before.calls.endpoints[key] ?? 0)) / minutes);
  }
  return {
    endpointsPerMinute: Object.fromEntries([...endpoints].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])),
    workerCpuSeconds: (cpu() - before.cpu) / minutes,
    redisCommands: ((await redisCommands(redis)) - before.redis) / minutes,
    postgresTransactions: ((await postgresTransactions(app)) - before.pg) / minutes,
    hubspotCalls: (calls.hubspot - before.calls.hubspot) / minutes,
    salesforceCalls: (calls.salesforce - before.calls.salesforce) / minutes,
  };
}

/** Starts one more worker process and waits for its ready line; ms from its start. */
async function workerBoot(env: Record<string, string>, dir: string): Promise<number> {
  const log = path.join(dir, `boot-${Date.now()}.log`);
  const started = Date.now();
  const child = spawnWorker({ ...env, PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATA_DIR: path.join(dir, 'boot') }, log);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode} before it was ready (see ${log})`);
      const text = (() => {
        try {
          return readFileSync(log, 'utf8');
        } catch {
          return '';
        }
      })();
      if (text.includes('"msg":"ready:')) return Date.now() - started;
      if (Date.now() - started > 300_000) throw new Error(`the worker was not ready in 5 minutes (see ${log})`);
      await sleep(20);
    }
  } finally {
    await stopWorker(child);
  }
}

async function step(
  ctx: { app: RunningApp; redis: RedisConnection; workers: ChildProcess[]; env: Record<string, string>; dir: string },
  installations: readonly Installation[],
  installSeconds: number,
  added: number,
): Promise<InstallationsStep> {
  const ids = installations.map((one) => one.id);
  // The reconciler calls every minute for every installation: wait only for the sync's queues.
  await untilIdle(ctx.app, ctx.redis, { installationIds: ids }, 600_000);
  // One interval first: each worker process builds an installation's clients once (its identity and
  // currencies read) on the first job it runs for it; the window measures what every minute costs.
  process.stderr.write(
    `installations: ${installations.length} installed; a warm-up and a ${WINDOW_MS / 1000}-s window with nothing to sync…\n`,
  );
  await sleep(WINDOW_MS);
  const { endpointsPerMinute, ...perMinute } = await minuteCost(ctx.app, ctx.redis, ctx.workers, installations);
  const cost = await redisCost(ctx.redis, installations);
  const keys = cost.perInstallation.reduce((sum, p) => sum + p.keys, 0);
  const bytes = cost.perInstallation.reduce((sum, p) => sum + p.bytes, 0);
  const [size] = await ctx.app.db.query<{ n: number }>('SELECT pg_database_size(current_database())::bigint AS n');
  const workerBootMs = await workerBoot(ctx.env, ctx.dir);
  return {
    installations: installations.length,
    installSeconds,
    installSecondsEach: added > 0 ? installSeconds / added : 0,
    perMinute,
    endpointsPerMinute,
    redis: {
      keys: keys + cost.sharedKeys,
      usedMemoryBytes: cost.usedMemory,
      perInstallationKeys: keys / installations.length,
      perInstallationBytes: bytes / installations.length,
      sharedKeys: cost.sharedKeys,
    },
    workerRssMb: ctx.workers.reduce((sum, w) => sum + rssMb(w.pid ?? 0), 0),
    databaseBytes: size?.n ?? 0,
    workerBootMs,
  };
}

export async function runInstallationsBench(): Promise<InstallationsBenchResult> {
  if (STEPS.length === 0) throw new Error('BENCH_INSTALLATIONS_STEPS names no installation count');
  const deployment = await startBenchDeployment('installations');
  const { app, env, redis, workers, dir } = deployment;
  let finished = false;
  try {
    await deployment.startWorkers(WORKERS);
    const installations = [await sandboxInstallation(app)];
    const steps: InstallationsStep[] = [];
    for (const target of STEPS) {
      const added = Math.max(0, target - installations.length);
      process.stderr.write(`installations: installing ${added} more through the admin, ${CONCURRENCY} at a time…\n`);
      const started = Date.now();
      const from = installations.length + 1;
      installations.push(
        ...(await installMore(app, env, { from, to: target, concurrency: CONCURRENCY }, deployment.closers, (done) => {
          if (done % 50 === 0) process.stderr.write(`installations: ${from - 1 + done} installed\n`);
        })),
      );
      steps.push(await step({ app, redis, workers, env, dir }, installations, (Date.now() - started) / 1000, added));
    }
    finished = true;
    return { workers: WORKERS, windowSeconds: WINDOW_MS / 1000, steps };
  } finally {
    await deployment.stop(finished);
  }
}

export function printInstallations(result: InstallationsBenchResult): void {
  const row = (cells: string[]) => `${cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(12))).join('')}\n`;
  const s = result.steps;
  process.stdout.write(
    `\nInstallations on one deployment, nothing to sync: 1 web + ${result.workers} worker processes, one Redis, one PostgreSQL\n`,
  );
  process.stdout.write(row(['installations', ...s.map((x) => fmt(x.installations))]));
  const lines: [string, (x: InstallationsStep) => string][] = [
    ['install through the admin, s each', (x) => (x.installSecondsEach > 0 ? fmt(x.installSecondsEach, 2) : '–')],
    ['worker CPU s / minute', (x) => fmt(x.perMinute.workerCpuSeconds, 2)],
    ['Redis commands / minute', (x) => fmt(x.perMinute.redisCommands)],
    ['PostgreSQL transactions / minute', (x) => fmt(x.perMinute.postgresTransactions)],
    ['HubSpot calls / minute', (x) => fmt(x.perMinute.hubspotCalls)],
    ['Salesforce calls / minute', (x) => fmt(x.perMinute.salesforceCalls)],
    ['Redis keys (all)', (x) => fmt(x.redis.keys)],
    ['Redis keys per installation', (x) => fmt(x.redis.perInstallationKeys, 1)],
    ['Redis KiB per installation', (x) => fmt(x.redis.perInstallationBytes / 1024, 1)],
    ['Redis used_memory, MiB', (x) => fmt(x.redis.usedMemoryBytes / 1024 / 1024, 1)],
    ['worker processes RSS, MiB', (x) => fmt(x.workerRssMb)],
    ['database size, MiB', (x) => fmt(x.databaseBytes / 1024 / 1024, 1)],
    ['worker boot to ready, ms', (x) => fmt(x.workerBootMs)],
  ];
  for (const [label, cell] of lines) process.stdout.write(row([label, ...s.map(cell)]));
  const last = s.at(-1);
  if (last)
    process.stdout.write(
      `CRM calls a minute at ${fmt(last.installations)} installations, by endpoint: ${Object.entries(last.endpointsPerMinute)
        .slice(0, 8)
        .map(([endpoint, n]) => `${endpoint} ${fmt(n)}`)
        .join(', ')}\n`,
    );
  const first = s[0];
  if (first && last && last.installations > first.installations) {
    const per = (f: (x: InstallationsStep) => number) => (f(last) - f(first)) / (last.installations - first.installations);
    process.stdout.write(
      `Each installation added (${fmt(first.installations)} → ${fmt(last.installations)}): ` +
        `${fmt(per((x) => x.perMinute.workerCpuSeconds) * 1000, 1)} ms worker CPU, ${fmt(
          per((x) => x.perMinute.redisCommands),
          1,
        )} Redis commands, ` +
        `${fmt(
          per((x) => x.perMinute.postgresTransactions),
          1,
        )} PostgreSQL transactions, ` +
        `${fmt(
          per((x) => x.perMinute.hubspotCalls + x.perMinute.salesforceCalls),
          1,
        )} CRM calls a minute; ` +
        `${fmt(per((x) => x.workerRssMb) * 1024, 1)} KiB worker memory, ${fmt(per((x) => x.databaseBytes) / 1024, 1)} KiB database, ` +
        `${fmt(
          per((x) => x.workerBootMs),
          2,
        )} ms of worker boot\n`,
    );
  }
  process.stdout.write(`results: ${saveResult('installations', result)}\n`);
}

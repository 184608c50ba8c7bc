/**
 * Worker scale-out benchmark: one web process (receivers and both sandbox CRMs, here in the bench
 * process) and 1, 2 and 4 worker processes (`src/main.ts --role=worker`) on one Redis and one
 * PostgreSQL, each run with a fresh Redis, database and sandboxes. Each run creates a bulk of
 * HubSpot contacts, waits until the app is idle, then promotes them all to MQL at once and times
 * how long until every one is handed off (its Lead created and linked).
 *
 * The limit-bound maximum comes from the rate limits and the batch sizes: a handoff needs at least
 * one HubSpot batch read (100 contacts) and one batch update (100 contacts, the Lead id stamped
 * back) per 100 records, and one Salesforce upsert (200 Leads) plus the two email lookups (Leads,
 * Contacts; 200 emails each) per 200 records. HubSpot's limit is read from the sandbox's own
 * rate-limit headers (100 requests / 10 s, or SANDBOX_HUBSPOT_BURST_LIMIT); the Salesforce sandbox has only a daily allowance, so
 * its bound is the app's own pacing (25 requests / s). Target: ≥ 90 % of the maximum.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HUBSPOT_LIMITER_POLICY, learnedLimit, SALESFORCE_LIMITER_POLICY } from '../src/crm/limiter.ts';
import { createLogger } from '../src/log.ts';
import { producerConnection } from '../src/queue/redis.ts';
import type { RunningApp } from '../src/startup/boot.ts';
import { startPrivateRedis } from '../src/startup/redis-server.ts';
import { createDatabase, startTestPostgres } from '../test/support/services.ts';
import {
  bootBenchWeb,
  burstLimitEnv,
  sandboxPortsEnv,
  fmt,
  saveResult,
  spawnWorker,
  stopWorker,
  tempDir,
  untilIdle,
  type Calls,
} from './support.ts';

const BULK = Number(process.env.BENCH_SCALE_BULK ?? 4_000);
const WORKER_COUNTS = (process.env.BENCH_SCALE_WORKERS ?? '1,2,4').split(',').map(Number);
/** Records per call at the batch limits: HubSpot batch read/update 100, Salesforce upsert and email lookups 200. */
const HUBSPOT_MIN_CALLS_PER_RECORD = 1 / 100 + 1 / 100;
const SALESFORCE_MIN_CALLS_PER_RECORD = (1 + 2) / 200;
const TARGET_SHARE = 0.9;

export interface ScaleOutRun {
  workers: number;
  records: number;
  seconds: number;
  /** Over the whole run, first call to last handoff. */
  recordsPerSecond: number;
  /** Over the second half of the records, once the rate limit's first window is used up. */
  steadyRecordsPerSecond: number;
  /** steadyRecordsPerSecond / the limit-bound maximum. */
  share: number;
  hubspotCallsPerRecord: number;
  salesforceCallsPerRecord: number;
  /** Requests the HubSpot sandbox refused with 429 during the run (its limit reached). */
  hubspotRateLimited: number;
  /** HubSpot requests per second during the run, next to the limit's 10/s: how close the app ran to it. */
  hubspotRequestsPerSecond: number;
}

export interface ScaleOutBenchResult {
  bulk: number;
  limits: { hubspotRequests: number; hubspotWindowMs: number; salesforcePerSecond: number; appHubSpotBudget: number };
  maximum: { recordsPerSecond: number; boundBy: 'HubSpot' | 'Salesforce'; hubspot: number; salesforce: number };
  target: number;
  runs: ScaleOutRun[];
}

function calls(app: RunningApp): Calls {
  const hs = app.sandboxes?.hubspot?.stats();
  const sf = app.sandboxes?.salesforce?.stats();
  return {
    hubspot: hs?.totals.calls ?? 0,
    salesforce: sf?.totalCalls ?? 0,
    limited: hs?.totals.rateLimited ?? 0,
    endpoints: { ...(hs?.endpoints ?? {}), ...(sf?.calls ?? {}) },
  };
}

/** The HubSpot sandbox's burst limit, as its rate-limit headers announce it. */
async function hubspotLimit(baseUrl: string, token: string): Promise<{ requests: number; windowMs: number }> {
  const response = await fetch(`${baseUrl}/crm/v3/objects/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  const requests = Number(response.headers.get('x-hubspot-ratelimit-max'));
  const windowMs = Number(response.headers.get('x-hubspot-ratelimit-interval-milliseconds'));
  if (!(requests > 0 && windowMs > 0)) throw new Error('the HubSpot sandbox sent no rate-limit headers');
  return { requests, windowMs };
}

async function runOnce(workers: number, postgresUrl: string): Promise<ScaleOutRun & { limits: { requests: number; windowMs: number } }> {
  const dir = tempDir(`smk-bench-scale-${workers}-`);
  const log = createLogger('silent');
  const redis = await startPrivateRedis(path.join(dir, 'redis'), log);
  const databaseUrl = createDatabase(postgresUrl, `scale_${workers}_${Date.now().toString(36)}`);
  // The reconciler passes once at start (nothing to find) and not again during the run.
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    SANDBOX_DEMO: 'false',
    // Records in memory only: writing the sandboxes' state to disk would take the CPU a real CRM never takes from the deployment.
    SANDBOX_PERSIST: 'false',
    LOG_LEVEL: 'warn',
    RECONCILE_INTERVAL_MS: '3600000',
    ...(await sandboxPortsEnv()),
    ...burstLimitEnv(),
  };
  const { app, config } = await bootBenchWeb(dir, env);
  const children: ChildProcess[] = [];
  const redisClient = producerConnection(redis.url);
  let finished = false;
  try {
    const hubspot = app.sandboxes?.hubspot;
    if (!hubspot) throw new Error('the HubSpot sandbox did not start');
    const installationId = (await app.db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id;
    if (!installationId) throw new Error('no sandbox installation');
    const limits = await hubspotLimit(hubspot.url, config.sandbox.hubspot.privateAppToken);
    for (let i = 1; i <= workers; i += 1) {
      children.push(spawnWorker({ ...env, PORT: '0', DATA_DIR: path.join(dir, `worker-${i}`) }, path.join(dir, `worker-${i}.log`)));
    }
    const deadline = Date.now() + 90_000;
    while ((await app.producer.queue('syncToSalesforce').getWorkersCount()) < workers) {
      if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) throw new Error(`the workers did not start (see ${dir})`);
      await sleep(200);
    }

    // Setup, not measured: the contacts exist before the run; their creation webhooks are dropped
    // (the sandbox's fault knob) so the workers start the run idle.
    process.stderr.write(`scale-out: ${workers} worker(s): creating ${BULK} contacts…\n`);
    hubspot.setFaults({ webhooks: { drop: {} } });
    const ids = Array.from({ length: BULK }, (_, i) =>
      String(hubspot.createInUi('contacts', { email: `scale${i}@bench.example.com`, lastname: `Scale ${i}`, company: 'Bench' }).id),
    );
    hubspot.clearFaults();
    await untilIdle(app, redisClient, { installationIds: [installationId], calls: () => calls(app) }, 180_000);

    process.stderr.write(`scale-out: ${workers} worker(s): handing off ${BULK} contacts at once…\n`);
    const before = calls(app);
    const started = Date.now();
    for (const id of ids) hubspot.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
    let half: number | undefined;
    for (;;) {
      const rows = await app.db.query<{ n: number }>(
        'SELECT count(*) AS n FROM record_links WHERE installation_id = $1 AND salesforce_lead_id IS NOT NULL',
        [installationId],
      );
      const done = rows[0]?.n ?? 0;
      if (half === undefined && done >= BULK / 2) half = Date.now();
      if (done >= BULK) break;
      if (Date.now() - started > 900_000) throw new Error(`only ${done} of ${BULK} handed off after 15 min`);
      await sleep(50);
    }
    const finishedAt = Date.now();
    const seconds = (finishedAt - started) / 1000;
    // The second half runs at the steady rate: the rate limit's first window (a burst) is spent by then.
    const steadyRecordsPerSecond = BULK / 2 / Math.max(0.001, (finishedAt - (half ?? started)) / 1000);
    await untilIdle(app, redisClient, { installationIds: [installationId], calls: () => calls(app) }, 300_000);
    const after = calls(app);
    finished = true;
    return {
      workers,
      records: BULK,
      seconds,
      recordsPerSecond: BULK / seconds,
      steadyRecordsPerSecond,
      share: 0,
      hubspotCallsPerRecord: (after.hubspot - before.hubspot) / BULK,
      salesforceCallsPerRecord: (after.salesforce - before.salesforce) / BULK,
      hubspotRateLimited: after.limited - before.limited,
      hubspotRequestsPerSecond: (after.hubspot - before.hubspot) / seconds,
      limits,
    };
  } finally {
    await Promise.all(children.map(stopWorker));
    redisClient.disconnect();
    await app.close();
    await redis.stop();
    // A failed run keeps its worker logs.
    if (finished) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`scale-out: worker logs kept in ${dir}\n`);
  }
}

export async function runScaleOutBench(): Promise<ScaleOutBenchResult> {
  const postgres = await startTestPostgres();
  try {
    const runs: ScaleOutRun[] = [];
    let limits: { requests: number; windowMs: number } | undefined;
    for (const workers of WORKER_COUNTS) {
      const { limits: seen, ...run } = await runOnce(workers, postgres.url);
      limits = seen;
      runs.push(run);
    }
    if (!limits) throw new Error('no run');
    const hubspotPerSecond = limits.requests / (limits.windowMs / 1000);
    const salesforcePerSecond = SALESFORCE_LIMITER_POLICY.limit / (SALESFORCE_LIMITER_POLICY.windowMs / 1000);
    const hubspotMax = hubspotPerSecond / HUBSPOT_MIN_CALLS_PER_RECORD;
    const salesforceMax = salesforcePerSecond / SALESFORCE_MIN_CALLS_PER_RECORD;
    const maximum = Math.min(hubspotMax, salesforceMax);
    return {
      bulk: BULK,
      limits: {
        hubspotRequests: limits.requests,
        hubspotWindowMs: limits.windowMs,
        salesforcePerSecond,
        appHubSpotBudget:
          (learnedLimit(HUBSPOT_LIMITER_POLICY, { max: limits.requests, intervalMs: limits.windowMs }) ?? HUBSPOT_LIMITER_POLICY.limit) /
          limits.requests,
      },
      maximum: {
        recordsPerSecond: maximum,
        boundBy: hubspotMax <= salesforceMax ? 'HubSpot' : 'Salesforce',
        hubspot: hubspotMax,
        salesforce: salesforceMax,
      },
      target: TARGET_SHARE,
      runs: runs.map((run) => ({ ...run, share: run.steadyRecordsPerSecond / maximum })),
    };
  } finally {
    await postgres.stop();
  }
}

export function printScaleOut(result: ScaleOutBenchResult): void {
  const m = result.maximum;
  process.stdout.write(`\nWorker scale-out: bulk handoff of ${result.bulk} contacts, one Redis, 1 web + N worker processes\n`);
  process.stdout.write(
    `Limit-bound maximum ${fmt(m.recordsPerSecond)} records/s (${m.boundBy}): HubSpot ${result.limits.hubspotRequests} requests / ${fmt(result.limits.hubspotWindowMs / 1000)} s ÷ ${HUBSPOT_MIN_CALLS_PER_RECORD} calls/record = ${fmt(m.hubspot)}/s; ` +
      `Salesforce ${fmt(result.limits.salesforcePerSecond)} requests/s ÷ ${SALESFORCE_MIN_CALLS_PER_RECORD} = ${fmt(m.salesforce)}/s. The app paces HubSpot at ${fmt(result.limits.appHubSpotBudget * 100)} % of its limit.\n`,
  );
  process.stdout.write(
    `${'workers'.padEnd(8)}${'records/s'.padStart(11)}${'steady/s'.padStart(10)}${'share'.padStart(8)}${'seconds'.padStart(9)}${'HubSpot calls/rec'.padStart(19)}${'HubSpot req/s'.padStart(15)}${'SF calls/rec'.padStart(14)}${'429s'.padStart(6)}\n`,
  );
  for (const run of result.runs) {
    process.stdout.write(
      `${String(run.workers).padEnd(8)}${fmt(run.recordsPerSecond).padStart(11)}${fmt(run.steadyRecordsPerSecond).padStart(10)}${`${fmt(run.share * 100)} %`.padStart(8)}${fmt(run.seconds, 1).padStart(9)}${fmt(run.hubspotCallsPerRecord, 4).padStart(19)}${fmt(run.hubspotRequestsPerSecond, 1).padStart(15)}${fmt(run.salesforceCallsPerRecord, 4).padStart(14)}${String(run.hubspotRateLimited).padStart(6)}\n`,
    );
  }
  process.stdout.write('share: the steady rate (second half of the bulk) over the limit-bound maximum.\n');
  // The target holds for every worker count, not only the best one.
  const worst = Math.min(...result.runs.map((r) => r.share));
  process.stdout.write(
    `Target ≥ ${fmt(result.target * 100)} % of the maximum with every worker count: ${worst >= result.target ? 'met' : 'NOT met'} (lowest ${fmt(worst * 100)} %)\n`,
  );
  process.stdout.write(`results: ${saveResult('scale-out', result)}\n`);
}

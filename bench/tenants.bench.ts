/**
 * Many installations on one deployment (`npm run bench tenants`): the sandbox's own installation and
 * N−1 more installed through the admin (test/support/tenants.ts), each its own HubSpot account on
 * the sandbox host and its own Salesforce org, on one Redis, one PostgreSQL, one web process (here
 * in the bench process, with the sandboxes) and M worker processes.
 *
 * 1. Fairness: the first installation hands off a burst of contacts at once while every other one
 *    hands off one contact every half second; the quiet installations' handoff time (MQL edit →
 *    Lead created and linked) is measured before and during the burst. Target: p95 ≤ 2 s.
 * 2. Aggregate: every installation hands off the same number of contacts at once; records/s against
 *    the sum of the installations' limit-bound maximums (see scale-out.bench.ts for one).
 * 3. Redis cost: keys and bytes (MEMORY USAGE) of the keys naming each installation, once idle.
 *
 * BENCH_TENANTS (default 3), BENCH_TENANTS_WORKERS (2), BENCH_TENANTS_BURST (5,000),
 * BENCH_TENANTS_EACH (1,500 per installation in the aggregate run).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SALESFORCE_LIMITER_POLICY } from '../src/crm/limiter.ts';
import type { SandboxControl } from '../src/sandbox/hubspot/server.ts';
import type { RunningApp } from '../src/startup/boot.ts';
import { burstLimitEnv, fmt, saveResult, untilIdle } from './support.ts';
import {
  allCalls,
  installMore,
  redisCost,
  sandboxInstallation,
  startBenchDeployment,
  type Installation,
  type RedisCost,
} from './tenancy.ts';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 3);
const WORKERS = Number(process.env.BENCH_TENANTS_WORKERS ?? 2);
const BURST = Number(process.env.BENCH_TENANTS_BURST ?? 5_000);
const EACH = Number(process.env.BENCH_TENANTS_EACH ?? 1_500);
const QUIET_EVERY_MS = 500;
const QUIET_ALONE_MS = 10_000;
const TARGET_P95_MS = 2_000;
/** Calls per record at the batch limits (scale-out.bench.ts): HubSpot read + update per 100, Salesforce 3 per 200. */
const HUBSPOT_CALLS_PER_RECORD = 2 / 100;
const SALESFORCE_CALLS_PER_RECORD = 3 / 200;

export interface TenantsBenchResult {
  installations: number;
  workers: number;
  fairness: {
    burst: number;
    burstSeconds: number;
    burstRecordsPerSecond: number;
    quietAlone: Latencies;
    quietDuringBurst: Latencies;
    /** Where the quiet handoffs' time went during the burst. */
    stagesDuringBurst: Record<string, Latencies>;
    /** The bench process's event-loop delay during the burst (ms): it serves the web receiver and every sandbox CRM. */
    benchLoopDelay: { p50: number; p95: number; max: number };
    target: number;
  };
  aggregate: { each: number; seconds: number; recordsPerSecond: number; limitSum: number; share: number };
  /** Installed and idle, before any handoff. */
  redisIdle: RedisCost;
  /** After the runs. */
  redis: RedisCost;
}

interface Latencies {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

function latencies(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

/** Contacts the account already has (a CSV import: no webhooks), ready to be promoted. */
function seed(hubspot: SandboxControl, tag: string, count: number): string[] {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, count - start) }, (_, i) => ({
      properties: {
        email: `${tag}${start + i}@bench.example.com`,
        lastname: `${tag} ${start + i}`,
        company: 'Bench',
        lifecyclestage: 'lead',
      },
    }));
    const made = hubspot.seedContacts(chunk);
    const first = Number(made.firstId);
    ids.push(...Array.from({ length: made.created }, (_, i) => String(first + i)));
  }
  return ids;
}

const promote = (hubspot: SandboxControl, id: string) => hubspot.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });

/** Which of these `installation:contact` keys have their Lead (created and linked); contact ids repeat across accounts. */
async function handedOff(app: RunningApp, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await app.db.query<{ key: string }>(
    `SELECT installation_id || ':' || hubspot_contact_id AS key FROM record_links
      WHERE installation_id || ':' || hubspot_contact_id = ANY($1) AND salesforce_lead_id IS NOT NULL`,
    [keys],
  );
  return new Set(rows.map((row) => row.key));
}

async function linkedCount(app: RunningApp, installationIds: readonly string[]): Promise<number> {
  const rows = await app.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM record_links WHERE installation_id = ANY($1) AND salesforce_lead_id IS NOT NULL',
    [installationIds],
  );
  return rows[0]?.n ?? 0;
}

/** One quiet handoff every QUIET_EVERY_MS per quiet installation until `until` says stop; the time each took. */
async function quietHandoffs(app: RunningApp, quiet: readonly Installation[], pools: Map<string, string[]>, until: () => boolean) {
  const started = new Map<string, number>();
  const samples: number[] = [];
  const starts: { key: string; at: number }[] = [];
  let next = Date.now();
  while (!until() || started.size > 0) {
    if (!until() && Date.now() >= next) {
      for (const one of quiet) {
        const id = pools.get(one.id)?.shift();
        if (id === undefined) throw new Error('a quiet installation ran out of contacts: raise its pool');
        started.set(`${one.id}:${id}`, Date.now());
        starts.push({ key: `${one.id}:${id}`, at: Date.now() });
        promote(one.hubspot, id);
      }
      next += QUIET_EVERY_MS;
    }
    for (const key of await handedOff(app, [...started.keys()])) {
      samples.push(Date.now() - (started.get(key) ?? Date.now()));
      started.delete(key);
    }
    const stuck = [...started].find(([, at]) => Date.now() - at > 120_000);
    if (stuck) throw new Error(`the handoff of contact ${stuck[0]} (installation:contact) did not happen in 2 minutes`);
    await sleep(25);
  }
  return { samples, starts };
}

/**
 * Where the quiet handoffs' time went: the webhook reaching the intake, the event job routing the
 * change, and the drain creating the Lead (its sync log entry), medians and p95s in ms.
 */
async function stagesOf(app: RunningApp, starts: readonly { key: string; at: number }[]): Promise<Record<string, Latencies>> {
  const rows = await app.db.query<{ key: string; received: Date; processed: Date; logged: Date | null }>(
    `SELECT e.installation_id || ':' || e.object_id AS key, min(e.received_at) AS received, min(e.processed_at) AS processed,
            (SELECT min(l.created_at) FROM sync_log l WHERE l.installation_id = e.installation_id
                AND l.record_ref = 'hubspot:contact:' || e.object_id AND l.action IN ('create_lead', 'handoff')) AS logged
       FROM inbound_events e WHERE e.source = 'hubspot' AND e.installation_id || ':' || e.object_id = ANY($1)
      GROUP BY e.installation_id, e.object_id`,
    [starts.map((s) => s.key)],
  );
  const at = new Map(starts.map((s) => [s.key, s.at]));
  const webhook: number[] = [];
  const event: number[] = [];
  const drain: number[] = [];
  for (const row of rows) {
    const t0 = at.get(row.key);
    if (t0 === undefined || row.logged === null) continue;
    webhook.push(new Date(row.received).getTime() - t0);
    event.push(new Date(row.processed).getTime() - new Date(row.received).getTime());
    drain.push(new Date(row.logged).getTime() - new Date(row.processed).getTime());
  }
  // The quiet installations' drain jobs of the burst: how long each waited for a worker after its coalescing delay, and ran.
  const quietIds = new Set(starts.map((s) => s.key.split(':')[0]));
  const from = Math.min(...starts.map((s) => s.at));
  const jobs = (await app.producer.queue('syncToSalesforce').getJobs(['completed'], 0, 20_000)).filter(
    (job) => quietIds.has((job.data as { installationId?: string }).installationId) && job.timestamp >= from,
  );
  const waited = jobs.map((job) => (job.processedOn ?? 0) - job.timestamp - (job.opts.delay ?? 0));
  const ran = jobs.map((job) => (job.finishedOn ?? 0) - (job.processedOn ?? 0));
  return {
    webhook: latencies(webhook),
    event: latencies(event),
    drain: latencies(drain),
    'drain job wait': latencies(waited),
    'drain job run': latencies(ran),
  };
}

async function fairness(app: RunningApp, installations: readonly Installation[], pools: Map<string, string[]>) {
  const [noisy, ...quiet] = installations;
  if (!noisy) throw new Error('no installation');
  process.stderr.write(`tenants: quiet installations alone for ${QUIET_ALONE_MS / 1000} s…\n`);
  const aloneUntil = Date.now() + QUIET_ALONE_MS;
  const alone = (await quietHandoffs(app, quiet, pools, () => Date.now() >= aloneUntil)).samples;

  const burstIds = seed(noisy.hubspot, 'burst', BURST);
  const before = await linkedCount(app, [noisy.id]);
  process.stderr.write(`tenants: a burst of ${BURST} handoffs on the first installation, quiet ones every ${QUIET_EVERY_MS} ms…\n`);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = Date.now();
  for (const id of burstIds) promote(noisy.hubspot, id);
  let burstDone = false;
  let burstSeconds = 0;
  const watcher = (async () => {
    while ((await linkedCount(app, [noisy.id])) < before + BURST) {
      if (Date.now() - started > 900_000) throw new Error('the burst did not finish in 15 min');
      await sleep(100);
    }
    burstSeconds = (Date.now() - started) / 1000;
    burstDone = true;
  })();
  const during = await quietHandoffs(app, quiet, pools, () => burstDone);
  await watcher;
  loop.disable();
  const stages = await stagesOf(app, during.starts);
  return {
    burst: BURST,
    burstSeconds,
    burstRecordsPerSecond: BURST / burstSeconds,
    quietAlone: latencies(alone),
    quietDuringBurst: latencies(during.samples),
    stagesDuringBurst: stages,
    benchLoopDelay: { p50: loop.percentile(50) / 1e6, p95: loop.percentile(95) / 1e6, max: loop.max / 1e6 },
    target: TARGET_P95_MS,
  };
}

async function aggregate(app: RunningApp, installations: readonly Installation[]) {
  const ids = installations.map((one) => ({ one, ids: seed(one.hubspot, `all${one.id.slice(0, 8)}-`, EACH) }));
  const all = installations.map((one) => one.id);
  const before = await linkedCount(app, all);
  process.stderr.write(`tenants: every installation hands off ${EACH} contacts at once…\n`);
  const started = Date.now();
  for (const { one, ids: mine } of ids) for (const id of mine) promote(one.hubspot, id);
  while ((await linkedCount(app, all)) < before + EACH * installations.length) {
    if (Date.now() - started > 900_000) throw new Error('the aggregate run did not finish in 15 min');
    await sleep(100);
  }
  const seconds = (Date.now() - started) / 1000;
  const salesforcePerSecond = SALESFORCE_LIMITER_POLICY.limit / (SALESFORCE_LIMITER_POLICY.windowMs / 1000);
  const limitSum = installations.reduce(
    (sum, one) => sum + Math.min(one.hubspotPerSecond / HUBSPOT_CALLS_PER_RECORD, salesforcePerSecond / SALESFORCE_CALLS_PER_RECORD),
    0,
  );
  const recordsPerSecond = (EACH * installations.length) / seconds;
  return { each: EACH, seconds, recordsPerSecond, limitSum, share: recordsPerSecond / limitSum };
}

export async function runTenantsBench(): Promise<TenantsBenchResult> {
  if (TENANTS < 2) throw new Error('BENCH_TENANTS must be at least 2 (one noisy, one quiet)');
  const deployment = await startBenchDeployment('tenants', { RECONCILE_INTERVAL_MS: '3600000', ...burstLimitEnv() });
  const { app, env, redis } = deployment;
  let finished = false;
  try {
    const installations = [await sandboxInstallation(app)];
    process.stderr.write(`tenants: installing ${TENANTS - 1} more installations through the admin…\n`);
    installations.push(...(await installMore(app, env, { from: 2, to: TENANTS, concurrency: 1 }, deployment.closers)));
    await deployment.startWorkers(WORKERS);
    const idle = () =>
      untilIdle(app, redis, { installationIds: installations.map((one) => one.id), calls: () => allCalls(installations) }, 300_000);
    await idle();
    const idleCost = await redisCost(redis, installations);
    // Enough quiet contacts for the whole run: two a second each, for up to 15 minutes.
    const pools = new Map(installations.slice(1).map((one) => [one.id, seed(one.hubspot, `quiet${one.id.slice(0, 8)}-`, 2_000)]));
    const fair = await fairness(app, installations, pools);
    await idle();
    const all = await aggregate(app, installations);
    await idle();
    const cost = await redisCost(redis, installations);
    finished = true;
    return { installations: installations.length, workers: WORKERS, fairness: fair, aggregate: all, redisIdle: idleCost, redis: cost };
  } finally {
    await deployment.stop(finished);
  }
}

export function printTenants(result: TenantsBenchResult): void {
  const f = result.fairness;
  const a = result.aggregate;
  const ms = (n: number) => `${fmt(n)} ms`;
  process.stdout.write(
    `\nInstallations on one deployment: ${result.installations} installations, 1 web + ${result.workers} worker processes, one Redis\n`,
  );
  process.stdout.write(
    `Fairness: a burst of ${fmt(f.burst)} handoffs on installation 1 took ${fmt(f.burstSeconds, 1)} s (${fmt(f.burstRecordsPerSecond)} records/s)\n`,
  );
  process.stdout.write(
    `${'quiet installations’ handoffs'.padEnd(34)}${'count'.padStart(7)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'max'.padStart(10)}\n`,
  );
  for (const [label, l] of [
    ['alone', f.quietAlone],
    ['during the burst', f.quietDuringBurst],
  ] as const)
    process.stdout.write(
      `${label.padEnd(34)}${String(l.count).padStart(7)}${ms(l.p50).padStart(10)}${ms(l.p95).padStart(10)}${ms(l.max).padStart(10)}\n`,
    );
  process.stdout.write(
    `  of which ${Object.entries(f.stagesDuringBurst)
      .map(([stage, l]) => `${stage} p50 ${ms(l.p50)} / p95 ${ms(l.p95)}`)
      .join(', ')}\n`,
  );
  process.stdout.write(
    `  event-loop delay of the process serving the web receiver and the sandboxes: p50 ${ms(f.benchLoopDelay.p50)}, p95 ${ms(f.benchLoopDelay.p95)}, max ${ms(f.benchLoopDelay.max)}\n`,
  );
  process.stdout.write(
    `Target p95 ≤ ${ms(f.target)} during the burst: ${f.quietDuringBurst.p95 <= f.target ? 'met' : 'NOT met'} (${ms(f.quietDuringBurst.p95)})\n`,
  );
  process.stdout.write(
    `Aggregate: ${fmt(a.each)} handoffs on each installation at once: ${fmt(a.recordsPerSecond)} records/s in ${fmt(a.seconds, 1)} s, ${fmt(a.share * 100)} % of the sum of their limit-bound maximums (${fmt(a.limitSum)}/s)\n`,
  );
  const idle = result.redisIdle.perInstallation;
  process.stdout.write(
    `Redis, installed and idle: ${idle.map((p, i) => `installation ${i + 1} ${fmt(p.keys)} keys / ${fmt(p.bytes / 1024, 1)} KiB`).join('; ')}; shared ${fmt(result.redisIdle.sharedKeys)} keys\n`,
  );
  const per = result.redis.perInstallation;
  process.stdout.write(
    `Redis once idle: ${per.map((p, i) => `installation ${i + 1} ${fmt(p.keys)} keys / ${fmt(p.bytes / 1024, 1)} KiB`).join('; ')}; shared ${fmt(result.redis.sharedKeys)} keys / ${fmt(result.redis.sharedBytes / 1024, 1)} KiB; used_memory ${fmt(result.redis.usedMemory / 1024 / 1024, 1)} MiB\n`,
  );
  for (const shape of result.redis.largest)
    process.stdout.write(`  ${shape.shape}: ${fmt(shape.keys)} keys, ${fmt(shape.bytes / 1024, 1)} KiB\n`);
  process.stdout.write(`results: ${saveResult('tenants', result)}\n`);
}

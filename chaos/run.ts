/**
 * `npm run chaos [-- --short | --long] [--seed N] [--journeys N] [--workers N] [--pull] [--keep]`
 *
 * The chaos suite: the app as production runs it (one web process with both sandbox CRMs, N worker
 * processes, its own Redis and PostgreSQL), a scripted workload of lead journeys, and faults on
 * every layer while it runs — 429 storms, 5xx, slow responses, dropped / duplicated / reordered
 * webhooks, a worker SIGKILLed mid-batch, the app's workers stopped for a while (10 s in the short
 * form, 10 minutes in the long one), Redis and PostgreSQL restarts. Afterwards it waits for
 * the app to converge and checks both CRMs against what each journey expects (merges, email
 * changes and opt-outs among them). It prints changes lost, duplicate records, echo writes, stage
 * regressions, orphan jobs and orphan links (all must be 0) and the time to converge; the exit
 * code is 1 unless every figure is 0.
 *
 * Short form (default, CI): ~200 journeys and a subset of the faults, under 3 minutes on 2 cores.
 * Long form: a few thousand journeys and every fault, several times.
 * `--pull`: both sides of the installation in pull mode (the HubSpot webhooks journal, Salesforce
 * change events over the Pub/Sub API), with the portal's webhook settings and the org's Outbound
 * Message rules deleted, so nothing is pushed to the app; the same checks.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Queue } from 'bullmq';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import type { QueueKey } from '../src/queue/catalog.ts';
import { DEFAULT_QUEUE_PREFIX, producerConnection, untilReady } from '../src/queue/redis.ts';
import { freePort } from '../src/startup/redis-server.ts';
import { connectPostgres, type Db } from '../src/store/db.ts';
import { writeSetting } from '../src/store/installation-admin.ts';
import { checkFinalState, echoWindow, openQueues, waitForConvergence, type CheckDeps } from './check.ts';
import { HubSpotSandboxClient, SalesforceSandboxClient } from './crm.ts';
import { clearFaults, faultPlan, runFaultPlan, type FaultTargets, type Form } from './faults.ts';
import { planJourneys, seededRandom } from './journeys.ts';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.ts';
import { pollUntil, spawnAppProcess, waitForHttpOk, type AppProcess } from './processes.ts';
import { passed, printReport, type ChaosReport } from './report.ts';
import { startChaosPostgres, startChaosRedis, type ChaosPostgres, type ChaosRedis } from './services.ts';
import { runWorkload } from './workload.ts';

interface FormSettings {
  journeys: number;
  spreadMs: number;
  stepGapMs: { min: number; max: number };
  workers: number;
  leadWaitMs: number;
  quietMs: number;
  echoWindowMs: number;
  convergeTimeoutMs: number;
}

const FORMS: Record<Form, FormSettings> = {
  short: {
    journeys: 200,
    spreadMs: 30_000,
    stepGapMs: { min: 300, max: 2_000 },
    workers: 2,
    leadWaitMs: 90_000,
    quietMs: 3_000,
    echoWindowMs: 5_000,
    convergeTimeoutMs: 150_000,
  },
  // The app syncs about 2.7 HubSpot calls per journey (a third of them timeline notes) under a 9/s budget:
  // journeys arrive at ~2.7/s so the workload stays near what HubSpot's rate limit lets through.
  long: {
    journeys: 2_400,
    spreadMs: 900_000,
    stepGapMs: { min: 500, max: 6_000 },
    workers: 3,
    leadWaitMs: 1_200_000,
    quietMs: 5_000,
    echoWindowMs: 15_000,
    convergeTimeoutMs: 1_800_000,
  },
};

/** How often the reconciler runs (so dropped deliveries heal within seconds) and how far back it looks. */
const RECONCILE_INTERVAL_MS = 2_000;
const RECONCILE_LOOKBACK_MS = 5_000;
const DRAIN_LOCK_TTL_SAMPLE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runStarted = Date.now();
const say = (line: string) => process.stderr.write(`chaos [${((Date.now() - runStarted) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

function parseCli(): { form: Form; seed: number; journeys: number; workers: number; pull: boolean; keep: boolean } {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      long: { type: 'boolean', default: false },
      seed: { type: 'string' },
      journeys: { type: 'string' },
      workers: { type: 'string' },
      pull: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.short && values.long) throw new Error('choose --short or --long, not both');
  const form: Form = values.long ? 'long' : 'short';
  const number = (raw: string | undefined, fallback: number, name: string) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    form,
    seed: number(values.seed, 1, 'seed'),
    journeys: number(values.journeys, FORMS[form].journeys, 'journeys'),
    workers: number(values.workers, FORMS[form].workers, 'workers'),
    pull: values.pull,
    keep: values.keep,
  };
}

/** The five endpoints of a CRM that took the most calls between two snapshots. */
function busiest(system: string, after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const delta = Object.entries(after)
    .map(([key, n]): [string, number] => [`${system} ${key}`, n - (before[key] ?? 0)])
    .filter(([, n]) => n > 0);
  return Object.fromEntries(delta.sort((a, b) => b[1] - a[1]).slice(0, 5));
}

/** Lines at level error or fatal in the app's JSON logs. */
function countErrorLines(dir: string): number {
  let count = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) if (/"level":(50|60)/.test(line)) count += 1;
  }
  return count;
}

async function main(): Promise<number> {
  const cli = parseCli();
  const settings = FORMS[cli.form];
  const started = Date.now();
  const runDir = mkdtempSync(path.join(os.tmpdir(), `smk-chaos-${cli.form}-`));
  // PostgreSQL runs as its own user (when we are root) and must reach its data directory inside.
  chmodSync(runDir, 0o755);
  const logDir = path.join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const quiet = createLogger('silent');
  const random = seededRandom(cli.seed * 7919);
  say(
    `${cli.form} form${cli.pull ? ' in pull mode' : ''}, seed ${cli.seed}, ${cli.journeys} journeys, ${cli.workers} workers; run directory ${runDir}`,
  );

  let redis: ChaosRedis | undefined;
  let postgres: ChaosPostgres | undefined;
  let web: AppProcess | undefined;
  const workers: AppProcess[] = [];
  const proxies: LatencyProxy[] = [];
  let runnerRedis: ReturnType<typeof producerConnection> | undefined;
  let db: Db | undefined;
  let open: Map<QueueKey, Queue> | undefined;
  let ok = false;
  const cleanup = async () => {
    for (const queue of open?.values() ?? []) await queue.close().catch(() => undefined);
    runnerRedis?.disconnect();
    await db?.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop()));
    await web?.stop();
    for (const proxy of proxies) await proxy.close();
    await redis?.stop().catch(() => undefined);
    try {
      postgres?.stop();
    } catch {
      // already down
    }
    if (ok && !cli.keep) rmSync(runDir, { recursive: true, force: true });
  };
  const interrupted = () => {
    say('interrupted: stopping the processes');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // 1. Services the runner owns, so it can restart them under the app.
    say('starting Redis and PostgreSQL');
    redis = await startChaosRedis(path.join(runDir, 'redis'), quiet);
    postgres = await startChaosPostgres(path.join(runDir, 'postgres'));

    // 2. The web process runs both sandboxes; the workers reach them through latency proxies.
    const [webPort, hubspotPort, salesforcePort, pubsubPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const hubspotOrigin = `http://127.0.0.1:${hubspotPort}`;
    const salesforceOrigin = `http://127.0.0.1:${salesforcePort}`;
    proxies.push(await startLatencyProxy(hubspotOrigin, random), await startLatencyProxy(salesforceOrigin, random));
    const [hubspotProxy, salesforceProxy] = proxies as [LatencyProxy, LatencyProxy];
    const common = {
      // The org's Pub/Sub API (gRPC, the change feed in pull mode): the workers reach it directly.
      SANDBOX_SALESFORCE_PUBSUB_PORT: String(pubsubPort),
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      SANDBOX_DEMO: 'false',
      LOG_LEVEL: 'warn',
      RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      RECONCILE_LOOKBACK_MS: String(RECONCILE_LOOKBACK_MS),
    };
    const webEnv = {
      ...common,
      PORT: String(webPort),
      DATA_DIR: path.join(runDir, 'web'),
      SANDBOX_HUBSPOT_PORT: String(hubspotPort),
      SANDBOX_SALESFORCE_PORT: String(salesforcePort),
    };
    const config = loadConfig(webEnv);
    if (!config.ok) throw new Error(config.error);
    // The children get exactly this environment (plus PATH and HOME): nothing from the caller's shell leaks in.
    // eslint-disable-next-line no-restricted-properties -- the runner hands PATH and HOME to the processes it starts
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir() };
    let workerSequence = 0;
    const startWorker = (): AppProcess => {
      workerSequence += 1;
      const name = `worker-${workerSequence}`;
      const worker = spawnAppProcess(
        name,
        'worker',
        {
          ...common,
          PORT: String(webPort),
          DATA_DIR: path.join(runDir, name),
          SANDBOX_HUBSPOT_PORT: String(hubspotProxy.port),
          // In pull mode the workers reach Salesforce directly: the Pub/Sub API accepts a session only with
          // the org's own instance URL, and the proxy hands out its own (slow answers then hit HubSpot only).
          SANDBOX_SALESFORCE_PORT: String(cli.pull ? salesforcePort : salesforceProxy.port),
        },
        path.join(logDir, `${name}.log`),
        base,
      );
      workers.push(worker);
      return worker;
    };

    say('starting the web process (receivers + sandbox CRMs)');
    web = spawnAppProcess('web', 'web', webEnv, path.join(logDir, 'web.log'), base);
    await waitForHttpOk(`http://127.0.0.1:${webPort}/readyz`, web);
    const hubspot = new HubSpotSandboxClient(hubspotOrigin);
    const salesforce = new SalesforceSandboxClient(salesforceOrigin);
    // Self-install ends with the Outbound Message rules: once they point at the app, it is installed.
    await pollUntil(
      async () => {
        const rules = (await (await fetch(`${salesforceOrigin}/__sandbox/outbound-messages`)).json()) as { object?: string }[];
        return ['Lead', 'Opportunity'].every((object) => rules.some((rule) => rule.object === object));
      },
      60_000,
      'the sandbox self-install',
    );

    db = connectPostgres(postgres.url, 2);
    const installationId = (await db.query<{ id: string }>("SELECT id FROM installations WHERE name = 'Sandbox'"))[0]?.id;
    if (installationId === undefined) throw new Error('the web process created no sandbox installation');
    if (cli.pull) {
      // Nothing pushed to the app any more; the workers follow both sides' change feeds instead.
      const { appId, developerKey } = config.value.sandbox.hubspot;
      await hubspot.deleteWebhookSettings(appId, developerKey);
      await salesforce.clearOutboundRules();
      await writeSetting(db, installationId, 'hubspotChangeFeed', { mode: 'pull' });
      await writeSetting(db, installationId, 'salesforceFeed', { mode: 'pull' });
      say('pull mode: webhook settings and Outbound Message rules deleted, both change feeds set to pull');
    }
    runnerRedis = producerConnection(redis.url);
    await untilReady(runnerRedis);
    const queuesOpen = openQueues(runnerRedis, DEFAULT_QUEUE_PREFIX);
    open = queuesOpen;

    say(`starting ${cli.workers} worker processes`);
    for (let i = 0; i < cli.workers; i += 1) startWorker();
    const syncQueue = queuesOpen.get('syncToSalesforce');
    if (!syncQueue) throw new Error('no sync-to-salesforce queue');
    const untilConsuming = (what: string) =>
      pollUntil(async () => (await syncQueue.getWorkersCount()) >= cli.workers, 90_000, `${cli.workers} workers consuming${what}`, 300);
    const aliveWorkers = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    await untilConsuming('');

    // 3. Fault targets: the knobs, the proxies, and the processes.
    const redisForRunner = runnerRedis;
    const lockKeys = ['to-salesforce', 'to-hubspot'].map((d) => `${DEFAULT_QUEUE_PREFIX}:drain-lock:${installationId}:${d}`);
    const heldLock = async (): Promise<{ key: string; token: string } | undefined> => {
      for (const key of lockKeys) {
        const token = await redisForRunner.get(key);
        if (token !== null) return { key, token };
      }
      return undefined;
    };
    /** True when nobody refreshes or releases the lock any more: its holder is gone. */
    const orphaned = async (lock: { key: string; token: string }): Promise<boolean> => {
      let previous = Number.POSITIVE_INFINITY;
      const until = Date.now() + DRAIN_LOCK_TTL_SAMPLE_MS;
      while (Date.now() < until) {
        const [token, ttl] = await Promise.all([redisForRunner.get(lock.key), redisForRunner.pttl(lock.key)]);
        if (token !== lock.token || ttl > previous) return false;
        previous = ttl;
        await sleep(100);
      }
      return true;
    };
    const targets: FaultTargets = {
      hubspot,
      salesforce,
      proxies,
      // One worker at random while a drain batch is in flight; when it was not the one running the
      // batch, again, and the third time every worker, so the batch's own process surely dies.
      killWorkerMidBatch: async () => {
        const outcomes: string[] = [];
        const started = new Set<AppProcess>();
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          let lock: { key: string; token: string } | undefined;
          await pollUntil(async () => (lock = await heldLock()) !== undefined, 20_000, 'a drain batch in flight', 25).catch(
            () => undefined,
          );
          const alive = aliveWorkers();
          // A replacement still booting runs no batch: the random pick is among the others.
          const running = alive.filter((w) => !started.has(w));
          const victims = attempt === 3 ? alive : running.slice(Math.floor(random() * running.length)).slice(0, 1);
          if (victims.length === 0) return 'no worker alive to kill';
          await Promise.all(victims.map((victim) => victim.kill()));
          const replacements = victims
            .map(() => {
              const replacement = startWorker();
              started.add(replacement);
              return replacement.name;
            })
            .join(', ');
          const names = victims.map((victim) => victim.name).join(', ');
          if (lock === undefined) return `no drain batch was in flight within 20 s; killed ${names} anyway, started ${replacements}`;
          const midBatch = await orphaned(lock);
          outcomes.push(
            `killed ${names}${midBatch ? ` mid-batch (the ${lock.key.split(':').pop() ?? ''} drain lock is orphaned)` : " (the batch in flight was another worker's)"}, started ${replacements}`,
          );
          if (midBatch) break;
        }
        return outcomes.join('; ');
      },
      restartRedis: async (downMs) => {
        const chaosRedis = redis;
        if (!chaosRedis) throw new Error('no Redis');
        await chaosRedis.kill();
        await sleep(downMs);
        await chaosRedis.start();
      },
      restartPostgres: async () => {
        if (!postgres) throw new Error('no PostgreSQL');
        await postgres.restart();
      },
      stopApp: async (downMs) => {
        const alive = aliveWorkers();
        await Promise.all(alive.map((worker) => worker.stop()));
        const stoppedAt = Date.now();
        await sleep(downMs);
        const started = Array.from({ length: cli.workers }, () => startWorker().name);
        await untilConsuming(' again');
        return `stopped ${alive.map((w) => w.name).join(', ')}; ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later ${started.join(', ')} consuming`;
      },
    };

    // 4. The workload, with the fault schedule running beside it.
    const reps = await salesforce.repConnections();
    const runId = `${cli.seed}-${Date.now().toString(36)}`;
    const journeys = planJourneys(cli.seed, {
      journeys: cli.journeys,
      spreadMs: Math.round((settings.spreadMs * cli.journeys) / FORMS[cli.form].journeys),
      stepGapMs: settings.stepGapMs,
      reps: reps.length,
      runId,
    });
    const expectedWorkloadMs = Math.round((settings.spreadMs * cli.journeys) / FORMS[cli.form].journeys) + 4 * settings.stepGapMs.max;
    const before = { hubspot: await hubspot.stats(), salesforce: await salesforce.stats() };
    say(`workload: ${journeys.length} journeys over ~${Math.round(expectedWorkloadMs / 1000)} s, faults on`);
    const workloadStart = Date.now();
    let workloadRunning = true;
    const faultRun = runFaultPlan(
      faultPlan(cli.form, cli.seed, expectedWorkloadMs),
      targets,
      workloadStart,
      () => workloadRunning,
      (entry) => say(`  +${(entry.atMs / 1000).toFixed(1)} s ${entry.name}${entry.outcome === 'done' ? '' : `: ${entry.outcome}`}`),
    );
    const workload = await runWorkload(journeys, {
      hubspot,
      hubspotToken: config.value.sandbox.hubspot.privateAppToken,
      reps,
      leadWaitMs: settings.leadWaitMs,
      progress: say,
    }).finally(() => {
      workloadRunning = false;
    });
    const faults = await faultRun;
    const faultCounters = { ...(await hubspot.faultCounters()) };
    const salesforceStats = await salesforce.stats();
    await clearFaults(targets);
    const workloadEnd = Date.now();
    say(
      `workload done in ${((workloadEnd - workloadStart) / 1000).toFixed(1)} s (${workload.steps} steps, ${workload.errors.length} errors); faults cleared, waiting for the app to converge`,
    );

    // 5. Convergence, the quiet window, and the final state.
    const reader = reps[0];
    if (!reader) throw new Error('no rep session to read Salesforce with');
    const checkDeps: CheckDeps = {
      redis: redisForRunner,
      prefix: DEFAULT_QUEUE_PREFIX,
      installationId,
      hubspot,
      salesforce,
      db,
      reader,
      hubspotToken: config.value.sandbox.hubspot.privateAppToken,
      pull: cli.pull,
    };
    const convergence = await waitForConvergence(checkDeps, queuesOpen, workloadEnd, settings.quietMs, settings.convergeTimeoutMs, say);
    say(
      convergence.converged
        ? `converged ${(convergence.ms / 1000).toFixed(1)} s after the workload; watching ${settings.echoWindowMs / 1000} s for echo writes`
        : `did not converge: ${convergence.stillBusy.join('; ')}`,
    );
    const echo = await echoWindow(checkDeps, settings.echoWindowMs);
    // Where the changes the app took came from: in pull mode the feeds, not deliveries, must carry them.
    const intakeRows = await db.query<{ source: string; n: string }>(
      `SELECT CASE WHEN source = 'salesforce' AND dedupe_key LIKE '%-cdc-%' THEN 'Salesforce change events'
                   WHEN source = 'salesforce' THEN 'Salesforce Outbound Messages'
                   WHEN source = 'hubspot' THEN $2 ELSE source END AS source, count(*) AS n
         FROM inbound_events WHERE installation_id = $1 GROUP BY 1 ORDER BY 1`,
      [installationId, cli.pull ? 'HubSpot journal' : 'HubSpot webhooks'],
    );
    const intake = Object.fromEntries(intakeRows.map((row) => [row.source, Number(row.n)]));
    const after = { hubspot: await hubspot.stats(), salesforce: await salesforce.stats() };
    say('reading both CRMs and checking every journey');
    const findings = await checkFinalState(checkDeps, queuesOpen, journeys, new Set(workload.errors.map((e) => e.journey)));
    const report: ChaosReport = {
      form: cli.form,
      pull: cli.pull,
      seed: cli.seed,
      journeys: journeys.length,
      workers: cli.workers,
      workload,
      faults,
      faultCounters: {
        'HubSpot webhooks dropped': faultCounters.dropped ?? 0,
        duplicated: faultCounters.duplicated ?? 0,
        'reordered (within/between)': (faultCounters.reorderedWithin ?? 0) + (faultCounters.reorderedBetween ?? 0),
        delayed: faultCounters.delayed ?? 0,
        'HubSpot HTTP errors injected': faultCounters.httpInjected ?? 0,
        'Salesforce errors injected': salesforceStats.faultsInjected,
        'Outbound Messages dropped': salesforceStats.outbound.droppedByFault,
        'slow responses': proxies.reduce((n, p) => n + p.delayed(), 0),
        'worker processes started': workerSequence,
        'app log lines at error level': countErrorLines(logDir),
      },
      convergence,
      intake,
      echo: { ...echo, windowMs: settings.echoWindowMs },
      findings,
      calls: {
        hubspot: after.hubspot.totals.calls - before.hubspot.totals.calls,
        salesforce: after.salesforce.totalCalls - before.salesforce.totalCalls,
        salesforceApiUsage: after.salesforce.apiUsage.used,
        endpoints: {
          ...busiest('HubSpot', after.hubspot.endpoints, before.hubspot.endpoints),
          ...busiest('Salesforce', after.salesforce.calls, before.salesforce.calls),
        },
      },
      totalMs: Date.now() - started,
      logDir,
    };
    printReport(report, (text) => process.stdout.write(text));
    ok = passed(report);
    return ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);

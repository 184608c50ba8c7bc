/**
 * Backfill benchmark: the initial sync of a large portal, with a crash in the middle.
 * - The sandbox CRMs run in a process of their own (bench/backfill-sandboxes.ts), rate limits relaxed.
 * - N HubSpot contacts (default 1,000,000; `--contacts N`) are imported through the sandbox's bulk
 *   seed endpoint; 15 % of them get a Salesforce Lead through the Collections API: 10 % with the
 *   same email (matched by email), 2 % carrying the contact's id in HubSpot_Contact_Id__c under
 *   another email (matched by external id), 3 % under an email no contact has (left unmatched).
 * - The initial sync runs in a separate worker process (bench/backfill-worker.ts: the real
 *   processor under the app's worker runner); its RSS (VmRSS, VmHWM of /proc/<pid>/status) is
 *   sampled every 250 ms. At 40 % it is SIGKILLed and a new worker started: the run must resume
 *   from its saved cursor (done does not restart from 0) and finish with total = done, every
 *   expected link, no duplicate link, no Lead and no contact created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.ts';
import { HUBSPOT_CONTACT_PROPERTIES, HUBSPOT_PROPERTY_GROUP, SALESFORCE_CUSTOM_FIELDS } from '../src/crm/field-catalog.ts';
import { createHubSpotAdapter } from '../src/crm/hubspot/client.ts';
import { connectSalesforce, createSalesforceAdapter } from '../src/crm/salesforce/client.ts';
import { createLogger } from '../src/log.ts';
import { Producer } from '../src/queue/producer.ts';
import { producerConnection, untilReady } from '../src/queue/redis.ts';
import { startPrivateRedis } from '../src/startup/redis-server.ts';
import { ensureSalesforceAccess } from '../src/runtime/salesforce-access.ts';
import { connectPostgres } from '../src/store/db.ts';
import { upsertInstallation } from '../src/store/installations.ts';
import { migrate } from '../src/store/migrate.ts';
import { createInitialSyncRun, initialSyncJobId, initialSyncProgress, type InitialSyncProgress } from '../src/sync/initial-sync.ts';
import { createDatabase, startTestPostgres } from '../test/support/services.ts';
import type { BackfillWorkerConfig } from './backfill-worker.ts';
import { fmt, ROOT, saveResult, tempDir } from './support.ts';

const SEED_CHUNK = 10_000;
const LEADS_PER_CALL = 200;
const KILL_AT = 0.4;
const SAMPLE_MS = 250;
const RSS_TARGET_MB = 300;

export interface BackfillBenchResult {
  contacts: number;
  leads: number;
  expectedLinks: number;
  seedSeconds: number;
  /** Records (contacts + Leads) per second over the run's working time, as the run reports it. */
  recordsPerSecond: number;
  /** Records per second over the wall time from start to completion, the restart included. */
  wallRecordsPerSecond: number;
  wallSeconds: number;
  /** `done` saved when the first worker was killed, and the first `done` the second worker reported. */
  resume: { killedAtDone: number; total: number; firstReportAfterRestart: number | null; restartGapSeconds: number };
  peakRssMb: number;
  peakHwmMb: number;
  /** The worker's RSS every ~5 s: [seconds since start, MB, done]. */
  rssSamples: [number, number, number][];
  rssTargetMb: number;
  final: InitialSyncProgress;
  checks: {
    linksSaved: number;
    duplicateLinks: number;
    leadsBefore: number;
    leadsAfter: number;
    contactsBefore: number;
    contactsAfter: number;
  };
}

function contactsOption(): number {
  const args = process.argv.slice(2);
  const at = args.indexOf('--contacts');
  const raw = at === -1 ? (process.env.BENCH_BACKFILL_CONTACTS ?? '1000000') : args[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1_000) throw new Error(`--contacts must be a whole number ≥ 1000, got ${String(raw)}`);
  return n;
}

/** VmRSS and VmHWM of a process in MB (null once it is gone). */
function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

async function startSandboxProcess(logFile: string): Promise<{ child: ChildProcess; hubspot: string; salesforce: string }> {
  const err = openSync(logFile, 'a');
  // The sandboxes hold the whole portal in memory (a million contacts with their history).
  const child = spawn(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', 'bench/backfill-sandboxes.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', err],
  });
  closeSync(err);
  const stdout = child.stdout;
  if (!stdout) throw new Error('no stdout from the sandbox process');
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the sandbox process exited with ${String(code)} (see ${logFile})`)));
  });
  const urls = JSON.parse(line) as { hubspot: string; salesforce: string };
  return { child, ...urls };
}

function startWorker(config: BackfillWorkerConfig, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/backfill-worker.ts', JSON.stringify(config)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The first `done` a worker's log reports (pino JSON lines), or null. */
function firstReportedDone(logFile: string): number | null {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"msg":"initial sync')) continue;
    try {
      const parsed = JSON.parse(line) as { done?: number };
      if (typeof parsed.done === 'number') return parsed.done;
    } catch {
      // not a log line
    }
  }
  return null;
}

export async function runBackfillBench(contacts = contactsOption()): Promise<BackfillBenchResult> {
  const dir = tempDir('smk-bench-backfill-');
  const log = createLogger('silent');
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir });
  if (!config.ok) throw new Error(config.error);
  const hs = config.value.sandbox.hubspot;
  const sf = config.value.sandbox.salesforce;
  const apiVersion = config.value.salesforce.apiVersion;
  const redis = await startPrivateRedis(path.join(dir, 'redis'), log);
  const postgres = await startTestPostgres();
  const databaseUrl = createDatabase(postgres.url, `backfill_${Date.now().toString(36)}`);
  const db = connectPostgres(databaseUrl, 4);
  const sandboxes = await startSandboxProcess(path.join(dir, 'sandboxes.log'));
  const producerRedis = producerConnection(redis.url);
  let worker: ChildProcess | undefined;
  const progress = (text: string) => process.stderr.write(`backfill: ${text}\n`);
  try {
    await untilReady(producerRedis, 10_000);
    await migrate(db);
    const installation = await upsertInstallation(db, {
      name: 'Backfill bench',
      hubspotPortalId: String(hs.portalId),
      salesforceOrgId: sf.orgId,
    });
    const prefix = '{smarketing}';

    // Install: the app's HubSpot properties and Salesforce fields (no webhooks: nothing listens here).
    const hubspot = createHubSpotAdapter({ accessToken: hs.privateAppToken, basePath: sandboxes.hubspot });
    const connection = await connectSalesforce({
      loginUrl: sandboxes.salesforce,
      username: sf.username,
      password: sf.password,
      clientId: sf.clientId,
      clientSecret: sf.clientSecret,
      apiVersion,
    });
    const salesforce = createSalesforceAdapter({ connection, apiVersion });
    await hubspot.ensureContactProperties(HUBSPOT_PROPERTY_GROUP, HUBSPOT_CONTACT_PROPERTIES, false);
    await salesforce.ensureCustomFields(SALESFORCE_CUSTOM_FIELDS, false);
    const access = await ensureSalesforceAccess(salesforce, { dryRun: false });
    if (!access.ready)
      throw new Error(
        `the integration user lacks access: ${access.items
          .filter((i) => i.fix !== null)
          .map((i) => i.name)
          .join(', ')}`,
      );

    // Seed: contacts through the bulk import, Leads through Collections (200 per call).
    const seedStarted = Date.now();
    const LIFECYCLE = [
      'lead',
      'lead',
      'lead',
      'lead',
      'subscriber',
      'subscriber',
      'marketingqualifiedlead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
    ];
    const STATUS = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted'];
    const leads: Record<string, string>[] = [];
    let expectedLinks = 0;
    let nextLeadCall = Promise.resolve();
    const sendLeads = (batch: Record<string, string>[]) => {
      nextLeadCall = nextLeadCall.then(async () => {
        const results = (await connection.sobject('Lead').create(batch, { allOrNone: true })) as unknown as { success: boolean }[];
        if (results.some((r) => !r.success)) throw new Error('the Salesforce sandbox refused a seed Lead');
      });
    };
    for (let from = 0; from < contacts; from += SEED_CHUNK) {
      const size = Math.min(SEED_CHUNK, contacts - from);
      const rows = Array.from({ length: size }, (_, k) => {
        const i = from + k;
        return {
          properties: {
            email: `c${i}@bench.example.com`,
            firstname: 'Bench',
            lastname: `Contact ${i}`,
            company: `Company ${i % 997}`,
            lifecyclestage: LIFECYCLE[i % 10] ?? 'lead',
          },
        };
      });
      const response = await fetch(`${sandboxes.hubspot}/__sandbox/seed/contacts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contacts: rows }),
      });
      if (response.status !== 201) throw new Error(`seeding contacts failed: ${response.status} ${await response.text()}`);
      const { firstId } = (await response.json()) as { firstId: string };
      for (let k = 0; k < size; k++) {
        const i = from + k;
        const slot = i % 100;
        if (slot >= 15) continue;
        const base = { LastName: `Lead ${i}`, Company: `Company ${i % 997}`, Status: STATUS[i % 3] ?? 'Open - Not Contacted' };
        if (slot < 10) {
          leads.push({ ...base, Email: `c${i}@bench.example.com` });
          expectedLinks += 1;
        } else if (slot < 12) {
          leads.push({ ...base, Email: `other${i}@bench.example.com`, HubSpot_Contact_Id__c: String(Number(firstId) + k) });
          expectedLinks += 1;
        } else leads.push({ ...base, Email: `nobody${i}@bench.example.com` });
        if (leads.length === LEADS_PER_CALL) sendLeads(leads.splice(0));
      }
      if ((from / SEED_CHUNK) % 10 === 9) progress(`seeded ${fmt(from + size)} contacts`);
    }
    if (leads.length > 0) sendLeads(leads.splice(0));
    await nextLeadCall;
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const leadsBefore = (await connection.query('SELECT COUNT() FROM Lead')).totalSize;
    const contactsBefore = await hubspot.countContacts();
    progress(`seeded ${fmt(contactsBefore)} contacts and ${fmt(leadsBefore)} Leads in ${fmt(seedSeconds, 1)} s`);

    // The run, started as the admin API starts it (a run row and its job), then a worker process.
    const runId = await createInitialSyncRun(db, installation.id);
    const producer = new Producer(producerRedis, prefix);
    await producer.enqueue('initialSync', [{ jobId: initialSyncJobId(runId), payload: { v: 1, installationId: installation.id, runId } }]);
    const workerConfig: BackfillWorkerConfig = {
      redisUrl: redis.url,
      databaseUrl,
      prefix,
      installationId: installation.id,
      hubspot: { url: sandboxes.hubspot, token: hs.privateAppToken },
      salesforce: {
        url: sandboxes.salesforce,
        username: sf.username,
        password: sf.password,
        clientId: sf.clientId,
        clientSecret: sf.clientSecret,
        apiVersion,
      },
    };
    const firstLog = path.join(dir, 'worker-1.log');
    const secondLog = path.join(dir, 'worker-2.log');
    const started = Date.now();
    worker = startWorker(workerConfig, firstLog);
    let peakRss = 0;
    let peakHwm = 0;
    let killedAtDone = -1;
    let total = 0;
    let killedAt = 0;
    let restartGapSeconds = 0;
    let final: InitialSyncProgress | null = null;
    let lastShown = 0;
    const rssSamples: [number, number, number][] = [];
    for (;;) {
      await sleep(SAMPLE_MS);
      const memory = worker.pid === undefined ? null : memoryOf(worker.pid);
      if (memory) {
        peakRss = Math.max(peakRss, memory.rss);
        peakHwm = Math.max(peakHwm, memory.hwm);
      }
      const run = await initialSyncProgress(db, runId);
      if (!run) throw new Error('the run disappeared');
      if (run.status === 'failed') throw new Error(`the run failed: ${run.error ?? ''} (see ${dir})`);
      if (run.status === 'completed') {
        final = run;
        break;
      }
      if (worker.exitCode !== null && killedAtDone >= 0 && worker.signalCode === null)
        throw new Error(`the second worker exited (see ${secondLog})`);
      if (killedAtDone < 0 && run.total !== null && run.done >= run.total * KILL_AT) {
        worker.kill('SIGKILL');
        await new Promise<void>((resolve) =>
          worker?.exitCode !== null || worker.signalCode !== null ? resolve() : worker.once('exit', () => resolve()),
        );
        killedAt = Date.now();
        const saved = await initialSyncProgress(db, runId);
        killedAtDone = saved?.done ?? run.done;
        total = saved?.total ?? run.total;
        progress(`SIGKILL at ${fmt(killedAtDone)} of ${fmt(total)} (peak RSS so far ${fmt(peakHwm)} MB); starting a new worker`);
        worker = startWorker(workerConfig, secondLog);
        continue;
      }
      if (killedAtDone >= 0 && restartGapSeconds === 0 && run.done > killedAtDone) restartGapSeconds = (Date.now() - killedAt) / 1000;
      if (memory && (rssSamples.length === 0 || Date.now() - started - (rssSamples.at(-1)?.[0] ?? 0) * 1000 >= 5_000))
        rssSamples.push([Math.round((Date.now() - started) / 1000), Math.round(memory.rss), run.done]);
      if (Date.now() - lastShown > 15_000) {
        lastShown = Date.now();
        progress(
          `${run.phase} ${fmt(run.done)} / ${fmt(run.total ?? 0)} at ${fmt(run.ratePerS)} records/s, ETA ${run.etaS ?? '?'} s, RSS ${fmt(memory?.rss ?? 0)} MB`,
        );
      }
    }
    const wallSeconds = (Date.now() - started) / 1000;
    await stopChild(worker);

    const linksSaved = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM record_links WHERE installation_id = $1', [installation.id]))[0]?.n ?? 0,
    );
    const duplicateLinks = (
      await db.query(
        'SELECT salesforce_lead_id FROM record_links WHERE installation_id = $1 AND salesforce_lead_id IS NOT NULL GROUP BY salesforce_lead_id HAVING count(*) > 1',
        [installation.id],
      )
    ).length;
    const leadsAfter = (await connection.query('SELECT COUNT() FROM Lead')).totalSize;
    const contactsAfter = await hubspot.countContacts();
    const result: BackfillBenchResult = {
      contacts,
      leads: leadsBefore,
      expectedLinks,
      seedSeconds,
      recordsPerSecond: final.ratePerS,
      wallRecordsPerSecond: final.done / wallSeconds,
      wallSeconds,
      resume: { killedAtDone, total, firstReportAfterRestart: firstReportedDone(secondLog), restartGapSeconds },
      peakRssMb: peakRss,
      peakHwmMb: peakHwm,
      rssSamples,
      rssTargetMb: RSS_TARGET_MB,
      final,
      checks: { linksSaved, duplicateLinks, leadsBefore, leadsAfter, contactsBefore, contactsAfter },
    };
    const problems = [
      final.done !== final.total ? `done ${final.done} ≠ total ${String(final.total)}` : '',
      killedAtDone <= 0 ? 'the worker was never killed mid-run' : '',
      result.resume.firstReportAfterRestart !== null && result.resume.firstReportAfterRestart <= killedAtDone
        ? `the restarted worker reported ${result.resume.firstReportAfterRestart}, not past the resume point ${killedAtDone}`
        : '',
      linksSaved !== expectedLinks ? `${linksSaved} links saved, ${expectedLinks} expected` : '',
      duplicateLinks > 0 ? `${duplicateLinks} Leads linked twice` : '',
      leadsAfter !== leadsBefore ? `Leads ${leadsBefore} → ${leadsAfter}: the initial sync created Leads` : '',
      contactsAfter !== contactsBefore ? `contacts ${contactsBefore} → ${contactsAfter}: the initial sync created contacts` : '',
      final.failed > 0 ? `${final.failed} records failed` : '',
    ].filter(Boolean);
    saveResult(contacts === 1_000_000 ? 'backfill' : `backfill-${contacts}`, { ...result, problems });
    if (problems.length > 0) throw new Error(`backfill bench: ${problems.join('; ')} (logs in ${dir})`);
    rmSync(dir, { recursive: true, force: true });
    return result;
  } finally {
    await stopChild(worker);
    await stopChild(sandboxes.child);
    producerRedis.disconnect();
    await db.close();
    await postgres.stop();
    await redis.stop();
  }
}

export function printBackfill(r: BackfillBenchResult): void {
  const lines = [
    `Initial sync of ${fmt(r.contacts)} HubSpot contacts and ${fmt(r.leads)} Salesforce Leads (seeded in ${fmt(r.seedSeconds, 1)} s), worker killed at ${Math.round(KILL_AT * 100)} %`,
    '',
    `| records | records/s (working time) | records/s (wall, restart included) | wall time | peak RSS (VmHWM) | resume point | first report after restart | restart gap |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|`,
    `| ${fmt(r.final.done)} | ${fmt(r.recordsPerSecond)} | ${fmt(r.wallRecordsPerSecond)} | ${fmt(r.wallSeconds, 1)} s | ${fmt(r.peakHwmMb)} MB (target ≤ ${r.rssTargetMb}) | ${fmt(r.resume.killedAtDone)} of ${fmt(r.resume.total)} | ${r.resume.firstReportAfterRestart === null ? '—' : fmt(r.resume.firstReportAfterRestart)} | ${fmt(r.resume.restartGapSeconds, 1)} s |`,
    '',
    `linked ${fmt(r.final.linked)} (expected ${fmt(r.expectedLinks)}), stages aligned ${fmt(r.final.stagesAligned)}, unmatched ${fmt(r.final.unmatched)}, failed ${r.final.failed}; ` +
      `duplicate links ${r.checks.duplicateLinks}; Leads ${fmt(r.checks.leadsBefore)} → ${fmt(r.checks.leadsAfter)}; contacts ${fmt(r.checks.contactsBefore)} → ${fmt(r.checks.contactsAfter)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

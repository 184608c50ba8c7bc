/**
 * Lifecycle benchmark, against both sandbox CRMs with their real rate limits:
 *  1. end-to-end latency at steady load — a HubSpot change until the Salesforce Lead is written,
 *     and a rep's Lead change until the HubSpot contact is written (p50 / p95);
 *  2. API calls per synced record under bulk load, next to the batch minimum (1/100 HubSpot,
 *     1/200 Salesforce).
 *  3. the same steady load with both sides in pull mode, in an app of its own and a process of its
 *     own (bench/lifecycle-pull.ts): HubSpot changes read from the webhooks journal, Salesforce
 *     changes from the Pub/Sub API's change events, no webhook or Outbound Message delivered.
 * Targets: p95 ≤ 2 s; calls per record ≤ 1.1× the minimum.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import jsforce from 'jsforce';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { boot, type BootOptions, type RunningApp } from '../src/startup/boot.ts';
import { startPrivateRedis } from '../src/startup/redis-server.ts';
import { writeSetting } from '../src/store/installation-admin.ts';
import { readJournalPosition } from '../src/store/journal-offsets.ts';
import { feedChannels } from '../src/store/salesforce-feeds.ts';
import { fmt, runChild, saveResult, tempDir } from './support.ts';

const STEADY_COUNT = Number(process.env.BENCH_STEADY_COUNT ?? 60);
const STEADY_RATE_PER_S = 4;
const BULK_COUNT = Number(process.env.BENCH_BULK_COUNT ?? 1000);

interface Latency {
  p50: number;
  p95: number;
  max: number;
  n: number;
}

function percentiles(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? NaN, n: sorted.length };
}

function totalCalls(app: RunningApp): {
  hubspot: number;
  salesforce: number;
  hubspotEndpoints: Record<string, number>;
  salesforceEndpoints: Record<string, number>;
} {
  const hs = app.sandboxes?.hubspot?.stats();
  const sf = app.sandboxes?.salesforce?.stats();
  return {
    hubspot: hs?.totals.calls ?? 0,
    salesforce: sf?.totalCalls ?? 0,
    hubspotEndpoints: { ...(hs?.endpoints ?? {}) },
    salesforceEndpoints: { ...(sf?.calls ?? {}) },
  };
}

async function untilQuiet(app: RunningApp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const calls = totalCalls(app);
    // In pull mode the journal feed polls while idle: its reads are not work.
    const polls = Object.entries(calls.hubspotEndpoints)
      .filter(([endpoint]) => endpoint.includes('/webhooks-journal/'))
      .reduce((sum, [, n]) => sum + n, 0);
    const now = calls.hubspot - polls + calls.salesforce;
    const counts = await Promise.all(
      (['webhookDeliveries', 'syncToSalesforce', 'syncToHubSpot', 'hubspotEvents', 'salesforceEvents'] as const).map((k) =>
        app.producer.queue(k).getJobCounts('waiting', 'active', 'delayed'),
      ),
    );
    const busy = counts.some((c) => Object.values(c).some((n) => n > 0));
    if (!busy && now === last) return;
    if (Date.now() > deadline) throw new Error('the system did not go quiet');
    last = now;
    await sleep(1_000);
  }
}

async function waitForLog(
  app: RunningApp,
  refs: string[],
  action: string,
  after: Map<string, number>,
  timeoutMs = 120_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, number>();
  while (seen.size < refs.length) {
    const rows = await app.db.query<{ record_ref: string; created_at: Date }>(
      'SELECT record_ref, created_at FROM sync_log WHERE action = $1 AND record_ref = ANY($2)',
      [action, refs],
    );
    for (const row of rows) {
      const t = row.created_at.getTime();
      const start = after.get(row.record_ref) ?? 0;
      if (t >= start && !seen.has(row.record_ref)) seen.set(row.record_ref, t - start);
    }
    if (Date.now() > deadline) throw new Error(`${refs.length - seen.size} records never logged ${action}`);
    await sleep(50);
  }
  return seen;
}

export interface SteadyLatency {
  toSalesforce: Latency;
  toHubSpot: Latency;
}

export interface LifecycleBenchResult {
  toSalesforce: Latency;
  toHubSpot: Latency;
  /** The same steady load with both sides in pull mode (product defaults for the feeds' pace). */
  pull: SteadyLatency;
  bulk: {
    records: number;
    hubspotCallsPerRecord: number;
    salesforceCallsPerRecord: number;
    hubspotWritesPerRecord: number;
    salesforceWritesPerRecord: number;
    hubspotEndpoints: Record<string, number>;
    salesforceEndpoints: Record<string, number>;
    seconds: number;
  };
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) if (value - (before[key] ?? 0) > 0) changed[key] = value - (before[key] ?? 0);
  return changed;
}

export interface BenchApp {
  app: RunningApp;
  hubspot: NonNullable<NonNullable<RunningApp['sandboxes']>['hubspot']>;
  salesforce: NonNullable<NonNullable<RunningApp['sandboxes']>['salesforce']>;
  rep: jsforce.Connection;
}

/** Boots the app with both sandbox CRMs in a directory and Redis of its own, runs `fn`, and takes it all down. */
export async function withApp<T>(name: string, options: Partial<BootOptions>, fn: (bench: BenchApp) => Promise<T>): Promise<T> {
  const dir = tempDir(`smk-bench-${name}-`);
  const log = createLogger('silent');
  const redis = await startPrivateRedis(path.join(dir, 'redis'), log);
  try {
    const config = loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATA_DIR: dir,
      REDIS_URL: redis.url,
      SANDBOX_DEMO: 'false',
      SANDBOX_HUBSPOT_PORT: '0',
      SANDBOX_SALESFORCE_PORT: '0',
    });
    if (!config.ok) throw new Error(config.error);
    const app = await boot(config.value, { ...options, role: 'all', log, queuePrefix: '{bench}' });
    try {
      const hubspot = app.sandboxes?.hubspot;
      const salesforce = app.sandboxes?.salesforce;
      if (!hubspot || !salesforce) throw new Error('sandboxes did not start');
      const token = salesforce.issueUserToken(salesforce.salesRepIds[0] as string);
      const rep = new jsforce.Connection({ instanceUrl: salesforce.url, accessToken: token.access_token, version: '62.0' });
      return await fn({ app, hubspot, salesforce, rep });
    } finally {
      await app.close();
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Steady load both ways: `STEADY_COUNT` contacts become MQLs at `STEADY_RATE_PER_S` (until each
 * Lead is written), then a rep starts working each Lead at the same pace (until each contact is
 * written). `tag` keeps the e-mail addresses of two runs apart.
 */
export async function steadyLatency({ app, hubspot, rep }: BenchApp, tag: string): Promise<SteadyLatency> {
  // HubSpot → Salesforce.
  process.stderr.write(`lifecycle (${tag}): ${STEADY_COUNT} handoffs at ${STEADY_RATE_PER_S}/s…\n`);
  const steady = Array.from({ length: STEADY_COUNT }, (_, i) =>
    String(
      hubspot.createInUi('contacts', {
        email: `steady${i}@${tag}.bench.example.com`,
        lastname: `Steady ${i}`,
        company: 'Bench',
        lifecyclestage: 'lead',
      }).id,
    ),
  );
  await untilQuiet(app);
  const handoffStart = new Map<string, number>();
  for (const id of steady) {
    handoffStart.set(`hubspot:contact:${id}`, Date.now());
    hubspot.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
    await sleep(1000 / STEADY_RATE_PER_S);
  }
  const toSalesforce = await waitForLog(app, [...handoffStart.keys()], 'handoff', handoffStart);
  await untilQuiet(app);

  // Salesforce → HubSpot: a rep starts working each Lead.
  process.stderr.write(`lifecycle (${tag}): ${STEADY_COUNT} rep updates at ${STEADY_RATE_PER_S}/s…\n`);
  const links = await app.db.query<{ hubspot_contact_id: string; salesforce_lead_id: string }>(
    'SELECT hubspot_contact_id, salesforce_lead_id FROM record_links WHERE hubspot_contact_id = ANY($1)',
    [steady],
  );
  const workStart = new Map<string, number>();
  for (const link of links) {
    workStart.set(`hubspot:contact:${link.hubspot_contact_id}`, Date.now());
    await rep.sobject('Lead').update({ Id: link.salesforce_lead_id, Status: 'Working - Contacted' });
    await sleep(1000 / STEADY_RATE_PER_S);
  }
  const toHubSpot = await waitForLog(app, [...workStart.keys()], 'update_hubspot', workStart);
  await untilQuiet(app);
  return { toSalesforce: percentiles([...toSalesforce.values()]), toHubSpot: percentiles([...toHubSpot.values()]) };
}

/**
 * Both sides of the installation in pull mode, with nothing pushed any more: the portal's webhook
 * settings deleted (no target URL, so HubSpot sends nothing) and the org's Outbound Message rules
 * removed. Returns once the journal feed has caught up and every change event channel is connected.
 */
export async function switchToPull({ app, salesforce }: BenchApp): Promise<void> {
  const installationId = (await app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id;
  if (installationId === undefined) throw new Error('no installation');
  const { appId, developerKey } = app.config.sandbox.hubspot;
  const hubspotUrl = app.sandboxes?.hubspot?.url ?? '';
  const off = await fetch(`${hubspotUrl}/webhooks/v3/${appId}/settings?hapikey=${developerKey}`, { method: 'DELETE' });
  if (off.status !== 204) throw new Error(`deleting the webhook settings answered ${off.status}`);
  for (const rule of salesforce.outbound.rules()) salesforce.outbound.removeRule(rule.id);
  await writeSetting(app.db, installationId, 'hubspotChangeFeed', { mode: 'pull' });
  await writeSetting(app.db, installationId, 'salesforceFeed', { mode: 'pull' });
  const since = new Date();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const position = await readJournalPosition(app.db, installationId);
    const channels = await feedChannels(app.db, installationId);
    const journalCaughtUp = position?.caughtUpAt != null && position.caughtUpAt > since;
    if (journalCaughtUp && channels.length > 0 && channels.every((c) => c.state === 'connected')) return;
    if (Date.now() > deadline) throw new Error('the pull feeds did not start within 60 s');
    await sleep(200);
  }
}

export async function runLifecycleBench(): Promise<LifecycleBenchResult> {
  const pull = await runChild<SteadyLatency>('bench/lifecycle-pull.ts', {});
  const push = await withApp('lifecycle', {}, async (bench) => {
    const { app, hubspot } = bench;
    const steady = await steadyLatency(bench, 'push');

    // Bulk: BULK_COUNT contacts become MQLs at once.
    process.stderr.write(`lifecycle: bulk handoff of ${BULK_COUNT} contacts…\n`);
    const bulk = Array.from({ length: BULK_COUNT }, (_, i) =>
      String(
        hubspot.createInUi('contacts', {
          email: `bulk${i}@bench.example.com`,
          lastname: `Bulk ${i}`,
          company: 'Bench',
          lifecyclestage: 'lead',
        }).id,
      ),
    );
    await untilQuiet(app);
    const before = totalCalls(app);
    const started = Date.now();
    for (const id of bulk) hubspot.editInUi('contacts', id, { lifecyclestage: 'marketingqualifiedlead' });
    await waitForLog(
      app,
      bulk.map((id) => `hubspot:contact:${id}`),
      'handoff',
      new Map(),
      300_000,
    );
    const seconds = (Date.now() - started) / 1000;
    await untilQuiet(app);
    const after = totalCalls(app);
    const hubspotEndpoints = delta(after.hubspotEndpoints, before.hubspotEndpoints);
    const salesforceEndpoints = delta(after.salesforceEndpoints, before.salesforceEndpoints);
    const sum = (o: Record<string, number>, pattern: RegExp) =>
      Object.entries(o)
        .filter(([k]) => pattern.test(k))
        .reduce((a, [, v]) => a + v, 0);
    return {
      ...steady,
      bulk: {
        records: BULK_COUNT,
        seconds,
        hubspotCallsPerRecord: (after.hubspot - before.hubspot) / BULK_COUNT,
        salesforceCallsPerRecord: (after.salesforce - before.salesforce) / BULK_COUNT,
        hubspotWritesPerRecord: sum(hubspotEndpoints, /batch\/(update|upsert|create)/) / BULK_COUNT,
        salesforceWritesPerRecord: sum(salesforceEndpoints, /^(PATCH|POST) .*composite\/sobjects/) / BULK_COUNT,
        hubspotEndpoints,
        salesforceEndpoints,
      },
    };
  });
  return { ...push, pull };
}

export function printLifecycle(result: LifecycleBenchResult): void {
  const line = (name: string, l: Latency) =>
    `${name.padEnd(34)} p50 ${fmt(l.p50).padStart(6)} ms   p95 ${fmt(l.p95).padStart(6)} ms   max ${fmt(l.max).padStart(6)} ms   (n=${l.n})\n`;
  process.stdout.write(`\nLifecycle, end to end (steady ${STEADY_RATE_PER_S} changes/s, sandbox rate limits on)\n`);
  process.stdout.write(line('HubSpot MQL → Salesforce Lead', result.toSalesforce));
  process.stdout.write(line('Salesforce Lead → HubSpot contact', result.toHubSpot));
  process.stdout.write(`Both sides in pull mode (HubSpot webhooks journal, Salesforce change events), same load\n`);
  process.stdout.write(line('HubSpot MQL → Salesforce Lead', result.pull.toSalesforce));
  process.stdout.write(line('Salesforce Lead → HubSpot contact', result.pull.toHubSpot));
  const b = result.bulk;
  process.stdout.write(`\nBulk handoff of ${b.records} contacts in ${fmt(b.seconds, 1)} s\n`);
  process.stdout.write(
    `HubSpot    calls/record ${fmt(b.hubspotCallsPerRecord, 4)}  (writes ${fmt(b.hubspotWritesPerRecord, 4)}; batch minimum 0.0100 → writes ${fmt(b.hubspotWritesPerRecord / 0.01, 2)}×)\n`,
  );
  process.stdout.write(
    `Salesforce calls/record ${fmt(b.salesforceCallsPerRecord, 4)}  (writes ${fmt(b.salesforceWritesPerRecord, 4)}; batch minimum 0.0050 → writes ${fmt(b.salesforceWritesPerRecord / 0.005, 2)}×)\n`,
  );
  process.stdout.write(
    `HubSpot endpoints: ${JSON.stringify(b.hubspotEndpoints)}\nSalesforce endpoints: ${JSON.stringify(b.salesforceEndpoints)}\n`,
  );
  process.stdout.write(`results: ${saveResult('lifecycle', result)}\n`);
}

/**
 * Intake benchmark: signed HubSpot batches of 1, 10 and 100 events and Salesforce envelopes of
 * 100 notifications, fired by a separate process over loopback at the real receivers, against a
 * bare BullMQ addBulk of the same events (the payloads the receivers enqueued, with the queue's job
 * options) measured in the same run on the same Redis.
 * Targets: ≥ 20,000 events/s for 100-event batches, p99 ≤ 50 ms, overhead ≤ 1.5× the bare enqueue.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { queues } from '../src/queue/catalog.ts';
import { producerConnection } from '../src/queue/redis.ts';
import { boot } from '../src/runtime/boot.ts';
import { startPrivateRedis } from '../src/runtime/redis-server.ts';
import { listActiveInstallations } from '../src/store/installations.ts';
import { fmt, runChild, saveResult, tempDir } from './support.ts';

interface LoadResult { requests: number; ok: number; non2xx: number; errors: number; durationS: number; p50: number; p99: number }
interface Row { scenario: string; batch: number; eventsPerS: number; p50: number; p99: number; non2xx: number; bareEventsPerS: number; overhead: number }

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 6);
const CONNECTIONS = 10;

/**
 * The bare enqueue of the same events: the payloads the receivers enqueued in the scenario just
 * run (read back from its queue), added again with fresh ids, the queue's own job options and the
 * same batch size and concurrency — BullMQ and Redis alone, without HTTP, verification or parsing.
 */
async function bareAddBulk(redisUrl: string, prefix: string, key: 'hubspotEvents' | 'salesforceEvents', payloads: readonly unknown[], batch: number, durationS: number, concurrency: number): Promise<number> {
  if (payloads.length === 0) throw new Error('the scenario enqueued nothing to replay');
  const connection = producerConnection(redisUrl);
  const definition = queues[key];
  const queue = new Queue('bare-baseline', { connection, prefix, defaultJobOptions: definition.jobOptions });
  let sequence = 0;
  let events = 0;
  const deadline = Date.now() + durationS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const jobs = Array.from({ length: batch }, () => {
          sequence += 1;
          return { name: definition.name, data: payloads[sequence % payloads.length], opts: { jobId: `bare-${batch}-${sequence}` } };
        });
        await queue.addBulk(jobs);
        events += batch;
      }
    }),
  );
  const rate = events / ((Date.now() - started) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate;
}

export async function runIntakeBench(): Promise<Row[]> {
  const dir = tempDir('smk-bench-intake-');
  const log = createLogger('silent');
  const redis = await startPrivateRedis(path.join(dir, 'redis'), log);
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dir, REDIS_URL: redis.url, SANDBOX_DEMO: 'false', PUBLIC_URL: 'https://sync.example.com' });
  if (!config.ok) throw new Error(config.error);
  const app = await boot(config.value, { role: 'all', log, withWorkers: false, sandboxes: false, queuePrefix: '{bench}' });
  const installation = (await listActiveInstallations(app.db))[0];
  if (!installation || !app.url) throw new Error('the sandbox installation was not created');
  const rows: Row[] = [];
  const scenarios: { kind: 'hubspot' | 'salesforce'; batch: number }[] = [
    { kind: 'hubspot', batch: 1 },
    { kind: 'hubspot', batch: 10 },
    { kind: 'hubspot', batch: 100 },
    { kind: 'salesforce', batch: 100 },
  ];
  try {
    for (const [index, scenario] of scenarios.entries()) {
      process.stderr.write(`intake: ${scenario.kind} batches of ${scenario.batch} for ${DURATION_S}s…\n`);
      const load = await runChild<LoadResult>('bench/intake-load.ts', {
        url: app.url, kind: scenario.kind, batch: scenario.batch, connections: CONNECTIONS, durationS: DURATION_S,
        secret: config.value.sandbox.hubspot.clientSecret, publicUrl: config.value.publicUrl, portalId: config.value.sandbox.hubspot.portalId,
        token: installation.salesforceWebhookToken, orgId: config.value.sandbox.salesforce.orgId, runId: String(index).padStart(3, '0'),
      });
      const eventsPerS = (load.ok * scenario.batch) / load.durationS;
      const key = scenario.kind === 'hubspot' ? 'hubspotEvents' : 'salesforceEvents';
      const payloads = (await app.producer.queue(key).getJobs(['waiting'], 0, 499)).map((job) => job.data as unknown);
      await Promise.all([app.producer.queue('hubspotEvents').obliterate({ force: true }), app.producer.queue('salesforceEvents').obliterate({ force: true })]);
      const bareEventsPerS = await bareAddBulk(redis.url, '{bench}', key, payloads, scenario.batch, DURATION_S, CONNECTIONS);
      rows.push({ scenario: `${scenario.kind} ×${scenario.batch}`, batch: scenario.batch, eventsPerS, p50: load.p50, p99: load.p99, non2xx: load.non2xx + load.errors, bareEventsPerS, overhead: bareEventsPerS / eventsPerS });
    }
  } finally {
    await app.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function printIntake(rows: Row[]): void {
  process.stdout.write('\nIntake (receivers → Redis, loopback, 10 connections)\n');
  process.stdout.write('scenario          events/s   p50 ms  p99 ms  non-2xx  bare addBulk ev/s  overhead\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.scenario.padEnd(16)} ${fmt(r.eventsPerS).padStart(9)} ${fmt(r.p50, 1).padStart(8)} ${fmt(r.p99, 1).padStart(7)} ${String(r.non2xx).padStart(8)} ${fmt(r.bareEventsPerS).padStart(18)} ${fmt(r.overhead, 2).padStart(8)}×\n`,
    );
  }
  process.stdout.write(`results: ${saveResult('intake', { rows })}\n`);
}

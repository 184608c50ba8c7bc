/**
 * The backfill benchmark's worker process: the initial sync processor (workers/initial-sync.worker.ts)
 * under the app's worker runner, on the benchmark's Redis and PostgreSQL, against the sandboxes of
 * bench/backfill-sandboxes.ts. It is `npm run worker` reduced to the one queue, with the app's own
 * request pacing widened to match the sandboxes' relaxed limits (the production pacing, 90 HubSpot
 * requests per 10 s, would make a million contacts a matter of hours, not of the code).
 * Configuration comes as one JSON argument; logs go to stdout (pino).
 */
import { createHubSpotAdapter } from '../src/crm/hubspot/client.ts';
import { createRedisLimiter } from '../src/crm/limiter.ts';
import { connectSalesforce, createSalesforceAdapter } from '../src/crm/salesforce/client.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY } from '../src/domain/stages.ts';
import { createLogger } from '../src/log.ts';
import { producerConnection, workerConnection } from '../src/queue/redis.ts';
import { startWorkers } from '../src/queue/worker-runner.ts';
import type { InstallationRuntime } from '../src/runtime/installation-clients.ts';
import { createMetrics } from '../src/metrics.ts';
import { readSalesSettings } from '../src/runtime/sales-settings.ts';
import { connectPostgres } from '../src/store/db.ts';
import { DEFAULT_ATTRIBUTION_SETTINGS } from '../src/sync/attribution-settings.ts';
import { ValueLedger } from '../src/sync/value-ledger.ts';
import { initialSyncProcessors } from '../workers/initial-sync.worker.ts';

export interface BackfillWorkerConfig {
  redisUrl: string;
  databaseUrl: string;
  prefix: string;
  installationId: string;
  hubspot: { url: string; token: string };
  salesforce: { url: string; username: string; password: string; clientId: string; clientSecret: string; apiVersion: string };
}

const config = JSON.parse(process.argv[2] ?? '{}') as BackfillWorkerConfig;
const log = createLogger('info');
const db = connectPostgres(config.databaseUrl, 4);
const redis = producerConnection(config.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 20 });
const { installationId, prefix } = config;
const connection = await connectSalesforce({
  loginUrl: config.salesforce.url,
  username: config.salesforce.username,
  password: config.salesforce.password,
  clientId: config.salesforce.clientId,
  clientSecret: config.salesforce.clientSecret,
  apiVersion: config.salesforce.apiVersion,
});
const salesforce = createSalesforceAdapter({
  connection,
  apiVersion: config.salesforce.apiVersion,
  limiter: createRedisLimiter(redis, { limit: 1_000, windowMs: 1_000 }, `${prefix}:limit:salesforce:${installationId}`),
});
const runtime: InstallationRuntime = {
  installationId,
  hubspot: createHubSpotAdapter({
    accessToken: config.hubspot.token,
    basePath: config.hubspot.url,
    limiter: createRedisLimiter(redis, { limit: 10_000, windowMs: 10_000 }, `${prefix}:limit:hubspot:${installationId}`),
  }),
  salesforce,
  hubspotAppId: null,
  salesforceIntegrationUserId: await salesforce.integrationUserId(),
  dictionary: DEFAULT_STAGE_DICTIONARY,
  fieldMappings: DEFAULT_FIELD_MAPPINGS,
  attribution: DEFAULT_ATTRIBUTION_SETTINGS,
  sales: readSalesSettings({}, log, installationId),
};
const pool = startWorkers(
  initialSyncProcessors({ db, clients: { forInstallation: async () => runtime }, ledger: new ValueLedger(redis, prefix), log }),
  {
    connection: workerConnection(config.redisUrl),
    prefix,
    log,
    metrics: createMetrics({ defaultMetrics: false }),
  },
);
log.info({ pid: process.pid, queues: pool.workers.map((w) => w.name) }, 'backfill bench worker started');
const stop = () => {
  void pool.close(5_000).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

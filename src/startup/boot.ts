/**
 * Starts the app's parts in order — Redis, database and migrations, CRM connections, HTTP,
 * workers — and stops them in reverse, once. `src/main.ts` calls it; integration tests too.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Express } from 'express';
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { queueKeys, queues } from '../queue/catalog.ts';
import { Producer } from '../queue/producer.ts';
import { DEFAULT_QUEUE_PREFIX, producerConnection, untilReady, workerConnection } from '../queue/redis.ts';
import { startWorkers } from '../queue/worker-runner.ts';
import { createAdminRoutes } from '../server/admin/index.ts';
import { resolveAdminSecrets, type AdminSecrets } from '../server/admin/secrets.ts';
import { createApp } from '../server/app.ts';
import { resolveOAuthApps, type OAuthApps } from '../server/oauth/apps.ts';
import { CredentialVault } from '../server/oauth/credentials.ts';
import { createStoredConnections } from '../server/oauth/stored-connections.ts';
import { KeyConfigurationError } from '../runtime/secrets.ts';
import { CrmAuthError } from '../crm/errors.ts';
import { connectPostgres, openPglite, type Db } from '../store/db.ts';
import { InstallationDirectory } from '../store/installation-directory.ts';
import { listActiveInstallations, upsertInstallation, type Installation } from '../store/installations.ts';
import { migrate, pendingMigrations } from '../store/migrate.ts';
import { hubspotWebhookRouter, MAX_HUBSPOT_BATCH_BYTES } from '../../webhooks/hubspot/receiver.ts';
import { DEFAULT_ENQUEUE_BUDGET_MS } from '../../webhooks/intake.ts';
import { MAX_OUTBOUND_MESSAGE_BYTES, salesforceWebhookRouter } from '../../webhooks/salesforce/receiver.ts';
import { PendingSet } from '../sync/pending-set.ts';
import { SyncScheduler } from '../sync/scheduler.ts';
import { ValueLedger } from '../sync/value-ledger.ts';
import type { IntakeDeps } from '../../workers/intake.worker.ts';
import { scheduleReconcile } from '../sync/reconcile-schedule.ts';
import { queueApiBudgetAlert } from '../../workers/api-budget-alert.worker.ts';
import { scheduleCommitmentChecks } from '../sync/commitment-check.ts';
import { scheduleReviewDigests, type ReviewSource } from '../sync/digest.ts';
import { reviewOfInstallation } from '../sync/review.ts';
import { smtpSender } from '../sync/mail.ts';
import { requestSlaReschedules } from '../../workers/sla.worker.ts';
import { startSalesforceFeedRunner } from '../../workers/salesforce-feed.runner.ts';
import { InstallationClients, type CrmEndpoints } from '../runtime/installation-clients.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts';
import { sandboxProvisioning, startSandboxes, type RunningSandboxes } from './sandboxes.ts';
import { DEMO_SLA_POLICY, startDemo } from './demo.ts';
import { seedSlaPolicy } from '../store/sla.ts';
import { selfInstall } from './self-install.ts';
import { workerProcessors } from './worker-processors.ts';
import { FeedLease, HubSpotJournalFeeds, type JournalFeedDeps } from '../../workers/hubspot-journal-feed.runner.ts';

export type Role = 'all' | 'web' | 'worker';

export interface RunningApp {
  config: AppConfig;
  db: Db;
  redisUrl: string;
  producer: Producer;
  metrics: Metrics;
  directory: InstallationDirectory;
  /** The sandbox CRMs this process runs, if any. */
  sandboxes: RunningSandboxes | undefined;
  /** The HTTP address, when this process serves HTTP. */
  url: string | undefined;
  /** The interface address HTTP is bound to (HOST; loopback by default), when this process serves HTTP. */
  listenAddress: string | undefined;
  /** The HTTP application, when this process serves HTTP (its routes are walked by tests). */
  http: Express | undefined;
  close(): Promise<void>;
}

export class BootError extends Error {}

export interface BootOptions {
  role: Role;
  log: Logger;
  queuePrefix?: string;
  /** How long shutdown waits for active jobs before closing workers by force. */
  shutdownGraceMs?: number;
  /** How long a receiver waits for Redis before answering 503. */
  enqueueBudgetMs?: number;
  /** Set false to serve HTTP without consuming jobs in this process (benchmarks of the intake path). */
  withWorkers?: boolean;
  /** Set false to run without the sandbox CRMs (and so without syncing) when no credentials are set. */
  sandboxes?: boolean;
  /** How long changes to one record are collected before they are synced. */
  coalesceMs?: number;
  /** Set false to keep the sandbox demo off whatever SANDBOX_DEMO says; and its pace. */
  demo?: boolean;
  demoIntervalMs?: number;
  /** Overrides RECONCILE_INTERVAL_MS (tests). */
  reconcileIntervalMs?: number;
  /** How often the worker reads the installations' Salesforce feed modes again (tests shorten it). */
  salesforceFeedRefreshMs?: number;
  /** Set false to leave the sandbox portal and org unprovisioned at boot (an admin provisions them from /admin). */
  selfInstall?: boolean;
  /** The clock of admin sign-in: sessions' lifetimes and lockout windows (tests move it). */
  adminClock?: () => number;
  /** The clock SLA due checks judge by (tests move it past a due time instead of waiting for it). */
  slaClock?: () => number;
  /** The pipeline review the digest sends (tests pass a fixture); see the integration point below. */
  reviewSource?: ReviewSource;
  /** The HubSpot pull feed's pace: wait when caught up, and how often modes are looked at again (tests). */
  journalPollMs?: number;
  journalRefreshMs?: number;
}

/**
 * The HubSpot app whose client credentials read the webhooks journal: the sandbox's app, or the
 * configured OAuth app (HUBSPOT_CLIENT_ID + HUBSPOT_CLIENT_SECRET); undefined when there is none.
 */
function journalApp(
  config: AppConfig,
  sandboxes: RunningSandboxes | undefined,
  sandboxesEnabled: boolean,
): JournalFeedDeps['app'] | undefined {
  const hs = config.sandbox.hubspot;
  if (config.hubspot.mode === 'sandbox') {
    if (!sandboxesEnabled) return undefined;
    return { basePath: sandboxUrls(config, sandboxes).hubspot, clientId: hs.clientId, clientSecret: hs.clientSecret };
  }
  const { clientId, clientSecret, apiBaseUrl } = config.hubspot;
  return clientId && clientSecret ? { basePath: apiBaseUrl, clientId, clientSecret } : undefined;
}

/**
 * Where the sandbox CRMs answer: the ones this process runs, or those another process of the
 * deployment runs on their configured ports (a worker process runs none).
 */
function sandboxUrls(config: AppConfig, sandboxes: RunningSandboxes | undefined): { hubspot: string; salesforce: string } {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    hubspot: sandboxes?.hubspot?.url ?? local(config.sandbox.hubspot.port),
    salesforce: sandboxes?.salesforce?.url ?? local(config.sandbox.salesforce.port),
  };
}

/** Where each CRM is reached from the environment; a side with neither a sandbox nor credentials is missing. */
function crmEndpoints(
  config: AppConfig,
  sandboxes: RunningSandboxes | undefined,
  sandboxesEnabled: boolean,
): { hubspot?: CrmEndpoints['hubspot']; salesforce?: CrmEndpoints['salesforce'] } {
  const hs = config.sandbox.hubspot;
  const sf = config.sandbox.salesforce;
  const urls = sandboxUrls(config, sandboxes);
  let hubspot: CrmEndpoints['hubspot'] | undefined;
  if (config.hubspot.mode === 'sandbox') {
    if (sandboxesEnabled) hubspot = { basePath: urls.hubspot, accessToken: hs.privateAppToken, appId: String(hs.appId) };
  } else if (config.hubspot.accessToken) {
    hubspot = { basePath: config.hubspot.apiBaseUrl, accessToken: config.hubspot.accessToken, appId: null };
  }
  let salesforce: CrmEndpoints['salesforce'] | undefined;
  if (config.salesforce.mode === 'sandbox') {
    if (sandboxesEnabled)
      salesforce = {
        loginUrl: urls.salesforce,
        clientId: sf.clientId,
        clientSecret: sf.clientSecret,
        username: sf.username,
        password: sf.password,
        apiVersion: config.salesforce.apiVersion,
      };
  } else if (config.salesforce.accessToken || config.salesforce.refreshToken) {
    const c = config.salesforce;
    salesforce = {
      loginUrl: c.loginUrl,
      apiVersion: c.apiVersion,
      ...(c.instanceUrl ? { instanceUrl: c.instanceUrl } : {}),
      ...(c.accessToken ? { accessToken: c.accessToken } : {}),
      ...(c.refreshToken ? { refreshToken: c.refreshToken } : {}),
      ...(c.clientId ? { clientId: c.clientId } : {}),
      ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
    };
  }
  return { ...(hubspot ? { hubspot } : {}), ...(salesforce ? { salesforce } : {}) };
}

/** The Pub/Sub API the change feed follows: the sandbox org's (plaintext), or Salesforce's (TLS). */
function salesforcePubSubEndpoint(config: AppConfig, sandboxes: RunningSandboxes | undefined): string | undefined {
  if (config.salesforce.mode === 'sandbox')
    return `http://${sandboxes?.salesforce?.pubsub.endpoint ?? `127.0.0.1:${config.sandbox.salesforce.pubsubPort}`}`;
  return config.salesforce.pubsubEndpoint;
}

/** How this process reaches its own HTTP server: loopback when it listens on every interface. */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === 'localhost') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** What the boot has started so far, shared by its steps; `publicUrl` and `clients` are settled as it goes. */
interface BootState {
  config: AppConfig;
  options: BootOptions;
  log: Logger;
  prefix: string;
  /** Shutdown steps, run in reverse. */
  closers: (() => Promise<void>)[];
  redisUrl: string;
  db: Db;
  producerRedis: ReturnType<typeof producerConnection>;
  producer: Producer;
  metrics: Metrics;
  sandboxSides: { hubspot: boolean; salesforce: boolean };
  sandboxes: RunningSandboxes | undefined;
  sandboxInstallation: Installation | undefined;
  directory: InstallationDirectory;
  adminSecrets: AdminSecrets;
  vault: CredentialVault;
  oauthApps: OAuthApps;
  pending: PendingSet;
  scheduler: SyncScheduler;
  ledger: ValueLedger;
  /** The address the CRMs call back: PUBLIC_URL, or the HTTP server's own once it listens. */
  publicUrl: string;
  /** CRM clients per installation, once any CRM can be reached. */
  clients: InstallationClients | undefined;
}

/** Boots the app for a role; throws BootError with an instruction when a dependency is missing. */
export async function boot(config: AppConfig, options: BootOptions): Promise<RunningApp> {
  const { role, log } = options;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((error: unknown) =>
        log.warn({ error: error instanceof Error ? error.message : String(error) }, 'error while shutting down'),
      );
    }
    closers.length = 0;
  };

  try {
    mkdirSync(config.dataDir, { recursive: true });
    if (role !== 'all' && (!config.redisUrl || !config.databaseUrl)) {
      throw new BootError(
        `running the ${role} role apart needs a shared REDIS_URL and DATABASE_URL (the embedded ones belong to one process); use 'npm start' for a single process`,
      );
    }
    // 1–5. Redis, database, queues, sandbox CRMs, installations and the admin's secrets.
    const state = await startFoundations(config, options, closers);
    // 6. HTTP.
    const served = role !== 'worker' ? await serveHttp(state) : undefined;
    // 7. Sync: CRM clients per installation, pending sets, echo ledger, and the sandbox self-install.
    const sync = await connectSync(state);
    // 8. Workers.
    if (role !== 'web' && options.withWorkers !== false) await startWorkerPool(state, sync);

    let closed: Promise<void> | undefined;
    return {
      config,
      db: state.db,
      redisUrl: state.redisUrl,
      producer: state.producer,
      metrics: state.metrics,
      directory: state.directory,
      sandboxes: state.sandboxes,
      url: served?.url,
      listenAddress: served?.listenAddress,
      http: served?.http,
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Redis (the configured one, or a private redis-server with AOF), the database with its migrations, and the queues. */
async function startStores(
  config: AppConfig,
  log: Logger,
  prefix: string,
  closers: (() => Promise<void>)[],
): Promise<Pick<BootState, 'redisUrl' | 'db' | 'producerRedis' | 'producer'>> {
  // 1. Redis: the configured one, or a private redis-server with AOF.
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const privateRedis: PrivateRedis = await startPrivateRedis(path.join(config.dataDir, 'redis'), log);
    redisUrl = privateRedis.url;
    closers.push(() => privateRedis.stop());
  } else {
    log.info('using Redis from REDIS_URL');
  }
  // 2. Database and migrations.
  const db = config.databaseUrl ? connectPostgres(config.databaseUrl) : await openPglite(path.join(config.dataDir, 'pg'));
  closers.push(() => db.close());
  const applied = await migrate(db);
  log.info({ backend: db.kind, applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
  // 3. Queues.
  const producerRedis = producerConnection({ url: redisUrl, cluster: config.redisCluster });
  closers.push(async () => {
    producerRedis.disconnect();
  });
  await untilReady(producerRedis).catch(() => {
    throw new BootError('Redis is not reachable at REDIS_URL (is it running?)');
  });
  const producer = new Producer(producerRedis, prefix);
  closers.push(() => producer.close());
  return { redisUrl, db, producerRedis, producer };
}

/** Steps 1–5: the stores and queues, the sandbox CRMs, the installations, and the admin's secrets and vault. */
async function startFoundations(config: AppConfig, options: BootOptions, closers: (() => Promise<void>)[]): Promise<BootState> {
  const { role, log } = options;
  const prefix = options.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
  const stores = await startStores(config, log, prefix, closers);
  const metrics = createMetrics();

  // 4. Sandbox CRMs for the sides without real credentials.
  const sandboxSides = { hubspot: config.hubspot.mode === 'sandbox', salesforce: config.salesforce.mode === 'sandbox' };
  let sandboxes: RunningSandboxes | undefined;
  if (options.sandboxes !== false && role !== 'worker' && (sandboxSides.hubspot || sandboxSides.salesforce)) {
    const running = await startSandboxes(config, log, sandboxSides);
    sandboxes = running;
    closers.push(() => running.close());
  }

  // 5. Installations: in sandbox mode the app installs itself on the sandbox portal and org.
  let sandboxInstallation: Installation | undefined;
  if (sandboxSides.hubspot || sandboxSides.salesforce) {
    sandboxInstallation = await upsertInstallation(stores.db, {
      name: 'Sandbox',
      hubspotPortalId: sandboxSides.hubspot ? String(config.sandbox.hubspot.portalId) : null,
      salesforceOrgId: sandboxSides.salesforce ? config.sandbox.salesforce.orgId : null,
    });
    log.info({ installation: sandboxInstallation.id }, 'sandbox installation ready');
  }
  const directory = new InstallationDirectory(stores.db);
  await directory.reload();
  const { adminSecrets, vault } = await openVault(config, stores.db, log);
  // A worker process reaches the sandboxes the web process runs: OAuth installs there are its too.
  const oauthApps = resolveOAuthApps(
    config,
    options.sandboxes === false
      ? { hubspot: sandboxes?.hubspot?.url, salesforce: sandboxes?.salesforce?.url }
      : sandboxUrls(config, sandboxes),
  );
  // Pending sets and drain scheduling: the workers' and the admin's (resume, sync a record now).
  const pending = new PendingSet(stores.producerRedis, prefix);
  const scheduler = new SyncScheduler(pending, stores.producer, options.coalesceMs);
  return {
    config,
    options,
    log,
    prefix,
    closers,
    ...stores,
    metrics,
    sandboxSides,
    sandboxes,
    sandboxInstallation,
    directory,
    adminSecrets,
    vault,
    oauthApps,
    pending,
    scheduler,
    ledger: new ValueLedger(stores.producerRedis, prefix),
    publicUrl: config.publicUrl,
    clients: undefined,
  };
}

/** Admin: the sign-in token and the vault that seals OAuth tokens at rest, with older seals upgraded. */
async function openVault(config: AppConfig, db: Db, log: Logger): Promise<{ adminSecrets: AdminSecrets; vault: CredentialVault }> {
  let adminSecrets: AdminSecrets;
  try {
    adminSecrets = resolveAdminSecrets(config, log);
  } catch (error) {
    if (error instanceof KeyConfigurationError) throw new BootError(error.message);
    throw error;
  }
  const vault = new CredentialVault(db, adminSecrets.sealer);
  // Values sealed by an earlier version (or with a previous key) are sealed again now; unreadable ones are kept and shown.
  const seals = await vault.upgradeSeals(log);
  if (seals.upgraded > 0)
    log.info({ values: seals.upgraded }, 'stored credentials sealed again in the current format (bound to their installation and slot)');
  const sealedAlerts = await vault.sealLegacyAlertTargets(log);
  if (sealedAlerts > 0) log.info({ installations: sealedAlerts }, 'SLA alert targets moved from the settings into the encrypted vault');
  return { adminSecrets, vault };
}

/** The HTTP application: webhook receivers, admin routes, readiness checks and queue metrics. */
function httpApp(state: BootState): Express {
  const { config, options, log, db, producer, producerRedis, metrics, directory } = state;
  const intake = { producer, directory, now: Date.now, log, metrics, budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS };
  const admin = createAdminRoutes({
    config,
    db,
    producer,
    log,
    directory,
    clients: () => state.clients,
    vault: state.vault,
    apps: state.oauthApps,
    adminToken: state.adminSecrets.adminToken,
    redis: producerRedis,
    prefix: state.prefix,
    publicUrl: () => state.publicUrl,
    provisioning: sandboxProvisioning(config, state.sandboxes),
    scheduler: state.scheduler,
    ...(options.adminClock ? { now: options.adminClock } : {}),
  });
  state.closers.push(async () => admin.stop());
  return createApp({
    routes: [
      {
        path: '/webhooks/hubspot',
        router: hubspotWebhookRouter({
          ...intake,
          signingSecret: config.hubspot.clientSecret ?? (state.sandboxSides.hubspot ? config.sandbox.hubspot.clientSecret : undefined),
          publicUrl: () => state.publicUrl,
          maxBodyBytes: MAX_HUBSPOT_BATCH_BYTES,
        }),
      },
      { path: '/webhooks/salesforce', router: salesforceWebhookRouter({ ...intake, maxBodyBytes: MAX_OUTBOUND_MESSAGE_BYTES }) },
      ...admin.routes,
    ],
    log,
    metrics,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    readiness: [
      { name: 'redis', check: async () => ((await producerRedis.ping()) === 'PONG' ? null : 'no PONG') },
      {
        name: 'database',
        check: async () => {
          const pending = await pendingMigrations(db);
          return pending.length === 0 ? null : `migrations not applied: ${pending.join(', ')}`;
        },
      },
    ],
    collectMetrics: async () => {
      await Promise.all(
        queueKeys.map(async (key) => {
          const definition = queues[key];
          const counts = await producer.queue(key).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
          for (const [state, count] of Object.entries(counts)) metrics.queueJobs.set({ queue: definition.name, state }, count);
        }),
      );
    },
  });
}

/** Serves HTTP on HOST:PORT; without PUBLIC_URL, the server's own address becomes the public one. */
async function serveHttp(state: BootState): Promise<{ url: string; listenAddress: string; http: Express }> {
  const { config, log } = state;
  const app = httpApp(state);
  const server = await new Promise<Server>((resolve, reject) => {
    // Express 5 calls the listen callback with the error too (EADDRINUSE): only no error is success.
    const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const listenAddress = typeof address === 'object' && address ? address.address : config.host;
  const url = `http://${localHost(config.host)}:${port}`;
  if (!config.publicUrlExplicit) state.publicUrl = url;
  state.closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );
  log.info({ url, publicUrl: state.publicUrl }, 'HTTP server listening');
  return { url, listenAddress, http: app };
}

/** CRM clients per installation when any CRM can be reached; then the sandbox's SLA policy, self-install and demo. */
async function connectSync(state: BootState): Promise<IntakeDeps['sync']> {
  const { config, options, log, db, producer, producerRedis, prefix, sandboxInstallation } = state;
  const reachable = crmEndpoints(config, state.sandboxes, options.sandboxes !== false);
  const endpoints =
    reachable.hubspot && reachable.salesforce ? { hubspot: reachable.hubspot, salesforce: reachable.salesforce } : undefined;
  // OAuth installs connect the sides the environment does not; their grants come from the vault.
  const oauthLive =
    (config.hubspot.mode === 'live' && state.oauthApps.hubspot !== undefined) ||
    (config.salesforce.mode === 'live' && state.oauthApps.salesforce !== undefined);
  if (!endpoints && !oauthLive) {
    log.warn(
      'no CRM connected: webhooks are received and recorded, nothing is synced (set CRM credentials, or let sandbox mode start the sandbox CRMs)',
    );
    return undefined;
  }
  const clients = new InstallationClients({
    db,
    redis: producerRedis,
    prefix,
    endpoints: reachable,
    log,
    stored: createStoredConnections({ vault: state.vault, apps: state.oauthApps, log }),
    onSalesforceBudgetAlert: (installationId, usage) => queueApiBudgetAlert(producer, installationId, usage),
  });
  state.clients = clients;
  // The demo's reps are judged by the follow-up rules too (DEMO_SLA_POLICY), before any runtime reads the policy.
  if (
    config.sandboxDemo &&
    options.demo !== false &&
    sandboxInstallation &&
    (await seedSlaPolicy(db, sandboxInstallation.id, DEMO_SLA_POLICY))
  ) {
    log.info({ installation: sandboxInstallation.id }, 'sandbox demo: SLA follow-up cadence and disposition deadline turned on');
  }
  if (endpoints) await installOnSandbox(state, clients);
  if (config.sandboxDemo && options.demo !== false && options.role !== 'worker' && state.sandboxes?.hubspot && state.sandboxes.salesforce) {
    const demo = startDemo({
      hubspot: state.sandboxes.hubspot,
      salesforce: state.sandboxes.salesforce,
      portalId: config.sandbox.hubspot.portalId,
      privateAppToken: config.sandbox.hubspot.privateAppToken,
      log: log.child({ component: 'demo' }),
      ...(options.demoIntervalMs ? { intervalMs: options.demoIntervalMs } : {}),
    });
    state.closers.push(() => demo.stop());
  }
  return { clients, scheduler: state.scheduler, ledger: state.ledger, redis: producerRedis, prefix };
}

/** The sandbox self-install on the sandbox portal and org, when this process serves them and may. */
async function installOnSandbox(state: BootState, clients: InstallationClients): Promise<void> {
  const { config, options, log, sandboxes, sandboxInstallation } = state;
  if (sandboxInstallation?.status !== 'active' || options.role === 'worker' || !sandboxes || options.selfInstall === false) return;
  // Stored credentials this key cannot open (ENCRYPTION_KEY changed) leave the sandbox installation
  // unconnected, shown with the fix on its page; the app still starts.
  const runtime = await clients.forInstallation(sandboxInstallation.id).catch((error: unknown) => {
    if (error instanceof CrmAuthError) {
      log.warn(
        { installation: sandboxInstallation.id, problem: error.message },
        'sandbox self-install skipped: the installation cannot connect',
      );
      return null;
    }
    throw error;
  });
  if (!runtime) return;
  await selfInstall({
    config,
    log,
    installation: sandboxInstallation,
    runtime,
    publicUrl: state.publicUrl,
    sandboxes,
  });
}

/** Starts the workers (with the digest's mail and review), then the per-installation repeating jobs. */
async function startWorkerPool(state: BootState, sync: IntakeDeps['sync']): Promise<void> {
  const { config, options, log, db, producer, producerRedis, prefix } = state;
  const workerRedis = workerConnection({ url: state.redisUrl, cluster: state.config.redisCluster });
  workerRedis.on('error', () => undefined);
  state.closers.push(async () => {
    workerRedis.disconnect();
  });
  // The review digest: SMTP when configured (closed after the workers stop) and the review it sends.
  const mail = config.smtp === undefined ? undefined : smtpSender(config.smtp);
  if (mail) state.closers.push(async () => mail.close());
  const processors = workerProcessors({
    db,
    producer,
    redis: producerRedis,
    prefix,
    pending: state.pending,
    scheduler: state.scheduler,
    ledger: state.ledger,
    log,
    metrics: state.metrics,
    sync,
    clients: state.clients,
    outbound: { allowPrivate: config.outboundAllowPrivate },
    reconcileLookbackMs: config.reconcile.lookbackMs,
    mail,
    review: options.reviewSource ?? digestReview(state),
    publicUrl: () => state.publicUrl,
    slaClock: options.slaClock,
  });
  const pool = startWorkers(processors, { connection: workerRedis, prefix, log, metrics: state.metrics });
  state.closers.push(() => pool.close(options.shutdownGraceMs));
  log.info({ queues: pool.workers.map((w) => w.name) }, 'workers started');
  const installations = state.clients ? await listActiveInstallations(db) : [];
  if (state.clients) {
    // The reconciler and the commitments check repeat per installation (one scheduler each, however many workers run).
    const intervalMs = options.reconcileIntervalMs ?? config.reconcile.intervalMs;
    // All at once, in one stream to Redis: one after the other they cost ~27 ms of boot per installation.
    await Promise.all(
      installations.map(async (installation) => {
        await scheduleReconcile(producer, installation.id, intervalMs);
        await scheduleCommitmentChecks(producer, installation.id);
      }),
    );
    await scheduleReviewDigests(producer);
  }
  followHubSpotJournals(state);
  followSalesforceChanges(state);
  // SLA clocks survive restarts in Postgres; re-check them against the current policy (a rule
  // changed while down reschedules them, a due check Redis lost is enqueued again).
  if (state.clients)
    await requestSlaReschedules(
      producer,
      installations.map((installation) => installation.id),
    );
}

/** The HubSpot pull feed of the installations set to pull or both, when a HubSpot app can read the journal. */
function followHubSpotJournals(state: BootState): void {
  const { config, options, db, producer, log, producerRedis, prefix } = state;
  const app = journalApp(config, state.sandboxes, options.sandboxes !== false);
  if (!app) return;
  const journalPollMs = options.journalPollMs ?? 500;
  const feeds = new HubSpotJournalFeeds({
    db,
    producer,
    log,
    app,
    pollMs: journalPollMs,
    refreshMs: options.journalRefreshMs ?? 30_000,
    budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS,
    now: Date.now,
    // Renewed on a timer while held: a dead process's installation is taken over within ~15 s
    // (plus the other follower's wait of 10 polls).
    lease: new FeedLease(producerRedis, prefix, Math.max(15_000, 3 * journalPollMs)),
  });
  state.closers.push(() => feeds.close());
}

/** The Salesforce change feed of the installations in pull (or both) mode: outbound gRPC only. */
function followSalesforceChanges(state: BootState): void {
  const { config, options, db, producer, log, producerRedis, prefix, clients } = state;
  if (!clients) return;
  const feeds = startSalesforceFeedRunner({
    db,
    producer,
    redis: producerRedis,
    prefix,
    clients,
    log: log.child({ component: 'salesforce-feed' }),
    endpoint: salesforcePubSubEndpoint(config, state.sandboxes),
    budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS,
    ...(options.salesforceFeedRefreshMs === undefined ? {} : { refreshMs: options.salesforceFeedRefreshMs }),
  });
  state.closers.push(() => feeds.stop());
}

/** The review the digest sends: the same review as the page and the API. */
function digestReview(state: BootState): ReviewSource {
  return (installationId, period, now) =>
    reviewOfInstallation(
      state.db,
      async (id) => {
        if (!state.clients)
          throw new Error('no CRM can be reached by this deployment: connect HubSpot and Salesforce (OAuth) or set their credentials');
        return state.clients.forInstallation(id);
      },
      installationId,
      { period, now },
    );
}

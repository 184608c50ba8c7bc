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
import { sandboxProvisioning } from '../server/admin/provisioning.ts';
import { resolveAdminSecrets } from '../server/admin/secrets.ts';
import { createApp } from '../server/app.ts';
import { resolveOAuthApps } from '../server/oauth/apps.ts';
import { CredentialVault } from '../server/oauth/credentials.ts';
import { createStoredConnections } from '../server/oauth/stored-connections.ts';
import { KeyConfigurationError } from './secrets.ts';
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
import { InstallationClients, type CrmEndpoints } from './installation-clients.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { startPrivateRedis, type PrivateRedis } from './redis-server.ts';
import { startSandboxes, type RunningSandboxes } from './sandboxes.ts';
import { DEMO_SLA_POLICY, startDemo } from './demo.ts';
import { seedSlaPolicy } from '../store/sla.ts';
import { selfInstall } from './self-install.ts';
import { workerProcessors } from './worker-processors.ts';
import { FeedLease, HubSpotJournalFeeds, type JournalFeedDeps } from './hubspot-journal-feed.ts';

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
    return { basePath: sandboxes?.hubspot?.url ?? `http://127.0.0.1:${hs.port}`, clientId: hs.clientId, clientSecret: hs.clientSecret };
  }
  const { clientId, clientSecret, apiBaseUrl } = config.hubspot;
  return clientId && clientSecret ? { basePath: apiBaseUrl, clientId, clientSecret } : undefined;
}

/** Where each CRM is reached from the environment; a side with neither a sandbox nor credentials is missing. */
function crmEndpoints(
  config: AppConfig,
  sandboxes: RunningSandboxes | undefined,
  sandboxesEnabled: boolean,
): { hubspot?: CrmEndpoints['hubspot']; salesforce?: CrmEndpoints['salesforce'] } {
  const hs = config.sandbox.hubspot;
  const sf = config.sandbox.salesforce;
  const local = (port: number) => `http://127.0.0.1:${port}`;
  let hubspot: CrmEndpoints['hubspot'] | undefined;
  if (config.hubspot.mode === 'sandbox') {
    if (sandboxesEnabled)
      hubspot = { basePath: sandboxes?.hubspot?.url ?? local(hs.port), accessToken: hs.privateAppToken, appId: String(hs.appId) };
  } else if (config.hubspot.accessToken) {
    hubspot = { basePath: config.hubspot.apiBaseUrl, accessToken: config.hubspot.accessToken, appId: null };
  }
  let salesforce: CrmEndpoints['salesforce'] | undefined;
  if (config.salesforce.mode === 'sandbox') {
    const url = sandboxes?.salesforce?.url ?? local(sf.port);
    if (sandboxesEnabled)
      salesforce = {
        loginUrl: url,
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

/** Boots the app for a role; throws BootError with an instruction when a dependency is missing. */
export async function boot(config: AppConfig, options: BootOptions): Promise<RunningApp> {
  const { role, log } = options;
  const prefix = options.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
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

    // 1. Redis: the configured one, or a private redis-server with AOF.
    let privateRedis: PrivateRedis | undefined;
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      privateRedis = await startPrivateRedis(path.join(config.dataDir, 'redis'), log);
      redisUrl = privateRedis.url;
      const owned = privateRedis;
      closers.push(() => owned.stop());
    } else {
      log.info('using Redis from REDIS_URL');
    }

    // 2. Database and migrations.
    const db = config.databaseUrl ? connectPostgres(config.databaseUrl) : await openPglite(path.join(config.dataDir, 'pg'));
    closers.push(() => db.close());
    const applied = await migrate(db);
    log.info({ backend: db.kind, applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');

    // 3. Queues.
    const producerRedis = producerConnection(redisUrl);
    closers.push(async () => {
      producerRedis.disconnect();
    });
    await untilReady(producerRedis).catch(() => {
      throw new BootError('Redis is not reachable at REDIS_URL (is it running?)');
    });
    const producer = new Producer(producerRedis, prefix);
    closers.push(() => producer.close());
    const metrics = createMetrics();

    // 4. Sandbox CRMs for the sides without real credentials.
    const sandboxSides = { hubspot: config.hubspot.mode === 'sandbox', salesforce: config.salesforce.mode === 'sandbox' };
    let sandboxes: RunningSandboxes | undefined;
    if (options.sandboxes !== false && role !== 'worker' && (sandboxSides.hubspot || sandboxSides.salesforce)) {
      sandboxes = await startSandboxes(config, log, sandboxSides);
      const running = sandboxes;
      closers.push(() => running.close());
    }

    // 5. Installations: in sandbox mode the app installs itself on the sandbox portal and org.
    let sandboxInstallation: Installation | undefined;
    if (sandboxSides.hubspot || sandboxSides.salesforce) {
      sandboxInstallation = await upsertInstallation(db, {
        name: 'Sandbox',
        hubspotPortalId: sandboxSides.hubspot ? String(config.sandbox.hubspot.portalId) : null,
        salesforceOrgId: sandboxSides.salesforce ? config.sandbox.salesforce.orgId : null,
      });
      log.info({ installation: sandboxInstallation.id }, 'sandbox installation ready');
    }
    const directory = new InstallationDirectory(db);
    await directory.reload();

    // Admin: the sign-in token, the vault that seals OAuth tokens at rest, and the OAuth apps.
    let adminSecrets: ReturnType<typeof resolveAdminSecrets>;
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
    const oauthApps = resolveOAuthApps(config, { hubspot: sandboxes?.hubspot?.url, salesforce: sandboxes?.salesforce?.url });
    let clients: InstallationClients | undefined;
    // Pending sets and drain scheduling: the workers' and the admin's (resume, sync a record now).
    const pending = new PendingSet(producerRedis, prefix);
    const scheduler = new SyncScheduler(pending, producer, options.coalesceMs);

    // 6. HTTP.
    let url: string | undefined;
    let listenAddress: string | undefined;
    let http: Express | undefined;
    let publicUrl = config.publicUrl;
    if (role !== 'worker') {
      const intake = { producer, directory, now: Date.now, log, metrics, budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS };
      const admin = createAdminRoutes({
        config,
        db,
        producer,
        log,
        directory,
        clients: () => clients,
        vault,
        apps: oauthApps,
        adminToken: adminSecrets.adminToken,
        redis: producerRedis,
        prefix,
        publicUrl: () => publicUrl,
        provisioning: sandboxProvisioning(config, sandboxes),
        scheduler,
        ...(options.adminClock ? { now: options.adminClock } : {}),
      });
      closers.push(async () => admin.stop());
      const app = createApp({
        routes: [
          {
            path: '/webhooks/hubspot',
            router: hubspotWebhookRouter({
              ...intake,
              signingSecret: config.hubspot.clientSecret ?? (sandboxSides.hubspot ? config.sandbox.hubspot.clientSecret : undefined),
              publicUrl: () => publicUrl,
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
      const server = await new Promise<Server>((resolve, reject) => {
        // Express 5 calls the listen callback with the error too (EADDRINUSE): only no error is success.
        const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      listenAddress = typeof address === 'object' && address ? address.address : config.host;
      http = app;
      url = `http://${localHost(config.host)}:${port}`;
      if (!config.publicUrlExplicit) publicUrl = url;
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      );
      log.info({ url, publicUrl }, 'HTTP server listening');
    }

    // 7. Sync: CRM clients per installation, pending sets, echo ledger, and the sandbox self-install.
    const reachable = crmEndpoints(config, sandboxes, options.sandboxes !== false);
    const endpoints =
      reachable.hubspot && reachable.salesforce ? { hubspot: reachable.hubspot, salesforce: reachable.salesforce } : undefined;
    // OAuth installs connect the sides the environment does not; their grants come from the vault.
    const oauthLive =
      (config.hubspot.mode === 'live' && oauthApps.hubspot !== undefined) ||
      (config.salesforce.mode === 'live' && oauthApps.salesforce !== undefined);
    let sync: IntakeDeps['sync'];
    const ledger = new ValueLedger(producerRedis, prefix);
    if (endpoints || oauthLive) {
      clients = new InstallationClients({
        db,
        redis: producerRedis,
        prefix,
        endpoints: reachable,
        log,
        stored: createStoredConnections({ vault, apps: oauthApps, log }),
        onSalesforceBudgetAlert: (installationId, usage) => queueApiBudgetAlert(producer, installationId, usage),
      });
      sync = { clients, scheduler, ledger, redis: producerRedis, prefix };
      // The demo's reps are judged by the follow-up rules too (DEMO_SLA_POLICY), before any runtime reads the policy.
      if (
        config.sandboxDemo &&
        options.demo !== false &&
        sandboxInstallation &&
        (await seedSlaPolicy(db, sandboxInstallation.id, DEMO_SLA_POLICY))
      ) {
        log.info({ installation: sandboxInstallation.id }, 'sandbox demo: SLA follow-up cadence and disposition deadline turned on');
      }
      if (endpoints && sandboxInstallation?.status === 'active' && role !== 'worker' && sandboxes && options.selfInstall !== false) {
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
        if (runtime) {
          await selfInstall({
            config,
            log,
            installation: sandboxInstallation,
            runtime,
            publicUrl,
            sandboxes,
          });
        }
      }
      if (config.sandboxDemo && options.demo !== false && role !== 'worker' && sandboxes?.hubspot && sandboxes.salesforce) {
        const demo = startDemo({
          hubspot: sandboxes.hubspot,
          salesforce: sandboxes.salesforce,
          portalId: config.sandbox.hubspot.portalId,
          privateAppToken: config.sandbox.hubspot.privateAppToken,
          log: log.child({ component: 'demo' }),
          ...(options.demoIntervalMs ? { intervalMs: options.demoIntervalMs } : {}),
        });
        closers.push(() => demo.stop());
      }
    } else {
      log.warn(
        'no CRM connected: webhooks are received and recorded, nothing is synced (set CRM credentials, or let sandbox mode start the sandbox CRMs)',
      );
    }

    // 8. Workers.
    if (role !== 'web' && options.withWorkers !== false) {
      const workerRedis = workerConnection(redisUrl);
      workerRedis.on('error', () => undefined);
      closers.push(async () => {
        workerRedis.disconnect();
      });
      // The review digest: SMTP when configured (closed after the workers stop) and the review it sends.
      const mail = config.smtp === undefined ? undefined : smtpSender(config.smtp);
      if (mail) closers.push(async () => mail.close());
      // The digest renders the same review as the page and the API.
      const reviewSource: ReviewSource =
        options.reviewSource ??
        ((installationId, period, now) =>
          reviewOfInstallation(
            db,
            async (id) => {
              if (!clients)
                throw new Error(
                  'no CRM can be reached by this deployment: connect HubSpot and Salesforce (OAuth) or set their credentials',
                );
              return clients.forInstallation(id);
            },
            installationId,
            { period, now },
          ));
      const processors = workerProcessors({
        db,
        producer,
        redis: producerRedis,
        prefix,
        pending,
        scheduler,
        ledger,
        log,
        metrics,
        sync,
        clients,
        outbound: { allowPrivate: config.outboundAllowPrivate },
        reconcileLookbackMs: config.reconcile.lookbackMs,
        mail,
        review: reviewSource,
        publicUrl: () => publicUrl,
      });
      const pool = startWorkers(processors, { connection: workerRedis, prefix, log, metrics });
      closers.push(() => pool.close(options.shutdownGraceMs));
      log.info({ queues: pool.workers.map((w) => w.name) }, 'workers started');
      // The reconciler and the commitments check repeat per installation (one scheduler each, however many workers run).
      if (clients) {
        const intervalMs = options.reconcileIntervalMs ?? config.reconcile.intervalMs;
        for (const installation of await listActiveInstallations(db)) {
          await scheduleReconcile(producer, installation.id, intervalMs);
          await scheduleCommitmentChecks(producer, installation.id);
        }
        await scheduleReviewDigests(producer);
      }
      // The HubSpot pull feed of the installations set to pull or both.
      const app = journalApp(config, sandboxes, options.sandboxes !== false);
      if (app) {
        const journalPollMs = options.journalPollMs ?? 5_000;
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
        closers.push(() => feeds.close());
      }
      // The Salesforce change feed of the installations in pull (or both) mode: outbound gRPC only.
      if (clients) {
        const feeds = startSalesforceFeedRunner({
          db,
          producer,
          redis: producerRedis,
          prefix,
          clients,
          log: log.child({ component: 'salesforce-feed' }),
          endpoint: salesforcePubSubEndpoint(config, sandboxes),
          budgetMs: options.enqueueBudgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS,
          ...(options.salesforceFeedRefreshMs === undefined ? {} : { refreshMs: options.salesforceFeedRefreshMs }),
        });
        closers.push(() => feeds.stop());
      }
      // SLA clocks survive restarts in Postgres; re-check them against the current policy (a rule
      // changed while down reschedules them, a due check Redis lost is enqueued again).
      if (clients)
        await requestSlaReschedules(
          producer,
          (await listActiveInstallations(db)).map((installation) => installation.id),
        );
    }

    let closed: Promise<void> | undefined;
    return {
      config,
      db,
      redisUrl,
      producer,
      metrics,
      directory,
      sandboxes,
      url,
      listenAddress,
      http,
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

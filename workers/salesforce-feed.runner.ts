/**
 * The Salesforce change feed in pull mode (docs/architecture.md §12), run by the worker role: for
 * each active installation whose setting says `pull` or `both`, one Pub/Sub API subscription per
 * change event channel of the objects the intake routes. Each channel:
 *
 * 1. resumes after the replay id stored for it (LATEST the first time; the reconciler then covers
 *    what came before, and says so in the sync log);
 * 2. hands each batch to the intake (webhooks/salesforce/change-events.ts) and stores the batch's
 *    last replay id only once its jobs are in Redis, so a restart neither skips nor repeats;
 * 3. on a replay id past the retention, forgets it, starts again from LATEST and asks for a
 *    reconciler pass, with a sync-log line;
 * 4. on a dropped stream, reconnects after the job backoff of the intake's queue (the catalog's
 *    retry policy), reporting `reconnecting` and, once that policy's attempts are used up, `error`
 *    while it keeps trying at the longest wait.
 *
 * The modes are read again every `refreshMs` (and by `refresh()`), so a saved setting starts or
 * stops the feeds without a restart. With several worker processes, one follows each installation
 * (a claim in Redis, renewed at each refresh). `stop()` closes every stream, waits for the batches
 * in hand and gives the claims back.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../src/queue/redis.ts';
import { CrmAuthError } from '../src/crm/errors.ts';
import type { ChangeEventMessage } from '../src/crm/salesforce/pubsub/change-events.ts';
import { PubSubClient, sessionRefused, type SubscriptionEnd } from '../src/crm/salesforce/pubsub/client.ts';
import { followChannel, type ReplayPositions } from '../src/crm/salesforce/pubsub/follow.ts';
import { ChangeFeedSettingSchema, pulls } from '../src/domain/change-feed.ts';
import type { Logger } from '../src/log.ts';
import { queues } from '../src/queue/catalog.ts';
import type { Producer } from '../src/queue/producer.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import type { Queryable } from '../src/store/db.ts';
import { getInstallationDetails } from '../src/store/installation-admin.ts';
import { forgetReplayId, readReplayId, saveReplayId } from '../src/store/replay-positions.ts';
import { saveFeedHealth, saveFeedProgress, storedSalesforceFeeds, type FeedHealth } from '../src/store/salesforce-feeds.ts';
import { writeSyncLog } from '../src/store/sync-log.ts';
import { RELEASE_ONLY } from '../src/sync/drain.ts';
import { feedRecordRef, requestReconcilePass, takeChangeEvents, type ChangeFeedSource } from '../webhooks/salesforce/change-events.ts';
import { ROUTED_SALESFORCE_OBJECTS } from './intake.worker.ts';

/** The channels followed: one per object the intake routes (Contacts are not routed, so not followed). */
export const SALESFORCE_FEED_CHANNELS: readonly string[] = ROUTED_SALESFORCE_OBJECTS.map((object) => `/data/${object}ChangeEvent`);

export interface SalesforceFeedRunnerDeps {
  db: Queryable;
  /** Where the runners of several worker processes agree who follows which installation. */
  redis: RedisConnection;
  prefix: string;
  producer: Producer;
  clients: InstallationClients;
  log: Logger;
  /** The Pub/Sub API: `host:port` (TLS), `http://host:port` (the sandbox), undefined for Salesforce's. */
  endpoint: string | undefined;
  /** How long the intake waits for Redis before a batch counts as not taken. */
  budgetMs: number;
  /** How often the installations' feed settings are read again. */
  refreshMs?: number;
  /** Events requested at a time per channel (`num_requested`). */
  batchSize?: number;
  now?: () => number;
}

export interface SalesforceFeedRunner {
  /** Reads the settings now: starts the feeds that should run, stops the others. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** The reconnect wait after `failures` failures in a row: the intake queue's job backoff, capped at its last attempt. */
function reconnectDelayMs(failures: number): number {
  const { backoff, attempts = 1 } = queues.salesforceEvents.jobOptions;
  const base = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 1_000);
  const exponential = typeof backoff === 'object' && backoff.type === 'exponential';
  return exponential ? base * 2 ** (Math.min(failures, attempts) - 1) : base;
}

/** A wait that `stop()` cuts short. */
class Pause {
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  for(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  cut(): void {
    clearTimeout(this.timer);
    this.wake?.();
  }
}

/** One installation's feed: a Pub/Sub client and one loop per channel. */
class InstallationFeed {
  private stopped = false;
  private readonly subscriptions = new Set<{ close(): void }>();
  private readonly pauses = new Set<Pause>();
  private readonly loops: Promise<void>[];

  constructor(
    private readonly deps: SalesforceFeedRunnerDeps,
    private readonly client: PubSubClient,
    private readonly installationId: string,
    private readonly organizationId: string,
  ) {
    this.loops = SALESFORCE_FEED_CHANNELS.map((channel) => this.follow(channel));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscription of this.subscriptions) subscription.close();
    for (const pause of this.pauses) pause.cut();
    await Promise.all(this.loops);
    this.client.close();
  }

  private source(channel: string): ChangeFeedSource {
    return { installationId: this.installationId, organizationId: this.organizationId, channel };
  }

  private health(channel: string, health: FeedHealth): Promise<void> {
    return saveFeedHealth(this.deps.db, this.installationId, channel, health);
  }

  private async take(channel: string, events: ChangeEventMessage[]): Promise<void> {
    const now = this.deps.now ?? Date.now;
    const takenAt = now();
    await takeChangeEvents(this.deps, this.source(channel), events, takenAt);
    const last = events[events.length - 1];
    if (last)
      await saveFeedProgress(this.deps.db, this.installationId, channel, {
        lastEventAt: new Date(last.commitTimestamp),
        lagSeconds: Math.max(0, (takenAt - last.commitTimestamp) / 1000),
      });
  }

  /** Starting from LATEST leaves out what happened before: a reconciler pass covers it. */
  private async startedFromLatest(channel: string, why: string): Promise<void> {
    await requestReconcilePass(this.deps.producer, this.source(channel), `latest-${(this.deps.now ?? Date.now)()}`);
    await writeSyncLog(this.deps.db, [
      {
        installationId: this.installationId,
        recordRef: feedRecordRef(channel),
        level: 'info',
        action: 'feed_started_latest',
        reason: `${why}: following from the latest event; a reconciler pass covers the changes before it`,
      },
    ]);
  }

  private async replayExpired(channel: string, end: Extract<SubscriptionEnd, { kind: 'replay-expired' }>): Promise<void> {
    await forgetReplayId(this.deps.db, this.installationId, channel);
    await writeSyncLog(this.deps.db, [
      {
        installationId: this.installationId,
        recordRef: feedRecordRef(channel),
        level: 'warn',
        action: 'feed_replay_expired',
        reason: `the stored replay id is past the Pub/Sub API's retention (${end.message}): changes since then are read by a reconciler pass`,
        details: { replayId: end.replayId?.toString('hex') ?? null },
      },
    ]);
    this.deps.log.warn(
      { installationId: this.installationId, channel },
      'replay id expired: following from LATEST, reconciler pass requested',
    );
  }

  /**
   * The Pub/Sub API refused the access token (it expired): one cheap REST read through the
   * installation's connection, whose 401 makes jsforce refresh the session; the next subscription
   * then sends the new token.
   */
  private async refreshSession(): Promise<void> {
    try {
      await (await this.deps.clients.forInstallation(this.installationId)).salesforce.apiUsage();
    } catch (error) {
      this.deps.log.warn(
        { installationId: this.installationId, error: error instanceof Error ? error.message : String(error) },
        'the Salesforce session could not be refreshed: the feed retries with backoff',
      );
    }
  }

  private async follow(channel: string): Promise<void> {
    const { db, log } = this.deps;
    const positions: ReplayPositions = {
      read: (topic) => readReplayId(db, this.installationId, topic),
      save: (topic, replayId) => saveReplayId(db, this.installationId, topic, replayId),
    };
    let failures = 0;
    let latestBecause = 'the channel had no stored position';
    while (!this.stopped) {
      let end: SubscriptionEnd;
      let received = false;
      try {
        // The session and the channel are checked first (GetTopic), so `connected` means the service took them.
        const topic = await this.client.getTopic(channel);
        if (!topic.can_subscribe)
          throw new Error(
            `the integration user may not subscribe to ${channel}: it needs View All on the object (View All Data for Task and Event)`,
          );
        const followed = await followChannel({
          client: this.client,
          topic: channel,
          positions,
          ...(this.deps.batchSize === undefined ? {} : { batchSize: this.deps.batchSize }),
          intake: async (events) => {
            await this.take(channel, events);
            received = true;
          },
        });
        this.subscriptions.add(followed.subscription);
        if (this.stopped) followed.subscription.close();
        if (followed.startedFrom.preset === 'LATEST') await this.startedFromLatest(channel, latestBecause);
        await this.health(channel, { state: 'connected', message: null });
        end = await followed.subscription.ended;
        this.subscriptions.delete(followed.subscription);
      } catch (error) {
        const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number' ? error.code : 2;
        end = { kind: 'failed', code, errorCode: undefined, message: error instanceof Error ? error.message : String(error) };
      }
      if (this.stopped) break;
      if (end.kind === 'replay-expired') {
        await this.replayExpired(channel, end).catch((error: unknown) => log.error({ error, channel }, 'replay expiry not recorded'));
        latestBecause = 'the stored replay id had expired';
        continue;
      }
      failures = received ? 1 : failures + 1;
      const message = end.kind === 'closed' ? 'the stream was ended by the server' : end.message;
      if (sessionRefused(end)) await this.refreshSession();
      const exhausted = failures >= (queues.salesforceEvents.jobOptions.attempts ?? 1);
      log.warn({ installationId: this.installationId, channel, failures, message }, 'change event stream ended: reconnecting');
      await this.health(channel, { state: exhausted ? 'error' : 'reconnecting', message }).catch(() => undefined);
      const pause = new Pause();
      this.pauses.add(pause);
      await pause.for(reconnectDelayMs(failures));
      this.pauses.delete(pause);
    }
    await this.health(channel, { state: 'stopped', message: null }).catch(() => undefined);
  }
}

/**
 * Takes or keeps the claim on an installation's feed: set when free or already ours, with a fresh
 * expiry. One worker process follows an installation; when it dies, its claim runs out and the next
 * refresh of another worker takes the feed over (from the stored positions).
 */
const CLAIM = `local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** Starts following the feeds the settings ask for; call `stop()` on shutdown. */
export function startSalesforceFeedRunner(deps: SalesforceFeedRunnerDeps): SalesforceFeedRunner {
  const running = new Map<string, InstallationFeed>();
  let stopped = false;
  let chain = Promise.resolve();
  const refreshMs = deps.refreshMs ?? 15_000;
  // Renewed every refresh; three refreshes missed and another worker may take the feed.
  const claimTtlMs = Math.max(3 * refreshMs, 1_000);
  const owner = randomUUID();
  const claimKey = (installationId: string) => `${deps.prefix}:salesforce-feed:${installationId}`;
  const claim = async (installationId: string) =>
    Number(await deps.redis.eval(CLAIM, 1, claimKey(installationId), owner, String(claimTtlMs))) === 1;
  const release = (installationId: string) => deps.redis.eval(RELEASE_ONLY, 1, claimKey(installationId), owner);
  const stopFeed = async (installationId: string, feed: InstallationFeed) => {
    running.delete(installationId);
    await feed.stop();
    // A claim that cannot be given back (Redis gone at shutdown) runs out by itself.
    await release(installationId).catch(() => undefined);
    deps.log.info({ installationId }, 'stopped following the Salesforce change feed');
  };

  const startFeed = async (installationId: string): Promise<void> => {
    const details = await getInstallationDetails(deps.db, installationId);
    const organizationId = details?.salesforceOrgId;
    if (!organizationId) throw new CrmAuthError('salesforce', 'no Salesforce org is connected to this installation');
    const session = await deps.clients.salesforceSession(installationId);
    const client = new PubSubClient({
      ...(deps.endpoint === undefined ? {} : { endpoint: deps.endpoint }),
      auth: () => ({ ...session(), orgId: organizationId }),
    });
    running.set(installationId, new InstallationFeed(deps, client, installationId, organizationId));
    deps.log.info({ installationId, channels: SALESFORCE_FEED_CHANNELS }, 'following the Salesforce change feed');
  };

  const reconcileRunning = async (): Promise<void> => {
    if (stopped) return;
    const wanted = new Set(
      (await storedSalesforceFeeds(deps.db))
        .filter(({ setting }) => {
          const parsed = ChangeFeedSettingSchema.safeParse(setting ?? {});
          return parsed.success && pulls(parsed.data.mode);
        })
        .map(({ installationId }) => installationId),
    );
    for (const [installationId, feed] of running) {
      // Not wanted any more, or another worker holds it now (this one stalled past its claim).
      if (!wanted.has(installationId) || !(await claim(installationId))) await stopFeed(installationId, feed);
    }
    for (const installationId of wanted) {
      if (running.has(installationId) || stopped) continue;
      if (!(await claim(installationId))) continue;
      try {
        await startFeed(installationId);
      } catch (error) {
        // Not connected (or not reachable) now: shown on the dashboard, tried again at the next refresh.
        const message = error instanceof Error ? error.message : String(error);
        deps.log.warn({ installationId, message }, 'the Salesforce change feed cannot start');
        for (const channel of SALESFORCE_FEED_CHANNELS) await saveFeedHealth(deps.db, installationId, channel, { state: 'error', message });
        await release(installationId).catch(() => undefined);
      }
    }
  };

  const refresh = (): Promise<void> => {
    chain = chain.then(reconcileRunning).catch((error: unknown) => {
      deps.log.error({ error: error instanceof Error ? error.message : String(error) }, 'Salesforce change feed settings not read');
    });
    return chain;
  };

  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();
  void refresh();

  return {
    refresh,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await chain;
      await Promise.all([...running].map(([installationId, feed]) => stopFeed(installationId, feed)));
    },
  };
}

/**
 * The HubSpot pull feed, run by the worker role: for each active installation whose
 * `hubspotChangeFeed` is `pull` or `both`, follow the portal's local webhooks journal from the
 * stored offset (the earliest entry kept, the first time), turn each entry's events into the intake
 * jobs the webhook route makes for the same changes (same deterministic ids, so `both` takes each
 * change once), and store the entry's offset only once those jobs are durably enqueued: a restart
 * neither skips nor repeats an entry. An expired offset (past the 3-day retention) starts again
 * from the earliest entry kept, asks the reconciler for a pass and says so in the sync log.
 * Journal subscriptions are created from the same list as the webhook subscriptions.
 * Facts: docs/reference/hubspot-webhooks-journal.md.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConnection } from '../src/queue/redis.ts';
import { hubspotJobId } from '../webhooks/hubspot/receiver.ts';
import { isHandledSubscription } from '../webhooks/hubspot/schema.ts';
import { enqueueDurably } from '../webhooks/intake.ts';
import { coversSubscription, wantedJournalSubscriptions, webhookEventsOf } from '../src/crm/hubspot/journal-events.ts';
import { CrmRateLimitedError } from '../src/crm/errors.ts';
import { HubSpotJournalClient, JournalOffsetExpired } from '../src/crm/hubspot/journal.ts';
import { DEFAULT_CHANGE_FEED, pulls, validateChangeFeed, type ChangeFeedMode } from '../src/domain/change-feed.ts';
import { DEFAULT_FIELD_MAPPINGS, validateFieldMappings } from '../src/domain/stages.ts';
import type { Logger } from '../src/log.ts';
import { MAX_EVENTS_PER_DELIVERY } from '../src/queue/catalog.ts';
import type { NewJob, Producer } from '../src/queue/producer.ts';
import type { Queryable } from '../src/store/db.ts';
import { settingInEffect, settingOrDefault } from '../src/store/installation-admin.ts';
import { listActiveInstallationsWithSetting, type Installation } from '../src/store/installations.ts';
import {
  forgetJournalOffset,
  markJournalCaughtUp,
  markJournalFailure,
  readJournalPosition,
  saveJournalOffset,
} from '../src/store/journal-offsets.ts';
import { writeSyncLog } from '../src/store/sync-log.ts';
import { EXTEND, RELEASE_ONLY } from '../src/sync/drain.ts';
import { watchedContactProperties } from '../src/sync/mapped-fields.ts';

export interface JournalFeedDeps {
  db: Queryable;
  producer: Producer;
  log: Logger;
  /** The HubSpot app whose client credentials read the journal (`basePath`: the API's base URL). */
  app: { basePath: string; clientId: string; clientSecret: string };
  /**
   * How long a follower waits when it is caught up, and after a failure (doubling to 16×); longer
   * when many installations pull (see `idlePollMs`).
   */
  pollMs: number;
  /** How often the installations and their settings are looked at again. */
  refreshMs: number;
  /** How long an enqueue may wait for Redis before the entry is read again later. */
  budgetMs: number;
  now: () => number;
  /** Who follows which installation when several worker processes run; absent: this process alone. */
  lease?: FeedLease;
}

/**
 * One follower per installation across the worker processes: a lease in Redis, taken and renewed
 * by the follower at each step and every third of `ttlMs` in between (a slow step, a back-off), let
 * go when it stops; a process that died loses it after `ttlMs`.
 * (Two followers would not double a change, the job ids see to that, but would read everything twice.)
 */
export class FeedLease {
  private readonly token = randomUUID();

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    readonly ttlMs: number,
  ) {}

  private key(installationId: string): string {
    return `${this.prefix}:journal-lease:${installationId}`;
  }

  /** Takes or renews the lease; false while another process holds it. */
  async hold(installationId: string): Promise<boolean> {
    const key = this.key(installationId);
    if ((await this.redis.set(key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK') return true;
    return (await this.redis.eval(EXTEND, 1, key, this.token, String(this.ttlMs))) === 1;
  }

  async release(installationId: string): Promise<void> {
    await this.redis.eval(RELEASE_ONLY, 1, this.key(installationId), this.token);
  }
}

/** The settings key of an installation's HubSpot change feed mode. */
const CHANGE_FEED_SETTING = 'hubspotChangeFeed';

/** The installation's mode: the stored `hubspotChangeFeed`, or push. */
export async function hubspotChangeFeedOf(db: Queryable, installationId: string): Promise<ChangeFeedMode> {
  return (await settingInEffect(db, installationId, CHANGE_FEED_SETTING, validateChangeFeed, DEFAULT_CHANGE_FEED)).mode;
}

/**
 * The journal answers 100 requests/s per app (reference §2); the caught-up followers of all the
 * deployment's installations poll within half of it, leaving the rest to followers catching up and
 * to the subscription checks.
 */
export const JOURNAL_IDLE_POLLS_PER_SECOND = 50;

/**
 * How long a caught-up follower waits before asking again: `pollMs`, or longer when the
 * installations that pull would together poll faster than `JOURNAL_IDLE_POLLS_PER_SECOND`
 * (500 installations: every 10 s).
 */
export function idlePollMs(pollMs: number, pullingInstallations: number): number {
  return Math.max(pollMs, Math.ceil((pullingInstallations * 1000) / JOURNAL_IDLE_POLLS_PER_SECOND));
}

/** How often a follower checks that its journal subscriptions still exist. */
const RECHECK_SUBSCRIPTIONS_MS = 10 * 60_000;

/** One installation's follower: a loop over its journal until stopped. */
class Follower {
  private stopped = false;
  private readonly wake = new AbortController();
  private ensured: { key: string; at: number } | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly deps: JournalFeedDeps,
    private readonly client: HubSpotJournalClient,
    readonly installation: Installation & { hubspotPortalId: string },
    /** The wait when caught up, from the number of installations that pull now. */
    private readonly idleMs: () => number,
  ) {
    this.done = this.run();
  }

  stop(): void {
    this.stopped = true;
    this.wake.abort();
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    try {
      await sleep(ms, undefined, { signal: this.wake.signal });
    } catch {
      // Woken to stop.
    }
  }

  /**
   * Creates the journal subscriptions the sync needs that the portal does not have yet: when the
   * follower starts, when the watched properties change, and every 10 minutes (one may have been
   * deleted in the portal).
   */
  private async ensureSubscriptions(): Promise<void> {
    const { db } = this.deps;
    const mappings = await settingInEffect(db, this.installation.id, 'fieldMappings', validateFieldMappings, DEFAULT_FIELD_MAPPINGS);
    const wanted = wantedJournalSubscriptions(Number(this.installation.hubspotPortalId), watchedContactProperties(mappings));
    const key = JSON.stringify(wanted);
    if (this.ensured?.key === key && this.deps.now() - this.ensured.at < RECHECK_SUBSCRIPTIONS_MS) return;
    const existing = await this.client.subscriptions();
    for (const subscription of wanted) {
      if (existing.some((have) => coversSubscription(have, subscription))) continue;
      await this.client.subscribe(subscription);
      this.deps.log.info(
        { installationId: this.installation.id, subscriptionType: subscription.subscriptionType, actions: subscription.actions },
        'HubSpot journal subscription created',
      );
    }
    this.ensured = { key, at: this.deps.now() };
  }

  private async run(): Promise<void> {
    let failures = 0;
    const { lease } = this.deps;
    // Held: renewed on a timer too, so slow steps and back-offs keep it and the lease can be short.
    let holding = false;
    const renew = lease
      ? setInterval(() => {
          if (holding)
            void lease.hold(this.installation.id).then(
              (held) => (holding = held),
              () => undefined,
            );
        }, lease.ttlMs / 3)
      : undefined;
    renew?.unref();
    while (!this.stopped) {
      try {
        if (lease && !(holding = await lease.hold(this.installation.id))) {
          // Another worker process follows this installation.
          await this.pause(this.deps.pollMs * 10);
          continue;
        }
        await this.ensureSubscriptions();
        const caughtUp = await this.step();
        failures = 0;
        if (caughtUp) await this.pause(this.idleMs());
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof JournalOffsetExpired) {
          await this.restartFromEarliest(error.offset);
          continue;
        }
        failures += 1;
        const message = error instanceof Error ? error.message : String(error);
        this.deps.log.warn(
          { installationId: this.installation.id, error: message, failures },
          'HubSpot journal: read failed, trying again',
        );
        await markJournalFailure(this.deps.db, this.installation.id, message).catch(() => undefined);
        // Over the journal's rate limit: no sooner than HubSpot's Retry-After.
        const backOffMs = this.deps.pollMs * 2 ** Math.min(failures, 4);
        await this.pause(error instanceof CrmRateLimitedError ? Math.max(backOffMs, error.retryAfterMs) : backOffMs);
      }
    }
    clearInterval(renew);
    await lease?.release(this.installation.id).catch(() => undefined);
  }

  /** Takes the next entry; true when there was none (caught up). */
  private async step(): Promise<boolean> {
    const { db, producer, budgetMs, now } = this.deps;
    const { id: installationId, hubspotPortalId } = this.installation;
    const position = await readJournalPosition(db, installationId);
    const pointer =
      position?.offset == null ? await this.client.earliest(hubspotPortalId) : await this.client.next(hubspotPortalId, position.offset);
    if (pointer === null) {
      await markJournalCaughtUp(db, installationId);
      return true;
    }
    const file = await this.client.read(pointer);
    const receivedAt = now();
    const jobs: NewJob<'hubspotEvents'>[] = [];
    let ignored = 0;
    file.journalEvents.forEach((journalEvent, index) => {
      for (const event of webhookEventsOf(journalEvent, pointer.currentOffset, index)) {
        // The local journal is the portal's; an event of another portal is not this installation's.
        if (event.portalId !== hubspotPortalId || !isHandledSubscription(event.subscriptionType)) {
          ignored += 1;
          continue;
        }
        jobs.push({ jobId: hubspotJobId(installationId, event), payload: { v: 1, installationId, receivedAt, event } });
      }
    });
    const deliveries = [];
    for (let start = 0; start < jobs.length; start += MAX_EVENTS_PER_DELIVERY) {
      deliveries.push({
        v: 1 as const,
        source: 'hubspot' as const,
        installationId,
        events: jobs.slice(start, start + MAX_EVENTS_PER_DELIVERY),
      });
    }
    const result = await enqueueDurably({ producer, budgetMs }, deliveries, ignored);
    // Not enqueued: the offset stays, the entry is read again.
    if (result.kind !== 'accepted')
      throw new Error(`entry ${pointer.currentOffset} not enqueued: ${result.kind === 'unavailable' ? result.message : result.reason}`);
    const publishedAt = file.publishedAt === undefined ? null : new Date(file.publishedAt);
    await saveJournalOffset(
      db,
      installationId,
      pointer.currentOffset,
      publishedAt !== null && Number.isNaN(publishedAt.getTime()) ? null : publishedAt,
    );
    this.deps.log.debug(
      { installationId, offset: pointer.currentOffset, enqueued: result.enqueued, ignored },
      'HubSpot journal entry taken',
    );
    return false;
  }

  /**
   * The stored offset is past the retention (an outage longer than 3 days): changes in between may
   * be gone from the journal, so the reconciler compares both CRMs, and the feed goes on from the
   * earliest entry kept.
   */
  private async restartFromEarliest(offset: string): Promise<void> {
    const { db, producer, log, now } = this.deps;
    const installationId = this.installation.id;
    await forgetJournalOffset(db, installationId);
    await producer.enqueue('reconcile', [{ jobId: `reconcile-journal-${installationId}-${now()}`, payload: { v: 1, installationId } }]);
    await writeSyncLog(db, [
      {
        installationId,
        recordRef: 'hubspot:journal',
        level: 'warn',
        action: 'journal_offset_expired',
        reason:
          'the HubSpot webhooks journal no longer keeps the stored position (it keeps 3 days): reading again from the earliest entry kept, and a reconciler pass catches the changes in between',
        details: { offset },
      },
    ]);
    log.warn({ installationId, offset }, 'HubSpot journal offset expired: restarting from the earliest entry, reconciler pass requested');
  }
}

/** Keeps one follower per installation that pulls, starting and stopping them as settings change. */
export class HubSpotJournalFeeds {
  private readonly followers = new Map<string, Follower>();
  private readonly client: HubSpotJournalClient;
  /** The installations that pull, across every worker process (each follows some of them). */
  private pulling = 0;
  private stopped = false;
  private readonly wake = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly deps: JournalFeedDeps) {
    this.client = new HubSpotJournalClient({ ...deps.app, now: deps.now });
    this.loop = this.supervise();
  }

  /** The installations followed now. */
  following(): string[] {
    return [...this.followers.keys()];
  }

  /** Looks at the installations and their modes now. */
  async refresh(): Promise<void> {
    const wanted = new Map<string, Installation & { hubspotPortalId: string }>();
    // One query for every installation's mode (not one per installation every refresh).
    for (const { installation, stored } of await listActiveInstallationsWithSetting(this.deps.db, CHANGE_FEED_SETTING)) {
      if (installation.hubspotPortalId === null) continue;
      if (pulls(settingOrDefault(stored, validateChangeFeed, DEFAULT_CHANGE_FEED).mode))
        wanted.set(installation.id, { ...installation, hubspotPortalId: installation.hubspotPortalId });
    }
    this.pulling = wanted.size;
    for (const [id, follower] of this.followers) {
      if (wanted.has(id)) continue;
      follower.stop();
      this.followers.delete(id);
      this.deps.log.info({ installationId: id }, 'HubSpot journal: no longer followed');
    }
    for (const [id, installation] of wanted) {
      if (this.stopped || this.followers.has(id)) continue;
      this.followers.set(id, new Follower(this.deps, this.client, installation, () => idlePollMs(this.deps.pollMs, this.pulling)));
      this.deps.log.info({ installationId: id, portalId: installation.hubspotPortalId }, 'HubSpot journal: following');
    }
  }

  private async supervise(): Promise<void> {
    while (!this.stopped) {
      await this.refresh().catch((error: unknown) =>
        this.deps.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot journal: installations not read'),
      );
      try {
        await sleep(this.deps.refreshMs, undefined, { signal: this.wake.signal });
      } catch {
        // Woken to stop.
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.loop;
    for (const follower of this.followers.values()) follower.stop();
    await Promise.all([...this.followers.values()].map((follower) => follower.done));
    this.followers.clear();
  }
}

/**
 * The Salesforce change feed as the worker runs it and the dashboard shows it: each installation's
 * feed mode (`settings.salesforceFeed`), and per channel its health (`salesforce_feed_status`) next
 * to its position (`salesforce_replay_positions`).
 */
import type { Queryable } from './db.ts';
import { listActiveInstallationsWithSetting } from './installations.ts';

/** The installation's stored feed setting (`settings.salesforceFeed`), unparsed; undefined when not set. */
export async function storedSalesforceFeeds(db: Queryable): Promise<{ installationId: string; setting: unknown }[]> {
  return (await listActiveInstallationsWithSetting(db, 'salesforceFeed')).map(({ installation, stored }) => ({
    installationId: installation.id,
    setting: stored,
  }));
}

/** A channel's health, as the migration's CHECK lists them (021_salesforce_feed_status.sql). */
export const FEED_STATES = ['connecting', 'connected', 'reconnecting', 'error', 'stopped'] as const;
export type FeedState = (typeof FEED_STATES)[number];

/** A channel's health as the runner reports it. */
export interface FeedHealth {
  state: FeedState;
  message: string | null;
}

/** Records a channel's health (the event columns are kept). */
export async function saveFeedHealth(db: Queryable, installationId: string, channel: string, health: FeedHealth): Promise<void> {
  await db.query(
    `INSERT INTO salesforce_feed_status (installation_id, channel, state, message) VALUES ($1, $2, $3, $4)
     ON CONFLICT (installation_id, channel) DO UPDATE SET state = EXCLUDED.state, message = EXCLUDED.message, updated_at = now()`,
    [installationId, channel, health.state, health.message],
  );
}

/** Records the last event a channel took: its commit time and how long after it it was taken. */
export async function saveFeedProgress(
  db: Queryable,
  installationId: string,
  channel: string,
  progress: { lastEventAt: Date; lagSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO salesforce_feed_status (installation_id, channel, state, last_event_at, lag_seconds) VALUES ($1, $2, 'connected', $3, $4)
     ON CONFLICT (installation_id, channel) DO UPDATE
       SET state = 'connected', message = NULL, last_event_at = EXCLUDED.last_event_at, lag_seconds = EXCLUDED.lag_seconds, updated_at = now()`,
    [installationId, channel, progress.lastEventAt, progress.lagSeconds],
  );
}

/** One channel of an installation's feed, for the dashboard. */
export interface FeedChannelView {
  channel: string;
  state: FeedState;
  message: string | null;
  /** The stored position (replay id, hex), or null before the first event. */
  replayId: string | null;
  lastEventAt: Date | null;
  lagSeconds: number | null;
  updatedAt: Date;
}

/** Every channel the worker follows or followed for an installation, by name. */
export async function feedChannels(db: Queryable, installationId: string): Promise<FeedChannelView[]> {
  const rows = await db.query<{
    channel: string;
    state: FeedState;
    message: string | null;
    replay_id: Uint8Array | null;
    last_event_at: Date | string | null;
    lag_seconds: number | string | null;
    updated_at: Date | string;
  }>(
    `SELECT s.channel, s.state, s.message, p.replay_id, s.last_event_at, s.lag_seconds, s.updated_at
       FROM salesforce_feed_status s
       LEFT JOIN salesforce_replay_positions p ON p.installation_id = s.installation_id AND p.channel = s.channel
      WHERE s.installation_id = $1 ORDER BY s.channel`,
    [installationId],
  );
  return rows.map((row) => ({
    channel: row.channel,
    state: row.state,
    message: row.message,
    replayId: row.replay_id === null ? null : Buffer.from(row.replay_id).toString('hex'),
    lastEventAt: row.last_event_at === null ? null : new Date(row.last_event_at),
    lagSeconds: row.lag_seconds === null ? null : Number(row.lag_seconds),
    updatedAt: new Date(row.updated_at),
  }));
}

/**
 * Following a change event channel from where the installation left it: the stored replay id
 * (CUSTOM), or LATEST the first time. The position advances only after the intake has taken a batch
 * (e.g. enqueued it durably), so a restart neither skips nor repeats an event. An expired position
 * ends the subscription as `replay-expired`; falling back to LATEST plus a reconciler pass is the
 * caller's decision, since only it can run the reconciler and write the sync log. A keepalive's
 * latest replay id is stored too, so a quiet channel does not fall out of the 72-hour retention.
 */
import type { ChangeEventMessage } from './change-events.ts';
import type { PubSubClient, Replay, Subscription } from './client.ts';

/** Where an installation's channel positions are kept (src/store/replay-positions.ts). */
export interface ReplayPositions {
  read(channel: string): Promise<Buffer | null>;
  save(channel: string, replayId: Buffer): Promise<void>;
}

export interface FollowOptions {
  client: PubSubClient;
  topic: string;
  positions: ReplayPositions;
  batchSize?: number;
  /** Takes a batch for good; the stored position moves past it only once this resolves. */
  intake: (events: ChangeEventMessage[]) => Promise<void>;
}

/** Subscribes from the stored position; says where it started. */
export async function followChannel(options: FollowOptions): Promise<{ subscription: Subscription; startedFrom: Replay }> {
  const stored = await options.positions.read(options.topic);
  const startedFrom: Replay = stored === null ? { preset: 'LATEST' } : { preset: 'CUSTOM', replayId: stored };
  const subscription = options.client.subscribe({
    topic: options.topic,
    replay: startedFrom,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    onEvents: async (events) => {
      await options.intake(events);
      const last = events[events.length - 1];
      if (last) await options.positions.save(options.topic, last.replayId);
    },
    // Nothing is waiting on the channel: its latest replay id is a safe place to resume from.
    onKeepalive: (latestReplayId) => options.positions.save(options.topic, latestReplayId),
  });
  return { subscription, startedFrom };
}

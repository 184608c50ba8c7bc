/**
 * What the dashboard and the admin API show of an installation's Salesforce change feed: the mode
 * in effect and, per channel the worker follows, its position and health (src/store/salesforce-feeds.ts).
 */
import type { ChangeFeedSetting } from '../../domain/change-feed.ts';
import type { Queryable } from '../../store/db.ts';
import { feedChannels, type FeedChannelView } from '../../store/salesforce-feeds.ts';
import { readAllSettings } from './settings.ts';

export interface SalesforceFeedView {
  mode: ChangeFeedSetting['mode'];
  channels: FeedChannelView[];
}

/** The installation's feed mode and its channels. */
export async function salesforceFeedView(db: Queryable, installationId: string): Promise<SalesforceFeedView> {
  const setting = (await readAllSettings(db, installationId)).find((view) => view.key === 'salesforceFeed');
  return { mode: (setting?.value as ChangeFeedSetting).mode, channels: await feedChannels(db, installationId) };
}

/** The view as JSON (dates as ISO strings). */
export function salesforceFeedJson(view: SalesforceFeedView) {
  return {
    mode: view.mode,
    channels: view.channels.map((channel) => ({
      channel: channel.channel,
      state: channel.state,
      message: channel.message,
      replayId: channel.replayId,
      lastEventAt: channel.lastEventAt?.toISOString() ?? null,
      lagSeconds: channel.lagSeconds,
      updatedAt: channel.updatedAt.toISOString(),
    })),
  };
}

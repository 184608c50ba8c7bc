/**
 * The operator's controls over an installation's sync, shared by the dashboard and the admin API:
 * pause and resume per direction. Each change is recorded in the admin activity log with who made it.
 */
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { pauseSync, resumeSync, SYNC_DIRECTIONS, syncPauses, type SyncDirection, type SyncPause } from '../../store/sync-controls.ts';
import type { AdminContext } from './context.ts';

/** How the admin's request came in: a dashboard session or the API's bearer token. */
export type AdminVia = 'session' | 'bearer';

const byOf = (via: AdminVia): string => (via === 'session' ? 'dashboard' : 'api');
const DIRECTION_NAMES: Readonly<Record<SyncDirection, string>> = { 'to-salesforce': 'HubSpot → Salesforce', 'to-hubspot': 'Salesforce → HubSpot' };

/** The directions a request names: one, or both when absent. */
export function directionsOf(direction: SyncDirection | undefined): SyncDirection[] {
  return direction === undefined ? [...SYNC_DIRECTIONS] : [direction];
}

/** What the dashboard and the API show of the controls. */
export interface SyncControlsView {
  paused: SyncPause[];
}

/** The current state of the controls. */
export async function syncControlsView(ctx: AdminContext, installationId: string): Promise<SyncControlsView> {
  return { paused: await syncPauses(ctx.db, installationId) };
}

/** Pauses directions: their drains stop at the next batch; changes keep arriving and wait. */
export async function pauseInstallationSync(ctx: AdminContext, installationId: string, directions: readonly SyncDirection[], via: AdminVia): Promise<SyncControlsView> {
  const by = byOf(via);
  const paused = await pauseSync(ctx.db, installationId, directions, by, new Date(ctx.now()));
  if (paused.length > 0) {
    await recordAdminAction(ctx.db, { installationId, action: 'sync_paused', summary: `Sync paused (${paused.map((d) => DIRECTION_NAMES[d]).join(', ')}) from the ${by}`, details: { directions: paused, by } });
    ctx.log.info({ installationId, directions: paused, by }, 'sync paused by an admin');
  }
  return syncControlsView(ctx, installationId);
}

/** Resumes directions and schedules their drains, which take up the waiting records oldest first. */
export async function resumeInstallationSync(ctx: AdminContext, installationId: string, directions: readonly SyncDirection[], via: AdminVia): Promise<SyncControlsView> {
  const by = byOf(via);
  const resumed = await resumeSync(ctx.db, installationId, directions);
  // Drains are scheduled even for a direction that was not paused: harmless (a drain with nothing
  // pending ends at once), and it picks up records a drain left while a pause was being lifted.
  for (const direction of directions) await ctx.scheduler.schedule(installationId, direction, ctx.now(), true);
  if (resumed.length > 0) {
    await recordAdminAction(ctx.db, { installationId, action: 'sync_resumed', summary: `Sync resumed (${resumed.map((d) => DIRECTION_NAMES[d]).join(', ')}) from the ${by}`, details: { directions: resumed, by } });
    ctx.log.info({ installationId, directions: resumed, by }, 'sync resumed by an admin');
  }
  return syncControlsView(ctx, installationId);
}

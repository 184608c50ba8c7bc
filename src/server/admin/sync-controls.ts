/**
 * The operator's controls over an installation's sync, shared by the dashboard and the admin API:
 * pause and resume per direction, and the Salesforce API budget. Each change is recorded in the
 * admin activity log with who made it.
 */
import { ApiBudgetSchema, describeBudget } from '../../domain/api-budget.ts';
import { err, ok, type Result } from '../../domain/result.ts';
import type { SalesforceBudgetUsage } from '../../runtime/salesforce-budget.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { readSalesforceBudget, saveSalesforceBudget } from '../../store/salesforce-budget.ts';
import {
  pauseSync,
  resumeSync,
  SYNC_DIRECTIONS,
  syncHold,
  syncPauses,
  type SyncDirection,
  type SyncHold,
  type SyncPause,
} from '../../store/sync-controls.ts';
import { pendingEntryOf } from '../../sync/context.ts';
import type { AdminContext } from './context.ts';

/** How the admin's request came in: a dashboard session or the API's bearer token. */
export type AdminVia = 'session' | 'bearer';

const byOf = (via: AdminVia): string => (via === 'session' ? 'dashboard' : 'api');
const DIRECTION_NAMES: Readonly<Record<SyncDirection, string>> = {
  'to-salesforce': 'HubSpot → Salesforce',
  'to-hubspot': 'Salesforce → HubSpot',
};

/** The directions a request names: one, or both when absent. */
export function directionsOf(direction: SyncDirection | undefined): SyncDirection[] {
  return direction === undefined ? [...SYNC_DIRECTIONS] : [direction];
}

/** What the dashboard and the API show of the controls. */
export interface SyncControlsView {
  paused: SyncPause[];
  /** The Salesforce API budget and the app's calls against it (usage counted by the limiter). */
  salesforceBudget: SalesforceBudgetUsage;
}

/** The current state of the controls. */
export async function syncControlsView(ctx: AdminContext, installationId: string): Promise<SyncControlsView> {
  const budgets = ctx.clients()?.salesforceBudgets;
  const [paused, salesforceBudget] = await Promise.all([
    syncPauses(ctx.db, installationId),
    // Without CRM clients nothing calls Salesforce, so nothing is counted.
    budgets
      ? budgets.usage(installationId)
      : readSalesforceBudget(ctx.db, installationId).then((budget) => ({
          budget,
          used: 0,
          limit: budget && 'calls' in budget ? budget.calls : null,
          dailyAllowance: null,
        })),
  ]);
  return { paused, salesforceBudget };
}

/** Sets the Salesforce API budget (null removes it); refused with every problem. Waiting drains look again at once. */
export async function setSalesforceBudget(
  ctx: AdminContext,
  installationId: string,
  input: unknown,
  via: AdminVia,
): Promise<Result<SyncControlsView, string[]>> {
  let budget = null;
  if (input !== null) {
    const parsed = ApiBudgetSchema.safeParse(input);
    if (!parsed.success) return err(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
    budget = parsed.data;
  }
  const by = byOf(via);
  await saveSalesforceBudget(ctx.db, installationId, budget);
  ctx.clients()?.salesforceBudgets.forget(installationId);
  // Drains delayed until calls were available again run now and meet the new budget.
  for (const direction of SYNC_DIRECTIONS) await ctx.scheduler.schedule(installationId, direction, ctx.now(), true);
  const summary =
    budget === null
      ? `Salesforce API budget removed from the ${by}`
      : `Salesforce API budget set to ${describeBudget(budget)} from the ${by}`;
  await recordAdminAction(ctx.db, { installationId, action: 'salesforce_budget_set', summary, details: { budget, by } });
  ctx.log.info({ installationId, budget, by }, 'Salesforce API budget changed by an admin');
  return ok(await syncControlsView(ctx, installationId));
}

/** Pauses directions: their drains stop at the next batch; changes keep arriving and wait. */
export async function pauseInstallationSync(
  ctx: AdminContext,
  installationId: string,
  directions: readonly SyncDirection[],
  via: AdminVia,
): Promise<SyncControlsView> {
  const by = byOf(via);
  const paused = await pauseSync(ctx.db, installationId, directions, by, new Date(ctx.now()));
  await recordPauseChange(ctx, installationId, 'paused', paused, by);
  return syncControlsView(ctx, installationId);
}

/** Resumes directions and schedules their drains, which take up the waiting records oldest first. */
export async function resumeInstallationSync(
  ctx: AdminContext,
  installationId: string,
  directions: readonly SyncDirection[],
  via: AdminVia,
): Promise<SyncControlsView> {
  const by = byOf(via);
  const resumed = await resumeSync(ctx.db, installationId, directions);
  // Drains are scheduled even for a direction that was not paused: harmless (a drain with nothing
  // pending ends at once), and it picks up records a drain left while a pause was being lifted.
  for (const direction of directions) await ctx.scheduler.schedule(installationId, direction, ctx.now(), true);
  await recordPauseChange(ctx, installationId, 'resumed', resumed, by);
  return syncControlsView(ctx, installationId);
}

/** Records a pause or resume in the admin activity log and the log, when it changed any direction. */
async function recordPauseChange(
  ctx: AdminContext,
  installationId: string,
  change: 'paused' | 'resumed',
  directions: readonly SyncDirection[],
  by: string,
): Promise<void> {
  if (directions.length === 0) return;
  await recordAdminAction(ctx.db, {
    installationId,
    action: `sync_${change}`,
    summary: `Sync ${change} (${directions.map((d) => DIRECTION_NAMES[d]).join(', ')}) from the ${by}`,
    details: { directions, by },
  });
  ctx.log.info({ installationId, directions, by }, `sync ${change} by an admin`);
}

/** What "sync this record now" did: where the record waits, and what holds it if anything. */
export interface SyncNowResult {
  direction: SyncDirection;
  key: string;
  hold: SyncHold | null;
}

/**
 * Marks one record pending in the direction its side syncs to and starts that drain now (a record
 * whose webhook was lost, or one to look at again). A held direction keeps it waiting.
 */
export async function syncRecordNow(
  ctx: AdminContext,
  installationId: string,
  record: string,
  via: AdminVia,
): Promise<Result<SyncNowResult, string>> {
  const entry = pendingEntryOf(record);
  if (!entry)
    return err(
      `"${record}" is not a record the sync takes: give a HubSpot contact id, a Lead id (00Q…) or an Opportunity id (006…), or their sync-log reference`,
    );
  await ctx.scheduler.markAndDrainNow(installationId, entry.direction, [entry.key]);
  const hold = await syncHold(ctx.db, installationId, entry.direction);
  const by = byOf(via);
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'record_sync_requested',
    summary: `Sync now of ${entry.key} (${DIRECTION_NAMES[entry.direction]}) from the ${by}${hold ? ': waits, the direction is held' : ''}`,
    details: { ...entry, by },
  });
  return ok({ ...entry, hold });
}

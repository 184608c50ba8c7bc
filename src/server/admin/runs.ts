/**
 * What an admin starts, from the dashboard or the API alike: provisioning, the attribution
 * backfill, a fill of the existing records, the initial sync. Each start is recorded in the
 * installation's activity with the same words whichever surface it came from.
 */
import type { MappingPair } from '../../domain/field-values.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import type { InstallationDetails } from '../../store/installation-admin.ts';
import { startAttributionBackfill } from '../../sync/attribution-backfill.ts';
import { startFieldFill } from '../../sync/field-fill.ts';
import { startInitialSync } from '../../sync/initial-sync.ts';
import type { AdminContext } from './context.ts';
import { runtimeOf } from './installations.ts';
import { provision, type ProvisioningPlan } from './provisioning.ts';

/** Provisions an installation (or dry-runs it); a real run is recorded and logged. */
export async function provisionAsAdmin(ctx: AdminContext, installation: InstallationDetails, dryRun: boolean): Promise<ProvisioningPlan> {
  const plan = await provision({
    installation,
    runtime: await runtimeOf(ctx, installation.id),
    publicUrl: ctx.publicUrl(),
    environment: ctx.provisioning,
    dryRun,
  });
  if (!dryRun) {
    await recordAdminAction(ctx.db, {
      installationId: installation.id,
      action: 'provisioned',
      summary: `Provisioned: ${plan.counts.created} item(s) created`,
      details: { counts: plan.counts },
    });
    ctx.log.info({ installationId: installation.id, created: plan.counts.created }, 'installation provisioned');
  }
  return plan;
}

/** Starts the attribution backfill (or finds the one running); returns its run id. */
export async function startBackfillAsAdmin(ctx: AdminContext, installationId: string, summary: string): Promise<string> {
  const { runId } = await startAttributionBackfill({ db: ctx.db, producer: ctx.producer }, installationId);
  await recordAdminAction(ctx.db, { installationId, action: 'backfill_started', summary, details: { runId } });
  return runId;
}

/** Starts a fill of the existing records for `pairs` (absent: every syncing mapping); returns its run id. */
export async function startFieldFillAsAdmin(
  ctx: AdminContext,
  installationId: string,
  pairs: readonly MappingPair[] | undefined,
): Promise<string> {
  const { runId } = await startFieldFill({ db: ctx.db, producer: ctx.producer }, installationId, pairs);
  const which = pairs ? pairs.map((p) => `${p.hubspotProperty} ↔ ${p.salesforceField}`).join(', ') : 'every syncing mapping';
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'field_fill_started',
    summary: `Filling existing records started for ${which}`,
    details: { runId, ...(pairs ? { pairs } : {}) },
  });
  return runId;
}

/** Starts the initial sync; returns its run id. */
export async function startInitialSyncAsAdmin(ctx: AdminContext, installationId: string): Promise<string> {
  const { runId } = await startInitialSync({ db: ctx.db, producer: ctx.producer }, installationId);
  await recordAdminAction(ctx.db, { installationId, action: 'initial_sync_started', summary: 'Initial sync started', details: { runId } });
  return runId;
}

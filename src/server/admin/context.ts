/** What the admin dashboard, the admin API and the OAuth routes work with. */
import type { AppConfig } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { Producer } from '../../queue/producer.ts';
import type { InstallationClients } from '../../runtime/installation-clients.ts';
import type { Db } from '../../store/db.ts';
import { scheduleReconcile } from '../../sync/reconcile-schedule.ts';
import { scheduleCommitmentChecks } from '../../sync/commitment-check.ts';
import type { SyncScheduler } from '../../sync/scheduler.ts';
import { SlaScheduler } from '../../sync/sla-scheduler.ts';
import type { InstallationDirectory } from '../../store/installation-directory.ts';
import type { OAuthApps } from '../oauth/apps.ts';
import type { CredentialVault } from '../oauth/credentials.ts';
import type { AdminAuth } from './auth.ts';
import type { ProvisioningEnvironment } from './provisioning.ts';

export interface AdminContext {
  config: AppConfig;
  db: Db;
  producer: Producer;
  log: Logger;
  directory: InstallationDirectory;
  /** The CRM clients (built after HTTP starts; undefined when no CRM can be reached). */
  clients: () => InstallationClients | undefined;
  vault: CredentialVault;
  apps: OAuthApps;
  auth: AdminAuth;
  /** Where HubSpot and Salesforce reach this app (known once HTTP listens). */
  publicUrl: () => string;
  provisioning: ProvisioningEnvironment;
  /** Marks records pending and schedules drains (resume, sync a record now). */
  scheduler: SyncScheduler;
  now: () => number;
}

/**
 * After a settings edit: every process reads the rules again at its next job (the settings version
 * in Redis moves), and a changed SLA policy re-checks the running clocks (the SLA worker
 * reschedules them from their handoff).
 */
export async function settingsChanged(ctx: AdminContext, installationId: string, key: string): Promise<void> {
  await ctx.clients()?.changed(installationId);
  if (key === 'slaPolicy') await new SlaScheduler(ctx.producer).requestReschedule(installationId);
}

/**
 * Drops the cached runtime of an installation and reloads the webhook routing table; an active
 * installation (a new one included) gets its reconciler and its commitments check scheduled.
 */
export async function installationChanged(ctx: AdminContext, installationId: string): Promise<void> {
  await ctx.clients()?.changed(installationId);
  await ctx.directory.reload();
  if (ctx.directory.isActive(installationId)) {
    await scheduleReconcile(ctx.producer, installationId, ctx.config.reconcile.intervalMs);
    await scheduleCommitmentChecks(ctx.producer, installationId);
  }
}

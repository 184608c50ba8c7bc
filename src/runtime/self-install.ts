/**
 * Sandbox mode installs the app on the sandbox portal and org the way an admin does on real ones:
 * through provisioning (`src/server/admin/provisioning.ts`) with the sandbox's environment — HubSpot
 * properties, Salesforce custom fields (Tooling API), the Lead Status values, the integration user's
 * permission set and Marketing User, HubSpot webhook subscriptions and Outbound Message rules to
 * this app — so one list says what an install needs. Two things an admin would do by hand in Setup
 * are done here: the sandbox org's reps get the sales permission set, and a rule of the app's left
 * pointing at an earlier address (the app restarted on another port) is removed to be made again;
 * in a real org provisioning never changes an existing rule. One log line per part.
 */
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { isCurrentRule, outboundRulesFor, provision, sandboxProvisioning, type ProvisioningPlan } from '../server/admin/provisioning.ts';
import type { Installation } from '../store/installations.ts';
import type { InstallationRuntime } from './installation-clients.ts';
import type { RunningSandboxes } from './sandboxes.ts';

export interface SelfInstallDeps {
  config: AppConfig;
  log: Logger;
  installation: Installation;
  runtime: InstallationRuntime;
  /** Where the CRMs reach this app. */
  publicUrl: string;
  sandboxes: RunningSandboxes;
}

/** Provisions the sandbox CRMs for one installation, as the admin's *Create* does. */
export async function selfInstall(deps: SelfInstallDeps): Promise<void> {
  const { log, runtime, installation, publicUrl, sandboxes } = deps;
  const org = sandboxes.salesforce;
  if (org) {
    const wanted = outboundRulesFor(publicUrl, installation, runtime.fieldMappings);
    for (const rule of org.outbound.rules()) {
      const want = wanted.find((candidate) => candidate.name === rule.name);
      if (want && !isCurrentRule(rule, want)) org.outbound.removeRule(rule.id);
    }
  }
  const salesUserIds =
    org
      ?.users()
      .filter((user) => user.isActive && (user.role === 'sales-rep' || user.role === 'sales-manager'))
      .map((user) => user.id) ?? [];
  const plan = await provision({
    installation,
    runtime,
    publicUrl,
    environment: sandboxProvisioning(deps.config, sandboxes),
    dryRun: false,
    salesUserIds,
  });
  logPlan(log, plan);
}

const PARTS = {
  hubspotProperties: 'HubSpot properties (group smarketing)',
  salesforceFields: 'Salesforce custom fields',
  leadStatuses: 'Salesforce Lead Status values',
  salesforceAccess: "Salesforce access (the integration user's permission set, Marketing User, field-level security)",
  hubspotWebhooks: 'HubSpot webhook subscriptions to this app',
  outboundMessages: 'Salesforce Outbound Messages to this app',
} as const satisfies Partial<Record<keyof ProvisioningPlan, string>>;

/** One line per part of the plan: what was created and what was already there, or what is wrong. */
function logPlan(log: Logger, plan: ProvisioningPlan): void {
  for (const [key, label] of Object.entries(PARTS) as [keyof typeof PARTS, string][]) {
    const section = plan[key];
    if (!section.ok) {
      log.warn({ problem: section.error }, `install: ${label} could not be set up`);
      continue;
    }
    const count = (status: string) => section.items.filter((item) => item.status === status).length;
    const needing = section.items.filter((item) => !['exists', 'created'].includes(item.status));
    const counts = { created: count('created'), existing: count('exists'), needingAttention: needing.length };
    if (needing.length === 0) log.info(counts, `install: ${label} ready`);
    else log.warn(counts, `install: ${label} ready except ${needing.length} item(s): see the installation's provisioning dry run`);
  }
  if (plan.ready) log.info({ installation: plan.installationId }, 'install: the sync can run');
  else log.warn({ installation: plan.installationId }, "install: the sync is not ready; the installation's provisioning dry run says why");
}

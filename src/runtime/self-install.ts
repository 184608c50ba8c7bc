/**
 * Sandbox mode installs the app on the sandbox portal and org the way an admin would on real
 * ones, through their APIs: HubSpot properties, Salesforce custom fields (Tooling API), the
 * integration user's permission set and Marketing User (the reps get the sales one), HubSpot
 * webhook subscriptions to this app, and Salesforce Outbound Message rules to this app's
 * per-installation endpoint. One log line per step; re-running creates only what is missing.
 */
import {
  HUBSPOT_COMPANY_PROPERTIES,
  HUBSPOT_CONTACT_PROPERTIES,
  HUBSPOT_PROPERTY_GROUP,
  INTEGRATION_PERMISSION_SET,
  SALESFORCE_CUSTOM_FIELDS,
  WATCHED_PROPERTIES,
} from '../crm/field-catalog.ts';
import { ensureWebhookSubscriptions } from '../crm/hubspot/webhook-subscriptions.ts';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SalesforceSandbox } from '../sandbox/salesforce/server.ts';
import type { Installation } from '../store/installations.ts';
import { LEAD_SYNC_FIELDS, OPPORTUNITY_SYNC_FIELDS } from '../sync/context.ts';
import { ACTIVITY_FIELDS } from '../server/admin/provisioning.ts';
import type { InstallationRuntime } from './installation-clients.ts';
import { ensureSalesforceAccess } from './salesforce-access.ts';

export interface SelfInstallDeps {
  config: AppConfig;
  log: Logger;
  installation: Installation;
  runtime: InstallationRuntime;
  /** Where the CRMs reach this app. */
  publicUrl: string;
  hubspotBasePath: string;
  salesforce: SalesforceSandbox | undefined;
}

/** Provisions fields and webhooks on the sandbox CRMs for one installation. */
export async function selfInstall(deps: SelfInstallDeps): Promise<void> {
  const { log, runtime, installation, config } = deps;
  const properties = await runtime.hubspot.ensureContactProperties(HUBSPOT_PROPERTY_GROUP, HUBSPOT_CONTACT_PROPERTIES, false);
  log.info(
    { created: properties.created.length, existing: HUBSPOT_CONTACT_PROPERTIES.length - properties.created.length },
    'install: HubSpot contact properties ready (group smarketing)',
  );
  await runtime.hubspot.ensureCompanyProperties(HUBSPOT_PROPERTY_GROUP, HUBSPOT_COMPANY_PROPERTIES, false);

  const fields = await runtime.salesforce.ensureCustomFields(SALESFORCE_CUSTOM_FIELDS, false);
  log.info(
    { created: fields.created.length, existing: SALESFORCE_CUSTOM_FIELDS.length - fields.created.length },
    'install: Salesforce custom fields ready (Lead, Contact, Opportunity)',
  );

  // The sandbox org's sales reps get the sales permission set, as an admin assigns it in Setup.
  const salesUserIds =
    deps.salesforce
      ?.users()
      .filter((user) => user.isActive && (user.role === 'sales-rep' || user.role === 'sales-manager'))
      .map((user) => user.id) ?? [];
  const access = await ensureSalesforceAccess(runtime.salesforce, { dryRun: false, salesUserIds });
  const notReady = access.items.filter((item) => item.status !== 'exists' && item.status !== 'created');
  if (access.ready) {
    log.info(
      { permissionSet: INTEGRATION_PERMISSION_SET.name, salesUsers: access.sales.assignees },
      'install: Salesforce access ready (permission sets, Marketing User, every field readable and updateable by the integration user)',
    );
  } else {
    log.warn(
      { missing: notReady.map((item) => `${item.kind} ${item.name}`), errors: access.errors },
      'install: the integration user lacks access in Salesforce; the sync cannot write these fields',
    );
  }

  const hubspotTarget = `${deps.publicUrl}/webhooks/hubspot`;
  const subscriptions = await ensureWebhookSubscriptions({
    basePath: deps.hubspotBasePath,
    developerApiKey: config.sandbox.hubspot.developerKey,
    appId: config.sandbox.hubspot.appId,
    targetUrl: hubspotTarget,
    contactProperties: WATCHED_PROPERTIES,
  });
  log.info({ targetUrl: hubspotTarget, created: subscriptions.length }, 'install: HubSpot webhook subscriptions point at this app');

  if (deps.salesforce) {
    const endpointUrl = `${deps.publicUrl}/webhooks/salesforce/${installation.salesforceWebhookToken}`;
    const rules = deps.salesforce.outbound.rules();
    const objects: string[] = [];
    const wanted = [
      ['Lead', LEAD_SYNC_FIELDS],
      ['Opportunity', OPPORTUNITY_SYNC_FIELDS],
      ['Task', ACTIVITY_FIELDS],
      ['Event', ACTIVITY_FIELDS],
    ] as const;
    for (const [object, fieldList] of wanted) {
      const name = `Smarketing Sync ${object}`;
      const existing = rules.find((rule) => rule.name === name);
      if (existing && existing.endpointUrl === endpointUrl && fieldList.every((field) => existing.fields.includes(field))) {
        objects.push(object);
        continue;
      }
      if (existing) deps.salesforce.outbound.removeRule(existing.id);
      if ((object === 'Task' || object === 'Event') && !(await runtime.salesforce.canQuery(object))) {
        log.info({ object }, `install: this org has no ${object} object for the integration user; no Outbound Message for it`);
        continue;
      }
      deps.salesforce.outbound.addRule({
        name,
        object,
        triggerOn: ['create', 'update'],
        fields: [...fieldList],
        endpointUrl,
        integrationUserId: runtime.salesforceIntegrationUserId,
      });
      objects.push(object);
    }
    log.info({ objects }, 'install: Salesforce Outbound Messages point at this app');
  }
}

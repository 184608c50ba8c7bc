/**
 * Sandbox mode installs the app on the sandbox portal and org the way an admin would on real
 * ones, through their APIs: HubSpot properties, Salesforce custom fields (Tooling API), HubSpot
 * webhook subscriptions to this app, and Salesforce Outbound Message rules to this app's
 * per-installation endpoint. One log line per step; re-running creates only what is missing.
 */
import { HUBSPOT_CONTACT_PROPERTIES, HUBSPOT_PROPERTY_GROUP, SALESFORCE_CUSTOM_FIELDS } from '../crm/field-catalog.ts';
import { ensureWebhookSubscriptions } from '../crm/hubspot/webhook-subscriptions.ts';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SalesforceSandbox } from '../sandbox/salesforce/server.ts';
import type { Installation } from '../store/installations.ts';
import { LEAD_SYNC_FIELDS, OPPORTUNITY_SYNC_FIELDS } from '../sync/context.ts';
import type { InstallationRuntime } from './installation-clients.ts';

/** Contact properties the app's HubSpot webhook subscriptions watch. */
export const WATCHED_PROPERTIES = ['lifecyclestage', 'hs_lead_status', 'email', 'firstname', 'lastname', 'company', 'phone', 'jobtitle'] as const;

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
  log.info({ created: properties.created.length, existing: HUBSPOT_CONTACT_PROPERTIES.length - properties.created.length }, 'install: HubSpot contact properties ready (group smarketing)');

  const fields = await runtime.salesforce.ensureCustomFields(SALESFORCE_CUSTOM_FIELDS, false);
  log.info({ created: fields.created.length, existing: SALESFORCE_CUSTOM_FIELDS.length - fields.created.length }, 'install: Salesforce custom fields ready (Lead, Contact, Opportunity)');

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
    for (const [object, fieldList] of [['Lead', LEAD_SYNC_FIELDS], ['Opportunity', OPPORTUNITY_SYNC_FIELDS]] as const) {
      const name = `Smarketing Sync ${object}`;
      const existing = rules.find((rule) => rule.name === name);
      if (existing && existing.endpointUrl === endpointUrl) continue;
      if (existing) deps.salesforce.outbound.removeRule(existing.id);
      deps.salesforce.outbound.addRule({ name, object, triggerOn: ['create', 'update'], fields: [...fieldList], endpointUrl, integrationUserId: runtime.salesforceIntegrationUserId });
    }
    log.info({ objects: ['Lead', 'Opportunity'] }, 'install: Salesforce Outbound Messages point at this app');
  }
}

/**
 * The sandbox CRMs inside the app (or alone with `npm run sandbox`): a local HubSpot and a local
 * Salesforce org on their documented ports, with state under DATA_DIR/sandbox (unless SANDBOX_PERSIST=false).
 */
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { ProvisioningEnvironment } from '../server/admin/provisioning.ts';
import { startHubSpotSandbox, type HubSpotSandbox } from '../sandbox/hubspot/server.ts';
import { startSalesforceSandbox, type SalesforceSandbox } from '../sandbox/salesforce/server.ts';

export interface RunningSandboxes {
  hubspot: HubSpotSandbox | undefined;
  salesforce: SalesforceSandbox | undefined;
  close(): Promise<void>;
}

/** The sandboxes' accounts and credentials as the configuration names them (docs/architecture.md §10): the app, `npm run sandbox` and the benches start them alike. */
export function sandboxAccounts(sandbox: AppConfig['sandbox']) {
  const { portalId, privateAppToken, clientId, clientSecret, appId, developerKey } = sandbox.hubspot;
  const { orgId, username, password, clientId: sfClientId, clientSecret: sfClientSecret } = sandbox.salesforce;
  return {
    hubspot: { portalId, privateAppToken, clientId, clientSecret, appId, developerKey },
    salesforce: { orgId, username, password, clientId: sfClientId, clientSecret: sfClientSecret },
  };
}

/** Starts the sandbox of each side that has no real credentials (or both with `all`). */
export async function startSandboxes(
  config: AppConfig,
  log: Logger,
  which: { hubspot: boolean; salesforce: boolean },
): Promise<RunningSandboxes> {
  const dir = path.join(config.dataDir, 'sandbox');
  const hs = config.sandbox.hubspot;
  const sf = config.sandbox.salesforce;
  const accounts = sandboxAccounts(config.sandbox);
  const hubspot = which.hubspot
    ? await startHubSpotSandbox({
        port: hs.port,
        ...accounts.hubspot,
        ...(config.sandbox.persist ? { stateFile: path.join(dir, 'hubspot.json') } : {}),
        logger: log.child({ component: 'sandbox-hubspot' }),
        rateLimit: { requests: hs.burstLimit, windowMs: 10_000, searchPerSecond: 5 },
      })
    : undefined;
  let salesforce: SalesforceSandbox | undefined;
  try {
    salesforce = which.salesforce
      ? await startSalesforceSandbox({
          port: sf.port,
          pubsubPort: sf.pubsubPort,
          ...accounts.salesforce,
          ...(config.sandbox.persist ? { stateFile: path.join(dir, 'salesforce.json') } : {}),
          logger: log.child({ component: 'sandbox-salesforce' }),
        })
      : undefined;
  } catch (error) {
    await hubspot?.close();
    throw error;
  }
  if (hubspot) log.info({ url: hubspot.url, portalId: hs.portalId }, 'sandbox HubSpot running (not a real portal)');
  if (salesforce) log.info({ url: salesforce.url, orgId: sf.orgId }, 'sandbox Salesforce running (not a real org)');
  return {
    hubspot,
    salesforce,
    close: async () => {
      await Promise.all([hubspot?.close(), salesforce?.close()]);
    },
  };
}

/** What sandbox mode can do by API: the sandbox HubSpot app's webhooks and the sandbox org's Outbound Messages. */
export function sandboxProvisioning(config: AppConfig, sandboxes: RunningSandboxes | undefined): ProvisioningEnvironment {
  const environment: ProvisioningEnvironment = {};
  if (sandboxes?.hubspot) {
    environment.hubspotWebhooks = {
      basePath: sandboxes.hubspot.url,
      developerApiKey: config.sandbox.hubspot.developerKey,
      appId: config.sandbox.hubspot.appId,
    };
  }
  const org = sandboxes?.salesforce;
  if (org) {
    environment.outboundMessages = {
      orgId: config.sandbox.salesforce.orgId,
      list: () => org.outbound.rules().map((rule) => ({ name: rule.name, endpointUrl: rule.endpointUrl, fields: rule.fields })),
      create: (rule) => {
        org.outbound.addRule({
          name: rule.name,
          object: rule.object,
          triggerOn: rule.triggerOn,
          fields: rule.fields,
          endpointUrl: rule.endpointUrl,
          integrationUserId: rule.integrationUserId,
        });
      },
    };
  }
  return environment;
}

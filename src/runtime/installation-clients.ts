/**
 * Builds, per installation, what a sync run needs: the HubSpot and Salesforce ports (over the
 * real clients, behind the shared per-portal / per-org rate limiters), the admin's rules, and
 * the identities that tell the app's own writes apart (HubSpot app id, Salesforce integration user).
 */
import type { Redis } from 'ioredis';
import type { Connection } from 'jsforce';
import { createHubSpotAdapter } from '../crm/hubspot/client.ts';
import { createRedisLimiter, HUBSPOT_LIMITER_POLICY, SALESFORCE_LIMITER_POLICY } from '../crm/limiter.ts';
import type { HubSpotPort, SalesforcePort } from '../crm/ports.ts';
import { connectSalesforce, createSalesforceAdapter } from '../crm/salesforce/client.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY, validateFieldMappings, validateStageDictionary, type FieldMapping, type StageDictionary } from '../domain/stages.ts';
import type { Logger } from '../log.ts';
import type { Queryable } from '../store/db.ts';

/** How the app reaches each CRM (the sandbox's or the real endpoints and credentials). */
export interface CrmEndpoints {
  hubspot: { basePath: string; accessToken: string; appId: string | null };
  salesforce: {
    loginUrl: string;
    instanceUrl?: string;
    accessToken?: string;
    refreshToken?: string;
    clientId?: string;
    clientSecret?: string;
    username?: string;
    password?: string;
    apiVersion: string;
  };
}

export interface InstallationRuntime {
  installationId: string;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  hubspotAppId: string | null;
  salesforceIntegrationUserId: string;
  dictionary: StageDictionary;
  fieldMappings: readonly FieldMapping[];
}

interface SettingsRow extends Record<string, unknown> {
  settings: { stageDictionary?: unknown; fieldMappings?: unknown } | null;
}

/** Caches one runtime per installation; settings are re-read after `settingsTtlMs`. */
export class InstallationClients {
  private readonly runtimes = new Map<string, Promise<InstallationRuntime>>();
  private connection: Promise<Connection> | undefined;

  constructor(
    private readonly deps: { db: Queryable; redis: Redis; prefix: string; endpoints: CrmEndpoints; log: Logger },
  ) {}

  private salesforceConnection(): Promise<Connection> {
    const sf = this.deps.endpoints.salesforce;
    this.connection ??= connectSalesforce({
      loginUrl: sf.loginUrl,
      apiVersion: sf.apiVersion,
      ...(sf.instanceUrl ? { instanceUrl: sf.instanceUrl } : {}),
      ...(sf.accessToken ? { accessToken: sf.accessToken } : {}),
      ...(sf.refreshToken ? { refreshToken: sf.refreshToken } : {}),
      ...(sf.clientId ? { clientId: sf.clientId } : {}),
      ...(sf.clientSecret ? { clientSecret: sf.clientSecret } : {}),
      ...(sf.username ? { username: sf.username } : {}),
      ...(sf.password ? { password: sf.password } : {}),
      onRefresh: () => this.deps.log.info('Salesforce session refreshed'),
    }).catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  /** The runtime of an installation (built once, then cached). */
  async forInstallation(installationId: string): Promise<InstallationRuntime> {
    let runtime = this.runtimes.get(installationId);
    if (!runtime) {
      runtime = this.build(installationId).catch((error: unknown) => {
        this.runtimes.delete(installationId);
        throw error;
      });
      this.runtimes.set(installationId, runtime);
    }
    return runtime;
  }

  private async build(installationId: string): Promise<InstallationRuntime> {
    const { endpoints, redis, prefix, db } = this.deps;
    const hubspot = createHubSpotAdapter({
      accessToken: endpoints.hubspot.accessToken,
      basePath: endpoints.hubspot.basePath,
      limiter: createRedisLimiter(redis, HUBSPOT_LIMITER_POLICY, `${prefix}:limit:hubspot:${installationId}`),
    });
    const salesforce = createSalesforceAdapter({
      connection: await this.salesforceConnection(),
      limiter: createRedisLimiter(redis, SALESFORCE_LIMITER_POLICY, `${prefix}:limit:salesforce:${installationId}`),
      apiVersion: endpoints.salesforce.apiVersion,
    });
    const rows = await db.query<SettingsRow>('SELECT settings FROM installations WHERE id = $1', [installationId]);
    const settings = rows[0]?.settings ?? {};
    const dictionary = settings.stageDictionary === undefined ? DEFAULT_STAGE_DICTIONARY : validateStageDictionary(settings.stageDictionary);
    const mappings = settings.fieldMappings === undefined ? DEFAULT_FIELD_MAPPINGS : validateFieldMappings(settings.fieldMappings);
    return {
      installationId,
      hubspot,
      salesforce,
      hubspotAppId: endpoints.hubspot.appId,
      salesforceIntegrationUserId: await salesforce.integrationUserId(),
      dictionary: 'ok' in dictionary ? (dictionary.ok ? dictionary.value : DEFAULT_STAGE_DICTIONARY) : dictionary,
      fieldMappings: 'ok' in mappings ? (mappings.ok ? mappings.value : DEFAULT_FIELD_MAPPINGS) : mappings,
    };
  }

  /** Forgets cached runtimes (after settings or credentials change). */
  invalidate(installationId?: string): void {
    if (installationId) this.runtimes.delete(installationId);
    else this.runtimes.clear();
  }
}

/**
 * Builds, per installation, what a sync run needs: the HubSpot and Salesforce ports (over the
 * real clients, behind the shared per-portal / per-org rate limiters), the admin's rules, and
 * the identities that tell the app's own writes apart (HubSpot app id, Salesforce integration user).
 */
import type { RedisConnection } from '../queue/redis.ts';
import type { Connection } from 'jsforce';
import { CrmAuthError } from '../crm/errors.ts';
import { createHubSpotAdapter } from '../crm/hubspot/client.ts';
import { createRedisLimiter, HUBSPOT_LIMITER_POLICY, SALESFORCE_LIMITER_POLICY, withCallBudget } from '../crm/limiter.ts';
import type { HubSpotPort, SalesforcePort } from '../crm/ports.ts';
import { connectSalesforce, createSalesforceAdapter, type SalesforceConnectOptions } from '../crm/salesforce/client.ts';
import {
  DEFAULT_FIELD_MAPPINGS,
  DEFAULT_STAGE_DICTIONARY,
  validateFieldMappings,
  validateStageDictionary,
  type FieldMapping,
  type StageDictionary,
} from '../domain/stages.ts';
import type { Logger } from '../log.ts';
import type { Queryable } from '../store/db.ts';
import { installationSettings, type InstallationSettingsRow } from '../store/installations.ts';
import { attributionSettingsFrom, DEFAULT_ATTRIBUTION_SETTINGS, type AttributionSettings } from '../sync/attribution-settings.ts';
import type { AlertTarget } from '../sync/alerts.ts';
import { SalesforceBudgets } from './salesforce-budget.ts';
import { readSalesSettings, type SalesSettings } from './sales-settings.ts';

/** How the app reaches each CRM (the sandbox's or the real endpoints and credentials). */
export interface CrmEndpoints {
  hubspot: { basePath: string; accessToken: string; appId: string | null };
  salesforce: Omit<SalesforceConnectOptions, 'onRefresh'>;
}

/**
 * Credentials an installation got through the admin's OAuth install (sealed in the database).
 * Each method resolves null when the installation has none for that side: the env/sandbox
 * endpoints are then used.
 */
export interface StoredConnections {
  /** The installation's SLA alert target from the vault, or null when none is saved. */
  alert(installationId: string): Promise<AlertTarget | null>;
  hubspot(installationId: string): Promise<{ basePath: string; accessToken: () => Promise<string>; appId: string | null } | null>;
  salesforce(installationId: string): Promise<SalesforceConnectOptions | null>;
}

export interface InstallationRuntime {
  installationId: string;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  hubspotAppId: string | null;
  salesforceIntegrationUserId: string;
  dictionary: StageDictionary;
  fieldMappings: readonly FieldMapping[];
  /** Channel rules and Campaign handling (`settings.channelRules`, `settings.attribution`). */
  attribution: AttributionSettings;
  /** Feedback taxonomy and SLA policy (`settings.feedbackTaxonomy`, `settings.slaPolicy`) and the sealed alert target. */
  sales: SalesSettings;
}

/** The Redis key whose bump makes every process build an installation's runtime again (settings or credentials changed). */
export function settingsVersionKey(prefix: string, installationId: string): string {
  return `${prefix}:settings-version:${installationId}`;
}

/** How often a process reads a portal's HubSpot limit again (the learned limit lasts 6 h). */
const HUBSPOT_LIMIT_REFRESH_MS = 60 * 60 * 1000;

/**
 * Caches one runtime per installation. Every process (web and each worker) holds its own cache, so
 * a settings change bumps a version in Redis (`<prefix>:settings-version:<installation>`) and each
 * lookup compares it with the version its runtime was built at: the next job after a change, in
 * any process, runs with the new rules.
 */
export class InstallationClients {
  private readonly runtimes = new Map<string, { version: string; runtime: Promise<InstallationRuntime> }>();
  /** When each installation's HubSpot burst limit was last read by this process. */
  private readonly limitReadAt = new Map<string, number>();
  private connection: Promise<Connection> | undefined;
  /** Connections of installations with stored OAuth credentials, one per installation. */
  private readonly storedConnections = new Map<string, Promise<Connection>>();

  constructor(
    private readonly deps: {
      db: Queryable;
      redis: RedisConnection;
      prefix: string;
      /** The env/sandbox endpoints; a side may be missing when installations connect it by OAuth. */
      endpoints: { hubspot?: CrmEndpoints['hubspot'] | undefined; salesforce?: CrmEndpoints['salesforce'] | undefined };
      log: Logger;
      stored?: StoredConnections;
      /** Queues the Salesforce API budget's 80 % alert of an installation. */
      onSalesforceBudgetAlert?: (installationId: string, usage: { used: number; limit: number }) => Promise<void>;
    },
  ) {
    this.salesforceBudgets = new SalesforceBudgets({
      db: deps.db,
      redis: deps.redis,
      prefix: deps.prefix,
      log: deps.log,
      onAlert: deps.onSalesforceBudgetAlert,
    });
  }

  /** Each installation's Salesforce API budget: kept by its limiter, read by the dashboard. */
  readonly salesforceBudgets: SalesforceBudgets;

  private storedSalesforceConnection(installationId: string, options: SalesforceConnectOptions): Promise<Connection> {
    let connection = this.storedConnections.get(installationId);
    if (!connection) {
      connection = connectSalesforce(options).catch((error: unknown) => {
        this.storedConnections.delete(installationId);
        throw error;
      });
      this.storedConnections.set(installationId, connection);
    }
    return connection;
  }

  private salesforceConnection(): Promise<Connection> {
    const sf = this.deps.endpoints.salesforce;
    if (!sf)
      return Promise.reject(
        new CrmAuthError('salesforce', 'Salesforce is not connected for this installation: connect it in the admin dashboard (/admin)'),
      );
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

  private versionKey(installationId: string): string {
    return settingsVersionKey(this.deps.prefix, installationId);
  }

  /**
   * The runtime of an installation: cached, and built again when its settings version moved. The
   * version is read before the settings, and bumped after they are written, so a runtime can be
   * newer than its version (rebuilt once more, harmless) but never older.
   */
  async forInstallation(installationId: string): Promise<InstallationRuntime> {
    const version = (await this.deps.redis.get(this.versionKey(installationId))) ?? '0';
    let cached = this.runtimes.get(installationId);
    if (!cached || cached.version !== version) {
      if (cached) {
        // Another process changed the settings or the credentials: read both again.
        this.storedConnections.delete(installationId);
        this.deps.log.info({ installationId, version }, 'installation settings changed: rules read again');
      }
      const runtime = this.build(installationId).catch((error: unknown) => {
        if (this.runtimes.get(installationId)?.runtime === runtime) this.runtimes.delete(installationId);
        throw error;
      });
      cached = { version, runtime };
      this.runtimes.set(installationId, cached);
    }
    const built = await cached.runtime;
    this.readHubSpotLimit(installationId, built);
    return built;
  }

  /**
   * The installation's current Salesforce session (access token and instance URL), for the Pub/Sub
   * API's call metadata: read on every call, so a token jsforce refreshed is used from then on.
   */
  async salesforceSession(installationId: string): Promise<() => { accessToken: string; instanceUrl: string }> {
    await this.forInstallation(installationId);
    const connection = await (this.storedConnections.get(installationId) ?? this.salesforceConnection());
    return () => ({ accessToken: connection.accessToken ?? '', instanceUrl: connection.instanceUrl });
  }

  /**
   * Reads the portal's own HubSpot burst limit (it depends on the tier) at most once an hour per
   * process, in the background: the HubSpot adapter teaches it to the shared limiter, which then
   * paces every process at 90 % of it instead of 90 % of the lowest tier's 100 per 10 s.
   */
  private readHubSpotLimit(installationId: string, runtime: InstallationRuntime): void {
    const now = Date.now();
    if (now - (this.limitReadAt.get(installationId) ?? -Infinity) < HUBSPOT_LIMIT_REFRESH_MS) return;
    this.limitReadAt.set(installationId, now);
    runtime.hubspot.apiUsage().then(
      (usage) => this.deps.log.debug({ installationId, usage }, "HubSpot limits read: pacing follows the portal's burst limit"),
      (error: unknown) =>
        this.deps.log.warn(
          { installationId, error: error instanceof Error ? error.message : String(error) },
          "HubSpot limits could not be read: pacing stays at the lowest tier's limit",
        ),
    );
  }

  private async build(installationId: string): Promise<InstallationRuntime> {
    const { endpoints, redis, prefix, db, stored } = this.deps;
    const row = await installationSettings(db, installationId);
    if (row?.status !== 'active')
      throw new Error(`installation ${installationId} is ${row ? 'uninstalled' : 'unknown'}: nothing is synced for it`);
    // Stored OAuth credentials win; the env/sandbox endpoints are the fallback.
    const hubspotAccess = (await stored?.hubspot(installationId)) ?? endpoints.hubspot;
    if (!hubspotAccess)
      throw new CrmAuthError('hubspot', 'HubSpot is not connected for this installation: connect it in the admin dashboard (/admin)');
    const hubspot = createHubSpotAdapter({
      accessToken: hubspotAccess.accessToken,
      basePath: hubspotAccess.basePath,
      limiter: createRedisLimiter(redis, HUBSPOT_LIMITER_POLICY, `${prefix}:limit:hubspot:${installationId}`),
    });
    const storedSalesforce = await stored?.salesforce(installationId);
    const salesforceAccess = storedSalesforce ?? endpoints.salesforce;
    if (!salesforceAccess)
      throw new CrmAuthError('salesforce', 'Salesforce is not connected for this installation: connect it in the admin dashboard (/admin)');
    const connection = storedSalesforce
      ? await this.storedSalesforceConnection(installationId, storedSalesforce)
      : await this.salesforceConnection();
    const salesforce = createSalesforceAdapter({
      connection,
      // Every call counts against the installation's API budget, then is paced.
      limiter: withCallBudget(
        createRedisLimiter(redis, SALESFORCE_LIMITER_POLICY, `${prefix}:limit:salesforce:${installationId}`),
        this.salesforceBudgets.policy(installationId, () => connection.limitInfo?.apiUsage?.limit),
      ),
      apiVersion: salesforceAccess.apiVersion,
    });
    const settings = row.settings ?? {};
    const dictionary =
      settings.stageDictionary === undefined ? DEFAULT_STAGE_DICTIONARY : validateStageDictionary(settings.stageDictionary);
    const mappings = settings.fieldMappings === undefined ? DEFAULT_FIELD_MAPPINGS : validateFieldMappings(settings.fieldMappings);
    return {
      installationId,
      hubspot,
      salesforce,
      hubspotAppId: hubspotAccess.appId,
      salesforceIntegrationUserId: await salesforce.integrationUserId(),
      dictionary: 'ok' in dictionary ? (dictionary.ok ? dictionary.value : DEFAULT_STAGE_DICTIONARY) : dictionary,
      fieldMappings: 'ok' in mappings ? (mappings.ok ? mappings.value : DEFAULT_FIELD_MAPPINGS) : mappings,
      attribution: this.attributionSettings(installationId, settings),
      sales: await this.salesSettings(installationId, settings),
    };
  }

  /** The installation's attribution settings; invalid ones are logged and the defaults used. */
  private attributionSettings(installationId: string, settings: { channelRules?: unknown; attribution?: unknown }): AttributionSettings {
    const parsed = attributionSettingsFrom(settings);
    if (parsed.ok) return parsed.value;
    this.deps.log.warn(
      { installationId, problems: parsed.error },
      'invalid attribution settings: using the default channel rules and Campaign handling',
    );
    return DEFAULT_ATTRIBUTION_SETTINGS;
  }

  /** Feedback and SLA settings, with the alert target from the vault (settings only hold one saved before it was sealed). */
  private async salesSettings(installationId: string, settings: NonNullable<InstallationSettingsRow['settings']>): Promise<SalesSettings> {
    const sales = readSalesSettings(settings, this.deps.log, installationId);
    try {
      const sealed = await this.deps.stored?.alert(installationId);
      return sealed ? { ...sales, alert: sealed } : sales;
    } catch (error) {
      // An alert target that cannot be opened stops alerts only (each says why in the sync log), not the sync.
      if (!(error instanceof Error && error.name === 'UnreadableCredentialsError')) throw error;
      this.deps.log.warn({ installationId }, 'the SLA alert target cannot be read: no alert is sent until it is saved again');
      return { ...sales, alert: null, alertProblem: error.message };
    }
  }

  /**
   * Tells every process that an installation's settings or credentials changed: bumps the version
   * their next lookup compares, and forgets this process's runtime and connection at once.
   */
  async changed(installationId: string): Promise<void> {
    await this.deps.redis.incr(this.versionKey(installationId));
    this.invalidate(installationId);
  }

  /** Forgets this process's cached runtimes (after settings or credentials change). */
  invalidate(installationId?: string): void {
    if (installationId) {
      this.runtimes.delete(installationId);
      this.storedConnections.delete(installationId);
    } else {
      this.runtimes.clear();
      this.storedConnections.clear();
    }
  }
}

/**
 * Installation-level admin operations: connection status of both sides with API usage against
 * limits, the runtime used for provisioning, disconnecting one side, and uninstalling (revoke
 * tokens, stop every job).
 */
import type { ApiLimitUsage } from '../../crm/ports.ts';
import type { InstallationRuntime } from '../../runtime/installation-clients.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { getInstallationDetails, markUninstalled, type InstallationDetails } from '../../store/installation-admin.ts';
import { clearDisconnected, disconnectedSides, markDisconnected, SYNC_DIRECTIONS } from '../../store/sync-controls.ts';
import type { HubSpotCredentials, SalesforceCredentials } from '../oauth/credentials.ts';
import { revokeHubSpot } from '../oauth/hubspot.ts';
import { revokeSalesforce } from '../oauth/salesforce.ts';
import { installationChanged, type AdminContext } from './context.ts';
import { removeInstallationJobs } from './jobs.ts';

export type Side = 'hubspot' | 'salesforce';

export interface SideConnection {
  side: Side;
  state: 'connected' | 'not_connected' | 'error';
  /** How the side is reached: stored OAuth grant, environment token, or the built-in sandbox. */
  via: 'oauth' | 'environment' | 'sandbox' | 'none';
  /** Portal id / org id. */
  account: string | null;
  /** Human summary (token expiry, instance, scopes); never a token. */
  detail: string;
  usage: ApiLimitUsage[];
  error: string | null;
  /** An OAuth app is configured, so the admin can (re)connect through the consent page. */
  canConnect: boolean;
  /** When an admin disconnected this side (the sync waits until it is connected again), or null. */
  disconnectedAt: string | null;
}

const USAGE_TIMEOUT_MS = 5_000;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The runtime of an installation, or why there is none. */
export async function runtimeOf(ctx: AdminContext, installationId: string): Promise<InstallationRuntime | { error: string }> {
  const clients = ctx.clients();
  if (!clients)
    return { error: 'No CRM can be reached by this deployment: connect HubSpot and Salesforce (OAuth) or set their credentials' };
  try {
    return await clients.forInstallation(installationId);
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/** A stored grant, or why it cannot be read. */
type Stored<T> = T | { unreadable: string } | null;

/** How a side without a stored grant is reached: the sandbox, a token from the environment, or not at all. */
function environmentVia(ctx: AdminContext, side: Side): SideConnection['via'] {
  if (ctx.config[side].mode === 'sandbox') return 'sandbox';
  const configured =
    side === 'hubspot' ? ctx.config.hubspot.accessToken : ctx.config.salesforce.accessToken || ctx.config.salesforce.refreshToken;
  return configured ? 'environment' : 'none';
}

/** How the stored HubSpot grant reaches the portal. */
function hubspotGrantDetail(ctx: AdminContext, grant: HubSpotCredentials): string {
  const token =
    grant.expiresAt > ctx.now()
      ? `valid until ${new Date(grant.expiresAt).toISOString()} (refreshed 5 min before expiry)`
      : 'expired (refreshed on next use)';
  return `OAuth grant for portal ${grant.hubId}; access token ${token}; scopes: ${grant.scopes.join(' ')}`;
}

/** How the stored Salesforce grant reaches the org. */
function salesforceGrantDetail(grant: SalesforceCredentials): string {
  const refresh = grant.refreshToken
    ? 'refresh token stored: expired sessions are refreshed and the new token stored'
    : 'no refresh token: reconnect when the session expires';
  return `OAuth grant (web server flow) for org ${grant.orgId} at ${grant.instanceUrl}, as user ${grant.userId}; ${refresh}`;
}

const ENVIRONMENT_DETAIL: Record<Side, Record<'sandbox' | 'environment', string>> = {
  hubspot: { sandbox: 'Sandbox HubSpot private-app token', environment: 'Private-app token from HUBSPOT_ACCESS_TOKEN' },
  salesforce: {
    sandbox: 'Sandbox org, integration user login',
    environment: 'Session from SALESFORCE_ACCESS_TOKEN / SALESFORCE_REFRESH_TOKEN',
  },
};

/** What a side's stored grant, or else its environment, says about how it is reached (before any call). */
function credentialsView<T extends object>(
  ctx: AdminContext,
  side: Side,
  stored: Stored<T>,
  describe: (grant: T) => string,
): Pick<SideConnection, 'state' | 'via' | 'detail' | 'error'> {
  if (stored && 'unreadable' in stored) return { state: 'error', via: 'none', detail: '', error: stored.unreadable };
  if (stored) return { state: 'not_connected', via: 'oauth', detail: describe(stored), error: null };
  const via = environmentVia(ctx, side);
  const detail = via === 'sandbox' || via === 'environment' ? ENVIRONMENT_DETAIL[side][via] : 'Not connected';
  return { state: 'not_connected', via, detail, error: null };
}

/** Asks each reachable side for its API usage: connected when it answers, an error when it does not. */
async function probeUsage(ctx: AdminContext, installationId: string, hubspot: SideConnection, salesforce: SideConnection): Promise<void> {
  const runtime =
    hubspot.state === 'error' && salesforce.state === 'error' ? { error: 'credentials unreadable' } : await runtimeOf(ctx, installationId);
  for (const side of [hubspot, salesforce]) {
    if (side.state === 'error' || side.disconnectedAt !== null) continue;
    if ('error' in runtime) {
      side.state = side.via === 'none' ? 'not_connected' : 'error';
      side.error = side.via === 'none' ? null : runtime.error;
      continue;
    }
    try {
      side.usage = await withTimeout(
        side.side === 'hubspot' ? runtime.hubspot.apiUsage() : runtime.salesforce.apiUsage(),
        USAGE_TIMEOUT_MS,
        `${side.side} API usage`,
      );
      side.state = 'connected';
    } catch (error) {
      side.state = 'error';
      side.error = messageOf(error);
    }
  }
}

/** Connection status and API usage of both sides. */
export async function connectionStatus(ctx: AdminContext, installation: InstallationDetails): Promise<Record<Side, SideConnection>> {
  const [hubspotStored, salesforceStored, disconnected] = await Promise.all([
    ctx.vault.read(installation.id, 'hubspot').catch((error: unknown) => ({ unreadable: messageOf(error) })),
    ctx.vault.read(installation.id, 'salesforce').catch((error: unknown) => ({ unreadable: messageOf(error) })),
    disconnectedSides(ctx.db, installation.id),
  ]);
  const sideOf = (side: Side, account: string | null, view: ReturnType<typeof credentialsView>): SideConnection => ({
    side,
    state: view.state,
    via: view.via,
    account,
    detail: view.detail,
    usage: [],
    error: view.error,
    canConnect: ctx.apps[side] !== undefined,
    disconnectedAt: disconnected[side]?.toISOString() ?? null,
  });
  const hubspot = sideOf(
    'hubspot',
    installation.hubspotPortalId,
    credentialsView(ctx, 'hubspot', hubspotStored, (grant) => hubspotGrantDetail(ctx, grant)),
  );
  const salesforce = sideOf(
    'salesforce',
    installation.salesforceOrgId,
    credentialsView(ctx, 'salesforce', salesforceStored, salesforceGrantDetail),
  );

  if (installation.status !== 'active') {
    for (const side of [hubspot, salesforce]) {
      side.state = 'not_connected';
      side.detail = 'Uninstalled';
    }
    return { hubspot, salesforce };
  }

  // A side an admin disconnected is not called (not even for its usage) until it is connected again.
  for (const side of [hubspot, salesforce]) {
    if (side.disconnectedAt === null) continue;
    side.state = 'not_connected';
    side.via = 'none';
    side.error = null;
    side.detail = `Disconnected by an admin at ${side.disconnectedAt}: the sync waits, changes are kept; connect it again to resume`;
  }
  await probeUsage(ctx, installation.id, hubspot, salesforce);
  return { hubspot, salesforce };
}

export interface UninstallResult {
  /** Whether each stored grant was revoked (null: nothing was stored for that side). */
  revoked: Record<Side, boolean | null>;
  jobsRemoved: number;
}

/** Uninstalls: revokes stored grants, forgets credentials, removes every queued job of the installation. */
export async function uninstall(ctx: AdminContext, installationId: string): Promise<UninstallResult | null> {
  const installation = await getInstallationDetails(ctx.db, installationId);
  if (!installation) return null;
  const revoked: Record<Side, boolean | null> = { hubspot: null, salesforce: null };
  const hubspot = await ctx.vault.read(installationId, 'hubspot').catch(() => null);
  if (hubspot && ctx.apps.hubspot) revoked.hubspot = await revokeHubSpot(ctx.apps.hubspot, hubspot);
  const salesforce = await ctx.vault.read(installationId, 'salesforce').catch(() => null);
  if (salesforce && ctx.apps.salesforce) revoked.salesforce = await revokeSalesforce(ctx.apps.salesforce, salesforce);

  // Uninstalled first: a job that slips in meanwhile finds the installation gone and does nothing.
  await markUninstalled(ctx.db, installationId, new Date(ctx.now()));
  await installationChanged(ctx, installationId);
  const jobsRemoved = await removeInstallationJobs(ctx.producer, installationId);
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'uninstalled',
    summary: `Uninstalled: ${jobsRemoved} queued job(s) removed; HubSpot grant ${revoked.hubspot === null ? 'not stored' : revoked.hubspot ? 'revoked' : 'could not be revoked'}; Salesforce grant ${revoked.salesforce === null ? 'not stored' : revoked.salesforce ? 'revoked' : 'could not be revoked'}`,
    details: { jobsRemoved, revoked },
  });
  ctx.log.info({ installationId, jobsRemoved, revoked }, 'installation uninstalled');
  return { revoked, jobsRemoved };
}

/** What disconnecting one side did. */
export interface DisconnectResult {
  side: Side;
  /** Whether the stored grant was revoked (null: none was stored, e.g. an environment token or the sandbox). */
  revoked: boolean | null;
}

/**
 * Disconnects one side: revokes and forgets its stored grant and holds the installation's sync
 * (both directions read both CRMs) until that side is connected again through OAuth; the other
 * side's grant stays. Webhooks keep being received and recorded, records keep being marked.
 */
export async function disconnectSide(ctx: AdminContext, installationId: string, side: Side, by: string): Promise<DisconnectResult> {
  const app = side === 'hubspot' ? ctx.apps.hubspot : ctx.apps.salesforce;
  let revoked: boolean | null = null;
  if (side === 'hubspot') {
    const grant = await ctx.vault.read(installationId, 'hubspot').catch(() => null);
    if (grant && ctx.apps.hubspot) revoked = await revokeHubSpot(ctx.apps.hubspot, grant);
  } else {
    const grant = await ctx.vault.read(installationId, 'salesforce').catch(() => null);
    if (grant && ctx.apps.salesforce) revoked = await revokeSalesforce(ctx.apps.salesforce, grant);
  }
  // Held before the grant is forgotten: no drain starts in between with half the credentials.
  await markDisconnected(ctx.db, installationId, side, new Date(ctx.now()));
  await ctx.vault.clear(installationId, side);
  await installationChanged(ctx, installationId);
  const name = side === 'hubspot' ? 'HubSpot' : 'Salesforce';
  await recordAdminAction(ctx.db, {
    installationId,
    action: `${side}_disconnected`,
    summary: `${name} disconnected from the ${by}: grant ${revoked === null ? 'not stored' : revoked ? 'revoked' : 'could not be revoked'} and forgotten; the sync waits until it is connected again${app ? '' : ' (no OAuth app is configured to reconnect it)'}`,
    details: { side, revoked, by },
  });
  ctx.log.info({ installationId, side, revoked, by }, 'one side disconnected by an admin: the sync waits');
  return { side, revoked };
}

/** A side was connected again (OAuth callback): the sync it held resumes and drains what waited. */
export async function sideReconnected(ctx: AdminContext, installationId: string, side: Side): Promise<void> {
  await clearDisconnected(ctx.db, installationId, side);
  for (const direction of SYNC_DIRECTIONS) await ctx.scheduler.schedule(installationId, direction, ctx.now(), true);
}
